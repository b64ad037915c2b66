//! Matrices left in their file (backed mode) and selections of rows and columns.

use std::sync::Arc;

use h5format::{Dataset, Object};
use h5sparse::mem::{MemArray, MemGroup};
use h5sparse::{Array1, Format, Selection, SparseDataset, SparseResult};

use crate::error::{Context, Error, Result};
use crate::model::{Dense, Matrix};
use crate::read::encoding_type;

#[derive(Clone)]
enum Kind {
    Sparse(Arc<SparseDataset>),
    Dense {
        ds: Box<Dataset>,
        shape: (usize, usize),
    },
}

/// A 2-D matrix (sparse group or dense dataset) that stays in its file: only the parts
/// asked for by [`select`](Self::select) are read.
#[derive(Clone)]
pub struct BackedMatrix {
    path: String,
    kind: Kind,
}

impl std::fmt::Debug for BackedMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackedMatrix")
            .field("path", &self.path)
            .field("shape", &self.shape())
            .field("format", &self.format())
            .finish()
    }
}

impl BackedMatrix {
    /// Wrap the matrix element at `path` (a sparse group or a 2-D dataset).
    pub fn open(obj: Object, path: &str) -> Result<BackedMatrix> {
        let kind = match obj {
            Object::Group(g) => {
                let sd = h5sparse::hdf5::open(g.node().file(), path).at(path)?;
                Kind::Sparse(Arc::new(sd))
            }
            Object::Dataset(ds) => {
                let enc = encoding_type(ds.node())?;
                if !matches!(enc.as_deref(), None | Some("array")) {
                    return Err(Error::element(path, "expected a dense array"));
                }
                let shape = match ds.shape() {
                    [r, c] => (to_usize(*r, path)?, to_usize(*c, path)?),
                    [r] => (to_usize(*r, path)?, 1),
                    s => {
                        return Err(Error::element(
                            path,
                            format!("expected a 2-D matrix, found rank {}", s.len()),
                        ))
                    }
                };
                Kind::Dense {
                    ds: Box::new(ds),
                    shape,
                }
            }
            Object::Datatype(_) => return Err(Error::element(path, "expected a matrix")),
        };
        Ok(BackedMatrix {
            path: path.trim_start_matches('/').to_string(),
            kind,
        })
    }

    /// The element path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// (rows, columns).
    pub fn shape(&self) -> (usize, usize) {
        match &self.kind {
            Kind::Sparse(s) => {
                let (r, c) = s.shape();
                (r as usize, c as usize)
            }
            Kind::Dense { shape, .. } => *shape,
        }
    }

    /// CSR / CSC for a sparse matrix, `None` for a dense one.
    pub fn format(&self) -> Option<Format> {
        match &self.kind {
            Kind::Sparse(s) => Some(s.format()),
            Kind::Dense { .. } => None,
        }
    }

    /// The lazy sparse dataset, for a sparse matrix.
    pub fn sparse(&self) -> Option<&SparseDataset> {
        match &self.kind {
            Kind::Sparse(s) => Some(s),
            Kind::Dense { .. } => None,
        }
    }

    /// Read the sub-matrix `rows` × `cols` into memory.
    pub fn select(&self, rows: &Selection, cols: &Selection) -> Result<Matrix> {
        match &self.kind {
            Kind::Sparse(s) => Ok(Matrix::Sparse(s.select(rows, cols).at(&self.path)?)),
            Kind::Dense { ds, shape } => Ok(Matrix::Dense(dense_rows(
                ds, *shape, rows, cols, &self.path,
            )?)),
        }
    }

    /// Read the whole matrix into memory.
    pub fn to_memory(&self) -> Result<Matrix> {
        let (r, c) = self.shape();
        self.select(&Selection::all(r as u64), &Selection::all(c as u64))
    }
}

fn to_usize(v: u64, path: &str) -> Result<usize> {
    usize::try_from(v).map_err(|_| Error::element(path, "dimension too large"))
}

fn check_sel(sel: &Selection, len: usize, path: &str, axis: &str) -> Result<Vec<usize>> {
    sel.iter()
        .map(|p| {
            usize::try_from(p)
                .ok()
                .filter(|&p| p < len)
                .ok_or_else(|| Error::element(path, format!("{axis} {p} out of range 0..{len}")))
        })
        .collect()
}

/// Read rows `rows` (then columns `cols`) of a dense 2-D dataset, one range per needed row.
fn dense_rows(
    ds: &Dataset,
    shape: (usize, usize),
    rows: &Selection,
    cols: &Selection,
    path: &str,
) -> Result<Dense> {
    let (nr, nc) = shape;
    let rows = check_sel(rows, nr, path, "row")?;
    let cols = check_sel(cols, nc, path, "column")?;
    let mut needed = rows.clone();
    needed.sort_unstable();
    needed.dedup();
    let ranges: Vec<std::ops::Range<u64>> = needed
        .iter()
        .map(|&r| (r * nc) as u64..((r + 1) * nc) as u64)
        .collect();
    let arr = h5sparse::hdf5::H5Array::new(ds.clone()).at(path)?;
    let block = arr.read_ranges_values(&ranges).at(path)?;
    let mut pos = Vec::with_capacity(rows.len() * cols.len());
    for r in &rows {
        let k = needed.binary_search(r).unwrap_or(0);
        pos.extend(cols.iter().map(|&c| k * nc + c));
    }
    let values = block
        .gather(&pos)
        .map_err(|e| Error::element(path, e.to_string()))?;
    Ok(Dense {
        shape: vec![rows.len(), cols.len()],
        values,
    })
}

/// Rows `rows` (along the first dimension) of a dense N-D array.
pub(crate) fn dense_take_rows(d: &Dense, rows: &[usize]) -> Result<Dense> {
    let n0 = d.shape.first().copied().unwrap_or(0);
    let stride: usize = d.shape.iter().skip(1).product();
    let mut pos = Vec::with_capacity(rows.len() * stride);
    for &r in rows {
        if r >= n0 {
            return Err(Error::Usage(format!("row {r} out of range 0..{n0}")));
        }
        pos.extend(r * stride..(r + 1) * stride);
    }
    let mut shape = d.shape.clone();
    if let Some(s) = shape.first_mut() {
        *s = rows.len();
    }
    Ok(Dense {
        shape,
        values: d
            .values
            .gather(&pos)
            .map_err(|e| Error::Usage(e.to_string()))?,
    })
}

/// `rows` × `cols` of a dense 2-D array.
fn dense_select(d: &Dense, rows: &[usize], cols: &[usize]) -> Result<Dense> {
    let (nr, nc) = match d.shape.as_slice() {
        [r, c] => (*r, *c),
        [r] => (*r, 1),
        _ => return Err(Error::Usage("expected a 2-D array".into())),
    };
    let mut pos = Vec::with_capacity(rows.len() * cols.len());
    for &r in rows {
        for &c in cols {
            if r >= nr || c >= nc {
                return Err(Error::Usage(format!("({r}, {c}) out of range {nr}x{nc}")));
            }
            pos.push(r * nc + c);
        }
    }
    Ok(Dense {
        shape: vec![rows.len(), cols.len()],
        values: d
            .values
            .gather(&pos)
            .map_err(|e| Error::Usage(e.to_string()))?,
    })
}

/// A sparse matrix in memory as an h5sparse group (to reuse its selection code).
fn mem_group(s: &SparseResult) -> MemGroup {
    let mut g = MemGroup::new();
    g.set_str(
        "encoding-type",
        if s.format == Format::Csr {
            "csr_matrix"
        } else {
            "csc_matrix"
        },
    );
    g.set_str("encoding-version", "0.1.0");
    g.set_ints("shape", &[s.shape.0 as i64, s.shape.1 as i64]);
    g.add("indptr", MemArray::new(s.indptr.clone()));
    g.add("indices", MemArray::new(s.indices.clone()));
    g.add("data", MemArray::new(s.data.clone()));
    g
}

/// `rows` × `cols` of an in-memory sparse matrix.
pub(crate) fn sparse_select(
    s: &SparseResult,
    rows: &Selection,
    cols: &Selection,
) -> Result<SparseResult> {
    let g = mem_group(s);
    let sd = SparseDataset::open(&g).map_err(|e| Error::Usage(e.to_string()))?;
    sd.select(rows, cols)
        .map_err(|e| Error::Usage(e.to_string()))
}

fn positions(sel: &Selection) -> Vec<usize> {
    sel.iter().map(|p| p as usize).collect()
}

/// `rows` × `cols` of any matrix, in memory.
pub(crate) fn matrix_select(m: &Matrix, rows: &Selection, cols: &Selection) -> Result<Matrix> {
    Ok(match m {
        Matrix::Dense(d) => Matrix::Dense(dense_select(d, &positions(rows), &positions(cols))?),
        Matrix::Sparse(s) => Matrix::Sparse(sparse_select(s, rows, cols)?),
        Matrix::Backed(b) => b.select(rows, cols)?,
    })
}

/// Rows `rows` of an `obsm`/`varm` element.
pub(crate) fn element_take_rows(e: &crate::Element, rows: &Selection) -> Result<crate::Element> {
    use crate::Element;
    Ok(match e {
        Element::Dense(d) => Element::Dense(dense_take_rows(d, &positions(rows))?),
        Element::Sparse(s) => {
            Element::Sparse(sparse_select(s, rows, &Selection::all(s.shape.1 as u64))?)
        }
        Element::DataFrame(df) => Element::DataFrame(df.take(&positions(rows))?),
        Element::Strings(s) => {
            let stride: usize = s.shape.iter().skip(1).product();
            let mut values = Vec::new();
            for r in rows.iter() {
                let r = r as usize;
                let part = s
                    .values
                    .get(r * stride..(r + 1) * stride)
                    .ok_or_else(|| Error::Usage(format!("row {r} out of range")))?;
                values.extend_from_slice(part);
            }
            let mut shape = s.shape.clone();
            if let Some(x) = shape.first_mut() {
                *x = rows.len() as usize;
            }
            Element::Strings(crate::StringArray {
                shape,
                values,
                width: s.width,
            })
        }
        Element::Records(fields) => Element::Records(
            fields
                .iter()
                .map(|(k, v)| Ok((k.clone(), element_take_rows(v, rows)?)))
                .collect::<Result<Vec<_>>>()?,
        ),
        other => other.clone(),
    })
}
