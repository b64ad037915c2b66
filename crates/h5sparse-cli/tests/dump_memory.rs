//! Peak memory of `h5sparse dump --json` in a child process: 4*10^6 f8 values (written with
//! the library, contiguous and 2-D chunked) must stream, not build a tree of per-element JSON
//! values (that took ~290 bytes per element: > 1 GB here).

use std::process::Command;

use h5format::write::{DType, DatasetSpec, FileWriter};

const BIN: &str = env!("CARGO_BIN_EXE_h5sparse");

#[test]
fn dump_json_streams_large_datasets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.h5");
    let n: u64 = 2_000_000;
    let mut w = FileWriter::create(&path).expect("create");
    let flat = w
        .create_dataset("/flat", DatasetSpec::new(DType::F64, [n]))
        .expect("dataset");
    let values: Vec<f64> = (0..n).map(|i| i as f64 / 7.0).collect();
    w.write_typed(flat, &values).expect("write");
    let mut spec = DatasetSpec::new(DType::F64, [2000, 1000]);
    spec.deflate = Some(1);
    spec.layout = h5format::write::Layout::Chunked(vec![100, 100]);
    let grid = w.create_dataset("/grid", spec).expect("dataset");
    w.write_typed(grid, &values).expect("write");
    w.finish().expect("finish");
    drop(values);

    let o = Command::new("/usr/bin/time")
        .args(["-f", "RSS=%M", BIN, "dump", "--json"])
        .arg(&path)
        .output()
        .expect("time runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "dump: {err}");
    let kib: u64 = err
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("RSS="))
        .and_then(|v| v.trim().parse().ok())
        .expect("RSS line");
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let flat = doc["members"]["flat"]["data"].as_array().expect("list");
    assert_eq!(flat.len() as u64, n);
    assert_eq!(flat[12345].as_f64(), Some(12345.0 / 7.0));
    let grid = doc["members"]["grid"]["data"].as_array().expect("rows");
    assert_eq!(grid.len(), 2000);
    assert_eq!(grid[1999][999].as_f64(), Some((n - 1) as f64 / 7.0));
    // 32 MiB of held-back output + a band of chunks + the binary: well under 128 MiB.
    assert!(kib < 128 * 1024, "dump peak RSS {kib} KiB");
}
