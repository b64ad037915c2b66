//! `--no-fsync` (global flag of the writing commands): the file is still complete, renamed
//! into place, and read by h5py (libhdf5) and `h5dump` like one written with the default fsync.
//! Skipped with a message when python3 with h5py is missing.

use std::process::Command;

fn have_h5py() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import h5py, numpy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("skipping: python3 with h5py is not available");
    }
    ok
}

#[test]
fn copy_and_import_with_no_fsync_are_complete_files() {
    if !have_h5py() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.h5");
    let mtx = dir.path().join("m.mtx");
    std::fs::write(
        &mtx,
        "%%MatrixMarket matrix coordinate real general\n3 4 3\n1 1 1.5\n2 4 2\n3 2 -3\n",
    )
    .unwrap();
    let py = Command::new("python3")
        .args([
            "-c",
            "import sys, h5py, numpy as np\nwith h5py.File(sys.argv[1], 'w') as f:\n    \
             f.create_dataset('x', data=np.arange(1000.0), chunks=(100,), compression='gzip')",
        ])
        .arg(&src)
        .status()
        .unwrap();
    assert!(py.success());
    let bin = env!("CARGO_BIN_EXE_h5sparse");
    let copied = dir.path().join("copy.h5");
    let imported = dir.path().join("m.h5");
    for args in [
        vec![
            "copy".into(),
            src.clone().into_os_string(),
            copied.clone().into_os_string(),
            "--no-fsync".into(),
        ],
        vec![
            "--no-fsync".into(),
            "import-mtx".into(),
            mtx.clone().into_os_string(),
            imported.clone().into_os_string(),
            "--gzip".into(),
            "1".into(),
        ],
    ] {
        let out = Command::new(bin).args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let check = Command::new("python3")
        .args([
            "-c",
            "import sys, h5py, numpy as np\n\
             with h5py.File(sys.argv[1], 'r') as f:\n    assert np.array_equal(f['x'][:], np.arange(1000.0))\n\
             with h5py.File(sys.argv[2], 'r') as f:\n    g = f['X']\n    \
             assert list(g['indptr'][:]) == [0, 1, 2, 3] and list(g['indices'][:]) == [0, 3, 1]\n    \
             assert list(g['data'][:]) == [1.5, 2.0, -3.0] and g['indices'].shuffle",
        ])
        .arg(&copied)
        .arg(&imported)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    for f in [&copied, &imported] {
        if let Ok(out) = Command::new("h5dump").arg("-H").arg(f).output() {
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "h5dump {f:?}"
            );
        }
    }
    // No temporary file left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}
