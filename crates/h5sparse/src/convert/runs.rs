//! Runs and merge (steps 3 and 4): entries appended to their bucket's run file in source
//! order, then each bucket loaded, counting-sorted and pushed to the writer.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::source::Array1;
use crate::write::{SparseSink, SparseWriter};

use super::{io_err, ConvertStats};

use super::plan::{Bucket, Plan};
use super::record::{from_le, get_uint, put_uint};

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

pub(super) fn run_path(dir: &Path, bucket: usize) -> PathBuf {
    dir.join(format!("run{bucket:06}.bin"))
}

/// One pass over the source: append the entries of buckets `group` (numbered from `first`)
/// to their run files. Returns the estimated bytes held.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_pass(
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
pub(super) fn merge_bucket<S: SparseSink>(
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
