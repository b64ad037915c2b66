//! Little-endian byte encoders shared by the structure writers.

use crate::error::{Error, Result};

/// The "undefined address" as written with 8-byte offsets.
pub(crate) const UNDEF: u64 = u64::MAX;

/// Appending little-endian fields to a byte vector.
pub(crate) trait Put {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u32(&mut self, v: u32);
    fn put_u64(&mut self, v: u64);
    /// Zero bytes until the length is a multiple of `align`.
    fn pad_to(&mut self, align: usize);
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn pad_to(&mut self, align: usize) {
        let rem = self.len() % align;
        if rem != 0 {
            self.resize(self.len() + align - rem, 0);
        }
    }
}

/// Round `v` up to a multiple of 8.
pub(crate) fn align8(v: usize) -> usize {
    v.div_ceil(8) * 8
}

/// A usage error.
pub(crate) fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

/// Convert to `u16`, or fail naming the field.
pub(crate) fn to_u16(v: usize, what: &str) -> Result<u16> {
    u16::try_from(v).map_err(|_| usage(format!("{what} ({v}) does not fit in 16 bits")))
}

/// Convert to `u32`, or fail naming the field.
pub(crate) fn to_u32(v: u64, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|_| usage(format!("{what} ({v}) does not fit in 32 bits")))
}

/// Convert to `usize`, or fail naming the field.
pub(crate) fn to_usize(v: u64, what: &str) -> Result<usize> {
    usize::try_from(v).map_err(|_| usage(format!("{what} ({v}) does not fit in memory")))
}

/// Product of `dims` as a checked `u64`.
pub(crate) fn product(dims: &[u64]) -> Result<u64> {
    dims.iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| usage(format!("shape {dims:?} has too many elements")))
}
