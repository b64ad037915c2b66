"""`read_h5ad`: the Rust `h5ad` reader's result assembled into `anndata.AnnData` (pandas
frames, scipy matrices; dask arrays for the matrices left in the file in backed mode)."""
import numpy as np

from ._native import read_h5ad as _native_read_h5ad
from ._sparse import _build, SparseDataset


def _strings(values, shape=None):
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr if shape is None else arr.reshape(shape)


def _column(c):
    import pandas as pd

    kind = c[0]
    if kind == "numeric":
        return c[1]
    if kind == "bool":
        return c[1]
    if kind == "strings":
        return _strings(c[1])
    if kind == "categorical":
        _, codes, cats, ordered = c
        return pd.Categorical.from_codes(codes, categories=pd.Index(_column(cats)),
                                         ordered=ordered)
    if kind == "nullable":
        _, values, mask = c
        vals = _column(values)
        if values[0] == "bool":
            return pd.arrays.BooleanArray(np.asarray(vals, dtype=bool), mask)
        if values[0] == "strings":
            arr = pd.array(_strings(vals), dtype="string")
            arr[mask] = pd.NA
            return arr
        return pd.arrays.IntegerArray(vals, mask)
    raise ValueError(f"unknown column kind {kind}")


def _frame(f):
    import pandas as pd

    _, index_name, index, columns = f
    df = pd.DataFrame({name: _column(c) for name, c in columns},
                      index=pd.Index(_strings(index)))
    df.index.name = None if index_name == "_index" else index_name
    return df


def _matrix(m, location, backed):
    kind = m[0]
    if kind == "dense":
        return m[1].reshape(m[2])
    if kind == "sparse":
        _, fmt, data, indices, indptr, shape = m
        return _build(fmt, data, indices, indptr, tuple(shape))
    if kind == "backed":
        from . import File
        with File(location) as f:
            if f._handle.kind(m[1]) == "dataset":
                # A dense matrix: read in memory (the contract makes sparse ones lazy).
                return f[m[1]][()]
        return SparseDataset(location, m[1]).to_dask()
    raise ValueError(f"unknown matrix kind {kind}")


def _element(e, location):
    kind = e[0]
    if kind == "dict":
        return {k: _element(v, location) for k, v in e[1].items()}
    if kind == "dense":
        return e[1].reshape(e[2])
    if kind == "strings":
        _, values, shape, width = e
        if width is not None:
            # Fixed-length strings of old files: anndata gives numpy `<U{width}`.
            return np.array(values, dtype=f"<U{max(width, 1)}").reshape(shape)
        return _strings(values, shape)
    if kind == "scalar":
        return e[1][0]
    if kind == "string":
        return e[1]
    if kind == "sparse":
        return _matrix(e, location, False)
    if kind == "dataframe":
        return _frame(e)
    if kind == "column":
        return _column(e[1])
    if kind == "records":
        fields = [(n, _element(v, location)) for n, v in e[1]]
        n = len(fields[0][1]) if fields else 0
        dtype = [(name, v.dtype, v.shape[1:]) for name, v in fields]
        out = np.empty(n, dtype=dtype)
        for name, v in fields:
            out[name] = v
        return out
    raise ValueError(f"unknown element kind {kind}")


def read_h5ad(path_or_url, backed=False):
    """An `anndata.AnnData` equal to `anndata.read_h5ad(path)`; with `backed=True`, `X` and
    the sparse layers are dask arrays (nothing of them read yet), the rest in memory."""
    import anndata

    location = str(path_or_url)
    d = _native_read_h5ad(location, backed)
    x = None if d["X"] is None else _matrix(d["X"], location, backed)
    return anndata.AnnData(
        X=x,
        obs=_frame(d["obs"]),
        var=_frame(d["var"]),
        uns={k: _element(v, location) for k, v in d["uns"].items()},
        obsm={k: _element(v, location) for k, v in d["obsm"].items()},
        varm={k: _element(v, location) for k, v in d["varm"].items()},
        layers={k: _matrix(v, location, backed) for k, v in d["layers"].items()},
        obsp={k: _matrix(v, location, backed) for k, v in d["obsp"].items()},
        varp={k: _matrix(v, location, backed) for k, v in d["varp"].items()},
    )
