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
pub mod values;
pub mod write;

pub use dataset::{Encoding, Format, ReadOptions, SparseDataset, SparseInfo};
pub use error::{Error, Result};
pub use result::SparseResult;
pub use selection::{Sel, Selection};
pub use source::{Array1, GroupSource};
pub use values::{ElemType, Values};
