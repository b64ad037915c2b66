#!/usr/bin/env python3
"""Issue 11's benchmark at real size: 27 operations on the files of bench/gen_issue11.py.

Usage: python3 bench/large.py [--data DIR] [--out FILE.md] [--only SUBSTRING] [--no-build]
                              [--reps-scale X]

For every operation: ours is `h5sparse slice FILE /X --rows/--cols SEL --repeat N` (the CLI's
median of N in-process repetitions, stderr) under `/usr/bin/time -f %M` (our peak RSS); its
MatrixMarket output is piped into `mtx_checksum` (crates/h5sparse/examples). Theirs is
anndata's `sparse_dataset(h5py.File(f)['X'])[sel]` timed N times in a fresh Python process
(median; peak RSS = that process's VmHWM after the timed reads, interpreter and anndata
included). Both results are reduced to (nnz, sum of values, sum of value * (row % 1009 + 1) *
(col % 997 + 1)) and must agree before an operation counts. Integer-valued data keeps both
sums exact in f64.

Full-load efficiency lines: the gzip full loads against `bench_read --inflate-only` of the
same file's chunks (data + indices + indptr, every core; into reused per-chunk buffers, and
`--inflate-fresh`: into one newly allocated result per array, which adds the kernel's first
touch of the result's pages that any full load pays), the raw full loads against
`bench_memcpy` (parallel positioned reads of the whole file into a fresh buffer, and a
parallel memcpy of as many bytes).

Writes the markdown table to --out (default bench/results-4e8.md) and prints it.
"""
import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REL = os.path.join(ROOT, "target", "release")
CLI = os.path.join(REL, "h5sparse")
CHECK = os.path.join(REL, "examples", "mtx_checksum")
MEMCPY = os.path.join(REL, "examples", "bench_memcpy")
READ_EX = os.path.join(REL, "examples", "bench_read")

FILES = {
    "4e8 gzip": "large-gzip.h5ad",
    "4e8 raw": "large-raw.h5ad",
    "4e8 CSC": "large-csc.h5ad",
    "ones raw": "ones-raw.h5ad",
    "ones gzip": "ones-gzip.h5ad",
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


# ---------------------------------------------------------------------------------------
# selections: {"slice": [a, b]} | {"list": [...]} | {"mask": [0/1...]}
# ---------------------------------------------------------------------------------------

def sel_text(sel):
    if "slice" in sel:
        a, b = sel["slice"]
        return f"{a}:{b}"
    if "list" in sel:
        return ",".join(map(str, sel["list"]))
    return "mask:" + "".join("1" if b else "0" for b in sel["mask"])


def operations(data):
    """The 27 operations: (file key, name, rows sel, cols sel, repetitions)."""
    import h5py
    ops = []
    rng = np.random.default_rng(11)
    for key in ("ones raw", "ones gzip"):
        with h5py.File(os.path.join(data, FILES[key]), "r") as f:
            n = int(f["X"].attrs["shape"][0])
        r = np.random.default_rng(12)
        rows = r.choice(n, 1000, replace=False)
        mask = r.random(n) < 0.05
        ops += [
            (key, "full load", None, None, 3),
            (key, "rows 1:5", {"slice": [1, 5]}, None, 7),
            (key, "list of 4 rows", {"list": [17, n // 4, n // 2, n - 1]}, None, 7),
            (key, "1,000 random rows, sorted", {"list": sorted(rows.tolist())}, None, 5),
            (key, "1,000 random rows, unsorted", {"list": rows.tolist()}, None, 5),
            (key, f"row mask ({int(mask.sum())} rows)", {"mask": mask.tolist()}, None, 5),
        ]
    with h5py.File(os.path.join(data, FILES["4e8 gzip"]), "r") as f:
        n, m = (int(x) for x in f["X"].attrs["shape"])
    rows1k = rng.choice(n, min(n, 1000), replace=False)
    rows10k = rng.choice(n, min(n, 10000), replace=False)
    mask = rng.random(n) < 0.05
    a = n // 3
    c0 = m // 2
    for key in ("4e8 gzip", "4e8 raw"):
        ops += [
            (key, "full load", None, None, 3),
            (key, "1,000 contiguous rows", {"slice": [a, a + 1000]}, None, 7),
        ]
        if key == "4e8 raw":
            ops.append((key, "10,000 random rows, sorted", {"list": sorted(rows10k.tolist())},
                        None, 5))
        ops += [
            (key, "1,000 random rows, sorted", {"list": sorted(rows1k.tolist())}, None, 5),
            (key, "1,000 random rows, unsorted", {"list": rows1k.tolist()}, None, 5),
            (key, f"row mask ({int(mask.sum())} rows)", {"mask": mask.tolist()}, None, 3),
            (key, f"100 columns {c0}:{c0 + 100} (minor axis)", None,
             {"slice": [c0, c0 + 100]}, 3),
        ]
    cols1k = rng.choice(m, 1000, replace=False)
    ops += [
        ("4e8 CSC", f"100 contiguous columns {c0}:{c0 + 100} (major axis)", None,
         {"slice": [c0, c0 + 100]}, 7),
        ("4e8 CSC", "1,000 random columns, sorted", None, {"list": sorted(cols1k.tolist())}, 5),
    ]
    return ops


# ---------------------------------------------------------------------------------------
# anndata side (a fresh process per operation)
# ---------------------------------------------------------------------------------------

def checksum(m):
    """(nnz, sum, weighted sum) of a scipy CSR/CSC matrix, in blocks of ~10^7 entries."""
    csr = m.format == "csr"
    ip = np.asarray(m.indptr, dtype=np.int64)
    nmaj = len(ip) - 1
    nnz = int(ip[-1])
    step = max(1, int(1e7 * nmaj / max(1, nnz)))
    total = float(np.sum(m.data, dtype=np.float64))
    wsum = 0.0
    for a in range(0, nmaj, step):
        b = min(nmaj, a + step)
        s, e = int(ip[a]), int(ip[b])
        maj = np.repeat(np.arange(a, b, dtype=np.int64), np.diff(ip[a:b + 1]))
        mn = np.asarray(m.indices[s:e], dtype=np.int64)
        r, c = (maj, mn) if csr else (mn, maj)
        wsum += float(np.sum(np.asarray(m.data[s:e], dtype=np.float64)
                             * (r % 1009 + 1) * (c % 997 + 1)))
    return nnz, total, wsum


def vmhwm_mib():
    with open("/proc/self/status") as fh:
        for ln in fh:
            if ln.startswith("VmHWM:"):
                return int(ln.split()[1]) / 1024.0
    return float("nan")


def anndata_worker(path, spec_path):
    import warnings
    warnings.filterwarnings("ignore")
    import h5py
    from anndata.io import sparse_dataset
    with open(spec_path) as fh:
        spec = json.load(fh)
    f = h5py.File(path, "r")
    ds = sparse_dataset(f["X"])

    def index(sel):
        if sel is None:
            return slice(None)
        if "slice" in sel:
            return slice(*sel["slice"])
        if "list" in sel:
            return np.asarray(sel["list"], dtype=np.int64)
        return np.asarray(sel["mask"], dtype=bool)

    rows, cols = index(spec["rows"]), index(spec["cols"])

    def run():
        # anndata's backed fancy indexing wants increasing indices: sort, read, reorder back.
        for axis, sel in ((0, rows), (1, cols)):
            if isinstance(sel, np.ndarray) and sel.dtype != bool and np.any(np.diff(sel) < 0):
                order = np.argsort(sel, kind="stable")
                inv = np.empty_like(order)
                inv[order] = np.arange(order.size)
                key = (sel[order], cols) if axis == 0 else (rows, sel[order])
                sub = ds[key]
                return sub[inv] if axis == 0 else sub[:, inv]
        return ds[rows, cols]

    times = []
    res = None
    for _ in range(spec["reps"]):
        res = None  # do not hold the previous result while reading
        t = time.perf_counter()
        res = run()
        times.append(time.perf_counter() - t)
    rss = vmhwm_mib()
    nnz, total, wsum = checksum(res)
    print(json.dumps({"median_s": median(times), "rss_mib": rss, "nnz": nnz, "sum": total,
                      "wsum": wsum, "format": res.format}))


def theirs(path, rows, cols, reps, tmp):
    spec = os.path.join(tmp, "spec.json")
    with open(spec, "w") as fh:
        json.dump({"rows": rows, "cols": cols, "reps": reps}, fh)
    out = subprocess.run([sys.executable, __file__, "--anndata-worker", path, spec],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------
# our side
# ---------------------------------------------------------------------------------------

def warm(path):
    """Read the file through once, so each side starts from the page cache. This VM runs
    DAMON's proactive reclaim (`pageout` of memory idle for a few seconds), which drops
    the cached pages of a file the previous operations did not touch: without this the
    side measured first pays disk reads (3.2 GB at ~350 MB/s) the other side then skips."""
    with open(path, "rb", buffering=0) as fh:
        while fh.read(8 << 20):
            pass


def ours(path, rows, cols, reps, tmp):
    args = [CLI, "slice", path, "/X"]
    for flag, sel in (("--rows", rows), ("--cols", cols)):
        if sel is not None:
            p = os.path.join(tmp, flag[2:] + ".sel")
            with open(p, "w") as fh:
                fh.write(sel_text(sel))
            args += [flag, "@" + p]
    args += ["--repeat", str(reps)]
    marker = "@@MAXRSS_KB="
    p1 = subprocess.Popen(["/usr/bin/time", "-f", marker + "%M"] + args,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p2 = subprocess.Popen([CHECK], stdin=p1.stdout, stdout=subprocess.PIPE, text=True)
    p1.stdout.close()
    err = p1.stderr.read().decode()
    p1.wait()
    out = p2.communicate()[0]
    if p1.returncode != 0 or p2.returncode != 0:
        raise RuntimeError(f"{args} failed: {err}")
    js, rss = None, float("nan")
    for ln in err.splitlines():
        if ln.startswith(marker):
            rss = int(ln[len(marker):]) / 1024.0
        elif ln.startswith("{"):
            js = json.loads(ln)
    ck = json.loads(out.strip())
    return {"median_s": js["median_s"], "rss_mib": rss, "nnz": ck["nnz"], "sum": ck["sum"],
            "wsum": ck["wsum"], "cli_nnz": js["nnz"]}


def same(a, b):
    return (a["nnz"] == b["nnz"] == a.get("cli_nnz", b["nnz"])
            and math.isclose(a["sum"], b["sum"], rel_tol=1e-12)
            and math.isclose(a["wsum"], b["wsum"], rel_tol=1e-12))


# ---------------------------------------------------------------------------------------
# baselines
# ---------------------------------------------------------------------------------------

def inflate_only(path, reps):
    """Seconds to inflate every chunk of X on both cores: (into reused per-chunk buffers,
    into one fresh result per array as a full load must — the first touch of its pages)."""
    total = {"inflate_only": 0.0, "inflate_fresh": 0.0}
    for d in ("X/data", "X/indices", "X/indptr"):
        out = subprocess.run([READ_EX, path, d, "--inflate-only", "--inflate-fresh",
                              "--repeat", str(reps)],
                             check=True, capture_output=True, text=True).stdout
        for ln in out.splitlines():
            if ln.startswith("{"):
                js = json.loads(ln)
                total[js["op"]] += js["median_s"]
    return total["inflate_only"], total["inflate_fresh"]


def memcpy(path, reps):
    out = subprocess.run([MEMCPY, path, "--repeat", str(reps)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def loadavg():
    try:
        with open("/proc/loadavg") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/benchdata")
    ap.add_argument("--out", default=os.path.join(HERE, "results-4e8.md"))
    ap.add_argument("--only", default="")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--reps-scale", type=float, default=1.0)
    ap.add_argument("--title", default="issue 11 benchmark")
    ap.add_argument("--cli", help="h5sparse binary to time (default: this tree's release build)")
    ap.add_argument("--read-ex", help="bench_read binary for the inflate-only baseline")
    a = ap.parse_args()
    global CLI, READ_EX
    CLI = a.cli or CLI
    READ_EX = a.read_ex or READ_EX
    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "h5sparse-cli"], cwd=ROOT,
                       check=True)
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "h5sparse", "--example",
                        "mtx_checksum", "--example", "bench_memcpy"], cwd=ROOT, check=True)
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "h5format", "--example",
                        "bench_read"], cwd=ROOT, check=True)
    t_start = time.time()
    load0 = loadavg()
    tmp = os.path.join(a.data, f".large-bench-{os.getpid()}")
    os.makedirs(tmp, exist_ok=True)
    rows = []
    full = {}
    for key, name, rsel, csel, reps in operations(a.data):
        label = f"{key} | {name}"
        if a.only and a.only not in label:
            continue
        reps = max(1, round(reps * a.reps_scale))
        path = os.path.join(a.data, FILES[key])
        warm(path)
        o = ours(path, rsel, csel, reps, tmp)
        warm(path)
        t = theirs(path, rsel, csel, reps, tmp)
        if not same(o, t):
            raise SystemExit(f"MISMATCH in {label}: ours {o} vs anndata {t}")
        ratio = t["median_s"] / o["median_s"]
        rows.append((key, name, t["median_s"], o["median_s"], ratio, o["rss_mib"], t["rss_mib"],
                     o["nnz"], reps))
        if name == "full load":
            full[key] = o["median_s"]
        log(f"{label:60s} anndata {t['median_s']:9.4f}s  ours {o['median_s']:9.4f}s  "
            f"x{ratio:6.2f}  RSS ours {o['rss_mib']:7.0f} MiB theirs {t['rss_mib']:7.0f} MiB"
            f"  nnz {o['nnz']}")
    eff = []
    for key in ("4e8 gzip", "ones gzip"):
        if key in full:
            base, fresh = inflate_only(os.path.join(a.data, FILES[key]), 3)
            eff.append(f"- {key} full load {full[key]:.3f} s; inflate-only of the same chunks "
                       f"on both cores {base:.3f} s: the load runs at "
                       f"**{100 * base / full[key]:.0f} %** of the inflate rate (goal ≥ 80 %); "
                       f"inflating them into a fresh result of the same size {fresh:.3f} s: "
                       f"{100 * fresh / full[key]:.0f} % of that")
    for key in ("4e8 raw", "ones raw"):
        if key in full:
            mc = memcpy(os.path.join(a.data, FILES[key]), 3)
            eff.append(f"- {key} full load {full[key]:.3f} s; parallel pread of the whole file "
                       f"({mc['bytes'] / 1e9:.2f} GB, 2 threads, fresh buffer) {mc['pread_s']:.3f} s,"
                       f" parallel memcpy of as many bytes {mc['memcpy_s']:.3f} s: the load runs "
                       f"at **{100 * mc['memcpy_s'] / full[key]:.0f} %** of memcpy (goal ≥ 70 %),"
                       f" {100 * mc['pread_s'] / full[key]:.0f} % of the pread")
    wall = time.time() - t_start
    for fn in os.listdir(tmp):
        os.remove(os.path.join(tmp, fn))
    os.rmdir(tmp)
    ratios = [r[4] for r in rows]
    geo = math.exp(sum(math.log(x) for x in ratios) / len(ratios)) if ratios else float("nan")
    lines = [
        f"# {a.title}: 4·10^8-nnz matrix and all-ones 10^8 vs anndata",
        "",
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"`python3 bench/large.py` (files from `bench/gen_issue11.py` in {a.data}), "
        f"binary `{CLI}`, {platform.machine()}, {os.cpu_count()} cores, anndata "
        f"{__import__('importlib.metadata').metadata.version('anndata')}. "
        f"Load average {load0} at the start, {loadavg()} at the end (2 cores: above ~1 means "
        f"other work shared the machine); medians of N repetitions, both sides in the same run, "
        f"each after reading the file through once (the VM's proactive reclaim drops idle "
        f"cached pages).",
        "",
        "| file | operation | anndata | ours | ratio | our peak RSS | anndata peak RSS | nnz | N |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, name, th, ou, ratio, orss, trss, nnz, reps in rows:
        bold = "**" if ratio < 1.5 else ""
        lines.append(f"| {key} | {name} | {fmt_t(th)} | {fmt_t(ou)} | {bold}{ratio:.2f}×{bold} | "
                     f"{orss:,.0f} MiB | {trss:,.0f} MiB | {nnz:,} | {reps} |")
    slower = sum(1 for r in ratios if r < 1)
    under = sum(1 for r in ratios if 1 <= r < 1.5)
    lines += [
        "",
        f"{len(rows)} operations, all verified equal (nnz, sum, position-weighted sum). "
        f"Geomean speedup **{geo:.2f}×**; slower than anndata on {slower}, "
        f"1–1.5× on {under}. Wall time of the run {wall / 60:.1f} min.",
        "",
        "Full-load efficiency:",
        "",
        *eff,
        "",
        "Ours: `h5sparse slice --repeat N` median (selection only, file open) and the process's "
        "max RSS (`/usr/bin/time -f %M`, includes printing the result once). anndata: median of "
        "N reads in one process, max RSS of that process (interpreter and imports included, "
        "~150 MiB).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not a.only:
        with open(a.out, "w") as fh:
            fh.write(text)
        log(f"wrote {a.out}")


def fmt_t(s):
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--anndata-worker":
        anndata_worker(sys.argv[2], sys.argv[3])
    else:
        main()
