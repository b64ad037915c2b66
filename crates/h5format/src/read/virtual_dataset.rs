//! Virtual datasets (layout class 3): the *Global Heap Block for Virtual Dataset* (spec
//! III.E) and reading through its mappings.
//!
//! The layout message names a global heap object listing mappings. Each maps a selection of
//! a *source* dataset (a file name — `.` for this file — and a dataset path) onto a selection
//! of the virtual dataset; elements no mapping covers read as the fill value, and so do
//! mappings whose source file or dataset does not exist (as in libhdf5). Later mappings
//! overwrite earlier ones where they overlap.
//!
//! Heap object layout: version (1 byte, 0 or 1), number of entries (a *length*), then per
//! entry [version 1: flags (1 byte): bit 0 the file name, bit 1 the dataset name repeat an
//! earlier entry's (given by its index, a *length*), bit 2 the source is this file], the
//! source file name and dataset name (NUL-terminated), the source selection, the virtual
//! selection; then a lookup3 checksum of everything before.
//!
//! Selections are serialized as libhdf5's `H5S_SELECT_SERIALIZE`: type (4 bytes: 0 none,
//! 1 points, 2 hyperslab, 3 all), version (4 bytes), then per type and version the element
//! coordinates or hyperslab blocks (see [`Selection::parse`]).
//!
//! Source files are opened (by `file/dataset/virtual_source.rs`) only through the file's
//! [`ExternalAccess`](crate::read::external::ExternalAccess) policy: a source outside the
//! allowed directories is an error naming it.

use std::ops::Range;

use crate::cursor::{Cursor, Sizes};
use crate::error::{Error, Result};

/// `H5S_UNLIMITED` as a serialized count or block.
const UNLIMITED: u64 = u64::MAX;

/// A dataspace selection as serialized in a mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// No element.
    None,
    /// Every element.
    All,
    /// Elements by coordinates, in this order.
    Points(Vec<Vec<u64>>),
    /// The union of blocks, each `(first, last)` coordinates (inclusive), read in row-major
    /// order.
    Blocks(Vec<(Vec<u64>, Vec<u64>)>),
    /// A regular hyperslab: per dimension start, stride, count, block.
    Regular {
        /// First element of the first block.
        start: Vec<u64>,
        /// Distance between block starts.
        stride: Vec<u64>,
        /// Number of blocks.
        count: Vec<u64>,
        /// Block extent.
        block: Vec<u64>,
    },
}

/// One mapping of the virtual dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The source file name as stored (`.`: this file).
    pub file: String,
    /// The source dataset's path.
    pub dataset: String,
    /// Selected elements of the source dataset.
    pub source: Selection,
    /// Where they go in the virtual dataset.
    pub target: Selection,
}

impl Selection {
    /// Parse one serialized selection.
    pub fn parse(c: &mut Cursor<'_>) -> Result<Self> {
        let kind = c.u32()?;
        let version = c.u32()?;
        match kind {
            0 | 3 => {
                if version != 1 {
                    return Err(c.err(format!("selection version {version}")));
                }
                c.skip(8)?; // reserved, length (0)
                Ok(if kind == 0 {
                    Selection::None
                } else {
                    Selection::All
                })
            }
            1 => {
                let width = match version {
                    1 => {
                        c.skip(8)?; // reserved, length
                        4
                    }
                    2 => enc_width(c)?,
                    v => return Err(c.err(format!("point selection version {v}"))),
                };
                let rank = rank(c)?;
                let n = count_fits(c, width, rank, 1)?;
                let mut points = Vec::with_capacity(n);
                for _ in 0..n {
                    points.push(coords(c, width, rank)?);
                }
                Ok(Selection::Points(points))
            }
            2 => {
                let (regular, width) = match version {
                    1 => {
                        c.skip(8)?; // reserved, length
                        (false, 4)
                    }
                    2 => {
                        let flags = c.u8()?;
                        c.skip(4)?; // length
                        (flags & 1 != 0, 8)
                    }
                    3 => {
                        let flags = c.u8()?;
                        (flags & 1 != 0, enc_width(c)?)
                    }
                    v => return Err(c.err(format!("hyperslab selection version {v}"))),
                };
                let rank = rank(c)?;
                if regular {
                    let mut v = [vec![], vec![], vec![], vec![]];
                    for _ in 0..rank {
                        for x in v.iter_mut() {
                            x.push(wide(c, width)?);
                        }
                    }
                    let [start, stride, count, block] = v;
                    return Ok(Selection::Regular {
                        start,
                        stride,
                        count,
                        block,
                    });
                }
                let n = count_fits(c, width, rank, 2)?;
                let mut blocks = Vec::with_capacity(n);
                for _ in 0..n {
                    let first = coords(c, width, rank)?;
                    let last = coords(c, width, rank)?;
                    blocks.push((first, last));
                }
                Ok(Selection::Blocks(blocks))
            }
            k => Err(c.err(format!("unknown selection type {k}"))),
        }
    }

    /// The selected elements of a dataspace of shape `dims` as sorted, disjoint ranges of
    /// row-major element indices (points: in their order, one range each). At most `limit`
    /// ranges are produced (an error past it).
    pub fn ranges(&self, dims: &[u64], limit: usize) -> Result<Vec<Range<u64>>> {
        let total: u64 = dims.iter().product();
        let bad = |d: String| Error::Usage(format!("virtual dataset selection: {d}"));
        let check_rank = |r: usize| {
            if r != dims.len() {
                Err(bad(format!(
                    "rank {r} for a dataspace of rank {}",
                    dims.len()
                )))
            } else {
                Ok(())
            }
        };
        match self {
            Selection::None => Ok(Vec::new()),
            Selection::All => Ok(if total == 0 { vec![] } else { vec![0..total] }),
            Selection::Points(points) => {
                let mut out = Vec::with_capacity(points.len().min(limit));
                for p in points {
                    check_rank(p.len())?;
                    let i = flat(dims, p).ok_or_else(|| bad(format!("point {p:?} outside")))?;
                    if out.len() >= limit {
                        return Err(bad("too many points".into()));
                    }
                    out.push(i..i + 1);
                }
                Ok(out)
            }
            Selection::Blocks(blocks) => {
                let mut out = Vec::new();
                for (first, last) in blocks {
                    check_rank(first.len())?;
                    block_ranges(dims, first, last, &mut out, limit)?;
                }
                Ok(merge(out))
            }
            Selection::Regular {
                start,
                stride,
                count,
                block,
            } => {
                check_rank(start.len())?;
                if count.contains(&UNLIMITED) || block.contains(&UNLIMITED) {
                    return Err(Error::unsupported("virtual dataset", "unlimited mappings"));
                }
                // Per dimension the selected intervals; blocks are their product.
                let mut per_dim: Vec<Vec<(u64, u64)>> = Vec::with_capacity(dims.len());
                for d in 0..dims.len() {
                    if block[d] == 0 || count[d] == 0 {
                        return Ok(Vec::new());
                    }
                    let n = usize::try_from(count[d])
                        .ok()
                        .filter(|&n| n <= limit)
                        .ok_or_else(|| bad(format!("count {} too large", count[d])))?;
                    let mut v = Vec::with_capacity(n);
                    for i in 0..count[d] {
                        let s = stride[d]
                            .checked_mul(i)
                            .and_then(|o| o.checked_add(start[d]))
                            .ok_or_else(|| bad("hyperslab overflows".into()))?;
                        let e = s
                            .checked_add(block[d] - 1)
                            .ok_or_else(|| bad("hyperslab overflows".into()))?;
                        v.push((s, e));
                    }
                    per_dim.push(v);
                }
                let mut out = Vec::new();
                let mut idx = vec![0usize; dims.len()];
                'all: loop {
                    let first: Vec<u64> = idx
                        .iter()
                        .enumerate()
                        .map(|(d, &i)| per_dim[d][i].0)
                        .collect();
                    let last: Vec<u64> = idx
                        .iter()
                        .enumerate()
                        .map(|(d, &i)| per_dim[d][i].1)
                        .collect();
                    block_ranges(dims, &first, &last, &mut out, limit)?;
                    for d in (0..dims.len()).rev() {
                        idx[d] += 1;
                        if idx[d] < per_dim[d].len() {
                            continue 'all;
                        }
                        idx[d] = 0;
                    }
                    break;
                }
                Ok(merge(out))
            }
        }
    }
}

fn enc_width(c: &mut Cursor<'_>) -> Result<usize> {
    match c.u8()? {
        w @ (2 | 4 | 8) => Ok(usize::from(w)),
        w => Err(c.err(format!("selection coordinate width {w}"))),
    }
}

fn rank(c: &mut Cursor<'_>) -> Result<usize> {
    match c.u32()? {
        r @ 1..=32 => Ok(r as usize),
        r => Err(c.err(format!("selection of rank {r}"))),
    }
}

/// Read a count of `per` coordinate tuples and check they fit in what remains.
fn count_fits(c: &mut Cursor<'_>, width: usize, rank: usize, per: usize) -> Result<usize> {
    let n = wide(c, width)?;
    let need = (n as u128) * (width * rank * per) as u128;
    if need > c.remaining() as u128 {
        return Err(c.err(format!("{n} selection entries do not fit")));
    }
    Ok(n as usize)
}

fn wide(c: &mut Cursor<'_>, width: usize) -> Result<u64> {
    let v = c.uint(width)?;
    // All ones at any width is H5S_UNLIMITED.
    Ok(if width < 8 && v == (1u64 << (8 * width)) - 1 {
        UNLIMITED
    } else {
        v
    })
}

fn coords(c: &mut Cursor<'_>, width: usize, rank: usize) -> Result<Vec<u64>> {
    (0..rank).map(|_| wide(c, width)).collect()
}

/// Row-major index of `p` in `dims`, if inside.
fn flat(dims: &[u64], p: &[u64]) -> Option<u64> {
    let mut i = 0u64;
    for (&d, &x) in dims.iter().zip(p) {
        if x >= d {
            return None;
        }
        i = i * d + x;
    }
    Some(i)
}

/// Append the row-major ranges of block `first..=last` to `out`.
fn block_ranges(
    dims: &[u64],
    first: &[u64],
    last: &[u64],
    out: &mut Vec<Range<u64>>,
    limit: usize,
) -> Result<()> {
    let bad = |d: String| Error::Usage(format!("virtual dataset selection: {d}"));
    for d in 0..dims.len() {
        if first[d] > last[d] || last[d] >= dims[d] {
            return Err(bad(format!(
                "block {first:?}..={last:?} outside the extent {dims:?}"
            )));
        }
    }
    let r = dims.len();
    let mut p = first.to_vec();
    loop {
        if out.len() >= limit {
            return Err(bad("selection has too many pieces".into()));
        }
        let s = flat(dims, &p).unwrap_or(0);
        out.push(s..s + (last[r - 1] - first[r - 1] + 1));
        // Next row: increment the leading dimensions.
        let mut d = r - 1;
        loop {
            if d == 0 {
                return Ok(());
            }
            d -= 1;
            if p[d] < last[d] {
                p[d] += 1;
                break;
            }
            p[d] = first[d];
        }
    }
}

/// Sort and merge overlapping or touching ranges.
fn merge(mut v: Vec<Range<u64>>) -> Vec<Range<u64>> {
    v.sort_by_key(|r| r.start);
    let mut out: Vec<Range<u64>> = Vec::with_capacity(v.len());
    for r in v {
        match out.last_mut() {
            Some(l) if r.start <= l.end => l.end = l.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// Parse the heap object `bytes` (at file offset `at`, for errors).
pub fn parse_mappings(bytes: &[u8], at: u64, sizes: Sizes) -> Result<Vec<Mapping>> {
    const WHAT: &str = "virtual dataset global heap block";
    if bytes.len() < 4 {
        return Err(Error::malformed(WHAT, at, "shorter than its checksum"));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]);
    let computed = crate::checksum::lookup3(body, 0);
    if stored != computed {
        return Err(Error::Checksum {
            what: WHAT,
            offset: at,
            stored,
            computed,
        });
    }
    let mut c = Cursor::new(body, at, WHAT, sizes);
    let version = c.u8()?;
    if version > 1 {
        return Err(c.err(format!("version {version}")));
    }
    let n = c.length()?;
    // Each entry takes at least two names and two 16-byte selections.
    if n.saturating_mul(34) > c.remaining() as u64 {
        return Err(c.err(format!("{n} mappings do not fit")));
    }
    let mut out: Vec<Mapping> = Vec::with_capacity(n as usize);
    let name = |c: &mut Cursor<'_>| -> Result<String> {
        Ok(String::from_utf8_lossy(c.cstr()?).into_owned())
    };
    for _ in 0..n {
        let flags = if version >= 1 { c.u8()? } else { 0 };
        let earlier = |c: &mut Cursor<'_>, out: &Vec<Mapping>, file: bool| -> Result<String> {
            let i = c.length()?;
            let m = out
                .get(i as usize)
                .ok_or_else(|| c.err(format!("shared name of mapping {i}, not an earlier one")))?;
            Ok(if file {
                m.file.clone()
            } else {
                m.dataset.clone()
            })
        };
        let file = if flags & 4 != 0 {
            ".".to_string()
        } else if flags & 1 != 0 {
            earlier(&mut c, &out, true)?
        } else {
            name(&mut c)?
        };
        let dataset = if flags & 2 != 0 {
            earlier(&mut c, &out, false)?
        } else {
            name(&mut c)?
        };
        let source = Selection::parse(&mut c)?;
        let target = Selection::parse(&mut c)?;
        out.push(Mapping {
            file,
            dataset,
            source,
            target,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_and_block_ranges_are_row_major_and_merged() {
        let dims = [4, 6];
        let reg = Selection::Regular {
            start: vec![1, 0],
            stride: vec![2, 3],
            count: vec![2, 2],
            block: vec![1, 2],
        };
        assert_eq!(
            reg.ranges(&dims, 100).unwrap(),
            vec![6..8, 9..11, 18..20, 21..23]
        );
        let blocks = Selection::Blocks(vec![(vec![0, 2], vec![1, 5]), (vec![0, 0], vec![0, 2])]);
        assert_eq!(blocks.ranges(&dims, 100).unwrap(), vec![0..6, 8..12]);
        assert!(Selection::Blocks(vec![(vec![0, 0], vec![4, 0])])
            .ranges(&dims, 100)
            .is_err());
        assert!(reg.ranges(&dims, 2).is_err());
        let unlimited = Selection::Regular {
            start: vec![0, 0],
            stride: vec![1, 1],
            count: vec![UNLIMITED, 1],
            block: vec![1, 1],
        };
        assert!(unlimited.ranges(&dims, 100).is_err());
    }
}
