//! JSON rendering of decoded values, following the `dump --json` rules of the CLI contract:
//! integers exact over the full i64/u64 range, floats shortest round-trip with the sign of
//! zero kept, NaN/inf as the strings `"nan"`, `"inf"`, `"-inf"`, opaque bytes as lowercase
//! hex, references as paths or null, undecodable values as null.

use h5format::value::Value;
use h5format::{Attribute, Error, File};
use serde_json::{Map, Number, Value as Json};

/// JSON nodes [`nest`] may build beyond what its values need (empty lists, nulls).
pub(crate) const MAX_EXTRA_NODES: u64 = 1 << 24;

/// A float as JSON: a number, or `"nan"`, `"inf"`, `"-inf"`.
pub fn float_to_json(f: f64) -> Json {
    if f.is_nan() {
        Json::String("nan".into())
    } else if f.is_infinite() {
        Json::String(if f > 0.0 { "inf" } else { "-inf" }.into())
    } else {
        Number::from_f64(f).map_or(Json::Null, Json::Number)
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// One decoded value as JSON.
pub fn value_to_json(v: &Value) -> Json {
    match v {
        Value::Null | Value::Unsupported => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Number(Number::from(*i)),
        Value::UInt(u) => Json::Number(Number::from(*u)),
        Value::Float(f) => float_to_json(*f),
        Value::Str(s) => Json::String(s.clone()),
        Value::Opaque(b) => Json::String(hex(b)),
        Value::List(items) => Json::Array(items.iter().map(value_to_json).collect()),
        Value::Compound(fields) => {
            let mut m = Map::with_capacity(fields.len());
            for (name, v) in fields {
                m.insert(name.clone(), value_to_json(v));
            }
            Json::Object(m)
        }
        Value::Ref(path) => path
            .as_ref()
            .map_or(Json::Null, |p| Json::String(p.clone())),
    }
}

/// Row-major nested lists of `values` by `shape`: shape `[]` gives the bare scalar (null if
/// there is none), shape `[0]` gives `[]`. Missing values (fewer than the shape holds) are
/// null and extra values are ignored. The output is bounded whatever the shape: at most
/// (rank + 1) x values + 2^24 JSON nodes are built (a consistent shape needs fewer), so a
/// hostile shape such as `[2^64-1, 0]` cannot hang or exhaust memory; it is cut short.
pub fn nest(values: Vec<Value>, shape: &[u64]) -> Json {
    nest_bounded(values, shape, MAX_EXTRA_NODES)
}

fn nest_bounded(values: Vec<Value>, shape: &[u64], extra: u64) -> Json {
    let rank = shape.len() as u64 + 1;
    let mut budget = rank
        .saturating_mul(values.len() as u64)
        .saturating_add(extra);
    let mut it = values.into_iter();
    build(&mut it, shape, &mut budget)
}

fn build(it: &mut std::vec::IntoIter<Value>, shape: &[u64], budget: &mut u64) -> Json {
    *budget = budget.saturating_sub(1);
    match shape.split_first() {
        None => it.next().map_or(Json::Null, |v| value_to_json(&v)),
        Some((&d, rest)) => {
            let mut out = Vec::new();
            for _ in 0..d {
                if *budget == 0 {
                    break;
                }
                out.push(build(it, rest, budget));
            }
            Json::Array(out)
        }
    }
}

/// The JSON value of an attribute.
pub fn attribute_json(file: &File, a: &Attribute) -> Result<Json, Error> {
    if matches!(a.space, h5format::Dataspace::Null)
        || a.dtype.dtype_name().starts_with("unsupported:")
    {
        return Ok(Json::Null);
    }
    let n = a.space.num_elements().unwrap_or(0) as usize;
    let values: Vec<Value> = h5format::value::decode(&a.dtype, &a.data, n, file.sizes(), file)?;
    Ok(if matches!(a.space, h5format::Dataspace::Scalar) {
        values
            .into_iter()
            .next()
            .map(|v| value_to_json(&v))
            .unwrap_or(Json::Null)
    } else {
        nest(values, a.space.dims())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(v: &Value) -> String {
        serde_json::to_string(&value_to_json(v)).unwrap_or_default()
    }

    #[test]
    fn scalars() {
        assert_eq!(render(&Value::Int(i64::MIN)), "-9223372036854775808");
        assert_eq!(render(&Value::UInt(u64::MAX)), "18446744073709551615");
        assert_eq!(render(&Value::Float(-0.0)), "-0.0");
        assert_eq!(render(&Value::Float(0.1)), "0.1");
        assert_eq!(
            render(&Value::Float(f64::from(0.1f32))),
            "0.10000000149011612"
        );
        assert_eq!(render(&Value::Float(1e300)), "1e+300");
        assert_eq!(render(&Value::Float(5e-324)), "5e-324");
        assert_eq!(render(&Value::Float(f64::NAN)), "\"nan\"");
        assert_eq!(render(&Value::Float(f64::INFINITY)), "\"inf\"");
        assert_eq!(render(&Value::Float(f64::NEG_INFINITY)), "\"-inf\"");
        assert_eq!(render(&Value::Bool(true)), "true");
        assert_eq!(render(&Value::Opaque(vec![0, 0xab, 0x1f])), "\"00ab1f\"");
        assert_eq!(render(&Value::Ref(None)), "null");
        assert_eq!(render(&Value::Ref(Some("/a".into()))), "\"/a\"");
        assert_eq!(render(&Value::Unsupported), "null");
        assert_eq!(render(&Value::Str("é\"\n".into())), "\"é\\\"\\n\"");
    }

    #[test]
    fn floats_round_trip() {
        for f in [
            0.1,
            1.0 / 3.0,
            1e-310,
            f64::MAX,
            f64::MIN_POSITIVE,
            -123.456e78,
            2.0f64.powi(60),
        ] {
            let s = render(&Value::Float(f));
            let back: f64 = s.parse().unwrap_or(f64::NAN);
            assert_eq!(back.to_bits(), f.to_bits(), "{s}");
        }
    }

    #[test]
    fn compounds_keep_member_order() {
        let v = Value::Compound(vec![
            ("z".into(), Value::Int(1)),
            (
                "a".into(),
                Value::List(vec![Value::Float(1.5), Value::Null]),
            ),
        ]);
        assert_eq!(render(&v), r#"{"z":1,"a":[1.5,null]}"#);
    }

    #[test]
    fn nesting() {
        let vals = |n: i64| (0..n).map(Value::Int).collect::<Vec<_>>();
        assert_eq!(nest(vals(1), &[]).to_string(), "0");
        assert_eq!(nest(vec![], &[]).to_string(), "null");
        assert_eq!(nest(vec![], &[0]).to_string(), "[]");
        assert_eq!(nest(vals(3), &[3]).to_string(), "[0,1,2]");
        assert_eq!(nest(vals(6), &[2, 3]).to_string(), "[[0,1,2],[3,4,5]]");
        assert_eq!(
            nest(vals(6), &[3, 1, 2]).to_string(),
            "[[[0,1]],[[2,3]],[[4,5]]]"
        );
        assert_eq!(nest(vec![], &[2, 0]).to_string(), "[[],[]]");
        assert_eq!(nest(vec![], &[0, 5]).to_string(), "[]");
        assert_eq!(nest(vals(2), &[3]).to_string(), "[0,1,null]");
        // Hostile shapes neither hang nor exhaust memory.
        for shape in [&[u64::MAX, 0][..], &[u64::MAX], &[1 << 40, 1 << 40, 0]] {
            let big = nest_bounded(vals(1), shape, 1000);
            let n = big.as_array().map_or(usize::MAX, Vec::len);
            assert!(n <= 1000 + 4, "{shape:?}: {n} lists");
        }
    }
}
