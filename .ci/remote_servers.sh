# Sourced by .ci/run: starts the loopback servers the remote-file tests read from and sets
#   H5SPARSE_TEST_HTTP   http://127.0.0.1:PORT   (nginx, range requests, serves testdata/)
#   H5SPARSE_TEST_S3     http://127.0.0.1:PORT   (moto in server mode, bucket "testdata")
#   H5SPARSE_TEST_PROXY  http://127.0.0.1:PORT   (a proxy in front of nginx that stalls or resets)
# and registers a trap that stops them. Needs nginx (apt) and moto[server] (pip).
remote_servers_start() {
  local dir; dir="$(mktemp -d)"
  REMOTE_TMP="$dir"
  local root; root="$(pwd)/testdata"
  local port_http port_s3 port_proxy
  read -r port_http port_s3 port_proxy < <(python3 - <<'PY'
import socket
ss=[socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1",0))
print(*[s.getsockname()[1] for s in ss])
PY
)
  mkdir -p "$dir/nginx"
  sed -e "s|@ROOT@|$root|" -e "s|@PORT@|$port_http|" -e "s|@TMP@|$dir/nginx|" \
    .ci/nginx.conf.in > "$dir/nginx/nginx.conf"
  nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log"
  python3 -m moto.server -H 127.0.0.1 -p "$port_s3" >"$dir/moto.log" 2>&1 &
  REMOTE_PIDS="$!"
  python3 .ci/flaky_proxy.py "$port_proxy" "$port_http" >"$dir/proxy.log" 2>&1 &
  REMOTE_PIDS="$REMOTE_PIDS $!"
  trap remote_servers_stop EXIT
  export H5SPARSE_TEST_HTTP="http://127.0.0.1:$port_http"
  export H5SPARSE_TEST_S3="http://127.0.0.1:$port_s3"
  export H5SPARSE_TEST_PROXY="http://127.0.0.1:$port_proxy"
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
