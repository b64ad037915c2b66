//! The native half of the `h5sparse` Python package: a thin layer that converts Python
//! arguments to the Rust crates' calls and their results to numpy arrays (moved, not copied)
//! and Python objects. All format logic stays in `h5format`, `h5sparse` and `h5ad`; the
//! Python half (`python/h5sparse/`) gives it h5py's, scipy's, anndata's and Dask's shapes.
//!
//! Every read releases the GIL (`Python::detach`), so Python threads read in parallel.

use pyo3::prelude::*;

mod anndata;
mod convert;
mod edit;
mod error;
mod file;
mod pool;
mod sparse;

/// The extension module `h5sparse._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("Error", m.py().get_type::<error::Error>())?;
    m.add_class::<file::Handle>()?;
    m.add_class::<sparse::Sparse>()?;
    m.add_function(wrap_pyfunction!(anndata::read_h5ad, m)?)?;
    m.add_function(wrap_pyfunction!(edit::write_element, m)?)?;
    m.add_function(wrap_pyfunction!(edit::delete_element, m)?)?;
    Ok(())
}
