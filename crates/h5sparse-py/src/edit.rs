//! `write_element` / `delete_element`: one element of an `.h5ad` file changed in place with
//! [`h5ad::edit::H5adEditor`]. The Python half (`_edit.py`) turns pandas, numpy and scipy
//! values into the plain tuples read here (the same shapes `read_h5ad` returns).

use std::collections::BTreeMap;

use h5ad::edit::H5adEditor;
use h5ad::{Column, DataFrame, Dense, Element, Format, Matrix, SparseResult, StringArray, Values};
use h5format::write::Durability;
use numpy::{Element as NpElement, PyReadonlyArrayDyn};
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::error;

/// The elements of a numpy array of type `T`, row-major, and its shape.
fn typed<T: NpElement + Copy>(a: &Bound<'_, PyAny>) -> Option<(Vec<T>, Vec<usize>)> {
    let arr = a.extract::<PyReadonlyArrayDyn<'_, T>>().ok()?;
    let view = arr.as_array();
    Some((view.iter().copied().collect(), view.shape().to_vec()))
}

/// A numpy array as [`Values`] and its shape.
fn values(a: &Bound<'_, PyAny>) -> PyResult<(Values, Vec<usize>)> {
    macro_rules! try_types {
        ($($t:ty => $v:ident),*) => {
            $(if let Some((x, s)) = typed::<$t>(a) {
                return Ok((Values::$v(x), s));
            })*
        };
    }
    try_types!(f64 => F64, f32 => F32, i64 => I64, i32 => I32, i16 => I16, i8 => I8,
        u64 => U64, u32 => U32, u16 => U16, u8 => U8, bool => Bool);
    Err(PyValueError::new_err(format!(
        "cannot store a numpy array of dtype {}",
        a.getattr("dtype")?
    )))
}

fn kind<'py>(t: &Bound<'py, PyAny>) -> PyResult<(String, Bound<'py, PyTuple>)> {
    let t = t.downcast::<PyTuple>()?.clone();
    Ok((t.get_item(0)?.extract()?, t))
}

/// A dataframe column from its tuple.
fn column(t: &Bound<'_, PyAny>) -> PyResult<Column> {
    let (k, t) = kind(t)?;
    Ok(match k.as_str() {
        "dense" => match values(&t.get_item(1)?)? {
            (Values::Bool(b), _) => Column::Bool(b),
            (v, _) => Column::Numeric(v),
        },
        "strings" => Column::Strings(t.get_item(1)?.extract()?),
        "categorical" => Column::Categorical {
            codes: t.get_item(1)?.extract()?,
            categories: Box::new(column(&t.get_item(2)?)?),
            ordered: t.get_item(3)?.extract()?,
        },
        "nullable" => Column::Nullable {
            values: Box::new(column(&t.get_item(1)?)?),
            mask: t.get_item(2)?.extract()?,
        },
        other => return Err(PyValueError::new_err(format!("not a column: {other}"))),
    })
}

/// An element from its tuple.
fn element(t: &Bound<'_, PyAny>) -> PyResult<Element> {
    let (k, tup) = kind(t)?;
    Ok(match k.as_str() {
        "dense" => {
            let (values, shape) = values(&tup.get_item(1)?)?;
            Element::Dense(Dense { shape, values })
        }
        "scalar" => Element::Scalar(values(&tup.get_item(1)?)?.0),
        "strings" => Element::Strings(StringArray {
            values: tup.get_item(1)?.extract()?,
            shape: tup.get_item(2)?.extract()?,
            width: None,
        }),
        "string" => Element::String(tup.get_item(1)?.extract()?),
        "sparse" => {
            let format = match tup.get_item(1)?.extract::<String>()?.as_str() {
                "csr" => Format::Csr,
                "csc" => Format::Csc,
                f => return Err(PyValueError::new_err(format!("sparse format {f}"))),
            };
            Element::Sparse(SparseResult {
                format,
                data: values(&tup.get_item(2)?)?.0,
                indices: values(&tup.get_item(3)?)?.0,
                indptr: values(&tup.get_item(4)?)?.0,
                shape: tup.get_item(5)?.extract()?,
            })
        }
        "dict" => {
            let d = tup.get_item(1)?;
            let mut m = BTreeMap::new();
            for (key, v) in d.downcast::<PyDict>()?.iter() {
                m.insert(key.extract::<String>()?, element(&v)?);
            }
            Element::Dict(m)
        }
        "dataframe" => {
            let cols: Vec<(String, Bound<'_, PyAny>)> = tup.get_item(3)?.extract()?;
            Element::DataFrame(DataFrame {
                index_name: tup.get_item(1)?.extract()?,
                index: tup.get_item(2)?.extract()?,
                columns: cols
                    .iter()
                    .map(|(n, c)| Ok((n.clone(), column(c)?)))
                    .collect::<PyResult<_>>()?,
            })
        }
        "categorical" | "nullable" => Element::Column(column(t)?),
        other => return Err(PyValueError::new_err(format!("unknown element {other}"))),
    })
}

/// Element and usage errors are the caller's: `ValueError`; the file's: `h5sparse.Error`.
fn edit_error(e: h5ad::Error) -> PyErr {
    match e {
        h5ad::Error::Element { .. } | h5ad::Error::Usage(_) => PyValueError::new_err(e.to_string()),
        other => error::h5ad(other),
    }
}

fn durability(fsync: bool) -> Durability {
    if fsync {
        Durability::Fsync
    } else {
        Durability::PageCache
    }
}

/// Write (add or replace) the element `key` of the `.h5ad` file at `path` in place
/// (`fsync`: each step of the commit reaches the disk before the next).
#[pyfunction]
#[pyo3(signature = (path, key, value, fsync = true))]
pub fn write_element(
    py: Python<'_>,
    path: &str,
    key: &str,
    value: &Bound<'_, PyAny>,
    fsync: bool,
) -> PyResult<()> {
    let e = element(value)?;
    py.detach(|| {
        let mut ed = H5adEditor::open(path)?;
        ed.set_durability(durability(fsync));
        let matrix_key = key == "X"
            || ["layers/", "obsp/", "varp/"]
                .iter()
                .any(|p| key.starts_with(p));
        match e {
            // Matrices moved into a `Matrix`, not copied.
            Element::Sparse(s) if matrix_key => ed.write_matrix(key, &Matrix::Sparse(s)),
            Element::Dense(d) if matrix_key && d.shape.len() == 2 => {
                ed.write_matrix(key, &Matrix::Dense(d))
            }
            e => ed.write_element(key, &e),
        }
    })
    .map_err(edit_error)
}

/// Delete the element `key` of the `.h5ad` file at `path` in place (`KeyError` if absent).
#[pyfunction]
#[pyo3(signature = (path, key, fsync = true))]
pub fn delete_element(py: Python<'_>, path: &str, key: &str, fsync: bool) -> PyResult<()> {
    py.detach(|| {
        let mut ed = H5adEditor::open(path)?;
        ed.set_durability(durability(fsync));
        if !ed.contains(key)? {
            return Ok(false);
        }
        ed.delete_element(key).map(|()| true)
    })
    .map_err(edit_error)?
    .then_some(())
    .ok_or_else(|| PyKeyError::new_err(key.to_string()))
}
