//! In-place edits ([`h5format::edit::Editor`]) of files h5py wrote, with both the oldest
//! (`libver="earliest"`: v0 superblock, v1 headers, symbol tables, v1 B-tree chunk indexes)
//! and newest (`libver="latest"`: v3 superblock, v2 headers, link messages, v4 layouts with
//! single-chunk, fixed, extensible array and v2 B-tree indexes) structures. Every result is
//! checked by h5py reading the expected values and by `h5dump` exiting 0.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use h5format::edit::Editor;
use h5format::write::{AttrValue, DType, DatasetSpec, Durability};
use h5format::Error;
use support::{check_h5dump, check_py, have_h5py, python_ok};

/// Python making the base file `sys.argv[1]` with `libver`.
fn base_script(libver: &str) -> String {
    format!(
        r#"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], 'w', libver='{libver}') as f:
    f.attrs['title'] = 'base'
    f.attrs['n'] = np.arange(3, dtype='i4')
    g = f.create_group('grp')
    g.attrs['x'] = 1.5
    f.create_group('tracked', track_order=True)
    f['tracked'].attrs['a'] = 1
    f['tracked'].attrs['b'] = 2
    f['tracked/first'] = 1
    d = f.create_group('d')
    d['contig'] = np.arange(12, dtype='f8').reshape(3, 4)
    d.create_dataset('gz', data=np.arange(100, dtype='i4').reshape(10, 10), chunks=(4, 4), compression='gzip', shuffle=True)
    d.create_dataset('grow', data=np.arange(10, dtype='i8'), chunks=(4,), maxshape=(None,))
    d.create_dataset('grow2', data=np.arange(20, dtype='f4').reshape(5, 4), chunks=(2, 4), maxshape=(None, None), compression='gzip')
    d.create_dataset('fixed', data=np.arange(30, dtype='u2').reshape(5, 6), chunks=(2, 3), fletcher32=True)
    d.create_dataset('single', data=np.arange(8, dtype='i4'), chunks=(8,), compression='gzip')
    d.create_dataset('empty', shape=(6,), dtype='i4', chunks=(2,), maxshape=(12,))
    g['inner'] = np.arange(5, dtype='i4')
    f['soft'] = h5py.SoftLink('/grp/inner')
    for i in range(20):
        g.attrs[f'many{{i:02d}}'] = np.arange(i + 1)
    td = f.create_group('tdense', track_order=True)
    for i in range(10):
        td.attrs[f'a{{i}}'] = i
    m = f.create_group('many')
    for i in range(12):
        m.create_group(f'g{{i:02d}}')
"#
    )
}

/// A fresh base file in `dir` for `libver`, and whether `h5dump` (1.10 on Debian) reads it:
/// it cannot read the filtered datasets HDF5 2.0 writes with `libver="latest"`, so the
/// `h5dump` check of edits is only meaningful on bases it reads.
fn base(dir: &Path, libver: &str) -> (PathBuf, bool) {
    let p = dir.join(format!("{libver}.h5"));
    python_ok("base file", &base_script(libver), &p);
    let dump_ok = Command::new("h5dump")
        .arg("-H")
        .arg(&p)
        .output()
        .is_ok_and(|o| o.status.success());
    if !dump_ok {
        eprintln!("h5dump cannot read the unedited {libver} base: h5dump check skipped for it");
    }
    (p, dump_ok)
}

fn editor(p: &Path) -> Editor {
    let mut ed = Editor::open(p).unwrap();
    ed.set_durability(Durability::PageCache);
    ed
}

fn bytes<T: h5format::write::Element>(v: &[T]) -> Vec<u8> {
    h5format::write::to_le_bytes(v)
}

#[test]
fn attributes_add_overwrite_delete() {
    if !have_h5py() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for libver in ["earliest", "latest"] {
        let (p, dump_ok) = base(dir.path(), libver);
        let mut ed = editor(&p);
        ed.set_attr("/", "added", AttrValue::array(&[1i64, 2, 3]))
            .unwrap();
        ed.set_attr(
            "/",
            "title",
            AttrValue::String("changed, and longer than before".into()),
        )
        .unwrap();
        ed.delete_attr("/", "n").unwrap();
        // 21 attributes: libhdf5 put them in dense storage with libver="latest"; the edit
        // turns them into header messages.
        ed.set_attr("/grp", "x", AttrValue::scalar(7i32)).unwrap();
        ed.delete_attr("/grp", "many05").unwrap();
        // Dense attributes of an object tracking their creation order are refused, the file
        // left as it was.
        let before = std::fs::read(&p).unwrap();
        let e = ed
            .set_attr("/tdense", "x", AttrValue::scalar(7i32))
            .unwrap_err();
        assert!(e.to_string().contains("creation order"), "{e}");
        assert!(same_but_free(
            &before,
            &std::fs::read(&p).unwrap(),
            &ed.free_regions()
        ));
        for i in 0..30 {
            ed.set_attr(
                "/d/contig",
                &format!("a{i:02}"),
                AttrValue::array(&vec![i as f64; i + 1]),
            )
            .unwrap();
        }
        ed.set_attr("/tracked", "c", AttrValue::scalar(3i64))
            .unwrap();
        ed.set_attr("/d/gz", "units", AttrValue::String("m".into()))
            .unwrap();
        assert!(matches!(
            ed.delete_attr("/", "nope").unwrap_err(),
            Error::InObject { .. } | Error::NotFound(_)
        ));
        check_py(
            &p,
            r#"
f = h5py.File(p, 'r')
assert list(f.attrs['added']) == [1, 2, 3]
t = f.attrs['title']
assert (t.decode() if isinstance(t, bytes) else t) == 'changed, and longer than before'
assert 'n' not in f.attrs
assert f['grp'].attrs['x'] == 7
for i in range(30):
    assert list(f['d/contig'].attrs[f'a{i:02d}']) == [float(i)] * (i + 1)
assert 'many05' not in f['grp'].attrs and len(f['grp'].attrs) == 20
assert all(list(f['grp'].attrs[f'many{i:02d}']) == list(range(i + 1)) for i in range(20) if i != 5)
assert list(f['tracked'].attrs) == ['a', 'b', 'c'], list(f['tracked'].attrs)
assert f['tracked'].attrs['c'] == 3
assert (f['d/contig'][...] == np.arange(12).reshape(3, 4)).all()
assert len(f['tdense'].attrs) == 10
"#,
        );
        if dump_ok {
            check_h5dump(&p, false);
        }
    }
}

#[test]
fn links_add_and_delete() {
    if !have_h5py() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for libver in ["earliest", "latest"] {
        let (p, dump_ok) = base(dir.path(), libver);
        let mut ed = editor(&p);
        ed.create_group("/new").unwrap();
        ed.create_dataset(
            "/new/v",
            DatasetSpec::new(DType::I64, [4]),
            &bytes(&[5i64, 6, 7, 8]),
        )
        .unwrap();
        ed.create_dataset(
            "/grp/c",
            DatasetSpec::new(DType::F32, [3, 2])
                .chunked([2, 2])
                .deflate(4)
                .unlimited(),
            &bytes(&[1f32, 2., 3., 4., 5., 6.]),
        )
        .unwrap();
        ed.create_dataset(
            "/tracked/second",
            DatasetSpec::new(DType::U8, [2]),
            &bytes(&[9u8, 10]),
        )
        .unwrap();
        ed.graft("/grp", |w| {
            w.create_group("/sub/deeper")?;
            w.set_attr("/sub", "encoding-type", AttrValue::from("dataframe"))?;
            let id = w.create_dataset("/sub/s", DatasetSpec::new(DType::VarString, [2]))?;
            w.write_strings(id, &["a", "bcd"])?;
            w.create_soft_link("/alias", "/grp/inner")
        })
        .unwrap();
        ed.graft("/tracked", |w| {
            w.commit_datatype("/t", DType::F64)?;
            w.create_external_link("/ext", "other.h5", "/x")
        })
        .unwrap();
        if libver == "earliest" {
            let before = std::fs::read(&p).unwrap();
            let e = ed
                .graft("/grp", |w| w.create_external_link("/ext", "other.h5", "/x"))
                .unwrap_err();
            assert!(e.to_string().contains("external"), "{e}");
            assert!(
                same_but_free(&before, &std::fs::read(&p).unwrap(), &ed.free_regions()),
                "a refused edit changed the file"
            );
        }
        // Many members: a symbol-table group grows to several nodes.
        for i in 0..20 {
            ed.create_group(&format!("/new/g{i:02}")).unwrap();
        }
        ed.delete_link("/d/contig").unwrap();
        // 12 members: dense link storage with libver="latest", made compact by the edit.
        ed.create_group("/many/x").unwrap();
        ed.delete_link("/many/g03").unwrap();
        ed.delete_link("/soft").unwrap();
        assert!(
            ed.create_group("/grp").is_err(),
            "an existing name is refused"
        );
        assert!(ed.delete_link("/none").is_err());
        check_py(
            &p,
            r#"
f = h5py.File(p, 'r')
assert list(f['new/v'][...]) == [5, 6, 7, 8]
assert f['grp/c'].shape == (3, 2) and f['grp/c'].maxshape == (None, 2)
assert (f['grp/c'][...] == np.arange(1, 7).reshape(3, 2)).all()
assert list(f['tracked']) == ['first', 'second', 'ext', 't'], list(f['tracked'])
assert isinstance(f['tracked/t'], h5py.Datatype) and f['tracked/t'].dtype == np.float64
l = f['tracked'].get('ext', getlink=True)
assert isinstance(l, h5py.ExternalLink) and l.filename == 'other.h5' and l.path == '/x'
assert list(f['tracked/second'][...]) == [9, 10]
assert f['grp/sub'].attrs['encoding-type'] == 'dataframe'
assert [s.decode() for s in f['grp/sub/s'][...]] == ['a', 'bcd']
assert isinstance(f['grp/sub/deeper'], h5py.Group)
assert list(f['grp/alias'][...]) == list(range(5))
assert sorted(f['new']) == [f'g{i:02d}' for i in range(20)] + ['v']
assert 'contig' not in f['d'] and 'soft' not in f
assert sorted(f['many']) == [f'g{i:02d}' for i in range(12) if i != 3] + ['x']
assert list(f['grp/inner'][...]) == list(range(5))
f.close()
# libhdf5 goes on editing what we edited.
with h5py.File(p, 'r+') as g:
    g['new'].attrs['after'] = 1
    g['grp/sub'].create_dataset('h5py', data=[1, 2])
    g['tracked'].attrs['z'] = 2
    g['tracked'].create_group('third')
    del g['new/g00']
    g['many'].create_group('y')
with h5py.File(p, 'r') as g:
    assert g['new'].attrs['after'] == 1 and list(g['grp/sub/h5py'][...]) == [1, 2]
    assert list(g['tracked']) == ['first', 'second', 'ext', 't', 'third']
    assert 'g00' not in g['new'] and list(g['grp/alias'][...]) == list(range(5))
    assert sorted(g['many']) == [f'g{i:02d}' for i in range(12) if i != 3] + ['x', 'y']
"#,
        );
        if dump_ok {
            check_h5dump(&p, false);
        }
    }
}

#[test]
fn data_overwrite_resize_append() {
    if !have_h5py() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for libver in ["earliest", "latest"] {
        let (p, dump_ok) = base(dir.path(), libver);
        let mut ed = editor(&p);
        ed.write_hyperslab(
            "/d/contig",
            &[1, 1],
            &[2, 2],
            &bytes(&[-1f64, -2., -3., -4.]),
        )
        .unwrap();
        ed.write_hyperslab("/d/gz", &[3, 2], &[3, 7], &bytes(&[-7i32; 21]))
            .unwrap();
        ed.write_hyperslab("/d/fixed", &[4, 0], &[1, 6], &bytes(&[999u16; 6]))
            .unwrap();
        ed.write_hyperslab("/d/single", &[6], &[2], &bytes(&[70i32, 71]))
            .unwrap();
        ed.write_hyperslab("/d/empty", &[1], &[2], &bytes(&[3i32, 4]))
            .unwrap();
        ed.append("/d/grow", &bytes(&(10..23i64).collect::<Vec<_>>()))
            .unwrap();
        ed.resize("/d/grow2", &[7, 6]).unwrap();
        ed.append("/d/grow2", &bytes(&[1f32; 6])).unwrap();
        ed.resize("/d/empty", &[12]).unwrap();
        assert!(ed.resize("/d/empty", &[13]).is_err(), "past the maximum");
        assert!(ed.resize("/d/gz", &[11, 10]).is_err(), "fixed maximum");
        assert!(ed.resize("/d/grow", &[3]).is_err(), "shrinking");
        check_py(
            &p,
            r#"
f = h5py.File(p, 'r')
c = np.arange(12, dtype='f8').reshape(3, 4); c[1:3, 1:3] = [[-1, -2], [-3, -4]]
assert (f['d/contig'][...] == c).all(), f['d/contig'][...]
g = np.arange(100).reshape(10, 10); g[3:6, 2:9] = -7
assert (f['d/gz'][...] == g).all(), f['d/gz'][...]
x = np.arange(30).reshape(5, 6); x[4] = 999
assert (f['d/fixed'][...] == x).all()
assert list(f['d/single'][...]) == [0, 1, 2, 3, 4, 5, 70, 71]
assert list(f['d/empty'][...]) == [0, 3, 4] + [0] * 9, f['d/empty'][...]
assert list(f['d/grow'][...]) == list(range(23))
g2 = np.zeros((8, 6), 'f4'); g2[:5, :4] = np.arange(20).reshape(5, 4); g2[7] = 1
assert f['d/grow2'].shape == (8, 6) and (f['d/grow2'][...] == g2).all(), f['d/grow2'][...]
f.close()
# libhdf5 goes on writing the datasets we changed.
with h5py.File(p, 'r+') as g:
    g['d/grow'].resize((25,))
    g['d/grow'][23:] = [-5, -6]
    g['d/gz'][0, 0] = 1234
with h5py.File(p, 'r') as g:
    assert list(g['d/grow'][...]) == list(range(23)) + [-5, -6]
    assert g['d/gz'][0, 0] == 1234 and g['d/gz'][3, 2] == -7
"#,
        );
        if dump_ok {
            check_h5dump(&p, false);
        }
    }
}

/// Whether `after` equals `before` but in the free regions (file offset, length) of an
/// editor, which a failed edit may have written (no object uses them).
fn same_but_free(before: &[u8], after: &[u8], free: &[(u64, u64)]) -> bool {
    if before.len() != after.len() {
        return false;
    }
    let mut masked = after.to_vec();
    for &(a, l) in free {
        let (a, l) = (a as usize, l as usize);
        masked[a..a + l].copy_from_slice(&before[a..a + l]);
    }
    masked == before
}
