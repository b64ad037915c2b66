//! Benchmark helper: stream the `N x N` all-ones CSR matrix (`N*N` stored f64 values) to an
//! HDF5 file with the project's writer, in blocks of 100 rows.
//!
//! `bench_write OUT [--n N] [--gzip LEVEL] [--shuffle] [--chunk-elems C] [--no-fsync]`
//!
//! Prints one JSON line: `{"n", "gzip", "seconds", "fsync_s", "bytes", "peak_rss_mib"}`.
//! With `--no-fsync` the writer finishes without `fsync` (`Durability::PageCache`, what h5py
//! does) and `fsync_s` is the time of an `fsync` of the finished file done afterwards;
//! otherwise `seconds` includes the writer's own `fsync` and `fsync_s` is 0.

use std::time::Instant;

use h5format::write::{Durability, FileWriter};
use h5sparse::hdf5::{H5Sink, SinkOptions};
use h5sparse::write::{SparseWriter, WriterOptions};
use h5sparse::{ElemType, Format, Values};

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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut out, mut n, mut gzip, mut shuffle, mut chunk) =
        (None, 10_000u64, None, false, 1u64 << 18);
    let mut fsync = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--n" => n = it.next().ok_or("--n needs a value")?.parse()?,
            "--gzip" => gzip = Some(it.next().ok_or("--gzip needs a value")?.parse()?),
            "--shuffle" => shuffle = true,
            "--no-fsync" => fsync = false,
            "--chunk-elems" => chunk = it.next().ok_or("--chunk-elems needs a value")?.parse()?,
            _ => out = Some(a.clone()),
        }
    }
    let out =
        out.ok_or("usage: bench_write OUT [--n N] [--gzip LEVEL] [--shuffle] [--chunk-elems C]")?;
    let t = Instant::now();
    let mut w = FileWriter::create(&out)?;
    if !fsync {
        w.set_durability(Durability::PageCache);
    }
    let mut opts = WriterOptions::new(Format::Csr, (n, n), ElemType::F64);
    opts.nnz_hint = Some(n * n);
    let sink = H5Sink::new(
        &mut w,
        "/X",
        SinkOptions {
            chunk_elems: chunk,
            gzip,
            shuffle,
            ..SinkOptions::default()
        },
    )?;
    let mut sw = SparseWriter::new(sink, opts)?;
    let block_rows = 100u64.min(n.max(1));
    // The block as a caller holds it (scipy/numpy: int32 indices of the file's index type).
    let cols: Vec<i32> = (0..n).map(|c| c as i32).collect();
    let indices = Values::I32((0..block_rows).flat_map(|_| cols.iter().copied()).collect());
    let data = Values::F64(vec![1.0; indices.len()]);
    let indptr: Vec<usize> = (0..=block_rows as usize).map(|r| r * n as usize).collect();
    let mut done = 0;
    while done < n {
        let rows = block_rows.min(n - done) as usize;
        if rows == block_rows as usize {
            sw.push_block_values(&indptr, &indices, &data)?;
        } else {
            let k = rows * n as usize;
            sw.push_block_values(&indptr[..=rows], &indices.slice(0..k)?, &data.slice(0..k)?)?;
        }
        done += rows as u64;
    }
    sw.finish()?;
    w.finish()?;
    let secs = t.elapsed().as_secs_f64();
    let fsync_s = if fsync {
        0.0
    } else {
        let t = Instant::now();
        std::fs::File::open(&out)?.sync_all()?;
        t.elapsed().as_secs_f64()
    };
    let bytes = std::fs::metadata(&out)?.len();
    let gz = gzip.map_or("null".to_string(), |g: u8| g.to_string());
    println!(
        "{{\"n\": {n}, \"gzip\": {gz}, \"shuffle\": {shuffle}, \"chunk_elems\": {chunk}, \"seconds\": {secs}, \"fsync_s\": {fsync_s}, \"bytes\": {bytes}, \"peak_rss_mib\": {}}}",
        peak_rss_mib()
    );
    Ok(())
}
