#!/bin/sh
# Build the seed corpora of the fuzz targets from testdata/ (run from fuzz/).
set -e
cd "$(dirname "$0")"
for t in walk chunks sparse_select; do
    mkdir -p corpus/$t
    cp ../testdata/*.h5 ../testdata/*.h5ad corpus/$t/
done
mkdir -p corpus/object_header
python3 - <<'PY'
import glob, os
n = 0
for path in sorted(glob.glob("../testdata/*.h5") + glob.glob("../testdata/*.h5ad")):
    data = open(path, "rb").read()
    i = data.find(b"OHDR")
    k = 0
    while i >= 0 and k < 8:
        # First byte 8 selects 8-byte addresses and lengths; the header sits at address 0.
        open(f"corpus/object_header/{os.path.basename(path)}.{k}", "wb").write(b"\x08" + data[i:i + 1024])
        n += 1
        k += 1
        i = data.find(b"OHDR", i + 4)
print(f"{n} object header seeds")
PY
