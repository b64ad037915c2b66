//! The b2nd metalayer (README_B2ND_METALAYER of c-blosc2) and the reassembly of a b2nd array
//! into C order.
//!
//! Metalayer: msgpack `[version, ndim, shape (int64 each), chunkshape (int32 each), blockshape
//! (int32 each), dtype format, dtype]` (the older "caterva" metalayer has the first five).
//!
//! Layout: the array is cut into chunks of `chunkshape` (chunks in C order over the grid that
//! covers `shape`); a chunk is padded to `extchunkshape` (each dimension rounded up to a
//! multiple of the block's) and cut into blocks of `blockshape`, blocks in C order over the
//! chunk's block grid, each block's elements in C order. The Blosc2 chunk's blocks are exactly
//! these blocks. Items outside `chunkshape` or outside `shape` are padding.

use super::msgpack::Reader;
use crate::filter::CodecResult;

/// Most dimensions a b2nd array has (`B2ND_MAX_DIM`).
pub const MAX_DIM: usize = 8;

/// Shapes of a b2nd array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Geometry {
    /// Array shape.
    pub shape: Vec<usize>,
    /// Chunk shape.
    pub chunkshape: Vec<usize>,
    /// Block shape.
    pub blockshape: Vec<usize>,
    /// Items of the array.
    pub items: usize,
    /// Items of one chunk padded to whole blocks.
    pub extchunk_items: usize,
    /// Items of one block.
    pub block_items: usize,
    /// Number of chunks.
    pub nchunks: usize,
}

/// Product of `v`, `None` on overflow or past 2^48.
fn product(mut v: impl Iterator<Item = usize>) -> Option<usize> {
    v.try_fold(1usize, |a, x| a.checked_mul(x))
        .filter(|&p| p <= 1 << 48)
}

impl Geometry {
    /// Parse the metalayer content. Requires `0 < blockshape <= chunkshape <= shape` in every
    /// dimension (what the HDF5 filter and PyTables write: one chunk of the HDF5 chunk's shape).
    pub fn parse(meta: &[u8]) -> CodecResult<Geometry> {
        let mut r = Reader::new(meta, 0);
        let fail = |e: String| format!("b2nd metalayer: {e}");
        let n = r.array().map_err(fail)?;
        if n < 5 {
            return Err(format!("b2nd metalayer: {n} items, expected 7"));
        }
        r.int().map_err(fail)?;
        let ndim = r.int().map_err(fail)?;
        let ndim = usize::try_from(ndim)
            .ok()
            .filter(|&d| (1..=MAX_DIM).contains(&d))
            .ok_or_else(|| format!("b2nd metalayer: {ndim} dimensions (1..=8 supported)"))?;
        let mut dims = |what: &str| -> CodecResult<Vec<usize>> {
            let k = r.array().map_err(fail)?;
            if k != ndim {
                return Err(format!(
                    "b2nd metalayer: {what} has {k} dimensions, ndim is {ndim}"
                ));
            }
            (0..ndim)
                .map(|_| {
                    let v = r.int().map_err(fail)?;
                    usize::try_from(v)
                        .ok()
                        .filter(|&v| v > 0 && v <= u32::MAX as usize)
                        .ok_or_else(|| format!("b2nd metalayer: {what} extent {v}"))
                })
                .collect()
        };
        let shape = dims("shape")?;
        let chunkshape = dims("chunkshape")?;
        let blockshape = dims("blockshape")?;
        for d in 0..ndim {
            if blockshape[d] > chunkshape[d] || chunkshape[d] > shape[d] {
                return Err(format!(
                    "b2nd metalayer: dimension {d} has shape {}, chunk {}, block {} \
                     (block <= chunk <= shape expected)",
                    shape[d], chunkshape[d], blockshape[d]
                ));
            }
        }
        let too_big = || format!("b2nd metalayer: shapes {shape:?} / {chunkshape:?} too large");
        let extchunk = chunkshape
            .iter()
            .zip(&blockshape)
            .map(|(&c, &b)| c.div_ceil(b) * b);
        let items = product(shape.iter().copied()).ok_or_else(too_big)?;
        let extchunk_items = product(extchunk).ok_or_else(too_big)?;
        let block_items = product(blockshape.iter().copied()).ok_or_else(too_big)?;
        let nchunks = product(shape.iter().zip(&chunkshape).map(|(&s, &c)| s.div_ceil(c)))
            .ok_or_else(too_big)?;
        nchunks
            .checked_mul(extchunk_items)
            .filter(|&p| p <= 1 << 48)
            .ok_or_else(too_big)?;
        Ok(Geometry {
            shape,
            chunkshape,
            blockshape,
            items,
            extchunk_items,
            block_items,
            nchunks,
        })
    }

    /// The chunk shape padded to whole blocks.
    fn extchunk(&self) -> Vec<usize> {
        self.chunkshape
            .iter()
            .zip(&self.blockshape)
            .map(|(&c, &b)| c.div_ceil(b) * b)
            .collect()
    }
}

/// Copies decoded blocks of a b2nd array into its C-order buffer.
#[derive(Debug)]
pub struct Scatter<'g> {
    g: &'g Geometry,
    typesize: usize,
    /// Array strides in items.
    strides: Vec<usize>,
    /// Blocks per chunk along each dimension.
    blocks_per_chunk: Vec<usize>,
    /// Chunks along each dimension.
    chunks: Vec<usize>,
}

/// C-order multi-index of `i` over `extents`.
fn unravel(mut i: usize, extents: &[usize], out: &mut [usize]) {
    for d in (0..extents.len()).rev() {
        out[d] = i % extents[d];
        i /= extents[d];
    }
}

impl<'g> Scatter<'g> {
    /// For an array of `g` with `typesize`-byte items.
    pub fn new(g: &'g Geometry, typesize: usize) -> Self {
        let nd = g.shape.len();
        let mut strides = vec![1usize; nd];
        for d in (0..nd.saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * g.shape[d + 1];
        }
        let ext = g.extchunk();
        Scatter {
            g,
            typesize,
            strides,
            blocks_per_chunk: ext
                .iter()
                .zip(&g.blockshape)
                .map(|(&e, &b)| e / b)
                .collect(),
            chunks: g
                .shape
                .iter()
                .zip(&g.chunkshape)
                .map(|(&s, &c)| s.div_ceil(c))
                .collect(),
        }
    }

    /// Copy block `j` of chunk `c` (`data`, C order over the block shape; a short final slice
    /// is an error) into `out`, skipping padding.
    pub fn block(&self, c: usize, j: usize, data: &[u8], out: &mut [u8]) -> CodecResult<()> {
        let g = self.g;
        let nd = g.shape.len();
        let ts = self.typesize;
        if data.len() != g.block_items * ts {
            return Err(format!(
                "b2nd block {j} of chunk {c} has {} bytes, its shape needs {}",
                data.len(),
                g.block_items * ts
            ));
        }
        let mut cidx = [0usize; MAX_DIM];
        let mut bidx = [0usize; MAX_DIM];
        unravel(c, &self.chunks, &mut cidx[..nd]);
        unravel(j, &self.blocks_per_chunk, &mut bidx[..nd]);
        // Block origin inside its chunk and in the array; extent of real items per dimension.
        let mut origin = [0usize; MAX_DIM];
        let mut valid = [0usize; MAX_DIM];
        for d in 0..nd {
            let in_chunk = bidx[d] * g.blockshape[d];
            let global = cidx[d] * g.chunkshape[d] + in_chunk;
            let chunk_room = g.chunkshape[d].saturating_sub(in_chunk);
            let array_room = g.shape[d].saturating_sub(global);
            valid[d] = g.blockshape[d].min(chunk_room).min(array_room);
            if valid[d] == 0 {
                return Ok(());
            }
            origin[d] = global;
        }
        // Walk the rows (last dimension) of the valid part of the block.
        let row = valid[nd - 1] * ts;
        let mut idx = [0usize; MAX_DIM];
        loop {
            let mut src = 0usize;
            let mut dst = 0usize;
            for d in 0..nd {
                src = src * g.blockshape[d] + idx[d];
                dst += (origin[d] + idx[d]) * self.strides[d];
            }
            let (src, dst) = (src * ts, dst * ts);
            out[dst..dst + row].copy_from_slice(&data[src..src + row]);
            // Next row: odometer over dimensions 0..nd-1.
            let mut d = nd - 1;
            loop {
                if d == 0 {
                    return Ok(());
                }
                d -= 1;
                idx[d] += 1;
                if idx[d] < valid[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
    }
}
