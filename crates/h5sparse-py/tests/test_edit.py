"""`write_element` / `delete_element` (an extension of the contract): each change made in
place by our editor must read back with `anndata.read_h5ad` (in memory and backed='r')
exactly as anndata's own result of the same change made in memory and written — values,
dtypes, categories, column order. Refused changes leave the file byte for byte as it was."""
import warnings

import anndata
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import h5sparse

warnings.simplefilter("ignore")
N_OBS, N_VARS = 20, 6


@pytest.fixture
def base(tmp_path):
    rng = np.random.default_rng(1)
    a = anndata.AnnData(
        sp.random(N_OBS, N_VARS, density=0.4, format="csr", dtype="f4", random_state=rng),
        obs=pd.DataFrame({"n": np.arange(N_OBS), "ct": pd.Categorical(["x", "y"] * (N_OBS // 2))},
                         index=[f"c{i}" for i in range(N_OBS)]),
        var=pd.DataFrame(index=[f"g{i}" for i in range(N_VARS)]),
    )
    a.uns["old"] = {"k": np.arange(3)}
    path = tmp_path / "base.h5ad"
    a.write_h5ad(path)
    return path


CASES = [
    ("obs/n", lambda a: np.linspace(0, 1, a.n_obs)),
    ("obs/ct", lambda a: pd.Series([f"s{i % 3}" for i in range(a.n_obs)], index=a.obs_names)),
    ("obs/cat", lambda a: pd.Categorical(["b", "a", "c", "a"] * (a.n_obs // 4), ordered=True)),
    ("obs/numcat", lambda a: pd.Categorical(np.arange(a.n_obs) % 3)),
    ("obs/nullable", lambda a: pd.array([None if i % 5 == 0 else i for i in range(a.n_obs)], dtype="Int64")),
    ("obs/flag", lambda a: np.arange(a.n_obs) % 3 == 0),
    ("var/w", lambda a: np.arange(a.n_vars, dtype="f4")),
    ("layers/csr", lambda a: sp.csr_matrix(np.eye(a.n_obs, a.n_vars, dtype="f8"))),
    ("layers/csc", lambda a: sp.csc_matrix(np.eye(a.n_obs, a.n_vars, dtype="i4"))),
    ("layers/dense", lambda a: np.arange(a.n_obs * a.n_vars, dtype="i8").reshape(a.n_obs, a.n_vars)),
    ("X", lambda a: sp.csr_matrix(np.ones((a.n_obs, a.n_vars), dtype="f4"))),
    ("obsm/pca", lambda a: np.arange(a.n_obs * 2, dtype="f8").reshape(a.n_obs, 2)),
    ("obsm/df", lambda a: pd.DataFrame({"u": np.arange(a.n_obs)}, index=a.obs_names)),
    ("varm/v", lambda a: np.ones((a.n_vars, 3), dtype="f4")),
    ("obsp/d", lambda a: sp.csr_matrix(np.eye(a.n_obs))),
    ("uns/new", lambda a: {"s": "text", "x": 1.5, "arr": np.arange(4), "sub": {"t": ["a", "b"]}}),
    ("uns/old/k", lambda a: "replaced"),
]


def _set(a, key, value):
    head, _, name = key.partition("/")
    if head == "X":
        a.X = value
    elif head in ("obs", "var"):
        getattr(a, head)[name] = value.values if isinstance(value, pd.Series) else value
    elif head == "uns":
        d = a.uns
        parts = name.split("/")
        for p in parts[:-1]:
            d = d[p]
        d[parts[-1]] = value
    else:
        getattr(a, head)[name] = value


def _same(got, want):
    assert got.shape == want.shape
    for frame in ("obs", "var"):
        pd.testing.assert_frame_equal(getattr(got, frame), getattr(want, frame), check_exact=True)
    for slot in ("layers", "obsm", "varm", "obsp", "varp"):
        g, w = getattr(got, slot), getattr(want, slot)
        assert sorted(g.keys()) == sorted(w.keys()), slot
        for k in w.keys():
            _eq(g[k], w[k], f"{slot}/{k}")
    _eq(got.X[:, :] if got.isbacked else got.X, want.X, "X")
    _eq(dict(got.uns), dict(want.uns), "uns")


def _eq(a, b, what):
    if hasattr(a, "to_memory"):
        a = a.to_memory()
    if sp.issparse(b):
        assert sp.issparse(a) and a.format == b.format and a.dtype == b.dtype, what
        np.testing.assert_array_equal(a.toarray(), b.toarray(), err_msg=what)
    elif isinstance(b, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=what)
    elif isinstance(b, dict):
        assert isinstance(a, dict) and sorted(a) == sorted(b), what
        for k in b:
            _eq(a[k], b[k], f"{what}/{k}")
    elif isinstance(b, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, what
        np.testing.assert_array_equal(a, b, err_msg=what)
    else:
        assert a == b and type(a) is type(b), what


@pytest.mark.parametrize("key,make", CASES, ids=[c[0] for c in CASES])
def test_write_element_like_anndata(base, tmp_path, key, make):
    want = anndata.read_h5ad(base)
    value = make(want)
    _set(want, key, value)
    ref = tmp_path / "ref.h5ad"
    want.write_h5ad(ref, convert_strings_to_categoricals=False)
    want = anndata.read_h5ad(ref)
    h5sparse.write_element(base, key, value)
    _same(anndata.read_h5ad(base), want)
    _same(anndata.read_h5ad(base, backed="r"), want)


@pytest.mark.parametrize("key", ["obs/n", "obs/ct", "uns/old", "X"])
def test_delete_element_like_anndata(base, tmp_path, key):
    want = anndata.read_h5ad(base)
    head, _, name = key.partition("/")
    if head == "X":
        want.X = None
    elif head == "uns":
        del want.uns[name]
    else:
        del getattr(want, head)[name]
    ref = tmp_path / "ref.h5ad"
    want.write_h5ad(ref)
    h5sparse.delete_element(base, key)
    _same(anndata.read_h5ad(base), anndata.read_h5ad(ref))


def test_refused_changes_leave_the_file(base):
    before = base.read_bytes()
    with pytest.raises(ValueError, match="rows"):
        h5sparse.write_element(base, "obs/short", np.arange(N_OBS - 1))
    with pytest.raises(ValueError, match="shape"):
        h5sparse.write_element(base, "layers/l", np.ones((N_OBS, N_VARS + 1)))
    with pytest.raises(ValueError):
        h5sparse.write_element(base, "obsm/df", pd.DataFrame({"u": np.arange(N_OBS)}))
    with pytest.raises(ValueError):
        h5sparse.write_element(base, "raw/X", np.ones(3))
    with pytest.raises(KeyError):
        h5sparse.delete_element(base, "obs/missing")
    assert base.read_bytes() == before
