"""Checks `h5sparse manifest` output against h5py (the oracle).

    python3 tests/manifest_check.py FILE.h5 MANIFEST.json [FILE.h5 MANIFEST.json ...]

Each manifest is opened with fsspec's reference file system and Zarr (v2 format), with no
HDF5 library involved. For every dataset h5py sees in FILE (following hard links only):
- if Zarr v2 can express it (a plain numeric, bool, fixed-string, opaque or packed compound
  dtype, a dataspace that is not NULL, storage in the file, filters with a numcodecs
  equivalent), the Zarr array must be in the manifest with h5py's shape, dtype and values;
- otherwise it must be absent and named under "h5sparse:skipped" in its parent's .zattrs.
Group attributes must equal h5py's for the numeric ones. Prints one line per file; exits 1
on the first difference. Prints "skip:" and exits 0 when zarr/fsspec are missing.
"""
import json
import sys

try:
    import fsspec
    import h5py
    import numpy as np
    import zarr
except ImportError as e:  # pragma: no cover - CI installs them
    print(f"skip: {e}")
    sys.exit(0)
try:
    import hdf5plugin  # noqa: F401  (h5py reads plugin-filtered fixtures through it)
except ImportError:
    hdf5plugin = None

# HDF5 filter ids with a numcodecs equivalent: deflate, shuffle, fletcher32, blosc, zstd.
NUMCODECS_FILTERS = {1, 2, 3, 32001, 32015}


def open_zarr(manifest):
    with open(manifest) as f:
        refs = json.load(f)
    assert refs.get("version") == 1 and isinstance(refs.get("refs"), dict), manifest
    if int(zarr.__version__.split(".")[0]) < 3:
        fs = fsspec.filesystem("reference", fo=refs)
        return refs["refs"], zarr.open(fs.get_mapper(""), mode="r")
    # Zarr 3 reads through an async store: the reference file system and its target file
    # systems (local or HTTP) must all be asynchronous.
    fs = fsspec.filesystem(
        "reference", fo=refs, asynchronous=True, remote_options={"asynchronous": True}
    )
    store = zarr.storage.FsspecStore(fs, read_only=True, path="")
    return refs["refs"], zarr.open_group(store, mode="r", zarr_format=2)


def filter_ids(ds):
    dcpl = ds.id.get_create_plist()
    return [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]


def plain_dtype(dt):
    """Whether Zarr v2 (numpy) expresses this h5py dtype exactly as HDF5 stores it."""
    if h5py.check_vlen_dtype(dt) is not None or h5py.check_string_dtype(dt) is not None and \
            h5py.check_string_dtype(dt).length is None:
        return False
    if h5py.check_ref_dtype(dt) is not None:
        return False
    if dt.names is not None:
        packed = sum(dt.fields[n][0].itemsize for n in dt.names) == dt.itemsize
        return packed and all(plain_dtype(dt.fields[n][0]) for n in dt.names)
    if dt.subdtype is not None:
        return plain_dtype(dt.subdtype[0])
    if dt.kind == "f":
        return dt.itemsize in (2, 4, 8)
    if dt.kind == "c":
        return dt.itemsize in (8, 16)
    return dt.kind in "iubSV" and dt.itemsize > 0


def _ieee_layouts_only(tid):
    """False for a float type (or compound member) of another bit layout than IEEE: h5py
    reads it converted, its stored bytes are not the numpy type's."""
    if isinstance(tid, h5py.h5t.TypeFloatID):
        layouts = {2: ((15, 10, 5, 0, 10), 15), 4: ((31, 23, 8, 0, 23), 127),
                   8: ((63, 52, 11, 0, 52), 1023)}
        want = layouts.get(tid.get_size())
        return want is not None and (tuple(tid.get_fields()), tid.get_ebias()) == want
    if isinstance(tid, h5py.h5t.TypeCompoundID):
        return all(_ieee_layouts_only(tid.get_member_type(i)) for i in range(tid.get_nmembers()))
    if isinstance(tid, h5py.h5t.TypeArrayID):
        return _ieee_layouts_only(tid.get_super())
    return True


def expressible(ds):
    if ds.shape is None:
        return False
    if not _ieee_layouts_only(ds.id.get_type()):
        return False
    if ds.dtype.subdtype is not None:  # array elements outside a compound
        return False
    if not plain_dtype(ds.dtype):
        return False
    tid = ds.id.get_type()
    if isinstance(tid, h5py.h5t.TypeBitfieldID) or isinstance(tid, h5py.h5t.TypeOpaqueID) \
            and ds.dtype.kind != "V":
        return False
    if isinstance(tid, h5py.h5t.TypeStringID) and tid.get_strpad() == h5py.h5t.STR_SPACEPAD:
        return False  # HDF5 strips the padding spaces, Zarr would not
    if ds.external:
        return False
    if ds.is_virtual:  # the values live in other datasets: no chunks of its own to point at
        return False
    ids = filter_ids(ds)
    if not all(f in NUMCODECS_FILTERS for f in ids):
        return False
    if ids and ds.chunks is not None:
        # A chunk stored with a filter skipped (an optional filter that failed).
        n = ds.id.get_num_chunks()
        if any(ds.id.get_chunk_info(i).filter_mask for i in range(n)):
            return False
    return True


def equal(a, b):
    if a.dtype.names is not None:
        return a.shape == b.shape and all(equal(a[n], b[n]) for n in a.dtype.names)
    if a.dtype.kind == "f":
        return np.array_equal(a, b, equal_nan=True)
    return np.array_equal(a, b)


def check(path, manifest):
    refs, root = open_zarr(manifest)
    h = h5py.File(path, "r")
    counts = {"arrays": 0, "skipped": 0}
    failures = []

    def skipped_in(parent):
        key = (parent.strip("/") + "/.zattrs").lstrip("/")
        return json.loads(refs.get(key, "{}")).get("h5sparse:skipped", [])

    def visit(group, seen):
        for name in group:
            link = group.get(name, getlink=True)
            if not isinstance(link, h5py.HardLink):
                continue
            obj = group[name]
            rel = obj.name.strip("/") if group.name == "/" else f"{group.name.strip('/')}/{name}"
            if isinstance(obj, h5py.Group):
                if obj.id in seen:
                    continue
                visit(obj, seen | {obj.id})
                continue
            if not isinstance(obj, h5py.Dataset):
                continue
            in_refs = f"{rel}/.zarray" in refs
            if not expressible(obj):
                if in_refs or name not in skipped_in(group.name):
                    failures.append(f"{rel}: not expressible, yet in the manifest or not named as skipped")
                counts["skipped"] += 1
                continue
            if not in_refs:
                failures.append(f"{rel}: missing from the manifest")
                continue
            z = root[rel]
            want = obj[()]
            got = z[...]
            if z.shape != obj.shape:
                failures.append(f"{rel}: shape {z.shape} != {obj.shape}")
            elif np.dtype(z.dtype) != obj.dtype:
                failures.append(f"{rel}: dtype {z.dtype} != {obj.dtype}")
            elif not equal(np.asarray(got), np.asarray(want)):
                failures.append(f"{rel}: values differ")
            counts["arrays"] += 1

    visit(h, {h.id})
    # Numeric root attributes round-trip as JSON.
    attrs = json.loads(refs.get(".zattrs", "{}"))
    for k, v in h.attrs.items():
        if isinstance(v, (np.integer, np.floating)) and np.isfinite(v):
            if attrs.get(k) != v.item():
                failures.append(f"/@{k}: {attrs.get(k)!r} != {v!r}")
    print(f"{path}: {counts['arrays']} arrays equal to h5py, {counts['skipped']} skipped")
    return failures


def main(argv):
    if len(argv) < 2 or len(argv) % 2:
        print(__doc__)
        return 2
    bad = []
    for path, manifest in zip(argv[::2], argv[1::2]):
        bad += [f"{manifest}: {f}" for f in check(path, manifest)]
    for b in bad:
        print("FAIL", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
