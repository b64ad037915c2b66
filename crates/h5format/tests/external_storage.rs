//! External storage (raw data in other files) against h5py: testdata/external.h5 and its
//! reference dump, both written by testdata/generate_formats.py.

use std::path::PathBuf;

use h5format::File;

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

#[test]
fn external_files_need_an_allowed_directory() {
    let f = File::open(testdata().join("external.h5")).unwrap();
    let e = f.dataset("/whole").unwrap().read::<i32>().unwrap_err();
    assert!(e.to_string().contains("outside the allowed"), "{e}");
    let f = f.with_external_dirs([testdata()]);
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(testdata().join("external.h5.json")).unwrap(),
    )
    .unwrap();
    let want: Vec<i64> =
        serde_json::from_value(reference["members"]["whole"]["data"].clone()).unwrap();
    let got = f.dataset("/whole").unwrap().read::<i32>().unwrap();
    assert_eq!(got.iter().map(|&v| i64::from(v)).collect::<Vec<_>>(), want);
    // Ranges across slot boundaries (slots of 50, 30 and 20 elements).
    let two = f.dataset("/two_files").unwrap();
    let all = two.read::<i32>().unwrap();
    let part = two.read_ranges::<i32>(&[45..55, 78..83]).unwrap();
    let expect: Vec<i32> = all[45..55].iter().chain(&all[78..83]).copied().collect();
    assert_eq!(part, expect);
}
