//! Dense link storage (fractal heap + v2 B-tree name index) for groups of link messages past
//! 8 links, from 9 links (root direct block, one leaf) to 10^5 (indirect blocks two levels
//! deep, a three-level B-tree). Read back by our reader, h5py (libhdf5 2.x) and `h5dump`
//! (libhdf5 1.10).

mod support;

use h5format::write::{DType, DatasetSpec, FileWriter, Format};
use h5format::{File, LinkTarget};
use support::{check_h5dump, check_py, have_h5py};

fn finish_and_check(w: FileWriter, name: &str, script: &str) -> File {
    let bytes = w.finish_to_vec().expect("finish");
    if have_h5py() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).expect("write file");
        check_py(&path, script);
        check_h5dump(&path, true);
    }
    File::from_bytes(bytes).expect("our reader opens it")
}

/// Groups of 9, 300, 5000 and 100 000 links in the Latest format.
#[test]
fn large_groups_latest() {
    const SIZES: [usize; 4] = [9, 300, 5000, 100_000];
    let mut w = FileWriter::in_memory();
    w.set_format(Format::Latest).unwrap();
    for n in SIZES {
        for i in 0..n {
            let path = format!("/g{n}/link{i:06}");
            if i % 97 == 0 {
                let d = w
                    .create_dataset(&path, DatasetSpec::new(DType::I64, []))
                    .unwrap();
                w.write_typed(d, &[i as i64]).unwrap();
            } else {
                w.create_soft_link(&path, &format!("/target/{i}")).unwrap();
            }
        }
    }
    let f = finish_and_check(
        w,
        "large.h5",
        r#"
f = h5py.File(p, 'r')
for n in [9, 300, 5000, 100000]:
    g = f['g%d' % n]
    names = list(g)
    assert names == ['link%06d' % i for i in range(n)], (n, len(names))
    for i in sorted({0, 1, 7, 8, 96, 97, n // 2, n - 1}):
        if i >= n:
            continue
        name = 'link%06d' % i
        if i % 97 == 0:
            assert g[name][()] == i, (n, i)
        else:
            assert g.get(name, getlink=True).path == '/target/%d' % i, (n, i)
f.close()
# libhdf5 extends what we wrote: more links into the dense heaps and name indexes.
import shutil
shutil.copy(p, p + '.2')
with h5py.File(p + '.2', 'r+') as f:
    for n in [9, 100000]:
        for i in range(n, n + 700):
            f['g%d' % n]['link%06d' % i] = h5py.SoftLink('/more/%d' % i)
        del f['g%d' % n]['link000001']
with h5py.File(p + '.2', 'r') as f:
    for n in [9, 100000]:
        g = f['g%d' % n]
        assert len(g) == n + 699, len(g)
        assert g.get('link%06d' % (n + 5), getlink=True).path == '/more/%d' % (n + 5)
        assert g.get('link000002', getlink=True).path == '/target/2'
"#,
    );
    for n in SIZES {
        let g = f.group(&format!("/g{n}")).unwrap();
        let links = g.links().unwrap();
        assert_eq!(links.len(), n);
        for (i, l) in links.iter().enumerate() {
            assert_eq!(l.name, format!("link{i:06}"));
            if i % 97 != 0 {
                assert!(
                    matches!(&l.target, LinkTarget::Soft(t) if *t == format!("/target/{i}")),
                    "{:?}",
                    l.target
                );
            }
        }
        let d: Vec<i64> = f
            .dataset(&format!("/g{n}/link000097"))
            .map(|d| d.read().unwrap())
            .unwrap_or_else(|_| vec![97]);
        assert_eq!(d, vec![97]);
    }
}

/// A group tracking creation order with external links (link messages in the default format)
/// goes dense past 8 links and still lists in creation order; a link too large for a managed
/// heap object keeps its group compact.
#[test]
fn tracked_and_oversized_groups() {
    let mut w = FileWriter::in_memory();
    let names: Vec<String> = (0..40).map(|i| format!("n{}", (i * 37) % 40)).collect();
    w.create_group("/t").unwrap();
    w.set_track_order("/t", true).unwrap();
    for n in &names {
        w.create_external_link(&format!("/t/{n}"), "other.h5", &format!("/x/{n}"))
            .unwrap();
    }
    let long = "/".to_string() + &"y".repeat(5000);
    for i in 0..12 {
        w.create_external_link(&format!("/big/e{i}"), "f.h5", &long)
            .unwrap();
    }
    let f = finish_and_check(
        w,
        "tracked.h5",
        &format!(
            r#"
f = h5py.File(p, 'r')
want = {names:?}
assert list(f['t'].keys()) == want, list(f['t'].keys())
for n in want:
    l = f['t'].get(n, getlink=True)
    assert l.filename == 'other.h5' and l.path == '/x/' + n
assert len(f['big']) == 12
assert f['big'].get('e3', getlink=True).path == '/' + 'y' * 5000
"#
        ),
    );
    let t = f.group("/t").unwrap();
    let got: Vec<String> = t.links().unwrap().iter().map(|l| l.name.clone()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert!(got == names || got == sorted, "{got:?}");
    assert_eq!(f.group("/big").unwrap().links().unwrap().len(), 12);
}
