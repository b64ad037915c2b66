//! Helpers shared by the integration tests: building in-memory matrices and a reference
//! implementation of numpy/scipy selection semantics on triplets.
#![allow(dead_code)]

use h5sparse::mem::{MemArray, MemGroup};
use h5sparse::{Format, Selection, SparseResult, Values};
use std::collections::HashMap;

/// A matrix as canonical triplets (row, col, value), no duplicates.
#[derive(Debug, Clone)]
pub struct Triplets {
    pub shape: (u64, u64),
    pub entries: Vec<(u64, u64, f64)>,
}

/// Compressed arrays of `t` in `format` (entries sorted by (major, minor)).
pub fn compress(t: &Triplets, format: Format) -> (Vec<i64>, Vec<i64>, Vec<f64>) {
    let mut e: Vec<(u64, u64, f64)> = t
        .entries
        .iter()
        .map(|&(r, c, v)| {
            if format == Format::Csr {
                (r, c, v)
            } else {
                (c, r, v)
            }
        })
        .collect();
    e.sort_by_key(|a| (a.0, a.1));
    let major = if format == Format::Csr {
        t.shape.0
    } else {
        t.shape.1
    };
    let mut indptr = vec![0i64; major as usize + 1];
    for &(m, _, _) in &e {
        indptr[m as usize + 1] += 1;
    }
    for i in 0..major as usize {
        indptr[i + 1] += indptr[i];
    }
    (
        indptr,
        e.iter().map(|x| x.1 as i64).collect(),
        e.iter().map(|x| x.2).collect(),
    )
}

/// An anndata group in memory; returns the group and its (indptr, indices, data) arrays.
pub fn anndata_group(t: &Triplets, format: Format, chunk: Option<u64>) -> MemGroup {
    let (indptr, indices, data) = compress(t, format);
    let mut g = MemGroup::new();
    g.set_str(
        "encoding-type",
        if format == Format::Csr {
            "csr_matrix"
        } else {
            "csc_matrix"
        },
    );
    g.set_str("encoding-version", "0.1.0");
    g.set_ints("shape", &[t.shape.0 as i64, t.shape.1 as i64]);
    g.add(
        "indptr",
        MemArray::new(Values::I64(indptr)).with_chunk_len(chunk),
    );
    g.add(
        "indices",
        MemArray::new(Values::I32(indices.iter().map(|&x| x as i32).collect()))
            .with_chunk_len(chunk),
    );
    g.add(
        "data",
        MemArray::new(Values::F64(data)).with_chunk_len(chunk),
    );
    g
}

/// numpy/scipy `m[rows][:, cols]` on triplets, as sorted (row, col, value).
pub fn reference(t: &Triplets, rows: &Selection, cols: &Selection) -> Vec<(usize, usize, f64)> {
    let map: HashMap<(u64, u64), f64> = t.entries.iter().map(|&(r, c, v)| ((r, c), v)).collect();
    let mut out = vec![];
    for (k, r) in rows.iter().enumerate() {
        for (j, c) in cols.iter().enumerate() {
            if let Some(&v) = map.get(&(r, c)) {
                out.push((k, j, v));
            }
        }
    }
    out.sort_by(|a, b| (a.0, a.1).partial_cmp(&(b.0, b.1)).unwrap());
    out
}

/// The result as sorted (row, col, value) triplets; also checks its structure.
pub fn result_triplets(r: &SparseResult) -> Vec<(usize, usize, f64)> {
    let major = if r.format == Format::Csr {
        r.shape.0
    } else {
        r.shape.1
    };
    let (indptr, indices) = (r.indptr_usize().unwrap(), r.indices_usize().unwrap());
    assert_eq!(indptr.len(), major + 1);
    assert_eq!(indptr[0], 0);
    assert_eq!(*indptr.last().unwrap(), r.indices.len());
    assert_eq!(r.indices.len(), r.data.len());
    let minor = if r.format == Format::Csr {
        r.shape.1
    } else {
        r.shape.0
    };
    assert!(indices.iter().all(|&i| i < minor));
    let mut out: Vec<_> = r
        .triplets()
        .map(|(i, j, p)| (i, j, r.data.get_f64(p).unwrap()))
        .collect();
    out.sort_by(|a, b| (a.0, a.1).partial_cmp(&(b.0, b.1)).unwrap());
    out
}
