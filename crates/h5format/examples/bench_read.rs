//! Benchmark helper: time reading a 1-D numeric dataset, fully or as a list of element ranges.
//!
//! `bench_read FILE DATASET [--full] [--inflate-only] [--inflate-fresh] [--ranges PATH] [--repeat N]`
//!
//! `PATH` holds one `start end` pair (half-open, element indices) per line. Each repetition
//! opens the file afresh (cold chunk cache), then times the read. Prints one JSON line per
//! operation on stdout: `{"op", "repeat", "median_s", "min_s", "elems", "sum", "peak_rss_mib"}`.

use std::time::Instant;

use h5format::file::File;

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn run(
    file: &str,
    dataset: &str,
    op: &str,
    repeat: usize,
    read: impl Fn(&h5format::file::Dataset) -> Result<Vec<f64>, Box<dyn std::error::Error>>,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut times = Vec::with_capacity(repeat);
    let mut elems = 0;
    let mut sum = 0.0;
    for _ in 0..repeat {
        let t = Instant::now();
        let f = File::open(file)?;
        let ds = f.dataset(dataset)?;
        let v = read(&ds)?;
        times.push(t.elapsed().as_secs_f64());
        elems = v.len();
        sum = v.iter().sum();
    }
    let min = times.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "{{\"op\": \"{op}\", \"repeat\": {repeat}, \"median_s\": {}, \"min_s\": {min}, \"elems\": {elems}, \"sum\": {sum}, \"peak_rss_mib\": {}}}",
        median(times),
        peak_rss_mib()
    );
    Ok(())
}

/// The reference for a full read: the stored chunks already in memory, inflated by the filter
/// pipeline on every core (rayon), nothing else — the pure-Rust inflate speed of the machine.
///
/// With `fresh`, every repetition inflates into one newly allocated result of the whole
/// decoded size (as a full load of filtered chunks does: `h5format::alloc::output_vec`,
/// huge pages faulted in up front where the OS allows), chunk by chunk in place — the same
/// work plus the first touch of the result's memory, which the reused per-chunk buffers of
/// the plain baseline never pay.
fn inflate_baseline(
    file: &str,
    dataset: &str,
    repeat: usize,
    fresh: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    use rayon::prelude::*;
    let f = File::open(file)?;
    let ds = f.dataset(dataset)?;
    let reader = ds.chunks()?;
    let pipeline = ds.filters().cloned().ok_or("dataset has no filters")?;
    let esize = ds.dtype().size();
    let chunk_bytes = match ds.layout() {
        h5format::read::layout::Layout::Chunked { chunk_dims, .. } => {
            chunk_dims.iter().product::<u64>() as usize * esize
        }
        _ => return Err("not chunked".into()),
    };
    let raws: Vec<(Vec<u8>, u32, u64)> = reader
        .chunks()?
        .iter()
        .map(|c| {
            Ok((
                f.source().read_vec("chunk", c.address, c.size)?,
                c.filter_mask,
                c.address,
            ))
        })
        .collect::<Result<_, h5format::Error>>()?;
    let mut times = Vec::new();
    let mut out_bytes = 0usize;
    for _ in 0..repeat {
        if fresh {
            let total = raws.len() * chunk_bytes;
            let t = Instant::now();
            let mut out = h5format::alloc::output_vec::<u8>(total);
            out.par_chunks_mut(chunk_bytes)
                .zip(raws.par_iter())
                .try_for_each(|(dst, (raw, mask, addr))| {
                    if pipeline.decode_into(raw, *mask, dst, *addr)? {
                        return Ok(());
                    }
                    let v = pipeline.decode(raw.clone(), *mask, chunk_bytes, esize, *addr)?;
                    dst[..v.len()].copy_from_slice(&v);
                    Ok::<(), h5format::Error>(())
                })?;
            times.push(t.elapsed().as_secs_f64());
            out_bytes = out.len();
            drop(out);
            continue;
        }
        let t = Instant::now();
        let sizes: Vec<usize> = raws
            .par_iter()
            .map(|(raw, mask, addr)| {
                pipeline
                    .decode(raw.clone(), *mask, chunk_bytes, esize, *addr)
                    .map(|v| v.len())
            })
            .collect::<Result<_, _>>()?;
        times.push(t.elapsed().as_secs_f64());
        out_bytes = sizes.iter().sum();
    }
    println!(
        "{{\"op\": \"{}\", \"threads\": {}, \"repeat\": {repeat}, \"median_s\": {}, \"bytes_out\": {out_bytes}}}",
        if fresh { "inflate_fresh" } else { "inflate_only" },
        rayon::current_num_threads(),
        median(times)
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut pos, mut full, mut ranges_path, mut repeat) = (Vec::new(), false, None, 3usize);
    let (mut inflate_only, mut inflate_fresh) = (false, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--full" => full = true,
            "--inflate-only" => inflate_only = true,
            "--inflate-fresh" => inflate_fresh = true,
            "--ranges" => ranges_path = it.next().cloned(),
            "--repeat" => repeat = it.next().ok_or("--repeat needs a value")?.parse()?,
            _ => pos.push(a.clone()),
        }
    }
    let [file, dataset] = pos.as_slice() else {
        return Err(
            "usage: bench_read FILE DATASET [--full] [--inflate-only] [--inflate-fresh] [--ranges PATH] [--repeat N]"
                .into(),
        );
    };
    if inflate_only {
        inflate_baseline(file, dataset, repeat, false)?;
    }
    if inflate_fresh {
        inflate_baseline(file, dataset, repeat, true)?;
    }
    if full {
        run(file, dataset, "full", repeat, |ds| Ok(ds.read::<f64>()?))?;
    }
    if let Some(p) = ranges_path {
        let text = std::fs::read_to_string(&p)?;
        let mut ranges = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let mut w = line.split_whitespace().map(str::parse::<u64>);
            match (w.next(), w.next()) {
                (Some(Ok(s)), Some(Ok(e))) => ranges.push(s..e),
                _ => return Err(format!("bad range line {line:?}").into()),
            }
        }
        run(file, dataset, "ranges", repeat, |ds| {
            Ok(ds.read_ranges::<f64>(&ranges)?)
        })?;
    }
    Ok(())
}
