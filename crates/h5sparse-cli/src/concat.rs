//! `h5sparse concat` and `h5sparse append`: AnnData files concatenated along observations
//! on disk (see `h5ad::concat`).

use std::path::PathBuf;

use h5ad::{ConcatOptions, Join};
use h5format::write::Format;

use crate::UserError;

fn options(join: &str, gzip: Option<u8>, libver: Format) -> Result<ConcatOptions, UserError> {
    let join = match join {
        "inner" => Join::Inner,
        "outer" => Join::Outer,
        j => return Err(UserError(format!("unknown --join {j} (inner or outer)"))),
    };
    Ok(ConcatOptions {
        join,
        gzip,
        libver,
        ..ConcatOptions::default()
    })
}

/// `concat OUT IN1 IN2 …`.
pub fn run_concat(
    out: &str,
    inputs: &[String],
    join: &str,
    gzip: Option<u8>,
    libver: Format,
) -> Result<(), UserError> {
    let opts = options(join, gzip, libver)?;
    let inputs: Vec<PathBuf> = inputs.iter().map(PathBuf::from).collect();
    h5ad::concat(&inputs, out.as_ref(), &opts)?;
    Ok(())
}

/// `append TARGET SRC`: TARGET rewritten atomically (the contract: killed, it reads as old or
/// new for anndata too). With `in_place` (the `--in-place` extension): in place when TARGET
/// allows it (each HDF5 object old or new; anndata may refuse a file killed mid-way), else
/// rewritten with a note on stderr saying why.
pub fn run_append(target: &str, src: &str, in_place: bool) -> Result<(), UserError> {
    let opts = ConcatOptions::default();
    if !in_place {
        h5ad::append(target.as_ref(), src.as_ref(), &opts)?;
        return Ok(());
    }
    let stats = h5ad::append_in_place(target.as_ref(), src.as_ref(), &opts)?;
    if let Some(why) = stats.rewritten {
        eprintln!("note: {target} was rewritten, not appended to in place: {why}");
    }
    Ok(())
}
