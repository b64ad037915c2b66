//! `Sparse`: a lazy CSR/CSC matrix group; selections come back as numpy arrays in the
//! file's types, ready for `scipy.sparse.csr_matrix((data, indices, indptr), shape)`.

use h5sparse::{Selection, SparseDataset};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::file::Handle;
use crate::{convert, error, pool};

/// A sparse matrix group, opened lazily (attributes only).
#[pyclass(module = "h5sparse._native", frozen)]
pub struct Sparse {
    m: SparseDataset,
    /// The file is remote: reads run on the remote pool (see [`crate::pool`]).
    remote: bool,
}

/// A resolved selection from Python: `None` (the whole axis), `(start, step, len)`, or a
/// sequence / 1-D integer array of non-negative positions (the Python half resolves numpy
/// semantics: negatives, masks, slices).
fn selection(sel: &Bound<'_, PyAny>, len: u64) -> PyResult<Selection> {
    if sel.is_none() {
        return Ok(Selection::all(len));
    }
    if let Ok((start, step, n)) = sel.extract::<(u64, i64, u64)>() {
        return Ok(Selection::Range {
            start,
            step,
            len: n,
        });
    }
    if let Ok(a) = sel.extract::<PyReadonlyArray1<'_, i64>>() {
        let v = a.as_slice()?;
        return positions(v.iter().copied(), len);
    }
    let v: Vec<i64> = sel.extract()?;
    positions(v.into_iter(), len)
}

fn positions(v: impl Iterator<Item = i64>, len: u64) -> PyResult<Selection> {
    let out: Vec<u64> = v
        .map(|p| {
            u64::try_from(p).ok().filter(|&u| u < len).ok_or_else(|| {
                pyo3::exceptions::PyIndexError::new_err(format!(
                    "index {p} is out of bounds for axis with size {len}"
                ))
            })
        })
        .collect::<PyResult<_>>()?;
    Ok(Selection::List(out))
}

#[pymethods]
impl Sparse {
    #[new]
    fn new(py: Python<'_>, handle: &Handle, path: &str) -> PyResult<Self> {
        let file = handle.file()?;
        let remote = file.source().is_remote();
        let m = pool::detach(py, remote, || h5sparse::hdf5::open(&file, path))
            .map_err(error::sparse)?;
        Ok(Sparse { m, remote })
    }

    /// `(format, (rows, cols), nnz, data dtype, index dtype, encoding)`.
    #[allow(clippy::type_complexity)]
    fn info(
        &self,
        py: Python<'_>,
    ) -> PyResult<(
        &'static str,
        (u64, u64),
        u64,
        &'static str,
        &'static str,
        &'static str,
    )> {
        let i = pool::detach(py, self.remote, || self.m.info()).map_err(error::sparse)?;
        Ok((
            i.format.as_str(),
            i.shape,
            i.nnz,
            i.dtype.dtype_str(),
            i.index_dtype.dtype_str(),
            i.encoding.as_str(),
        ))
    }

    /// Select `rows` × `cols`; returns `(data, indices, indptr, (rows, cols))` as numpy
    /// arrays in the file's types (moved into numpy, not copied). The GIL is released while
    /// reading.
    #[allow(clippy::type_complexity)]
    fn select(
        &self,
        py: Python<'_>,
        rows: &Bound<'_, PyAny>,
        cols: &Bound<'_, PyAny>,
    ) -> PyResult<(Py<PyAny>, Py<PyAny>, Py<PyAny>, (usize, usize))> {
        let (nr, nc) = self.m.shape();
        let (r, c) = (selection(rows, nr)?, selection(cols, nc)?);
        let res = pool::detach(py, self.remote, || self.m.select(&r, &c)).map_err(error::sparse)?;
        Ok((
            convert::values(py, res.data)?,
            convert::values(py, res.indices)?,
            convert::values(py, res.indptr)?,
            res.shape,
        ))
    }
}
