//! An AnnData-shaped file (CSR matrix group + obs/var dataframes) read by the `anndata`
//! package itself.

mod support;

use h5format::write::{AttrValue, DType, DatasetSpec, FileWriter};

#[test]
fn write_anndata_csr_readable_by_anndata() {
    if !support::python_or_skip(
        "anndata, h5py",
        "skipping: python3 with anndata is not available",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.h5ad");
    let mut w = FileWriter::create(&path).unwrap();
    let enc = |w: &mut FileWriter, p: &str, t: &str, v: &str| {
        w.set_attr(p, "encoding-type", t.into()).unwrap();
        w.set_attr(p, "encoding-version", v.into()).unwrap();
    };
    enc(&mut w, "/", "anndata", "0.1.0");
    // 3 x 4 CSR: [[1,0,2,0],[0,0,0,3],[4,5,0,0]]
    w.create_group("/X").unwrap();
    enc(&mut w, "/X", "csr_matrix", "0.1.0");
    w.set_attr("/X", "shape", AttrValue::array(&[3i64, 4]))
        .unwrap();
    let d = w
        .create_dataset(
            "/X/data",
            DatasetSpec::new(DType::F32, [0])
                .unlimited()
                .chunked([2])
                .deflate(4),
        )
        .unwrap();
    w.append_typed(d, &[1f32, 2.0, 3.0]).unwrap();
    w.append_typed(d, &[4f32, 5.0]).unwrap();
    let i = w
        .create_dataset("/X/indices", DatasetSpec::new(DType::I32, [5]))
        .unwrap();
    w.write_typed(i, &[0i32, 2, 3, 0, 1]).unwrap();
    let p = w
        .create_dataset("/X/indptr", DatasetSpec::new(DType::I64, [4]))
        .unwrap();
    w.write_typed(p, &[0i64, 2, 3, 5]).unwrap();
    for (df, names) in [
        ("obs", ["c0", "c1", "c2"].as_slice()),
        ("var", ["g0", "g1", "g2", "g3"].as_slice()),
    ] {
        w.create_group(&format!("/{df}")).unwrap();
        enc(&mut w, &format!("/{df}"), "dataframe", "0.2.0");
        w.set_attr(&format!("/{df}"), "_index", "_index".into())
            .unwrap();
        w.set_attr(
            &format!("/{df}"),
            "column-order",
            AttrValue::Strings(vec![]),
        )
        .unwrap();
        let ix = w
            .create_dataset(
                &format!("/{df}/_index"),
                DatasetSpec::new(DType::VarString, [names.len() as u64]),
            )
            .unwrap();
        w.write_strings(ix, names).unwrap();
        enc(&mut w, &format!("/{df}/_index"), "string-array", "0.2.0");
    }
    for g in ["obsm", "varm", "obsp", "varp", "layers", "uns"] {
        w.create_group(&format!("/{g}")).unwrap();
        enc(&mut w, &format!("/{g}"), "dict", "0.1.0");
    }
    w.finish().unwrap();
    let script = r#"
import sys, anndata, numpy as np
a = anndata.read_h5ad(sys.argv[1])
assert a.shape == (3, 4), a.shape
assert (a.X.toarray() == np.array([[1,0,2,0],[0,0,0,3],[4,5,0,0]], dtype=np.float32)).all()
assert list(a.obs_names) == ['c0', 'c1', 'c2'] and list(a.var_names) == ['g0', 'g1', 'g2', 'g3']
"#;
    support::python_ok("anndata", script, &path);
}
