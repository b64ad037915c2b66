#!/usr/bin/env python3
"""The Python package against anndata/h5py on the same files, in the same process and run.

    python3 bench/python_bench.py [--data /work/benchdata] [--reps 3] [--out bench/results-python.md]

Inputs: the issue-11 matrix `large-gzip.h5ad` (4*10^8 nonzeros; made by bench/gen_issue11.py)
for the selections, the dask sum and the threads; a mid-size AnnData file written by anndata
itself (10^5 x 2*10^4, 2*10^7 nonzeros, categorical obs columns; generated once into
bench/data/) for `read_h5ad`. Times are medians of --reps runs; every result is checked equal
(nnz and value sums) before it counts. Needs `pip install ./crates/h5sparse-py`.
"""
import argparse
import os
import resource
import statistics
import sys
import threading
import time
import warnings

import h5py
import numpy as np
import scipy.sparse as sp

warnings.filterwarnings("ignore")
import anndata  # noqa: E402
from anndata.io import sparse_dataset as ad_sparse  # noqa: E402

import h5sparse  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = []


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def timed(fn, reps):
    ts, out = [], None
    for _ in range(reps):
        out = None
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


def interleaved(ours, theirs, reps):
    """Both sides `reps` times, alternating (the machine is shared: load changes within a
    run); medians and the last results."""
    to, tt, o, t = [], [], None, None
    for _ in range(reps):
        o = None
        s = time.perf_counter()
        o = ours()
        to.append(time.perf_counter() - s)
        t = None
        s = time.perf_counter()
        t = theirs()
        tt.append(time.perf_counter() - s)
    return statistics.median(to), o, statistics.median(tt), t


def same(a, b):
    a = a.compute() if hasattr(a, "compute") else a
    b = b.compute() if hasattr(b, "compute") else b
    if sp.issparse(a):
        return a.shape == b.shape and a.nnz == b.nnz and np.isclose(a.sum(), b.sum())
    return np.allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), rtol=1e-5)


def add(case, ours, theirs, ok, note=""):
    ROWS.append((case, ours, theirs, theirs / ours, ok, note))
    log(f"{case}: ours {ours:.4f}s theirs {theirs:.4f}s ratio {theirs / ours:.2f}x {'ok' if ok else 'MISMATCH'}")


def medium_h5ad(path):
    if os.path.exists(path):
        return
    import pandas as pd
    log(f"generating {path} with anndata")
    rng = np.random.default_rng(3)
    n, m, nnz = 100_000, 20_000, 20_000_000
    rows = np.sort(rng.integers(0, n, nnz))
    cols = rng.integers(0, m, nnz).astype(np.int32)
    x = sp.csr_matrix((rng.geometric(0.3, nnz).astype(np.float32), (rows, cols)), shape=(n, m))
    x.sum_duplicates()
    obs = pd.DataFrame({
        "cell_type": pd.Categorical(rng.choice(["B", "T", "NK", "mono"], n)),
        "n_genes": np.diff(x.indptr).astype(np.int64),
        "score": rng.random(n),
    }, index=[f"cell{i}" for i in range(n)])
    var = pd.DataFrame({"gene_ids": [f"ENSG{i:08d}" for i in range(m)]},
                       index=[f"gene{i}" for i in range(m)])
    a = anndata.AnnData(X=x, obs=obs, var=var, obsm={"X_pca": rng.random((n, 20), dtype=np.float32)})
    os.makedirs(os.path.dirname(path), exist_ok=True)
    a.write_h5ad(path + ".tmp", compression="gzip")
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/benchdata")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(HERE, "results-python.md"))
    a = ap.parse_args()
    big = os.path.join(a.data, "large-gzip.h5ad")
    med = os.path.join(HERE, "data", "py_medium.h5ad")
    medium_h5ad(med)
    t0 = time.time()

    # read_h5ad
    load0 = os.getloadavg()[0]
    t_ours, ours, t_theirs, theirs = interleaved(lambda: h5sparse.read_h5ad(med),
                                                 lambda: anndata.read_h5ad(med), max(a.reps, 5))
    add("read_h5ad (1e5 x 2e4, 2e7 nnz, gzip)", t_ours, t_theirs, same(ours.X, theirs.X)
        and ours.obs.equals(theirs.obs))
    del ours, theirs

    hf = h5py.File(big)
    ref = ad_sparse(hf["X"])
    m = h5sparse.sparse_dataset(h5sparse.File(big)["X"])
    n, ncols = m.shape
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(n, 1000, replace=False))
    unsorted = rng.permutation(rows)
    mask = rng.random(n) < 0.05
    cases = [
        ("1,000 contiguous rows", lambda: m[50_000:51_000], lambda: ref[50_000:51_000]),
        ("1,000 random rows, sorted", lambda: m[rows], lambda: ref[rows]),
        ("1,000 random rows, unsorted", lambda: m[unsorted],
         lambda: ref[np.sort(unsorted)][np.argsort(np.argsort(unsorted))]),
        ("bool row mask (5%)", lambda: m[mask], lambda: ref[mask]),
        ("100 columns (minor axis)", lambda: m[:, 10_000:10_100], lambda: ref[:, 10_000:10_100]),
    ]
    for name, ours_fn, theirs_fn in cases:
        reps = 1 if "columns" in name else a.reps
        t_ours, o, t_theirs, t = interleaved(ours_fn, theirs_fn, reps)
        add(f"4e8 gzip: {name}", t_ours, t_theirs, same(o, t), f"nnz={o.nnz}")

    # dask sum over the whole matrix, same scheduler (threads) on both sides.
    import dask
    from anndata.experimental import read_elem_lazy

    def block_sum(b):
        return np.asarray(b.sum(axis=0)).reshape(1, -1)

    def ours_sum():
        x = m.to_dask()
        return x.map_blocks(block_sum, chunks=(1, ncols), dtype=np.float64).sum(axis=0).compute()

    def theirs_sum():
        x = read_elem_lazy(hf["X"])
        return x.map_blocks(block_sum, chunks=(1, ncols), dtype=np.float64).sum(axis=0).compute()

    with dask.config.set(scheduler="threads"):
        t_ours, o = timed(ours_sum, 1)
        t_theirs, t = timed(theirs_sum, 1)
    add("4e8 gzip: dask sum(axis=0), threaded scheduler", t_ours, t_theirs, same(o, t))

    # 4 threads, each reading its own 250 random rows at once.
    parts = np.array_split(rows, 4)

    def threads(fn):
        out = [None] * 4
        ts = [threading.Thread(target=lambda k=k: out.__setitem__(k, fn(parts[k]))) for k in range(4)]
        for th in ts:
            th.start()
        for th in ts:
            th.join()
        return out

    t_ours, o, t_theirs, t = interleaved(lambda: threads(lambda r: m[r]),
                                         lambda: threads(lambda r: ref[r]), a.reps)
    add("4e8 gzip: 4 threads x 250 random rows", t_ours, t_theirs,
        all(same(x, y) for x, y in zip(o, t)))

    lines = [
        "# Python package vs anndata/h5py (`python3 bench/python_bench.py`)",
        "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; 2 cores; "
        f"h5py {h5py.__version__}, anndata {anndata.__version__}, dask {dask.__version__}. "
        f"Medians of {a.reps} runs ({max(a.reps, 5)} for read_h5ad, 1 for the column slice and the "
        f"dask sum), ours and theirs alternating. Wall {time.time() - t0:.0f} s.",
        "",
        f"Load average {load0:.1f} at "
        f"the start, {os.getloadavg()[0]:.1f} at the end, on 2 cores (above ~1: other work shared "
        "the machine and absolute times are noisy); "
        "the ratios compare the two sides measured alternately in the same process. Peak RSS of "
        f"the whole process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB.",
        "",
        "| operation | h5sparse (s) | anndata/h5py (s) | speedup | equal | note |",
        "|---|---|---|---|---|---|",
    ]
    for case, o, t, r, ok, note in ROWS:
        lines.append(f"| {case} | {o:.4f} | {t:.4f} | {r:.2f}x | {'yes' if ok else 'NO'} | {note} |")
    text = "\n".join(lines) + "\n"
    print(text)
    with open(a.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
