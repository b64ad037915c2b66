//! `h5sparse import-mtx`: a MatrixMarket file to a sparse matrix group (or an `.h5ad` file).

use crate::progress::{CountingReader, Progress, ProgressSink};
use std::io::BufReader;

use h5format::write::FileWriter;
use h5sparse::hdf5::{H5Sink, SinkOptions};
use h5sparse::write::{write_coo, WriterOptions};
use h5sparse::{ElemType, Encoding, Format, Values};

use crate::mtx::{MtxField, MtxReader, MtxValue};
use crate::UserError;

/// Options of `import-mtx`.
pub struct ImportOptions<'a> {
    /// Group name.
    pub group: &'a str,
    /// `csr` or `csc`.
    pub format: &'a str,
    /// `anndata`, `h5sparse` or `10x`.
    pub encoding: &'a str,
    /// Deflate level.
    pub gzip: Option<u8>,
    /// Elements per chunk.
    pub chunk_elems: Option<u64>,
    /// Structure versions of OUT (`--libver`).
    pub libver: h5format::write::Format,
}

/// Run the command.
pub fn run(input: &str, output: &str, o: &ImportOptions<'_>) -> Result<(), UserError> {
    let format = match o.format {
        "csr" => Format::Csr,
        "csc" => Format::Csc,
        f => return Err(UserError(format!("unknown format {f} (csr or csc)"))),
    };
    let encoding = match o.encoding {
        "anndata" => Encoding::Anndata,
        "h5sparse" => Encoding::H5sparse,
        "10x" => Encoding::TenX,
        e => {
            return Err(UserError(format!(
                "unknown encoding {e} (anndata, h5sparse or 10x)"
            )))
        }
    };
    if let Some(l) = o.gzip {
        if l > 9 {
            return Err(UserError(format!("gzip level {l} is not in 0..=9")));
        }
    }
    let file = std::fs::File::open(input).map_err(|e| UserError(format!("{input}: {e}")))?;
    let len = file.metadata().ok().map(|m| m.len());
    let file = CountingReader::new(file, Progress::new("reading", len, true));
    let mut reader = MtxReader::new(BufReader::with_capacity(1 << 20, file))
        .map_err(|e| UserError(format!("{input}: {e}")))?;
    let h = *reader.header();
    let cap = usize::try_from(h.entries).unwrap_or(0).min(1 << 24);
    let mut rows = Vec::with_capacity(cap);
    let mut cols = Vec::with_capacity(cap);
    let integer = h.field == MtxField::Integer;
    let mut fvals: Vec<f64> = Vec::new();
    let mut ivals: Vec<i64> = Vec::new();
    while let Some(e) = reader
        .next_entry()
        .map_err(|e| UserError(format!("{input}: {e}")))?
    {
        rows.push(e.row);
        cols.push(e.col);
        match e.value {
            MtxValue::Real(x) => fvals.push(x),
            MtxValue::Integer(i) => ivals.push(i),
            MtxValue::Pattern => fvals.push(1.0),
        }
    }
    let (data, elem) = if integer {
        (Values::I64(ivals), ElemType::I64)
    } else {
        (Values::F64(fvals), ElemType::F64)
    };

    let h5ad = output.ends_with(".h5ad");
    let mut w = FileWriter::create(output)?;
    w.set_format(o.libver)?;
    let group = if h5ad {
        "/X".to_string()
    } else {
        format!("/{}", o.group.trim_start_matches('/'))
    };
    if h5ad {
        let obs: Vec<String> = (0..h.rows).map(|i| i.to_string()).collect();
        let var: Vec<String> = (0..h.cols).map(|i| i.to_string()).collect();
        h5ad::write_skeleton(&mut w, &obs, &var)?;
    }
    let mut opts = WriterOptions::new(format, (h.rows, h.cols), elem);
    opts.encoding = if h5ad { Encoding::Anndata } else { encoding };
    opts.nnz_hint = Some(rows.len() as u64);
    let sink_opts = SinkOptions {
        chunk_elems: o.chunk_elems.unwrap_or(1 << 16).max(1),
        gzip: o.gzip,
        ..SinkOptions::default()
    };
    let sink = H5Sink::new(&mut w, &group, sink_opts)?;
    let nnz = rows.len() as u64;
    write_coo(
        ProgressSink::new(sink, "writing", Some(nnz)),
        opts,
        &rows,
        &cols,
        &data,
    )?;
    w.finish()?;
    Ok(())
}
