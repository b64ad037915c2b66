#!/usr/bin/env python3
"""Compare AnnData contents with anndata's own reading (used by the Rust tests).

summary FILE.h5ad OURS.json [ROWS COLS] -- OURS.json (our reader's summary) equals anndata's reading
same A.h5ad B.h5ad [FORMAT]   -- anndata reads B (in memory and backed='r') like A;
                                 FORMAT (csr/csc) = the expected storage of B's X
"""
import json
import math
import sys
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
import anndata as ad

warnings.simplefilter("ignore")


def dense(m):
    if sp.issparse(m):
        m = m.toarray()
    if hasattr(m, "to_memory"):  # backed sparse dataset
        m = m.to_memory().toarray()
    m = np.asarray(m)
    if m.dtype == bool:
        return m.tolist()
    return m.astype("f8").tolist()


def column(s):
    d = s.dtype
    if isinstance(d, pd.CategoricalDtype):
        return {"kind": "categorical", "values": s.cat.codes.astype("i8").tolist(),
                "categories": plain(pd.Series(s.cat.categories)), "ordered": bool(d.ordered)}
    if isinstance(d, (pd.Int64Dtype, pd.Int32Dtype, pd.Int16Dtype, pd.Int8Dtype, pd.UInt64Dtype, pd.UInt32Dtype,
                      pd.UInt16Dtype, pd.UInt8Dtype, pd.BooleanDtype)) or (isinstance(d, pd.StringDtype) and s.isna().any()):
        mask = s.isna().tolist()
        vals = [None if m else (v if isinstance(v, str) else (bool(v) if isinstance(d, pd.BooleanDtype) else float(v)))
                for v, m in zip(s.tolist(), mask)]
        return {"kind": "nullable", "values": vals}
    return plain(s)


def plain(s):
    d = s.dtype
    if d == bool:
        return {"kind": "bool", "values": [bool(x) for x in s]}
    if d.kind in "iuf":
        return {"kind": "numeric", "values": [float(x) for x in s]}
    return {"kind": "string", "values": [str(x) for x in s]}


def frame(df):
    return {"index": [str(x) for x in df.index], "columns": list(df.columns),
            "data": {c: column(df[c]) for c in df.columns}}


def elem(v):
    if sp.issparse(v) or hasattr(v, "to_memory"):
        return dense(v)
    if isinstance(v, pd.DataFrame):
        return frame(v)
    if isinstance(v, dict) or hasattr(v, "keys"):
        return {k: elem(v[k]) for k in v.keys()}
    if isinstance(v, (str, np.str_)):
        return str(v)
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    if isinstance(v, pd.Categorical):
        return column(pd.Series(v))
    if isinstance(v, pd.api.extensions.ExtensionArray):
        return column(pd.Series(v))
    a = np.asarray(v)
    if a.dtype.names is not None:  # a structured array: its fields
        return {k: elem(a[k]) for k in a.dtype.names}
    if a.dtype == object or a.dtype.kind in "US":
        return a.astype(str).tolist()
    if a.dtype == bool:
        return a.tolist()
    return a.astype("f8").tolist()


def summary(a):
    return {
        "shape": [a.n_obs, a.n_vars],
        "X": None if a.X is None else dense(a.X[:, :] if a.isbacked else a.X),
        "layers": {k: dense(a.layers[k]) for k in a.layers.keys()},
        "obs": frame(a.obs), "var": frame(a.var),
        "obsm": {k: elem(a.obsm[k]) for k in a.obsm.keys()},
        "varm": {k: elem(a.varm[k]) for k in a.varm.keys()},
        "obsp": {k: dense(a.obsp[k]) for k in a.obsp.keys()},
        "varp": {k: dense(a.varp[k]) for k in a.varp.keys()},
        "uns": elem(dict(a.uns)),
    }


def diff(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            out.append("%s: keys %s vs %s" % (path, sorted(a), sorted(b)))
        for k in set(a) & set(b):
            diff(a[k], b[k], path + "/" + str(k), out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append("%s: length %d vs %d" % (path, len(a), len(b)))
        else:
            for i, (x, y) in enumerate(zip(a, b)):
                diff(x, y, "%s[%d]" % (path, i), out)
    elif (a is None and isinstance(b, float) and not math.isfinite(b)) or \
            (b is None and isinstance(a, float) and not math.isfinite(a)):
        pass  # JSON has no NaN / infinity: serde_json writes them as null
    elif isinstance(a, bool) or isinstance(b, bool):
        if a is not b:
            out.append("%s: %r vs %r" % (path, a, b))
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if not (a == b or (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)):
            out.append("%s: %r vs %r" % (path, a, b))
    elif a != b:
        out.append("%s: %r vs %r" % (path, a, b))
    if len(out) > 20:
        raise SystemExit("\n".join(out))


def report(a, b, what):
    out = []
    diff(a, b, "", out)
    if out:
        print(what + " differ:\n" + "\n".join(out[:20]))
        return 1
    return 0


def main(argv):
    if argv[1] == "summary":
        a = ad.read_h5ad(argv[2])
        if len(argv) > 5:
            a = a[json.loads(argv[4]), :][:, json.loads(argv[5])].copy()
        theirs = summary(a)
        with open(argv[3]) as f:
            ours = json.load(f)
        return report(theirs, ours, "anndata's reading and ours")
    if argv[1] == "same":
        ref = summary(ad.read_h5ad(argv[2]))
        rc = report(ref, summary(ad.read_h5ad(argv[3])), "read_h5ad")
        b = ad.read_h5ad(argv[3], backed="r")
        rc |= report(ref, summary(b), "read_h5ad(backed='r')")
        if len(argv) > 4:
            import h5py
            with h5py.File(argv[3], "r") as f:
                enc = f["X"].attrs.get("encoding-type")
            if enc != argv[4] + "_matrix":
                print("X stored as %r, expected %s" % (enc, argv[4]))
                rc = 1
        return rc
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
