//! # h5ad — AnnData files on top of h5sparse and h5format
//!
//! The on-disk rules are anndata's: the root carries `encoding-type` = `anndata` and
//! `encoding-version` = `0.1.0`; every element carries its own encoding attributes.
//!
//! # Backed mode: read only what a subset needs
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use h5ad::{AnnData, Matrix, Selection};
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/adata_csr.h5ad");
//! let adata = AnnData::open(path)?; // obs, var, obsm, uns... read; X and layers stay on disk
//! assert_eq!((adata.n_obs, adata.n_vars), (15, 10));
//! assert!(matches!(adata.x, Some(Matrix::Backed(_))));
//!
//! // Cells 3..7, every gene: only those rows of X (and of each layer) are read.
//! let rows = Selection::parse("3:7", adata.n_obs as u64)?;
//! let sub = adata.subset(&rows, &Selection::all(adata.n_vars as u64))?;
//! assert_eq!(sub.obs_names(), &adata.obs_names()[3..7]);
//! let Some(Matrix::Sparse(x)) = &sub.x else { unreachable!() };
//! assert_eq!(x.shape, (4, 10));
//! # Ok(()) }
//! ```
//!
//! # In memory, and writing back
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/adata_csr.h5ad");
//! let adata = h5ad::AnnData::read(path)?;
//! let out = std::env::temp_dir().join(format!("h5ad-doc-{}.h5ad", std::process::id()));
//! adata.write_h5ad(&out, h5ad::WriteOptions::default())?; // anndata.read_h5ad opens it
//! let back = h5ad::AnnData::read(&out)?;
//! assert_eq!(back.obs.index, adata.obs.index);
//! std::fs::remove_file(&out)?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Reads take lists of element ranges; one-range lists are intended.
#![allow(clippy::single_range_in_vec_init)]

pub mod anndata;
pub mod append;
mod array;
mod attrs;
pub mod backed;
pub mod concat;
mod concat_csr;
pub mod concat_obs;
#[cfg(unix)]
pub mod edit;
pub mod error;
mod legacy;
pub mod model;
mod read;
pub mod write;

pub use append::{append, append_in_place};
pub use backed::BackedMatrix;
pub use concat::{concat, ConcatOptions, ConcatStats};
pub use concat_obs::Join;
#[cfg(unix)]
pub use edit::H5adEditor;
pub use error::{Error, Result};
pub use h5sparse::{Format, Selection, SparseResult, Values};
pub use model::{AnnData, Column, DataFrame, Dense, Element, Matrix, StringArray};
pub use write::WriteOptions;

use h5format::write::{AttrValue, DType, DatasetSpec, FileWriter};

/// Set `encoding-type` and `encoding-version` on an object being written.
pub fn set_encoding(
    w: &mut FileWriter,
    path: &str,
    kind: &str,
    version: &str,
) -> h5format::Result<()> {
    w.set_attr(path, "encoding-type", AttrValue::String(kind.into()))?;
    w.set_attr(path, "encoding-version", AttrValue::String(version.into()))
}

/// Write a dataframe with only an index (anndata's `dataframe` 0.2.0 encoding).
pub fn write_index_frame<S: AsRef<str>>(
    w: &mut FileWriter,
    path: &str,
    index: &[S],
) -> h5format::Result<()> {
    w.create_group(path)?;
    set_encoding(w, path, "dataframe", "0.2.0")?;
    w.set_attr(path, "_index", AttrValue::String("_index".into()))?;
    w.set_attr(path, "column-order", AttrValue::Strings(Vec::new()))?;
    let ix_path = format!("{path}/_index");
    let ix = w.create_dataset(
        &ix_path,
        DatasetSpec::new(DType::VarString, [index.len() as u64]),
    )?;
    w.write_strings(ix, index)?;
    set_encoding(w, &ix_path, "string-array", "0.2.0")
}

/// Write everything of an AnnData file but `X`: the root encoding, `obs`/`var` with the given
/// names, and empty `obsm`, `varm`, `obsp`, `varp`, `layers`, `uns`.
pub fn write_skeleton<S: AsRef<str>>(
    w: &mut FileWriter,
    obs_names: &[S],
    var_names: &[S],
) -> h5format::Result<()> {
    set_encoding(w, "/", "anndata", "0.1.0")?;
    write_index_frame(w, "/obs", obs_names)?;
    write_index_frame(w, "/var", var_names)?;
    for g in ["/obsm", "/varm", "/obsp", "/varp", "/layers", "/uns"] {
        w.create_group(g)?;
        set_encoding(w, g, "dict", "0.1.0")?;
    }
    Ok(())
}
