//! Backed mode reads only what a selection needs; errors name the element path.

use std::sync::Arc;

use h5ad::{
    AnnData, Column, DataFrame, Element, Format, Matrix, Selection, SparseResult, Values,
    WriteOptions,
};
use h5format::io::{CountingSource, FileSource};
use h5format::write::{AttrValue, DType, DatasetSpec, FileWriter};

/// A deterministic n_obs x n_vars CSR matrix with about `per_row` entries per row.
fn big_csr(n_obs: usize, n_vars: usize, per_row: usize) -> SparseResult {
    let mut indptr = vec![0];
    let mut indices = Vec::new();
    let mut data = Vec::new();
    let mut state = 12345u64;
    for _ in 0..n_obs {
        let mut cols: Vec<usize> = (0..per_row)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 33) as usize % n_vars
            })
            .collect();
        cols.sort_unstable();
        cols.dedup();
        for c in cols {
            indices.push(c);
            data.push((c % 97) as f32 + 0.5);
        }
        indptr.push(indices.len());
    }
    SparseResult {
        format: Format::Csr,
        shape: (n_obs, n_vars),
        indptr: Values::I64(indptr.into_iter().map(|x| x as i64).collect()),
        indices: Values::I32(indices.into_iter().map(|x| x as i32).collect()),
        data: Values::F32(data),
    }
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

#[test]
fn backed_rows_read_little() {
    let (n_obs, n_vars) = (20_000, 2_000);
    let x = big_csr(n_obs, n_vars, 20);
    let mut obs = DataFrame::from_index(names("cell", n_obs));
    obs.columns.push((
        "group".into(),
        Column::Categorical {
            codes: (0..n_obs as i64).map(|i| i % 3).collect(),
            categories: Box::new(Column::Strings(vec!["a".into(), "b".into(), "c".into()])),
            ordered: false,
        },
    ));
    let ad = AnnData {
        n_obs,
        n_vars,
        x: Some(Matrix::Sparse(x.clone())),
        obs,
        var: DataFrame::from_index(names("gene", n_vars)),
        ..AnnData::default()
    };
    let dir = tempfile::tempdir().unwrap();
    for (name, opts) in [
        (
            "plain.h5ad",
            WriteOptions {
                chunk_elems: 8192,
                ..WriteOptions::default()
            },
        ),
        (
            "gzip.h5ad",
            WriteOptions {
                gzip: Some(4),
                chunk_elems: 4096,
                ..WriteOptions::default()
            },
        ),
    ] {
        let path = dir.path().join(name);
        ad.write_h5ad(&path, opts).unwrap();
        let size = std::fs::metadata(&path).unwrap().len();
        let src = Arc::new(CountingSource::new(FileSource::open(&path).unwrap()));
        let file = h5format::File::from_source(src.clone()).unwrap();
        let backed = AnnData::from_file(&file, true).unwrap();
        assert!(backed.is_backed());
        let before = src.bytes();
        let rows = Selection::Range {
            start: 10_000,
            step: 1,
            len: 10,
        };
        let part = backed
            .subset(&rows, &Selection::all(n_vars as u64))
            .unwrap();
        let read = src.bytes() - before;
        assert!(
            read * 20 < size,
            "{name}: reading 10 of {n_obs} rows read {read} of {size} bytes"
        );
        eprintln!("{name}: 10 of {n_obs} rows read {read} of {size} bytes");
        let Some(Matrix::Sparse(got)) = &part.x else {
            panic!("subset X is in memory and sparse");
        };
        let x_indptr = x.indptr_usize().unwrap();
        let want = &x_indptr[10_000..=10_010];
        assert_eq!(got.indices.len(), want[10] - want[0]);
        // The subset keeps the file's index type and values.
        assert_eq!(got.indices.elem(), x.indices.elem());
        assert_eq!(
            got.indices_usize().unwrap()[..],
            x.indices_usize().unwrap()[want[0]..want[10]]
        );
        assert_eq!(part.obs.index[0], "cell10000");
        assert_eq!(
            part.obs.column("group"),
            Some(&Column::Categorical {
                codes: (10_000..10_010).map(|i| i % 3).collect(),
                categories: Box::new(Column::Strings(vec!["a".into(), "b".into(), "c".into()])),
                ordered: false,
            })
        );
    }
}

#[test]
fn written_backed_reopened_and_converted_to_csc() {
    let x = big_csr(300, 50, 5);
    let ad = AnnData {
        n_obs: 300,
        n_vars: 50,
        x: Some(Matrix::Sparse(x.clone())),
        obs: DataFrame::from_index(names("c", 300)),
        var: DataFrame::from_index(names("g", 50)),
        uns: [("note".to_string(), Element::String("hi".into()))]
            .into_iter()
            .collect(),
        ..AnnData::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let p1 = dir.path().join("a.h5ad");
    ad.write_h5ad(&p1, WriteOptions::default()).unwrap();
    let backed = AnnData::open(&p1).unwrap();
    let p2 = dir.path().join("b.h5ad");
    let opts = WriteOptions {
        x_format: Some(Format::Csc),
        gzip: Some(1),
        ..WriteOptions::default()
    };
    backed.write_h5ad(&p2, opts).unwrap();
    let again = AnnData::open(&p2).unwrap();
    let Some(Matrix::Backed(b)) = &again.x else {
        panic!("X is backed");
    };
    assert_eq!(b.format(), Some(Format::Csc));
    let mem = again.to_memory().unwrap();
    let Some(Matrix::Sparse(csc)) = &mem.x else {
        panic!("sparse X");
    };
    let dense = |s: &SparseResult| {
        let mut m = vec![0f64; s.shape.0 * s.shape.1];
        let (indptr, indices) = (s.indptr_usize().unwrap(), s.indices_usize().unwrap());
        for major in 0..indptr.len() - 1 {
            for (k, &minor) in indices
                .iter()
                .enumerate()
                .take(indptr[major + 1])
                .skip(indptr[major])
            {
                let (i, j) = match s.format {
                    Format::Csr => (major, minor),
                    Format::Csc => (minor, major),
                };
                m[i * s.shape.1 + j] += s.data.get_f64(k).unwrap();
            }
        }
        m
    };
    assert_eq!(dense(csc), dense(&x));
    assert_eq!(mem.uns.get("note"), Some(&Element::String("hi".into())));
}

#[test]
fn categorical_codes_out_of_range_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.h5ad");
    let mut w = FileWriter::create(&path).unwrap();
    h5ad::write_skeleton(&mut w, &["a", "b"], &["g"]).unwrap();
    // Replace obs by one with a categorical column whose codes point past its categories.
    let mut w2 = FileWriter::create(dir.path().join("bad2.h5ad")).unwrap();
    h5ad::set_encoding(&mut w2, "/", "anndata", "0.1.0").unwrap();
    w2.create_group("/obs").unwrap();
    h5ad::set_encoding(&mut w2, "/obs", "dataframe", "0.2.0").unwrap();
    w2.set_attr("/obs", "_index", AttrValue::String("_index".into()))
        .unwrap();
    w2.set_attr(
        "/obs",
        "column-order",
        AttrValue::Strings(vec!["cell_type".into()]),
    )
    .unwrap();
    let ix = w2
        .create_dataset("/obs/_index", DatasetSpec::new(DType::VarString, [2]))
        .unwrap();
    w2.write_strings(ix, &["a", "b"]).unwrap();
    w2.create_group("/obs/cell_type").unwrap();
    h5ad::set_encoding(&mut w2, "/obs/cell_type", "categorical", "0.2.0").unwrap();
    w2.set_attr("/obs/cell_type", "ordered", AttrValue::scalar(false))
        .unwrap();
    let c = w2
        .create_dataset("/obs/cell_type/codes", DatasetSpec::new(DType::I8, [2]))
        .unwrap();
    w2.write_typed(c, &[0i8, 3]).unwrap();
    let k = w2
        .create_dataset(
            "/obs/cell_type/categories",
            DatasetSpec::new(DType::VarString, [1]),
        )
        .unwrap();
    w2.write_strings(k, &["T"]).unwrap();
    h5ad::write_index_frame(&mut w2, "/var", &["g"]).unwrap();
    w2.finish().unwrap();
    w.finish().unwrap();
    let err = AnnData::read(dir.path().join("bad2.h5ad"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("obs/cell_type: categorical codes out of range"),
        "{err}"
    );
    // The skeleton alone is a valid, empty AnnData.
    let ok = AnnData::read(&path).unwrap();
    assert_eq!((ok.n_obs, ok.n_vars), (2, 1));
    assert!(ok.x.is_none());
}

#[test]
fn x_shape_mismatch_is_named() {
    let ad = AnnData {
        n_obs: 2,
        n_vars: 2,
        x: Some(Matrix::Sparse(big_csr(3, 2, 1))),
        obs: DataFrame::from_index(names("c", 2)),
        var: DataFrame::from_index(names("g", 2)),
        ..AnnData::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let err = ad
        .write_h5ad(dir.path().join("x.h5ad"), WriteOptions::default())
        .unwrap_err();
    assert!(err.to_string().starts_with("X: shape"), "{err}");
}
