//! `h5sparse import-10x`: a 10x Genomics `matrix.h5` to an `.h5ad` file.
//!
//! The 10x matrix is CSC of features × barcodes: its `indptr` runs over barcodes, so the same
//! three arrays are a CSR matrix of barcodes × features, which is what anndata wants for `X`
//! (cells × genes). They are streamed into `X` a block of barcodes at a time; nothing is
//! transposed.

// Reads take lists of element ranges; one-range lists are intended.
#![allow(clippy::single_range_in_vec_init)]

use crate::progress::ProgressSink;
use h5format::write::FileWriter;
use h5format::{File, Object};
use h5sparse::hdf5::{H5Array, H5Sink, SinkOptions};
use h5sparse::write::{SparseWriter, WriterOptions};
use h5sparse::{Array1, Format};

use h5ad::{Column, DataFrame};

use crate::UserError;

/// Options of `import-10x`.
pub struct Import10xOptions {
    /// Use feature ids (`gene_ids`) instead of names (`gene_symbols`) as `var` index.
    pub var_ids: bool,
    /// Deflate level of `X`.
    pub gzip: Option<u8>,
    /// Elements per chunk of `X`'s datasets.
    pub chunk_elems: Option<u64>,
    /// Structure versions of OUT (`--libver`).
    pub libver: h5format::write::Format,
}

fn strings(file: &File, path: &str) -> Result<Vec<String>, UserError> {
    let ds = file
        .dataset(path)
        .map_err(|e| UserError(format!("{path}: {e}")))?;
    let n = usize::try_from(ds.len()).map_err(|_| UserError(format!("{path}: too long")))?;
    let raw = ds.read_raw()?;
    h5format::value::decode(ds.dtype(), &raw, n, file.sizes(), file)?
        .into_iter()
        .map(|v| match v {
            h5format::value::Value::Str(s) => Ok(s),
            _ => Err(UserError(format!("{path}: expected strings"))),
        })
        .collect()
}

fn exists(file: &File, path: &str) -> bool {
    file.object(path).is_ok()
}

/// Run the command.
pub fn run(input: &str, output: &str, o: &Import10xOptions) -> Result<(), UserError> {
    if let Some(l) = o.gzip {
        if l > 9 {
            return Err(UserError(format!("gzip level {l} is not in 0..=9")));
        }
    }
    let file = crate::open::open(input)?;
    match file.object("/matrix") {
        Ok(Object::Group(_)) => {}
        _ => {
            return Err(UserError(format!(
                "{input}: not a 10x Genomics matrix.h5 (no /matrix group; the pre-3.0 per-genome layout is not supported)"
            )))
        }
    }
    let shape: Vec<i64> = file
        .dataset("/matrix/shape")
        .and_then(|d| d.read())
        .map_err(|e| UserError(format!("matrix/shape: {e}")))?;
    let (n_feat, n_bc) = match shape.as_slice() {
        [f, b] if *f >= 0 && *b >= 0 => (*f as u64, *b as u64),
        _ => {
            return Err(UserError(
                "matrix/shape: expected two non-negative dimensions".into(),
            ))
        }
    };
    let barcodes = strings(&file, "/matrix/barcodes")?;
    let ids = strings(&file, "/matrix/features/id")?;
    let names = strings(&file, "/matrix/features/name")?;
    let types = strings(&file, "/matrix/features/feature_type")?;
    if barcodes.len() as u64 != n_bc {
        return Err(UserError(format!(
            "matrix/barcodes: {} barcodes for a shape of {n_feat}x{n_bc}",
            barcodes.len()
        )));
    }
    for (what, v) in [("id", &ids), ("name", &names), ("feature_type", &types)] {
        if v.len() as u64 != n_feat {
            return Err(UserError(format!(
                "matrix/features/{what}: {} entries for {n_feat} features",
                v.len()
            )));
        }
    }
    // var: like scanpy.read_10x_h5 (gene_ids, feature_types, then the tag keys).
    let mut var_cols = vec![
        ("gene_ids".to_string(), Column::Strings(ids.clone())),
        ("feature_types".to_string(), Column::Strings(types)),
    ];
    let tags = if exists(&file, "/matrix/features/_all_tag_keys") {
        strings(&file, "/matrix/features/_all_tag_keys")?
    } else if exists(&file, "/matrix/features/genome") {
        vec!["genome".to_string()]
    } else {
        vec![]
    };
    for tag in tags {
        let p = format!("/matrix/features/{tag}");
        if tag == "id" || tag == "name" || tag == "feature_type" || !exists(&file, &p) {
            continue;
        }
        let v = strings(&file, &p)?;
        if v.len() as u64 != n_feat {
            return Err(UserError(format!("matrix/features/{tag}: wrong length")));
        }
        var_cols.push((tag, Column::Strings(v)));
    }
    let var = DataFrame {
        index_name: "_index".into(),
        index: if o.var_ids { ids } else { names },
        columns: var_cols,
    };
    let obs = DataFrame::from_index(barcodes);

    let open = |name: &str| -> Result<H5Array, UserError> {
        let p = format!("/matrix/{name}");
        let ds = file
            .dataset(&p)
            .map_err(|e| UserError(format!("{p}: {e}")))?;
        H5Array::new(ds).map_err(|e| UserError(format!("{p}: {e}")))
    };
    let data = open("data")?;
    let indices = open("indices")?;
    let indptr_arr = open("indptr")?;
    if indptr_arr.len() != n_bc + 1 {
        return Err(UserError(format!(
            "matrix/indptr: {} entries for {n_bc} barcodes",
            indptr_arr.len()
        )));
    }
    let indptr = indptr_arr.read_ranges_i64(&[0..n_bc + 1])?;
    let nnz = indices.len();
    if data.len() != nnz {
        return Err(UserError(
            "matrix/data and matrix/indices lengths differ".into(),
        ));
    }
    for (k, w) in indptr.windows(2).enumerate() {
        if w[0] < 0 || w[1] < w[0] || w[1] as u64 > nnz {
            return Err(UserError(format!(
                "matrix/indptr[{}]: not increasing within 0..={nnz}",
                k + 1
            )));
        }
    }

    let mut w = FileWriter::create(output)?;
    w.set_format(o.libver)?;
    h5ad::set_encoding(&mut w, "/", "anndata", "0.1.0")?;
    h5ad::write::write_dataframe(&mut w, "/obs", &obs)?;
    h5ad::write::write_dataframe(&mut w, "/var", &var)?;
    for g in ["/obsm", "/varm", "/obsp", "/varp", "/layers", "/uns"] {
        w.create_group(g)?;
        h5ad::set_encoding(&mut w, g, "dict", "0.1.0")?;
    }
    let sink_opts = SinkOptions {
        chunk_elems: o.chunk_elems.unwrap_or(1 << 16).max(1),
        gzip: o.gzip,
        ..SinkOptions::default()
    };
    let sink = H5Sink::new(&mut w, "/X", sink_opts)?;
    let mut opts = WriterOptions::new(Format::Csr, (n_bc, n_feat), data.elem().value_type());
    opts.nnz_hint = Some(nnz);
    let sink = ProgressSink::new(sink, "import-10x", Some(nnz));
    let mut sw = SparseWriter::new(sink, opts)?;
    // Blocks of barcodes holding about `budget` entries (at least one barcode).
    let budget = 1u64 << 20;
    let mut a = 0usize;
    let n = n_bc as usize;
    while a < n {
        let mut b = a + 1;
        while b < n && (indptr[b + 1] - indptr[a]) as u64 <= budget {
            b += 1;
        }
        let (lo, hi) = (indptr[a] as u64, indptr[b] as u64);
        let idx: Vec<u64> = indices
            .read_ranges_i64(&[lo..hi])?
            .into_iter()
            .map(|i| {
                u64::try_from(i)
                    .ok()
                    .filter(|&i| i < n_feat)
                    .ok_or_else(|| {
                        UserError(format!(
                            "matrix/indices: feature {i} out of range 0..{n_feat}"
                        ))
                    })
            })
            .collect::<Result<_, _>>()?;
        let vals = data.read_ranges_values(&[lo..hi])?;
        let local: Vec<usize> = indptr[a..=b]
            .iter()
            .map(|&p| (p as u64 - lo) as usize)
            .collect();
        sw.push_block(&local, &idx, &vals)?;
        a = b;
    }
    sw.finish()?;
    w.finish()?;
    Ok(())
}
