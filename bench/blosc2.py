#!/usr/bin/env python3
"""Blosc2 (filter 32026) decoding: our reader vs h5py + hdf5plugin (c-blosc2) on the same file.

Usage: python3 bench/blosc2.py [--no-build]

Writes bench/data/blosc2.h5 (git-ignored) with hdf5plugin: 1-D float32 and int32 datasets of
10^7 elements (40 MB each, 2^20-element chunks) with zstd and lz4 (byte shuffle, level 5), one
chunk = one frame of several Blosc2 blocks. Times full reads: ours with
target/release/examples/bench_read (values converted to f64 as it does; one fresh open per
repetition), h5py's `ds[...]` in a fresh process per repetition (c-blosc2 decoding with its
default threads), and ours decoding the stored chunks alone (bench_read --inflate-only). The
same data through Blosc 1 (32001) gives our reader's baseline for the codecs. Prints median
seconds, MB/s of decoded data, the ratio and peak RSS.
"""
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")
FILE = os.path.join(DATA, "blosc2.h5")
EX = os.path.join(ROOT, "target", "release", "examples", "bench_read")
N = 10_000_000
REPEAT = 5

H5PY = r"""
import sys, time, resource, json
import h5py, hdf5plugin
f = h5py.File(sys.argv[1], "r")
t = time.perf_counter()
a = f[sys.argv[2]][...]
dt = time.perf_counter() - t
print(json.dumps({"s": dt, "sum": float(a.sum(dtype="f8")),
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def generate():
    import h5py
    import hdf5plugin
    os.makedirs(DATA, exist_ok=True)
    if os.path.exists(FILE):
        return
    i = np.arange(N)
    values = {
        "f4": (np.sin(i / 1000.0) * 1000).astype("f4"),
        "i4": ((i // 7) % 100000).astype("i4"),
    }
    with h5py.File(FILE, "w") as f:
        for cname in ("zstd", "lz4"):
            for dt, v in values.items():
                f.create_dataset("%s_%s" % (cname, dt), data=v, chunks=(2**20,),
                                 **hdf5plugin.Blosc2(cname=cname, clevel=5, filters=1))
                # The same through Blosc 1 (filter 32001), for reference
                f.create_dataset("blosc1_%s_%s" % (cname, dt), data=v, chunks=(2**20,),
                                 **hdf5plugin.Blosc(cname=cname, clevel=5, shuffle=1))


def main():
    if "--no-build" not in sys.argv:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "h5format", "--example",
                        "bench_read"], cwd=ROOT, check=True)
    generate()
    print("| dataset | ours: full read as f64, s (MB/s) | ours: chunk decode only, all cores, s | "
          "h5py+hdf5plugin s (MB/s) | ours/h5py time (full) | peak RSS ours / h5py MiB |")
    print("|---|---|---|---|---|---|")
    for name in ("zstd_f4", "zstd_i4", "lz4_f4", "lz4_i4", "blosc1_zstd_f4", "blosc1_lz4_f4"):
        out = subprocess.run([EX, FILE, name, "--full", "--repeat", str(REPEAT)], check=True,
                             capture_output=True, text=True).stdout
        ours = json.loads(out.strip().splitlines()[-1])
        out = subprocess.run([EX, FILE, name, "--inflate-only", "--repeat", str(REPEAT)], check=True,
                             capture_output=True, text=True).stdout
        dec = json.loads(out.strip().splitlines()[-1])
        runs = [json.loads(subprocess.run([sys.executable, "-c", H5PY, FILE, name], check=True,
                                          capture_output=True, text=True).stdout)
                for _ in range(REPEAT)]
        h5 = sorted(r["s"] for r in runs)[REPEAT // 2]
        rss = max(r["rss"] for r in runs)
        if abs(ours["sum"] - runs[0]["sum"]) > 1e-6 * max(1.0, abs(runs[0]["sum"])):
            raise SystemExit("%s: sums differ: ours %r, h5py %r" % (name, ours["sum"], runs[0]["sum"]))
        mb = N * 4 / 1e6
        print("| %s | %.3f (%.0f) | %.3f | %.3f (%.0f) | %.2f | %.0f / %.0f |" % (
            name, ours["median_s"], mb / ours["median_s"], dec["median_s"], h5, mb / h5,
            ours["median_s"] / h5, ours["peak_rss_mib"], rss))


if __name__ == "__main__":
    main()
