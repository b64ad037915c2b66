//! Edits of every `testdata/` fixture: add, overwrite and delete attributes, add groups and
//! datasets, delete a link, overwrite elements of compact, contiguous and chunked datasets,
//! and grow a resizable one. Each edit either works or is refused with a typed error
//! leaving the file byte for byte as it was. h5py then checks every expected value (written
//! by this test as JSON from what our reader saw before the edits), `h5dump` exits 0 when it
//! read the unedited fixture, and our reader still walks the whole file.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use h5format::edit::Editor;
use h5format::read::datatype::Datatype;
use h5format::read::layout::Layout;
use h5format::write::{AttrValue, DType, DatasetSpec, Durability};
use h5format::{Dataset, Error, File, Object};
use serde_json::{json, Value};
use support::{check_h5dump, check_py, have_h5py};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// Every group and dataset path reachable by hard links, depth first, sorted by name.
fn objects(file: &File) -> (Vec<String>, Vec<Dataset>) {
    let mut groups = Vec::new();
    let mut datasets = Vec::new();
    let mut stack = vec!["/".to_string()];
    let mut seen = std::collections::HashSet::new();
    while let Some(path) = stack.pop() {
        let Ok(g) = file.group(&path) else { continue };
        if !seen.insert(g.address()) {
            continue;
        }
        groups.push(path.clone());
        let Ok(links) = g.links() else { continue };
        for l in links.iter() {
            if !matches!(l.target, h5format::LinkTarget::Hard(_)) {
                continue;
            }
            let child = if path == "/" {
                format!("/{}", l.name)
            } else {
                format!("{path}/{}", l.name)
            };
            match file.object(&child) {
                Ok(Object::Group(_)) => stack.push(child),
                Ok(Object::Dataset(d)) => datasets.push(d),
                _ => {}
            }
        }
    }
    (groups, datasets)
}

fn numeric(ds: &Dataset) -> bool {
    // Floats of other layouts than IEEE are left out: h5py hands out their values converted,
    // so the raw bytes checked below are not what it reads.
    let ieee_or_int = match ds.dtype() {
        Datatype::Integer { .. } => true,
        t @ Datatype::Float { .. } => t.ieee_float().is_some(),
        _ => false,
    };
    ieee_or_int
        && ds.shape().iter().all(|&d| d > 0)
        && !ds.shape().is_empty()
        && ds.external_files().ok().flatten().is_none()
        && ds.read_raw().is_ok()
}

/// Run one edit: `Ok` and `Unsupported` pass (an unsupported edit must leave the file
/// untouched); anything else fails the test. Returns whether it was applied.
fn attempt(
    ed: &mut Editor,
    p: &Path,
    what: &str,
    log: &mut Vec<String>,
    f: impl FnOnce(&mut Editor) -> h5format::Result<()>,
) -> bool {
    let before = std::fs::read(p).unwrap();
    match f(ed) {
        Ok(()) => true,
        Err(e) => {
            let mut inner = &e;
            while let Error::InObject { source, .. } = inner {
                inner = source;
            }
            assert!(
                matches!(inner, Error::Unsupported { .. }),
                "{}: {what}: unexpected error {e}",
                p.display()
            );
            assert!(
                same_but_free(&before, &std::fs::read(p).unwrap(), &ed.free_regions()),
                "{what}: refused but changed the file"
            );
            log.push(format!("{what}: refused ({e})"));
            false
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

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const CHECK: &str = r#"
import json
try:
    import hdf5plugin  # the filters of plugins.h5
except ImportError:
    pass
exp = json.load(open(p + '.expect.json'))
f = h5py.File(p, 'r')
names = []
f.visit(names.append)
def raw(a):
    return np.ascontiguousarray(a).tobytes().hex()
for e in exp:
    k = e['kind']
    if k == 'attr':
        assert list(np.ravel(f[e['obj']].attrs[e['name']])) == e['value'], e
    elif k == 'no_attr':
        assert e['name'] not in f[e['obj']].attrs, e
    elif k == 'str_attr':
        v = f[e['obj']].attrs[e['name']]
        assert (v.decode() if isinstance(v, bytes) else v) == e['value'], e
    elif k == 'group':
        assert isinstance(f[e['path']], h5py.Group), e
    elif k == 'data':
        assert list(f[e['path']][...].ravel()) == e['value'], e
    elif k == 'no_link':
        parent, name = e['path'].rsplit('/', 1)
        assert name not in f[parent or '/'], e
    elif k == 'first':
        d = f[e['path']][...]
        assert raw(d.ravel()[:1]) == e['hex'], (e, raw(d.ravel()[:1]))
        assert raw(d.ravel()[1:]) == e['rest'], (e, raw(d.ravel()[1:]))
    elif k == 'grown':
        d = f[e['path']]
        assert list(d.shape) == e['shape'], (e, d.shape)
        a = d[...]
        assert raw(a[-1]) == e['row'] and raw(a[:-1]) == e['before'], e
    else:
        raise SystemExit('unknown ' + k)
"#;

/// h5dump exits 0 on `p` (a fixture it can read).
fn dumps(p: &Path) -> bool {
    Command::new("h5dump")
        .arg(p)
        .output()
        .is_ok_and(|o| o.status.success() && o.stderr.is_empty())
}

#[test]
fn edit_every_fixture() {
    if !have_h5py() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(testdata())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "h5" || x == "h5ad"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 20, "fixtures missing");
    let mut edited = 0;
    let mut report = Vec::new();
    for src in &fixtures {
        let name = src.file_name().unwrap().to_string_lossy().into_owned();
        let p = dir.path().join(&name);
        std::fs::copy(src, &p).unwrap();
        // Raw data files of external.h5 sit next to it.
        for ext in ["external_a.bin", "external_b.bin", "external_short.bin"] {
            let _ = std::fs::copy(testdata().join(ext), dir.path().join(ext));
        }
        let before = std::fs::read(&p).unwrap();
        let mut ed = match Editor::open(&p) {
            Ok(ed) => ed,
            Err(e) => {
                assert!(matches!(e, Error::Unsupported { .. }), "{name}: {e}");
                assert!(std::fs::read(&p).unwrap() == before, "{name}: changed");
                report.push(format!("{name}: refused ({e})"));
                continue;
            }
        };
        ed.set_durability(Durability::PageCache);
        let h5dump_before = dumps(&p);
        let file = File::open(&p).unwrap();
        let walk_before = h5format::walk::walk_all(&file).is_ok();
        let (groups, datasets) = objects(&file);
        let mut exp: Vec<Value> = Vec::new();
        let mut log = Vec::new();
        let p2 = p.clone();
        // Attributes: add on the root and on a dataset, overwrite and delete existing ones.
        if attempt(&mut ed, &p2, "add root attribute", &mut log, |ed| {
            ed.set_attr("/", "edit_added", AttrValue::array(&[1i64, 2, 3]))
        }) {
            exp.push(json!({"kind": "attr", "obj": "/", "name": "edit_added", "value": [1, 2, 3]}));
        }
        if let Some(d) = datasets.first() {
            let path = d.path().to_string();
            if attempt(&mut ed, &p2, "add dataset attribute", &mut log, |ed| {
                ed.set_attr(&path, "edit_s", AttrValue::String("édité".into()))
            }) {
                exp.push(
                    json!({"kind": "str_attr", "obj": path, "name": "edit_s", "value": "édité"}),
                );
            }
        }
        for obj in groups
            .iter()
            .chain(
                datasets
                    .iter()
                    .map(|d| d.path())
                    .map(|s| s.to_owned())
                    .collect::<Vec<_>>()
                    .iter(),
            )
            .take(6)
        {
            let Ok(o) = file.object(obj) else { continue };
            let Ok(attrs) = o.node().attributes() else {
                continue;
            };
            let names: Vec<String> = attrs
                .iter()
                .map(|a| a.name.clone())
                .filter(|n| !n.starts_with("edit_"))
                .collect();
            if let Some(n) = names.first() {
                if attempt(&mut ed, &p2, "overwrite attribute", &mut log, |ed| {
                    ed.set_attr(obj, n, AttrValue::scalar(42i64))
                }) {
                    exp.push(json!({"kind": "attr", "obj": obj, "name": n, "value": [42]}));
                }
            }
            if let Some(n) = names.get(1) {
                if attempt(&mut ed, &p2, "delete attribute", &mut log, |ed| {
                    ed.delete_attr(obj, n)
                }) {
                    exp.push(json!({"kind": "no_attr", "obj": obj, "name": n}));
                }
            }
        }
        // Links: a new group with a dataset, a dataset in an existing subgroup, a deletion.
        if attempt(&mut ed, &p2, "create group", &mut log, |ed| {
            ed.create_group("/edit_grp")
        }) {
            exp.push(json!({"kind": "group", "path": "/edit_grp"}));
            if attempt(&mut ed, &p2, "create dataset", &mut log, |ed| {
                let spec = DatasetSpec::new(DType::I32, [3]).chunked([2]).deflate(1);
                ed.create_dataset(
                    "/edit_grp/x",
                    spec,
                    &h5format::write::to_le_bytes(&[4i32, 5, 6]),
                )
            }) {
                exp.push(json!({"kind": "data", "path": "/edit_grp/x", "value": [4, 5, 6]}));
            }
        }
        if let Some(g) = groups.iter().find(|g| *g != "/") {
            let path = format!("{g}/edit_ds");
            if attempt(
                &mut ed,
                &p2,
                "create dataset in a subgroup",
                &mut log,
                |ed| ed.create_dataset(&path, DatasetSpec::new(DType::U8, [2]), &[7, 8]),
            ) {
                exp.push(json!({"kind": "data", "path": path, "value": [7, 8]}));
            }
        }
        // Raw data: the first element of every chunked dataset and of one dataset of each
        // other layout becomes a copy of the last; one resizable chunked dataset gets a copy
        // of its first row appended.
        let grown = datasets.iter().filter(|d| numeric(d)).find(|d| {
            matches!(d.layout(), Layout::Chunked { .. })
                && matches!(d.space(), h5format::Dataspace::Simple { dims, max_dims } if max_dims[0] > dims[0])
        });
        if let Some(d) = grown {
            let all = d.read_raw().unwrap();
            let row = all.len() / d.shape()[0] as usize;
            let first = all[..row].to_vec();
            if attempt(&mut ed, &p2, "append a row", &mut log, |ed| {
                ed.append(d.path(), &first)
            }) {
                let mut shape = d.shape().to_vec();
                shape[0] += 1;
                exp.push(json!({"kind": "grown", "path": d.path(), "shape": shape, "row": hex(&first), "before": hex(&all)}));
            }
        }
        let mut done = std::collections::HashSet::new();
        let mut deleted = None;
        for d in datasets.iter().filter(|d| numeric(d)) {
            if grown.is_some_and(|g| g.path() == d.path()) {
                continue;
            }
            let kind = match d.layout() {
                Layout::Compact { .. } => "compact",
                Layout::Contiguous { .. } => "contiguous",
                Layout::Chunked { .. } => "chunked",
                Layout::Virtual { .. } => continue,
            };
            // Every chunked dataset (each chunk index kind), one of each other layout.
            if !done.insert(kind) && kind != "chunked" {
                if deleted.is_none() && kind == "contiguous" {
                    deleted = Some(d.path().to_string());
                }
                continue;
            }
            let all = d.read_raw().unwrap();
            let esize = d.dtype().size();
            let last = all[all.len() - esize..].to_vec();
            let zeros = vec![0; d.shape().len()];
            let ones = vec![1; d.shape().len()];
            if attempt(&mut ed, &p2, "overwrite element", &mut log, |ed| {
                ed.write_hyperslab(d.path(), &zeros, &ones, &last)
            }) {
                exp.push(json!({"kind": "first", "path": d.path(), "hex": hex(&last), "rest": hex(&all[esize..])}));
            }
        }
        if let Some(path) = deleted {
            if attempt(&mut ed, &p2, "delete link", &mut log, |ed| {
                ed.delete_link(&path)
            }) {
                exp.push(json!({"kind": "no_link", "path": path}));
            }
        }
        std::fs::write(
            format!("{}.expect.json", p.display()),
            serde_json::to_vec(&exp).unwrap(),
        )
        .unwrap();
        eprintln!("checking {name}");
        check_py(&p, CHECK);
        if h5dump_before {
            check_h5dump(&p, false);
        }
        if walk_before {
            let f = File::open(&p).unwrap();
            h5format::walk::walk_all(&f)
                .unwrap_or_else(|e| panic!("{name}: walk after edits: {e}"));
        }
        edited += 1;
        report.push(format!(
            "{name}: {} edits checked{}",
            exp.len(),
            if log.is_empty() {
                String::new()
            } else {
                format!("; {}", log.join("; "))
            }
        ));
    }
    eprintln!("{}", report.join("\n"));
    assert_eq!(
        edited,
        fixtures.len(),
        "fixtures refused at open:\n{}",
        report.join("\n")
    );
}

/// A file with 2-byte addresses ends before 64 KiB: an edit that would grow it further is
/// refused with a typed error and leaves the file byte for byte as it was; smaller edits
/// still work (checked by h5py).
#[test]
fn two_byte_addresses_stop_at_64_kib() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["sizes_o2_l8_earliest.h5", "sizes_o2_l8_latest.h5"] {
        let p = dir.path().join(name);
        std::fs::copy(testdata().join(name), &p).unwrap();
        let before = std::fs::read(&p).unwrap();
        let mut ed = Editor::open(&p).unwrap();
        ed.set_durability(Durability::PageCache);
        let big = vec![7u8; 70_000];
        let e = ed
            .create_dataset("/big", DatasetSpec::new(DType::U8, [70_000]), &big)
            .unwrap_err();
        assert!(e.to_string().contains("2-byte addresses"), "{name}: {e}");
        let mut inner = &e;
        while let Error::InObject { source, .. } = inner {
            inner = source;
        }
        assert!(matches!(inner, Error::Unsupported { .. }), "{name}: {e}");
        assert!(std::fs::read(&p).unwrap() == before, "{name}: changed");
        // Chunks of a chunked dataset hit the limit one by one: still untouched after.
        let spec = DatasetSpec::new(DType::U8, [70_000]).chunked([1000]);
        assert!(ed.create_dataset("/big", spec, &big).is_err());
        assert!(std::fs::read(&p).unwrap() == before, "{name}: changed");
        ed.create_dataset("/small", DatasetSpec::new(DType::U8, [3]), &[1, 2, 3])
            .unwrap();
        ed.set_attr("/", "s", AttrValue::String("abc".into()))
            .unwrap();
        drop(ed);
        if have_h5py() {
            check_py(
                &p,
                "f = h5py.File(p, 'r')\n\
                 assert list(f['small'][...]) == [1, 2, 3]\n\
                 assert f.attrs['s'] == 'abc'\n\
                 assert 'big' not in f\n",
            );
        }
    }
}
