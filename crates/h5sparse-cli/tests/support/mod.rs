//! Helpers shared by the h5sparse-cli integration tests (each test file does `mod support;`):
//! the workspace root, probing python3 for modules, running Python oracles.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `h5sparse` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_h5sparse");

/// The workspace root (holds `testdata/` and `tests/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether `python3 -c "import <modules>"` succeeds.
pub fn python_has(modules: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// [`python_has`], printing `skip` to stderr when the modules are missing.
pub fn python_or_skip(modules: &str, skip: &str) -> bool {
    let ok = python_has(modules);
    if !ok {
        eprintln!("{skip}");
    }
    ok
}

/// The dump of `file` by the h5py oracle `testdata/h5py_dump.py` (what `dump --json` must
/// print); it must succeed.
pub fn h5py_dump(file: &Path) -> String {
    let out = Command::new("python3")
        .arg(root().join("testdata/h5py_dump.py"))
        .arg(file)
        .output()
        .expect("run h5py_dump.py");
    assert!(
        out.status.success(),
        "h5py_dump.py failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 dump")
}

/// Whether `h5dump` can be run.
pub fn have_h5dump() -> bool {
    Command::new("h5dump").arg("--version").output().is_ok()
}

/// Run `python3 -c script` (output not captured); it must exit 0.
pub fn python_status_ok(script: &str) {
    assert!(Command::new("python3")
        .args(["-c", script])
        .status()
        .expect("python")
        .success());
}

/// Print the stdout of an oracle run and require exit status 0 (`"<what>:\n<stdout>\n<stderr>"`).
pub fn oracle_ok(out: &Output, what: &str) {
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    assert!(
        out.status.success(),
        "{what}:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
