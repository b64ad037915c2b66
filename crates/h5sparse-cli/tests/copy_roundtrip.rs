//! `h5sparse copy` on every fixture: the copy, dumped by h5py (`testdata/h5py_dump.py`), must
//! equal the fixture's committed reference JSON, and `h5dump` must accept it. Fixtures the
//! writer cannot represent must fail cleanly (exit 1, one `error:` line, no output file).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{h5py_dump, have_h5dump, python_or_skip, root};

/// Fixtures the copy refuses, with the object its error names (none: every fixture,
/// including `everything_*.h5` and `groups_latest.h5`, round-trips).
/// Fixtures the copy refuses, with the object the error must name.
const REFUSED: &[(&str, &str)] = &[("nbit.h5", "/array_u2")];

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

/// hdf5plugin's plugin folder, if it is installed.
fn plugin_path() -> Option<String> {
    let out = Command::new("python3")
        .args(["-c", "import hdf5plugin; print(hdf5plugin.PLUGIN_PATH)"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Whether `h5dump` (with the plugin folder) dumps `file` without an error.
fn h5dump_ok(file: &Path, plugins: &Option<String>) -> bool {
    let mut cmd = Command::new("h5dump");
    if let Some(p) = plugins {
        cmd.env("HDF5_PLUGIN_PATH", p);
    }
    cmd.arg(file)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn check_all(extra: &[&str], tag: &str) {
    if !python_or_skip("h5py", "skipped: python3 with h5py is not available") {
        return;
    }
    let h5dump = have_h5dump();
    let plugins = plugin_path();
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
        if let Some((_, obj)) = REFUSED.iter().find(|(f, _)| *f == name) {
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
        let reference =
            std::fs::read_to_string(format!("{}.json", fx.display())).expect("reference json");
        let got = h5py_dump(&out_path);
        if got.trim_end() != reference.trim_end() {
            failures.push(format!(
                "{name}: h5py dump of the copy differs from the reference"
            ));
        }
        // h5dump (with hdf5plugin's plugins) must accept the copy wherever it accepts the
        // fixture: it has no LZF plugin, and the copy keeps the fixtures' LZF filters.
        if h5dump && h5dump_ok(&fx, &plugins) && !h5dump_ok(&out_path, &plugins) {
            failures.push(format!("{name}: h5dump failed on the copy"));
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

/// Datasets filtered by LZF, zstd, LZ4, bitshuffle and Blosc keep their filters (ids and
/// client data, as h5py reports them) and values; chunks are re-encoded by our encoders.
#[test]
fn copy_keeps_plugin_filters() {
    if !python_or_skip(
        "h5py, hdf5plugin",
        "skipped: python3 with h5py and hdf5plugin is not available",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for fx in ["plugins.h5", "chunked_latest.h5", "chunked_earliest.h5"] {
        let input = root().join("testdata").join(fx);
        let out_path = dir.path().join(fx);
        let out = copy(&input, &out_path, &[]);
        assert!(
            out.status.success(),
            "{fx}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let script = r#"
import sys, h5py, hdf5plugin, numpy as np
a, b = h5py.File(sys.argv[1], 'r'), h5py.File(sys.argv[2], 'r')
def filters(d):
    pl = d.id.get_create_plist()
    return [pl.get_filter(i)[:3:2] for i in range(pl.get_nfilters())]
seen = set()
def check(name, o):
    if not isinstance(o, h5py.Dataset):
        return
    fa = filters(o)
    for i, _ in fa:
        if i >= 256:
            seen.add(i)
            assert filters(b[name]) == fa, (name, filters(b[name]), fa)
            assert np.array_equal(b[name][()], o[()]), name
a.visititems(check)
print(sorted(seen))
"#;
        let st = Command::new("python3")
            .args(["-c", script])
            .arg(&input)
            .arg(&out_path)
            .output()
            .expect("python3");
        assert!(
            st.status.success(),
            "{fx}: {}",
            String::from_utf8_lossy(&st.stderr)
        );
        let seen = String::from_utf8_lossy(&st.stdout);
        let want = if fx == "plugins.h5" {
            "[32001, 32004, 32008, 32015]"
        } else {
            "[32000]"
        };
        assert_eq!(seen.trim(), want, "{fx}");
    }
}

/// Variable-length string attributes of rank 2 and 3 are copied with their shape.
#[test]
fn copy_string_attributes_of_rank_2() {
    if !python_or_skip("h5py", "skipped: python3 with h5py is not available") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.h5");
    let output = dir.path().join("out.h5");
    let make = r#"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], 'w') as f:
    f.attrs['m'] = np.array([['a', 'bé'], ['', 'long ' * 20]], dtype=h5py.string_dtype())
    f.create_group('g').attrs['c'] = np.array(['x%d' % i for i in range(12)], dtype=h5py.string_dtype()).reshape(2, 3, 2)
"#;
    let st = Command::new("python3")
        .args(["-c", make])
        .arg(&input)
        .status()
        .expect("python3");
    assert!(st.success());
    let out = copy(&input, &output, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let check = r#"
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], 'r'), h5py.File(sys.argv[2], 'r')
for obj, name in [('/', 'm'), ('/g', 'c')]:
    x, y = a[obj].attrs[name], b[obj].attrs[name]
    assert x.shape == y.shape and x.dtype == y.dtype and (x == y).all(), (x, y)
"#;
    let st = Command::new("python3")
        .args(["-c", check])
        .arg(&input)
        .arg(&output)
        .output()
        .expect("python3");
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    if have_h5dump() {
        assert!(h5dump_ok(&output, &None), "h5dump failed on the copy");
    }
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
