"""`h5sparse concat` / `append` vs anndata.experimental.concat_on_disk, same files, same run.

    python3 bench/concat.py [--nnz 100000000] [--dir /work/benchdata/concat] [--append-rows 100000]

Writes 4 CSR .h5ad inputs holding NNZ nonzeros in total (streamed with h5py, never a whole
matrix in memory), then times each tool in its own process and reports wall time and peak
RSS (wait4's ru_maxrss), and the ratios. Then `append` of APPEND_ROWS rows.
"""
import argparse
import os
import subprocess
import sys
import time

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N_VARS = 20000


def write_input(path, n_obs, nnz, seed, prefix, gzip=None):
    rng = np.random.default_rng(seed)
    per_row = max(1, nnz // n_obs)
    with h5py.File(path, "w") as f:
        f.attrs["encoding-type"] = "anndata"
        f.attrs["encoding-version"] = "0.1.0"
        g = f.create_group("X")
        g.attrs["encoding-type"] = "csr_matrix"
        g.attrs["encoding-version"] = "0.1.0"
        g.attrs["shape"] = (n_obs, N_VARS)
        total = per_row * n_obs
        comp = dict(chunks=(1 << 18,), compression="gzip", compression_opts=gzip) if gzip else {}
        d = g.create_dataset("data", (total,), "f4", **comp)
        ix = g.create_dataset("indices", (total,), "i4", **comp)
        g.create_dataset("indptr", data=np.arange(n_obs + 1, dtype=np.int64) * per_row)
        step = max(1, (1 << 22) // per_row)
        for r0 in range(0, n_obs, step):
            r1 = min(n_obs, r0 + step)
            a, b = r0 * per_row, r1 * per_row
            # strictly increasing columns per row: one in each of per_row equal bins
            width = N_VARS // per_row
            base = np.arange(per_row, dtype=np.int32) * width
            ix[a:b] = (base[None, :] + rng.integers(0, width, (r1 - r0, per_row), dtype=np.int32)).ravel()
            d[a:b] = rng.random(b - a, dtype=np.float32) + 1
        for name, n, pre in [("obs", n_obs, prefix), ("var", N_VARS, "g")]:
            df = f.create_group(name)
            df.attrs["encoding-type"] = "dataframe"
            df.attrs["encoding-version"] = "0.2.0"
            df.attrs["_index"] = "_index"
            df.attrs.create("column-order", np.array([], dtype=h5py.string_dtype()), dtype=h5py.string_dtype())
            ds = df.create_dataset("_index", data=np.array([f"{pre}{i}" for i in range(n)], dtype=object),
                                   dtype=h5py.string_dtype())
            ds.attrs["encoding-type"] = "string-array"
            ds.attrs["encoding-version"] = "0.2.0"
        for name in ["obsm", "varm", "obsp", "varp", "layers", "uns"]:
            m = f.create_group(name)
            m.attrs["encoding-type"] = "dict"
            m.attrs["encoding-version"] = "0.1.0"


def run(cmd):
    t = time.perf_counter()
    p = subprocess.Popen(cmd)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t
    if status != 0:
        sys.exit(f"failed: {cmd}")
    return dt, ru.ru_maxrss / 1024  # MiB


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nnz", type=int, default=100_000_000)
    ap.add_argument("--dir", default="/work/benchdata/concat")
    ap.add_argument("--append-rows", type=int, default=100_000)
    ap.add_argument("--gzip-inputs", type=int, default=None,
                    help="deflate level of the inputs (default: uncompressed, like write_h5ad)")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    per_file = a.nnz // 4
    n_obs = max(1, per_file // 1000)
    ins = []
    for k in range(4):
        tag = f"gz{a.gzip_inputs}" if a.gzip_inputs else "raw"
        p = os.path.join(a.dir, f"in{k}_{a.nnz}_{tag}.h5ad")
        if not os.path.exists(p):
            write_input(p + ".part", n_obs, per_file, k, f"f{k}_", a.gzip_inputs)
            os.replace(p + ".part", p)
        ins.append(p)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "h5sparse-cli"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target/release/h5sparse")
    ours = os.path.join(a.dir, "ours.h5ad")
    theirs = os.path.join(a.dir, "anndata.h5ad")
    t_ours, m_ours = run([exe, "concat", ours, *ins])
    code = ("import sys, anndata as ad; from anndata.experimental import concat_on_disk;"
            "concat_on_disk(sys.argv[2:], sys.argv[1], join='inner')")
    t_ad, m_ad = run([sys.executable, "-c", code, theirs, *ins])
    with h5py.File(ours, "r") as f, h5py.File(theirs, "r") as g:
        # light agreement check (the tests compare with anndata fully)
        assert np.array_equal(f["X/indptr"][:], g["X/indptr"][:]), "indptr differs"
        k = min(1 << 20, f["X/data"].shape[0])
        assert np.array_equal(f["X/indices"][:k], g["X/indices"][:k]), "indices differ"
        assert np.array_equal(f["X/data"][-k:], g["X/data"][-k:]), "data differs"
        assert list(f["obs/_index"][-3:]) == list(g["obs/_index"][-3:]), "obs_names differ"
    print(f"concat 4 files ({tag} inputs), {a.nnz:.0e} nnz: h5sparse {t_ours:.2f} s {m_ours:.0f} MiB | "
          f"concat_on_disk {t_ad:.2f} s {m_ad:.0f} MiB | speed-up {t_ad / t_ours:.2f}x, "
          f"memory {m_ad / max(m_ours, 1):.1f}x less")
    # append of APPEND_ROWS rows (rewrites TARGET: O(file))
    src = os.path.join(a.dir, f"src_{a.append_rows}.h5ad")
    if not os.path.exists(src):
        write_input(src + ".part", a.append_rows, a.append_rows * 100, 9, "s_")
        os.replace(src + ".part", src)
    target = os.path.join(a.dir, "target.h5ad")
    subprocess.run(["cp", ins[0], target], check=True)
    t_app, m_app = run([exe, "append", target, src])
    print(f"append {a.append_rows} rows to a {per_file:.0e}-nnz file: {t_app:.2f} s {m_app:.0f} MiB")


if __name__ == "__main__":
    main()
