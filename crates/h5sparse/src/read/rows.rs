//! Whole major vectors (every minor position) of a non-contiguous major selection — row
//! lists, masks, unsorted and repeated rows of a CSR matrix: the entry ranges of the
//! requested rows, in the requested order, are read straight into the result arrays (one
//! read per array: positioned reads into place for uncompressed storage, each needed chunk
//! decoded once for compressed storage), `indices` and `data` at the same time. No blocks,
//! no append or reorder copies: memory is the result.

use std::ops::Range;

use super::{try_vec, Compressed, Distinct, Store};
use crate::error::{Error, Result};
use crate::selection::Selection;

impl Store<'_> {
    /// The rows `major` (in its order), every column; `distinct` are its distinct positions
    /// (sorted) and `lo`/`hi` their entry extents.
    pub(super) fn whole_rows(
        &self,
        major: &Selection,
        distinct: &Distinct,
        lo: &[u64],
        hi: &[u64],
    ) -> Result<Compressed> {
        let n_out = usize::try_from(major.len()).map_err(|_| Error::TooLarge {
            what: "row selection",
            requested: major.len(),
        })?;
        let mut counts: Vec<usize> = try_vec(n_out, "row selection")?;
        let mut ranges: Vec<Range<u64>> = try_vec(n_out, "row selection")?;
        let mut total = 0u64;
        let mut push = |d: usize| -> Result<()> {
            let (a, b) = match (lo.get(d), hi.get(d)) {
                (Some(&a), Some(&b)) => (a, b),
                _ => return Err(Error::Usage("internal: row extent".into())),
            };
            counts.push((b - a) as usize);
            total += b - a;
            if a < b {
                match ranges.last_mut() {
                    Some(last) if last.end == a => last.end = b,
                    _ => ranges.push(a..b),
                }
            }
            Ok(())
        };
        if major.is_increasing() {
            (0..lo.len()).try_for_each(&mut push)?;
        } else {
            for p in major.iter() {
                let d = match distinct {
                    Distinct::Range(r) => p.checked_sub(r.start).map(|d| d as usize),
                    Distinct::List(v) => v.binary_search(&p).ok(),
                }
                .ok_or_else(|| Error::Usage("internal: row not found".into()))?;
                push(d)?;
            }
        }
        let indptr = self.indptr_of(counts.iter().copied(), n_out)?;
        drop(counts);
        let (indices, data) = rayon::join(
            || self.indices.read_ranges_values(&ranges),
            || self.data.read_ranges_values(&ranges),
        );
        let (indices, data) = (indices?, data?);
        if indices.len() as u64 != total || data.len() as u64 != total {
            return Err(Error::Usage("storage returned too few entries".into()));
        }
        if let Some(k) = indices.first_outside(self.minor_len) {
            // Name the stored position of the culprit: the range holding output position k.
            let mut before = 0u64;
            for r in &ranges {
                let len = r.end - r.start;
                if (k as u64) < before + len {
                    let stored = r.start + (k as u64 - before);
                    self.check_indices(&indices.slice(k..k + 1)?, stored)?;
                }
                before += len;
            }
            return Err(Error::Usage("internal: index check".into()));
        }
        Ok(Compressed {
            indptr,
            indices,
            data,
        })
    }
}
