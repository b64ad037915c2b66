//! Range reads of unfiltered chunks: every selected piece of a chunk is one positioned read
//! straight into its place in the caller's buffer — no chunk-sized intermediate buffer, no
//! copy, no cache traffic. Pieces adjacent both in the file and in the output (a range that
//! crosses into a chunk stored right after the previous one) merge into one read.

use rayon::prelude::*;

use super::{ChunkedReader, PARALLEL_BYTES};
use crate::error::{Error, Result};
use crate::select;

/// Largest positioned read of one task.
const PIECE_BYTES: usize = 8 << 20;

/// Where the bytes of one output piece come from.
#[derive(Clone, Copy)]
enum Src {
    /// A positioned read at this file offset.
    File(u64),
    /// The fill value (a never-written chunk).
    Fill,
}

impl ChunkedReader {
    /// Read 1-D element ranges, concatenated in order, into `out` (exactly their bytes), as
    /// [`read_ranges`](Self::read_ranges) does; unfiltered chunks are read piecewise into
    /// place (in parallel when the read is large; chunks stored one after the other merge
    /// into reads of up to 8 MiB), filtered ones go through the decoding path (one range:
    /// whole chunks inflated into place; several: each needed chunk decoded once, kept in
    /// the cache).
    pub fn read_ranges_into(&self, ranges: &[std::ops::Range<u64>], out: &mut [u8]) -> Result<()> {
        if !self.decoder.is_plain() || self.geom.rank() != 1 {
            return match ranges {
                [one] => self.read_range_into(one.clone(), out),
                _ => self.read_ranges(ranges, out),
            };
        }
        let e = self.geom.element_size;
        let total: u64 = ranges.iter().map(|r| r.end.saturating_sub(r.start)).sum();
        if total.checked_mul(e) != Some(out.len() as u64) {
            return Err(Error::Usage(format!(
                "output buffer of {} bytes for ranges totalling {total} elements",
                out.len()
            )));
        }
        let (groups, _) = select::range_pieces(self.geom.dims[0], self.geom.chunk_dims[0], ranges)?;
        // (output byte offset, byte length, source), one per piece.
        let mut plan: Vec<(u64, u64, Src)> = Vec::new();
        plan.try_reserve(groups.iter().map(|(_, p)| p.len()).sum())
            .map_err(|_| Error::Usage("range read plan too large".into()))?;
        for (chunk, pieces) in &groups {
            let loc = self.index.lookup(&[*chunk])?;
            if let Some(loc) = &loc {
                // Unfiltered: the stored chunk holds the whole chunk's bytes.
                if loc.size < self.geom.chunk_bytes {
                    return Err(Error::malformed(
                        "chunk",
                        loc.address,
                        format!(
                            "unfiltered chunk of {} bytes, expected {}",
                            loc.size, self.geom.chunk_bytes
                        ),
                    ));
                }
            }
            for p in pieces {
                let from = match &loc {
                    Some(loc) => {
                        Src::File(loc.address.checked_add(p.in_chunk * e).ok_or_else(|| {
                            Error::malformed("chunk", loc.address, "chunk address overflows")
                        })?)
                    }
                    None => Src::Fill,
                };
                plan.push((p.out * e, p.len * e, from));
            }
        }
        plan.sort_unstable_by_key(|&(o, _, _)| o);
        // Merge pieces adjacent in the output and in the file.
        let mut merged: Vec<(u64, u64, Src)> = Vec::with_capacity(plan.len());
        for (o, len, from) in plan {
            if let Some((mo, mlen, Src::File(ma))) = merged.last_mut() {
                if let Src::File(a) = from {
                    if *mo + *mlen == o && ma.checked_add(*mlen) == Some(a) {
                        *mlen += len;
                        continue;
                    }
                }
            }
            merged.push((o, len, from));
        }
        // Cut `out` into the pieces' slices (they tile it in order).
        let mut jobs: Vec<(Src, &mut [u8])> = Vec::with_capacity(merged.len());
        let mut rest = out;
        let mut at = 0u64;
        for (o, len, from) in merged {
            if o != at || len as usize > rest.len() {
                return Err(Error::Usage("internal: range read plan".into()));
            }
            let (mut dst, tail) = rest.split_at_mut(len as usize);
            rest = tail;
            at += len;
            // Long runs in pieces, so that the pool shares them.
            let mut from = from;
            while dst.len() > PIECE_BYTES {
                let (head, more) = dst.split_at_mut(PIECE_BYTES);
                jobs.push((from, head));
                dst = more;
                if let Src::File(a) = &mut from {
                    *a = a.saturating_add(PIECE_BYTES as u64);
                }
            }
            jobs.push((from, dst));
        }
        let fill = &self.fill;
        let one = |(from, dst): (Src, &mut [u8])| -> Result<()> {
            match from {
                Src::File(a) => self.source.read_into("chunk", a, dst),
                Src::Fill => {
                    for (d, s) in dst.iter_mut().zip(fill.iter().cycle()) {
                        *d = *s;
                    }
                    Ok(())
                }
            }
        };
        if total * e >= PARALLEL_BYTES as u64 && jobs.len() > 1 {
            jobs.into_par_iter().try_for_each(one)
        } else {
            jobs.into_iter().try_for_each(one)
        }
    }
}
