# Writes szip-compressed chunked datasets with h5py (libhdf5 + libaec) and dumps, for each
# chunk, the raw stored bytes and the decoded bytes, with the filter's client data as libhdf5
# stored it. Usage: szip_oracle.py OUTDIR  (writes OUTDIR/manifest.txt: one line per chunk,
# tab-separated: base name, element size, chunk bytes, filter mask, client data)
import os
import sys

import numpy as np
import h5py
from h5py import h5d, h5p, h5s, h5t, h5z

rng = np.random.default_rng(121)


def data(kind, n, dtype):
    """`n` values of `dtype` of one of the shapes of data that make the coder pick each
    option: zero blocks, second extension, small k, large k, uncompressed."""
    dt = np.dtype(dtype)
    if dt.kind == "f":
        info_lo, info_hi = -1e6, 1e6
    else:
        info = np.iinfo(dt)
        info_lo, info_hi = int(info.min), int(info.max)
    if kind == "zeros":
        v = np.zeros(n)
    elif kind == "const":
        v = np.full(n, min(info_hi, 77))
    elif kind == "random":
        if dt.kind == "f":
            return rng.standard_normal(n).astype(dt) * 1e3
        return rng.integers(info_lo, info_hi, n, endpoint=True, dtype=dt.newbyteorder("="))
    elif kind == "smooth":
        v = [int(x) + (info_lo + info_hi) // 2 for x in np.cumsum(rng.integers(-3, 4, n))]
    elif kind == "lowent":
        v = np.full(n, 5) + (rng.random(n) < 0.05)
    elif kind == "runs":
        v = np.zeros(n)
        v[n // 3 : n // 3 + 17] = rng.integers(0, 100, len(v[n // 3 : n // 3 + 17]))
        v[-3:] = 9
    elif kind == "edges":
        v = np.resize([info_lo, info_hi, info_lo, 0, info_hi, info_hi - 1], n)
    else:
        raise ValueError(kind)
    if dt.kind == "f":
        return np.asarray(v, dtype=np.float64).astype(dt)
    return np.array([min(max(int(x), info_lo), info_hi) for x in v], dtype=dt)


cases = []


def case(name, values, chunks, opts, ppb):
    cases.append((name, values, chunks, (opts, ppb)))


DTYPES = ["u1", "i1", "<u2", "<i2", ">u2", ">i2", "<u4", "<i4", ">i4", "<u8", ">i8",
          "<f4", ">f4", "<f8", ">f8"]
KINDS = ["zeros", "const", "random", "smooth", "lowent", "runs", "edges"]
PPBS = [8, 16, 32, 2, 4, 10, 30]
k = 0
for dt in DTYPES:
    for kind in KINDS:
        for opts in ("nn", "ec"):
            ppb = PPBS[k % len(PPBS)]
            n = [1000, 333, 77, 1024, 130][k % 5]
            chunks = [(256,), (100,), (77,), (512,), (64,)][k % 5]
            if chunks[0] < ppb:
                chunks = (ppb,)
            case("%s_%s_%s_%d_%d" % (dt.replace("<", "le").replace(">", "be"), kind, opts, ppb, k),
                 data(kind, n, dt), chunks, opts, ppb)
            k += 1
# 2-D: scanlines of a chunk row (padded when not a whole number of blocks), edge chunks
for dt in ("<i2", ">u2", "<f4", "u1"):
    for kind in ("smooth", "random", "runs"):
        for opts, ppb, chunks in (("nn", 8, (7, 13)), ("ec", 16, (5, 40)), ("nn", 32, (3, 48)),
                                  ("ec", 10, (4, 25))):
            v = data(kind, 23 * 61, dt).reshape(23, 61)
            case("2d_%s_%s_%s_%d_%dx%d" % (dt.replace("<", "le").replace(">", "be"), kind,
                                            opts, ppb, *chunks), v, chunks, opts, ppb)
# Long scanlines: more than 128 blocks per chunk row, scanlines that cross rows
for dt in ("<u2", "<f8"):
    for kind in ("smooth", "zeros", "random"):
        v = data(kind, 3 * 2500, dt).reshape(3, 2500)
        case("long_%s_%s" % (dt.replace("<", "le"), kind), v, (2, 2500), "nn", 8)
        case("long_ec_%s_%s" % (dt.replace("<", "le"), kind), v, (3, 1500), "ec", 32)


def custom(f, name, base, precision, values, ppb, opts_mask, chunks):
    """Reduced precision (bits per pixel below the type's size) through the low-level API."""
    tid = base.copy()
    tid.set_precision(precision)
    dcpl = h5p.create(h5p.DATASET_CREATE)
    dcpl.set_chunk(chunks)
    dcpl.set_szip(opts_mask, ppb)
    space = h5s.create_simple(values.shape)
    dsid = h5d.create(f.id, name.encode(), tid, space, dcpl=dcpl)
    dsid.write(h5s.ALL, h5s.ALL, values)
    return h5py.Dataset(dsid)


def main(out):
    manifest = []
    with h5py.File(os.path.join(out, "szip.h5"), "w") as f:
        dsets = []
        for name, values, chunks, (opts, ppb) in cases:
            dsets.append(f.create_dataset(name, data=values, chunks=chunks, compression="szip",
                                          compression_opts=(opts, ppb)))
        nn, ec = h5z.SZIP_NN_OPTION_MASK, h5z.SZIP_EC_OPTION_MASK
        small = np.cumsum(rng.integers(-40, 41, 900)).astype("<i4") % 4000
        dsets.append(custom(f, "p12_u2", h5t.STD_U16LE, 12, small.astype("<u2"), 8, nn, (300,)))
        dsets.append(custom(f, "p12_u2be", h5t.STD_U16BE, 12, small.astype("<u2"), 16, ec, (256,)))
        wide = (np.cumsum(rng.integers(-900, 901, 700)) % (1 << 20)).astype("<u4")
        dsets.append(custom(f, "p20_u4", h5t.STD_U32LE, 20, wide, 8, nn, (350,)))
        dsets.append(custom(f, "p20_u4_ec", h5t.STD_U32LE, 20, rng.integers(0, 1 << 20, 700).astype("<u4"), 32, ec, (700,)))
        dsets.append(custom(f, "p24_u4be", h5t.STD_U32BE, 24, (wide * 13).astype("<u4") % (1 << 24), 10, nn, (128,)))
        dsets.append(custom(f, "p5_u1", h5t.STD_U8LE, 5, (small % 32).astype("u1"), 8, nn, (100,)))
        for d in dsets:
            elem = d.dtype.itemsize
            chunks = d.chunks
            fid, flags, cd, _ = d.id.get_create_plist().get_filter(0)
            assert fid == 4
            n = d.id.get_num_chunks()
            for ci in sorted({0, n // 2, n - 1}):
                info = d.id.get_chunk_info(ci)
                mask, raw = d.id.read_direct_chunk(info.chunk_offset)
                sel = tuple(slice(o, o + c) for o, c in zip(info.chunk_offset, chunks))
                part = d[sel]
                full = np.zeros(chunks, dtype=d.dtype)
                full[tuple(slice(0, s) for s in part.shape)] = part
                base = "%s_%d" % (d.name[1:], ci)
                open(os.path.join(out, base + ".raw"), "wb").write(raw)
                open(os.path.join(out, base + ".exp"), "wb").write(full.tobytes())
                manifest.append("\t".join(map(str, [base, elem, full.nbytes, mask,
                                                    ",".join(map(str, cd))])))
    open(os.path.join(out, "manifest.txt"), "w").write("\n".join(manifest) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
