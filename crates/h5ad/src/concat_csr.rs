//! The CSR output of a concatenation: `data`, `indices`, `indptr` appended block by block
//! to chunked datasets, with a fast path that copies the arrays of a CSR input whose columns
//! need no remapping (no per-entry work beyond a type conversion when the types differ and
//! the bounds check of the column indices).

use h5format::write::{AttrValue, DatasetId, DatasetSpec, FileWriter};
use h5sparse::hdf5::{H5Array, SinkOptions};
use h5sparse::{Array1, ElemType, Values};

use crate::array::convert_to;
use crate::error::{Context, Error, Result};

/// The three arrays of a CSR input group, read directly.
pub(crate) struct RawCsr {
    indptr: H5Array,
    indices: H5Array,
    data: H5Array,
}

impl RawCsr {
    /// The arrays of the CSR group `group` (anndata or legacy h5sparse layout).
    pub(crate) fn open(file: &h5format::File, group: &str) -> Result<RawCsr> {
        let arr = |name: &str| -> Result<H5Array> {
            let p = format!("{group}/{name}");
            H5Array::new(file.dataset(&p).at(&p)?).at(&p)
        };
        Ok(RawCsr {
            indptr: arr("indptr")?,
            indices: arr("indices")?,
            data: arr("data")?,
        })
    }
}

/// Streams the CSR matrix being written.
pub(crate) struct CsrOut<'w> {
    w: &'w mut FileWriter,
    path: String,
    ids: [DatasetId; 3],
    shape: (u64, u64),
    data_elem: ElemType,
    index_elem: ElemType,
    nnz: u64,
    rows_done: u64,
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

/// Convert values to `elem` (integers range-checked).
fn to_elem(v: Values, elem: ElemType, path: &str) -> Result<Values> {
    if v.elem() == elem.value_type() {
        return Ok(v);
    }
    convert_to(&v, elem.value_type()).map_err(|e| Error::element(path, e))
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
        let mut out = CsrOut {
            w,
            path: path.to_string(),
            ids,
            shape,
            data_elem,
            index_elem,
            nnz: 0,
            rows_done: 0,
        };
        out.append(2, Values::I64(vec![0]))?;
        Ok(out)
    }

    fn append(&mut self, which: usize, v: Values) -> Result<()> {
        let elem = if which == 0 {
            self.data_elem
        } else {
            self.index_elem
        };
        let v = to_elem(v, elem, &self.path)?;
        self.w
            .append(self.ids[which], &v.to_le_bytes())
            .at(&self.path)
    }

    fn check_rows(&self, rows: u64) -> Result<()> {
        if self.rows_done + rows > self.shape.0 {
            return Err(Error::element(&self.path, "more rows than the output has"));
        }
        Ok(())
    }

    /// Append rows given with a local `indptr` (first element = offset of the first entry).
    pub(crate) fn push_block(
        &mut self,
        indptr: &[usize],
        indices: &[u64],
        data: Values,
    ) -> Result<()> {
        let rows = indptr.len().saturating_sub(1) as u64;
        self.check_rows(rows)?;
        let (Some(&first), Some(&last)) = (indptr.first(), indptr.last()) else {
            return Ok(());
        };
        if indptr.windows(2).any(|w| w[1] < w[0]) || last > indices.len() || last > data.len() {
            return Err(Error::element(&self.path, "inconsistent block of rows"));
        }
        let n_vars = self.shape.1;
        let part = indices.get(first..last).unwrap_or(&[]);
        if part.iter().any(|&c| c >= n_vars) {
            return Err(Error::element(&self.path, "column index out of range"));
        }
        let ip: Vec<i64> = indptr
            .iter()
            .skip(1)
            .map(|&p| (self.nnz + (p - first) as u64) as i64)
            .collect();
        let data = if first == 0 && last == data.len() {
            data
        } else {
            data.slice(first..last)
                .map_err(|e| Error::element(&self.path, e))?
        };
        self.append(0, data)?;
        self.append(1, Values::I64(part.iter().map(|&c| c as i64).collect()))?;
        self.append(2, Values::I64(ip))?;
        self.nnz += (last - first) as u64;
        self.rows_done += rows;
        Ok(())
    }

    /// Append rows `start..start+len` of a CSR input whose columns are the output's.
    pub(crate) fn push_raw(&mut self, raw: &RawCsr, start: u64, len: u64) -> Result<()> {
        self.check_rows(len)?;
        let path = self.path.clone();
        let corrupt = |what: &str| Error::element(&path, format!("input matrix: {what}"));
        let ip = raw
            .indptr
            .read_ranges_i64(&[start..start + len + 1])
            .at(&path)?;
        let (Some(&a), Some(&b)) = (ip.first(), ip.last()) else {
            return Err(corrupt("indptr too short"));
        };
        if a < 0 || ip.windows(2).any(|w| w[1] < w[0]) || b as u64 > raw.indices.len() {
            return Err(corrupt("indptr is decreasing or past the entries"));
        }
        let range = [a as u64..b as u64];
        let indices = raw.indices.read_ranges_values(&range).at(&path)?;
        let n_vars = self.shape.1;
        let in_range = match &indices {
            Values::I32(v) => v.iter().all(|&c| c >= 0 && (c as u64) < n_vars),
            Values::I64(v) => v.iter().all(|&c| c >= 0 && (c as u64) < n_vars),
            v => v
                .to_i64()
                .map_err(|e| Error::element(&path, e))?
                .iter()
                .all(|&c| c >= 0 && (c as u64) < n_vars),
        };
        if !in_range {
            return Err(corrupt("column index out of range"));
        }
        let data = raw.data.read_ranges_values(&range).at(&path)?;
        if data.len() != indices.len() {
            return Err(corrupt("data and indices lengths differ"));
        }
        let shift = self.nnz as i64 - a;
        let ip: Vec<i64> = ip[1..].iter().map(|&p| p + shift).collect();
        self.append(0, data)?;
        self.append(1, indices)?;
        self.append(2, Values::I64(ip))?;
        self.nnz += (b - a) as u64;
        self.rows_done += len;
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
