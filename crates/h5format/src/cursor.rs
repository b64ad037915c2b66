//! A bounds-checked little-endian reader over a byte slice, used by every parser.
//!
//! Parsing is separated from I/O: a structure is first read from the [`crate::io::Source`]
//! into bytes, then decoded with a `Cursor` that knows the file offset of its first byte, so
//! every error names where in the file it happened.

use crate::error::{Error, Result};

/// The "undefined address" value: all bits set.
pub const UNDEF_ADDR: u64 = u64::MAX;

/// Widths of addresses and lengths, from the superblock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Size of offsets (addresses) in bytes: 2, 4 or 8.
    pub offset: u8,
    /// Size of lengths in bytes: 2, 4 or 8.
    pub length: u8,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            offset: 8,
            length: 8,
        }
    }
}

/// A little-endian reader over `bytes`, whose first byte is at file offset `base`.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: u64,
    what: &'static str,
    sizes: Sizes,
}

impl<'a> Cursor<'a> {
    /// A cursor over `bytes` that start at file offset `base`, parsing structure `what`.
    pub fn new(bytes: &'a [u8], base: u64, what: &'static str, sizes: Sizes) -> Self {
        Cursor {
            bytes,
            pos: 0,
            base,
            what,
            sizes,
        }
    }

    /// The structure name used in errors.
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// Rename the structure for errors from now on.
    pub fn set_what(&mut self, what: &'static str) {
        self.what = what;
    }

    /// Widths of offsets and lengths.
    pub fn sizes(&self) -> Sizes {
        self.sizes
    }

    /// Position inside the slice.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// File offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// The unconsumed bytes.
    pub fn rest(&self) -> &'a [u8] {
        &self.bytes[self.pos..]
    }

    /// All bytes of the cursor.
    pub fn all(&self) -> &'a [u8] {
        self.bytes
    }

    /// Move to `pos` inside the slice.
    pub fn seek(&mut self, pos: usize) -> Result<()> {
        if pos > self.bytes.len() {
            return Err(self.eof(pos - self.pos));
        }
        self.pos = pos;
        Ok(())
    }

    /// An error about this structure at the current position.
    pub fn err(&self, detail: impl std::fmt::Display) -> Error {
        Error::malformed(self.what, self.offset(), detail)
    }

    fn eof(&self, n: usize) -> Error {
        Error::OutOfBounds {
            what: self.what,
            offset: self.offset(),
            len: n as u64,
            end: self.base + self.bytes.len() as u64,
        }
    }

    /// Take the next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.eof(n));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Skip `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<()> {
        self.bytes(n).map(|_| ())
    }

    /// Expect the given signature bytes.
    pub fn expect_signature(&mut self, sig: &[u8; 4]) -> Result<()> {
        let at = self.offset();
        let got = self.bytes(4)?;
        if got != sig {
            return Err(Error::malformed(
                self.what,
                at,
                format!(
                    "bad signature {:?}, expected {:?}",
                    String::from_utf8_lossy(got),
                    String::from_utf8_lossy(sig)
                ),
            ));
        }
        Ok(())
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    /// Little-endian u16.
    pub fn u16(&mut self) -> Result<u16> {
        let b = self.bytes(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// Little-endian u32.
    pub fn u32(&mut self) -> Result<u32> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Little-endian u64.
    pub fn u64(&mut self) -> Result<u64> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// Little-endian unsigned integer of `n` bytes (0..=8).
    pub fn uint(&mut self, n: usize) -> Result<u64> {
        if n > 8 {
            return Err(self.err(format!("integer field of {n} bytes is wider than 8")));
        }
        let b = self.bytes(n)?;
        Ok(b.iter()
            .rev()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    /// An address (size of offsets); all-ones maps to [`UNDEF_ADDR`].
    pub fn addr(&mut self) -> Result<u64> {
        let n = usize::from(self.sizes.offset);
        let v = self.uint(n)?;
        Ok(if n < 8 && v == (1u64 << (8 * n)) - 1 {
            UNDEF_ADDR
        } else {
            v
        })
    }

    /// A length (size of lengths).
    pub fn length(&mut self) -> Result<u64> {
        self.uint(usize::from(self.sizes.length))
    }

    /// A NUL-terminated string (without the NUL).
    pub fn cstr(&mut self) -> Result<&'a [u8]> {
        let rest = self.rest();
        let n = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| self.err("unterminated string"))?;
        let s = &rest[..n];
        self.pos += n + 1;
        Ok(s)
    }

    /// Skip to the next multiple of `align` relative to the start of the slice.
    pub fn align(&mut self, align: usize) -> Result<()> {
        let pad = (align - self.pos % align) % align;
        self.skip(pad.min(self.remaining()))
    }
}

/// Number of bytes needed to store `v` (at least 1).
pub fn bytes_needed(v: u64) -> u8 {
    (64 - v.leading_zeros()).div_ceil(8).max(1) as u8
}

thread_local! {
    static SKIP_CHECKSUMS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Testing aid for mutation tests and fuzzers: skip the verification of metadata checksums in
/// the calling thread, so corrupted structures reach the parsers behind the checksums.
#[doc(hidden)]
pub fn skip_checksums_in_this_thread(skip: bool) {
    SKIP_CHECKSUMS.with(|s| s.set(skip));
}

/// Verify a lookup3 checksum stored little-endian right after `bytes[..n]`.
pub fn verify_checksum(what: &'static str, offset: u64, bytes: &[u8]) -> Result<()> {
    if bytes.len() < 4 {
        return Err(Error::OutOfBounds {
            what,
            offset,
            len: 4,
            end: offset.saturating_add(bytes.len() as u64),
        });
    }
    if SKIP_CHECKSUMS.with(|s| s.get()) {
        return Ok(());
    }
    let (body, sum) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]);
    let computed = crate::checksum::lookup3(body, 0);
    if stored != computed {
        return Err(Error::Checksum {
            what,
            offset,
            stored,
            computed,
        });
    }
    Ok(())
}
