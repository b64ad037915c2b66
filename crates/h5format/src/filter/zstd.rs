//! Zstandard (filter 32015, the HDF5 Zstandard plugin): one zstd frame per chunk, compression
//! level in `client_data[0]`.
//!
//! The plugin sizes its output from the frame's content size, so frames written here always
//! carry it.

use std::io::Read;

use ruzstd::decoding::{FrameDecoder, StreamingDecoder};
use ruzstd::encoding::{compress_to_vec, CompressionLevel};

use super::{Codec, CodecResult, Ctx};

/// The Zstandard filter.
#[derive(Debug, Clone, Copy)]
pub struct Zstd {
    /// Compression level requested in the client data (we always encode at ruzstd's fastest).
    pub level: Option<u32>,
}

impl Zstd {
    /// From the filter's client data: `[level]`.
    pub fn from_client_data(cd: &[u32]) -> Self {
        Zstd {
            level: cd.first().copied(),
        }
    }
}

/// Decompress one or more zstd frames, producing at most `limit` bytes.
pub fn decompress(input: &[u8], limit: usize) -> CodecResult<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let mut dec =
            StreamingDecoder::new(&mut rest).map_err(|e| format!("bad zstd frame: {e}"))?;
        let room = (limit - out.len()) as u64;
        // Read one byte more than allowed to detect oversized output.
        let mut take = (&mut dec).take(room.saturating_add(1));
        take.read_to_end(&mut out)
            .map_err(|e| format!("corrupt zstd stream: {e}"))?;
        if out.len() > limit {
            return Err(format!(
                "zstd stream decodes to more than the {limit} bytes expected"
            ));
        }
    }
    Ok(out)
}

/// Decompress one or more zstd frames into exactly `out` (fewer or more bytes is an error).
pub fn decompress_into(input: &[u8], out: &mut [u8]) -> CodecResult<()> {
    let mut dec = FrameDecoder::new();
    let n = dec
        .decode_all(input, out)
        .map_err(|e| format!("corrupt zstd stream: {e}"))?;
    if n != out.len() {
        return Err(format!(
            "zstd stream decodes to {n} bytes, expected {}",
            out.len()
        ));
    }
    Ok(())
}

/// Compress `input` as one zstd frame that records its content size.
pub fn compress(input: &[u8]) -> CodecResult<Vec<u8>> {
    let frame = compress_to_vec(input, CompressionLevel::Fastest);
    // ruzstd writes: magic (4), descriptor (1), window descriptor (1), blocks. Insert an 8-byte
    // Frame_Content_Size field after the window descriptor and flag it in the descriptor.
    let (Some(&desc), Some(_)) = (frame.get(4), frame.get(5)) else {
        return Err("unexpected zstd frame header from the encoder".into());
    };
    if desc & 0b1110_0011 != 0 {
        return Err(format!(
            "unexpected zstd frame header descriptor {desc:#04x}"
        ));
    }
    let mut out = Vec::with_capacity(frame.len() + 8);
    out.extend_from_slice(&frame[..4]);
    out.push(desc | 0b1100_0000);
    out.push(frame[5]);
    out.extend_from_slice(&(input.len() as u64).to_le_bytes());
    out.extend_from_slice(&frame[6..]);
    Ok(out)
}

impl Codec for Zstd {
    fn decode(&self, input: Vec<u8>, ctx: &Ctx) -> CodecResult<Vec<u8>> {
        decompress(&input, ctx.max_out)
    }

    fn encode(&self, input: Vec<u8>, _elem_size: usize) -> CodecResult<Vec<u8>> {
        compress(&input)
    }

    fn max_encoded_len(&self, n: usize) -> usize {
        super::generous_bound(n)
    }

    fn describe(&self) -> String {
        match self.level {
            Some(l) => format!("zstd({l})"),
            None => "zstd".to_string(),
        }
    }
}
