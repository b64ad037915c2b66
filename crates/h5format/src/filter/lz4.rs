//! LZ4 (filter 32004, the HDF5 LZ4 plugin).
//!
//! Framing: total uncompressed size (8 bytes, big-endian), block size (4 bytes, big-endian),
//! then per block a 4-byte big-endian compressed size and the block: an LZ4 raw block, or the
//! bytes themselves when the compressed size equals the block's uncompressed size. The block
//! size comes from `client_data[0]` (default 1 GiB, capped at the chunk size).

use super::{Codec, CodecResult, Ctx};

/// Default block size of the plugin.
const DEFAULT_BLOCK: usize = 1 << 30;

/// The LZ4 filter.
#[derive(Debug, Clone, Copy)]
pub struct Lz4 {
    /// Block size in bytes used when encoding (0 = default).
    pub block_size: u32,
}

impl Lz4 {
    /// From the filter's client data: `[block size in bytes]`.
    pub fn from_client_data(cd: &[u32]) -> Self {
        Lz4 {
            block_size: cd.first().copied().unwrap_or(0),
        }
    }
}

fn be32(b: &[u8], at: usize, what: &str) -> CodecResult<u32> {
    let s = b
        .get(at..at + 4)
        .ok_or_else(|| format!("truncated {what} at input byte {at}"))?;
    Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Decode the plugin's framing, producing at most `limit` bytes.
pub fn decompress(input: &[u8], limit: usize) -> CodecResult<Vec<u8>> {
    let head = input
        .get(..12)
        .ok_or("LZ4 chunk shorter than its 12-byte header")?;
    let mut total = [0u8; 8];
    total.copy_from_slice(&head[..8]);
    let total = u64::from_be_bytes(total);
    if total > limit as u64 {
        return Err(format!(
            "header announces {total} bytes, more than the {limit} expected"
        ));
    }
    let total = total as usize;
    let mut block = be32(input, 8, "block size")? as usize;
    if block == 0 && total > 0 {
        return Err("block size 0".into());
    }
    block = block.min(total);
    let mut out = vec![0u8; total];
    let mut pos = 12usize;
    let mut done = 0usize;
    while done < total {
        let this = block.min(total - done);
        let csize = be32(input, pos, "block header")? as usize;
        pos += 4;
        let src = input.get(pos..pos.saturating_add(csize)).ok_or_else(|| {
            format!("block of {csize} bytes at input byte {pos} runs past the end")
        })?;
        let dst = &mut out[done..done + this];
        if csize == this {
            dst.copy_from_slice(src);
        } else {
            let n = lz4_flex::block::decompress_into(src, dst)
                .map_err(|e| format!("corrupt LZ4 block at input byte {pos}: {e}"))?;
            if n != this {
                return Err(format!(
                    "LZ4 block at input byte {pos} decodes to {n} bytes, expected {this}"
                ));
            }
        }
        pos += csize;
        done += this;
    }
    Ok(out)
}

/// Encode with the plugin's framing.
pub fn compress(input: &[u8], block_size: u32) -> CodecResult<Vec<u8>> {
    let n = input.len();
    let mut block = if block_size > 0 {
        block_size as usize
    } else {
        DEFAULT_BLOCK
    };
    block = block.min(n).max(1);
    let mut out = Vec::with_capacity(n + n / 255 + 64);
    out.extend_from_slice(&(n as u64).to_be_bytes());
    out.extend_from_slice(
        &u32::try_from(block)
            .map_err(|_| "block size over 4 GiB")?
            .to_be_bytes(),
    );
    for src in input.chunks(block) {
        let c = lz4_flex::block::compress(src);
        if c.len() >= src.len() {
            out.extend_from_slice(&(src.len() as u32).to_be_bytes());
            out.extend_from_slice(src);
        } else {
            out.extend_from_slice(&(c.len() as u32).to_be_bytes());
            out.extend_from_slice(&c);
        }
    }
    Ok(out)
}

impl Codec for Lz4 {
    fn decode(&self, input: Vec<u8>, ctx: &Ctx) -> CodecResult<Vec<u8>> {
        decompress(&input, ctx.max_out)
    }

    fn encode(&self, input: Vec<u8>, _elem_size: usize) -> CodecResult<Vec<u8>> {
        if input.len() > i32::MAX as usize {
            return Err("LZ4 plugin chunks are limited to 2 GiB".into());
        }
        compress(&input, self.block_size)
    }

    fn max_encoded_len(&self, n: usize) -> usize {
        super::generous_bound(n)
    }

    fn describe(&self) -> String {
        "lz4".to_string()
    }
}
