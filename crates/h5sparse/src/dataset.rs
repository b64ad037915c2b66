//! Opening a sparse matrix group: encoding detection, metadata, selections.

use crate::error::{Error, Result};
use crate::read::Store;
use crate::result::SparseResult;
use crate::selection::{Sel, Selection};
use crate::source::{Array1, GroupSource};
use crate::values::ElemType;
use std::sync::{Arc, OnceLock};

pub use crate::types::{Encoding, Format, ReadOptions};

/// What `h5sparse info` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SparseInfo {
    /// Storage order.
    pub format: Format,
    /// (rows, cols).
    pub shape: (u64, u64),
    /// Number of stored entries (last indptr element).
    pub nnz: u64,
    /// Element type of `data`.
    pub dtype: ElemType,
    /// Element type of `indices`.
    pub index_dtype: ElemType,
    /// Encoding.
    pub encoding: Encoding,
}

impl SparseInfo {
    /// The JSON object of `h5sparse info` (one line).
    pub fn to_json(&self) -> String {
        format!(
            "{{\"format\": \"{}\", \"shape\": [{}, {}], \"nnz\": {}, \"dtype\": \"{}\", \"index_dtype\": \"{}\", \"encoding\": \"{}\"}}",
            self.format.as_str(),
            self.shape.0,
            self.shape.1,
            self.nnz,
            self.dtype.dtype_str(),
            self.index_dtype.dtype_str(),
            self.encoding.as_str()
        )
    }
}

/// A sparse matrix group opened lazily: only attributes and dataset metadata are read.
#[derive(Clone)]
pub struct SparseDataset {
    format: Format,
    encoding: Encoding,
    shape: (u64, u64),
    indptr: Arc<dyn Array1>,
    indices: Arc<dyn Array1>,
    data: Arc<dyn Array1>,
    opts: ReadOptions,
    nnz: Arc<OnceLock<u64>>,
}

impl std::fmt::Debug for SparseDataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparseDataset")
            .field("format", &self.format)
            .field("encoding", &self.encoding)
            .field("shape", &self.shape)
            .finish_non_exhaustive()
    }
}

fn not_sparse(msg: impl Into<String>) -> Error {
    Error::NotSparse(msg.into())
}

fn shape_of(v: &[i64], what: &str) -> Result<(u64, u64)> {
    match v {
        [r, c] if *r >= 0 && *c >= 0 => Ok((*r as u64, *c as u64)),
        _ => Err(not_sparse(format!("{what} {v:?} is not a 2-D shape"))),
    }
}

impl SparseDataset {
    /// Detect the encoding of `group` and open its `data`, `indices`, `indptr` datasets.
    /// Reads attributes and dataset metadata (and, for 10x, the 2-element `shape` dataset).
    pub fn open(group: &dyn GroupSource) -> Result<SparseDataset> {
        let (format, encoding, shape) = if let Some(et) = group.attr_string("encoding-type")? {
            let format = match et.as_str() {
                "csr_matrix" => Format::Csr,
                "csc_matrix" => Format::Csc,
                other => return Err(not_sparse(format!("encoding-type is {other:?}"))),
            };
            let shape = group
                .attr_ints("shape")?
                .ok_or_else(|| not_sparse("no shape attribute"))?;
            (
                format,
                Encoding::Anndata,
                shape_of(&shape, "shape attribute")?,
            )
        } else if let Some(f) = group.attr_string("h5sparse_format")? {
            let format = match f.as_str() {
                "csr" => Format::Csr,
                "csc" => Format::Csc,
                other => return Err(not_sparse(format!("h5sparse_format is {other:?}"))),
            };
            let shape = group
                .attr_ints("h5sparse_shape")?
                .ok_or_else(|| not_sparse("no h5sparse_shape attribute"))?;
            (
                format,
                Encoding::H5sparse,
                shape_of(&shape, "h5sparse_shape attribute")?,
            )
        } else if let Some(sd) = group.dataset("shape")? {
            if sd.len() != 2 || !sd.elem().is_integer() {
                return Err(not_sparse("10x shape dataset is not 2 integers"));
            }
            let shape = sd.read_ranges_i64(&[0..2])?;
            (
                Format::Csc,
                Encoding::TenX,
                shape_of(&shape, "shape dataset")?,
            )
        } else {
            return Err(not_sparse(
                "no encoding-type or h5sparse_format attribute and no 10x shape dataset",
            ));
        };
        let get = |name: &str| -> Result<Arc<dyn Array1>> {
            group
                .dataset(name)?
                .ok_or_else(|| not_sparse(format!("no {name} dataset")))
        };
        let (data, indices, indptr) = (get("data")?, get("indices")?, get("indptr")?);
        // Remote files: indptr is kept with the file's metadata for the next open, and the
        // first nodes of the three chunk indexes are fetched in one burst (no-ops otherwise).
        indptr.keep_for_reopen();
        for a in [&indptr, &indices, &data] {
            a.announce();
        }
        for a in [&indptr, &indices, &data] {
            a.prepare();
        }
        for (name, a) in [("indices", &indices), ("indptr", &indptr)] {
            if !a.elem().is_integer() {
                return Err(not_sparse(format!(
                    "{name} has type {}",
                    a.elem().dtype_str()
                )));
            }
        }
        let major = match format {
            Format::Csr => shape.0,
            Format::Csc => shape.1,
        };
        if indptr.len() != major.saturating_add(1) {
            return Err(Error::corrupt(
                "indptr",
                0,
                format!(
                    "has {} elements for {} {}",
                    indptr.len(),
                    major,
                    if format == Format::Csr {
                        "rows"
                    } else {
                        "columns"
                    }
                ),
            ));
        }
        if indices.len() != data.len() {
            return Err(Error::corrupt(
                "indices",
                0,
                format!("has {} elements but data has {}", indices.len(), data.len()),
            ));
        }
        Ok(SparseDataset {
            format,
            encoding,
            shape,
            indptr,
            indices,
            data,
            opts: ReadOptions::default(),
            nnz: Arc::new(OnceLock::new()),
        })
    }

    /// Replace the read options.
    pub fn with_options(mut self, opts: ReadOptions) -> Self {
        self.opts = opts;
        self
    }

    /// The stored arrays (indptr, indices, data), for streaming readers inside the crate.
    pub(crate) fn arrays(&self) -> (&dyn Array1, &dyn Array1, &dyn Array1) {
        (&*self.indptr, &*self.indices, &*self.data)
    }

    /// Storage order.
    pub fn format(&self) -> Format {
        self.format
    }
    /// Encoding.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }
    /// (rows, cols).
    pub fn shape(&self) -> (u64, u64) {
        self.shape
    }
    /// Element type of `data`.
    pub fn dtype(&self) -> ElemType {
        self.data.elem()
    }
    /// Element type of `indices`.
    pub fn index_dtype(&self) -> ElemType {
        self.indices.elem()
    }

    /// Number of stored entries: the last indptr element (one element read, then cached).
    pub fn nnz(&self) -> Result<u64> {
        if let Some(n) = self.nnz.get() {
            return Ok(*n);
        }
        let last = self.indptr.len().saturating_sub(1);
        let v = self.indptr.read_ranges_i64(&[last..last + 1])?;
        let n = v.first().copied().unwrap_or(0);
        let n = u64::try_from(n)
            .ok()
            .filter(|&n| n <= self.indices.len())
            .ok_or_else(|| {
                Error::corrupt(
                    "indptr",
                    last,
                    format!("nnz {n} outside 0..={}", self.indices.len()),
                )
            })?;
        Ok(*self.nnz.get_or_init(|| n))
    }

    /// Everything `h5sparse info` prints.
    pub fn info(&self) -> Result<SparseInfo> {
        Ok(SparseInfo {
            format: self.format,
            shape: self.shape,
            nnz: self.nnz()?,
            dtype: self.dtype(),
            index_dtype: self.index_dtype(),
            encoding: self.encoding,
        })
    }

    /// Select `rows` and `cols` (resolved selections), as scipy's `m[rows][:, cols]`.
    pub fn select(&self, rows: &Selection, cols: &Selection) -> Result<SparseResult> {
        for (sel, n, axis) in [(rows, self.shape.0, "row"), (cols, self.shape.1, "column")] {
            let bad = match sel {
                Selection::Range { len: 0, .. } => false,
                Selection::Range { len, .. } => {
                    !matches!(sel.get(0), Some(p) if p < n)
                        || !matches!(sel.get(len - 1), Some(p) if p < n)
                }
                Selection::List(v) => v.iter().any(|&p| p >= n),
            };
            if bad {
                return Err(Error::Selection(format!(
                    "{axis} selection is outside 0..{n}"
                )));
            }
        }
        let (major, minor, minor_len) = match self.format {
            Format::Csr => (rows, cols, self.shape.1),
            Format::Csc => (cols, rows, self.shape.0),
        };
        let store = Store {
            indptr: &*self.indptr,
            indices: &*self.indices,
            data: &*self.data,
            minor_len,
            opts: &self.opts,
        };
        let c = store.select(major, minor)?;
        let too_big = |n: u64| Error::TooLarge {
            what: "result shape",
            requested: n,
        };
        let nr = usize::try_from(rows.len()).map_err(|_| too_big(rows.len()))?;
        let nc = usize::try_from(cols.len()).map_err(|_| too_big(cols.len()))?;
        Ok(SparseResult {
            format: self.format,
            shape: (nr, nc),
            indptr: c.indptr,
            indices: c.indices,
            data: c.data,
        })
    }

    /// Select with unresolved selections.
    pub fn select_sel(&self, rows: &Sel, cols: &Sel) -> Result<SparseResult> {
        self.select(&rows.resolve(self.shape.0)?, &cols.resolve(self.shape.1)?)
    }

    /// Select with the CLI text forms (`None` = the whole axis).
    pub fn select_text(&self, rows: Option<&str>, cols: Option<&str>) -> Result<SparseResult> {
        let r = match rows {
            Some(t) => Selection::parse(t, self.shape.0)?,
            None => Selection::all(self.shape.0),
        };
        let c = match cols {
            Some(t) => Selection::parse(t, self.shape.1)?,
            None => Selection::all(self.shape.1),
        };
        self.select(&r, &c)
    }
}
