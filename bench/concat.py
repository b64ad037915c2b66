"""`h5sparse concat` / `append` vs anndata.experimental.concat_on_disk, same files, same run.

    python3 bench/concat.py [--nnz 100000000] [--dir /work/benchdata/concat] [--append-rows 100000]
                            [--gzip-inputs LEVEL] [--reps N]

Writes 4 CSR .h5ad inputs holding NNZ nonzeros in total (streamed with h5py, never a whole
matrix in memory), then times each tool in its own process and reports wall time, CPU time
(user + system: steadier than wall time on a shared machine) and peak RSS (wait4's
ru_maxrss), and the ratios; both tools write their output uncompressed (concat_on_disk has
no compression option), so `--gzip-inputs` measures reading compressed inputs. Then `append`
of APPEND_ROWS rows (10^2 entries each) to the concat output (NNZ entries, chunked arrays of
unlimited size, as anndata writes them too): in place, and rewritten as append's fallback
does (concat([TARGET, SRC]) into a new file), with the bytes each writes.
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
    """Wall seconds, CPU seconds (user + system), peak RSS in MiB."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t
    if status != 0:
        sys.exit(f"failed: {cmd}")
    return dt, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def main():
    if sys.argv[1:2] == ["--check"]:
        return check_same(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser()
    ap.add_argument("--nnz", type=int, default=100_000_000)
    ap.add_argument("--dir", default="/work/benchdata/concat")
    ap.add_argument("--append-rows", type=int, default=100_000)
    ap.add_argument("--gzip-inputs", type=int, default=None,
                    help="deflate level of the inputs (default: uncompressed, like write_h5ad)")
    ap.add_argument("--reps", type=int, default=1, help="repetitions (each prints a line)")
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
    code = ("import sys, anndata as ad; from anndata.experimental import concat_on_disk;"
            "concat_on_disk(sys.argv[2:], sys.argv[1], join='inner')")
    for rep in range(a.reps):
        t_ours, c_ours, m_ours = run([exe, "concat", ours, *ins])
        t_ad, c_ad, m_ad = run([sys.executable, "-c", code, theirs, *ins])
        if rep == 0:  # in a child: its memory must not count in the next child's peak RSS
            subprocess.run([sys.executable, __file__, "--check", ours, theirs], check=True)
        print(f"concat 4 files ({tag} inputs), {a.nnz:.0e} nnz: "
              f"h5sparse {t_ours:.2f} s (cpu {c_ours:.2f} s) {m_ours:.0f} MiB | "
              f"concat_on_disk {t_ad:.2f} s (cpu {c_ad:.2f} s) {m_ad:.0f} MiB | "
              f"speed-up {t_ad / t_ours:.2f}x (cpu {c_ad / c_ours:.2f}x), "
              f"memory {m_ad / max(m_ours, 1):.1f}x less", flush=True)
    os.remove(theirs)
    # append of APPEND_ROWS rows onto the concat output (NNZ entries; chunked arrays of
    # unlimited size, as anndata writes them too): in place (`append --in-place`), and
    # rewritten — what plain `append` does, concat([TARGET, SRC]) into a new file — from the
    # same file.
    src = os.path.join(a.dir, f"src_{a.append_rows}.h5ad")
    if not os.path.exists(src):
        write_input(src + ".part", a.append_rows, a.append_rows * 100, 9, "s_")
        os.replace(src + ".part", src)
    target = os.path.join(a.dir, "target.h5ad")
    rewritten = os.path.join(a.dir, "rewritten.h5ad")
    for rep in range(a.reps):
        subprocess.run(["cp", ours, target], check=True)
        before = os.path.getsize(target)
        ti, ci, mi = run([exe, "append", "--in-place", target, src])
        wi = os.path.getsize(target) - before  # bytes appended (+ a few header writes)
        tr, cr, mr = run([exe, "concat", rewritten, ours, src])
        wr = os.path.getsize(rewritten)
        if rep == 0:
            subprocess.run([sys.executable, __file__, "--check", target, rewritten], check=True)
        for p in (target, rewritten):
            os.remove(p)
        print(f"append {a.append_rows} rows ({a.append_rows * 100:.0e} nnz) to a {a.nnz:.0e}-nnz file: "
              f"in place {ti:.2f} s (cpu {ci:.2f} s) {mi:.0f} MiB, {wi / 2**20:.0f} MiB written | "
              f"rewrite {tr:.2f} s (cpu {cr:.2f} s) {mr:.0f} MiB, {wr / 2**20:.0f} MiB written | "
              f"in place {tr / ti:.1f}x faster, {wr / max(wi, 1):.1f}x fewer bytes", flush=True)
    os.remove(ours)


def check_same(ours, theirs):
    """Light agreement check (the tests compare with anndata fully)."""
    with h5py.File(ours, "r") as f, h5py.File(theirs, "r") as g:
        assert np.array_equal(f["X/indptr"][:], g["X/indptr"][:]), "indptr differs"
        k = min(1 << 20, f["X/data"].shape[0])
        assert np.array_equal(f["X/indices"][:k], g["X/indices"][:k]), "indices differ"
        assert np.array_equal(f["X/data"][-k:], g["X/data"][-k:]), "data differs"
        assert list(f["obs/_index"][-3:]) == list(g["obs/_index"][-3:]), "obs_names differ"
        assert tuple(f["X"].attrs["shape"]) == tuple(g["X"].attrs["shape"]), "shape differs"


if __name__ == "__main__":
    main()
