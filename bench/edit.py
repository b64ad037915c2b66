#!/usr/bin/env python3
"""In-place edits: h5format::edit::Editor vs h5py in r+ mode, same file, same run.

    python3 bench/edit.py [N] [LIBVER]   # N edits per operation (default 100), base libver
                                         # (default earliest; latest: v4 chunk indexes)

Base file (h5py, libver LIBVER): /x float32 (100000,), chunks 10000, gzip 4, unlimited;
an empty group /g. Operations, N times each on a fresh copy:
  attrs      set attribute /g/a{i} (4 x int64)
  append     1000 rows appended to /x
  overwrite  1000 elements of /x overwritten at a moving offset
Ours: `target/release/examples/bench_edit` (each edit its own commit, no fsync, like h5py),
with space reuse (the default) and without it (`set_space_reuse(false)`: the file only grows);
h5py: one r+ open, the N edits, close. Times are measured inside each process (open to
close, interpreter start and imports excluded); peak RSS of each whole process
(/usr/bin/time), and the file's growth.
"""

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import h5py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "examples", "bench_edit")


def base(path, libver):
    with h5py.File(path, "w", libver=libver) as f:
        f.create_dataset("x", data=np.arange(100000, dtype="f4"), chunks=(10000,),
                         maxshape=(None,), compression="gzip", compression_opts=4)
        f.create_group("g")


def ours(path, op, n, *flags):
    out = subprocess.run(["/usr/bin/time", "-f", "%M", BIN, path, op, str(n), *flags],
                         capture_output=True, text=True, check=True)
    r = json.loads(out.stdout)
    rss = int(out.stderr.strip().splitlines()[-1])
    return r["seconds"], r["after"] - r["before"], rss


H5PY = r"""
import sys, time, h5py, numpy as np
path, op, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = np.arange(1000, dtype='f4')
t = time.perf_counter()
with h5py.File(path, 'r+') as f:
    for i in range(n):
        if op == 'attrs':
            f['g'].attrs[f'a{i}'] = np.full(4, i, dtype='i8')
        elif op == 'append':
            x = f['x']; m = x.shape[0]; x.resize((m + 1000,)); x[m:] = rows
        else:
            s = (i * 7919) % 99000; f['x'][s:s + 1000] = rows
print(time.perf_counter() - t)
"""


def theirs(path, op, n):
    before = os.path.getsize(path)
    out = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-c", H5PY, path, op, str(n)],
                         capture_output=True, text=True, check=True)
    rss = int(out.stderr.strip().splitlines()[-1])
    return float(out.stdout.strip()), os.path.getsize(path) - before, rss


def check(a, b, op):
    with h5py.File(a) as fa, h5py.File(b) as fb:
        if op == "attrs":
            assert sorted(fa["g"].attrs) == sorted(fb["g"].attrs)
        else:
            assert np.array_equal(fa["x"][...], fb["x"][...])


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    libver = sys.argv[2] if len(sys.argv) > 2 else "earliest"
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "h5format", "--example", "bench_edit"],
                   cwd=ROOT, check=True)
    print(f"| operation (N={n}, {libver}) | ours s | h5py s | time ratio | ours growth | ours growth, no reuse "
          f"| h5py growth | ours RSS MiB | h5py RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "base.h5")
        base(src, libver)
        for op in ["attrs", "append", "overwrite"]:
            a, b = os.path.join(d, f"ours-{op}.h5"), os.path.join(d, f"h5py-{op}.h5")
            c = os.path.join(d, f"ours-noreuse-{op}.h5")
            for p in (a, b, c):
                shutil.copy(src, p)
            wo, go, ro = ours(a, op, n)
            _, gn, _ = ours(c, op, n, "noreuse")
            wt, gt, rt = theirs(b, op, n)
            check(a, b, op)
            check(c, b, op)
            print(f"| {op} | {wo:.3f} | {wt:.3f} | {wt / wo:.2f}x | {go / 1024:.0f} KiB | {gn / 1024:.0f} KiB "
                  f"| {gt / 1024:.0f} KiB | {ro / 1024:.1f} | {rt / 1024:.1f} |")


if __name__ == "__main__":
    main()
