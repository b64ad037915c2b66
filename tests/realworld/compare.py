#!/usr/bin/env python3
"""Compares `BINARY dump --json` with the h5py reference on real-world HDF5 files.

Usage: python3 tests/realworld/compare.py BINARY [DIR] [--only NAME]... [--known FILE]

DIR defaults to testdata/realworld/ (filled by tests/realworld/fetch.sh). Every `*.h5`,
`*.h5ad`, `*.hdf5`, `*.nc` below DIR is dumped with testdata/h5py_dump.py (the reference)
and with `BINARY dump --json FILE`; the two are compared with the rules of
crates/h5sparse-cli/tests/dump_fixtures.rs: structure, strings and integers exactly,
member/attribute order as listed, floats as binary64 except that f2/f4 data may be
printed at its own precision, and any `unsupported:<what>` dtype matches any other.

Prints a table (file, result) and a summary line. Files the reference cannot dump are
excluded with the reference's error. Exit status: 0 when every file the reference dumps
either matches or is listed in tests/realworld/known.txt or the `--known` FILE
(`NAME  reason` lines, NAME relative to DIR, `#` comments), 1 otherwise, 2 on bad usage.
"""

import json
import math
import os
import struct
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
REFERENCE = os.path.join(ROOT, "testdata", "h5py_dump.py")
KNOWN = os.path.join(HERE, "known.txt")
EXTENSIONS = (".h5", ".h5ad", ".hdf5", ".nc")
TIMEOUT = float(os.environ.get("REALWORLD_TIMEOUT", "300"))


class Mismatch(Exception):
    """The first difference found, with its JSON path."""


# ------------------------------------------------------------------------- floats


def _f32(x):
    try:
        return struct.unpack("<I", struct.pack("<f", x))[0]
    except OverflowError:
        return 0x7F800000 if x > 0 else 0xFF800000


def _f16(x):
    with np.errstate(over="ignore"):
        return int(np.array([x], dtype=np.float64).astype(np.float16).view(np.uint16)[0])


def _same64(r, a):
    return struct.pack("<d", r) == struct.pack("<d", a)


def _same32(r, a):
    return _f32(r) == _f32(a)


def _same16(r, a):
    return _f16(r) == _f16(a)


def floats_match(r, a, prec):
    if prec == "f8":
        return _same64(r, a)
    if prec == "f4":
        return _same64(r, a) or _same32(r, a)
    if prec == "f2":
        return _same64(r, a) or _same16(r, a)
    # unknown storage precision: exact, or at f4/f2 precision when r is exactly one
    if _same64(r, a):
        return True
    if math.isfinite(r) and float(np.float32(r)) == r and _same32(r, a):
        return True
    if math.isfinite(r) and float(np.float16(r)) == r and _same16(r, a):
        return True
    return False


def prec_of(dtype):
    base = dtype
    while True:
        if base.startswith("vlen:"):
            base = base[len("vlen:") :]
        elif base.startswith("array:"):
            base = base[len("array:") :]
            if "[" in base:
                base = base.rsplit("[", 1)[0]
        else:
            break
    if base in ("f2", "f4"):
        return base
    if base == "compound":
        return "unknown"
    return "f8"


# --------------------------------------------------------------------- comparison


def _short(v):
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= 120 else s[:120] + "..."


def _fail(path, what, r, a):
    raise Mismatch("at %s: %s: expected %s, got %s" % (path or "/", what, _short(r), _short(a)))


def _esc(k):
    return k.replace("~", "~0").replace("/", "~1")


def cmp_value(r, a, prec, path):
    if r is None and a is None:
        return
    if isinstance(r, bool) or isinstance(a, bool):
        if type(r) is type(a) and r == a:
            return
        _fail(path, "value", r, a)
    if isinstance(r, str) and isinstance(a, str):
        if r != a:
            _fail(path, "string", r, a)
        return
    if isinstance(r, (int, float)) and isinstance(a, (int, float)):
        if isinstance(r, float):
            if not floats_match(r, float(a), prec):
                _fail(path, "float", r, a)
        elif isinstance(a, float):
            _fail(path, "integer printed as a float", r, a)
        elif r != a:
            _fail(path, "integer", r, a)
        return
    if isinstance(r, list) and isinstance(a, list):
        if len(r) != len(a):
            raise Mismatch("at %s: list length: expected %d, got %d" % (path or "/", len(r), len(a)))
        for i, (x, y) in enumerate(zip(r, a)):
            cmp_value(x, y, prec, "%s/%d" % (path, i))
        return
    if isinstance(r, dict) and isinstance(a, dict):
        cmp_ordered(r, a, path, lambda x, y, p: cmp_value(x, y, prec, p))
        return
    _fail(path, "value", r, a)


def cmp_ordered(r, a, path, f):
    rk, ak = list(r), list(a)
    if rk != ak:
        for k in rk:
            if k not in a:
                raise Mismatch("at %s: missing key %r" % (path or "/", k))
        for k in ak:
            if k not in r:
                raise Mismatch("at %s: unexpected key %r" % (path or "/", k))
        raise Mismatch("at %s: key order: expected %r, got %r" % (path or "/", rk, ak))
    for k in rk:
        f(r[k], a[k], "%s/%s" % (path, _esc(k)))


def _unsupported(v):
    return isinstance(v, str) and v.startswith("unsupported:")


def cmp_node(r, a, path):
    if not isinstance(r, dict) or not isinstance(a, dict):
        _fail(path, "node", r, a)
    dtype = r.get("dtype")
    for k, rv in r.items():
        p = "%s/%s" % (path, k)
        if k not in a:
            raise Mismatch("at %s: node lacks key %r" % (path or "/", k))
        av = a[k]
        if k == "attrs":
            if not isinstance(rv, dict) or not isinstance(av, dict):
                _fail(p, "attrs", rv, av)
            cmp_ordered(rv, av, p, lambda x, y, pp: cmp_value(x, y, "unknown", pp))
        elif k == "members":
            if not isinstance(rv, dict) or not isinstance(av, dict):
                _fail(p, "members", rv, av)
            cmp_ordered(rv, av, p, cmp_node)
        elif k == "dtype":
            if not (rv == av or (_unsupported(rv) and _unsupported(av))):
                _fail(p, "dtype", rv, av)
        elif k == "data":
            if _unsupported(dtype):
                if av is not None:
                    _fail(p, "data of an unsupported type", rv, av)
            else:
                cmp_value(rv, av, prec_of(dtype) if isinstance(dtype, str) else "f8", p)
        else:
            cmp_value(rv, av, "f8", p)


# ------------------------------------------------------------------------- running


def _run(cmd):
    """(exit code or None on timeout, stdout bytes, first stderr lines)."""
    try:
        p = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=TIMEOUT,
            env=dict(os.environ, RUST_BACKTRACE="0"),
        )
    except subprocess.TimeoutExpired:
        return None, b"", "timed out after %gs" % TIMEOUT
    err = " | ".join(p.stderr.decode("utf-8", "replace").strip().splitlines()[-3:])
    return p.returncode, p.stdout, err


def compare_file(binary, path):
    """(status, detail): status is match / mismatch / ours-error / excluded."""
    code, out, err = _run([sys.executable, REFERENCE, path])
    if code != 0:
        last = err.split(" | ")[-1] if err else "exit %s" % code
        return "excluded", "reference error: " + last
    try:
        ref = json.loads(out)
    except ValueError as e:
        return "excluded", "reference printed bad JSON: %s" % e
    code, out, err = _run([binary, "dump", "--json", path])
    if code is None:
        return "ours-error", err
    if code != 0:
        return "ours-error", "exit %d: %s" % (code, err)
    try:
        ours = json.loads(out)
    except ValueError as e:
        return "ours-error", "stdout is not one JSON document: %s" % e
    try:
        cmp_node(ref, ours, "")
    except Mismatch as e:
        return "mismatch", str(e)
    return "match", ""


def load_known(path):
    known = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                name, _, reason = line.partition(" ")
                known[name] = reason.strip()
    except FileNotFoundError:
        pass
    return known


def files_under(top):
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d != "wheels")
        for n in sorted(filenames):
            if n.endswith(EXTENSIONS):
                out.append(os.path.join(dirpath, n))
    return sorted(out)


def main(argv):
    only = []
    args = []
    known_file = KNOWN
    it = iter(argv)
    for a in it:
        if a == "--only":
            only.append(next(it, ""))
        elif a == "--known":
            known_file = next(it, "")
        else:
            args.append(a)
    if len(args) not in (1, 2):
        sys.stderr.write(__doc__)
        return 2
    binary = args[0]
    top = args[1] if len(args) == 2 else os.path.join(ROOT, "testdata", "realworld")
    files = files_under(top)
    if only:
        files = [f for f in files if os.path.relpath(f, top) in only or os.path.basename(f) in only]
    if not files:
        sys.stderr.write("compare.py: no HDF5 files under %s (run tests/realworld/fetch.sh)\n" % top)
        return 2
    known = load_known(known_file)
    counts = {}
    unexpected = []
    width = max(len(os.path.relpath(f, top)) for f in files)
    for f in files:
        name = os.path.relpath(f, top)
        status, detail = compare_file(binary, f)
        counts[status] = counts.get(status, 0) + 1
        note = ""
        if status in ("mismatch", "ours-error"):
            if name in known:
                note = "  [known: %s]" % known[name]
            else:
                note = "  [NOT IN known.txt]"
                unexpected.append(name)
        elif status == "match" and name in known:
            note = "  [listed in known.txt but matches now]"
        line = "%-*s  %-10s %s%s" % (width, name, status, detail, note)
        print(line.rstrip(), flush=True)
    dumped = len(files) - counts.get("excluded", 0)
    print(
        "\n%d of %d files the reference dumps match (%d mismatch, %d our error); "
        "%d excluded (the reference cannot dump them)"
        % (
            counts.get("match", 0),
            dumped,
            counts.get("mismatch", 0),
            counts.get("ours-error", 0),
            counts.get("excluded", 0),
        )
    )
    if unexpected:
        print("not matched and not in known.txt: %s" % ", ".join(unexpected))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
