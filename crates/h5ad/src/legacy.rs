//! Files written before anndata 0.7 (and structured arrays of any version).
//!
//! The old layout has no encoding attributes: `obs` / `var` / `raw.var` are compound
//! datasets (a numpy structured array whose first field is the index), categorical columns
//! are integer codes whose categories live in `uns/<column>_categories`, and `obsm` / `varm`
//! may be compound datasets with one (array-valued) field per entry. anndata still reads
//! them; this module does the same conversions.

use std::collections::BTreeMap;

use h5format::read::datatype::Datatype;
use h5format::value::Value;
use h5format::{Dataset, File, Object};
use h5sparse::{ElemType, Values};

use crate::error::{Context, Error, Result};
use crate::model::{Column, DataFrame, Dense, Element, Matrix, StringArray};

/// The kind of the scalars of one compound field (the base type of an array field).
#[derive(Clone, Copy)]
enum Leaf {
    /// Strings; fixed-length ones with their size in bytes.
    Str(Option<usize>),
    Bool,
    Int(ElemType),
    UInt(ElemType),
    F32,
    F64,
}

/// The scalar kind and the per-row dimensions of a field type.
fn leaf_of(t: &Datatype) -> Option<(Leaf, Vec<usize>)> {
    if t.is_h5py_bool() {
        return Some((Leaf::Bool, Vec::new()));
    }
    let leaf = match t {
        Datatype::String { size, .. } => Leaf::Str(Some(*size as usize)),
        Datatype::VarLen {
            string: Some(_), ..
        } => Leaf::Str(None),
        Datatype::Integer { size, signed, .. } => {
            let e = ElemType::integer(*size, *signed)?;
            if *signed {
                Leaf::Int(e)
            } else {
                Leaf::UInt(e)
            }
        }
        Datatype::Enum { base, .. } => return leaf_of(base),
        Datatype::Float { size: 2 | 4, .. } => Leaf::F32,
        Datatype::Float { size: 8, .. } => Leaf::F64,
        Datatype::Array { dims, base, .. } => {
            let (leaf, inner) = leaf_of(base)?;
            let mut d = dims
                .iter()
                .map(|&x| usize::try_from(x).ok())
                .collect::<Option<Vec<_>>>()?;
            d.extend(inner);
            return Some((leaf, d));
        }
        _ => return None,
    };
    Some((leaf, Vec::new()))
}

/// Append the scalars of `v` (nested lists for array fields) to `out`, row-major.
fn flatten(v: Value, out: &mut Vec<Value>) {
    match v {
        Value::List(items) => items.into_iter().for_each(|x| flatten(x, out)),
        other => out.push(other),
    }
}

/// Scalars of one kind as an element of `shape`.
fn field_element(path: &str, leaf: Leaf, shape: Vec<usize>, vals: Vec<Value>) -> Result<Element> {
    let bad = || Error::element(path, "compound field values of an unexpected type");
    let ints = |vals: Vec<Value>| -> Result<Vec<i64>> {
        vals.into_iter()
            .map(|v| match v {
                Value::Int(i) => Ok(i),
                Value::UInt(u) => i64::try_from(u).map_err(|_| bad()),
                Value::Bool(b) => Ok(i64::from(b)),
                _ => Err(bad()),
            })
            .collect()
    };
    let floats = |vals: Vec<Value>| -> Result<Vec<f64>> {
        vals.into_iter()
            .map(|v| match v {
                Value::Float(f) => Ok(f),
                _ => Err(bad()),
            })
            .collect()
    };
    let values = match leaf {
        Leaf::Str(width) => {
            let values = vals
                .into_iter()
                .map(|v| match v {
                    Value::Str(s) => Ok(s),
                    Value::Opaque(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
                    _ => Err(bad()),
                })
                .collect::<Result<Vec<_>>>()?;
            return Ok(Element::Strings(StringArray {
                shape,
                values,
                width,
            }));
        }
        Leaf::Bool => Values::Bool(
            vals.into_iter()
                .map(|v| match v {
                    Value::Bool(b) => Ok(b),
                    Value::Int(i) => Ok(i != 0),
                    _ => Err(bad()),
                })
                .collect::<Result<Vec<_>>>()?,
        ),
        Leaf::UInt(ElemType::U64) => Values::U64(
            vals.into_iter()
                .map(|v| match v {
                    Value::UInt(u) => Ok(u),
                    _ => Err(bad()),
                })
                .collect::<Result<Vec<_>>>()?,
        ),
        Leaf::Int(e) | Leaf::UInt(e) => Values::from_i64(e, &ints(vals)?)
            .map_err(|e| Error::element(path, format!("compound field: {e}")))?,
        Leaf::F32 => Values::F32(floats(vals)?.into_iter().map(|x| x as f32).collect()),
        Leaf::F64 => Values::F64(floats(vals)?),
    };
    Ok(Element::Dense(Dense { shape, values }))
}

/// The fields of a 1-D compound dataset (a numpy structured array), in file order; each
/// field is a dense or string array of shape `[rows, field dims...]`.
pub(crate) fn read_records(ds: &Dataset) -> Result<Vec<(String, Element)>> {
    let path = ds.path();
    let Datatype::Compound { members, .. } = ds.dtype() else {
        return Err(Error::element(path, "expected a compound dataset"));
    };
    let rows = match ds.shape() {
        [n] => usize::try_from(*n).map_err(|_| Error::element(path, "too many rows"))?,
        s => {
            return Err(Error::element(
                path,
                format!("structured array of rank {}, expected 1", s.len()),
            ))
        }
    };
    let mut kinds = Vec::with_capacity(members.len());
    for m in members {
        let (leaf, dims) = leaf_of(&m.dtype).ok_or_else(|| {
            Error::element(
                path,
                format!(
                    "field {:?} of unsupported type {}",
                    m.name,
                    m.dtype.dtype_name()
                ),
            )
        })?;
        let per_row: usize = dims.iter().product();
        kinds.push((leaf, dims, per_row));
    }
    let raw = ds.read_raw().at(path)?;
    let file = ds.file();
    let decoded = h5format::value::decode(ds.dtype(), &raw, rows, file.sizes(), file).at(path)?;
    let mut cols: Vec<Vec<Value>> = kinds
        .iter()
        .map(|(_, _, per_row)| Vec::with_capacity(rows.saturating_mul(*per_row)))
        .collect();
    for row in decoded {
        let Value::Compound(fields) = row else {
            return Err(Error::element(path, "expected compound elements"));
        };
        if fields.len() != cols.len() {
            return Err(Error::element(path, "compound element with missing fields"));
        }
        for ((_, v), col) in fields.into_iter().zip(cols.iter_mut()) {
            flatten(v, col);
        }
    }
    members
        .iter()
        .zip(kinds)
        .zip(cols)
        .map(|((m, (leaf, dims, per_row)), vals)| {
            let fpath = format!("{path}[{:?}]", m.name);
            if vals.len() != rows.saturating_mul(per_row) {
                return Err(Error::element(&fpath, "wrong number of values"));
            }
            let mut shape = vec![rows];
            shape.extend(dims);
            Ok((m.name.clone(), field_element(&fpath, leaf, shape, vals)?))
        })
        .collect()
}

/// True for a dataset of a compound type.
pub(crate) fn is_compound(obj: &Object) -> bool {
    matches!(obj, Object::Dataset(d) if matches!(d.dtype(), Datatype::Compound { .. }))
}

/// A pre-0.7 dataframe: a compound dataset whose first field is the index.
pub(crate) fn read_dataframe_legacy(ds: &Dataset) -> Result<DataFrame> {
    let path = ds.path();
    let mut fields = read_records(ds)?.into_iter();
    let Some((index_name, index)) = fields.next() else {
        return Err(Error::element(path, "structured array without fields"));
    };
    let index = match index {
        Element::Strings(s) => s.values,
        Element::Dense(d) if d.shape.len() == 1 => {
            let v = &d.values;
            (0..v.len())
                .map(|i| match v {
                    Values::F32(_) | Values::F64(_) => v.get_f64(i).map(|x| x.to_string()),
                    Values::Bool(b) => b.get(i).map(|x| if *x { "True" } else { "False" }.into()),
                    _ => v
                        .slice(i..i + 1)
                        .ok()
                        .and_then(|s| s.to_i64().ok())
                        .and_then(|s| s.first().map(|x| x.to_string())),
                })
                .map(|s| s.unwrap_or_default())
                .collect()
        }
        _ => return Err(Error::element(path, "the index field is not 1-D")),
    };
    let columns = fields
        .map(|(name, e)| {
            let col = match e {
                Element::Strings(s) if s.shape.len() == 1 => Column::Strings(s.values),
                Element::Dense(Dense {
                    shape,
                    values: Values::Bool(b),
                }) if shape.len() == 1 => Column::Bool(b),
                Element::Dense(d) if d.shape.len() == 1 => Column::Numeric(d.values),
                _ => {
                    return Err(Error::element(
                        path,
                        format!("field {name:?} is not a 1-D column"),
                    ))
                }
            };
            Ok((name, col))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(DataFrame {
        index_name,
        index,
        columns,
    })
}

/// `obsm` / `varm` stored as one compound dataset: one element per field.
pub(crate) fn read_records_mapping(ds: &Dataset) -> Result<BTreeMap<String, Element>> {
    Ok(read_records(ds)?.into_iter().collect())
}

/// True when the root's `obs` is a dataset (the pre-0.7 layout).
pub(crate) fn is_legacy_file(file: &File) -> Result<bool> {
    let root = file.root().at("/")?;
    if root.link("obs").at("obs")?.is_none() {
        return Ok(false);
    }
    Ok(matches!(root.member("obs").at("/obs")?, Object::Dataset(_)))
}

/// A `uns` element as categories (anndata wraps a single string or integer in a list).
fn as_categories(e: &Element) -> Option<Column> {
    match e {
        Element::Strings(s) if s.shape.len() == 1 => Some(Column::Strings(s.values.clone())),
        Element::String(s) => Some(Column::Strings(vec![s.clone()])),
        Element::Dense(Dense {
            shape,
            values: Values::Bool(b),
        }) if shape.len() == 1 => Some(Column::Bool(b.clone())),
        Element::Dense(d) if d.shape.len() == 1 => Some(Column::Numeric(d.values.clone())),
        Element::Scalar(v) if v.elem().is_integer() => Some(Column::Numeric(v.clone())),
        _ => None,
    }
}

/// Move `uns/<column>_categories` into the integer columns of `obs` / `var` they belong to
/// (anndata's rule: a column of that name whose codes are all below the number of
/// categories becomes categorical, in each frame; the uns key is then removed).
pub(crate) fn clean_uns(
    uns: &mut BTreeMap<String, Element>,
    frames: [&mut DataFrame; 2],
) -> Result<()> {
    let mut used = Vec::new();
    let [obs, var] = frames;
    for (key, value) in uns.iter() {
        if !key.ends_with("_categories") {
            continue;
        }
        let name = key.replace("_categories", "");
        let Some(cats) = as_categories(value) else {
            continue;
        };
        for df in [&mut *obs, &mut *var] {
            let Some((_, col)) = df.columns.iter_mut().find(|(n, _)| *n == name) else {
                continue;
            };
            let Column::Numeric(v) = col else { continue };
            if !v.elem().is_integer() {
                continue;
            }
            let codes = v
                .to_i64()
                .map_err(|e| Error::element(&format!("uns/{key}"), e))?;
            let n = cats.len() as i64;
            if codes.iter().any(|&c| c >= n) {
                continue;
            }
            if let Some(c) = codes.iter().find(|&&c| c < -1) {
                return Err(Error::element(
                    &format!("uns/{key}"),
                    format!("categorical code {c} of column {name:?} is below -1"),
                ));
            }
            *col = Column::Categorical {
                codes,
                categories: Box::new(cats.clone()),
                ordered: false,
            };
            used.push(key.clone());
        }
    }
    for k in used {
        uns.remove(&k);
    }
    Ok(())
}

/// anndata moves 2-D `uns/neighbors/{distances,connectivities}` to `obsp`.
pub(crate) fn move_adjacency(
    uns: &mut BTreeMap<String, Element>,
    obsp: &mut BTreeMap<String, Matrix>,
) {
    let Some(Element::Dict(n)) = uns.get_mut("neighbors") else {
        return;
    };
    for k in ["distances", "connectivities"] {
        let m = match n.get(k) {
            Some(Element::Sparse(_)) => n.remove(k).and_then(|e| match e {
                Element::Sparse(s) => Some(Matrix::Sparse(s)),
                _ => None,
            }),
            Some(Element::Dense(d)) if d.shape.len() == 2 => n.remove(k).and_then(|e| match e {
                Element::Dense(d) => Some(Matrix::Dense(d)),
                _ => None,
            }),
            _ => None,
        };
        if let Some(m) = m {
            obsp.insert(k.to_string(), m);
        }
    }
}
