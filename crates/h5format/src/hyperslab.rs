//! N-D hyperslab reads of a [`Dataset`] of any layout (`start + k * step`, `k < count` in
//! each dimension, row-major output), as h5py's `ds[a:b:s, c:d]` reads them.
//!
//! Chunked data goes through the chunk engine (only intersecting chunks are decoded);
//! contiguous and compact data are read as runs of consecutive elements along the last
//! dimension (one positioned read per run, coalesced by [`Dataset::read_ranges_raw`]).

use crate::error::{Error, Result};
use crate::read::layout::Layout;
use crate::select;
use crate::Dataset;

/// Element ranges (flattened, row-major) of a hyperslab of `dims`: one range per run of
/// consecutive elements along the last dimension (one per element when that step is not 1).
fn element_ranges(
    dims: &[u64],
    start: &[u64],
    count: &[u64],
    step: &[u64],
) -> Vec<std::ops::Range<u64>> {
    let rank = dims.len();
    if rank == 0 {
        return std::iter::once(0..1).collect();
    }
    if count.contains(&0) {
        return Vec::new();
    }
    let strides = select::strides(dims);
    let last = rank - 1;
    let run = if step[last] == 1 { count[last] } else { 1 };
    let runs_in_last = count[last] / run;
    let mut out = Vec::new();
    // Odometer over every dimension but the last (and over runs of the last).
    let mut k = vec![0u64; rank];
    loop {
        let mut base = 0u64;
        for d in 0..last {
            base += (start[d] + k[d] * step[d]) * strides[d];
        }
        let first = base + start[last] + k[last] * step[last];
        out.push(first..first + run);
        // Advance.
        let mut d = last;
        loop {
            k[d] += 1;
            let limit = if d == last { runs_in_last } else { count[d] };
            if k[d] < limit {
                break;
            }
            k[d] = 0;
            if d == 0 {
                return out;
            }
            d -= 1;
        }
    }
}

impl Dataset {
    /// Read the hyperslab `start + k * step` (`k < count` in each dimension) as raw bytes in
    /// file byte order, row-major (`product(count)` elements).
    ///
    /// ```
    /// # fn main() -> h5format::Result<()> {
    /// let file = h5format::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/chunked_latest.h5"))?;
    /// let ds = file.dataset("/earray_gzip")?;
    /// let all: Vec<f64> = ds.read()?;
    /// // Every second element of the first 10, like h5py's ds[0:10:2].
    /// let some: Vec<f64> = ds.read_hyperslab(&[0], &[5], &[2])?;
    /// assert_eq!(some, vec![all[0], all[2], all[4], all[6], all[8]]);
    /// # Ok(()) }
    /// ```
    pub fn read_hyperslab_raw(
        &self,
        start: &[u64],
        count: &[u64],
        step: &[u64],
    ) -> Result<Vec<u8>> {
        let dims = self.shape().to_vec();
        select::check_hyperslab(&dims, start, count, step).map_err(|e| e.in_object(self.path()))?;
        let n: u64 = count.iter().product();
        let bytes = n
            .checked_mul(self.dtype().size() as u64)
            .ok_or_else(|| Error::Usage(format!("{}: selection too large", self.path())))?;
        self.file()
            .source()
            .check_alloc("dataset selection", self.address(), bytes)?;
        match self.layout() {
            Layout::Chunked { .. } if !dims.is_empty() => {
                let len = usize::try_from(bytes)
                    .map_err(|_| Error::Usage(format!("{}: selection too large", self.path())))?;
                let mut out = vec![0u8; len];
                self.chunks()
                    .and_then(|c| c.read_hyperslab(start, count, step, &mut out))
                    .map_err(|e| e.in_object(self.path()))?;
                Ok(out)
            }
            _ => self.read_ranges_raw(&element_ranges(&dims, start, count, step)),
        }
    }

    /// Read a hyperslab (see [`Dataset::read_hyperslab_raw`]) converted to `T`.
    pub fn read_hyperslab<T: crate::value::Numeric>(
        &self,
        start: &[u64],
        count: &[u64],
        step: &[u64],
    ) -> Result<Vec<T>> {
        let raw = self.read_hyperslab_raw(start, count, step)?;
        crate::value::convert(self.dtype(), &raw).map_err(|e| e.in_object(self.path()))
    }
}

#[cfg(test)]
mod tests {
    use super::element_ranges;

    #[test]
    fn runs_along_the_last_dimension() {
        // 3 x 4, rows 0..3 step 2, cols 1..3: elements 1,2 and 9,10.
        assert_eq!(
            element_ranges(&[3, 4], &[0, 1], &[2, 2], &[2, 1]),
            vec![1..3, 9..11]
        );
        // Step 2 along the last dimension: one range per element.
        assert_eq!(
            element_ranges(&[2, 5], &[1, 0], &[1, 3], &[1, 2]),
            vec![5..6, 7..8, 9..10]
        );
        assert_eq!(element_ranges(&[], &[], &[], &[]), vec![0..1]);
        assert!(element_ranges(&[4], &[0], &[0], &[1]).is_empty());
    }
}
