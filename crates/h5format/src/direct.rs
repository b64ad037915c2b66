//! Direct reads: element ranges of a 1-D dataset read straight into the caller's typed
//! buffer, with no intermediate byte buffer and no conversion pass, when the caller's type is
//! the stored representation (same primitive, native byte order, no bit padding).
//!
//! - Contiguous storage: positioned reads into place, cut into pieces of [`PIECE_BYTES`] and
//!   spread over the thread pool when the read is large (memory bandwidth bound).
//! - Chunked storage: the chunks inside a range are inflated straight into place
//!   ([`ChunkedReader::read_range_into`](crate::read::chunked::ChunkedReader::read_range_into));
//!   pieces of unfiltered chunks are positioned reads into place
//!   ([`ChunkedReader::read_ranges_into`](crate::read::chunked::ChunkedReader::read_ranges_into)).
//! - Large results are allocated zeroed and asked to be backed by transparent huge pages
//!   ([`crate::alloc`]): filling them faults 2 MiB at a time instead of 4 KiB.
//!
//! Reads below [`PARALLEL_BYTES`] stay on the calling thread.

use std::ops::Range;

use rayon::prelude::*;

use crate::cursor::UNDEF_ADDR;
use crate::error::{Error, Result};
use crate::read::chunked::PARALLEL_BYTES;
use crate::read::datatype::ByteOrder;
use crate::read::layout::Layout;
use crate::value::Numeric;
use crate::Dataset;

/// Largest positioned read of one task.
const PIECE_BYTES: usize = 8 << 20;

impl Dataset {
    /// Whether `T` is exactly how the elements are stored (so bytes can land in a `Vec<T>`).
    fn stored_as<T: Numeric>(&self) -> bool {
        self.dtype().size() == std::mem::size_of::<T>()
            && crate::value::numeric_source(self.dtype()).is_some_and(|(p, o, bits)| {
                p == T::PRIM && o == ByteOrder::NATIVE && bits.is_none()
            })
    }

    /// Read the concatenation of `ranges` (checked by the caller to lie inside the dataset,
    /// `n` elements in all) straight into a `Vec<T>`, if this dataset's layout and type allow
    /// it; `None` means "use the general path". The allocation is checked here: contiguous
    /// storage must lie inside the file, a chunked selection must pass
    /// [`check_decoded_alloc`](crate::io::Source::check_decoded_alloc).
    pub(crate) fn read_ranges_direct<T: Numeric>(
        &self,
        ranges: &[Range<u64>],
        n: usize,
    ) -> Result<Option<Vec<T>>> {
        if !self.stored_as::<T>() || self.shape().len() != 1 || self.has_external_storage() {
            return Ok(None);
        }
        let esize = std::mem::size_of::<T>();
        match self.layout() {
            Layout::Contiguous { address, size } if *address != UNDEF_ADDR => {
                let stored = self.len().saturating_mul(esize as u64);
                if *size < stored {
                    return Err(Error::malformed(
                        "layout message",
                        self.address(),
                        "contiguous storage smaller than the dataset",
                    ));
                }
                // The storage lies inside the file: the result is no larger than the file.
                let source = self.file().source();
                source.check("contiguous data", *address, stored)?;
                let mut out = crate::alloc::zeroed_vec::<T>(n);
                let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut out);
                // (file offset, destination) pieces of at most PIECE_BYTES.
                let mut jobs: Vec<(u64, &mut [u8])> = Vec::new();
                let mut rest = bytes;
                for r in ranges {
                    let len = (r.end - r.start) as usize * esize;
                    let (mut dst, tail) = rest.split_at_mut(len);
                    rest = tail;
                    let mut at = address + r.start * esize as u64;
                    while !dst.is_empty() {
                        let take = dst.len().min(PIECE_BYTES);
                        let (piece, more) = dst.split_at_mut(take);
                        jobs.push((at, piece));
                        at += take as u64;
                        dst = more;
                    }
                }
                let read =
                    |(at, dst): (u64, &mut [u8])| source.read_into("contiguous data", at, dst);
                if n * esize >= PARALLEL_BYTES && jobs.len() > 1 {
                    jobs.into_par_iter().try_for_each(read)?;
                } else {
                    jobs.into_iter().try_for_each(read)?;
                }
                Ok(Some(out))
            }
            Layout::Chunked { .. } => {
                let bytes = (n as u64).saturating_mul(esize as u64);
                self.file().source().check_decoded_alloc(
                    "dataset selection",
                    self.address(),
                    bytes,
                )?;
                // Decoded chunks fill the result over seconds: fault it in first (see
                // `output_vec`). Unfiltered chunks are copied in as fast as the pages are
                // faulted, and a separate pass would only add one.
                let mut out = if self.filters().is_some_and(|p| !p.is_empty()) {
                    crate::alloc::output_vec::<T>(n)
                } else {
                    crate::alloc::zeroed_vec::<T>(n)
                };
                self.chunks()?
                    .read_ranges_into(ranges, bytemuck::cast_slice_mut(&mut out))?;
                Ok(Some(out))
            }
            _ => Ok(None),
        }
    }
}
