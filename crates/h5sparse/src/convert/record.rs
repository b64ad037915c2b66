//! Run records: the fixed-size binary form of one entry in a run file (destination major
//! relative to its bucket, destination minor, value bytes).

use crate::values::{ElemType, Values};

/// Bytes of one stored value in a run record.
pub(super) fn value_bytes(elem: ElemType) -> usize {
    elem.value_type().size()
}

/// Values of type `elem` from their little-endian bytes.
pub(super) fn from_le(elem: ElemType, b: &[u8]) -> Values {
    fn split<T, const N: usize>(b: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
        b.chunks_exact(N)
            .map(|c| {
                let mut a = [0u8; N];
                a.copy_from_slice(c);
                f(a)
            })
            .collect()
    }
    match elem.value_type() {
        ElemType::I8 => Values::I8(split(b, i8::from_le_bytes)),
        ElemType::I16 => Values::I16(split(b, i16::from_le_bytes)),
        ElemType::I32 => Values::I32(split(b, i32::from_le_bytes)),
        ElemType::I64 => Values::I64(split(b, i64::from_le_bytes)),
        ElemType::U8 => Values::U8(b.to_vec()),
        ElemType::U16 => Values::U16(split(b, u16::from_le_bytes)),
        ElemType::U32 => Values::U32(split(b, u32::from_le_bytes)),
        ElemType::U64 => Values::U64(split(b, u64::from_le_bytes)),
        ElemType::F16 | ElemType::F32 => Values::F32(split(b, f32::from_le_bytes)),
        ElemType::F64 => Values::F64(split(b, f64::from_le_bytes)),
        ElemType::Bool => Values::Bool(b.iter().map(|&x| x != 0).collect()),
    }
}

pub(super) fn put_uint(out: &mut [u8], v: u64) {
    let b = v.to_le_bytes();
    let n = out.len().min(8);
    out[..n].copy_from_slice(&b[..n]);
}

pub(super) fn get_uint(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    let n = b.len().min(8);
    a[..n].copy_from_slice(&b[..n]);
    u64::from_le_bytes(a)
}

/// Layout of a run record: local destination major, destination minor, value.
#[derive(Debug, Clone, Copy)]
pub(super) struct Record {
    pub(super) key: usize,
    pub(super) minor: usize,
    pub(super) value: usize,
}

impl Record {
    pub(super) fn size(&self) -> usize {
        self.key + self.minor + self.value
    }
}
