//! Remote reads of a file with many small chunks (a three-level v1 B-tree per dataset, as
//! h5py writes it): scattered rows read over HTTP equal the local output, and the hints, bursts
//! and whole-index loads keep the request count far below one per chunk; a small row slice
//! takes few round trips that wait for one another. The file is written by h5py; the server
//! is a minimal HTTP/1.1 range server in this test (loopback only) that counts requests and
//! can answer each after a delay, noting when it was asked and answered.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the server saw: requests counted, and (asked, answered) times of each.
#[derive(Default)]
struct Log {
    count: AtomicU64,
    times: Mutex<Vec<(Instant, Instant)>>,
}

impl Log {
    /// The longest chain of requests each asked after the previous one was answered: the
    /// round trips that had to wait for one another.
    fn dependent_round_trips(&self) -> usize {
        let mut t = self.times.lock().unwrap().clone();
        t.sort();
        let mut depth = vec![0usize; t.len()];
        for i in 0..t.len() {
            depth[i] = 1
                + (0..i)
                    .filter(|&j| t[j].1 <= t[i].0)
                    .map(|j| depth[j])
                    .max()
                    .unwrap_or(0);
        }
        depth.into_iter().max().unwrap_or(0)
    }

    fn reset(&self) {
        self.count.store(0, Ordering::Relaxed);
        self.times.lock().unwrap().clear();
    }
}

/// Serve `bytes` at any path with range support, answering each request `delay` after it
/// arrives; returns the base URL and the log.
fn serve(bytes: Arc<Vec<u8>>, delay: Duration) -> (String, Arc<Log>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Log::default());
    let l = log.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (bytes, l) = (bytes.clone(), l.clone());
            std::thread::spawn(move || {
                let _ = handle(conn, &bytes, &l, delay);
            });
        }
    });
    (url, log)
}

fn handle(conn: TcpStream, bytes: &[u8], log: &Log, delay: Duration) -> std::io::Result<()> {
    let mut r = BufReader::new(conn.try_clone()?);
    let mut w = conn;
    loop {
        let mut range = None;
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        loop {
            let mut h = String::new();
            r.read_line(&mut h)?;
            if h.trim().is_empty() {
                break;
            }
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("range: bytes=") {
                let (a, b) = v.trim().split_once('-').unwrap();
                range = Some((a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap()));
            }
        }
        let asked = Instant::now();
        std::thread::sleep(delay);
        let (a, b) = range.expect("range request");
        let b = b.min(bytes.len() - 1);
        let body = &bytes[a..=b];
        write!(
            w,
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {a}-{b}/{}\r\n\r\n",
            body.len(),
            bytes.len()
        )?;
        w.write_all(body)?;
        w.flush()?;
        if let Ok(mut t) = log.times.lock() {
            t.push((asked, Instant::now()));
        }
        log.count.fetch_add(1, Ordering::Relaxed);
    }
}

fn h5sparse(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_h5sparse"))
        .args(args)
        .output()
        .unwrap()
}

/// A 20,000 x 400 CSR (about 5 MB, beyond the 1 MiB head read) (anndata layout) with 64-element chunks, written by h5py.
fn write_file(path: &Path) -> bool {
    let script = r#"
import sys, h5py, numpy as np
rng = np.random.default_rng(7)
n, m = 20000, 400
counts = rng.integers(0, 40, n)
indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
indices = np.concatenate([np.sort(rng.choice(m, c, replace=False)) for c in counts]).astype(np.int32)
data = rng.random(indptr[-1]).astype(np.float32)
with h5py.File(sys.argv[1], "w") as f:
    g = f.create_group("X")
    g.attrs["encoding-type"] = "csr_matrix"
    g.attrs["encoding-version"] = "0.1.0"
    g.attrs["shape"] = (n, m)
    for k, v in (("data", data), ("indices", indices), ("indptr", indptr)):
        g.create_dataset(k, data=v, chunks=(64,), maxshape=(None,))
"#;
    let ok = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skip: python3 with h5py missing (.ci/run installs it)");
    }
    ok
}

#[test]
fn scattered_rows_over_http_equal_local_in_few_requests() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many_chunks.h5ad");
    if !write_file(&file) {
        return;
    }
    let (base, log) = serve(Arc::new(std::fs::read(&file).unwrap()), Duration::ZERO);
    let url = format!("{base}/many_chunks.h5ad");
    let rows: Vec<String> = (0..20000).step_by(7).map(|r| r.to_string()).collect();
    let list = dir.path().join("rows.txt");
    std::fs::write(&list, rows.join("\n")).unwrap();
    let sel = format!("@{}", list.display());
    let local = file.to_string_lossy().into_owned();

    let want = h5sparse(&["slice", &local, "/X", "--rows", &sel]);
    assert!(want.status.success());
    log.reset();
    let got = h5sparse(&["slice", &url, "/X", "--rows", &sel]);
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert!(
        got.stdout == want.stdout,
        "rows over HTTP differ from local"
    );
    // About 12,000 chunks of data and indices behind three-level B-trees: one request per
    // chunk or per node would be thousands (139 when this test was written).
    let n = log.count.load(Ordering::Relaxed);
    eprintln!("{n} requests for {} rows", rows.len());
    assert!(n < 400, "{n} requests");

    // Every dataset read whole (the level-by-level B-tree walks) equals local too.
    let want = h5sparse(&["dump", &local]);
    let got = h5sparse(&["dump", &url]);
    assert!(got.status.success() && got.stdout == want.stdout);
}

#[test]
fn a_small_row_slice_takes_few_dependent_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many_chunks.h5ad");
    if !write_file(&file) {
        return;
    }
    // 80 ms per request: the requests of one burst are all asked long before the first
    // is answered, so chains of waiting requests stand out.
    let (base, log) = serve(
        Arc::new(std::fs::read(&file).unwrap()),
        Duration::from_millis(80),
    );
    let url = format!("{base}/many_chunks.h5ad");
    let local = file.to_string_lossy().into_owned();
    let want = h5sparse(&["slice", &local, "/X", "--rows", "12000:12004"]);
    let got = h5sparse(&["slice", &url, "/X", "--rows", "12000:12004"]);
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert!(
        got.stdout == want.stdout,
        "rows over HTTP differ from local"
    );
    // The chain: the file head (superblock, groups, the data header and its index root);
    // the indices and indptr headers together (announced as X's members; their index roots
    // sit beside them); indptr's leaf (its chunk beside it) together with the data and
    // indices trees' internal nodes (announced when the matrix was opened); the data and
    // indices leaves (their chunks beside them). Opening the members one after the other
    // and descending the trees only when read took 5 when this test was written.
    let trips = log.dependent_round_trips();
    let n = log.count.load(Ordering::Relaxed);
    eprintln!("{trips} dependent round trips, {n} requests");
    assert!(trips <= 4, "{trips} dependent round trips ({n} requests)");
}
