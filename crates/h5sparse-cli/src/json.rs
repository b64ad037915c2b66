//! Decoded values to JSON, following the `dump --json` rules of the CLI contract.

use h5format::value::Value;
use serde_json::{Map, Number, Value as Json};

/// One value as JSON.
pub fn value_to_json(v: &Value) -> Json {
    match v {
        Value::Null | Value::Unsupported => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Number((*i).into()),
        Value::UInt(u) => Json::Number((*u).into()),
        Value::Float(f) => float(*f),
        Value::Str(s) => Json::String(s.clone()),
        Value::Opaque(b) => Json::String(b.iter().map(|x| format!("{x:02x}")).collect()),
        Value::List(items) => Json::Array(items.iter().map(value_to_json).collect()),
        Value::Compound(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), value_to_json(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Ref(p) => p.clone().map_or(Json::Null, Json::String),
    }
}

fn float(f: f64) -> Json {
    if f.is_nan() {
        Json::String("nan".into())
    } else if f.is_infinite() {
        Json::String(if f > 0.0 { "inf" } else { "-inf" }.into())
    } else {
        Number::from_f64(f).map_or(Json::Null, Json::Number)
    }
}

/// Row-major values nested by `shape`: `[]` gives the bare scalar, `[0]` an empty list.
pub fn nest(values: Vec<Value>, shape: &[u64]) -> Json {
    if shape.is_empty() {
        return values.first().map_or(Json::Null, value_to_json);
    }
    let mut it = values.iter();
    build(&mut it, shape)
}

fn build<'a>(it: &mut impl Iterator<Item = &'a Value>, shape: &[u64]) -> Json {
    match shape {
        [] => it.next().map_or(Json::Null, value_to_json),
        [n, rest @ ..] => Json::Array((0..*n).map(|_| build(it, rest)).collect()),
    }
}
