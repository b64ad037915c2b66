//! Results to Python: `h5sparse::Values` to numpy arrays (the vector is moved into numpy, no
//! copy), decoded `h5format` values to Python objects.

use h5format::value::Value;
use h5sparse::Values;
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};
use pyo3::IntoPyObjectExt;

/// A numpy array owning the vector of `v` (its dtype is the variant's).
pub fn values(py: Python<'_>, v: Values) -> PyResult<Py<PyAny>> {
    Ok(match v {
        Values::I8(x) => x.into_pyarray(py).into_any().unbind(),
        Values::I16(x) => x.into_pyarray(py).into_any().unbind(),
        Values::I32(x) => x.into_pyarray(py).into_any().unbind(),
        Values::I64(x) => x.into_pyarray(py).into_any().unbind(),
        Values::U8(x) => x.into_pyarray(py).into_any().unbind(),
        Values::U16(x) => x.into_pyarray(py).into_any().unbind(),
        Values::U32(x) => x.into_pyarray(py).into_any().unbind(),
        Values::U64(x) => x.into_pyarray(py).into_any().unbind(),
        Values::F32(x) => x.into_pyarray(py).into_any().unbind(),
        Values::F64(x) => x.into_pyarray(py).into_any().unbind(),
        Values::Bool(x) => x.into_pyarray(py).into_any().unbind(),
    })
}

/// One decoded element as a Python object (lists for arrays, tuples for compounds).
pub fn value(py: Python<'_>, v: &Value) -> PyResult<Py<PyAny>> {
    Ok(match v {
        Value::Null | Value::Unsupported | Value::Ref(None) => py.None(),
        Value::Bool(b) => b.into_py_any(py)?,
        Value::Int(i) => i.into_py_any(py)?,
        Value::UInt(u) => u.into_py_any(py)?,
        Value::Float(f) => f.into_py_any(py)?,
        Value::Str(s) => s.into_py_any(py)?,
        Value::Opaque(b) => PyBytes::new(py, b).into_any().unbind(),
        Value::Ref(Some(p)) => p.into_py_any(py)?,
        Value::List(items) => {
            let out: Vec<Py<PyAny>> = items
                .iter()
                .map(|x| value(py, x))
                .collect::<PyResult<_>>()?;
            PyList::new(py, out)?.into_any().unbind()
        }
        Value::Compound(fields) => {
            let out: Vec<Py<PyAny>> = fields
                .iter()
                .map(|(_, x)| value(py, x))
                .collect::<PyResult<_>>()?;
            pyo3::types::PyTuple::new(py, out)?.into_any().unbind()
        }
    })
}
