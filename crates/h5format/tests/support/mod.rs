//! Helpers shared by the h5format integration tests (each test file does `mod support;`):
//! probing python3 for modules, running Python checks and `h5dump`, the deflate decoder.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};

use h5format::read::chunked::ChunkDecoder;
use h5format::{Error, Result};

/// The skip message of tests that need python3 with h5py.
pub const NO_H5PY: &str = "skipping: python3 with h5py is not available";

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

/// Whether python3 with h5py is available (prints [`NO_H5PY`] if not).
pub fn have_h5py() -> bool {
    python_or_skip("h5py", NO_H5PY)
}

/// Run `python3 -c script args...`.
pub fn run_python<A: AsRef<OsStr>>(script: &str, args: &[A]) -> Output {
    Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python3")
}

/// Run `python3 -c script arg` and require exit status 0 (`"<what> failed: <stderr>"`).
pub fn python_ok(what: &str, script: &str, arg: impl AsRef<OsStr>) -> Output {
    let out = run_python(script, &[arg]);
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Run `script` with `path` as `sys.argv[1]` (bound to `p`, with `h5py`, `np` imported); it
/// must exit 0.
pub fn check_py(path: &Path, script: &str) {
    let full = format!("import sys, h5py, numpy as np\np = sys.argv[1]\n{script}\n");
    let out = run_python(&full, &[path]);
    assert!(
        out.status.success(),
        "h5py check failed:\n{}\n--- stdout\n{}\n--- stderr\n{}",
        full,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `h5dump` (`-H` if `header_only`) must exit 0 without error output (skipped if h5dump is
/// missing).
pub fn check_h5dump(path: &Path, header_only: bool) {
    let mut cmd = Command::new("h5dump");
    if header_only {
        cmd.arg("-H");
    }
    let Ok(out) = cmd.arg(path).output() else {
        eprintln!("skipping h5dump: not installed");
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "h5dump failed on {}: {stderr}\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Run the fixture generator `python3 -c script dir` and require exit status 0.
pub fn generate_fixtures(script: &str, dir: &Path) {
    let st = Command::new("python3")
        .args(["-c", script, dir.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(st.success(), "fixture generation failed");
}

/// Inflate a zlib chunk unless filter 0 is masked out (the deflate-only pipeline of the tests).
pub fn inflate(raw: Vec<u8>, mask: u32, expected: usize, addr: u64) -> Result<Vec<u8>> {
    if mask & 1 != 0 {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(expected);
    flate2::read::ZlibDecoder::new(&raw[..])
        .read_to_end(&mut out)
        .map_err(|e| Error::Filter {
            id: 1,
            name: "deflate".into(),
            offset: addr,
            detail: e.to_string(),
        })?;
    Ok(out)
}

/// Deflate-only filter pipeline for the tests.
pub struct Deflate;

impl ChunkDecoder for Deflate {
    fn decode(&self, raw: Vec<u8>, mask: u32, expected: usize, addr: u64) -> Result<Vec<u8>> {
        inflate(raw, mask, expected, addr)
    }
}
