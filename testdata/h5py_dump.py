#!/usr/bin/env python3
"""Reference dumper: the h5py/libhdf5 oracle for `h5sparse dump --json`.

Usage: python3 testdata/h5py_dump.py FILE [PATH] [--no-data]

Prints ONE JSON document for the object at PATH (default `/`) exactly as
/work/shared/spec/cli.md specifies for `h5sparse dump --json`.

The real HDF5 types are inspected with h5py's low-level API (`h5t` type ids), never
numpy's view of them.  Values of types without variable-length parts or references are
read with the file type itself as the memory type (no libhdf5 conversion at all) and
decoded here from the raw bytes; that keeps fixed-length string padding, byte order and
float bit patterns exactly as stored.  Types containing vlen parts or references are
read through h5py's conversions.

Member and attribute order: the order libhdf5 iterates them by default, i.e. by name,
unless the object tracks creation order, then by creation order.
"""

import json
import math
import os
import sys

# Relative names of external raw data files and virtual dataset sources resolve against the
# HDF5 file's own directory (libhdf5's default is the current directory): the rule
# `h5sparse` follows. libhdf5 reads these variables once, when it starts, so every script
# importing this module must do so before it imports h5py (testdata/generate.py does).
os.environ.setdefault("HDF5_EXTFILE_PREFIX", "${ORIGIN}")
os.environ.setdefault("HDF5_VDS_PREFIX", "${ORIGIN}")

import numpy as np
import h5py
from h5py import h5, h5a, h5i, h5l, h5o, h5p, h5s, h5t

try:  # registers the Zstd/LZ4/Bitshuffle/Blosc filters with libhdf5
    import hdf5plugin  # noqa: F401
except ImportError:  # pragma: no cover
    pass

# ----------------------------------------------------------------------------- types

# IEEE layouts: size -> (sign pos, exp pos, exp size, mantissa pos, mantissa size), bias
_IEEE = {
    2: ((15, 10, 5, 0, 10), 15),
    4: ((31, 23, 8, 0, 23), 127),
    8: ((63, 52, 11, 0, 52), 1023),
}


def _is_ieee(t):
    size = t.get_size()
    if size not in _IEEE:
        return False
    fields, bias = _IEEE[size]
    try:
        return (
            tuple(t.get_fields()) == fields
            and t.get_ebias() == bias
            and t.get_order() in (h5t.ORDER_LE, h5t.ORDER_BE)
        )
    except Exception:  # noqa: BLE001 - any oddity means "not a plain IEEE float"
        return False


def _custom_float_size(t):
    """The numpy float size h5py reads a non-IEEE float type as, if 2, 4 or 8."""
    try:
        size = t.dtype.itemsize
    except Exception:  # noqa: BLE001 - h5py has no numpy type for it
        return None
    return size if size in (2, 4, 8) else None


def _enum_members(t):
    out = []
    for i in range(t.get_nmembers()):
        out.append((t.get_member_name(i), t.get_member_value(i)))
    return out


def _is_bool(t):
    """h5py's bool: a 2-member enum over a signed 1-byte integer, FALSE=0, TRUE=1."""
    if t.get_class() != h5t.ENUM:
        return False
    base = t.get_super()
    if base.get_class() != h5t.INTEGER or base.get_size() != 1 or base.get_sign() != h5t.SGN_2:
        return False
    if t.get_nmembers() != 2:
        return False
    return sorted(_enum_members(t)) == [(b"FALSE", 0), (b"TRUE", 1)]


def dtype_str(t):
    """The spec's DTYPE string of an h5t type id (`unsupported:<what>` when not listed)."""
    c = t.get_class()
    if c == h5t.INTEGER:
        size = t.get_size()
        if size not in (1, 2, 4, 8):
            return "unsupported:int%d" % (size * 8)
        return ("i" if t.get_sign() == h5t.SGN_2 else "u") + str(size)
    if c == h5t.FLOAT:
        if not _is_ieee(t):
            # Another layout: h5py reads it as the numpy float it picks (libhdf5 converts);
            # one wider than binary64 (long double) is unsupported.
            size = _custom_float_size(t)
            if size is None:
                return "unsupported:float%d" % (t.get_size() * 8)
            return "f%d" % size
        return "f" + str(t.get_size())
    if c == h5t.STRING:
        if t.is_variable_str():
            return "str"
        return "S%d" % t.get_size()
    if c == h5t.ENUM:
        if _is_bool(t):
            return "bool"
        base = dtype_str(t.get_super())
        if base.startswith("unsupported:"):
            return base
        return "enum:" + base
    if c == h5t.COMPOUND:
        for i in range(t.get_nmembers()):
            m = dtype_str(t.get_member_type(i))
            if m.startswith("unsupported:"):
                return m
        return "compound"
    if c == h5t.ARRAY:
        base = dtype_str(t.get_super())
        if base.startswith("unsupported:"):
            return base
        dims = t.get_array_dims()
        return "array:%s[%s]" % (base, ",".join(str(d) for d in dims))
    if c == h5t.VLEN:
        base = dtype_str(t.get_super())
        if base.startswith("unsupported:"):
            return base
        return "vlen:" + base
    if c == h5t.REFERENCE:
        if t.equal(h5t.STD_REF_OBJ):
            return "ref"
        if t.equal(h5t.STD_REF_DSETREG):
            return "unsupported:region-reference"
        return "unsupported:reference"
    if c == h5t.OPAQUE:
        return "opaque"
    if c == h5t.BITFIELD:
        return "unsupported:bitfield"
    if c == h5t.TIME:
        return "unsupported:time"
    if c == getattr(h5t, "COMPLEX", -12345):
        return "unsupported:complex"
    return "unsupported:class%d" % c


def _needs_conversion(t):
    """True when values cannot be decoded from the raw stored bytes (vlen parts, refs)."""
    c = t.get_class()
    if c in (h5t.VLEN, h5t.REFERENCE):
        return True
    if c == h5t.STRING:
        return bool(t.is_variable_str())
    if c == h5t.FLOAT:
        return not _is_ieee(t)  # other layouts: values as libhdf5 converts them
    if c == h5t.COMPOUND:
        return any(_needs_conversion(t.get_member_type(i)) for i in range(t.get_nmembers()))
    if c in (h5t.ARRAY, h5t.ENUM):
        return _needs_conversion(t.get_super())
    return False


# ---------------------------------------------------------------------------- values


def jfloat(x):
    """A float as the spec's JSON value (NaN/inf as strings, sign of zero kept)."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def jstr_bytes(b):
    return bytes(b).decode("utf-8", errors="replace")


def jstr_any(v):
    if isinstance(v, str):
        # h5py may hand out surrogate-escaped text for invalid UTF-8
        return v.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
    return jstr_bytes(v)


def _strip_fixed(t, b):
    b = bytes(b)
    if t.get_strpad() == h5t.STR_SPACEPAD:
        return b.rstrip(b" ")
    return b.rstrip(b"\x00")


def _np_num_dtype(t):
    end = "<" if t.get_order() == h5t.ORDER_LE else ">"
    kind = "f" if t.get_class() == h5t.FLOAT else ("i" if t.get_sign() == h5t.SGN_2 else "u")
    return np.dtype(end + kind + str(t.get_size()))


def _int_bits(t):
    """(offset, precision) of an integer type whose significant bits are not all its bits,
    else None."""
    prec, off = t.get_precision(), t.get_offset()
    if off == 0 and prec == 8 * t.get_size():
        return None
    return off, prec


def _int_value(t, raw_unsigned, bits):
    """The value of an integer with significant bits `bits` = (offset, precision) (as
    libhdf5 converts it: padding bits ignored, the sign bit extended)."""
    off, prec = bits
    v = (raw_unsigned >> off) & ((1 << prec) - 1)
    if t.get_sign() == h5t.SGN_2 and v >> (prec - 1):
        v -= 1 << prec
    return v


def decode_raw(t, b):
    """Decode one element of type `t` from its stored bytes `b` (no vlen/refs inside)."""
    c = t.get_class()
    if c == h5t.INTEGER:
        order = "little" if t.get_order() == h5t.ORDER_LE else "big"
        bits = _int_bits(t)
        if bits is not None:
            return _int_value(t, int.from_bytes(b, order, signed=False), bits)
        return int.from_bytes(b, order, signed=(t.get_sign() == h5t.SGN_2))
    if c == h5t.FLOAT:
        return jfloat(np.frombuffer(bytes(b), dtype=_np_num_dtype(t))[0])
    if c == h5t.STRING:
        return jstr_bytes(_strip_fixed(t, b))
    if c == h5t.ENUM:
        v = decode_raw(t.get_super(), b)
        if _is_bool(t):
            return v != 0
        return v
    if c == h5t.COMPOUND:
        out = {}
        for i in range(t.get_nmembers()):
            mt = t.get_member_type(i)
            off = t.get_member_offset(i)
            out[jstr_bytes(t.get_member_name(i))] = decode_raw(mt, b[off : off + mt.get_size()])
        return out
    if c == h5t.ARRAY:
        base = t.get_super()
        dims = list(t.get_array_dims())
        n = base.get_size()
        flat = [decode_raw(base, b[i * n : (i + 1) * n]) for i in range(int(np.prod(dims, dtype=np.int64)))]
        return _nest(flat, dims)
    if c == h5t.OPAQUE:
        return bytes(b).hex()
    raise ValueError("no raw decoder for class %d" % c)


def _nest(flat, dims):
    """Row-major nested lists of `flat` with shape `dims` (shape [] -> bare value)."""
    if not dims:
        return flat[0]
    if len(dims) == 1:
        return list(flat)
    step = len(flat) // dims[0] if dims[0] else 0
    return [_nest(flat[i * step : (i + 1) * step], dims[1:]) for i in range(dims[0])]


def decode_conv(t, v, fobj):
    """Decode one element of type `t` from h5py's converted (numpy/python) value `v`."""
    c = t.get_class()
    if c == h5t.INTEGER:
        return int(v)
    if c == h5t.FLOAT:
        return jfloat(v)
    if c == h5t.STRING:
        if t.is_variable_str():
            return jstr_any(v) if v is not None else ""
        if isinstance(v, str):
            v = v.encode("utf-8", errors="surrogateescape")
        return jstr_bytes(_strip_fixed(t, v))
    if c == h5t.ENUM:
        if _is_bool(t):
            return bool(v)
        return int(v)
    if c == h5t.COMPOUND:
        out = {}
        for i in range(t.get_nmembers()):
            out[jstr_bytes(t.get_member_name(i))] = decode_conv(t.get_member_type(i), v[i], fobj)
        return out
    if c == h5t.ARRAY:
        base = t.get_super()
        dims = list(t.get_array_dims())
        a = np.asarray(v).reshape(dims) if dims else v
        flat = [decode_conv(base, x, fobj) for x in np.asarray(a).reshape(-1)]
        return _nest(flat, dims)
    if c == h5t.VLEN:
        base = t.get_super()
        return [decode_conv(base, x, fobj) for x in np.asarray(v).reshape(-1)]
    if c == h5t.REFERENCE:
        if not v:
            return None
        try:
            return fobj[v].name
        except Exception:  # noqa: BLE001 - dangling reference
            return None
    if c == h5t.OPAQUE:
        return bytes(np.asarray(v).tobytes()).hex()
    raise ValueError("no decoder for class %d" % c)


def _space_shape(space):
    """None for a NULL dataspace, () for scalar, the dims for simple."""
    kind = space.get_simple_extent_type()
    if kind == h5s.NULL:
        return None
    if kind == h5s.SCALAR:
        return ()
    return tuple(int(d) for d in space.shape)


def _values(t, shape, raw_reader, conv_reader, fobj):
    """The JSON value of a whole dataset/attribute of type t and shape (None = NULL)."""
    if shape is None or dtype_str(t).startswith("unsupported:"):
        return None
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if n == 0:
        return _nest([], list(shape)) if shape else None
    if not _needs_conversion(t):
        size = t.get_size()
        buf = np.empty(shape if shape else (), dtype=np.dtype((np.void, size)))
        raw_reader(buf, t)
        data = buf.tobytes()
        c = t.get_class()
        if c == h5t.INTEGER and _int_bits(t) is not None:
            flat = [decode_raw(t, data[i * size : (i + 1) * size]) for i in range(n)]
        elif c in (h5t.INTEGER, h5t.FLOAT):
            arr = np.frombuffer(data, dtype=_np_num_dtype(t))
            if c == h5t.FLOAT:
                flat = [jfloat(x) for x in arr.tolist()]
            else:
                flat = [int(x) for x in arr.tolist()]
        else:
            flat = [decode_raw(t, data[i * size : (i + 1) * size]) for i in range(n)]
        return _nest(flat, list(shape))
    arr = conv_reader()
    if t.get_class() == h5t.ARRAY and shape:
        # numpy expands the subarray dtype into trailing axes: one element per row
        rows = np.asarray(arr).reshape((n, -1))
        return _nest([decode_conv(t, r, fobj) for r in rows], list(shape))
    flat = [decode_conv(t, x, fobj) for x in np.asarray(arr, dtype=object).reshape(-1)] if shape else [
        decode_conv(t, arr, fobj)
    ]
    return _nest(flat, list(shape))


# ------------------------------------------------------------------------------ tree


def _crt_order_index(flags):
    if flags & h5p.CRT_ORDER_TRACKED:
        return h5.INDEX_CRT_ORDER
    return h5.INDEX_NAME


def attr_names(oid):
    try:
        flags = oid.get_create_plist().get_attr_creation_order()
    except Exception:  # noqa: BLE001 - committed datatypes etc.
        flags = 0
    names = []

    def cb(name, *_):
        names.append(name)

    idx = _crt_order_index(flags)
    try:
        h5a.iterate(oid, cb, index_type=idx, order=h5.ITER_INC)
    except Exception:  # noqa: BLE001 - tracked but not indexed: fall back to names
        names.clear()
        h5a.iterate(oid, cb, index_type=h5.INDEX_NAME, order=h5.ITER_INC)
    return names


def dump_attrs(oid, fobj):
    out = {}
    for name in attr_names(oid):
        aid = h5a.open(oid, name)
        t = aid.get_type()
        shape = _space_shape(aid.get_space())

        def raw(buf, mt, aid=aid):
            aid.read(buf, mtype=mt)

        def conv(aid=aid, shape=shape):
            arr = np.empty(shape if shape else (), dtype=aid.dtype)
            aid.read(arr)
            return arr if shape else arr[()]

        out[jstr_bytes(name)] = _values(t, shape, raw, conv, fobj)
    return out


def member_names(gid):
    flags = gid.get_create_plist().get_link_creation_order()
    names = []

    def cb(name):
        names.append(name)

    try:
        gid.links.iterate(cb, idx_type=_crt_order_index(flags), order=h5.ITER_INC)
    except Exception:  # noqa: BLE001 - tracked but not indexed: fall back to names
        names.clear()
        gid.links.iterate(cb, idx_type=h5.INDEX_NAME, order=h5.ITER_INC)
    return names


def dump_object(oid, fobj, no_data):
    kind = h5i.get_type(oid)
    if kind == h5i.GROUP:
        node = {"kind": "group", "attrs": dump_attrs(oid, fobj), "members": {}}
        for name in member_names(oid):
            node["members"][jstr_bytes(name)] = dump_link(oid, name, fobj, no_data)
        return node
    if kind == h5i.DATASET:
        t = oid.get_type()
        shape = _space_shape(oid.get_space())
        node = {
            "kind": "dataset",
            "dtype": dtype_str(t),
            "shape": list(shape) if shape is not None else None,
            "attrs": dump_attrs(oid, fobj),
        }
        if not no_data:

            def raw(buf, mt):
                oid.read(h5s.ALL, h5s.ALL, buf, mtype=mt)

            def conv():
                return h5py.Dataset(oid)[()]

            node["data"] = _values(t, shape, raw, conv, fobj)
        return node
    if kind == h5i.DATATYPE:
        return {"kind": "datatype", "dtype": dtype_str(oid), "attrs": dump_attrs(oid, fobj)}
    raise ValueError("unexpected object type %r" % kind)


def dump_link(gid, name, fobj, no_data):
    info = gid.links.get_info(name)
    if info.type == h5l.TYPE_SOFT:
        return {"kind": "softlink", "target": jstr_bytes(gid.links.get_val(name))}
    if info.type == h5l.TYPE_EXTERNAL:
        fname, target = gid.links.get_val(name)
        return {"kind": "extlink", "file": jstr_bytes(fname), "target": jstr_bytes(target)}
    if info.type != h5l.TYPE_HARD:
        return {"kind": "unsupported:link-type-%d" % info.type}
    oid = h5o.open(gid, name)
    return dump_object(oid, fobj, no_data)


def dump(path_file, path="/", no_data=False):
    """The JSON value (Python objects) of the object at `path` in file `path_file`."""
    with h5py.File(path_file, "r") as f:
        if path in ("/", ""):
            oid = h5o.open(f.id, b".")
        else:
            oid = h5o.open(f.id, path.encode("utf-8"))
        return dump_object(oid, f, no_data)


def to_json(value):
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def main(argv):
    args = [a for a in argv if a != "--no-data"]
    no_data = len(args) != len(argv)
    if len(args) not in (1, 2):
        sys.stderr.write("usage: h5py_dump.py FILE [PATH] [--no-data]\n")
        return 2
    doc = dump(args[0], args[1] if len(args) == 2 else "/", no_data)
    sys.stdout.buffer.write(to_json(doc).encode("utf-8") + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
