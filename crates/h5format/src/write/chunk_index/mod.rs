//! Chunk indexes of the version 4 layout message (libhdf5 1.10+), chosen as libhdf5 chooses
//! them for a file created with `libver="latest"` (`H5D__layout_set_latest_indexing`):
//!
//! * no unlimited dimension and one chunk covering the whole (fixed) dataset: **single
//!   chunk** (the chunk's address, and for filtered data its stored size and filter mask,
//!   sit in the layout message itself);
//! * no unlimited dimension otherwise: **fixed array** (`fixed_array.rs`);
//! * one unlimited dimension: **extensible array** (`extensible_array.rs`);
//! * several unlimited dimensions: **v2 B-tree** (`btree2.rs`, record types 10/11).
//!
//! The implicit index (unfiltered datasets with early allocation) is never chosen: our
//! chunked datasets allocate incrementally, as h5py's do. Parameters are libhdf5's defaults
//! (fixed array pages of 2^10 entries; extensible array of 2^32 elements at most, 4 in the
//! index block, data blocks of at least 16, super blocks of at least 4 data blocks, pages of
//! 2^10; B-tree nodes of 2048 bytes), so libhdf5 can extend what we write.
//!
//! Used by the writer (`Format::Latest`) and by the editor, which rewrites the index of a
//! version 4 layout it changes (`write/edit/data.rs`): addresses and lengths take the
//! current [`Widths`] (the edited file's), and blocks are allocated with [`Out::alloc`], so
//! they reuse the editor's free space.

mod btree2;
mod extensible_array;
mod fixed_array;

use std::collections::BTreeMap;

use super::encode::{usage, Put, Widths, UNDEF};
use super::sink::Out;
use crate::error::Result;

/// Index type numbers of the layout message.
const SINGLE: u8 = 1;
const FIXED_ARRAY: u8 = 3;
const EXTENSIBLE_ARRAY: u8 = 4;
const BTREE2: u8 = 5;
/// Layout flag: the single chunk is filtered (its size and mask follow the index type).
const SINGLE_FILTERED: u8 = 0x02;

/// The chunks of one dataset as the index encoders see them.
pub(crate) struct Chunked<'a> {
    /// Written chunks: scaled coordinates → (address, stored size).
    pub written: &'a BTreeMap<Vec<u64>, (u64, u32)>,
    /// Chunk dimensions (elements).
    pub dims: &'a [u64],
    /// Element size in bytes.
    pub elem: u64,
    /// Current dataset dimensions.
    pub shape: &'a [u64],
    /// Maximum dimensions (`None` = unlimited).
    pub max: &'a [Option<u64>],
    /// Whether the dataset has a filter pipeline.
    pub filtered: bool,
}

/// How index entries are encoded: the address (in the file's width of offsets,
/// [`Widths`]), and for filtered chunks the stored size in `size_len` bytes and a filter
/// mask.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EntryFormat {
    /// Width of the chunk size field; 0 when unfiltered.
    pub size_len: usize,
}

impl EntryFormat {
    /// Bytes of one entry.
    pub fn len(&self) -> usize {
        let o = Widths::current().o();
        if self.size_len == 0 {
            o
        } else {
            o + self.size_len + 4
        }
    }

    /// Client id of array indexes: 0 unfiltered, 1 filtered.
    pub fn client(&self) -> u8 {
        u8::from(self.size_len != 0)
    }

    /// Append one entry (`None` = no chunk: undefined address, size and mask 0).
    pub fn put(&self, out: &mut Vec<u8>, entry: Option<(u64, u32)>) {
        let (addr, size) = entry.unwrap_or((UNDEF, 0));
        out.put_addr(addr);
        if self.size_len != 0 {
            out.extend_from_slice(&u64::from(size).to_le_bytes()[..self.size_len]);
            out.put_u32(0); // filter mask: every filter applied
        }
    }
}

/// libhdf5's width of a filtered chunk's size: one byte more than the uncompressed chunk
/// size needs (`1 + (log2(size) + 8) / 8`, at most 8).
fn chunk_size_len(chunk_bytes: u64) -> usize {
    (1 + (log2(chunk_bytes) as usize + 8) / 8).min(8)
}

/// floor(log2(v)), 0 for 0.
pub(crate) fn log2(v: u64) -> u32 {
    63 - v.max(1).leading_zeros()
}

/// Chunks per dimension over the maximum dimensions (`None`: unlimited).
fn max_chunks(c: &Chunked<'_>) -> Vec<Option<u64>> {
    c.max
        .iter()
        .zip(c.dims)
        .map(|(m, d)| m.map(|m| m.div_ceil(*d)))
        .collect()
}

/// Row-major index of `scaled` in a grid of `grid` (the first dimension's size unused).
fn linear(scaled: &[u64], grid: &[u64]) -> Result<u64> {
    let mut i = 0u64;
    for (s, g) in scaled.iter().zip(grid) {
        i = i
            .checked_mul(*g)
            .and_then(|i| i.checked_add(*s))
            .ok_or_else(|| usage("chunk index overflows"))?;
    }
    Ok(i)
}

/// Write the index of a chunked dataset and return the version 4 layout message body.
pub(crate) fn layout_v4(out: &mut Out, c: &Chunked<'_>) -> Result<Vec<u8>> {
    let rank = c.dims.len();
    if c.max.len() != rank || c.shape.len() != rank {
        return Err(usage("chunk index of mismatched rank"));
    }
    let chunk_bytes = c.dims.iter().product::<u64>() * c.elem;
    let fmt = EntryFormat {
        size_len: if c.filtered {
            chunk_size_len(chunk_bytes)
        } else {
            0
        },
    };
    let unlimited = c.max.iter().filter(|m| m.is_none()).count();
    let single = unlimited == 0
        && (0..rank).all(|d| c.max[d] == Some(c.shape[d]) && c.shape[d] == c.dims[d]);
    let kind = match unlimited {
        _ if single => SINGLE,
        0 => FIXED_ARRAY,
        1 => EXTENSIBLE_ARRAY,
        _ => BTREE2,
    };
    let mut flags = 0u8;
    let mut params = Vec::new();
    match kind {
        SINGLE if c.filtered => {
            flags |= SINGLE_FILTERED;
            let size = c.written.values().next().map_or(0, |e| e.1);
            params.put_len(u64::from(size));
            params.put_u32(0); // filter mask
        }
        FIXED_ARRAY => params.put_u8(fixed_array::PAGE_BITS),
        EXTENSIBLE_ARRAY => params.extend_from_slice(&extensible_array::PARAMS),
        BTREE2 => {
            params.put_u32(btree2::NODE_SIZE);
            params.put_u8(btree2::SPLIT_PERCENT);
            params.put_u8(btree2::MERGE_PERCENT);
        }
        _ => {}
    }
    let max = max_chunks(c);
    let addr = match kind {
        // No chunk written: no index (libhdf5 creates it when it writes a chunk).
        _ if c.written.is_empty() => UNDEF,
        SINGLE => c.written.values().next().map_or(UNDEF, |e| e.0),
        FIXED_ARRAY => {
            let grid: Vec<u64> = max.iter().map(|m| m.unwrap_or(1)).collect();
            fixed_array::write(out, c.written, &grid, fmt)?
        }
        EXTENSIBLE_ARRAY => {
            // The unlimited dimension moves first; the array index is row-major over the
            // maximum chunk grid of the others.
            let u = max.iter().position(|m| m.is_none()).unwrap_or(0);
            let mut grid: Vec<u64> = max.iter().map(|m| m.unwrap_or(1)).collect();
            grid.remove(u);
            grid.insert(0, 1);
            let mut elements = BTreeMap::new();
            for (scaled, e) in c.written {
                let mut sw = scaled.clone();
                let first = sw.remove(u);
                sw.insert(0, first);
                elements.insert(linear(&sw, &grid)?, *e);
            }
            extensible_array::write(out, &elements, fmt)?
        }
        _ => btree2::write(out, c.written, fmt)?,
    };
    let mut body = vec![4, 2, flags, (rank + 1) as u8];
    let widest = c.dims.iter().copied().chain([c.elem]).max().unwrap_or(1);
    let width = log2(widest) as usize / 8 + 1;
    body.put_u8(width as u8);
    for d in c.dims.iter().chain([&c.elem]) {
        body.extend_from_slice(&d.to_le_bytes()[..width]);
    }
    body.put_u8(kind);
    body.extend_from_slice(&params);
    body.put_addr(addr);
    Ok(body)
}
