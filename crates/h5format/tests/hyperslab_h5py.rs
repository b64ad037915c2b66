//! N-D hyperslab reads (`Dataset::read_hyperslab`, and `read_slab_array` with the `ndarray`
//! feature) of every numeric dataset of the chunked and layout fixtures, for seeded random
//! start/count/step per dimension, compared with h5py reading `ds[a:b:s, ...]`.

mod support;

use h5format::File;
use serde_json::{json, Value as J};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name)
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) % n.max(1)
    }
}

const NUMERIC: &str = "iufb";

#[test]
fn random_hyperslabs_equal_h5py() {
    if !support::have_h5py() {
        return;
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut cases = Vec::new();
    for name in [
        "chunked_latest.h5",
        "chunked_earliest.h5",
        "everything_latest.h5",
    ] {
        let path = fixture(name);
        let file = File::open(&path).unwrap();
        // The numeric datasets, listed by h5py (kind in "iufb", not compound/strings).
        let out = support::python_ok(
            "listing datasets",
            &format!(
                "import sys, h5py\nf = h5py.File(sys.argv[1])\nf.visititems(lambda n, o: print(n) if isinstance(o, h5py.Dataset) and o.shape is not None and o.dtype.kind in '{NUMERIC}' and o.dtype.itemsize <= 8 and o.dtype.shape == () else None)"
            ),
            &path,
        );
        let names = String::from_utf8(out.stdout).unwrap();
        // Bitfields are kind 'u' to h5py but not numbers to us (read as raw bytes).
        for ds_name in names.lines().filter(|n| !n.ends_with("bitfield")) {
            let ds = file.dataset(ds_name).unwrap();
            let dims = ds.shape().to_vec();
            for _ in 0..6 {
                let mut start = Vec::new();
                let mut count = Vec::new();
                let mut step = Vec::new();
                for &d in &dims {
                    let st = 1 + rng.below(3);
                    let s = rng.below(d);
                    let room = if d == 0 { 0 } else { (d - 1 - s) / st + 1 };
                    let c = if room == 0 { 0 } else { 1 + rng.below(room) };
                    start.push(s);
                    count.push(c);
                    step.push(st);
                }
                let ours: Vec<f64> = ds.read_hyperslab(&start, &count, &step).unwrap();
                #[cfg(feature = "ndarray")]
                {
                    let a = ds.read_slab_array::<f64>(&start, &count, &step).unwrap();
                    let shape: Vec<u64> = a.shape().iter().map(|&n| n as u64).collect();
                    assert_eq!(shape, count, "{name} {ds_name}");
                    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&a.iter().copied().collect::<Vec<_>>()), bits(&ours));
                }
                cases.push(json!({"file": path, "ds": ds_name, "start": start,
                    "count": count, "step": step, "bits": ours.iter().map(|x| x.to_bits()).collect::<Vec<_>>()}));
            }
        }
    }
    assert!(cases.len() > 100, "{} cases", cases.len());
    let dir = tempfile::tempdir().unwrap();
    let cases_path = dir.path().join("cases.json");
    std::fs::write(&cases_path, J::Array(cases).to_string()).unwrap();
    support::python_ok(
        "h5py comparison",
        r#"
import sys, json, h5py, numpy as np
bad = 0
for c in json.load(open(sys.argv[1])):
    ds = h5py.File(c["file"])[c["ds"]]
    key = tuple(slice(s, s + (n - 1) * t + 1 if n else s, t) for s, n, t in zip(c["start"], c["count"], c["step"]))
    want = np.asarray(ds[key] if key else ds[()], dtype=np.float64).ravel()
    got = np.array(c["bits"], dtype=np.uint64).view(np.float64)
    if want.shape != got.shape or not np.array_equal(want, got, equal_nan=True):
        bad += 1
        print("mismatch", c["file"], c["ds"], key, want[:8], got[:8])
sys.exit(1 if bad else 0)
"#,
        &cases_path,
    );
}

#[test]
fn bad_hyperslabs_are_errors() {
    let file = File::open(fixture("chunked_latest.h5")).unwrap();
    let ds = file.dataset("/edge").unwrap(); // 23 x 17
    assert!(ds
        .read_hyperslab::<i32>(&[0, 0], &[24, 1], &[1, 1])
        .is_err());
    assert!(ds.read_hyperslab::<i32>(&[0, 0], &[2, 1], &[0, 1]).is_err());
    assert!(ds.read_hyperslab::<i32>(&[0], &[1], &[1]).is_err());
    assert!(ds
        .read_hyperslab::<i32>(&[22, 16], &[1, 1], &[1, 1])
        .is_ok());
}
