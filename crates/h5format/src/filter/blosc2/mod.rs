//! Blosc2 (filter 32026, the hdf5-blosc2 plugin of PyTables that hdf5plugin ships): read only.
//!
//! Each stored HDF5 chunk is a Blosc2 contiguous frame ([`frame`]) holding one super-chunk
//! of Blosc2 chunks ([`chunk`]), each cut into blocks whose filters ([`pipeline`]) are undone
//! after decompression (BloscLZ, LZ4/LZ4HC, zlib, zstd). For chunks of 2 to 8 dimensions the
//! frame carries a `b2nd` metalayer ([`b2nd`]): the HDF5 chunk is then one b2nd array of the
//! chunk's shape whose blocks are multidimensional and must be reassembled into C order. A
//! chunk that is a bare Blosc2 (or Blosc 1) chunk instead of a frame — as the first
//! hdf5-blosc2 releases wrote — is read as well.
//!
//! Client data: `[filter revision, block size (0: automatic), type size, chunk bytes,
//! level, shuffle (0 none, 1 byte, 2 bit), codec (0 blosclz, 1 lz4, 2 lz4hc, 4 zlib, 5 zstd),
//! ndim, chunk shape...]`; the last two only for b2nd chunks. Decoding needs none of it (the
//! frame describes itself); the chunk shape, when present, is checked against the b2nd shape.
//!
//! Sizes are checked before allocating: the frame's uncompressed size against the chunk size
//! the dataset implies, every chunk's header against its place in the frame, every block and
//! stream against its chunk's bytes.

pub mod b2nd;
pub mod chunk;
pub mod frame;
mod msgpack;
pub mod pipeline;

use super::{Codec, CodecResult, Ctx};
use chunk::{Header, Special};
use frame::{ChunkRef, Frame};

/// The Blosc2 filter (decoding only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blosc2 {
    /// Compression level from `client_data[4]`.
    pub level: Option<u32>,
    /// Shuffle from `client_data[5]`: 0 none, 1 byte, 2 bit.
    pub shuffle: Option<u32>,
    /// Codec from `client_data[6]`.
    pub codec: Option<u32>,
    /// Chunk shape from `client_data[7..]` (b2nd chunks only).
    pub chunkshape: Option<Vec<usize>>,
}

impl Blosc2 {
    /// From the filter's client data.
    pub fn from_client_data(cd: &[u32]) -> Self {
        let chunkshape = cd.get(7).and_then(|&nd| {
            let nd = nd as usize;
            cd.get(8..8 + nd)
                .map(|s| s.iter().map(|&v| v as usize).collect())
        });
        Blosc2 {
            level: cd.get(4).copied(),
            shuffle: cd.get(5).copied(),
            codec: cd.get(6).copied(),
            chunkshape,
        }
    }
}

/// Decode one stored chunk of the Blosc2 filter, producing at most `limit` bytes. `chunkshape`
/// (from the client data) is checked against a b2nd array's shape.
pub fn decompress(
    input: &[u8],
    limit: usize,
    chunkshape: Option<&[usize]>,
) -> CodecResult<Vec<u8>> {
    if !frame::is_frame(input) {
        return decompress_chunk(input, limit);
    }
    let mut f = Frame::parse(input)?;
    let meta = f.metalayer(b"b2nd").or_else(|| f.metalayer(b"caterva"));
    match meta {
        Some(meta) => decompress_b2nd(&mut f, meta, limit, chunkshape),
        None => {
            f.load_index(limit)?;
            decompress_plain(&f)
        }
    }
}

/// A bare chunk (no frame).
fn decompress_chunk(input: &[u8], limit: usize) -> CodecResult<Vec<u8>> {
    let h = Header::parse(input)?;
    if h.nbytes > limit {
        return Err(format!(
            "chunk header announces {} bytes, more than the {limit} expected",
            h.nbytes
        ));
    }
    let mut out = Vec::with_capacity(h.nbytes);
    chunk::decode_blocks(input, |_, b| {
        out.extend_from_slice(b);
        Ok(())
    })?;
    Ok(out)
}

/// A frame without b2nd metalayer: its chunks one after the other.
fn decompress_plain(f: &Frame<'_>) -> CodecResult<Vec<u8>> {
    let mut out = Vec::with_capacity(f.nbytes);
    for i in 0..f.nchunks {
        let len = f.chunk_len(i);
        let fail = |e: String| format!("frame chunk {i}: {e}");
        match f.chunk(i).map_err(fail)? {
            ChunkRef::Zeros => out.resize(out.len() + len, 0),
            ChunkRef::Nans => {
                let mut block = vec![0u8; len];
                fill_nans(f.typesize, &mut block).map_err(fail)?;
                out.extend_from_slice(&block);
            }
            ChunkRef::Stored(src) => {
                let h = Header::parse(src).map_err(fail)?;
                if h.nbytes != len {
                    return Err(fail(format!(
                        "header announces {} bytes, the frame {len}",
                        h.nbytes
                    )));
                }
                chunk::decode_blocks(src, |_, b| {
                    out.extend_from_slice(b);
                    Ok(())
                })
                .map_err(fail)?;
            }
        }
    }
    if out.len() != f.nbytes {
        return Err(format!(
            "frame decodes to {} bytes, its header says {}",
            out.len(),
            f.nbytes
        ));
    }
    Ok(out)
}

fn fill_nans(typesize: usize, dst: &mut [u8]) -> CodecResult<()> {
    let nan: &[u8] = match typesize {
        4 => &[0x00, 0x00, 0xc0, 0x7f],
        8 => &[0, 0, 0, 0, 0, 0, 0xf8, 0x7f],
        t => return Err(format!("NaN chunk with type size {t}")),
    };
    for (d, s) in dst.iter_mut().zip(nan.iter().cycle()) {
        *d = *s;
    }
    Ok(())
}

/// A frame holding a b2nd array: reassemble its blocks into C order.
fn decompress_b2nd(
    f: &mut Frame<'_>,
    meta: &[u8],
    limit: usize,
    chunkshape: Option<&[usize]>,
) -> CodecResult<Vec<u8>> {
    let g = b2nd::Geometry::parse(meta)?;
    let ts = f.typesize;
    if let Some(cs) = chunkshape {
        if cs != g.shape.as_slice() {
            return Err(format!(
                "b2nd array of shape {:?} but the dataset's chunks have shape {cs:?}",
                g.shape
            ));
        }
    }
    let out_len = g
        .items
        .checked_mul(ts)
        .filter(|&n| n <= limit)
        .ok_or_else(|| {
            format!(
                "b2nd array of shape {:?} and {ts}-byte items is larger than the {limit} bytes expected",
                g.shape
            )
        })?;
    // Padded sizes: only checked against the frame, never allocated (blocks are placed one by
    // one into the output of `out_len` bytes).
    let too_big = || format!("b2nd array of shape {:?} too large", g.shape);
    let chunk_bytes = g.extchunk_items.checked_mul(ts).ok_or_else(too_big)?;
    let block_bytes = g.block_items * ts;
    let padded = g.nchunks.checked_mul(chunk_bytes).ok_or_else(too_big)?;
    if f.nbytes != padded {
        return Err(format!(
            "frame holds {} bytes, its b2nd shapes need {padded}",
            f.nbytes
        ));
    }
    f.load_index(padded)?;
    if f.nchunks != g.nchunks || (f.nchunks > 0 && f.chunksize != chunk_bytes) {
        return Err(format!(
            "frame of {} chunks of {} bytes, its b2nd shapes need {} of {chunk_bytes}",
            f.nchunks, f.chunksize, g.nchunks
        ));
    }
    let scatter = b2nd::Scatter::new(&g, ts);
    let blocks_per_chunk = chunk_bytes / block_bytes;
    let mut out = vec![0u8; out_len];
    for c in 0..f.nchunks {
        let fail = |e: String| format!("frame chunk {c}: {e}");
        let src = match f.chunk(c).map_err(fail)? {
            ChunkRef::Zeros => continue,
            ChunkRef::Nans => {
                let mut block = vec![0u8; block_bytes];
                fill_nans(ts, &mut block).map_err(fail)?;
                for j in 0..blocks_per_chunk {
                    scatter.block(c, j, &block, &mut out).map_err(fail)?;
                }
                continue;
            }
            ChunkRef::Stored(src) => src,
        };
        let h = Header::parse(src).map_err(fail)?;
        if h.nbytes != chunk_bytes {
            return Err(fail(format!(
                "header announces {} bytes, the b2nd chunk holds {chunk_bytes}",
                h.nbytes
            )));
        }
        if h.special != Special::None {
            // One block of the value, placed at every block of the chunk.
            let mut block = vec![0u8; block_bytes];
            let value = src.get(chunk::EXT_HEADER..h.cbytes).unwrap_or(&[]);
            chunk::fill_special(h.special, h.typesize, value, &mut block);
            for j in 0..blocks_per_chunk {
                scatter.block(c, j, &block, &mut out).map_err(fail)?;
            }
            continue;
        }
        if h.memcpyed() {
            let data = src
                .get(h.overhead..h.overhead + chunk_bytes)
                .ok_or_else(|| fail("memcpyed chunk shorter than its data".into()))?;
            for (j, b) in data.chunks(block_bytes).enumerate() {
                scatter.block(c, j, b, &mut out).map_err(fail)?;
            }
            continue;
        }
        if h.blocksize != block_bytes {
            return Err(fail(format!(
                "blocks of {} bytes, the b2nd block shape needs {block_bytes}",
                h.blocksize
            )));
        }
        chunk::decode_blocks(src, |j, b| scatter.block(c, j, b, &mut out)).map_err(fail)?;
    }
    Ok(out)
}

impl Codec for Blosc2 {
    fn decode(&self, input: Vec<u8>, ctx: &Ctx) -> CodecResult<Vec<u8>> {
        decompress(&input, ctx.max_out, self.chunkshape.as_deref())
    }

    fn encode(&self, _input: Vec<u8>, _elem_size: usize) -> CodecResult<Vec<u8>> {
        Err("Blosc2 encoding is not implemented".into())
    }

    fn can_encode(&self) -> bool {
        false
    }

    fn max_encoded_len(&self, n: usize) -> usize {
        super::generous_bound(n)
    }

    fn describe(&self) -> String {
        let codec = match self.codec {
            Some(0) => "blosclz",
            Some(1) => "lz4",
            Some(2) => "lz4hc",
            Some(4) => "zlib",
            Some(5) => "zstd",
            Some(_) => "?",
            None => "blosclz",
        };
        let sh = match self.shuffle {
            Some(1) => ", shuffle",
            Some(2) => ", bitshuffle",
            _ => "",
        };
        match self.level {
            Some(l) => format!("blosc2({codec}, {l}{sh})"),
            None => format!("blosc2({codec}{sh})"),
        }
    }
}

#[cfg(test)]
mod tests;
