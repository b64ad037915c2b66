//! Datatype parsing and value decoding against libhdf5 (through h5py) as the oracle.
//!
//! `support/gen_datatypes.py` serialises many datatypes with libhdf5 (H5Tencode, and the raw
//! datatype messages of files written with `libver='latest'`) together with element bytes and
//! the values numpy reports; this test parses and decodes them and compares.

mod support;

use std::path::Path;
use std::process::Command;

use h5format::cursor::{Cursor, Sizes};
use h5format::read::datatype::Datatype;
use h5format::value::{convert, decode, NoResolver, Value};
use serde_json::{json, Value as J};

fn cases() -> Vec<J> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cases.json");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/gen_datatypes.py");
    let st = Command::new("python3")
        .arg(&script)
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success(), "generator failed");
    let text = std::fs::read_to_string(&out).unwrap();
    serde_json::from_str::<J>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn fbits(v: f64) -> J {
    if v.is_nan() {
        json!({"f": "nan"})
    } else {
        json!({"f": format!("{:016x}", v.to_bits())})
    }
}

/// The canonical form the generator uses.
fn canon(v: &Value) -> J {
    match v {
        Value::Null | Value::Unsupported => J::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::UInt(u) => json!(u),
        Value::Float(f) => fbits(*f),
        Value::Str(s) => json!(s),
        Value::Opaque(b) => json!({"hex": hex(b)}),
        Value::List(l) => J::Array(l.iter().map(canon).collect()),
        Value::Compound(m) => {
            json!({"c": m.iter().map(|(n, v)| json!([n, canon(v)])).collect::<Vec<_>>()})
        }
        Value::Ref(r) => json!(r),
    }
}

/// The message body of a case: H5Tencode output minus its 2-byte header, or a raw body.
fn body(case: &J) -> Vec<u8> {
    if let Some(b) = case["body"].as_str() {
        return unhex(b);
    }
    let enc = unhex(case["enc"].as_str().unwrap());
    assert_eq!(enc[0], 3, "H5Tencode starts with the datatype message id");
    enc[2..].to_vec()
}

#[test]
fn datatypes_match_libhdf5() {
    if !support::python_or_skip(
        "h5py, numpy",
        "SKIPPED: python3 with h5py and numpy is not available",
    ) {
        return;
    }
    let cases = cases();
    assert!(cases.len() > 50);
    let mut decoded = 0;
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let b = body(case);
        let mut cur = Cursor::new(&b, 1000, "datatype message", Sizes::default());
        let dt = Datatype::parse(&mut cur).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            cur.remaining(),
            0,
            "{name}: parse must consume the whole message"
        );
        assert_eq!(
            dt.dtype_name(),
            case["dtype_name"].as_str().unwrap(),
            "{name}: {dt:?}"
        );
        if let Some(size) = case["size"].as_u64() {
            assert_eq!(dt.size() as u64, size, "{name}");
        }
        // Every truncation of the message is an error, never a panic.
        for cut in 0..b.len() {
            let mut c = Cursor::new(&b[..cut], 1000, "datatype message", Sizes::default());
            assert!(
                Datatype::parse(&mut c).is_err(),
                "{name}: truncated at {cut} parsed"
            );
        }
        let Some(data) = case["data"].as_str() else {
            continue;
        };
        let data = unhex(data);
        let count = case["count"].as_u64().unwrap() as usize;
        let vals = decode(&dt, &data, count, Sizes::default(), &NoResolver)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let got: Vec<J> = vals.iter().map(canon).collect();
        assert_eq!(J::Array(got), case["values"], "{name}");
        decoded += 1;
        // Too few bytes is an error.
        if !data.is_empty() {
            assert!(decode(
                &dt,
                &data[..data.len() - 1],
                count,
                Sizes::default(),
                &NoResolver
            )
            .is_err());
        }
        if case["numeric"].as_bool() == Some(true) {
            check_convert(name, &dt, &data, case);
        }
    }
    assert!(decoded > 40);
}

fn check_convert(name: &str, dt: &Datatype, data: &[u8], case: &J) {
    let f64s: Vec<J> = convert::<f64>(dt, data)
        .unwrap()
        .into_iter()
        .map(fbits)
        .collect();
    assert_eq!(J::Array(f64s), case["as_f64"], "{name} as f64");
    let f32s: Vec<J> = convert::<f32>(dt, data)
        .unwrap()
        .into_iter()
        .map(|v| fbits(f64::from(v)))
        .collect();
    assert_eq!(J::Array(f32s), case["as_f32"], "{name} as f32");
    let values = case["values"].as_array().unwrap();
    let is_int = values
        .iter()
        .all(|v| v.is_i64() || v.is_u64() || v.is_boolean());
    if !is_int {
        return;
    }
    let as_i128 = |v: &J| -> i128 {
        if let Some(b) = v.as_bool() {
            i128::from(b)
        } else if let Some(u) = v.as_u64() {
            i128::from(u)
        } else {
            i128::from(v.as_i64().unwrap())
        }
    };
    let want: Vec<i128> = values.iter().map(as_i128).collect();
    let signed = want.iter().any(|&v| v < 0) || !name.contains('u');
    if signed {
        let got: Vec<i128> = convert::<i64>(dt, data)
            .unwrap()
            .into_iter()
            .map(i128::from)
            .collect();
        assert_eq!(got, want, "{name} as i64");
    } else {
        let got: Vec<i128> = convert::<u64>(dt, data)
            .unwrap()
            .into_iter()
            .map(i128::from)
            .collect();
        assert_eq!(got, want, "{name} as u64");
    }
    // The same-type paths (copy, byte swap) for each destination width, with `as` wrapping.
    macro_rules! same {
        ($t:ty) => {
            let got: Vec<i128> = convert::<$t>(dt, data)
                .unwrap()
                .into_iter()
                .map(|v| v as i128)
                .collect();
            let exp: Vec<i128> = want.iter().map(|&v| (v as $t) as i128).collect();
            assert_eq!(got, exp, "{name} as {}", stringify!($t));
        };
    }
    same!(i8);
    same!(i16);
    same!(i32);
    same!(u8);
    same!(u16);
    same!(u32);
}
