#!/usr/bin/env python3
"""Benchmarks: our pure-Rust HDF5 reader/writer vs h5py / anndata, on the same files.

Usage: python3 bench/run.py [--quick] [--no-build] [--regen]

Cases (see bench/README.md):
  1. sparse selections on an anndata-written gzip CSR matrix (h5sparse slice vs anndata backed
     sparse_dataset), each verified once (nnz + value checksums) before it counts;
  2. dense chunked gzip f64 dataset: full read and 1,000 random small ranges
     (h5format example bench_read vs h5py);
  3. writing the N x N all-ones CSR matrix streaming, gzip+shuffle and uncompressed
     (h5sparse example bench_write vs h5py chunked datasets written block by block).
Prints a summary table and writes it to bench/results.md.
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
import tracemalloc
import warnings

import h5py
import numpy as np
import scipy.io
import scipy.sparse as sp

warnings.filterwarnings("ignore")
import anndata  # noqa: E402
from anndata.io import sparse_dataset, write_elem  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")
REL = os.path.join(ROOT, "target", "release")
CLI = os.path.join(REL, "h5sparse")
READ_EX = os.path.join(REL, "examples", "bench_read")
WRITE_EX = os.path.join(REL, "examples", "bench_write")

ROWS = []  # (case, operation, ours_s, theirs_s, ratio, our_rss_mib, their_mem_mib, note)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def median(v):
    v = sorted(v)
    return v[len(v) // 2]


def run_child(cmd, stdout=None):
    """Run cmd; return (stdout_text_or_None, stderr_text, peak_rss_mib of that child)."""
    p = subprocess.Popen(cmd, stdout=stdout if stdout is not None else subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out, err = p.communicate()
    # communicate() reaps the child; its own max RSS comes from /usr/bin/time if present,
    # else from RUSAGE_CHILDREN (a running maximum, so only meaningful when it grows).
    if p.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({p.returncode}): {err}")
    return out, err


def timed_child(cmd, stdout=None):
    """Run cmd under /usr/bin/time -f %M; return (stdout, stderr_without_time_line, rss_mib)."""
    marker = "@@MAXRSS_KB="
    out, err = run_child(["/usr/bin/time", "-f", marker + "%M"] + cmd, stdout=stdout)
    lines = err.splitlines()
    rss = float("nan")
    rest = []
    for ln in lines:
        if ln.startswith(marker):
            rss = int(ln[len(marker):]) / 1024.0
        else:
            rest.append(ln)
    return out, "\n".join(rest), rss


def add(case, op, ours, theirs, our_rss, their_mem, note=""):
    ratio = theirs / ours if ours > 0 else float("nan")
    ROWS.append((case, op, ours, theirs, ratio, our_rss, their_mem, note))
    log(f"  {case:8s} {op:34s} ours {ours:9.4f}s  theirs {theirs:9.4f}s  speedup x{ratio:6.2f}"
        f"  our RSS {our_rss:7.1f} MiB  their mem {their_mem:7.1f} MiB {note}")


# ---------------------------------------------------------------------------------------
# 1. sparse selections
# ---------------------------------------------------------------------------------------

def make_sparse(path, nrows, ncols, nnz, seed=0):
    log(f"generating {path}: {nrows} x {ncols}, ~{nnz} nnz (anndata write_elem, gzip)")
    t = time.perf_counter()
    rng = np.random.default_rng(seed)
    keys = np.unique(rng.integers(0, nrows * ncols, size=nnz, dtype=np.int64))
    rows = (keys // ncols).astype(np.int64)
    cols = (keys % ncols).astype(np.int32)
    del keys
    indptr = np.zeros(nrows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=nrows), out=indptr[1:])
    del rows
    # integer-valued counts, like scRNA-seq data: exact checksums, realistic compression
    data = rng.geometric(0.3, size=cols.size).astype(np.float32)
    m = sp.csr_matrix((data, cols, indptr), shape=(nrows, ncols))
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        write_elem(f, "X", m, dataset_kwargs=dict(compression="gzip"))
    os.replace(tmp, path)
    log(f"  done in {time.perf_counter() - t:.1f} s, {os.path.getsize(path) / 2**20:.0f} MiB")


def make_sparse_streamed(path, nrows, ncols, nnz, seed=0):
    """The same kind of matrix as make_sparse, for sizes where building it in memory first is
    too slow (>= 5*10^7 nnz): rows are generated and appended block by block with h5py, into
    the layout anndata's write_elem produces (csr_matrix attributes, int32 indices/indptr, f32
    data, gzip level 4, h5py's automatic chunk size for the final length)."""
    from h5py._hl.filters import guess_chunk
    log(f"generating {path}: {nrows} x {ncols}, ~{nnz} nnz (h5py, streamed, gzip)")
    t = time.perf_counter()
    rng = np.random.default_rng(seed)
    density = nnz / (nrows * ncols)
    idx_t = np.int32 if nnz < 2**31 and ncols < 2**31 else np.int64
    chunk = guess_chunk((nnz,), None, 4)
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        g = f.create_group("X")
        g.attrs["encoding-type"] = "csr_matrix"
        g.attrs["encoding-version"] = "0.1.0"
        g.attrs["shape"] = np.array([nrows, ncols])
        kw = dict(compression="gzip", compression_opts=4, chunks=chunk, maxshape=(None,))
        dd = g.create_dataset("data", (0,), dtype=np.float32, **kw)
        di = g.create_dataset("indices", (0,), dtype=idx_t, **kw)
        indptr = np.zeros(nrows + 1, dtype=idx_t)
        total, block = 0, max(1, 2_000_000 // ncols)
        for r0 in range(0, nrows, block):
            r1 = min(nrows, r0 + block)
            rr, cc = np.nonzero(rng.random((r1 - r0, ncols), dtype=np.float32) < density)
            vals = rng.geometric(0.3, size=cc.size).astype(np.float32)
            n = cc.size
            dd.resize((total + n,))
            dd[total:] = vals
            di.resize((total + n,))
            di[total:] = cc.astype(idx_t)
            counts = np.bincount(rr, minlength=r1 - r0)
            indptr[r0 + 1:r1 + 1] = total + np.cumsum(counts)
            total += n
        g.create_dataset("indptr", data=indptr, compression="gzip", compression_opts=4)
    os.replace(tmp, path)
    log(f"  done in {time.perf_counter() - t:.1f} s, {os.path.getsize(path) / 2**20:.0f} MiB")


def checksum_coo(rows, cols, vals):
    vals = np.asarray(vals, dtype=np.float64)
    w = (np.asarray(rows, dtype=np.float64) % 1009 + 1) * (np.asarray(cols, dtype=np.float64) % 997 + 1)
    return (int(vals.size), float(vals.sum()), float((vals * w).sum()))


def checksum_csr(m):
    m = sp.coo_matrix(m)
    return checksum_coo(m.row, m.col, m.data)


def checksum_mtx(path):
    m = scipy.io.mmread(path)
    return checksum_coo(m.row, m.col, m.data)


def same(a, b):
    return a[0] == b[0] and all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6) for x, y in zip(a[1:], b[1:]))


def bench_sparse(path, quick, reps):
    rng = np.random.default_rng(1)
    with h5py.File(path, "r") as f:
        nrows, ncols = (int(x) for x in f["X"].attrs["shape"])
    rand_rows = rng.choice(nrows, size=1000, replace=False)
    sorted_rows = np.sort(rand_rows)
    mask = rng.random(nrows) < 0.05
    start = nrows // 3
    c0 = ncols // 2
    sel_dir = os.path.join(DATA, "sel")
    os.makedirs(sel_dir, exist_ok=True)

    def write_sel(name, text):
        p = os.path.join(sel_dir, name)
        with open(p, "w") as fh:
            fh.write(text)
        return "@" + p

    cases = [
        ("rows block 1000 (a:a+1000)", ["--rows", f"{start}:{start + 1000}"],
         lambda ds: ds[start:start + 1000], reps),
        ("1000 random rows, sorted", ["--rows", write_sel("sorted.txt", ",".join(map(str, sorted_rows)))],
         lambda ds: ds[sorted_rows], reps),
        ("1000 random rows, unsorted", ["--rows", write_sel("unsorted.txt", ",".join(map(str, rand_rows)))],
         None, reps),
        (f"bool row mask ({int(mask.sum())} rows)",
         ["--rows", write_sel("mask.txt", "mask:" + "".join("1" if b else "0" for b in mask))],
         lambda ds: ds[mask], reps),
        (f"100 columns ({c0}:{c0 + 100})", ["--cols", f"{c0}:{c0 + 100}"],
         lambda ds: ds[:, c0:c0 + 100], max(1, reps // 2)),
        ("full load", [], lambda ds: ds[:], max(1, reps // 2)),
    ]

    def unsorted(ds):
        # anndata's backed fancy indexing wants increasing indices: sort, read, reorder back.
        order = np.argsort(rand_rows)
        sub = ds[rand_rows[order]]
        inv = np.empty_like(order)
        inv[order] = np.arange(order.size)
        return sub[inv]

    f = h5py.File(path, "r")
    ds = sparse_dataset(f["X"])
    ratios = []
    out_mtx = os.path.join(DATA, "out.mtx")
    for name, args, fn, n in cases:
        fn = fn or unsorted
        # ours: timing + peak RSS + output (printed once) in one process
        with open(out_mtx, "w") as fh:
            _, err, rss = timed_child([CLI, "slice", path, "/X", *args, "--repeat", str(n)], stdout=fh)
        js = json.loads([ln for ln in err.splitlines() if ln.startswith("{")][-1])
        ours = js["median_s"]
        # theirs: one verification run under tracemalloc (memory), then n timed runs
        tracemalloc.start()
        ref = fn(ds)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        a, b = checksum_mtx(out_mtx), checksum_csr(ref)
        if not same(a, b):
            raise SystemExit(f"MISMATCH in '{name}': ours {a} vs anndata {b}")
        if js["nnz"] != b[0]:
            raise SystemExit(f"nnz mismatch in '{name}': {js['nnz']} vs {b[0]}")
        del ref
        ts = []
        for _ in range(n):
            t = time.perf_counter()
            fn(ds)
            ts.append(time.perf_counter() - t)
        theirs = median(ts)
        add("sparse", name, ours, theirs, rss, peak / 2**20, f"nnz={b[0]}, n={n}, verified")
        ratios.append(theirs / ours)
    f.close()
    os.remove(out_mtx)
    return math.exp(sum(math.log(r) for r in ratios) / len(ratios))


# ---------------------------------------------------------------------------------------
# 2. dense chunked
# ---------------------------------------------------------------------------------------

def make_dense(path, n):
    log(f"generating {path}: {n} f64, chunked gzip (h5py auto chunks)")
    t = time.perf_counter()
    rng = np.random.default_rng(2)
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        d = f.create_dataset("x", shape=(n,), dtype="f8", compression="gzip", chunks=(1 << 16,))
        step = 1 << 23
        for s in range(0, n, step):
            e = min(n, s + step)
            # smooth signal rounded to 3 decimals plus sparse noise: compressible like real data
            x = np.round(np.sin(np.arange(s, e) * 1e-4) * 100 + rng.integers(0, 4, e - s), 3)
            d[s:e] = x
    os.replace(tmp, path)
    log(f"  done in {time.perf_counter() - t:.1f} s, {os.path.getsize(path) / 2**20:.0f} MiB")


def bench_dense(path, n, reps):
    rng = np.random.default_rng(3)
    starts = np.sort(rng.choice(n - 100, size=1000, replace=False))
    lens = rng.integers(1, 101, size=1000)
    ranges_file = os.path.join(DATA, "dense_ranges.txt")
    with open(ranges_file, "w") as fh:
        for s, ln in zip(starts, lens):
            fh.write(f"{s} {s + ln}\n")

    def ours(op_args, r):
        out, _, rss = timed_child([READ_EX, path, "x", *op_args, "--repeat", str(r)])
        return json.loads(out.strip().splitlines()[-1]), rss

    # full read
    js, rss = ours(["--full"], reps)
    ts, peak, total = [], 0, None
    for i in range(reps):
        if i == 0:
            tracemalloc.start()
        t = time.perf_counter()
        with h5py.File(path, "r") as f:
            v = f["x"][:]
        ts.append(time.perf_counter() - t)
        if i == 0:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        total = float(v.sum())
        del v
    if js["elems"] != n or not math.isclose(js["sum"], total, rel_tol=1e-9):
        raise SystemExit(f"dense full MISMATCH: {js} vs {total}")
    add("dense", f"full read ({n:.0e} f64, gzip)", js["median_s"], median(ts), rss, peak / 2**20,
        f"n={reps}, verified")
    # Reference for the full read: only inflating the stored chunks (already in memory) on every
    # core. "ours" here is that baseline; the note gives the full read's share of it.
    base, _ = ours(["--inflate-only"], reps)
    add("dense", "inflate-only baseline (all cores, chunks in memory)", base["median_s"],
        median(ts), float("nan"), float("nan"),
        f"threads={base['threads']}; our full read runs at "
        f"{100 * base['median_s'] / js['median_s']:.0f}% of this inflate speed")

    # 1000 random ranges (each repetition reopens the file: cold chunk caches on both sides)
    r = reps * 2
    js, rss = ours(["--ranges", ranges_file], r)
    ts, peak = [], 0
    for i in range(r):
        if i == 0:
            tracemalloc.start()
        t = time.perf_counter()
        with h5py.File(path, "r") as f:
            d = f["x"]
            parts = [d[s:s + ln] for s, ln in zip(starts, lens)]
        ts.append(time.perf_counter() - t)
        if i == 0:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    v = np.concatenate(parts)
    if js["elems"] != v.size or not math.isclose(js["sum"], float(v.sum()), rel_tol=1e-9):
        raise SystemExit(f"dense ranges MISMATCH: {js} vs {v.size} {v.sum()}")
    add("dense", "1000 random ranges (1-100 elems)", js["median_s"], median(ts), rss, peak / 2**20,
        f"n={r}, verified")


# ---------------------------------------------------------------------------------------
# 3. writing
# ---------------------------------------------------------------------------------------

def h5py_write(path, n, gzip, chunk, idx_dtype, ptr_dtype):
    kw = dict(compression="gzip", compression_opts=gzip, shuffle=True) if gzip is not None else {}
    block = 100
    cols = np.tile(np.arange(n, dtype=idx_dtype), block)
    ones = np.ones(block * n, dtype=np.float64)
    with h5py.File(path, "w") as f:
        g = f.create_group("X")
        g.attrs["encoding-type"] = "csr_matrix"
        g.attrs["encoding-version"] = "0.1.0"
        g.attrs["shape"] = np.array([n, n], dtype=np.int64)
        nnz = n * n
        d = g.create_dataset("data", shape=(nnz,), dtype="f8", chunks=(min(chunk, nnz),), **kw)
        ix = g.create_dataset("indices", shape=(nnz,), dtype=idx_dtype, chunks=(min(chunk, nnz),), **kw)
        for r0 in range(0, n, block):
            s = r0 * n
            d[s:s + block * n] = ones
            ix[s:s + block * n] = cols
        g.create_dataset("indptr", data=(np.arange(n + 1, dtype=np.int64) * n).astype(ptr_dtype),
                         chunks=(min(chunk, n + 1),), **kw)


def bench_write(n, chunk):
    for gzip in (1, None):
        tag = "gzip 1 + shuffle" if gzip is not None else "uncompressed"
        ours_path = os.path.join(DATA, "w_ours.h5")
        theirs_path = os.path.join(DATA, "w_h5py.h5")
        args = [WRITE_EX, ours_path, "--n", str(n), "--chunk-elems", str(chunk)]
        if gzip is not None:
            args += ["--gzip", str(gzip), "--shuffle"]
        out, _, rss = timed_child(args)
        js = json.loads(out.strip().splitlines()[-1])
        with h5py.File(ours_path, "r") as f:
            g = f["X"]
            idx_dtype, ptr_dtype = g["indices"].dtype, g["indptr"].dtype
            # verify what we wrote through libhdf5
            ok = (tuple(g.attrs["shape"]) == (n, n) and g["data"].shape == (n * n,)
                  and float(g["data"][-1000:].sum()) == 1000.0
                  and int(g["indptr"][-1]) == n * n and int(g["indices"][n - 1]) == n - 1)
        if not ok:
            raise SystemExit(f"our written file fails verification ({tag})")
        # h5py in its own process too, so both peak RSS figures are whole-process maxima
        code = (f"import sys, time; sys.path.insert(0, {HERE!r}); import run; t = time.perf_counter(); "
                f"run.h5py_write({theirs_path!r}, {n}, {gzip!r}, {chunk}, '{idx_dtype.str}', '{ptr_dtype.str}'); "
                f"print(time.perf_counter() - t)")
        out2, _, their_rss = timed_child([sys.executable, "-c", code])
        ts = [float(out2.strip().splitlines()[-1])]
        our_mib = js["bytes"] / 2**20
        their_mib = os.path.getsize(theirs_path) / 2**20
        add("write", f"{n}x{n} all-ones CSR, {tag}", js["seconds"], median(ts), rss, their_rss,
            f"files {our_mib:.0f} / {their_mib:.0f} MiB, verified via h5py; their mem = h5py process max RSS")
        os.remove(ours_path)
        os.remove(theirs_path)


# ---------------------------------------------------------------------------------------

def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for ln in fh:
                if ln.startswith("model name"):
                    cpu = ln.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            mem = f"{int(fh.readline().split()[1]) / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"nproc={os.cpu_count()}, CPU {cpu}, {mem}, {platform.system()} {platform.release()}"


def table():
    head = ("| case | operation | ours (s) | h5py/anndata (s) | speedup (theirs/ours) "
            "| our peak RSS (MiB) | their peak alloc (MiB) | note |")
    lines = [head, "|" + "---|" * 8]
    for c, op, o, t, r, rss, mem, note in ROWS:
        lines.append(f"| {c} | {op} | {o:.4f} | {t:.4f} | {r:.2f} | {rss:.1f} | {mem:.1f} | {note} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (CI smoke run)")
    ap.add_argument("--no-build", action="store_true", help="do not run cargo build --release")
    ap.add_argument("--regen", action="store_true", help="regenerate the input files")
    ap.add_argument("--only", choices=["sparse", "dense", "write"], action="append")
    ap.add_argument("--nnz", type=int, help="stored values of the sparse input (default 2e7; "
                    "the issue's target is 1e8, which takes much longer to generate and verify)")
    a = ap.parse_args()
    os.makedirs(DATA, exist_ok=True)
    t0 = time.perf_counter()
    if not a.no_build:
        log("building (release) ...")
        subprocess.run(["cargo", "build", "--release", "-p", "h5sparse-cli",
                        "-p", "h5format", "--example", "bench_read"], cwd=ROOT, check=True)
        subprocess.run(["cargo", "build", "--release", "-p", "h5sparse", "--example", "bench_write"],
                       cwd=ROOT, check=True)
        subprocess.run(["cargo", "build", "--release", "-p", "h5sparse-cli"], cwd=ROOT, check=True)
    if a.quick:
        sp_shape, sp_nnz, dense_n, write_n, reps = (20_000, 5_000, 2_000_000), 2_000_000, 20_000_000, 3_000, 3
        sp_shape = (sp_shape[0], sp_shape[1])
    else:
        sp_shape, sp_nnz, dense_n, write_n, reps = (100_000, 20_000), 20_000_000, 100_000_000, 10_000, 5
    if a.nnz:
        sp_nnz = a.nnz
    only = set(a.only or ["sparse", "dense", "write"])
    geo = None
    sizes = []
    if "sparse" in only:
        sp_path = os.path.join(DATA, f"sparse_{sp_shape[0]}x{sp_shape[1]}_{sp_nnz}.h5")
        if a.regen or not os.path.exists(sp_path):
            (make_sparse_streamed if sp_nnz >= 50_000_000 else make_sparse)(
                sp_path, sp_shape[0], sp_shape[1], sp_nnz)
        how = ("h5py, streamed like anndata writes it" if sp_nnz >= 50_000_000
               else "anndata.io.write_elem, dataset_kwargs compression='gzip'")
        with h5py.File(sp_path, "r") as f:
            d = f["X/data"]
            sizes.append(f"sparse: {sp_shape[0]}x{sp_shape[1]} CSR, nnz={d.shape[0]}, data {d.dtype}, "
                         f"indices {f['X/indices'].dtype}, gzip level {d.compression_opts}, chunks {d.chunks} "
                         f"({how}), "
                         f"{os.path.getsize(sp_path) / 2**20:.0f} MiB on disk")
        log("1. sparse selections")
        geo = bench_sparse(sp_path, a.quick, reps)
    if "dense" in only:
        d_path = os.path.join(DATA, f"dense_{dense_n}.h5")
        if a.regen or not os.path.exists(d_path):
            make_dense(d_path, dense_n)
        sizes.append(f"dense: {dense_n} f64, chunks of 65536, gzip level 4, "
                     f"{os.path.getsize(d_path) / 2**20:.0f} MiB on disk")
        log("2. dense chunked reads")
        bench_dense(d_path, dense_n, max(2, reps // 2))
    if "write" in only:
        sizes.append(f"write: {write_n}x{write_n} all-ones CSR ({write_n**2} f64 values), "
                     f"chunks of {1 << 18} elements, streamed in blocks of 100 rows on both sides")
        log("3. writing")
        bench_write(write_n, 1 << 18)
    total = time.perf_counter() - t0
    tab = table()
    extra = []
    if geo is not None:
        extra.append(f"Geometric mean of the sparse-selection speedups (anndata time / our time): **{geo:.2f}x**")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    versions = (f"h5py {h5py.__version__} (HDF5 {h5py.version.hdf5_version}), "
                f"anndata {getattr(anndata, '__version__', '?')}, numpy {np.__version__}, scipy {scipy.__version__}")
    md = "\n".join([
        f"# Benchmark results{' (--quick)' if a.quick else ''}",
        "",
        f"Date: {now}. Machine: {machine()}.",
        f"Versions: {versions}. Our side: release build of this workspace.",
        "",
        "Inputs:",
        *[f"- {s}" for s in sizes],
        "",
        tab,
        "",
        *extra,
        "",
        "Speedup > 1 means we are faster. Times are medians of n runs. Our peak RSS is the whole "
        "process's max RSS (`/usr/bin/time -f %M`, includes writing the MatrixMarket output once "
        "for sparse cases); theirs is the tracemalloc peak of one run (Python/numpy allocations only, "
        "excluding libhdf5's own buffers and the interpreter).",
        f"Total benchmark wall time: {total:.0f} s.",
        "",
    ])
    print(md)
    if not a.only:
        with open(os.path.join(HERE, "results.md" if not a.quick else "results-quick.md"), "w") as fh:
            fh.write(md)


if __name__ == "__main__":
    main()
