//! Floats of non-IEEE layouts (testdata/float_layouts.h5, written by
//! testdata/generate_formats.py): typed reads equal h5py's values in the reference dump.

use std::path::PathBuf;

use h5format::File;

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn as_f64(v: &serde_json::Value) -> f64 {
    match v.as_str() {
        Some("nan") => f64::NAN,
        Some("inf") => f64::INFINITY,
        Some("-inf") => f64::NEG_INFINITY,
        _ => v.as_f64().unwrap(),
    }
}

#[test]
fn typed_reads_equal_h5py() {
    let text = std::fs::read_to_string(testdata().join("float_layouts.h5.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let f = File::open(testdata().join("float_layouts.h5")).unwrap();
    let mut checked = 0;
    for group in ["raw", "converted"] {
        let members = doc["members"][group]["members"].as_object().unwrap();
        for (name, node) in members {
            let want: Vec<f64> = node["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(as_f64)
                .collect();
            let ds = f.dataset(&format!("/{group}/{name}")).unwrap();
            let got = ds.read::<f64>().unwrap();
            assert_eq!(got.len(), want.len(), "{group}/{name}");
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                    "{group}/{name}[{i}]: {g} != {w}"
                );
            }
            assert_eq!(ds.dtype().dtype_name(), node["dtype"].as_str().unwrap());
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} datasets");
    // Under the n-bit filter: chunked, through the same conversion.
    let want: Vec<f64> = doc["members"]["nbit_p24"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(as_f64)
        .collect();
    assert_eq!(f.dataset("/nbit_p24").unwrap().read::<f64>().unwrap(), want);
}
