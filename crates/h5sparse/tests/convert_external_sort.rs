//! Out-of-core conversion on in-memory sources: a 2000 x 3000 matrix with 10^5 entries under a
//! 64 KiB budget (many buckets, several passes), compared with a direct in-memory
//! transposition; value types kept exactly; edge shapes.
#![allow(clippy::single_range_in_vec_init)]

use h5sparse::convert::{convert, ConvertOptions};
use h5sparse::mem::{MemArray, MemGroup};
use h5sparse::write::MemSink;
use h5sparse::{Format, SparseDataset, Values};

/// A compressed group from (major, minor) pairs already in storage order (duplicates kept).
fn group(format: Format, shape: (u64, u64), pairs: &[(u64, u64)], data: Values) -> MemGroup {
    let major = if format == Format::Csr {
        shape.0
    } else {
        shape.1
    };
    let mut indptr = vec![0i64; major as usize + 1];
    for &(m, _) in pairs {
        indptr[m as usize + 1] += 1;
    }
    for i in 0..major as usize {
        indptr[i + 1] += indptr[i];
    }
    let mut g = MemGroup::new();
    g.set_str("h5sparse_format", format.as_str());
    g.set_ints("h5sparse_shape", &[shape.0 as i64, shape.1 as i64]);
    g.add("indptr", MemArray::new(Values::I64(indptr)));
    let idx = Values::I32(pairs.iter().map(|p| p.1 as i32).collect());
    g.add("indices", MemArray::new(idx).with_chunk_len(Some(1000)));
    g.add("data", MemArray::new(data).with_chunk_len(Some(1000)));
    g
}

/// The stored arrays of a group written by MemSink.
fn arrays(g: &MemGroup) -> (Vec<i64>, Vec<i64>, Values) {
    use h5sparse::GroupSource;
    let get = |n: &str| g.dataset(n).expect("ok").expect("present");
    let (p, i, d) = (get("indptr"), get("indices"), get("data"));
    (
        p.read_ranges_i64(&[0..p.len()]).expect("indptr"),
        i.read_ranges_i64(&[0..i.len()]).expect("indices"),
        d.read_ranges_values(&[0..d.len()]).expect("data"),
    )
}

/// Reference: stable transposition (entries ordered by new major, then old major).
fn transpose(minor_len: u64, pairs: &[(u64, u64)]) -> (Vec<i64>, Vec<i64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.sort_by_key(|&k| (pairs[k].1, pairs[k].0));
    let mut indptr = vec![0i64; minor_len as usize + 1];
    for p in pairs {
        indptr[p.1 as usize + 1] += 1;
    }
    for i in 0..minor_len as usize {
        indptr[i + 1] += indptr[i];
    }
    let indices = order.iter().map(|&k| pairs[k].0 as i64).collect();
    (indptr, indices, order)
}

fn random_pairs(major: u64, minor: u64, n: usize, seed: u64) -> Vec<(u64, u64)> {
    let mut x = seed;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 17
    };
    // Skewed: a third of the entries in the first 5% of minor positions.
    let mut v: Vec<(u64, u64)> = (0..n)
        .map(|k| {
            let m = next() % major;
            let c = if k % 3 == 0 {
                next() % (minor / 20).max(1)
            } else {
                next() % minor
            };
            (m, c)
        })
        .collect();
    v.sort_unstable();
    v
}

#[test]
fn large_matrix_tiny_budget_many_buckets_equals_transpose() {
    let (rows, cols) = (2000u64, 3000u64);
    for format in [Format::Csr, Format::Csc] {
        let (major, minor) = if format == Format::Csr {
            (rows, cols)
        } else {
            (cols, rows)
        };
        let pairs = random_pairs(major, minor, 100_000, 42 + major);
        // Duplicates and an explicit zero are kept.
        let mut pairs = pairs;
        pairs.insert(0, pairs[0]);
        let data: Vec<i64> = (0..pairs.len() as i64)
            .map(|k| k * 1_000_000_007 % 9_007_199_254_740_993)
            .collect();
        let mut data = data;
        data[5] = 0;
        let g = group(format, (rows, cols), &pairs, Values::I64(data.clone()));
        let src = SparseDataset::open(&g).expect("open");
        let budget = 64 << 10;
        let opts = ConvertOptions {
            mem_bytes: budget,
            max_open_runs: 8,
            ..ConvertOptions::default()
        };
        let (sink, stats) = convert(&src, MemSink::new(), &opts).expect("convert");
        println!("{format:?}: {stats:?}");
        assert!(stats.buckets >= 50, "{stats:?}");
        assert!(stats.passes >= 7, "{stats:?}");
        assert_eq!(stats.nnz, pairs.len() as u64);
        assert!(stats.max_bucket_entries * 32 <= budget, "{stats:?}");
        assert!(stats.peak_held_bytes <= budget, "{stats:?}");
        // The 1.6 MB of records all went through run files.
        assert_eq!(stats.run_bytes, pairs.len() as u64 * (4 + 4 + 8));
        let out = sink.into_group();
        let back = SparseDataset::open(&out).expect("reopen");
        assert_eq!(
            back.format(),
            if format == Format::Csr {
                Format::Csc
            } else {
                Format::Csr
            }
        );
        assert_eq!(back.shape(), (rows, cols));
        let (indptr, indices, values) = arrays(&out);
        let (want_ptr, want_idx, order) = transpose(minor, &pairs);
        assert_eq!(indptr, want_ptr);
        assert_eq!(indices, want_idx);
        let want: Vec<i64> = order.iter().map(|&k| data[k]).collect();
        assert_eq!(values, Values::I64(want));
    }
}

#[test]
fn value_types_and_edge_shapes() {
    type Case = ((u64, u64), Vec<(u64, u64)>);
    let cases: Vec<Case> = vec![
        ((1, 7), vec![(0, 0), (0, 3), (0, 6)]),
        ((7, 1), vec![(0, 0), (3, 0), (6, 0)]),
        ((5, 4), vec![]),
        ((0, 0), vec![]),
        ((3, 0), vec![]),
    ];
    for (shape, pairs) in cases {
        let n = pairs.len();
        for data in [
            Values::Bool((0..n).map(|k| k % 2 == 0).collect()),
            Values::U8((0..n as u8).collect()),
            Values::F32((0..n).map(|k| k as f32 * 0.1).collect()),
            Values::U64((0..n as u64).map(|k| u64::MAX - k).collect()),
        ] {
            let g = group(Format::Csr, shape, &pairs, data.clone());
            let src = SparseDataset::open(&g).expect("open");
            let (sink, stats) =
                convert(&src, MemSink::new(), &ConvertOptions::default()).expect("convert");
            assert_eq!(stats.nnz, n as u64);
            let out = sink.into_group();
            let back = SparseDataset::open(&out).expect("reopen");
            assert_eq!((back.format(), back.shape()), (Format::Csc, shape));
            let (_, _, values) = arrays(&out);
            let (_, _, order) = transpose(shape.1, &pairs);
            let want = data.gather(&order).expect("gather");
            assert_eq!(values, want);
            // And back again gives the original arrays.
            let (sink2, _) =
                convert(&back, MemSink::new(), &ConvertOptions::default()).expect("convert back");
            assert_eq!(arrays(&sink2.into_group()).2, data);
        }
    }
}

#[test]
fn corrupt_sources_are_errors() {
    // An index past the minor dimension.
    let g = group(
        Format::Csr,
        (2, 3),
        &[(0, 1), (1, 5)],
        Values::F64(vec![1.0, 2.0]),
    );
    let src = SparseDataset::open(&g).expect("open");
    let e = convert(&src, MemSink::new(), &ConvertOptions::default()).expect_err("corrupt");
    assert!(e.to_string().contains("indices"), "{e}");
    // A decreasing indptr.
    let mut g = MemGroup::new();
    g.set_str("encoding-type", "csr_matrix");
    g.set_ints("shape", &[3, 3]);
    g.add("indptr", MemArray::new(Values::I64(vec![0, 2, 1, 2])));
    g.add("indices", MemArray::new(Values::I32(vec![0, 1])));
    g.add("data", MemArray::new(Values::F64(vec![1.0, 2.0])));
    let src = SparseDataset::open(&g).expect("open");
    let e = convert(&src, MemSink::new(), &ConvertOptions::default()).expect_err("corrupt");
    assert!(e.to_string().contains("indptr"), "{e}");
}
