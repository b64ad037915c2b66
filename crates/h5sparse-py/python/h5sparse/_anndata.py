"""`read_h5ad`: the Rust `h5ad` reader's result assembled into `anndata.AnnData` (pandas
frames, scipy matrices; dask arrays for the matrices left in the file in backed mode)."""
import functools

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


def _matrix(m, location, backed, lazy_dense=False):
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
                # The contract: X lazy whatever its kind, layers lazy when sparse.
                ds = f[m[1]]
                return dense_dask(ds) if lazy_dense else ds[()]
        return SparseDataset(location, m[1]).to_dask()
    raise ValueError(f"unknown matrix kind {kind}")


def dense_dask(ds, target_bytes=1 << 25):
    """A dense dataset as a lazy dask array: blocks of whole rows whose edges fall on the
    HDF5 chunk edges (about `target_bytes` each); every task reopens the file by path/URL,
    so the graph pickles to other processes."""
    import dask.array as da
    from dask.base import tokenize

    shape, dtype = ds.shape, ds.dtype
    n = shape[0] if shape else 0
    row_bytes = max(1, dtype.itemsize * int(np.prod(shape[1:], dtype=np.int64)))
    rows = max(1, target_bytes // row_bytes)
    if ds.chunks:
        step = int(ds.chunks[0])
        rows = max(step, rows // step * step)
    edges = list(range(0, n, rows)) + [n] if n else [0, 0]
    location = ds._handle.location
    name = "h5sparse-dense-" + tokenize(location, ds.name, edges)
    rest = (0,) * (len(shape) - 1)
    dsk = {(name, i) + rest: (_read_rows, location, ds.name, a, b)
           for i, (a, b) in enumerate(zip(edges[:-1], edges[1:]))}
    chunks = (tuple(b - a for a, b in zip(edges[:-1], edges[1:])),) + tuple((d,) for d in shape[1:])
    return da.Array(dsk, name, chunks, dtype=dtype)


@functools.lru_cache(maxsize=32)
def _open_file(location):
    """One open file per location per process: tasks of one graph share it."""
    from . import File
    return File(location)


def _read_rows(location, path, a, b):
    return _open_file(location)[path][a:b]


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
    x = None if d["X"] is None else _matrix(d["X"], location, backed, lazy_dense=True)
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
