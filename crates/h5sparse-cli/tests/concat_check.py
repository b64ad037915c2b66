"""Inputs for and checks of `h5sparse concat` / `append` against anndata.

    gen DIR [--small]             write the input .h5ad files with anndata (--small: not
                                  the large pair of the kill test)
    check OUT JOIN IN1 IN2 ...    read_h5ad(OUT) == anndata.concat([read_h5ad(IN)...], join=JOIN)
    kill OLD NEW SNAP...          every SNAP reads (h5py and anndata) as OLD or as NEW
    gen-append DIR                a small pair for the in-place append kill test (at.h5ad,
                                  as.h5ad: CSR X and layer, categorical and numeric obs)
    objects OLD NEW SNAP...       every SNAP: h5py opens it, each object holds its OLD or NEW
                                  content (obs members may be missing); anndata reads it as
                                  OLD or NEW, or raises KeyError when an obs member is
                                  missing (the documented window); prints counts
"""
import sys
import warnings

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp

warnings.filterwarnings("ignore")


def obs_frame(rng, n, prefix, cols):
    df = pd.DataFrame(index=[f"{prefix}{i}" for i in range(n)])
    if "cell_type" in cols:
        cats = cols["cell_type"]
        df["cell_type"] = pd.Categorical(rng.choice(cats, n), categories=cats)
    if "n" in cols:
        df["n"] = rng.integers(0, 100, n).astype(np.int64)
    if "score" in cols:
        df["score"] = rng.random(n)
    if "flag" in cols:
        df["flag"] = rng.random(n) < 0.5
    if "batch" in cols:
        df["batch"] = pd.Categorical([prefix] * n)
    if "label" in cols:
        df["label"] = pd.Categorical(rng.choice(["x1", "x10", "x2"], n))
    return df


def sparse(rng, n, m, fmt, dtype=np.float32, density=0.2):
    x = sp.random(n, m, density=density, format=fmt, random_state=rng, dtype=np.float64)
    x.data = np.round(x.data * 10 + 1).astype(dtype)
    return x


def gen(d, big=True):
    rng = np.random.default_rng(0)
    genes = [f"g{i}" for i in range(40)]
    specs = [
        ("a", 50, genes[:30], "csr", {"cell_type": ["T", "B"], "n": 1, "score": 1, "flag": 1, "batch": 1}),
        ("b", 30, genes[5:35][::-1], "csc", {"cell_type": ["NK", "B", "T"], "n": 1, "flag": 1, "label": 1}),
        ("c", 20, genes[10:40], "csr", {"cell_type": ["B"], "score": 1, "batch": 1}),
    ]
    for name, n, vars_, fmt, cols in specs:
        a = ad.AnnData(
            X=sparse(rng, n, len(vars_), fmt),
            obs=obs_frame(rng, n, name, cols),
            var=pd.DataFrame({"gene_id": [v.upper() for v in vars_]}, index=vars_),
        )
        a.layers["counts"] = sparse(rng, n, len(vars_), "csc" if fmt == "csr" else "csr", np.int32)
        a.obsm["X_pca"] = rng.random((n, 3)).astype(np.float32)
        if name == "a":
            a.layers["only_a"] = sparse(rng, n, len(vars_), "csr")
            a.obsm["only_a"] = rng.integers(0, 5, (n, 2))
        a.uns["note"] = name
        a.write_h5ad(f"{d}/{name}.h5ad")
    for name, n, vars_ in [("d1", 12, genes[:8]), ("d2", 9, genes[4:12])]:
        a = ad.AnnData(
            X=rng.random((n, len(vars_))),
            obs=obs_frame(rng, n, name, {"score": 1, "batch": 1}),
            var=pd.DataFrame(index=vars_),
        )
        a.layers["ints"] = rng.integers(0, 9, (n, len(vars_))).astype(np.int32)
        a.write_h5ad(f"{d}/{name}.h5ad")
    # dense + sparse mixed, same variables
    a = ad.AnnData(X=rng.random((7, 8)), var=pd.DataFrame(index=genes[:8]),
                   obs=pd.DataFrame(index=[f"m{i}" for i in range(7)]))
    a.write_h5ad(f"{d}/m1.h5ad")
    a = ad.AnnData(X=sparse(rng, 6, 8, "csc"), var=pd.DataFrame(index=genes[:8]),
                   obs=pd.DataFrame(index=[f"n{i}" for i in range(6)]))
    a.write_h5ad(f"{d}/m2.h5ad")
    # append: target and source with equal var_names, and one with other names
    for name, n in [("t", 40), ("s", 25)]:
        a = ad.AnnData(
            X=sparse(rng, n, 30, "csr"),
            obs=obs_frame(rng, n, name, {"cell_type": ["T", "B"], "score": 1}),
            var=pd.DataFrame(index=genes[:30]),
        )
        a.layers["counts"] = sparse(rng, n, 30, "csr", np.int32)
        a.write_h5ad(f"{d}/{name}.h5ad")
        if name == "t":
            # a target that cannot grow in place (obsm, uns): append rewrites it
            a.obsm["X_pca"] = rng.random((n, 3)).astype(np.float32)
            a.uns["note"] = name
            a.write_h5ad(f"{d}/tu.h5ad")
    a = ad.AnnData(X=sparse(rng, 5, 30, "csr"), var=pd.DataFrame(index=genes[10:40]))
    a.write_h5ad(f"{d}/bad.h5ad")
    if not big:
        return
    # larger pair for the kill test (an append that takes a while)
    big = [f"v{i}" for i in range(1000)]
    for name, n in [("bt", 20000), ("bs", 5000)]:
        a = ad.AnnData(
            X=sparse(rng, n, 1000, "csr", density=0.02),
            obs=obs_frame(rng, n, name, {"cell_type": ["T", "B"]}),
            var=pd.DataFrame(index=big),
        )
        a.write_h5ad(f"{d}/{name}.h5ad")


def dense(x):
    return x.toarray() if sp.issparse(x) else np.asarray(x)


def same_matrix(name, e, g):
    assert sp.issparse(e) == sp.issparse(g), f"{name}: sparse {sp.issparse(e)} vs {sp.issparse(g)}"
    if sp.issparse(e):
        assert g.format == "csr", f"{name}: format {g.format}"
    assert e.shape == g.shape, f"{name}: shape {e.shape} vs {g.shape}"
    assert e.dtype == g.dtype, f"{name}: dtype {e.dtype} vs {g.dtype}"
    np.testing.assert_array_equal(dense(e), dense(g), err_msg=name)


def norm(s):
    return [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in s.astype(object)]


def same_obs(e, g):
    assert list(e.index) == list(g.index), "obs_names differ"
    assert list(e.columns) == list(g.columns), f"obs columns {list(e.columns)} vs {list(g.columns)}"
    for c in e.columns:
        es, gs = e[c], g[c]
        if isinstance(es.dtype, pd.CategoricalDtype):
            assert isinstance(gs.dtype, pd.CategoricalDtype), f"obs/{c}: {gs.dtype}, expected categorical"
            assert list(es.cat.categories) == list(gs.cat.categories), f"obs/{c}: categories {list(es.cat.categories)} vs {list(gs.cat.categories)}"
            assert es.cat.ordered == gs.cat.ordered, f"obs/{c}: ordered"
        elif es.dtype.kind == "f" or gs.dtype.kind == "f":
            assert es.dtype == gs.dtype, f"obs/{c}: dtype {es.dtype} vs {gs.dtype}"
        elif es.dtype != object:
            assert es.dtype == gs.dtype, f"obs/{c}: dtype {es.dtype} vs {gs.dtype}"
        assert norm(es) == norm(gs), f"obs/{c}: values differ"


def same_adata(e, g):
    same_matrix("X", e.X, g.X)
    assert sorted(e.layers.keys()) == sorted(g.layers.keys()), f"layers {list(e.layers)} vs {list(g.layers)}"
    for k in e.layers:
        same_matrix(f"layers/{k}", e.layers[k], g.layers[k])
    assert list(e.var_names) == list(g.var_names), "var_names differ"
    assert sorted(e.obsm.keys()) == sorted(g.obsm.keys()), f"obsm {list(e.obsm)} vs {list(g.obsm)}"
    for k in e.obsm:
        same_matrix(f"obsm/{k}", e.obsm[k], g.obsm[k])
    same_obs(e.obs, g.obs)


def check(out, join, inputs):
    e = ad.concat([ad.read_h5ad(p) for p in inputs], join=join)
    g = ad.read_h5ad(out)
    same_adata(e, g)
    with h5py.File(out, "r") as f:
        assert f["X"].attrs["encoding-type"] in ("csr_matrix", "array")


def kill(old, new, snaps):
    eo, en = ad.read_h5ad(old), ad.read_h5ad(new)
    counts = {"old": 0, "new": 0}
    for s in snaps:
        with h5py.File(s, "r") as f:
            f.visit(lambda _: None)
        g = ad.read_h5ad(s)
        kind = "new" if g.n_obs == en.n_obs else "old"
        same_adata(en if kind == "new" else eo, g)
        counts[kind] += 1
    print(counts["old"], counts["new"])


def gen_append(d):
    rng = np.random.default_rng(1)
    genes = [f"g{i}" for i in range(200)]
    for name, n, cats in [("at", 2000, ["T", "B"]), ("as", 500, ["NK", "B"])]:
        a = ad.AnnData(
            X=sparse(rng, n, len(genes), "csr", density=0.05),
            obs=obs_frame(rng, n, name, {"cell_type": cats, "n": 1}),
            var=pd.DataFrame(index=genes),
        )
        a.layers["counts"] = sparse(rng, n, len(genes), "csr", np.int32, density=0.05)
        a.write_h5ad(f"{d}/{name}.h5ad")


def contents(path):
    out = {}
    with h5py.File(path, "r") as f:
        def one(name, obj):
            attrs = {k: np.asarray(obj.attrs[k]).tolist() for k in sorted(obj.attrs)}
            data = None
            if isinstance(obj, h5py.Dataset):
                v = obj[...]
                data = repr(v.tolist()) if v.dtype == object else v.tobytes()
            out[name] = (repr(attrs), data)
        one("/", f)
        f.visititems(one)
    return out


def objects(old, new, snaps):
    o, n = contents(old), contents(new)
    eo, en = ad.read_h5ad(old), ad.read_h5ad(new)
    counts = {"old": 0, "new": 0, "window": 0}
    for s in snaps:
        c = contents(s)
        missing = False
        for name in set(o) | set(n):
            if name not in c:
                assert name.startswith("obs/"), f"{s}: {name} is missing"
                missing = True
                continue
            assert c[name] in (o.get(name), n.get(name)), f"{s}: {name} is neither old nor new"
        for name in c:
            assert name in o or name in n, f"{s}: unexpected object {name}"
        try:
            g = ad.read_h5ad(s)
        except KeyError:
            assert missing, f"{s}: anndata raised KeyError with every obs member present"
            counts["window"] += 1
            continue
        assert not missing, f"{s}: anndata read a file with an obs member missing"
        kind = "new" if g.n_obs == en.n_obs else "old"
        same_adata(en if kind == "new" else eo, g)
        counts[kind] += 1
    print(counts["old"], counts["new"], counts["window"])


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2], big="--small" not in sys.argv[3:])
    elif cmd == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif cmd == "kill":
        kill(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif cmd == "gen-append":
        gen_append(sys.argv[2])
    elif cmd == "objects":
        objects(sys.argv[2], sys.argv[3], sys.argv[4:])
