//! The read engine for chunked datasets.
//!
//! A [`ChunkedReader`] looks chunks up in the dataset's chunk index, reads them with
//! positioned reads, decodes them (in parallel on rayon when several are needed) through a
//! [`ChunkDecoder`], and copies the selected elements out. Never-written chunks read as the
//! fill value. A full read decodes each stored chunk exactly once; a partial read touches only
//! the chunks it intersects, and keeps them in an optional shared [`ChunkCache`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use crate::cache::{ChunkCache, ChunkKey};
use crate::cursor::Sizes;
use crate::error::{Error, Result};
use crate::io::Source;
use crate::read::chunk_index::{self, ChunkIndex, ChunkLocation, Geometry};
use crate::read::layout::{ChunkIndexKind, Layout};
use crate::select::{self, BlockCopy};

mod plain;

/// Decoded bytes held at once by one read (chunks are decoded in batches of this size).
const BATCH_BYTES: u64 = 64 << 20;
/// Below this many bytes a read runs on the calling thread: handing work to the thread pool
/// costs more than it saves.
pub const PARALLEL_BYTES: usize = 1 << 20;

/// Turns a stored chunk into its decoded bytes (the filter pipeline).
pub trait ChunkDecoder: Send + Sync {
    /// Decode `raw` (stored at `chunk_addr`, filters in `filter_mask` skipped) into
    /// `expected_len` bytes.
    fn decode(
        &self,
        raw: Vec<u8>,
        filter_mask: u32,
        expected_len: usize,
        chunk_addr: u64,
    ) -> Result<Vec<u8>>;

    /// Decode at least the first `needed` bytes of the chunk (all of it by default). Filters
    /// that can stop early (deflate) save the work past `needed`.
    fn decode_prefix(
        &self,
        raw: Vec<u8>,
        filter_mask: u32,
        expected_len: usize,
        chunk_addr: u64,
        needed: usize,
    ) -> Result<Vec<u8>> {
        let _ = needed;
        self.decode(raw, filter_mask, expected_len, chunk_addr)
    }

    /// Decode straight into `out` (exactly the decoded chunk size) when the filters allow it,
    /// without an intermediate buffer: `Ok(false)` means "use [`decode`](Self::decode)".
    fn decode_into(
        &self,
        raw: &[u8],
        filter_mask: u32,
        out: &mut [u8],
        chunk_addr: u64,
    ) -> Result<bool> {
        let _ = (raw, filter_mask, out, chunk_addr);
        Ok(false)
    }

    /// Whether chunks are stored as their decoded bytes (no filters), so a whole chunk can
    /// be read from the file straight into its destination.
    fn is_plain(&self) -> bool {
        false
    }
}

/// The decoder of datasets without filters: returns the bytes as stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFilters;

impl ChunkDecoder for NoFilters {
    fn decode(&self, raw: Vec<u8>, _: u32, _: usize, _: u64) -> Result<Vec<u8>> {
        Ok(raw)
    }

    fn decode_into(&self, raw: &[u8], _: u32, out: &mut [u8], _: u64) -> Result<bool> {
        if raw.len() != out.len() {
            return Ok(false);
        }
        out.copy_from_slice(raw);
        Ok(true)
    }

    fn is_plain(&self) -> bool {
        true
    }
}

/// Everything a [`ChunkedReader`] is built from.
#[derive(Clone)]
pub struct ChunkedConfig {
    /// The file's bytes.
    pub source: Source,
    /// Widths of addresses and lengths.
    pub sizes: Sizes,
    /// The dataset's layout (must be [`Layout::Chunked`]).
    pub layout: Layout,
    /// Current dimensions.
    pub dims: Vec<u64>,
    /// Maximum dimensions (`u64::MAX` for unlimited).
    pub max_dims: Vec<u64>,
    /// Size of one element in bytes.
    pub element_size: usize,
    /// One element of the fill value (empty: zeros).
    pub fill: Vec<u8>,
    /// The filter pipeline.
    pub decoder: Arc<dyn ChunkDecoder>,
    /// Shared cache of decoded chunks (`None`: no caching).
    pub cache: Option<Arc<ChunkCache>>,
    /// Identity of the dataset in the cache (object header address; make it unique across
    /// files when a cache is shared between files).
    pub dataset_id: u64,
}

/// Reads a chunked dataset.
pub struct ChunkedReader {
    source: Source,
    geom: Geometry,
    kind: ChunkIndexKind,
    index: Box<dyn ChunkIndex>,
    dont_filter_partial_edge: bool,
    fill: Vec<u8>,
    decoder: Arc<dyn ChunkDecoder>,
    cache: Option<Arc<ChunkCache>>,
    dataset_id: u64,
    decoded: AtomicU64,
}

impl std::fmt::Debug for ChunkedReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkedReader")
            .field("geometry", &self.geom)
            .field("index", &self.kind)
            .finish()
    }
}

type Chunk = Arc<Vec<u8>>;

impl ChunkedReader {
    /// Open the chunk index and prepare to read.
    pub fn new(cfg: ChunkedConfig) -> Result<Self> {
        let Layout::Chunked {
            chunk_dims,
            element_size,
            index,
            address,
            dont_filter_partial_edge,
        } = &cfg.layout
        else {
            return Err(Error::Usage(format!(
                "not a chunked layout: {}",
                cfg.layout.name()
            )));
        };
        if *element_size != cfg.element_size as u64 {
            return Err(Error::malformed(
                "layout message",
                *address,
                format!(
                    "chunk element size {element_size} differs from the datatype size {}",
                    cfg.element_size
                ),
            ));
        }
        let geom = Geometry::new(&cfg.dims, &cfg.max_dims, chunk_dims, *element_size)?;
        let fill = if cfg.fill.is_empty() {
            vec![0; cfg.element_size]
        } else if cfg.fill.len() == cfg.element_size {
            cfg.fill.clone()
        } else {
            return Err(Error::Usage(format!(
                "fill value of {} bytes for elements of {}",
                cfg.fill.len(),
                cfg.element_size
            )));
        };
        let idx = chunk_index::open(&cfg.source, cfg.sizes, index, *address, &geom)?;
        Ok(ChunkedReader {
            source: cfg.source,
            geom,
            kind: index.clone(),
            index: idx,
            dont_filter_partial_edge: *dont_filter_partial_edge,
            fill,
            decoder: cfg.decoder,
            cache: cfg.cache,
            dataset_id: cfg.dataset_id,
            decoded: AtomicU64::new(0),
        })
    }

    /// The geometry (dims, chunk dims, element and chunk sizes).
    pub fn geometry(&self) -> &Geometry {
        &self.geom
    }

    /// The blocks of the chunk index in the file (see [`ChunkIndex::blocks`]); `None` for
    /// kinds that do not tell.
    pub fn index_blocks(&self) -> Option<Result<Vec<(u64, u64)>>> {
        self.index.blocks()
    }

    /// The chunk index kind, as the layout message declares it.
    pub fn index_kind(&self) -> &ChunkIndexKind {
        &self.kind
    }

    /// Number of chunks decoded by this reader so far.
    pub fn chunks_decoded(&self) -> u64 {
        self.decoded.load(Ordering::Relaxed)
    }

    /// Every stored chunk, sorted by coordinates.
    pub fn chunks(&self) -> Result<Vec<ChunkLocation>> {
        let mut v = Vec::new();
        self.index.for_each(&mut |loc| {
            v.push(loc);
            Ok(())
        })?;
        v.sort_by(|a, b| a.scaled.cmp(&b.scaled));
        Ok(v)
    }

    /// Where the chunk at `scaled` chunk coordinates is stored (`None`: never written).
    pub fn chunk_location(&self, scaled: &[u64]) -> Result<Option<ChunkLocation>> {
        if scaled.len() != self.geom.rank() {
            return Err(Error::Usage(format!(
                "chunk coordinates of rank {} for a dataset of rank {}",
                scaled.len(),
                self.geom.rank()
            )));
        }
        self.index.lookup(scaled)
    }

    fn total_bytes(&self, counts: &[u64]) -> Result<usize> {
        let n = counts
            .iter()
            .try_fold(self.geom.element_size, |a, &c| a.checked_mul(c))
            .ok_or_else(|| Error::Usage("selection size overflows".into()))?;
        self.source.check_alloc("chunked read", 0, n)?;
        usize::try_from(n).map_err(|_| Error::Usage("selection size overflows".into()))
    }

    fn is_partial_edge(&self, scaled: &[u64]) -> bool {
        scaled
            .iter()
            .zip(&self.geom.chunk_dims)
            .zip(&self.geom.dims)
            .any(|((&s, &c), &d)| s.saturating_add(1).saturating_mul(c) > d)
    }

    fn inside(&self, scaled: &[u64]) -> bool {
        scaled
            .iter()
            .zip(&self.geom.chunk_dims)
            .zip(&self.geom.dims)
            .all(|((&s, &c), &d)| s.checked_mul(c).is_some_and(|o| o < d))
    }

    /// Read and decode one stored chunk.
    fn load(&self, loc: &ChunkLocation) -> Result<Vec<u8>> {
        self.load_prefix(loc, self.geom.chunk_bytes as usize)
    }

    /// Read and decode at least the first `needed` bytes of one stored chunk (all of it when
    /// `needed` is the chunk size); the result is the decoded prefix.
    fn load_prefix(&self, loc: &ChunkLocation, needed: usize) -> Result<Vec<u8>> {
        let expected = self.geom.chunk_bytes as usize;
        let needed = needed.min(expected);
        let raw = self.source.read_vec("chunk", loc.address, loc.size)?;
        let skip_filters = self.dont_filter_partial_edge && self.is_partial_edge(&loc.scaled);
        let mut data = if skip_filters {
            raw
        } else if needed < expected {
            self.decoder
                .decode_prefix(raw, loc.filter_mask, expected, loc.address, needed)?
        } else {
            self.decoder
                .decode(raw, loc.filter_mask, expected, loc.address)?
        };
        self.decoded.fetch_add(1, Ordering::Relaxed);
        if data.len() < needed {
            return Err(Error::malformed(
                "chunk",
                loc.address,
                format!("decoded to {} bytes, expected {expected}", data.len()),
            ));
        }
        data.truncate(expected);
        Ok(data)
    }

    fn key(&self, scaled: &[u64]) -> ChunkKey {
        ChunkKey {
            dataset: self.dataset_id,
            coords: scaled.into(),
        }
    }

    fn cached(&self, scaled: &[u64]) -> Option<Chunk> {
        self.cache.as_ref()?.get(&self.key(scaled))
    }

    /// Chunks decoded per batch.
    fn batch_len(&self) -> usize {
        (BATCH_BYTES / self.geom.chunk_bytes.max(1)).clamp(1, 4096) as usize
    }

    fn fill_chunk(&self, slot: &OnceLock<Chunk>) -> Chunk {
        slot.get_or_init(|| {
            Arc::new(
                self.fill
                    .repeat(self.geom.chunk_bytes as usize / self.geom.element_size as usize),
            )
        })
        .clone()
    }

    /// The decoded chunks at `scaled` coordinates (fill for never-written ones): cache first,
    /// then index lookups, then decoding of the misses in parallel.
    ///
    /// `needed[i]`, when given, is how many leading bytes of chunk `i` the caller uses: a
    /// cached prefix at least that long is enough, and a miss decodes only that prefix when
    /// the filters allow it (the prefix is cached for later reads that need no more).
    fn fetch(
        &self,
        scaled: &[Vec<u64>],
        needed: Option<&[usize]>,
        fill: &OnceLock<Chunk>,
    ) -> Result<Vec<Chunk>> {
        let full = self.geom.chunk_bytes as usize;
        let need = |i: usize| needed.and_then(|n| n.get(i).copied()).unwrap_or(full);
        let mut out: Vec<Option<Chunk>> = Vec::with_capacity(scaled.len());
        let mut misses = Vec::new();
        for (i, s) in scaled.iter().enumerate() {
            if let Some(c) = self.cached(s).filter(|c| c.len() >= need(i)) {
                out.push(Some(c));
                continue;
            }
            match self.index.lookup(s)? {
                Some(loc) => {
                    out.push(None);
                    misses.push((i, loc));
                }
                None => out.push(Some(self.fill_chunk(fill))),
            }
        }
        let decoded: Vec<Result<Vec<u8>>> = if misses.len() > 1 {
            misses
                .par_iter()
                .map(|(i, loc)| self.load_prefix(loc, need(*i)))
                .collect()
        } else {
            misses
                .iter()
                .map(|(i, loc)| self.load_prefix(loc, need(*i)))
                .collect()
        };
        for ((i, loc), data) in misses.into_iter().zip(decoded) {
            let data = Arc::new(data?);
            if let Some(cache) = &self.cache {
                cache.insert(self.key(&loc.scaled), data.clone());
            }
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(data);
            }
        }
        out.into_iter()
            .map(|c| c.ok_or_else(|| Error::Usage("chunk not fetched".into())))
            .collect()
    }

    /// Read every element, row-major, as raw bytes.
    pub fn read_all(&self) -> Result<Vec<u8>> {
        let total = self.total_bytes(&self.geom.dims)?;
        let mut out = vec![0u8; total];
        self.read_all_into(&mut out)?;
        Ok(out)
    }

    /// Read every element, row-major, into `out` (exactly the dataset's size in bytes).
    pub fn read_all_into(&self, out: &mut [u8]) -> Result<()> {
        let total = self.total_bytes(&self.geom.dims)?;
        if out.len() != total {
            return Err(Error::Usage(format!(
                "output buffer of {} bytes for a dataset of {total}",
                out.len()
            )));
        }
        if total == 0 {
            return Ok(());
        }
        if self.fill.iter().any(|&b| b != 0) {
            for (dst, src) in out.iter_mut().zip(self.fill.iter().cycle()) {
                *dst = *src;
            }
        } else {
            out.fill(0);
        }
        let mut locs = Vec::new();
        self.index.for_each(&mut |loc| {
            if self.inside(&loc.scaled) {
                locs.push(loc);
            }
            Ok(())
        })?;
        let rank = self.geom.rank();
        if rank == 1 {
            return self.read_all_1d(locs, out);
        }
        let chunk_strides = select::strides(&self.geom.chunk_dims);
        let out_strides = select::strides(&self.geom.dims);
        for batch in locs.chunks(self.batch_len()) {
            let decoded: Vec<Result<Chunk>> = batch
                .par_iter()
                .map(|loc| match self.cached(&loc.scaled) {
                    Some(c) => Ok(c),
                    None => self.load(loc).map(Arc::new),
                })
                .collect();
            for (loc, data) in batch.iter().zip(decoded) {
                let data = data?;
                let mut counts = Vec::with_capacity(rank);
                let mut dst_base = 0u64;
                let dims = self.geom.chunk_dims.iter().zip(&self.geom.dims);
                for ((&s, (&c, &n)), &st) in loc.scaled.iter().zip(dims).zip(&out_strides) {
                    let origin = s * c;
                    counts.push(c.min(n - origin));
                    dst_base += origin * st;
                }
                BlockCopy {
                    elem: self.geom.element_size as usize,
                    counts: &counts,
                    src_base: 0,
                    src_strides: &chunk_strides,
                    dst_base,
                    dst_strides: &out_strides,
                }
                .run(&data, out)?;
            }
        }
        Ok(())
    }

    /// `read_all_into` for 1-D datasets: every chunk is read, decoded and copied to its own
    /// part of `out` on the rayon pool, so both decoding and copying run in parallel.
    fn read_all_1d(&self, mut locs: Vec<ChunkLocation>, out: &mut [u8]) -> Result<()> {
        let cb = self.geom.chunk_bytes as usize;
        locs.sort_by_key(|l| l.scaled.first().copied().unwrap_or(0));
        let mut jobs: Vec<(ChunkLocation, &mut [u8])> = Vec::with_capacity(locs.len());
        let mut parts = out.chunks_mut(cb).enumerate().peekable();
        for loc in locs {
            let i = loc.scaled.first().copied().unwrap_or(u64::MAX);
            while parts.peek().is_some_and(|(j, _)| (*j as u64) < i) {
                parts.next();
            }
            match parts.next() {
                Some((j, part)) if j as u64 == i => jobs.push((loc, part)),
                _ => {
                    return Err(Error::malformed(
                        "chunk index",
                        loc.address,
                        "chunk listed twice",
                    ))
                }
            }
        }
        jobs.into_par_iter().try_for_each(|(loc, part)| {
            let data = match self.cached(&loc.scaled) {
                Some(c) if c.len() >= part.len() => c,
                _ if part.len() == cb && !self.dont_filter_partial_edge => {
                    // A whole chunk: decode straight into its place in the output when the
                    // filters allow it (deflate alone), else through a buffer.
                    let raw = self.source.read("chunk", loc.address, loc.size)?;
                    if self
                        .decoder
                        .decode_into(&raw, loc.filter_mask, part, loc.address)?
                    {
                        self.decoded.fetch_add(1, Ordering::Relaxed);
                        return Ok(());
                    }
                    Arc::new(self.load(&loc)?)
                }
                _ => Arc::new(self.load(&loc)?),
            };
            let src = data
                .get(..part.len())
                .ok_or_else(|| Error::malformed("chunk", loc.address, "decoded chunk too short"))?;
            part.copy_from_slice(src);
            Ok(())
        })
    }

    /// Read the elements `range` of a 1-D dataset into `out` (exactly their bytes). The chunks
    /// wholly inside the range are decoded straight into their place in `out` (in parallel
    /// when there are several and the read is large), the partial chunks at either end
    /// through [`read_ranges`](Self::read_ranges). Chunks decoded in place skip the cache:
    /// large contiguous reads should not evict what smaller reads reuse.
    pub fn read_range_into(&self, range: std::ops::Range<u64>, out: &mut [u8]) -> Result<()> {
        if self.geom.rank() != 1 {
            return Err(Error::Usage(format!(
                "range reads need a 1-D dataset, not rank {}",
                self.geom.rank()
            )));
        }
        let e = self.geom.element_size as usize;
        // The caller allocated `out` (and checked that allocation): only sizes to compare.
        let total = range
            .end
            .saturating_sub(range.start)
            .checked_mul(self.geom.element_size);
        if total != Some(out.len() as u64) || range.end > self.geom.dims[0] {
            return Err(Error::Usage(format!(
                "range {range:?} into a buffer of {} bytes",
                out.len()
            )));
        }
        let cl = self.geom.chunk_dims[0].max(1);
        let (first, last) = (range.start.div_ceil(cl), range.end / cl);
        if first >= last {
            return self.read_ranges(&[range], out);
        }
        let head = (first * cl - range.start) as usize * e;
        let middle = ((last - first) * cl) as usize * e;
        let (h, rest) = out.split_at_mut(head);
        let (m, t) = rest.split_at_mut(middle);
        if !h.is_empty() {
            self.read_ranges(&[range.start..first * cl], h)?;
        }
        if !t.is_empty() {
            self.read_ranges(&[last * cl..range.end], t)?;
        }
        let cb = self.geom.chunk_bytes as usize;
        // Reads that fit well in the chunk cache keep their chunks there (a repeated or
        // neighbouring selection finds them); larger ones decode straight into place.
        let keep = self
            .cache
            .as_ref()
            .is_some_and(|c| middle <= c.capacity() / 4);
        let one = |(i, part): (u64, &mut [u8])| -> Result<()> {
            if let Some(c) = self.cached(&[i]).filter(|c| c.len() >= part.len()) {
                part.copy_from_slice(&c[..part.len()]);
                return Ok(());
            }
            let Some(loc) = self.index.lookup(&[i])? else {
                for (dst, src) in part.iter_mut().zip(self.fill.iter().cycle()) {
                    *dst = *src;
                }
                return Ok(());
            };
            if self.decoder.is_plain() && loc.size == part.len() as u64 {
                // Unfiltered chunk: one positioned read into place, no intermediate buffer.
                self.source.read_into("chunk", loc.address, part)?;
                self.decoded.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            if keep {
                let data = Arc::new(self.load(&loc)?);
                let src = data.get(..part.len()).ok_or_else(|| {
                    Error::malformed("chunk", loc.address, "decoded chunk too short")
                })?;
                part.copy_from_slice(src);
                if let Some(cache) = &self.cache {
                    cache.insert(self.key(&[i]), data);
                }
                return Ok(());
            }
            let raw = self.source.read("chunk", loc.address, loc.size)?;
            if self
                .decoder
                .decode_into(&raw, loc.filter_mask, part, loc.address)?
            {
                self.decoded.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            drop(raw);
            let data = self.load(&loc)?;
            let src = data
                .get(..part.len())
                .ok_or_else(|| Error::malformed("chunk", loc.address, "decoded chunk too short"))?;
            part.copy_from_slice(src);
            Ok(())
        };
        let jobs = m
            .chunks_mut(cb)
            .enumerate()
            .map(|(k, p)| (first + k as u64, p));
        if middle >= PARALLEL_BYTES && last - first > 1 {
            jobs.collect::<Vec<_>>().into_par_iter().try_for_each(one)
        } else {
            jobs.into_iter().try_for_each(one)
        }
    }

    /// Read the hyperslab `start + k * step` (`k < count` per dimension) into `out`, which
    /// must hold exactly `product(count)` elements, row-major.
    pub fn read_hyperslab(
        &self,
        start: &[u64],
        count: &[u64],
        step: &[u64],
        out: &mut [u8],
    ) -> Result<()> {
        select::check_hyperslab(&self.geom.dims, start, count, step)?;
        let total = self.total_bytes(count)?;
        if out.len() != total {
            return Err(Error::Usage(format!(
                "output buffer of {} bytes for a selection of {total}",
                out.len()
            )));
        }
        if total == 0 {
            return Ok(());
        }
        let rank = self.geom.rank();
        let pieces: Vec<Vec<select::DimPiece>> = (0..rank)
            .map(|d| select::dim_pieces(start[d], count[d], step[d], self.geom.chunk_dims[d]))
            .collect();
        let chunk_strides = select::strides(&self.geom.chunk_dims);
        let src_strides: Vec<u64> = chunk_strides
            .iter()
            .zip(step)
            .map(|(&s, &t)| s * t)
            .collect();
        let out_strides = select::strides(count);
        let fill = OnceLock::new();
        let batch = self.batch_len();
        // Odometer over the per-dimension pieces.
        let mut idx = vec![0usize; rank];
        let mut done = false;
        while !done {
            let mut group: Vec<Vec<usize>> = Vec::with_capacity(batch);
            while group.len() < batch && !done {
                group.push(idx.clone());
                let mut k = rank;
                loop {
                    if k == 0 {
                        done = true;
                        break;
                    }
                    k -= 1;
                    idx[k] += 1;
                    if idx[k] < pieces[k].len() {
                        break;
                    }
                    idx[k] = 0;
                }
            }
            let scaled: Vec<Vec<u64>> = group
                .iter()
                .map(|g| (0..rank).map(|d| pieces[d][g[d]].chunk).collect())
                .collect();
            let chunks = self.fetch(&scaled, None, &fill)?;
            for (g, data) in group.iter().zip(chunks) {
                let mut counts = Vec::with_capacity(rank);
                let (mut src_base, mut dst_base) = (0u64, 0u64);
                for d in 0..rank {
                    let p = pieces[d][g[d]];
                    counts.push(p.count);
                    src_base += p.first * chunk_strides[d];
                    dst_base += p.out_start * out_strides[d];
                }
                BlockCopy {
                    elem: self.geom.element_size as usize,
                    counts: &counts,
                    src_base,
                    src_strides: &src_strides,
                    dst_base,
                    dst_strides: &out_strides,
                }
                .run(&data, out)?;
            }
        }
        Ok(())
    }

    /// Read 1-D element ranges, concatenated in order, into `out` (exactly the total number
    /// of elements). Each needed chunk is looked up and decoded once.
    pub fn read_ranges(&self, ranges: &[std::ops::Range<u64>], out: &mut [u8]) -> Result<()> {
        let e = self.geom.element_size as usize;
        let n = ranges
            .iter()
            .map(|r| r.end.saturating_sub(r.start))
            .sum::<u64>();
        let total = self.total_bytes(&[n])?;
        if out.len() != total {
            return Err(Error::Usage(format!(
                "output buffer of {} bytes for ranges totalling {total}",
                out.len()
            )));
        }
        self.read_ranges_with(ranges, &mut |at, bytes| {
            let d = at as usize * e;
            out.get_mut(d..d + bytes.len())
                .ok_or_else(|| Error::Usage("range copy out of range".into()))?
                .copy_from_slice(bytes);
            Ok(())
        })
    }

    /// Read 1-D element ranges and hand each contiguous piece to `sink` as (position of its
    /// first element in the concatenated output, its bytes), so callers can convert straight
    /// from the decoded chunks without an intermediate buffer.
    pub fn read_ranges_with(
        &self,
        ranges: &[std::ops::Range<u64>],
        sink: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        if self.geom.rank() != 1 {
            return Err(Error::Usage(format!(
                "range reads need a 1-D dataset, not rank {}",
                self.geom.rank()
            )));
        }
        let (groups, _n) =
            select::range_pieces(self.geom.dims[0], self.geom.chunk_dims[0], ranges)?;
        let e = self.geom.element_size as usize;
        let fill = OnceLock::new();
        for batch in groups.chunks(self.batch_len()) {
            let scaled: Vec<Vec<u64>> = batch.iter().map(|(c, _)| vec![*c]).collect();
            let needed: Vec<usize> = batch
                .iter()
                .map(|(_, pieces)| {
                    pieces
                        .iter()
                        .map(|p| (p.in_chunk + p.len) as usize * e)
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let chunks = self.fetch(&scaled, Some(&needed), &fill)?;
            for ((_, pieces), data) in batch.iter().zip(chunks) {
                for p in pieces {
                    let s = p.in_chunk as usize * e;
                    let len = p.len as usize * e;
                    let from = data
                        .get(s..s + len)
                        .ok_or_else(|| Error::Usage("range copy out of range".into()))?;
                    sink(p.out, from)?;
                }
            }
        }
        Ok(())
    }
}
