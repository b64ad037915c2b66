//! Streaming writer of sparse matrix groups.
//!
//! [`SparseWriter`] receives the matrix as consecutive blocks of rows (CSR) or columns (CSC)
//! and forwards `data`/`indices`/`indptr` to a [`SparseSink`] in pieces of at most
//! `buffer_elems` elements, so memory stays bounded whatever the matrix size. At
//! [`SparseWriter::finish`] the encoding attributes (or the 10x `shape` dataset) are written.

use crate::dataset::{Encoding, Format};
use crate::error::{Error, Result};
use crate::values::{ElemType, Values};

/// Where a sparse matrix group is written (implemented by the HDF5 writer, and by
/// [`MemSink`] in memory).
pub trait SparseSink {
    /// Create the 1-D dataset `name` of type `elem`; `len_hint` is its final length when
    /// known (otherwise the dataset must be extendable).
    fn create_dataset(&mut self, name: &str, elem: ElemType, len_hint: Option<u64>) -> Result<()>;
    /// Append values (converted to the dataset's type by the writer already).
    fn append(&mut self, name: &str, values: &Values) -> Result<()>;
    /// Set a string attribute on the group.
    fn set_attr_string(&mut self, name: &str, value: &str) -> Result<()>;
    /// Set a 1-D integer attribute on the group.
    fn set_attr_ints(&mut self, name: &str, value: &[i64]) -> Result<()>;
}

/// What to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterOptions {
    /// Storage order (10x requires CSC).
    pub format: Format,
    /// Attributes to write.
    pub encoding: Encoding,
    /// (rows, cols).
    pub shape: (u64, u64),
    /// Type of `data` (values are converted if needed).
    pub data_elem: ElemType,
    /// Type of `indices` and `indptr` (integer).
    pub index_elem: ElemType,
    /// Total number of entries, when known (passed to the sink as the length hint).
    pub nnz_hint: Option<u64>,
    /// Elements buffered per dataset before they go to the sink.
    pub buffer_elems: usize,
}

impl WriterOptions {
    /// Options for a matrix: anndata CSR of f64 with i32 indices when they fit, else i64.
    pub fn new(format: Format, shape: (u64, u64), data_elem: ElemType) -> Self {
        let index_elem = if shape.0.max(shape.1) <= i32::MAX as u64 {
            ElemType::I32
        } else {
            ElemType::I64
        };
        WriterOptions {
            format,
            encoding: Encoding::Anndata,
            shape,
            data_elem,
            index_elem,
            nnz_hint: None,
            buffer_elems: 1 << 20,
        }
    }
}

/// Streams a sparse matrix into a [`SparseSink`].
#[derive(Debug)]
pub struct SparseWriter<S: SparseSink> {
    sink: S,
    opts: WriterOptions,
    major_done: u64,
    nnz: u64,
    indptr_buf: Vec<i64>,
    /// Indices already in the index type (no second conversion pass at flush).
    indices_buf: Values,
    data_buf: Values,
}

impl<S: SparseSink> SparseWriter<S> {
    /// Create the datasets and write `indptr[0] = 0`.
    pub fn new(mut sink: S, opts: WriterOptions) -> Result<Self> {
        if opts.encoding == Encoding::TenX && opts.format != Format::Csc {
            return Err(Error::Usage(
                "the 10x encoding stores CSC matrices only".into(),
            ));
        }
        if !opts.index_elem.is_integer() {
            return Err(Error::Usage(format!(
                "index type {} is not an integer",
                opts.index_elem.dtype_str()
            )));
        }
        let major = match opts.format {
            Format::Csr => opts.shape.0,
            Format::Csc => opts.shape.1,
        };
        sink.create_dataset("data", opts.data_elem, opts.nnz_hint)?;
        sink.create_dataset("indices", opts.index_elem, opts.nnz_hint)?;
        sink.create_dataset("indptr", opts.index_elem, Some(major.saturating_add(1)))?;
        let data_buf = Values::empty(opts.data_elem);
        let indices_buf = Values::empty(opts.index_elem);
        Ok(SparseWriter {
            sink,
            opts,
            major_done: 0,
            nnz: 0,
            indptr_buf: vec![0],
            indices_buf,
            data_buf,
        })
    }

    fn major_len(&self) -> u64 {
        match self.opts.format {
            Format::Csr => self.opts.shape.0,
            Format::Csc => self.opts.shape.1,
        }
    }

    fn minor_len(&self) -> u64 {
        match self.opts.format {
            Format::Csr => self.opts.shape.1,
            Format::Csc => self.opts.shape.0,
        }
    }

    /// Append consecutive rows (CSR) / columns (CSC): `indptr` is local (`indptr[0]` is the
    /// offset of the first entry in `indices`/`data`), one element more than the rows.
    pub fn push_block(&mut self, indptr: &[usize], indices: &[u64], data: &Values) -> Result<()> {
        let rows = indptr.len().saturating_sub(1) as u64;
        if self.major_done + rows > self.major_len() {
            return Err(Error::Usage(format!(
                "{} rows/columns pushed for a major dimension of {}",
                self.major_done + rows,
                self.major_len()
            )));
        }
        if indices.len() != data.len() {
            return Err(Error::Usage("indices and data lengths differ".into()));
        }
        let (Some(&first), Some(&last)) = (indptr.first(), indptr.last()) else {
            return Ok(());
        };
        if indptr.windows(2).any(|w| w[1] < w[0]) || last > indices.len() {
            return Err(Error::Usage(
                "local indptr is decreasing or past the entries".into(),
            ));
        }
        let minor = self.minor_len();
        let entries = &indices[first..last];
        if let Some(c) = entries.iter().find(|&&c| c >= minor) {
            return Err(Error::Usage(format!("index {c} outside 0..{minor}")));
        }
        let large = last - first >= self.opts.buffer_elems / 2;
        if data.elem() == self.data_buf.elem() && first == 0 && last == data.len() && large {
            // A large block of the right type goes to the sink as it is (nothing buffered
            // before it, so the order of `data` is kept): no copy into the buffer.
            if !self.data_buf.is_empty() {
                self.sink.append("data", &self.data_buf)?;
                clear(&mut self.data_buf);
            }
            self.sink.append("data", data)?;
        } else if data.elem() == self.data_buf.elem() {
            self.data_buf.append_range(data, first..last)?;
        } else {
            let converted = convert(&data.slice(first..last)?, self.opts.data_elem)?;
            self.data_buf.append(&converted)?;
        }
        extend_indices(&mut self.indices_buf, entries, minor)?;
        self.push_indptr(indptr)?;
        self.major_done += rows;
        if self.indices_buf.len() >= self.opts.buffer_elems {
            self.flush()?;
        }
        Ok(())
    }

    /// [`push_block`](Self::push_block) with `indices` in any integer type (`Values`): a
    /// large block whose indices already have the file's index type goes to the sink as it is,
    /// like `data` — no conversion, no copy into the buffer.
    ///
    /// ```
    /// use h5sparse::write::{MemSink, SparseWriter, WriterOptions};
    /// use h5sparse::{ElemType, Format, Values};
    ///
    /// let opts = WriterOptions::new(Format::Csr, (2, 3), ElemType::F32);
    /// let mut w = SparseWriter::new(MemSink::new(), opts).unwrap();
    /// // Two rows: [0, 2] and [1], int32 indices as numpy/scipy hold them.
    /// w.push_block_values(&[0, 2, 3], &Values::I32(vec![0, 2, 1]), &Values::F32(vec![1.0, 2.0, 3.0]))
    ///     .unwrap();
    /// w.finish().unwrap();
    /// ```
    pub fn push_block_values(
        &mut self,
        indptr: &[usize],
        indices: &Values,
        data: &Values,
    ) -> Result<()> {
        if !indices.elem().is_integer() {
            return Err(Error::Usage("indices must be integers".into()));
        }
        let (Some(&first), Some(&last)) = (indptr.first(), indptr.last()) else {
            return Ok(());
        };
        let large = last.saturating_sub(first) >= self.opts.buffer_elems / 2;
        let whole = first == 0 && last == indices.len() && last == data.len();
        if !(indices.elem() == self.indices_buf.elem() && whole && large) {
            // Small or converted blocks: the buffered path.
            let wide: Vec<u64> = indices
                .to_usize_vec()?
                .into_iter()
                .map(|x| x as u64)
                .collect();
            return self.push_block(indptr, &wide, data);
        }
        let rows = indptr.len() - 1;
        if self.major_done + rows as u64 > self.major_len() {
            return Err(Error::Usage(format!(
                "{} rows/columns pushed for a major dimension of {}",
                self.major_done + rows as u64,
                self.major_len()
            )));
        }
        if indptr.windows(2).any(|w| w[1] < w[0]) {
            return Err(Error::Usage(
                "local indptr is decreasing or past the entries".into(),
            ));
        }
        let minor = self.minor_len();
        if let Some(k) = indices.first_outside(minor) {
            let shown = indices.get_f64(k).unwrap_or(f64::NAN);
            return Err(Error::Usage(format!("index {shown} outside 0..{minor}")));
        }
        // Large blocks of the file's types go to the sink as they are (the buffers, holding
        // earlier entries, first).
        if !self.indices_buf.is_empty() {
            self.sink.append("indices", &self.indices_buf)?;
            clear(&mut self.indices_buf);
        }
        self.sink.append("indices", indices)?;
        if !self.data_buf.is_empty() {
            self.sink.append("data", &self.data_buf)?;
            clear(&mut self.data_buf);
        }
        if data.elem() == self.data_buf.elem() {
            self.sink.append("data", data)?;
        } else {
            self.sink
                .append("data", &convert(data, self.opts.data_elem)?)?;
        }
        self.push_indptr(indptr)?;
        self.major_done += rows as u64;
        Ok(())
    }

    /// Extend the buffered indptr by the rows of a local `indptr`.
    fn push_indptr(&mut self, indptr: &[usize]) -> Result<()> {
        for w in indptr.windows(2) {
            self.nnz += (w[1] - w[0]) as u64;
            self.indptr_buf
                .push(i64::try_from(self.nnz).map_err(|_| Error::Usage("nnz overflow".into()))?);
            if self.indptr_buf.len() >= self.opts.buffer_elems {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Append one row (CSR) / column (CSC).
    pub fn push_major(&mut self, indices: &[u64], data: &Values) -> Result<()> {
        self.push_block(&[0, indices.len()], indices, data)
    }

    fn flush(&mut self) -> Result<()> {
        let ie = self.opts.index_elem;
        // The buffers are emptied, not replaced: their memory is reused (no fresh pages).
        if !self.indices_buf.is_empty() {
            self.sink.append("indices", &self.indices_buf)?;
            clear(&mut self.indices_buf);
        }
        if !self.data_buf.is_empty() {
            self.sink.append("data", &self.data_buf)?;
            clear(&mut self.data_buf);
        }
        if !self.indptr_buf.is_empty() {
            self.sink
                .append("indptr", &Values::from_i64(ie, &self.indptr_buf)?)?;
            self.indptr_buf.clear();
        }
        Ok(())
    }

    /// Check that every row/column was pushed, flush, write the encoding, return the sink.
    pub fn finish(mut self) -> Result<S> {
        if self.major_done != self.major_len() {
            return Err(Error::Usage(format!(
                "only {} of {} rows/columns were pushed",
                self.major_done,
                self.major_len()
            )));
        }
        self.flush()?;
        let (r, c) = self.opts.shape;
        let shape = [
            i64::try_from(r).unwrap_or(i64::MAX),
            i64::try_from(c).unwrap_or(i64::MAX),
        ];
        let f = self.opts.format;
        match self.opts.encoding {
            Encoding::Anndata => {
                let et = if f == Format::Csr {
                    "csr_matrix"
                } else {
                    "csc_matrix"
                };
                self.sink.set_attr_string("encoding-type", et)?;
                self.sink.set_attr_string("encoding-version", "0.1.0")?;
                self.sink.set_attr_ints("shape", &shape)?;
            }
            Encoding::H5sparse => {
                self.sink.set_attr_string("h5sparse_format", f.as_str())?;
                self.sink.set_attr_ints("h5sparse_shape", &shape)?;
            }
            Encoding::TenX => {
                self.sink.create_dataset("shape", ElemType::I32, Some(2))?;
                self.sink
                    .append("shape", &Values::from_i64(ElemType::I32, &shape)?)?;
            }
        }
        Ok(self.sink)
    }
}

/// Write a matrix given as coordinates (`rows[k]`, `cols[k]`, `data[k]`, any order; duplicates
/// are kept, in input order) through a [`SparseWriter`]: entries are ordered by an index
/// permutation (the coordinates themselves are not copied) and pushed in blocks of at most
/// `opts.buffer_elems` entries (a single row/column longer than that is pushed whole).
pub fn write_coo<S: SparseSink>(
    sink: S,
    mut opts: WriterOptions,
    rows: &[u64],
    cols: &[u64],
    data: &Values,
) -> Result<S> {
    let n = rows.len();
    if cols.len() != n || data.len() != n {
        return Err(Error::Usage("rows, cols and data lengths differ".into()));
    }
    let (major, minor) = match opts.format {
        Format::Csr => (rows, cols),
        Format::Csc => (cols, rows),
    };
    let (rmax, cmax) = opts.shape;
    if let Some(k) = (0..n).find(|&k| rows[k] >= rmax || cols[k] >= cmax) {
        return Err(Error::Usage(format!(
            "entry ({}, {}) outside the shape {rmax}x{cmax}",
            rows[k], cols[k]
        )));
    }
    let mut perm: Vec<usize> = (0..n).collect();
    perm.sort_by_key(|&k| (major[k], minor[k]));
    opts.nnz_hint = Some(n as u64);
    let major_len = match opts.format {
        Format::Csr => rmax,
        Format::Csc => cmax,
    };
    let block = opts.buffer_elems.max(1);
    let mut w = SparseWriter::new(sink, opts)?;
    let mut p = 0usize;
    let mut next_major = 0u64;
    while next_major < major_len {
        // One block: whole majors until `block` entries are reached.
        let mut local = vec![0usize];
        let start = p;
        while next_major < major_len {
            let mut q = p;
            while q < n && major[perm[q]] == next_major {
                q += 1;
            }
            if q - start > block && p > start {
                break;
            }
            local.push(q - start);
            p = q;
            next_major += 1;
            if p - start >= block {
                break;
            }
        }
        let idx: Vec<u64> = perm[start..p].iter().map(|&k| minor[k]).collect();
        let vals = data.gather(&perm[start..p])?;
        w.push_block(&local, &idx, &vals)?;
    }
    w.finish()
}

/// Convert values to the variant carrying `elem` (integers range-checked; floats to floats).
/// Empty `v`, keeping its allocation.
fn clear(v: &mut Values) {
    match v {
        Values::I8(x) => x.clear(),
        Values::I16(x) => x.clear(),
        Values::I32(x) => x.clear(),
        Values::I64(x) => x.clear(),
        Values::U8(x) => x.clear(),
        Values::U16(x) => x.clear(),
        Values::U32(x) => x.clear(),
        Values::U64(x) => x.clear(),
        Values::F32(x) => x.clear(),
        Values::F64(x) => x.clear(),
        Values::Bool(x) => x.clear(),
    }
}

/// Append `entries` (all below `minor`, already checked) to the index buffer in its own type:
/// a plain cast when `minor - 1` fits the type, else the checked conversion (which fails on the
/// first index that does not fit).
fn extend_indices(buf: &mut Values, entries: &[u64], minor: u64) -> Result<()> {
    let top = minor.saturating_sub(1);
    match buf {
        Values::I32(v) if top <= i32::MAX as u64 => v.extend(entries.iter().map(|&c| c as i32)),
        Values::I64(v) if top <= i64::MAX as u64 => v.extend(entries.iter().map(|&c| c as i64)),
        Values::U32(v) if top <= u64::from(u32::MAX) => v.extend(entries.iter().map(|&c| c as u32)),
        Values::U64(v) => v.extend_from_slice(entries),
        other => {
            let wide: Vec<i64> = entries
                .iter()
                .map(|&c| {
                    i64::try_from(c).map_err(|_| Error::Usage(format!("index {c} too large")))
                })
                .collect::<Result<_>>()?;
            other.append(&Values::from_i64(other.elem(), &wide)?)?;
        }
    }
    Ok(())
}

fn convert(v: &Values, elem: ElemType) -> Result<Values> {
    if v.elem() == elem.value_type() {
        return Ok(v.clone());
    }
    match elem.value_type() {
        ElemType::F64 => Ok(Values::F64(v.to_f64())),
        ElemType::F32 => Ok(Values::F32(
            v.to_f64().into_iter().map(|x| x as f32).collect(),
        )),
        ElemType::Bool => Ok(Values::Bool(
            v.to_f64().into_iter().map(|x| x != 0.0).collect(),
        )),
        e => Values::from_i64(e, &v.to_i64()?),
    }
}

/// A sink that builds a [`crate::mem::MemGroup`].
#[derive(Debug, Default)]
pub struct MemSink {
    /// The group being built.
    pub group: crate::mem::MemGroup,
    pending: std::collections::HashMap<String, Values>,
    /// Largest single `append` seen, in elements (to check bounded buffering).
    pub max_append: usize,
}

impl MemSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }
    /// Turn the appended values into datasets and return the group.
    pub fn into_group(mut self) -> crate::mem::MemGroup {
        for (name, v) in self.pending.drain() {
            self.group.add(&name, crate::mem::MemArray::new(v));
        }
        self.group
    }
}

impl SparseSink for MemSink {
    fn create_dataset(&mut self, name: &str, elem: ElemType, _len_hint: Option<u64>) -> Result<()> {
        self.pending.insert(name.into(), Values::empty(elem));
        Ok(())
    }
    fn append(&mut self, name: &str, values: &Values) -> Result<()> {
        self.max_append = self.max_append.max(values.len());
        self.pending
            .get_mut(name)
            .ok_or_else(|| Error::Usage(format!("no dataset {name}")))?
            .append(values)
    }
    fn set_attr_string(&mut self, name: &str, value: &str) -> Result<()> {
        self.group.set_str(name, value);
        Ok(())
    }
    fn set_attr_ints(&mut self, name: &str, value: &[i64]) -> Result<()> {
        self.group.set_ints(name, value);
        Ok(())
    }
}
