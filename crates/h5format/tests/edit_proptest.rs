//! Property test: random sequences of in-place edits (attributes set and deleted, datasets
//! created, links deleted, hyperslabs overwritten, rows appended) on a small file written by
//! `FileWriter` — symbol-table groups with version 1 headers, or creation-order-tracking
//! groups with link messages and version 2 headers. After every edit the file is snapshot;
//! our reader and h5py (one Python run per case over all snapshots) must see the same
//! objects, attributes and values in each, and every edit that succeeded must show.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use h5format::edit::Editor;
use h5format::write::{to_le_bytes, AttrValue, DType, DatasetSpec, Durability, FileWriter};
use h5format::{File, Object};
use proptest::prelude::*;
use support::{have_h5py, run_python};

#[derive(Debug, Clone)]
enum Op {
    SetAttr {
        obj: usize,
        name: usize,
        values: Vec<i64>,
    },
    DelAttr {
        obj: usize,
        name: usize,
    },
    AddDataset {
        group: usize,
        name: usize,
        values: Vec<i32>,
        chunked: bool,
    },
    DelLink {
        group: usize,
        name: usize,
    },
    Write {
        ds: usize,
        start: u64,
        values: Vec<i32>,
    },
    Append {
        ds: usize,
        values: Vec<i32>,
    },
}

const GROUPS: [&str; 3] = ["/", "/g", "/g/h"];
const NAMES: [&str; 4] = ["a", "b", "c", "d"];
const DATASETS: [&str; 4] = ["/x", "/g/y", "/g/a", "/b"];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (
            0..5usize,
            0..4usize,
            prop::collection::vec(any::<i64>(), 1..4)
        )
            .prop_map(|(obj, name, values)| Op::SetAttr { obj, name, values }),
        (0..5usize, 0..4usize).prop_map(|(obj, name)| Op::DelAttr { obj, name }),
        (
            0..3usize,
            0..4usize,
            prop::collection::vec(any::<i32>(), 1..20),
            any::<bool>()
        )
            .prop_map(|(group, name, values, chunked)| Op::AddDataset {
                group,
                name,
                values,
                chunked
            }),
        (0..3usize, 0..4usize).prop_map(|(group, name)| Op::DelLink { group, name }),
        (
            0..4usize,
            0..12u64,
            prop::collection::vec(any::<i32>(), 1..6)
        )
            .prop_map(|(ds, start, values)| Op::Write { ds, start, values }),
        (0..4usize, prop::collection::vec(any::<i32>(), 1..9))
            .prop_map(|(ds, values)| Op::Append { ds, values }),
    ]
}

/// The object paths attributes go to: the groups and two datasets.
fn obj_path(i: usize) -> &'static str {
    ["/", "/g", "/g/h", "/x", "/g/y"][i]
}

fn join(g: &str, n: &str) -> String {
    if g == "/" {
        format!("/{n}")
    } else {
        format!("{g}/{n}")
    }
}

/// The base file: groups /g and /g/h, datasets /x (chunked, resizable, deflate) and /g/y
/// (contiguous), attributes; `track` makes every group track creation order.
fn base(path: &Path, track: bool) {
    let mut w = FileWriter::create(path).unwrap();
    w.create_group("/g/h").unwrap();
    for g in GROUPS {
        w.set_track_order(g, track).unwrap();
        w.set_attr(g, "a", AttrValue::scalar(1i64)).unwrap();
    }
    let x = w
        .create_dataset(
            "/x",
            DatasetSpec::new(DType::I32, [10])
                .chunked([4])
                .deflate(1)
                .unlimited(),
        )
        .unwrap();
    w.write_typed(x, &(0..10).collect::<Vec<i32>>()).unwrap();
    let y = w
        .create_dataset("/g/y", DatasetSpec::new(DType::I32, [12]))
        .unwrap();
    w.write_typed(y, &(100..112).collect::<Vec<i32>>()).unwrap();
    w.set_attr("/g/y", "b", AttrValue::array(&[5i64, 6]))
        .unwrap();
    w.finish().unwrap();
}

fn apply(ed: &mut Editor, op: &Op) -> h5format::Result<()> {
    match op {
        Op::SetAttr { obj, name, values } => {
            ed.set_attr(obj_path(*obj), NAMES[*name], AttrValue::array(values))
        }
        Op::DelAttr { obj, name } => ed.delete_attr(obj_path(*obj), NAMES[*name]),
        Op::AddDataset {
            group,
            name,
            values,
            chunked,
        } => {
            let mut spec = DatasetSpec::new(DType::I32, [values.len() as u64]);
            if *chunked {
                spec = spec.chunked([3]).unlimited();
            }
            ed.create_dataset(
                &join(GROUPS[*group], NAMES[*name]),
                spec,
                &to_le_bytes(values),
            )
        }
        Op::DelLink { group, name } => ed.delete_link(&join(GROUPS[*group], NAMES[*name])),
        Op::Write { ds, start, values } => ed.write_hyperslab(
            DATASETS[*ds],
            &[*start],
            &[values.len() as u64],
            &to_le_bytes(values),
        ),
        Op::Append { ds, values } => ed.append(DATASETS[*ds], &to_le_bytes(values)),
    }
}

/// What our reader sees: path -> (attribute name -> raw hex, data hex, shape).
type Digest = BTreeMap<String, (BTreeMap<String, String>, Option<(Vec<u64>, String)>)>;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn ours(path: &Path) -> Digest {
    let f = File::open(path).unwrap();
    let mut out = Digest::new();
    let mut stack = vec!["/".to_string()];
    while let Some(p) = stack.pop() {
        let obj = f.object(&p).unwrap();
        let attrs = obj
            .node()
            .attributes()
            .unwrap()
            .into_iter()
            .map(|a| (a.name.clone(), hex(&a.data)))
            .collect();
        let data = match &obj {
            Object::Dataset(d) => Some((d.shape().to_vec(), hex(&d.read_raw().unwrap()))),
            Object::Group(g) => {
                for l in g.links().unwrap().iter() {
                    stack.push(join(&p, &l.name));
                }
                None
            }
            Object::Datatype(_) => None,
        };
        out.insert(p, (attrs, data));
    }
    out
}

const H5PY: &str = r#"
import sys, json, h5py, numpy as np
for p in sys.argv[1:]:
    out = {}
    with h5py.File(p, 'r') as f:
        def one(name, obj):
            attrs = {k: np.asarray(obj.attrs[k]).tobytes().hex() for k in obj.attrs}
            data = [list(obj.shape), obj[...].tobytes().hex()] if isinstance(obj, h5py.Dataset) else None
            out['/' + name if name != '/' else '/'] = [attrs, data]
        one('/', f)
        f.visititems(one)
    print(json.dumps(out))
"#;

fn theirs(files: &[PathBuf]) -> Vec<Digest> {
    let out = run_python(H5PY, files);
    assert!(
        out.status.success(),
        "h5py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10))]

    #[test]
    fn random_edits_agree_with_h5py(track in any::<bool>(), ops in prop::collection::vec(op(), 1..10)) {
        if !have_h5py() {
            return Ok(());
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.h5");
        base(&p, track);
        let mut ed = Editor::open(&p).unwrap();
        ed.set_durability(Durability::PageCache);
        let mut snaps = Vec::new();
        let mut applied = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let before = ours(&p);
            let ok = apply(&mut ed, op).is_ok();
            let after = ours(&p);
            if !ok {
                prop_assert_eq!(&before, &after, "a failed edit changed the file: {:?}", op);
            }
            // A successful edit shows in our reader.
            if let (true, Op::SetAttr { obj, name, values }) = (ok, op) {
                let attrs = &after[obj_path(*obj)].0;
                prop_assert_eq!(&attrs[NAMES[*name]], &hex(&to_le_bytes(values)));
            }
            if let (true, Op::DelLink { group, name }) = (ok, op) {
                prop_assert!(!after.contains_key(&join(GROUPS[*group], NAMES[*name])));
            }
            let snap = dir.path().join(format!("s{i}.h5"));
            std::fs::copy(&p, &snap).unwrap();
            snaps.push(snap);
            applied.push((op.clone(), ok, after));
        }
        let h5py = theirs(&snaps);
        for ((op, ok, mine), t) in applied.iter().zip(&h5py) {
            prop_assert_eq!(mine, t, "after {:?} (ok: {})", op, ok);
        }
    }
}
