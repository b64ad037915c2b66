//! Byte sources: where the bytes of a file come from.
//!
//! One small trait, [`ByteSource`], with three implementations: in-memory bytes
//! ([`MemSource`]), a file read with positioned reads ([`FileSource`], feature `fs`) and a
//! memory map ([`MmapSource`], feature `mmap`). Positioned reads take `&self`, so one source is
//! shared by many threads without a seek position to race on.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

#[cfg(feature = "fs")]
mod file;
// The memory map is the one place where a crate boundary (memmap2) demands `unsafe`.
#[cfg(feature = "mmap")]
#[allow(unsafe_code)]
mod mmap;

#[cfg(feature = "remote")]
mod burst;
#[cfg(feature = "remote")]
mod http;
#[cfg(feature = "remote")]
mod remote;
#[cfg(feature = "remote")]
mod sigv4;
#[cfg(feature = "remote")]
pub mod snapshot;
#[cfg(feature = "tls")]
mod tls;

#[cfg(feature = "fs")]
pub use file::FileSource;
#[cfg(feature = "mmap")]
pub use mmap::MmapSource;
#[cfg(feature = "remote")]
pub use remote::{is_url, RemoteSource};

/// Size and alignment of the block a remote source caches around a small read; metadata
/// announced by position only (an object header whose length is not known yet) is announced
/// as the block holding it.
pub const HINT_BLOCK: u64 = 64 << 10;

/// Decoded bytes accepted per byte of file beyond the allocation budget (see
/// [`Source::check_decoded_alloc`]).
pub const DECODED_PER_FILE_BYTE: u64 = 64;

/// Random-access, thread-safe bytes.
pub trait ByteSource: Send + Sync {
    /// Total length in bytes.
    fn len(&self) -> u64;

    /// Whether the source holds no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fill `buf` with the bytes at `offset..offset + buf.len()`.
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()>;

    /// All the bytes, when they are already in memory (enables zero-copy reads).
    fn as_slice(&self) -> Option<&[u8]> {
        None
    }

    /// Announce that `offset..offset + len` will be read soon. Sources where a request costs
    /// a round trip fetch the announced ranges together (merged and concurrently) on the
    /// first read of one of them; others ignore it. Never required for correctness.
    fn hint(&self, offset: u64, len: u64) {
        let _ = (offset, len);
    }

    /// Announce that `offset..offset + len` may be read soon (a guess: the children of an
    /// index root, the headers of a group's members). Like [`hint`](Self::hint), except
    /// that a source with reason to think the guess wrong may ignore it (a remote open that
    /// started from a snapshot holding what the last open read). Never required.
    fn hint_maybe(&self, offset: u64, len: u64) {
        self.hint(offset, len)
    }

    /// Whether each request costs a network round trip (readers then prefer fewer, larger
    /// and announced reads: see [`hint`](Self::hint)).
    fn is_remote(&self) -> bool {
        false
    }

    /// Offer `bytes`, just read at `offset`, for the snapshot of this file the next open of
    /// it starts from (metadata, or data a reader marked as worth keeping: see
    /// `io::snapshot`, feature `remote`, and [`Source::keeping`]). Remote sources keep them
    /// (bounded); others ignore it.
    fn keep(&self, offset: u64, bytes: &[u8]) {
        let _ = (offset, bytes);
    }
}

/// Bytes held in memory.
#[derive(Clone)]
pub struct MemSource(Arc<[u8]>);

impl MemSource {
    /// Wrap owned bytes.
    pub fn new(bytes: impl Into<Arc<[u8]>>) -> Self {
        MemSource(bytes.into())
    }
}

impl ByteSource for MemSource {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| eof())?;
        let end = start.checked_add(buf.len()).ok_or_else(eof)?;
        let src = self.0.get(start..end).ok_or_else(eof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn as_slice(&self) -> Option<&[u8]> {
        Some(&self.0)
    }
}

fn eof() -> std::io::Error {
    std::io::Error::from(std::io::ErrorKind::UnexpectedEof)
}

/// Counts the reads and bytes that pass through a source (for tests and benchmarks that prove
/// a read was partial).
pub struct CountingSource<S> {
    inner: S,
    reads: AtomicU64,
    bytes: AtomicU64,
}

impl<S: ByteSource> CountingSource<S> {
    /// Wrap a source.
    pub fn new(inner: S) -> Self {
        CountingSource {
            inner,
            reads: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }
    /// Number of `read_exact_at` calls so far.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }
    /// Number of bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
    /// Reset both counters.
    pub fn reset(&self) {
        self.reads.store(0, Ordering::Relaxed);
        self.bytes.store(0, Ordering::Relaxed);
    }
}

impl<S: ByteSource> ByteSource for CountingSource<S> {
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        self.inner.read_exact_at(offset, buf)
    }
    fn hint(&self, offset: u64, len: u64) {
        self.inner.hint(offset, len)
    }
    fn hint_maybe(&self, offset: u64, len: u64) {
        self.inner.hint_maybe(offset, len)
    }
    fn is_remote(&self) -> bool {
        self.inner.is_remote()
    }
    fn keep(&self, offset: u64, bytes: &[u8]) {
        self.inner.keep(offset, bytes)
    }
    // No `as_slice`: every access must be counted.
}

impl<S: ByteSource + ?Sized> ByteSource for Arc<S> {
    fn len(&self) -> u64 {
        (**self).len()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        (**self).read_exact_at(offset, buf)
    }
    fn as_slice(&self) -> Option<&[u8]> {
        (**self).as_slice()
    }
    fn hint(&self, offset: u64, len: u64) {
        (**self).hint(offset, len)
    }
    fn hint_maybe(&self, offset: u64, len: u64) {
        (**self).hint_maybe(offset, len)
    }
    fn is_remote(&self) -> bool {
        (**self).is_remote()
    }
    fn keep(&self, offset: u64, bytes: &[u8]) {
        (**self).keep(offset, bytes)
    }
}

/// Default cap on a single allocation driven by sizes read from a file (1 GiB).
pub const DEFAULT_ALLOC_LIMIT: u64 = 1 << 30;

/// A shared byte source with bounds-checked reads; what the parsers use.
#[derive(Clone)]
pub struct Source {
    inner: Arc<dyn ByteSource>,
    /// Offset in the byte source of HDF5 address 0 (the superblock's base address).
    base: u64,
    /// Length seen from `base`.
    len: u64,
    alloc_limit: u64,
    /// Offer data reads too, not only metadata, for a remote file's snapshot.
    keep_data: bool,
}

/// Labels of reads that fetch a dataset's values rather than the file's structure: not
/// offered for a remote file's snapshot unless the reader asks ([`Source::keeping`]).
/// (Global heap collections are offered: they hold attributes' strings as well as
/// datasets' — the snapshot's bound keeps the latter in check.)
fn is_data(what: &str) -> bool {
    matches!(
        what,
        "chunk" | "contiguous data" | "fractal heap huge object"
    )
}

impl Source {
    /// Wrap a byte source.
    pub fn new(inner: Arc<dyn ByteSource>) -> Self {
        let len = inner.len();
        Source {
            inner,
            base: 0,
            len,
            alloc_limit: DEFAULT_ALLOC_LIMIT,
            keep_data: false,
        }
    }

    /// The same source, offering its data reads (chunks, contiguous data) for a remote
    /// file's snapshot as it offers metadata: for small data that describes a larger
    /// array, such as a sparse matrix's `indptr` (see [`ByteSource::keep`]).
    pub fn keeping(&self) -> Self {
        Source {
            keep_data: true,
            ..self.clone()
        }
    }

    /// Offer bytes just read for the snapshot (remote sources only).
    fn offer(&self, what: &str, offset: u64, bytes: &[u8]) {
        if self.inner.is_remote() && (self.keep_data || !is_data(what)) {
            self.inner.keep(self.base + offset, bytes);
        }
    }

    /// The same bytes, with HDF5 address 0 at byte `base` of the underlying source (files
    /// with a user block). `base` must not exceed the source's length.
    pub fn rebased(&self, base: u64) -> Self {
        let total = self.base + self.len;
        let base = (self.base + base).min(total);
        Source {
            inner: self.inner.clone(),
            base,
            len: total - base,
            alloc_limit: self.alloc_limit,
            keep_data: self.keep_data,
        }
    }

    /// Offset in the underlying source of HDF5 address 0.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Set the cap on one allocation driven by file contents.
    pub fn with_alloc_limit(mut self, limit: u64) -> Self {
        self.alloc_limit = limit;
        self
    }

    /// The cap on one allocation driven by file contents.
    pub fn alloc_limit(&self) -> u64 {
        self.alloc_limit
    }

    /// Announce that `len` bytes at `offset` will be read soon (see [`ByteSource::hint`]);
    /// ranges outside the source are ignored.
    pub fn hint(&self, offset: u64, len: u64) {
        if self.check("hint", offset, len).is_ok() {
            self.inner.hint(self.base + offset, len);
        }
    }

    /// Announce that `len` bytes at `offset` may be read soon (see
    /// [`ByteSource::hint_maybe`]); ranges outside the source are ignored.
    pub fn hint_maybe(&self, offset: u64, len: u64) {
        if self.check("hint", offset, len).is_ok() {
            self.inner.hint_maybe(self.base + offset, len);
        }
    }

    /// Whether each request costs a network round trip (see [`ByteSource::is_remote`]).
    pub fn is_remote(&self) -> bool {
        self.inner.is_remote()
    }

    /// Length of the source.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the source is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Check that `offset..offset+len` lies inside the source.
    pub fn check(&self, what: &'static str, offset: u64, len: u64) -> Result<()> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(Error::OutOfBounds {
                what,
                offset,
                len,
                end: self.len,
            }),
        }
    }

    /// Check that a file-driven allocation of `len` bytes is within budget.
    pub fn check_alloc(&self, what: &'static str, offset: u64, len: u64) -> Result<()> {
        if len > self.alloc_limit {
            return Err(Error::TooLarge {
                what,
                offset,
                requested: len,
                limit: self.alloc_limit,
            });
        }
        Ok(())
    }

    /// Check the allocation of `len` bytes for data decoded from this file (a selection of
    /// a chunked dataset): within the budget, or within [`DECODED_PER_FILE_BYTE`] times the
    /// file's length — what real compressed data decodes to, while a tiny hostile file that
    /// declares a huge dataset still gets an error.
    pub fn check_decoded_alloc(&self, what: &'static str, offset: u64, len: u64) -> Result<()> {
        if len <= self.len.saturating_mul(DECODED_PER_FILE_BYTE) {
            return Ok(());
        }
        self.check_alloc(what, offset, len)
    }

    /// Read `len` bytes at `offset` (bounds- and budget-checked); borrowed when in memory.
    pub fn read(&self, what: &'static str, offset: u64, len: u64) -> Result<Cow<'_, [u8]>> {
        self.check(what, offset, len)?;
        if let Some(all) = self.inner.as_slice() {
            let start = (self.base + offset) as usize;
            if let Some(s) = all.get(start..start + len as usize) {
                return Ok(Cow::Borrowed(s));
            }
        }
        self.check_alloc(what, offset, len)?;
        let mut buf = vec![0u8; len as usize];
        self.inner
            .read_exact_at(self.base + offset, &mut buf)
            .map_err(|source| Error::Io { offset, source })?;
        self.offer(what, offset, &buf);
        Ok(Cow::Owned(buf))
    }

    /// Read `len` bytes at `offset` into a new vector.
    pub fn read_vec(&self, what: &'static str, offset: u64, len: u64) -> Result<Vec<u8>> {
        Ok(self.read(what, offset, len)?.into_owned())
    }

    /// Read exactly `buf.len()` bytes at `offset` into `buf`.
    pub fn read_into(&self, what: &'static str, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.check(what, offset, buf.len() as u64)?;
        self.inner
            .read_exact_at(self.base + offset, buf)
            .map_err(|source| Error::Io { offset, source })?;
        self.offer(what, offset, buf);
        Ok(())
    }

    /// Read up to `len` bytes at `offset`, fewer if the source ends first.
    pub fn read_up_to(&self, what: &'static str, offset: u64, len: u64) -> Result<Cow<'_, [u8]>> {
        if offset > self.len {
            return Err(Error::OutOfBounds {
                what,
                offset,
                len,
                end: self.len,
            });
        }
        self.read(what, offset, len.min(self.len - offset))
    }
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source").field("len", &self.len).finish()
    }
}
