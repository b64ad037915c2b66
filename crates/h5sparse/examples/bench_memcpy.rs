//! Benchmark helper: the copy baselines of an uncompressed full load.
//!
//! `bench_memcpy FILE [--threads T] [--repeat N]`
//!
//! Times (median of N) reading the whole of FILE with T positioned reads in parallel into one
//! fresh buffer (the page cache to user memory copy a load of uncompressed data cannot beat),
//! and a parallel `memcpy` of the same number of bytes between two buffers in memory (fresh
//! destination each time, like a load's result; at most 1 GiB copied, the time scaled).
//! Fresh buffers come from `h5format::alloc::zeroed_vec`, as a load's result does (huge
//! pages where the OS allows), so the baselines pay the same page faults a load pays.
//! Prints one JSON line `{"bytes", "threads", "pread_s", "memcpy_s"}`.

use std::os::unix::fs::FileExt;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut file, mut threads, mut repeat) = (None, 2usize, 5usize);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--threads" => threads = it.next().ok_or("--threads needs a value")?.parse()?,
            "--repeat" => repeat = it.next().ok_or("--repeat needs a value")?.parse()?,
            _ => file = Some(a.clone()),
        }
    }
    let file = file.ok_or("usage: bench_memcpy FILE [--threads T] [--repeat N]")?;
    let f = std::fs::File::open(&file)?;
    let len = usize::try_from(f.metadata()?.len())?;
    let threads = threads.max(1);
    let part = len.div_ceil(threads).max(1);
    let mut pread = Vec::new();
    for _ in 0..repeat {
        let t = Instant::now();
        let mut buf = h5format::alloc::zeroed_vec::<u8>(len);
        std::thread::scope(|s| -> Result<(), std::io::Error> {
            let hs: Vec<_> = buf
                .chunks_mut(part)
                .enumerate()
                .map(|(i, dst)| {
                    let f = &f;
                    s.spawn(move || f.read_exact_at(dst, (i * part) as u64))
                })
                .collect();
            for h in hs {
                h.join()
                    .map_err(|_| std::io::Error::other("thread panicked"))??;
            }
            Ok(())
        })?;
        pread.push(t.elapsed().as_secs_f64());
        std::hint::black_box(&buf);
    }
    // The in-memory copy uses at most 1 GiB (two buffers of it) and is scaled to `len` bytes.
    let n = len.min(1 << 30);
    let part = n.div_ceil(threads).max(1);
    let src: Vec<u8> = (0..n).map(|i| i as u8).collect();
    let mut copy = Vec::new();
    for _ in 0..repeat {
        let t = Instant::now();
        let mut dst = h5format::alloc::zeroed_vec::<u8>(n);
        std::thread::scope(|s| {
            for (d, sr) in dst.chunks_mut(part).zip(src.chunks(part)) {
                s.spawn(move || d.copy_from_slice(sr));
            }
        });
        copy.push(t.elapsed().as_secs_f64() * len as f64 / n.max(1) as f64);
        std::hint::black_box(&dst);
    }
    println!(
        "{{\"bytes\": {len}, \"threads\": {threads}, \"pread_s\": {}, \"memcpy_s\": {}}}",
        median(pread),
        median(copy)
    );
    Ok(())
}
