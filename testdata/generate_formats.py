#!/usr/bin/env python3
"""Fixtures for storage features beyond the common ones: external raw data files (and,
as they land, virtual datasets and the nbit / scale-offset / szip filters).

Usage: python3 testdata/generate_formats.py   (also run by testdata/generate.py)

Writes into testdata/ next to this script, with NAME.json reference dumps from
testdata/h5py_dump.py, and merges their entries into testdata/manifest.json.
Deterministic: rerunning rewrites the same files.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate  # noqa: E402  (first: it sets libhdf5's external-file prefixes)

import numpy as np  # noqa: E402
import h5py  # noqa: E402


def gen_external():
    """external.h5: raw data in other files (slots with offsets, several files per dataset,
    a file shorter than its slot, an unlimited last slot, 2-D and float data);
    hostile/external.h5 (no reference dump: reading each dataset must fail) names files
    outside the file's directory (absolute, `..`, the parent folder) and a missing file."""
    raw = {
        "external_a.bin": np.arange(100, dtype="<i4").tobytes(),
        "external_b.bin": b"HEADER--" + np.linspace(-1, 1, 30).astype(">f8").tobytes(),
        "external_short.bin": np.arange(5, dtype="<i2").tobytes(),
    }
    for name, data in raw.items():
        with open(os.path.join(HERE, name), "wb") as fh:
            fh.write(data)
    name = "external.h5"
    cwd = os.getcwd()
    os.chdir(HERE)  # libhdf5 stores the names as given; they are relative to this folder
    try:
        with h5py.File(name, "w", libver="earliest") as f:
            f.create_dataset("whole", shape=(100,), dtype="<i4", external=[("external_a.bin", 0, 400)])
            f.create_dataset("two_files", shape=(10, 10), dtype="<i4",
                             external=[("external_a.bin", 200, 200), ("external_a.bin", 0, 120),
                                       ("external_a.bin", 300, 80)])
            f.create_dataset("offset_f8", shape=(5, 6), dtype=">f8", external=[("external_b.bin", 8, 240)])
            f.create_dataset("short_file", shape=(10,), dtype="<i2", external=[("external_short.bin", 0, 20)])
            f.create_dataset("unlimited", shape=(3, 7), dtype="<i4",
                             external=[("external_a.bin", 40, h5py.h5f.UNLIMITED)])
            f.create_dataset("empty", shape=(0,), dtype="<i4", external=[("external_a.bin", 0, 0)])
        os.makedirs("hostile", exist_ok=True)
        with h5py.File(os.path.join("hostile", "external.h5"), "w", libver="earliest") as f:
            f.create_dataset("passwd", shape=(8,), dtype="u1", external=[("/etc/passwd", 0, 8)])
            f.create_dataset("dotdot", shape=(8,), dtype="u1",
                             external=[("../../../../../../../../etc/passwd", 0, 8)])
            f.create_dataset("parent", shape=(8,), dtype="u1", external=[("../external_a.bin", 0, 8)])
            f.create_dataset("missing", shape=(8,), dtype="u1", external=[("external_missing.bin", 0, 8)])
    finally:
        os.chdir(cwd)
    generate.finish(name, ["external storage: one and several slots (same file twice, offsets), "
                           "big-endian f8 at an offset, a file shorter than its slot (zeros), "
                           "an unlimited last slot, zero-size"])


def gen_all():
    """Every fixture of this script (entries land in generate.MANIFEST)."""
    gen_external()


def main():
    gen_all()
    path = os.path.join(HERE, "manifest.json")
    with open(path, encoding="utf-8") as fh:
        manifest = json.load(fh)
    manifest.update(generate.MANIFEST)
    with open(path, "w", encoding="utf-8") as out:
        json.dump(manifest, out, indent=1, sort_keys=True)
        out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
