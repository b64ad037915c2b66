//! The few msgpack items Blosc2 frames and the b2nd metalayer use: fixed/explicit arrays and
//! maps, integers, strings and bin32 — read with bounds checks, nothing more.

use crate::filter::CodecResult;

/// A cursor over msgpack bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    /// Position of the next byte.
    pub pos: usize,
}

impl<'a> Reader<'a> {
    /// Read `buf` from byte `pos`.
    pub fn new(buf: &'a [u8], pos: usize) -> Self {
        Reader { buf, pos }
    }

    fn take(&mut self, n: usize) -> CodecResult<&'a [u8]> {
        let s = self
            .buf
            .get(self.pos..self.pos.saturating_add(n))
            .ok_or_else(|| format!("msgpack item truncated at byte {}", self.pos))?;
        self.pos += n;
        Ok(s)
    }

    fn be(&mut self, n: usize) -> CodecResult<u64> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |a, &b| a << 8 | u64::from(b)))
    }

    /// The marker byte of the next item.
    pub fn marker(&mut self) -> CodecResult<u8> {
        Ok(self.take(1)?[0])
    }

    /// An integer of any msgpack width.
    pub fn int(&mut self) -> CodecResult<i64> {
        let at = self.pos;
        let m = self.marker()?;
        Ok(match m {
            0x00..=0x7f => i64::from(m),
            0xe0..=0xff => i64::from(m as i8),
            0xcc => self.be(1)? as i64,
            0xcd => self.be(2)? as i64,
            0xce => self.be(4)? as i64,
            0xcf => {
                let v = self.be(8)?;
                i64::try_from(v).map_err(|_| format!("msgpack integer {v} too large"))?
            }
            0xd0 => i64::from(self.be(1)? as u8 as i8),
            0xd1 => i64::from(self.be(2)? as u16 as i16),
            0xd2 => i64::from(self.be(4)? as u32 as i32),
            0xd3 => self.be(8)? as i64,
            _ => {
                return Err(format!(
                    "msgpack marker {m:#04x} at byte {at} is not an integer"
                ))
            }
        })
    }

    /// An array header: the number of elements.
    pub fn array(&mut self) -> CodecResult<usize> {
        let at = self.pos;
        let m = self.marker()?;
        Ok(match m {
            0x90..=0x9f => usize::from(m & 0x0f),
            0xdc => self.be(2)? as usize,
            0xdd => self.be(4)? as usize,
            _ => {
                return Err(format!(
                    "msgpack marker {m:#04x} at byte {at} is not an array"
                ))
            }
        })
    }

    /// A map header: the number of key/value pairs.
    pub fn map(&mut self) -> CodecResult<usize> {
        let at = self.pos;
        let m = self.marker()?;
        Ok(match m {
            0x80..=0x8f => usize::from(m & 0x0f),
            0xde => self.be(2)? as usize,
            0xdf => self.be(4)? as usize,
            _ => return Err(format!("msgpack marker {m:#04x} at byte {at} is not a map")),
        })
    }

    /// A string's bytes.
    pub fn str(&mut self) -> CodecResult<&'a [u8]> {
        let at = self.pos;
        let m = self.marker()?;
        let n = match m {
            0xa0..=0xbf => usize::from(m & 0x1f),
            0xd9 => self.be(1)? as usize,
            0xda => self.be(2)? as usize,
            0xdb => self.be(4)? as usize,
            _ => {
                return Err(format!(
                    "msgpack marker {m:#04x} at byte {at} is not a string"
                ))
            }
        };
        self.take(n)
    }

    /// A binary item's bytes.
    pub fn bin(&mut self) -> CodecResult<&'a [u8]> {
        let at = self.pos;
        let m = self.marker()?;
        let n = match m {
            0xc4 => self.be(1)? as usize,
            0xc5 => self.be(2)? as usize,
            0xc6 => self.be(4)? as usize,
            _ => {
                return Err(format!(
                    "msgpack marker {m:#04x} at byte {at} is not binary"
                ))
            }
        };
        self.take(n)
    }
}
