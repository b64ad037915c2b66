#!/usr/bin/env python3
"""Generate the real-size inputs of issue 11, streamed (< 2 GiB of memory), reproducibly.

Usage: python3 bench/gen_issue11.py [--out DIR] [--only NAME[,NAME...]] [--rows N] [--force]

Files (default directory /work/benchdata, see bench/README.md):
  large-gzip.h5ad  200,000 x 30,000 CSR, 400,945,000 stored values: float32 integer counts,
                   int32 indices, int64 indptr, written in anndata 0.12's layout as
                   `anndata.io.write_elem(f, "X", m, dataset_kwargs=dict(compression="gzip"))`
                   lays it out: `maxshape=(None,)`, h5py's automatic chunk shape (48,944
                   elements for data/indices), gzip level 4, no shuffle;
  large-raw.h5ad   the same matrix written without compression (anndata's default: still
                   chunked with `maxshape=(None,)`, no filters);
  large-csc.h5ad   its CSC copy (`h5sparse convert`, gzip level 4, 48,944-element chunks),
                   made from large-gzip.h5ad when the `h5sparse` binary is built;
  ones-raw.h5ad    the notebook's 10,000 x 10,000 all-ones CSR matrix (10^8 float64 values,
                   int32 indices and indptr, as scipy makes it), anndata layout, no compression;
  ones-gzip.h5ad   the same with compression="gzip".

Every .h5ad is a complete AnnData file (`anndata.read_h5ad(..., backed="r")` opens it): the
skeleton (obs, var, ...) is written by anndata itself, `X` is first written by
`anndata.io.write_elem` from a small matrix of the right dtypes (so the group attributes are
anndata's own) and then its three datasets are re-created at full size with the options
`write_elem` would pass and filled block by block, each block a whole number of chunks.

The matrix: row nnz lognormal (median 1,800, sigma 0.459, so the mean is 2,005), scaled to the
exact total; each row's columns are a weighted sample without replacement (Efraimidis-Spirakis,
exponential keys) from Zipf-like column popularity 1/(rank+1) over a fixed random permutation of
the columns; values geometric (p = 0.45, so 45 % are 1). Block b of rows uses numpy's default_rng([SEED, b]), so
every file (and a rerun) has the same matrix.
"""
import argparse
import os
import subprocess
import sys
import time
import warnings

import h5py
import numpy as np
from h5py._hl.filters import guess_chunk

warnings.filterwarnings("ignore")
import anndata  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from anndata.io import write_elem  # noqa: E402

SEED = 20261205
N_ROWS = 200_000
N_COLS = 30_000
NNZ = 400_945_000  # h5py's automatic chunking gives 48,944-element chunks at this size
BLOCK_ROWS = 500
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLI = os.path.join(ROOT, "target", "release", "h5sparse")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def row_counts(n_rows, n_cols, nnz):
    """Lognormal row nnz (median 1,800) scaled to sum exactly to nnz."""
    rng = np.random.default_rng([SEED, 0xC0])
    x = rng.lognormal(np.log(1800.0), 0.459, n_rows)
    x *= nnz / x.sum()
    k = np.floor(x).astype(np.int64)
    rest = nnz - int(k.sum())
    order = np.argsort(-(x - k), kind="stable")
    k[order[:rest]] += 1
    k = np.clip(k, 1, n_cols)
    assert int(k.sum()) == nnz, "row counts do not add up (clipping)"
    return k


def column_weights(n_cols):
    """Zipf-like popularity 1/(rank+1), ranks over a fixed random permutation of the columns."""
    rng = np.random.default_rng([SEED, 0xC1])
    rank = rng.permutation(n_cols)
    return 1.0 / (rank + 1.0)


def blocks(n_rows, n_cols, counts):
    """Yield (row0, indptr_piece, indices int32, data float32) for each block of rows."""
    inv_w = 1.0 / column_weights(n_cols)
    for b, r0 in enumerate(range(0, n_rows, BLOCK_ROWS)):
        r1 = min(n_rows, r0 + BLOCK_ROWS)
        rng = np.random.default_rng([SEED, 1, b])
        keys = rng.standard_exponential((r1 - r0, n_cols))
        keys *= inv_w
        ks = counts[r0:r1]
        idx = np.empty(int(ks.sum()), dtype=np.int32)
        pos = 0
        for i in range(r1 - r0):
            k = int(ks[i])
            row = keys[i]
            if k >= n_cols:
                cols = np.arange(n_cols)
            else:
                thr = np.partition(row, k - 1)[k - 1]
                cols = np.flatnonzero(row <= thr)
            assert len(cols) == k, "tied keys"
            idx[pos:pos + k] = cols
            pos += k
        data = rng.geometric(0.45, size=len(idx)).astype(np.float32)
        yield r0, ks, idx, data


class Stream:
    """Appends to a fixed-size dataset in whole chunks (the last one may be partial)."""

    def __init__(self, dset):
        self.d = dset
        self.chunk = dset.chunks[0] if dset.chunks else 1 << 20
        self.pos = 0
        self.pending = []
        self.npending = 0

    def add(self, a):
        self.pending.append(a)
        self.npending += len(a)
        if self.npending >= 16 * self.chunk:
            self._flush(final=False)

    def _flush(self, final):
        if not self.pending:
            return
        a = np.concatenate(self.pending)
        n = len(a) if final else (len(a) // self.chunk) * self.chunk
        self.d[self.pos:self.pos + n] = a[:n]
        self.pos += n
        rest = a[n:]
        self.pending = [rest] if len(rest) else []
        self.npending = len(rest)

    def close(self):
        self._flush(final=True)
        assert self.pos == self.d.shape[0], (self.pos, self.d.shape)


def skeleton(path, n_rows, n_cols, dtypes, compression):
    """Write an AnnData file whose X is a small matrix of the given dtypes (anndata's attrs)."""
    obs = pd.DataFrame(index=[str(i) for i in range(n_rows)])
    var = pd.DataFrame(index=[f"g{j}" for j in range(n_cols)])
    anndata.AnnData(obs=obs, var=var).write_h5ad(path)
    tiny = sp.csr_matrix(np.ones((2, 2), dtype=dtypes[0]))
    tiny.indices = tiny.indices.astype(dtypes[1])
    tiny.indptr = tiny.indptr.astype(dtypes[2])
    kw = dict(compression=compression) if compression else {}
    with h5py.File(path, "r+") as f:
        write_elem(f, "X", tiny, dataset_kwargs=kw)


def open_x(path, shape, nnz, dtypes, compression):
    """Re-create X's datasets at full size with the options write_elem passes."""
    f = h5py.File(path, "r+")
    g = f["X"]
    g.attrs["shape"] = np.array(shape, dtype=np.int64)
    out = []
    for name, n, dt in (("data", nnz, dtypes[0]), ("indices", nnz, dtypes[1]),
                        ("indptr", shape[0] + 1, dtypes[2])):
        del g[name]
        kw = dict(compression=compression) if compression else {}
        out.append(g.create_dataset(name, shape=(n,), dtype=dt, maxshape=(None,),
                                    chunks=guess_chunk((n,), (None,), np.dtype(dt).itemsize),
                                    **kw))
    return f, out


def gen_large(out_dir, names, n_rows, nnz):
    shape = (n_rows, N_COLS)
    counts = row_counts(n_rows, N_COLS, nnz)
    dtypes = (np.float32, np.int32, np.int64)
    targets = []
    for name, comp in (("large-gzip.h5ad", "gzip"), ("large-raw.h5ad", None)):
        if name in names:
            path = os.path.join(out_dir, name)
            tmp = path + ".tmp"
            skeleton(tmp, n_rows, N_COLS, dtypes, comp)
            f, ds = open_x(tmp, shape, nnz, dtypes, comp)
            targets.append((path, tmp, f, ds, [Stream(ds[0]), Stream(ds[1]), Stream(ds[2])]))
    if not targets:
        return
    t0 = time.time()
    ptr = 0
    for _, _, _, _, s in targets:
        s[2].add(np.array([0], dtype=np.int64))
    for r0, ks, idx, data in blocks(n_rows, N_COLS, counts):
        piece = ptr + np.cumsum(ks, dtype=np.int64)
        ptr = int(piece[-1])
        for _, _, _, _, s in targets:
            s[0].add(data)
            s[1].add(idx)
            s[2].add(piece)
        if r0 % (40 * BLOCK_ROWS) == 0:
            log(f"  rows {r0:,}/{n_rows:,}  {time.time() - t0:.0f} s")
    assert ptr == nnz
    for path, tmp, f, ds, s in targets:
        for x in s:
            x.close()
        f.close()
        os.replace(tmp, path)
        log(f"wrote {path} ({os.path.getsize(path) / 2**30:.2f} GiB, {time.time() - t0:.0f} s)")


def gen_ones(out_dir, names, n=10_000, block=250):
    shape = (n, n)
    dtypes = (np.float64, np.int32, np.int32)
    for name, comp in (("ones-raw.h5ad", None), ("ones-gzip.h5ad", "gzip")):
        if name not in names:
            continue
        path = os.path.join(out_dir, name)
        tmp = path + ".tmp"
        skeleton(tmp, n, n, dtypes, comp)
        f, ds = open_x(tmp, shape, n * n, dtypes, comp)
        s = [Stream(d) for d in ds]
        cols = np.tile(np.arange(n, dtype=np.int32), block)
        ones = np.ones(n * block)
        s[2].add(np.array([0], dtype=np.int32))
        for r0 in range(0, n, block):
            s[0].add(ones)
            s[1].add(cols)
            s[2].add((np.arange(r0 + 1, r0 + block + 1, dtype=np.int64) * n).astype(np.int32))
        for x in s:
            x.close()
        f.close()
        os.replace(tmp, path)
        log(f"wrote {path} ({os.path.getsize(path) / 2**30:.2f} GiB)")


def gen_csc(out_dir, names):
    if "large-csc.h5ad" not in names:
        return
    src = os.path.join(out_dir, "large-gzip.h5ad")
    path = os.path.join(out_dir, "large-csc.h5ad")
    if not os.path.exists(CLI):
        log(f"skip large-csc.h5ad: build {CLI} first (cargo build --release -p h5sparse-cli)")
        return
    t0 = time.time()
    tmp = path + ".tmp"
    subprocess.run([CLI, "convert", src, "/X", tmp, "--gzip", "4", "--chunk-elems", "48944"],
                   check=True)
    os.replace(tmp, path)
    log(f"wrote {path} ({os.path.getsize(path) / 2**30:.2f} GiB, {time.time() - t0:.0f} s)")


ALL = ["large-gzip.h5ad", "large-raw.h5ad", "ones-raw.h5ad", "ones-gzip.h5ad", "large-csc.h5ad"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/work/benchdata")
    ap.add_argument("--only", default=",".join(ALL))
    ap.add_argument("--rows", type=int, default=N_ROWS, help="fewer rows for a quick test")
    ap.add_argument("--force", action="store_true", help="regenerate existing files")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    names = [x for x in a.only.split(",") if x]
    if not a.force:
        names = [x for x in names if not os.path.exists(os.path.join(a.out, x))]
    nnz = NNZ if a.rows == N_ROWS else NNZ * a.rows // N_ROWS
    gen_ones(a.out, names)
    gen_large(a.out, names, a.rows, nnz)
    gen_csc(a.out, names)


if __name__ == "__main__":
    main()
