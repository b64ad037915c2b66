//! # h5sparse — lazy CSR/CSC sparse matrices stored in HDF5 groups
//!
//! A sparse matrix group (anndata `csr_matrix`/`csc_matrix`, the 2017 legacy `h5sparse`
//! attributes, or a 10x Genomics `matrix` group) holds three 1-D datasets `data`, `indices`,
//! `indptr`. This crate reads them lazily through two small traits ([`Array1`],
//! [`GroupSource`]) so that only the parts of the datasets needed by a selection are read:
//!
//! - [`SparseDataset::open`] detects the encoding from attributes only;
//! - [`SparseDataset::select`] applies numpy/scipy selections ([`Selection`]) per axis and
//!   returns a [`SparseResult`] (convertible to a `sprs::CsMat`);
//! - [`write::SparseWriter`] streams blocks of rows/columns into a [`write::SparseSink`].
//!
//! [`mem`] has in-memory implementations of the traits (used by tests and usable as a
//! reference backend).
//!
//! # Reading a selection
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use h5sparse::{Selection, Values};
//!
//! // The 4 x 3 CSR matrix of the 2017 "Sparse matrices with h5py" notebook.
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/notebook.h5");
//! let file = h5format::File::open(path)?;
//! let m = h5sparse::hdf5::open(&file, "/X")?; // attributes only: nothing read yet
//! assert_eq!(m.shape(), (4, 3));
//!
//! // Rows 2 and 0 (in that order), columns 1..3: numpy's m[[2, 0], 1:3].
//! let rows = Selection::parse("2,0", 4)?;
//! let cols = Selection::parse("1:3", 3)?;
//! let part = m.select(&rows, &cols)?;
//! assert_eq!(part.shape, (2, 2));
//! // The file's types are kept: int32 indices stay `I32`, float64 data `F64`.
//! assert_eq!(part.indices, Values::I32(vec![0, 1, 1]));
//! assert_eq!(part.data, Values::F64(vec![5.0, 6.0, 2.0]));
//!
//! // On demand, a `sprs` matrix.
//! let h5sparse::result::AnyCsMat::F64(csr) = part.into_csmat()? else { unreachable!() };
//! assert_eq!(csr.get(0, 1), Some(&6.0));
//! assert_eq!(csr.get(1, 1), Some(&2.0));
//! # Ok(()) }
//! ```
//!
//! # Writing a matrix block by block
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use h5sparse::write::{MemSink, SparseWriter, WriterOptions};
//! use h5sparse::{ElemType, Format, Values};
//!
//! let opts = WriterOptions::new(Format::Csr, (3, 4), ElemType::F32);
//! let mut w = SparseWriter::new(MemSink::new(), opts)?;
//! // Two rows, then one: each block is indptr (from 0), column indices, values.
//! w.push_block(&[0, 2, 3], &[0, 3, 1], &Values::F32(vec![1.0, 2.0, 3.0]))?;
//! w.push_block(&[0, 1], &[2], &Values::F32(vec![4.0]))?;
//! let group = w.finish()?.into_group();
//! let m = h5sparse::SparseDataset::open(&group)?;
//! assert_eq!(m.nnz()?, 4);
//! # Ok(()) }
//! ```
//! With `h5sparse::hdf5::H5Sink` in place of `MemSink` the same calls stream the matrix into
//! an HDF5 file, one chunk in memory at a time.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Reads take lists of element ranges; one-range lists are intended.
#![allow(clippy::single_range_in_vec_init)]

pub mod convert;
pub mod dataset;
pub mod error;
pub mod hdf5;
pub mod mem;
mod read;
pub mod result;
pub mod selection;
pub mod source;
pub mod types;
pub mod values;
pub mod write;

pub use dataset::{SparseDataset, SparseInfo};
pub use error::{Error, Result};
pub use result::SparseResult;
pub use selection::{Sel, Selection};
pub use source::{Array1, GroupSource};
pub use types::{Encoding, Format, ReadOptions};
pub use values::{ElemType, Values};
