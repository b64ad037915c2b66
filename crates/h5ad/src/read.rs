//! Reading anndata elements from an HDF5 file, dispatched on their `encoding-type`.

use std::collections::BTreeMap;

use h5format::read::datatype::{Charset, Datatype};
use h5format::value::Value;
use h5format::{Dataset, File, Group, Object};
use h5sparse::hdf5::H5Array;
use h5sparse::{Array1, Selection, Values};

use crate::attrs::{attr_bool, attr_string, attr_strings, attr_values, encoding_type};
use crate::error::{Context, Error, Result};
use crate::legacy;
use crate::model::{Column, DataFrame, Dense, Element, Matrix, StringArray};

fn is_string_type(t: &Datatype) -> bool {
    matches!(
        t,
        Datatype::String { .. }
            | Datatype::VarLen {
                string: Some(_),
                ..
            }
    )
}

fn shape_of(ds: &Dataset) -> Result<Vec<usize>> {
    ds.shape()
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| Error::element(ds.path(), "dimension too large")))
        .collect()
}

/// All elements of a numeric or boolean dataset.
pub(crate) fn read_values(ds: &Dataset) -> Result<Values> {
    let arr = H5Array::new(ds.clone()).at(ds.path())?;
    let n = ds.len();
    arr.read_ranges_values(&[0..n]).at(ds.path())
}

/// All elements of a string dataset.
pub(crate) fn read_strings(ds: &Dataset) -> Result<Vec<String>> {
    if !is_string_type(ds.dtype()) {
        return Err(Error::element(
            ds.path(),
            format!("expected strings, found {}", ds.dtype().dtype_name()),
        ));
    }
    let n = usize::try_from(ds.len()).map_err(|_| Error::element(ds.path(), "too many strings"))?;
    let raw = ds.read_raw().at(ds.path())?;
    let file = ds.file();
    let vals = h5format::value::decode(ds.dtype(), &raw, n, file.sizes(), file).at(ds.path())?;
    vals.into_iter()
        .map(|v| match v {
            Value::Str(s) => Ok(s),
            Value::Opaque(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
            _ => Err(Error::element(ds.path(), "expected strings")),
        })
        .collect()
}

fn as_dataset(obj: Object, path: &str, what: &str) -> Result<Dataset> {
    match obj {
        Object::Dataset(d) => Ok(d),
        _ => Err(Error::element(path, format!("expected a dataset ({what})"))),
    }
}

fn as_group(obj: Object, path: &str, what: &str) -> Result<Group> {
    match obj {
        Object::Group(g) => Ok(g),
        _ => Err(Error::element(path, format!("expected a group ({what})"))),
    }
}

fn child(g: &Group, name: &str) -> Result<Object> {
    let path = join(g.node().path(), name);
    match g.link(name).at(&path)? {
        None => Err(Error::element(&path, "missing")),
        Some(_) => g.member(name).at(&path),
    }
}

/// `parent/name` with a single slash.
pub(crate) fn join(parent: &str, name: &str) -> String {
    if parent.ends_with('/') {
        format!("{parent}{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// Names of the members of a group, in link order.
pub(crate) fn member_names(g: &Group) -> Result<Vec<String>> {
    Ok(g.links()
        .at(g.node().path())?
        .iter()
        .map(|l| l.name.clone())
        .collect())
}

/// A dense array or string array dataset.
fn read_array_dataset(ds: &Dataset) -> Result<Element> {
    let shape = shape_of(ds)?;
    if is_string_type(ds.dtype()) {
        let values = read_strings(ds)?;
        return Ok(if shape.is_empty() {
            Element::String(values.into_iter().next().unwrap_or_default())
        } else {
            Element::Strings(StringArray {
                shape,
                values,
                width: None,
            })
        });
    }
    let values = read_values(ds)?;
    Ok(if shape.is_empty() {
        Element::Scalar(values)
    } else {
        Element::Dense(Dense { shape, values })
    })
}

/// A dataset without encoding attributes, as anndata's fallback reads it: a compound type is
/// a structured array, and an array of fixed-length ASCII strings with a first dimension of
/// one loses that dimension (old files stored string scalars as one-element arrays).
fn read_unencoded_dataset(ds: &Dataset) -> Result<Element> {
    if matches!(ds.dtype(), Datatype::Compound { .. }) {
        return Ok(Element::Records(legacy::read_records(ds)?));
    }
    // anndata turns fixed-length ASCII strings into numpy `<U{size}` (`astype(str)`).
    let ascii = match ds.dtype() {
        Datatype::String {
            charset: Charset::Ascii,
            size,
            ..
        } => Some(*size as usize),
        _ => None,
    };
    match read_array_dataset(ds)? {
        Element::Strings(s) if ascii.is_some() && s.shape.first() == Some(&1) => {
            let shape = s.shape.get(1..).unwrap_or_default().to_vec();
            Ok(if shape.is_empty() {
                Element::String(s.values.into_iter().next().unwrap_or_default())
            } else {
                Element::Strings(StringArray {
                    shape,
                    values: s.values,
                    width: ascii,
                })
            })
        }
        Element::Strings(s) => Ok(Element::Strings(StringArray { width: ascii, ..s })),
        other => Ok(other),
    }
}

/// A plain 1-D column from a dataset: numbers, booleans or strings.
fn read_plain_column(ds: &Dataset) -> Result<Column> {
    if ds.shape().len() != 1 {
        return Err(Error::element(
            ds.path(),
            format!("expected a 1-D column, found rank {}", ds.shape().len()),
        ));
    }
    if is_string_type(ds.dtype()) {
        return Ok(Column::Strings(read_strings(ds)?));
    }
    Ok(match read_values(ds)? {
        Values::Bool(b) => Column::Bool(b),
        v => Column::Numeric(v),
    })
}

fn read_plain_column_at(g: &Group, name: &str) -> Result<Column> {
    let path = join(g.node().path(), name);
    read_plain_column(&as_dataset(child(g, name)?, &path, "array")?)
}

fn check_codes(path: &str, codes: &[i64], n_cat: usize) -> Result<()> {
    if let Some((i, c)) = codes
        .iter()
        .enumerate()
        .find(|(_, &c)| c < -1 || c >= n_cat as i64)
    {
        return Err(Error::element(
            path,
            format!("categorical codes out of range: code {c} at row {i} with {n_cat} categories"),
        ));
    }
    Ok(())
}

fn read_categorical(g: &Group) -> Result<Column> {
    let path = g.node().path();
    let ordered = attr_bool(g.node(), "ordered")?.unwrap_or(false);
    let categories = read_plain_column_at(g, "categories")?;
    let codes_ds = as_dataset(
        child(g, "codes")?,
        &join(path, "codes"),
        "categorical codes",
    )?;
    let codes = read_values(&codes_ds)?
        .to_i64()
        .map_err(|e| Error::element(path, format!("categorical codes: {e}")))?;
    check_codes(path, &codes, categories.len())?;
    Ok(Column::Categorical {
        codes,
        categories: Box::new(categories),
        ordered,
    })
}

fn read_nullable(g: &Group, kind: &str) -> Result<Column> {
    let path = g.node().path();
    let values = read_plain_column_at(g, "values")?;
    let mask = match read_plain_column_at(g, "mask")? {
        Column::Bool(m) => m,
        _ => {
            return Err(Error::element(
                &join(path, "mask"),
                "expected a boolean mask",
            ))
        }
    };
    let ok = match kind {
        "nullable-integer" => matches!(values, Column::Numeric(_)),
        "nullable-boolean" => matches!(values, Column::Bool(_)),
        _ => matches!(values, Column::Strings(_)),
    };
    if !ok {
        return Err(Error::element(
            path,
            format!("{kind}: values of the wrong type"),
        ));
    }
    if mask.len() != values.len() {
        return Err(Error::element(
            path,
            format!(
                "{kind}: {} values but {} mask entries",
                values.len(),
                mask.len()
            ),
        ));
    }
    Ok(Column::Nullable {
        values: Box::new(values),
        mask,
    })
}

/// A dataframe column (array, string-array, categorical, nullable-*, or the anndata 0.7
/// categorical: codes with a `categories` object reference).
fn read_column(obj: Object, path: &str) -> Result<Column> {
    match obj {
        Object::Dataset(ds) => {
            if let Some(v) = attr_values(ds.node(), "categories")? {
                if let [Value::Ref(Some(target))] = v.as_slice() {
                    let cats_obj = ds.file().object(target).at(target)?;
                    let cats_ds = as_dataset(cats_obj, target, "categories")?;
                    let categories = read_plain_column(&cats_ds)?;
                    let ordered = attr_bool(cats_ds.node(), "ordered")?.unwrap_or(false);
                    let codes = read_values(&ds)?
                        .to_i64()
                        .map_err(|e| Error::element(path, format!("categorical codes: {e}")))?;
                    check_codes(path, &codes, categories.len())?;
                    return Ok(Column::Categorical {
                        codes,
                        categories: Box::new(categories),
                        ordered,
                    });
                }
            }
            read_plain_column(&ds)
        }
        Object::Group(g) => {
            let enc = encoding_type(g.node())?.unwrap_or_default();
            match enc.as_str() {
                "categorical" => read_categorical(&g),
                "nullable-integer" | "nullable-boolean" | "nullable-string-array" => {
                    read_nullable(&g, &enc)
                }
                other => Err(Error::element(
                    path,
                    format!("expected a dataframe column, found encoding {other:?}"),
                )),
            }
        }
        Object::Datatype(_) => Err(Error::element(path, "expected a column, found a datatype")),
    }
}

/// A dataframe group.
pub(crate) fn read_dataframe(g: &Group) -> Result<DataFrame> {
    let node = g.node();
    let path = node.path();
    if g.link("_index").at(path)?.is_none() && attr_string(node, "_index")?.is_none() {
        // Not an anndata dataframe: maybe the pre-0.7 compound "structured array".
        return Err(Error::element(
            path,
            "expected a dataframe (no _index attribute)",
        ));
    }
    let index_name = attr_string(node, "_index")?.unwrap_or_else(|| "_index".into());
    let index_path = join(path, &index_name);
    let index_ds = as_dataset(child(g, &index_name)?, &index_path, "dataframe index")?;
    let index = if is_string_type(index_ds.dtype()) {
        read_strings(&index_ds)?
    } else {
        // A numeric index: anndata turns it into strings.
        let v = read_values(&index_ds)?;
        (0..v.len())
            .map(|i| match &v {
                Values::F32(_) | Values::F64(_) => v.get_f64(i).map(|x| x.to_string()),
                _ => v
                    .slice(i..i + 1)
                    .ok()
                    .and_then(|s| s.to_i64().ok())
                    .and_then(|s| s.first().map(|x| x.to_string())),
            })
            .map(|s| s.unwrap_or_default())
            .collect()
    };
    let order = attr_strings(node, "column-order")?.unwrap_or_default();
    let mut columns = Vec::with_capacity(order.len());
    for name in order {
        let cpath = join(path, &name);
        let col = read_column(child(g, &name)?, &cpath)?;
        if col.len() != index.len() {
            return Err(Error::element(
                &cpath,
                format!(
                    "column has {} rows, the index has {}",
                    col.len(),
                    index.len()
                ),
            ));
        }
        columns.push((name, col));
    }
    Ok(DataFrame {
        index_name,
        index,
        columns,
    })
}

/// A sparse matrix group, read whole.
pub(crate) fn read_sparse(g: &Group) -> Result<h5sparse::SparseResult> {
    let path = g.node().path();
    let sd = h5sparse::hdf5::open(g.node().file(), path).at(path)?;
    let (r, c) = sd.shape();
    sd.select(&Selection::all(r), &Selection::all(c)).at(path)
}

fn is_sparse_group(g: &Group, enc: Option<&str>) -> Result<bool> {
    Ok(match enc {
        Some("csr_matrix" | "csc_matrix") => true,
        Some(_) => false,
        None => attr_string(g.node(), "h5sparse_format")?.is_some(),
    })
}

/// Any element.
pub(crate) fn read_element(obj: Object, path: &str) -> Result<Element> {
    let enc = encoding_type(obj.node())?;
    match obj {
        Object::Dataset(ds) => match enc.as_deref() {
            None => read_unencoded_dataset(&ds),
            Some("rec-array") => Ok(Element::Records(legacy::read_records(&ds)?)),
            Some("array" | "string-array" | "numeric-scalar" | "string") => read_array_dataset(&ds),
            Some(other) => read_column(Object::Dataset(ds), path)
                .map(Element::Column)
                .map_err(|_| Error::element(path, format!("unknown dataset encoding {other:?}"))),
        },
        Object::Group(g) => {
            if is_sparse_group(&g, enc.as_deref())? {
                return Ok(Element::Sparse(read_sparse(&g)?));
            }
            match enc.as_deref() {
                None | Some("dict") => Ok(Element::Dict(read_dict(&g)?)),
                Some("dataframe") => Ok(Element::DataFrame(read_dataframe(&g)?)),
                Some(
                    "categorical"
                    | "nullable-integer"
                    | "nullable-boolean"
                    | "nullable-string-array",
                ) => Ok(Element::Column(read_column(Object::Group(g), path)?)),
                Some(other) => Err(Error::element(
                    path,
                    format!("unsupported encoding-type {other:?}"),
                )),
            }
        }
        Object::Datatype(_) => Err(Error::element(
            path,
            "a committed datatype is not an element",
        )),
    }
}

/// Every member of a group as elements.
pub(crate) fn read_dict(g: &Group) -> Result<BTreeMap<String, Element>> {
    let mut out = BTreeMap::new();
    for name in member_names(g)? {
        let path = join(g.node().path(), &name);
        let obj = g.member(&name).at(&path)?;
        out.insert(name, read_element(obj, &path)?);
    }
    Ok(out)
}

/// A matrix element (dense dataset or sparse group), read whole.
pub(crate) fn read_matrix(obj: Object, path: &str) -> Result<Matrix> {
    match read_element(obj, path)? {
        Element::Dense(d) => Ok(Matrix::Dense(d)),
        Element::Sparse(s) => Ok(Matrix::Sparse(s)),
        _ => Err(Error::element(
            path,
            "expected a dense array or a sparse matrix",
        )),
    }
}

/// The members of an optional group `name` of the root, each read with `f`.
pub(crate) fn read_mapping<T>(
    file: &File,
    name: &str,
    mut f: impl FnMut(Object, &str) -> Result<T>,
) -> Result<BTreeMap<String, T>> {
    let root = file.root().at("/")?;
    let mut out = BTreeMap::new();
    if root.link(name).at(name)?.is_none() {
        return Ok(out);
    }
    let path = format!("/{name}");
    let g = as_group(root.member(name).at(&path)?, &path, "mapping")?;
    for m in member_names(&g)? {
        let p = join(&path, &m);
        let obj = g.member(&m).at(&p)?;
        out.insert(m, f(obj, &p)?);
    }
    Ok(out)
}

/// The root group's dataframe `name` (`obs` / `var`), or `None` if absent.
pub(crate) fn read_root_dataframe(file: &File, name: &str) -> Result<Option<DataFrame>> {
    let root = file.root().at("/")?;
    if root.link(name).at(name)?.is_none() {
        return Ok(None);
    }
    let path = format!("/{name}");
    match root.member(name).at(&path)? {
        Object::Dataset(ds) => legacy::read_dataframe_legacy(&ds).map(Some),
        obj => read_dataframe(&as_group(obj, &path, "dataframe")?).map(Some),
    }
}
