//! Datasets: creation properties, storage state while the file is written (compact buffer,
//! contiguous extent, chunked storage — see [`super::chunked`]) and the header messages at
//! finish.

use super::chunked::Chunks;
use super::datatype::DType;
use super::encode::{product, to_u32, to_usize, usage, Put, UNDEF};
use super::filters::Pipeline;
#[cfg(all(feature = "fs", unix))]
pub(super) use super::hyperslab::next;
use super::hyperslab::{copy_box, fill_pattern, for_each_run, Place};
use super::object_header::{self as oh, Message};
use super::sink::{Out, Sink};
use super::{dataspace, AttrValue, Reference};
use crate::error::Result;

/// Largest raw data of a compact dataset (it must fit in one header message).
pub const MAX_COMPACT: usize = 65_000;

/// How the raw data of a dataset is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// Inside the object header (at most [`MAX_COMPACT`] bytes).
    Compact,
    /// One contiguous extent of the file, allocated at creation.
    Contiguous,
    /// Chunks of these dimensions, indexed by a v1 B-tree.
    Chunked(Vec<u64>),
}

/// Creation properties of a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetSpec {
    /// Element type.
    pub dtype: DType,
    /// Current dimensions (empty = scalar).
    pub shape: Vec<u64>,
    /// Maximum dimensions (`None` in a dimension = unlimited); chunked datasets only.
    pub max_shape: Option<Vec<Option<u64>>>,
    /// Storage layout.
    pub layout: Layout,
    /// Deflate level 0-9 (chunked only).
    pub deflate: Option<u8>,
    /// Byte shuffle before compression (chunked only).
    pub shuffle: bool,
    /// Fletcher-32 checksum of each chunk (chunked only).
    pub fletcher32: bool,
    /// Registered filter plugins (LZF, zstd, LZ4, bitshuffle, Blosc; chunked only), applied
    /// in order after shuffle and before deflate; see [`DatasetSpec::filter`].
    pub plugins: Vec<crate::filter::FilterInfo>,
    /// Fill value: the bytes of one element (not for variable-length strings).
    pub fill: Option<Vec<u8>>,
    /// A NULL dataspace (no elements at all, as h5py's `Empty`); `shape` must be empty.
    pub null_space: bool,
}

impl DatasetSpec {
    /// A contiguous dataset of this type and shape, no filters, default fill.
    pub fn new(dtype: DType, shape: impl Into<Vec<u64>>) -> Self {
        DatasetSpec {
            dtype,
            shape: shape.into(),
            max_shape: None,
            layout: Layout::Contiguous,
            deflate: None,
            shuffle: false,
            fletcher32: false,
            plugins: Vec::new(),
            fill: None,
            null_space: false,
        }
    }

    /// A dataset with a NULL dataspace (h5py's `Empty(dtype)`): no elements, no storage.
    pub fn null(dtype: DType) -> Self {
        DatasetSpec {
            null_space: true,
            ..DatasetSpec::new(dtype, Vec::new())
        }
    }

    /// Use chunked layout with these chunk dimensions.
    pub fn chunked(mut self, chunk: impl Into<Vec<u64>>) -> Self {
        self.layout = Layout::Chunked(chunk.into());
        self
    }

    /// Use compact layout.
    pub fn compact(mut self) -> Self {
        self.layout = Layout::Compact;
        self
    }

    /// Set the maximum dimensions.
    pub fn max_shape(mut self, max: impl Into<Vec<Option<u64>>>) -> Self {
        self.max_shape = Some(max.into());
        self
    }

    /// Make the first dimension unlimited (the others keep their size), for [`append`].
    ///
    /// [`append`]: super::FileWriter::append
    pub fn unlimited(mut self) -> Self {
        let mut max: Vec<Option<u64>> = self.shape.iter().map(|&d| Some(d)).collect();
        if let Some(first) = max.first_mut() {
            *first = None;
        }
        self.max_shape = Some(max);
        self
    }

    /// Deflate at `level` (0-9).
    pub fn deflate(mut self, level: u8) -> Self {
        self.deflate = Some(level);
        self
    }

    /// Enable the shuffle filter.
    pub fn shuffle(mut self) -> Self {
        self.shuffle = true;
        self
    }

    /// Enable the Fletcher-32 filter.
    pub fn fletcher32(mut self) -> Self {
        self.fletcher32 = true;
        self
    }

    /// Add a registered filter plugin (LZF 32000, Blosc 32001, LZ4 32004, bitshuffle 32008,
    /// zstd 32015) to the pipeline, after shuffle and before deflate. Its client data may be
    /// partial: the fields the plugin derives from the dataset (element and chunk sizes) are
    /// filled in, the others default as hdf5plugin's (see `write/plugins.rs`).
    pub fn filter(mut self, filter: crate::filter::FilterInfo) -> Self {
        self.plugins.push(filter);
        self
    }

    /// Set the fill value (bytes of one element, little-endian).
    pub fn fill(mut self, fill: impl Into<Vec<u8>>) -> Self {
        self.fill = Some(fill.into());
        self
    }
}

pub(crate) enum Storage {
    Compact(Vec<u8>),
    Contiguous(u64),
    Chunked(Chunks),
}

/// A dataset being written.
pub(crate) struct DatasetState {
    pub path: String,
    pub spec: DatasetSpec,
    pub elem: u64,
    pub shape: Vec<u64>,
    pub storage: Storage,
    pub attrs: Vec<(String, AttrValue)>,
    /// Track the creation order of attributes.
    pub track_order: bool,
    /// Reference values, written when the file is finished.
    pub refs: Option<Vec<Reference>>,
    /// Write a version 4 layout message with libhdf5 1.10's chunk indexes.
    pub latest: bool,
    dtype_msg: Vec<u8>,
}

impl DatasetState {
    /// Validate `spec` and allocate the storage.
    pub(crate) fn new(path: String, spec: DatasetSpec, out: &mut Out) -> Result<Self> {
        let dtype_msg = spec.dtype.encode()?;
        let elem = spec.dtype.size()? as u64;
        if elem == 0 {
            return Err(usage("datatype of size 0"));
        }
        let rank = spec.shape.len();
        if rank > 32 {
            return Err(usage(format!("rank {rank} over HDF5's maximum of 32")));
        }
        let count = product(&spec.shape)?;
        let total = count
            .checked_mul(elem)
            .ok_or_else(|| usage("dataset size overflows"))?;
        if let Some(fill) = &spec.fill {
            if fill.len() as u64 != elem {
                return Err(usage(format!(
                    "fill value of {} bytes for elements of {elem}",
                    fill.len()
                )));
            }
            if spec.dtype.is_vlen() {
                return Err(usage(
                    "fill values of variable-length strings are not supported",
                ));
            }
        }
        if let Some(max) = &spec.max_shape {
            if max.len() != rank {
                return Err(usage(format!(
                    "max shape {max:?} has not the rank of shape {:?}",
                    spec.shape
                )));
            }
            for (d, m) in spec.shape.iter().zip(max) {
                if matches!(m, Some(m) if m < d) {
                    return Err(usage(format!(
                        "shape {:?} exceeds max shape {max:?}",
                        spec.shape
                    )));
                }
            }
        }
        let chunked = matches!(spec.layout, Layout::Chunked(_));
        if spec.null_space
            && (rank != 0 || spec.layout != Layout::Contiguous || spec.max_shape.is_some())
        {
            return Err(usage(
                "a NULL dataspace needs an empty shape and the default (contiguous) layout",
            ));
        }
        if spec.dtype.is_reference() && (spec.layout != Layout::Contiguous || spec.fill.is_some()) {
            return Err(usage(
                "a dataset of references needs the contiguous layout and no fill value",
            ));
        }
        if !chunked {
            if spec.deflate.is_some() || spec.shuffle || spec.fletcher32 || !spec.plugins.is_empty()
            {
                return Err(usage("filters need a chunked layout"));
            }
            if spec
                .max_shape
                .as_ref()
                .is_some_and(|m| m.iter().zip(&spec.shape).any(|(m, d)| *m != Some(*d)))
            {
                return Err(usage("a resizable dataset needs a chunked layout"));
            }
        }
        if let Some(level) = spec.deflate {
            if level > 9 {
                return Err(usage(format!("deflate level {level} is not in 0-9")));
            }
        }
        let storage = match &spec.layout {
            Layout::Compact => {
                if total > MAX_COMPACT as u64 {
                    return Err(usage(format!(
                        "compact dataset of {total} bytes over {MAX_COMPACT}"
                    )));
                }
                Storage::Compact(fill_pattern(
                    spec.fill.as_deref(),
                    elem as usize,
                    total as usize,
                ))
            }
            Layout::Contiguous => {
                let addr = if total == 0 || spec.null_space {
                    UNDEF
                } else if spec
                    .fill
                    .as_ref()
                    .is_some_and(|f| f.iter().any(|&b| b != 0))
                {
                    let addr = out.reserve(total)?;
                    let piece = (1u64 << 20) / elem * elem;
                    let pattern = fill_pattern(spec.fill.as_deref(), elem as usize, piece as usize);
                    let mut at = 0;
                    while at < total {
                        let n = piece.min(total - at) as usize;
                        out.sink
                            .write_at(addr + at, pattern.get(..n).unwrap_or_default())?;
                        at += n as u64;
                    }
                    addr
                } else {
                    out.reserve(total)?
                };
                Storage::Contiguous(addr)
            }
            Layout::Chunked(dims) => {
                if rank == 0 {
                    return Err(usage("a scalar dataset cannot be chunked"));
                }
                if dims.len() != rank || dims.contains(&0) {
                    return Err(usage(format!(
                        "chunk {dims:?} does not fit shape {:?}",
                        spec.shape
                    )));
                }
                let bytes = product(dims)?
                    .checked_mul(elem)
                    .ok_or_else(|| usage("chunk too large"))?;
                to_u32(bytes, "chunk size in bytes")?;
                for &d in dims {
                    to_u32(d, "chunk dimension")?;
                }
                let pipeline = Pipeline {
                    shuffle: (spec.shuffle && elem > 1).then_some(elem as usize),
                    plugins: spec
                        .plugins
                        .iter()
                        .map(|f| super::plugins::complete(f, elem, bytes))
                        .collect::<Result<_>>()?,
                    elem_size: elem as usize,
                    deflate: spec.deflate,
                    fletcher32: spec.fletcher32,
                };
                Storage::Chunked(Chunks::new(
                    dims.clone(),
                    to_usize(bytes, "chunk size")?,
                    pipeline,
                ))
            }
        };
        Ok(DatasetState {
            path,
            shape: spec.shape.clone(),
            spec,
            elem,
            storage,
            attrs: Vec::new(),
            track_order: false,
            refs: None,
            latest: false,
            dtype_msg,
        })
    }

    /// Write `bytes` (row-major, `count` elements) at `start`.
    pub(crate) fn write_hyperslab(
        &mut self,
        out: &mut Out,
        start: &[u64],
        count: &[u64],
        bytes: &[u8],
    ) -> Result<()> {
        self.write_selection(out, start, count, bytes, false)
    }

    /// [`write_hyperslab`](Self::write_hyperslab); with `direct` (appends), whole chunks of a
    /// 1-D chunked dataset go to the filters (or the file) straight from `bytes`.
    fn write_selection(
        &mut self,
        out: &mut Out,
        start: &[u64],
        count: &[u64],
        bytes: &[u8],
        direct: bool,
    ) -> Result<()> {
        let rank = self.shape.len();
        if self.spec.null_space {
            return Err(usage(format!(
                "{}: a dataset with a NULL dataspace has no elements to write",
                self.path
            )));
        }
        if self.spec.dtype.is_reference() {
            return Err(usage(format!(
                "{}: write references with FileWriter::write_references",
                self.path
            )));
        }
        if start.len() != rank || count.len() != rank {
            return Err(usage(format!(
                "{}: selection of rank {}/{} for a dataset of rank {rank}",
                self.path,
                start.len(),
                count.len()
            )));
        }
        for d in 0..rank {
            let end = start[d]
                .checked_add(count[d])
                .ok_or_else(|| usage("selection overflows"))?;
            if end > self.shape[d] {
                return Err(usage(format!(
                    "{}: selection start {start:?} count {count:?} outside shape {:?}",
                    self.path, self.shape
                )));
            }
        }
        let want = product(count)?
            .checked_mul(self.elem)
            .ok_or_else(|| usage("selection too large"))?;
        if want != bytes.len() as u64 {
            return Err(usage(format!(
                "{}: selection of {count:?} needs {want} bytes, got {}",
                self.path,
                bytes.len()
            )));
        }
        let elem = self.elem;
        let zeros = vec![0u64; rank];
        let src = Place {
            shape: count,
            start: &zeros,
        };
        match &mut self.storage {
            Storage::Compact(buf) => copy_box(
                bytes,
                src,
                buf,
                Place {
                    shape: &self.shape,
                    start,
                },
                count,
                elem,
            ),
            Storage::Contiguous(addr) => {
                let addr = *addr;
                let sink = &mut out.sink;
                for_each_run(
                    src,
                    Place {
                        shape: &self.shape,
                        start,
                    },
                    count,
                    elem,
                    |so, doff, len| {
                        let data = bytes
                            .get(so as usize..(so + len) as usize)
                            .unwrap_or_default();
                        sink.write_at(addr + doff, data)
                    },
                )
            }
            Storage::Chunked(ch) => ch.write(
                &self.path,
                start,
                count,
                bytes,
                (elem, self.spec.fill.as_deref()),
                direct.then_some(out),
            ),
        }
    }

    /// Grow dimension 0 by the rows in `bytes` and write them; flush complete chunks.
    pub(crate) fn append(&mut self, out: &mut Out, bytes: &[u8]) -> Result<()> {
        if !matches!(self.storage, Storage::Chunked(_)) {
            return Err(usage(format!(
                "{}: append needs a chunked dataset",
                self.path
            )));
        }
        let row = product(self.shape.get(1..).unwrap_or_default())?
            .checked_mul(self.elem)
            .ok_or_else(|| usage("row too large"))?;
        if row == 0 || !(bytes.len() as u64).is_multiple_of(row) {
            return Err(usage(format!(
                "{}: {} bytes is not a whole number of rows of {row} bytes",
                self.path,
                bytes.len()
            )));
        }
        let rows = bytes.len() as u64 / row;
        let old = self.shape.first().copied().unwrap_or(0);
        let new = old
            .checked_add(rows)
            .ok_or_else(|| usage("dimension overflows"))?;
        let max = self
            .spec
            .max_shape
            .as_ref()
            .and_then(|m| m.first().copied())
            .unwrap_or(Some(old));
        if matches!(max, Some(m) if new > m) {
            return Err(usage(format!(
                "{}: appending {rows} rows exceeds the maximum {max:?}",
                self.path
            )));
        }
        if let Some(first) = self.shape.first_mut() {
            *first = new;
        }
        let mut start = vec![0u64; self.shape.len()];
        start[0] = old;
        let mut count = self.shape.clone();
        count[0] = rows;
        if let Err(e) = self.write_selection(out, &start, &count, bytes, true) {
            if let Some(first) = self.shape.first_mut() {
                *first = old;
            }
            return Err(e);
        }
        if let Storage::Chunked(ch) = &mut self.storage {
            let c0 = ch.dims.first().copied().unwrap_or(1);
            let done_rows = new / c0;
            let complete: Vec<Vec<u64>> = ch
                .open
                .keys()
                .filter(|k| k.first().is_some_and(|&r| r < done_rows))
                .cloned()
                .collect();
            if !complete.is_empty() {
                ch.flush(out, complete, false)?;
            }
        }
        Ok(())
    }

    /// Flush chunks and encode the object header; returns its bytes and the offsets of its
    /// message bodies (`attrs` are the last messages).
    pub(crate) fn finish(
        &mut self,
        out: &mut Out,
        attrs: Vec<Message>,
        version: oh::Version,
    ) -> Result<(Vec<u8>, Vec<usize>)> {
        let max = match (&self.spec.max_shape, &self.spec.layout) {
            (Some(m), _) => Some(m.clone()),
            (None, Layout::Chunked(_)) => Some(self.shape.iter().map(|&d| Some(d)).collect()),
            _ => None,
        };
        let space = if self.spec.null_space {
            dataspace::encode_null()
        } else {
            dataspace::encode(&self.shape, max.as_deref())
        };
        let mut msgs = vec![
            Message::new(oh::DATASPACE, 0, space),
            Message::new(oh::DATATYPE, oh::CONSTANT, self.dtype_msg.clone()),
        ];
        let alloc_time = match self.storage {
            Storage::Compact(_) => 1,
            Storage::Contiguous(_) => 2,
            Storage::Chunked(_) => 3,
        };
        let mut fill = vec![2, alloc_time, 2, 1];
        match &self.spec.fill {
            Some(f) => {
                fill.put_u32(f.len() as u32);
                fill.extend_from_slice(f);
            }
            None => fill.put_u32(0),
        }
        msgs.push(Message::new(oh::FILL_VALUE, oh::CONSTANT, fill));
        let mut layout = vec![3];
        match &mut self.storage {
            Storage::Compact(buf) => {
                layout.put_u8(0);
                layout.put_u16(buf.len() as u16);
                layout.extend_from_slice(buf);
            }
            Storage::Contiguous(addr) => {
                layout.put_u8(1);
                layout.put_addr(*addr);
                let size = if self.spec.null_space {
                    0
                } else {
                    product(&self.shape)? * self.elem
                };
                layout.put_len(size);
            }
            Storage::Chunked(ch) => {
                let keys: Vec<Vec<u64>> = ch.open.keys().cloned().collect();
                ch.flush(out, keys, true)?;
                if self.latest {
                    let c = super::chunk_index::Chunked {
                        written: &ch.written,
                        dims: &ch.dims,
                        elem: self.elem,
                        shape: &self.shape,
                        max: max.as_deref().unwrap_or_default(),
                        filtered: !ch.pipeline.is_empty(),
                    };
                    layout = super::chunk_index::layout_v4(out, &c)?;
                } else {
                    let root = ch.write_index(out)?;
                    layout.put_u8(2);
                    layout.put_u8(ch.dims.len() as u8 + 1);
                    layout.put_addr(root);
                    for &d in &ch.dims {
                        layout.put_u32(d as u32);
                    }
                    layout.put_u32(self.elem as u32);
                }
                if !ch.pipeline.is_empty() {
                    msgs.push(Message::new(
                        oh::PIPELINE,
                        oh::CONSTANT,
                        ch.pipeline.message(),
                    ));
                }
            }
        }
        msgs.push(Message::new(oh::LAYOUT, 0, layout));
        msgs.extend(attrs);
        oh::encode_with_offsets(&msgs, version)
    }
}
