//! Writing anndata elements with their encoding attributes.

use h5format::write::{AttrValue, DType, DatasetSpec, FileWriter};
use h5sparse::hdf5::{H5Sink, SinkOptions};
use h5sparse::write::{SparseWriter, WriterOptions};
use h5sparse::{ElemType, Format, Selection, SparseResult, Values};

use crate::error::{Context, Error, Result};
use crate::model::{Column, DataFrame, Dense, Element, Matrix, StringArray};

/// How matrices are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// Store a sparse (or dense) `X` as this sparse format; `None` keeps its format.
    pub x_format: Option<Format>,
    /// Deflate level for `X` and layers (chunked storage).
    pub gzip: Option<u8>,
    /// Elements per chunk of chunked datasets.
    pub chunk_elems: u64,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            x_format: None,
            gzip: None,
            chunk_elems: 1 << 16,
        }
    }
}

/// Set `encoding-type` and `encoding-version` on an object being written.
fn enc(w: &mut FileWriter, path: &str, kind: &str, version: &str) -> Result<()> {
    crate::set_encoding(w, path, kind, version).at(path)
}

fn spec_for(dtype: DType, shape: &[usize], gzip: Option<u8>, chunk_elems: u64) -> DatasetSpec {
    let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut spec = DatasetSpec::new(dtype, dims.clone());
    let n: u64 = dims.iter().product();
    if let (Some(level), Some((&first, rest))) = (gzip, dims.split_first()) {
        if n > 0 {
            let stride: u64 = rest.iter().product::<u64>().max(1);
            let rows = (chunk_elems.max(1) / stride).clamp(1, first.max(1));
            let mut chunk = vec![rows];
            chunk.extend_from_slice(rest);
            spec = spec.chunked(chunk).deflate(level);
        }
    }
    spec
}

/// A dense array (`array` 0.2.0) or a numeric scalar (`numeric-scalar` 0.2.0).
fn write_dense(
    w: &mut FileWriter,
    path: &str,
    d: &Dense,
    gzip: Option<u8>,
    chunk: u64,
) -> Result<()> {
    let expect: usize = d.shape.iter().product();
    if expect != d.values.len() {
        return Err(Error::element(
            path,
            format!(
                "shape {:?} needs {expect} values, found {}",
                d.shape,
                d.values.len()
            ),
        ));
    }
    let (dtype, bytes) = (d.values.write_dtype(), d.values.to_le_bytes());
    let id = w
        .create_dataset(path, spec_for(dtype, &d.shape, gzip, chunk))
        .at(path)?;
    w.write_all(id, &bytes).at(path)?;
    if d.shape.is_empty() {
        enc(w, path, "numeric-scalar", "0.2.0")
    } else {
        enc(w, path, "array", "0.2.0")
    }
}

fn write_string_array(w: &mut FileWriter, path: &str, s: &StringArray) -> Result<()> {
    let dims: Vec<u64> = s.shape.iter().map(|&d| d as u64).collect();
    let id = w
        .create_dataset(path, DatasetSpec::new(DType::VarString, dims))
        .at(path)?;
    w.write_strings(id, &s.values).at(path)?;
    if s.shape.is_empty() {
        enc(w, path, "string", "0.2.0")
    } else {
        enc(w, path, "string-array", "0.2.0")
    }
}

fn to_csr_or_csc(s: &SparseResult, target: Format) -> Result<SparseResult> {
    if s.format == target {
        return Ok(s.clone());
    }
    // Transpose the compressed structure: counting sort of entries by minor index.
    let minor_len = match s.format {
        Format::Csr => s.shape.1,
        Format::Csc => s.shape.0,
    };
    let nnz = s.indices.len();
    let bad_ix = |e: h5sparse::Error| Error::Usage(e.to_string());
    let (s_indptr, s_indices) = (
        s.indptr_usize().map_err(bad_ix)?,
        s.indices_usize().map_err(bad_ix)?,
    );
    let mut counts = vec![0usize; minor_len + 1];
    for &j in &s_indices {
        let slot = counts
            .get_mut(j + 1)
            .ok_or_else(|| Error::Usage(format!("index {j} out of range")))?;
        *slot += 1;
    }
    let mut acc = 0usize;
    for c in counts.iter_mut() {
        acc += *c;
        *c = acc;
    }
    let indptr = counts.clone();
    let mut next = counts;
    let mut new_indices = vec![0usize; nnz];
    let mut perm = vec![0usize; nnz];
    let bad = || Error::Usage("inconsistent sparse matrix (indptr and indices disagree)".into());
    for (major, w) in s_indptr.windows(2).enumerate() {
        let part = s_indices.get(w[0]..w[1]).ok_or_else(bad)?;
        for (k, &j) in (w[0]..w[1]).zip(part) {
            let slot = next.get_mut(j).ok_or_else(bad)?;
            let dst = *slot;
            *slot += 1;
            *new_indices.get_mut(dst).ok_or_else(bad)? = major;
            *perm.get_mut(dst).ok_or_else(bad)? = k;
        }
    }
    let data = s
        .data
        .gather(&perm)
        .map_err(|e| Error::Usage(e.to_string()))?;
    let to_u64 = |v: Vec<usize>| v.into_iter().map(|x| x as u64).collect::<Vec<u64>>();
    Ok(SparseResult {
        format: target,
        shape: s.shape,
        indptr: Values::from_positions(s.indptr.elem(), &to_u64(indptr)),
        indices: Values::from_positions(s.indices.elem(), &to_u64(new_indices)),
        data,
    })
}

/// A dense 2-D array as a sparse matrix (explicit zeros dropped).
fn dense_to_sparse(d: &Dense, format: Format) -> Result<SparseResult> {
    let (nr, nc) = match d.shape.as_slice() {
        [r, c] => (*r, *c),
        _ => return Err(Error::Usage("only 2-D arrays convert to sparse".into())),
    };
    let mut indptr = vec![0usize];
    let mut indices = Vec::new();
    let mut pos = Vec::new();
    let nonzero = |i: usize| match &d.values {
        Values::Bool(b) => b.get(i).copied().unwrap_or(false),
        v => v.get_f64(i).is_some_and(|x| x != 0.0),
    };
    for r in 0..nr {
        for c in 0..nc {
            if nonzero(r * nc + c) {
                indices.push(c);
                pos.push(r * nc + c);
            }
        }
        indptr.push(indices.len());
    }
    let data = d
        .values
        .gather(&pos)
        .map_err(|e| Error::Usage(e.to_string()))?;
    let to_u64 = |v: Vec<usize>| v.into_iter().map(|x| x as u64).collect::<Vec<u64>>();
    to_csr_or_csc(
        &SparseResult {
            format: Format::Csr,
            shape: (nr, nc),
            indptr: Values::from_positions(ElemType::I64, &to_u64(indptr)),
            indices: Values::from_positions(ElemType::I32, &to_u64(indices)),
            data,
        },
        format,
    )
}

fn sink_options(gzip: Option<u8>, chunk: u64) -> SinkOptions {
    SinkOptions {
        chunk_elems: chunk.max(1),
        gzip,
        ..SinkOptions::default()
    }
}

fn write_sparse(
    w: &mut FileWriter,
    path: &str,
    s: &SparseResult,
    gzip: Option<u8>,
    chunk: u64,
) -> Result<()> {
    let sink = H5Sink::new(w, path, sink_options(gzip, chunk)).at(path)?;
    let mut opts = WriterOptions::new(
        s.format,
        (s.shape.0 as u64, s.shape.1 as u64),
        s.data.elem(),
    );
    opts.nnz_hint = Some(s.indices.len() as u64);
    let mut sw = SparseWriter::new(sink, opts).at(path)?;
    sw.push_block_values(&s.indptr_usize().at(path)?, &s.indices, &s.data)
        .at(path)?;
    sw.finish().at(path)?;
    Ok(())
}

/// Stream a backed sparse matrix of the same format into `path`, a block of rows (CSR) or
/// columns (CSC) at a time.
fn stream_sparse(
    w: &mut FileWriter,
    path: &str,
    sd: &h5sparse::SparseDataset,
    gzip: Option<u8>,
    chunk: u64,
) -> Result<()> {
    let (nr, nc) = sd.shape();
    let format = sd.format();
    let sink = H5Sink::new(w, path, sink_options(gzip, chunk)).at(path)?;
    let mut opts = WriterOptions::new(format, (nr, nc), sd.dtype().value_type());
    opts.nnz_hint = Some(sd.nnz().at(path)?);
    let mut sw = SparseWriter::new(sink, opts).at(path)?;
    let major = if format == Format::Csr { nr } else { nc };
    let step = 4096u64;
    let mut start = 0u64;
    while start < major {
        let len = step.min(major - start);
        let block = Selection::Range {
            start,
            step: 1,
            len,
        };
        let part = if format == Format::Csr {
            sd.select(&block, &Selection::all(nc))
        } else {
            sd.select(&Selection::all(nr), &block)
        }
        .at(path)?;
        sw.push_block_values(&part.indptr_usize().at(path)?, &part.indices, &part.data)
            .at(path)?;
        start += len;
    }
    sw.finish().at(path)?;
    Ok(())
}

/// A matrix (`X`, a layer, `obsp`/`varp`), optionally converted to a sparse format.
pub(crate) fn write_matrix(
    w: &mut FileWriter,
    path: &str,
    m: &Matrix,
    format: Option<Format>,
    gzip: Option<u8>,
    chunk: u64,
) -> Result<()> {
    match m {
        Matrix::Dense(d) => match format {
            Some(f) => write_sparse(w, path, &dense_to_sparse(d, f)?, gzip, chunk),
            None => write_dense(w, path, d, gzip, chunk),
        },
        Matrix::Sparse(s) => {
            let target = format.unwrap_or(s.format);
            write_sparse(w, path, &to_csr_or_csc(s, target)?, gzip, chunk)
        }
        Matrix::Backed(b) => match b.sparse() {
            Some(sd) if format.is_none_or(|f| f == sd.format()) => {
                stream_sparse(w, path, sd, gzip, chunk)
            }
            _ => write_matrix(w, path, &b.to_memory()?, format, gzip, chunk),
        },
    }
}

fn codes_values(codes: &[i64], n_cat: usize) -> Values {
    if n_cat < i8::MAX as usize {
        Values::I8(codes.iter().map(|&c| c as i8).collect())
    } else if n_cat < i16::MAX as usize {
        Values::I16(codes.iter().map(|&c| c as i16).collect())
    } else if n_cat < i32::MAX as usize {
        Values::I32(codes.iter().map(|&c| c as i32).collect())
    } else {
        Values::I64(codes.to_vec())
    }
}

/// A dataframe column.
pub fn write_column(w: &mut FileWriter, path: &str, c: &Column) -> Result<()> {
    let n = c.len();
    match c {
        Column::Numeric(v) => write_dense(
            w,
            path,
            &Dense {
                shape: vec![n],
                values: v.clone(),
            },
            None,
            0,
        ),
        Column::Bool(b) => write_dense(
            w,
            path,
            &Dense {
                shape: vec![n],
                values: Values::Bool(b.clone()),
            },
            None,
            0,
        ),
        Column::Strings(s) => write_string_array(
            w,
            path,
            &StringArray {
                shape: vec![n],
                values: s.clone(),
                width: None,
            },
        ),
        Column::Categorical {
            codes,
            categories,
            ordered,
        } => {
            if matches!(
                **categories,
                Column::Categorical { .. } | Column::Nullable { .. }
            ) {
                return Err(Error::element(path, "categories must be a plain column"));
            }
            let n_cat = categories.len();
            if codes.iter().any(|&c| c < -1 || c >= n_cat as i64) {
                return Err(Error::element(path, "categorical codes out of range"));
            }
            w.create_group(path).at(path)?;
            enc(w, path, "categorical", "0.2.0")?;
            w.set_attr(path, "ordered", AttrValue::scalar(*ordered))
                .at(path)?;
            let cpath = format!("{path}/codes");
            write_dense(
                w,
                &cpath,
                &Dense {
                    shape: vec![n],
                    values: codes_values(codes, n_cat),
                },
                None,
                0,
            )?;
            write_column(w, &format!("{path}/categories"), categories)
        }
        Column::Nullable { values, mask } => {
            let kind = match **values {
                Column::Numeric(_) => "nullable-integer",
                Column::Bool(_) => "nullable-boolean",
                Column::Strings(_) => "nullable-string-array",
                _ => {
                    return Err(Error::element(
                        path,
                        "nullable values must be a plain column",
                    ))
                }
            };
            if values.len() != mask.len() {
                return Err(Error::element(
                    path,
                    "nullable values and mask lengths differ",
                ));
            }
            w.create_group(path).at(path)?;
            enc(w, path, kind, "0.1.0")?;
            write_column(w, &format!("{path}/values"), values)?;
            write_column(w, &format!("{path}/mask"), &Column::Bool(mask.clone()))
        }
    }
}

/// A dataframe (`dataframe` 0.2.0).
pub fn write_dataframe(w: &mut FileWriter, path: &str, df: &DataFrame) -> Result<()> {
    let index_name = if df.index_name.is_empty() {
        "_index"
    } else {
        df.index_name.as_str()
    };
    if df.columns.iter().any(|(n, _)| n == index_name) {
        return Err(Error::element(
            path,
            format!("a column is named like the index ({index_name})"),
        ));
    }
    w.create_group(path).at(path)?;
    enc(w, path, "dataframe", "0.2.0")?;
    w.set_attr(path, "_index", AttrValue::String(index_name.into()))
        .at(path)?;
    let order: Vec<String> = df.columns.iter().map(|(n, _)| n.clone()).collect();
    w.set_attr(path, "column-order", AttrValue::Strings(order))
        .at(path)?;
    write_string_array(
        w,
        &format!("{path}/{index_name}"),
        &StringArray {
            shape: vec![df.index.len()],
            values: df.index.clone(),
            width: None,
        },
    )?;
    for (name, col) in &df.columns {
        let cpath = format!("{path}/{name}");
        if col.len() != df.index.len() {
            return Err(Error::element(
                &cpath,
                format!(
                    "column has {} rows, the index has {}",
                    col.len(),
                    df.index.len()
                ),
            ));
        }
        write_column(w, &cpath, col)?;
    }
    Ok(())
}

/// Any element.
pub fn write_element(w: &mut FileWriter, path: &str, e: &Element) -> Result<()> {
    match e {
        Element::Dict(m) => {
            w.create_group(path).at(path)?;
            enc(w, path, "dict", "0.1.0")?;
            for (k, v) in m {
                write_element(w, &format!("{path}/{k}"), v)?;
            }
            Ok(())
        }
        Element::Dense(d) => write_dense(w, path, d, None, 0),
        Element::Strings(s) => write_string_array(w, path, s),
        Element::Scalar(v) => {
            if v.len() != 1 {
                return Err(Error::element(path, "a scalar needs exactly one value"));
            }
            write_dense(
                w,
                path,
                &Dense {
                    shape: vec![],
                    values: v.clone(),
                },
                None,
                0,
            )
        }
        Element::String(s) => write_string_array(
            w,
            path,
            &StringArray {
                shape: vec![],
                values: vec![s.clone()],
                width: None,
            },
        ),
        Element::Sparse(s) => write_sparse(w, path, s, None, 1 << 16),
        Element::DataFrame(df) => write_dataframe(w, path, df),
        Element::Column(c) => write_column(w, path, c),
        Element::Records(fields) => {
            // No compound datatypes in our writer: the fields become a dict, which needs
            // field names that are valid member names.
            if let Some((k, _)) = fields
                .iter()
                .find(|(k, _)| k.is_empty() || k == "." || k.contains('/'))
            {
                return Err(Error::element(
                    path,
                    format!(
                        "structured array field {k:?} cannot be written: it is not a valid \
                         member name (structured arrays are written as a dict of their fields)"
                    ),
                ));
            }
            w.create_group(path).at(path)?;
            enc(w, path, "dict", "0.1.0")?;
            for (k, v) in fields {
                write_element(w, &format!("{path}/{k}"), v)?;
            }
            Ok(())
        }
    }
}
