"""HDF5 types beyond numbers and strings as h5py shows them: compound types as numpy
structured dtypes, array types as subarray dtypes, variable-length sequences as object
arrays of numpy arrays, opaque types as `|V` bytes.

The Rust side describes a type as a tree (`Handle.type_desc`): `("num", dtype)`,
`("S", size)`, `("vstr", stored size)`, `("vlen", base, stored size)`, `("array", dims, base)`,
`("compound", [(name, offset, member)], size)`, `("opaque", size)`, `("other", dtype)`.
"""
import numpy as np

# Sizes libhdf5 gives variable-length types in memory (what h5py's dtypes lay out):
# a `char *` for strings, an `hvl_t` (length + pointer) for sequences.
_VSTR_MEM, _VLEN_MEM = 8, 16


def is_fixed(desc):
    """True when numpy can read the stored bytes as they are (no heap pointers inside)."""
    kind = desc[0]
    if kind in ("num", "S", "opaque"):
        return True
    if kind == "array":
        return is_fixed(desc[2])
    if kind == "compound":
        return all(is_fixed(m) for _, _, m in desc[1])
    return False


def _complex(desc):
    """h5py's complex numbers: a compound of two equal floats named `r` and `i`."""
    if desc[0] != "compound" or len(desc[1]) != 2:
        return None
    (n0, o0, m0), (n1, o1, m1) = desc[1]
    if (n0, n1) != ("r", "i") or m0[0] != "num" or m0 != m1:
        return None
    base = np.dtype(m0[1])
    if base.kind != "f" or o0 != 0 or o1 != base.itemsize or desc[2] != 2 * base.itemsize:
        return None
    return np.dtype(f"{base.byteorder if base.byteorder != '=' else '<'}c{2 * base.itemsize}")


def dtype_of(desc):
    """`(numpy dtype as h5py gives it, its size in memory)` for a type tree."""
    kind = desc[0]
    if kind == "num":
        dt = np.dtype(desc[1])
        return dt, dt.itemsize
    if kind == "S":
        return np.dtype(f"S{desc[1]}"), desc[1]
    if kind == "opaque":
        return np.dtype(f"V{desc[1]}"), desc[1]
    if kind == "vstr":
        return np.dtype(object), _VSTR_MEM
    if kind == "vlen":
        return np.dtype(object), _VLEN_MEM
    if kind == "array":
        base, size = dtype_of(desc[2])
        dims = tuple(int(d) for d in desc[1])
        return np.dtype((base, dims)), size * int(np.prod(dims, dtype=np.int64))
    if kind == "compound":
        c = _complex(desc)
        if c is not None:
            return c, c.itemsize
        # libhdf5 lays a compound out in memory at the file's offsets, shifted by how much
        # the variable-length members before it grew or shrank (H5T_set_loc).
        shifted, shift = {}, 0
        for name, off, m in sorted(desc[1], key=lambda m: m[1]):
            shifted[name] = int(off) + shift
            stored = _stored_size(m)
            if stored is not None:
                shift += dtype_of(m)[1] - stored
        size = int(desc[2]) + shift
        return np.dtype({"names": [n for n, _, _ in desc[1]],
                         "formats": [dtype_of(m)[0] for _, _, m in desc[1]],
                         "offsets": [shifted[n] for n, _, _ in desc[1]],
                         "itemsize": size}), size
    return np.dtype(object), 8


def _stored_size(desc):
    """Bytes a type takes in the file when it can differ from memory (variable-length types:
    length, collection address, index); None otherwise."""
    kind = desc[0]
    if kind == "vstr":
        return int(desc[1])
    if kind == "vlen":
        return int(desc[2])
    if kind == "array":
        inner = _stored_size(desc[2])
        if inner is None:
            return None
        return inner * int(np.prod([int(d) for d in desc[1]], dtype=np.int64))
    if kind == "compound":
        if is_fixed(desc):
            return None
        return int(desc[2])
    return None


def value_of(desc, v, top=False):
    """One decoded element (lists, tuples, str from the Rust side) as h5py returns it."""
    kind = desc[0]
    if kind == "vstr":
        if v is None:
            return None
        return v if top else (v.encode() if isinstance(v, str) else v)
    if kind == "S":
        return v.encode() if isinstance(v, str) else v
    if kind == "vlen":
        base, _ = dtype_of(desc[1])
        items = [value_of(desc[1], x) for x in v]
        if base == object:
            out = np.empty(len(items), dtype=object)
            out[:] = items
            return out
        return np.array(items, dtype=base).reshape(len(items), *base.shape)
    if kind == "array":
        return [value_of(desc[2], x) for x in v] if isinstance(v, list) else v
    if kind == "compound":
        c = _complex(desc)
        vals = [value_of(m, x) for (_, _, m), x in zip(desc[1], v)]
        if c is not None:
            return complex(vals[0], vals[1])
        return tuple(vals)
    return v


def from_values(desc, values):
    """A flat numpy array of h5py's dtype from decoded elements."""
    dt, _ = dtype_of(desc)
    out = np.empty(len(values), dtype=dt)
    for i, v in enumerate(values):
        out[i] = value_of(desc, v, top=True)
    return out
