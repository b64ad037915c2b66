"""Generate datatype test cases with h5py/libhdf5 as the oracle.

Writes a JSON list of cases to argv[1]. Each case has the datatype message body as libhdf5
encodes it (H5Tencode, or the raw message read out of a file written with libver='latest'),
the DTYPE name and size expected, and optionally element bytes (numpy .tobytes()) with the
values numpy reports, in a canonical form:
  int -> JSON int, float -> {"f": "<f64 bits hex>"|"nan"}, bool -> JSON bool, str -> JSON str,
  opaque -> {"hex": ...}, list -> JSON list, compound -> {"c": [[name, value], ...]},
  unsupported -> null.
"""
import json
import os
import struct
import sys
import tempfile

import warnings

import h5py
import numpy as np
from h5py import h5t

cases = []
warnings.simplefilter("ignore")


def fbits(x):
    x = float(x)
    if x != x:
        return {"f": "nan"}
    return {"f": struct.pack(">d", x).hex()}


def canon(dt, v):
    if dt.names is not None:
        return {"c": [[n, canon(dt.fields[n][0], v[n])] for n in dt.names]}
    if dt.subdtype is not None:
        base, _shape = dt.subdtype
        return nested(base, np.asarray(v))
    if h5py.check_enum_dtype(dt) is not None:
        return int(v)
    if dt.kind == "b":
        return bool(v)
    if dt.kind in "iu":
        return int(v)
    if dt.kind == "f":
        return fbits(v)
    if dt.kind == "S":
        return bytes(v).rstrip(b"\0").decode("utf-8", "replace")
    if dt.kind == "V":
        return {"hex": bytes(v).hex()}
    raise ValueError(dt)


def nested(base, arr):
    if not isinstance(arr, np.ndarray):
        return canon(base, arr)
    if arr.ndim == 0:
        return canon(base, arr[()])
    return [nested(base, a) for a in arr]


def enc(t):
    return t.encode().hex()


def add(name, t, dtype_name, data=None, values=None, body=None, numeric=False):
    c = {"name": name, "dtype_name": dtype_name, "size": t.get_size() if t is not None else None}
    if body is not None:
        c["body"] = body
    else:
        c["enc"] = enc(t)
    if data is not None:
        c["data"] = data.hex() if isinstance(data, bytes) else data
        c["values"] = values
        c["count"] = len(values)
    c["numeric"] = numeric
    cases.append(c)


def add_np(name, dt, dtype_name, arr, numeric=False):
    """A type from a numpy dtype, with element values from numpy."""
    arr = np.asarray(arr, dtype=dt)
    t = h5t.py_create(dt, logical=True)
    vals = [canon(dt, x) for x in arr.ravel()]
    extra = {}
    if numeric:
        extra["as_f64"] = [fbits(float(x)) for x in arr.ravel()]
        extra["as_f32"] = [fbits(float(np.float32(x))) for x in arr.ravel()]
    add(name, t, dtype_name, data=arr.tobytes(), values=vals, numeric=numeric)
    cases[-1].update(extra)


rng = np.random.default_rng(7)

# Integers: every size, both orders, extremes and random values.
for kind in "iu":
    for size in (1, 2, 4, 8):
        base = np.dtype(f"{kind}{size}")
        info = np.iinfo(base)
        vals = [info.min, info.max, 0, 1, info.max // 3, info.min // 2]
        vals += [int(x) for x in rng.integers(info.min, info.max, size=20, dtype=base, endpoint=True)]
        for order in "<>":
            dt = base.newbyteorder(order)
            add_np(f"int {dt.str}", dt, f"{kind}{size}", vals, numeric=True)

# Floats: f2/f4/f8, both orders, specials, subnormals, random.
for size in (2, 4, 8):
    base = np.dtype(f"f{size}")
    fi = np.finfo(base)
    vals = [0.0, -0.0, 1.0, -2.5, np.nan, np.inf, -np.inf, fi.smallest_subnormal,
            -fi.smallest_subnormal, fi.tiny, fi.max, fi.min, 0.1, 1 / 3, 65504.0 if size == 2 else 1e30]
    vals += list(rng.standard_normal(20) * 100)
    arr = np.array(vals, dtype=base)
    for order in "<>":
        dt = base.newbyteorder(order)
        add_np(f"float {dt.str}", dt, f"f{size}", arr.astype(dt), numeric=True)

# Bool and enums.
add_np("bool", np.dtype(bool), "bool", [True, False, True, True], numeric=True)
e = h5py.enum_dtype({"a": 1, "b": -5, "c": 300}, basetype="i2")
add_np("enum i2", e, "enum:i2", np.array([1, -5, 300, 1], dtype="i2"), numeric=True)
e = h5py.enum_dtype({"FALSE": 0, "TRUE": 1}, basetype="u1")
add_np("enum u1 FALSE/TRUE", e, "enum:u1", np.array([0, 1, 1], dtype="u1"), numeric=True)
e = h5py.enum_dtype({"x": 0, "y": 1}, basetype="i1")
add_np("enum i1 x/y", e, "enum:i1", np.array([0, 1, 1], dtype="i1"), numeric=True)
e = h5py.enum_dtype({"RED": 0, "GREEN": 7}, basetype=">u8")
add_np("enum >u8", e, "enum:u8", np.array([7, 0], dtype=">u8"), numeric=True)

# Fixed-length strings: numpy S (nullpad ascii).
add_np("S5", np.dtype("S5"), "S5", [b"ab", b"abcde", b"", b"a\0b", b"\xff\xfeok"])


def fixed_str(name, size, pad, cset, raws):
    t = h5t.C_S1.copy()
    t.set_size(size)
    t.set_strpad(pad)
    t.set_cset(cset)
    exp = []
    for r in raws:
        r = r.ljust(size, b"\0")
        if pad == h5t.STR_NULLTERM:
            s = r.split(b"\0")[0]
        elif pad == h5t.STR_NULLPAD:
            s = r.rstrip(b"\0")
        else:
            s = r.rstrip(b" ")
        exp.append(s.decode("utf-8", "replace"))
    add(name, t, f"S{size}", data=b"".join(r.ljust(size, b"\0") for r in raws), values=exp)


raws = [b"hi\0\0\0\0", b"hi  \0 ", b"x\0yz  ", "é€".encode() + b"\0", b"\xc3(\xa0\xe2\x82", b"      "]
for pad, pn in ((h5t.STR_NULLTERM, "nullterm"), (h5t.STR_NULLPAD, "nullpad"), (h5t.STR_SPACEPAD, "spacepad")):
    for cset, cn in ((h5t.CSET_ASCII, "ascii"), (h5t.CSET_UTF8, "utf8")):
        fixed_str(f"string {pn} {cn}", 6, pad, cset, raws)

# Opaque.
add_np("opaque V7", np.dtype("V7"), "opaque", [b"\x00\x01\x02\xff\xfe\x10\x20", b"abcdefg"])
t = h5py.h5t.py_create(h5py.opaque_dtype(np.dtype("M8[ns]")), logical=True)
add("opaque tagged", t, "opaque")

# Compounds: padding, BE members, array members, nesting.
c1 = np.dtype({"names": ["a", "b", "c"], "formats": ["<i2", ">f8", "u1"], "offsets": [0, 8, 20], "itemsize": 24})
add_np("compound padded", c1, "compound", np.array([(1, 2.5, 3), (-7, np.nan, 255)], dtype=c1))
c2 = np.dtype([("x", "<i4"), ("inner", [("p", ">f4"), ("q", "S3")]), ("arr", "<i8", (2, 2)), ("e", "?")])
v2 = np.zeros(3, dtype=c2)
v2["x"] = [1, -2, 3]
v2["inner"]["p"] = [0.5, -0.0, np.inf]
v2["inner"]["q"] = [b"abc", b"d", b""]
v2["arr"] = np.arange(12).reshape(3, 2, 2) * -1000000007
v2["e"] = [True, False, True]
add_np("compound nested with array", c2, "compound", v2)
c3 = np.dtype([("r", "<f8"), ("i", "<f8")])
cz = np.array([1 + 2j, -0.0 - 1j])
add("compound complex-like", h5t.py_create(cz.dtype), "compound", data=cz.tobytes(),
    values=[canon(c3, x) for x in cz.view(c3)])

# Arrays (top level): carry them in a one-field struct to keep numpy from expanding them.
for base, shape, name in (("<i4", (2, 3), "array:i4[2,3]"), (">f2", (4,), "array:f2[4]"),
                          ("S2", (2,), "array:S2[2]")):
    holder = np.zeros(2, dtype=[("x", base, shape)])
    if base == "S2":
        holder["x"] = [[b"ab", b"c"], [b"", b"zz"]]
    else:
        holder["x"] = (np.arange(2 * int(np.prod(shape))).reshape((2,) + shape) - 3) * 1.5
    sub = np.dtype((base, shape))
    t = h5t.py_create(sub, logical=True)
    vals = [nested(np.dtype(base), row) for row in holder["x"]]
    add(f"array {base}{shape}", t, name, data=holder["x"].tobytes(), values=vals)
t = h5t.py_create(np.dtype((c1, (2,))), logical=True)
add("array of compound", t, "array:compound[2]")

# Variable length, references.
add("vlen str utf8", h5t.py_create(h5py.string_dtype(), logical=True), "str")
add("vlen str ascii", h5t.py_create(h5py.string_dtype("ascii"), logical=True), "str")
add("vlen i4", h5t.py_create(h5py.vlen_dtype(np.int32), logical=True), "vlen:i4")
add("vlen >f8", h5t.py_create(h5py.vlen_dtype(np.dtype(">f8")), logical=True), "vlen:f8")
add("vlen compound", h5t.py_create(h5py.vlen_dtype(c1), logical=True), "vlen:compound")
add("object ref", h5t.py_create(h5py.ref_dtype, logical=True), "ref")
add("region ref", h5t.py_create(h5py.regionref_dtype, logical=True), "unsupported:region reference")

# Unsupported.
add("bitfield", h5t.STD_B8LE, "unsupported:bitfield")
add("bitfield BE 32", h5t.STD_B32BE, "unsupported:bitfield")
add("long double", h5t.py_create(np.dtype(np.longdouble)), "unsupported:long double")
t = h5t.STD_I32LE.copy()
t.set_size(16)
add("int128", t, "unsupported:int128")
add("complex f64", h5t.COMPLEX_IEEE_F64LE, "unsupported:complex")
add("complex f32 BE", h5t.COMPLEX_IEEE_F32BE, "unsupported:complex")
cb = h5t.create(h5t.COMPOUND, 9)
cb.insert(b"a", 0, h5t.STD_I8LE)
cb.insert(b"b", 1, h5t.STD_B64LE)
add("compound with bitfield", cb, "unsupported:compound member b: bitfield")
add("array of bitfield", h5t.array_create(h5t.STD_B16LE, (3,)), "unsupported:array of bitfield")
add("vlen of long double", h5t.vlen_create(h5t.py_create(np.dtype(np.longdouble))),
    "unsupported:vlen of long double")


# Version 3+ encodings: only written to files with libver='latest'; read the message body out
# of the committed datatype's object header (v2 "OHDR").
def ohdr_dtype_messages(path):
    data = open(path, "rb").read()
    out = []
    pos = data.find(b"OHDR")
    while pos >= 0:
        p = pos + 4
        version, flags = data[p], data[p + 1]
        p += 2
        if version == 2:
            if flags & 0x20:
                p += 16
            if flags & 0x10:
                p += 4
            n = 1 << (flags & 3)
            size = int.from_bytes(data[p:p + n], "little")
            p += n
            end = p + size
            while p + 4 <= end:
                mtype = data[p]
                msize = int.from_bytes(data[p + 1:p + 3], "little")
                p += 4 + (2 if flags & 0x04 else 0)
                if mtype == 3:
                    out.append(data[p:p + msize].hex())
                p += msize
        pos = data.find(b"OHDR", pos + 4)
    return out


tmp = tempfile.mkdtemp()
latest = [
    ("v3 compound nested", c2, "compound", v2),
    ("v3 compound padded", c1, "compound", np.array([(1, 2.5, 3)], dtype=c1)),
    ("v3 enum i2", h5py.enum_dtype({"a": 1, "b": -5, "c": 300}, basetype="i2"), "enum:i2",
     np.array([300, -5], dtype="i2")),
    ("v3 bool", np.dtype(bool), "bool", np.array([True, False])),
    ("v3 array", np.dtype(("<u2", (3, 1))), "array:u2[3,1]", None),
    ("v3 vlen str", h5py.string_dtype(), "str", None),
    ("v3 ref", h5py.ref_dtype, "ref", None),
    ("v3 big compound", np.dtype([(f"f{i}", "<f8") for i in range(40)]), "compound", None),
]
for i, (name, dt, dname, arr) in enumerate(latest):
    path = os.path.join(tmp, f"t{i}.h5")
    with h5py.File(path, "w", libver="latest") as f:
        h5t.py_create(dt, logical=True).copy().commit(f.id, b"t")
    msgs = ohdr_dtype_messages(path)
    assert len(msgs) == 1, (name, msgs)
    t = h5t.py_create(dt, logical=True)
    if arr is not None:
        vals = [canon(dt, x) for x in arr.ravel()]
        add(name, t, dname, body=msgs[0], data=arr.tobytes(), values=vals)
    else:
        add(name, None, dname, body=msgs[0])
    cases[-1]["size"] = None  # vlen/ref memory sizes differ from file sizes: not compared

json.dump(cases, open(sys.argv[1], "w"))
