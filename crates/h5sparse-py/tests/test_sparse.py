"""Selections of every sparse fixture group equal anndata's `sparse_dataset` (values,
indices, shape) with the file's index dtypes; `to_dask()` equals the matrix on the threaded
scheduler and on a 2-process `dask.distributed` cluster; concurrent threads read right."""
import pickle
import threading

import h5py
import numpy as np
import pytest
import scipy.sparse as sp
from anndata.io import sparse_dataset as ad_sparse_dataset

import h5sparse

GROUPS = [
    ("sparse_anndata.h5", g) for g in [
        "csr_i32", "csr_i64", "csr_gzip", "csr_i64_gzip", "csr_f4", "csr_int_data", "csr_explicit_zero",
        "csr_1xn", "csr_nx1", "csr_nnz0", "csc_i32", "csc_i64", "csc_gzip", "csc_i64_gzip", "csc_1xn",
        "csc_nx1", "csc_nnz0"]
] + [("adata_csr.h5ad", "X"), ("adata_csc.h5ad", "X"), ("adata_csr.h5ad", "layers/counts")]


def _selections(rng, n):
    sels = [slice(None), slice(1, None, 2), slice(None, None, -1), slice(-3, None), 0, n - 1,
            [n - 1, 0, n - 1], rng.integers(0, n, size=min(n, 7)), rng.random(n) < 0.5,
            np.arange(n)[::-1].copy(), slice(n // 2, n // 2)]
    return sels


def _dense(m):
    return np.asarray(m.todense())


@pytest.mark.parametrize("fixture,group", GROUPS)
def test_selections_equal_anndata(testdata, fixture, group):
    path = str(testdata / fixture)
    rng = np.random.default_rng(7)
    with h5py.File(path) as hf, h5sparse.File(path) as f:
        ref = ad_sparse_dataset(hf[group])
        m = h5sparse.sparse_dataset(f[group])
        assert m.shape == ref.shape
        assert m.format == ref.format
        full = ref.to_memory()
        mine_full = m.to_memory()
        assert mine_full.indices.dtype == hf[group]["indices"].dtype
        assert mine_full.indptr.dtype == hf[group]["indptr"].dtype
        np.testing.assert_array_equal(_dense(mine_full), _dense(full))
        nr, nc = m.shape
        for rows in _selections(rng, nr):
            for cols in _selections(rng, nc)[:6] + [[nc - 1, 0]]:
                got = m[rows, cols]
                want = full[rows][:, cols] if not isinstance(rows, int) else full[[rows]][:, cols]
                assert got.shape == want.shape, (rows, cols)
                assert isinstance(got, sp.csr_matrix if m.format == "csr" else sp.csc_matrix)
                np.testing.assert_array_equal(_dense(got), _dense(want), err_msg=f"{rows} {cols}")
        # anndata's own backed indexing agrees on a plain row slice and sorted list.
        np.testing.assert_array_equal(_dense(m[1:nr]), _dense(ref[1:nr]))


def test_unsorted_rows_with_repeats_and_masks(testdata):
    path = str(testdata / "adata_csr.h5ad")
    with h5sparse.File(path) as f:
        m = h5sparse.sparse_dataset(f["X"])
        full = m.to_memory()
        rows = [5, 1, 5, 14, 0]
        np.testing.assert_array_equal(_dense(m[rows]), _dense(full)[rows])
        mask = np.zeros(10, bool)
        mask[[2, 7]] = True
        np.testing.assert_array_equal(_dense(m[:, mask]), _dense(full)[:, mask])
        with pytest.raises(IndexError):
            m[[15]]
        with pytest.raises(IndexError):
            m[:, np.ones(3, bool)]


def test_to_dask_threads_and_pickle(testdata):
    import dask
    path = str(testdata / "adata_csr.h5ad")
    with h5sparse.File(path) as f:
        m = h5sparse.sparse_dataset(f["X"])
        full = m.to_memory()
        x = m.to_dask(chunks=4)
        assert x.shape == full.shape and len(x.chunks[0]) >= 2
        with dask.config.set(scheduler="threads"):
            got = x.compute()
            s = x.sum(axis=0).compute()
        np.testing.assert_array_equal(_dense(got), _dense(full))
        np.testing.assert_allclose(np.asarray(s).ravel(), np.asarray(full.sum(axis=0)).ravel(), rtol=1e-6)
        x2 = pickle.loads(pickle.dumps(x))
        np.testing.assert_array_equal(_dense(x2.compute(scheduler="sync")), _dense(full))
        m2 = pickle.loads(pickle.dumps(m))
        np.testing.assert_array_equal(_dense(m2[2:9]), _dense(full[2:9]))
    csc = h5sparse.sparse_dataset(h5sparse.File(str(testdata / "adata_csc.h5ad"))["X"])
    xc = csc.to_dask(chunks=3)
    np.testing.assert_array_equal(_dense(xc.compute(scheduler="threads")), _dense(csc.to_memory()))


def test_to_dask_distributed(testdata):
    distributed = pytest.importorskip("distributed")
    path = str(testdata / "adata_csr.h5ad")
    m = h5sparse.sparse_dataset(h5sparse.File(path)["X"])
    full = m.to_memory()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        x = m.to_dask(chunks=4)
        s = client.compute(x.sum(axis=0)).result()
        np.testing.assert_allclose(np.asarray(s).ravel(), np.asarray(full.sum(axis=0)).ravel(), rtol=1e-6)
        got = client.compute(x).result()
        np.testing.assert_array_equal(_dense(got), _dense(full))
        ad = h5sparse.read_h5ad(path, backed=True)
        ad2 = pickle.loads(pickle.dumps(ad))
        s2 = client.compute(ad2.X.sum(axis=0)).result()
        np.testing.assert_allclose(np.asarray(s2).ravel(), np.asarray(full.sum(axis=0)).ravel(), rtol=1e-6)


def test_threads_read_at_once(testdata):
    path = str(testdata / "adata_csr.h5ad")
    m = h5sparse.sparse_dataset(h5sparse.File(path)["X"])
    full = _dense(m.to_memory())
    errors = []

    def work(k):
        try:
            for i in range(50):
                r = (k * 7 + i) % 15
                np.testing.assert_array_equal(_dense(m[r:r + 1]), full[r:r + 1])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
