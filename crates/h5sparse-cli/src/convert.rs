//! `h5sparse convert IN GROUP OUT [--out-group G] [--gzip L] [--chunk-elems N] [--mem-mib M]`:
//! rewrite a sparse matrix group in the other storage order (CSR ↔ CSC), out of core.
//!
//! The result is one group (default: GROUP's path) of a new file OUT, in the anndata encoding,
//! so that column access of a CSR matrix becomes major-axis access. Memory stays within about
//! `--mem-mib` MiB (default 256) plus the reader's chunk cache; the temporary run files are
//! created next to OUT and removed at the end.

use crate::progress::ProgressSink;
use std::path::Path;

use h5format::write::{FileWriter, Format};
use h5sparse::convert::{convert, ConvertOptions};
use h5sparse::hdf5::{H5Sink, SinkOptions};

use crate::UserError;

/// Options of `convert`.
pub struct ConvertArgs<'a> {
    /// Group written in OUT (default: the input group's path).
    pub out_group: Option<&'a str>,
    /// Deflate level.
    pub gzip: Option<u8>,
    /// Elements per chunk.
    pub chunk_elems: Option<u64>,
    /// Memory budget in MiB.
    pub mem_mib: Option<u64>,
    /// Structure versions of OUT (`--libver`).
    pub libver: Format,
}

/// Run the command.
pub fn run(input: &str, group: &str, output: &str, a: &ConvertArgs<'_>) -> Result<(), UserError> {
    if let Some(l) = a.gzip {
        if l > 9 {
            return Err(UserError(format!("gzip level {l} is not in 0..=9")));
        }
    }
    if a.chunk_elems == Some(0) {
        return Err(UserError("--chunk-elems must be at least 1".into()));
    }
    let mem_mib = a.mem_mib.unwrap_or(256);
    if mem_mib == 0 {
        return Err(UserError("--mem-mib must be at least 1".into()));
    }
    let same = std::fs::canonicalize(input)
        .ok()
        .zip(std::fs::canonicalize(output).ok());
    if same.is_some_and(|(i, o)| i == o) {
        return Err(UserError("OUT must be a different file from IN".into()));
    }
    // Positioned reads rather than a mapping: the input is streamed whole, and mapped pages
    // would count in the resident set. The chunk cache is part of the budget (the source is
    // read in whole chunks, in order, so little caching is needed).
    let mem_bytes = mem_mib.saturating_mul(1 << 20);
    let cache = usize::try_from(mem_bytes / 16)
        .unwrap_or(usize::MAX)
        .min(16 << 20);
    let f = crate::open::open(input)?.with_chunk_cache(cache);
    let src = h5sparse::hdf5::open(&f, group)?;
    let out_group = format!("/{}", a.out_group.unwrap_or(group).trim_matches('/'));
    if out_group == "/" {
        return Err(UserError(
            "the output group cannot be the root group".into(),
        ));
    }
    let parent = Path::new(output)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let opts = ConvertOptions {
        mem_bytes,
        temp_dir: Some(parent.to_path_buf()),
        ..ConvertOptions::default()
    };
    let sink_opts = SinkOptions {
        chunk_elems: a.chunk_elems.unwrap_or(1 << 16),
        gzip: a.gzip,
        ..SinkOptions::default()
    };
    let mut w = FileWriter::create(output)?;
    w.set_format(a.libver)?;
    let sink = H5Sink::new(&mut w, &out_group, sink_opts)?;
    let nnz = src.nnz().ok();
    convert(&src, ProgressSink::new(sink, "convert", nnz), &opts)?;
    w.finish()?;
    Ok(())
}
