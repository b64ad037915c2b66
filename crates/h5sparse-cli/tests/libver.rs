//! `--libver latest` (an extension) on every command that writes a new file: the file h5py
//! dumps (`testdata/h5py_dump.py`) equals the default output's dump, its superblock is version
//! 3 where the default's is version 0, and `h5dump` reads it.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{h5py_dump, have_h5dump, python_or_skip, root, BIN};

fn run(args: &[&str]) {
    let out = Command::new(BIN)
        .args(args)
        .arg("--no-fsync")
        .output()
        .expect("run h5sparse");
    assert!(
        out.status.success(),
        "h5sparse {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The superblock version: byte 8 of a file without a user block.
fn superblock_version(file: &Path) -> u8 {
    let bytes = std::fs::read(file).expect("read output");
    assert_eq!(&bytes[..8], b"\x89HDF\r\n\x1a\n", "{}", file.display());
    bytes[8]
}

/// Run `command` (its arguments, with OUT where the output goes) once by default and once
/// with `--libver latest`; compare the two files.
fn check(dir: &Path, name: &str, command: &[&str]) {
    let mut files = Vec::new();
    for libver in [None, Some("latest")] {
        let out: PathBuf = dir.join(format!("{name}-{}.h5ad", libver.unwrap_or("default")));
        let out_s = out.to_str().expect("utf-8 path");
        let mut args: Vec<&str> = command
            .iter()
            .map(|a| if *a == "OUT" { out_s } else { a })
            .collect();
        if let Some(v) = libver {
            args.extend(["--libver", v]);
        }
        run(&args);
        files.push(out);
    }
    let (default, latest) = (&files[0], &files[1]);
    assert_eq!(superblock_version(default), 0, "{name}: default output");
    assert_eq!(superblock_version(latest), 3, "{name}: --libver latest");
    assert_eq!(h5py_dump(latest), h5py_dump(default), "{name}: h5py reads");
    if have_h5dump() {
        let st = Command::new("h5dump")
            .arg(latest)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("h5dump");
        assert!(st.success(), "{name}: h5dump failed on the latest output");
    }
}

#[test]
fn libver_latest_reads_as_the_default_output() {
    if !python_or_skip("h5py", "skip: h5py missing (libver test)") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mtx = d.join("m.mtx");
    std::fs::write(
        &mtx,
        "%%MatrixMarket matrix coordinate real general\n4 3 5\n1 1 1.5\n1 3 -2\n2 2 3\n4 1 4\n4 3 0.25\n",
    )
    .expect("write mtx");
    let mtx = mtx.to_str().expect("utf-8 path");
    let t = root().join("testdata");
    let td = |f: &str| t.join(f).to_str().expect("utf-8 path").to_string();
    let (everything, tenx) = (td("everything_earliest.h5"), td("tenx.h5"));
    let (csr, csc) = (td("adata_csr.h5ad"), td("adata_csc.h5ad"));
    check(d, "copy", &["copy", &everything, "OUT"]);
    check(d, "copy-gzip", &["copy", &csr, "OUT", "--gzip", "4"]);
    check(d, "import-mtx", &["import-mtx", mtx, "OUT"]);
    check(d, "import-10x", &["import-10x", &tenx, "OUT"]);
    check(d, "convert", &["convert", &csr, "/X", "OUT"]);
    check(
        d,
        "concat",
        &["concat", "OUT", &csr, &csc, "--join", "outer"],
    );
}
