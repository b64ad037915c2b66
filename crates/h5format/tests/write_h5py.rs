//! Files written by `FileWriter`, read back by h5py (libhdf5) and checked by `h5dump`.
//!
//! Every test writes into a temp dir, runs a Python snippet that asserts on what h5py reads
//! (exit status 0 = pass), and runs `h5dump` which must exit 0 without error output. Tests
//! are skipped with a message when python3/h5py (or h5dump) are missing.

mod support;

/// The format every file of this matrix is written in (`write_latest.rs` includes this file
/// as a module with its own `FORMAT`, [`Format::Latest`]).
#[allow(dead_code)]
const FORMAT: Format = Format::Earliest;

use h5format::write::{AttrValue, DType, DatasetSpec, FileWriter, Format};
use support::{check_h5dump, check_py, have_h5py};

/// Skip without h5py; otherwise write `name` in a temp dir with `build`, finish it, check it
/// with `script` (see `support::check_py`) and `h5dump` (`-H` when `header_only`).
fn write_and_check(
    name: &str,
    header_only: bool,
    build: impl FnOnce(&mut FileWriter),
    script: &str,
) {
    if !have_h5py() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    let mut w = FileWriter::create(&path).unwrap();
    w.set_format(crate::FORMAT).unwrap();
    build(&mut w);
    w.finish().unwrap();
    check_py(&path, script);
    check_h5dump(&path, header_only);
}

#[test]
fn write_numeric_types_all_layouts() {
    write_and_check(
        "num.h5",
        false,
        |w| {
            let vals: Vec<i64> = (0..24).map(|i| i * 3 - 20).collect();
            macro_rules! each {
        ($($t:ty => $name:literal),*) => {$(
            for (layout, spec) in [
                ("compact", DatasetSpec::new(<$t as h5format::write::Element>::DTYPE, [4, 6]).compact()),
                ("contig", DatasetSpec::new(<$t as h5format::write::Element>::DTYPE, [4, 6])),
                ("chunked", DatasetSpec::new(<$t as h5format::write::Element>::DTYPE, [4, 6]).chunked([3, 4])),
            ] {
                let ds = w.create_dataset(&format!("/{}/{}", layout, $name), spec).unwrap();
                let v: Vec<$t> = vals.iter().map(|&x| x as $t).collect();
                w.write_typed(ds, &v).unwrap();
            }
        )*};
    }
            each!(i8 => "i1", i16 => "i2", i32 => "i4", i64 => "i8", u8 => "u1", u16 => "u2", u32 => "u4",
          u64 => "u8", f32 => "f4", f64 => "f8");
            // f16 as raw bytes: 1.5 = 0x3e00.
            let h = w
                .create_dataset("/f2", DatasetSpec::new(DType::F16, [2]))
                .unwrap();
            w.write_all(h, &[0x00, 0x3e, 0x00, 0xc0]).unwrap();
            let s = w
                .create_dataset("/scalar", DatasetSpec::new(DType::F64, []))
                .unwrap();
            w.write_typed(s, &[2.5f64]).unwrap();
            let sc = w
                .create_dataset(
                    "/scalar_compact",
                    DatasetSpec::new(DType::I32, []).compact(),
                )
                .unwrap();
            w.write_typed(sc, &[-7i32]).unwrap();
            let r3 = w
                .create_dataset(
                    "/rank3",
                    DatasetSpec::new(DType::U16, [2, 3, 5]).chunked([1, 2, 2]),
                )
                .unwrap();
            w.write_typed(r3, &(0..30u16).collect::<Vec<_>>()).unwrap();
        },
        r#"
f = h5py.File(p, 'r')
vals = np.arange(24).reshape(4, 6) * 3 - 20
for layout in ['compact', 'contig', 'chunked']:
    for name in ['i1','i2','i4','i8','u1','u2','u4','u8','f4','f8']:
        d = f[layout][name]
        assert d.dtype == np.dtype('<' + name), (layout, name, d.dtype)
        assert d.shape == (4, 6)
        assert (d[()] == vals.astype(name)).all(), (layout, name, d[()])
    assert f[layout]['i4'].chunks == ((3, 4) if layout == 'chunked' else None)
assert f['compact/i4'].id.get_create_plist().get_layout() == h5py.h5d.COMPACT
assert f['contig/i4'].id.get_create_plist().get_layout() == h5py.h5d.CONTIGUOUS
assert f['f2'].dtype == np.float16 and list(f['f2'][()]) == [1.5, -2.0]
assert f['scalar'].shape == () and f['scalar'][()] == 2.5
assert f['scalar_compact'][()] == -7
assert (f['rank3'][()] == np.arange(30).reshape(2, 3, 5)).all()
assert f['rank3'].chunks == (1, 2, 2)
"#,
    );
}

#[test]
fn write_bool_strings_and_attrs() {
    write_and_check(
        "str.h5",
        false,
        |w| {
            let b = w
                .create_dataset("/flags", DatasetSpec::new(DType::Bool, [4]))
                .unwrap();
            w.write_typed(b, &[true, false, false, true]).unwrap();
            let fs = w
                .create_dataset(
                    "/fixed",
                    DatasetSpec::new(
                        DType::FixedString {
                            len: 5,
                            utf8: false,
                        },
                        [3],
                    ),
                )
                .unwrap();
            w.write_all(fs, b"abc\0\0hello\0\0\0\0\0").unwrap();
            let vs = w
                .create_dataset("/vlen", DatasetSpec::new(DType::VarString, [4]))
                .unwrap();
            w.write_strings(
                vs,
                &["α-beta", "", "a much longer string than the others", "x"],
            )
            .unwrap();
            let vc = w
                .create_dataset(
                    "/g/vlen_chunked",
                    DatasetSpec::new(DType::VarString, [3])
                        .chunked([2])
                        .deflate(4),
                )
                .unwrap();
            w.write_strings(vc, &["one", "two", "three"]).unwrap();
            w.set_attr("/", "encoding-type", "anndata".into()).unwrap();
            w.set_attr("/", "encoding-version", "0.1.0".into()).unwrap();
            w.set_attr("/g", "n", AttrValue::scalar(42i64)).unwrap();
            w.set_attr("/g", "xs", AttrValue::array(&[1.5f64, 2.5]))
                .unwrap();
            w.set_attr("/g", "ok", AttrValue::scalar(true)).unwrap();
            w.set_attr(
                "/g",
                "names",
                AttrValue::Strings(vec!["a".into(), "bé".into()]),
            )
            .unwrap();
            w.set_attr("/g", "fixed", AttrValue::fixed_string("fix", false))
                .unwrap();
            w.set_attr("/flags", "unit", "none".into()).unwrap();
            w.set_attr("/flags", "unit", "replaced".into()).unwrap();
            w.set_attr(
                "/g/vlen_chunked",
                "m",
                AttrValue::Data {
                    dtype: DType::U8,
                    shape: vec![2, 2],
                    data: vec![1, 2, 3, 4],
                },
            )
            .unwrap();
        },
        r#"
f = h5py.File(p, 'r')
d = f['flags']
assert d.dtype == np.bool_, d.dtype
assert list(d[()]) == [True, False, False, True]
assert d.attrs['unit'] == 'replaced'
assert list(f['fixed'][()]) == [b'abc', b'hello', b''], f['fixed'][()]
assert f['fixed'].dtype == np.dtype('S5')
v = f['vlen']
assert h5py.check_string_dtype(v.dtype).encoding == 'utf-8'
assert list(v.asstr()[()]) == ['α-beta', '', 'a much longer string than the others', 'x'], v.asstr()[()]
assert list(f['g/vlen_chunked'].asstr()[()]) == ['one', 'two', 'three']
assert f['g/vlen_chunked'].compression == 'gzip'
assert f.attrs['encoding-type'] == 'anndata' and f.attrs['encoding-version'] == '0.1.0'
assert f['/'].attrs.get_id('encoding-type').shape == ()
g = f['g']
assert g.attrs['n'] == 42 and g.attrs['n'].dtype == np.int64
assert list(g.attrs['xs']) == [1.5, 2.5]
assert g.attrs['ok'] == True and g.attrs['ok'].dtype == np.bool_
assert list(g.attrs['names']) == ['a', 'bé'], g.attrs['names']
assert g.attrs['fixed'] == b'fix'
assert (f['g/vlen_chunked'].attrs['m'] == np.array([[1, 2], [3, 4]])).all()
"#,
    );
}

#[test]
fn write_filters_and_fill() {
    write_and_check(
        "filt.h5",
        false,
        |w| {
            let data: Vec<f64> = (0..1000).map(|i| (i as f64).sin()).collect();
            for (name, spec) in [
                (
                    "gz0",
                    DatasetSpec::new(DType::F64, [40, 25])
                        .chunked([7, 10])
                        .deflate(0),
                ),
                (
                    "gz9",
                    DatasetSpec::new(DType::F64, [40, 25])
                        .chunked([7, 10])
                        .deflate(9),
                ),
                (
                    "shuf",
                    DatasetSpec::new(DType::F64, [40, 25])
                        .chunked([7, 10])
                        .shuffle()
                        .deflate(4),
                ),
                (
                    "fl",
                    DatasetSpec::new(DType::F64, [40, 25])
                        .chunked([7, 10])
                        .fletcher32(),
                ),
                (
                    "all",
                    DatasetSpec::new(DType::F64, [40, 25])
                        .chunked([16, 25])
                        .shuffle()
                        .deflate(6)
                        .fletcher32(),
                ),
            ] {
                let ds = w.create_dataset(name, spec).unwrap();
                w.write_typed(ds, &data).unwrap();
            }
            // Fill values: chunked written partially, contiguous not written at all.
            let fc = w
                .create_dataset(
                    "fill_chunked",
                    DatasetSpec::new(DType::I32, [10])
                        .chunked([4])
                        .fill((-1i32).to_le_bytes()),
                )
                .unwrap();
            w.write_hyperslab(fc, &[2], &[3], &h5format::write::to_le_bytes(&[5i32, 6, 7]))
                .unwrap();
            w.create_dataset(
                "fill_contig",
                DatasetSpec::new(DType::F32, [5]).fill(3.5f32.to_le_bytes()),
            )
            .unwrap();
        },
        r#"
f = h5py.File(p, 'r')
data = np.sin(np.arange(1000.0)).reshape(40, 25)
for name in ['gz0', 'gz9', 'shuf', 'fl', 'all']:
    assert (f[name][()] == data).all(), name
assert f['gz0'].compression == 'gzip' and f['gz0'].compression_opts == 0
assert f['gz9'].compression_opts == 9 and not f['gz9'].shuffle
assert f['shuf'].shuffle and f['shuf'].compression_opts == 4
assert f['fl'].fletcher32 and f['fl'].compression is None
a = f['all']
assert a.shuffle and a.fletcher32 and a.compression == 'gzip' and a.compression_opts == 6
assert a.chunks == (16, 25)
assert list(f['fill_chunked'][()]) == [-1, -1, 5, 6, 7, -1, -1, -1, -1, -1], f['fill_chunked'][()]
assert f['fill_chunked'].fillvalue == -1
assert list(f['fill_contig'][()]) == [3.5] * 5 and f['fill_contig'].fillvalue == 3.5
"#,
    );
}

#[test]
fn write_hyperslabs() {
    write_and_check(
        "slab.h5",
        false,
        |w| {
            for (name, spec) in [
                ("contig", DatasetSpec::new(DType::U32, [6, 7])),
                ("compact", DatasetSpec::new(DType::U32, [6, 7]).compact()),
                (
                    "chunked",
                    DatasetSpec::new(DType::U32, [6, 7])
                        .chunked([4, 3])
                        .deflate(1),
                ),
            ] {
                let ds = w.create_dataset(name, spec).unwrap();
                // Four blocks that tile the dataset: value = 100*row + col.
                for (start, count) in [
                    ([0u64, 0u64], [2u64, 7u64]),
                    ([2, 0], [4, 2]),
                    ([2, 2], [3, 5]),
                    ([5, 2], [1, 5]),
                ] {
                    let mut v = Vec::new();
                    for r in start[0]..start[0] + count[0] {
                        for c in start[1]..start[1] + count[1] {
                            v.push((100 * r + c) as u32);
                        }
                    }
                    w.write_hyperslab(ds, &start, &count, &h5format::write::to_le_bytes(&v))
                        .unwrap();
                }
                // A wrong-sized buffer is an error, not a panic.
                assert!(w.write_hyperslab(ds, &[0, 0], &[1, 1], &[0; 3]).is_err());
                assert!(w.write_hyperslab(ds, &[5, 0], &[2, 1], &[0; 8]).is_err());
            }
        },
        r#"
f = h5py.File(p, 'r')
want = np.arange(6)[:, None] * 100 + np.arange(7)[None, :]
for name in ['contig', 'compact', 'chunked']:
    assert (f[name][()] == want).all(), (name, f[name][()])
"#,
    );
}

#[test]
fn write_streaming_append_gzip() {
    write_and_check(
        "stream.h5",
        true,
        |w| {
            let ds = w
                .create_dataset(
                    "/x",
                    DatasetSpec::new(DType::F64, [0])
                        .unlimited()
                        .chunked([10_000])
                        .deflate(4)
                        .shuffle(),
                )
                .unwrap();
            let m = w
                .create_dataset(
                    "/m",
                    DatasetSpec::new(DType::I32, [0, 3])
                        .unlimited()
                        .chunked([100, 2]),
                )
                .unwrap();
            let n = 1_000_000u64;
            let mut at = 0u64;
            let mut batch = 1u64;
            while at < n {
                let len = batch.min(n - at);
                let v: Vec<f64> = (at..at + len).map(|i| i as f64 * 0.5).collect();
                w.append_typed(ds, &v).unwrap();
                at += len;
                batch = (batch * 7 + 13) % 30_011;
            }
            for k in 0..37 {
                let rows: Vec<i32> = (0..k * 3).collect();
                w.append_typed(m, &rows).unwrap();
            }
            // Appending a partial row fails cleanly.
            assert!(w.append(m, &[0; 4]).is_err());
            let s = w
                .create_dataset(
                    "/s",
                    DatasetSpec::new(DType::VarString, [0])
                        .unlimited()
                        .chunked([4]),
                )
                .unwrap();
            w.append_strings(s, &["a", "b", "c"]).unwrap();
            w.append_strings(s, &["d", "e"]).unwrap();
        },
        r#"
f = h5py.File(p, 'r')
x = f['x']
assert x.shape == (1000000,) and x.maxshape == (None,) and x.chunks == (10000,)
assert x.compression == 'gzip' and x.shuffle
v = x[()]
assert v.sum() == 0.5 * 999999 * 1000000 / 2, v.sum()
assert v[0] == 0.0 and v[1] == 0.5 and v[123457] == 123457 * 0.5 and v[-1] == 999999 * 0.5
m = f['m']
rows = sum(range(37))
assert m.shape == (rows, 3) and m.maxshape == (None, 3)
want = np.concatenate([np.arange(k * 3) for k in range(37)]).reshape(rows, 3)
assert (m[()] == want).all()
assert list(f['s'].asstr()[()]) == ['a', 'b', 'c', 'd', 'e']
"#,
    );
}

#[test]
fn write_many_group_members() {
    write_and_check(
        "many.h5",
        true,
        |w| {
            for i in 0..5000 {
                let ds = w
                    .create_dataset(
                        &format!("/big/d{i:05}"),
                        DatasetSpec::new(DType::I32, []).compact(),
                    )
                    .unwrap();
                w.write_typed(ds, &[i]).unwrap();
            }
            for i in 0..50 {
                w.create_group(&format!("/big/sub{i}/deeper/still"))
                    .unwrap();
            }
            w.create_group("/empty").unwrap();
        },
        r#"
f = h5py.File(p, 'r')
g = f['big']
assert len(g) == 5050, len(g)
names = list(g)
assert names == sorted(names)
for i in [0, 1, 7, 8, 9, 999, 2500, 4999]:
    assert g['d%05d' % i][()] == i
assert 'still' in g['sub42/deeper']
assert len(f['empty']) == 0
"#,
    );
}

#[test]
fn write_in_memory_matches_h5py() {
    if !have_h5py() {
        return;
    }
    let mut w = FileWriter::in_memory();
    let ds = w
        .create_dataset("a/b", DatasetSpec::new(DType::I16, [3]))
        .unwrap();
    w.write_typed(ds, &[1i16, -2, 3]).unwrap();
    let bytes = w.finish_to_vec().unwrap();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("mem.h5");
    std::fs::write(&path, &bytes).unwrap();
    check_py(
        &path,
        "assert list(h5py.File(p, 'r')['a/b'][()]) == [1, -2, 3]",
    );
    check_h5dump(&path, false);
}

#[test]
fn write_empty_datasets_and_limits() {
    write_and_check(
        "empty.h5",
        false,
        |w| {
            w.create_dataset("/contig0", DatasetSpec::new(DType::F64, [0]))
                .unwrap();
            w.create_dataset(
                "/chunk0",
                DatasetSpec::new(DType::I8, [0, 5])
                    .unlimited()
                    .chunked([4, 5])
                    .deflate(2),
            )
            .unwrap();
            w.create_dataset(
                "/never_written",
                DatasetSpec::new(DType::U16, [3]).chunked([2]),
            )
            .unwrap();
            let f = w
                .create_dataset(
                    "/bounded",
                    DatasetSpec::new(DType::U8, [0])
                        .max_shape([Some(10)])
                        .chunked([3]),
                )
                .unwrap();
            w.append(f, &[1, 2, 3, 4]).unwrap();
            // Attributes over 64 KiB go to dense storage, up to 16 MiB per object.
            let too_big = AttrValue::array(&vec![0u8; 17 << 20]);
            let err = w.set_attr("/bounded", "big", too_big).unwrap_err();
            assert!(err.to_string().contains("dense attribute storage"), "{err}");
            w.set_attr("/bounded", "big", AttrValue::array(&vec![9u8; 70_000]))
                .unwrap();
            w.set_attr("/bounded", "big2", AttrValue::array(&vec![8u8; 60_000]))
                .unwrap();
        },
        r#"
f = h5py.File(p, 'r')
assert f['contig0'].shape == (0,) and f['contig0'][()].size == 0
assert f['chunk0'].shape == (0, 5) and f['chunk0'].maxshape == (None, 5)
assert list(f['never_written'][()]) == [0, 0, 0]
b = f['bounded']
assert b.maxshape == (10,) and list(b[()]) == [1, 2, 3, 4]
assert (b.attrs['big'] == 9).all() and b.attrs['big'].size == 70000
assert (b.attrs['big2'] == 8).all()
"#,
    );
}
