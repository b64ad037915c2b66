#!/bin/sh
# Fetches real-world HDF5 files that no one in this project wrote: the HDF5 test files
# shipped inside the PyPI wheels of PyTables, h5py and scanpy.
#
# Usage: tests/realworld/fetch.sh [DEST]     (DEST defaults to testdata/realworld/)
#
# Idempotent: a wheel already downloaded is not fetched again, and files are only
# extracted when missing. Exits 0 when every wheel is present afterwards, non-zero
# otherwise (e.g. no network); whatever could be fetched stays usable.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dest=${1:-$root/testdata/realworld}
wheels=$dest/wheels
mkdir -p "$wheels"

status=0
# package==version  glob(s) of the HDF5 files inside the wheel
fetch() {
    spec=$1
    shift
    name=${spec%%==*}
    # pip normalises wheel names (case, '-' to '_')
    pattern=$(echo "$name" | tr 'A-Z-' 'a-z_')
    whl=$(ls "$wheels"/*.whl 2>/dev/null | while read -r w; do
        b=$(basename "$w" | tr 'A-Z' 'a-z')
        case $b in "$pattern"-"${spec#*==}"-*) echo "$w" ;; esac
    done | head -n 1)
    if [ -z "$whl" ]; then
        if ! python3 -m pip download --quiet --no-deps --only-binary=:all: \
            --dest "$wheels" "$spec" >"$wheels/$name.log" 2>&1; then
            echo "fetch.sh: cannot download $spec (see $wheels/$name.log)" >&2
            status=1
            return
        fi
        whl=$(ls "$wheels"/*.whl | while read -r w; do
            b=$(basename "$w" | tr 'A-Z' 'a-z')
            case $b in "$pattern"-"${spec#*==}"-*) echo "$w" ;; esac
        done | head -n 1)
    fi
    if [ -z "$whl" ]; then
        echo "fetch.sh: no wheel for $spec after download" >&2
        status=1
        return
    fi
    # -n: never overwrite (idempotent); -q: quiet
    if ! python3 - "$whl" "$dest/$name" "$@" <<'PY'
import fnmatch, os, sys, zipfile
whl, out, globs = sys.argv[1], sys.argv[2], sys.argv[3:]
n = 0
with zipfile.ZipFile(whl) as z:
    for info in z.infolist():
        if info.is_dir() or not any(fnmatch.fnmatch(info.filename, g) for g in globs):
            continue
        target = os.path.join(out, os.path.basename(info.filename))
        n += 1
        if os.path.exists(target) and os.path.getsize(target) == info.file_size:
            continue
        os.makedirs(out, exist_ok=True)
        with z.open(info) as src, open(target + ".part", "wb") as dst:
            dst.write(src.read())
        os.replace(target + ".part", target)
print("%s: %d HDF5 files" % (os.path.basename(whl), n))
PY
    then
        status=1
    fi
}

fetch tables==3.11.1 'tables/tests/*.h5' 'tables/nodes/tests/*.h5'
fetch h5py==3.16.0 'h5py/tests/data_files/*.h5'
fetch scanpy==1.11.5 'scanpy/datasets/*.h5ad' 'scanpy/tests/_data/*.h5*'
exit $status
