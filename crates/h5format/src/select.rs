//! Selections of chunked data: hyperslabs and 1-D ranges split into per-chunk pieces, and the
//! strided N-D copy between a chunk buffer and a caller's buffer.

use crate::error::{Error, Result};

/// The selected points of one dimension that fall in one chunk: `count` points starting at
/// `first` (offset inside the chunk) spaced by the hyperslab step, landing at `out_start` in
/// the output along that dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DimPiece {
    /// Chunk coordinate along the dimension.
    pub chunk: u64,
    /// Offset of the first selected point inside the chunk.
    pub first: u64,
    /// Number of selected points in the chunk.
    pub count: u64,
    /// Index of the first point in the output along this dimension.
    pub out_start: u64,
}

/// Check a hyperslab (`start`, `count`, `step`; block 1) against `dims`.
pub fn check_hyperslab(dims: &[u64], start: &[u64], count: &[u64], step: &[u64]) -> Result<()> {
    let rank = dims.len();
    if start.len() != rank || count.len() != rank || step.len() != rank {
        return Err(Error::Usage(format!(
            "hyperslab of rank {}/{}/{} for a dataset of rank {rank}",
            start.len(),
            count.len(),
            step.len()
        )));
    }
    for d in 0..rank {
        if step[d] == 0 {
            return Err(Error::Usage(format!("hyperslab step 0 in dimension {d}")));
        }
        if count[d] == 0 {
            continue;
        }
        let last = (count[d] - 1)
            .checked_mul(step[d])
            .and_then(|v| v.checked_add(start[d]));
        match last {
            Some(l) if l < dims[d] => {}
            _ => {
                return Err(Error::Usage(format!(
                    "hyperslab start {} count {} step {} exceeds dimension {d} of size {}",
                    start[d], count[d], step[d], dims[d]
                )))
            }
        }
    }
    Ok(())
}

/// Split the selection `start + k * step` (`k < count`) of one dimension by chunks of `chunk`.
pub fn dim_pieces(start: u64, count: u64, step: u64, chunk: u64) -> Vec<DimPiece> {
    let mut out = Vec::new();
    let mut k = 0u64;
    while k < count {
        let c = start + k * step;
        let ch = c / chunk;
        let in_chunk = c - ch * chunk;
        let n = ((chunk - 1 - in_chunk) / step + 1).min(count - k);
        out.push(DimPiece {
            chunk: ch,
            first: in_chunk,
            count: n,
            out_start: k,
        });
        k += n;
    }
    out
}

/// Row-major strides (in elements) of an array of shape `shape`.
pub fn strides(shape: &[u64]) -> Vec<u64> {
    let mut s = vec![1u64; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1].saturating_mul(shape[d + 1]);
    }
    s
}

/// One N-D block copy: `counts` elements per dimension from `src` (starting at element
/// `src_base`, moving `src_strides[d]` elements per step in dimension `d`) to `dst`
/// (likewise). Contiguous innermost runs are copied in one go.
#[derive(Debug, Clone)]
pub struct BlockCopy<'a> {
    /// Element size in bytes.
    pub elem: usize,
    /// Elements per dimension.
    pub counts: &'a [u64],
    /// First source element.
    pub src_base: u64,
    /// Source strides in elements.
    pub src_strides: &'a [u64],
    /// First destination element.
    pub dst_base: u64,
    /// Destination strides in elements.
    pub dst_strides: &'a [u64],
}

impl BlockCopy<'_> {
    /// Perform the copy; an out-of-range access is an error, never a panic.
    pub fn run(&self, src: &[u8], dst: &mut [u8]) -> Result<()> {
        let rank = self.counts.len();
        if rank == 0 || self.counts.contains(&0) {
            return Ok(());
        }
        let e = self.elem as u64;
        let last = rank - 1;
        let inner = self.counts[last];
        let contiguous = self.src_strides[last] == 1 && self.dst_strides[last] == 1;
        let mut idx = vec![0u64; rank];
        let oob = || Error::Usage("chunk copy out of range".into());
        loop {
            let mut s = self.src_base;
            let mut d = self.dst_base;
            for ((&i, &ss), &ds) in idx[..last]
                .iter()
                .zip(self.src_strides)
                .zip(self.dst_strides)
            {
                s += i * ss;
                d += i * ds;
            }
            if contiguous {
                let (s0, d0, n) = ((s * e) as usize, (d * e) as usize, (inner * e) as usize);
                let from = src.get(s0..s0 + n).ok_or_else(oob)?;
                dst.get_mut(d0..d0 + n)
                    .ok_or_else(oob)?
                    .copy_from_slice(from);
            } else {
                for i in 0..inner {
                    let s0 = ((s + i * self.src_strides[last]) * e) as usize;
                    let d0 = ((d + i * self.dst_strides[last]) * e) as usize;
                    let from = src.get(s0..s0 + self.elem).ok_or_else(oob)?;
                    dst.get_mut(d0..d0 + self.elem)
                        .ok_or_else(oob)?
                        .copy_from_slice(from);
                }
            }
            // Advance the odometer over the outer dimensions.
            let mut k = last;
            loop {
                if k == 0 {
                    return Ok(());
                }
                k -= 1;
                idx[k] += 1;
                if idx[k] < self.counts[k] {
                    break;
                }
                idx[k] = 0;
            }
        }
    }
}

/// A piece of a 1-D range read: `len` elements at `in_chunk` of chunk `chunk`, going to
/// element `out` of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangePiece {
    /// Chunk index.
    pub chunk: u64,
    /// Offset inside the chunk (elements).
    pub in_chunk: u64,
    /// Offset in the output (elements).
    pub out: u64,
    /// Number of elements.
    pub len: u64,
}

/// Pieces of a range read grouped by chunk index.
pub type ChunkGroups = Vec<(u64, Vec<RangePiece>)>;

/// Split 1-D element ranges (outputs concatenated in order) into per-chunk pieces, grouped by
/// chunk in ascending chunk order. Returns the groups and the total number of elements.
pub fn range_pieces(
    dim: u64,
    chunk: u64,
    ranges: &[std::ops::Range<u64>],
) -> Result<(ChunkGroups, u64)> {
    let mut by_chunk: std::collections::BTreeMap<u64, Vec<RangePiece>> = Default::default();
    let mut out = 0u64;
    for r in ranges {
        if r.start > r.end || r.end > dim {
            return Err(Error::Usage(format!(
                "range {}..{} outside a dataset of {dim} elements",
                r.start, r.end
            )));
        }
        let mut p = r.start;
        while p < r.end {
            let ch = p / chunk;
            let in_chunk = p - ch * chunk;
            let len = (chunk - in_chunk).min(r.end - p);
            by_chunk.entry(ch).or_default().push(RangePiece {
                chunk: ch,
                in_chunk,
                out,
                len,
            });
            p += len;
            out += len;
        }
    }
    Ok((by_chunk.into_iter().collect(), out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_selection() {
        let p = dim_pieces(3, 5, 2, 4); // 3,5,7,9,11
        assert_eq!(
            p,
            vec![
                DimPiece {
                    chunk: 0,
                    first: 3,
                    count: 1,
                    out_start: 0
                },
                DimPiece {
                    chunk: 1,
                    first: 1,
                    count: 2,
                    out_start: 1
                },
                DimPiece {
                    chunk: 2,
                    first: 1,
                    count: 2,
                    out_start: 3
                },
            ]
        );
        assert_eq!(dim_pieces(0, 0, 1, 4), vec![]);
        let p = dim_pieces(0, 3, 10, 4);
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn block_copy_2d() {
        // 3x4 source, copy rows 1..3, cols 1..3 into a 2x2 destination.
        let src: Vec<u8> = (0..12).collect();
        let mut dst = vec![0u8; 4];
        BlockCopy {
            elem: 1,
            counts: &[2, 2],
            src_base: 5,
            src_strides: &[4, 1],
            dst_base: 0,
            dst_strides: &[2, 1],
        }
        .run(&src, &mut dst)
        .unwrap();
        assert_eq!(dst, vec![5, 6, 9, 10]);
        let mut small = vec![0u8; 3];
        assert!(BlockCopy {
            elem: 1,
            counts: &[2, 2],
            src_base: 5,
            src_strides: &[4, 1],
            dst_base: 0,
            dst_strides: &[2, 1],
        }
        .run(&src, &mut small)
        .is_err());
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn ranges_group_by_chunk() {
        let (g, n) = range_pieces(100, 10, &[5..25, 0..3]).unwrap();
        assert_eq!(n, 23);
        assert_eq!(g.len(), 3);
        assert_eq!(g[0].0, 0);
        assert_eq!(g[0].1.len(), 2);
        assert!(range_pieces(100, 10, &[5..101]).is_err());
    }
}
