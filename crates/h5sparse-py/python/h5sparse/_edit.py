"""`write_element` / `delete_element`: one element of an `.h5ad` file written, replaced or
deleted in place (an extension of the Python contract). The value is turned into the plain
tuples the native half reads; each change is one commit of the file (a killed process
leaves the file as before or after the change)."""
import numbers

import numpy as np

from ._native import delete_element as _native_delete
from ._native import write_element as _native_write


def _strings(values, shape):
    return ("strings", [str(v) for v in np.asarray(values, dtype=object).ravel()], list(shape))


def _array(a):
    a = np.asarray(a)
    if a.dtype.kind in "OUS":
        return _strings(a, a.shape)
    if a.dtype.kind not in "biuf":
        raise ValueError(f"cannot store a numpy array of dtype {a.dtype}")
    return ("dense", np.ascontiguousarray(a))


def _column(s):
    """A pandas Series / Categorical / extension array or a 1-D array as a column tuple."""
    import pandas as pd

    if isinstance(s, pd.Series):
        s = s.array
    if isinstance(s, pd.Categorical):
        cats = _array(np.asarray(s.categories))
        return ("categorical", np.asarray(s.codes, dtype="i8"), cats, bool(s.ordered))
    if isinstance(s, (pd.arrays.IntegerArray, pd.arrays.BooleanArray)):
        mask = np.asarray(s.isna(), dtype=bool)
        kind = "bool" if isinstance(s, pd.arrays.BooleanArray) else s.dtype.numpy_dtype
        vals = s.to_numpy(dtype=kind, na_value=0 if kind != "bool" else False)
        return ("nullable", _array(vals), mask)
    if isinstance(s, pd.arrays.StringArray) or (hasattr(s, "dtype") and isinstance(s.dtype, pd.StringDtype)):
        mask = np.asarray(s.isna(), dtype=bool)
        vals = np.asarray(s.to_numpy(dtype=object, na_value=""), dtype=object)
        if mask.any():
            return ("nullable", _strings(vals, vals.shape), mask)
        return _strings(vals, vals.shape)
    return _array(np.asarray(s))


def _encode(v):
    import scipy.sparse as sp

    try:
        import pandas as pd
    except ImportError:  # pandas values need pandas; everything else does not
        pd = None
    if sp.issparse(v):
        fmt = v.format
        if fmt not in ("csr", "csc"):
            v, fmt = v.tocsr(), "csr"
        return ("sparse", fmt, np.ascontiguousarray(v.data), np.ascontiguousarray(v.indices),
                np.ascontiguousarray(v.indptr), tuple(int(x) for x in v.shape))
    if pd is not None and isinstance(v, pd.DataFrame):
        name = v.index.name if v.index.name is not None else "_index"
        cols = [(str(c), _column(v[c])) for c in v.columns]
        return ("dataframe", str(name), [str(x) for x in v.index], cols)
    if pd is not None and isinstance(v, (pd.Series, pd.Categorical, pd.api.extensions.ExtensionArray)):
        return _column(v)
    if isinstance(v, dict):
        return ("dict", {str(k): _encode(x) for k, x in v.items()})
    if isinstance(v, str):
        return ("string", v)
    if isinstance(v, (bool, np.bool_, numbers.Number, np.generic)):
        return ("scalar", np.asarray(v).reshape(1))
    return _array(v)


def write_element(path, key, value, fsync=True):
    """Write `value` as the element `key` of the `.h5ad` file at `path`, in place.

    `key` is `obs/NAME` or `var/NAME` (a pandas Series, Categorical, nullable array or 1-D
    numpy array of n_obs / n_vars rows; `column-order` is kept), `X` or `layers/NAME`
    (numpy 2-D or scipy CSR/CSC of shape (n_obs, n_vars)), `obsm/NAME` / `varm/NAME`
    (first dimension n_obs / n_vars; a DataFrame's index must equal the names),
    `obsp/NAME` / `varp/NAME` (square), or `uns/PATH` (any value; missing dicts are
    created). An existing element of that name is replaced. Raises `ValueError` for a value
    anndata would refuse (wrong length or shape), leaving the file unchanged. With `fsync`
    (the default) each step of the commit is on disk before the next (h5py does not fsync;
    `fsync=False` still survives a killed process, not a power loss).
    """
    _native_write(str(path), key, _encode(value), fsync)


def delete_element(path, key, fsync=True):
    """Delete the element `key` (keys as in `write_element`) of the `.h5ad` file at `path`
    in place; a column also leaves `column-order`. `KeyError` if there is no such element."""
    _native_delete(str(path), key, fsync)
