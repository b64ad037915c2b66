//! Real-world files that no one in this project wrote: the HDF5 test files inside the PyPI
//! wheels of PyTables, h5py and scanpy, fetched by `tests/realworld/fetch.sh` into
//! `testdata/realworld/` (git-ignored) and compared with the h5py reference by
//! `tests/realworld/compare.py`.
//!
//! Skips (passes with a message) when the files cannot be fetched (no network) or h5py is
//! missing. Fails only when a file that h5py dumps is neither matched nor listed with a
//! reason in `tests/realworld/known.txt`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// True when at least one HDF5 file is under `dir` (recursively).
fn has_hdf5_files(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            has_hdf5_files(&p)
        } else {
            p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| matches!(x, "h5" | "h5ad" | "hdf5" | "nc"))
        }
    })
}

#[test]
fn realworld_files_match_h5py() {
    let root = workspace_root();
    let h5py = Command::new("python3").args(["-c", "import h5py"]).output();
    if !h5py.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: python3 with h5py is not available");
        return;
    }
    let dest = root.join("testdata/realworld");
    let fetch = Command::new("sh")
        .arg(root.join("tests/realworld/fetch.sh"))
        .arg(&dest)
        .output();
    match &fetch {
        Ok(o) if o.status.success() => {}
        Ok(o) => eprintln!(
            "fetch.sh failed (exit {:?}): {}",
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => eprintln!("cannot run fetch.sh: {e}"),
    }
    if !has_hdf5_files(&dest) {
        eprintln!(
            "skipped: no real-world files in {} (no network?)",
            dest.display()
        );
        return;
    }
    let out = Command::new("python3")
        .arg(root.join("tests/realworld/compare.py"))
        .arg(env!("CARGO_BIN_EXE_h5sparse"))
        .arg(&dest)
        .output()
        .expect("run compare.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    assert!(
        out.status.success(),
        "compare.py exit {:?}: {}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr),
        stdout
            .lines()
            .filter(|l| l.contains("NOT IN known.txt") || l.starts_with("not matched"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
