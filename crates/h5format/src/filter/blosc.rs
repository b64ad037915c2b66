//! Blosc (filter 32001, the hdf5-blosc plugin): one Blosc 1 frame per chunk.
//!
//! Frame: a 16-byte header (format version, codec version, flags, type size, then
//! little-endian 32-bit uncompressed size, block size and frame size), then — unless the
//! "memcpyed" flag says the data follows as is — one 32-bit start offset per block. A block
//! is one stream, or `typesize` streams ("splits") when the type size is at most 16, the block
//! holds at least 128 elements, it is not the final partial block, and the "don't split" flag
//! is clear. Each stream is a 32-bit size then the compressed bytes (stored as is when the
//! size equals the stream's uncompressed size). After decompression a block is byte- or
//! bit-unshuffled as the flags say.
//!
//! Flags: bit 0 byte shuffle, bit 1 memcpyed, bit 2 bit shuffle, bit 4 don't split,
//! bits 5..7 codec (0 BloscLZ, 1 LZ4/LZ4HC, 2 Snappy, 3 zlib, 4 zstd).
//! Client data: `[revision, blosc version, type size, chunk bytes, level, shuffle, codec]`.

use super::bitshuffle::{trans_bit_elem, untrans_bit_elem};
use super::shuffle::{shuffle, unshuffle};
use super::{Codec, CodecResult, Ctx};

const HEADER: usize = 16;
const MEMCPYED: u8 = 0x02;
const DOSHUFFLE: u8 = 0x01;
const DOBITSHUFFLE: u8 = 0x04;
const DONT_SPLIT: u8 = 0x10;
const MAX_SPLITS: usize = 16;
const MIN_BUFFERSIZE: usize = 128;

const CODEC_BLOSCLZ: u32 = 0;
const CODEC_LZ4: u32 = 1;
const CODEC_LZ4HC: u32 = 2;
const CODEC_SNAPPY: u32 = 3;
const CODEC_ZLIB: u32 = 4;
const CODEC_ZSTD: u32 = 5;

/// The Blosc filter.
#[derive(Debug, Clone, Copy)]
pub struct Blosc {
    /// Type size from `client_data[2]` (used when encoding).
    pub typesize: usize,
    /// Compression level from `client_data[4]`.
    pub level: u32,
    /// Shuffle from `client_data[5]`: 0 none, 1 byte, 2 bit.
    pub shuffle: u32,
    /// Codec from `client_data[6]`: 0 blosclz, 1 lz4, 2 lz4hc, 3 snappy, 4 zlib, 5 zstd.
    pub codec: u32,
}

impl Blosc {
    /// From the filter's client data.
    pub fn from_client_data(cd: &[u32]) -> Self {
        let typesize = cd.get(2).copied().unwrap_or(1) as usize;
        Blosc {
            typesize: if (1..=255).contains(&typesize) {
                typesize
            } else {
                1
            },
            level: cd.get(4).copied().unwrap_or(5),
            shuffle: cd.get(5).copied().unwrap_or(1),
            codec: cd.get(6).copied().unwrap_or(CODEC_BLOSCLZ),
        }
    }
}

fn le32(b: &[u8], at: usize) -> CodecResult<usize> {
    let s = b
        .get(at..at + 4)
        .ok_or_else(|| format!("truncated frame at byte {at}"))?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

/// Undo bit shuffling of one block as c-blosc does: whole when its element count is a
/// multiple of 8 (trailing bytes copied), otherwise the block was stored unshuffled.
fn bitunshuffle_block(src: &[u8], typesize: usize) -> Vec<u8> {
    let size = src.len() / typesize;
    if !size.is_multiple_of(8) {
        return src.to_vec();
    }
    let mut out = src.to_vec();
    untrans_bit_elem(src, &mut out, size, typesize);
    out
}

fn bitshuffle_block(src: &[u8], typesize: usize) -> Vec<u8> {
    let size = src.len() / typesize;
    if !size.is_multiple_of(8) {
        return src.to_vec();
    }
    let mut out = src.to_vec();
    trans_bit_elem(src, &mut out, size, typesize);
    out
}

/// Decompress one stream of `len` bytes with the frame's codec.
fn decompress_stream(codec: u8, src: &[u8], len: usize) -> CodecResult<Vec<u8>> {
    match codec {
        0 => super::blosclz::decompress(src, len),
        1 => {
            let mut out = vec![0u8; len];
            let n = lz4_flex::block::decompress_into(src, &mut out)
                .map_err(|e| format!("corrupt LZ4 stream: {e}"))?;
            out.truncate(n);
            Ok(out)
        }
        3 => super::deflate::inflate(src, len, None),
        4 => super::zstd::decompress(src, len),
        2 => Err("Snappy-compressed Blosc frames are not supported".into()),
        c => Err(format!("unknown Blosc codec {c}")),
    }
}

/// Decode a Blosc 1 frame, producing at most `limit` bytes.
pub fn decompress(input: &[u8], limit: usize) -> CodecResult<Vec<u8>> {
    let head = input
        .get(..HEADER)
        .ok_or("chunk shorter than the 16-byte Blosc header")?;
    let flags = head[2];
    let typesize = usize::from(head[3]);
    let nbytes = le32(head, 4)?;
    let blocksize = le32(head, 8)?;
    let cbytes = le32(head, 12)?;
    if nbytes > limit {
        return Err(format!(
            "header announces {nbytes} bytes, more than the {limit} expected"
        ));
    }
    if cbytes > input.len() {
        return Err(format!(
            "header announces a {cbytes}-byte frame but the chunk has {} bytes",
            input.len()
        ));
    }
    let frame = &input[..cbytes];
    if flags & MEMCPYED != 0 {
        let data = frame
            .get(HEADER..HEADER + nbytes)
            .ok_or("memcpyed frame shorter than its data")?;
        return Ok(data.to_vec());
    }
    if nbytes == 0 {
        return Ok(Vec::new());
    }
    if typesize == 0 || blocksize == 0 {
        return Err(format!(
            "type size {typesize} / block size {blocksize} cannot be 0"
        ));
    }
    let codec = flags >> 5;
    let dont_split = flags & DONT_SPLIT != 0;
    let nblocks = nbytes.div_ceil(blocksize);
    let leftover = nbytes % blocksize;
    if nblocks > cbytes.saturating_sub(HEADER) / 4 {
        return Err(format!(
            "{nblocks} block offsets do not fit in a {cbytes}-byte frame"
        ));
    }
    let mut out = Vec::with_capacity(nbytes);
    for j in 0..nblocks {
        let is_leftover = j == nblocks - 1 && leftover > 0;
        let bsize = if is_leftover { leftover } else { blocksize };
        let mut at = le32(frame, HEADER + 4 * j)?;
        let nsplits = if !dont_split
            && typesize <= MAX_SPLITS
            && bsize / typesize >= MIN_BUFFERSIZE
            && !is_leftover
        {
            typesize
        } else {
            1
        };
        let neblock = bsize / nsplits;
        if neblock * nsplits != bsize {
            return Err(format!(
                "block of {bsize} bytes does not split into {nsplits} streams"
            ));
        }
        let mut block = Vec::with_capacity(bsize);
        for _ in 0..nsplits {
            let cs = le32(frame, at)?;
            at += 4;
            let src = frame.get(at..at.saturating_add(cs)).ok_or_else(|| {
                format!("stream of {cs} bytes at frame byte {at} runs past the end")
            })?;
            if cs == neblock {
                block.extend_from_slice(src);
            } else {
                let d = decompress_stream(codec, src, neblock)?;
                if d.len() != neblock {
                    return Err(format!(
                        "stream at frame byte {at} decodes to {} bytes, expected {neblock}",
                        d.len()
                    ));
                }
                block.extend_from_slice(&d);
            }
            at += cs;
        }
        let block = if flags & DOSHUFFLE != 0 && typesize > 1 {
            unshuffle(&block, typesize)
        } else if flags & DOBITSHUFFLE != 0 && bsize >= typesize {
            bitunshuffle_block(&block, typesize)
        } else {
            block
        };
        out.extend_from_slice(&block);
    }
    Ok(out)
}

/// Compress one stream with the frame's codec (`None` when the codec is not available).
fn compress_stream(codec: u8, src: &[u8], level: u32) -> CodecResult<Vec<u8>> {
    match codec {
        1 => Ok(lz4_flex::block::compress(src)),
        3 => super::deflate::deflate(src, level),
        4 => super::zstd::compress(src),
        c => Err(format!("cannot encode Blosc codec {c}")),
    }
}

/// Encode `input` as a Blosc 1 frame. BloscLZ, LZ4HC and Snappy requests are written with
/// LZ4 (any Blosc decoder reads the codec from the frame header).
pub fn compress(
    input: &[u8],
    typesize: usize,
    level: u32,
    shuffle_mode: u32,
    codec: u32,
) -> CodecResult<Vec<u8>> {
    let nbytes = input.len();
    let n32 = u32::try_from(nbytes).map_err(|_| "Blosc frames are limited to 2 GiB")?;
    let (fmt_codec, codec_version) = match codec {
        CODEC_ZLIB => (3u8, 1u8),
        CODEC_ZSTD => (4u8, 1u8),
        CODEC_BLOSCLZ | CODEC_LZ4 | CODEC_LZ4HC | CODEC_SNAPPY => (1u8, 1u8),
        _ => (1u8, 1u8),
    };
    let typesize = typesize.clamp(1, 255);
    let shuffle_flag = match shuffle_mode {
        1 => DOSHUFFLE,
        2 => DOBITSHUFFLE,
        _ => 0,
    };
    let memcpyed = |flags: u8| {
        let mut out = Vec::with_capacity(HEADER + nbytes);
        out.extend_from_slice(&[
            2,
            codec_version,
            flags | MEMCPYED | DONT_SPLIT,
            typesize as u8,
        ]);
        out.extend_from_slice(&n32.to_le_bytes());
        out.extend_from_slice(&n32.to_le_bytes());
        out.extend_from_slice(&(n32 + HEADER as u32).to_le_bytes());
        out.extend_from_slice(input);
        out
    };
    let base_flags = shuffle_flag | (fmt_codec << 5);
    if nbytes < MIN_BUFFERSIZE || level == 0 {
        return Ok(memcpyed(base_flags));
    }
    let mut blocksize = nbytes.min(1 << 16);
    blocksize -= blocksize % typesize;
    if blocksize == 0 {
        return Ok(memcpyed(base_flags));
    }
    let nblocks = nbytes.div_ceil(blocksize);
    let mut out = vec![0u8; HEADER + 4 * nblocks];
    out[..4].copy_from_slice(&[2, codec_version, base_flags | DONT_SPLIT, typesize as u8]);
    out[4..8].copy_from_slice(&n32.to_le_bytes());
    out[8..12].copy_from_slice(&(blocksize as u32).to_le_bytes());
    for (j, src) in input.chunks(blocksize).enumerate() {
        let start = out.len() as u32;
        out[HEADER + 4 * j..HEADER + 4 * j + 4].copy_from_slice(&start.to_le_bytes());
        let shuffled = match shuffle_flag {
            DOSHUFFLE if typesize > 1 => shuffle(src, typesize),
            DOBITSHUFFLE if src.len() >= typesize => bitshuffle_block(src, typesize),
            _ => src.to_vec(),
        };
        let c = compress_stream(fmt_codec, &shuffled, level)?;
        if c.len() >= shuffled.len() {
            out.extend_from_slice(&(shuffled.len() as u32).to_le_bytes());
            out.extend_from_slice(&shuffled);
        } else {
            out.extend_from_slice(&(c.len() as u32).to_le_bytes());
            out.extend_from_slice(&c);
        }
        if out.len() > nbytes + HEADER {
            return Ok(memcpyed(base_flags));
        }
    }
    let total = u32::try_from(out.len()).map_err(|_| "frame over 4 GiB")?;
    out[12..16].copy_from_slice(&total.to_le_bytes());
    Ok(out)
}

impl Codec for Blosc {
    fn decode(&self, input: Vec<u8>, ctx: &Ctx) -> CodecResult<Vec<u8>> {
        decompress(&input, ctx.max_out)
    }

    fn encode(&self, input: Vec<u8>, _elem_size: usize) -> CodecResult<Vec<u8>> {
        compress(&input, self.typesize, self.level, self.shuffle, self.codec)
    }

    fn max_encoded_len(&self, n: usize) -> usize {
        super::generous_bound(n)
    }

    fn describe(&self) -> String {
        let codec = match self.codec {
            CODEC_BLOSCLZ => "blosclz",
            CODEC_LZ4 => "lz4",
            CODEC_LZ4HC => "lz4hc",
            CODEC_SNAPPY => "snappy",
            CODEC_ZLIB => "zlib",
            CODEC_ZSTD => "zstd",
            _ => "?",
        };
        let sh = match self.shuffle {
            1 => ", shuffle",
            2 => ", bitshuffle",
            _ => "",
        };
        format!("blosc({codec}, {}{sh})", self.level)
    }
}
