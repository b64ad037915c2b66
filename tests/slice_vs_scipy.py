"""Compare `h5sparse slice` with scipy on every sparse group of the committed fixtures.

Usage: python3 tests/slice_vs_scipy.py BINARY
For each sparse group (anndata csr/csc, legacy h5sparse, 10x), a set of selections of every
kind on both axes is applied by scipy (after loading the matrix with h5py) and by our binary;
the MatrixMarket output must hold exactly scipy's entries (as a multiset of (row, col, value))
and shape. Exit status 1 with a list of mismatches otherwise.
"""
import collections, io, os, subprocess, sys
import h5py, numpy as np, scipy.sparse as sp, scipy.io as sio

BIN = sys.argv[1]
TD = os.path.join(os.path.dirname(__file__), "..", "testdata")


def groups():
    for fn in sorted(os.listdir(TD)):
        if not fn.endswith((".h5", ".h5ad")):
            continue
        path = os.path.join(TD, fn)
        with h5py.File(path, "r") as f:
            found = []

            def visit(name, obj):
                if isinstance(obj, h5py.Group) and "indptr" in obj and "indices" in obj:
                    found.append("/" + name)
            f.visititems(visit)
        for g in found:
            yield path, g


def load(path, g):
    with h5py.File(path, "r") as f:
        grp = f[g]
        a = dict(grp.attrs)
        if "encoding-type" in a:
            fmt = a["encoding-type"][:3]
            shape = tuple(int(x) for x in a["shape"])
        elif "h5sparse_format" in a:
            fmt = a["h5sparse_format"]
            fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
            shape = tuple(int(x) for x in a["h5sparse_shape"])
        else:  # 10x: CSC of (features, barcodes)
            fmt, shape = "csc", tuple(int(x) for x in grp["shape"][()])
        parts = (grp["data"][()], grp["indices"][()], grp["indptr"][()])
        m = (sp.csr_matrix if fmt == "csr" else sp.csc_matrix)(parts, shape=shape)
        return m


def sels(n, rng):
    out = [None, ":", "::2", "-3:", f"{n - 1}:0:-1", "1:-1:3"]
    if n > 0:
        lst = rng.integers(-n, n, size=min(7, 2 * n))
        out.append(",".join(str(x) for x in lst))
        mask = rng.integers(0, 2, size=n)
        out.append("mask:" + "".join(str(x) for x in mask))
    return out


def apply(sel, n):
    if sel is None:
        return np.arange(n)
    if sel.startswith("mask:"):
        return np.flatnonzero(np.array([c == "1" for c in sel[5:]]))
    if ":" in sel:
        parts = [int(p) if p else None for p in sel.split(":")]
        return np.arange(n)[slice(*parts)]
    return np.array([int(x) % n for x in sel.split(",")], dtype=np.int64)


def entries(m):
    c = m.tocoo()
    return collections.Counter(zip(c.row.tolist(), c.col.tolist(), c.data.tolist()))


def main():
    rng = np.random.default_rng(7)
    bad, n_ok = [], 0
    for path, g in groups():
        m = load(path, g)
        nr, nc = m.shape
        cases = [(r, None) for r in sels(nr, rng)] + [(None, c) for c in sels(nc, rng)]
        cases += [(sels(nr, rng)[-2], sels(nc, rng)[-1])] if nr and nc else []
        for rows, cols in cases:
            args = [BIN, "slice", path, g]
            if rows is not None:
                args += ["--rows", rows]
            if cols is not None:
                args += ["--cols", cols]
            p = subprocess.run(args, capture_output=True, text=True)
            want = m.tocsr()[apply(rows, nr)][:, apply(cols, nc)]
            if p.returncode != 0:
                bad.append(f"{os.path.basename(path)}{g} rows={rows} cols={cols}: exit {p.returncode}: {p.stderr.strip()}")
                continue
            got = sio.mmread(io.StringIO(p.stdout))
            got = sp.coo_matrix(got) if not sp.issparse(got) else got
            # f4 data is printed at its own precision: compare in the stored type.
            got = got.astype(want.dtype)
            if got.shape != want.shape or entries(got) != entries(want):
                bad.append(f"{os.path.basename(path)}{g} rows={rows} cols={cols}: shape {got.shape} vs {want.shape}, nnz {got.nnz} vs {want.nnz}")
                continue
            n_ok += 1
    print(f"{n_ok} selections equal to scipy, {len(bad)} different")
    for b in bad:
        print("MISMATCH", b)
    sys.exit(1 if bad or n_ok == 0 else 0)


main()
