//! Remote files against real loopback servers started by `.ci/run`
//! (`.ci/remote_servers.sh`): nginx with range requests (`H5SPARSE_TEST_HTTP`), moto's S3
//! API (`H5SPARSE_TEST_S3`, bucket `testdata`), a proxy that stalls or resets
//! (`H5SPARSE_TEST_PROXY`) and nginx over TLS with a certificate made at start-up
//! (`H5SPARSE_TEST_HTTPS`, its CA in `H5SPARSE_TEST_HTTPS_CA`). Without them each test prints
//! a skip message.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn env(name: &str) -> Option<String> {
    let v = std::env::var(name).ok().filter(|v| !v.is_empty());
    if v.is_none() {
        eprintln!("skip: {name} unset (the loopback servers are started by .ci/run)");
    }
    v
}

fn run(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_h5sparse"));
    c.args(args);
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().expect("run h5sparse")
}

fn fixtures() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .expect("testdata")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".h5") || n.ends_with(".h5ad"))
        // Its raw data lives in files beside it: a remote file has no directory to read
        // them from, so it is an error there by design (tested below).
        .filter(|n| n != "external.h5")
        // Likewise the virtual datasets' sources in files beside them (vds_unlim.h5 lists
        // with stored extents over HTTP: tested on its own below).
        .filter(|n| n != "vds.h5" && n != "vds_latest.h5" && n != "vds_unlim.h5")
        .collect();
    v.sort();
    assert!(v.len() > 5, "fixtures missing");
    v
}

fn local(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// `dump` and `ls -r -v` of every fixture over `url_of(name)` equal the local output
/// (stdout, stderr with the path replaced, and exit status).
fn same_as_local(url_of: impl Fn(&str) -> String, envs: &[(&str, &str)]) {
    for name in fixtures() {
        let url = url_of(&name);
        let path = local(&name);
        for cmd in [vec!["dump"], vec!["ls", "-r", "-v"]] {
            let mut a = cmd.clone();
            a.push(&path);
            let want = run(&a, &[]);
            let mut b = cmd.clone();
            b.push(&url);
            let got = run(&b, envs);
            assert_eq!(
                String::from_utf8_lossy(&got.stderr).replace(&url, "FILE"),
                String::from_utf8_lossy(&want.stderr).replace(&path, "FILE"),
                "{cmd:?} {url}"
            );
            assert!(got.stdout == want.stdout, "{cmd:?} {url}: stdout differs");
            assert_eq!(got.status.code(), want.status.code(), "{cmd:?} {url}");
        }
    }
}

#[test]
fn every_fixture_over_http_equals_local() {
    let Some(base) = env("H5SPARSE_TEST_HTTP") else {
        return;
    };
    same_as_local(|n| format!("{base}/{n}"), &[]);
}

#[test]
fn every_fixture_over_s3_equals_local() {
    let Some(endpoint) = env("H5SPARSE_TEST_S3") else {
        return;
    };
    let signed = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    same_as_local(|n| format!("s3://testdata/{n}"), &signed);
}

fn user_error(args: &[&str], envs: &[(&str, &str)], needle: &str) {
    let t = Instant::now();
    let out = run(args, envs);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(
        err.starts_with("error: ") && err.contains(needle),
        "{args:?}: {err}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "{args:?} took {:?}",
        t.elapsed()
    );
}

/// `https://`: built with the `tls` feature, every fixture equals local when the test CA is
/// trusted through `H5SPARSE_CA_FILE`, and is an error naming the certificate when it is
/// not (verification is never skipped); built without it, the URL is refused with an error
/// naming the feature.
#[test]
fn https_with_the_tls_feature_or_a_clear_error() {
    let Some(base) = env("H5SPARSE_TEST_HTTPS") else {
        return;
    };
    let url = format!("{base}/adata_csr.h5ad");
    if !cfg!(feature = "tls") {
        user_error(&["ls", &url], &[], "`tls` feature");
        return;
    }
    let Some(ca) = env("H5SPARSE_TEST_HTTPS_CA") else {
        return;
    };
    same_as_local(|n| format!("{base}/{n}"), &[("H5SPARSE_CA_FILE", &ca)]);
    // The system's certificates only (none vouches for the test CA).
    user_error(&["ls", &url], &[], "certificate");
    user_error(
        &["ls", &url],
        &[("H5SPARSE_CA_FILE", "/nonexistent/ca.pem")],
        "H5SPARSE_CA_FILE",
    );
}

#[test]
fn missing_object_and_no_range_support_are_user_errors() {
    let Some(base) = env("H5SPARSE_TEST_HTTP") else {
        return;
    };
    user_error(&["ls", &format!("{base}/missing.h5")], &[], "HTTP 404");
    // External storage of a remote file: no directory to resolve it in, an error (not zeros).
    user_error(
        &["dump", &format!("{base}/external.h5")],
        &[],
        "the file has no directory",
    );
    user_error(
        &["ls", &format!("{base}/norange/groups_latest.h5")],
        &[],
        "does not answer range requests",
    );
}

/// vds_unlim.h5 over HTTP: the sources of its unlimited / `%b` mappings (files beside it)
/// cannot be opened from a remote file, so `ls` lists every object the local listing has,
/// one line each, those datasets with their stored extent and a note, and reading one is an error naming
/// the source (never fill values).
#[test]
fn unresolved_virtual_datasets_of_a_remote_file_are_listed_not_read() {
    let Some(base) = env("H5SPARSE_TEST_HTTP") else {
        return;
    };
    let url = format!("{base}/vds_unlim.h5");
    let listing = |file: &str| {
        let out = run(&["ls", "-r", file], &[]);
        assert!(
            out.status.success(),
            "ls {file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let (remote, here) = (listing(&url), listing(&local("vds_unlim.h5")));
    let paths = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with(' '))
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect()
    };
    assert_eq!(paths(&remote), paths(&here));
    assert!(!here.contains("not resolved"), "{here}");
    let noted: Vec<&str> = remote
        .lines()
        .filter(|l| l.contains("virtual sources not resolved"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(!noted.is_empty(), "{remote}");
    for path in noted {
        user_error(&["dump", &url, path], &[], "virtual dataset source");
    }
}

#[test]
fn stalled_or_reset_connections_fail_or_retry_never_hang() {
    let Some(proxy) = env("H5SPARSE_TEST_PROXY") else {
        return;
    };
    let fast = [("H5SPARSE_HTTP_TIMEOUT", "0.5")];
    user_error(
        &["ls", &format!("{proxy}/stall/groups_latest.h5")],
        &fast,
        "timed out",
    );
    user_error(
        &["ls", &format!("{proxy}/reset/groups_latest.h5")],
        &fast,
        "closed the connection",
    );
    // Every other connection is reset: the retries get through.
    let want = run(&["dump", &local("groups_latest.h5")], &[]);
    let got = run(&["dump", &format!("{proxy}/flaky/groups_latest.h5")], &fast);
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert!(got.stdout == want.stdout);
}
