# Sourced by .ci/run: starts the loopback servers the remote-file tests read from and sets
#   H5SPARSE_TEST_HTTP   http://127.0.0.1:PORT   (nginx, range requests, serves testdata/)
#   H5SPARSE_TEST_S3     http://127.0.0.1:PORT   (moto in server mode, bucket "testdata")
#   H5SPARSE_TEST_PROXY  http://127.0.0.1:PORT   (a proxy in front of nginx that stalls or resets)
#   H5SPARSE_TEST_HTTPS  https://127.0.0.1:PORT  (nginx over TLS, a certificate made here by
#                        openssl for 127.0.0.1, signed by a throw-away test CA)
#   H5SPARSE_TEST_HTTPS_CA  the test CA's certificate (PEM), for H5SPARSE_CA_FILE
# and registers a trap that stops them. Needs nginx (apt), openssl and moto[server] (pip).
remote_servers_start() {
  local dir; dir="$(mktemp -d)"
  REMOTE_TMP="$dir"
  local root; root="$(pwd)/testdata"
  local port_http port_s3 port_proxy port_https
  read -r port_http port_s3 port_proxy port_https < <(python3 - <<'PY'
import socket
ss=[socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1",0))
print(*[s.getsockname()[1] for s in ss])
PY
)
  mkdir -p "$dir/nginx"
  # A test CA and a server certificate for 127.0.0.1 signed by it (valid two days).
  local t="$dir/nginx"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=h5sparse-test-ca -keyout "$t/ca.key" -out "$t/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj /CN=127.0.0.1 -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
    "keyUsage=digitalSignature" "extendedKeyUsage=serverAuth" > "$t/server.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial \
    -days 2 -extfile "$t/server.ext" -out "$t/server.pem" 2>/dev/null
  sed -e "s|@ROOT@|$root|" -e "s|@PORT@|$port_http|" -e "s|@PORT_TLS@|$port_https|" \
    -e "s|@TMP@|$dir/nginx|" .ci/nginx.conf.in > "$dir/nginx/nginx.conf"
  nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log"
  python3 -m moto.server -H 127.0.0.1 -p "$port_s3" >"$dir/moto.log" 2>&1 &
  REMOTE_PIDS="$!"
  python3 .ci/flaky_proxy.py "$port_proxy" "$port_http" >"$dir/proxy.log" 2>&1 &
  REMOTE_PIDS="$REMOTE_PIDS $!"
  trap remote_servers_stop EXIT
  export H5SPARSE_TEST_HTTP="http://127.0.0.1:$port_http"
  export H5SPARSE_TEST_S3="http://127.0.0.1:$port_s3"
  export H5SPARSE_TEST_PROXY="http://127.0.0.1:$port_proxy"
  export H5SPARSE_TEST_HTTPS="https://127.0.0.1:$port_https"
  export H5SPARSE_TEST_HTTPS_CA="$t/ca.pem"
  # Wait for moto, then upload the fixtures.
  python3 - "$H5SPARSE_TEST_S3" "$root" <<'PY'
import sys, time, os, boto3
url, root = sys.argv[1], sys.argv[2]
for _ in range(100):
    try:
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
        s3.list_buckets(); break
    except Exception:
        time.sleep(0.1)
s3.create_bucket(Bucket="testdata")
for n in os.listdir(root):
    if n.endswith((".h5", ".h5ad")):
        s3.upload_file(os.path.join(root, n), "testdata", n)
PY
}

remote_servers_stop() {
  [ -n "${REMOTE_TMP:-}" ] && [ -f "$REMOTE_TMP/nginx/nginx.pid" ] \
    && kill "$(cat "$REMOTE_TMP/nginx/nginx.pid")" 2>/dev/null || true
  for p in ${REMOTE_PIDS:-}; do kill "$p" 2>/dev/null || true; done
  [ -n "${REMOTE_TMP:-}" ] && rm -rf "$REMOTE_TMP"
}
