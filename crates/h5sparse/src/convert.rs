//! Out-of-core conversion CSR ↔ CSC of a stored matrix (bounded-memory external sort).
//!
//! [`convert`] rewrites a [`SparseDataset`] in the other storage order through a
//! [`SparseWriter`], holding at most about [`ConvertOptions::mem_bytes`] of buffers whatever
//! the matrix size:
//!
//! 1. **Histogram.** `indices` is streamed once (in blocks of whole chunks) to count the
//!    entries of every destination major (grouped by a power of two when the destination axis
//!    is too long for one counter each in the budget).
//! 2. **Buckets.** The destination major axis is cut into consecutive ranges ("buckets") that
//!    each hold at most what the sort budget allows.
//! 3. **Runs.** `indptr`, `indices` and `data` are streamed in source order and every entry is
//!    appended as a fixed-size binary record (destination major relative to its bucket,
//!    destination minor = source major, value bytes) to its bucket's run file in a temporary
//!    directory. Because the source is read in major order, every run file is already sorted
//!    by destination minor. At most [`ConvertOptions::max_open_runs`] buckets are filled per
//!    pass (a matrix needing more buckets is read once per pass).
//! 4. **Merge.** Each bucket, in order, is loaded, counting-sorted (stable) by destination
//!    major and streamed to the writer in blocks of whole majors.
//!
//! A single destination major holding more entries than the sort budget is still loaded
//! whole (its bucket cannot be split).

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::dataset::{Encoding, Format, SparseDataset};
use crate::error::{Error, Result};
use crate::source::Array1;
use crate::values::{ElemType, Values};
use crate::write::{SparseSink, SparseWriter, WriterOptions};

/// Tuning of [`convert`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertOptions {
    /// Memory budget in bytes for the buffers of the conversion (default 256 MiB).
    pub mem_bytes: u64,
    /// Folder in which the temporary run directory is created (default: the system's).
    pub temp_dir: Option<PathBuf>,
    /// Most run files open at once (buckets filled per pass over the source).
    pub max_open_runs: usize,
    /// Encoding of the written group (the storage order is always the source's flipped).
    pub encoding: Encoding,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            mem_bytes: 256 << 20,
            temp_dir: None,
            max_open_runs: 256,
            encoding: Encoding::Anndata,
        }
    }
}

/// What a conversion did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConvertStats {
    /// Number of stored entries converted.
    pub nnz: u64,
    /// Number of buckets (ranges of destination majors sorted in memory one at a time).
    pub buckets: usize,
    /// Number of passes over the source (`ceil(buckets / max_open_runs)`).
    pub passes: usize,
    /// Bytes written to run files.
    pub run_bytes: u64,
    /// Largest number of entries loaded for one bucket.
    pub max_bucket_entries: u64,
    /// Estimated peak of the bytes held by the conversion's own buffers.
    pub peak_held_bytes: u64,
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Usage(format!("{what} {}: {e}", path.display()))
}

/// Bytes of one stored value in a run record.
fn value_bytes(elem: ElemType) -> usize {
    match elem.value_type() {
        ElemType::I8 | ElemType::U8 | ElemType::Bool => 1,
        ElemType::I16 | ElemType::U16 => 2,
        ElemType::I32 | ElemType::U32 | ElemType::F32 | ElemType::F16 => 4,
        ElemType::I64 | ElemType::U64 | ElemType::F64 => 8,
    }
}

/// Values of type `elem` from their little-endian bytes.
fn from_le(elem: ElemType, b: &[u8]) -> Values {
    fn split<T, const N: usize>(b: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
        b.chunks_exact(N)
            .map(|c| {
                let mut a = [0u8; N];
                a.copy_from_slice(c);
                f(a)
            })
            .collect()
    }
    match elem.value_type() {
        ElemType::I8 => Values::I8(split(b, i8::from_le_bytes)),
        ElemType::I16 => Values::I16(split(b, i16::from_le_bytes)),
        ElemType::I32 => Values::I32(split(b, i32::from_le_bytes)),
        ElemType::I64 => Values::I64(split(b, i64::from_le_bytes)),
        ElemType::U8 => Values::U8(b.to_vec()),
        ElemType::U16 => Values::U16(split(b, u16::from_le_bytes)),
        ElemType::U32 => Values::U32(split(b, u32::from_le_bytes)),
        ElemType::U64 => Values::U64(split(b, u64::from_le_bytes)),
        ElemType::F16 | ElemType::F32 => Values::F32(split(b, f32::from_le_bytes)),
        ElemType::F64 => Values::F64(split(b, f64::from_le_bytes)),
        ElemType::Bool => Values::Bool(b.iter().map(|&x| x != 0).collect()),
    }
}

fn put_uint(out: &mut [u8], v: u64) {
    let b = v.to_le_bytes();
    let n = out.len().min(8);
    out[..n].copy_from_slice(&b[..n]);
}

fn get_uint(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    let n = b.len().min(8);
    a[..n].copy_from_slice(&b[..n]);
    u64::from_le_bytes(a)
}

/// Layout of a run record: local destination major, destination minor, value.
#[derive(Debug, Clone, Copy)]
struct Record {
    key: usize,
    minor: usize,
    value: usize,
}

impl Record {
    fn size(&self) -> usize {
        self.key + self.minor + self.value
    }
}

/// Streams `indptr` in windows to map entry positions to their (source) major.
struct MajorWalk<'a> {
    indptr: &'a dyn Array1,
    window: usize,
    start: u64,
    buf: Vec<i64>,
    nnz: u64,
    major: u64,
    /// End (entry position) of the current major.
    end: u64,
    last: u64,
}

impl<'a> MajorWalk<'a> {
    fn new(indptr: &'a dyn Array1, window: usize, nnz: u64) -> Result<Self> {
        let mut w = MajorWalk {
            indptr,
            window: window.max(2),
            start: 0,
            buf: Vec::new(),
            nnz,
            major: 0,
            end: 0,
            last: 0,
        };
        let first = w.ptr(0)?;
        if first != 0 {
            return Err(Error::corrupt(
                "indptr",
                0,
                format!("starts at {first}, not 0"),
            ));
        }
        w.end = w.ptr(1)?;
        Ok(w)
    }

    /// indptr[i], loading windows forward; checks monotonicity and the nnz bound.
    fn ptr(&mut self, i: u64) -> Result<u64> {
        let in_window = i >= self.start && i - self.start < self.buf.len() as u64;
        if !in_window {
            let n = self.indptr.len();
            if i >= n {
                return Err(Error::corrupt("indptr", i, "read past the end"));
            }
            let end = i.saturating_add(self.window as u64).min(n);
            self.buf = self.indptr.read_ranges_i64(&[i..end])?;
            self.start = i;
            if self.buf.len() as u64 != end - i {
                return Err(Error::Usage(
                    "storage returned too few indptr values".into(),
                ));
            }
        }
        let v = self
            .buf
            .get((i - self.start) as usize)
            .copied()
            .ok_or_else(|| Error::Usage("internal: indptr window".into()))?;
        let v = u64::try_from(v)
            .map_err(|_| Error::corrupt("indptr", i, format!("negative offset {v}")))?;
        if v > self.nnz {
            return Err(Error::corrupt(
                "indptr",
                i,
                format!("offset {v} is past the {} stored entries", self.nnz),
            ));
        }
        if v < self.last {
            return Err(Error::corrupt(
                "indptr",
                i,
                format!("decreases from {} to {v}", self.last),
            ));
        }
        self.last = v;
        Ok(v)
    }

    /// The major holding entry `e` (entries must be asked in non-decreasing order).
    fn major_of(&mut self, e: u64) -> Result<u64> {
        while self.end <= e {
            self.major += 1;
            self.end = self.ptr(self.major + 1)?;
        }
        Ok(self.major)
    }

    /// Read (and so validate) the rest of indptr.
    fn finish(&mut self) -> Result<()> {
        let last = self.indptr.len().saturating_sub(1);
        while self.major + 1 < last {
            self.major += 1;
            self.end = self.ptr(self.major + 1)?;
        }
        Ok(())
    }
}

/// A bucket: destination majors `start..end` holding `entries` entries.
#[derive(Debug, Clone)]
struct Bucket {
    start: u64,
    end: u64,
    entries: u64,
}

/// Everything derived from the source and the budget.
struct Plan {
    nnz: u64,
    minor_len: u64,
    elem: ElemType,
    rec: Record,
    /// Entries read per source block (a multiple of the indices' chunk length).
    read_block: u64,
    /// indptr elements per window.
    ptr_window: usize,
    /// Destination majors per histogram group: `1 << group_shift`.
    group_shift: u32,
    /// Entries pushed to the writer per block.
    push_block: usize,
    /// Writer buffer (elements per dataset).
    writer_buffer: usize,
    /// Largest bucket (in entries) and widest bucket (in majors).
    bucket_entries: u64,
    bucket_width: u64,
    /// Bytes of write buffering available for run files per pass.
    run_buffers: usize,
    /// Bytes for histogram counters.
    hist_budget: u64,
}

impl Plan {
    fn new(src: &SparseDataset, opts: &ConvertOptions) -> Result<Plan> {
        let (_, indices, data) = src.arrays();
        let nnz = src.nnz()?;
        let (rows, cols) = src.shape();
        let (major_len, minor_len) = match src.format() {
            Format::Csr => (rows, cols),
            Format::Csc => (cols, rows),
        };
        let elem = data.elem();
        let vb = value_bytes(elem);
        let rec = Record {
            key: if minor_len <= u64::from(u32::MAX) {
                4
            } else {
                8
            },
            minor: if major_len <= u64::from(u32::MAX) {
                4
            } else {
                8
            },
            value: vb,
        };
        let mem = opts.mem_bytes.max(1 << 12);
        // Budget split: 1/4 source blocks, 1/8 run buffers, 1/16 histogram + group table,
        // 1/16 writer, 1/2 bucket sort.
        let chunk = indices.chunk_len().unwrap_or(1).max(1);
        let per_read = 8 + 2 * vb as u64 + rec.size() as u64;
        let mut read_block = (mem / 4 / per_read).max(1);
        // Whole chunks per read (a chunk is decoded anyway).
        read_block = if read_block >= chunk {
            read_block / chunk * chunk
        } else {
            chunk
        };
        let ptr_window = ((mem / 64 / 8) as usize).clamp(2, 1 << 20);
        let mut group_shift = 0u32;
        let hist_budget = (mem / 16).max(64);
        while minor_len.div_ceil(1u64 << group_shift) * 12 > hist_budget && group_shift < 63 {
            group_shift += 1;
        }
        let per_push = (8 + 3 * (8 + vb)) as u64;
        let writer_buffer = ((mem / 32 / per_push) as usize).max(256);
        let push_block = writer_buffer;
        let per_sort = (rec.size() + 8 + 2 * vb) as u64;
        let sort_budget = mem / 2;
        let bucket_entries = (sort_budget / per_sort / 2).max(1);
        let bucket_width = (sort_budget / 2 / 8).max(1);
        Ok(Plan {
            nnz,
            minor_len,
            elem,
            rec,
            read_block,
            ptr_window,
            group_shift,
            push_block,
            writer_buffer,
            bucket_entries,
            bucket_width,
            run_buffers: (mem / 8) as usize,
            hist_budget,
        })
    }

    /// Count entries per destination group (one pass over `indices`).
    fn histogram(&self, indices: &dyn Array1) -> Result<Vec<u64>> {
        let groups = self.minor_len.div_ceil(1u64 << self.group_shift);
        let mut counts = vec![0u64; groups as usize];
        let mut a = 0u64;
        while a < self.nnz {
            let b = (a + self.read_block).min(self.nnz);
            let idx = indices.read_ranges_i64(&[a..b])?;
            for (k, &c) in idx.iter().enumerate() {
                let c = self.check_index(c, a + k as u64)?;
                if let Some(n) = counts.get_mut((c >> self.group_shift) as usize) {
                    *n += 1;
                }
            }
            a = b;
        }
        Ok(counts)
    }

    fn check_index(&self, c: i64, e: u64) -> Result<u64> {
        u64::try_from(c)
            .ok()
            .filter(|&c| c < self.minor_len)
            .ok_or_else(|| {
                Error::corrupt(
                    "indices",
                    e,
                    format!("index {c} outside 0..{}", self.minor_len),
                )
            })
    }

    /// Exact per-major counts of the `oversized` groups (more entries than a bucket holds),
    /// cut into sub-buckets; one pass over `indices` per batch of groups whose counters fit
    /// in the histogram budget.
    fn refine(
        &self,
        indices: &dyn Array1,
        counts: &[u64],
    ) -> Result<std::collections::BTreeMap<u64, Vec<Bucket>>> {
        let g = 1u64 << self.group_shift;
        let oversized: Vec<u64> = counts
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > self.bucket_entries && g > 1)
            .map(|(i, _)| i as u64)
            .collect();
        let mut out = std::collections::BTreeMap::new();
        let per_batch = (self.hist_budget / 8 / g).max(1) as usize;
        for batch in oversized.chunks(per_batch) {
            // Counters of the batch's majors, group by group.
            let mut exact = vec![0u64; batch.len() * g as usize];
            let mut a = 0u64;
            while a < self.nnz {
                let b = (a + self.read_block).min(self.nnz);
                let idx = indices.read_ranges_i64(&[a..b])?;
                for (k, &c) in idx.iter().enumerate() {
                    let c = self.check_index(c, a + k as u64)?;
                    if let Ok(pos) = batch.binary_search(&(c >> self.group_shift)) {
                        let slot = pos * g as usize + (c & (g - 1)) as usize;
                        if let Some(n) = exact.get_mut(slot) {
                            *n += 1;
                        }
                    }
                }
                a = b;
            }
            for (pos, &grp) in batch.iter().enumerate() {
                let gs = grp * g;
                let ge = (gs + g).min(self.minor_len);
                let mut subs: Vec<Bucket> = Vec::new();
                let mut cur = Bucket {
                    start: gs,
                    end: gs,
                    entries: 0,
                };
                for m in gs..ge {
                    let n = exact
                        .get(pos * g as usize + (m - gs) as usize)
                        .copied()
                        .unwrap_or(0);
                    if cur.end > cur.start && cur.entries + n > self.bucket_entries {
                        subs.push(cur.clone());
                        cur = Bucket {
                            start: m,
                            end: m,
                            entries: 0,
                        };
                    }
                    cur.end = m + 1;
                    cur.entries += n;
                }
                if cur.end > cur.start {
                    subs.push(cur);
                }
                out.insert(grp, subs);
            }
        }
        Ok(out)
    }

    /// Cut the destination axis into buckets of whole groups (oversized groups are cut by
    /// their exact counts, `refined`).
    fn buckets(
        &self,
        counts: &[u64],
        refined: &std::collections::BTreeMap<u64, Vec<Bucket>>,
    ) -> Vec<Bucket> {
        let g = 1u64 << self.group_shift;
        let mut out: Vec<Bucket> = Vec::new();
        let mut cur = Bucket {
            start: 0,
            end: 0,
            entries: 0,
        };
        for (i, &n) in counts.iter().enumerate() {
            let gs = i as u64 * g;
            let ge = (gs + g).min(self.minor_len);
            if let Some(subs) = refined.get(&(i as u64)) {
                if cur.end > cur.start {
                    out.push(cur.clone());
                }
                out.extend(subs.iter().cloned());
                cur = Bucket {
                    start: ge,
                    end: ge,
                    entries: 0,
                };
                continue;
            }
            let fits =
                cur.entries + n <= self.bucket_entries && ge - cur.start <= self.bucket_width;
            if cur.end > cur.start && !fits {
                out.push(cur.clone());
                cur = Bucket {
                    start: gs,
                    end: gs,
                    entries: 0,
                };
            }
            cur.end = ge;
            cur.entries += n;
        }
        if cur.end > cur.start {
            out.push(cur);
        }
        out
    }
}

/// Rewrite `src` in the other storage order (CSR → CSC, CSC → CSR) into `sink`, with the
/// encoding of `opts`, in bounded memory (see the module documentation).
///
/// The written matrix has the same shape, values and data type; indices and indptr are
/// `i32` when the shape and nnz allow it, else `i64`. Explicit zeros are kept; entries keep
/// their relative order (within a destination major, by source major).
pub fn convert<S: SparseSink>(
    src: &SparseDataset,
    sink: S,
    opts: &ConvertOptions,
) -> Result<(S, ConvertStats)> {
    let plan = Plan::new(src, opts)?;
    let (indptr, indices, data) = src.arrays();
    let dst_format = match src.format() {
        Format::Csr => Format::Csc,
        Format::Csc => Format::Csr,
    };
    let mut wopts = WriterOptions::new(dst_format, src.shape(), plan.elem);
    wopts.encoding = opts.encoding;
    wopts.nnz_hint = Some(plan.nnz);
    wopts.buffer_elems = plan.writer_buffer;
    let big = src.shape().0.max(src.shape().1).max(plan.nnz);
    wopts.index_elem = if big <= i32::MAX as u64 {
        ElemType::I32
    } else {
        ElemType::I64
    };
    let mut writer = SparseWriter::new(sink, wopts)?;
    let mut stats = ConvertStats {
        nnz: plan.nnz,
        ..ConvertStats::default()
    };
    let counts = plan.histogram(indices)?;
    let refined = plan.refine(indices, &counts)?;
    let buckets = plan.buckets(&counts, &refined);
    drop(refined);
    let hist_bytes = counts.len() as u64 * 8;
    drop(counts);
    stats.buckets = buckets.len();
    let tmp = match &opts.temp_dir {
        Some(d) => tempfile::Builder::new()
            .prefix("h5sparse-convert")
            .tempdir_in(d),
        None => tempfile::Builder::new()
            .prefix("h5sparse-convert")
            .tempdir(),
    }
    .map_err(|e| Error::Usage(format!("cannot create a temporary directory: {e}")))?;
    let per_pass = opts.max_open_runs.max(1);
    let mut next_major = 0u64; // destination majors pushed so far
    for (pass, group) in buckets.chunks(per_pass).enumerate() {
        stats.passes += 1;
        let first = pass * per_pass;
        let held = run_pass(
            &plan,
            indptr,
            indices,
            data,
            group,
            first,
            tmp.path(),
            &mut stats,
        )?;
        stats.peak_held_bytes = stats.peak_held_bytes.max(held + hist_bytes);
        for (k, b) in group.iter().enumerate() {
            let path = run_path(tmp.path(), first + k);
            let held = merge_bucket(&plan, b, &path, &mut writer, &mut stats)?;
            stats.peak_held_bytes = stats.peak_held_bytes.max(held);
            next_major = b.end;
        }
    }
    if next_major != plan.minor_len {
        return Err(Error::Usage(format!(
            "internal: buckets cover {next_major} of {} majors",
            plan.minor_len
        )));
    }
    let sink = writer.finish()?;
    tmp.close()
        .map_err(|e| Error::Usage(format!("cannot remove the temporary directory: {e}")))?;
    Ok((sink, stats))
}

fn run_path(dir: &Path, bucket: usize) -> PathBuf {
    dir.join(format!("run{bucket:06}.bin"))
}

/// One pass over the source: append the entries of buckets `group` (numbered from `first`)
/// to their run files. Returns the estimated bytes held.
#[allow(clippy::too_many_arguments)]
fn run_pass(
    plan: &Plan,
    indptr: &dyn Array1,
    indices: &dyn Array1,
    data: &dyn Array1,
    group: &[Bucket],
    first: usize,
    dir: &Path,
    stats: &mut ConvertStats,
) -> Result<u64> {
    let (Some(lo), Some(hi)) = (group.first(), group.last()) else {
        return Ok(0);
    };
    let (lo, hi) = (lo.start, hi.end);
    if group.iter().all(|b| b.entries == 0) {
        return Ok(0);
    }
    let buf_size = (plan.run_buffers / group.len().max(1)).clamp(4096, 1 << 20);
    let mut writers: Vec<Option<BufWriter<File>>> = Vec::with_capacity(group.len());
    for (k, b) in group.iter().enumerate() {
        writers.push(if b.entries > 0 {
            let path = run_path(dir, first + k);
            let f = File::create(&path).map_err(|e| io_err("cannot create run file", &path, e))?;
            Some(BufWriter::with_capacity(buf_size, f))
        } else {
            None
        });
    }
    // Group → bucket (within this pass) table for the pass's range of destination majors.
    let shift = plan.group_shift;
    let g_lo = lo >> shift;
    let g_hi = (hi - 1) >> shift;
    let mut table = vec![u32::MAX; (g_hi - g_lo + 1) as usize];
    for (k, b) in group.iter().enumerate() {
        if b.end > b.start {
            for g in (b.start >> shift)..=((b.end - 1) >> shift) {
                if let Some(t) = table.get_mut((g - g_lo) as usize) {
                    if *t == u32::MAX {
                        *t = k as u32;
                    }
                }
            }
        }
    }
    let rec = plan.rec;
    let rs = rec.size();
    let vb = rec.value;
    let mut walk = MajorWalk::new(indptr, plan.ptr_window, plan.nnz)?;
    let mut record = vec![0u8; rs];
    let mut a = 0u64;
    let mut held = 0u64;
    while a < plan.nnz {
        let b = (a + plan.read_block).min(plan.nnz);
        let idx = indices.read_ranges_i64(&[a..b])?;
        // Read data only if this block has entries for the pass.
        let mut any = false;
        for (k, &c) in idx.iter().enumerate() {
            let c = plan.check_index(c, a + k as u64)?;
            if c >= lo && c < hi {
                any = true;
                break;
            }
        }
        if !any {
            a = b;
            continue;
        }
        let vals = data.read_ranges_values(&[a..b])?;
        if vals.len() != idx.len() {
            return Err(Error::Usage("storage returned too few data values".into()));
        }
        let vbytes = vals.to_le_bytes();
        held = held.max(
            (idx.len() * 8 + vals.len() * vb + vbytes.len()) as u64
                + (buf_size * writers.len()) as u64
                + table.len() as u64 * 4,
        );
        drop(vals);
        for (k, &c) in idx.iter().enumerate() {
            let e = a + k as u64;
            let c = c as u64; // checked above
            if c < lo || c >= hi {
                continue;
            }
            let Some(&first_bi) = table.get(((c >> shift) - g_lo) as usize) else {
                continue;
            };
            // A refined group holds several buckets: find the one containing `c`.
            let tail = group.get(first_bi as usize..).unwrap_or(&[]);
            let bi = first_bi as usize + tail.partition_point(|b| b.end <= c);
            let (Some(bucket), Some(Some(w))) = (group.get(bi), writers.get_mut(bi)) else {
                return Err(Error::Usage("internal: bucket table".into()));
            };
            let m = walk.major_of(e)?;
            put_uint(&mut record[..rec.key], c - bucket.start);
            put_uint(&mut record[rec.key..rec.key + rec.minor], m);
            let v = vbytes
                .get(k * vb..(k + 1) * vb)
                .ok_or_else(|| Error::Usage("internal: value bytes".into()))?;
            record[rec.key + rec.minor..].copy_from_slice(v);
            w.write_all(&record)
                .map_err(|e| io_err("cannot write run file", dir, e))?;
            stats.run_bytes += rs as u64;
        }
        a = b;
    }
    walk.finish()?;
    for w in writers.into_iter().flatten() {
        w.into_inner()
            .map_err(|e| io_err("cannot write run file", dir, e.into_error()))?;
    }
    Ok(held)
}

/// Load a bucket's run file, sort it by destination major and push it to the writer.
/// Returns the estimated bytes held.
fn merge_bucket<S: SparseSink>(
    plan: &Plan,
    b: &Bucket,
    path: &Path,
    writer: &mut SparseWriter<S>,
    stats: &mut ConvertStats,
) -> Result<u64> {
    let width = usize::try_from(b.end - b.start).map_err(|_| Error::TooLarge {
        what: "bucket",
        requested: b.end - b.start,
    })?;
    let n = usize::try_from(b.entries).map_err(|_| Error::TooLarge {
        what: "bucket",
        requested: b.entries,
    })?;
    stats.max_bucket_entries = stats.max_bucket_entries.max(b.entries);
    let rec = plan.rec;
    let rs = rec.size();
    let vb = rec.value;
    let mut bytes: Vec<u8> = Vec::new();
    if n > 0 {
        let mut f = File::open(path).map_err(|e| io_err("cannot open run file", path, e))?;
        bytes
            .try_reserve_exact(n * rs)
            .map_err(|_| Error::TooLarge {
                what: "bucket",
                requested: b.entries,
            })?;
        f.read_to_end(&mut bytes)
            .map_err(|e| io_err("cannot read run file", path, e))?;
        drop(f);
        let _ = std::fs::remove_file(path);
    }
    if bytes.len() != n * rs {
        return Err(Error::Usage(format!(
            "run file {} has {} bytes, expected {}",
            path.display(),
            bytes.len(),
            n * rs
        )));
    }
    // Counting sort (stable) by local destination major.
    let mut indptr = vec![0usize; width + 1];
    for r in bytes.chunks_exact(rs) {
        let key = get_uint(&r[..rec.key]) as usize;
        let slot = indptr
            .get_mut(key + 1)
            .ok_or_else(|| Error::Usage("internal: run record outside its bucket".into()))?;
        *slot += 1;
    }
    for i in 0..width {
        indptr[i + 1] += indptr[i];
    }
    let mut next = indptr.clone();
    let mut minors = vec![0u64; n];
    let mut vbytes = vec![0u8; n * vb];
    for r in bytes.chunks_exact(rs) {
        let key = get_uint(&r[..rec.key]) as usize;
        let p = next[key];
        next[key] += 1;
        minors[p] = get_uint(&r[rec.key..rec.key + rec.minor]);
        vbytes[p * vb..(p + 1) * vb].copy_from_slice(&r[rec.key + rec.minor..]);
    }
    let held = (bytes.len() + n * 8 + 2 * n * vb + 16 * (width + 1)) as u64;
    drop(bytes);
    drop(next);
    let values = from_le(plan.elem, &vbytes);
    drop(vbytes);
    // Push blocks of whole majors of about `push_block` entries.
    let mut m0 = 0usize;
    while m0 < width {
        let mut m1 = m0 + 1;
        while m1 < width && indptr[m1 + 1] - indptr[m0] <= plan.push_block {
            m1 += 1;
        }
        let (e0, e1) = (indptr[m0], indptr[m1]);
        let local: Vec<usize> = indptr[m0..=m1].iter().map(|&p| p - e0).collect();
        let part = values.slice(e0..e1)?;
        writer.push_block(&local, &minors[e0..e1], &part)?;
        m0 = m1;
    }
    Ok(held)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::{MemArray, MemGroup};
    use crate::write::MemSink;

    fn group(format: Format, shape: (u64, u64), t: &[(u64, u64, f64)]) -> MemGroup {
        let mut e: Vec<(u64, u64, f64)> = t
            .iter()
            .map(|&(r, c, v)| {
                if format == Format::Csr {
                    (r, c, v)
                } else {
                    (c, r, v)
                }
            })
            .collect();
        e.sort_by_key(|a| (a.0, a.1));
        let major = if format == Format::Csr {
            shape.0
        } else {
            shape.1
        };
        let mut indptr = vec![0i64; major as usize + 1];
        for x in &e {
            indptr[x.0 as usize + 1] += 1;
        }
        for i in 0..major as usize {
            indptr[i + 1] += indptr[i];
        }
        let mut g = MemGroup::new();
        let et = if format == Format::Csr {
            "csr_matrix"
        } else {
            "csc_matrix"
        };
        g.set_str("encoding-type", et);
        g.set_ints("shape", &[shape.0 as i64, shape.1 as i64]);
        g.add("indptr", MemArray::new(Values::I64(indptr)));
        g.add(
            "indices",
            MemArray::new(Values::I32(e.iter().map(|x| x.1 as i32).collect()))
                .with_chunk_len(Some(7)),
        );
        g.add(
            "data",
            MemArray::new(Values::F64(e.iter().map(|x| x.2).collect())),
        );
        g
    }

    fn triplets(m: &SparseDataset) -> Vec<(u64, u64, f64)> {
        let r = m.select_text(None, None).expect("select");
        let mut out = Vec::new();
        let (indptr, indices) = (r.indptr_usize().unwrap(), r.indices_usize().unwrap());
        for major in 0..indptr.len() - 1 {
            for (k, &minor) in indices
                .iter()
                .enumerate()
                .take(indptr[major + 1])
                .skip(indptr[major])
            {
                let v = r.data.get_f64(k).expect("value");
                let (i, j) = (major as u64, minor as u64);
                out.push(if r.format == Format::Csr {
                    (i, j, v)
                } else {
                    (j, i, v)
                });
            }
        }
        out.sort_by_key(|a| (a.0, a.1));
        out
    }

    #[test]
    fn small_budget_many_buckets_and_passes() {
        let shape = (37u64, 53u64);
        let mut t = Vec::new();
        let mut x = 12345u64;
        for r in 0..shape.0 {
            for c in 0..shape.1 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                if (x >> 61) < 2 {
                    t.push((r, c, (r * 100 + c) as f64));
                }
            }
        }
        for format in [Format::Csr, Format::Csc] {
            let g = group(format, shape, &t);
            let src = SparseDataset::open(&g).expect("open");
            let opts = ConvertOptions {
                mem_bytes: 1,
                max_open_runs: 3,
                ..ConvertOptions::default()
            };
            let (sink, stats) = convert(&src, MemSink::new(), &opts).expect("convert");
            let out = SparseDataset::open(&sink.into_group()).expect("reopen");
            assert_ne!(out.format(), format);
            assert_eq!(out.shape(), shape);
            assert_eq!(triplets(&out), triplets(&src));
            assert_eq!(stats.nnz, t.len() as u64);
            assert!(stats.buckets > 3 && stats.passes > 1, "{stats:?}");
        }
    }
}
