"""Remote-file benchmark (issue 13): h5sparse over HTTP vs h5py + fsspec, same server, same run.

A loopback HTTP server with range support and an added delay per request (default 20 ms)
serves the all-ones AnnData file (/work/benchdata/ones-raw.h5ad when present, else a smaller
all-ones file made here); it counts requests and bytes sent. For `slice --rows 1:5`, 1,000
random rows and `info`, prints requests, MiB and wall time of each side and the ratio.

    python3 bench/remote.py [--file PATH] [--delay-ms 20] [--no-build]
"""
import argparse
import http.server
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Stats:
    requests = 0
    bytes = 0
    lock = threading.Lock()


def make_handler(path, delay):
    size = os.path.getsize(path)
    name = "/" + os.path.basename(path)

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

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
            self.end_headers()
            with open(path, "rb") as f:
                f.seek(first)
                left = n
                while left:
                    d = f.read(min(left, 1 << 20))
                    self.wfile.write(d)
                    left -= len(d)

    return H


def small_ones(path, n=3000):
    import anndata
    import scipy.sparse as sp

    x = sp.csr_matrix(np.ones((n, n)))
    anndata.AnnData(X=x).write_h5ad(path)


def measure(fn):
    Stats.requests = Stats.bytes = 0
    t = time.perf_counter()
    fn()
    return Stats.requests, Stats.bytes / 2**20, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--file")
    ap.add_argument("--delay-ms", type=float, default=20)
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    path = a.file or "/work/benchdata/ones-raw.h5ad"
    if not os.path.exists(path):
        path = os.path.join(tempfile.mkdtemp(), "ones-small.h5ad")
        print(f"# {a.file or '/work/benchdata/ones-raw.h5ad'} missing: using a 3,000 x 3,000 all-ones file")
        small_ones(path)
    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "h5sparse-cli"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target", "release", "h5sparse")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(path, a.delay_ms / 1000))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/{os.path.basename(path)}"

    import fsspec
    import h5py
    from anndata.io import sparse_dataset

    nrows = h5py.File(path)["X"].attrs["shape"][0]
    rng = np.random.default_rng(0)
    rand = np.sort(rng.choice(nrows, size=min(1000, nrows), replace=False))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(map(str, rand)))
        rows_file = f.name

    def ours(*args):
        def run():
            subprocess.run([exe, *args], check=True, stdout=subprocess.DEVNULL)
        return run

    def theirs(op):
        def run():
            with fsspec.open(url, "rb") as fo:
                with h5py.File(fo, "r") as h:
                    if op == "info":
                        # What `info` reports: shape, format, dtypes and nnz.
                        g = h["X"]
                        dict(g.attrs), g["data"].dtype, g["indices"].dtype, g["indptr"][-1]
                        return
                    m = sparse_dataset(h["X"])
                    m[1:5] if op == "rows" else m[rand]
        return run

    cases = [
        ("slice --rows 1:5", ours("slice", url, "/X", "--rows", "1:5"), theirs("rows")),
        ("1,000 random rows", ours("slice", url, "/X", "--rows", "@" + rows_file), theirs("rand")),
        ("info", ours("info", url, "/X"), theirs("info")),
    ]
    print(f"file {path} ({os.path.getsize(path) / 2**20:.1f} MiB), {a.delay_ms:g} ms per request")
    print(f"{'operation':20} {'h5sparse req/MiB/s':>24} {'h5py+fsspec req/MiB/s':>26} {'speed-up':>9}")
    for label, o, t in cases:
        ro = measure(o)
        rt = measure(t)
        print(f"{label:20} {ro[0]:6d} {ro[1]:8.2f} {ro[2]:7.3f} {rt[0]:8d} {rt[1]:8.2f} {rt[2]:8.3f} {rt[2] / ro[2]:8.1f}x")
    srv.shutdown()


if __name__ == "__main__":
    sys.exit(main())
