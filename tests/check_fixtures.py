#!/usr/bin/env python3
"""Checks that the committed fixtures are consistent with the reference dumper.

Usage: python3 tests/check_fixtures.py

For every testdata/*.h5|*.h5ad: NAME.json must exist and equal a fresh
`testdata/h5py_dump.py` dump; every file must be listed in testdata/manifest.json with
its current size; chunk index kinds recorded in the manifest must still be what libhdf5
reports.  Exit 0 when all is consistent, 1 otherwise (one line per problem).
"""

import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTDATA = os.path.join(ROOT, "testdata")
sys.path.insert(0, TESTDATA)

import h5py_dump  # noqa: E402  (first: it sets libhdf5's external-file prefixes)
import h5py  # noqa: E402
import generate  # noqa: E402


def main():
    problems = []
    with open(os.path.join(TESTDATA, "manifest.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    files = sorted(glob.glob(os.path.join(TESTDATA, "*.h5")) + glob.glob(os.path.join(TESTDATA, "*.h5ad")))
    for path in files:
        name = os.path.basename(path)
        ref = path + ".json"
        if not os.path.exists(ref):
            problems.append("%s: no reference dump %s.json" % (name, name))
            continue
        with open(ref, encoding="utf-8") as fh:
            stored = json.load(fh)
        if stored != json.loads(h5py_dump.to_json(h5py_dump.dump(path))):
            problems.append("%s: %s.json differs from a fresh dump" % (name, name))
        entry = manifest.get(name)
        if entry is None:
            problems.append("%s: not in manifest.json" % name)
            continue
        if entry.get("bytes") != os.path.getsize(path):
            problems.append("%s: size differs from manifest.json" % name)
        with h5py.File(path, "r") as f:
            now = generate.describe_datasets(f)
        if now != entry.get("datasets"):
            problems.append("%s: layouts/chunk indexes differ from manifest.json" % name)
    for name in manifest:
        if not os.path.exists(os.path.join(TESTDATA, name)):
            problems.append("%s: in manifest.json but missing" % name)
    for p in problems:
        print(p)
    print("%d fixtures checked, %d problems" % (len(files), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
