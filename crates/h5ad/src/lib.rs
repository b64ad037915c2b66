//! # h5ad — AnnData files on top of h5sparse and h5format
//!
//! The on-disk rules are anndata's: the root carries `encoding-type` = `anndata` and
//! `encoding-version` = `0.1.0`; every element carries its own encoding attributes.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Reads take lists of element ranges; one-range lists are intended.
#![allow(clippy::single_range_in_vec_init)]

pub mod anndata;
pub mod backed;
pub mod concat;
mod concat_csr;
pub mod concat_obs;
pub mod error;
mod legacy;
pub mod model;
mod read;
pub mod write;

pub use backed::BackedMatrix;
pub use concat::{append, concat, ConcatOptions, ConcatStats};
pub use concat_obs::Join;
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
