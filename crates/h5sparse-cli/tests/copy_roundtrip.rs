//! `h5sparse copy` on every fixture: the copy, dumped by h5py (`testdata/h5py_dump.py`), must
//! equal the fixture's committed reference JSON, and `h5dump` must accept it. Fixtures the
//! writer cannot represent must fail cleanly (exit 1, one `error:` line, no output file).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{have_h5dump, python_or_skip, root};

/// Fixtures the copy refuses, with the object its error names (every other fixture,
/// including `everything_*.h5` and `groups_latest.h5`, round-trips): virtual datasets are
/// not written yet as such (a plain copy keeps layouts).
const REFUSED: &[(&str, &str)] = &[("vds.h5", "/concat"), ("vds_latest.h5", "/concat")];

/// Fixtures whose copy libhdf5 (>= 1.14.4) refuses to open, so neither h5py nor h5dump can
/// check it: integers of reduced precision (n-bit) in the version-1 object headers the copy
/// writes ("datatype has unusually large # of unused bits"). A known writer gap (the copy
/// must use checksummed headers or full-precision types for them); the copy itself must
/// still succeed.
const UNCHECKABLE: &[&str] = &["nbit.h5"];

fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("testdata"))
        .expect("testdata")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("h5") | Some("h5ad")
            )
        })
        .collect();
    v.sort();
    v
}

fn copy(input: &Path, output: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_h5sparse"))
        .arg("copy")
        .arg(input)
        .arg(output)
        .args(extra)
        .output()
        .expect("run h5sparse")
}

fn h5py_dump(file: &Path) -> String {
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

fn check_all(extra: &[&str], tag: &str) {
    if !python_or_skip("h5py", "skipped: python3 with h5py is not available") {
        return;
    }
    let h5dump = have_h5dump();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for fx in fixtures() {
        let name = fx
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let out_path = dir.path().join(format!("{tag}_{name}"));
        let out = copy(&fx, &out_path, extra);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        // (A rechunked copy materializes virtual datasets: checked like the others.)
        let refused = REFUSED.iter().find(|(f, _)| *f == name && extra.is_empty());
        if let Some((_, obj)) = refused {
            let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
            if out.status.code() != Some(1) || errors.len() != 1 || !errors[0].contains(obj) {
                failures.push(format!(
                    "{name}: expected a clean refusal naming {obj}, got {:?}: {stderr}",
                    out.status
                ));
            }
            if out_path.exists() {
                failures.push(format!(
                    "{name}: a refused copy left {} behind",
                    out_path.display()
                ));
            }
            continue;
        }
        if !out.status.success() {
            failures.push(format!("{name}: copy failed: {stderr}"));
            continue;
        }
        if UNCHECKABLE.contains(&name.as_str()) {
            continue;
        }
        let reference =
            std::fs::read_to_string(format!("{}.json", fx.display())).expect("reference json");
        let got = h5py_dump(&out_path);
        if got.trim_end() != reference.trim_end() {
            failures.push(format!(
                "{name}: h5py dump of the copy differs from the reference"
            ));
        }
        if h5dump {
            let st = Command::new("h5dump")
                .arg(&out_path)
                .output()
                .expect("h5dump");
            if !st.status.success() {
                failures.push(format!("{name}: h5dump failed on the copy"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn copy_keeps_every_fixture() {
    check_all(&[], "plain");
}

#[test]
fn copy_rechunked_gzip_shuffle() {
    check_all(&["--gzip", "4", "--shuffle", "--chunk-elems", "1000"], "gz");
}

#[test]
fn copy_bad_options_are_user_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = root().join("testdata/notebook.h5");
    let out_path = dir.path().join("x.h5");
    for extra in [&["--gzip", "12"][..], &["--chunk-elems", "0"][..]] {
        let out = copy(&input, &out_path, extra);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("error:"));
        assert!(!out_path.exists());
    }
    let out = copy(&dir.path().join("missing.h5"), &out_path, &[]);
    assert_eq!(out.status.code(), Some(1));
}
