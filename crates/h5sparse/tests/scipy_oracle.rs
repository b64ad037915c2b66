//! scipy as the oracle: a random CSR matrix (explicit zeros, empty rows) is built in Python,
//! selections are applied with scipy (`m[rows][:, cols]`), and our results through the
//! in-memory backend must be the same sets of (row, col, value) with the same shapes.
//! Skipped (with a message) when python3 with scipy is not available.

mod common;
use common::*;
use h5sparse::{Format, ReadOptions, Selection, SparseDataset};
use std::process::Command;

const SCRIPT: &str = r#"
import sys, numpy as np, scipy.sparse as sp
rng = np.random.default_rng(12345)
m = sp.random(300, 70, density=0.06, format='csr', random_state=7)
m.data = rng.standard_normal(m.nnz)
m.data[::9] = 0.0          # explicit zeros
m.indices = m.indices.astype(np.int32)
def sel(t, n):
    if t.startswith('mask:'):
        return np.array([c == '1' for c in t[5:]])
    if ':' in t:
        return slice(*[int(p) if p else None for p in t.split(':')])
    return np.array([int(x) for x in t.split(',')])
cases = [l.split() for l in sys.stdin.read().splitlines() if l.strip()]
out = []
out.append('shape %d %d' % m.shape)
out.append('indptr ' + ' '.join(map(str, m.indptr)))
out.append('indices ' + ' '.join(map(str, m.indices)))
out.append('data ' + ' '.join(map(repr, m.data.tolist())))
for rt, ct in cases:
    r = m[sel(rt, 300)][:, sel(ct, 70)].tocoo()
    out.append('case %s %s %d %d %d' % (rt, ct, r.shape[0], r.shape[1], r.nnz))
    for i, j, v in zip(r.row, r.col, r.data.tolist()):
        out.append('%d %d %r' % (i, j, v))
print('\n'.join(out))
"#;

fn nums<T: std::str::FromStr>(line: &str) -> Vec<T>
where
    T::Err: std::fmt::Debug,
{
    line.split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect()
}

#[test]
fn scipy_agrees() {
    let ok = Command::new("python3")
        .args(["-c", "import scipy, numpy"])
        .output()
        .map(|o| o.status.success());
    if !matches!(ok, Ok(true)) {
        eprintln!("skipping scipy_agrees: python3 with scipy is not available");
        return;
    }
    let mask: String = (0..300)
        .map(|i| if i % 3 == 1 || i % 11 == 0 { '1' } else { '0' })
        .collect();
    let cmask: String = (0..70)
        .map(|i| if i % 4 == 0 { '1' } else { '0' })
        .collect();
    let cases = vec![
        (":".to_string(), ":".to_string()),
        ("5:250:3".into(), ":".into()),
        ("::-1".into(), "::-2".into()),
        ("-50:".into(), "10:40".into()),
        ("299,0,5,5,-1,120".into(), ":".into()),
        ("299,0,5,5,-1,120".into(), "3,3,69,0,-2".into()),
        (":".into(), "7,1,7,50".into()),
        (format!("mask:{mask}"), format!("mask:{cmask}")),
        ("250:5:-7".into(), "60:2:-1".into()),
        ("10:10".into(), ":".into()),
        ("-1000:1000".into(), "-1000:1000:5".into()),
    ];
    let input: String = cases.iter().map(|(r, c)| format!("{r} {c}\n")).collect();
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let shape: Vec<u64> = nums(lines.next().unwrap());
    let indptr: Vec<u64> = nums(lines.next().unwrap());
    let indices: Vec<u64> = nums(lines.next().unwrap());
    let data: Vec<f64> = nums(lines.next().unwrap());
    let mut entries = vec![];
    for r in 0..shape[0] as usize {
        for p in indptr[r] as usize..indptr[r + 1] as usize {
            entries.push((r as u64, indices[p], data[p]));
        }
    }
    let t = Triplets {
        shape: (shape[0], shape[1]),
        entries,
    };
    for (format, chunk) in [(Format::Csr, Some(16)), (Format::Csc, None)] {
        let g = anndata_group(&t, format, chunk);
        let ds = SparseDataset::open(&g).unwrap().with_options(ReadOptions {
            block_elems: 40,
            coalesce_gap: 2,
            parallel: true,
        });
        let mut lines = text.lines().skip(4).peekable();
        while let Some(head) = lines.next() {
            let h: Vec<&str> = head.split_whitespace().collect();
            assert_eq!(h[0], "case");
            let (nr, nc, nnz): (usize, usize, usize) = (
                h[3].parse().unwrap(),
                h[4].parse().unwrap(),
                h[5].parse().unwrap(),
            );
            let mut expect: Vec<(usize, usize, f64)> = (0..nnz)
                .map(|_| {
                    let v: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
                    (
                        v[0].parse().unwrap(),
                        v[1].parse().unwrap(),
                        v[2].parse().unwrap(),
                    )
                })
                .collect();
            expect.sort_by(|a, b| (a.0, a.1).partial_cmp(&(b.0, b.1)).unwrap());
            let rows = Selection::parse(h[1], shape[0]).unwrap();
            let cols = Selection::parse(h[2], shape[1]).unwrap();
            let res = ds.select(&rows, &cols).unwrap();
            assert_eq!(res.shape, (nr, nc), "{head}");
            let got = result_triplets(&res);
            assert_eq!(got.len(), expect.len(), "{head} {format:?}");
            for (g, e) in got.iter().zip(&expect) {
                assert_eq!((g.0, g.1), (e.0, e.1), "{head} {format:?}");
                assert_eq!(g.2.to_bits(), e.2.to_bits(), "{head} {format:?}");
            }
        }
    }
}
