//! Hostile files never panic, hang or allocate without bound.
//!
//! Every fixture in `testdata/` is mutated deterministically (seeded PRNG: bit flips, byte runs
//! set to 0x00/0xFF, truncations, random u64s, swapped 8-byte words, small integers at
//! metadata offsets; version-2 object headers optionally get their checksum fixed so the
//! mutation reaches the message parsers). Each mutated file is opened from memory with a small
//! allocation limit and walked fully with [`h5format::walk::walk_all`] in its own thread, under
//! `catch_unwind`, with a deadline and a per-thread allocation meter. The test fails listing
//! every (fixture, seed) that panicked, hung or allocated too much; replay one with
//! `MUTATION_REPLAY=fixture:seed cargo test -p h5format --test mutations -- --nocapture`.
//!
//! `testdata/regress/*.h5` are inputs that once crashed the library (`*.nocsum.h5`: with
//! checksum verification off): they are replayed by [`regressions`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use h5format::walk::walk_all;
use h5format::File;

/// Cap on one file-driven allocation inside the library (`Source::with_alloc_limit`).
const ALLOC_LIMIT: u64 = 32 << 20;
/// Most bytes live at once in one case's thread.
const PEAK_LIMIT: i64 = 384 << 20;
/// A single allocation request larger than this is a bug (it is refused, which aborts).
const SINGLE_LIMIT: usize = 512 << 20;
/// Deadline of one case.
const DEADLINE: Duration = Duration::from_secs(20);

// ---- per-thread allocation meter ------------------------------------------------------------

struct Meter;

thread_local! {
    static METERED: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
    static PANIC_MSG: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn on_alloc(size: usize) -> bool {
    METERED
        .try_with(|m| {
            if !m.get() {
                return true;
            }
            if size > SINGLE_LIMIT {
                eprintln!("mutations: refusing a single allocation of {size} bytes");
                return false;
            }
            let _ = LIVE.try_with(|l| {
                let v = l.get() + size as i64;
                l.set(v);
                let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
            });
            true
        })
        .unwrap_or(true)
}

fn on_dealloc(size: usize) {
    let _ = METERED.try_with(|m| {
        if m.get() {
            let _ = LIVE.try_with(|l| l.set(l.get() - size as i64));
        }
    });
}

// SAFETY: `GlobalAlloc` is an unsafe trait; this test binary (not the library) implements it
// only to count bytes. Every method forwards its arguments unchanged to `System`, so the
// allocator contract is exactly the system allocator's; refusing an allocation returns null,
// which the contract allows.
unsafe impl GlobalAlloc for Meter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !on_alloc(layout.size()) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !on_alloc(layout.size()) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        on_dealloc(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !on_alloc(new_size) {
            return std::ptr::null_mut();
        }
        on_dealloc(layout.size());
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Meter = Meter;

// ---- PRNG and mutations ---------------------------------------------------------------------

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const SIGNATURES: [&[u8]; 14] = [
    b"OHDR", b"OCHK", b"TREE", b"HEAP", b"SNOD", b"GCOL", b"BTHD", b"BTIN", b"BTLF", b"FRHP",
    b"FHDB", b"FHIB", b"FAHD", b"EAHD",
];

/// Where metadata lives: offsets of known signatures plus the superblock.
fn interesting(bytes: &[u8]) -> Vec<usize> {
    let mut v = vec![0];
    for i in 0..bytes.len().saturating_sub(4) {
        if bytes[i].is_ascii_uppercase() && SIGNATURES.iter().any(|s| &bytes[i..i + 4] == *s) {
            v.push(i);
        }
        if bytes[i] == 0x89 && bytes[i..].starts_with(b"\x89HDF\r\n\x1a\n") {
            v.push(i);
        }
    }
    v
}

/// Pick an offset: near a signature, in the first 4 KiB, or anywhere.
fn offset(rng: &mut Rng, len: usize, hot: &[usize]) -> usize {
    if len == 0 {
        return 0;
    }
    let o = match rng.below(10) {
        0..=5 => hot[rng.below(hot.len())] + rng.below(192),
        6..=7 => rng.below(4096),
        _ => rng.below(len),
    };
    o.min(len - 1)
}

const SMALL: [u64; 10] = [0, 1, 2, 3, 7, 8, 255, 0xFFFF, 0xFFFF_FFFF, u64::MAX];

/// Apply one to three mutations chosen by `seed`; returns the bytes, a description and
/// whether checksums are to be verified.
fn mutate(orig: &[u8], hot: &[usize], seed: u64) -> (Vec<u8>, String, bool) {
    let mut rng = Rng(seed);
    let mut b = orig.to_vec();
    let mut desc = Vec::new();
    let n = 1 + rng.below(3);
    for _ in 0..n {
        let len = b.len();
        if len < 16 {
            break;
        }
        let o = offset(&mut rng, len, hot);
        match rng.below(8) {
            0 => {
                let bit = rng.below(8);
                b[o] ^= 1 << bit;
                desc.push(format!("flip {o}.{bit}"));
            }
            1 | 2 => {
                let v = if rng.below(2) == 0 { 0 } else { 0xFF };
                let max = if rng.below(4) == 0 { 256 } else { 8 };
                let run = 1 + rng.below(max);
                let end = (o + run).min(len);
                b[o..end].iter_mut().for_each(|x| *x = v);
                desc.push(format!("set {o}..{end}={v:#x}"));
            }
            3 => {
                let at = if rng.below(2) == 0 { o } else { rng.below(len) };
                b.truncate(at);
                desc.push(format!("truncate {at}"));
            }
            4 => {
                let v = rng.next();
                let end = (o + 8).min(len);
                b[o..end].copy_from_slice(&v.to_le_bytes()[..end - o]);
                desc.push(format!("u64 {o}={v:#x}"));
            }
            5 => {
                let p = offset(&mut rng, len, hot);
                if o + 8 <= len && p + 8 <= len && (o + 8 <= p || p + 8 <= o) {
                    for i in 0..8 {
                        b.swap(o + i, p + i);
                    }
                    desc.push(format!("swap {o}<->{p}"));
                }
            }
            _ => {
                let v = SMALL[rng.below(SMALL.len())];
                let w = [1usize, 2, 4, 8][rng.below(4)];
                let end = (o + w).min(len);
                b[o..end].copy_from_slice(&v.to_le_bytes()[..end - o]);
                desc.push(format!("int{} {o}={v:#x}", w * 8));
            }
        }
    }
    let mut checks = true;
    match rng.below(3) {
        0 => fix_ohdr_checksums(&mut b),
        1 => {
            checks = false;
            desc.push("no checksums".into());
        }
        _ => {}
    }
    (b, desc.join(", "), checks)
}

/// Recompute the checksum of every version-2 object header's first chunk (whose layout this
/// test reads independently of the library), so mutations inside it reach the parsers.
fn fix_ohdr_checksums(b: &mut [u8]) {
    let mut i = 0;
    while i + 8 < b.len() {
        if &b[i..i + 4] == b"OHDR" && b[i + 4] == 2 {
            let flags = b[i + 5];
            let mut p = i + 6;
            if flags & 0x20 != 0 {
                p += 16;
            }
            if flags & 0x10 != 0 {
                p += 4;
            }
            let w = 1usize << (flags & 3);
            if p + w <= b.len() {
                let mut size = 0u64;
                for k in 0..w {
                    size |= (b[p + k] as u64) << (8 * k);
                }
                let end = ((p + w) as u64).saturating_add(size);
                if end.saturating_add(4) <= b.len() as u64 {
                    let end = end as usize;
                    let sum = h5format::checksum::lookup3(&b[i..end], 0);
                    b[end..end + 4].copy_from_slice(&sum.to_le_bytes());
                }
            }
        }
        i += 1;
    }
}

// ---- running one case -----------------------------------------------------------------------

#[derive(Debug)]
#[allow(dead_code)] // the fields are read through `Debug` in the report
enum Outcome {
    /// Finished: whether the file opened, and the number of objects and values walked.
    Ok(bool, u64),
    Panic(String),
    Hang,
    TooMuchMemory(i64),
}

fn install_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info.to_string();
        if !METERED.try_with(|m| m.get()).unwrap_or(false) {
            eprintln!("{msg}");
        }
        let _ = PANIC_MSG.try_with(|m| *m.borrow_mut() = Some(msg));
    }));
}

/// Open and walk `bytes` in a fresh thread with a deadline.
fn run_case(bytes: Vec<u8>, checksums: bool) -> Outcome {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            h5format::cursor::skip_checksums_in_this_thread(!checksums);
            LIVE.with(|l| l.set(0));
            PEAK.with(|p| p.set(0));
            METERED.with(|m| m.set(true));
            let r = std::panic::catch_unwind(move || {
                match File::from_bytes_with_limit(bytes, ALLOC_LIMIT) {
                    Ok(f) => (
                        true,
                        walk_all(&f)
                            .map(|s| s.groups + s.datasets + s.values)
                            .unwrap_or(0),
                    ),
                    Err(_) => (false, 0),
                }
            });
            METERED.with(|m| m.set(false));
            let peak = PEAK.with(|p| p.get());
            let out = match r {
                Err(_) => Outcome::Panic(
                    PANIC_MSG
                        .with(|m| m.borrow_mut().take())
                        .unwrap_or_else(|| "panic".into()),
                ),
                Ok(_) if peak > PEAK_LIMIT => Outcome::TooMuchMemory(peak),
                Ok((opened, n)) => Outcome::Ok(opened, n),
            };
            let _ = tx.send(out);
        });
    if spawned.is_err() {
        return Outcome::Panic("could not spawn a thread".into());
    }
    match rx.recv_timeout(DEADLINE) {
        Ok(o) => o,
        // The thread is left running (it cannot be stopped); the test reports the hang.
        Err(_) => Outcome::Hang,
    }
}

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(testdata())
        .expect("testdata directory")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("h5") | Some("h5ad")
            )
        })
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&p).expect("read fixture");
            (name, bytes)
        })
        .collect();
    v.sort();
    v
}

/// The seed of mutation `i` of fixture `fixture_index`; `MUTATION_SEED_BASE` explores others.
fn case_seed(fixture_index: usize, i: u64) -> u64 {
    let base: u64 = std::env::var("MUTATION_SEED_BASE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    ((fixture_index as u64) << 32) ^ i ^ 0x5EED_0000 ^ (base << 48)
}

#[test]
fn mutated_fixtures_never_panic_hang_or_overallocate() {
    install_hook();
    let fixtures = fixtures();
    assert!(!fixtures.is_empty(), "no fixtures in testdata/");
    if let Ok(spec) = std::env::var("MUTATION_REPLAY") {
        let (name, seed) = spec.split_once(':').expect("MUTATION_REPLAY=fixture:seed");
        let seed: u64 = seed.parse().expect("seed");
        let (_, orig) = fixtures.iter().find(|(n, _)| n == name).expect("fixture");
        let (bytes, desc, checks) = mutate(orig, &interesting(orig), seed);
        h5format::cursor::skip_checksums_in_this_thread(!checks);
        if let Ok(out) = std::env::var("MUTATION_SAVE") {
            std::fs::write(out, &bytes).expect("save");
        }
        eprintln!("{name}:{seed}: {desc}");
        let f = File::from_bytes_with_limit(bytes, ALLOC_LIMIT);
        eprintln!("open: {:?}", f.as_ref().map(|_| ()));
        if let Ok(f) = f {
            eprintln!("{:#?}", walk_all(&f));
        }
        return;
    }
    let per_file: u64 = std::env::var("MUTATIONS_PER_FILE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let budget = Duration::from_secs(
        std::env::var("MUTATION_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(75),
    );
    let start = Instant::now();
    let per_fixture_budget = budget / fixtures.len() as u32;
    let mut failures = Vec::new();
    let mut total = 0u64;
    for (fi, (name, orig)) in fixtures.iter().enumerate() {
        let hot = interesting(orig);
        let t0 = Instant::now();
        let mut done = 0u64;
        let mut opened = 0u64;
        let mut slowest = (Duration::ZERO, 0u64);
        for i in 0..per_file {
            if t0.elapsed() > per_fixture_budget {
                break;
            }
            let seed = case_seed(fi, i);
            let (bytes, desc, checks) = mutate(orig, &hot, seed);
            let t = Instant::now();
            let out = run_case(bytes, checks);
            if t.elapsed() > slowest.0 {
                slowest = (t.elapsed(), seed);
            }
            done += 1;
            if let Outcome::Ok(o, _) = out {
                opened += o as u64;
            } else {
                failures.push(format!("{name}:{seed} [{desc}] -> {out:?}"));
            }
        }
        total += done;
        eprintln!(
            "{name}: {done} mutations ({opened} opened) in {:.1}s; slowest {:.2}s (seed {})",
            t0.elapsed().as_secs_f64(),
            slowest.0.as_secs_f64(),
            slowest.1
        );
    }
    eprintln!(
        "{total} mutated files walked in {:.1}s",
        start.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} failing cases (replay with MUTATION_REPLAY=fixture:seed):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Minimised inputs that once crashed the library.
#[test]
fn regressions() {
    install_hook();
    let dir = testdata().join("regress");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut failures = Vec::new();
    for e in entries.filter_map(|e| e.ok()) {
        let p = e.path();
        if !matches!(p.extension().and_then(|e| e.to_str()), Some("h5")) {
            continue;
        }
        let bytes = std::fs::read(&p).expect("read regression input");
        // `*.nocsum.h5` crashed only with checksum verification off.
        let checksums = !p.to_string_lossy().ends_with(".nocsum.h5");
        let out = run_case(bytes, checksums);
        if !matches!(out, Outcome::Ok(..)) {
            failures.push(format!("{}: {out:?}", p.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
