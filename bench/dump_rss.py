#!/usr/bin/env python3
"""Peak memory of `h5sparse dump --json` on datasets of 10^8 elements (issue 15): the
target is at most 64 MiB + one chunk of resident memory, whatever the dataset size.

Usage: python3 bench/dump_rss.py [--no-build] [--n N]

Writes its input once into bench/data/dump_1e8.h5 (git-ignored; ~420 MB): a 1-D float32
dataset of N elements, chunked (2^20 elements = 4 MiB per chunk) with gzip level 1, and a
2-D int32 dataset of N elements, contiguous. Runs the release binary's `dump --json` of each
into /dev/null under `/usr/bin/time -v` (peak RSS, wall time), and, for scale, h5py reading
the same dataset whole (`ds[()]`; h5py has no streaming dump: its reference dumper,
testdata/h5py_dump.py, holds every value as a Python object and would need tens of GB).
A benchmark, not a test: it prints a table and PASS/FAIL against the target.
"""

import argparse
import os
import re
import subprocess
import sys
import time

import numpy as np
import h5py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.join(ROOT, "target", "release", "h5sparse")
CHUNK = 1 << 20


def generate(path, n):
    side = int(round(n ** 0.5))
    if os.path.exists(path):
        with h5py.File(path, "r") as f:
            if f["f4_chunked"].shape == (n,) and f["i4_contiguous"].shape == (side, n // side):
                return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with h5py.File(path, "w") as f:
        d = f.create_dataset("f4_chunked", shape=(n,), dtype="<f4", chunks=(min(CHUNK, n),),
                             compression="gzip", compression_opts=1)
        for s in range(0, n, 16 * CHUNK):
            e = min(n, s + 16 * CHUNK)
            d[s:e] = (np.arange(s, e) % 1000).astype("<f4") / 8
        d = f.create_dataset("i4_contiguous", shape=(side, n // side), dtype="<i4")
        rows = max(1, (16 * CHUNK) // (n // side))
        for s in range(0, side, rows):
            e = min(side, s + rows)
            d[s:e] = (np.arange(s * (n // side), e * (n // side)) % 100000).reshape(e - s, -1)


def timed(cmd):
    """(peak RSS in MiB, wall seconds, exit status) of `cmd` with stdout to /dev/null."""
    t0 = time.monotonic()
    with open(os.devnull, "wb") as null:
        p = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdout=null, stderr=subprocess.PIPE)
    wall = time.monotonic() - t0
    m = re.search(rb"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    rss = int(m.group(1)) / 1024 if m else float("nan")
    if p.returncode != 0:
        sys.stderr.write(p.stderr.decode(errors="replace")[-2000:])
    return rss, wall, p.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--n", type=int, default=10 ** 8)
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "h5sparse-cli"], cwd=ROOT,
                       check=True)
    path = os.path.join(HERE, "data", "dump_1e8.h5" if args.n == 10 ** 8 else f"dump_{args.n}.h5")
    generate(path, args.n)
    h5py_read = ("import h5py, sys; f = h5py.File(sys.argv[1]); a = f[sys.argv[2]][()]; "
                 "print(a.nbytes)")
    print(f"| dataset ({args.n:.0e} elements) | chunk | dump --json peak RSS | wall | limit "
          "(64 MiB + chunk) | h5py ds[()] peak RSS | wall | RSS ratio |")
    print("|---|---|---|---|---|---|---|---|")
    ok = True
    for name, chunk_bytes in (("f4_chunked", CHUNK * 4), ("i4_contiguous", 0)):
        rss, wall, rc = timed([BIN, "dump", "--json", path, "/" + name])
        limit = 64 + chunk_bytes / 2 ** 20
        hrss, hwall, _ = timed([sys.executable, "-c", h5py_read, path, "/" + name])
        good = rc == 0 and rss <= limit
        ok &= good
        print(f"| /{name} | {chunk_bytes / 2 ** 20:.0f} MiB | {rss:.1f} MiB | {wall:.1f} s | "
              f"{limit:.0f} MiB {'PASS' if good else 'FAIL'} | {hrss:.1f} MiB | {hwall:.1f} s | "
              f"{rss / hrss:.3f} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
