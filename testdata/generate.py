#!/usr/bin/env python3
"""Generate the HDF5 test fixtures and their h5py reference dumps.

Usage: python3 testdata/generate.py [--big]

Writes small files into testdata/ (next to this script) and, next to each, NAME.json =
the reference `dump --json` of `/` produced by testdata/h5py_dump.py, plus
testdata/manifest.json {file: {what it covers}}.  Chunk index kinds are not assumed:
they are asked from libhdf5 (H5Dget_chunk_index_type) and recorded in the manifest.
Deterministic (fixed seeds, no timestamps); rerunning rewrites the same files.
`--big` also writes larger benchmark inputs into testdata/big/ (git-ignored).
"""

import ctypes
import glob
import json
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import h5py_dump  # noqa: E402  (first: it sets libhdf5's external-file prefixes)

import numpy as np  # noqa: E402
import h5py  # noqa: E402
from h5py import h5a, h5d, h5f, h5p, h5s, h5t  # noqa: E402

try:
    import hdf5plugin
except ImportError:  # pragma: no cover
    hdf5plugin = None

MANIFEST = {}

# ------------------------------------------------------------------ libhdf5 helpers

_IDX_NAMES = {0: "btree-v1", 1: "single-chunk", 2: "implicit", 3: "fixed-array", 4: "extensible-array", 5: "btree-v2"}


def _libhdf5():
    libs = glob.glob(os.path.join(os.path.dirname(h5py.__file__), "..", "h5py.libs", "libhdf5-*.so*"))
    libs = [x for x in libs if "_hl" not in x]
    if libs:
        return ctypes.CDLL(libs[0])
    return ctypes.CDLL("libhdf5.so")


_LIB = _libhdf5()


def chunk_index_kind(dset):
    """The chunk index kind libhdf5 really uses for `dset` (None when not chunked)."""
    if dset.chunks is None:
        return None
    out = ctypes.c_int(-1)
    rc = _LIB.H5Dget_chunk_index_type(ctypes.c_int64(dset.id.id), ctypes.byref(out))
    if rc < 0:
        raise RuntimeError("H5Dget_chunk_index_type failed")
    return _IDX_NAMES.get(out.value, "unknown-%d" % out.value)


def commit_type(group, name, dtype):
    """Commit `dtype` as a named datatype without object times (h5py's commit tracks them)."""
    lib = _LIB
    lib.H5Pcreate.restype = ctypes.c_int64
    cls = ctypes.c_int64.in_dll(lib, "H5P_CLS_DATATYPE_CREATE_ID_g").value
    tcpl = ctypes.c_int64(lib.H5Pcreate(ctypes.c_int64(cls)))
    try:
        if lib.H5Pset_obj_track_times(tcpl, ctypes.c_uint(0)) < 0:
            raise RuntimeError("H5Pset_obj_track_times failed")
        tid = h5t.py_create(np.dtype(dtype)).copy()
        dflt = ctypes.c_int64(0)
        rc = lib.H5Tcommit2(ctypes.c_int64(group.id.id), name.encode(), ctypes.c_int64(tid.id), dflt, tcpl, dflt)
        if rc < 0:
            raise RuntimeError("H5Tcommit2 failed")
    finally:
        lib.H5Pclose(tcpl)
    return group[name]


def layout_name(dset):
    lay = dset.id.get_create_plist().get_layout()
    return {h5d.COMPACT: "compact", h5d.CONTIGUOUS: "contiguous", h5d.CHUNKED: "chunked"}.get(lay, str(lay))


def describe_datasets(f):
    """{path: 'layout[/index][ filters]'} for every dataset in the open file."""
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and name not in out:
            desc = layout_name(obj)
            kind = chunk_index_kind(obj)
            if kind:
                desc += "/" + kind
                plist = obj.id.get_create_plist()
                filters = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
                if filters:
                    desc += " filters=" + ",".join(str(x) for x in filters)
            out["/" + name] = desc

    f.visititems(visit)
    return out


def finish(name, covers, check_index=None):
    """Write NAME.json (the reference dump) and the manifest entry of testdata/NAME."""
    path = os.path.join(HERE, name)
    with h5py.File(path, "r") as f:
        layouts = describe_datasets(f)
    for dpath, want in (check_index or {}).items():
        got = layouts.get(dpath, "")
        if ("/" + want) not in got:
            raise AssertionError("%s:%s wanted chunk index %s, libhdf5 says %r" % (name, dpath, want, got))
    doc = h5py_dump.dump(path)
    with open(path + ".json", "w", encoding="utf-8") as out:
        out.write(h5py_dump.to_json(doc) + "\n")
    MANIFEST[name] = {"covers": covers, "datasets": layouts, "bytes": os.path.getsize(path)}


# -------------------------------------------------------------------- low-level bits


def fixed_str_type(size, pad, utf8=False):
    t = h5t.C_S1.copy()
    t.set_size(size)
    t.set_strpad(pad)
    t.set_cset(h5t.CSET_UTF8 if utf8 else h5t.CSET_ASCII)
    return t


def raw_dataset(parent, name, tid, values, dcpl=None, shape=None):
    """A dataset of file type `tid` whose stored bytes are exactly `values` (no conversion)."""
    values = np.array(values, order="C", copy=True)
    shape = values.shape if shape is None else shape
    space = h5s.create_simple(shape) if shape else h5s.create(h5s.SCALAR)
    if dcpl is None:
        dcpl = h5p.create(h5p.DATASET_CREATE)
    dcpl.set_obj_track_times(False)  # deterministic bytes
    dsid = h5d.create(parent.id, name.encode(), tid, space, dcpl=dcpl)
    dsid.write(h5s.ALL, h5s.ALL, values, mtype=tid)
    return dsid


def raw_attr(obj, name, tid, values):
    values = np.array(values, order="C", copy=True)
    space = h5s.create_simple(values.shape) if values.shape else h5s.create(h5s.SCALAR)
    aid = h5a.create(obj.id, name.encode(), tid, space)
    aid.write(values, mtype=tid)


def sample_values():
    """name -> numpy array (1-D) for attribute/dataset type coverage."""
    v = {}
    for bits in (8, 16, 32, 64):
        for kind in ("i", "u"):
            info = np.iinfo("%s%d" % (kind, bits // 8))
            for end in ("<", ">"):
                dt = np.dtype("%s%s%d" % (end, kind, bits // 8))
                v["%s%d%s" % (kind, bits, "le" if end == "<" else "be")] = np.array(
                    [info.min, info.max, 0, 1, -1 if kind == "i" else 2, 7], dtype=dt
                )
    for size in (2, 4, 8):
        for end in ("<", ">"):
            dt = np.dtype("%sf%d" % (end, size))
            fi = np.finfo(dt)
            v["f%d%s" % (size * 8, "le" if end == "<" else "be")] = np.array(
                [0.1, -0.0, np.nan, np.inf, -np.inf, fi.max, fi.tiny, fi.smallest_subnormal, 1.0 / 3.0, -2.5],
                dtype=dt,
            )
    v["bool"] = np.array([True, False, True])
    return v


# -------------------------------------------------------------------- "everything"


def write_everything(f, refs=True):
    """Most object kinds, types, dataspaces and layouts; used once per libver."""
    rng = np.random.default_rng(1234)
    f.attrs["title"] = "everything"
    f.attrs["version"] = np.int32(3)

    # groups, links
    g = f.create_group("grp")
    sub = g.create_group("sub")
    sub["leaf"] = np.arange(5, dtype="<i4")
    g["soft"] = h5py.SoftLink("/grp/sub/leaf")
    g["dangling"] = h5py.SoftLink("/does/not/exist")
    g["ext"] = h5py.ExternalLink("other.h5", "/some/path")
    f["data"] = np.arange(12, dtype="<f8").reshape(3, 4) / 4.0
    g["hard_again"] = f["data"]  # a hard link appearing twice
    f.create_group("empty_group")

    # dataspaces
    ds = f.create_group("spaces")
    ds["scalar_i4"] = np.int32(-42)
    ds["scalar_f8"] = np.float64(2.5)
    ds["rank1"] = np.arange(3, dtype="<u2")
    ds["rank2"] = np.arange(6, dtype="<i2").reshape(2, 3)
    ds["rank3"] = np.arange(24, dtype="<i8").reshape(2, 3, 4)
    ds["rank4"] = np.arange(120, dtype=">i4").reshape(2, 3, 4, 5)
    ds["zero_1d"] = np.zeros((0,), dtype="<f4")
    ds["zero_mid"] = np.zeros((2, 0, 3), dtype="<i4")
    ds["zero_first"] = np.zeros((0, 3), dtype="<i4")
    ds["null_f8"] = h5py.Empty("f8")
    ds["null_i4"] = h5py.Empty("i4")
    ds.create_dataset("unlimited", data=np.arange(7, dtype="<i4"), maxshape=(None,), chunks=(4,))
    ds.create_dataset("max_bounded", data=np.arange(6, dtype="<i4").reshape(2, 3), maxshape=(5, None), chunks=(2, 2))

    # numeric types, both byte orders
    nums = f.create_group("numbers")
    for name, arr in sample_values().items():
        nums[name] = arr
        nums.attrs[name] = arr
        nums.attrs[name + "_scalar"] = arr[1]

    # strings
    st = f.create_group("strings")
    for pad, pname in ((h5t.STR_NULLTERM, "nullterm"), (h5t.STR_NULLPAD, "nullpad"), (h5t.STR_SPACEPAD, "spacepad")):
        padc = b" " if pname == "spacepad" else b"\x00"
        for utf8 in (False, True):
            t = fixed_str_type(8, pad, utf8)
            words = ["ab", "", "héllo" if utf8 else "hello", "full8chr" if pname != "nullterm" else "seven7c"]
            raw = np.array([w.encode("utf-8").ljust(8, padc) for w in words], dtype="S8")
            nm = "%s_%s" % (pname, "utf8" if utf8 else "ascii")
            raw_dataset(st, nm, t, raw)
            raw_attr(st, nm, t, raw)
            raw_attr(st, nm + "_scalar", t, raw[0:1].reshape(()))
    # embedded NUL and invalid UTF-8 bytes (only trailing padding is stripped)
    raw_dataset(st, "embedded_nul", fixed_str_type(6, h5t.STR_NULLPAD), np.array([b"a\x00b\x00\x00\x00"], dtype="S6"))
    raw_dataset(st, "invalid_utf8", fixed_str_type(4, h5t.STR_NULLPAD, True), np.array([b"\xffab\x00"], dtype="S4"))
    raw_dataset(st, "inner_spaces", fixed_str_type(6, h5t.STR_SPACEPAD), np.array([b" a b  "], dtype="S6"))
    st["vlen_ascii"] = np.array([b"alpha", b"", b"gamma"], dtype=h5py.string_dtype("ascii"))
    st["vlen_utf8"] = np.array(["α", "ünïcode", ""], dtype=h5py.string_dtype("utf-8"))
    st["vlen_scalar"] = "just one"
    st["numpy_S"] = np.array([b"x", b"yy", b"zzz"], dtype="S3")
    st.attrs["vlen_utf8"] = "ça va"
    st.attrs["vlen_arr"] = np.array(["a", "bc"], dtype=h5py.string_dtype())
    st.attrs["S_numpy"] = np.bytes_(b"fixed")

    # layouts
    lay = f.create_group("layouts")
    dcpl = h5p.create(h5p.DATASET_CREATE)
    dcpl.set_layout(h5d.COMPACT)
    lay.create_dataset("compact", data=np.arange(10, dtype="<i4"), dcpl=dcpl)
    lay.create_dataset("contiguous", data=np.arange(10, dtype="<i4"))
    lay.create_dataset("never_written_fill7", shape=(4, 3), dtype="<i4", fillvalue=7)
    lay.create_dataset("never_written_default", shape=(5,), dtype="<f8")
    lay.create_dataset("never_written_ffill", shape=(3,), dtype="<f4", fillvalue=np.float32(-1.5))
    lay.create_dataset("chunked_gzip", data=rng.integers(0, 100, (20, 7)).astype("<i2"), chunks=(6, 4),
                       compression="gzip", shuffle=True)

    # attributes of every type (array and scalar) on a dataset
    a = lay["contiguous"]
    a.attrs["empty"] = h5py.Empty("i4")
    a.attrs["str_list"] = np.array(["x", "yz"], dtype=h5py.string_dtype())
    a.attrs["f4"] = np.float32(0.1)
    a.attrs["f2_arr"] = np.array([0.1, 65504], dtype="<f2")
    a.attrs["bool"] = True
    a.attrs["bool_arr"] = np.array([False, True])
    a.attrs["i8_2d"] = np.arange(6, dtype="<i8").reshape(2, 3)

    # compound, enum, array, vlen, refs, opaque, bitfield, committed datatype
    ty = f.create_group("types")
    inner = np.dtype([("x", "<i2"), ("y", "<f4")])
    padded = np.dtype({"names": ["a", "b", "c", "d"], "formats": ["u1", inner, ("<f8", (2, 3)), "S5"],
                       "offsets": [0, 4, 16, 72], "itemsize": 80})
    cvals = np.zeros(3, dtype=padded)
    for i in range(3):
        cvals[i] = (i, (-i, i / 4.0), np.arange(6).reshape(2, 3) * (i + 0.5), b"s%d" % i)
    ty["compound"] = cvals
    ty.attrs["compound_scalar"] = cvals[1]
    ty["enum_i1"] = np.array([0, 1, 2, 1], dtype=h5py.enum_dtype({"RED": 0, "GREEN": 1, "BLUE": 2}, basetype="i1"))
    ty["enum_u2"] = np.array([10, 65535, 10], dtype=h5py.enum_dtype({"LOW": 10, "HIGH": 65535}, basetype="<u2"))
    ty["enum_two_member"] = np.array([0, 1], dtype=h5py.enum_dtype({"NO": 0, "YES": 1}, basetype="u1"))
    ty.attrs["enum_attr"] = np.array([2, 0], dtype=h5py.enum_dtype({"A": 0, "B": 2}, basetype="i1"))
    at = h5t.array_create(h5t.STD_I32LE, (2, 2))
    raw_dataset(ty, "array_i4", at, np.arange(12, dtype="<i4").reshape(3, 2, 2), shape=(3,))
    raw_dataset(ty, "array_f4", h5t.array_create(h5t.IEEE_F32BE, (3,)),
                np.array([[1.5, -2.0, 0.25], [0.1, 0.2, np.nan]], dtype=">f4"), shape=(2,))
    ty["vlen_i4"] = np.array([np.arange(3, dtype="i4"), np.arange(0, dtype="i4"), np.array([-7], "i4")],
                             dtype=h5py.vlen_dtype(np.dtype("i4")))
    ty["vlen_f8"] = np.array([np.array([0.5, np.nan]), np.array([1e300])], dtype=h5py.vlen_dtype(np.dtype("f8")))
    ty.attrs["vlen_u1"] = np.array([np.array([1, 2], "u1"), np.array([3], "u1")], dtype=h5py.vlen_dtype(np.dtype("u1")))
    vc = np.dtype([("id", "<i4"), ("name", h5py.string_dtype()), ("vals", h5py.vlen_dtype(np.dtype("<f4")))])
    ty["compound_vlen"] = np.array([(1, "one", np.array([1.0], "f4")), (2, "two", np.array([], "f4"))], dtype=vc)
    if refs:
        ty["refs"] = np.array([f["data"].ref, f["spaces/rank2"].ref, f["grp/sub"].ref, h5py.Reference()],
                              dtype=h5py.ref_dtype)
        ty.attrs["ref_scalar"] = f["spaces/rank1"].ref
        ty["region_ref"] = np.array([f["spaces/rank2"].regionref[0:1, 1:3]], dtype=h5py.regionref_dtype)
    ty["opaque"] = np.array([b"\x00\x01\xfe", b"\xff\x10\x20"], dtype="V3")
    bf = h5t.STD_B8LE.copy()
    raw_dataset(ty, "bitfield", bf, np.array([1, 2, 255], dtype="u1"))
    ty["complex"] = np.array([1 + 2j, -0.5j], dtype="<c16")
    ld = np.array([1.0, -2.5], dtype=np.longdouble).view("u1").reshape(2, -1).copy()
    ld[:, 10:] = 0  # x87 80-bit value in 16 bytes: zero the (otherwise random) padding
    raw_dataset(ty, "longdouble", h5t.NATIVE_LDOUBLE, ld.view(np.dtype((np.void, ld.shape[1]))).reshape(2))
    commit_type(ty, "committed", [("a", "<i4"), ("b", "<f8")]).attrs["note"] = "a named type"
    commit_type(ty, "committed_f4", ">f4")
    ty.create_dataset("uses_committed", data=np.array([(1, 2.0)], dtype=ty["committed"].dtype),
                      dtype=ty["committed"])


LIBVERS = ["earliest", "v108", "v110", "v112", "latest"]


def gen_everything():
    for lv in LIBVERS:
        name = "everything_%s.h5" % lv
        with h5py.File(os.path.join(HERE, name), "w", libver=(lv, "latest")) as f:
            write_everything(f)
        finish(name, ["libver low=%s high=latest" % lv, "groups, soft/dangling/external links, hard link twice",
                      "scalar/null/rank1-4/zero-size/unlimited dataspaces", "ints/floats both byte orders, bool",
                      "fixed strings nullterm/nullpad/spacepad ascii/utf8, vlen strings",
                      "compact/contiguous/never-written layouts", "attributes of all types",
                      "compound/enum/array/vlen/refs/region-ref/opaque/bitfield/complex/longdouble/committed"])


# ------------------------------------------------------------ file-level variations


def gen_file_level():
    for ub in (512, 1024):
        name = "userblock%d.h5" % ub
        with h5py.File(os.path.join(HERE, name), "w", userblock_size=ub) as f:
            f["x"] = np.arange(4, dtype="<i4")
            f.create_group("g").attrs["a"] = "b"
        with open(os.path.join(HERE, name), "r+b") as fh:
            fh.write(b"user block text, not HDF5")
        finish(name, ["user block of %d bytes (superblock at %d)" % (ub, ub)])
    for lv in ("earliest", "latest"):
        for so, sl in ((4, 4), (2, 8), (8, 4)):
            name = "sizes_o%d_l%d_%s.h5" % (so, sl, lv)
            path = os.path.join(HERE, name)
            fcpl = h5p.create(h5p.FILE_CREATE)
            fcpl.set_sizes(so, sl)
            fcpl.set_obj_track_times(False)
            fapl = h5p.create(h5p.FILE_ACCESS)
            fapl.set_libver_bounds(h5f.LIBVER_EARLIEST if lv == "earliest" else h5f.LIBVER_LATEST, h5f.LIBVER_LATEST)
            fid = h5f.create(path.encode(), h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)
            with h5py.File(fid) as f:
                f["x"] = np.arange(10, dtype="<i8")
                g = f.create_group("g")
                g.attrs["n"] = np.arange(3)
                g["s"] = h5py.SoftLink("/x")
                g.create_dataset("chunked", data=np.arange(100, dtype="<i4").reshape(10, 10), chunks=(3, 4),
                                 compression="gzip")
                if not (lv == "latest" and sl == 4):
                    # libhdf5 cannot reopen an extensible-array dataset when lengths are 4 bytes
                    # ("didn't find unlimited dimension"): the 4-byte max dim is not H5S_UNLIMITED
                    g.create_dataset("ext", data=np.arange(50, dtype="<i2"), chunks=(4,), maxshape=(None,))
                g.create_dataset("bt2", data=np.arange(30, dtype="<i2").reshape(5, 6), chunks=(2, 2),
                                 maxshape=(None, None))
                for i in range(12):
                    g.attrs["attr%02d" % i] = i
                    f.create_group("many/m%02d" % i)
            finish(name, ["sizes of offsets=%d lengths=%d" % (so, sl), "libver low=%s" % lv])


# ----------------------------------------------------------------------- chunking


def _chunk_common(f, rng):
    """Chunk features common to all libvers."""
    f.create_dataset("gzip", data=rng.integers(0, 1000, (50, 40)).astype("<i4"), chunks=(8, 8), compression="gzip",
                     compression_opts=6)
    f.create_dataset("shuffle_gzip", data=rng.random((30, 30)).astype("<f8"), chunks=(7, 11), shuffle=True,
                     compression="gzip")
    f.create_dataset("fletcher32", data=np.arange(100, dtype=">i2"), chunks=(16,), fletcher32=True)
    f.create_dataset("all3", data=rng.random(300).astype("<f4"), chunks=(64,), shuffle=True, compression="gzip",
                     fletcher32=True)
    f.create_dataset("lzf", data=np.arange(500, dtype="<i8") % 17, chunks=(100,), compression="lzf")
    f.create_dataset("edge", data=np.arange(23 * 17, dtype="<i4").reshape(23, 17), chunks=(5, 4))
    f.create_dataset("one_elem_chunks", data=np.arange(10, dtype="<u1"), chunks=(1,))
    f.create_dataset("nd_chunks", data=np.arange(4 * 5 * 6 * 3, dtype="<i2").reshape(4, 5, 6, 3), chunks=(2, 3, 4, 2))
    d = f.create_dataset("partial_fill", shape=(10, 10), dtype="<i4", chunks=(3, 3), fillvalue=-9)
    d[0:3, 0:3] = 1
    d[9, 9] = 2
    d = f.create_dataset("partial_default", shape=(12,), dtype="<f8", chunks=(4,))
    d[5] = 3.5
    f.create_dataset("never_written", shape=(6, 6), dtype="<i2", chunks=(2, 2), fillvalue=5)
    d = f.create_dataset("grown", data=np.arange(12, dtype="<i4").reshape(3, 4), chunks=(2, 2), maxshape=(None, None),
                         fillvalue=-1)
    d.resize((5, 7))
    d[4, 6] = 99
    d = f.create_dataset("shrunk", data=np.arange(100, dtype="<i4").reshape(10, 10), chunks=(3, 3),
                         maxshape=(None, None))
    d.resize((4, 5))
    d = f.create_dataset("shrunk_then_grown", data=np.arange(20, dtype="<i4"), chunks=(3,), maxshape=(None,))
    d.resize((5,))
    d.resize((11,))
    f.create_dataset("many_chunks", data=np.arange(600, dtype="<i2"), chunks=(2,))  # deep v1 B-tree / paged farray


def gen_chunked():
    rng = np.random.default_rng(7)
    name = "chunked_earliest.h5"
    with h5py.File(os.path.join(HERE, name), "w", libver=("earliest", "latest")) as f:
        _chunk_common(f, rng)
        f.create_dataset("unlimited", data=np.arange(40, dtype="<i4"), chunks=(3,), maxshape=(None,))
    finish(name, ["v1 B-tree chunk index (incl. multi-level)", "gzip, shuffle, fletcher32, lzf", "edge chunks",
                  "one-element chunks", "N-D chunks", "never-written chunks with defined/default fill",
                  "grown and shrunk datasets"],
           {"/gzip": "btree-v1", "/many_chunks": "btree-v1", "/unlimited": "btree-v1"})

    rng = np.random.default_rng(8)
    name = "chunked_latest.h5"
    with h5py.File(os.path.join(HERE, name), "w", libver="latest") as f:
        _chunk_common(f, rng)
        f.create_dataset("single", data=np.arange(30, dtype="<i4").reshape(5, 6), chunks=(5, 6))
        f.create_dataset("single_gzip", data=np.arange(30, dtype="<i4").reshape(5, 6), chunks=(5, 6),
                         compression="gzip")
        f.create_dataset("single_gzip_fletcher", data=rng.random(40), chunks=(40,), compression="gzip",
                         fletcher32=True)
        dcpl = h5p.create(h5p.DATASET_CREATE)
        dcpl.set_alloc_time(h5d.ALLOC_TIME_EARLY)
        d = f.create_dataset("implicit", shape=(20, 9), dtype="<i4", chunks=(4, 3), dcpl=dcpl, fillvalue=3)
        d[0:4, 0:3] = 11
        d[19, 8] = 12
        dcpl = h5p.create(h5p.DATASET_CREATE)
        dcpl.set_alloc_time(h5d.ALLOC_TIME_EARLY)
        d = f.create_dataset("implicit_default_fill", shape=(7,), dtype="<f4", chunks=(2,), dcpl=dcpl)
        d[6] = 1.25
        f.create_dataset("farray_unpaged", data=np.arange(100, dtype="<i4").reshape(10, 10), chunks=(3, 3))
        f.create_dataset("farray_paged", data=np.arange(1500, dtype="<u2"), chunks=(1,))
        f.create_dataset("farray_paged_gzip", data=np.arange(1100, dtype="<i4") // 3, chunks=(1,), compression="gzip")
        d = f.create_dataset("earray", shape=(0,), dtype="<i4", chunks=(1,), maxshape=(None,))
        d.resize((3000,))
        d[:] = np.arange(3000, dtype="<i4") * 3
        d = f.create_dataset("earray_2d_sparse", shape=(400, 6), dtype="<i2", chunks=(2, 3), maxshape=(None, 6),
                             fillvalue=-2)
        d[::7, :] = 4
        f.create_dataset("earray_gzip", data=np.arange(1000, dtype="<f8"), chunks=(3,), maxshape=(None,),
                         compression="gzip", shuffle=True)
        f.create_dataset("btree2", data=np.arange(20 * 30, dtype="<i4").reshape(20, 30), chunks=(3, 4),
                         maxshape=(None, None))
        f.create_dataset("btree2_gzip", data=rng.integers(0, 9, (40, 50)).astype("<i8"), chunks=(4, 5),
                         maxshape=(None, None), compression="gzip", shuffle=True, fletcher32=True)
        d = f.create_dataset("btree2_many", shape=(30, 40), dtype="<u1", chunks=(1, 1), maxshape=(None, None))
        d[:] = (np.arange(1200) % 251).reshape(30, 40).astype("u1")
    finish(name, ["libver latest chunk indexes: single chunk (filtered/unfiltered), implicit, fixed array "
                  "(paged/unpaged), extensible array, v2 B-tree (filtered/unfiltered)",
                  "gzip, shuffle, fletcher32, lzf", "edge/one-element/N-D chunks", "fill values", "resized"],
           {"/single": "single-chunk", "/single_gzip": "single-chunk", "/implicit": "implicit",
            "/farray_unpaged": "fixed-array", "/farray_paged": "fixed-array", "/earray": "extensible-array",
            "/earray_gzip": "extensible-array", "/btree2": "btree-v2", "/btree2_gzip": "btree-v2",
            "/btree2_many": "btree-v2", "/grown": "btree-v2", "/gzip": "fixed-array"})


def gen_plugins():
    if hdf5plugin is None:
        print("hdf5plugin missing: plugin fixtures skipped")
        return
    rng = np.random.default_rng(9)
    data = (rng.integers(0, 50, (40, 30)) * 3).astype("<i4")
    fdata = rng.random((10, 30)).astype("<f4")
    name = "plugins.h5"
    with h5py.File(os.path.join(HERE, name), "w", libver=("v110", "latest")) as f:
        variants = {
            "zstd": hdf5plugin.Zstd(clevel=3),
            "lz4": hdf5plugin.LZ4(),
            "bitshuffle": hdf5plugin.Bitshuffle(cname="none"),
            "bitshuffle_lz4": hdf5plugin.Bitshuffle(cname="lz4"),
        }
        for cname in ("blosclz", "lz4", "zlib", "zstd"):
            variants["blosc_%s_shuffle" % cname] = hdf5plugin.Blosc(cname=cname, clevel=5, shuffle=hdf5plugin.Blosc.SHUFFLE)
            variants["blosc_%s_bitshuffle" % cname] = hdf5plugin.Blosc(cname=cname, clevel=5,
                                                                       shuffle=hdf5plugin.Blosc.BITSHUFFLE)
        variants["blosc_lz4_noshuffle"] = hdf5plugin.Blosc(cname="lz4", shuffle=hdf5plugin.Blosc.NOSHUFFLE)
        for vname, flt in variants.items():
            f.create_dataset(vname, data=data, chunks=(16, 16), **flt)
            f.create_dataset(vname + "_f4", data=fdata, chunks=(10, 30), **flt)
    finish(name, ["plugin filters: zstd(32015) lz4(32004) bitshuffle(32008, with/without lz4) "
                  "blosc(32001: blosclz/lz4/zlib/zstd x shuffle/bitshuffle/none)"])


# ----------------------------------------------------------------------- groups


def gen_groups():
    name = "groups_latest.h5"
    with h5py.File(os.path.join(HERE, name), "w", libver="latest") as f:
        g = f.create_group("compact")
        for i in range(5):
            g["d%d" % i] = i
        g = f.create_group("dense20")
        for i in range(20):
            g["m%02d" % (19 - i)] = np.int16(i)
        g = f.create_group("dense_thousands")
        for i in range(1500):
            if i % 10 == 0:
                g.create_group("grp%04d" % i)
            else:
                g["lnk%04d" % i] = h5py.SoftLink("/compact/d%d" % (i % 5))
        g = f.create_group("tracked", track_order=True)
        for nm in ("zeta", "alpha", "mid", "Beta", "_x"):
            g[nm] = nm
        g = f.create_group("tracked_dense", track_order=True)
        for i in range(30):
            g["n%02d" % ((i * 7) % 30)] = i
        t = f.create_group("tracked_attrs", track_order=True)
        for nm in ("zz", "aa", "mm"):
            t.attrs[nm] = nm
        t2 = f.create_group("tracked_attrs_dense", track_order=True)
        for i in range(25):
            t2.attrs["k%02d" % ((i * 11) % 25)] = i
        m = f.create_group("many_attrs")
        for i in range(40):
            m.attrs["attr%03d" % (39 - i)] = np.arange(i % 5, dtype="<i4")
        big = f.create_group("large_attr")
        big.attrs["big"] = np.arange(9000, dtype="<f8")  # 72 KB: dense attribute storage
        big.attrs["small"] = 1
        d = f.create_dataset("dset_many_attrs", data=np.arange(3))
        for i in range(15):
            d.attrs["a%02d" % i] = "v%d" % i
    finish(name, ["link messages (compact) and dense link storage (20, 1500 members)",
                  "track_order groups and attributes (compact and dense)", "dense attributes (> 8, > 64 KiB)"])

    name = "groups_earliest.h5"
    with h5py.File(os.path.join(HERE, name), "w", libver=("earliest", "latest")) as f:
        g = f.create_group("symtab40")
        for i in range(40):
            g.create_group("g%02d" % ((i * 13) % 40))
        for i in range(30):
            f["top%02d" % i] = np.int8(i)
        f["symtab40/g00/x"] = np.arange(2)
        f["symtab40/g01/soft"] = h5py.SoftLink("/symtab40/g00/x")
        f["symtab40/g01/hard"] = f["symtab40/g00/x"]
        for i in range(12):
            f.attrs["attr%02d" % i] = i
    finish(name, ["symbol-table groups with multi-node B-trees (40 members)", "local heap growth"])


# ------------------------------------------------------------------------ sparse


def gen_sparse():
    import scipy.sparse as sp
    import anndata as ad
    from anndata.io import write_elem

    name = "notebook.h5"
    m = sp.csr_matrix(np.array([[1, 0, 2], [0, 0, 3], [4, 5, 6], [0, 0, 0]], dtype="<f8"))
    with h5py.File(os.path.join(HERE, name), "w") as f:
        g = f.create_group("X")
        g.create_dataset("data", data=m.data)
        g.create_dataset("indices", data=m.indices)
        g.create_dataset("indptr", data=m.indptr)
        g.attrs["h5sparse_format"] = "csr"
        g.attrs["h5sparse_shape"] = (4, 3)
    finish(name, ["legacy h5sparse csr encoding of the 4x3 notebook example"])

    rng = np.random.default_rng(11)
    name = "sparse_anndata.h5"
    with warnings.catch_warnings(), h5py.File(os.path.join(HERE, name), "w") as f:
        warnings.simplefilter("ignore")
        dense = rng.random((30, 20))
        dense[dense < 0.8] = 0
        dense[5, :] = 0
        dense[6, :] = 0
        dense[:, 3] = 0
        base = sp.csr_matrix(dense)
        cases = {
            "csr_i32": base,
            "csc_i32": base.tocsc(),
            "csr_f4": sp.csr_matrix(dense.astype("f4")),
            "csr_int_data": sp.csr_matrix((dense * 10).astype("i8")),
            "csr_nnz0": sp.csr_matrix((7, 5), dtype="f8"),
            "csc_nnz0": sp.csc_matrix((7, 5), dtype="f8"),
            "csr_1xn": sp.csr_matrix(dense[2:3, :]),
            "csr_nx1": sp.csr_matrix(dense[:, 0:1]),
            "csc_1xn": sp.csc_matrix(dense[2:3, :]),
            "csc_nx1": sp.csc_matrix(dense[:, 0:1]),
            "csr_explicit_zero": sp.csr_matrix((np.array([1.0, 0.0, 2.0]), np.array([0, 1, 2]), np.array([0, 2, 3])),
                                               shape=(2, 3)),
        }
        for k, mat in cases.items():
            write_elem(f, k, mat)
        for k in ("csr", "csc"):
            mat = base if k == "csr" else base.tocsc()
            mat = mat.copy()
            mat.indices = mat.indices.astype("i8")
            mat.indptr = mat.indptr.astype("i8")
            write_elem(f, "%s_i64" % k, mat)
            write_elem(f, "%s_gzip" % k, base if k == "csr" else base.tocsc(),
                       dataset_kwargs={"compression": "gzip", "chunks": (16,)})
            write_elem(f, "%s_i64_gzip" % k, mat, dataset_kwargs={"compression": "gzip"})
    finish(name, ["anndata csr_matrix/csc_matrix groups: int32/int64 indices, gzip and not, empty rows/cols, nnz=0, "
                  "shapes (1,n) and (n,1), explicit zeros, float32/int data"])

    name = "tenx.h5"
    with h5py.File(os.path.join(HERE, name), "w") as f:
        nfeat, nbc = 12, 8
        dense = (rng.random((nfeat, nbc)) < 0.3) * rng.integers(1, 20, (nfeat, nbc))
        m = sp.csc_matrix(dense.astype("i4"))
        g = f.create_group("matrix")
        g.create_dataset("data", data=m.data, compression="gzip", chunks=True)
        g.create_dataset("indices", data=m.indices.astype("i8"), compression="gzip", chunks=True)
        g.create_dataset("indptr", data=m.indptr.astype("i8"), compression="gzip", chunks=True)
        g.create_dataset("shape", data=np.array([nfeat, nbc], dtype="i4"))
        g.create_dataset("barcodes", data=np.array([b"AAACCTGAGAAACCAT-%d" % i for i in range(nbc)], dtype="S20"))
        ft = g.create_group("features")
        ft.create_dataset("id", data=np.array([b"ENSG%011d" % i for i in range(nfeat)]))
        ft.create_dataset("name", data=np.array([b"GENE%d" % i for i in range(nfeat)]))
        ft.create_dataset("feature_type", data=np.array([b"Gene Expression"] * nfeat))
        ft.create_dataset("genome", data=np.array([b"GRCh38"] * nfeat))
        ft.create_dataset("_all_tag_keys", data=np.array([b"genome"]))
        f.attrs["filetype"] = "matrix"
        f.attrs["library_ids"] = np.array([b"lib1"])
        f.attrs["chemistry_description"] = "Single Cell 3' v3"
        f.attrs["software_version"] = "cellranger-7.0.0"
        f.attrs["version"] = 2
    finish(name, ["10x Genomics matrix group (CSC features x barcodes, int64 indices, gzip)"])

    gen_h5ad(rng)


def gen_h5ad(rng):
    import pandas as pd
    import scipy.sparse as sp
    import anndata as ad

    n_obs, n_var = 15, 10
    obs = pd.DataFrame(
        {
            "cell_type": pd.Categorical(["T", "B", "NK"] * 5, categories=["B", "NK", "T"]),
            "ordered": pd.Categorical(["lo", "hi", "mid"] * 5, categories=["lo", "mid", "hi"], ordered=True),
            "n_genes": np.arange(n_obs, dtype="i8"),
            "score": np.linspace(0, 1, n_obs),
            "flag": np.arange(n_obs) % 2 == 0,
            "nullable_int": pd.array([1, None, 3] * 5, dtype="Int64"),
            "nullable_bool": pd.array([True, None, False] * 5, dtype="boolean"),
            "nullable_str": pd.array(["a", None, "c"] * 5, dtype="string"),
            "text": ["cell%d" % i for i in range(n_obs)],
        },
        index=["c%02d" % i for i in range(n_obs)],
    )
    var = pd.DataFrame(
        {"gene_ids": ["G%d" % i for i in range(n_var)], "highly_variable": np.arange(n_var) % 3 == 0,
         "chrom": pd.Categorical(["chr1", "chr2"] * 5)},
        index=["gene%d" % i for i in range(n_var)],
    )
    dense = rng.random((n_obs, n_var)).astype("f4")
    dense[dense < 0.6] = 0
    uns = {
        "str": "hello",
        "int": 3,
        "float": 0.5,
        "list": np.array([1, 2, 3]),
        "strings": np.array(["x", "y"], dtype=object),
        "nested": {"a": {"b": np.arange(4), "c": "deep"}, "flag": True},
    }
    common = dict(
        obs=obs,
        var=var,
        obsm={"X_pca": rng.random((n_obs, 3)), "X_sparse": sp.csr_matrix(dense[:, :4])},
        varm={"PCs": rng.random((n_var, 3))},
        obsp={"distances": sp.csr_matrix(dense[:, :1] @ dense[:, :1].T)},
        varp={"corr": np.eye(n_var)},
        uns=uns,
    )
    for kind in ("dense", "csr", "csc"):
        X = dense if kind == "dense" else (sp.csr_matrix(dense) if kind == "csr" else sp.csc_matrix(dense))
        layers = {"counts": sp.csr_matrix((dense * 10).round().astype("i4")), "dense": dense * 2}
        a = ad.AnnData(X=X, layers=layers, **common)
        name = "adata_%s.h5ad" % kind
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # keep string columns as strings (nullable-string-array, string-array) for "dense"
            if kind == "dense":
                ad.settings.allow_write_nullable_strings = True
            a.write_h5ad(os.path.join(HERE, name), compression="gzip" if kind == "csc" else None,
                         convert_strings_to_categoricals=(kind != "dense"))
        finish(name, ["AnnData with %s X, layers, obs/var (categorical, nullable int/bool/string), obsm/varm, "
                      "obsp/varp, nested uns%s" % (kind, "; nullable-string-array" if kind == "dense" else "")])


# -------------------------------------------------------------------------- big


def gen_big():
    import scipy.sparse as sp
    import anndata as ad

    big = os.path.join(HERE, "big")
    os.makedirs(big, exist_ok=True)
    rng = np.random.default_rng(99)
    m = sp.random(20000, 5000, density=0.01, format="csr", random_state=rng, dtype="f4")
    ad.AnnData(X=m).write_h5ad(os.path.join(big, "csr_20000x5000.h5ad"), compression="gzip")
    ad.AnnData(X=m.tocsc()).write_h5ad(os.path.join(big, "csc_20000x5000.h5ad"))
    print("big files written to", big)


# -------------------------------------------------------------------------- main


def main(argv):
    os.makedirs(HERE, exist_ok=True)
    gen_everything()
    gen_file_level()
    gen_chunked()
    gen_plugins()
    gen_groups()
    gen_sparse()
    import generate_formats  # noqa: E402  (external storage and later format features)

    generate_formats.gen_all()
    # (run as a script, this module is `__main__`; generate_formats filled `generate`'s)
    MANIFEST.update(generate_formats.generate.MANIFEST)
    with open(os.path.join(HERE, "manifest.json"), "w", encoding="utf-8") as out:
        json.dump(MANIFEST, out, indent=1, sort_keys=True)
        out.write("\n")
    total = sum(v["bytes"] for v in MANIFEST.values())
    for k, v in sorted(MANIFEST.items()):
        if v["bytes"] > 200 * 1024:
            print("warning: %s is %d bytes" % (k, v["bytes"]))
    print("%d fixtures, %d bytes of HDF5" % (len(MANIFEST), total))
    if "--big" in argv:
        gen_big()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
