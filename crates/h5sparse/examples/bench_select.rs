//! Profiling helper: time one selection of a sparse matrix group, without printing the
//! result (for `perf record`; `bench/large.py` times the CLI).
//!
//! `bench_select FILE GROUP [ROWS|-] [COLS|-] [REPEAT]` — selections as the CLI takes them
//! (`@PATH` reads a file); prints the time of each repetition and the result's nnz.

use std::time::Instant;

fn sel(arg: Option<String>) -> Result<Option<String>, Box<dyn std::error::Error>> {
    Ok(match arg.as_deref() {
        None | Some("-") => None,
        Some(s) => Some(match s.strip_prefix('@') {
            Some(p) => std::fs::read_to_string(p)?.trim().to_string(),
            None => s.to_string(),
        }),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (file, group) = match (args.next(), args.next()) {
        (Some(f), Some(g)) => (f, g),
        _ => return Err("usage: bench_select FILE GROUP [ROWS|-] [COLS|-] [REPEAT]".into()),
    };
    let (rows, cols) = (sel(args.next())?, sel(args.next())?);
    let repeat: usize = args.next().map_or(Ok(1), |s| s.parse())?;
    let f = h5format::File::open(&file)?;
    let m = h5sparse::hdf5::open(&f, &group)?;
    let (nr, nc) = m.shape();
    let r = match &rows {
        Some(s) => h5sparse::Selection::parse(s, nr)?,
        None => h5sparse::Selection::all(nr),
    };
    let c = match &cols {
        Some(s) => h5sparse::Selection::parse(s, nc)?,
        None => h5sparse::Selection::all(nc),
    };
    for _ in 0..repeat {
        let t = Instant::now();
        let res = m.select(&r, &c)?;
        let dt = t.elapsed().as_secs_f64();
        println!("{dt:.4} s  nnz {}", res.nnz());
        drop(res);
    }
    Ok(())
}
