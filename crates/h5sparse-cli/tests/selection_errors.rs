//! `slice` with a malformed selection is a user error (exit 1, one `error:` line on stderr,
//! nothing on stdout), per /work/shared/spec/cli.md; the well-formed neighbours still work.

use std::path::PathBuf;
use std::process::Command;

fn notebook() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/notebook.h5");
    p.to_str().expect("utf-8 path").to_string()
}

fn slice(axis: &str, sel: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_h5sparse"))
        .args(["slice", &notebook(), "/X", axis, sel])
        .output()
        .expect("run h5sparse")
}

#[test]
fn malformed_selections_are_user_errors() {
    for sel in [
        "1,,2",
        ",1",
        "1,",
        "1, ,2",
        "+1",
        "1:+2",
        "1 :2",
        "mask: 011",
        "mask:0 11",
        "--1",
        "9223372036854775808",
        "1.0",
        "::0",
    ] {
        for axis in ["--rows", "--cols"] {
            let out = slice(axis, sel);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{axis} {sel:?}: {stderr}");
            assert!(
                stderr.starts_with("error:") && stderr.lines().count() == 1,
                "{axis} {sel:?}: {stderr}"
            );
            assert!(out.stdout.is_empty(), "{axis} {sel:?}: printed a matrix");
        }
    }
    // The same lists without the stray characters are fine (the matrix is 4 x 3).
    for sel in ["1,2", " 1, 2 ", "1 2", "-1", "1:2:", "mask:011"] {
        let out = slice("--cols", sel);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{sel:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
