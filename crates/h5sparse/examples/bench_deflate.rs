//! Benchmark helper: size and speed of zlib-rs's deflate levels on a raw byte file.
//!
//! `bench_deflate FILE --elem-size S --chunk-bytes C [--shuffle] [--levels 1,2,4]`
//!
//! Splits FILE into chunks of C bytes, shuffles each (element size S) when asked, compresses
//! every chunk with zlib-rs at each given engine level (the level zlib-rs runs, before the
//! writer's `engine_level` mapping; one thread) and prints one JSON line per level:
//! `{"level", "in_bytes", "out_bytes", "seconds"}` (seconds include the shuffle). `bench/deflate_levels.py`
//! compares the sizes with libz (Python's zlib, what libhdf5 links) on the same chunks.

use std::time::Instant;

use h5format::filter::deflate::deflate;
use h5format::write::filters::shuffle as byte_shuffle;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut file, mut elem, mut chunk, mut shuffle) = (None, 4usize, 1usize << 20, false);
    let mut levels = vec![1u8, 2, 3, 4];
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--elem-size" => elem = it.next().ok_or("--elem-size needs a value")?.parse()?,
            "--chunk-bytes" => chunk = it.next().ok_or("--chunk-bytes needs a value")?.parse()?,
            "--shuffle" => shuffle = true,
            "--levels" => {
                levels = it
                    .next()
                    .ok_or("--levels needs a value")?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?
            }
            _ => file = Some(a.clone()),
        }
    }
    let file = file.ok_or("usage: bench_deflate FILE --elem-size S --chunk-bytes C [--shuffle]")?;
    let bytes = std::fs::read(file)?;
    for level in levels {
        let t = Instant::now();
        let mut out = 0usize;
        for c in bytes.chunks(chunk.max(1)) {
            let z = if shuffle {
                deflate(&byte_shuffle(c, elem), u32::from(level))?
            } else {
                deflate(c, u32::from(level))?
            };
            out += z.len();
        }
        println!(
            "{{\"level\": {level}, \"in_bytes\": {}, \"out_bytes\": {out}, \"seconds\": {}}}",
            bytes.len(),
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
