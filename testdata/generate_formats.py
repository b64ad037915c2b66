#!/usr/bin/env python3
"""Fixtures for storage features beyond the common ones: external raw data files,
virtual datasets, the nbit / scale-offset / szip filters and Blosc2.

Usage: python3 testdata/generate_formats.py   (also run by testdata/generate.py)
       python3 testdata/generate_formats.py NAME...   (only gen_NAME(), e.g. float_layouts)

Writes into testdata/ next to this script, with NAME.json reference dumps from
testdata/h5py_dump.py, and merges their entries into testdata/manifest.json.
Deterministic: rerunning rewrites the same files.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate  # noqa: E402  (first: it sets libhdf5's external-file prefixes)

import numpy as np  # noqa: E402
import h5py  # noqa: E402
from h5py import h5d, h5p, h5s, h5t, h5z  # noqa: E402


def gen_external():
    """external.h5: raw data in other files (slots with offsets, several files per dataset,
    a file shorter than its slot, an unlimited last slot, 2-D and float data);
    hostile/external.h5 (no reference dump: reading each dataset must fail) names files
    outside the file's directory (absolute, `..`, the parent folder) and a missing file."""
    raw = {
        "external_a.bin": np.arange(100, dtype="<i4").tobytes(),
        "external_b.bin": b"HEADER--" + np.linspace(-1, 1, 30).astype(">f8").tobytes(),
        "external_short.bin": np.arange(5, dtype="<i2").tobytes(),
    }
    for name, data in raw.items():
        with open(os.path.join(HERE, name), "wb") as fh:
            fh.write(data)
    name = "external.h5"
    cwd = os.getcwd()
    os.chdir(HERE)  # libhdf5 stores the names as given; they are relative to this folder
    try:
        with h5py.File(name, "w", libver="earliest") as f:
            f.create_dataset("whole", shape=(100,), dtype="<i4", external=[("external_a.bin", 0, 400)])
            f.create_dataset("two_files", shape=(10, 10), dtype="<i4",
                             external=[("external_a.bin", 200, 200), ("external_a.bin", 0, 120),
                                       ("external_a.bin", 300, 80)])
            f.create_dataset("offset_f8", shape=(5, 6), dtype=">f8", external=[("external_b.bin", 8, 240)])
            f.create_dataset("short_file", shape=(10,), dtype="<i2", external=[("external_short.bin", 0, 20)])
            f.create_dataset("unlimited", shape=(3, 7), dtype="<i4",
                             external=[("external_a.bin", 40, h5py.h5f.UNLIMITED)])
            f.create_dataset("empty", shape=(0,), dtype="<i4", external=[("external_a.bin", 0, 0)])
        os.makedirs("hostile", exist_ok=True)
        with h5py.File(os.path.join("hostile", "external.h5"), "w", libver="earliest") as f:
            f.create_dataset("passwd", shape=(8,), dtype="u1", external=[("/etc/passwd", 0, 8)])
            f.create_dataset("dotdot", shape=(8,), dtype="u1",
                             external=[("../../../../../../../../etc/passwd", 0, 8)])
            f.create_dataset("parent", shape=(8,), dtype="u1", external=[("../external_a.bin", 0, 8)])
            f.create_dataset("missing", shape=(8,), dtype="u1", external=[("external_missing.bin", 0, 8)])
    finally:
        os.chdir(cwd)
    generate.finish(name, ["external storage: one and several slots (same file twice, offsets), "
                           "big-endian f8 at an offset, a file shorter than its slot (zeros), "
                           "an unlimited last slot, zero-size"])


def _nbit_dataset(f, name, tid, values, chunks, extra=None, write=None, shape=None, mtype=None):
    """A chunked dataset of file type `tid` with the N-bit filter (h5py's low-level API):
    libhdf5 converts `values` (native memory type) to `tid` and packs each chunk."""
    values = np.ascontiguousarray(values)
    dcpl = h5p.create(h5p.DATASET_CREATE)
    dcpl.set_obj_track_times(False)
    dcpl.set_chunk(chunks)
    dcpl.set_filter(h5z.FILTER_NBIT, h5z.FLAG_OPTIONAL)  # what H5Pset_nbit does
    if extra is not None:
        extra(dcpl)
    space = h5s.create_simple(values.shape if shape is None else shape)
    dsid = h5d.create(f.id, name.encode(), tid, space, dcpl=dcpl)
    if write is None:
        dsid.write(h5s.ALL, h5s.ALL, values, mtype=mtype)
    else:
        write(dsid, values)
    return dsid


def _int_type(base, precision, offset):
    t = base.copy()
    t.set_precision(precision)
    t.set_offset(offset)
    return t


def gen_nbit():
    """nbit.h5: the N-bit filter (5) on integers of every size and both byte orders with
    reduced precision at bit offsets, full-precision floats, compound (atomic, array,
    nested compound and string members), array types, n-bit followed by deflate, edge
    chunks, multi-chunk 2-D data and never-written chunks (fill value)."""
    name = "nbit.h5"
    rng = np.random.default_rng(5)
    # libver latest: libhdf5 >= 1.14.4 refuses numeric types whose precision + offset reach
    # less than half their bits in (checksum-less) version-1 object headers.
    with h5py.File(os.path.join(HERE, name), "w", libver="latest") as f:
        _nbit_dataset(f, "i4_p12_o2", _int_type(h5t.STD_I32LE, 12, 2),
                      rng.integers(-2048, 2048, 1000).astype("<i4"), (128,))
        _nbit_dataset(f, "u2be_p9_o3", _int_type(h5t.STD_U16BE, 9, 3),
                      rng.integers(0, 512, (37, 23)).astype("<u2"), (10, 8))
        _nbit_dataset(f, "i1_p5_o1", _int_type(h5t.STD_I8LE, 5, 1),
                      rng.integers(-16, 16, 77).astype("i1"), (20,))
        _nbit_dataset(f, "u1_p1_o7", _int_type(h5t.STD_U8LE, 1, 7),
                      rng.integers(0, 2, 50).astype("u1"), (16,))
        _nbit_dataset(f, "i8_p40_o7", _int_type(h5t.STD_I64LE, 40, 7),
                      rng.integers(-2**39, 2**39, 300).astype("<i8"), (64,))
        _nbit_dataset(f, "i8be_p61_o0", _int_type(h5t.STD_I64BE, 61, 0),
                      rng.integers(-2**60, 2**60, 40).astype("<i8"), (16,))
        _nbit_dataset(f, "u4_p17_o15", _int_type(h5t.STD_U32LE, 17, 15),
                      rng.integers(0, 2**17, (9, 11, 5)).astype("<u4"), (4, 4, 3))
        _nbit_dataset(f, "u4_full", h5t.STD_U32LE.copy(),
                      rng.integers(0, 2**32, 100, dtype="u8").astype("<u4"), (30,))
        _nbit_dataset(f, "f4_full", h5t.IEEE_F32LE.copy(),
                      rng.standard_normal(100).astype("<f4"), (30,))
        _nbit_dataset(f, "i2_p7_deflate", _int_type(h5t.STD_I16LE, 7, 4),
                      rng.integers(-64, 64, 500).astype("<i2"), (100,),
                      extra=lambda d: d.set_deflate(6))

        def part(dsid, values):  # only rows 0..9 written: the other chunks are never stored
            mem = h5s.create_simple((10, values.shape[1]))
            fsp = dsid.get_space()
            fsp.select_hyperslab((0, 0), (10, values.shape[1]))
            dsid.write(mem, fsp, np.ascontiguousarray(values[:10]))
        _nbit_dataset(f, "i4_partial", _int_type(h5t.STD_I32LE, 10, 0),
                      rng.integers(-512, 512, (30, 7)).astype("<i4"), (10, 7), write=part,
                      extra=lambda d: d.set_fill_value(np.array(-3, dtype="<i4")))

        # compound: reduced ints, a full double, an array member, a nested compound, a string
        arr_t = h5t.array_create(_int_type(h5t.STD_I16LE, 10, 3), (3,))
        inner = h5t.create(h5t.COMPOUND, 3)
        inner.insert(b"x", 0, _int_type(h5t.STD_U8LE, 4, 2))
        inner.insert(b"y", 1, _int_type(h5t.STD_I16BE, 11, 1))
        s3 = h5t.C_S1.copy()
        s3.set_size(3)
        comp = h5t.create(h5t.COMPOUND, 4 + 8 + 1 + 6 + 3 + 3)
        comp.insert(b"a", 0, _int_type(h5t.STD_I32LE, 20, 4))
        comp.insert(b"b", 4, h5t.IEEE_F64LE)
        comp.insert(b"c", 12, _int_type(h5t.STD_U8LE, 3, 0))
        comp.insert(b"d", 13, arr_t)
        comp.insert(b"e", 19, inner)
        comp.insert(b"s", 22, s3)
        n = 45
        mem_inner = np.dtype([("x", "u1"), ("y", "<i2")])
        mem = np.dtype([("a", "<i4"), ("b", "<f8"), ("c", "u1"), ("d", "<i2", (3,)),
                        ("e", mem_inner), ("s", "S3")])
        vals = np.zeros(n, dtype=mem)
        vals["a"] = rng.integers(-2**19, 2**19, n)
        vals["b"] = rng.standard_normal(n)
        vals["c"] = rng.integers(0, 8, n)
        vals["d"] = rng.integers(-512, 512, (n, 3))
        vals["e"]["x"] = rng.integers(0, 16, n)
        vals["e"]["y"] = rng.integers(-1024, 1024, n)
        vals["s"] = [("s%02d" % i).encode() for i in range(n)]
        _nbit_dataset(f, "compound", comp, vals, (16,))
        # array type: 2x2 of 11-bit unsigned
        at = h5t.array_create(_int_type(h5t.STD_U16LE, 11, 5), (2, 2))
        _nbit_dataset(f, "array_u2", at, rng.integers(0, 2048, (25, 2, 2)).astype("<u2"), (7,),
                      shape=(25,), mtype=h5t.array_create(h5t.NATIVE_UINT16, (2, 2)))
    generate.finish(name, ["nbit filter: i1/u1/i2/u2/i4/u4/i8 LE and BE with reduced precision "
                           "at bit offsets, full-precision u4/f4 (no packing), nbit+deflate, "
                           "compound (reduced ints, f8, array, nested compound, string members), "
                           "array type, 1-3-D edge chunks, never-written chunks with a fill value"])


def _so_dataset(f, name, values, chunks, scale, **kw):
    kw.setdefault("track_times", False)
    return f.create_dataset(name, data=values, chunks=chunks, scaleoffset=scale, **kw)


def gen_scaleoffset():
    """scaleoffset.h5: the scale-offset filter (6): integers of every size, signed and
    unsigned, both byte orders, automatic and given minimum bits, values equal to the fill
    value, constant chunks, full-range chunks (stored unpacked); floats (D-scale) f4/f8 with
    scale factors 0..6, both byte orders, a fill value, huge ranges; multi-chunk 2-D
    data with edge chunks, never-written chunks, scale-offset followed by deflate."""
    name = "scaleoffset.h5"
    rng = np.random.default_rng(6)
    with h5py.File(os.path.join(HERE, name), "w", libver="earliest") as f:
        for dt in ("<i1", "<u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", ">i2", ">i4", ">u8"):
            info = np.iinfo(dt)
            lo = max(int(info.min), -100000)
            v = rng.integers(lo, lo + 300, 1000).astype(dt)
            v[::17] = 0  # the (default) fill value: coded as all ones
            _so_dataset(f, "int_%s" % dt.replace("<", "le_").replace(">", "be_"), v, (128,), 0)
        full = np.array([np.iinfo("<i4").min, np.iinfo("<i4").max, 0, 5] * 10, dtype="<i4")
        _so_dataset(f, "int_full_range", full, (16,), 0)
        _so_dataset(f, "int_constant", np.full(100, 42, dtype="<i4"), (32,), 0)
        _so_dataset(f, "int_all_fill", np.zeros(50, dtype="<i2"), (16,), 0)
        _so_dataset(f, "int_minbits_12", rng.integers(-3000, 3000, 500).astype("<i4"), (64,), 12)
        _so_dataset(f, "int_minbits_full", rng.integers(-3000, 3000, 100).astype("<i2"), (64,), 16)
        _so_dataset(f, "int_fill_-7", rng.integers(-20, 20, 300).astype("<i4"), (50,), 0,
                    fillvalue=-7)
        _so_dataset(f, "u8_big", rng.integers(2**62, 2**62 + 2**40, 200, dtype="u8"), (64,), 0)
        _so_dataset(f, "int_2d", rng.integers(-500, 500, (45, 33)).astype("<i4"), (10, 10), 0)
        d = f.create_dataset("int_partial", shape=(40, 6), dtype="<i4", chunks=(10, 6),
                             scaleoffset=0, fillvalue=11, track_times=False)
        d[10:20] = rng.integers(0, 100, (10, 6))
        _so_dataset(f, "int_deflate", rng.integers(0, 1000, 400).astype("<u4"), (100,), 0,
                    compression="gzip")
        for dt in ("<f4", "<f8", ">f4", ">f8"):
            for scale in (0, 1, 2, 3, 6):
                v = (rng.standard_normal(300) * 100).astype(dt)
                v[::13] = 0.0
                tag = dt.replace("<", "le_").replace(">", "be_")
                _so_dataset(f, "float_%s_d%s" % (tag, str(scale).replace("-", "m")), v, (64,), scale)
        _so_dataset(f, "float_fill", (rng.standard_normal(200) * 10).astype("<f8"), (64,), 3,
                    fillvalue=-1.5)
        _so_dataset(f, "float_huge_range", np.array([1e30, -1e30, 0.5, 2.0] * 20, dtype="<f8"),
                    (16,), 3)
        _so_dataset(f, "float_huge_f4", np.array([3e30, -3e30, 0.5, 2.0] * 20, dtype="<f4"),
                    (16,), 2)
        _so_dataset(f, "float_constant", np.full(64, 2.25, dtype="<f4"), (16,), 2)
        _so_dataset(f, "float_2d", (rng.standard_normal((31, 29)) * 1000).astype("<f8"),
                    (8, 7), 4)
    generate.finish(name, ["scale-offset filter: integers i1..u8 LE/BE with automatic minimum "
                           "bits, given minimum bits (12, full), fill value 0 and -7 inside the "
                           "data, constant and full-range chunks, never-written chunks; floats "
                           "f4/f8 LE/BE D-scale 0,1,2,3,6, a fill value, huge ranges "
                           "(stored unpacked), 2-D edge chunks, scale-offset + deflate"])


def _szip_values(dt, n, rng):
    """Segments that make libaec pick each option: a zero run longer than a 64-block
    segment, a constant, smooth data (small k), low entropy (second extension), full-range
    noise (uncompressed blocks)."""
    dt = np.dtype(dt)
    if dt.kind == "f":
        lo, hi = -1e3, 1e3
    else:
        lo, hi = int(np.iinfo(dt).min), int(np.iinfo(dt).max)
    q = n // 5
    mid = (lo + hi) // 2 if dt.kind != "f" else 0.5
    parts = [[0] * q, [min(hi, 77)] * (q // 2),
             [mid + int(x) for x in np.cumsum(rng.integers(-3, 4, q))],
             [5 + int(x) for x in rng.random(q) < 0.05]]
    if dt.kind == "f":
        noise = list(rng.standard_normal(n - 3 * q - q // 2) * 1e3)
    else:
        noise = [int(x) for x in rng.integers(lo, hi, n - 3 * q - q // 2, endpoint=True,
                                                dtype=dt.newbyteorder("="))]
    v = [x for part in parts for x in part] + noise
    if dt.kind == "f":
        return np.array(v, dtype=np.float64).astype(dt)
    return np.array([min(max(int(x), lo), hi) for x in v], dtype=dt)


def gen_szip():
    """szip.h5: the szip filter (4, libaec): every integer size and f4/f8, both byte orders,
    NN and EC coding, pixels per block 2..32, zero runs, constant, smooth, low-entropy and
    random data, 1-D and 2-D with edge chunks, scanlines that are not whole blocks,
    never-written chunks, szip + fletcher32. (Reduced precision, 5..24 bits per pixel, is
    in the filter's unit test, crates/h5format/src/filter/szip_oracle.py: `copy` refuses
    such n-bit integer types, and its test copies every fixture.)"""
    name = "szip.h5"
    rng = np.random.default_rng(4)
    ppbs = [8, 16, 32, 10, 4, 2, 30]
    with h5py.File(os.path.join(HERE, name), "w", libver="earliest") as f:
        def szip(dname, values, chunks, opts, ppb, **kw):
            kw.setdefault("track_times", False)
            f.create_dataset(dname, data=values, chunks=chunks, compression="szip",
                             compression_opts=(opts, ppb), **kw)
        k = 0
        for dt in ("u1", "i1", "<u2", "<i2", ">u2", ">i2", "<u4", "<i4", ">i4", "<u8", "<i8",
                   ">i8", "<f4", ">f4", "<f8", ">f8"):
            tag = dt.replace("<", "le_").replace(">", "be_")
            for opts in ("nn", "ec"):
                ppb = ppbs[k % len(ppbs)]
                szip("%s_%s_%d" % (tag, opts, ppb), _szip_values(dt, 1100, rng), (400,), opts, ppb)
                k += 1
        for dt in ("<i2", ">u2", "<f4", "u1"):
            tag = dt.replace("<", "le_").replace(">", "be_")
            v = _szip_values(dt, 23 * 61, rng).reshape(23, 61)
            szip("2d_%s_nn_8" % tag, v, (7, 13), "nn", 8)
            szip("2d_%s_ec_16" % tag, v, (5, 40), "ec", 16)
        szip("zeros_u2", np.zeros(5000, dtype="<u2"), (5000,), "nn", 8)
        szip("const_i4", np.full(777, -123456, dtype="<i4"), (300,), "ec", 32)
        szip("long_scanline_u2", _szip_values("<u2", 3 * 2500, rng).reshape(3, 2500), (2, 2500),
             "nn", 8)
        szip("fletcher32_i2", _szip_values("<i2", 900, rng), (256,), "nn", 16, fletcher32=True)
        d = f.create_dataset("partial_i4", shape=(40, 6), dtype="<i4", chunks=(10, 6),
                             compression="szip", compression_opts=("nn", 8), fillvalue=11,
                             track_times=False)
        d[10:20] = rng.integers(0, 100, (10, 6))
    generate.finish(name, ["szip filter (libaec): u1..u8/i1..i8 and f4/f8 LE and BE, NN and EC, "
                           "pixels per block 2, 4, 8, 10, 16, 30, 32, zero runs, constant, "
                           "smooth, low-entropy and random data, 1-D/2-D edge chunks, padded "
                           "scanlines, scanlines across rows, "
                           "never-written chunks, szip + fletcher32"])


def _virtual_file(name, libver):
    """The virtual datasets of vds.h5 in a file of the given libver (selections serialized
    as version 1 block lists with `earliest`, version 3 regular hyperslabs with `latest`)."""
    with h5py.File(name, "w", libver=libver) as f:
        f.create_dataset("local", data=np.arange(-5, 0, dtype="<i4"), track_times=False)
        lay = h5py.VirtualLayout(shape=(20,), dtype="<i4")
        lay[0:10] = h5py.VirtualSource("vds_src_a.h5", "data", shape=(10,))
        lay[10:20] = h5py.VirtualSource("vds_src_b.h5", "data", shape=(10,))
        f.create_virtual_dataset("concat", lay, fillvalue=-1)
        lay = h5py.VirtualLayout(shape=(31,), dtype="<i4")
        lay[0:30:3] = h5py.VirtualSource("vds_src_a.h5", "data", shape=(10,))
        lay[1:6] = h5py.VirtualSource("vds_src_b.h5", "data", shape=(10,))[::2]
        f.create_virtual_dataset("strided", lay, fillvalue=-7)
        lay = h5py.VirtualLayout(shape=(2, 3), dtype="<f8")
        lay[:, :] = h5py.VirtualSource("vds_src_a.h5", "grid", shape=(4, 6))[1:3, 2:5]
        f.create_virtual_dataset("sub_grid", lay, fillvalue=0.5)
        lay = h5py.VirtualLayout(shape=(9, 13), dtype="<f8")
        src = h5py.VirtualSource("vds_src_a.h5", "grid", shape=(4, 6))
        lay[0:4, 0:6] = src
        lay[5:9, 7:13] = src
        lay[4, 0:6:2] = src[0, 0:3]
        f.create_virtual_dataset("tiles", lay, fillvalue=np.nan)
        lay = h5py.VirtualLayout(shape=(10,), dtype="<i4")
        lay[0:5] = h5py.VirtualSource("vds_src_missing.h5", "data", shape=(10,))[0:5]
        lay[5:10] = h5py.VirtualSource("vds_src_a.h5", "nothing_here", shape=(5,))
        f.create_virtual_dataset("missing", lay, fillvalue=42)
        lay = h5py.VirtualLayout(shape=(8,), dtype="<i4")
        lay[2:7] = h5py.VirtualSource(".", "local", shape=(5,))
        f.create_virtual_dataset("same_file", lay, fillvalue=0)


def gen_virtual():
    """vds.h5: virtual datasets (layout class 3) over vds_src_a.h5 / vds_src_b.h5 and the
    file itself: concatenation, strided and 2-D hyperslab mappings, source hyperslabs,
    unmapped regions (fill value), a missing source file (fill value);
    hostile/vds.h5 (no reference dump: reading must fail) names sources outside the file's
    directory."""
    rng = np.random.default_rng(3)
    a = np.arange(10, dtype="<i4")
    b = np.arange(100, 110, dtype="<i4")
    grid = rng.standard_normal((4, 6))
    with h5py.File(os.path.join(HERE, "vds_src_a.h5"), "w", libver="earliest") as f:
        f.create_dataset("data", data=a, track_times=False)
        f.create_dataset("grid", data=grid, track_times=False, chunks=(2, 3))
    with h5py.File(os.path.join(HERE, "vds_src_b.h5"), "w", libver="earliest") as f:
        f.create_dataset("data", data=b, track_times=False)
    cwd = os.getcwd()
    os.chdir(HERE)  # source names are stored as given, relative to this folder
    try:
        for name, libver in (("vds.h5", "earliest"), ("vds_latest.h5", "latest")):
            _virtual_file(name, libver)
        os.makedirs("hostile", exist_ok=True)
        with h5py.File(os.path.join("hostile", "vds.h5"), "w", libver="earliest") as f:
            for dname, src in (("parent", "../vds_src_a.h5"), ("absolute", "/etc/hostname"),
                               ("dotdot", "../../../../../../../../etc/hostname")):
                lay = h5py.VirtualLayout(shape=(10,), dtype="<i4")
                lay[:] = h5py.VirtualSource(src, "data", shape=(10,))
                f.create_virtual_dataset(dname, lay, fillvalue=0)
    finally:
        os.chdir(cwd)
    generate.finish("vds_src_a.h5", ["virtual dataset source (vds.h5)"])
    generate.finish("vds_src_b.h5", ["virtual dataset source (vds.h5)"])
    for name in ("vds.h5", "vds_latest.h5"):
        generate.finish(name, ["virtual datasets: concatenation of two files, strided and 2-D "
                               "mappings, source hyperslabs, unmapped regions "
                               "(fill value incl. NaN), a missing source file and a missing "
                               "source dataset (fill value), a source in the same file"])


def _blosc2_values(dtype, shape, kind, rng):
    """Values of `dtype` and `shape`: "smooth" (compressible ramps), "random" (incompressible),
    "zeros", "const" (one repeated value) or "nan" (floats only)."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    if kind == "zeros":
        v = np.zeros(n, dtype)
    elif kind == "const":
        v = np.full(n, 7, dtype)
    elif kind == "nan":
        v = np.full(n, np.nan, dtype)
    elif kind == "random":
        if dtype.kind == "f":
            v = rng.standard_normal(n).astype(dtype)
        else:
            info = np.iinfo(dtype)
            v = rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
    else:
        i = np.arange(n)
        if dtype.kind == "f":
            v = np.round(np.sin(i / 50.0) * 100 + i / 8.0, 1).astype(dtype)
        else:
            info = np.iinfo(dtype)
            v = ((i // 3) % min(int(info.max), 100000) + (info.min if info.min < 0 else 0) // 2).astype(dtype)
    return v.reshape(shape)


def _blosc2_crafted(f, rng):
    """Chunks framed by python-blosc2 (the same c-blosc2 the plugin uses) and stored with
    write_direct_chunk, for what the plugin's own writer never produces: filter pipelines of
    several slots (truncated precision, delta, shuffle), whole special chunks (NaNs, zeros, a
    repeated value: in the frame's offsets index or in the chunk header), both split modes,
    and b2nd frames of several b2nd chunks inside one HDF5 chunk."""
    try:
        import blosc2
    except ImportError:
        print("python-blosc2 missing: blosc2.h5 has no crafted/ datasets")
        return
    import hdf5plugin

    g = f.create_group("crafted")

    def store(name, values, chunks, frame_of):
        d = g.create_dataset(name, shape=values.shape, dtype=values.dtype, chunks=chunks,
                             **hdf5plugin.Blosc2(cname="zstd"))
        grid = [range(0, n, c) for n, c in zip(values.shape, chunks)]
        for origin in np.ndindex(*[len(r) for r in grid]):
            start = tuple(o * c for o, c in zip(origin, chunks))
            block = np.zeros(chunks, values.dtype)
            part = values[tuple(slice(s, s + c) for s, c in zip(start, chunks))]
            block[tuple(slice(0, n) for n in part.shape)] = part
            d.id.write_direct_chunk(start, frame_of(block))

    def schunk(cparams):
        def frame(block):
            sc = blosc2.SChunk(chunksize=block.nbytes, cparams=cparams)
            sc.append_data(np.ascontiguousarray(block))
            return bytes(sc.to_cframe())
        return frame

    def special(kind, value=None):
        def frame(block):
            sc = blosc2.SChunk(chunksize=block.nbytes, cparams=blosc2.CParams(typesize=block.itemsize))
            sc.fill_special(block.size, kind, value)
            return bytes(sc.to_cframe())
        return frame

    F = blosc2.Filter
    store("trunc_delta_shuffle_f8", _blosc2_values("f8", (1000,), "smooth", rng), (500,),
          schunk(blosc2.CParams(typesize=8, codec=blosc2.Codec.ZSTD, blocksize=512,
                                filters=[F.TRUNC_PREC, F.DELTA, F.SHUFFLE], filters_meta=[20, 0, 0])))
    store("delta_bitshuffle_i2", _blosc2_values("i2", (900,), "smooth", rng), (400,),
          schunk(blosc2.CParams(typesize=2, codec=blosc2.Codec.LZ4, blocksize=256,
                                filters=[F.DELTA, F.BITSHUFFLE], filters_meta=[0, 0])))
    store("always_split_u8", _blosc2_values("u8", (700,), "smooth", rng), (300,),
          schunk(blosc2.CParams(typesize=8, codec=blosc2.Codec.LZ4, splitmode=blosc2.SplitMode.ALWAYS_SPLIT)))
    store("never_split_i4", _blosc2_values("i4", (700,), "smooth", rng), (300,),
          schunk(blosc2.CParams(typesize=4, codec=blosc2.Codec.BLOSCLZ, splitmode=blosc2.SplitMode.NEVER_SPLIT)))
    store("shuffle_meta_u8", _blosc2_values("u8", (600,), "smooth", rng), (300,),
          schunk(blosc2.CParams(typesize=8, codec=blosc2.Codec.ZLIB, filters=[F.SHUFFLE], filters_meta=[4])))
    store("special_nan_f4", _blosc2_values("f4", (500,), "nan", rng), (200,), special(blosc2.SpecialValue.NAN))
    store("special_nan_f8", _blosc2_values("f8", (300,), "nan", rng), (128,), special(blosc2.SpecialValue.NAN))
    store("special_zero_u2", _blosc2_values("u2", (500,), "zeros", rng), (200,), special(blosc2.SpecialValue.ZERO))
    store("special_value_i4", np.full(500, -123456, "i4"), (200,), special(blosc2.SpecialValue.VALUE, -123456))

    def b2nd(chunks, blocks, cparams):
        def frame(block):
            return bytes(blosc2.asarray(block, chunks=chunks, blocks=blocks, cparams=cparams).to_cframe())
        return frame

    store("b2nd_chunks_f8", _blosc2_values("f8", (45, 50), "smooth", rng), (30, 40),
          b2nd((16, 24), (8, 10), blosc2.CParams(codec=blosc2.Codec.ZSTD, typesize=8)))
    store("b2nd_chunks_u1_3d", _blosc2_values("u1", (12, 14, 9), "smooth", rng), (10, 12, 9),
          b2nd((4, 5, 9), (3, 2, 4), blosc2.CParams(codec=blosc2.Codec.LZ4, typesize=1)))

    def b2nd_zeros(block):
        z = blosc2.zeros(block.shape, dtype=block.dtype, chunks=(8, 8), blocks=(4, 4))
        return bytes(z.to_cframe())

    store("b2nd_zeros_i4", _blosc2_values("i4", (20, 20), "zeros", rng), (16, 16), b2nd_zeros)


def gen_blosc2():
    """blosc2.h5: the Blosc2 filter (32026) as hdf5plugin writes it — one contiguous frame per
    chunk; 2-D/3-D chunks are b2nd arrays with multidimensional blocks. Every codec, the
    filters none/shuffle/bitshuffle/delta/trunc_prec, integer and float types of every size,
    edge chunks, special chunks (zeros, NaNs), memcpyed chunks (random data), chunks of
    several blocks."""
    import hdf5plugin

    B = hdf5plugin.Blosc2
    rng = np.random.default_rng(2026)
    name = "blosc2.h5"
    dtypes = ["u1", "u2", "u4", "u8", "i1", "i2", "i4", "i8", "f4", "f8"]
    with h5py.File(os.path.join(HERE, name), "w") as f:
        k = 0
        for cname in ("blosclz", "lz4", "lz4hc", "zlib", "zstd"):
            for fname, flt in (("none", B.NOFILTER), ("shuffle", B.SHUFFLE), ("bitshuffle", B.BITSHUFFLE)):
                dt = dtypes[k % len(dtypes)]
                k += 1
                f.create_dataset("%s_%s_%s" % (cname, fname, dt), data=_blosc2_values(dt, (1000,), "smooth", rng),
                                 chunks=(384,), **B(cname=cname, clevel=5, filters=flt))
        for dt in dtypes:
            f.create_dataset("types/%s" % dt, data=_blosc2_values(dt, (300,), "smooth", rng),
                             chunks=(128,), **B(cname="lz4", clevel=5, filters=B.SHUFFLE))
        f.create_dataset("delta_i4", data=_blosc2_values("i4", (1000,), "smooth", rng), chunks=(400,),
                         **B(cname="zstd", clevel=5, filters=B.DELTA))
        f.create_dataset("delta_u2_2d", data=_blosc2_values("u2", (60, 70), "smooth", rng), chunks=(32, 32),
                         **B(cname="lz4", clevel=5, filters=B.DELTA))
        f.create_dataset("trunc_f8", data=_blosc2_values("f8", (500,), "smooth", rng), chunks=(200,),
                         **B(cname="zstd", clevel=5, filters=B.TRUNC_PREC))
        # Several blocks per chunk (1-D: plain super-chunk; 2-D/3-D: b2nd blocks padding the
        # chunk): the block size is client data value 1 (hdf5plugin leaves it 0, automatic).
        def blocks(nbytes, clevel, shuffle, code):
            return {"compression": 32026, "compression_opts": (0, nbytes, 0, 0, clevel, shuffle, code)}
        f.create_dataset("blocks_1d_f4", data=_blosc2_values("f4", (3000,), "smooth", rng), chunks=(2500,),
                         **blocks(1000, 5, 1, 5))
        f.create_dataset("blocks_1d_u2_zlib", data=_blosc2_values("u2", (3000,), "smooth", rng), chunks=(3000,),
                         **blocks(2048, 1, 2, 4))
        f.create_dataset("blocks_2d_i2", data=_blosc2_values("i2", (70, 90), "smooth", rng), chunks=(50, 60),
                         **blocks(512, 5, 2, 1))
        f.create_dataset("blocks_3d_f8", data=_blosc2_values("f8", (9, 10, 11), "smooth", rng), chunks=(7, 9, 10),
                         **blocks(400, 5, 1, 0))
        # A chunk of several blocks at hdf5plugin's automatic block size (32 KiB at level 1)
        f.create_dataset("auto_blocks_u1", data=_blosc2_values("u1", (34000,), "smooth", rng), chunks=(34000,),
                         **B(cname="zlib", clevel=1, filters=B.SHUFFLE))
        # b2nd: 2-D and 3-D with edge chunks
        f.create_dataset("nd2_f8", data=_blosc2_values("f8", (45, 37), "smooth", rng), chunks=(20, 16),
                         **B(cname="blosclz", clevel=5, filters=B.SHUFFLE))
        f.create_dataset("nd3_i4", data=_blosc2_values("i4", (11, 9, 13), "smooth", rng), chunks=(4, 5, 6),
                         **B(cname="zstd", clevel=5, filters=B.SHUFFLE))
        f.create_dataset("nd3_u1", data=_blosc2_values("u1", (20, 24, 26), "smooth", rng), chunks=(16, 20, 25),
                         **B(cname="zlib", clevel=5, filters=B.NOFILTER))
        f.create_dataset("nd4_u8", data=_blosc2_values("u8", (5, 6, 7, 8), "smooth", rng), chunks=(3, 4, 5, 6),
                         **B(cname="lz4hc", clevel=5, filters=B.BITSHUFFLE))
        # Special and incompressible chunks
        f.create_dataset("zeros_i8", data=_blosc2_values("i8", (3000,), "zeros", rng), chunks=(1024,),
                         **B(cname="zstd", clevel=5, filters=B.SHUFFLE))
        f.create_dataset("const_u4", data=_blosc2_values("u4", (3000,), "const", rng), chunks=(1024,),
                         **B(cname="lz4", clevel=5, filters=B.SHUFFLE))
        f.create_dataset("nan_f4", data=_blosc2_values("f4", (2000,), "nan", rng), chunks=(1024,),
                         **B(cname="blosclz", clevel=5, filters=B.SHUFFLE))
        f.create_dataset("nan_f8_2d", data=_blosc2_values("f8", (30, 30), "nan", rng), chunks=(16, 16),
                         **B(cname="zstd", clevel=5, filters=B.SHUFFLE))
        f.create_dataset("zeros_2d_f4", data=_blosc2_values("f4", (40, 50), "zeros", rng), chunks=(32, 32),
                         **B(cname="lz4", clevel=5, filters=B.SHUFFLE))
        f.create_dataset("random_u1", data=_blosc2_values("u1", (5000,), "random", rng), chunks=(2048,),
                         **B(cname="lz4", clevel=5, filters=B.NOFILTER))
        f.create_dataset("random_f8", data=_blosc2_values("f8", (1500,), "random", rng), chunks=(1024,),
                         **B(cname="blosclz", clevel=9, filters=B.SHUFFLE))
        f.create_dataset("random_2d_i4", data=_blosc2_values("i4", (50, 40), "random", rng), chunks=(32, 32),
                         **B(cname="zstd", clevel=5, filters=B.NOFILTER))
        f.create_dataset("clevel0_i2", data=_blosc2_values("i2", (1000,), "smooth", rng), chunks=(400,),
                         **B(cname="zstd", clevel=0, filters=B.SHUFFLE))
        f.create_dataset("clevel9_f8_2d", data=_blosc2_values("f8", (40, 50), "smooth", rng), chunks=(32, 32),
                         **B(cname="zstd", clevel=9, filters=B.BITSHUFFLE))
        _blosc2_crafted(f, rng)
    generate.finish(name, ["Blosc2 filter (hdf5plugin): codecs blosclz/lz4/lz4hc/zlib/zstd, filters "
                           "none/shuffle/bitshuffle/delta/trunc_prec, u1..u8 i1..i8 f4 f8, 1-D frames "
                           "and 2-D..4-D b2nd frames with edge chunks, chunks of several blocks, "
                           "zero/NaN/constant chunks, incompressible (memcpyed) chunks, clevel 0"])


def gen_b2nd():
    """b2nd.h5: Blosc2 chunks written by PyTables (CArray / EArray with complib blosc2:*), which
    stores chunks of 2+ dimensions as b2nd arrays (its own block shapes), edge chunks included."""
    try:
        import tables
    except ImportError:
        print("PyTables missing: b2nd.h5 not regenerated")
        return
    rng = np.random.default_rng(7)
    name = "b2nd.h5"
    path = os.path.join(HERE, name)
    with tables.open_file(path, "w") as f:
        def carray(node, dtype, shape, chunkshape, complib, shuffle=True, bitshuffle=False, kind="smooth",
                   blocksize=None):
            filt = tables.Filters(complib=complib, complevel=5, shuffle=shuffle and not bitshuffle,
                                  bitshuffle=bitshuffle)
            # PyTables' own block size (client data value 1): the whole chunk unless told.
            os.environ["PT_DEFAULT_B2_BLOCKSIZE"] = str(blocksize or 0)
            try:
                a = f.create_carray("/", node, atom=tables.Atom.from_dtype(np.dtype(dtype)), shape=shape,
                                    chunkshape=chunkshape, filters=filt)
            finally:
                del os.environ["PT_DEFAULT_B2_BLOCKSIZE"]
            a[...] = _blosc2_values(dtype, shape, kind, rng)
        carray("c2_f8_zstd", "f8", (50, 37), (20, 16), "blosc2:zstd")
        carray("c2_i2_lz4_bitshuffle", "i2", (70, 40), (64, 32), "blosc2:lz4", bitshuffle=True)
        carray("c3_i4_blosclz", "i4", (10, 7, 9), (4, 5, 6), "blosc2:blosclz")
        carray("c3_u1_zlib_noshuffle", "u1", (21, 22, 23), (8, 8, 8), "blosc2:zlib", shuffle=False)
        carray("c4_f4_lz4hc", "f4", (6, 5, 7, 9), (4, 3, 4, 5), "blosc2:lz4hc")
        carray("c2_blocks_f4", "f4", (70, 50), (64, 40), "blosc2:zstd", blocksize=1024)
        carray("c3_blocks_u2", "u2", (12, 13, 14), (10, 11, 12), "blosc2:lz4", blocksize=256)
        carray("c2_blocks_i8_bitshuffle", "i8", (33, 30), (20, 30), "blosc2:blosclz", bitshuffle=True,
               blocksize=640)
        carray("c2_random_u8", "u8", (40, 30), (32, 16), "blosc2:lz4", kind="random")
        carray("c2_zeros_f8", "f8", (40, 30), (32, 16), "blosc2:zstd", kind="zeros")
        carray("c1_i8_zstd", "i8", (1000,), (300,), "blosc2:zstd")
        e = f.create_earray("/", "e3_i4", atom=tables.Int32Atom(), shape=(0, 7, 9), chunkshape=(4, 5, 6),
                            filters=tables.Filters(complib="blosc2:zstd", complevel=5, shuffle=True))
        e.append(_blosc2_values("i4", (10, 7, 9), "smooth", rng))
    generate.finish(name, ["Blosc2 b2nd chunks written by PyTables: 1-D to 4-D CArrays and a 3-D "
                           "EArray, codecs zstd/lz4/lz4hc/blosclz/zlib, shuffle/bitshuffle/none, "
                           "edge chunks, chunks of several (padded) blocks, random and zero data"])
def _float_type(base, fields, ebias, size=None, offset=None, precision=None, norm=None):
    """A copy of float type `base` with another bit layout (h5py's low-level h5t API)."""
    t = base.copy()
    t.set_fields(*fields)  # first: a smaller size must hold the fields
    t.set_ebias(ebias)
    if norm is not None:
        t.set_norm(norm)
    if size is not None:
        t.set_size(size)
    if offset is not None:
        # offset + precision may not pass the size (libhdf5 would grow it): make room first
        t.set_precision(8 * t.get_size() - offset)
        t.set_offset(offset)
    if precision is not None:
        t.set_precision(precision)
    return t


def _raw_patterns(rng, size, n):
    """`n` random `size`-byte patterns plus the all-zero, all-one and single-bit ones."""
    pats = [bytes(size), b"\xff" * size]
    for bit in range(8 * size):
        v = 1 << bit
        pats.append(v.to_bytes(size, "little"))
    pats += [bytes(rng.integers(0, 256, size, dtype=np.uint8)) for _ in range(n)]
    return np.frombuffer(b"".join(pats), dtype=np.dtype((np.void, size)))


def gen_float_layouts():
    """float_layouts.h5: floats of other bit layouts than IEEE binary16/32/64 (reduced
    precision, custom sign/exponent/mantissa fields, bias, bit offset, byte order, size 1..7,
    implied or no normalization; libhdf5 cannot convert MSB-set normalization). h5py reads each as the smallest numpy float that holds
    it (libhdf5 converts). Values written from floats (libhdf5's conversion on write, edge
    values included) and as raw bit patterns (every single-bit pattern, all zeros/ones,
    random), in attributes, compounds, arrays and under the n-bit filter."""
    name = "float_layouts.h5"
    rng = np.random.default_rng(11)
    f32 = h5t.IEEE_F32LE
    f64 = h5t.IEEE_F64LE
    layouts = {
        # name: file type
        "p24_e7_m16": _float_type(f32, (23, 16, 7, 0, 16), 63, precision=24),
        "bfloat16": _float_type(f32, (15, 7, 8, 0, 7), 127, size=2),
        "half_at_8": _float_type(f32, (23, 18, 5, 8, 10), 15, offset=8, precision=16),
        "be_p24": _float_type(h5t.IEEE_F32BE, (23, 16, 7, 0, 16), 63, precision=24),
        "f5_e11_m28": _float_type(f64, (39, 28, 11, 0, 28), 1023, size=5),
        "f3_e6_m17": _float_type(f32, (23, 17, 6, 0, 17), 31, size=3),
        "f7be_e10_m45": _float_type(h5t.IEEE_F64BE, (55, 45, 10, 0, 45), 511, size=7),
        "bias_odd": _float_type(f32, (31, 23, 8, 0, 23), 100),
        "no_norm": _float_type(f64, (39, 28, 11, 0, 28), 1023, size=5, norm=h5t.NORM_NONE),
        "sign_low": _float_type(f32, (0, 24, 7, 1, 23), 63),
        "e4_m3": _float_type(f32, (7, 3, 4, 0, 3), 7, size=1),
    }
    edge = np.array([0.0, -0.0, 1.0, -1.5, 0.1, 1 / 3, 3.0e5, -7.25e-3, np.inf, -np.inf, np.nan,
                     1e-30, 6e-8, 65504.0, 1e38, -1e-45, 2.0 ** -20, 123456.789], dtype="<f8")
    # libver latest: libhdf5 >= 1.14.4 refuses reduced-precision types in v1 object headers
    with h5py.File(os.path.join(HERE, name), "w", libver="latest") as f:
        conv = f.create_group("converted")
        raw = f.create_group("raw")
        for lname, t in layouts.items():
            if lname != "no_norm":  # libhdf5 writes it only raw
                space = h5s.create_simple(edge.shape)
                dcpl = h5p.create(h5p.DATASET_CREATE)
                dcpl.set_obj_track_times(False)
                dsid = h5d.create(conv.id, lname.encode(), t, space, dcpl=dcpl)
                dsid.write(h5s.ALL, h5s.ALL, edge, mtype=h5t.NATIVE_DOUBLE)
            generate.raw_dataset(raw, lname, t, _raw_patterns(rng, t.get_size(), 40))
        t = layouts["p24_e7_m16"]
        generate.raw_attr(f, "attr_p24", t, _raw_patterns(rng, 4, 3)[:6])
        # compound and array members of custom layouts (of the width h5py reads them as:
        # h5py reads compound members at their file offsets)
        comp = h5t.create(h5t.COMPOUND, 4 + 4 + 8)
        comp.insert(b"a", 0, layouts["p24_e7_m16"])
        comp.insert(b"b", 4, layouts["sign_low"])
        comp.insert(b"c", 8, h5t.IEEE_F64LE)
        vals = np.zeros(5, dtype=[("a", "<f8"), ("b", "<f8"), ("c", "<f8")])
        for k in "abc":
            vals[k] = rng.standard_normal(5) * 100
        mcomp = h5t.create(h5t.COMPOUND, 24)
        for i, k in enumerate("abc"):
            mcomp.insert(k.encode(), 8 * i, h5t.NATIVE_DOUBLE)
        space = h5s.create_simple((5,))
        dsid = h5d.create(f.id, b"compound", comp, space)
        dsid.write(h5s.ALL, h5s.ALL, vals, mtype=mcomp)
        at = h5t.array_create(layouts["be_p24"], (2, 3))
        space = h5s.create_simple((4,))
        dsid = h5d.create(f.id, b"array", at, space)
        dsid.write(h5s.ALL, h5s.ALL, rng.standard_normal((4, 2, 3)),
                   mtype=h5t.array_create(h5t.NATIVE_DOUBLE, (2, 3)))
        # n-bit filter on reduced-precision floats (packs the 24 / 16 significant bits)
        _nbit_dataset(f, "nbit_p24", layouts["p24_e7_m16"],
                      rng.standard_normal(300) * 1000, (64,), mtype=h5t.NATIVE_DOUBLE)
        _nbit_dataset(f, "nbit_half_at_8", layouts["half_at_8"],
                      rng.standard_normal((20, 9)), (8, 4), mtype=h5t.NATIVE_DOUBLE)
    generate.finish(name, ["floats of non-IEEE layouts (reduced precision, custom fields, "
                           "bias, bit offset, BE, sizes 1/2/3/4/5/7, no normalization): converted edge values and raw bit patterns, an "
                           "attribute, compound and array members, under the n-bit filter"])


def _vds_blocks(f, name, vshape, vmax, dtype, fill, mappings):
    """A virtual dataset through h5py's low-level API (h5py's MultiBlockSlice refuses an
    unlimited count): `mappings` = [(virtual hyperslab (start, count, stride, block), source
    file, source dataset, source shape, source max shape, source hyperslab or None = all)]."""
    dcpl = h5p.create(h5p.DATASET_CREATE)
    dcpl.set_obj_track_times(False)
    dt = np.dtype(dtype)
    dcpl.set_fill_value(np.array(fill, dtype=dt))
    for vsel, sfile, sdset, sshape, smax, ssel in mappings:
        vspace = h5s.create_simple(vshape, vmax)
        vspace.select_hyperslab(*vsel)
        sspace = h5s.create_simple(sshape, smax)
        if ssel is not None:
            sspace.select_hyperslab(*ssel)
        dcpl.set_virtual(vspace, sfile.encode(), sdset.encode(), sspace)
    space = h5s.create_simple(vshape, vmax)
    h5d.create(f.id, name.encode(), h5t.py_create(dt), space, dcpl=dcpl)


def _vds_unlimited_file(name):
    """The virtual datasets of vds_unlim.h5 (written with libver latest)."""
    U = h5py.h5s.UNLIMITED
    with h5py.File(name, "w", libver="latest") as f:
        # 1-D: the whole source, whose extent grows after this file is written
        lay = h5py.VirtualLayout(shape=(5,), maxshape=(None,), dtype="<i4")
        lay[0:U] = h5py.VirtualSource("vds_unlim_src.h5", "grow", shape=(5,), maxshape=(None,))[0:U]
        f.create_virtual_dataset("grow", lay, fillvalue=-1)
        # 1-D: blocks of 2 every 3 elements in the virtual dataset (the last one cut)
        _vds_blocks(f, "strided", (3,), (U,), "<i4", -2,
                    [(((1,), (U,), (3,), (2,)), "vds_unlim_src.h5", "grow", (5,), (U,),
                      ((0,), (U,), (1,), (1,)))])
        # 1-D: an unlimited mapping and a fixed one further out (the extent covers both)
        lay = h5py.VirtualLayout(shape=(25,), maxshape=(None,), dtype="<i4")
        lay[0:U] = h5py.VirtualSource("vds_unlim_src.h5", "grow", shape=(5,), maxshape=(None,))[0:U]
        lay[20:25] = h5py.VirtualSource("vds_unlim_src.h5", "grow", shape=(5,), maxshape=(None,))[0:5]
        f.create_virtual_dataset("with_fixed", lay, fillvalue=-3)
        # 1-D: the unlimited source file does not exist (extent 0)
        lay = h5py.VirtualLayout(shape=(4,), maxshape=(None,), dtype="<i4")
        lay[0:U] = h5py.VirtualSource("vds_unlim_missing.h5", "grow", shape=(4,), maxshape=(None,))[0:U]
        f.create_virtual_dataset("missing_source", lay, fillvalue=-4)
        # 2-D with an unlimited first axis
        lay = h5py.VirtualLayout(shape=(3, 4), maxshape=(None, 4), dtype="<f8")
        lay[0:U, :] = h5py.VirtualSource("vds_unlim_src.h5", "rows", shape=(3, 4), maxshape=(None, 4))[0:U, :]
        f.create_virtual_dataset("rows", lay, fillvalue=np.nan)
        # 2-D: columns 1..2 of the source rows into the virtual columns 0..1, unlimited rows
        lay = h5py.VirtualLayout(shape=(3, 3), maxshape=(None, 3), dtype="<f8")
        lay[0:U, 0:2] = h5py.VirtualSource("vds_unlim_src.h5", "rows", shape=(3, 4), maxshape=(None, 4))[0:U, 1:3]
        f.create_virtual_dataset("row_columns", lay, fillvalue=0.5)
        # %b: one source file per block of 4, files 0, 1 and 3 exist (2 is missing: with
        # libhdf5's default printf gap 0 the extent stops after block 1)
        _vds_blocks(f, "printf_files", (4,), (U,), "<i4", -5,
                    [(((0,), (U,), (4,), (4,)), "vds_unlim_p%b.h5", "data", (4,), None, None)])
        # %b in 2-D (blocks of 2 rows, a row of fill between) and in the dataset name of
        # this file's datasets, sources 0..2 of shape (2, 3)
        _vds_blocks(f, "printf_2d", (3, 3), (U, 3), "<i2", 9,
                    [(((0, 0), (U, 1), (3, 1), (2, 3)), ".", "/blocks/b%b", (2, 3), None, None)])
        blocks = f.create_group("blocks")
        for j in range(3):
            blocks.create_dataset("b%d" % j, data=np.arange(6, dtype="<i2").reshape(2, 3) + 10 * j,
                                  track_times=False)
        # %% is a literal % in a source name
        _vds_blocks(f, "printf_percent", (4,), (U,), "<i4", 0,
                    [(((0,), (U,), (4,), (4,)), ".", "/pct%%_%b", (4,), None, None)])
        f.create_dataset("pct%_0", data=np.arange(4, dtype="<i4") * -1, track_times=False)
        # source -> virtual type conversions (libhdf5 converts on read)
        conv = f.create_group("convert")
        for dname, src, vt, fill in (("i2_to_i4", "i2", "<i4", -1), ("i8_to_i1", "i8", "i1", 0),
                                     ("f8_to_f4", "f8", "<f4", 0.0), ("f8_to_i4", "f8", "<i4", 0),
                                     ("u1_to_f8", "u1", "<f8", 0.0), ("i4_to_u2", "i4", "<u2", 7),
                                     ("f4_to_f8be", "f4", ">f8", 0.0)):
            n = {"i2": 6, "i8": 6, "f8": 8, "u1": 5, "i4": 6, "f4": 5}[src]
            lay = h5py.VirtualLayout(shape=(n + 2,), dtype=vt)
            lay[1:n + 1] = h5py.VirtualSource("vds_unlim_src.h5", "conv_" + src, shape=(n,))
            conv.create_virtual_dataset(dname, lay, fillvalue=fill)


def gen_virtual_unlimited():
    """vds_unlim.h5: unlimited virtual dataset mappings (the extent follows the sources'
    current extents, libhdf5's default view LAST_AVAILABLE): a 1-D source extended after
    the virtual dataset was written, a strided unlimited virtual selection with a cut last
    block, an unlimited mapping next to a fixed one, a missing unlimited source, 2-D with an
    unlimited first axis (whole rows, a column range); `%b` printf-named sources (files
    vds_unlim_p0/1/3.h5 with 2 missing; datasets of this file in 2-D; `%%`); numeric
    source -> virtual type conversions (clamping, truncation, rounding, byte order);
    hostile/vds_printf.h5 (no reference dump) names `%b` sources outside the directory."""
    rng = np.random.default_rng(17)
    src = os.path.join(HERE, "vds_unlim_src.h5")
    with h5py.File(src, "w", libver="latest") as f:
        f.create_dataset("grow", data=np.arange(5, dtype="<i4"), maxshape=(None,), chunks=(4,),
                         track_times=False)
        f.create_dataset("rows", data=rng.standard_normal((3, 4)), maxshape=(None, 4),
                         chunks=(2, 4), track_times=False)
        f.create_dataset("conv_i2", data=np.array([-32768, -1, 0, 1, 300, 32767], dtype="<i2"),
                         track_times=False)
        f.create_dataset("conv_i8", data=np.array([-2**40, -129, -128, 127, 128, 2**40], dtype="<i8"),
                         track_times=False)
        f.create_dataset("conv_f8", data=np.array([0.1, -2.7, 2.7, 1e300, -1e300, np.inf, -np.inf,
                                                   3.4e38], dtype="<f8"), track_times=False)
        f.create_dataset("conv_u1", data=np.array([0, 1, 127, 128, 255], dtype="u1"),
                         track_times=False)
        f.create_dataset("conv_i4", data=np.array([-5, 0, 65535, 65536, 2**31 - 1, 7], dtype=">i4"),
                         track_times=False)
        f.create_dataset("conv_f4", data=np.array([0.1, -0.0, np.nan, np.inf, 1e-45], dtype="<f4"),
                         track_times=False)
    for j in (0, 1, 3):
        with h5py.File(os.path.join(HERE, "vds_unlim_p%d.h5" % j), "w", libver="earliest") as f:
            f.create_dataset("data", data=np.arange(4, dtype="<i4") + 100 * (j + 1), track_times=False)
    cwd = os.getcwd()
    os.chdir(HERE)  # source names are stored as given, relative to this folder
    try:
        _vds_unlimited_file("vds_unlim.h5")
        os.makedirs("hostile", exist_ok=True)
        with h5py.File(os.path.join("hostile", "vds_printf.h5"), "w", libver="latest") as f:
            U = h5py.h5s.UNLIMITED
            for dname, srcname in (("parent", "../vds_unlim_p%b.h5"), ("absolute", "/etc/host%bname")):
                _vds_blocks(f, dname, (4,), (U,), "<i4", 0,
                            [(((0,), (U,), (4,), (4,)), srcname, "data", (4,), None, None)])
    finally:
        os.chdir(cwd)
    # The sources grow after the virtual datasets were written.
    with h5py.File(src, "a") as f:
        f["grow"].resize((12,))
        f["grow"][5:] = np.arange(100, 107, dtype="<i4")
        f["rows"].resize((7, 4))
        f["rows"][3:] = rng.standard_normal((4, 4))
    generate.finish("vds_unlim_src.h5", ["unlimited virtual dataset sources (vds_unlim.h5)"])
    for j in (0, 1, 3):
        generate.finish("vds_unlim_p%d.h5" % j, ["%b-named virtual dataset source (vds_unlim.h5)"])
    generate.finish("vds_unlim.h5", ["unlimited virtual dataset mappings: a source extended "
                                     "later, strided blocks with a cut last block, next to a "
                                     "fixed mapping, a missing source, 2-D unlimited rows; %b "
                                     "source files with a gap, %b dataset names in 2-D, %%; "
                                     "numeric source -> virtual type conversions"])


def gen_all():
    """Every fixture of this script (entries land in generate.MANIFEST)."""
    gen_external()
    gen_nbit()
    gen_scaleoffset()
    gen_szip()
    gen_virtual()
    gen_blosc2()
    gen_b2nd()
    gen_float_layouts()
    gen_virtual_unlimited()


def main(argv):
    # With arguments, only those generators: `generate_formats.py float_layouts` runs
    # gen_float_layouts() (the other fixtures' bytes stay as they are).
    if argv:
        for name in argv:
            globals()["gen_" + name]()
    else:
        gen_all()
    path = os.path.join(HERE, "manifest.json")
    with open(path, encoding="utf-8") as fh:
        manifest = json.load(fh)
    manifest.update(generate.MANIFEST)
    with open(path, "w", encoding="utf-8") as out:
        json.dump(manifest, out, indent=1, sort_keys=True)
        out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
