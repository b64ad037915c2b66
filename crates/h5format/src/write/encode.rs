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
    /// An address in the current file's width ([`Widths`]).
    fn put_addr(&mut self, v: u64);
    /// A length in the current file's width ([`Widths`]).
    fn put_len(&mut self, v: u64);
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
    fn put_addr(&mut self, v: u64) {
        put_sized(self, v, Widths::current().offset);
    }
    fn put_len(&mut self, v: u64) {
        put_sized(self, v, Widths::current().length);
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

/// Widths of addresses ("size of offsets") and lengths ("size of lengths") in the file being
/// written.
///
/// New files are written with 8 and 8. The editor writes into existing files, whose
/// superblock may say 2, 4 or 8 for either: every structure it appends (headers, B-trees,
/// heaps, symbol tables, layout and dataspace messages, heap references) must then use the
/// file's widths. Those structures are encoded by the writer's code, several calls deep, so
/// the widths are a scoped setting of the current thread ([`Widths::scope`]) read by
/// [`Put::put_addr`] and [`Put::put_len`], rather than a parameter of every encoder.
/// A value that does not fit its width is remembered ([`Widths::take_overflow`]) and the
/// editor refuses the edit before anything points to what was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Widths {
    /// Size of offsets: 2, 4 or 8 bytes.
    pub offset: u8,
    /// Size of lengths: 2, 4 or 8 bytes.
    pub length: u8,
}

thread_local! {
    static WIDTHS: std::cell::Cell<Widths> = const { std::cell::Cell::new(Widths::EIGHT) };
    /// The first value that did not fit its width since the last `take_overflow`.
    static OVERFLOW: std::cell::Cell<Option<(u64, u8)>> = const { std::cell::Cell::new(None) };
}

/// Restores the previous widths when dropped.
pub(crate) struct WidthScope(Widths);

impl Drop for WidthScope {
    fn drop(&mut self) {
        WIDTHS.with(|w| w.set(self.0));
    }
}

impl Widths {
    /// 8-byte addresses and lengths (every file [`super::FileWriter`] creates).
    pub(crate) const EIGHT: Widths = Widths {
        offset: 8,
        length: 8,
    };

    /// The widths in effect on this thread.
    pub(crate) fn current() -> Widths {
        WIDTHS.with(std::cell::Cell::get)
    }

    /// Use `self` until the returned guard is dropped.
    pub(crate) fn scope(self) -> WidthScope {
        WidthScope(WIDTHS.with(|w| w.replace(self)))
    }

    /// Whether these are the 8-byte widths.
    pub(crate) fn is_eight(self) -> bool {
        self == Widths::EIGHT
    }

    /// Size of an address in bytes.
    pub(crate) fn o(self) -> usize {
        usize::from(self.offset)
    }

    /// Size of a length in bytes.
    pub(crate) fn l(self) -> usize {
        usize::from(self.length)
    }

    /// Largest defined address (all ones is the undefined address).
    // The editor's (feature `fs`) alone use this and `take_overflow`.
    #[cfg_attr(not(feature = "fs"), allow(dead_code))]
    pub(crate) fn max_addr(self) -> u64 {
        if self.offset >= 8 {
            u64::MAX - 1
        } else {
            (1u64 << (8 * u32::from(self.offset))) - 2
        }
    }

    /// The first value written since the last call that did not fit its width: (value,
    /// width in bytes).
    #[cfg_attr(not(feature = "fs"), allow(dead_code))]
    pub(crate) fn take_overflow() -> Option<(u64, u8)> {
        OVERFLOW.with(|o| o.take())
    }

    /// Size of a global heap reference (length, collection address, index).
    pub(crate) fn heap_ref(self) -> usize {
        8 + self.o()
    }

    /// A 16-byte global heap reference as this file stores it.
    pub(crate) fn narrow_ref(self, r: &[u8; 16]) -> Vec<u8> {
        let mut v = r[..4].to_vec();
        let addr = u64::from_le_bytes(r[4..12].try_into().unwrap_or_default());
        v.put_addr(addr);
        v.extend_from_slice(&r[12..16]);
        v
    }
}

/// Append `v` in `width` bytes; `u64::MAX` (the undefined address, an unlimited dimension)
/// as all ones; a value too large is recorded for [`Widths::take_overflow`].
fn put_sized(out: &mut Vec<u8>, v: u64, width: u8) {
    let w = usize::from(width.min(8));
    if v == u64::MAX {
        out.resize(out.len() + w, 0xFF);
        return;
    }
    if w < 8 && v >= (1u64 << (8 * w)) - 1 {
        OVERFLOW.with(|o| {
            if o.get().is_none() {
                o.set(Some((v, width)));
            }
        });
    }
    out.extend_from_slice(&v.to_le_bytes()[..w]);
}
