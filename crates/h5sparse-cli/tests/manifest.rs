//! `h5sparse manifest`: the kerchunk reference set of every `testdata/` fixture, opened with
//! fsspec's reference file system and Zarr (no HDF5 library), equals h5py's arrays
//! (`tests/manifest_check.py`), with chunk references to the local file and to the loopback
//! HTTP server `.ci/run` starts (`H5SPARSE_TEST_HTTP`, nginx serving `testdata/`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_h5sparse"))
        .args(args)
        .output()
        .expect("run h5sparse")
}

fn fixtures() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("testdata"))
        .expect("testdata")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".h5") || n.ends_with(".h5ad"))
        .collect();
    v.sort();
    assert!(v.len() > 5, "fixtures missing");
    v
}

fn local(name: &str) -> String {
    root()
        .join("testdata")
        .join(name)
        .canonicalize()
        .expect("fixture")
        .to_string_lossy()
        .into_owned()
}

/// Whether the oracle (h5py, zarr, fsspec) can run; prints a skip message when not.
fn oracle() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import h5py, zarr, fsspec"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skip: python3 with h5py, zarr and fsspec missing (.ci/run installs them)");
    }
    ok
}

/// Write the manifest of each fixture (`args_of(name)` gives the command's arguments) and
/// check them all against h5py in one run of the checker.
fn check_all(dir: &Path, skip: &[&str], args_of: impl Fn(&str) -> Vec<String>) {
    let mut pairs = Vec::new();
    let names: Vec<String> = fixtures()
        .into_iter()
        .filter(|n| !skip.contains(&n.as_str()))
        .collect();
    for name in &names {
        let args = args_of(name);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&a);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("one JSON document");
        assert_eq!(doc["version"], 1, "{args:?}");
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, &out.stdout).unwrap();
        pairs.push(local(name));
        pairs.push(path.to_string_lossy().into_owned());
    }
    let out = Command::new("python3")
        .arg(root().join("tests/manifest_check.py"))
        .args(&pairs)
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("skip:"), "{stdout}");
    // Every fixture got its line, and the numeric ones were compared.
    assert_eq!(stdout.matches("arrays equal to h5py").count(), names.len());
    assert!(!stdout.contains("sparse_anndata.h5: 0 arrays"), "{stdout}");
}

#[test]
fn every_fixture_local_equals_h5py() {
    if !oracle() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    check_all(dir.path(), &[], |n| vec!["manifest".into(), local(n)]);
}

#[test]
fn every_fixture_over_http_equals_h5py() {
    let Some(base) = std::env::var("H5SPARSE_TEST_HTTP")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        eprintln!("skip: H5SPARSE_TEST_HTTP unset (the loopback servers are started by .ci/run)");
        return;
    };
    if !oracle() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The file read over HTTP, chunks referenced there (URL defaults to FILE). A remote file
    // has no directory its virtual sources could be allowed from: vds_unlim.h5's datasets
    // keep their stored extent (unresolved) and are skipped as every virtual dataset is.
    check_all(dir.path(), &[], |n| {
        vec!["manifest".into(), format!("{base}/{n}")]
    });
    // A local file, chunks referenced on the server (--url).
    check_all(dir.path(), &[], |n| {
        vec![
            "manifest".into(),
            local(n),
            "--url".into(),
            format!("{base}/{n}"),
        ]
    });
}

#[test]
fn references_point_at_url_and_a_sub_path_is_its_own_root() {
    let f = local("chunked_latest.h5");
    let out = run(&["manifest", &f, "/gzip", "--url", "http://example.org/x.h5"]);
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let refs = doc["refs"].as_object().unwrap();
    let zarray: serde_json::Value =
        serde_json::from_str(refs[".zarray"].as_str().unwrap()).unwrap();
    assert_eq!(zarray["shape"], serde_json::json!([50, 40]));
    assert_eq!(zarray["chunks"], serde_json::json!([8, 8]));
    assert_eq!(zarray["filters"][0]["id"], "zlib");
    let chunk = &refs["0.0"];
    assert_eq!(chunk[0], "http://example.org/x.h5");
    assert!(chunk[1].as_u64().unwrap() > 0 && chunk[2].as_u64().unwrap() > 0);
}

#[test]
fn a_dataset_zarr_cannot_express_is_a_user_error_when_asked_for() {
    let f = local("everything_latest.h5");
    let out = run(&["manifest", &f, "/strings/vlen_ascii"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error:") && err.contains("Zarr"), "{err}");
    assert!(out.stdout.is_empty());
}
