//! Benchmark helper: checksums of a MatrixMarket coordinate stream on stdin, so that a large
//! `h5sparse slice` result is verified without holding or re-parsing it in Python.
//!
//! `h5sparse slice ... | mtx_checksum`
//!
//! Prints one JSON line `{"nnz", "shape", "sum", "wsum"}`: the number of entries, the sum of
//! values and the sum of `value * ((row % 1009) + 1) * ((col % 997) + 1)` with 0-based row and
//! column, all in f64 (`bench/large.py` computes the same from anndata's result).

use std::io::{BufRead, BufReader, Read};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut input = BufReader::with_capacity(1 << 20, std::io::stdin().lock());
    let mut line = Vec::new();
    let mut shape = None;
    let (mut nnz, mut sum, mut wsum) = (0u64, 0f64, 0f64);
    // Header and comments, then the size line.
    while shape.is_none() {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Err("no size line".into());
        }
        if line.first() == Some(&b'%') {
            continue;
        }
        let t = std::str::from_utf8(&line)?;
        let v: Vec<u64> = t
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        shape = Some((v.first().copied(), v.get(1).copied()));
    }
    let mut buf = Vec::new();
    input.read_to_end(&mut buf)?;
    for entry in buf.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let t = std::str::from_utf8(entry)?;
        let mut w = t.split_ascii_whitespace();
        let (Some(r), Some(c), Some(v)) = (w.next(), w.next(), w.next()) else {
            return Err(format!("bad entry {t:?}").into());
        };
        let (r, c, v): (u64, u64, f64) = (r.parse()?, c.parse()?, v.parse()?);
        let (r, c) = (r - 1, c - 1);
        nnz += 1;
        sum += v;
        wsum += v * ((r % 1009 + 1) as f64) * ((c % 997 + 1) as f64);
    }
    let (rows, cols) = shape.unwrap_or((None, None));
    println!(
        "{{\"nnz\": {nnz}, \"shape\": [{}, {}], \"sum\": {sum:?}, \"wsum\": {wsum:?}}}",
        rows.unwrap_or(0),
        cols.unwrap_or(0)
    );
    Ok(())
}
