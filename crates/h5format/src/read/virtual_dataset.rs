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
        self.ranges_clipped(dims, limit, None)
    }

    /// [`ranges`](Self::ranges) of the selection clipped to `clip = (axis, size)`: only
    /// coordinates below `size` on `axis`. An unlimited regular hyperslab needs its
    /// unlimited axis clipped (libhdf5's `H5S_hyper_clip_unlim`: the blocks starting below
    /// the size, the last one cut).
    pub fn ranges_clipped(
        &self,
        dims: &[u64],
        limit: usize,
        clip: Option<(usize, u64)>,
    ) -> Result<Vec<Range<u64>>> {
        let bad = |d: String| Error::Usage(format!("virtual dataset selection: {d}"));
        let total = dims
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d))
            .ok_or_else(|| bad(format!("extent {dims:?} overflows")))?;
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
            Selection::Points(_) | Selection::Blocks(_) if clip.is_some() => Err(
                Error::unsupported("virtual dataset", "a clipped point or block-list selection"),
            ),
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
                // Per dimension the selected intervals; blocks are their product.
                let mut per_dim: Vec<Vec<(u64, u64)>> = Vec::with_capacity(dims.len());
                for d in 0..dims.len() {
                    let cap = clip.filter(|&(a, _)| a == d).map(|(_, c)| c);
                    let (cnt, blk) = if count[d] == UNLIMITED || block[d] == UNLIMITED {
                        let Some(c) = cap else {
                            return Err(Error::unsupported(
                                "virtual dataset",
                                "an unlimited selection outside an unlimited mapping",
                            ));
                        };
                        clip_diminfo(start[d], stride[d], count[d], block[d], c)
                    } else {
                        (count[d], block[d])
                    };
                    if blk == 0 || cnt == 0 || cap == Some(0) {
                        return Ok(Vec::new());
                    }
                    let n = usize::try_from(cnt)
                        .ok()
                        .filter(|&n| n <= limit)
                        .ok_or_else(|| bad(format!("count {cnt} too large")))?;
                    let mut v = Vec::with_capacity(n);
                    for i in 0..cnt {
                        let s = stride[d]
                            .checked_mul(i)
                            .and_then(|o| o.checked_add(start[d]))
                            .ok_or_else(|| bad("hyperslab overflows".into()))?;
                        let mut e = s
                            .checked_add(blk - 1)
                            .ok_or_else(|| bad("hyperslab overflows".into()))?;
                        if let Some(c) = cap {
                            if s >= c {
                                break;
                            }
                            e = e.min(c - 1);
                        }
                        v.push((s, e));
                    }
                    if v.is_empty() {
                        return Ok(Vec::new());
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

/// The unlimited-axis part of a regular hyperslab: start, stride, count, block.
type AxisInfo = (u64, u64, u64, u64);

impl Selection {
    /// The axis in which this selection is unlimited (a regular hyperslab with an
    /// `H5S_UNLIMITED` count or block there), if any.
    pub fn unlimited_axis(&self) -> Option<usize> {
        match self {
            Selection::Regular { count, block, .. } => count
                .iter()
                .zip(block)
                .position(|(&c, &b)| c == UNLIMITED || b == UNLIMITED),
            _ => None,
        }
    }

    fn axis(&self, d: usize) -> Option<AxisInfo> {
        match self {
            Selection::Regular {
                start,
                stride,
                count,
                block,
            } => Some((
                *start.get(d)?,
                *stride.get(d)?,
                *count.get(d)?,
                *block.get(d)?,
            )),
            _ => None,
        }
    }

    /// How many positions along its unlimited axis this selection holds below `size`
    /// (libhdf5's `H5S_hyper_get_clip_extent_match`, first half).
    pub fn slices_below(&self, size: u64) -> u64 {
        let Some((start, stride, count, block)) = self.unlimited_axis().and_then(|d| self.axis(d))
        else {
            return 0;
        };
        let (c, b) = clip_diminfo(start, stride, count, block, size);
        if b == 0 || c == 0 {
            0
        } else if c == 1 {
            b
        } else {
            let span = stride.saturating_mul(c - 1).saturating_add(b);
            let avail = size - start;
            b.saturating_mul(c)
                .saturating_sub(span.saturating_sub(avail))
        }
    }

    /// The extent its unlimited axis must have for this selection to hold `slices` positions
    /// there, ending at the end of the last block (libhdf5's
    /// `H5S__hyper_get_clip_extent_real` without the trailing gap).
    pub fn extent_for_slices(&self, slices: u64) -> u64 {
        let Some((start, stride, _, block)) = self.unlimited_axis().and_then(|d| self.axis(d))
        else {
            return 0;
        };
        if slices == 0 {
            0
        } else if block == UNLIMITED || block == stride {
            start.saturating_add(slices)
        } else if let Some(n) = slices.checked_div(block) {
            let rem = slices - n * block;
            if rem > 0 {
                start
                    .saturating_add(n.saturating_mul(stride))
                    .saturating_add(rem)
            } else {
                start
                    .saturating_add((n - 1).saturating_mul(stride))
                    .saturating_add(block)
            }
        } else {
            start // block 0: nothing selected
        }
    }

    /// Block `j` of a selection with an unlimited count (a `%b` mapping's virtual part for
    /// source number `j`), and where that block starts and ends (exclusive) on the
    /// unlimited axis.
    pub fn unlimited_block(&self, j: u64) -> Result<(Selection, u64, u64)> {
        let refuse = || {
            Error::unsupported(
                "virtual dataset",
                "a printf-named mapping whose virtual selection has no unlimited count",
            )
        };
        let d = self.unlimited_axis().ok_or_else(refuse)?;
        let Selection::Regular {
            start,
            stride,
            count,
            block,
        } = self
        else {
            return Err(refuse());
        };
        if count[d] != UNLIMITED || block[d] == UNLIMITED {
            return Err(refuse());
        }
        let s = stride[d]
            .checked_mul(j)
            .and_then(|o| o.checked_add(start[d]))
            .filter(|s| s.checked_add(block[d]).is_some())
            .ok_or_else(|| Error::Usage("virtual dataset selection: block overflows".into()))?;
        let mut start = start.clone();
        let mut count = count.clone();
        start[d] = s;
        count[d] = 1;
        let end = s + block[d];
        Ok((
            Selection::Regular {
                start,
                stride: stride.clone(),
                count,
                block: block.clone(),
            },
            s,
            end,
        ))
    }

    /// One past the largest selected coordinate per axis (`None` for no element); unlimited
    /// axes are left out (`0`). `dims`: the extent an `All` selection covers.
    pub fn bounds_end(&self, dims: &[u64]) -> Option<Vec<u64>> {
        match self {
            Selection::None => None,
            Selection::All => Some(dims.to_vec()),
            Selection::Points(points) => {
                let rank = points.first()?.len();
                Some(
                    (0..rank)
                        .map(|d| {
                            points
                                .iter()
                                .map(|p| p[d].saturating_add(1))
                                .max()
                                .unwrap_or(0)
                        })
                        .collect(),
                )
            }
            Selection::Blocks(blocks) => {
                let rank = blocks.first()?.1.len();
                Some(
                    (0..rank)
                        .map(|d| {
                            blocks
                                .iter()
                                .map(|b| b.1[d].saturating_add(1))
                                .max()
                                .unwrap_or(0)
                        })
                        .collect(),
                )
            }
            Selection::Regular {
                start,
                stride,
                count,
                block,
            } => Some(
                (0..start.len())
                    .map(|d| {
                        let none = [0, UNLIMITED];
                        if none.contains(&count[d]) || none.contains(&block[d]) {
                            0 // unlimited (left out) or nothing selected
                        } else {
                            start[d]
                                .saturating_add(stride[d].saturating_mul(count[d] - 1))
                                .saturating_add(block[d])
                        }
                    })
                    .collect(),
            ),
        }
    }
}

/// libhdf5's `H5S__hyper_get_clip_diminfo`: the count and block of an unlimited axis
/// clipped to extent `size`.
fn clip_diminfo(start: u64, stride: u64, count: u64, block: u64, size: u64) -> (u64, u64) {
    if start >= size {
        if block == UNLIMITED {
            (count, 0)
        } else {
            (0, block)
        }
    } else if block == UNLIMITED || block == stride {
        (1, size - start)
    } else if stride == 0 {
        (1, block)
    } else {
        ((size - start).div_ceil(stride), block)
    }
}

/// A source file or dataset name with libhdf5's printf substitutions: `%b` is the block
/// number `block` (an error when `None`: only unlimited mappings have blocks), `%%` a `%`;
/// any other `%` is an error (as libhdf5 refuses it).
pub fn source_name(name: &str, block: Option<u64>) -> Result<String> {
    let bad = |d: &str| Error::Usage(format!("virtual dataset source name {name:?}: {d}"));
    let mut out = String::with_capacity(name.len());
    let mut it = name.chars();
    while let Some(ch) = it.next() {
        if ch != '%' {
            out.push(ch);
            continue;
        }
        match it.next() {
            Some('%') => out.push('%'),
            Some('b') => match block {
                Some(b) => out.push_str(&b.to_string()),
                None => return Err(bad("%b outside an unlimited mapping")),
            },
            _ => return Err(bad("invalid format specifier")),
        }
    }
    Ok(out)
}

/// Whether a stored source name has a `%b` block specifier (a printf-named mapping).
pub fn has_block_number(name: &str) -> bool {
    let mut it = name.chars();
    while let Some(ch) = it.next() {
        if ch == '%' && it.next() == Some('b') {
            return true;
        }
    }
    false
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

    #[test]
    fn unlimited_selections_clip_as_libhdf5() {
        // Blocks of 2 every 3 from 1, unlimited count.
        let v = Selection::Regular {
            start: vec![1],
            stride: vec![3],
            count: vec![UNLIMITED],
            block: vec![2],
        };
        assert_eq!(v.unlimited_axis(), Some(0));
        assert_eq!(
            v.ranges_clipped(&[9], 100, Some((0, 9))).unwrap(),
            vec![1..3, 4..6, 7..9]
        );
        assert_eq!(
            v.ranges_clipped(&[8], 100, Some((0, 8))).unwrap(),
            vec![1..3, 4..6, 7..8]
        );
        assert_eq!(v.slices_below(8), 5);
        assert_eq!(v.slices_below(1), 0);
        // 12 source elements fill six blocks: extent 18; 5 end inside the third block.
        assert_eq!(v.extent_for_slices(12), 18);
        assert_eq!(v.extent_for_slices(5), 8);
        assert_eq!(v.extent_for_slices(0), 0);
        let (b, start, end) = v.unlimited_block(2).unwrap();
        assert_eq!((start, end), (7, 9));
        assert_eq!(b.ranges(&[9], 10).unwrap(), vec![7..9]);
        // An unlimited block: everything from the start.
        let all = Selection::Regular {
            start: vec![2, 0],
            stride: vec![1, 1],
            count: vec![1, 1],
            block: vec![UNLIMITED, 3],
        };
        assert_eq!(all.slices_below(7), 5);
        assert_eq!(all.extent_for_slices(5), 7);
        assert_eq!(all.bounds_end(&[9, 3]), Some(vec![0, 3]));
        assert!(all.unlimited_block(0).is_err());
    }

    #[test]
    fn printf_names_substitute_blocks_and_percent() {
        assert_eq!(
            source_name("f%b_%%_%b.h5", Some(12)).unwrap(),
            "f12_%_12.h5"
        );
        assert_eq!(source_name("plain%%", None).unwrap(), "plain%");
        assert!(source_name("f%b", None).is_err());
        assert!(source_name("f%d", Some(1)).is_err());
        assert!(source_name("f%", Some(1)).is_err());
        assert!(has_block_number("a%b"));
        assert!(!has_block_number("a%%b"));
    }
}
