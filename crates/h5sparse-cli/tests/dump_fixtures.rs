//! Conformance of `h5sparse dump --json` with the h5py/libhdf5 oracle.
//!
//! For every `testdata/*.h5` / `*.h5ad` with a `NAME.json` next to it (written by
//! `testdata/generate.py` through `testdata/h5py_dump.py`), the built binary's dump must
//! equal the reference value for value: integers, strings and structure exactly, member and
//! attribute order as listed, floats equal as f64 except that `f2`/`f4` data may be printed
//! at its own precision. Corrupt variants of the fixtures (made here, in a temp dir) must
//! make `dump` fail cleanly: exit 1, one stderr line starting with `error:`, never a panic
//! (exit 101) and never a hang.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

/// Time a dump of one small fixture may take (debug build) before it counts as a hang.
const DUMP_TIMEOUT: Duration = Duration::from_secs(120);
/// Time a dump of a corrupt file may take before it counts as a hang.
const CORRUPT_TIMEOUT: Duration = Duration::from_secs(30);

fn testdata() -> PathBuf {
    support::root().join("testdata")
}

/// Every fixture with a reference dump next to it, sorted by name.
fn fixtures() -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let dir = testdata();
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !(name.ends_with(".h5") || name.ends_with(".h5ad")) {
            continue;
        }
        let json = dir.join(format!("{name}.json"));
        if json.is_file() {
            out.push((path, json));
        }
    }
    out.sort();
    out
}

// ------------------------------------------------------------------------- running

/// What one run of the binary did.
struct Outcome {
    /// Exit code; `None` when killed by a signal or by the timeout.
    code: Option<i32>,
    timed_out: bool,
    stdout: Vec<u8>,
    stderr: String,
}

impl Outcome {
    fn describe(&self) -> String {
        let first: String = self.stderr.lines().take(3).collect::<Vec<_>>().join(" | ");
        if self.timed_out {
            format!("timed out; stderr: {first}")
        } else {
            format!("exit {:?}; stderr: {first}", self.code)
        }
    }
}

/// The binary under test: the built `h5sparse`, or `$H5SPARSE_TEST_BIN` when set (used to
/// check this harness itself against a wrapper around testdata/h5py_dump.py).
fn binary() -> PathBuf {
    std::env::var_os("H5SPARSE_TEST_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_h5sparse")),
        PathBuf::from,
    )
}

/// Runs `h5sparse ARGS...`, killing it after `timeout`.
fn run(args: &[&str], timeout: Duration) -> Outcome {
    let mut child = Command::new(binary())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("RUST_BACKTRACE", "0")
        .spawn()
        .expect("spawn h5sparse");
    let mut out_pipe = child.stdout.take().expect("stdout pipe");
    let mut err_pipe = child.stderr.take().expect("stderr pipe");
    let out_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait().expect("wait for h5sparse") {
            Some(status) => break Some(status),
            None if start.elapsed() > timeout => {
                timed_out = true;
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let stdout = out_thread.join().unwrap_or_default();
    let stderr = String::from_utf8_lossy(&err_thread.join().unwrap_or_default()).into_owned();
    Outcome {
        code: status.and_then(|s| s.code()),
        timed_out,
        stdout,
        stderr,
    }
}

fn dump(file: &Path, extra: &[&str], timeout: Duration) -> Outcome {
    let file = file.to_str().expect("utf-8 path");
    let mut args = vec!["dump", "--json"];
    args.extend_from_slice(extra);
    args.push(file);
    run(&args, timeout)
}

// ---------------------------------------------------------------------- comparison

/// How floats of the value being compared may be printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Prec {
    /// Exact binary64 (also used where no float is expected).
    F8,
    /// An f4: equal after rounding both to f32.
    F4,
    /// An f2: equal after rounding both to binary16.
    F2,
    /// Unknown storage precision (attributes, compound fields): exact, or equal at
    /// f32/f16 precision when the reference value is exactly an f32/f16.
    Unknown,
}

/// The float precision of a DTYPE string's elements.
fn prec_of(dtype: &str) -> Prec {
    let mut base = dtype;
    loop {
        if let Some(rest) = base.strip_prefix("vlen:") {
            base = rest;
        } else if let Some(rest) = base.strip_prefix("array:") {
            base = rest.rsplit_once('[').map_or(rest, |(b, _)| b);
        } else {
            break;
        }
    }
    match base {
        "f2" => Prec::F2,
        "f4" => Prec::F4,
        "compound" => Prec::Unknown,
        _ => Prec::F8,
    }
}

/// IEEE binary16 bits of `x`, rounded to nearest, ties to even.
fn f16_bits(x: f64) -> u16 {
    let sign: u16 = if x.is_sign_negative() { 0x8000 } else { 0 };
    let a = x.abs();
    if a.is_nan() {
        return 0x7e00;
    }
    if a >= 65520.0 {
        return sign | 0x7c00;
    }
    if a < 2f64.powi(-14) {
        // subnormal (or zero): units of 2^-24; 1024 units is the smallest normal
        let m = (a * 2f64.powi(24)).round_ties_even();
        return sign | m as u16;
    }
    let mut e = ((a.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    let mut m = ((a * 2f64.powi(-e) - 1.0) * 1024.0).round_ties_even();
    if m >= 1024.0 {
        m = 0.0;
        e += 1;
    }
    if e + 15 >= 31 {
        return sign | 0x7c00;
    }
    sign | (((e + 15) as u16) << 10) | m as u16
}

fn same_f64(r: f64, a: f64) -> bool {
    r.to_bits() == a.to_bits()
}

fn same_f32(r: f64, a: f64) -> bool {
    (r as f32).to_bits() == (a as f32).to_bits()
}

fn same_f16(r: f64, a: f64) -> bool {
    f16_bits(r) == f16_bits(a)
}

fn floats_match(r: f64, a: f64, prec: Prec) -> bool {
    match prec {
        Prec::F8 => same_f64(r, a),
        Prec::F4 => same_f64(r, a) || same_f32(r, a),
        Prec::F2 => same_f64(r, a) || same_f16(r, a),
        Prec::Unknown => {
            same_f64(r, a)
                || (f64::from(r as f32) == r && same_f32(r, a))
                || (same_f16(r, a) && {
                    let bits = f16_bits(r);
                    // r is exactly the binary16 value of its own bits
                    f16_value(bits) == r
                })
        }
    }
}

/// The binary64 value of binary16 `bits` (finite values only).
fn f16_value(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let e = i32::from((bits >> 10) & 0x1f);
    let m = f64::from(bits & 0x3ff);
    if e == 0 {
        sign * m * 2f64.powi(-24)
    } else {
        sign * (1.0 + m / 1024.0) * 2f64.powi(e - 15)
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        format!("{}...", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}

fn mismatch(path: &str, what: &str, r: &Value, a: &Value) -> String {
    format!("at {path}: {what}: expected {}, got {}", short(r), short(a))
}

/// Compares a JSON value (dataset data, attribute value, shape, ...).
fn cmp_value(r: &Value, a: &Value, prec: Prec, path: &str) -> Result<(), String> {
    match (r, a) {
        (Value::Null, Value::Null) => Ok(()),
        (Value::Bool(x), Value::Bool(y)) if x == y => Ok(()),
        (Value::String(x), Value::String(y)) if x == y => Ok(()),
        (Value::Number(x), Value::Number(y)) => {
            if x.is_f64() {
                let (Some(rf), Some(af)) = (x.as_f64(), y.as_f64()) else {
                    return Err(mismatch(path, "number", r, a));
                };
                if floats_match(rf, af, prec) {
                    Ok(())
                } else {
                    Err(mismatch(path, "float", r, a))
                }
            } else if y.is_f64() {
                Err(mismatch(path, "integer printed as a float", r, a))
            } else if x.as_i64().is_some() && x.as_i64() == y.as_i64()
                || x.as_u64().is_some() && x.as_u64() == y.as_u64()
            {
                Ok(())
            } else {
                Err(mismatch(path, "integer", r, a))
            }
        }
        (Value::Array(xs), Value::Array(ys)) => {
            if xs.len() != ys.len() {
                return Err(format!(
                    "at {path}: list length: expected {}, got {}",
                    xs.len(),
                    ys.len()
                ));
            }
            for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                cmp_value(x, y, prec, &format!("{path}/{i}"))?;
            }
            Ok(())
        }
        (Value::Object(xs), Value::Object(ys)) => {
            cmp_ordered(xs, ys, path, |_, x, y, p| cmp_value(x, y, prec, p))
        }
        _ => Err(mismatch(path, "value", r, a)),
    }
}

/// Compares two maps whose key order matters, then each entry with `f`.
fn cmp_ordered(
    r: &Map<String, Value>,
    a: &Map<String, Value>,
    path: &str,
    f: impl Fn(&str, &Value, &Value, &str) -> Result<(), String>,
) -> Result<(), String> {
    let rk: Vec<&String> = r.keys().collect();
    let ak: Vec<&String> = a.keys().collect();
    if rk != ak {
        for k in &rk {
            if !a.contains_key(k.as_str()) {
                return Err(format!("at {path}: missing key {k:?}"));
            }
        }
        for k in &ak {
            if !r.contains_key(k.as_str()) {
                return Err(format!("at {path}: unexpected key {k:?}"));
            }
        }
        return Err(format!("at {path}: key order: expected {rk:?}, got {ak:?}"));
    }
    for (k, x) in r {
        let y = &a[k.as_str()];
        f(
            k,
            x,
            y,
            &format!("{path}/{}", k.replace('~', "~0").replace('/', "~1")),
        )?;
    }
    Ok(())
}

fn is_unsupported(dtype: &Value) -> bool {
    dtype
        .as_str()
        .is_some_and(|s| s.starts_with("unsupported:"))
}

/// Compares a node (group / dataset / datatype / link). Extra keys in `a` are allowed.
fn cmp_node(r: &Value, a: &Value, path: &str) -> Result<(), String> {
    let (Value::Object(rm), Value::Object(am)) = (r, a) else {
        return Err(mismatch(path, "node", r, a));
    };
    let dtype = rm.get("dtype");
    for (k, rv) in rm {
        let p = format!("{path}/{k}");
        let Some(av) = am.get(k) else {
            return Err(format!("at {path}: node lacks key {k:?}"));
        };
        match k.as_str() {
            "attrs" => {
                let (Value::Object(ra), Value::Object(aa)) = (rv, av) else {
                    return Err(mismatch(&p, "attrs", rv, av));
                };
                cmp_ordered(ra, aa, &p, |_, x, y, pp| cmp_value(x, y, Prec::Unknown, pp))?;
            }
            "members" => {
                let (Value::Object(ra), Value::Object(aa)) = (rv, av) else {
                    return Err(mismatch(&p, "members", rv, av));
                };
                cmp_ordered(ra, aa, &p, |_, x, y, pp| cmp_node(x, y, pp))?;
            }
            "dtype" => {
                // `unsupported:<what>`: the <what> is free-form
                if !(rv == av || is_unsupported(rv) && is_unsupported(av)) {
                    return Err(mismatch(&p, "dtype", rv, av));
                }
            }
            "data" => {
                if dtype.is_some_and(is_unsupported) {
                    if !av.is_null() {
                        return Err(mismatch(&p, "data of an unsupported type", rv, av));
                    }
                } else {
                    let prec = dtype.and_then(Value::as_str).map_or(Prec::F8, prec_of);
                    cmp_value(rv, av, prec, &p)?;
                }
            }
            _ => cmp_value(rv, av, Prec::F8, &p)?,
        }
    }
    Ok(())
}

/// Removes `data` from every dataset node (the reference of `--no-data`).
fn strip_data(v: &mut Value) {
    if let Value::Object(m) = v {
        if m.get("kind").and_then(Value::as_str) == Some("dataset") {
            m.shift_remove("data");
        }
        if let Some(Value::Object(members)) = m.get_mut("members") {
            for child in members.values_mut() {
                strip_data(child);
            }
        }
    }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON in {}: {e}", path.display()))
}

/// Dumps `file` and compares with `reference`; Err describes the first difference.
fn check_dump(file: &Path, extra: &[&str], reference: &Value) -> Result<(), String> {
    let out = dump(file, extra, DUMP_TIMEOUT);
    if out.timed_out || out.code != Some(0) {
        return Err(out.describe());
    }
    let actual: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "stdout is not one JSON document ({e}); {} bytes, stderr: {}",
            out.stdout.len(),
            out.stderr.lines().next().unwrap_or("")
        )
    })?;
    cmp_node(reference, &actual, "")
}

// --------------------------------------------------------------------------- tests

#[test]
fn dump_matches_reference_for_every_fixture() {
    let all = fixtures();
    assert!(
        !all.is_empty(),
        "no fixtures in {}: run `python3 testdata/generate.py`",
        testdata().display()
    );
    let mut failed = Vec::new();
    for (file, json) in &all {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        match check_dump(file, &[], &read_json(json)) {
            Ok(()) => eprintln!("ok   {name}"),
            Err(e) => {
                eprintln!("FAIL {name}: {e}");
                failed.push(name.to_owned());
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} fixtures differ from the h5py reference: {failed:?}",
        failed.len(),
        all.len()
    );
}

#[test]
fn dump_no_data_omits_data() {
    let file = testdata().join("everything_latest.h5");
    let mut reference = read_json(&testdata().join("everything_latest.h5.json"));
    strip_data(&mut reference);
    if let Err(e) = check_dump(&file, &["--no-data"], &reference) {
        panic!("dump --no-data everything_latest.h5: {e}");
    }
    let out = dump(&file, &["--no-data"], DUMP_TIMEOUT);
    let actual: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut stack = vec![(String::new(), &actual)];
    while let Some((path, node)) = stack.pop() {
        if node.get("kind").and_then(Value::as_str) == Some("dataset") {
            assert!(
                node.get("data").is_none(),
                "{path} still has data with --no-data"
            );
        }
        if let Some(Value::Object(members)) = node.get("members") {
            for (k, v) in members {
                stack.push((format!("{path}/{k}"), v));
            }
        }
    }
}

#[test]
fn external_files_outside_the_file_directory_are_refused() {
    // testdata/hostile/external.h5 (testdata/generate_formats.py) names, per dataset, an
    // absolute path, a `..` escape, a file of the parent folder, and a missing file.
    let file = testdata().join("hostile").join("external.h5");
    let file = file.to_str().expect("utf-8 path");
    for (path, want) in [
        ("/passwd", "\"/etc/passwd\""),
        ("/dotdot", "../etc/passwd\""),
        ("/parent", "\"../external_a.bin\""),
        ("/missing", "\"external_missing.bin\""),
    ] {
        let out = run(&["dump", "--json", file, path], DUMP_TIMEOUT);
        if let Err(e) = clean_failure(&out) {
            panic!("dump {path}: {e}");
        }
        assert!(
            out.stderr.contains(path) && out.stderr.contains(want),
            "{path}: the error must name the dataset and the file {want}: {}",
            out.stderr
        );
        if path != "/missing" {
            assert!(out.stderr.contains("outside the allowed directories"));
        }
        assert!(out.stdout.is_empty(), "{path}: no data may be printed");
    }
}

#[test]
fn virtual_sources_outside_the_file_directory_are_refused() {
    // testdata/hostile/vds.h5 (testdata/generate_formats.py): virtual datasets whose source
    // files are a file of the parent folder, an absolute path and a `..` escape.
    let file = testdata().join("hostile").join("vds.h5");
    let file = file.to_str().expect("utf-8 path");
    for (path, want) in [
        ("/parent", "\"../vds_src_a.h5\""),
        ("/absolute", "\"/etc/hostname\""),
        ("/dotdot", "../etc/hostname\""),
    ] {
        let out = run(&["dump", "--json", file, path], DUMP_TIMEOUT);
        if let Err(e) = clean_failure(&out) {
            panic!("dump {path}: {e}");
        }
        assert!(
            out.stderr.contains(path)
                && out.stderr.contains(want)
                && out.stderr.contains("outside the allowed directories"),
            "{path}: the error must name the dataset and the source {want}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{path}: no data may be printed");
    }
}

#[test]
fn printf_virtual_sources_not_allowed_are_listed_but_not_read() {
    // testdata/hostile/vds_printf.h5 (testdata/generate_formats.py): unlimited `%b`
    // mappings whose sources are in the parent folder or at an absolute path. Their extent
    // cannot be computed: `ls` lists them with the stored extent and a note naming the
    // source on their line, `manifest` skips them, reading them is an error naming the source.
    let file = testdata().join("hostile").join("vds_printf.h5");
    let file = file.to_str().expect("utf-8 path");
    let sources = [
        ("/parent", "\"../vds_unlim_p0.h5\""),
        ("/absolute", "\"/etc/host0name\""),
    ];
    let ls = run(&["ls", "-r", file], DUMP_TIMEOUT);
    assert_eq!(ls.code, Some(0), "ls: {}", ls.describe());
    let text = String::from_utf8_lossy(&ls.stdout);
    let lines: Vec<&str> = text.lines().collect();
    for (path, source) in sources {
        let at = lines
            .iter()
            .position(|l| l.starts_with(&format!("{path} ")))
            .unwrap_or_else(|| panic!("{path} not listed: {text}"));
        // One line per object, as the contract says: the note is on the dataset's line.
        let note = lines[at];
        assert!(note.contains("Dataset {"), "{note}");
        assert!(
            note.contains("not resolved")
                && note.contains(source)
                && note.contains("outside the allowed directories"),
            "{path}: {note}"
        );
        let out = run(&["dump", "--json", file, path], DUMP_TIMEOUT);
        if let Err(e) = clean_failure(&out) {
            panic!("dump {path}: {e}");
        }
        assert!(out.stderr.contains(source), "{path}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{path}: no data may be printed");
    }
    let m = run(&["manifest", file], DUMP_TIMEOUT);
    assert_eq!(m.code, Some(0), "manifest: {}", m.describe());
    let refs: serde_json::Value = serde_json::from_slice(&m.stdout).expect("manifest JSON");
    let attrs: serde_json::Value =
        serde_json::from_str(refs["refs"][".zattrs"].as_str().expect(".zattrs")).expect("JSON");
    assert_eq!(
        attrs["h5sparse:skipped"],
        serde_json::json!(["absolute", "parent"])
    );
}

/// A failure is clean: exit 1, exactly one stderr line, starting with `error:`.
fn clean_failure(out: &Outcome) -> Result<(), String> {
    if out.timed_out {
        return Err("hang (timed out)".into());
    }
    if out.code != Some(1) {
        return Err(format!("wanted exit 1, {}", out.describe()));
    }
    let lines: Vec<&str> = out.stderr.lines().collect();
    if lines.len() != 1 || !lines[0].starts_with("error:") {
        return Err(format!(
            "stderr must be one `error:` line, got {:?}",
            out.stderr
        ));
    }
    Ok(())
}

/// The superblock's length for the version byte at offset 8 (8-byte offsets/lengths).
fn superblock_len(bytes: &[u8]) -> usize {
    match bytes.get(8) {
        Some(0) => 96,
        Some(1) => 100,
        _ => 48,
    }
}

/// Offsets of every `OHDR` signature (version 2 object headers).
fn ohdr_offsets(bytes: &[u8]) -> Vec<usize> {
    bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"OHDR")
        .map(|(i, _)| i)
        .collect()
}

/// Object header addresses of `/` and `/data` according to libhdf5 (None without h5py).
fn v1_header_addrs(file: &Path) -> Option<Vec<usize>> {
    let script = "import sys, h5py\nf = h5py.File(sys.argv[1], 'r')\n\
                  print(h5py.h5o.get_info(f.id).addr, h5py.h5o.get_info(f.id, b'data').addr)";
    let out = Command::new("python3")
        .args(["-c", script, file.to_str()?])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("h5py unavailable: v1 object header corruption skipped");
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|s| s.parse().ok())
        .collect()
}

#[test]
fn corrupt_files_fail_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for name in [
        "everything_earliest.h5",
        "everything_latest.h5",
        "notebook.h5",
    ] {
        let path = testdata().join(name);
        let orig = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let n = orig.len();
        for cut in [0, 4, 8, 20, 47, 95, 200, 1000, n / 3, n / 2, n - 1] {
            if cut < n {
                cases.push((format!("{name} truncated at {cut}"), orig[..cut].to_vec()));
            }
        }
        let sb = superblock_len(&orig);
        let mut zeroed = orig.clone();
        zeroed[sb..].fill(0);
        cases.push((format!("{name} zeroed after the superblock"), zeroed));
        let mut bad_sig = orig.clone();
        bad_sig[1] ^= 0x20;
        cases.push((format!("{name} bad superblock signature"), bad_sig));
        let mut bad_ver = orig.clone();
        bad_ver[8] = 9;
        cases.push((format!("{name} bad superblock version"), bad_ver));
        // version 2 object headers: signature and checksummed bytes
        for (i, off) in ohdr_offsets(&orig).into_iter().take(4).enumerate() {
            let mut sig = orig.clone();
            sig[off + 3] = b'X';
            cases.push((format!("{name} OHDR#{i} bad signature"), sig));
            let mut ver = orig.clone();
            ver[off + 4] = 7;
            cases.push((format!("{name} OHDR#{i} bad version"), ver));
            if off + 12 < n {
                let mut flip = orig.clone();
                flip[off + 10] ^= 0x5a;
                flip[off + 11] ^= 0xa5;
                cases.push((format!("{name} OHDR#{i} flipped bytes (checksum)"), flip));
            }
        }
        // version 1 object headers (no signature): bad version byte, garbage message type
        if orig.get(8) == Some(&0) {
            for (i, addr) in v1_header_addrs(&path)
                .unwrap_or_default()
                .into_iter()
                .enumerate()
            {
                if addr + 20 < n {
                    let mut ver = orig.clone();
                    ver[addr] = 7;
                    cases.push((format!("{name} v1 header #{i} bad version"), ver));
                }
            }
        }
    }
    let mut failed = Vec::new();
    for (i, (what, bytes)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("corrupt{i}.h5"));
        std::fs::write(&path, bytes).expect("write corrupt file");
        match clean_failure(&dump(&path, &[], CORRUPT_TIMEOUT)) {
            Ok(()) => eprintln!("ok   {what}"),
            Err(e) => {
                eprintln!("FAIL {what}: {e}");
                failed.push(what.clone());
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} corrupt files not rejected cleanly: {failed:?}",
        failed.len(),
        cases.len()
    );
}

#[test]
fn flipped_bytes_never_panic_or_hang() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failed = Vec::new();
    let mut runs = 0;
    for name in ["notebook.h5", "everything_latest.h5", "chunked_earliest.h5"] {
        let orig = std::fs::read(testdata().join(name)).expect("fixture");
        let n = orig.len();
        let path = dir.path().join(name);
        for k in 0..40 {
            // deterministic spread of positions, denser near the start (metadata)
            let pos = if k < 20 {
                k * 37 % n.min(2048)
            } else {
                (k * 7919 * 131) % n
            };
            let mut bytes = orig.clone();
            bytes[pos] ^= 0xff;
            std::fs::write(&path, &bytes).expect("write");
            runs += 1;
            let out = dump(&path, &[], CORRUPT_TIMEOUT);
            let ok = match out.code {
                Some(0) => serde_json::from_slice::<Value>(&out.stdout).is_ok(),
                Some(1) => clean_failure(&out).is_ok(),
                _ => false,
            };
            if !ok {
                eprintln!("FAIL {name} byte {pos} flipped: {}", out.describe());
                failed.push(format!("{name}@{pos}"));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {runs} flipped-byte runs panicked, hung or failed uncleanly: {failed:?}",
        failed.len()
    );
}

#[test]
fn f16_rounding_helper() {
    // self-check of the comparison helper against known binary16 values
    assert_eq!(f16_bits(0.0), 0);
    assert_eq!(f16_bits(-0.0), 0x8000);
    assert_eq!(f16_bits(1.0), 0x3c00);
    assert_eq!(f16_bits(0.1), 0x2e66);
    assert_eq!(f16_bits(65504.0), 0x7bff);
    assert_eq!(f16_bits(65520.0), 0x7c00);
    assert_eq!(f16_bits(f64::NEG_INFINITY), 0xfc00);
    assert_eq!(f16_bits(2f64.powi(-24)), 1);
    assert_eq!(f16_bits(2f64.powi(-25)), 0);
    assert_eq!(f16_bits(6.097555160522461e-5), 0x03ff);
    assert_eq!(f16_value(0x2e66), 0.0999755859375);
    assert!(floats_match(0.0999755859375, 0.1, Prec::F2));
    assert!(floats_match(0.10000000149011612, 0.1, Prec::F4));
    assert!(!floats_match(0.1, 0.10000000149011612, Prec::F8));
    assert!(!floats_match(0.0, -0.0, Prec::F4));
    assert_eq!(prec_of("array:f4[2,3]"), Prec::F4);
    assert_eq!(prec_of("vlen:f2"), Prec::F2);
}
