//! Peak memory of `h5sparse slice` in a child process, on a 2000 x 10000 all-ones CSR matrix
//! (2*10^7 stored values, gzip, chunks of 2^16) written with the library: row ranges, row lists
//! and a column range must stay within a few MiB of the baseline (`h5sparse info`).

use std::path::Path;
use std::process::Command;

use h5format::write::FileWriter;
use h5sparse::hdf5::{H5Sink, SinkOptions};
use h5sparse::write::{SparseWriter, WriterOptions};
use h5sparse::{ElemType, Format, Values};

const BIN: &str = env!("CARGO_BIN_EXE_h5sparse");

/// Peak RSS (KiB) and stdout of the child `h5sparse ARGS`, measured by `/usr/bin/time -f %M`.
fn peak_rss_kib(args: &[&str]) -> (u64, String) {
    let o = Command::new("/usr/bin/time")
        .args(["-f", "RSS=%M"])
        .arg(BIN)
        .args(args)
        .output()
        .expect("time runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "h5sparse {args:?}: {err}");
    let kib = err
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("RSS="))
        .and_then(|v| v.trim().parse().ok())
        .expect("RSS line");
    (kib, String::from_utf8_lossy(&o.stdout).into_owned())
}

fn write_ones(path: &Path, rows: u64, cols: u64) {
    let mut w = FileWriter::create(path).expect("create");
    let mut opts = WriterOptions::new(Format::Csr, (rows, cols), ElemType::F64);
    opts.nnz_hint = Some(rows * cols);
    let sink_opts = SinkOptions {
        chunk_elems: 1 << 16,
        gzip: Some(1),
        shuffle: true,
        ..SinkOptions::default()
    };
    let sink = H5Sink::new(&mut w, "/X", sink_opts).expect("sink");
    let mut sw = SparseWriter::new(sink, opts).expect("writer");
    let block = 50usize;
    let one: Vec<u64> = (0..cols).collect();
    let indices: Vec<u64> = (0..block).flat_map(|_| one.iter().copied()).collect();
    let data = Values::F64(vec![1.0; indices.len()]);
    let indptr: Vec<usize> = (0..=block).map(|r| r * cols as usize).collect();
    for _ in 0..rows as usize / block {
        sw.push_block(&indptr, &indices, &data).expect("push");
    }
    sw.finish().expect("finish");
    w.finish().expect("finish file");
}

#[test]
fn slice_peak_rss_is_a_few_mib_above_baseline() {
    if !Path::new("/usr/bin/time").exists() {
        eprintln!("skipping: /usr/bin/time is not available");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // H5SPARSE_MEMTEST_FILE=path keeps (and reuses) the matrix file, for profiling.
    let path = std::env::var_os("H5SPARSE_MEMTEST_FILE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("ones.h5"));
    let (rows, cols) = (2000u64, 10_000u64);
    if !path.exists() {
        write_ones(&path, rows, cols);
    }
    let p = path.to_string_lossy().to_string();
    let (base, _) = peak_rss_kib(&["info", &p, "/X"]);
    println!("baseline (info): {base} KiB");
    // (selection args, expected nnz, allowed KiB above the baseline)
    let cases: [(&[&str], u64, u64); 4] = [
        (&["--rows", "1:5"], 4 * cols, 8 * 1024),
        (&["--rows", "1,5,10,13"], 4 * cols, 8 * 1024),
        (&["--rows", "-3:"], 3 * cols, 8 * 1024),
        // A column range of a CSR matrix streams through all of `indices` (2*10^7 values,
        // 240 MB of arrays): the reader's chunk cache (64 MiB) fills up, plus the result
        // (2*10^5 entries) and one wave of blocks (a few decoded chunks per thread).
        (&["--cols", "100:200"], 100 * rows, (64 + 24) * 1024),
    ];
    for (sel, nnz, allowed) in cases {
        let mut args = vec!["slice", p.as_str(), "/X"];
        args.extend_from_slice(sel);
        let (kib, out) = peak_rss_kib(&args);
        let header = out.lines().nth(1).unwrap_or("").to_string();
        println!(
            "slice {sel:?}: peak RSS {kib} KiB (+{} KiB), header {header}",
            kib.saturating_sub(base)
        );
        assert!(header.ends_with(&format!(" {nnz}")), "{sel:?}: {header}");
        assert!(
            kib <= base + allowed,
            "slice {sel:?}: peak RSS {kib} KiB, baseline {base} KiB"
        );
    }
}
