//! Our reading and writing of `.h5ad` files compared with anndata's (skipped without it).

use std::path::{Path, PathBuf};
use std::process::Command;

use h5ad::{AnnData, Column, DataFrame, Element, Format, Matrix, Selection, Values, WriteOptions};
use serde_json::{json, Value as J};

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name)
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/anndata_check.py")
}

fn have_anndata() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import anndata, h5py, scipy, pandas"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("skipping: python3 with anndata, h5py, scipy and pandas is not available");
    }
    ok
}

fn run_check(args: &[&str]) {
    let out = Command::new("python3")
        .arg(script())
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "anndata_check.py {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn values_json(v: &Values) -> Vec<J> {
    match v {
        Values::Bool(b) => b.iter().map(|&x| json!(x)).collect(),
        v => v.to_f64().into_iter().map(|x| json!(x)).collect(),
    }
}

fn nest(flat: Vec<J>, shape: &[usize]) -> J {
    match shape {
        [] => flat.into_iter().next().unwrap_or(J::Null),
        [_] => J::Array(flat),
        [_, rest @ ..] => {
            let stride: usize = rest.iter().product();
            if stride == 0 {
                return J::Array(vec![]);
            }
            J::Array(
                flat.chunks(stride)
                    .map(|c| nest(c.to_vec(), rest))
                    .collect(),
            )
        }
    }
}

fn sparse_json(s: &h5ad::SparseResult) -> J {
    let (r, c) = s.shape;
    let is_bool = matches!(s.data, Values::Bool(_));
    let zero = if is_bool { json!(false) } else { json!(0.0) };
    let mut flat = vec![zero; r * c];
    let vals = values_json(&s.data);
    let (indptr, indices) = (s.indptr_usize().unwrap(), s.indices_usize().unwrap());
    for (major, w) in indptr.windows(2).enumerate() {
        for (&minor, v) in indices[w[0]..w[1]].iter().zip(&vals[w[0]..w[1]]) {
            let (i, j) = match s.format {
                Format::Csr => (major, minor),
                Format::Csc => (minor, major),
            };
            flat[i * c + j] = v.clone();
        }
    }
    nest(flat, &[r, c])
}

fn matrix_json(m: &Matrix) -> J {
    match m {
        Matrix::Dense(d) => nest(values_json(&d.values), &d.shape),
        Matrix::Sparse(s) => sparse_json(s),
        Matrix::Backed(b) => matrix_json(&b.to_memory().unwrap()),
    }
}

fn column_json(c: &Column) -> J {
    match c {
        Column::Numeric(v) => json!({"kind": "numeric", "values": values_json(v)}),
        Column::Bool(b) => json!({"kind": "bool", "values": b}),
        Column::Strings(s) => json!({"kind": "string", "values": s}),
        Column::Categorical {
            codes,
            categories,
            ordered,
        } => json!({"kind": "categorical", "values": codes, "categories": column_json(categories),
                    "ordered": ordered}),
        Column::Nullable { values, mask } => {
            let vals = match column_json(values)["values"].clone() {
                J::Array(v) => v,
                _ => vec![],
            };
            let v: Vec<J> = vals
                .into_iter()
                .zip(mask)
                .map(|(v, &m)| if m { J::Null } else { v })
                .collect();
            json!({"kind": "nullable", "values": v})
        }
    }
}

fn frame_json(df: &DataFrame) -> J {
    let names: Vec<&String> = df.columns.iter().map(|(n, _)| n).collect();
    let data: serde_json::Map<String, J> = df
        .columns
        .iter()
        .map(|(n, c)| (n.clone(), column_json(c)))
        .collect();
    json!({"index": df.index, "columns": names, "data": data})
}

fn elem_json(e: &Element) -> J {
    match e {
        Element::Dict(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), elem_json(v))).collect()),
        Element::Dense(d) => nest(values_json(&d.values), &d.shape),
        Element::Strings(s) => nest(s.values.iter().map(|x| json!(x)).collect(), &s.shape),
        Element::Scalar(v) => values_json(v).into_iter().next().unwrap_or(J::Null),
        Element::String(s) => json!(s),
        Element::Sparse(s) => sparse_json(s),
        Element::DataFrame(df) => frame_json(df),
        Element::Column(c) => column_json(c),
        Element::Records(f) => {
            J::Object(f.iter().map(|(k, v)| (k.clone(), elem_json(v))).collect())
        }
    }
}

fn summary(a: &AnnData) -> J {
    let mats = |m: &std::collections::BTreeMap<String, Matrix>| {
        J::Object(m.iter().map(|(k, v)| (k.clone(), matrix_json(v))).collect())
    };
    let elems = |m: &std::collections::BTreeMap<String, Element>| {
        J::Object(m.iter().map(|(k, v)| (k.clone(), elem_json(v))).collect())
    };
    json!({
        "shape": [a.n_obs, a.n_vars],
        "X": a.x.as_ref().map(matrix_json),
        "layers": mats(&a.layers),
        "obs": frame_json(&a.obs),
        "var": frame_json(&a.var),
        "obsm": elems(&a.obsm),
        "varm": elems(&a.varm),
        "obsp": mats(&a.obsp),
        "varp": mats(&a.varp),
        "uns": elems(&a.uns),
    })
}

const FIXTURES: [&str; 3] = ["adata_dense.h5ad", "adata_csr.h5ad", "adata_csc.h5ad"];

fn compare_summary(ours: &AnnData, file: &Path, dir: &Path, extra: &[&str]) {
    let js = dir.join("ours.json");
    std::fs::write(&js, summary(ours).to_string()).unwrap();
    let mut args = vec!["summary", file.to_str().unwrap(), js.to_str().unwrap()];
    args.extend_from_slice(extra);
    run_check(&args);
}

#[test]
fn read_fixtures_like_anndata() {
    if !have_anndata() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for name in FIXTURES {
        let path = testdata(name);
        let a = AnnData::read(&path).unwrap();
        assert!(!a.is_backed());
        compare_summary(&a, &path, dir.path(), &[]);
        let b = AnnData::open(&path).unwrap();
        assert!(b.is_backed(), "{name}: X stays in the file");
        compare_summary(&b, &path, dir.path(), &[]);
    }
}

#[test]
fn subset_like_anndata() {
    if !have_anndata() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let rows = Selection::List(vec![3, 1, 4, 1, 14]);
    let cols = Selection::Range {
        start: 2,
        step: 1,
        len: 5,
    };
    for name in FIXTURES {
        let path = testdata(name);
        for backed in [true, false] {
            let a = if backed {
                AnnData::open(&path)
            } else {
                AnnData::read(&path)
            }
            .unwrap();
            let s = a.subset(&rows, &cols).unwrap();
            assert!(!s.is_backed());
            assert_eq!((s.n_obs, s.n_vars), (5, 5));
            compare_summary(&s, &path, dir.path(), &["[3,1,4,1,14]", "[2,3,4,5,6]"]);
        }
    }
}

#[test]
fn written_files_read_back_by_anndata() {
    if !have_anndata() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for name in FIXTURES {
        let path = testdata(name);
        let a = AnnData::read(&path).unwrap();
        let out = dir.path().join(format!("plain_{name}"));
        a.write_h5ad(&out, WriteOptions::default()).unwrap();
        run_check(&["same", path.to_str().unwrap(), out.to_str().unwrap()]);

        let out = dir.path().join(format!("csc_gzip_{name}"));
        let opts = WriteOptions {
            x_format: Some(Format::Csc),
            gzip: Some(4),
            chunk_elems: 7,
        };
        a.write_h5ad(&out, opts).unwrap();
        run_check(&["same", path.to_str().unwrap(), out.to_str().unwrap(), "csc"]);

        // Backed: X and layers streamed from the source file; then CSR.
        let b = AnnData::open(&path).unwrap();
        let out = dir.path().join(format!("from_backed_{name}"));
        b.write_h5ad(&out, WriteOptions::default()).unwrap();
        run_check(&["same", path.to_str().unwrap(), out.to_str().unwrap()]);
        let out2 = dir.path().join(format!("from_backed_csr_{name}"));
        let opts = WriteOptions {
            x_format: Some(Format::Csr),
            ..WriteOptions::default()
        };
        b.write_h5ad(&out2, opts).unwrap();
        run_check(&[
            "same",
            path.to_str().unwrap(),
            out2.to_str().unwrap(),
            "csr",
        ]);

        // And what we wrote, we read back identically.
        let again = AnnData::read(&out).unwrap();
        assert_eq!(summary(&again), summary(&a), "{name}");
    }
}

/// An anndata 0.7-era file written with h5py: a legacy 2017 sparse `X` (`h5sparse_format`),
/// a `dataframe` 0.1.0 `obs` whose categorical codes point to `__categories` by object
/// reference, an empty `column-order` of floats, and `uns`/`layers` without encodings.
const OLD_LAYOUT: &str = r#"
import sys, h5py, numpy as np, anndata as ad, warnings
warnings.simplefilter("ignore")
out = sys.argv[1]
with h5py.File(out, "w") as f:
    n, m = 4, 3
    X = f.create_group("X")
    X.attrs["h5sparse_format"] = "csr"
    X.attrs["h5sparse_shape"] = np.array([n, m])
    X["data"] = np.array([1.0, 2.0, 3.0], "f4")
    X["indices"] = np.array([0, 2, 1], "i4")
    X["indptr"] = np.array([0, 1, 1, 3, 3], "i4")
    obs = f.create_group("obs")
    obs.attrs["encoding-type"] = "dataframe"
    obs.attrs["encoding-version"] = "0.1.0"
    obs.attrs["_index"] = "index"
    obs.attrs["column-order"] = np.array(["cell_type", "n"], dtype=h5py.string_dtype())
    obs["index"] = np.array(["a", "b", "c", "d"], dtype=h5py.string_dtype())
    cats = obs.create_group("__categories")
    cats["cell_type"] = np.array(["B", "T"], dtype=h5py.string_dtype())
    obs["cell_type"] = np.array([0, 1, 1, -1], "i1")
    obs["cell_type"].attrs["categories"] = cats["cell_type"].ref
    obs["n"] = np.arange(4, dtype="i8")
    var = f.create_group("var")
    var.attrs["encoding-type"] = "dataframe"
    var.attrs["encoding-version"] = "0.1.0"
    var.attrs["_index"] = "index"
    var.attrs["column-order"] = np.array([], dtype="f8")
    var["index"] = np.array(["g0", "g1", "g2"], dtype=h5py.string_dtype())
    uns = f.create_group("uns")
    uns["x"] = np.arange(3)
    uns.create_group("d")["s"] = np.array(["p", "q"], dtype=h5py.string_dtype())
    f.create_group("layers")["L"] = np.arange(12, dtype="f8").reshape(4, 3)
"#;

#[test]
fn old_layouts_like_anndata() {
    if !have_anndata() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.h5ad");
    let st = Command::new("python3")
        .args(["-c", OLD_LAYOUT])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let a = AnnData::read(&path).unwrap();
    assert!(matches!(
        a.obs.column("cell_type"),
        Some(Column::Categorical { .. })
    ));
    compare_summary(&a, &path, dir.path(), &[]);
    let b = AnnData::open(&path).unwrap();
    compare_summary(&b, &path, dir.path(), &[]);
    // Written back in today's encoding, anndata reads the same.
    let out = dir.path().join("new.h5ad");
    a.write_h5ad(&out, WriteOptions::default()).unwrap();
    run_check(&["same", path.to_str().unwrap(), out.to_str().unwrap()]);
}

/// The `.h5ad` datasets shipped inside scanpy's wheel (fetched by `tests/realworld/fetch.sh`
/// at test time, never committed) read like anndata reads them, in memory and backed.
#[test]
fn scanpy_wheel_datasets_read_like_anndata() {
    if !have_anndata() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dest = root.join("testdata/realworld");
    let fetched = Command::new("sh")
        .arg(root.join("tests/realworld/fetch.sh"))
        .arg(&dest)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let files: Vec<PathBuf> = std::fs::read_dir(dest.join("scanpy"))
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "h5ad"))
                .collect()
        })
        .unwrap_or_default();
    if files.is_empty() {
        eprintln!("skipping: scanpy's wheel could not be fetched (fetch ok: {fetched})");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for path in &files {
        let a = AnnData::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        compare_summary(&a, path, dir.path(), &[]);
        let b = AnnData::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        compare_summary(&b, path, dir.path(), &[]);
        // Written back in the current layout, anndata reads what we hold. Structured
        // arrays are written as dicts of their fields: names with '/' are refused.
        let out = dir.path().join("rewritten.h5ad");
        for mut x in [a, b] {
            let has_slash_fields = |x: &AnnData| {
                x.uns.get("rank_genes_groups").is_some_and(|e| {
                    matches!(e, Element::Dict(d) if d.values().any(|v| matches!(v,
                        Element::Records(f) if f.iter().any(|(k, _)| k.contains('/')))))
                })
            };
            if has_slash_fields(&x) {
                let err = x.write_h5ad(&out, WriteOptions::default()).unwrap_err();
                assert!(err.to_string().contains("rank_genes_groups"), "{err}");
                x.uns.remove("rank_genes_groups");
            }
            x.write_h5ad(&out, WriteOptions::default()).unwrap();
            compare_summary(&x, &out, dir.path(), &[]);
        }
    }
    println!("{} scanpy datasets read like anndata", files.len());
}

#[test]
fn rec_array_in_uns_reads_like_anndata() {
    if !have_anndata() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.h5ad");
    let code = "import sys, numpy as np, anndata as ad\n\
a = ad.AnnData(np.ones((3, 2), dtype='f4'))\n\
a.uns['rec'] = np.rec.fromarrays([np.array(['x', 'yy', 'z']), np.arange(3.0), np.array([True, False, True])], names=['s', 'f', 'b'])\n\
a.write_h5ad(sys.argv[1])\n";
    let ok = Command::new("python3")
        .args(["-c", code, path.to_str().unwrap()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "python3 wrote the fixture");
    let a = AnnData::read(&path).unwrap();
    assert!(matches!(a.uns.get("rec"), Some(Element::Records(f)) if f.len() == 3));
    compare_summary(&a, &path, dir.path(), &[]);
    let out = dir.path().join("rec_out.h5ad");
    a.write_h5ad(&out, WriteOptions::default()).unwrap();
    compare_summary(&a, &out, dir.path(), &[]);
}
