//! `h5sparse slice` and `h5sparse info`: selections of a sparse matrix group.

use std::io::Write;
use std::time::Instant;

use h5sparse::{Selection, SparseDataset};

use crate::UserError;

fn open(file: &str, group: &str) -> Result<SparseDataset, UserError> {
    let f = crate::open::open(file)?;
    Ok(h5sparse::hdf5::open(&f, group)?)
}

/// `info FILE GROUP`.
pub fn info(out: &mut impl Write, file: &str, group: &str) -> Result<(), UserError> {
    let m = open(file, group)?;
    writeln!(out, "{}", m.info()?.to_json())?;
    Ok(())
}

/// `slice FILE GROUP [--rows SEL] [--cols SEL] [--repeat N]`.
pub fn slice(
    out: &mut impl Write,
    file: &str,
    group: &str,
    rows: Option<&str>,
    cols: Option<&str>,
    repeat: Option<usize>,
) -> Result<(), UserError> {
    let m = open(file, group)?;
    let rows = rows.map(read_sel).transpose()?;
    let cols = cols.map(read_sel).transpose()?;
    // Parsed once: repetitions time the selection alone.
    let (nr, nc) = m.shape();
    let parse = |text: Option<&String>, len: u64| match text {
        Some(t) => Selection::parse(t, len),
        None => Ok(Selection::all(len)),
    };
    let (r, c) = (parse(rows.as_ref(), nr)?, parse(cols.as_ref(), nc)?);
    let result = match repeat {
        Some(n) if n > 0 => {
            let mut times = Vec::with_capacity(n);
            let mut last: Option<h5sparse::SparseResult> = None;
            for _ in 0..n {
                // Drop the previous result before reading the next: peak memory is one result.
                drop(last.take());
                let t = Instant::now();
                let res = m.select(&r, &c)?;
                times.push(t.elapsed().as_secs_f64());
                last = Some(res);
            }
            let res = last.ok_or_else(|| UserError("no repetition ran".into()))?;
            times.sort_by(f64::total_cmp);
            let median = if n % 2 == 1 {
                times[n / 2]
            } else {
                (times[n / 2 - 1] + times[n / 2]) / 2.0
            };
            let line = serde_json::json!({"repeat": n, "median_s": median, "min_s": times[0], "nnz": res.nnz()});
            eprintln!("{line}");
            res
        }
        Some(_) => return Err(UserError("--repeat must be at least 1".into())),
        None => m.select(&r, &c)?,
    };
    crate::mtx::write_mtx(out, &result)?;
    Ok(())
}

/// The selection text: inline, or `@PATH` read from a file.
fn read_sel(text: &str) -> Result<String, UserError> {
    match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map(|s| s.trim().to_string())
            .map_err(|e| UserError(format!("cannot read selection file {path}: {e}"))),
        None => Ok(text.to_string()),
    }
}
