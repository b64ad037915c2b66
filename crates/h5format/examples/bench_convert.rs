//! Throughput of the numeric conversion hot path (a benchmark, not a test). Run with
//! `cargo run -p h5format --release --example bench_convert`.

use std::time::Instant;

use h5format::read::datatype::{ByteOrder, Datatype};
use h5format::value::{convert_into, Numeric};

fn int(size: u32, order: ByteOrder, signed: bool) -> Datatype {
    Datatype::Integer {
        size,
        order,
        signed,
        bit_offset: 0,
        precision: (size * 8) as u16,
    }
}

fn time<T: Numeric>(label: &str, dt: &Datatype, src: &[u8]) {
    let n = src.len() / dt.size();
    let mut dst = vec![T::zeroed(); n];
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        convert_into(dt, src, &mut dst).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{label:<24} {:>8.2} ns/elem  {:>7.2} GB/s in",
        best * 1e9 / n as f64,
        src.len() as f64 / best / 1e9
    );
}

fn main() {
    let n = 20_000_000usize;
    let src4: Vec<u8> = (0..n as u32).flat_map(|i| i.to_le_bytes()).collect();
    let src8: Vec<u8> = (0..n as u64).flat_map(|i| i.to_le_bytes()).collect();
    let le = ByteOrder::Little;
    let be = ByteOrder::Big;
    time::<i32>("i4 LE -> i32 (copy)", &int(4, le, true), &src4);
    time::<i32>("i4 BE -> i32 (swap)", &int(4, be, true), &src4);
    time::<i64>("i4 LE -> i64", &int(4, le, true), &src4);
    time::<u64>("u4 BE -> u64", &int(4, be, false), &src4);
    time::<i64>("i8 LE -> i64 (copy)", &int(8, le, true), &src8);
    time::<i32>("i8 LE -> i32", &int(8, le, true), &src8);
    time::<f64>("i4 LE -> f64", &int(4, le, true), &src4);
}
