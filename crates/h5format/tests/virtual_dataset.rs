//! Virtual datasets against h5py: testdata/vds.h5 / vds_latest.h5 (selections serialized as
//! libhdf5's version 1 block lists and version 3 regular hyperslabs) and their reference
//! dumps, all written by testdata/generate_formats.py.

use std::path::PathBuf;

use h5format::File;

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn reference(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(testdata().join(format!("{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn flat_f64(v: &serde_json::Value, out: &mut Vec<f64>) {
    match v {
        serde_json::Value::Array(a) => a.iter().for_each(|x| flat_f64(x, out)),
        serde_json::Value::String(s) if s == "nan" => out.push(f64::NAN),
        serde_json::Value::String(s) if s == "inf" => out.push(f64::INFINITY),
        serde_json::Value::String(s) if s == "-inf" => out.push(f64::NEG_INFINITY),
        x => out.push(x.as_f64().unwrap()),
    }
}

#[test]
fn sources_need_an_allowed_directory() {
    let f = File::open(testdata().join("vds.h5")).unwrap();
    let e = f.dataset("/concat").unwrap().read::<i32>().unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("outside the allowed") && msg.contains("vds_src_a.h5"),
        "{msg}"
    );
    // The same-file mapping needs no directory.
    let same = f.dataset("/same_file").unwrap().read::<i32>().unwrap();
    assert_eq!(same, vec![0, 0, -5, -4, -3, -2, -1, 0]);
}

#[test]
fn ranges_and_hyperslabs_match_the_reference() {
    for name in ["vds.h5", "vds_latest.h5"] {
        let f = File::open(testdata().join(name))
            .unwrap()
            .with_external_dirs([testdata()]);
        let r = reference(name);
        for ds in ["strided", "concat", "missing"] {
            let want: Vec<i64> = serde_json::from_value(r["members"][ds]["data"].clone()).unwrap();
            let d = f.dataset(ds).unwrap();
            let all = d.read::<i32>().unwrap();
            assert_eq!(all.iter().map(|&v| i64::from(v)).collect::<Vec<_>>(), want);
            let part = d.read_ranges::<i32>(&[1..4, 6..9]).unwrap();
            let expect: Vec<i32> = all[1..4].iter().chain(&all[6..9]).copied().collect();
            assert_eq!(part, expect, "{name}:{ds}");
        }
        let mut want = Vec::new();
        flat_f64(&r["members"]["tiles"]["data"], &mut want);
        let tiles = f.dataset("tiles").unwrap();
        let slab = tiles
            .read_hyperslab::<f64>(&[3, 1], &[3, 4], &[1, 3])
            .unwrap();
        let mut expect = Vec::new();
        for i in 3..6 {
            for j in (1..13).step_by(3) {
                expect.push(want[i * 13 + j]);
            }
        }
        assert_eq!(slab.len(), expect.len());
        for (a, b) in slab.iter().zip(&expect) {
            assert!(a == b || (a.is_nan() && b.is_nan()), "{name}: {a} vs {b}");
        }
    }
}

/// Every dataset of vds_unlim.h5 (unlimited and `%b` mappings, type conversions): the shape
/// libhdf5 computes from the sources' current extents and the values, whole and by element
/// ranges (the path a streamed dump takes), equal h5py's.
#[test]
fn unlimited_and_printf_mappings_match_the_reference() {
    let f = File::open(testdata().join("vds_unlim.h5"))
        .unwrap()
        .with_external_dirs([testdata()]);
    let r = reference("vds_unlim.h5");
    let mut checked = 0;
    let mut stack = vec![(String::new(), &r)];
    while let Some((prefix, node)) = stack.pop() {
        for (name, m) in node["members"].as_object().unwrap() {
            let path = format!("{prefix}/{name}");
            if m["kind"] == "group" {
                stack.push((path, m));
                continue;
            }
            let d = f.dataset(&path).unwrap();
            let shape: Vec<u64> = serde_json::from_value(m["shape"].clone()).unwrap();
            assert_eq!(d.shape(), &shape[..], "{path}");
            let mut want = Vec::new();
            flat_f64(&m["data"], &mut want);
            let mut got = d.read::<f64>().unwrap();
            assert_eq!(got.len(), want.len(), "{path}");
            let same = |a: &f64, b: &f64| a == b || (a.is_nan() && b.is_nan());
            for (a, b) in got.iter().zip(&want) {
                assert!(same(a, b), "{path}: {a} vs {b}");
            }
            let n = got.len() as u64;
            if n > 4 {
                let part = d.read_ranges::<f64>(&[1..3, n - 2..n]).unwrap();
                got = got[1..3]
                    .iter()
                    .chain(&got[n as usize - 2..])
                    .copied()
                    .collect();
                assert!(part.iter().zip(&got).all(|(a, b)| same(a, b)), "{path}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 18, "{checked} datasets");
}

/// `%b` source names that resolve outside the allowed directories: the dataset opens with its
/// stored extent and says why its sources were not resolved; every read is an error naming
/// the source (never fill values).
#[test]
fn printf_sources_outside_the_allowed_directories_are_refused() {
    let dir = testdata().join("hostile");
    let f = File::open(dir.join("vds_printf.h5"))
        .unwrap()
        .with_external_dirs([dir]);
    for (ds, source) in [
        ("parent", "../vds_unlim_p0.h5"),
        ("absolute", "/etc/host0name"),
    ] {
        let d = f.dataset(ds).unwrap();
        let refused = |msg: &str| msg.contains("outside the allowed") && msg.contains(source);
        let why = d.unresolved_extent().expect("unresolved").to_string();
        assert!(refused(&why), "{ds}: {why}");
        let stored = match d.node().header().first(0x0001) {
            Some(m) => h5format::read::dataspace::Dataspace::parse(
                &mut m.cursor("dataspace message", f.sizes()),
            )
            .unwrap(),
            None => panic!("{ds}: no dataspace message"),
        };
        assert_eq!(d.shape(), stored.dims(), "{ds}: the stored extent");
        let Err(e) = d.read::<i32>() else {
            panic!("{ds} read")
        };
        assert!(refused(&e.to_string()), "{ds}: {e}");
        assert!(
            d.read_ranges::<i32>(&[0..1, 2..3]).is_err(),
            "{ds}: ranges read"
        );
    }
    // Datasets of the same file whose sources are allowed still resolve.
    let f = File::open(testdata().join("vds_unlim.h5"))
        .unwrap()
        .with_external_dirs([testdata()]);
    let r = reference("vds_unlim.h5");
    for (name, m) in r["members"].as_object().unwrap() {
        if m["kind"] == "dataset" {
            assert!(
                f.dataset(name).unwrap().unresolved_extent().is_none(),
                "{name}"
            );
        }
    }
}
