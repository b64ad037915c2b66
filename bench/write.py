#!/usr/bin/env python3
"""Writing the all-ones 10^8 matrix: our writer vs h5py, at equal durability (issue 11).

Usage: python3 bench/write.py [--n 10000] [--reps 3] [--no-build] [--out FILE.md]

The 10,000 x 10,000 all-ones CSR matrix (10^8 f64 values, i4 indices and indptr), streamed
in blocks of 100 rows, chunks of 2^18 elements: `bench_write` (SparseWriter + H5Sink,
crates/h5sparse/examples) vs h5py writing the same datasets block by block
(`run.h5py_write`), each in its own process, alternating, N times; medians.

Durability: h5py (libhdf5) does not fsync on close, so ours runs with
`Durability::PageCache` (`--no-fsync`) and both are timed up to the file being closed; an
fsync of each finished file is then timed separately and printed (the cost of making the
file durable, paid by whoever asks for it: our default `Durability::Fsync` pays it inside
`finish`). Cases: gzip level 1 (h5py: + shuffle on every dataset; ours: shuffle on `indices`
by default, and with `--shuffle` on every dataset, the same filters as h5py) and
uncompressed. Our files are checked through h5py. Writes to bench/data/ (git-ignored).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import h5py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")
WRITE_EX = os.path.join(ROOT, "target", "release", "examples", "bench_write")
MARK = "@@MAXRSS_KB="


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def timed(cmd):
    """Run cmd; return (stdout, max RSS MiB, CPU seconds user + system)."""
    p = subprocess.run(["/usr/bin/time", "-f", MARK + "%M %U %S"] + cmd, capture_output=True,
                       text=True, check=True)
    rss, cpu = float("nan"), float("nan")
    for ln in p.stderr.splitlines():
        if ln.startswith(MARK):
            kb, u, s_ = ln[len(MARK):].split()
            rss, cpu = int(kb) / 1024, float(u) + float(s_)
    return p.stdout, rss, cpu


def import_cpu():
    """CPU seconds of starting Python and importing what the h5py side imports."""
    _, _, cpu = timed([sys.executable, "-c", f"import sys; sys.path.insert(0, {HERE!r}); "
                       "import run"])
    return cpu


def fsync_time(path):
    t = time.perf_counter()
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return time.perf_counter() - t


def ours(path, n, chunk, gzip, shuffle_all):
    args = [WRITE_EX, path, "--n", str(n), "--chunk-elems", str(chunk), "--no-fsync"]
    if gzip is not None:
        args += ["--gzip", str(gzip)]
        if shuffle_all:
            args.append("--shuffle")
    out, rss, cpu = timed(args)
    js = json.loads(out.strip().splitlines()[-1])
    with h5py.File(path, "r") as f:
        g = f["X"]
        ok = (tuple(g.attrs["shape"]) == (n, n) and g["data"].shape == (n * n,)
              and float(g["data"][-1000:].sum()) == 1000.0
              and int(g["indptr"][-1]) == n * n and int(g["indices"][n - 1]) == n - 1
              and (gzip is None or g["indices"].shuffle))
        idx, ptr = g["indices"].dtype.str, g["indptr"].dtype.str
    if not ok:
        raise SystemExit(f"our written file fails verification ({path})")
    return js["seconds"], js["fsync_s"], os.path.getsize(path), rss, idx, ptr, cpu


def theirs(path, n, chunk, gzip, idx, ptr):
    code = (f"import sys, time; sys.path.insert(0, {HERE!r}); import run; "
            f"t = time.perf_counter(); "
            f"run.h5py_write({path!r}, {n}, {gzip!r}, {chunk}, {idx!r}, {ptr!r}); "
            f"print(time.perf_counter() - t)")
    out, rss, cpu = timed([sys.executable, "-c", code])
    secs = float(out.strip().splitlines()[-1])
    return secs, fsync_time(path), os.path.getsize(path), rss, cpu - import_cpu()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--chunk", type=int, default=1 << 18)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "h5sparse", "--example",
                        "bench_write"], cwd=ROOT, check=True)
    os.makedirs(DATA, exist_ok=True)
    po, pt = os.path.join(DATA, "w_ours.h5"), os.path.join(DATA, "w_h5py.h5")
    with open("/proc/loadavg") as fh:
        load0 = " ".join(fh.read().split()[:3])
    rows = []
    for name, gzip, shuffle_all in (("gzip 1, shuffle on indices (our default)", 1, False),
                                    ("gzip 1, shuffle on every dataset (h5py's filters)", 1, True),
                                    ("uncompressed", None, False)):
        o, t = [], []
        for _ in range(a.reps):
            o.append(ours(po, a.n, a.chunk, gzip, shuffle_all))
            t.append(theirs(pt, a.n, a.chunk, gzip, o[-1][4], o[-1][5]))
        os_, ofs = median([x[0] for x in o]), median([x[1] for x in o])
        ts, tfs = median([x[0] for x in t]), median([x[1] for x in t])
        oc, tc = median([x[6] for x in o]), median([x[4] for x in t])
        rows.append((name, os_, ts, ofs, tfs, o[-1][2], t[-1][2], max(x[3] for x in o),
                     max(x[3] for x in t), oc, tc))
        log(f"{name}: ours {os_:.3f}s (+fsync {ofs:.3f}s), h5py {ts:.3f}s (+fsync {tfs:.3f}s), "
            f"x{ts / os_:.2f}; sizes {o[-1][2] / 2**20:.1f} / {t[-1][2] / 2**20:.1f} MiB")
    for p in (po, pt):
        os.remove(p)
    with open("/proc/loadavg") as fh:
        load1 = " ".join(fh.read().split()[:3])
    lines = [
        f"Writing the {a.n:,} x {a.n:,} all-ones CSR matrix ({a.n * a.n:,} f64 values), chunks "
        f"of {a.chunk:,}, blocks of 100 rows; medians of {a.reps} alternating runs, each side in "
        f"its own process, {os.cpu_count()} cores, load average {load0} "
        f"at the start, {load1} at the end.",
        "",
        "| case | ours (no fsync) | h5py (no fsync) | speedup | CPU s: ours / h5py "
        "| fsync after: ours / h5py | file: ours / h5py | peak RSS: ours / h5py |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, os_, ts, ofs, tfs, osz, tsz, orss, trss, oc, tc in rows:
        lines.append(f"| {name} | {os_:.3f} s | {ts:.3f} s | **{ts / os_:.2f}×** | "
                     f"{oc:.2f} / {tc:.2f} | "
                     f"{ofs:.3f} / {tfs:.3f} s | {osz / 2**20:.1f} / {tsz / 2**20:.1f} MiB "
                     f"({osz / tsz:.2f}×) | {orss:.0f} / {trss:.0f} MiB |")
    lines += ["", "Both sides are timed to the closed file without fsync (libhdf5 does not "
              "fsync); the fsync column is one fsync of the finished file, timed separately. "
              "CPU: user + system seconds of the whole process (`/usr/bin/time`), for h5py minus "
              "those of a process that only starts Python and imports the same modules — on a "
              "loaded machine the wall times mostly measure waiting for a core, the CPU seconds "
              "what each writer costs (ours spread over both cores when compressing)."]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
