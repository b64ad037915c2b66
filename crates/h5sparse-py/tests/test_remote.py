"""Remote files from Python: the loopback nginx (`H5SPARSE_TEST_HTTP`) and moto S3 server
(`H5SPARSE_TEST_S3`, bucket `testdata`) that `.ci/run` starts serve `testdata/`; what
`h5sparse` reads over them equals h5py / anndata on the local files, on a first open and on
reopens (which start from the URL's metadata snapshot)."""
import os

import anndata
import h5py
import numpy as np
import pytest

import h5sparse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TESTDATA = os.path.join(ROOT, "testdata")

HTTP = os.environ.get("H5SPARSE_TEST_HTTP")
S3 = os.environ.get("H5SPARSE_TEST_S3")


def urls(name):
    out = []
    if HTTP:
        out.append(f"{HTTP}/{name}")
    if S3:
        out.append(f"s3://testdata/{name}")
    return out


@pytest.fixture(autouse=True)
def s3_env(monkeypatch):
    if S3:
        monkeypatch.setenv("AWS_ENDPOINT_URL", S3)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        monkeypatch.setenv("AWS_REGION", "us-east-1")


def require_servers():
    if not (HTTP or S3):
        pytest.skip("H5SPARSE_TEST_HTTP / H5SPARSE_TEST_S3 unset (the loopback servers are started by .ci/run)")


@pytest.mark.parametrize("name", ["adata_csr.h5ad", "adata_csc.h5ad"])
def test_sparse_rows_and_columns_over_the_network_equal_anndata(name):
    require_servers()
    from anndata.io import sparse_dataset

    with h5py.File(os.path.join(TESTDATA, name)) as h:
        want = sparse_dataset(h["X"])
        n, m = want.shape
        keys = [(slice(1, 5), slice(None)), ([7, 2, 2, n - 1], slice(None)),
                (slice(None), slice(0, m, 3))]
        expected = [want[r, c] for r, c in keys]
        whole = want.to_memory()
    for url in urls(name):
        # The first open, then reopens of the same URL (from its snapshot): equal every time.
        for _ in range(3):
            with h5sparse.File(url) as f:
                got = h5sparse.sparse_dataset(f["X"])
                assert got.shape == (n, m)
                assert got.nnz == whole.nnz
                for (r, c), e in zip(keys, expected):
                    g = got[r, c]
                    assert g.format == e.format and g.shape == e.shape
                    assert g.indices.dtype == e.indices.dtype
                    assert (g != e).nnz == 0
                full = got.to_memory()
                assert (full != whole).nnz == 0 and full.data.dtype == whole.data.dtype


def test_datasets_and_attributes_over_the_network_equal_h5py():
    require_servers()
    name = "adata_dense.h5ad"
    with h5py.File(os.path.join(TESTDATA, name)) as h:
        want_x = h["X"][()]
        want_attrs = dict(h["obs"].attrs)
    for url in urls(name):
        for _ in range(2):
            with h5sparse.File(url) as f:
                np.testing.assert_array_equal(f["X"][()], want_x)
                assert f["X"].dtype == want_x.dtype
                got = dict(f["obs"].attrs)
                assert got.keys() == want_attrs.keys()
                for k, v in want_attrs.items():
                    np.testing.assert_array_equal(np.asarray(got[k]), np.asarray(v))


def test_read_h5ad_over_the_network_equals_anndata():
    require_servers()
    name = "adata_csr.h5ad"
    want = anndata.read_h5ad(os.path.join(TESTDATA, name))
    for url in urls(name):
        got = h5sparse.read_h5ad(url)
        assert got.shape == want.shape
        assert (got.X != want.X).nnz == 0
        assert list(got.obs.columns) == list(want.obs.columns)
        assert list(got.obs_names) == list(want.obs_names)


def test_reopens_reuse_the_servers_connections():
    """A reopen of a URL (and any file on the same server) takes idle keep-alive connections
    from the process's pool instead of a new TCP (and TLS) handshake each: three reopens
    after a first open add at most one connection (three or more without sharing)."""
    import http.server
    import threading

    path = os.path.join(TESTDATA, "adata_csr.h5ad")
    body = open(path, "rb").read()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            a, b = self.headers["Range"][len("bytes="):].split("-")
            a, b = int(a), min(int(b), len(body) - 1)
            self.send_response(206)
            self.send_header("Content-Length", str(b - a + 1))
            self.send_header("Content-Range", f"bytes {a}-{b}/{len(body)}")
            self.end_headers()
            self.wfile.write(body[a:b + 1])

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        connections = 0

        def get_request(self):
            Server.connections += 1
            return super().get_request()

    srv = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/adata_csr.h5ad"
        with h5py.File(path) as h:
            from anndata.io import sparse_dataset

            want = sparse_dataset(h["X"])[1:5]

        def read():
            with h5sparse.File(url) as f:
                got = h5sparse.sparse_dataset(f["X"])[1:5]
            assert (got != want).nnz == 0

        read()
        first = Server.connections
        for _ in range(3):
            read()
        assert first >= 1
        assert Server.connections - first <= 1, (first, Server.connections)
    finally:
        srv.shutdown()
