//! Space reuse of in-place edits: repeated edits of datasets, groups and attributes within
//! one editor stop growing the file once the space earlier edits freed holds the next ones,
//! and closing the editor cuts free space off the end of the file. h5py reads the values
//! and `h5dump` accepts the file after every round.

mod support;

use std::path::Path;
use std::process::Command;

use h5format::edit::Editor;
use h5format::write::{to_le_bytes, AttrValue, Durability};
use support::{check_h5dump, check_py, have_h5py};

const BASE: &str = r#"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], 'w', libver=sys.argv[2]) as f:
    f.create_dataset('gz', data=np.arange(64, dtype='i4').reshape(8, 8), chunks=(4, 4), compression='gzip')
    f['contig'] = np.arange(100, dtype='f8')
    f.create_dataset('grow', data=np.arange(10, dtype='i8'), chunks=(4,), maxshape=(None,))
    f.create_group('g')
    f.create_group('h')
"#;

fn len(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().len()
}

#[test]
fn repeated_edits_reuse_freed_space() {
    if !have_h5py() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for libver in ["earliest", "latest"] {
        let p = dir.path().join(format!("{libver}.h5"));
        let st = Command::new("python3")
            .args(["-c", BASE])
            .arg(&p)
            .arg(libver)
            .status()
            .unwrap();
        assert!(st.success());
        let mut ed = Editor::open(&p).unwrap();
        ed.set_durability(Durability::PageCache);
        // Edits that replace structures of the same size each time: a chunk and the chunk
        // index, a contiguous extent, an attribute, a group's symbol table or link messages.
        let round = |ed: &mut Editor, i: i32| {
            ed.write_hyperslab("/gz", &[1, 1], &[1, 1], &to_le_bytes(&[i]))
                .unwrap();
            ed.write_hyperslab("/contig", &[3], &[1], &to_le_bytes(&[f64::from(i)]))
                .unwrap();
            ed.set_attr("/g", "a", AttrValue::scalar(i)).unwrap();
            // A link added and deleted (a soft link: a new object would stay in the file,
            // unlinked).
            ed.graft("/g", |w| w.create_soft_link(&format!("/s{i}"), "/gz"))
                .unwrap();
            ed.delete_link(&format!("/g/s{i}")).unwrap();
        };
        // Two rounds fill the free list; from then on nothing grows.
        round(&mut ed, 0);
        round(&mut ed, 1);
        let settled = len(&p);
        for i in 2..40 {
            round(&mut ed, i);
            assert_eq!(len(&p), settled, "{libver}: round {i} grew the file");
        }
        // Edits that add data: 38 attributes and 38 rows (about 3.6 KiB in all) — the
        // attributes' continuation chunk grows geometrically, old ones reused.
        for i in 2..40 {
            ed.set_attr("/h", &format!("n{i}"), AttrValue::scalar(i))
                .unwrap();
            ed.append("/grow", &to_le_bytes(&[i64::from(i)])).unwrap();
        }
        let grown = len(&p) - settled;
        assert!(grown < 12 * 1024, "{libver}: grew by {grown} bytes");
        assert!(ed.free_space() > 0);
        let open_len = len(&p);
        ed.close().unwrap();
        assert!(len(&p) <= open_len);
        check_py(
            &p,
            "import numpy as np\n\
             f = h5py.File(p, 'r')\n\
             assert f['gz'][1, 1] == 39 and f['gz'][0, 0] == 0 and f['gz'][7, 7] == 63\n\
             assert f['contig'][3] == 39.0 and f['contig'][4] == 4.0\n\
             assert f['g'].attrs['a'] == 39\n\
             assert list(f['g'].attrs) == ['a'] and len(f['g']) == 0\n\
             assert sorted(f['h'].attrs) == sorted(['n%d' % i for i in range(2, 40)])\n\
             assert list(f['grow'][...]) == list(range(10)) + list(range(2, 40))\n",
        );
        if libver == "earliest" {
            check_h5dump(&p, false);
        }
        let f = h5format::File::open(&p).unwrap();
        h5format::walk::walk_all(&f).unwrap();
    }
}
