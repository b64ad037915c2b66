//! `h5ad::concat` with tiny blocks and chunks (many blocks per input, rows split across
//! chunk boundaries), compared with `anndata.concat` by the CLI tests' checker script.
//! Skipped (with a message) without python3/anndata.

use std::path::{Path, PathBuf};
use std::process::Command;

use h5ad::{ConcatOptions, Join};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../h5sparse-cli/tests/concat_check.py")
}

fn py(args: &[&str]) {
    let out = Command::new("python3")
        .arg(script())
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "concat_check.py {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn tiny_blocks_match_anndata() {
    let ok = Command::new("python3")
        .args(["-c", "import anndata, h5py, scipy, pandas, natsort"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipping: python3 with anndata is not available");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    py(&["gen", d.to_str().expect("utf-8"), "--small"]);
    let cases: [(&str, Join, &[&str]); 5] = [
        ("inner", Join::Inner, &["a", "b", "c"]),
        ("outer", Join::Outer, &["a", "b", "c"]),
        ("outer", Join::Outer, &["d1", "d2"]),
        ("inner", Join::Inner, &["m1", "m2"]),
        ("inner", Join::Inner, &["t", "s"]),
    ];
    for (k, (join_name, join, names)) in cases.iter().enumerate() {
        let ins: Vec<PathBuf> = names.iter().map(|n| d.join(format!("{n}.h5ad"))).collect();
        let out = d.join(format!("out{k}.h5ad"));
        let opts = ConcatOptions {
            join: *join,
            gzip: Some(1),
            chunk_elems: 5,
            block_elems: 7,
            ..ConcatOptions::default()
        };
        h5ad::concat(&ins, &out, &opts).expect("concat");
        let mut args = vec!["check", out.to_str().expect("utf-8"), join_name];
        let ins_s: Vec<&str> = ins.iter().map(|p| p.to_str().expect("utf-8")).collect();
        args.extend(ins_s);
        py(&args);
    }
}
