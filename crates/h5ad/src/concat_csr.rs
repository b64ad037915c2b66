//! The CSR output of a concatenation: `data`, `indices`, `indptr` appended block by block
//! to chunked datasets.
//!
//! The work is split in two so that reading (and inflating) the inputs overlaps writing the
//! output: a [`CsrEncoder`] turns blocks of input rows into [`Piece`]s — the bytes to append
//! to each of the three datasets, types converted, `indptr` shifted, column indices checked —
//! on a reader thread, and [`CsrOut`] appends them to the file. A CSR input whose columns are
//! the output's is copied array to array ([`CsrEncoder::raw_entries`], in blocks of whole input
//! chunks, its `indptr` apart): no per-entry work beyond the
//! bounds check of the column indices, and when an input array is stored as the output
//! stores it (same type, little-endian), its decoded bytes are appended as they are.

use h5format::read::datatype::ByteOrder;
use h5format::value::numeric_source;
use h5format::write::{AttrValue, DatasetId, DatasetSpec, FileWriter};
use h5sparse::hdf5::{H5Array, SinkOptions};
use h5sparse::{Array1, ElemType, Values};

use crate::array::convert_to;
use crate::error::{Context, Error, Result};

/// One array of a CSR input group.
struct Stored {
    arr: H5Array,
    ds: h5format::Dataset,
    /// The element type when the stored bytes are that type's little-endian form (what the
    /// writer stores), so they can be copied without decoding into [`Values`].
    le: Option<ElemType>,
}

impl Stored {
    fn open(file: &h5format::File, p: &str) -> Result<Stored> {
        let ds = file.dataset(p).at(p)?;
        let arr = H5Array::new(ds.clone()).at(p)?;
        let le = match numeric_source(ds.dtype()) {
            Some((e, ByteOrder::Little, None)) if e == arr.elem() && e != ElemType::F16 => Some(e),
            _ => None,
        };
        Ok(Stored { arr, ds, le })
    }

    /// The decoded bytes of `range` when they are already `elem`'s little-endian form.
    fn raw_as(&self, elem: ElemType, range: std::ops::Range<u64>) -> Result<Option<Vec<u8>>> {
        if self.le != Some(elem) {
            return Ok(None);
        }
        let p = self.ds.path().to_string();
        Ok(Some(self.ds.read_ranges_raw(&[range]).at(&p)?))
    }
}

/// The three arrays of a CSR input group, read directly.
pub(crate) struct RawCsr {
    indptr: H5Array,
    indices: Stored,
    data: Stored,
}

impl RawCsr {
    /// The arrays of the CSR group `group` (anndata or legacy h5sparse layout).
    pub(crate) fn open(file: &h5format::File, group: &str) -> Result<RawCsr> {
        let indptr = format!("{group}/indptr");
        Ok(RawCsr {
            indptr: H5Array::new(file.dataset(&indptr).at(&indptr)?).at(&indptr)?,
            indices: Stored::open(file, &format!("{group}/indices"))?,
            data: Stored::open(file, &format!("{group}/data"))?,
        })
    }
}

fn dataset_spec(elem: ElemType, o: &SinkOptions) -> DatasetSpec {
    let mut spec = DatasetSpec::new(elem.write_dtype(), vec![0])
        .chunked(vec![o.chunk_elems.max(1)])
        .unlimited();
    if let Some(level) = o.gzip {
        if o.shuffle {
            spec = spec.shuffle();
        }
        spec = spec.deflate(level);
    }
    spec
}

/// Values converted to `elem` (integers range-checked) as the bytes the writer appends.
pub(crate) fn encode(v: Values, elem: ElemType, path: &str) -> Result<Vec<u8>> {
    if v.elem() == elem.value_type() {
        return Ok(v.to_le_bytes());
    }
    let v = convert_to(&v, elem.value_type()).map_err(|e| Error::element(path, e))?;
    Ok(v.to_le_bytes())
}

/// Whether every value of `v` (integers) lies in `0..n`.
pub(crate) fn all_in_range(v: &Values, n: u64, path: &str) -> Result<bool> {
    Ok(match v {
        Values::I32(v) => v.iter().all(|&c| c >= 0 && (c as u64) < n),
        Values::I64(v) => v.iter().all(|&c| c >= 0 && (c as u64) < n),
        v => v
            .to_i64()
            .map_err(|e| Error::element(path, e))?
            .iter()
            .all(|&c| c >= 0 && (c as u64) < n),
    })
}

/// Whether every little-endian integer of `elem` in `bytes` lies in `0..n`; `None` when
/// `elem` is not a type checked on bytes.
fn le_in_range(bytes: &[u8], elem: ElemType, n: u64) -> Option<bool> {
    match elem {
        ElemType::I32 => Some(bytes.chunks_exact(4).all(|c| {
            let v = i32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            v >= 0 && (v as u64) < n
        })),
        ElemType::I64 => Some(bytes.chunks_exact(8).all(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            let v = i64::from_le_bytes(b);
            v >= 0 && (v as u64) < n
        })),
        _ => None,
    }
}

/// Rows for the output: the bytes to append to `data`, `indices` and `indptr`.
pub(crate) struct Piece {
    rows: u64,
    bytes: [Vec<u8>; 3],
}

/// Turns blocks of input rows into [`Piece`]s, in output order.
pub(crate) struct CsrEncoder {
    path: String,
    n_vars: u64,
    data_elem: ElemType,
    index_elem: ElemType,
    nnz: u64,
}

impl CsrEncoder {
    /// An encoder for the output `path` with `n_vars` columns.
    pub(crate) fn new(path: &str, n_vars: u64, data_elem: ElemType, index_elem: ElemType) -> Self {
        CsrEncoder {
            path: path.to_string(),
            n_vars,
            data_elem,
            index_elem,
            nnz: 0,
        }
    }

    /// The shifted `indptr` ends of a block as the output's index type.
    fn indptr(&self, ends: impl Iterator<Item = u64>) -> Result<Vec<u8>> {
        let v: Vec<i64> = ends.map(|p| (self.nnz + p) as i64).collect();
        encode(Values::I64(v), self.index_elem, &self.path)
    }

    /// Rows given with a local `indptr` (first element = offset of the first entry).
    pub(crate) fn block(
        &mut self,
        indptr: &[usize],
        indices: &[u64],
        data: Values,
    ) -> Result<Piece> {
        let rows = indptr.len().saturating_sub(1) as u64;
        let (Some(&first), Some(&last)) = (indptr.first(), indptr.last()) else {
            return Ok(Piece {
                rows: 0,
                bytes: Default::default(),
            });
        };
        if indptr.windows(2).any(|w| w[1] < w[0]) || last > indices.len() || last > data.len() {
            return Err(Error::element(&self.path, "inconsistent block of rows"));
        }
        let part = indices.get(first..last).unwrap_or(&[]);
        if part.iter().any(|&c| c >= self.n_vars) {
            return Err(Error::element(&self.path, "column index out of range"));
        }
        let ip = self.indptr(indptr.iter().skip(1).map(|&p| (p - first) as u64))?;
        let data = if first == 0 && last == data.len() {
            data
        } else {
            data.slice(first..last)
                .map_err(|e| Error::element(&self.path, e))?
        };
        let data = encode(data, self.data_elem, &self.path)?;
        let idx = Values::I64(part.iter().map(|&c| c as i64).collect());
        let idx = encode(idx, self.index_elem, &self.path)?;
        self.nnz += (last - first) as u64;
        Ok(Piece {
            rows,
            bytes: [data, idx, ip],
        })
    }

    /// The output path.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// The entry range `indptr[0]..indptr[rows]` of a CSR input.
    pub(crate) fn raw_bounds(&self, raw: &RawCsr, rows: u64) -> Result<(u64, u64)> {
        let path = self.path.as_str();
        let first = raw.indptr.read_ranges_i64(&[0..1]).at(path)?;
        let last = raw.indptr.read_ranges_i64(&[rows..rows + 1]).at(path)?;
        match (first.first(), last.first()) {
            (Some(&a), Some(&b)) if 0 <= a && a <= b && b as u64 <= raw.indices.arr.len() => {
                Ok((a as u64, b as u64))
            }
            _ => Err(Error::element(
                path,
                "input matrix: indptr is decreasing or past the entries",
            )),
        }
    }

    /// Entries per block of [`CsrEncoder::raw_entries`]: about `block_elems`, a whole number
    /// of the input's chunks (so that no chunk is decoded twice).
    pub(crate) fn raw_step(raw: &RawCsr, block_elems: usize) -> u64 {
        let chunk = raw.data.arr.chunk_len().unwrap_or(1).max(1);
        (block_elems as u64 / chunk).max(1) * chunk
    }

    /// The entries `range` of a CSR input whose columns are the output's: `data` and
    /// `indices` only (rows come with [`CsrEncoder::raw_indptr`]).
    pub(crate) fn raw_entries(&self, raw: &RawCsr, range: std::ops::Range<u64>) -> Result<Piece> {
        let path = self.path.as_str();
        let corrupt = |what: &str| Error::element(path, format!("input matrix: {what}"));
        let n_vars = self.n_vars;
        let indices = match raw.indices.raw_as(self.index_elem, range.clone())? {
            Some(bytes) if le_in_range(&bytes, self.index_elem, n_vars) == Some(true) => bytes,
            Some(_) => return Err(corrupt("column index out of range")),
            None => {
                let v = raw
                    .indices
                    .arr
                    .read_ranges_values(std::slice::from_ref(&range))
                    .at(path)?;
                if !all_in_range(&v, n_vars, path)? {
                    return Err(corrupt("column index out of range"));
                }
                encode(v, self.index_elem, path)?
            }
        };
        let n = range.end - range.start;
        let data = match raw.data.raw_as(self.data_elem, range.clone())? {
            Some(bytes) => bytes,
            None => {
                let v = raw.data.arr.read_ranges_values(&[range]).at(path)?;
                encode(v, self.data_elem, path)?
            }
        };
        if data.len() as u64 != n * self.data_elem.size() as u64
            || indices.len() as u64 != n * self.index_elem.size() as u64
        {
            return Err(corrupt("data and indices lengths differ"));
        }
        Ok(Piece {
            rows: 0,
            bytes: [data, indices, Vec::new()],
        })
    }

    /// `indptr` of rows `start..start+len` of a CSR input whose entries are `bounds`,
    /// shifted to follow the entries written before this input; `prev` carries the last
    /// value read (checked: non-decreasing, within `bounds`, the last row ending at its end).
    pub(crate) fn raw_indptr(
        &self,
        raw: &RawCsr,
        start: u64,
        len: u64,
        bounds: (u64, u64),
        prev: &mut i64,
    ) -> Result<Piece> {
        let path = self.path.as_str();
        let ip = raw
            .indptr
            .read_ranges_i64(&[start + 1..start + len + 1])
            .at(path)?;
        let mut last = *prev;
        for &p in &ip {
            if p < last || p as u64 > bounds.1 {
                return Err(Error::element(
                    path,
                    "input matrix: indptr is decreasing or past the entries",
                ));
            }
            last = p;
        }
        *prev = last;
        let a = bounds.0 as i64;
        Ok(Piece {
            rows: len,
            bytes: [
                Vec::new(),
                Vec::new(),
                self.indptr(ip.iter().map(|&p| (p - a) as u64))?,
            ],
        })
    }

    /// Count the entries of an input written with [`CsrEncoder::raw_entries`].
    pub(crate) fn add_entries(&mut self, n: u64) {
        self.nnz += n;
    }
}

/// Streams the CSR matrix being written.
pub(crate) struct CsrOut<'w> {
    w: &'w mut FileWriter,
    path: String,
    ids: [DatasetId; 3],
    shape: (u64, u64),
    rows_done: u64,
}

impl<'w> CsrOut<'w> {
    /// Create the group `path` with empty `data`, `indices` and `indptr = [0]`.
    pub(crate) fn new(
        w: &'w mut FileWriter,
        path: &str,
        shape: (u64, u64),
        data_elem: ElemType,
        index_elem: ElemType,
        o: &SinkOptions,
    ) -> Result<Self> {
        w.create_group(path).at(path)?;
        let mut ids = Vec::with_capacity(3);
        for (name, elem) in [
            ("data", data_elem),
            ("indices", index_elem),
            ("indptr", index_elem),
        ] {
            let p = format!("{path}/{name}");
            ids.push(w.create_dataset(&p, dataset_spec(elem, o)).at(&p)?);
        }
        let ids = [ids[0], ids[1], ids[2]];
        let zero = encode(Values::I64(vec![0]), index_elem, path)?;
        w.append(ids[2], &zero).at(path)?;
        Ok(CsrOut {
            w,
            path: path.to_string(),
            ids,
            shape,
            rows_done: 0,
        })
    }

    /// Append the rows of one piece.
    pub(crate) fn push(&mut self, piece: Piece) -> Result<()> {
        if self.rows_done + piece.rows > self.shape.0 {
            return Err(Error::element(&self.path, "more rows than the output has"));
        }
        for (id, bytes) in self.ids.iter().zip(&piece.bytes) {
            if !bytes.is_empty() {
                self.w.append(*id, bytes).at(&self.path)?;
            }
        }
        self.rows_done += piece.rows;
        Ok(())
    }

    /// Check that every row was written and set the encoding attributes.
    pub(crate) fn finish(self) -> Result<()> {
        if self.rows_done != self.shape.0 {
            return Err(Error::element(&self.path, "not every row was written"));
        }
        let p = &self.path;
        crate::set_encoding(self.w, p, "csr_matrix", "0.1.0").at(p)?;
        let shape = [self.shape.0 as i64, self.shape.1 as i64];
        self.w.set_attr(p, "shape", AttrValue::array(&shape)).at(p)
    }
}
