"""Lazy sparse matrices: numpy-semantics selections resolved here, read in Rust, returned as
scipy matrices holding the file's dtypes; `to_dask()` with chunk-aligned blocks whose tasks
reopen the file by path, so the graph pickles to other processes."""
import functools

import numpy as np
import scipy.sparse as sp

from ._native import Handle, Sparse


def _resolve(key, n):
    """One axis of a numpy key: None (everything), (start, step, len), or int64 positions."""
    if isinstance(key, slice):
        if key == slice(None):
            return None, False
        a, b, s = key.indices(n)
        return (a, s, len(range(a, b, s))), False
    if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
        i = int(key)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"index {int(key)} is out of bounds for axis with size {n}")
        return (i, 1, 1), True
    arr = np.asarray(key)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise IndexError(f"boolean index of length {arr.size} for an axis of {n}")
        return np.flatnonzero(arr).astype(np.int64), False
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise IndexError("selections are ints, slices, 1-D integer arrays or boolean masks")
    arr = arr.astype(np.int64, copy=True)
    neg = arr < 0
    arr[neg] += n
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise IndexError(f"index out of bounds for axis with size {n}")
    return arr, False


def _sum(self, axis=None, dtype=None, out=None, keepdims=False):
    """scipy's sum, also taking numpy's `keepdims` (dask's reductions pass it)."""
    r = self._scipy_sum(axis=axis, dtype=dtype, out=out)
    if axis is None:
        return np.asarray(r).reshape((1, 1)) if keepdims else r
    r = np.asarray(r)
    return r if keepdims else r.ravel()


class DaskCsr(sp.csr_matrix):
    """A dask block: a `csr_matrix` whose `sum` accepts `keepdims`, so `x.sum(axis=0)` of a
    dask array of blocks works."""
    _scipy_sum = sp.csr_matrix.sum
    sum = _sum


class DaskCsc(sp.csc_matrix):
    """The CSC form of [`DaskCsr`]."""
    _scipy_sum = sp.csc_matrix.sum
    sum = _sum


def _build(fmt, data, indices, indptr, shape, block=False):
    """A scipy matrix around the arrays, keeping their dtypes (scipy's constructor would
    re-pick the index dtype)."""
    if block:
        cls = DaskCsr if fmt == "csr" else DaskCsc
    else:
        cls = sp.csr_matrix if fmt == "csr" else sp.csc_matrix
    m = cls(shape, dtype=data.dtype)
    m.data, m.indices, m.indptr = data, indices, indptr
    return m


class SparseDataset:
    """A CSR/CSC matrix group read lazily: `m[rows, cols]` returns scipy matrices."""

    def __init__(self, location, path, handle=None):
        self._location, self._path = location, path
        self._handle = handle if handle is not None else Handle(location)
        self._m = Sparse(self._handle, path)
        fmt, shape, nnz, dtype, index_dtype, encoding = self._m.info()
        self.format = fmt
        self.shape = (int(shape[0]), int(shape[1]))
        self.nnz = int(nnz)
        self.dtype = np.dtype(dtype if dtype != "bool" else bool)
        self.index_dtype = np.dtype(index_dtype)
        self.encoding = encoding

    def __reduce__(self):
        return (SparseDataset, (self._location, self._path))

    def __repr__(self):
        return f"<h5sparse.SparseDataset {self.format} {self.shape} nnz={self.nnz} {self.dtype}>"

    def __getitem__(self, key):
        return self._select(key, False)

    def _select(self, key, block):
        if not isinstance(key, tuple):
            key = (key, slice(None))
        if len(key) != 2:
            raise IndexError("a sparse matrix takes one or two indices")
        rows, _ = _resolve(key[0], self.shape[0])
        cols, _ = _resolve(key[1], self.shape[1])
        data, indices, indptr, shape = self._m.select(rows, cols)
        return _build(self.format, data, indices, indptr, shape, block)

    def to_memory(self):
        return self[:, :]

    def _boundaries(self, target):
        """Major-axis block edges whose entry offsets fall on chunk edges of indices/data
        where possible, about `target` majors per block."""
        major = self.shape[0] if self.format == "csr" else self.shape[1]
        if major == 0:
            return [0, 0]
        f = self._handle
        ipath = self._path.rstrip("/") + "/indptr"
        n = f.info(ipath)[0][0]
        indptr = f.read(ipath, [0], [n], [1]).astype(np.int64)
        chunks = f.info(self._path.rstrip("/") + "/indices")[2]
        nnz = int(indptr[-1])
        if target is None:
            per_block = 1 << 22  # entries: ~16-32 MiB of values and indices per task
            target = max(1, int(major * per_block / max(nnz, 1)))
        target = max(1, int(target))
        if not chunks or nnz == 0:
            edges = list(range(0, major, target)) + [major]
            return sorted(set(edges))
        chunk = int(chunks[0])
        block_nnz = target * (nnz / major)
        if chunk > 2 * block_nnz:
            # Chunks larger than the blocks asked for: edges every `target` majors.
            return list(range(0, major, target)) + [major]
        mult = max(1, round(block_nnz / chunk))
        step = chunk * mult
        offsets = np.arange(step, nnz, step, dtype=np.int64)
        rows = np.searchsorted(indptr, offsets, side="left")
        edges = np.unique(np.concatenate([[0], rows, [major]]))
        edges = edges[(edges >= 0) & (edges <= major)]
        return [int(x) for x in edges]

    def to_dask(self, chunks=None):
        """A dask array of scipy blocks: row blocks for CSR, column blocks for CSC."""
        import dask.array as da
        from dask.base import tokenize

        edges = self._boundaries(chunks)
        sizes = tuple(b - a for a, b in zip(edges[:-1], edges[1:]))
        if not sizes:
            sizes = (0,)
            edges = [0, 0]
        name = "h5sparse-" + tokenize(self._location, self._path, edges)
        dsk = {}
        for i, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
            key = (name, i, 0) if self.format == "csr" else (name, 0, i)
            dsk[key] = (_read_block, self._location, self._path, self.format, a, b)
        if self.format == "csr":
            block_chunks = (sizes, (self.shape[1],))
        else:
            block_chunks = ((self.shape[0],), sizes)
        meta = _build(self.format, np.zeros(0, self.dtype), np.zeros(0, self.index_dtype),
                      np.zeros(1, self.index_dtype), (0, 0), block=True)
        return da.Array(dsk, name, block_chunks, meta=meta)


@functools.lru_cache(maxsize=32)
def _open(location, path):
    """One open matrix per (file, group) per process: tasks of one graph share it."""
    return SparseDataset(location, path)


def _read_block(location, path, fmt, a, b):
    m = _open(location, path)
    if fmt == "csr":
        return m._select((slice(a, b), slice(None)), True)
    return m._select((slice(None), slice(a, b)), True)


def sparse_dataset(group):
    """The lazy matrix of a CSR/CSC group (`f["X"]`) in the anndata, legacy h5sparse or 10x
    encodings."""
    return SparseDataset(group._handle.location, group.name, handle=group._handle)


__all__ = ["SparseDataset", "sparse_dataset"]
