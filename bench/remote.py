"""Remote-file benchmark (issue 13): h5sparse over HTTP vs h5py + fsspec, same server, same run.

A loopback HTTP server with range support and an added delay per request (default 20 ms)
serves the all-ones AnnData file (/work/benchdata/ones-raw.h5ad when present, else a smaller
all-ones file made here) and the large benchmark matrix (/work/benchdata/large-raw.h5ad, when
present); it counts requests and bytes sent. For `slice --rows 1:5`, 1,000 random rows and
`info` on each file, prints requests, MiB and wall time of each side (the short cases: the
median of --repeat runs), the ratio, and peak RSS (ours: the h5sparse process; theirs: this
Python process, a running maximum).

    python3 bench/remote.py [--file PATH] [--large PATH] [--delay-ms 20] [--no-build] [--exe PATH]
"""
import argparse
import email.utils
import http.server
import os
import subprocess
import sys
import tempfile
import threading
import time

import resource

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Stats:
    requests = 0
    bytes = 0
    lock = threading.Lock()


def make_handler(path, delay):
    size = os.path.getsize(path)
    name = "/" + os.path.basename(path)
    # The validators nginx sends for a static file (ETag "mtime-size" in hex, Last-Modified).
    mtime = int(os.path.getmtime(path))
    etag = f'"{mtime:x}-{size:x}"'
    last_modified = email.utils.formatdate(mtime, usegmt=True)

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # TCP_NODELAY like nginx: otherwise a small body written after its headers waits
        # for the client's delayed ACK (40 ms), for both sides of the comparison.
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def do_HEAD(self):
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()

        def do_GET(self):
            time.sleep(delay)
            if self.path != name:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            r = self.headers.get("Range", "")
            first, last = 0, size - 1
            if r.startswith("bytes="):
                a, b = r[6:].split("-")
                first = int(a) if a else size - int(b)
                last = min(int(b), size - 1) if (a and b) else size - 1
            n = last - first + 1
            with Stats.lock:
                Stats.requests += 1
                Stats.bytes += n
            self.send_response(206 if r else 200)
            self.send_header("Content-Length", str(n))
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.end_headers()
            with open(path, "rb") as f:
                f.seek(first)
                left = n
                while left:
                    d = f.read(min(left, 1 << 20))
                    self.wfile.write(d)
                    left -= len(d)

    return H


class Server(http.server.ThreadingHTTPServer):
    # A listen backlog like nginx's (Python's default of 5 drops concurrent connects, which
    # then wait a second for the SYN retransmit).
    request_queue_size = 512
    daemon_threads = True


def small_ones(path, n=3000):
    import anndata
    import scipy.sparse as sp

    x = sp.csr_matrix(np.ones((n, n)))
    anndata.AnnData(X=x).write_h5ad(path)


def measure(fn, repeat=1):
    """Requests and MiB of one run; the median wall time of `repeat` runs (short cases are
    repeated: one sample of a 0.1 s run on a shared machine says little)."""
    times = []
    for i in range(repeat):
        Stats.requests = Stats.bytes = 0
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if i == 0:
            counts = (Stats.requests, Stats.bytes / 2**20)
    return counts[0], counts[1], sorted(times)[len(times) // 2]


def h5py_op(url, op, rand):
    """h5py + fsspec + anndata: open `url` and do `op` (rows 1:5, the rows `rand`, or what
    `info` reports: shape, format, dtypes and nnz)."""
    import fsspec
    import h5py
    from anndata.io import sparse_dataset

    with fsspec.open(url, "rb") as fo:
        with h5py.File(fo, "r") as h:
            if op == "info":
                g = h["X"]
                dict(g.attrs), g["data"].dtype, g["indices"].dtype, g["indptr"][-1]
                return
            m = sparse_dataset(h["X"])
            m[1:5] if op == "rows" else m[rand]


def worker(side, url, op, rows_file, n):
    """One fresh Python process: imports first (untimed), then `n` timed runs of `op`; the
    first is the first open of the URL in the process, the rest repeat it. Prints seconds."""
    rand = np.loadtxt(rows_file, dtype=np.int64) if rows_file != "-" else None
    if side == "h5py":
        import anndata.io  # noqa: F401  (with fsspec and h5py: imported before the clock starts)
        import fsspec  # noqa: F401

        def run():
            h5py_op(url, op, rand)
    else:
        import h5sparse

        def run():
            with h5sparse.File(url) as f:
                m = h5sparse.sparse_dataset(f["X"])
                if op == "info":
                    m.shape, m.dtype, m.nnz
                    return
                m[1:5] if op == "rows" else m[rand]
    times = []
    for _ in range(n):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    print(" ".join(f"{x:.6f}" for x in times))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        return worker(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    ap = argparse.ArgumentParser()
    ap.add_argument("--file")
    ap.add_argument("--delay-ms", type=float, default=20)
    ap.add_argument("--large", default="/work/benchdata/large-raw.h5ad")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--exe", help="h5sparse binary to measure (default: target/release)")
    ap.add_argument("--ours-only", action="store_true", help="skip h5py + fsspec (quick checks)")
    ap.add_argument("--repeat", type=int, default=5,
                    help="runs of the short cases (rows 1:5, info); the median wall time is shown")
    a = ap.parse_args()
    path = a.file or "/work/benchdata/ones-raw.h5ad"
    if not os.path.exists(path):
        path = os.path.join(tempfile.mkdtemp(), "ones-small.h5ad")
        print(f"# {a.file or '/work/benchdata/ones-raw.h5ad'} missing: using a 3,000 x 3,000 all-ones file")
        small_ones(path)
    if not a.no_build and not a.exe:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "h5sparse-cli"], cwd=ROOT, check=True)
    exe = a.exe or os.path.join(ROOT, "target", "release", "h5sparse")
    files = [path] + ([a.large] if a.large and os.path.exists(a.large) else [])
    print(f"{a.delay_ms:g} ms per request; h5sparse {exe}")
    print(f"{'file | operation':38} {'h5sparse req/MiB/s/RSS MiB':>30} {'h5py+fsspec req/MiB/s/RSS MiB':>32} {'speed-up':>9}")
    rest = []
    for p in files:
        rest.append(bench_file(p, exe, a.delay_ms, a.ours_only, a.repeat))
    print()
    print("First opens and reopens (seconds; medians of --repeat). 'CLI cold': a fresh h5sparse")
    print("process; 'CLI warm': the same with H5SPARSE_CACHE_DIR holding the last run's snapshot")
    print("(req: its requests). 'py'/'h5py' first/again: the h5sparse Python package / h5py +")
    print("fsspec + anndata in a fresh Python process, imports untimed; 'first' is the first open")
    print("of the URL in the process, 'again' the reopens after it. 'h5py proc': a whole fresh")
    print("Python process (interpreter, imports, open, read), as running a script costs.")
    print(f"{'file | operation':38} {'CLI cold':>9} {'CLI warm':>9} {'req':>4} {'py first':>9} {'py again':>9}"
          f" {'h5py first':>11} {'h5py again':>11} {'h5py proc':>9} {'proc/CLI':>10} {'first':>10} {'again':>10}")
    for lines in rest:
        for ln in lines:
            print(ln)


def bench_file(path, exe, delay_ms, ours_only=False, repeat=5):
    srv = Server(("127.0.0.1", 0), make_handler(path, delay_ms / 1000))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/{os.path.basename(path)}"

    import h5py

    nrows = h5py.File(path)["X"].attrs["shape"][0]
    rng = np.random.default_rng(0)
    rand = np.sort(rng.choice(nrows, size=min(1000, nrows), replace=False))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(map(str, rand)))
        rows_file = f.name
    peak = {"ours": 0}

    def ours(*args):
        # Peak RSS through /usr/bin/time: a child forked from this (large) Python process
        # would report Python's pages as its own.
        def run():
            p = subprocess.run(["/usr/bin/time", "-f", "%M", exe, *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if p.returncode != 0:
                raise SystemExit(f"{exe} {args} failed ({p.returncode}): {p.stderr}")
            peak["ours"] = int(p.stderr.strip().splitlines()[-1]) / 1024
        return run

    def theirs(op):
        return lambda: h5py_op(url, op, rand)

    cases = [
        ("slice --rows 1:5", ours("slice", url, "/X", "--rows", "1:5"), theirs("rows")),
        ("1,000 random rows", ours("slice", url, "/X", "--rows", "@" + rows_file), theirs("rand")),
        ("info", ours("info", url, "/X"), theirs("info")),
    ]
    name = f"{os.path.basename(path)} ({os.path.getsize(path) / 2**20:,.0f} MiB)"
    reopen = []
    cache_dir = tempfile.mkdtemp(prefix="h5snap-")
    env_warm = dict(os.environ, H5SPARSE_CACHE_DIR=cache_dir)
    for (label, _, _), op in zip(cases, ("rows", "rand", "info")):
        n = 1 if op == "rand" else repeat
        args = {"rows": ["slice", url, "/X", "--rows", "1:5"],
                "rand": ["slice", url, "/X", "--rows", "@" + rows_file],
                "info": ["info", url, "/X"]}[op]
        # CLI warm: prime the snapshot, then n runs (requests of the first of them).
        subprocess.run([exe, *args], stdout=subprocess.DEVNULL, env=env_warm, check=True)
        warm_t, warm_req = [], 0
        for i in range(n):
            Stats.requests = 0
            t = time.perf_counter()
            subprocess.run([exe, *args], stdout=subprocess.DEVNULL, env=env_warm, check=True)
            warm_t.append(time.perf_counter() - t)
            if i == 0:
                warm_req = Stats.requests
        cold_t = []
        for _ in range(n):
            t = time.perf_counter()
            subprocess.run([exe, *args], stdout=subprocess.DEVNULL, check=True)
            cold_t.append(time.perf_counter() - t)

        def py(side):
            out = subprocess.run([sys.executable, __file__, "--worker", side, url, op,
                                  rows_file if op == "rand" else "-", str(n + 1)],
                                 check=True, capture_output=True, text=True).stdout
            t = [float(x) for x in out.split()]
            return t[0], sorted(t[1:])[len(t[1:]) // 2]

        def whole_process(side):
            # A fresh interpreter that imports, opens and reads once: what running a
            # script costs, as running the CLI does.
            w = []
            for _ in range(n):
                t = time.perf_counter()
                subprocess.run([sys.executable, __file__, "--worker", side, url, op,
                                rows_file if op == "rand" else "-", "1"],
                               check=True, capture_output=True)
                w.append(time.perf_counter() - t)
            return sorted(w)[len(w) // 2]

        med = lambda v: sorted(v)[len(v) // 2]
        pf, pa = py("h5sparse")
        hf, ha = py("h5py") if not ours_only else (float("nan"), float("nan"))
        hp = whole_process("h5py") if not ours_only else float("nan")
        reopen.append(f"{name + ' | ' + label:38} {med(cold_t):9.3f} {med(warm_t):9.3f} {warm_req:4d}"
                      f" {pf:9.3f} {pa:9.3f} {hf:11.3f} {ha:11.3f} {hp:9.3f}"
                      f" {hp / med(cold_t):9.1f}x {hf / pf:9.1f}x {ha / pa:9.1f}x")
    for label, o, t in cases:
        n = 1 if label.startswith("1,000") else repeat
        ro = measure(o, n)
        rt = measure(t, n) if not ours_only else (0, 0.0, float("nan"))
        rss_t = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{name + ' | ' + label:38} {ro[0]:6d} {ro[1]:8.2f} {ro[2]:7.3f} {peak['ours']:6.0f}"
              f" {rt[0]:8d} {rt[1]:8.2f} {rt[2]:8.3f} {rss_t:6.0f} {rt[2] / ro[2]:8.1f}x", flush=True)
    srv.shutdown()
    os.unlink(rows_file)
    return reopen


if __name__ == "__main__":
    sys.exit(main())
