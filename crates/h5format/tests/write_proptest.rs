//! Property test: random trees of groups, attributes and datasets (random types, shapes,
//! layouts, chunking, filters, creation-order tracking, attributes up to dense storage)
//! written by `FileWriter`, read back by our reader and compared with what was written; a
//! few of them also by h5py (libhdf5), through a Python dump of every dataset and attribute
//! compared with the same expectation.

mod support;

use std::collections::BTreeMap;
use std::process::Command;

use h5format::write::{AttrValue, DType, DatasetSpec, FileWriter};
use h5format::File;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct DsCase {
    dtype: u8,
    shape: Vec<u64>,
    layout: u8,
    chunk: Vec<u64>,
    deflate: Option<u8>,
    shuffle: bool,
    fletcher: bool,
    seed: u64,
}

#[derive(Debug, Clone)]
struct AttrCase {
    name: String,
    len: usize,
    big: bool,
}

#[derive(Debug, Clone)]
struct Tree {
    /// (group path, track order)
    groups: Vec<(String, bool)>,
    /// (parent group index, name, dataset)
    datasets: Vec<(usize, String, DsCase)>,
    /// (object: group index, attribute)
    attrs: Vec<(usize, AttrCase)>,
}

const TYPES: [DType; 8] = [
    DType::I8,
    DType::U16,
    DType::I32,
    DType::U64,
    DType::F32,
    DType::F64,
    DType::I64,
    DType::U8,
];

fn ds_case() -> impl Strategy<Value = DsCase> {
    (
        0u8..8,
        prop::collection::vec(0u64..6, 0..4),
        0u8..3,
        prop::collection::vec(1u64..4, 3),
        prop::option::of(0u8..10),
        any::<bool>(),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            |(dtype, shape, layout, chunk, deflate, shuffle, fletcher, seed)| DsCase {
                dtype,
                chunk: chunk[..shape.len()].to_vec(),
                shape,
                layout,
                deflate,
                shuffle,
                fletcher,
                seed,
            },
        )
}

fn tree() -> impl Strategy<Value = Tree> {
    let name = "[a-z][a-z0-9_]{0,6}";
    (
        prop::collection::vec((name, any::<bool>()), 1..5),
        prop::collection::vec((0usize..5, name, ds_case()), 0..6),
        prop::collection::vec(
            (0usize..5, name, 0usize..40, prop::bool::weighted(0.1)),
            0..8,
        ),
    )
        .prop_map(|(gs, ds, attrs)| {
            // Groups nest: group i lives in group i/2 (the root is index 0).
            let mut groups = vec![("/".to_string(), false)];
            for (i, (n, track)) in gs.into_iter().enumerate() {
                let parent = groups[i.div_ceil(2)].0.clone();
                let path = if parent == "/" {
                    format!("/g_{n}{i}")
                } else {
                    format!("{parent}/g_{n}{i}")
                };
                groups.push((path, track));
            }
            let n = groups.len();
            Tree {
                datasets: ds
                    .into_iter()
                    .enumerate()
                    .map(|(i, (g, nm, d))| (g % n, format!("d_{nm}{i}"), d))
                    .collect(),
                attrs: attrs
                    .into_iter()
                    .enumerate()
                    .map(|(i, (g, nm, len, big))| {
                        (
                            g % n,
                            AttrCase {
                                name: format!("a_{nm}{i}"),
                                len,
                                big,
                            },
                        )
                    })
                    .collect(),
                groups,
            }
        })
}

fn bytes_of(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// Write the tree; returns the file and what every dataset/attribute must read as:
/// path (or path@attr) -> (shape, raw bytes).
#[allow(clippy::type_complexity)]
fn write(t: &Tree) -> (Vec<u8>, BTreeMap<String, (Vec<u64>, Vec<u8>)>) {
    let mut w = FileWriter::in_memory();
    let mut expect = BTreeMap::new();
    for (path, track) in &t.groups {
        w.create_group(path).unwrap();
        if *track {
            w.set_track_order(path, true).unwrap();
        }
    }
    for (g, name, d) in &t.datasets {
        let path = join(&t.groups[*g].0, name);
        let dtype = TYPES[d.dtype as usize].clone();
        let elem = dtype.size().unwrap() as u64;
        let n: u64 = d.shape.iter().product();
        let mut spec = DatasetSpec::new(dtype, d.shape.clone());
        match d.layout {
            0 => {}
            1 => spec = spec.compact(),
            _ if !d.shape.is_empty() => {
                spec = spec.chunked(d.chunk.clone());
                if let Some(l) = d.deflate {
                    spec = spec.deflate(l);
                }
                if d.shuffle {
                    spec = spec.shuffle();
                }
                if d.fletcher {
                    spec = spec.fletcher32();
                }
            }
            _ => {}
        }
        let data = bytes_of(d.seed, (n * elem) as usize);
        let id = w.create_dataset(&path, spec).unwrap();
        w.write_all(id, &data).unwrap();
        expect.insert(path, (d.shape.clone(), data));
    }
    for (g, a) in &t.attrs {
        let path = &t.groups[*g].0;
        let len = if a.big { 9000 + a.len } else { a.len };
        let vals: Vec<f64> = (0..len).map(|i| i as f64 * 0.25 - 3.0).collect();
        w.set_attr(path, &a.name, AttrValue::array(&vals)).unwrap();
        let bytes: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        expect.insert(format!("{path}@{}", a.name), (vec![len as u64], bytes));
    }
    (w.finish_to_vec().unwrap(), expect)
}

fn read_ours(bytes: Vec<u8>) -> BTreeMap<String, (Vec<u64>, Vec<u8>)> {
    let f = File::from_bytes(bytes).unwrap();
    let mut out = BTreeMap::new();
    let mut stack = vec!["/".to_string()];
    while let Some(p) = stack.pop() {
        let g = f.group(&p).unwrap();
        for a in g.attributes().unwrap() {
            out.insert(
                format!("{p}@{}", a.name),
                (vec![(a.data.len() / 8) as u64], a.data.clone()),
            );
        }
        for l in g.links().unwrap().iter() {
            let child = join(&p, &l.name);
            match f.object(&child).unwrap() {
                h5format::Object::Group(_) => stack.push(child),
                h5format::Object::Dataset(d) => {
                    out.insert(child, (d.shape().to_vec(), d.read_raw().unwrap()));
                }
                h5format::Object::Datatype(_) => {}
            }
        }
    }
    out
}

const PY_DUMP: &str = r#"
import sys, h5py, json
out = {}
def add(name, obj):
    p = '/' + name
    if isinstance(obj, h5py.Dataset):
        out[p] = [list(obj.shape), obj[()].tobytes().hex()]
    for k in obj.attrs:
        v = obj.attrs[k]
        out[(p if name else '/') + '@' + k] = [list(v.shape), v.astype('<f8').tobytes().hex()]
f = h5py.File(sys.argv[1], 'r')
add('', f)
f.visititems(add)
print(json.dumps(out, sort_keys=True))
"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_trees_read_back(t in tree()) {
        let (bytes, expect) = write(&t);
        let got = read_ours(bytes);
        prop_assert_eq!(got, expect);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn random_trees_read_by_h5py(t in tree()) {
        if !support::have_h5py() {
            return Ok(());
        }
        let (bytes, expect) = write(&t);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.h5");
        std::fs::write(&path, &bytes).unwrap();
        let out = support::run_python(PY_DUMP, &[&path]);
        prop_assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let got: BTreeMap<String, (Vec<u64>, String)> =
            serde_json::from_slice(&out.stdout).unwrap();
        let want: BTreeMap<String, (Vec<u64>, String)> = expect
            .into_iter()
            .map(|(k, (s, b))| (k, (s, b.iter().map(|x| format!("{x:02x}")).collect())))
            .collect();
        prop_assert_eq!(got, want);
        if let Ok(o) = Command::new("h5dump").arg(&path).output() {
            prop_assert!(o.status.success() && o.stderr.is_empty(),
                "h5dump: {}", String::from_utf8_lossy(&o.stderr));
        }
    }
}
