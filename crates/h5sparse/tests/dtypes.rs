//! Results keep the file's element types (no widening): for every sparse group of the
//! fixtures, the dtypes h5py reports for `indices`/`indptr`/`data` are those of a full load,
//! a row block, an unsorted row list and a column selection. (Values are compared with scipy
//! by `scipy_oracle.rs` and the CLI's `slice_vs_scipy.rs`.)

use h5format::File;
use h5sparse::{ElemType, Values};
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn dtype_of(name: &str) -> ElemType {
    match name {
        "int32" => ElemType::I32,
        "int64" => ElemType::I64,
        "uint32" => ElemType::U32,
        "uint64" => ElemType::U64,
        "float32" => ElemType::F32,
        "float64" => ElemType::F64,
        other => panic!("unexpected dtype {other}"),
    }
}

#[test]
fn results_keep_the_files_dtypes() {
    let ok = Command::new("python3")
        .args(["-c", "import h5py, scipy"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("skipping: python3 with h5py and scipy is not available");
        return;
    }
    // Every sparse group: file, path and the dtypes of its three datasets.
    let script = r#"
import sys, h5py
for fn in sys.argv[1:]:
    f = h5py.File(fn)
    def v(n, o):
        if isinstance(o, h5py.Group) and "indptr" in o and "indices" in o:
            print(fn, "/" + n, o["indices"].dtype, o["indptr"].dtype, o["data"].dtype)
    f.visititems(v)
"#;
    let files: Vec<PathBuf> = [
        "sparse_anndata.h5",
        "tenx.h5",
        "notebook.h5",
        "adata_csr.h5ad",
        "adata_csc.h5ad",
    ]
    .iter()
    .map(|f| root().join("testdata").join(f))
    .collect();
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut groups = 0;
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        let (fname, path) = (w[0], w[1]);
        let (ix, ptr, data) = (dtype_of(w[2]), dtype_of(w[3]), dtype_of(w[4]));
        let file = File::open(fname).unwrap();
        let m = h5sparse::hdf5::open(&file, path).unwrap();
        let (r, c) = m.shape();
        let sels: Vec<(Option<String>, Option<String>)> = vec![
            (None, None),
            (Some(format!("0:{}", r.min(3))), None),
            (
                Some(if r > 1 { "1,0,1".into() } else { "0,0".into() }),
                None,
            ),
            (None, Some(format!("0:{}", c.min(2)))),
        ];
        for (rows, cols) in sels {
            let res = m.select_text(rows.as_deref(), cols.as_deref()).unwrap();
            let what = format!("{fname} {path} {rows:?} {cols:?}");
            assert_eq!(res.indices.elem(), ix, "indices of {what}");
            assert_eq!(res.indptr.elem(), ptr, "indptr of {what}");
            assert_eq!(res.data.elem(), data, "data of {what}");
            assert!(matches!(
                res.indices,
                Values::I32(_) | Values::I64(_) | Values::U32(_) | Values::U64(_)
            ));
        }
        groups += 1;
    }
    assert!(groups >= 20, "{groups} groups");
}
