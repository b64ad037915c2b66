#!/usr/bin/env python3
"""Deflate level 1 of our writer vs libz's (what libhdf5 and h5py use), on the same chunks.

Usage: python3 bench/deflate_levels.py [--no-build]

Inputs: the all-ones matrix's f64 values and i4 indices (2^18-element chunks, shuffled, as
bench/run.py's write case writes them), and indices / counts of the 4*10^8 matrix from
bench/gen_issue11.py (48,944-element chunks, shuffled and not) when /work/benchdata has it.
Prints, per input, libz's level-1 size and speed (one thread, shuffle in numpy) and zlib-rs's
levels 1 (deflate_quick), 2 (deflate_fast with libz's level-1 parameters: what our writer runs
for level 1) and 3 (deflate_medium), one thread, shuffle included. Speeds are from a loaded
machine: compare sizes, and speeds only within one row.
"""
import json
import os
import subprocess
import sys
import time
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EX = os.path.join(ROOT, "target", "release", "examples", "bench_deflate")
TMP = "/tmp/deflate_levels"


def shuffle(b, size):
    a = np.frombuffer(b, dtype=np.uint8)
    n = len(a) // size
    return a[:n * size].reshape(n, size).T.tobytes() + a[n * size:].tobytes()


def libz(raw, elem, chunk_bytes, shuf, level):
    t = time.perf_counter()
    out = 0
    for i in range(0, len(raw), chunk_bytes):
        c = raw[i:i + chunk_bytes]
        out += len(zlib.compress(shuffle(c, elem) if shuf else c, level))
    return out, time.perf_counter() - t


def main():
    if "--no-build" not in sys.argv:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "h5sparse", "--example",
                        "bench_deflate"], cwd=ROOT, check=True)
    os.makedirs(TMP, exist_ok=True)
    inputs = [
        ("all-ones f64 values", np.ones(2**22), 8, 2**18, True),
        ("all-ones i4 indices", np.tile(np.arange(10000, dtype=np.int32), 420)[:2**22], 4,
         2**18, True),
    ]
    big = "/work/benchdata/large-raw.h5ad"
    if os.path.exists(big):
        import h5py
        with h5py.File(big, "r") as f:
            idx = f["X/indices"][:2**23]
            dat = f["X/data"][:2**23]
        for shuf in (False, True):
            inputs.append((f"4e8 i4 indices{' shuffled' if shuf else ''}", idx, 4, 48944, shuf))
        inputs.append(("4e8 f4 counts", dat, 4, 48944, False))
    print("| input | libz level 1 | zlib-rs 1 (quick) | zlib-rs 2 (fast; our level 1) "
          "| zlib-rs 3 (medium) |")
    print("|---|---|---|---|---|")
    for name, arr, elem, chunk, shuf in inputs:
        raw = np.ascontiguousarray(arr).tobytes()
        path = os.path.join(TMP, "in.bin")
        with open(path, "wb") as fh:
            fh.write(raw)
        zs, zt = libz(raw, elem, chunk * elem, shuf, 1)
        args = [EX, path, "--elem-size", str(elem), "--chunk-bytes", str(chunk * elem),
                "--levels", "1,2,3"]
        if shuf:
            args.append("--shuffle")
        res = [json.loads(ln) for ln in subprocess.run(args, check=True, capture_output=True,
                                                       text=True).stdout.splitlines()]
        mb = len(raw) / 1e6
        cells = [f"{zs / 1e6:.2f} MB, {mb / zt:.0f} MB/s"]
        for r in res:
            cells.append(f"{r['out_bytes'] / 1e6:.2f} MB ({r['out_bytes'] / zs:.2f}× libz), "
                         f"{mb / r['seconds']:.0f} MB/s")
        print(f"| {name} ({len(raw) / 1e6:.0f} MB, chunks of {chunk}) | " + " | ".join(cells) + " |")
    os.remove(os.path.join(TMP, "in.bin"))


if __name__ == "__main__":
    main()
