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

mod plan;
mod record;
mod runs;

use std::path::{Path, PathBuf};

use crate::dataset::{Encoding, Format, SparseDataset};
use crate::error::{Error, Result};
use crate::values::ElemType;
use crate::write::{SparseSink, SparseWriter, WriterOptions};

use plan::Plan;
use runs::{merge_bucket, run_pass, run_path};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::{MemArray, MemGroup};
    use crate::values::Values;
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
