//! Opening an input file as every command does: a local path or an http(s):// / s3:// URL,
//! external files only from the file's own directory.

use h5format::File;

use crate::UserError;

/// Open a file for reading (positioned reads: only what is read counts in memory).
///
/// External files (external storage, virtual dataset sources) may be read from the file's
/// own directory and below, nowhere else.
pub fn open(path: &str) -> Result<File, UserError> {
    // A local path or an http(s):// / s3:// URL; external storage only in the file's own
    // directory (none for a URL).
    let f = File::open_location(path).map_err(|e| UserError(format!("{path}: {e}")))?;
    let dir = f.base_dir().map(|d| d.to_path_buf());
    Ok(f.with_external_dirs(dir))
}
