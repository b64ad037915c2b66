//! Long commands show a progress bar on stderr under a pseudo-terminal (`script` gives the
//! command a pty), and print nothing extra when stderr is a pipe. The delay before the bar
//! appears is set to 0 ms through `H5SPARSE_PROGRESS_AFTER_MS` so small inputs suffice.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const BIN: &str = env!("CARGO_BIN_EXE_h5sparse");

#[test]
fn progress_on_a_terminal_only() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipping: `script` (util-linux) is not available");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = root().join("testdata/chunked_latest.h5");
    let mtx = dir.path().join("m.mtx");
    let mut text = String::from("%%MatrixMarket matrix coordinate real general\n50 40 2000\n");
    for k in 0..2000 {
        text.push_str(&format!("{} {} {}.5\n", k % 50 + 1, k % 40 + 1, k));
    }
    std::fs::write(&mtx, text).unwrap();
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            "copy".into(),
            vec![
                "copy".into(),
                input.display().to_string(),
                dir.path().join("c.h5").display().to_string(),
                "--gzip".into(),
                "1".into(),
            ],
        ),
        (
            "import-mtx".into(),
            vec![
                "import-mtx".into(),
                mtx.display().to_string(),
                dir.path().join("m.h5").display().to_string(),
            ],
        ),
    ];
    for (name, args) in cases {
        // Under a pty: `script` runs the command with stdin/stdout/stderr on a terminal.
        let cmd = std::iter::once(BIN.to_string())
            .chain(args.iter().cloned())
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ");
        let out = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env("H5SPARSE_PROGRESS_AFTER_MS", "0")
            .output()
            .unwrap();
        assert!(out.status.success(), "{name} under a pty failed");
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(
            shown.contains('\r') || shown.contains("\u{1b}["),
            "{name}: no progress drawn on the terminal: {shown:?}"
        );
        // Piped: nothing on stderr.
        let out = Command::new(BIN)
            .args(&args)
            .env("H5SPARSE_PROGRESS_AFTER_MS", "0")
            .output()
            .unwrap();
        assert!(out.status.success(), "{name} piped failed");
        assert!(
            out.stderr.is_empty(),
            "{name}: {:?}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
