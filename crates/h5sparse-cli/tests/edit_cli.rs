//! `h5sparse edit FILE ACTION`: in-place changes of an AnnData fixture, checked by h5py,
//! anndata and `h5dump`; a refused change exits 1 with one `error:` line and leaves the
//! file byte for byte as it was.

mod support;

use std::path::Path;
use std::process::Command;

use support::{have_h5dump, python_or_skip, root, BIN};

fn edit(file: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("edit")
        .arg(file)
        .args(args)
        .output()
        .expect("run h5sparse")
}

#[test]
fn edit_an_h5ad_in_place() {
    if !python_or_skip(
        "h5py, anndata",
        "skipping: python3 with h5py and anndata is not available",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.h5ad");
    std::fs::copy(root().join("testdata/adata_csr.h5ad"), &p).unwrap();
    for args in [
        &["set-attr", "/obs", "note", "\"hello\""][..],
        &["set-attr", "/", "nums", "[1, 2, 3]"],
        &["set-attr", "/", "xs", "[1.5, -2]"],
        &["set-attr", "/uns", "names", "[\"a\", \"é\"]"],
        &["set-attr", "/X", "shape", "[15, 10]"],
        &["mkgroup", "/uns/new"],
        &["rm", "/varp"],
        &["del-attr", "/", "nums"],
    ] {
        let out = edit(&p, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for args in [
        &["rm", "/nope"][..],
        &["set-attr", "/", "bad", "{\"a\": 1}"],
        &["del-attr", "/", "absent"],
        &["mkgroup", "/obs"],
    ] {
        let before = std::fs::read(&p).unwrap();
        let out = edit(&p, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr.starts_with("error:") && stderr.lines().count() == 1,
            "{stderr}"
        );
        assert!(
            std::fs::read(&p).unwrap() == before,
            "{args:?} changed the file"
        );
    }
    let script = r#"
import sys, h5py, anndata, numpy as np
f = h5py.File(sys.argv[1], 'r')
assert f['obs'].attrs['note'] == 'hello'
assert 'nums' not in f.attrs
assert list(f.attrs['xs']) == [1.5, -2.0]
assert list(f['uns'].attrs['names']) == ['a', 'é']
assert list(f['X'].attrs['shape']) == [15, 10]
assert isinstance(f['uns/new'], h5py.Group) and 'varp' not in f
a = anndata.read_h5ad(sys.argv[1])
assert a.shape == (15, 10) and len(a.varp) == 0 and 'new' in a.uns
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&p)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if have_h5dump() {
        let out = Command::new("h5dump").arg(&p).output().unwrap();
        assert!(out.status.success() && out.stderr.is_empty());
    }
}
