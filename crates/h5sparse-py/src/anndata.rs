//! `read_h5ad`: what the `h5ad` crate reads, as plain Python tuples, lists and numpy arrays
//! that the Python half assembles into `anndata.AnnData` (pandas frames, scipy matrices,
//! dask arrays for backed matrices).

use h5ad::{AnnData, Column, DataFrame, Element, Matrix};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3::IntoPyObjectExt;

use crate::{convert, error};

fn matrix(py: Python<'_>, m: Matrix) -> PyResult<Py<PyAny>> {
    match m {
        Matrix::Dense(d) => ("dense", convert::values(py, d.values)?, d.shape).into_py_any(py),
        Matrix::Sparse(s) => sparse(py, s),
        Matrix::Backed(b) => ("backed", b.path().to_string()).into_py_any(py),
    }
}

fn sparse(py: Python<'_>, s: h5ad::SparseResult) -> PyResult<Py<PyAny>> {
    (
        "sparse",
        s.format.as_str(),
        convert::values(py, s.data)?,
        convert::values(py, s.indices)?,
        convert::values(py, s.indptr)?,
        s.shape,
    )
        .into_py_any(py)
}

fn column(py: Python<'_>, c: Column) -> PyResult<Py<PyAny>> {
    match c {
        Column::Numeric(v) => ("numeric", convert::values(py, v)?).into_py_any(py),
        Column::Bool(v) => {
            ("bool", convert::values(py, h5sparse::Values::Bool(v))?).into_py_any(py)
        }
        Column::Strings(v) => ("strings", v).into_py_any(py),
        Column::Categorical {
            codes,
            categories,
            ordered,
        } => (
            "categorical",
            convert::values(py, h5sparse::Values::I64(codes))?,
            column(py, *categories)?,
            ordered,
        )
            .into_py_any(py),
        Column::Nullable { values, mask } => (
            "nullable",
            column(py, *values)?,
            convert::values(py, h5sparse::Values::Bool(mask))?,
        )
            .into_py_any(py),
    }
}

fn frame(py: Python<'_>, f: DataFrame) -> PyResult<Py<PyAny>> {
    let cols: Vec<(String, Py<PyAny>)> = f
        .columns
        .into_iter()
        .map(|(n, c)| Ok((n, column(py, c)?)))
        .collect::<PyResult<_>>()?;
    ("dataframe", f.index_name, f.index, cols).into_py_any(py)
}

fn element(py: Python<'_>, e: Element) -> PyResult<Py<PyAny>> {
    match e {
        Element::Dict(m) => ("dict", mapping(py, m, element)?).into_py_any(py),
        Element::Dense(d) => ("dense", convert::values(py, d.values)?, d.shape).into_py_any(py),
        Element::Strings(s) => ("strings", s.values, s.shape, s.width).into_py_any(py),
        Element::Scalar(v) => ("scalar", convert::values(py, v)?).into_py_any(py),
        Element::String(s) => ("string", s).into_py_any(py),
        Element::Sparse(s) => sparse(py, s),
        Element::DataFrame(f) => frame(py, f),
        Element::Column(c) => ("column", column(py, c)?).into_py_any(py),
        Element::Records(fields) => {
            let f: Vec<(String, Py<PyAny>)> = fields
                .into_iter()
                .map(|(n, e)| Ok((n, element(py, e)?)))
                .collect::<PyResult<_>>()?;
            ("records", f).into_py_any(py)
        }
    }
}

fn mapping<T>(
    py: Python<'_>,
    m: std::collections::BTreeMap<String, T>,
    f: fn(Python<'_>, T) -> PyResult<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let d = PyDict::new(py);
    for (k, v) in m {
        d.set_item(k, f(py, v)?)?;
    }
    Ok(d.into_any().unbind())
}

/// Read an `.h5ad` file: in memory, or (`backed`) with `X` and the layers left in the file.
#[pyfunction]
#[pyo3(signature = (location, backed = false))]
pub fn read_h5ad(py: Python<'_>, location: &str, backed: bool) -> PyResult<Py<PyAny>> {
    let file = py.detach(|| crate::file::open_location(location))?;
    let remote = file.source().is_remote();
    let a: AnnData = crate::pool::detach(py, remote, || AnnData::from_file(&file, backed))
        .map_err(error::h5ad)?;
    let d = PyDict::new(py);
    d.set_item("n_obs", a.n_obs)?;
    d.set_item("n_vars", a.n_vars)?;
    d.set_item(
        "X",
        match a.x {
            Some(m) => matrix(py, m)?,
            None => py.None(),
        },
    )?;
    d.set_item("layers", mapping(py, a.layers, matrix)?)?;
    d.set_item("obs", frame(py, a.obs)?)?;
    d.set_item("var", frame(py, a.var)?)?;
    d.set_item("obsm", mapping(py, a.obsm, element)?)?;
    d.set_item("varm", mapping(py, a.varm, element)?)?;
    d.set_item("obsp", mapping(py, a.obsp, matrix)?)?;
    d.set_item("varp", mapping(py, a.varp, matrix)?)?;
    d.set_item("uns", mapping(py, a.uns, element)?)?;
    Ok(d.into_any().unbind())
}
