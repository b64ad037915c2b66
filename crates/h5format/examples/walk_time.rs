//! Time whole-file walks (every object, attribute and dataset decoded) of the `testdata/`
//! fixtures, from bytes in memory: the metadata parsing cost, before/after parser changes.
//!
//!     cargo run --release -p h5format --example walk_time [ROUNDS]

use std::time::Instant;

fn main() -> h5format::Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| h5format::Error::Usage(e.to_string()))? {
        let p = e.map_err(|e| h5format::Error::Usage(e.to_string()))?.path();
        if matches!(p.extension().and_then(|x| x.to_str()), Some("h5" | "h5ad")) {
            let bytes = std::fs::read(&p).map_err(|e| h5format::Error::Usage(e.to_string()))?;
            files.push(bytes);
        }
    }
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..rounds {
            for b in &files {
                let f = h5format::File::from_bytes(b.clone())?;
                h5format::walk::walk_all(&f)?;
            }
        }
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{} files x {rounds} walks: median {:.3} s (min {:.3})",
        files.len(),
        times[2],
        times[0]
    );
    Ok(())
}
