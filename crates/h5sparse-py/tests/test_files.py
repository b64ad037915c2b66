"""Every dataset of every testdata/ fixture read through h5sparse equals h5py's reading, for
the whole dataset and for slices with steps; attributes equal h5py's; errors are the
contract's exceptions."""
import os
import shutil

import h5py
import numpy as np
import pytest

try:  # h5py reads the plugin-filter fixture only with hdf5plugin's filters registered
    import hdf5plugin  # noqa: F401
except ImportError:
    hdf5plugin = None

import h5sparse

FIXTURES = sorted(p for p in os.listdir(os.path.join(os.path.dirname(__file__), "../../../testdata"))
                  if p.endswith((".h5", ".h5ad")))


def _datasets(path):
    out = []
    with h5py.File(path) as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out.append(name)
        f.visititems(visit)
    return out


def _comparable(ds):
    dt = ds.dtype
    if dt.kind in "iufb" and dt.itemsize <= 8 and dt.shape == () and dt.names is None:
        return "numeric"
    if dt.kind == "S":
        return "fixed"
    if h5py.check_string_dtype(dt) is not None and h5py.check_string_dtype(dt).length is None:
        return "vlen"
    return None


@pytest.mark.parametrize("fixture", FIXTURES)
def test_every_dataset_equals_h5py(testdata, fixture):
    path = str(testdata / fixture)
    checked = 0
    with h5py.File(path) as ref, h5sparse.File(path) as f:
        for name in _datasets(path):
            r = ref[name]
            kind = _comparable(r)
            if kind is None or r.shape is None or "bitfield" in name:
                continue
            d = f[name]
            assert d.shape == r.shape, name
            assert d.ndim == r.ndim
            assert d.chunks == r.chunks, name
            assert d.compression == r.compression, name
            if kind == "vlen":
                want = r.asstr()[()]
            else:
                want = r[()]
                assert d.dtype == r.dtype, name
            got = d[()]
            if kind == "vlen" and r.shape != ():
                assert got.dtype == object
                assert list(got.ravel()) == list(np.asarray(want, dtype=object).ravel()), name
            else:
                np.testing.assert_array_equal(got, want, err_msg=name)
            if r.ndim >= 1 and r.shape[0] > 2 and kind != "vlen":
                key = (slice(1, None, 2),) + (slice(None),) * (r.ndim - 1)
                np.testing.assert_array_equal(d[key], r[key], err_msg=name)
                np.testing.assert_array_equal(d[-1], r[-1], err_msg=name)
            checked += 1
    assert checked > 0 or fixture in ("notebook.h5",)


# h5py's test files (fetched by tests/realworld/fetch.sh; absent offline): a compound with
# complex members among them.
_REALWORLD = os.path.join(os.path.dirname(__file__), "../../../testdata/realworld/h5py")
COMPOSITE = FIXTURES + (sorted(os.path.join("realworld", "h5py", p) for p in os.listdir(_REALWORLD)
                               if p.endswith(".h5")) if os.path.isdir(_REALWORLD) else [])


def _composite(dt):
    """Compound, array, variable-length sequence and opaque types (not references)."""
    if dt.names is not None or dt.subdtype is not None or dt.kind in "cV":
        return True
    return dt.kind == "O" and h5py.check_vlen_dtype(dt) is not None \
        and h5py.check_string_dtype(dt) is None


def _assert_same(got, want, what):
    """Equal values, compared through object fields (arrays inside) and NaNs alike."""
    if isinstance(want, np.ndarray) and want.dtype == object:
        assert isinstance(got, np.ndarray) and got.dtype == object and got.shape == want.shape, what
        for g, w in zip(got.ravel(), want.ravel()):
            _assert_same(g, w, what)
    elif isinstance(want, (np.ndarray, np.void)) and want.dtype.names:
        assert got.dtype == want.dtype, what
        for n in want.dtype.names:
            _assert_same(got[n], want[n], f"{what}.{n}")
    elif isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray) and got.dtype == want.dtype, what
        np.testing.assert_array_equal(got, want, err_msg=what)
    else:
        assert type(got) is type(want) and got == want, what


@pytest.mark.parametrize("fixture", COMPOSITE)
def test_composite_types_equal_h5py(testdata, fixture):
    """Compound datasets as numpy structured arrays (h5py's offsets and item size, complex
    numbers as complex), array types as subarray dtypes, variable-length sequences as object
    arrays of numpy arrays, opaque as `|V`: dtype and values as h5py gives them."""
    path = str(testdata / fixture)
    checked = 0
    with h5py.File(path) as ref, h5sparse.File(path) as f:
        for name in _datasets(path):
            r = ref[name]
            if r.shape is None or not _composite(r.dtype):
                continue
            checked += 1
            d = f[name]
            assert d.dtype == r.dtype, name
            assert d.shape == r.shape, name
            _assert_same(d[()], r[()], name)
            if r.ndim >= 1 and r.shape[0] > 1:
                _assert_same(d[1:], r[1:], f"{name}[1:]")
                _assert_same(d[::2], r[::2], f"{name}[::2]")
    if fixture.startswith("everything") or "compound" in fixture:
        assert checked >= 7 if fixture.startswith("everything") else checked > 0


@pytest.mark.parametrize("fixture", ["everything_latest.h5", "adata_csr.h5ad", "tenx.h5", "notebook.h5"])
def test_groups_and_attrs_equal_h5py(testdata, fixture):
    path = str(testdata / fixture)
    with h5py.File(path) as ref, h5sparse.File(path) as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Datatype):
                return
            if isinstance(obj, h5py.Group):
                g = f[name]
                assert sorted(g.keys()) == sorted(obj.keys()), name
                assert len(g) == len(obj)
                for k in obj.keys():
                    assert k in g
            mine = f[name]
            for k, v in obj.attrs.items():
                if isinstance(v, h5py.Empty) or "unsupported" in k:
                    continue
                got = mine.attrs[k]
                if isinstance(v, (str, bytes)):
                    assert got == v, (name, k)
                elif isinstance(v, np.ndarray) and v.dtype.kind in "iufbS":
                    np.testing.assert_array_equal(got, v, err_msg=f"{name} {k}")
                    assert got.dtype == v.dtype, (name, k)
                elif isinstance(v, np.generic) and v.dtype.kind in "iufb":
                    assert got == v and got.dtype == v.dtype, (name, k)
        ref.visititems(visit)
        assert "nonexistent" not in f
        with pytest.raises(KeyError):
            f["nonexistent/thing"]


def test_errors(tmp_path, testdata):
    with pytest.raises(FileNotFoundError):
        h5sparse.File(str(tmp_path / "missing.h5"))
    bad = tmp_path / "bad.h5"
    data = bytearray((testdata / "everything_latest.h5").read_bytes())
    data[100:400] = b"\xff" * 300
    bad.write_bytes(bytes(data))
    assert issubclass(h5sparse.Error, OSError)
    with pytest.raises(h5sparse.Error):
        with h5sparse.File(str(bad)) as f:
            f.visititems(lambda n, o: o[()] if isinstance(o, h5sparse.Dataset) else None)
    text = tmp_path / "text.h5"
    text.write_bytes(b"not an hdf5 file at all" * 100)
    with pytest.raises(h5sparse.Error):
        h5sparse.File(str(text))


def test_closed_file(testdata):
    f = h5sparse.File(str(testdata / "notebook.h5"))
    f.close()
    with pytest.raises(ValueError):
        f["X"]
