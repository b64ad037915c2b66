//! `Format::Latest` (h5py's `libver="latest"`): superblock 3, version 2 object headers, link
//! messages, layout message 4 with the chunk indexes libhdf5 1.10+ picks. Every file is read
//! back by our reader, by h5py (libhdf5 2.x) and by Debian's `h5dump` (libhdf5 1.10); the
//! index kind and parameters of each dataset are compared with those of the same dataset
//! written by h5py with `libver="latest"`.

// The included matrices load `support` too.
#![allow(clippy::duplicate_mod)]

mod support;

#[path = "write_dense.rs"]
mod matrix_dense;
/// The writer test matrices again, written with [`Format::Latest`] (they read `crate::FORMAT`).
#[path = "write_h5py.rs"]
mod matrix_h5py;

/// The format of the included matrices' files.
const FORMAT: Format = Format::Latest;

use h5format::read::layout::Layout;
use h5format::write::{DType, DatasetSpec, FileWriter, Format};
use h5format::File;
use support::{check_h5dump, check_py, have_h5py, python_ok};

/// One test dataset: path, spec, and whether to write only its first half (unwritten chunks).
struct Case {
    path: &'static str,
    spec: DatasetSpec,
    half: bool,
}

fn case(path: &'static str, spec: DatasetSpec) -> Case {
    Case {
        path,
        spec,
        half: false,
    }
}

/// Element `i` of every dataset: `i * 7 % 1000` (as the dataset's type).
fn values(n: u64) -> Vec<i32> {
    (0..n).map(|i| (i * 7 % 1000) as i32).collect()
}

/// Python literal of an optional dimension list.
fn py_dims(dims: &[Option<u64>]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|d| d.map_or("None".to_string(), |v| v.to_string()))
        .collect();
    format!("({},)", parts.join(", "))
}

fn cases() -> Vec<Case> {
    let i4 = DType::I32;
    vec![
        case("single", DatasetSpec::new(i4.clone(), [100]).chunked([100])),
        case(
            "single_2d_z",
            DatasetSpec::new(i4.clone(), [10, 20])
                .chunked([10, 20])
                .deflate(4),
        ),
        case("fa", DatasetSpec::new(i4.clone(), [1000]).chunked([10])),
        case(
            "fa_paged",
            DatasetSpec::new(i4.clone(), [20_000]).chunked([2]),
        ),
        case(
            "fa_2d_z",
            DatasetSpec::new(i4.clone(), [100, 90])
                .chunked([7, 9])
                .shuffle()
                .deflate(6)
                .fletcher32(),
        ),
        case(
            "fa_max",
            DatasetSpec::new(i4.clone(), [50, 10])
                .chunked([4, 4])
                .max_shape([Some(80), Some(13)]),
        ),
        Case {
            half: true,
            ..case(
                "fa_half_paged_z",
                DatasetSpec::new(i4.clone(), [5000]).chunked([1]).deflate(1),
            )
        },
        case(
            "ea_1",
            DatasetSpec::new(i4.clone(), [3]).chunked([5]).unlimited(),
        ),
        case(
            "ea_100",
            DatasetSpec::new(i4.clone(), [1000])
                .chunked([10])
                .unlimited(),
        ),
        case(
            "ea_3000_z",
            DatasetSpec::new(i4.clone(), [3000])
                .chunked([1])
                .unlimited()
                .deflate(1),
        ),
        case(
            "ea_150k",
            DatasetSpec::new(i4.clone(), [150_000])
                .chunked([1])
                .unlimited(),
        ),
        Case {
            half: true,
            ..case(
                "ea_half",
                DatasetSpec::new(i4.clone(), [40_000])
                    .chunked([1])
                    .unlimited(),
            )
        },
        case(
            "ea_2d_second",
            DatasetSpec::new(i4.clone(), [30, 50])
                .chunked([4, 7])
                .max_shape([Some(30), None]),
        ),
        case(
            "ea_2d_first_z",
            DatasetSpec::new(i4.clone(), [50, 30])
                .chunked([4, 7])
                .max_shape([None, Some(40)])
                .deflate(3),
        ),
        case(
            "bt2",
            DatasetSpec::new(i4.clone(), [40, 40])
                .chunked([3, 3])
                .max_shape([None, None]),
        ),
        case(
            "bt2_deep_z",
            DatasetSpec::new(i4.clone(), [100, 120])
                .chunked([1, 1])
                .max_shape([None, None])
                .deflate(1),
        ),
        case(
            "bt2_empty",
            DatasetSpec::new(i4.clone(), [0, 0])
                .chunked([2, 2])
                .max_shape([None, None]),
        ),
        case(
            "ea_empty",
            DatasetSpec::new(i4.clone(), [0]).chunked([4]).unlimited(),
        ),
        case("contig", DatasetSpec::new(i4.clone(), [10])),
        case("compact", DatasetSpec::new(i4, [10]).compact()),
    ]
}

/// The index of a chunked dataset as our reader sees it (`None` otherwise).
fn index_of(f: &File, path: &str) -> Option<String> {
    match f.dataset(path).expect("dataset").layout() {
        Layout::Chunked { index, .. } => Some(format!("{index:?}")),
        _ => None,
    }
}

#[test]
fn chunk_indexes_as_libhdf5_picks_them() {
    let mut w = FileWriter::in_memory();
    w.set_format(Format::Latest).unwrap();
    let mut script = String::from(
        "import sys, h5py, numpy as np\nf = h5py.File(sys.argv[1], 'w', libver='latest')\n",
    );
    let mut check = String::from("f = h5py.File(p, 'r')\n");
    for c in cases() {
        let n: u64 = c.spec.shape.iter().product();
        let written = if c.half { n / 2 } else { n };
        let ds = w
            .create_dataset(&format!("/{}", c.path), c.spec.clone())
            .unwrap();
        let v = values(n);
        if c.half {
            w.write_hyperslab(
                ds,
                &[0],
                &[written],
                &h5format::write::to_le_bytes(&v[..written as usize]),
            )
            .unwrap();
        } else {
            w.write_typed(ds, &v).unwrap();
        }
        let shape: Vec<Option<u64>> = c.spec.shape.iter().map(|&d| Some(d)).collect();
        let max = c.spec.max_shape.clone().unwrap_or(shape.clone());
        let (chunks, filters) = match &c.spec.layout {
            h5format::write::Layout::Chunked(d) => {
                let d: Vec<Option<u64>> = d.iter().map(|&x| Some(x)).collect();
                let mut f = format!("chunks={}, maxshape={}", py_dims(&d), py_dims(&max));
                if let Some(l) = c.spec.deflate {
                    f += &format!(", compression='gzip', compression_opts={l}");
                }
                if c.spec.shuffle {
                    f += ", shuffle=True";
                }
                if c.spec.fletcher32 {
                    f += ", fletcher32=True";
                }
                (f, true)
            }
            h5format::write::Layout::Compact => ("chunks=None".into(), false),
            h5format::write::Layout::Contiguous => ("chunks=None".into(), false),
        };
        let _ = filters;
        script += &format!(
            "v = (np.arange({n}) * 7 % 1000).astype('<i4').reshape({s})\n\
             d = f.create_dataset('{p}', shape={s}, dtype='<i4', {chunks})\n",
            s = py_dims(&shape),
            p = c.path,
        );
        if c.half {
            script += &format!("d[:{written}] = v[:{written}]\n");
        } else if n > 0 {
            script += "d[...] = v\n";
        }
        check += &format!(
            "v = (np.arange({n}) * 7 % 1000).astype('<i4').reshape({s})\n\
             d = f['{p}']\nassert d.shape == {s}, d.shape\n",
            s = py_dims(&shape),
            p = c.path,
        );
        if c.half {
            check += &format!(
                "assert (d[:{written}] == v[:{written}]).all() and (d[{written}:] == 0).all(), '{p}'\n",
                p = c.path
            );
        } else {
            check += &format!("assert (d[()] == v).all(), '{p}'\n", p = c.path);
        }
    }
    let bytes = w.finish_to_vec().unwrap();
    assert_eq!(bytes[8], 3, "superblock version 3");
    let ours = File::from_bytes(bytes.clone()).expect("our reader opens it");
    for c in cases() {
        let n: u64 = c.spec.shape.iter().product();
        let got: Vec<i32> = ours.dataset(c.path).unwrap().read().unwrap();
        let mut want = values(n);
        if c.half {
            want[(n / 2) as usize..].iter_mut().for_each(|x| *x = 0);
        }
        let first_bad = got.iter().zip(&want).position(|(g, w)| g != w);
        assert!(
            got.len() == want.len() && first_bad.is_none(),
            "{}: {} values read, {} written, first difference at {first_bad:?}",
            c.path,
            got.len(),
            want.len()
        );
    }
    if !have_h5py() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latest.h5");
    std::fs::write(&path, &bytes).unwrap();
    check_py(&path, &check);
    check_h5dump(&path, false);
    // The same datasets written by libhdf5: same index kinds and parameters.
    let reference = dir.path().join("ref.h5");
    python_ok("h5py reference file", &script, &reference);
    let theirs = File::open(&reference).expect("open the reference");
    for c in cases() {
        assert_eq!(
            index_of(&ours, c.path).map(|s| s.replace(|ch: char| ch.is_ascii_digit(), "")),
            index_of(&theirs, c.path).map(|s| s.replace(|ch: char| ch.is_ascii_digit(), "")),
            "index kind of {}",
            c.path
        );
        if !c.path.starts_with("single") {
            assert_eq!(
                index_of(&ours, c.path),
                index_of(&theirs, c.path),
                "index parameters of {}",
                c.path
            );
        }
    }
}
