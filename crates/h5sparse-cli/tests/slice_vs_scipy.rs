//! `slice` against scipy on every sparse group of the fixtures, and `import-mtx` read back by
//! anndata and scipy (the oracle is libhdf5 through h5py, scipy and anndata).

mod support;

use std::process::Command;

use support::{have_h5dump, oracle_ok, python_or_skip, python_status_ok, root, BIN};

#[test]
fn slice_equals_scipy_on_every_fixture_group() {
    if !python_or_skip(
        "h5py, scipy",
        "skipping: python3 with h5py and scipy is not available",
    ) {
        return;
    }
    let out = Command::new("python3")
        .arg(root().join("tests/slice_vs_scipy.py"))
        .arg(BIN)
        .output()
        .expect("python3 runs");
    oracle_ok(&out, "slice differs from scipy");
}

#[test]
fn import_mtx_is_read_back_by_anndata_and_scipy() {
    if !python_or_skip(
        "h5py, scipy, anndata",
        "skipping: python3 with h5py, scipy and anndata is not available",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mtx = dir.path().join("m.mtx");
    let gen = format!(
        "import scipy.sparse as sp, scipy.io as sio, numpy as np\n\
         m = sp.random(300, 70, density=0.05, random_state=3, format='coo')\n\
         m.data = np.round(m.data * 100) / 7\n\
         sio.mmwrite({:?}, m)\n",
        mtx.to_string_lossy()
    );
    python_status_ok(&gen);
    let bin = BIN;
    let cases: [(&str, &[&str]); 4] = [
        ("a.h5", &[]),
        (
            "b.h5",
            &["--gzip", "4", "--chunk-elems", "100", "--format", "csc"],
        ),
        ("c.h5", &["--encoding", "h5sparse", "--group", "M"]),
        ("d.h5ad", &["--gzip", "1"]),
    ];
    for (name, extra) in cases {
        let out_path = dir.path().join(name);
        let st = Command::new(bin)
            .arg("import-mtx")
            .arg(&mtx)
            .arg(&out_path)
            .args(extra)
            .output()
            .expect("run");
        assert!(
            st.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&st.stderr)
        );
        let check = format!(
            "import sys, h5py, anndata, scipy.io as sio, numpy as np\n\
             from anndata.io import sparse_dataset\n\
             want = sio.mmread({mtx:?}).tocsr()\n\
             p = {p:?}\n\
             if p.endswith('.h5ad'):\n\
             \x20   a = anndata.read_h5ad(p); got = a.X\n\
             \x20   assert list(a.obs_names[:3]) == ['0', '1', '2'], a.obs_names\n\
             \x20   b = anndata.read_h5ad(p, backed='r'); assert abs(b.X[:] - want).max() == 0\n\
             else:\n\
             \x20   f = h5py.File(p, 'r'); g = f['M'] if 'M' in f else f['X']\n\
             \x20   if 'h5sparse_format' in g.attrs:\n\
             \x20       import scipy.sparse as sp\n\
             \x20       got = sp.csr_matrix((g['data'][()], g['indices'][()], g['indptr'][()]), shape=tuple(g.attrs['h5sparse_shape']))\n\
             \x20   else:\n\
             \x20       got = sparse_dataset(g)[:]\n\
             assert got.shape == want.shape, (got.shape, want.shape)\n\
             assert abs(got - want).max() == 0\n\
             assert got.nnz == want.nnz\n",
            mtx = mtx.to_string_lossy(),
            p = out_path.to_string_lossy()
        );
        let st = Command::new("python3")
            .args(["-c", &check])
            .output()
            .expect("python");
        assert!(
            st.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&st.stderr)
        );
        if have_h5dump() {
            let d = Command::new("h5dump")
                .arg("-H")
                .arg(&out_path)
                .output()
                .expect("h5dump");
            assert!(
                d.status.success(),
                "{name}: h5dump failed: {}",
                String::from_utf8_lossy(&d.stderr)
            );
        }
    }
}
