//! `h5sparse import-10x` compared with scanpy.read_10x_h5's logic done with h5py + scipy,
//! read back by anndata (in memory and backed).

mod support;

use std::path::Path;
use std::process::Command;

const CHECK: &str = r#"
import sys, warnings
import h5py, numpy as np, scipy.sparse as sp, anndata as ad
warnings.simplefilter("ignore")
src, out, var_key = sys.argv[1], sys.argv[2], sys.argv[3]
with h5py.File(src, "r") as f:
    g = f["matrix"]
    nfeat, nbc = g["shape"][:]
    m = sp.csc_matrix((g["data"][:], g["indices"][:], g["indptr"][:]), shape=(nfeat, nbc))
    X = m.T.tocsr()
    dec = lambda a: [x.decode() for x in a[:]]
    barcodes = dec(g["barcodes"])
    ids, names = dec(g["features/id"]), dec(g["features/name"])
    types, genome = dec(g["features/feature_type"]), dec(g["features/genome"])
for backed in (None, "r"):
    a = ad.read_h5ad(out, backed=backed)
    Xa = a.X[:, :] if backed else a.X
    assert sp.issparse(Xa) and Xa.format == "csr", type(Xa)
    assert Xa.shape == (nbc, nfeat), Xa.shape
    assert (Xa != X).nnz == 0, "X differs"
    assert list(a.obs_names) == barcodes
    assert list(a.var_names) == (ids if var_key == "gene_ids" else names)
    assert list(a.var.columns) == ["gene_ids", "feature_types", "genome"], list(a.var.columns)
    assert list(a.var["gene_ids"]) == ids and list(a.var["feature_types"]) == types
    assert list(a.var["genome"]) == genome
with h5py.File(out, "r") as f:
    assert f["X"].attrs["encoding-type"] == "csr_matrix"
print("ok")
"#;

#[test]
fn import_10x_matches_scanpy_logic() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/tenx.h5");
    let dir = tempfile::tempdir().unwrap();
    for (args, key) in [
        (vec![], "gene_symbols"),
        (
            vec![
                "--var-names",
                "gene_ids",
                "--gzip",
                "4",
                "--chunk-elems",
                "5",
            ],
            "gene_ids",
        ),
    ] {
        let out = dir.path().join(format!("{key}.h5ad"));
        let st = Command::new(env!("CARGO_BIN_EXE_h5sparse"))
            .arg("import-10x")
            .arg(&src)
            .arg(&out)
            .args(&args)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        if !support::python_or_skip(
            "anndata, h5py, scipy",
            "skipping the anndata comparison: python3 with anndata is not available",
        ) {
            return;
        }
        let chk = Command::new("python3")
            .args(["-c", CHECK])
            .arg(&src)
            .arg(&out)
            .arg(key)
            .output()
            .unwrap();
        assert!(
            chk.status.success(),
            "{}{}",
            String::from_utf8_lossy(&chk.stdout),
            String::from_utf8_lossy(&chk.stderr)
        );
    }
}

#[test]
fn import_10x_rejects_other_files() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/adata_csr.h5ad");
    let dir = tempfile::tempdir().unwrap();
    let st = Command::new(env!("CARGO_BIN_EXE_h5sparse"))
        .arg("import-10x")
        .arg(&src)
        .arg(dir.path().join("x.h5ad"))
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(1));
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(err.starts_with("error:") && err.contains("10x"), "{err}");
}
