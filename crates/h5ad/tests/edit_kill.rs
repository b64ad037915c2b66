//! Crash safety of in-place element edits: a child process makes a sequence of edits with
//! [`H5adEditor`] and is stopped (`abort`: no unwinding, no cleanup — what `SIGKILL`
//! leaves) just before its N-th write system call, for every N until the sequence
//! completes. anndata must read every file left behind exactly as the state before or after
//! the edit that was running (compared with snapshots of an uninterrupted run), and so must
//! our reader.

mod edit_ops;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use edit_ops::{apply, have_anndata, make_base};
use h5ad::edit::H5adEditor;
use h5format::edit::abort_after_writes;
use h5format::write::Durability;

/// The edits of the child: one of each kind (replace, add, delete; columns with
/// `column-order`, categoricals, layers, obsm, uns paths that create dicts, X).
const SEQUENCE: &[&str] = &[
    "obs_replace_num",
    "obs_add_cat",
    "obs_del",
    "layer_csr",
    "obsm_df",
    "uns_nested_new",
    "layer_del",
    "x_replace",
];

fn sequence(p: &Path, mut progress: impl FnMut(usize)) {
    let mut ed = H5adEditor::open(p).unwrap();
    // A kill, unlike a power loss, does not depend on fsync: leave it out to keep this fast.
    ed.set_durability(Durability::PageCache);
    for (i, op) in SEQUENCE.iter().enumerate() {
        apply(&mut ed, op);
        progress(i + 1);
    }
}

/// The child: run the sequence on `$H5AD_KILL_FILE`, aborting before write
/// `$H5AD_KILL_N`, printing the number of finished edits as it goes.
#[test]
fn kill_child() {
    let (Ok(file), Ok(n)) = (
        std::env::var("H5AD_KILL_FILE"),
        std::env::var("H5AD_KILL_N"),
    ) else {
        return;
    };
    abort_after_writes(n.parse().unwrap());
    sequence(Path::new(&file), |i| {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "done {i}");
        let _ = out.flush();
    });
}

fn digests(files: &[PathBuf]) -> Vec<String> {
    let mut args: Vec<&OsStr> = vec!["digest".as_ref()];
    args.extend(files.iter().map(|p| p.as_os_str()));
    let out = edit_ops::check(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), files.len());
    lines
}

#[test]
fn killed_edits_leave_the_old_or_the_new_anndata() {
    if !have_anndata() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.h5ad");
    make_base(&base, false);
    let steps = SEQUENCE.len();
    // Snapshots of an uninterrupted run: state i = after i edits.
    let mut states = vec![base.clone()];
    let run = dir.path().join("run.h5ad");
    std::fs::copy(&base, &run).unwrap();
    sequence(&run, |i| {
        let snap = dir.path().join(format!("state{i}.h5ad"));
        std::fs::copy(&run, &snap).unwrap();
        states.push(snap);
    });
    // Kill at every write until the child finishes.
    let mut killed = Vec::new();
    for n in 0.. {
        let p = dir.path().join(format!("kill{n}.h5ad"));
        std::fs::copy(&base, &p).unwrap();
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "kill_child", "--nocapture", "--test-threads=1"])
            .env("H5AD_KILL_FILE", &p)
            .env("H5AD_KILL_N", n.to_string())
            .output()
            .unwrap();
        let done = String::from_utf8_lossy(&out.stdout)
            .matches("done ")
            .count();
        if out.status.success() {
            assert_eq!(done, steps);
            std::fs::remove_file(&p).unwrap();
            break;
        }
        killed.push((p, done));
        assert!(n < 10_000, "the child never finished");
    }
    let mut files = states.clone();
    files.extend(killed.iter().map(|(p, _)| p.clone()));
    let d = digests(&files);
    let (expected, got) = d.split_at(states.len());
    for (i, w) in expected.windows(2).enumerate() {
        assert_ne!(w[0], w[1], "edit {} changes what anndata reads", i + 1);
        assert!(!w[1].contains("\"error\""), "state {}: {}", i + 1, w[1]);
    }
    for ((p, done), digest) in killed.iter().zip(got) {
        assert!(
            *digest == expected[*done] || expected.get(done + 1) == Some(digest),
            "{}: killed during edit {} reads as neither state {done} nor {}: {digest}",
            p.display(),
            done + 1,
            done + 1
        );
        h5ad::AnnData::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    }
    // Every edit was interrupted at each of its writes.
    for step in 0..steps {
        assert!(killed.iter().any(|(_, done)| *done == step));
    }
    eprintln!("{} kill points checked", killed.len());
    assert!(killed.len() >= 50, "only {} kill points", killed.len());
}
