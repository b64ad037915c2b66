//! `h5sparse concat` and `h5sparse append`: AnnData files concatenated along observations
//! on disk (see `h5ad::concat`).

use std::path::PathBuf;

use h5ad::{ConcatOptions, Join};

use crate::UserError;

fn options(join: &str, gzip: Option<u8>) -> Result<ConcatOptions, UserError> {
    let join = match join {
        "inner" => Join::Inner,
        "outer" => Join::Outer,
        j => return Err(UserError(format!("unknown --join {j} (inner or outer)"))),
    };
    Ok(ConcatOptions {
        join,
        gzip,
        ..ConcatOptions::default()
    })
}

/// `concat OUT IN1 IN2 …`.
pub fn run_concat(
    out: &str,
    inputs: &[String],
    join: &str,
    gzip: Option<u8>,
) -> Result<(), UserError> {
    let opts = options(join, gzip)?;
    let inputs: Vec<PathBuf> = inputs.iter().map(PathBuf::from).collect();
    h5ad::concat(&inputs, out.as_ref(), &opts)?;
    Ok(())
}

/// `append TARGET SRC`: in place when TARGET allows it, else TARGET is rewritten (a note
/// on stderr says why).
pub fn run_append(target: &str, src: &str) -> Result<(), UserError> {
    let stats = h5ad::append(target.as_ref(), src.as_ref(), &ConcatOptions::default())?;
    if let Some(why) = stats.rewritten {
        eprintln!("note: {target} was rewritten, not appended to in place: {why}");
    }
    Ok(())
}
