#!/usr/bin/env python3
"""anndata's side of the in-place element edit tests (crates/h5ad/tests/edit_*.rs).

base OUT.h5ad [latest]      -- write the base file with anndata (with `latest`: copied by
                               h5py into a libver="latest" file: link messages, v2 headers)
compare BASE OURS_1 ...     -- OURS_k is BASE after the first k operations of OPS, made by
                               our editor; each must read (read_h5ad and backed='r') exactly
                               like BASE changed in memory by anndata and written by it
digest FILE ...             -- one JSON line per file: what read_h5ad sees (or the error)

The operations below must stay in step with `OPS` in tests/edit_ops/mod.rs.
"""
import json
import os
import shutil
import sys
import tempfile
import warnings

import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp
import anndata as ad

warnings.simplefilter("ignore")

N_OBS, N_VARS = 30, 12


def m_values():
    """The matrix of the sparse layers and of the new X: ((7i + 3j) mod 5), float32."""
    i, j = np.meshgrid(np.arange(N_OBS), np.arange(N_VARS), indexing="ij")
    return ((7 * i + 3 * j) % 5).astype("f4")


def p_values():
    i, j = np.meshgrid(np.arange(N_OBS), np.arange(N_OBS), indexing="ij")
    return ((i + j) % 4 == 0).astype("f8")


def make_base(path, latest):
    rng = np.random.default_rng(0)
    x = sp.random(N_OBS, N_VARS, density=0.3, format="csr", dtype="f4", random_state=rng)
    obs = pd.DataFrame({
        "n": np.arange(N_OBS, dtype="i8"),
        "ct": pd.Categorical(["a", "b", "c"] * (N_OBS // 3)),
        "score": rng.normal(size=N_OBS),
    }, index=[f"cell{i}" for i in range(N_OBS)])
    var = pd.DataFrame({"g": np.arange(N_VARS, dtype="f4")}, index=[f"gene{i}" for i in range(N_VARS)])
    a = ad.AnnData(x, obs=obs, var=var)
    a.layers["counts"] = x.toarray()
    a.obsm["X_pca"] = rng.normal(size=(N_OBS, 3))
    a.uns["a"] = 1
    a.uns["nested"] = {"b": np.array([1, 2])}
    if not latest:
        a.write_h5ad(path)
        return
    tmp = path + ".tmp"
    a.write_h5ad(tmp)
    with h5py.File(tmp, "r") as src, h5py.File(path, "w", libver="latest") as dst:
        for k, v in src.attrs.items():
            dst.attrs[k] = v
        for k in src:
            src.copy(src[k], dst, name=k)
    os.remove(tmp)


def op(a, name):
    """Operation `name` made in memory, as a user of anndata would."""
    n = a.n_obs
    if name == "obs_replace_num":
        a.obs["n"] = np.arange(n) * 2.5
    elif name == "obs_add_cat":
        a.obs["cell_type"] = pd.Categorical([["T", "B", "NK"][i % 3] for i in range(n)])
    elif name == "obs_cat_to_strings":
        a.obs["ct"] = [f"s{i % 4}" for i in range(n)]
    elif name == "obs_add_bool":
        a.obs["flag"] = np.arange(n) % 2 == 0
    elif name == "obs_del":
        del a.obs["score"]
    elif name == "var_add_int":
        a.var["gi"] = np.arange(a.n_vars, dtype="i4") * 3
    elif name == "var_del":
        del a.var["g"]
    elif name == "layer_csr":
        a.layers["sp"] = sp.csr_matrix(m_values())
    elif name == "layer_csc":
        a.layers["cs"] = sp.csc_matrix(m_values())
    elif name == "layer_replace_dense":
        a.layers["counts"] = np.arange(n * a.n_vars, dtype="f8").reshape(n, a.n_vars) / 4
    elif name == "layer_del":
        del a.layers["counts"]
    elif name == "obsm_2d":
        a.obsm["emb"] = np.arange(n * 2, dtype="f8").reshape(n, 2) * 0.5
    elif name == "obsm_1d":
        a.obsm["one"] = np.arange(n, dtype="i8")
    elif name == "obsm_df":
        a.obsm["df"] = pd.DataFrame({"q": np.arange(n, dtype="f8")}, index=a.obs_names)
    elif name == "obsm_replace_sparse":
        a.obsm["X_pca"] = sp.csr_matrix(m_values())
    elif name == "obsp_csr":
        a.obsp["dist"] = sp.csr_matrix(p_values())
    elif name == "uns_nested_new":
        a.uns["new"] = {"deep": {"v": np.array([1, 2, 3])}}
    elif name == "uns_replace":
        a.uns["a"] = "hello"
    elif name == "uns_del":
        del a.uns["nested"]
    elif name == "x_replace":
        a.X = sp.csr_matrix(m_values())
    else:
        raise SystemExit("unknown operation " + name)


def arr(v):
    """Type, dtype, shape and values of an array-like."""
    if hasattr(v, "to_memory"):  # a backed sparse dataset
        v = v.to_memory()
    if sp.issparse(v):
        kind = v.format
        vals = v.toarray()
    else:
        kind = "dense"
        vals = np.asarray(v)
    return {"kind": kind, "dtype": str(vals.dtype), "shape": list(vals.shape),
            "values": vals.astype(str).tolist() if vals.dtype.kind in "OUS" else vals.tolist()}


def series(s):
    d = s.dtype
    if isinstance(d, pd.CategoricalDtype):
        return {"dtype": "category", "ordered": bool(d.ordered),
                "categories": [str(c) for c in d.categories],
                "categories_dtype": str(d.categories.dtype),
                "codes": s.cat.codes.tolist()}
    return {"dtype": str(d), "values": [str(x) if isinstance(x, str) else x for x in s.tolist()]}


def frame(df):
    return {"index": [str(x) for x in df.index], "index_name": df.index.name,
            "columns": list(df.columns), "data": {c: series(df[c]) for c in df.columns}}


def elem(v):
    if isinstance(v, pd.DataFrame):
        return {"frame": frame(v)}
    if isinstance(v, dict) or (hasattr(v, "keys") and not hasattr(v, "shape")):
        return {"dict": {k: elem(v[k]) for k in sorted(v.keys())}}
    if isinstance(v, str):
        return {"str": v}
    if isinstance(v, (int, float, np.integer, np.floating, np.bool_)):
        return {"scalar": str(np.asarray(v).dtype), "value": np.asarray(v).item()}
    return arr(v)


def digest(a):
    x = a.X
    if a.isbacked:
        x = x[:, :] if x is not None else None
    return {
        "shape": [a.n_obs, a.n_vars],
        "X": None if x is None else arr(x),
        "obs": frame(a.obs), "var": frame(a.var),
        "layers": {k: arr(a.layers[k]) for k in sorted(a.layers.keys())},
        "obsm": {k: elem(a.obsm[k]) for k in sorted(a.obsm.keys())},
        "varm": {k: elem(a.varm[k]) for k in sorted(a.varm.keys())},
        "obsp": {k: arr(a.obsp[k]) for k in sorted(a.obsp.keys())},
        "varp": {k: arr(a.varp[k]) for k in sorted(a.varp.keys())},
        "uns": elem(dict(a.uns)),
    }


def first_diff(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)} vs {list(b)}"
        for k in a:
            d = first_diff(a[k], b[k], f"{path}/{k}")
            if d:
                return d
        return None
    if a != b:
        return f"{path}: {json.dumps(a)[:300]} vs {json.dumps(b)[:300]}"
    return None


def main(argv):
    if argv[1] == "base":
        make_base(argv[2], len(argv) > 3 and argv[3] == "latest")
        return 0
    if argv[1] == "digest":
        for p in argv[2:]:
            try:
                print(json.dumps(digest(ad.read_h5ad(p)), sort_keys=True, default=str))
            except Exception as ex:  # a file anndata cannot read is a failure to report
                print(json.dumps({"error": repr(ex)}))
        return 0
    if argv[1] == "compare":
        ops = argv[2].split(",")
        base, ours = argv[3], argv[4:]
        a = ad.read_h5ad(base)
        rc = 0
        with tempfile.TemporaryDirectory() as tmp:
            for k, (name, path) in enumerate(zip(ops, ours)):
                op(a, name)
                ref_path = os.path.join(tmp, f"ref{k}.h5ad")
                a.write_h5ad(ref_path, convert_strings_to_categoricals=False)
                ref = digest(ad.read_h5ad(ref_path))
                for mode in (None, "r"):
                    got = digest(ad.read_h5ad(path, backed=mode))
                    d = first_diff(ref, got)
                    if d:
                        print(f"after {name} (step {k + 1}, backed={mode!r}): anndata's own result "
                              f"and our edit differ at {d}")
                        rc = 1
        print(f"{len(ours)} edited files compared")
        return rc
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
