"""`read_h5ad` equals `anndata.read_h5ad` on every .h5ad fixture (X, layers, obs/var with
dtypes and categories, obsm, varm, obsp, varp, uns); the backed form has dask X/layers that
compute to the same matrices and survives pickling."""
import os
import pickle

import anndata
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import h5sparse

_TESTDATA = os.path.join(os.path.dirname(__file__), "../../../testdata")
H5AD = sorted(p for p in os.listdir(_TESTDATA) if p.endswith(".h5ad"))
# The datasets of scanpy's wheel, fetched by tests/realworld/fetch.sh (the Rust tests of
# .ci/run fetch them first; absent offline).
_SCANPY = os.path.join(_TESTDATA, "realworld", "scanpy")
if os.path.isdir(_SCANPY):
    H5AD += sorted(os.path.relpath(os.path.join(d, f), _TESTDATA)
                   for d, _, fs in os.walk(_SCANPY) for f in fs if f.endswith(".h5ad"))


def _eq(a, b, what):
    if sp.issparse(b):
        assert sp.issparse(a), what
        assert a.shape == b.shape and a.format == b.format, what
        np.testing.assert_array_equal(a.toarray(), b.toarray(), err_msg=what)
        assert a.dtype == b.dtype, what
    elif isinstance(b, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=what)
    elif isinstance(b, dict):
        assert isinstance(a, dict) and sorted(a) == sorted(b), what
        for k in b:
            _eq(a[k], b[k], f"{what}/{k}")
    elif isinstance(b, np.ndarray):
        a = np.asarray(a)
        assert a.shape == b.shape, what
        if b.dtype.names:
            assert a.dtype.names == b.dtype.names, what
            assert a.dtype == b.dtype, what
            for n in b.dtype.names:
                np.testing.assert_array_equal(a[n], b[n], err_msg=f"{what}.{n}")
        else:
            np.testing.assert_array_equal(a, b, err_msg=what)
            # Strings of pre-0.7 files included: '<U{n}' where anndata gives it.
            assert a.dtype == b.dtype, what
    elif hasattr(b, "compute"):
        _eq(a.compute(), b.compute(), what)
    else:
        assert a == b, what
        assert type(a) is type(b) or np.asarray(a).dtype == np.asarray(b).dtype, what


@pytest.mark.parametrize("fixture", H5AD)
def test_read_h5ad_equals_anndata(testdata, fixture):
    path = str(testdata / fixture)
    want = anndata.read_h5ad(path)
    got = h5sparse.read_h5ad(path)
    assert got.shape == want.shape
    _eq(got.X, want.X, "X")
    pd.testing.assert_frame_equal(got.obs, want.obs, check_exact=True)
    pd.testing.assert_frame_equal(got.var, want.var, check_exact=True)
    for slot in ("layers", "obsm", "varm", "obsp", "varp", "uns"):
        _eq(dict(getattr(got, slot)), dict(getattr(want, slot)), slot)


@pytest.mark.parametrize("fixture", H5AD)
def test_backed_is_lazy_and_pickles(testdata, fixture):
    path = str(testdata / fixture)
    want = anndata.read_h5ad(path)
    got = h5sparse.read_h5ad(path, backed=True)
    if sp.issparse(want.X):
        assert hasattr(got.X, "dask") and hasattr(got.X, "compute")
        _eq(got.X.compute(), want.X, "X")
    if isinstance(want.X, np.ndarray):
        # Dense X: lazy too, row blocks on the HDF5 chunk edges.
        assert hasattr(got.X, "dask") and hasattr(got.X, "compute")
        assert got.X.shape == want.X.shape and got.X.dtype == want.X.dtype
        import h5py
        with h5py.File(path) as h:
            step = h["X"].chunks[0] if h["X"].chunks else 1
        assert all(c % step == 0 for c in got.X.chunks[0][:-1]), got.X.chunks
        _eq(got.X.compute(), want.X, "X")
        _eq(got.X[1:3].compute(), want.X[1:3], "X[1:3]")
    for k, v in want.layers.items():
        if sp.issparse(v):
            _eq(got.layers[k].compute(), v, f"layers/{k}")
    again = pickle.loads(pickle.dumps(got))
    if sp.issparse(want.X) or isinstance(want.X, np.ndarray):
        _eq(again.X.compute(scheduler="sync"), want.X, "X after pickle")
    pd.testing.assert_frame_equal(again.obs, want.obs, check_exact=True)


def test_backed_dense_x_blocks_on_chunk_edges(tmp_path):
    """A chunked dense X (written by anndata) read backed: a dask array of row blocks whose
    edges are multiples of the HDF5 chunk rows, computing to anndata's X, before and after
    pickling."""
    import h5py

    rng = np.random.default_rng(7)
    x = rng.random((1000, 37)).astype(np.float32)
    path = str(tmp_path / "dense.h5ad")
    anndata.AnnData(X=x).write_h5ad(path, compression="gzip")
    want = anndata.read_h5ad(path)
    with h5py.File(path) as h:
        step = h["X"].chunks[0]
    assert step < 1000
    got = h5sparse.read_h5ad(path, backed=True)
    assert hasattr(got.X, "dask")
    _eq(got.X.compute(), want.X, "X")
    with h5sparse.File(path) as f:
        small = h5sparse._anndata.dense_dask(f["X"], target_bytes=step * 37 * 4 * 2)
    edges = np.cumsum(small.chunks[0])
    assert len(small.chunks[0]) > 1 and all(e % step == 0 for e in edges[:-1]), small.chunks
    _eq(small.compute(), want.X, "X in small blocks")
    _eq(pickle.loads(pickle.dumps(small))[::7].compute(scheduler="sync"), want.X[::7], "pickled")
