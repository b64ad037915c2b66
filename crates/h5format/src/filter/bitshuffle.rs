//! Bitshuffle (filter 32008, the bitshuffle plugin), with or without LZ4/zstd compression.
//!
//! The data is cut into blocks of `block_size` elements (a multiple of 8; default: 8 KiB
//! worth, at least 128). Inside a block, bit `k` of byte `j` of every element is gathered into
//! one row of `block_size / 8` bytes, rows ordered by `(j, k)`. A final partial block is
//! processed with its size rounded down to a multiple of 8 elements, and the last
//! `size % 8` elements are copied as they are.
//!
//! Client data: `[major, minor, element size, block size (elements, 0 = default),
//! compression (0 none, 2 LZ4, 3 zstd), zstd level]`. With compression the chunk starts with
//! the total size (8 bytes, big-endian) and the block size in bytes (4 bytes, big-endian), and
//! each block is stored as a 4-byte big-endian compressed size then an LZ4 block or zstd frame.

use super::{Codec, CodecResult, Ctx};

/// Compression codes of `client_data[4]`.
const COMPRESS_LZ4: u32 = 2;
const COMPRESS_ZSTD: u32 = 3;

/// The bitshuffle filter.
#[derive(Debug, Clone, Copy)]
pub struct Bitshuffle {
    /// Element size from `client_data[2]`.
    pub elem_size: usize,
    /// Block size in elements from `client_data[3]` (0 = default).
    pub block_size: usize,
    /// Compression after the shuffle: 0 none, 2 LZ4, 3 zstd.
    pub compression: u32,
}

impl Bitshuffle {
    /// From the filter's client data; the element size (slot 2) is required.
    pub fn from_client_data(cd: &[u32]) -> CodecResult<Self> {
        let elem_size = *cd
            .get(2)
            .ok_or("client data lacks the element size (slot 2)")? as usize;
        if elem_size == 0 {
            return Err("element size 0".into());
        }
        let compression = cd.get(4).copied().unwrap_or(0);
        if compression != 0 && compression != COMPRESS_LZ4 && compression != COMPRESS_ZSTD {
            return Err(format!("unknown compression code {compression}"));
        }
        Ok(Bitshuffle {
            elem_size,
            block_size: cd.get(3).copied().unwrap_or(0) as usize,
            compression,
        })
    }
}

/// The plugin's default block size in elements for `elem_size`.
pub fn default_block_size(elem_size: usize) -> usize {
    let b = 8192 / elem_size.max(1);
    (b / 8 * 8).max(128)
}

/// Transpose an 8x8 bit matrix stored with row `t` in byte `t`, column `k` in bit `k`.
#[inline]
fn transpose8(mut x: u64) -> u64 {
    let t = (x ^ (x >> 7)) & 0x00AA_00AA_00AA_00AA;
    x ^= t ^ (t << 7);
    let t = (x ^ (x >> 14)) & 0x0000_CCCC_0000_CCCC;
    x ^= t ^ (t << 14);
    let t = (x ^ (x >> 28)) & 0x0000_0000_F0F0_F0F0;
    x ^= t ^ (t << 28);
    x
}

/// Bit-transpose `m` elements (`m % 8 == 0`) of `s` bytes from `src` into `dst`.
pub fn trans_bit_elem(src: &[u8], dst: &mut [u8], m: usize, s: usize) {
    let row = m / 8;
    for j in 0..s {
        for g in 0..row {
            let mut x = 0u64;
            for t in 0..8 {
                x |= u64::from(src[(8 * g + t) * s + j]) << (8 * t);
            }
            let y = transpose8(x);
            for k in 0..8 {
                dst[(j * 8 + k) * row + g] = (y >> (8 * k)) as u8;
            }
        }
    }
}

/// Undo [`trans_bit_elem`].
pub fn untrans_bit_elem(src: &[u8], dst: &mut [u8], m: usize, s: usize) {
    let row = m / 8;
    for j in 0..s {
        for g in 0..row {
            let mut y = 0u64;
            for k in 0..8 {
                y |= u64::from(src[(j * 8 + k) * row + g]) << (8 * k);
            }
            let x = transpose8(y);
            for t in 0..8 {
                dst[(8 * g + t) * s + j] = (x >> (8 * t)) as u8;
            }
        }
    }
}

/// The sizes (in elements) of the blocks of a buffer of `size` elements.
fn blocks(size: usize, block: usize) -> impl Iterator<Item = usize> {
    let last = size % block;
    let last = last - last % 8;
    std::iter::repeat_n(block, size / block).chain((last > 0).then_some(last))
}

impl Bitshuffle {
    fn check_block(&self, block: usize) -> CodecResult<()> {
        if block == 0 || !block.is_multiple_of(8) {
            return Err(format!(
                "block size {block} is not a positive multiple of 8"
            ));
        }
        Ok(())
    }

    fn decode_impl(&self, input: &[u8], limit: usize) -> CodecResult<Vec<u8>> {
        let s = self.elem_size;
        let (nbytes, mut block, mut pos) = if self.compression != 0 {
            let head = input
                .get(..12)
                .ok_or("chunk shorter than its 12-byte header")?;
            let mut a = [0u8; 8];
            a.copy_from_slice(&head[..8]);
            let nbytes = u64::from_be_bytes(a);
            if nbytes > limit as u64 {
                return Err(format!(
                    "header announces {nbytes} bytes, more than the {limit} expected"
                ));
            }
            let bb = u32::from_be_bytes([head[8], head[9], head[10], head[11]]) as usize;
            (nbytes as usize, bb / s, 12usize)
        } else {
            if input.len() > limit {
                return Err(format!(
                    "chunk of {} bytes, more than the {limit} expected",
                    input.len()
                ));
            }
            (input.len(), self.block_size, 0usize)
        };
        if block == 0 && self.compression == 0 {
            block = default_block_size(s);
        }
        self.check_block(block)?;
        if !nbytes.is_multiple_of(s) {
            return Err(format!(
                "{nbytes} bytes are not a whole number of {s}-byte elements"
            ));
        }
        let size = nbytes / s;
        let mut out = vec![0u8; nbytes];
        let mut tmp = Vec::new();
        let mut done = 0usize; // elements
        for m in blocks(size, block) {
            let len = m * s;
            let dst = &mut out[done * s..done * s + len];
            if self.compression == 0 {
                untrans_bit_elem(&input[done * s..done * s + len], dst, m, s);
            } else {
                let csize = input
                    .get(pos..pos + 4)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
                    .ok_or_else(|| format!("truncated block header at input byte {pos}"))?;
                pos += 4;
                let src = input.get(pos..pos.saturating_add(csize)).ok_or_else(|| {
                    format!("block of {csize} bytes at input byte {pos} runs past the end")
                })?;
                tmp.clear();
                tmp.resize(len, 0);
                let n = if self.compression == COMPRESS_LZ4 {
                    lz4_flex::block::decompress_into(src, &mut tmp)
                        .map_err(|e| format!("corrupt LZ4 block at input byte {pos}: {e}"))?
                } else {
                    let v = super::zstd::decompress(src, len)?;
                    tmp[..v.len()].copy_from_slice(&v);
                    v.len()
                };
                if n != len {
                    return Err(format!(
                        "block at input byte {pos} decodes to {n} bytes, expected {len}"
                    ));
                }
                untrans_bit_elem(&tmp, dst, m, s);
                pos += csize;
            }
            done += m;
        }
        let rest = (size - done) * s;
        let src_at = if self.compression == 0 { done * s } else { pos };
        let src = input
            .get(src_at..src_at + rest)
            .ok_or_else(|| format!("missing the {rest} trailing bytes at input byte {src_at}"))?;
        out[done * s..].copy_from_slice(src);
        Ok(out)
    }

    fn encode_impl(&self, input: &[u8]) -> CodecResult<Vec<u8>> {
        let s = self.elem_size;
        if !input.len().is_multiple_of(s) {
            return Err(format!(
                "{} bytes are not a whole number of {s}-byte elements",
                input.len()
            ));
        }
        let block = if self.block_size == 0 {
            default_block_size(s)
        } else {
            self.block_size
        };
        self.check_block(block)?;
        let size = input.len() / s;
        let mut out = Vec::with_capacity(input.len() + 64);
        if self.compression != 0 {
            out.extend_from_slice(&(input.len() as u64).to_be_bytes());
            let bb = u32::try_from(block * s).map_err(|_| "block too large")?;
            out.extend_from_slice(&bb.to_be_bytes());
        }
        let mut tmp = Vec::new();
        let mut done = 0usize;
        for m in blocks(size, block) {
            let len = m * s;
            tmp.clear();
            tmp.resize(len, 0);
            trans_bit_elem(&input[done * s..done * s + len], &mut tmp, m, s);
            match self.compression {
                0 => out.extend_from_slice(&tmp),
                COMPRESS_LZ4 => {
                    let c = lz4_flex::block::compress(&tmp);
                    out.extend_from_slice(&(c.len() as u32).to_be_bytes());
                    out.extend_from_slice(&c);
                }
                _ => {
                    let c = super::zstd::compress(&tmp)?;
                    out.extend_from_slice(&(c.len() as u32).to_be_bytes());
                    out.extend_from_slice(&c);
                }
            }
            done += m;
        }
        out.extend_from_slice(&input[done * s..]);
        Ok(out)
    }
}

impl Codec for Bitshuffle {
    fn decode(&self, input: Vec<u8>, ctx: &Ctx) -> CodecResult<Vec<u8>> {
        self.decode_impl(&input, ctx.max_out)
    }

    fn encode(&self, input: Vec<u8>, _elem_size: usize) -> CodecResult<Vec<u8>> {
        self.encode_impl(&input)
    }

    fn max_encoded_len(&self, n: usize) -> usize {
        super::generous_bound(n)
    }

    fn describe(&self) -> String {
        match self.compression {
            COMPRESS_LZ4 => "bitshuffle+lz4".to_string(),
            COMPRESS_ZSTD => "bitshuffle+zstd".to_string(),
            _ => "bitshuffle".to_string(),
        }
    }
}
