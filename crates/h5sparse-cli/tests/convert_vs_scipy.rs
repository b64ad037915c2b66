//! `h5sparse convert` against scipy's `.tocsc()` / `.tocsr()` (the oracle reads through h5py,
//! i.e. libhdf5) on every sparse fixture group and on a generated 2000x3000 matrix with 10^5
//! entries converted with a 1 MiB budget; the output also opens in anndata with equal values.
//! Plus the peak RSS of a child `convert` under a small budget, and the user errors.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{oracle_ok, python_or_skip, python_status_ok, root, BIN};

/// For each (input, group, output) line of argv[2]: load both with h5py, compare the output's
/// arrays with scipy's conversion of the input, and read the output with anndata.
const CHECK: &str = r#"
import sys, h5py, numpy as np, scipy.sparse as sp
try:
    import anndata as ad
except Exception:
    ad = None
bad = 0
def load(path, g):
    with h5py.File(path, "r") as f:
        grp = f[g]; a = dict(grp.attrs)
        if "encoding-type" in a:
            fmt = a["encoding-type"][:3]; shape = tuple(int(x) for x in a["shape"])
        elif "h5sparse_format" in a:
            fmt = a["h5sparse_format"]; fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
            shape = tuple(int(x) for x in a["h5sparse_shape"])
        else:
            fmt, shape = "csc", tuple(int(x) for x in grp["shape"][()])
        parts = (grp["data"][()], grp["indices"][()], grp["indptr"][()])
        return fmt, (sp.csr_matrix if fmt == "csr" else sp.csc_matrix)(parts, shape=shape)
for line in open(sys.argv[1]):
    inp, g, out, og = line.split()
    fmt, m = load(inp, g)
    want = m.tocsc() if fmt == "csr" else m.tocsr()
    ofmt, got = load(out, og)
    errs = []
    if ofmt == fmt: errs.append(f"format {ofmt}")
    if got.shape != want.shape: errs.append(f"shape {got.shape} != {want.shape}")
    for n in ("indptr", "indices", "data"):
        a, b = getattr(got, n), getattr(want, n)
        if a.shape != b.shape or not np.array_equal(a, b.astype(a.dtype)):
            errs.append(f"{n} differs")
    if got.data.dtype != want.data.dtype and not (want.data.dtype == np.float16 and got.data.dtype == np.float32):
        errs.append(f"dtype {got.data.dtype} != {want.data.dtype}")
    if ad is not None and got.shape[0] * got.shape[1] > 0:
        with h5py.File(out, "r") as f:
            back = ad.io.sparse_dataset(f[og]).to_memory()
        if back.shape != m.shape or (back != m).nnz:
            errs.append("anndata reads different values")
    print(("FAIL " if errs else "ok   ") + f"{inp}:{g} -> {out}:{og} {errs}")
    bad += bool(errs)
sys.exit(1 if bad else 0)
"#;

/// Writes the 2000x3000 matrix (10^5 entries, explicit zeros) as CSR and CSC groups at PATH.
const GEN: &str = r#"
import h5py, scipy.sparse as sp, numpy as np
m = sp.random(2000, 3000, density=1e5/6e6, random_state=7, format='csr')
m.data = np.round(m.data * 1000) / 8
m.data[::97] = 0.0
with h5py.File("PATH", 'w') as f:
    for name, x in (('csr', m), ('csc', m.tocsc())):
        g = f.create_group(name)
        g.attrs['encoding-type'] = name + '_matrix'
        g.attrs['encoding-version'] = '0.1.0'
        g.attrs['shape'] = x.shape
        for n in ('data', 'indices', 'indptr'):
            g.create_dataset(n, data=getattr(x, n), chunks=(min(4096, len(getattr(x, n))),), compression='gzip', compression_opts=4)
"#;

fn sparse_groups(file: &Path) -> Vec<String> {
    let out = Command::new(BIN)
        .args(["ls", "-r"])
        .arg(file)
        .output()
        .expect("ls runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let names: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect();
    names
        .iter()
        .filter(|g| names.iter().any(|n| *n == format!("{g}/indptr")))
        .filter(|g| {
            Command::new(BIN)
                .arg("info")
                .arg(file)
                .arg(g.as_str())
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .cloned()
        .collect()
}

fn convert(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("convert")
        .args(args)
        .output()
        .expect("convert runs")
}

#[test]
fn convert_equals_scipy_on_fixtures_and_a_larger_matrix() {
    if !python_or_skip(
        "h5py, scipy, numpy",
        "skipping: python3 with h5py and scipy is not available",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // A larger matrix written by h5py: 2000x3000, 10^5 entries, gzip, small chunks, CSR and CSC.
    let big = d.join("big.h5");
    let gen = GEN.replace("PATH", &big.to_string_lossy());
    python_status_ok(&gen);
    let mut inputs: Vec<(PathBuf, String)> =
        vec![(big.clone(), "/csr".into()), (big.clone(), "/csc".into())];
    for f in [
        "sparse_anndata.h5",
        "notebook.h5",
        "tenx.h5",
        "adata_csr.h5ad",
        "adata_csc.h5ad",
    ] {
        let p = root().join("testdata").join(f);
        for g in sparse_groups(&p) {
            inputs.push((p.clone(), g));
        }
    }
    assert!(inputs.len() > 15, "found only {} groups", inputs.len());
    let mut lines = String::new();
    for (k, (inp, g)) in inputs.iter().enumerate() {
        let options: [&[&str]; 2] = [
            &["--mem-mib", "1"],
            &["--gzip", "4", "--chunk-elems", "100", "--out-group", "/T/M"],
        ];
        for (j, extra) in options.iter().enumerate() {
            let out = d.join(format!("out{k}_{j}.h5"));
            let o = Command::new(BIN)
                .arg("convert")
                .arg(inp)
                .arg(g)
                .arg(&out)
                .args(*extra)
                .output()
                .expect("run");
            assert!(
                o.status.success(),
                "convert {inp:?} {g} {extra:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let og = if j == 1 { "/T/M" } else { g.as_str() };
            lines += &format!(
                "{} {g} {} {og}\n",
                inp.to_string_lossy(),
                out.to_string_lossy()
            );
        }
    }
    // The temporary run directories are gone.
    let left: Vec<_> = std::fs::read_dir(d)
        .expect("read_dir")
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("h5sparse-convert")
        })
        .collect();
    assert!(left.is_empty(), "temporary directories left: {left:?}");
    let list = d.join("list.txt");
    std::fs::write(&list, lines).expect("write list");
    let o = Command::new("python3")
        .args(["-c", CHECK])
        .arg(&list)
        .output()
        .expect("python");
    oracle_ok(&o, "convert differs from scipy");
}

/// Peak RSS (KiB) of the child `h5sparse ARGS`, measured by `/usr/bin/time -f %M`.
pub fn peak_rss_kib(args: &[&str]) -> Option<u64> {
    if !Path::new("/usr/bin/time").exists() {
        return None;
    }
    let o = Command::new("/usr/bin/time")
        .args(["-f", "RSS=%M"])
        .arg(BIN)
        .args(args)
        .output()
        .ok()?;
    assert!(
        o.status.success(),
        "h5sparse {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    err.lines()
        .rev()
        .find_map(|l| l.strip_prefix("RSS="))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn convert_peak_rss_stays_within_the_budget() {
    use h5format::write::FileWriter;
    use h5sparse::hdf5::{H5Sink, SinkOptions};
    use h5sparse::write::{SparseWriter, WriterOptions};
    use h5sparse::{ElemType, Format, Values};
    if !Path::new("/usr/bin/time").exists() {
        eprintln!("skipping: /usr/bin/time is not available");
        return;
    }
    // 4000 x 5000 CSR, 4*10^6 entries (64 MB of indices + f64 data), gzip.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("m.h5");
    let (rows, cols, per_row) = (4000u64, 5000u64, 1000usize);
    let mut w = FileWriter::create(&path).expect("create");
    let mut opts = WriterOptions::new(Format::Csr, (rows, cols), ElemType::F64);
    opts.nnz_hint = Some(rows * per_row as u64);
    let sink = H5Sink::new(
        &mut w,
        "/X",
        SinkOptions {
            chunk_elems: 1 << 16,
            gzip: Some(1),
            ..SinkOptions::default()
        },
    )
    .expect("sink");
    let mut sw = SparseWriter::new(sink, opts).expect("writer");
    for r in 0..rows {
        let idx: Vec<u64> = (0..per_row as u64)
            .map(|k| (k * 5 + r * 7) % cols)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let vals = Values::F64(idx.iter().map(|&c| (r * cols + c) as f64).collect());
        sw.push_major(&idx, &vals).expect("push");
    }
    sw.finish().expect("finish");
    w.finish().expect("finish file");
    let p = path.to_string_lossy().to_string();
    let out = dir.path().join("t.h5").to_string_lossy().to_string();
    let base = peak_rss_kib(&["info", &p, "/X"]).expect("rss");
    let conv = peak_rss_kib(&["convert", &p, "/X", &out, "--mem-mib", "8"]).expect("rss");
    println!("peak RSS: info {base} KiB, convert --mem-mib 8: {conv} KiB");
    // Budget 8 MiB + the 16 MiB chunk cache + writer chunks; far below the 64 MB of arrays.
    assert!(
        conv < base + 40 * 1024,
        "convert peak RSS {conv} KiB vs baseline {base} KiB"
    );
    // Spot check: column 123 of the input is row 123 of the output.
    let a = Command::new(BIN)
        .args(["slice", &p, "/X", "--cols", "123"])
        .output()
        .expect("slice");
    let b = Command::new(BIN)
        .args(["slice", &out, "/X", "--cols", "123"])
        .output()
        .expect("slice");
    assert!(a.status.success() && b.status.success());
    let sorted = |o: &[u8]| {
        let mut v: Vec<String> = String::from_utf8_lossy(o)
            .lines()
            .map(String::from)
            .collect();
        v.sort();
        v
    };
    assert_eq!(sorted(&a.stdout), sorted(&b.stdout));
}

#[test]
fn convert_user_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nb = root().join("testdata/notebook.h5");
    let nb = nb.to_string_lossy().to_string();
    let out = dir.path().join("o.h5").to_string_lossy().to_string();
    for args in [
        vec![nb.as_str(), "/nope", out.as_str()],
        vec![nb.as_str(), "/X/data", out.as_str()],
        vec![nb.as_str(), "/X", nb.as_str()],
        vec![nb.as_str(), "/X", out.as_str(), "--gzip", "12"],
        vec![nb.as_str(), "/X", out.as_str(), "--mem-mib", "0"],
        vec![nb.as_str(), "/X", out.as_str(), "--chunk-elems", "0"],
        vec!["/nonexistent.h5", "/X", out.as_str()],
    ] {
        let o = convert(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.starts_with("error:") && err.lines().count() == 1,
            "{args:?}: {err}"
        );
    }
    assert!(!Path::new(&out).exists());
}
