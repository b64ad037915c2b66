//! N-bit packing (filter 5), a libhdf5 built-in.
//!
//! Integers and floats whose datatype uses fewer bits than its size (a *precision* at a bit
//! *offset*) are stored with only those bits, packed back to back, most significant bit
//! first. libhdf5 describes the whole datatype in the client data when the dataset is
//! created (`H5Z__set_local_nbit`), so decoding needs nothing else:
//!
//! | index | value |
//! |-------|-------|
//! | 0 | number of client data values |
//! | 1 | 1 = nothing to pack (every bit is significant): the chunk is stored as is |
//! | 2 | number of elements in a chunk |
//! | 3.. | the datatype, as a tree of nodes (below) |
//!
//! A node is its class code and size in bytes, followed by: *atomic* (1): byte order (0 LE,
//! 1 BE), precision, offset; *array* (2): the base type's node; *compound* (3): the number of
//! members, then for each the member's byte offset and its node; *no-op* (4, strings, enums,
//! references...): nothing, its bytes are packed whole.
//!
//! Unpacked bits outside `offset..offset + precision` are zero (libhdf5 assumes zero padding).

use super::{Codec, CodecResult, Ctx};

/// Deepest nesting of array/compound nodes accepted (libhdf5 types nest far less).
const MAX_DEPTH: usize = 32;

const CLASS_ATOMIC: u32 = 1;
const CLASS_ARRAY: u32 = 2;
const CLASS_COMPOUND: u32 = 3;
const CLASS_NOOP: u32 = 4;

/// The N-bit filter with its client data.
#[derive(Debug, Clone)]
pub struct Nbit {
    params: Vec<u32>,
}

impl Nbit {
    /// From the filter's client data (see the module documentation).
    pub fn from_client_data(cd: &[u32]) -> Self {
        Nbit {
            params: cd.to_vec(),
        }
    }
}

/// One node of the datatype description.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    /// An integer or float: `precision` bits from bit `offset`.
    Atomic {
        size: usize,
        big_endian: bool,
        precision: u32,
        offset: u32,
    },
    /// `count` elements of `base`, each `base_size` bytes.
    Array {
        size: usize,
        base: Box<Node>,
        count: usize,
    },
    /// Members at byte offsets.
    Compound {
        size: usize,
        members: Vec<(usize, Node)>,
    },
    /// Bytes packed whole.
    Noop { size: usize },
}

impl Node {
    fn size(&self) -> usize {
        match self {
            Node::Atomic { size, .. }
            | Node::Array { size, .. }
            | Node::Compound { size, .. }
            | Node::Noop { size } => *size,
        }
    }
}

/// Reads the client data values one after another, with errors for a list that stops short.
struct Params<'a> {
    values: &'a [u32],
    pos: usize,
}

impl Params<'_> {
    fn next(&mut self, what: &str) -> CodecResult<u32> {
        let v = self.values.get(self.pos).copied().ok_or_else(|| {
            format!(
                "client data ends at value {} where the datatype description needs its {what}",
                self.pos
            )
        })?;
        self.pos += 1;
        Ok(v)
    }

    fn next_usize(&mut self, what: &str) -> CodecResult<usize> {
        let v = self.next(what)?;
        usize::try_from(v).map_err(|_| format!("{what} {v} does not fit in memory"))
    }

    /// One node: class, size and what the class adds.
    fn node(&mut self, depth: usize) -> CodecResult<Node> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "datatype description nests deeper than {MAX_DEPTH} levels"
            ));
        }
        let class = self.next("class code")?;
        let size = self.next_usize("size")?;
        if size == 0 {
            return Err(format!("datatype of class {class} has size 0"));
        }
        match class {
            CLASS_ATOMIC => {
                let order = self.next("byte order")?;
                let precision = self.next("precision")?;
                let offset = self.next("bit offset")?;
                if order > 1 {
                    return Err(format!("byte order code {order} (expected 0 or 1)"));
                }
                let bits = (size as u64).saturating_mul(8);
                if u64::from(precision) + u64::from(offset) > bits {
                    return Err(format!(
                        "precision {precision} at bit offset {offset} does not fit in a \
                         {size}-byte type"
                    ));
                }
                Ok(Node::Atomic {
                    size,
                    big_endian: order == 1,
                    precision,
                    offset,
                })
            }
            CLASS_ARRAY => {
                let base = self.node(depth + 1)?;
                let count = size / base.size();
                Ok(Node::Array {
                    size,
                    base: Box::new(base),
                    count,
                })
            }
            CLASS_COMPOUND => {
                let nmembers = self.next("member count")?;
                let mut members = Vec::new();
                let mut used = 0usize;
                for m in 0..nmembers {
                    let offset = self.next_usize("member offset")?;
                    let node = self.node(depth + 1)?;
                    let msize = node.size();
                    used = used.saturating_add(msize);
                    if used > size || offset.saturating_add(msize) > size {
                        return Err(format!(
                            "compound member {m} ({msize} bytes at offset {offset}) overflows \
                             the {size}-byte compound"
                        ));
                    }
                    members.push((offset, node));
                }
                Ok(Node::Compound { size, members })
            }
            CLASS_NOOP => Ok(Node::Noop { size }),
            other => Err(format!("unknown datatype class code {other}")),
        }
    }
}

/// A big-endian bit stream: the most significant bit of each byte comes first.
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    byte: usize,
    /// Bits of `data[byte]` already consumed (0..8).
    used: u32,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        BitReader {
            data,
            byte: 0,
            used: 0,
        }
    }

    /// The next `n` (at most 64) bits as an integer, first bit most significant.
    pub(crate) fn read(&mut self, n: u32) -> CodecResult<u64> {
        debug_assert!(n <= 64);
        let mut need = n;
        let mut v: u64 = 0;
        while need > 0 {
            let Some(&b) = self.data.get(self.byte) else {
                return Err(format!(
                    "packed data ends after {} bytes, more bits are needed",
                    self.data.len()
                ));
            };
            let avail = 8 - self.used;
            let take = avail.min(need);
            let bits = (u32::from(b) >> (avail - take)) & ((1u32 << take) - 1);
            v = (v << take) | u64::from(bits);
            need -= take;
            self.used += take;
            if self.used == 8 {
                self.used = 0;
                self.byte += 1;
            }
        }
        Ok(v)
    }
}

/// Unpack one element of `node` into `out` (exactly `node.size()` bytes, zeroed).
fn unpack(node: &Node, out: &mut [u8], bits: &mut BitReader<'_>) -> CodecResult<()> {
    match node {
        Node::Atomic {
            size,
            big_endian,
            precision,
            offset,
        } => {
            if *precision == 0 {
                return Ok(());
            }
            let (lo_bit, hi_bit) = (*offset as usize, (*offset + *precision) as usize);
            // Significant bytes, most significant first.
            for s in (lo_bit / 8..=(hi_bit - 1) / 8).rev() {
                let low = lo_bit.max(8 * s) - 8 * s;
                let high = hi_bit.min(8 * s + 8) - 8 * s;
                let v = bits.read((high - low) as u32)? as u8;
                let idx = if *big_endian { size - 1 - s } else { s };
                out[idx] = v << low;
            }
        }
        Node::Array { base, count, .. } => {
            let bs = base.size();
            for i in 0..*count {
                unpack(base, &mut out[i * bs..(i + 1) * bs], bits)?;
            }
        }
        Node::Compound { members, .. } => {
            for (off, m) in members {
                unpack(m, &mut out[*off..*off + m.size()], bits)?;
            }
        }
        Node::Noop { .. } => {
            for b in out.iter_mut() {
                *b = bits.read(8)? as u8;
            }
        }
    }
    Ok(())
}

impl Codec for Nbit {
    fn decode(&self, input: Vec<u8>, ctx: &Ctx) -> CodecResult<Vec<u8>> {
        let cd = &self.params;
        if cd.len() < 5 {
            return Err(format!(
                "{} client data values, at least 5 expected",
                cd.len()
            ));
        }
        if cd[0] as usize != cd.len() {
            return Err(format!(
                "client data says it has {} values but has {}",
                cd[0],
                cd.len()
            ));
        }
        if cd[1] != 0 {
            return Ok(input); // every bit significant: stored unpacked
        }
        let mut params = Params { values: cd, pos: 3 };
        let node = params.node(0)?;
        if matches!(node, Node::Noop { .. }) {
            return Err("the datatype is of a class n-bit does not pack".into());
        }
        let size = node.size();
        let out_len = usize::try_from(cd[2])
            .ok()
            .and_then(|n| n.checked_mul(size))
            .filter(|&n| n <= ctx.max_out)
            .ok_or_else(|| {
                format!(
                    "{} elements of {size} bytes are more than the chunk's {} bytes",
                    cd[2], ctx.max_out
                )
            })?;
        let mut out = vec![0u8; out_len];
        let mut bits = BitReader::new(&input);
        for elem in out.chunks_exact_mut(size) {
            unpack(&node, elem, &mut bits)?;
        }
        Ok(out)
    }

    fn encode(&self, _input: Vec<u8>, _elem_size: usize) -> CodecResult<Vec<u8>> {
        Err("writing n-bit packed data is not implemented".into())
    }

    fn can_encode(&self) -> bool {
        false
    }

    fn max_encoded_len(&self, n: usize) -> usize {
        // Packed data is never longer than the input (plus the last partial byte).
        n.saturating_add(1)
    }

    fn describe(&self) -> String {
        "nbit".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(max_out: usize) -> Ctx {
        Ctx {
            elem_size: 1,
            max_out,
        }
    }

    #[test]
    fn bit_reader_reads_msb_first_across_bytes() {
        let mut r = BitReader::new(&[0b1011_0011, 0b0101_1111]);
        assert_eq!(r.read(3).unwrap(), 0b101);
        assert_eq!(r.read(7).unwrap(), 0b100_1101);
        assert_eq!(r.read(6).unwrap(), 0b01_1111);
        assert!(r.read(1).is_err());
    }

    #[test]
    fn hostile_parameters_are_errors() {
        let cases: Vec<Vec<u32>> = vec![
            vec![],
            vec![4, 0, 1, 1],
            vec![9, 0, 1, 1, 4, 0, 12, 2],       // count mismatch
            vec![8, 0, 1, 1, 4, 0, 33, 0],       // precision > size
            vec![8, 0, 1, 1, 4, 0, 30, 3],       // precision + offset > size
            vec![8, 0, 1, 1, 4, 2, 12, 0],       // byte order
            vec![8, 0, 1, 1, 0, 0, 0, 0],        // size 0
            vec![7, 0, 1, 2, 4, 1, 2],           // array cut short
            vec![8, 0, 1, 3, 4, 1, 0, 1],        // compound cut short
            vec![6, 0, 1, 4, 4, 0],              // top-level no-op
            vec![8, 0, 1, 9, 4, 0, 1, 0],        // unknown class
            vec![8, 0, u32::MAX, 1, 4, 0, 8, 0], // too many elements
            vec![9, 0, 1, 3, 4, 1, 2, 4, 4],     // member past the compound
        ];
        for cd in cases {
            let codec = Nbit::from_client_data(&cd);
            assert!(codec.decode(vec![0xff; 64], &ctx(64)).is_err(), "{cd:?}");
        }
        // Deep nesting: arrays of arrays, 4096 values.
        let mut deep = vec![4096, 0, 1];
        while deep.len() < 4096 {
            deep.extend([CLASS_ARRAY, 1]);
        }
        assert!(Nbit::from_client_data(&deep)
            .decode(vec![0; 8], &ctx(8))
            .is_err());
    }

    #[test]
    fn truncated_input_is_an_error() {
        let cd = [8, 0, 4, 1, 2, 0, 12, 2];
        let codec = Nbit::from_client_data(&cd);
        assert!(codec.decode(vec![0xab; 5], &ctx(8)).is_err());
        assert_eq!(codec.decode(vec![0xab; 6], &ctx(8)).unwrap().len(), 8);
    }
}
