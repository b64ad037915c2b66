#!/usr/bin/env python3
"""One element of a large .h5ad changed in place: our editor vs anndata vs h5py r+.

    python3 bench/h5ad_edit.py [--data /work/benchdata/large-gzip.h5ad] [--skip-full]

The input is COPIED to a temporary file next to the repository (never modified). Two
operations, each on its own fresh copy per method:
  obs column  add a categorical obs column (n_obs values, 12 categories)
  layer       add a CSR layer of shape (n_obs, n_vars) with 2,000,000 float32 nonzeros
Methods, each in its own Python process:
  ours        h5sparse.write_element(path, key, value)  (crates/h5sparse-py, release build;
              one in-place commit: new element appended, parent header rewritten; fsync
              after each step of the commit; also with fsync=False, as h5py and anndata do)
  h5py r+     the same element written by hand with h5py in r+ mode (datasets, encoding
              attributes, and column-order for the column)
  anndata backed  read_h5ad(path, backed="r+"), set the element, adata.write()  (anndata
              rewrites every element but X in the same file)
  anndata full    read_h5ad(path) whole, set the element, write_h5ad(new path,
              compression="gzip")  (obs column only; --skip-full leaves it out)
Reported: seconds of the operation inside the process (imports and building the value
excluded), bytes the process wrote (/proc/self/io wchar), file growth, peak RSS of the
process (/usr/bin/time). The package must be importable: by default from
target/pyinstall (`pip install --no-deps --target target/pyinstall ./crates/h5sparse-py`).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

COMMON = r"""
import json, os, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np, scipy.sparse as sp, pandas as pd, h5py
path, op, method = sys.argv[1], sys.argv[2], sys.argv[3]
with h5py.File(path, "r") as f:
    n_obs = f["obs/_index"].shape[0]; n_vars = f["var/_index"].shape[0]
rng = np.random.default_rng(0)
if op == "column":
    labels = np.array([f"type{i}" for i in range(12)], dtype=object)
    value = pd.Categorical.from_codes(rng.integers(0, 12, n_obs).astype("i1"), categories=labels)
else:
    nnz = 2_000_000
    rows = np.sort(rng.integers(0, n_obs, nnz)); cols = rng.integers(0, n_vars, nnz)
    value = sp.csr_matrix((rng.random(nnz, dtype="f4"), (rows, cols)), shape=(n_obs, n_vars))
    value.sum_duplicates()
def wchar():
    with open("/proc/self/io") as f:
        return int(dict(l.split(": ") for l in f.read().splitlines())["wchar"])
"""

START = r"""
size0 = os.path.getsize(path)
w0 = wchar(); t0 = time.perf_counter()
"""

OURS = (r"""
import h5sparse
key = "obs/new_type" if op == "column" else "layers/new"
""", r"""
h5sparse.write_element(path, key, value)
""")

OURS_NOSYNC = (OURS[0], r"""
h5sparse.write_element(path, key, value, fsync=False)
""")

H5PY = (r"""
from h5py import string_dtype
""", r"""
with h5py.File(path, "r+") as f:
    def enc(o, t, v):
        o.attrs["encoding-type"] = t; o.attrs["encoding-version"] = v
    if op == "column":
        g = f["obs"].create_group("new_type"); enc(g, "categorical", "0.2.0")
        g.attrs["ordered"] = False
        c = g.create_dataset("codes", data=value.codes); enc(c, "array", "0.2.0")
        cats = g.create_dataset("categories", data=np.asarray(value.categories, dtype=object),
                                dtype=string_dtype()); enc(cats, "string-array", "0.2.0")
        order = [str(x) for x in np.atleast_1d(f["obs"].attrs["column-order"]) if isinstance(x, str)]
        f["obs"].attrs["column-order"] = np.array(order + ["new_type"], dtype=object)
    else:
        g = f["layers"].create_group("new"); enc(g, "csr_matrix", "0.1.0")
        g.attrs["shape"] = np.array(value.shape)
        g.create_dataset("data", data=value.data); g.create_dataset("indices", data=value.indices)
        g.create_dataset("indptr", data=value.indptr)
""")

BACKED = (r"""
import anndata as ad
""", r"""
a = ad.read_h5ad(path, backed="r+")
if op == "column":
    a.obs["new_type"] = value
else:
    a.layers["new"] = value
a.write()
a.file.close()
""")

FULL = (r"""
import anndata as ad
""", r"""
a = ad.read_h5ad(path)
a.obs["new_type"] = value
a.write_h5ad(path + ".full.h5ad", compression="gzip")
""")

END = r"""
t = time.perf_counter() - t0; w = wchar() - w0
out = path + ".full.h5ad"
growth = (os.path.getsize(out) if os.path.exists(out) else os.path.getsize(path)) - size0
print(json.dumps({"seconds": t, "written": w, "growth": growth}))
"""

METHODS = {"ours": OURS, "ours, fsync=False": OURS_NOSYNC, "h5py r+": H5PY, "anndata backed r+": BACKED, "anndata full": FULL}


def run(method, op, src, tmpdir, env):
    path = os.path.join(tmpdir, "work.h5ad")
    shutil.copyfile(src, path)
    setup, body = METHODS[method]
    code = COMMON + setup + START + body + END
    try:
        out = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-c", code, path, op,
                              method], capture_output=True, text=True, env=env, check=True)
    finally:
        for p in (path, path + ".full.h5ad"):
            if os.path.exists(p):
                os.remove(p)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r["rss_kib"] = int(out.stderr.strip().splitlines()[-1])
    return r


def mib(n):
    return f"{n / 2**20:,.1f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/benchdata/large-gzip.h5ad")
    ap.add_argument("--skip-full", action="store_true")
    ap.add_argument("--pythonpath", default=os.path.join(ROOT, "target", "pyinstall"))
    args = ap.parse_args()
    env = dict(os.environ)
    env["PYTHONPATH"] = args.pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    tmpdir = tempfile.mkdtemp(prefix="h5ad-edit-bench-", dir=os.path.join(ROOT, "target"))
    rows = []
    try:
        for op in ("column", "layer"):
            for method in METHODS:
                if method == "anndata full" and (op != "column" or args.skip_full):
                    continue
                r = run(method, op, args.data, tmpdir, env)
                rows.append((op, method, r))
                print(op, method, json.dumps(r), flush=True)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    print()
    print(f"Input: {args.data} ({mib(os.path.getsize(args.data))} MiB), copied per run.")
    print()
    print("| operation | method | seconds | / ours (fsync=False) | MiB written | file growth MiB | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    for op in ("column", "layer"):
        ours = next(r for o, m, r in rows if o == op and m == "ours, fsync=False")
        for o, m, r in rows:
            if o != op:
                continue
            ratio = r["seconds"] / ours["seconds"] if ours["seconds"] else float("nan")
            label = "add categorical obs column" if op == "column" else "add CSR layer (2e6 nnz)"
            print(f"| {label} | {m} | {r['seconds']:.3f} | {ratio:.1f}x | {mib(r['written'])} | "
                  f"{mib(r['growth'])} | {r['rss_kib'] / 1024:,.0f} |")


if __name__ == "__main__":
    main()
