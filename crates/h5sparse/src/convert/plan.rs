//! The plan of a conversion: the memory budget split between buffers, the histogram of
//! destination majors (steps 1) and the buckets cut from it (step 2).

use crate::dataset::{Format, SparseDataset};
use crate::error::{Error, Result};
use crate::source::Array1;
use crate::values::ElemType;

use super::ConvertOptions;

use super::record::{value_bytes, Record};

/// A bucket: destination majors `start..end` holding `entries` entries.
#[derive(Debug, Clone)]
pub(super) struct Bucket {
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) entries: u64,
}

/// Everything derived from the source and the budget.
pub(super) struct Plan {
    pub(super) nnz: u64,
    pub(super) minor_len: u64,
    pub(super) elem: ElemType,
    pub(super) rec: Record,
    /// Entries read per source block (a multiple of the indices' chunk length).
    pub(super) read_block: u64,
    /// indptr elements per window.
    pub(super) ptr_window: usize,
    /// Destination majors per histogram group: `1 << group_shift`.
    pub(super) group_shift: u32,
    /// Entries pushed to the writer per block.
    pub(super) push_block: usize,
    /// Writer buffer (elements per dataset).
    pub(super) writer_buffer: usize,
    /// Largest bucket (in entries) and widest bucket (in majors).
    pub(super) bucket_entries: u64,
    pub(super) bucket_width: u64,
    /// Bytes of write buffering available for run files per pass.
    pub(super) run_buffers: usize,
    /// Bytes for histogram counters.
    pub(super) hist_budget: u64,
}

impl Plan {
    pub(super) fn new(src: &SparseDataset, opts: &ConvertOptions) -> Result<Plan> {
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
    pub(super) fn histogram(&self, indices: &dyn Array1) -> Result<Vec<u64>> {
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

    pub(super) fn check_index(&self, c: i64, e: u64) -> Result<u64> {
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
    pub(super) fn refine(
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
    pub(super) fn buckets(
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
