//! `h5sparse slice` and `h5sparse info`: selections of a sparse matrix group.

use std::io::Write;
use std::time::Instant;

use h5sparse::{SparseDataset, SparseResult, Values};

use crate::UserError;

fn open(file: &str, group: &str) -> Result<SparseDataset, UserError> {
    let f = crate::ls::open(file)?;
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
    let (r, c) = (rows.as_deref(), cols.as_deref());
    let result = match repeat {
        Some(n) if n > 0 => {
            let mut times = Vec::with_capacity(n);
            let mut last = None;
            for _ in 0..n {
                let t = Instant::now();
                let res = m.select_text(r, c)?;
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
        None => m.select_text(r, c)?,
    };
    write_mtx(out, &result)?;
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

/// Write a result as MatrixMarket coordinate text (1-based, explicit zeros kept).
pub fn write_mtx(out: &mut impl Write, r: &SparseResult) -> std::io::Result<()> {
    let field = if r.data.elem().is_integer() || matches!(r.data, Values::Bool(_)) {
        "integer"
    } else {
        "real"
    };
    writeln!(out, "%%MatrixMarket matrix coordinate {field} general")?;
    writeln!(out, "{} {} {}", r.shape.0, r.shape.1, r.nnz())?;
    let mut line = String::with_capacity(64);
    for (i, j, p) in r.triplets() {
        line.clear();
        use std::fmt::Write as _;
        let _ = write!(line, "{} {} ", i + 1, j + 1);
        let _ = match &r.data {
            Values::I8(v) => write!(line, "{}", v[p]),
            Values::I16(v) => write!(line, "{}", v[p]),
            Values::I32(v) => write!(line, "{}", v[p]),
            Values::I64(v) => write!(line, "{}", v[p]),
            Values::U8(v) => write!(line, "{}", v[p]),
            Values::U16(v) => write!(line, "{}", v[p]),
            Values::U32(v) => write!(line, "{}", v[p]),
            Values::U64(v) => write!(line, "{}", v[p]),
            Values::F32(v) => write!(line, "{:?}", v[p]),
            Values::F64(v) => write!(line, "{:?}", v[p]),
            Values::Bool(v) => write!(line, "{}", u8::from(v[p])),
        };
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}
