//! The selection engine: reads only the needed parts of indptr/indices/data.
//!
//! Both axes are handled by one algorithm on the (major, minor) view of the storage:
//! 1. the distinct sorted major positions of the selection are computed;
//! 2. only the indptr elements `r` and `r+1` of these positions are read (coalesced ranges);
//! 3. whole rows (every minor position): contiguous rows are one read per array
//!    (`contiguous`), any other row selection hands the rows' entry ranges, in the requested
//!    order, to one read per array straight into the result (`rows`);
//! 4. otherwise the union of their entry extents is cut into blocks of about `block_elems` entries;
//!    blocks are processed in parallel waves (rayon): each reads its `indices` ranges
//!    (coalesced when closer than `coalesce_gap`), maps them through the minor selection, and
//!    reads `data` only for the entries that are hits (all of them when the minor axis is
//!    whole);
//! 5. the block outputs are appended in distinct-row order, then reordered (duplicated,
//!    reversed, permuted) to the requested order when the selection is not increasing.
//!
//! Memory: the output and the per-row extents of the distinct selected rows; a minor
//! selection adds one wave of blocks, and with a non-increasing major selection one more
//! transient copy of the output.

use crate::error::{Error, Result};
use crate::selection::Selection;
use crate::source::Array1;
use crate::types::ReadOptions;
use crate::values::{ElemType, Values};
use rayon::prelude::*;
use std::ops::Range;

mod rows;

/// Largest block (entries) when the minor axis is selected.
const MINOR_BLOCK_ELEMS: u64 = 1 << 16;

/// The arrays of a sparse matrix seen as (major, minor).
pub(crate) struct Store<'a> {
    pub indptr: &'a dyn Array1,
    pub indices: &'a dyn Array1,
    pub data: &'a dyn Array1,
    pub minor_len: u64,
    pub opts: &'a ReadOptions,
}

/// The compressed output along the major axis of the store, in the file's integer types
/// (widened to `i64` only where a result value cannot be represented: see
/// [`ElemType::index_for`]).
pub(crate) struct Compressed {
    pub indptr: Values,
    pub indices: Values,
    pub data: Values,
}

fn too_large(what: &'static str, n: u64) -> Error {
    Error::TooLarge { what, requested: n }
}

fn to_usize(n: u64, what: &'static str) -> Result<usize> {
    usize::try_from(n).map_err(|_| too_large(what, n))
}

fn try_vec<T>(n: usize, what: &'static str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| too_large(what, n as u64))?;
    Ok(v)
}

/// The distinct selected major positions, sorted.
enum Distinct {
    Range(Range<u64>),
    List(Vec<u64>),
}

impl Distinct {
    fn len(&self) -> usize {
        match self {
            Distinct::Range(r) => (r.end - r.start) as usize,
            Distinct::List(v) => v.len(),
        }
    }
    fn get(&self, i: usize) -> u64 {
        match self {
            Distinct::Range(r) => r.start + i as u64,
            Distinct::List(v) => v.get(i).copied().unwrap_or(0),
        }
    }
}

/// Merge sorted, non-overlapping ranges whose gap is at most `gap`.
/// Returns the merged reads and, for each input range, its offset in the concatenated reads.
pub(crate) fn coalesce(needed: &[Range<u64>], gap: u64) -> (Vec<Range<u64>>, Vec<usize>) {
    let mut reads: Vec<Range<u64>> = Vec::new();
    let mut offsets = Vec::with_capacity(needed.len());
    let mut total: u64 = 0; // length of the reads before the last one
    for r in needed {
        match reads.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(gap) => {
                offsets.push((total + (r.start - last.start)) as usize);
                last.end = last.end.max(r.end);
            }
            _ => {
                if let Some(last) = reads.last() {
                    total += last.end - last.start;
                }
                offsets.push(total as usize);
                reads.push(r.clone());
            }
        }
    }
    (reads, offsets)
}

/// How minor positions map to output positions.
enum MinorMap {
    All,
    /// Step 1: positions `start..start+len` map to `0..len`.
    Forward {
        start: u64,
        len: u64,
    },
    /// Step -1: positions `start, start-1, ...` (len of them) map to `0..len`.
    Backward {
        start: u64,
        len: u64,
    },
    Range {
        start: i128,
        step: i128,
        len: i128,
    },
    /// `targets[offsets[c]..offsets[c+1]]` are the output positions of minor position `c`.
    Table {
        offsets: Vec<usize>,
        targets: Vec<usize>,
    },
    /// (minor position, output position) sorted: for a list much shorter than the axis (whose
    /// length comes from the file and must not size an allocation).
    Sorted(Vec<(u64, usize)>),
}

impl MinorMap {
    fn new(sel: &Selection, minor_len: u64) -> Result<MinorMap> {
        if sel.is_all(minor_len) {
            return Ok(MinorMap::All);
        }
        match sel {
            Selection::Range {
                start,
                step: 1,
                len,
            } => Ok(MinorMap::Forward {
                start: *start,
                len: *len,
            }),
            Selection::Range {
                start,
                step: -1,
                len,
            } => Ok(MinorMap::Backward {
                start: *start,
                len: *len,
            }),
            Selection::Range { start, step, len } => Ok(MinorMap::Range {
                start: i128::from(*start),
                step: i128::from(*step),
                len: i128::from(*len),
            }),
            Selection::List(v) if minor_len > 8 * v.len() as u64 + (1 << 16) => {
                let mut pairs: Vec<(u64, usize)> = try_vec(v.len(), "minor selection")?;
                pairs.extend(v.iter().enumerate().map(|(k, &p)| (p, k)));
                pairs.sort_unstable();
                Ok(MinorMap::Sorted(pairs))
            }
            Selection::List(v) => {
                let n = to_usize(minor_len, "minor index table")?;
                let mut offsets: Vec<usize> = try_vec(n.saturating_add(1), "minor index table")?;
                offsets.resize(n + 1, 0);
                for &p in v {
                    if let Some(o) = offsets.get_mut(p as usize + 1) {
                        *o += 1;
                    }
                }
                for i in 0..n {
                    offsets[i + 1] += offsets[i];
                }
                let mut fill = offsets.clone();
                let mut targets = vec![0usize; v.len()];
                for (k, &p) in v.iter().enumerate() {
                    if let Some(f) = fill.get_mut(p as usize) {
                        if let Some(t) = targets.get_mut(*f) {
                            *t = k;
                        }
                        *f += 1;
                    }
                }
                Ok(MinorMap::Table { offsets, targets })
            }
        }
    }

    /// Call `f` with each output position of minor position `c` (increasing).
    #[inline]
    fn each(&self, c: u64, mut f: impl FnMut(usize)) {
        match self {
            MinorMap::All => f(c as usize),
            MinorMap::Forward { start, len } => {
                let k = c.wrapping_sub(*start);
                if k < *len {
                    f(k as usize)
                }
            }
            MinorMap::Backward { start, len } => {
                let k = start.wrapping_sub(c);
                if k < *len {
                    f(k as usize)
                }
            }
            MinorMap::Range { start, step, len } => {
                let d = i128::from(c) - start;
                if d % step == 0 {
                    let k = d / step;
                    if (0..*len).contains(&k) {
                        f(k as usize)
                    }
                }
            }
            MinorMap::Sorted(pairs) => {
                let first = pairs.partition_point(|&(p, _)| p < c);
                for &(p, k) in &pairs[first..] {
                    if p != c {
                        break;
                    }
                    f(k);
                }
            }
            MinorMap::Table { offsets, targets } => {
                let c = c as usize;
                if let (Some(&a), Some(&b)) = (offsets.get(c), offsets.get(c + 1)) {
                    if let Some(ts) = targets.get(a..b) {
                        ts.iter().for_each(|&t| f(t));
                    }
                }
            }
        }
    }
}

/// A block: distinct rows `rows`, entries clipped to `clip`.
struct Block {
    rows: Range<usize>,
    clip: Range<u64>,
}

/// What a block produces: counts for its rows, then its entries in order.
struct BlockOut {
    counts: Vec<usize>,
    indices: Values,
    data: Values,
}

impl Store<'_> {
    /// Select `major` positions (in order) and `minor` positions.
    pub fn select(&self, major: &Selection, minor: &Selection) -> Result<Compressed> {
        let distinct = match major.as_range() {
            Some(r) => Distinct::Range(r),
            None if major.is_increasing() => Distinct::List(major.iter().collect()),
            None => {
                let mut v: Vec<u64> = try_vec(major.len() as usize, "row selection")?;
                v.extend(major.iter());
                v.sort_unstable();
                v.dedup();
                Distinct::List(v)
            }
        };
        let (lo, hi) = self.extents(&distinct)?;
        let map = MinorMap::new(minor, self.minor_len)?;
        // Result types: the file's, unless a result value does not fit.
        let index_elem = match map {
            MinorMap::All => self.indices.elem(),
            _ => self.indices.elem().index_for(minor.len().saturating_sub(1)),
        };
        if let (Distinct::Range(_), MinorMap::All) = (&distinct, &map) {
            if major.is_increasing() {
                return self.contiguous(&lo, &hi);
            }
        }
        if let MinorMap::All = map {
            return self.whole_rows(major, &distinct, &lo, &hi);
        }
        let (counts, indices, data) = self.read_blocks(&lo, &hi, &map, index_elem)?;
        drop((lo, hi));
        // Reorder into the requested order when needed.
        if major.is_increasing() {
            let indptr = self.indptr_of(counts.iter().copied(), counts.len())?;
            return Ok(Compressed {
                indptr,
                indices,
                data,
            });
        }
        let Distinct::List(dl) = &distinct else {
            return Err(Error::Usage(
                "internal: range selection not increasing".into(),
            ));
        };
        let mut starts = try_vec(counts.len() + 1, "indptr")?;
        starts.push(0usize);
        let mut acc = 0usize;
        for &c in &counts {
            acc += c;
            starts.push(acc);
        }
        let n_out = major.len() as usize;
        let mut pieces: Vec<Range<usize>> = try_vec(n_out, "row selection")?;
        let mut total = 0usize;
        for p in major.iter() {
            let d = dl
                .binary_search(&p)
                .map_err(|_| Error::Usage("internal: row not found".into()))?;
            let (a, b) = (starts[d], starts[d + 1]);
            total = total
                .checked_add(b - a)
                .ok_or(too_large("result", u64::MAX))?;
            pieces.push(a..b);
        }
        let indptr = self.indptr_of(pieces.iter().map(|r| r.end - r.start), n_out)?;
        let out_idx = indices.gather_ranges(pieces.iter().cloned(), total)?;
        drop(indices);
        let out_data = data.gather_ranges(pieces, total)?;
        Ok(Compressed {
            indptr,
            indices: out_idx,
            data: out_data,
        })
    }

    /// The result indptr for row entry counts `counts` (`n` of them), in the file's indptr
    /// type when the total fits.
    fn indptr_of(&self, counts: impl Iterator<Item = usize>, n: usize) -> Result<Values> {
        let mut offsets: Vec<u64> = try_vec(n + 1, "indptr")?;
        offsets.push(0);
        let mut acc = 0u64;
        for c in counts {
            acc += c as u64;
            offsets.push(acc);
        }
        Ok(Values::from_positions(self.indptr.elem(), &offsets))
    }

    /// Contiguous rows, every column: the entries form one stored range, read straight into
    /// the result in the file's types (one read per array, no block copies).
    fn contiguous(&self, lo: &[u64], hi: &[u64]) -> Result<Compressed> {
        let (a, b) = match (lo.first(), hi.last()) {
            (Some(&a), Some(&b)) => (a, b),
            _ => (0, 0),
        };
        let offsets: Vec<u64> = std::iter::once(0)
            .chain(hi.iter().map(|&h| h - a))
            .collect();
        let indptr = Values::from_positions(self.indptr.elem(), &offsets);
        if a == b {
            return Ok(Compressed {
                indptr,
                indices: Values::empty(self.indices.elem()),
                data: Values::empty(self.data.elem()),
            });
        }
        // Both arrays at once: small reads run on the calling thread inside each, so this
        // is what overlaps them.
        let (indices, data) = rayon::join(
            || self.indices.read_ranges_values(&[a..b]),
            || self.data.read_ranges_values(&[a..b]),
        );
        let (indices, data) = (indices?, data?);
        self.check_indices(&indices, a)?;
        if indices.len() as u64 != b - a || data.len() as u64 != b - a {
            return Err(Error::Usage("storage returned too few entries".into()));
        }
        Ok(Compressed {
            indptr,
            indices,
            data,
        })
    }

    /// Every stored index must be a position on the minor axis; `first` is the entry position
    /// of `indices[0]` (for the error).
    fn check_indices(&self, indices: &Values, first: u64) -> Result<()> {
        match indices.first_outside(self.minor_len) {
            None => Ok(()),
            Some(k) => {
                let shown = indices
                    .get_f64(k)
                    .map_or_else(|| "?".to_string(), |v| format!("{v}"));
                Err(Error::corrupt(
                    "indices",
                    first + k as u64,
                    format!("index {shown} outside 0..{}", self.minor_len),
                ))
            }
        }
    }

    /// Read the indptr elements needed for `distinct` rows: their (start, end) extents,
    /// validated (non-decreasing, within nnz).
    fn extents(&self, distinct: &Distinct) -> Result<(Vec<u64>, Vec<u64>)> {
        let n = distinct.len();
        let nnz_max = self.indices.len().min(self.data.len());
        let needed: Vec<Range<u64>> = match distinct {
            Distinct::Range(r) if r.start < r.end => vec![r.start..r.end + 1],
            Distinct::Range(_) => vec![],
            Distinct::List(v) => {
                let mut rs: Vec<Range<u64>> = try_vec(v.len(), "indptr ranges")?;
                for &r in v {
                    match rs.last_mut() {
                        Some(last) if r <= last.end => last.end = last.end.max(r + 2),
                        _ => rs.push(r..r + 2),
                    }
                }
                rs
            }
        };
        let (reads, _) = coalesce(&needed, self.opts.coalesce_gap);
        let buf = if reads.is_empty() {
            vec![]
        } else {
            self.indptr.read_ranges_i64(&reads)?
        };
        let mut lo = try_vec(n, "row extents")?;
        let mut hi = try_vec(n, "row extents")?;
        // Walk the reads to find the buffer position of each needed indptr element.
        let mut ri = 0usize; // current read
        let mut base = 0usize; // buffer offset of reads[ri]
        let mut prev_hi = 0u64;
        let value_at = |row: u64, ri: &mut usize, base: &mut usize| -> Result<u64> {
            while let Some(r) = reads.get(*ri) {
                if row < r.end {
                    break;
                }
                *base += (r.end - r.start) as usize;
                *ri += 1;
            }
            let r = reads
                .get(*ri)
                .ok_or_else(|| Error::Usage("internal: indptr read plan".into()))?;
            let pos = *base + (row - r.start) as usize;
            let v = *buf
                .get(pos)
                .ok_or_else(|| Error::Usage("internal: short indptr read".into()))?;
            u64::try_from(v)
                .map_err(|_| Error::corrupt("indptr", row, format!("negative offset {v}")))
        };
        for i in 0..n {
            let r = distinct.get(i);
            let a = value_at(r, &mut ri, &mut base)?;
            let b = value_at(r + 1, &mut ri, &mut base)?;
            if b < a {
                return Err(Error::corrupt(
                    "indptr",
                    r + 1,
                    format!("decreases from {a} to {b}"),
                ));
            }
            if b > nnz_max {
                return Err(Error::corrupt(
                    "indptr",
                    r + 1,
                    format!("offset {b} is past the {nnz_max} stored entries"),
                ));
            }
            if a < prev_hi {
                return Err(Error::corrupt(
                    "indptr",
                    r,
                    format!("offset {a} is before an earlier row's end {prev_hi}"),
                ));
            }
            prev_hi = b;
            lo.push(a);
            hi.push(b);
        }
        Ok((lo, hi))
    }

    /// Cut the extents into blocks and process them in parallel waves.
    fn read_blocks(
        &self,
        lo: &[u64],
        hi: &[u64],
        map: &MinorMap,
        index_elem: ElemType,
    ) -> Result<(Vec<usize>, Values, Values)> {
        let n = lo.len();
        let chunk = self.indices.chunk_len().unwrap_or(0);
        // A minor selection streams through `indices`: smaller blocks keep the working set of
        // a wave (decoded chunks + i64 copies) at a few MiB.
        let block_elems = match map {
            MinorMap::All => self.opts.block_elems,
            _ => self.opts.block_elems.min(MINOR_BLOCK_ELEMS),
        };
        let target = block_elems.max(chunk).max(1);
        let mut blocks: Vec<Block> = Vec::new();
        let mut i0 = 0usize;
        let mut acc = 0u64;
        let mut clip_lo = 0u64;
        // Scattered rows: a block also ends once its entries span `span_limit` stored
        // positions (each spanned chunk is decoded), preferably where a new chunk starts so
        // that parallel blocks do not decode the same chunk.
        let span_limit = (4 * chunk).max(target / 4).max(1);
        let mut span: Option<(u64, u64)> = None; // (first, end) stored positions in the block
        for i in 0..n {
            let (a, b) = (lo[i], hi[i]);
            if let Some((first, end)) = span {
                let new_chunk = chunk == 0 || a / chunk > end.saturating_sub(1) / chunk;
                if a < b && i > i0 && a.saturating_sub(first) >= span_limit && new_chunk {
                    blocks.push(Block {
                        rows: i0..i,
                        clip: clip_lo..a,
                    });
                    i0 = i;
                    clip_lo = a;
                    acc = 0;
                    span = None;
                }
            }
            let mut s = a.max(clip_lo);
            while s < b {
                let take = (b - s).min(target - acc);
                let first = span.map_or(s, |(f, _)| f);
                acc += take;
                s += take;
                span = Some((first, s));
                if acc == target {
                    blocks.push(Block {
                        rows: i0..i + 1,
                        clip: clip_lo..s,
                    });
                    i0 = if s < b { i } else { i + 1 };
                    clip_lo = s;
                    acc = 0;
                    span = None;
                }
            }
        }
        if i0 < n {
            blocks.push(Block {
                rows: i0..n,
                clip: clip_lo..u64::MAX,
            });
        }
        let total: u64 = lo.iter().zip(hi).map(|(a, b)| b - a).sum();
        let reserve = if matches!(map, MinorMap::All) {
            to_usize(total, "result")?
        } else {
            0
        };
        if blocks.len() == 1 {
            // One block: its output is the result (no copy into a second buffer).
            let out = self.block(&blocks[0], lo, hi, map, index_elem)?;
            return Ok((out.counts, out.indices, out.data));
        }
        let mut counts = vec![0usize; n];
        let mut indices = Values::try_with_capacity(index_elem, reserve)?;
        let mut data = Values::try_with_capacity(self.data.elem(), reserve)?;
        let wave = if self.opts.parallel {
            rayon::current_num_threads().max(1) * 2
        } else {
            1
        };
        for group in blocks.chunks(wave) {
            let outs: Vec<Result<BlockOut>> = if group.len() > 1 {
                group
                    .par_iter()
                    .map(|b| self.block(b, lo, hi, map, index_elem))
                    .collect()
            } else {
                group
                    .iter()
                    .map(|b| self.block(b, lo, hi, map, index_elem))
                    .collect()
            };
            for (b, out) in group.iter().zip(outs) {
                let out = out?;
                for (c, k) in counts[b.rows.clone()].iter_mut().zip(out.counts) {
                    *c += k;
                }
                indices.append(&out.indices)?;
                data.append(&out.data)?;
            }
        }
        Ok((counts, indices, data))
    }

    /// Process one block.
    fn block(
        &self,
        b: &Block,
        lo: &[u64],
        hi: &[u64],
        map: &MinorMap,
        index_elem: ElemType,
    ) -> Result<BlockOut> {
        let (los, his) = (&lo[b.rows.clone()], &hi[b.rows.clone()]);
        let pieces: Vec<Range<u64>> = los
            .iter()
            .zip(his)
            .map(|(&a, &z)| a.max(b.clip.start)..z.min(b.clip.end))
            .collect();
        let needed: Vec<Range<u64>> = pieces.iter().filter(|r| r.start < r.end).cloned().collect();
        let (reads, offsets) = coalesce(&needed, self.opts.coalesce_gap);
        let mut counts = vec![0usize; pieces.len()];
        if let MinorMap::All = map {
            // Every column: indices and data in the file's types, the pieces cut out of
            // the coalesced reads (the reads are the result when they are exactly the pieces).
            let n: usize = needed.iter().map(|r| (r.end - r.start) as usize).sum();
            for (c, p) in counts.iter_mut().zip(&pieces) {
                *c = p.end.saturating_sub(p.start) as usize;
            }
            if reads.is_empty() {
                return Ok(BlockOut {
                    counts,
                    indices: Values::empty(index_elem),
                    data: Values::empty(self.data.elem()),
                });
            }
            let cut = |buf: Values| -> Result<Values> {
                if buf.len() == n {
                    Ok(buf)
                } else {
                    let ranges = needed
                        .iter()
                        .zip(&offsets)
                        .map(|(r, &o)| o..o + (r.end - r.start) as usize);
                    buf.gather_ranges(ranges, n)
                }
            };
            let indices = cut(self.indices.read_ranges_values(&reads)?)?;
            if indices.first_outside(self.minor_len).is_some() {
                // Name the stored position of the culprit.
                let mut k = 0usize;
                for r in &needed {
                    let len = (r.end - r.start) as usize;
                    let part = indices.slice(k..k + len)?;
                    self.check_indices(&part, r.start)?;
                    k += len;
                }
            }
            let data = cut(self.data.read_ranges_values(&reads)?)?;
            return Ok(BlockOut {
                counts,
                indices,
                data,
            });
        }
        let raw = if reads.is_empty() {
            vec![]
        } else {
            self.indices.read_ranges_index(&reads)?
        };
        let minor_len = self.minor_len;
        let check = |v: usize, e: u64| -> Result<u64> {
            Some(v as u64).filter(|&c| c < minor_len).ok_or_else(|| {
                // Negative stored values arrive wrapped: show them as stored.
                let shown = v as i64;
                Error::corrupt(
                    "indices",
                    e,
                    format!("index {shown} outside 0..{minor_len}"),
                )
            })
        };
        let mut out_idx: Vec<u64> = Vec::new();
        // Minor selection: find hits, then read data only there.
        let mut hit_entries: Vec<u64> = Vec::new(); // entry position of each output entry
        let mut k = 0usize;
        for (i, p) in pieces.iter().enumerate() {
            if p.start >= p.end {
                continue;
            }
            let off = offsets[k];
            k += 1;
            let len = (p.end - p.start) as usize;
            let before = out_idx.len();
            for (j, &v) in raw
                .get(off..off + len)
                .ok_or_else(|| Error::Usage("storage returned too few indices".into()))?
                .iter()
                .enumerate()
            {
                let e = p.start + j as u64;
                let c = check(v, e)?;
                map.each(c, |t| {
                    out_idx.push(t as u64);
                    hit_entries.push(e);
                });
            }
            counts[i] = out_idx.len() - before;
        }
        drop(raw);
        // Distinct hit entries as ranges (hit_entries is non-decreasing).
        let mut hit_ranges: Vec<Range<u64>> = Vec::new();
        for &e in &hit_entries {
            match hit_ranges.last_mut() {
                Some(last) if e <= last.end => last.end = last.end.max(e + 1),
                _ => hit_ranges.push(e..e + 1),
            }
        }
        let (dreads, doffs) = coalesce(&hit_ranges, self.opts.coalesce_gap);
        let data = if dreads.is_empty() {
            Values::empty(self.data.elem())
        } else {
            let buf = self.data.read_ranges_values(&dreads)?;
            // Position in buf of each hit entry.
            let mut positions = Vec::with_capacity(hit_entries.len());
            let mut hr = 0usize;
            for &e in &hit_entries {
                while hit_ranges.get(hr).is_some_and(|r| e >= r.end) {
                    hr += 1;
                }
                let r = hit_ranges
                    .get(hr)
                    .ok_or_else(|| Error::Usage("internal: hit plan".into()))?;
                positions.push(doffs[hr] + (e - r.start) as usize);
            }
            buf.gather(&positions)?
        };
        Ok(BlockOut {
            counts,
            indices: Values::from_positions(index_elem, &out_idx),
            data,
        })
    }
}
