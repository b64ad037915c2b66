//! The result of a selection: a compressed sparse matrix in memory.

use crate::error::{Error, Result};
use crate::types::Format;
use crate::values::Values;
use sprs::CsMat;

/// A selected sub-matrix in compressed form (CSR from a CSR source, CSC from a CSC source).
///
/// `indptr` has one more element than the major dimension; row (or column) `i` holds the
/// entries `indptr[i]..indptr[i+1]` of `indices` (minor positions) and `data`.
///
/// The three arrays keep the file's element types (`indices` int32 in the file are `I32`
/// here): nothing is widened or copied on the way. A result value that the file's type
/// cannot hold (a remapped column position, or an offset of a result with repeated rows
/// beyond the type's range) makes that array `I64`. Conversions to `usize` positions or to
/// `sprs` happen on demand ([`SparseResult::into_csmat`]).
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
    /// Offsets of each major row/column (integers); `indptr.len() == major + 1`.
    pub indptr: Values,
    /// Minor positions of the entries (integers).
    pub indices: Values,
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

    /// `indptr` as `usize` offsets (a copy).
    pub fn indptr_usize(&self) -> Result<Vec<usize>> {
        self.indptr.to_usize_vec()
    }

    /// `indices` as `usize` positions (a copy).
    pub fn indices_usize(&self) -> Result<Vec<usize>> {
        self.indices.to_usize_vec()
    }

    /// Every entry as (row, col, position in `data`), in storage order.
    pub fn triplets(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let csr = self.format == Format::Csr;
        let majors = self.indptr.len().saturating_sub(1);
        (0..majors).flat_map(move |major| {
            let a = self.indptr.get_u64(major).unwrap_or(0) as usize;
            let b = self.indptr.get_u64(major + 1).unwrap_or(0) as usize;
            (a..b).filter_map(move |p| {
                let minor = self.indices.get_u64(p)? as usize;
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
        let (indptr, indices) = (indptr.to_usize_vec()?, indices.to_usize_vec()?);
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
            self.indptr_usize()?,
            self.indices_usize()?,
            self.data.to_f64(),
        )
    }
}
