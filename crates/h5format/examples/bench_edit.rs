//! Timing driver of `bench/edit.py`: `bench_edit FILE attrs|append|overwrite N [noreuse]`
//! makes N in-place edits of FILE with `h5format::edit::Editor` (page-cache durability, as
//! h5py; with `noreuse`, freed space is not reused) and prints one JSON line: seconds and the
//! file size before and after (the editor closed).

use std::time::Instant;

use h5format::edit::Editor;
use h5format::write::{to_le_bytes, AttrValue, Durability};

fn main() -> h5format::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (file, op, n, reuse) = match &args[..] {
        [_, file, op, n] => (file, op, n, true),
        [_, file, op, n, flag] if flag == "noreuse" => (file, op, n, false),
        _ => {
            eprintln!("usage: bench_edit FILE attrs|append|overwrite N [noreuse]");
            std::process::exit(2);
        }
    };
    let n: usize = n.parse().expect("N");
    let size = || std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let before = size();
    let t = Instant::now();
    let mut ed = Editor::open(file)?;
    ed.set_durability(Durability::PageCache);
    ed.set_space_reuse(reuse);
    let rows: Vec<f32> = (0..1000).map(|i| i as f32).collect();
    for i in 0..n {
        match op.as_str() {
            "attrs" => ed.set_attr("/g", &format!("a{i}"), AttrValue::array(&[i as i64; 4]))?,
            "append" => ed.append("/x", &to_le_bytes(&rows))?,
            "overwrite" => {
                let start = (i as u64 * 7919) % 99_000;
                ed.write_hyperslab("/x", &[start], &[1000], &to_le_bytes(&rows))?
            }
            _ => panic!("unknown op {op}"),
        }
    }
    ed.close()?;
    println!(
        "{{\"seconds\": {}, \"before\": {before}, \"after\": {}}}",
        t.elapsed().as_secs_f64(),
        size()
    );
    Ok(())
}
