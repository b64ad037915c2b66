//! One Blosc2 chunk (README_CHUNK_FORMAT of c-blosc2): the header, the block starts and the
//! compressed data streams of every block, undone block by block.
//!
//! Header (all integers little-endian): `version`, `versionlz`, `flags`, `typesize` (bytes
//! 0..4), `nbytes`, `blocksize`, `cbytes` (32-bit, bytes 4..16). When `flags` has both the
//! byte- and bit-shuffle bits set the header is *extended* to 32 bytes: six filter ids
//! (bytes 16..22), the user-defined codec id, the codec meta, six filter metas (24..30), then
//! `blosc2_flags2` (30) and `blosc2_flags` (31). A 16-byte header is a Blosc 1 chunk
//! ([`super::super::blosc`] decodes it).
//!
//! `flags`: bit 1 memcpyed (the data follows the header as is), bit 4 "don't split" (one
//! stream per block; otherwise a full block is `typesize` streams, byte plane by byte plane),
//! bits 5..7 the codec (0 BloscLZ, 1 LZ4/LZ4HC, 3 zlib, 4 zstd, 6 user-defined).
//! `blosc2_flags`: bit 0 dictionary, bit 3 lazy chunk, bits 4..6 a special chunk (1 zeros,
//! 2 NaNs, 3 one repeated value stored after the header, 4 uninitialized), bit 7 instrumented
//! codec. `blosc2_flags2` bit 0: variable-length blocks.
//!
//! After the header: one 32-bit start offset per block (relative to the chunk), then per stream
//! a signed 32-bit size: 0 a run of zero bytes, negative a token byte follows (bit 0: a run of
//! the byte `-size`), equal to the stream's length the bytes stored as is, otherwise that many
//! compressed bytes.

use super::pipeline::Pipeline;
use crate::filter::CodecResult;

/// Length of a Blosc 1 header.
pub const MIN_HEADER: usize = 16;
/// Length of the extended (Blosc2) header.
pub const EXT_HEADER: usize = 32;

const DOSHUFFLE: u8 = 0x01;
const MEMCPYED: u8 = 0x02;
const DOBITSHUFFLE: u8 = 0x04;
const DONT_SPLIT: u8 = 0x10;

const FLAG_USEDICT: u8 = 0x01;
const FLAG_LAZY: u8 = 0x08;
const FLAG_INSTR_CODEC: u8 = 0x80;
const FLAG2_VL_BLOCKS: u8 = 0x01;

/// Largest block c-blosc2 writes or reads (`BLOSC2_MAXBLOCKSIZE`).
const MAX_BLOCKSIZE: usize = 536_866_816;

/// A whole-chunk run of one value (`blosc2_flags` bits 4..6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// Not special: blocks follow.
    None,
    /// All bytes zero.
    Zeros,
    /// All elements NaN (f32 or f64 by the type size).
    Nans,
    /// One element value (stored after the header) repeated.
    Value,
    /// Never written; read as zeros here (libhdf5 would return undefined bytes).
    Uninit,
}

/// The parsed chunk header.
#[derive(Debug, Clone)]
pub struct Header {
    /// Chunk format version (byte 0).
    pub version: u8,
    /// `flags` (byte 2).
    pub flags: u8,
    /// Element size in bytes.
    pub typesize: usize,
    /// Uncompressed size.
    pub nbytes: usize,
    /// Uncompressed size of every block but possibly the last (clamped to `nbytes`).
    pub blocksize: usize,
    /// Compressed size of the whole chunk, header included.
    pub cbytes: usize,
    /// Header length: 16 (Blosc 1) or 32 (extended).
    pub overhead: usize,
    /// Filter ids of the six slots (applied 0..6 when writing).
    pub filters: [u8; 6],
    /// Filter metas of the six slots.
    pub filters_meta: [u8; 6],
    /// The whole-chunk special value, if any.
    pub special: Special,
}

fn le32(b: &[u8], at: usize) -> CodecResult<u32> {
    let s = b
        .get(at..at.saturating_add(4))
        .ok_or_else(|| format!("chunk truncated at byte {at}"))?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

impl Header {
    /// Parse the header at the start of `src` and check it against the bytes present.
    pub fn parse(src: &[u8]) -> CodecResult<Header> {
        if src.len() < MIN_HEADER {
            return Err(format!(
                "{} bytes, shorter than the 16-byte chunk header",
                src.len()
            ));
        }
        let version = src[0];
        let flags = src[2];
        let typesize = usize::from(src[3]);
        let nbytes = le32(src, 4)? as usize;
        let blocksize = le32(src, 8)? as usize;
        let cbytes = le32(src, 12)? as usize;
        if cbytes < MIN_HEADER || cbytes > src.len() {
            return Err(format!(
                "chunk header announces {cbytes} compressed bytes, {} are present",
                src.len()
            ));
        }
        if nbytes > i32::MAX as usize {
            return Err(format!(
                "chunk header announces {nbytes} bytes (over 2 GiB)"
            ));
        }
        if typesize == 0 {
            return Err("chunk header has type size 0".into());
        }
        let extended = flags & DOSHUFFLE != 0 && flags & DOBITSHUFFLE != 0;
        let mut h = Header {
            version,
            flags,
            typesize,
            nbytes,
            blocksize,
            cbytes,
            overhead: MIN_HEADER,
            filters: [0; 6],
            filters_meta: [0; 6],
            special: Special::None,
        };
        if !extended {
            return Ok(h);
        }
        if cbytes < EXT_HEADER {
            return Err(format!(
                "extended chunk header but only {cbytes} compressed bytes"
            ));
        }
        h.overhead = EXT_HEADER;
        h.filters.copy_from_slice(&src[16..22]);
        h.filters_meta.copy_from_slice(&src[24..30]);
        if version == 3 {
            // The alpha format did not clear the last slot.
            h.filters[5] = 0;
            h.filters_meta[5] = 0;
        }
        let flags2 = src[30];
        let bflags = src[31];
        if flags2 & FLAG2_VL_BLOCKS != 0 {
            return Err("chunks of variable-length blocks are not supported".into());
        }
        if flags2 != 0 {
            return Err(format!("unknown chunk flags2 {flags2:#04x}"));
        }
        h.special = match (bflags >> 4) & 7 {
            0 => Special::None,
            1 => Special::Zeros,
            2 => Special::Nans,
            3 => Special::Value,
            4 => Special::Uninit,
            s => return Err(format!("unknown special chunk kind {s}")),
        };
        if h.special == Special::Value {
            // The element stored after the header gives the type size.
            h.typesize = cbytes - EXT_HEADER;
            if h.typesize == 0 || h.typesize > nbytes.max(1) || !nbytes.is_multiple_of(h.typesize) {
                return Err(format!(
                    "repeated-value chunk of {nbytes} bytes with a {}-byte value",
                    h.typesize
                ));
            }
        }
        if h.special == Special::None {
            if bflags & FLAG_USEDICT != 0 {
                return Err("dictionary-compressed chunks are not supported".into());
            }
            if bflags & FLAG_LAZY != 0 {
                return Err("lazy chunk (no data blocks) inside a frame".into());
            }
            if bflags & FLAG_INSTR_CODEC != 0 {
                return Err("instrumented-codec chunks hold no data".into());
            }
        }
        if h.special == Special::Nans && h.typesize != 4 && h.typesize != 8 {
            return Err(format!("NaN chunk with type size {}", h.typesize));
        }
        if h.special == Special::None {
            if blocksize == 0 || blocksize > MAX_BLOCKSIZE {
                return Err(format!("block size {blocksize}"));
            }
            h.blocksize = blocksize.min(nbytes.max(1));
        }
        Ok(h)
    }

    /// Whether the data follows the header uncompressed.
    pub fn memcpyed(&self) -> bool {
        self.flags & MEMCPYED != 0
    }

    /// Number of blocks (0 for an empty chunk).
    pub fn nblocks(&self) -> usize {
        if self.nbytes == 0 || self.blocksize == 0 {
            0
        } else {
            self.nbytes.div_ceil(self.blocksize)
        }
    }

    /// Uncompressed length of block `j`.
    pub fn block_len(&self, j: usize) -> usize {
        (self.nbytes - j * self.blocksize).min(self.blocksize)
    }
}

/// Decode one compressed stream of `dst.len()` bytes with the chunk's codec.
fn decompress_stream(codec: u8, src: &[u8], dst: &mut [u8]) -> CodecResult<()> {
    let n = dst.len();
    match codec {
        0 => {
            let out = crate::filter::blosclz::decompress(src, n)?;
            if out.len() != n {
                return Err(format!(
                    "BloscLZ stream decodes to {} bytes, expected {n}",
                    out.len()
                ));
            }
            dst.copy_from_slice(&out);
        }
        1 => {
            let got = lz4_flex::block::decompress_into(src, dst)
                .map_err(|e| format!("corrupt LZ4 stream: {e}"))?;
            if got != n {
                return Err(format!("LZ4 stream decodes to {got} bytes, expected {n}"));
            }
        }
        3 => crate::filter::deflate::inflate_into(src, dst)?,
        4 => crate::filter::zstd::decompress_into(src, dst)?,
        2 => return Err("codec slot 2 (formerly Snappy) is not supported".into()),
        6 => return Err("user-defined codecs are not supported".into()),
        c => return Err(format!("unknown codec {c}")),
    }
    Ok(())
}

/// Fill `dst` with the chunk's special value (the element for [`Special::Value`] is `value`).
pub fn fill_special(special: Special, typesize: usize, value: &[u8], dst: &mut [u8]) {
    match special {
        Special::Zeros | Special::Uninit | Special::None => dst.fill(0),
        Special::Nans => {
            let nan: &[u8] = if typesize == 4 {
                &[0x00, 0x00, 0xc0, 0x7f]
            } else {
                &[0, 0, 0, 0, 0, 0, 0xf8, 0x7f]
            };
            for (d, s) in dst.iter_mut().zip(nan.iter().cycle()) {
                *d = *s;
            }
        }
        Special::Value => {
            for (d, s) in dst.iter_mut().zip(value.iter().cycle()) {
                *d = *s;
            }
        }
    }
}

/// Decode the chunk at the start of `src` block by block: `visit(j, block)` receives every
/// block in order, fully decoded (filters undone). Blosc 1 chunks are decoded whole then cut
/// into blocks of their block size.
pub fn decode_blocks(
    src: &[u8],
    mut visit: impl FnMut(usize, &[u8]) -> CodecResult<()>,
) -> CodecResult<Header> {
    let h = Header::parse(src)?;
    let src = &src[..h.cbytes];
    if h.overhead == MIN_HEADER {
        let data = crate::filter::blosc::decompress(src, h.nbytes)?;
        if data.len() != h.nbytes {
            return Err(format!(
                "Blosc 1 chunk decodes to {} bytes, its header says {}",
                data.len(),
                h.nbytes
            ));
        }
        let bs = h.blocksize.max(1);
        for (j, b) in data.chunks(bs).enumerate() {
            visit(j, b)?;
        }
        return Ok(h);
    }
    let nblocks = h.nblocks();
    if h.special != Special::None {
        let value = &src[EXT_HEADER..];
        // Blocks of a special chunk: one block's worth of the value, reused.
        let bs = if h.blocksize == 0 {
            h.nbytes
        } else {
            h.blocksize
        };
        let unit = bs - bs % h.typesize.max(1);
        let bs = if unit == 0 { h.nbytes } else { unit };
        let mut block = vec![0u8; bs.min(h.nbytes)];
        fill_special(h.special, h.typesize, value, &mut block);
        let mut at = 0;
        let mut j = 0;
        while at < h.nbytes {
            let n = block.len().min(h.nbytes - at);
            visit(j, &block[..n])?;
            at += n;
            j += 1;
        }
        return Ok(h);
    }
    if h.memcpyed() {
        let data = src.get(EXT_HEADER..EXT_HEADER + h.nbytes).ok_or_else(|| {
            format!(
                "memcpyed chunk of {} bytes holds fewer than {}",
                h.cbytes, h.nbytes
            )
        })?;
        for (j, b) in data.chunks(h.blocksize.max(1)).enumerate() {
            visit(j, b)?;
        }
        return Ok(h);
    }
    let starts_end = EXT_HEADER + 4 * nblocks;
    if starts_end > h.cbytes {
        return Err(format!(
            "{nblocks} block starts do not fit in a {}-byte chunk",
            h.cbytes
        ));
    }
    let pipeline = Pipeline::new(&h.filters, &h.filters_meta, h.typesize)?;
    let codec = h.flags >> 5;
    let dont_split = h.flags & DONT_SPLIT != 0;
    let mut raw: Vec<u8> = Vec::with_capacity(h.blocksize);
    let mut work: Vec<u8> = Vec::with_capacity(h.blocksize);
    let mut first: Vec<u8> = Vec::new();
    for j in 0..nblocks {
        let bsize = h.block_len(j);
        let leftover = bsize < h.blocksize;
        let start = le32(src, EXT_HEADER + 4 * j)? as usize;
        if start < starts_end || start >= h.cbytes {
            return Err(format!(
                "block {j} starts at byte {start}, outside the chunk's data (bytes {starts_end}..{})",
                h.cbytes
            ));
        }
        let nstreams = if !dont_split && !leftover {
            h.typesize
        } else {
            1
        };
        if bsize % nstreams != 0 {
            return Err(format!(
                "block {j} of {bsize} bytes does not split into {nstreams} streams"
            ));
        }
        let neblock = bsize / nstreams;
        raw.resize(bsize, 0);
        let mut at = start;
        for s in 0..nstreams {
            let size = le32(src, at)? as i32;
            at += 4;
            let dst = &mut raw[s * neblock..(s + 1) * neblock];
            if size == 0 {
                dst.fill(0);
            } else if size < 0 {
                let token = *src
                    .get(at)
                    .ok_or_else(|| format!("stream token at chunk byte {at} past the end"))?;
                at += 1;
                if token & 1 == 0 || size < -255 {
                    return Err(format!(
                        "stream size {size} with token {token:#04x} at chunk byte {}",
                        at - 5
                    ));
                }
                dst.fill(size.unsigned_abs() as u8);
            } else {
                let size = size as usize;
                let data = src.get(at..at + size).ok_or_else(|| {
                    format!("stream of {size} bytes at chunk byte {at} runs past the chunk's end")
                })?;
                if size == neblock {
                    dst.copy_from_slice(data);
                } else {
                    decompress_stream(codec, data, dst)
                        .map_err(|e| format!("block {j}, stream {s}: {e}"))?;
                }
                at += size;
            }
        }
        pipeline.undo(&mut raw, &mut work, &first, j == 0)?;
        if j == 0 && pipeline.has_delta() {
            first.clone_from(&raw);
        }
        visit(j, &raw)?;
    }
    Ok(h)
}
