//! Merging the `obs` dataframes (and dense `obsm` arrays) of concatenated AnnData files, as
//! `anndata.concat` does (`pd.concat` after anndata's `unify_dtypes`).
//!
//! Columns: `inner` keeps the columns present in every input (in the first input's order),
//! `outer` all of them (first appearance order). A column missing from an input gets missing
//! values there. Per column:
//! - categoricals everywhere: the union of the categories, natural-sorted (anndata's
//!   `natsorted`) for unordered ones (the first input's order when all have the same set); ordered ones with the same categories stay ordered,
//!   other ordered mixes become strings (anndata: `object`);
//! - numbers: the common type (`i64`/`f64` when they differ); missing values make `f64` NaN;
//! - booleans: kept; missing values make a nullable boolean (pandas `boolean`);
//! - strings (or strings mixed with categoricals): strings; missing values make a nullable
//!   string array (anndata: `object` with NaN, which no `.h5ad` encoding stores);
//! - nullable columns keep their mask, extended by missing rows.

use std::cmp::Ordering;
use std::collections::HashMap;

use h5sparse::{ElemType, Values};

use crate::array::convert_to;
use crate::error::{Error, Result};
use crate::model::{Column, DataFrame};

/// Which axis labels survive a concatenation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Join {
    /// Only labels present in every input.
    #[default]
    Inner,
    /// Labels present in any input (missing values elsewhere).
    Outer,
}

/// Merge the `obs` frames (index concatenated, columns per [`Join`]).
pub fn merge_obs(frames: &[&DataFrame], join: Join) -> Result<DataFrame> {
    let mut names: Vec<&str> = Vec::new();
    for f in frames {
        for (n, _) in &f.columns {
            if !names.contains(&n.as_str()) {
                names.push(n);
            }
        }
    }
    if join == Join::Inner {
        names.retain(|n| frames.iter().all(|f| f.column(n).is_some()));
    }
    let mut columns = Vec::with_capacity(names.len());
    for name in names {
        let parts: Vec<(usize, Option<&Column>)> =
            frames.iter().map(|f| (f.len(), f.column(name))).collect();
        let merged = merge_column(&parts)
            .map_err(|detail| Error::element(&format!("obs/{name}"), detail))?;
        columns.push((name.to_string(), merged));
    }
    Ok(DataFrame {
        index_name: "_index".into(),
        index: frames
            .iter()
            .flat_map(|f| f.index.iter().cloned())
            .collect(),
        columns,
    })
}

/// `obsm`: dense arrays concatenated along rows, like `anndata.concat` (keys of every input
/// for `inner`; of any input for `outer`, missing rows NaN in a float array). Entries that
/// are not dense arrays of one width in every input that has them are left out (listed in
/// [`crate::ConcatStats::obsm_skipped`]). Returns the keys written and the keys left out.
pub(crate) fn concat_obsm(
    w: &mut h5format::write::FileWriter,
    ads: &[crate::AnnData],
    join: Join,
) -> Result<(Vec<String>, Vec<String>)> {
    let (mut written, mut skipped) = (Vec::new(), Vec::new());
    let mut keys: Vec<&String> = ads.iter().flat_map(|a| a.obsm.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let parts: Vec<Option<&crate::Element>> = ads.iter().map(|a| a.obsm.get(key)).collect();
        let missing = parts.iter().any(Option::is_none);
        if join == Join::Inner && missing {
            continue;
        }
        let dense: Vec<Option<&crate::Dense>> = parts
            .iter()
            .map(|e| match e {
                Some(crate::Element::Dense(d)) => Some(d),
                _ => None,
            })
            .collect();
        let present: Vec<&crate::Dense> = dense.iter().flatten().copied().collect();
        let tail = present
            .first()
            .map(|d| d.shape.get(1..).unwrap_or(&[]).to_vec());
        let ok = present.len() == parts.iter().flatten().count()
            && !present.is_empty()
            && present.iter().all(|d| {
                !d.shape.is_empty() && Some(d.shape.get(1..).unwrap_or(&[]).to_vec()) == tail
            });
        if !ok {
            skipped.push(key.clone());
            continue;
        }
        let tail = tail.unwrap_or_default();
        let stride: usize = tail.iter().product();
        let mut elem = present
            .iter()
            .map(|d| d.values.elem())
            .reduce(promote)
            .unwrap_or(ElemType::F64);
        if missing && !matches!(elem, ElemType::F32 | ElemType::F64) {
            elem = ElemType::F64;
        }
        let path = format!("/obsm/{key}");
        let mut values = Values::empty(elem);
        for (d, a) in dense.iter().zip(ads) {
            let part = match d {
                Some(d) => convert_to(&d.values, elem),
                None => convert_to(&Values::F64(vec![f64::NAN; a.n_obs * stride]), elem),
            }
            .map_err(|e| Error::element(&path, e))?;
            values.append(&part).map_err(|e| Error::element(&path, e))?;
        }
        let mut shape = vec![values.len() / stride.max(1)];
        if stride == 0 {
            shape[0] = ads.iter().map(|a| a.n_obs).sum();
        }
        shape.extend(tail);
        crate::write::write_element(
            w,
            &path,
            &crate::Element::Dense(crate::Dense { shape, values }),
        )?;
        written.push(key.clone());
    }
    Ok((written, skipped))
}

/// The plain value type of a column (categories, nullable values looked through).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Num(ElemType),
    Bool,
    Str,
}

fn plain_kind(c: &Column) -> Option<Kind> {
    match c {
        Column::Numeric(v) => Some(Kind::Num(v.elem())),
        Column::Bool(_) => Some(Kind::Bool),
        Column::Strings(_) => Some(Kind::Str),
        Column::Nullable { values, .. } => plain_kind(values),
        Column::Categorical { .. } => None,
    }
}

/// numpy's result type of two numeric types, simplified: equal types stay, floats win
/// (`f64` unless both are `f32`), integers widen to `i64`.
pub(crate) fn promote(a: ElemType, b: ElemType) -> ElemType {
    use ElemType::*;
    if a == b {
        return a;
    }
    let float = |t| matches!(t, F32 | F64);
    if float(a) || float(b) {
        return F64;
    }
    if a == Bool {
        return b;
    }
    if b == Bool {
        return a;
    }
    I64
}

fn merge_column(parts: &[(usize, Option<&Column>)]) -> std::result::Result<Column, String> {
    let present: Vec<&Column> = parts.iter().filter_map(|(_, c)| *c).collect();
    let has_missing = present.len() < parts.len();
    if present.is_empty() {
        return Err("no input has the column".into());
    }
    let all_cat = present
        .iter()
        .all(|c| matches!(c, Column::Categorical { .. }));
    if all_cat {
        if let Some(c) = merge_categorical(parts, &present)? {
            return Ok(c);
        }
    }
    // Decode categoricals to their values; everything is then plain or nullable.
    let decoded: Vec<(usize, Option<Column>)> = parts
        .iter()
        .map(|(n, c)| Ok((*n, c.map(decode_categorical).transpose()?)))
        .collect::<std::result::Result<_, String>>()?;
    let kinds: Vec<Kind> = decoded
        .iter()
        .filter_map(|(_, c)| c.as_ref().and_then(plain_kind))
        .collect();
    let kind = kinds
        .iter()
        .copied()
        .try_fold(None::<Kind>, |acc, k| match (acc, k) {
            (None, k) => Ok(Some(k)),
            (Some(Kind::Num(a)), Kind::Num(b)) => Ok(Some(Kind::Num(promote(a, b)))),
            (Some(a), b) if a == b => Ok(Some(a)),
            (Some(a), b) => Err(format!(
                "cannot concatenate a column of {a:?} with one of {b:?}"
            )),
        })?
        .ok_or("no input has the column")?;
    let any_nullable = decoded
        .iter()
        .any(|(_, c)| matches!(c, Some(Column::Nullable { .. })));
    let total: usize = parts.iter().map(|(n, _)| n).sum();
    let mut mask = Vec::with_capacity(total);
    let mut values = match kind {
        Kind::Num(_) if has_missing && !any_nullable => {
            // pandas: missing numbers are NaN in a float64 column.
            let mut out = Vec::with_capacity(total);
            for (n, c) in &decoded {
                match c {
                    Some(Column::Numeric(v)) => out.extend(v.to_f64()),
                    _ => out.extend(std::iter::repeat_n(f64::NAN, *n)),
                }
            }
            return Ok(Column::Numeric(Values::F64(out)));
        }
        Kind::Num(t) => Column::Numeric(Values::empty(t)),
        Kind::Bool => Column::Bool(Vec::with_capacity(total)),
        Kind::Str => Column::Strings(Vec::with_capacity(total)),
    };
    for (n, c) in &decoded {
        let (plain, m): (Option<&Column>, Option<&[bool]>) = match c {
            Some(Column::Nullable { values, mask }) => (Some(values), Some(mask)),
            Some(other) => (Some(other), None),
            None => (None, None),
        };
        match m {
            Some(m) => mask.extend_from_slice(m),
            None => mask.extend(std::iter::repeat_n(plain.is_none(), *n)),
        }
        append_plain(&mut values, plain, *n)?;
    }
    if has_missing || any_nullable {
        Ok(Column::Nullable {
            values: Box::new(values),
            mask,
        })
    } else {
        Ok(values)
    }
}

/// Append `n` rows of `src` (or `n` placeholder rows) to a plain column.
fn append_plain(
    dst: &mut Column,
    src: Option<&Column>,
    n: usize,
) -> std::result::Result<(), String> {
    let bad = || "inconsistent column types".to_string();
    match dst {
        Column::Numeric(d) => {
            let part = match src {
                Some(Column::Numeric(v)) => convert_values(v, d.elem())?,
                None => Values::from_i64(d.elem(), &vec![0; n]).map_err(|e| e.to_string())?,
                _ => return Err(bad()),
            };
            d.append(&part).map_err(|e| e.to_string())
        }
        Column::Bool(d) => match src {
            Some(Column::Bool(v)) => {
                d.extend_from_slice(v);
                Ok(())
            }
            None => {
                d.extend(std::iter::repeat_n(false, n));
                Ok(())
            }
            _ => Err(bad()),
        },
        Column::Strings(d) => match src {
            Some(Column::Strings(v)) => {
                d.extend_from_slice(v);
                Ok(())
            }
            None => {
                d.extend(std::iter::repeat_n(String::new(), n));
                Ok(())
            }
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

fn convert_values(v: &Values, t: ElemType) -> std::result::Result<Values, String> {
    if v.elem() == t {
        return Ok(v.clone());
    }
    match t {
        ElemType::F64 => Ok(Values::F64(v.to_f64())),
        ElemType::F32 => Ok(Values::F32(
            v.to_f64().into_iter().map(|x| x as f32).collect(),
        )),
        _ => {
            Values::from_i64(t, &v.to_i64().map_err(|e| e.to_string())?).map_err(|e| e.to_string())
        }
    }
}

/// A categorical column as its plain values (missing codes make it nullable).
fn decode_categorical(c: &Column) -> std::result::Result<Column, String> {
    let Column::Categorical {
        codes, categories, ..
    } = c
    else {
        return Ok(c.clone());
    };
    let pos: Vec<usize> = codes.iter().map(|&k| k.max(0) as usize).collect();
    let missing: Vec<bool> = codes.iter().map(|&k| k < 0).collect();
    let values = if categories.is_empty() {
        // Every code is missing: any placeholder values.
        match **categories {
            Column::Numeric(_) => Column::Numeric(Values::F64(vec![f64::NAN; codes.len()])),
            Column::Bool(_) => Column::Bool(vec![false; codes.len()]),
            _ => Column::Strings(vec![String::new(); codes.len()]),
        }
    } else {
        categories.take(&pos).map_err(|e| e.to_string())?
    };
    if missing.iter().any(|&m| m) {
        if let Column::Numeric(v) = &values {
            // pandas: a numeric categorical with missing values decodes to float NaN.
            let mut f = v.to_f64();
            for (x, &m) in f.iter_mut().zip(&missing) {
                if m {
                    *x = f64::NAN;
                }
            }
            return Ok(Column::Numeric(Values::F64(f)));
        }
        Ok(Column::Nullable {
            values: Box::new(values),
            mask: missing,
        })
    } else {
        Ok(values)
    }
}

/// Category numbers back in their input's type (kept as `f64` if they do not fit).
fn f64_as(v: Vec<f64>, t: ElemType) -> Values {
    let f = Values::F64(v);
    convert_values(&f, t).unwrap_or(f)
}

/// A category value, for ordering and lookup.
#[derive(Debug, Clone, PartialEq)]
enum Cat {
    Num(f64),
    Bool(bool),
    Str(String),
}

fn category_values(c: &Column) -> std::result::Result<Vec<Cat>, String> {
    Ok(match c {
        Column::Numeric(v) => v.to_f64().into_iter().map(Cat::Num).collect(),
        Column::Bool(b) => b.iter().map(|&x| Cat::Bool(x)).collect(),
        Column::Strings(s) => s.iter().cloned().map(Cat::Str).collect(),
        _ => return Err("categories must be a plain column".into()),
    })
}

fn cat_key(c: &Cat) -> String {
    match c {
        Cat::Num(x) => format!("n{}", x.to_bits()),
        Cat::Bool(b) => format!("b{b}"),
        Cat::Str(s) => format!("s{s}"),
    }
}

/// Merge categorical columns; `None` when anndata would fall back to `object`.
fn merge_categorical(
    parts: &[(usize, Option<&Column>)],
    present: &[&Column],
) -> std::result::Result<Option<Column>, String> {
    let mut cats_of = Vec::new();
    let mut any_ordered = false;
    for c in present {
        if let Column::Categorical {
            categories,
            ordered,
            ..
        } = c
        {
            cats_of.push(category_values(categories)?);
            any_ordered |= *ordered;
        }
    }
    let mut union: Vec<Cat> = Vec::new();
    let mut seen = HashMap::new();
    for cats in &cats_of {
        for c in cats {
            let k = cat_key(c);
            if let std::collections::hash_map::Entry::Vacant(e) = seen.entry(k) {
                e.insert(union.len());
                union.push(c.clone());
            }
        }
    }
    let ordered = if any_ordered {
        let same = cats_of
            .iter()
            .filter(|c| !c.is_empty())
            .all(|c| c.len() == union.len() && c.iter().zip(&union).all(|(a, b)| a == b));
        let all_ordered = present
            .iter()
            .zip(&cats_of)
            .filter(|(_, c)| !c.is_empty())
            .all(|(col, _)| matches!(col, Column::Categorical { ordered: true, .. }));
        if !(same && all_ordered) {
            return Ok(None);
        }
        true
    } else {
        if union
            .iter()
            .any(|c| std::mem::discriminant(c) != std::mem::discriminant(&union[0]))
        {
            return Err("categories of different types".into());
        }
        // pandas compares unordered categoricals as sets: when every input has the same
        // categories, `astype` to the natural-sorted union is a no-op and the first
        // input's order stays; otherwise the union is natural-sorted.
        let same_set = cats_of.iter().all(|c| c.len() == union.len());
        if !same_set {
            union.sort_by(natural_cmp);
        }
        false
    };
    let index: HashMap<String, i64> = union
        .iter()
        .enumerate()
        .map(|(i, c)| (cat_key(c), i as i64))
        .collect();
    let total: usize = parts.iter().map(|(n, _)| n).sum();
    let mut codes = Vec::with_capacity(total);
    let mut k = 0;
    for (n, c) in parts {
        match c {
            Some(Column::Categorical { codes: cs, .. }) => {
                let cats = &cats_of[k];
                k += 1;
                let map: Vec<i64> = cats.iter().map(|c| index[&cat_key(c)]).collect();
                for &code in cs {
                    codes.push(if code < 0 {
                        -1
                    } else {
                        *map.get(code as usize)
                            .ok_or("categorical code out of range")?
                    });
                }
            }
            _ => codes.extend(std::iter::repeat_n(-1, *n)),
        }
    }
    let categories = match union.first() {
        Some(Cat::Num(_)) | None => {
            let first_elem = present.iter().find_map(|c| match c {
                Column::Categorical { categories, .. } => match &**categories {
                    Column::Numeric(v) => Some(v.elem()),
                    _ => None,
                },
                _ => None,
            });
            let f: Vec<f64> = union
                .iter()
                .map(|c| if let Cat::Num(x) = c { *x } else { 0.0 })
                .collect();
            match (union.first(), first_elem) {
                (None, _) => present
                    .iter()
                    .find_map(|c| match c {
                        Column::Categorical { categories, .. } => Some((**categories).clone()),
                        _ => None,
                    })
                    .unwrap_or(Column::Strings(Vec::new())),
                (_, Some(t)) => Column::Numeric(f64_as(f, t)),
                _ => Column::Numeric(Values::F64(f)),
            }
        }
        Some(Cat::Bool(_)) => {
            Column::Bool(union.iter().map(|c| matches!(c, Cat::Bool(true))).collect())
        }
        Some(Cat::Str(_)) => Column::Strings(
            union
                .iter()
                .map(|c| match c {
                    Cat::Str(s) => s.clone(),
                    _ => String::new(),
                })
                .collect(),
        ),
    };
    Ok(Some(Column::Categorical {
        codes,
        categories: Box::new(categories),
        ordered,
    }))
}

/// natsort's default order: strings compared as alternating runs of text and unsigned
/// integers (numbers by value), numbers by value.
fn natural_cmp(a: &Cat, b: &Cat) -> Ordering {
    match (a, b) {
        (Cat::Num(x), Cat::Num(y)) => x.total_cmp(y),
        (Cat::Bool(x), Cat::Bool(y)) => x.cmp(y),
        (Cat::Str(x), Cat::Str(y)) => nat_str_cmp(x, y),
        _ => Ordering::Equal,
    }
}

fn runs(s: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut digit = None;
    for (i, ch) in s.char_indices() {
        let d = ch.is_ascii_digit();
        if digit.is_some_and(|x| x != d) {
            out.push((digit.unwrap_or(false), &s[start..i]));
            start = i;
        }
        digit = Some(d);
    }
    if let Some(d) = digit {
        out.push((d, &s[start..]));
    }
    out
}

pub(crate) fn nat_str_cmp(a: &str, b: &str) -> Ordering {
    // natsort keys alternate text, number, text, ...; a key starting with a number gets an
    // empty text first.
    let key = |s| {
        let mut r = runs(s);
        if r.first().is_some_and(|(d, _)| *d) {
            r.insert(0, (false, ""));
        }
        r
    };
    let (ka, kb) = (key(a), key(b));
    for ((da, ta), (db, tb)) in ka.iter().zip(&kb) {
        let o = match (da, db) {
            (true, true) => {
                let (x, y) = (ta.trim_start_matches('0'), tb.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            _ => ta.cmp(tb),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    ka.len().cmp(&kb.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut v = vec!["b10", "b2", "a", "10", "9", "b1"];
        v.sort_by(|a, b| nat_str_cmp(a, b));
        assert_eq!(v, ["9", "10", "a", "b1", "b2", "b10"]);
    }
}
