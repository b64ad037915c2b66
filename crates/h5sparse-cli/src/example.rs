//! `h5sparse example [DIR]`: the 2017 "Sparse matrices with h5py" notebook, replayed.
//!
//! Writes the notebook's 4x3 CSR example, lists it like `h5ls -v`, slices it, then streams the
//! 10000x10000 all-ones matrix (10^8 stored values) to disk and reads 4 rows back, printing the
//! process's peak memory after each step.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use h5format::write::FileWriter;
use h5sparse::hdf5::{H5Sink, SinkOptions};
use h5sparse::write::{SparseWriter, WriterOptions};
use h5sparse::{ElemType, Encoding, Format, Values};

use crate::UserError;

/// Peak resident set size of this process, in MiB (Linux), if known.
pub fn peak_rss_mib() -> Option<f64> {
    status_mib("VmHWM:")
}

/// A memory line of /proc/self/status, in MiB.
fn status_mib(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Reset the peak-RSS counter (Linux: writing 5 to /proc/self/clear_refs), so the next
/// [`mem`] line shows the peak of one step alone.
fn reset_peak() -> (Instant, Option<f64>) {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    (Instant::now(), status_mib("VmRSS:"))
}

fn mem(
    out: &mut impl Write,
    step: &str,
    (t, before): (Instant, Option<f64>),
) -> std::io::Result<()> {
    let secs = t.elapsed().as_secs_f64();
    match (before, peak_rss_mib()) {
        (Some(b), Some(p)) => writeln!(
            out,
            "   [{step}: {secs:.2} s; RSS {b:.1} MiB before, peak {p:.1} MiB during (+{:.1} MiB)]",
            (p - b).max(0.0)
        ),
        _ => writeln!(out, "   [{step}: {secs:.2} s]"),
    }
}

/// Run the example, writing its files under `dir` (default: a folder in the temp dir).
pub fn run(out: &mut impl Write, dir: Option<&str>) -> Result<(), UserError> {
    let dir = dir
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("h5sparse-example"));
    std::fs::create_dir_all(&dir)?;
    let small = dir.join("notebook.h5");
    let small_s = small.to_string_lossy().to_string();

    writeln!(
        out,
        "1. Write the notebook's 4x3 CSR matrix [[1,0,2],[0,0,3],[4,5,6],[0,0,0]] to {small_s}"
    )?;
    let t = reset_peak();
    let mut w = FileWriter::create(&small)?;
    let mut opts = WriterOptions::new(Format::Csr, (4, 3), ElemType::F64);
    opts.encoding = Encoding::H5sparse;
    let sink = H5Sink::new(
        &mut w,
        "/X",
        SinkOptions {
            chunk_elems: 4,
            ..SinkOptions::default()
        },
    )?;
    let mut sw = SparseWriter::new(sink, opts)?;
    sw.push_block(
        &[0, 2, 3, 6, 6],
        &[0, 2, 2, 0, 1, 2],
        &Values::F64(vec![1., 2., 3., 4., 5., 6.]),
    )?;
    sw.finish()?;
    w.finish()?;
    mem(out, "written", t)?;

    writeln!(out, "\n2. List it (h5sparse ls -r -v):")?;
    out.flush()?;
    crate::ls::run(out, &small_s, None, true, true)?;

    writeln!(out, "\n3. Slice X[:, 1:3] (MatrixMarket):")?;
    crate::slice::slice(out, &small_s, "/X", None, Some("1:3"), None)?;
    writeln!(out, "\n   and X[mask 1010] (rows 0 and 2):")?;
    crate::slice::slice(out, &small_s, "/X", Some("mask:1010"), None, None)?;

    let big = dir.join("ones.h5ad");
    let big_s = big.to_string_lossy().to_string();
    let n: u64 = 10_000;
    writeln!(
        out,
        "\n4. Stream the {n}x{n} all-ones CSR matrix (10^8 values, gzip) as X of an AnnData file {big_s}"
    )?;
    let t = reset_peak();
    let mut w = FileWriter::create(&big)?;
    let names: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    h5ad::write_skeleton(&mut w, &names, &names)?;
    let mut opts = WriterOptions::new(Format::Csr, (n, n), ElemType::F64);
    opts.nnz_hint = Some(n * n);
    opts.buffer_elems = 1 << 18;
    let sink_opts = SinkOptions {
        chunk_elems: 1 << 18,
        gzip: Some(1),
        shuffle: true,
        ..SinkOptions::default()
    };
    let sink = H5Sink::new(&mut w, "/X", sink_opts)?;
    let mut sw = SparseWriter::new(sink, opts)?;
    let block_rows = 10usize;
    let cols: Vec<u64> = (0..n).collect();
    let indices: Vec<u64> = (0..block_rows).flat_map(|_| cols.iter().copied()).collect();
    let data = Values::F64(vec![1.0; indices.len()]);
    let indptr: Vec<usize> = (0..=block_rows).map(|r| r * n as usize).collect();
    for _ in 0..(n as usize / block_rows) {
        sw.push_block(&indptr, &indices, &data)?;
    }
    sw.finish()?;
    w.finish()?;
    let size = std::fs::metadata(&big).map(|m| m.len()).unwrap_or(0);
    writeln!(out, "   {:.1} MiB on disk", size as f64 / (1 << 20) as f64)?;
    mem(out, "written", t)?;

    for rows in ["1:5", "1,5,10,13"] {
        writeln!(out, "\n5. Read rows [{rows}] of the big matrix:")?;
        let t = reset_peak();
        let f = crate::open::open(&big_s)?;
        let m = h5sparse::hdf5::open(&f, "/X")?;
        let r = m.select_text(Some(rows), None)?;
        let sum: f64 = r.data.to_f64().iter().sum();
        writeln!(out, "   shape {:?}, nnz {}, sum {sum}", r.shape, r.nnz())?;
        mem(out, "read", t)?;
    }

    writeln!(
        out,
        "\n6. Open it as a backed AnnData (X stays on disk) and take rows [1,5,10,13] x cols 0:5:"
    )?;
    let t = reset_peak();
    let adata = h5ad::AnnData::open(&big)?;
    let rows = h5sparse::Selection::parse("1,5,10,13", n)?;
    let cols = h5sparse::Selection::parse("0:5", n)?;
    let sub = adata.subset(&rows, &cols)?;
    writeln!(
        out,
        "   backed AnnData {} x {}; subset {} x {}, obs names {:?}",
        adata.n_obs,
        adata.n_vars,
        sub.n_obs,
        sub.n_vars,
        sub.obs_names()
    )?;
    mem(out, "read", t)?;
    Ok(())
}
