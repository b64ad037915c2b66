//! Selections against a reference implementation of numpy/scipy semantics (proptest), read
//! patterns of the in-memory backend, corrupt inputs, and the streaming writer.

#![allow(clippy::single_range_in_vec_init)]
mod common;
use common::*;
use h5sparse::mem::{MemArray, MemGroup};
use h5sparse::write::{write_coo, MemSink, SparseWriter, WriterOptions};
use h5sparse::{Encoding, Error, Format, ReadOptions, Sel, Selection, SparseDataset, Values};
use proptest::prelude::*;

fn triplets_strategy() -> impl Strategy<Value = Triplets> {
    (
        prop_oneof![Just(0u64), Just(1), 1u64..12],
        prop_oneof![Just(1u64), 1u64..12],
        0.0f64..0.9,
    )
        .prop_flat_map(|(r, c, density)| {
            let cells = (r * c) as usize;
            (
                Just((r, c)),
                proptest::collection::vec((proptest::bool::weighted(density), -3i32..4), cells),
            )
        })
        .prop_map(|((r, c), cells)| {
            let mut entries = vec![];
            for (k, (present, v)) in cells.into_iter().enumerate() {
                if present {
                    // explicit zeros are possible (v == 0)
                    entries.push(((k as u64) / c, (k as u64) % c, v as f64 * 0.5));
                }
            }
            Triplets {
                shape: (r, c),
                entries,
            }
        })
}

fn sel_strategy(n: u64) -> BoxedStrategy<Sel> {
    let ni = n as i64;
    let bound = ni + 3;
    let mut options: Vec<BoxedStrategy<Sel>> = vec![
        Just(Sel::All).boxed(),
        (
            proptest::option::of(-bound..=bound),
            proptest::option::of(-bound..=bound),
            proptest::option::of(prop_oneof![-3i64..0, 1i64..4]),
        )
            .prop_map(|(start, stop, step)| Sel::Slice { start, stop, step })
            .boxed(),
        proptest::collection::vec(proptest::bool::ANY, n as usize)
            .prop_map(Sel::Mask)
            .boxed(),
    ];
    if n > 0 {
        options.push(
            proptest::collection::vec(-ni..ni, 0..10)
                .prop_map(Sel::List)
                .boxed(),
        );
    }
    proptest::strategy::Union::new(options).boxed()
}

fn case_strategy() -> impl Strategy<Value = (Triplets, Sel, Sel, bool, ReadOptions, Option<u64>)> {
    triplets_strategy().prop_flat_map(|t| {
        let (r, c) = t.shape;
        (
            Just(t),
            sel_strategy(r),
            sel_strategy(c),
            proptest::bool::ANY,
            (1u64..6, 0u64..4, proptest::bool::ANY).prop_map(
                |(block_elems, coalesce_gap, parallel)| ReadOptions {
                    block_elems,
                    coalesce_gap,
                    parallel,
                },
            ),
            proptest::option::of(1u64..5),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]
    #[test]
    fn selections_match_reference((t, rs, cs, csc, opts, chunk) in case_strategy()) {
        let format = if csc { Format::Csc } else { Format::Csr };
        let g = anndata_group(&t, format, chunk);
        let ds = SparseDataset::open(&g).unwrap().with_options(opts);
        let rows = rs.resolve(t.shape.0).unwrap();
        let cols = cs.resolve(t.shape.1).unwrap();
        let res = ds.select(&rows, &cols).unwrap();
        prop_assert_eq!(res.format, format);
        prop_assert_eq!(res.shape, (rows.len() as usize, cols.len() as usize));
        prop_assert_eq!(result_triplets(&res), reference(&t, &rows, &cols));
        // sprs conversion works (no duplicates in a canonical source).
        let m = res.to_csmat_f64().unwrap();
        prop_assert_eq!(m.nnz(), res.nnz());
    }
}

fn big_csr(rows: u64, cols: u64) -> Triplets {
    // Row r has (r % 7) entries at columns (r*3 + k*5) % cols.
    let mut entries = vec![];
    for r in 0..rows {
        let mut cs: Vec<u64> = (0..r % 7).map(|k| (r * 3 + k * 5) % cols).collect();
        cs.sort();
        cs.dedup();
        for c in cs {
            entries.push((r, c, (r * 1000 + c) as f64));
        }
    }
    Triplets {
        shape: (rows, cols),
        entries,
    }
}

#[test]
fn major_selection_reads_only_needed_ranges() {
    let t = big_csr(1000, 50);
    let g = anndata_group(&t, Format::Csr, Some(64));
    let opts = ReadOptions {
        block_elems: 16,
        coalesce_gap: 0,
        parallel: true,
    };
    let ds = SparseDataset::open(&g).unwrap().with_options(opts);
    let (indptr, indices, data) = (
        g.get("indptr").unwrap(),
        g.get("indices").unwrap(),
        g.get("data").unwrap(),
    );
    // open + info read one indptr element only
    assert_eq!(indptr.elems_read(), 0);
    let info = ds.info().unwrap();
    assert_eq!(info.nnz, t.entries.len() as u64);
    assert_eq!(indptr.elems_read(), 1);
    assert_eq!(indices.elems_read() + data.elems_read(), 0);
    indptr.reset_counters();

    let rows = Selection::parse("500,10,500,20,11", 1000).unwrap();
    let res = ds.select(&rows, &Selection::all(50)).unwrap();
    assert_eq!(
        result_triplets(&res),
        reference(&t, &rows, &Selection::all(50))
    );
    // indptr: 10..12 (rows 10, 11), 20..22, 500..502
    assert_eq!(indptr.ranges_read(), vec![10..13, 20..22, 500..502]);
    let len = |r: u64| r % 7;
    // Whole rows go straight into the result, in the requested order: the entries read are
    // exactly the result's (a repeated row is read again rather than copied).
    let needed = 2 * len(500) + len(10) + len(20) + len(11);
    assert_eq!(indices.elems_read(), needed, "{:?}", indices.ranges_read());
    assert_eq!(data.elems_read(), needed);
    assert_eq!(indices.calls(), 1);
    assert_eq!(data.calls(), 1);

    // A column selection reads each distinct row once, and with coalescing near ranges
    // become one read.
    indices.reset_counters();
    data.reset_counters();
    ds.select(&rows, &Selection::parse("0:49", 50).unwrap())
        .unwrap();
    assert_eq!(indices.elems_read(), len(500) + len(10) + len(20) + len(11));
    let mut rr = indices.ranges_read();
    rr.sort_by_key(|r| r.start);
    assert!(rr.windows(2).all(|w| w[0].end <= w[1].start));
    indices.reset_counters();
    let ds2 = ds.clone().with_options(ReadOptions {
        block_elems: 1 << 20,
        coalesce_gap: 100,
        parallel: false,
    });
    let rows = Selection::parse("10,12,14", 1000).unwrap();
    ds2.select(&rows, &Selection::parse("0:49", 50).unwrap())
        .unwrap();
    assert_eq!(indices.calls(), 1);
    assert_eq!(indices.ranges_read().len(), 1);
}

#[test]
fn minor_selection_reads_data_only_at_hits() {
    let t = big_csr(300, 40);
    let g = anndata_group(&t, Format::Csr, Some(32));
    let ds = SparseDataset::open(&g).unwrap().with_options(ReadOptions {
        block_elems: 50,
        coalesce_gap: 0,
        parallel: true,
    });
    let cols = Selection::parse("3,17,3", 40).unwrap();
    let rows = Selection::all(300);
    let res = ds.select(&rows, &cols).unwrap();
    let expect = reference(&t, &rows, &cols);
    assert_eq!(result_triplets(&res), expect);
    let distinct_hits = t.entries.iter().filter(|e| e.1 == 3 || e.1 == 17).count() as u64;
    assert_eq!(g.get("data").unwrap().elems_read(), distinct_hits);
    assert_eq!(
        g.get("indices").unwrap().elems_read(),
        t.entries.len() as u64
    );
    // column order within a row follows the selection positions
    assert!(res.indices_usize().unwrap().iter().all(|&j| j < 3));
}

#[test]
fn corrupt_indptr_is_an_error() {
    let mk = |indptr: Vec<i64>, indices: Vec<i64>| {
        let mut g = MemGroup::new();
        g.set_str("encoding-type", "csr_matrix")
            .set_ints("shape", &[3, 4]);
        let n = indices.len();
        g.add("indptr", MemArray::new(Values::I64(indptr)));
        g.add("indices", MemArray::new(Values::I64(indices)));
        g.add("data", MemArray::new(Values::F32(vec![1.0; n])));
        g
    };
    let all = |ds: &SparseDataset| ds.select(&Selection::all(3), &Selection::all(4));
    for (k, (ip, ix)) in [
        (vec![0, 2, 1, 3], vec![0, 1, 2]),        // decreasing
        (vec![0, 1, 2, 9], vec![0, 1, 2]),        // past nnz
        (vec![0, 1, 2, i64::MAX], vec![0, 1, 2]), // huge
        (vec![-5, 1, 2, 3], vec![0, 1, 2]),       // negative
        (vec![0, 1, 2, 3], vec![0, 4, 2]),        // index out of range
        (vec![0, 1, 2, 3], vec![0, -1, 2]),       // negative index
    ]
    .into_iter()
    .enumerate()
    {
        let g = mk(ip.clone(), ix.clone());
        let ds = SparseDataset::open(&g).unwrap();
        let e = all(&ds).unwrap_err();
        assert!(matches!(e, Error::Corrupt { .. }), "{ip:?} {ix:?}: {e}");
        if k < 4 {
            // indptr corruption touching rows 0 and 2 is seen by a partial selection too
            let e = ds.select_text(Some("2,0"), Some("1,2")).unwrap_err();
            assert!(matches!(e, Error::Corrupt { .. }), "{ip:?} {ix:?}: {e}");
        }
    }
    // An out-of-range index met by a row list (rows read straight into the result, in the
    // requested order) is named by its stored position.
    let g = mk(vec![0, 1, 2, 4], vec![0, 1, 2, 7]);
    let ds = SparseDataset::open(&g).unwrap();
    for rows in ["2,0", "0,2,2", "1,2"] {
        let e = ds.select_text(Some(rows), None).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Corrupt {
                    dataset: "indices",
                    index: 3,
                    ..
                }
            ),
            "{rows}: {e}"
        );
    }
    assert!(ds.select_text(Some("0,1"), None).is_ok());
    // wrong indptr length
    let g = mk(vec![0, 1, 2], vec![0, 1]);
    assert!(SparseDataset::open(&g).is_err());
}

#[test]
fn encodings_are_detected() {
    let t = big_csr(6, 5);
    // legacy h5sparse, CSC
    let (indptr, indices, data) = compress(&t, Format::Csc);
    let mut g = MemGroup::new();
    g.set_str("h5sparse_format", "csc")
        .set_ints("h5sparse_shape", &[6, 5]);
    g.add(
        "indptr",
        MemArray::new(Values::U64(indptr.iter().map(|&x| x as u64).collect())),
    );
    g.add(
        "indices",
        MemArray::new(Values::U32(indices.iter().map(|&x| x as u32).collect())),
    );
    g.add(
        "data",
        MemArray::new(Values::I32(data.iter().map(|&x| x as i32).collect())),
    );
    let ds = SparseDataset::open(&g).unwrap();
    let info = ds.info().unwrap();
    assert_eq!(
        info.to_json(),
        format!(
            "{{\"format\": \"csc\", \"shape\": [6, 5], \"nnz\": {}, \"dtype\": \"i4\", \"index_dtype\": \"u4\", \"encoding\": \"h5sparse\"}}",
            t.entries.len()
        )
    );
    let rows = Selection::parse("::-1", 6).unwrap();
    let cols = Selection::parse("4,0,0", 5).unwrap();
    assert_eq!(
        result_triplets(&ds.select(&rows, &cols).unwrap()),
        reference(&t, &rows, &cols)
    );

    // 10x: shape dataset, no attributes
    g.attrs.clear();
    g.add("shape", MemArray::new(Values::I32(vec![6, 5])));
    let ds = SparseDataset::open(&g).unwrap();
    assert_eq!(
        (ds.encoding(), ds.format(), ds.shape()),
        (Encoding::TenX, Format::Csc, (6, 5))
    );

    // not sparse
    let mut g2 = MemGroup::new();
    g2.set_str("encoding-type", "dataframe");
    assert!(matches!(SparseDataset::open(&g2), Err(Error::NotSparse(_))));
    assert!(matches!(
        SparseDataset::open(&MemGroup::new()),
        Err(Error::NotSparse(_))
    ));
}

#[test]
fn selection_errors() {
    let t = big_csr(6, 5);
    let g = anndata_group(&t, Format::Csr, None);
    let ds = SparseDataset::open(&g).unwrap();
    for (r, c) in [
        (Some("6"), None),
        (None, Some("::0")),
        (Some("mask:01"), None),
        (None, Some("-6")),
    ] {
        assert!(
            matches!(ds.select_text(r, c), Err(Error::Selection(_))),
            "{r:?} {c:?}"
        );
    }
}

fn write_roundtrip(t: &Triplets, format: Format, encoding: Encoding, block: usize) {
    let (indptr, indices, data) = compress(t, format);
    let mut opts = WriterOptions::new(format, t.shape, h5sparse::ElemType::F32);
    opts.encoding = encoding;
    opts.buffer_elems = 4;
    let mut w = SparseWriter::new(MemSink::new(), opts).unwrap();
    let major = indptr.len() - 1;
    let mut i = 0;
    let mut max_block = 0;
    while i < major {
        let j = (i + block).min(major);
        let local: Vec<usize> = indptr[i..=j].iter().map(|&x| x as usize).collect();
        let idx: Vec<u64> = indices.iter().map(|&x| x as u64).collect();
        w.push_block(&local, &idx, &Values::F64(data.clone()))
            .unwrap();
        max_block = max_block.max((indptr[j] - indptr[i]) as usize);
        i = j;
    }
    let sink = w.finish().unwrap();
    assert!(sink.max_append <= 4 + max_block);
    let g = sink.into_group();
    let ds = SparseDataset::open(&g).unwrap();
    assert_eq!(
        (ds.format(), ds.encoding(), ds.shape()),
        (format, encoding, t.shape)
    );
    assert_eq!(ds.dtype(), h5sparse::ElemType::F32);
    let (rows, cols) = (Selection::all(t.shape.0), Selection::all(t.shape.1));
    assert_eq!(
        result_triplets(&ds.select(&rows, &cols).unwrap()),
        reference(t, &rows, &cols)
    );
}

#[test]
fn writer_roundtrips() {
    let t = big_csr(40, 9);
    for block in [1, 3, 100] {
        write_roundtrip(&t, Format::Csr, Encoding::Anndata, block);
        write_roundtrip(&t, Format::Csc, Encoding::Anndata, block);
        write_roundtrip(&t, Format::Csr, Encoding::H5sparse, block);
        write_roundtrip(&t, Format::Csc, Encoding::TenX, block);
    }
    let opts = WriterOptions {
        encoding: Encoding::TenX,
        ..WriterOptions::new(Format::Csr, (2, 2), h5sparse::ElemType::F32)
    };
    assert!(SparseWriter::new(MemSink::new(), opts).is_err());
    // too few rows
    let w = SparseWriter::new(
        MemSink::new(),
        WriterOptions::new(Format::Csr, (2, 2), h5sparse::ElemType::F32),
    )
    .unwrap();
    assert!(w.finish().is_err());
}

#[test]
fn coo_writer_roundtrips() {
    let t = big_csr(30, 8);
    // shuffled coordinates
    let mut e = t.entries.clone();
    e.reverse();
    e.rotate_left(7);
    let rows: Vec<u64> = e.iter().map(|x| x.0).collect();
    let cols: Vec<u64> = e.iter().map(|x| x.1).collect();
    let data = Values::F64(e.iter().map(|x| x.2).collect());
    for format in [Format::Csr, Format::Csc] {
        for buffer in [1, 5, 1000] {
            let mut opts = WriterOptions::new(format, t.shape, h5sparse::ElemType::F64);
            opts.buffer_elems = buffer;
            let sink = write_coo(MemSink::new(), opts, &rows, &cols, &data).unwrap();
            let g = sink.into_group();
            let ds = SparseDataset::open(&g).unwrap();
            let (r, c) = (Selection::all(30), Selection::all(8));
            assert_eq!(
                result_triplets(&ds.select(&r, &c).unwrap()),
                reference(&t, &r, &c)
            );
        }
    }
    let opts = WriterOptions::new(Format::Csr, (2, 2), h5sparse::ElemType::F64);
    assert!(write_coo(MemSink::new(), opts, &[2], &[0], &Values::F64(vec![1.0])).is_err());
}

/// A short integer list on a very wide minor axis (more than 8 x its length + 65536 columns)
/// takes the sorted-pairs path instead of a table sized by the axis: same answer as the
/// reference, duplicates and order included, for CSR (columns) and CSC (rows).
#[test]
fn short_list_on_a_wide_minor_axis_matches_reference() {
    let (rows, cols) = (40u64, 300_000u64);
    let mut entries = Vec::new();
    for r in 0..rows {
        for k in 0..25u64 {
            let c = (r * 7919 + k * 12_007) % cols;
            entries.push((r, c, (r * 1000 + k) as f64));
        }
    }
    entries.sort_by_key(|e| (e.0, e.1));
    entries.dedup_by_key(|e| (e.0, e.1));
    let t = Triplets {
        shape: (rows, cols),
        entries,
    };
    let picked: Vec<String> = t
        .entries
        .iter()
        .step_by(37)
        .map(|e| e.1.to_string())
        .collect();
    let text = format!("{},{},299999,-1", picked.join(","), picked[0]);
    let csr = SparseDataset::open(&anndata_group(&t, Format::Csr, Some(64))).unwrap();
    let r = Selection::all(rows);
    let c = Selection::parse(&text, cols).unwrap();
    let res = csr.select(&r, &c).unwrap();
    assert!(res.nnz() > 0);
    assert_eq!(result_triplets(&res), reference(&t, &r, &c));

    let tt = Triplets {
        shape: (cols, rows),
        entries: t.entries.iter().map(|&(a, b, v)| (b, a, v)).collect(),
    };
    let csc = SparseDataset::open(&anndata_group(&tt, Format::Csc, Some(64))).unwrap();
    let rr = Selection::parse(&text, cols).unwrap();
    let all = Selection::all(rows);
    let res = csc.select(&rr, &all).unwrap();
    assert_eq!(result_triplets(&res), reference(&tt, &rr, &all));
}
