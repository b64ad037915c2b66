# Reads chunks encoded by our Rust code (written as *.enc next to the manifest), stores them
# with write_direct_chunk in datasets created with the same filters, and checks that libhdf5
# decodes them to the original values. Usage: oracle_check.py OUTDIR
import sys, os
import numpy as np
import h5py
import hdf5plugin

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle_gen import CASES

out = sys.argv[1]
bad = 0
checked = 0
with h5py.File(os.path.join(out, "reencoded.h5"), "w") as f:
    for line in open(os.path.join(out, "manifest.txt")):
        line = line.strip()
        if not line:
            continue
        name, base, elem, explen, mask, edge, dt, chunks, pipe = line.split("\t")
        enc_path = os.path.join(out, base + ".enc")
        if not os.path.exists(enc_path):
            continue
        chunks = tuple(int(c) for c in chunks.split(","))
        _, _, kw = CASES[name]
        d = f.create_dataset(base, shape=chunks, dtype=np.dtype(dt), chunks=chunks, **kw)
        d.id.write_direct_chunk((0,) * len(chunks), open(enc_path, "rb").read(), 0)
        got = np.ascontiguousarray(d[...]).tobytes()
        exp = open(os.path.join(out, base + ".exp"), "rb").read()
        checked += 1
        if got != exp:
            bad += 1
            print("MISMATCH", base)
print(f"checked {checked}, bad {bad}")
sys.exit(1 if bad or checked == 0 else 0)
