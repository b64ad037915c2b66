//! The result of a selection: a compressed sparse matrix in memory.

use crate::dataset::Format;
use crate::error::{Error, Result};
use crate::values::Values;
use sprs::CsMat;

/// A selected sub-matrix in compressed form (CSR from a CSR source, CSC from a CSC source).
///
/// `indptr` has one more element than the major dimension; row (or column) `i` holds the
/// entries `indptr[i]..indptr[i+1]` of `indices` (minor positions) and `data`.
///
/// Order within a row: for a major-axis-only selection, the stored order of the source;
/// with a minor-axis selection, entries follow the stored order and, for a source entry
/// selected several times (duplicated list positions), its output positions increase.
/// Explicitly stored zeros and duplicated stored entries are kept.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseResult {
    /// Storage order.
    pub format: Format,
    /// (rows, cols) of the result.
    pub shape: (usize, usize),
    /// Offsets of each major row/column; `indptr.len() == major + 1`.
    pub indptr: Vec<usize>,
    /// Minor positions of the entries.
    pub indices: Vec<usize>,
    /// Values of the entries.
    pub data: Values,
}

fn build<N: Clone>(
    format: Format,
    shape: (usize, usize),
    indptr: Vec<usize>,
    indices: Vec<usize>,
    data: Vec<N>,
) -> Result<CsMat<N>> {
    let r = match format {
        Format::Csr => CsMat::new_from_unsorted(shape, indptr, indices, data),
        Format::Csc => CsMat::new_from_unsorted_csc(shape, indptr, indices, data),
    };
    r.map_err(|(_, _, _, e)| Error::Usage(format!("result cannot be a sprs matrix: {e}")))
}

/// A `sprs` matrix of any element type.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum AnyCsMat {
    I8(CsMat<i8>),
    I16(CsMat<i16>),
    I32(CsMat<i32>),
    I64(CsMat<i64>),
    U8(CsMat<u8>),
    U16(CsMat<u16>),
    U32(CsMat<u32>),
    U64(CsMat<u64>),
    F32(CsMat<f32>),
    F64(CsMat<f64>),
    Bool(CsMat<bool>),
}

impl SparseResult {
    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Every entry as (row, col, position in `data`), in storage order.
    pub fn triplets(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let csr = self.format == Format::Csr;
        self.indptr
            .windows(2)
            .enumerate()
            .flat_map(move |(major, w)| {
                let (a, b) = (w[0], w[1]);
                (a..b).filter_map(move |p| {
                    let minor = *self.indices.get(p)?;
                    Some(if csr {
                        (major, minor, p)
                    } else {
                        (minor, major, p)
                    })
                })
            })
    }

    /// Convert to a `sprs` matrix of the data's type. Indices are sorted within each
    /// row/column (sprs requires it); a result holding a duplicated entry (possible only
    /// when the source stores duplicates) is an error.
    pub fn into_csmat(self) -> Result<AnyCsMat> {
        let SparseResult {
            format,
            shape,
            indptr,
            indices,
            data,
        } = self;
        Ok(match data {
            Values::I8(v) => AnyCsMat::I8(build(format, shape, indptr, indices, v)?),
            Values::I16(v) => AnyCsMat::I16(build(format, shape, indptr, indices, v)?),
            Values::I32(v) => AnyCsMat::I32(build(format, shape, indptr, indices, v)?),
            Values::I64(v) => AnyCsMat::I64(build(format, shape, indptr, indices, v)?),
            Values::U8(v) => AnyCsMat::U8(build(format, shape, indptr, indices, v)?),
            Values::U16(v) => AnyCsMat::U16(build(format, shape, indptr, indices, v)?),
            Values::U32(v) => AnyCsMat::U32(build(format, shape, indptr, indices, v)?),
            Values::U64(v) => AnyCsMat::U64(build(format, shape, indptr, indices, v)?),
            Values::F32(v) => AnyCsMat::F32(build(format, shape, indptr, indices, v)?),
            Values::F64(v) => AnyCsMat::F64(build(format, shape, indptr, indices, v)?),
            Values::Bool(v) => AnyCsMat::Bool(build(format, shape, indptr, indices, v)?),
        })
    }

    /// Convert to a `sprs` matrix of `f64` (see [`SparseResult::into_csmat`]).
    pub fn to_csmat_f64(&self) -> Result<CsMat<f64>> {
        build(
            self.format,
            self.shape,
            self.indptr.clone(),
            self.indices.clone(),
            self.data.to_f64(),
        )
    }
}
