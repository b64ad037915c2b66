//! Writer part 2: dense attribute storage (attributes over 64 KiB), creation-order tracking,
//! external links, committed datatypes and NULL dataspaces. Every file is read back by our
//! reader, by h5py (libhdf5 2.x) and by Debian's `h5dump` (libhdf5 1.10).

mod support;

/// The format every file of this matrix is written in (`write_latest.rs` includes this file
/// as a module with its own `FORMAT`, [`Format::Latest`]).
#[allow(dead_code)]
const FORMAT: Format = Format::Earliest;

use h5format::write::{AttrValue, DType, DatasetSpec, FileWriter, Format};
use h5format::{File, LinkTarget, Object};
use support::{check_h5dump, check_py, have_h5py};

fn write_and_check(name: &str, build: impl FnOnce(&mut FileWriter), script: &str) -> File {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    let mut w = FileWriter::in_memory();
    w.set_format(crate::FORMAT).unwrap();
    build(&mut w);
    let bytes = w.finish_to_vec().expect("finish");
    std::fs::write(&path, &bytes).expect("write file");
    if have_h5py() {
        check_py(&path, script);
        check_h5dump(&path, false);
    }
    File::from_bytes(bytes).expect("our reader opens it")
}

#[test]
fn dense_attributes_over_64k() {
    let big: Vec<f64> = (0..9000).map(|i| i as f64 * 0.5).collect();
    let f = write_and_check(
        "dense.h5",
        |w| {
            w.create_group("/g").unwrap();
            w.set_attr("/g", "big", AttrValue::array(&big)).unwrap();
            w.set_attr("/g", "small", AttrValue::scalar(1i64)).unwrap();
            w.set_attr("/g", "text", AttrValue::from("hello")).unwrap();
            w.set_attr("/g", "empty", AttrValue::Empty(DType::I32))
                .unwrap();
            for i in 0..30i32 {
                w.set_attr("/g", &format!("a{i:02}"), AttrValue::scalar(i))
                    .unwrap();
            }
            let d = w
                .create_dataset("/d", DatasetSpec::new(DType::I32, [3]))
                .unwrap();
            w.write_typed(d, &[1i32, 2, 3]).unwrap();
            let huge: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
            w.set_attr("/d", "huge", AttrValue::array(&huge)).unwrap();
        },
        r#"
f = h5py.File(p, 'r')
g = f['g']
assert np.array_equal(g.attrs['big'], np.arange(9000) * 0.5)
assert g.attrs['small'] == 1
assert g.attrs['text'] == 'hello', g.attrs['text']
assert g.attrs.get_id('empty').shape is None
assert sorted(g.attrs.keys()) == sorted(['big', 'small', 'text', 'empty'] + ['a%02d' % i for i in range(30)])
for i in range(30):
    assert g.attrs['a%02d' % i] == i
d = f['d']
assert np.array_equal(d[()], [1, 2, 3])
assert np.array_equal(d.attrs['huge'], np.arange(200000) % 251)
"#,
    );
    let g = f.group("/g").unwrap();
    let attrs = g.attributes().unwrap();
    assert_eq!(attrs.len(), 34);
    let big_attr = attrs.iter().find(|a| a.name == "big").unwrap();
    assert_eq!(big_attr.data.len(), 72_000);
    assert_eq!(&big_attr.data[8..16], &0.5f64.to_le_bytes());
}

#[test]
fn creation_order_links_and_attributes() {
    let f = write_and_check(
        "order.h5",
        |w| {
            w.create_group("/t").unwrap();
            w.set_track_order("/t", true).unwrap();
            for name in ["zeta", "alpha", "mid", "Beta", "_x"] {
                let d = w
                    .create_dataset(&format!("/t/{name}"), DatasetSpec::new(DType::I8, []))
                    .unwrap();
                w.write_typed(d, &[1i8]).unwrap();
                w.set_attr("/t", name, AttrValue::from(name)).unwrap();
            }
            w.create_soft_link("/t/soft", "/t/zeta").unwrap();
            w.create_external_link("/t/ext", "other.h5", "/some/path")
                .unwrap();
            w.create_external_link("/plain_ext", "x.h5", "/y").unwrap();
            let d = w
                .create_dataset("/d", DatasetSpec::new(DType::U8, [2]))
                .unwrap();
            w.write_typed(d, &[1u8, 2]).unwrap();
            w.set_track_order("/d", true).unwrap();
            for name in ["zz", "aa", "mm"] {
                w.set_attr("/d", name, AttrValue::scalar(3u8)).unwrap();
            }
        },
        r#"
f = h5py.File(p, 'r')
t = f['t']
assert list(t.keys()) == ['zeta', 'alpha', 'mid', 'Beta', '_x', 'soft', 'ext'], list(t.keys())
assert list(t.attrs.keys()) == ['zeta', 'alpha', 'mid', 'Beta', '_x'], list(t.attrs.keys())
assert t.get('ext', getlink=True).filename == 'other.h5'
assert t.get('ext', getlink=True).path == '/some/path'
assert t.get('soft', getlink=True).path == '/t/zeta'
assert t['soft'][()] == 1
assert f.get('plain_ext', getlink=True).filename == 'x.h5'
assert list(f['d'].attrs.keys()) == ['zz', 'aa', 'mm'], list(f['d'].attrs.keys())
"#,
    );
    let t = f.group("/t").unwrap();
    let names: Vec<String> = t.links().unwrap().iter().map(|l| l.name.clone()).collect();
    assert_eq!(names, ["zeta", "alpha", "mid", "Beta", "_x", "soft", "ext"]);
    let ext = t.link("ext").unwrap().unwrap();
    assert!(matches!(ext.target, LinkTarget::External { .. }));
}

#[test]
fn committed_types_and_null_dataspaces() {
    let f = write_and_check(
        "types.h5",
        |w| {
            w.commit_datatype("/types/f8", DType::F64).unwrap();
            w.set_attr("/types/f8", "note", AttrValue::from("a named type"))
                .unwrap();
            w.create_dataset("/empty", DatasetSpec::null(DType::F64))
                .unwrap();
            w.set_attr("/empty", "e", AttrValue::Empty(DType::U16))
                .unwrap();
        },
        r#"
f = h5py.File(p, 'r')
t = f['types/f8']
assert isinstance(t, h5py.Datatype)
assert t.dtype == np.dtype('<f8')
assert t.attrs['note'] == 'a named type'
e = f['empty']
assert e.shape is None and e.dtype == np.dtype('<f8')
assert f['empty'].attrs.get_id('e').shape is None
"#,
    );
    assert!(matches!(
        f.object("/types/f8").unwrap(),
        Object::Datatype(_)
    ));
    let e = f.dataset("/empty").unwrap();
    assert!(matches!(
        e.space(),
        h5format::read::dataspace::Dataspace::Null
    ));
}

#[test]
fn object_and_region_references() {
    use h5format::write::Reference;
    // A region of /data: h5py's regionref[0:1, 1:3] serialized as libhdf5 1.8 does
    // (hyperslab selection version 1, one block [0,1]-[0,2] of rank 2).
    let mut sel = Vec::new();
    for v in [2u32, 1, 0, 0, 2, 1] {
        sel.extend_from_slice(&v.to_le_bytes());
    }
    for v in [0u32, 1, 0, 2] {
        sel.extend_from_slice(&v.to_le_bytes());
    }
    // Length field of version 1 hyperslab selections: 4 (rank) + 4 (count) + blocks.
    sel[12..16].copy_from_slice(&(4u32 + 4 + 16).to_le_bytes());
    let _ = write_and_check(
        "refs.h5",
        |w| {
            let d = w
                .create_dataset("/data", DatasetSpec::new(DType::I32, [2, 3]))
                .unwrap();
            w.write_typed(d, &[0i32, 1, 2, 3, 4, 5]).unwrap();
            w.create_group("/g/sub").unwrap();
            let r = w
                .create_dataset("/z/refs", DatasetSpec::new(DType::ObjectRef, [3]))
                .unwrap();
            w.write_references(
                r,
                vec![
                    Reference::Object("/data".into()),
                    Reference::Object("/g/sub".into()),
                    Reference::Null,
                ],
            )
            .unwrap();
            w.set_attr("/a_first", "x", AttrValue::scalar(1u8))
                .unwrap_err();
            w.set_attr(
                "/",
                "ref",
                AttrValue::References {
                    region: false,
                    shape: vec![],
                    refs: vec![Reference::Object("/z/refs".into())],
                },
            )
            .unwrap();
            w.set_track_order("/g", true).unwrap();
            w.set_attr(
                "/g",
                "refs",
                AttrValue::References {
                    region: false,
                    shape: vec![2],
                    refs: vec![Reference::Object("/g/sub".into()), Reference::Null],
                },
            )
            .unwrap();
            let rr = w
                .create_dataset("/region", DatasetSpec::new(DType::RegionRef, [1]))
                .unwrap();
            w.write_references(
                rr,
                vec![Reference::Region {
                    path: "/data".into(),
                    selection: sel.clone(),
                }],
            )
            .unwrap();
        },
        r#"
f = h5py.File(p, 'r')
r = f['z/refs'][()]
assert f[r[0]].name == '/data' and f[r[1]].name == '/g/sub' and not r[2], r
assert f[f.attrs['ref']].name == '/z/refs'
g = f['g'].attrs['refs']
assert f[g[0]].name == '/g/sub' and not g[1]
rr = f['region'][0]
assert f[rr].name == '/data'
assert f['data'][rr].ravel().tolist() == [1, 2], f['data'][rr]
"#,
    );
}
