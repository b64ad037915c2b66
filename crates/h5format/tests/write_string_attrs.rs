//! Variable-length string attributes of rank ≥ 2 (`AttrValue::StringArray`), in both formats:
//! h5py reads the same strings in the same shape, `h5dump` accepts the file, and our reader
//! reads them back.

mod support;

use h5format::value::{self, Value};
use h5format::write::{AttrValue, DType, DatasetSpec, FileWriter, Format};
use h5format::File;
use support::{check_h5dump, check_py, have_h5py};

fn strings(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i % 3 {
            0 => format!("s{i}"),
            1 => format!("é-{}", "x".repeat(i)),
            _ => String::new(),
        })
        .collect()
}

fn check(format: Format, tag: &str) {
    let shapes: [&[u64]; 4] = [&[2, 3], &[2, 2, 2], &[0, 3], &[1, 1]];
    let mut w = FileWriter::in_memory();
    w.set_format(format).unwrap();
    let d = w
        .create_dataset("/d", DatasetSpec::new(DType::I8, [1]))
        .unwrap();
    w.write_typed(d, &[1i8]).unwrap();
    for (k, shape) in shapes.iter().enumerate() {
        let n = shape.iter().product::<u64>() as usize;
        let v = AttrValue::StringArray {
            shape: shape.to_vec(),
            strings: strings(n),
        };
        w.set_attr("/", &format!("a{k}"), v.clone()).unwrap();
        w.set_attr("/d", &format!("a{k}"), v).unwrap();
    }
    let bad = AttrValue::StringArray {
        shape: vec![2, 2],
        strings: strings(3),
    };
    assert!(w.set_attr("/", "bad", bad).is_err());
    let bytes = w.finish_to_vec().unwrap();
    let f = File::from_bytes(bytes.clone()).expect("our reader opens it");
    for (k, shape) in shapes.iter().enumerate() {
        let nodes = [
            f.group("/").unwrap().node().clone(),
            f.dataset("/d").unwrap().node().clone(),
        ];
        for node in nodes {
            let a = node
                .attribute(&format!("a{k}"))
                .unwrap()
                .expect("attribute");
            assert_eq!(a.space.dims(), *shape, "a{k}");
            let n = shape.iter().product::<u64>() as usize;
            let got: Vec<String> = value::decode(&a.dtype, &a.data, n, f.sizes(), &f)
                .unwrap()
                .into_iter()
                .map(|v| match v {
                    Value::Str(s) => s,
                    other => panic!("not a string: {other:?}"),
                })
                .collect();
            assert_eq!(got, strings(n), "a{k}");
        }
    }
    if !have_h5py() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{tag}.h5"));
    std::fs::write(&path, &bytes).unwrap();
    check_py(
        &path,
        &format!(
            r#"
def strings(n):
    return [('s%d' % i) if i % 3 == 0 else ('é-' + 'x' * i) if i % 3 == 1 else '' for i in range(n)]
f = h5py.File(p, 'r')
for obj in [f, f['d']]:
    for k, shape in enumerate({shapes:?}):
        a = obj.attrs['a%d' % k]
        assert a.shape == tuple(shape), (k, a.shape)
        want = np.array(strings(int(np.prod(shape))), dtype=object).reshape(shape)
        got = np.vectorize(lambda x: x.decode() if isinstance(x, bytes) else x, otypes=[object])(a) if a.size else a
        assert got.shape == want.shape and (got == want).all(), (k, got, want)
"#
        ),
    );
    check_h5dump(&path, false);
}

#[test]
fn string_attrs_rank2_earliest() {
    check(Format::Earliest, "earliest");
}

#[test]
fn string_attrs_rank2_latest() {
    check(Format::Latest, "latest");
}
