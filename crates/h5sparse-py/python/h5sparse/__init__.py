"""HDF5 files, CSR/CSC sparse matrices and AnnData with a pure-Rust reader (no libhdf5).

The interface is the project's Python contract: h5py's nouns for files, groups, datasets and
attributes (`File`, `Group`, `Dataset`), `sparse_dataset` for lazy sparse matrices with
scipy results and `to_dask()`, and `read_h5ad` for `anndata.AnnData` objects. Every read
runs in Rust with the GIL released; this module only shapes arguments and results.
"""
from collections.abc import Mapping

import numpy as np

from ._native import Error, Handle, Sparse
from ._native import read_h5ad as _native_read_h5ad
from . import _dtypes

__all__ = ["Error", "File", "Group", "Dataset", "sparse_dataset", "SparseDataset", "read_h5ad",
           "write_element", "delete_element"]


def _join(base, name):
    if name.startswith("/"):
        return name
    if base == "/":
        return "/" + name
    return base.rstrip("/") + "/" + name


def _attr_value(dtype, shape, payload):
    if dtype.startswith("|S"):
        arr = np.frombuffer(payload, dtype=dtype)
        return arr[0] if shape is None else arr.reshape(shape)
    if dtype == "O":
        if shape is None:
            return payload[0] if payload else None
        arr = np.empty(len(payload), dtype=object)
        arr[:] = payload
        return arr.reshape(shape)
    arr = np.array(payload, dtype=np.dtype(dtype))
    return arr[0] if shape is None else arr.reshape(shape)


class AttributeManager(Mapping):
    """The attributes of an object: a read-only mapping, values as h5py returns them."""

    def __init__(self, handle, path):
        self._handle, self._path = handle, path
        self._items = None

    def _load(self):
        if self._items is None:
            self._items = {n: (d, s, p) for n, d, s, p in self._handle.attrs(self._path)}
        return self._items

    def __getitem__(self, name):
        d, s, p = self._load()[name]
        return _attr_value(d, s, p)

    def __iter__(self):
        return iter(self._load())

    def __len__(self):
        return len(self._load())

    def __repr__(self):
        return f"<Attributes of {self._path!r}: {list(self._load())}>"


class _Object:
    def __init__(self, handle, path):
        self._handle, self._path = handle, path

    @property
    def name(self):
        return self._path

    @property
    def attrs(self):
        return AttributeManager(self._handle, self._path)

    @property
    def file(self):
        return File._from_handle(self._handle)


class Group(_Object):
    """A group: `g[name]`, `name in g`, `keys()`, `items()`, `len(g)`, iteration."""

    def __getitem__(self, name):
        path = _join(self._path, name)
        kind = self._handle.kind(path)
        if kind is None:
            raise KeyError(f"{path}: no such object")
        if kind == "group":
            return Group(self._handle, path)
        if kind == "dataset":
            return Dataset(self._handle, path)
        raise KeyError(f"{path} is a committed datatype")

    def __contains__(self, name):
        if "/" not in name:
            # A member link, as h5py counts it (a dangling soft link included).
            return name in self._handle.members(self._path)
        try:
            return self._handle.kind(_join(self._path, name)) is not None
        except Error:
            return False

    def keys(self):
        return list(self._handle.members(self._path))

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self.keys())

    def items(self):
        return [(k, self[k]) for k in self.keys()]

    def values(self):
        return [self[k] for k in self.keys()]

    def visititems(self, fn):
        for k in self.keys():
            obj = self[k]
            r = fn(obj.name.lstrip("/"), obj)
            if r is not None:
                return r
            if isinstance(obj, Group):
                r = obj.visititems(fn)
                if r is not None:
                    return r
        return None

    def __repr__(self):
        return f"<h5sparse.Group {self._path!r} ({len(self)} members)>"


class File(Group):
    """An HDF5 file opened read-only: a local path (or an `http(s)://`/`s3://` URL where the
    Rust side supports it). A context manager."""

    def __init__(self, path_or_url, mode="r"):
        if mode != "r":
            raise ValueError("h5sparse.File is read-only (mode 'r')")
        super().__init__(Handle(str(path_or_url)), "/")

    @classmethod
    def _from_handle(cls, handle):
        f = cls.__new__(cls)
        Group.__init__(f, handle, "/")
        return f

    @property
    def filename(self):
        return self._handle.location

    def close(self):
        self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __bool__(self):
        return self._handle.is_open()

    def __repr__(self):
        return f"<h5sparse.File {self.filename!r}>"


def _normalize_key(key, shape):
    """A numpy/h5py key (ints, slices with positive steps, Ellipsis) as per-dimension
    (start, count, step) and the dimensions an integer removes."""
    if not isinstance(key, tuple):
        key = (key,)
    if any(k is Ellipsis for k in key):
        i = next(j for j, k in enumerate(key) if k is Ellipsis)
        fill = len(shape) - (len(key) - 1)
        key = key[:i] + (slice(None),) * fill + key[i + 1:]
    if len(key) > len(shape):
        raise IndexError(f"too many indices for a dataset of rank {len(shape)}")
    key = key + (slice(None),) * (len(shape) - len(key))
    start, count, step, drop = [], [], [], []
    for d, (k, n) in enumerate(zip(key, shape)):
        if isinstance(k, slice):
            a, b, s = k.indices(n)
            if s <= 0:
                raise ValueError("step must be positive (as in h5py)")
            c = len(range(a, b, s))
            start.append(a if c else 0)
            count.append(c)
            step.append(s)
        else:
            i = int(k)
            if i < 0:
                i += n
            if not 0 <= i < n:
                raise IndexError(f"index {k} is out of range for dimension {d} of size {n}")
            start.append(i)
            count.append(1)
            step.append(1)
            drop.append(d)
    return start, count, step, drop


class Dataset(_Object):
    """A dataset: shape, dtype, chunks, compression; `ds[...]` reads like h5py."""

    def __init__(self, handle, path):
        super().__init__(handle, path)
        shape, dtype, chunks, compression, kind = handle.info(path)
        self._shape = None if shape is None else tuple(int(x) for x in shape)
        self._kind = kind
        self._dtype = np.dtype(dtype)
        self._desc = None
        if kind == "other":
            desc = handle.type_desc(path)
            if desc[0] != "other":
                # Compound, array, variable-length sequence, opaque: h5py's dtype.
                self._desc = desc
                self._dtype = _dtypes.dtype_of(desc)[0]
        self.chunks = None if chunks is None else tuple(int(x) for x in chunks)
        self.compression = compression

    @property
    def shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def ndim(self):
        return 0 if self._shape is None else len(self._shape)

    @property
    def size(self):
        return 0 if self._shape is None else int(np.prod(self._shape, dtype=np.int64))

    def __len__(self):
        if not self._shape:
            raise TypeError("len() of a scalar dataset")
        return self._shape[0]

    def __getitem__(self, key):
        if self._shape is None:
            raise ValueError("a dataset with a NULL dataspace holds no values")
        if key == () or key is Ellipsis:
            key = tuple(slice(None) for _ in self._shape)
        start, count, step, drop = _normalize_key(key, self._shape)
        if self._desc is not None and _dtypes.is_fixed(self._desc):
            # Stored bytes are the numpy layout: read them as they are.
            raw = self._handle.read_bytes(self._path, start, count, step)
            arr = np.frombuffer(raw, dtype=self._dtype).copy()
        elif self._desc is not None:
            raw = self._handle.read(self._path, start, count, step)
            arr = _dtypes.from_values(self._desc, raw)
        else:
            raw = self._handle.read(self._path, start, count, step)
            if self._kind == "numeric":
                arr = raw.astype(self._dtype, copy=False) if raw.dtype != self._dtype else raw
            elif self._kind == "fixed_str":
                arr = np.frombuffer(raw, dtype=self._dtype).copy()
            else:
                arr = np.empty(len(raw), dtype=object)
                arr[:] = raw
        out_shape = tuple(c for d, c in enumerate(count) if d not in drop)
        # An array type's dimensions follow the dataset's (numpy expands subarray dtypes).
        arr = arr.reshape(out_shape + self._dtype.shape)
        return arr[()] if out_shape == () else arr

    def __repr__(self):
        return f"<h5sparse.Dataset {self._path!r}: shape {self._shape}, type {self._dtype}>"


from ._sparse import SparseDataset, sparse_dataset  # noqa: E402
from ._anndata import read_h5ad  # noqa: E402
from ._edit import delete_element, write_element  # noqa: E402
