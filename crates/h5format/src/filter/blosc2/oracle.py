#!/usr/bin/env python3
"""Oracle for the Blosc2 decoder's tests: every stored Blosc2 chunk of testdata/blosc2.h5 and
testdata/b2nd.h5 (read with h5py's read_direct_chunk) and its bytes as c-blosc2 decodes them
(python-blosc2: the b2nd array, or the super-chunk's chunks one after the other).

Usage: oracle.py OUTDIR  ->  OUTDIR/index.json: [{"name", "cd", "raw", "out"}] (file names)
"""
import json
import os
import sys

import blosc2
import h5py
import hdf5plugin  # noqa: F401  (registers the filter for h5py)

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.join(HERE, "..", "..", "..", "..", "..", "testdata")


def decode(raw):
    try:
        arr = blosc2.ndarray_from_cframe(raw)
        return arr[...].tobytes()
    except Exception:  # not a b2nd frame
        sc = blosc2.schunk_from_cframe(raw)
        return b"".join(sc.decompress_chunk(i) for i in range(sc.nchunks))


def main(out):
    index = []
    for fname in ("blosc2.h5", "b2nd.h5"):
        with h5py.File(os.path.join(TESTDATA, fname), "r") as f:
            def visit(name, d):
                if not isinstance(d, h5py.Dataset) or d.chunks is None:
                    return
                plist = d.id.get_create_plist()
                if plist.get_nfilters() != 1 or plist.get_filter(0)[0] != 32026:
                    return
                cd = [int(v) for v in plist.get_filter(0)[2]]
                for i in range(d.id.get_num_chunks()):
                    info = d.id.get_chunk_info(i)
                    if info.filter_mask:
                        continue
                    _, raw = d.id.read_direct_chunk(info.chunk_offset)
                    stem = "%d" % len(index)
                    with open(os.path.join(out, stem + ".raw"), "wb") as fh:
                        fh.write(raw)
                    with open(os.path.join(out, stem + ".out"), "wb") as fh:
                        fh.write(decode(raw))
                    index.append({"name": "%s:%s[%d]" % (fname, name, i), "cd": cd,
                                  "raw": stem + ".raw", "out": stem + ".out"})
            f.visititems(visit)
    with open(os.path.join(out, "index.json"), "w") as fh:
        json.dump(index, fh)


if __name__ == "__main__":
    main(sys.argv[1])
