//! [`Dataset`]: datatype, dataspace, layout, filters and fill value of a dataset, and its
//! reads (whole, element ranges, raw bytes, chunk engine).

use std::sync::{Arc, OnceLock};

use crate::cursor::UNDEF_ADDR;
use crate::error::{Error, Result};
use crate::read::dataspace::Dataspace;
use crate::read::datatype::{ByteOrder, Datatype};
use crate::read::fill_value::FillValue;
use crate::read::layout::Layout;
use crate::read::object_header::msg;

use super::node::Node;

mod virtual_source;

/// A dataset.
#[derive(Clone)]
pub struct Dataset {
    pub(super) node: Node,
    dtype: Datatype,
    space: Dataspace,
    /// Why the extent of a virtual dataset with unlimited mappings could not be computed
    /// from its sources when it was opened (it then has its stored extent and every read is
    /// an error).
    unresolved: Option<Arc<Error>>,
    layout: Layout,
    fill: FillValue,
    filters: Option<crate::filter::FilterPipeline>,
    chunks: OnceLock<Arc<crate::read::chunked::ChunkedReader>>,
    /// Remote files: offer this dataset's values for the file's snapshot (see
    /// [`keep_for_reopen`](Dataset::keep_for_reopen)); shared by clones.
    keep: Arc<std::sync::atomic::AtomicBool>,
}

/// The filter pipeline of a dataset as the chunk engine's decoder.
struct PipelineDecoder {
    pipeline: crate::filter::FilterPipeline,
    elem_size: usize,
}

impl crate::read::chunked::ChunkDecoder for PipelineDecoder {
    fn decode(
        &self,
        raw: Vec<u8>,
        filter_mask: u32,
        expected_len: usize,
        chunk_addr: u64,
    ) -> Result<Vec<u8>> {
        self.pipeline
            .decode(raw, filter_mask, expected_len, self.elem_size, chunk_addr)
    }

    fn decode_into(
        &self,
        raw: &[u8],
        filter_mask: u32,
        out: &mut [u8],
        chunk_addr: u64,
    ) -> Result<bool> {
        self.pipeline.decode_into(raw, filter_mask, out, chunk_addr)
    }

    fn decode_prefix(
        &self,
        raw: Vec<u8>,
        filter_mask: u32,
        expected_len: usize,
        chunk_addr: u64,
        needed: usize,
    ) -> Result<Vec<u8>> {
        self.pipeline.decode_prefix(
            raw,
            filter_mask,
            expected_len,
            self.elem_size,
            chunk_addr,
            needed,
        )
    }
}

impl std::ops::Deref for Dataset {
    type Target = Node;
    fn deref(&self) -> &Node {
        &self.node
    }
}

impl Dataset {
    pub(super) fn new(node: Node) -> Result<Self> {
        let sizes = node.file.sizes();
        let h = &node.header;
        let addr = h.address;
        let dtype = node.datatype_message()?;
        let space = match h.first(msg::DATASPACE) {
            Some(m) if !m.is_shared() => {
                Dataspace::parse(&mut m.cursor("dataspace message", sizes))?
            }
            Some(_) => return Err(Error::unsupported("dataspace", "shared dataspace message")),
            None => {
                return Err(Error::malformed(
                    "object header",
                    addr,
                    "dataset without dataspace message",
                ))
            }
        };
        let layout = match h.first(msg::LAYOUT) {
            Some(m) => Layout::parse(&mut m.cursor("layout message", sizes))?,
            None => {
                return Err(Error::malformed(
                    "object header",
                    addr,
                    "dataset without layout message",
                ))
            }
        };
        let fill = if let Some(m) = h.first(msg::FILL_VALUE) {
            FillValue::parse(&mut m.cursor("fill value message", sizes))?
        } else if let Some(m) = h.first(msg::FILL_VALUE_OLD) {
            FillValue::parse_old(&mut m.cursor("fill value message", sizes))?
        } else {
            FillValue::default()
        };
        let filters = match h.first(msg::FILTER_PIPELINE) {
            Some(m) => Some(crate::filter::FilterPipeline::parse(
                &mut m.cursor("filter pipeline message", sizes),
            )?),
            None => None,
        };
        let mut ds = Dataset {
            node,
            dtype,
            space,
            unresolved: None,
            layout,
            fill,
            filters,
            chunks: OnceLock::new(),
            keep: Default::default(),
        };
        // A virtual dataset with unlimited mappings: its extent follows its sources. Sources
        // that cannot be opened (outside the allowed directories, a remote file) leave the
        // stored extent, so the dataset can still be listed; its reads are errors.
        if let Layout::Virtual {
            heap_address,
            heap_index,
        } = ds.layout
        {
            match virtual_source::current_dims(&ds, heap_address, heap_index) {
                Ok(dims) => {
                    if let (Some(now), Dataspace::Simple { dims, .. }) = (dims, &mut ds.space) {
                        *dims = now;
                    }
                }
                Err(e) => ds.unresolved = Some(Arc::new(e)),
            }
        }
        Ok(ds)
    }

    /// The element datatype.
    pub fn dtype(&self) -> &Datatype {
        &self.dtype
    }
    /// The dataspace.
    pub fn space(&self) -> &Dataspace {
        &self.space
    }
    /// Current dimensions.
    pub fn shape(&self) -> &[u64] {
        self.space.dims()
    }
    /// The storage layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
    /// The filter pipeline, if the dataset has one.
    pub fn filters(&self) -> Option<&crate::filter::FilterPipeline> {
        self.filters.as_ref()
    }
    /// The fill value.
    pub fn fill_value(&self) -> &FillValue {
        &self.fill
    }
    /// For a virtual dataset with unlimited or `%b` mappings whose sources could not be
    /// opened when the dataset was (outside the allowed directories, a remote file): why.
    /// Its [`shape`](Self::shape) is then the stored extent, not the sources', and every
    /// read is an error. `None` for every other dataset.
    pub fn unresolved_extent(&self) -> Option<&Error> {
        self.unresolved.as_deref()
    }
    /// The common part.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Total size in bytes of the dataset's elements.
    pub fn byte_len(&self) -> Result<u64> {
        self.space
            .num_elements()
            .and_then(|n| n.checked_mul(self.dtype.size() as u64))
            .ok_or_else(|| Error::malformed("dataspace", self.address(), "dataset size overflows"))
    }

    /// One element of the fill value (zeros when not user-defined).
    pub fn fill_element(&self) -> Vec<u8> {
        let size = self.dtype.size();
        match &self.fill.value {
            Some(v) if v.len() == size => v.clone(),
            _ => vec![0; size],
        }
    }

    /// Whether the raw data lives in other files (an External Data Files message).
    pub(crate) fn has_external_storage(&self) -> bool {
        self.node.header.first(msg::EXTERNAL_FILES).is_some()
    }

    /// The External Data Files message, if the raw data lives in other files.
    pub fn external_files(&self) -> Result<Option<crate::read::external::ExternalFiles>> {
        match self.node.header.first(msg::EXTERNAL_FILES) {
            Some(m) => {
                let sizes = self.node.file.sizes();
                let mut c = m.cursor("external data files message", sizes);
                crate::read::external::ExternalFiles::parse(&mut c, self.node.file.source(), sizes)
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    /// Dataset bytes `start..start + out.len()` from the external files.
    fn read_external_into(
        &self,
        files: &crate::read::external::ExternalFiles,
        start: u64,
        out: &mut [u8],
    ) -> Result<()> {
        crate::read::external::read_into(files, &self.node.file.inner.external, start, out)
    }

    /// Read every element as raw bytes (file byte order), row-major.
    pub fn read_raw(&self) -> Result<Vec<u8>> {
        self.read_raw_inner()
            .map_err(|e| e.in_object(&self.node.path))
    }

    fn read_raw_inner(&self) -> Result<Vec<u8>> {
        let len = self.byte_len()?;
        let source = &self.data_source();
        source.check_alloc("dataset", self.address(), len)?;
        if let Some(files) = self.external_files()? {
            let mut out = vec![0; len as usize];
            self.read_external_into(&files, 0, &mut out)?;
            return Ok(out);
        }
        match &self.layout {
            Layout::Compact { data } => {
                if (data.len() as u64) < len {
                    return Err(Error::malformed(
                        "layout message",
                        self.address(),
                        "compact data shorter than the dataset",
                    ));
                }
                Ok(data[..len as usize].to_vec())
            }
            Layout::Contiguous { address, size } => {
                if *address == UNDEF_ADDR {
                    return Ok(self
                        .fill_element()
                        .repeat(self.space.num_elements().unwrap_or(0) as usize));
                }
                if *size < len {
                    return Err(Error::malformed(
                        "layout message",
                        self.address(),
                        "contiguous storage smaller than the dataset",
                    ));
                }
                source.read_vec("contiguous data", *address, len)
            }
            Layout::Chunked { .. } => self.chunks()?.read_all(),
            Layout::Virtual {
                heap_address,
                heap_index,
            } => virtual_source::read_all(self, *heap_address, *heap_index),
        }
    }
}

impl Dataset {
    /// Number of elements of a 1-D dataset (or of all elements, flattened).
    pub fn len(&self) -> u64 {
        self.space.num_elements().unwrap_or(0)
    }

    /// Whether the dataset has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Read the concatenation of element `ranges` (in flattened row-major order; sorted and
    /// non-overlapping ranges read best) as raw bytes in file byte order.
    pub fn read_ranges_raw(&self, ranges: &[std::ops::Range<u64>]) -> Result<Vec<u8>> {
        self.read_ranges_raw_inner(ranges)
            .map_err(|e| e.in_object(&self.node.path))
    }

    fn read_ranges_raw_inner(&self, ranges: &[std::ops::Range<u64>]) -> Result<Vec<u8>> {
        let n = self.len();
        let esize = self.dtype.size() as u64;
        let mut total = 0u64;
        for r in ranges {
            if r.start > r.end || r.end > n {
                return Err(Error::Usage(format!(
                    "range {}..{} outside 0..{n}",
                    r.start, r.end
                )));
            }
            total += (r.end - r.start) * esize;
        }
        let source = &self.data_source();
        source.check_alloc("dataset selection", self.address(), total)?;
        let mut out = Vec::with_capacity(total as usize);
        if let Some(files) = self.external_files()? {
            for r in ranges {
                let at = out.len();
                out.resize(at + ((r.end - r.start) * esize) as usize, 0);
                self.read_external_into(&files, r.start * esize, &mut out[at..])?;
            }
            return Ok(out);
        }
        match &self.layout {
            Layout::Compact { data } => {
                for r in ranges {
                    let s = data
                        .get((r.start * esize) as usize..(r.end * esize) as usize)
                        .ok_or_else(|| {
                            Error::malformed(
                                "layout message",
                                self.address(),
                                "compact data too short",
                            )
                        })?;
                    out.extend_from_slice(s);
                }
            }
            Layout::Contiguous { address, .. } if *address == UNDEF_ADDR => {
                let fill = self.fill_element();
                for r in ranges {
                    for _ in r.start..r.end {
                        out.extend_from_slice(&fill);
                    }
                }
            }
            Layout::Contiguous { address, size } => {
                if *size < n * esize {
                    return Err(Error::malformed(
                        "layout message",
                        self.address(),
                        "contiguous storage smaller than the dataset",
                    ));
                }
                // Coalesce ranges whose gap is small: fewer, larger positioned reads.
                const GAP: u64 = 4096;
                let mut i = 0;
                while i < ranges.len() {
                    let start = ranges[i].start;
                    let mut end = ranges[i].end;
                    let mut j = i + 1;
                    while j < ranges.len()
                        && ranges[j].start >= end
                        && (ranges[j].start - end) * esize <= GAP
                    {
                        end = ranges[j].end;
                        j += 1;
                    }
                    let block = source.read(
                        "contiguous data",
                        address + start * esize,
                        (end - start) * esize,
                    )?;
                    for r in &ranges[i..j] {
                        out.extend_from_slice(
                            &block[((r.start - start) * esize) as usize
                                ..((r.end - start) * esize) as usize],
                        );
                    }
                    i = j;
                }
            }
            Layout::Chunked { .. } if self.space.dims().len() == 1 => {
                out.resize(total as usize, 0);
                self.chunks()?.read_ranges(ranges, &mut out)?;
            }
            Layout::Virtual {
                heap_address,
                heap_index,
            } => {
                out = virtual_source::read_ranges(self, *heap_address, *heap_index, ranges)?;
            }
            _ => {
                // N-D chunked and other layouts: read everything once, then cut.
                let all = self.read_raw_inner()?;
                for r in ranges {
                    out.extend_from_slice(
                        &all[(r.start * esize) as usize..(r.end * esize) as usize],
                    );
                }
            }
        }
        Ok(out)
    }

    /// Read the concatenation of element `ranges`, converted to `T`.
    pub fn read_ranges<T: crate::value::Numeric>(
        &self,
        ranges: &[std::ops::Range<u64>],
    ) -> Result<Vec<T>> {
        let n = self.ranges_count(ranges)?;
        if let Some(v) = self
            .read_ranges_direct::<T>(ranges, n)
            .map_err(|e| e.in_object(&self.node.path))?
        {
            return Ok(v);
        }
        let n = self.ranges_len(ranges)?;
        let chunked_1d =
            matches!(self.layout, Layout::Chunked { .. }) && self.space.dims().len() == 1;
        if !chunked_1d {
            let raw = self.read_ranges_raw(ranges)?;
            return crate::value::convert(&self.dtype, &raw)
                .map_err(|e| e.in_object(&self.node.path));
        }
        // Chunked: convert each piece straight out of the decoded chunks into the result.
        let esize = self.dtype.size().max(1);
        let mut out = vec![T::zeroed(); n];
        let dtype = &self.dtype;
        self.chunks()
            .and_then(|c| {
                c.read_ranges_with(ranges, &mut |at, bytes| {
                    let at = at as usize;
                    let dst = out
                        .get_mut(at..at + bytes.len() / esize)
                        .ok_or_else(|| Error::Usage("range copy out of range".into()))?;
                    crate::value::convert_into(dtype, bytes, dst)
                })
            })
            .map_err(|e| e.in_object(&self.node.path))?;
        Ok(out)
    }

    /// Number of elements in `ranges`, checked against the dataset (not the budget: direct
    /// reads check their allocation against what the file holds).
    pub(crate) fn ranges_count(&self, ranges: &[std::ops::Range<u64>]) -> Result<usize> {
        let n = self.len();
        let mut total = 0u64;
        for r in ranges {
            if r.start > r.end || r.end > n {
                return Err(Error::Usage(format!(
                    "{}: range {}..{} outside 0..{n}",
                    self.node.path, r.start, r.end
                )));
            }
            total += r.end - r.start;
        }
        usize::try_from(total).map_err(|_| Error::Usage("selection too large".into()))
    }

    /// Number of elements in `ranges`, checked against the dataset and the allocation budget.
    fn ranges_len(&self, ranges: &[std::ops::Range<u64>]) -> Result<usize> {
        let total = self.ranges_count(ranges)?;
        let bytes = (total as u64).saturating_mul(self.dtype.size() as u64);
        self.node
            .file
            .source()
            .check_alloc("dataset selection", self.address(), bytes)?;
        Ok(total)
    }

    /// Read every element, converted to `T`.
    ///
    /// When `T` has the size of the stored type, the data is read straight into the result
    /// and converted in place (one buffer, not two); chunked data is decoded in parallel.
    pub fn read<T: crate::value::Numeric>(&self) -> Result<Vec<T>> {
        if self.space.dims().len() == 1 {
            let n = self.ranges_count(&[0..self.len()])?;
            if let Some(v) = self
                .read_ranges_direct::<T>(&[0..self.len()], n)
                .map_err(|e| e.in_object(&self.node.path))?
            {
                return Ok(v);
            }
        }
        let esize = self.dtype.size();
        let chunked = matches!(self.layout, Layout::Chunked { .. });
        if !chunked || esize != std::mem::size_of::<T>() {
            let raw = self.read_raw()?;
            return crate::value::convert(&self.dtype, &raw)
                .map_err(|e| e.in_object(&self.node.path));
        }
        let n = usize::try_from(self.len())
            .map_err(|_| Error::Usage(format!("{}: too many elements", self.node.path)))?;
        self.node
            .file
            .source()
            .check_alloc("dataset", self.address(), self.byte_len()?)?;
        let mut out = vec![T::zeroed(); n];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut out);
        self.chunks()
            .and_then(|c| c.read_all_into(bytes))
            .map_err(|e| e.in_object(&self.node.path))?;
        let native = crate::value::numeric_source(&self.dtype)
            .is_some_and(|(p, o, bits)| p == T::PRIM && o == ByteOrder::NATIVE && bits.is_none());
        if !native {
            // Same width, other representation: convert block by block through a small buffer.
            let mut tmp = vec![0u8; 1 << 16];
            for block in out.chunks_mut((1 << 16) / esize.max(1)) {
                let src = &mut tmp[..block.len() * esize];
                src.copy_from_slice(bytemuck::cast_slice(block));
                crate::value::convert_into(&self.dtype, src, block)
                    .map_err(|e| e.in_object(&self.node.path))?;
            }
        }
        Ok(out)
    }
}

impl Dataset {
    /// Remote files: keep the values this dataset's reads fetch in the file's metadata
    /// snapshot, so that the next open of the same URL reads them without a request — for
    /// small arrays that index larger ones, such as a sparse matrix's `indptr` (see
    /// `io::snapshot`, feature `remote`). Call it before the first read. No effect on local
    /// files.
    pub fn keep_for_reopen(&self) {
        self.keep.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// The source the values are read from (offering them for the snapshot when asked).
    fn data_source(&self) -> crate::io::Source {
        let source = self.node.file.source();
        if self.keep.load(std::sync::atomic::Ordering::Relaxed) {
            source.keeping()
        } else {
            source.clone()
        }
    }

    /// Remote files: announce the first node (or header) of this chunked dataset's chunk
    /// index ([`crate::io::ByteSource::hint`]), so that the indexes of several datasets
    /// announced before any of them is opened ([`chunks`](Self::chunks)) are fetched in one
    /// burst. No effect on local files or other layouts; never required.
    pub fn prefetch_index(&self) {
        if let Layout::Chunked {
            index,
            address,
            chunk_dims,
            ..
        } = &self.layout
        {
            let file = &self.node.file;
            crate::read::chunk_index::announce(
                file.source(),
                file.sizes(),
                index,
                *address,
                chunk_dims.len(),
            );
        }
    }

    /// The chunk engine of a chunked dataset (built once, sharing the file's chunk cache).
    pub fn chunks(&self) -> Result<Arc<crate::read::chunked::ChunkedReader>> {
        if let Some(r) = self.chunks.get() {
            return Ok(r.clone());
        }
        let decoder: Arc<dyn crate::read::chunked::ChunkDecoder> = match &self.filters {
            Some(p) if !p.filters.is_empty() => Arc::new(PipelineDecoder {
                pipeline: p.clone(),
                elem_size: self.dtype.size(),
            }),
            _ => Arc::new(crate::read::chunked::NoFilters),
        };
        let cache = Some(self.node.file.inner.chunk_cache.clone());
        let r = Arc::new(self.chunked_reader(decoder, cache)?);
        Ok(self.chunks.get_or_init(|| r).clone())
    }

    /// A reader for a chunked dataset, decoding chunks with `decoder` and caching them in
    /// `cache` (keyed by this dataset's object header address).
    pub fn chunked_reader(
        &self,
        decoder: Arc<dyn crate::read::chunked::ChunkDecoder>,
        cache: Option<Arc<crate::cache::ChunkCache>>,
    ) -> Result<crate::read::chunked::ChunkedReader> {
        let max_dims = match &self.space {
            Dataspace::Simple { max_dims, .. } => max_dims.clone(),
            _ => Vec::new(),
        };
        crate::read::chunked::ChunkedReader::new(crate::read::chunked::ChunkedConfig {
            source: self.data_source(),
            sizes: self.node.file.sizes(),
            layout: self.layout.clone(),
            dims: self.space.dims().to_vec(),
            max_dims,
            element_size: self.dtype.size(),
            fill: self.fill_element(),
            decoder,
            cache,
            dataset_id: self.address(),
        })
        .map_err(|e| e.in_object(&self.node.path))
    }
}
