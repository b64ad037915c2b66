//! Fill value messages: old (0x0004) and new (0x0005, versions 1–3).

use crate::cursor::Cursor;
use crate::error::Result;

/// The fill value of a dataset: bytes of one element, or `None` for the default (zeros).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FillValue {
    /// One element's bytes, when defined by the user.
    pub value: Option<Vec<u8>>,
}

impl FillValue {
    /// Parse the old fill value message.
    pub fn parse_old(c: &mut Cursor<'_>) -> Result<Self> {
        let n = c.u32()? as usize;
        let value = c.bytes(n)?.to_vec();
        Ok(FillValue {
            value: (!value.is_empty()).then_some(value),
        })
    }

    /// Parse the new fill value message.
    pub fn parse(c: &mut Cursor<'_>) -> Result<Self> {
        let version = c.u8()?;
        match version {
            1 | 2 => {
                c.skip(2)?; // allocation time, write time
                let defined = c.u8()?;
                if version == 2 && defined == 0 {
                    return Ok(FillValue::default());
                }
                // The size is signed: libhdf5 (and PyTables) write -1 for "no value".
                let n = c.u32()?;
                if n == 0 || n >= 0x8000_0000 {
                    return Ok(FillValue::default());
                }
                let value = c.bytes(n as usize)?.to_vec();
                Ok(FillValue {
                    value: (defined != 0).then_some(value),
                })
            }
            3 => {
                let flags = c.u8()?;
                if flags & 0x20 != 0 {
                    let n = c.u32()? as usize;
                    let value = c.bytes(n)?.to_vec();
                    Ok(FillValue {
                        value: (!value.is_empty()).then_some(value),
                    })
                } else {
                    Ok(FillValue::default())
                }
            }
            v => Err(c.err(format!("unknown fill value message version {v}"))),
        }
    }
}
