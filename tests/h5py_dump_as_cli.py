#!/usr/bin/env python3
"""`h5sparse dump --json [--no-data] FILE [PATH]` implemented with the reference dumper.

Only for checking the Rust test harness itself (H5SPARSE_TEST_BIN=this file): prints f2/f4
dataset values at their own precision (which the spec allows) and reports any failure as
one `error:` line with exit 1.
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "testdata"))

import numpy as np  # noqa: E402

import h5py_dump  # noqa: E402


def own_precision(value, dtype):
    if isinstance(value, list):
        return [own_precision(x, dtype) for x in value]
    if isinstance(value, float):
        return float(str(np.float32(value) if dtype == "f4" else np.float16(value)))
    return value


def walk(node):
    if node.get("kind") == "dataset" and node.get("dtype") in ("f2", "f4") and "data" in node:
        node["data"] = own_precision(node["data"], node["dtype"])
    for child in node.get("members", {}).values():
        walk(child)


def main(argv):
    if argv[:2] != ["dump", "--json"]:
        sys.stderr.write("error: only `dump --json` is implemented here\n")
        return 1
    rest = [a for a in argv[2:] if a != "--no-data"]
    no_data = len(rest) != len(argv) - 2
    try:
        doc = h5py_dump.dump(rest[0], rest[1] if len(rest) > 1 else "/", no_data)
    except Exception as e:  # noqa: BLE001 - any failure is a clean user error here
        sys.stderr.write("error: %s\n" % str(e).replace("\n", " "))
        return 1
    walk(doc)
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, allow_nan=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
