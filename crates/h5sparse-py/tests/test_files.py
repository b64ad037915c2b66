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
