#!/usr/bin/env python3
"""Generate the issue-11 benchmark inputs (streamed: a few hundred MiB of memory at most).

    python3 bench/gen_large.py [--out bench/data/large] [--nnz 400000000]

- large_gzip.h5ad: a 200,000 x 30,000 CSR matrix with ~4*10^8 stored values, like a real
  single-cell count matrix: float32 integer counts, int32 indices, int64 indptr; row nnz
  lognormal (median ~1,800), column popularity Zipf-like; in anndata 0.12's layout of `X`
  (`write_elem(..., dataset_kwargs=dict(compression="gzip"))`: gzip level 4, h5py's automatic
  chunk size for the final length, default libver -> v1 B-tree chunk index).
- large_raw.h5ad: the same matrix uncompressed (contiguous datasets, as anndata writes
  without compression).
- large_csc.h5ad: its CSC copy (made by `h5sparse convert`, gzip 4, anndata encoding).
- ones_raw.h5ad / ones_gzip.h5ad: the 2017 notebook's 10,000 x 10,000 all-ones matrix
  (10^8 float64 values, int32 indices, int64 indptr), uncompressed and gzip.
Fixed seeds: the same files every time. Each file is written to a temporary name first.
"""
import argparse
import os
import subprocess
import sys
import time

import h5py
import numpy as np
from h5py._hl.filters import guess_chunk

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def root_attrs(f):
    f.attrs["encoding-type"] = "anndata"
    f.attrs["encoding-version"] = "0.1.0"


def group_attrs(g, fmt, shape):
    g.attrs["encoding-type"] = f"{fmt}_matrix"
    g.attrs["encoding-version"] = "0.1.0"
    g.attrs["shape"] = np.array(shape, dtype=np.int64)


def row_blocks(nrows, ncols, nnz, seed, block=1000):
    """Yield (r0, counts, cols, vals) blocks of rows, deterministic for the seed."""
    rng = np.random.default_rng(seed)
    mean = nnz / nrows
    sigma = 0.46  # lognormal: mean = median * exp(sigma^2 / 2)
    mu = np.log(mean) - sigma * sigma / 2
    # Zipf-like column popularity over a random permutation of the columns.
    pop = 1.0 / (np.arange(ncols) + 50.0) ** 0.9
    cdf = np.cumsum(pop[rng.permutation(ncols)])
    cdf /= cdf[-1]
    # Drawing with replacement then dropping repeats loses some draws: oversample by the
    # ratio measured on a first block so that the total lands near nnz.
    over = 1.0
    for r0 in range(0, nrows, block):
        r1 = min(nrows, r0 + block)
        want = np.minimum(rng.lognormal(mu, sigma, r1 - r0), ncols * 0.6).astype(np.int64)
        draws = np.maximum((want * over).astype(np.int64), 1)
        rows = np.repeat(np.arange(r1 - r0, dtype=np.int64), draws)
        cols = np.searchsorted(cdf, rng.random(rows.size)).astype(np.int64)
        key = np.unique(rows * ncols + cols)
        if r0 == 0:
            over = draws.sum() / key.size
        rr = key // ncols
        cc = (key % ncols).astype(np.int32)
        counts = np.bincount(rr, minlength=r1 - r0)
        vals = rng.geometric(0.4, size=cc.size).astype(np.float32)
        yield r0, counts, cc, vals


def write_streamed(path, nrows, ncols, nnz, seed, compress):
    log(f"generating {path}: {nrows} x {ncols}, ~{nnz} nnz, {'gzip 4' if compress else 'raw'}")
    t = time.perf_counter()
    tmp = path + ".tmp"
    chunk = guess_chunk((nnz,), None, 4)
    with h5py.File(tmp, "w") as f:
        root_attrs(f)
        g = f.create_group("X")
        group_attrs(g, "csr", (nrows, ncols))
        kw = dict(compression="gzip", compression_opts=4) if compress else {}
        dd = g.create_dataset("data", (0,), dtype=np.float32, chunks=chunk, maxshape=(None,), **kw)
        di = g.create_dataset("indices", (0,), dtype=np.int32, chunks=chunk, maxshape=(None,), **kw)
        indptr = np.zeros(nrows + 1, dtype=np.int64)
        total = 0
        for r0, counts, cc, vals in row_blocks(nrows, ncols, nnz, seed):
            n = cc.size
            dd.resize((total + n,))
            dd[total:] = vals
            di.resize((total + n,))
            di[total:] = cc
            indptr[r0 + 1:r0 + 1 + counts.size] = total + np.cumsum(counts)
            total += n
        g.create_dataset("indptr", data=indptr, **kw)
    os.replace(tmp, path)
    log(f"  nnz={total}, {time.perf_counter() - t:.0f} s, {os.path.getsize(path) / 2**20:.0f} MiB")


def copy_raw(src, path):
    """The same matrix with contiguous, uncompressed datasets (anndata's layout without
    compression), copied block by block."""
    log(f"generating {path} (uncompressed copy of {os.path.basename(src)})")
    t = time.perf_counter()
    tmp = path + ".tmp"
    with h5py.File(src, "r") as s, h5py.File(tmp, "w") as f:
        root_attrs(f)
        g = f.create_group("X")
        for k, v in s["X"].attrs.items():
            g.attrs[k] = v
        for name in ("data", "indices", "indptr"):
            sd = s["X"][name]
            d = g.create_dataset(name, shape=sd.shape, dtype=sd.dtype)
            step = 1 << 24
            for a in range(0, sd.shape[0], step):
                d[a:a + step] = sd[a:a + step]
    os.replace(tmp, path)
    log(f"  {time.perf_counter() - t:.0f} s, {os.path.getsize(path) / 2**20:.0f} MiB")


def write_ones(path, n, compress):
    log(f"generating {path}: {n} x {n} all ones, {'gzip 4' if compress else 'raw'}")
    t = time.perf_counter()
    tmp = path + ".tmp"
    nnz = n * n
    with h5py.File(tmp, "w") as f:
        root_attrs(f)
        g = f.create_group("X")
        group_attrs(g, "csr", (n, n))
        kw = dict(compression="gzip", compression_opts=4, chunks=True) if compress else {}
        dd = g.create_dataset("data", (nnz,), dtype=np.float64, **kw)
        di = g.create_dataset("indices", (nnz,), dtype=np.int32, **kw)
        rows = 100
        ones = np.ones(rows * n, dtype=np.float64)
        idx = np.tile(np.arange(n, dtype=np.int32), rows)
        for r0 in range(0, n, rows):
            dd[r0 * n:(r0 + rows) * n] = ones
            di[r0 * n:(r0 + rows) * n] = idx
        g.create_dataset("indptr", data=np.arange(n + 1, dtype=np.int64) * n, **kw)
    os.replace(tmp, path)
    log(f"  {time.perf_counter() - t:.0f} s, {os.path.getsize(path) / 2**20:.0f} MiB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "data", "large"))
    # The target before repeated draws are dropped: ~416e6 draws give ~4.0e8 stored values.
    ap.add_argument("--nnz", type=int, default=416_000_000)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--cols", type=int, default=30_000)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    p = lambda name: os.path.join(a.out, name)  # noqa: E731
    if not os.path.exists(p("large_gzip.h5ad")):
        write_streamed(p("large_gzip.h5ad"), a.rows, a.cols, a.nnz, 11, True)
    if not os.path.exists(p("large_raw.h5ad")):
        copy_raw(p("large_gzip.h5ad"), p("large_raw.h5ad"))
    if not os.path.exists(p("large_csc.h5ad")):
        cli = os.path.join(ROOT, "target", "release", "h5sparse")
        log("generating large_csc.h5ad (h5sparse convert, gzip 4)")
        t = time.perf_counter()
        subprocess.run([cli, "convert", p("large_gzip.h5ad"), "/X", p("large_csc.h5ad.tmp"),
                        "--out-group", "X", "--gzip", "4", "--mem-mib", "1024"], check=True)
        with h5py.File(p("large_csc.h5ad.tmp"), "a") as f:
            root_attrs(f)
        os.replace(p("large_csc.h5ad.tmp"), p("large_csc.h5ad"))
        log(f"  {time.perf_counter() - t:.0f} s")
    if not os.path.exists(p("ones_raw.h5ad")):
        write_ones(p("ones_raw.h5ad"), 10_000, False)
    if not os.path.exists(p("ones_gzip.h5ad")):
        write_ones(p("ones_gzip.h5ad"), 10_000, True)


if __name__ == "__main__":
    main()
