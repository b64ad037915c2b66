//! Streaming 10^8 f64 values through `append` keeps memory bounded (ignored by default: it
//! writes ~800 MB of data; run with `cargo test -p h5format --test write_stream_large -- --ignored`).

mod support;

use h5format::write::{DType, DatasetSpec, FileWriter};

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
#[ignore]
fn write_stream_1e8_f64_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.h5");
    let before = peak_rss_kib().unwrap_or(0);
    let mut w = FileWriter::create(&path).unwrap();
    let ds = w
        .create_dataset(
            "/x",
            DatasetSpec::new(DType::F64, [0])
                .unlimited()
                .chunked([1 << 18])
                .deflate(1),
        )
        .unwrap();
    let n: u64 = 100_000_000;
    let batch: u64 = 999_983;
    let mut at = 0;
    let mut buf = Vec::with_capacity(batch as usize);
    while at < n {
        let len = batch.min(n - at);
        buf.clear();
        buf.extend((at..at + len).map(|i| (i % 1000) as f64));
        w.append_typed(ds, &buf).unwrap();
        at += len;
    }
    w.finish().unwrap();
    let after = peak_rss_kib().unwrap_or(0);
    eprintln!("peak RSS {before} KiB -> {after} KiB");
    // 800 MB of data went through; the writer must have held only a few 2 MiB chunks.
    assert!(
        after < before + 200 * 1024,
        "peak RSS grew from {before} to {after} KiB"
    );
    if !support::python_or_skip(
        "h5py",
        "skipping h5py check: python3 with h5py is not available",
    ) {
        return;
    }
    let script = r#"
import sys, h5py, numpy as np
d = h5py.File(sys.argv[1], 'r')['x']
assert d.shape == (100000000,)
total = 0.0
for s in range(0, d.shape[0], 10_000_000):
    total += d[s:s + 10_000_000].sum()
assert total == 100000 * sum(range(1000)), total
assert d[99_999_999] == 999.0 and d[12_345_678] == 678.0
"#;
    support::python_ok("h5py", script, &path);
}
