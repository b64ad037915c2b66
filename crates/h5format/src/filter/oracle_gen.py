# Writes chunked datasets with h5py (libhdf5 + hdf5plugin filters) and dumps, for each chunk,
# the raw stored bytes, the filter mask and the decoded bytes, plus the filter pipeline as
# libhdf5 reports it. Usage: oracle_gen.py OUTDIR
import sys, os
import numpy as np
import h5py
import hdf5plugin

rng = np.random.default_rng(42)

def smooth(n, dtype):
    x = np.cumsum(rng.integers(-3, 4, size=n)).astype(dtype)
    return x

cases = []
def case(name, data, chunks, **kw):
    cases.append((name, data, chunks, kw))

i32 = smooth(10007, np.int32)
f64 = np.linspace(0, 100, 6003) + rng.normal(0, 0.01, 6003)
f32 = smooth(5003, np.float32)
s3 = np.array([b"ab%d" % (k % 10) for k in range(2000)], dtype="S3")
m2 = smooth(97 * 61, np.int64).reshape(97, 61)

for lvl in (1, 4, 9):
    case(f"gzip{lvl}", i32, (1000,), compression="gzip", compression_opts=lvl)
case("shuffle_gzip_f64", f64, (1000,), shuffle=True, compression="gzip")
case("fletcher32", i32, (999,), fletcher32=True)
case("shuffle_gzip_fletcher", f64, (700,), shuffle=True, compression="gzip", fletcher32=True)
case("shuffle_s3", s3, (300,), shuffle=True)
case("shuffle_gzip_2d", m2, (20, 16), shuffle=True, compression="gzip", compression_opts=2)
case("lzf", i32, (1000,), compression="lzf")
case("lzf_shuffle_f64", f64, (1500,), compression="lzf", shuffle=True)
case("zstd", i32, (1000,), **hdf5plugin.Zstd(clevel=3))
case("zstd9_f64", f64, (1000,), **hdf5plugin.Zstd(clevel=9))
case("lz4", i32, (1000,), **hdf5plugin.LZ4())
case("lz4_blocks", f64, (1000,), **hdf5plugin.LZ4(nbytes=1000))
case("bitshuffle", f32, (5003,), **hdf5plugin.Bitshuffle(cname="none"))
case("bitshuffle_lz4", f32, (5003,), **hdf5plugin.Bitshuffle(cname="lz4"))
case("bitshuffle_lz4_i32", i32, (1001,), **hdf5plugin.Bitshuffle(nelems=256, cname="lz4"))
case("bitshuffle_zstd", f64, (3000,), **hdf5plugin.Bitshuffle(cname="zstd"))
case("bitshuffle_2d", m2, (20, 16), **hdf5plugin.Bitshuffle(cname="lz4"))
for cname in ("blosclz", "lz4", "lz4hc", "zlib", "zstd"):
    for sh, shname in ((0, "noshuffle"), (1, "shuffle"), (2, "bitshuffle")):
        case(f"blosc_{cname}_{shname}", f64, (6003,), **hdf5plugin.Blosc(cname=cname, clevel=5, shuffle=sh))
        case(f"blosc_{cname}_{shname}_i32", i32, (10007,), **hdf5plugin.Blosc(cname=cname, clevel=9, shuffle=sh))
big = smooth(200003, np.int32)
for cname in ("blosclz", "lz4", "zlib", "zstd"):
    case(f"blosc_{cname}_bitshuffle_8k", i32, (8000,), **hdf5plugin.Blosc(cname=cname, clevel=5, shuffle=2))
    case(f"blosc_{cname}_multiblock", big, (80000,), **hdf5plugin.Blosc(cname=cname, clevel=9, shuffle=1))
    case(f"blosc_{cname}_multiblock_bit", big, (80000,), **hdf5plugin.Blosc(cname=cname, clevel=3, shuffle=2))
case("blosc_small", i32[:20], (20,), **hdf5plugin.Blosc())

CASES = {name: (data, chunks, kw) for name, data, chunks, kw in cases}


def pipeline(dset):
    pl = dset.id.get_create_plist()
    parts = []
    for k in range(pl.get_nfilters()):
        fid, flags, cd, name = pl.get_filter(k)
        parts.append("%d:%d:%s" % (fid, flags, ",".join(str(v) for v in cd)))
    return ";".join(parts)

def main(out):
  manifest = []
  with h5py.File(os.path.join(out, "oracle.h5"), "w") as f:
      for name, data, chunks, kw in cases:
          d = f.create_dataset(name, data=data, chunks=chunks, **kw)
          elem = d.dtype.itemsize
          expected_len = int(np.prod(chunks)) * elem
          pipe = pipeline(d)
          n = d.id.get_num_chunks()
          picks = sorted(set([0, n // 2, n - 1]))
          for ci in picks:
              info = d.id.get_chunk_info(ci)
              mask, raw = d.id.read_direct_chunk(info.chunk_offset)
              sel = tuple(slice(o, o + c) for o, c in zip(info.chunk_offset, chunks))
              part = d[sel]
              full = np.zeros(chunks, dtype=d.dtype)
              full[tuple(slice(0, s) for s in part.shape)] = part
              base = f"{name}_{ci}"
              open(os.path.join(out, base + ".raw"), "wb").write(raw)
              open(os.path.join(out, base + ".exp"), "wb").write(np.ascontiguousarray(full).tobytes())
              edge = int(part.shape != tuple(chunks))
              manifest.append("\t".join(map(str, [name, base, elem, expected_len, mask, edge, d.dtype.str, ",".join(map(str, chunks)), pipe])))
  open(os.path.join(out, "manifest.txt"), "w").write("\n".join(manifest) + "\n")

  # Files for the pipeline-message parse test: one per object header / message version.
  for libver in ("earliest", "latest"):
      with h5py.File(os.path.join(out, f"parse_{libver}.h5"), "w", libver=libver) as f:
          d = f.create_dataset("x", data=i32, chunks=(1000,), shuffle=True, compression="gzip", compression_opts=7, fletcher32=True)
          p1 = pipeline(d)
          d2 = f.create_dataset("y", data=f32, chunks=(1000,), **hdf5plugin.Bitshuffle(cname="lz4"))
          p2 = pipeline(d2)
      open(os.path.join(out, f"parse_{libver}.txt"), "w").write(p1 + "\n" + p2 + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
