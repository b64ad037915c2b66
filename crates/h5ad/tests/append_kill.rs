//! Crash safety of `h5ad::append_in_place`: a child process appends `as.h5ad` to a copy
//! of `at.h5ad` (written by anndata) and is stopped (`abort`: no unwinding, no cleanup —
//! what `SIGKILL` leaves) just before its N-th write system call of the editor, for every N
//! until the append completes. Every file left behind must open in h5py with each object
//! holding its old or its new content, and read in anndata as the old file, as
//! `anndata.concat([old, src])`, or — inside the window the `append` module documents —
//! raise `KeyError` because an `obs` member is missing. Skipped without python3/anndata.

use std::path::{Path, PathBuf};
use std::process::Command;

use h5ad::ConcatOptions;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../h5sparse-cli/tests/concat_check.py")
}

fn py(args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg(script())
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "concat_check.py {:?} failed:\n{}{}",
        args.first(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The child: append `$APPEND_KILL_SRC` to `$APPEND_KILL_FILE`, aborting before the editor's
/// write number `$APPEND_KILL_N`.
#[test]
fn kill_child() {
    let (Ok(file), Ok(src), Ok(n)) = (
        std::env::var("APPEND_KILL_FILE"),
        std::env::var("APPEND_KILL_SRC"),
        std::env::var("APPEND_KILL_N"),
    ) else {
        return;
    };
    // No fsync: a killed process leaves its writes in the page cache all the same.
    h5format::write::set_default_durability(h5format::write::Durability::PageCache);
    h5format::edit::abort_after_writes(n.parse().expect("N"));
    let stats = h5ad::append_in_place(Path::new(&file), Path::new(&src), &ConcatOptions::default())
        .expect("append");
    assert_eq!(stats.rewritten, None, "the append was not in place");
}

#[test]
fn killed_append_leaves_old_new_or_the_documented_window() {
    let ok = Command::new("python3")
        .args(["-c", "import anndata, h5py, scipy, pandas, natsort"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipping: python3 with anndata is not available");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    py(&["gen-append", d.to_str().expect("utf-8")]);
    let (old, src) = (d.join("at.h5ad"), d.join("as.h5ad"));
    let mut snaps = Vec::new();
    let mut finished = None;
    for n in 0..2000 {
        let snap = d.join(format!("k{n}.h5ad"));
        std::fs::copy(&old, &snap).expect("copy");
        let out = Command::new(std::env::current_exe().expect("test binary"))
            .args(["--exact", "kill_child", "--nocapture", "--test-threads=1"])
            .env("APPEND_KILL_FILE", &snap)
            .env("APPEND_KILL_SRC", &src)
            .env("APPEND_KILL_N", n.to_string())
            .output()
            .expect("child runs");
        if out.status.success() {
            finished = Some(snap);
            break;
        }
        snaps.push(snap.to_str().expect("utf-8").to_string());
    }
    let new = finished.expect("the append completes within 2000 writes");
    let new = new.to_str().expect("utf-8");
    assert!(
        snaps.len() >= 50,
        "only {} kill points (writes of the append)",
        snaps.len()
    );
    let old = old.to_str().expect("utf-8");
    // The completed append equals anndata.concat([old, src]).
    py(&["check", new, "inner", old, src.to_str().expect("utf-8")]);
    let mut args = vec!["objects", old, new];
    args.extend(snaps.iter().map(String::as_str));
    let counts = py(&args);
    let c: Vec<usize> = counts
        .split_whitespace()
        .map(|x| x.parse().expect("count"))
        .collect();
    eprintln!(
        "{} kill points: {} old, {} new, {} in the window",
        snaps.len(),
        c[0],
        c[1],
        c[2]
    );
    assert_eq!(c.iter().sum::<usize>(), snaps.len());
    assert!(c[0] > 0, "no kill left the old content");
}
