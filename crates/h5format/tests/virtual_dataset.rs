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
