//! Chunk indexes: where each chunk of a chunked dataset lives.
//!
//! One module per index kind of the spec (layout message v3: v1 B-tree; v4/v5: single chunk,
//! implicit, fixed array, extensible array, v2 B-tree). Every index answers two questions:
//! where is the chunk with these scaled coordinates ([`ChunkIndex::lookup`], which descends or
//! addresses the structure directly), and which chunks exist ([`ChunkIndex::for_each`]).

use crate::cursor::{Cursor, Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::io::Source;
use crate::read::layout::ChunkIndexKind;

pub mod btree1;
pub mod btree2;
pub mod extensible_array;
pub mod fixed_array;
pub mod implicit;
pub mod prefetch;
pub mod single;

/// Where one stored chunk is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkLocation {
    /// Chunk coordinates in chunk units (element offset / chunk dimension).
    pub scaled: Vec<u64>,
    /// File address of the stored chunk.
    pub address: u64,
    /// Stored size in bytes (after filters).
    pub size: u64,
    /// Filters skipped for this chunk (bit i set: filter i not applied).
    pub filter_mask: u32,
}

/// The shape facts an index needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Geometry {
    /// Current dataset dimensions.
    pub dims: Vec<u64>,
    /// Maximum dataset dimensions (`u64::MAX` for unlimited).
    pub max_dims: Vec<u64>,
    /// Chunk dimensions in elements.
    pub chunk_dims: Vec<u64>,
    /// Size of one element in bytes.
    pub element_size: u64,
    /// Size of one unfiltered chunk in bytes.
    pub chunk_bytes: u64,
}

impl Geometry {
    /// Build and validate the geometry.
    pub fn new(
        dims: &[u64],
        max_dims: &[u64],
        chunk_dims: &[u64],
        element_size: u64,
    ) -> Result<Self> {
        let bad = |d: String| Error::malformed("layout message", 0, d);
        if chunk_dims.is_empty() || chunk_dims.len() > 32 {
            return Err(bad(format!("chunk rank {}", chunk_dims.len())));
        }
        if dims.len() != chunk_dims.len() || max_dims.len() != chunk_dims.len() {
            return Err(bad(format!(
                "chunk rank {} but dataset rank {}",
                chunk_dims.len(),
                dims.len()
            )));
        }
        if chunk_dims.contains(&0) || element_size == 0 {
            return Err(bad("zero chunk dimension or element size".into()));
        }
        let chunk_bytes = chunk_dims
            .iter()
            .try_fold(element_size, |a, &d| a.checked_mul(d))
            .filter(|&b| b <= u64::from(u32::MAX))
            .ok_or_else(|| bad("chunk size overflows".into()))?;
        Ok(Geometry {
            dims: dims.to_vec(),
            max_dims: max_dims.iter().zip(dims).map(|(&m, &d)| m.max(d)).collect(),
            chunk_dims: chunk_dims.to_vec(),
            element_size,
            chunk_bytes,
        })
    }

    /// Rank.
    pub fn rank(&self) -> usize {
        self.chunk_dims.len()
    }

    /// Chunks along each dimension for the current dimensions.
    pub fn chunks_per_dim(&self) -> Vec<u64> {
        self.dims
            .iter()
            .zip(&self.chunk_dims)
            .map(|(&d, &c)| d.div_ceil(c))
            .collect()
    }

    /// Chunks along each dimension for the maximum dimensions (unlimited stays `u64::MAX`).
    pub fn max_chunks_per_dim(&self) -> Vec<u64> {
        self.max_dims
            .iter()
            .zip(&self.chunk_dims)
            .map(|(&d, &c)| {
                if d == u64::MAX {
                    u64::MAX
                } else {
                    d.div_ceil(c)
                }
            })
            .collect()
    }

    /// Width in bytes of the "chunk size" field of filtered entries under layout v4:
    /// `1 + (log2(chunk bytes) + 8) / 8`, at most 8.
    pub fn v4_chunk_size_width(&self) -> usize {
        let log2 = 63 - self.chunk_bytes.max(1).leading_zeros() as usize;
        (1 + (log2 + 8) / 8).min(8)
    }
}

/// A chunk index.
pub trait ChunkIndex: Send + Sync {
    /// The index kind's name.
    fn kind(&self) -> &'static str;
    /// The chunk at `scaled` coordinates, `None` if never written.
    fn lookup(&self, scaled: &[u64]) -> Result<Option<ChunkLocation>>;
    /// Call `f` on every stored chunk (order unspecified).
    fn for_each(&self, f: &mut dyn FnMut(ChunkLocation) -> Result<()>) -> Result<()>;
    /// Remote files: read the first level of the index now and announce
    /// ([`Source::hint`]) the few nodes of the next one, so that they are fetched with the
    /// next burst of reads. Never required; errors are left to the lookups. Default: nothing.
    fn warm(&self) {}
    /// The blocks the index occupies in the file (address, length: its header, nodes, data
    /// blocks — not the chunks), at the sizes libhdf5 allocates for them; `None` for kinds
    /// that do not tell (default).
    fn blocks(&self) -> Option<Result<Vec<(u64, u64)>>> {
        None
    }
}

/// An index with no chunk (undefined index address).
#[derive(Debug)]
pub struct Empty;

impl ChunkIndex for Empty {
    fn kind(&self) -> &'static str {
        "empty"
    }
    fn lookup(&self, _: &[u64]) -> Result<Option<ChunkLocation>> {
        Ok(None)
    }
    fn for_each(&self, _: &mut dyn FnMut(ChunkLocation) -> Result<()>) -> Result<()> {
        Ok(())
    }
}

/// Open the index of `kind` at `address`.
pub fn open(
    source: &Source,
    sizes: Sizes,
    kind: &ChunkIndexKind,
    address: u64,
    geom: &Geometry,
) -> Result<Box<dyn ChunkIndex>> {
    if address == UNDEF_ADDR {
        return Ok(Box::new(Empty));
    }
    let index = open_kind(source, sizes, kind, address, geom)?;
    Ok(if source.is_remote() {
        let index = prefetch::Prefetching::new(index, source.clone());
        index.warm();
        Box::new(index)
    } else {
        index
    })
}

/// Bytes announced for the header of an index other than a v1 B-tree (the header and, when
/// libhdf5 placed it right after, the first data or index block or root node).
const ANNOUNCED_HEADER_BYTES: u64 = 1024;

/// Remote files: announce ([`Source::hint`]) what opening and the first lookup of the index
/// of `kind` at `address` read first — the root node of a v1 B-tree, the header of the
/// other kinds — so that the indexes of several datasets announced before any of them is
/// opened are fetched in one burst. No effect on local files; never required.
pub fn announce(source: &Source, sizes: Sizes, kind: &ChunkIndexKind, address: u64, rank: usize) {
    if !source.is_remote() || address == UNDEF_ADDR || address >= source.len() {
        return;
    }
    let len = match kind {
        ChunkIndexKind::BTreeV1 => btree1::node_bytes_estimate(sizes, btree1::key_size(rank)),
        // The address is the chunk itself: read when a selection needs it.
        ChunkIndexKind::SingleChunk { .. } | ChunkIndexKind::Implicit => return,
        _ => ANNOUNCED_HEADER_BYTES,
    };
    source.hint(address, len.min(source.len() - address));
}

fn open_kind(
    source: &Source,
    sizes: Sizes,
    kind: &ChunkIndexKind,
    address: u64,
    geom: &Geometry,
) -> Result<Box<dyn ChunkIndex>> {
    Ok(match kind {
        ChunkIndexKind::BTreeV1 => Box::new(btree1::BTreeV1Index::new(
            source.clone(),
            sizes,
            address,
            geom,
        )),
        ChunkIndexKind::SingleChunk { filtered } => {
            Box::new(single::SingleChunk::new(address, *filtered, geom))
        }
        ChunkIndexKind::Implicit => Box::new(implicit::Implicit::new(address, geom)?),
        ChunkIndexKind::FixedArray { .. } => Box::new(fixed_array::FixedArrayIndex::open(
            source.clone(),
            sizes,
            address,
            geom,
        )?),
        ChunkIndexKind::ExtensibleArray { .. } => Box::new(
            extensible_array::ExtensibleArrayIndex::open(source.clone(), sizes, address, geom)?,
        ),
        ChunkIndexKind::BTreeV2 { .. } => Box::new(btree2::BTreeV2Index::open(
            source.clone(),
            sizes,
            address,
            geom,
        )?),
    })
}

/// Row-major linear index of `scaled` in a grid of `extent` chunks per dimension (the first
/// dimension's extent is not used and may be unlimited).
pub(crate) fn linearize(scaled: &[u64], extent: &[u64]) -> Option<u64> {
    let mut idx = 0u64;
    for (i, (&s, &e)) in scaled.iter().zip(extent).enumerate() {
        if i > 0 && s >= e {
            return None;
        }
        idx = if i == 0 {
            s
        } else {
            idx.checked_mul(e)?.checked_add(s)?
        };
    }
    Some(idx)
}

/// Inverse of [`linearize`].
pub(crate) fn delinearize(mut idx: u64, extent: &[u64]) -> Vec<u64> {
    let mut out = vec![0u64; extent.len()];
    for i in (0..extent.len()).rev() {
        if i == 0 {
            out[0] = idx;
        } else {
            let e = extent[i].max(1);
            out[i] = idx % e;
            idx /= e;
        }
    }
    out
}

/// Decode one array element of a chunk index: address, then for filtered chunks the stored
/// size (`size_width` bytes) and the filter mask. Unfiltered chunks have `chunk_bytes` size.
pub(crate) fn decode_entry(
    c: &mut Cursor<'_>,
    filtered: bool,
    size_width: usize,
    chunk_bytes: u64,
) -> Result<(u64, u64, u32)> {
    let addr = c.addr()?;
    if filtered {
        let size = c.uint(size_width)?;
        let mask = c.u32()?;
        Ok((addr, size, mask))
    } else {
        Ok((addr, chunk_bytes, 0))
    }
}

/// Width of the chunk-size field implied by an entry size stored in an array header.
pub(crate) fn size_width_from_entry(
    what: &'static str,
    offset: u64,
    entry_size: usize,
    filtered: bool,
    sizes: Sizes,
) -> Result<usize> {
    let addr = usize::from(sizes.offset);
    if !filtered {
        if entry_size != addr {
            return Err(Error::malformed(
                what,
                offset,
                format!("entry size {entry_size} for unfiltered chunks, expected {addr}"),
            ));
        }
        return Ok(0);
    }
    match entry_size.checked_sub(addr + 4) {
        Some(w @ 1..=8) => Ok(w),
        _ => Err(Error::malformed(
            what,
            offset,
            format!("entry size {entry_size} for filtered chunks"),
        )),
    }
}

/// Test bit `i` of a libhdf5 bitmap (bit 0 is the high bit of byte 0).
pub(crate) fn bit_set(bitmap: &[u8], i: u64) -> bool {
    usize::try_from(i / 8)
        .ok()
        .and_then(|b| bitmap.get(b))
        .is_some_and(|&byte| byte & (0x80 >> (i % 8)) != 0)
}
