//! Rust errors as Python exceptions, in one place: a missing file is `FileNotFoundError`, a
//! missing object `KeyError`, a bad argument `ValueError`/`IndexError`, everything a file
//! can get wrong `h5sparse.Error` (an `OSError`) with the Rust message naming object and
//! offset.

use pyo3::create_exception;
use pyo3::exceptions::{PyFileNotFoundError, PyIndexError, PyKeyError, PyOSError, PyValueError};
use pyo3::PyErr;

create_exception!(
    h5sparse,
    Error,
    PyOSError,
    "A corrupt, hostile or unsupported file, naming the object and the offset."
);

/// `h5format` errors.
pub fn format(e: h5format::Error) -> PyErr {
    match e {
        h5format::Error::Io { ref source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(e.to_string())
        }
        h5format::Error::NotFound(p) => PyKeyError::new_err(p),
        h5format::Error::InObject { path, source } => match *source {
            h5format::Error::NotFound(p) => PyKeyError::new_err(p),
            other => Error::new_err(format!("{path}: {other}")),
        },
        other => Error::new_err(other.to_string()),
    }
}

/// `h5sparse` errors.
pub fn sparse(e: h5sparse::Error) -> PyErr {
    match e {
        h5sparse::Error::Format(f) => format(f),
        h5sparse::Error::Selection(s) => PyIndexError::new_err(s),
        h5sparse::Error::NotSparse(s) => PyValueError::new_err(format!("not a sparse matrix: {s}")),
        other => Error::new_err(other.to_string()),
    }
}

/// `h5ad` errors.
pub fn h5ad(e: h5ad::Error) -> PyErr {
    Error::new_err(e.to_string())
}

/// An error opening `path` (a missing file is `FileNotFoundError`).
pub fn open(path: &str, e: h5format::Error) -> PyErr {
    let url = ["http://", "https://", "s3://"]
        .iter()
        .any(|p| path.starts_with(p));
    if !url && !std::path::Path::new(path).exists() {
        return PyFileNotFoundError::new_err(format!("{path}: no such file"));
    }
    format(e)
}
