//! The Blosc2 contiguous frame ("cframe", README_CFRAME_FORMAT of c-blosc2): a msgpack header
//! with fixed positions, the metalayers, the data chunks, an index chunk of 64-bit chunk
//! offsets, then a msgpack trailer (unused here).
//!
//! Header positions (msgpack integers are big-endian): magic `"b2frame\0"` at 2, header length
//! (int32) at 11, frame length (uint64) at 16, general flags at 25 (bits 0..3 format version,
//! bits 4..5 offset width: 1 = 64-bit), frame type at 26 (0 contiguous), uncompressed size
//! (int64) at 30, compressed size of the data chunks (int64) at 39, type size at 48, block size
//! at 53, chunk size (0: chunks vary) at 58, then at 87 the metalayers: `[uint16, map of name
//! -> offset of its bin32 value, array of the values]`.
//!
//! The index chunk sits right after the data chunks (at header length + compressed size) and
//! decodes to one little-endian 64-bit offset per chunk, relative to the end of the header. An
//! offset with its top bit set is a whole special chunk: low 3 bits of its top byte 1 zeros,
//! 2 NaNs, 4 uninitialized.

use super::chunk::{self, Header, EXT_HEADER};
use super::msgpack::Reader;
use crate::filter::CodecResult;

/// The magic at byte 2 of a frame.
pub const MAGIC: &[u8; 8] = b"b2frame\0";
const HEADER_MINLEN: usize = 87;
const METALAYERS_AT: usize = 87;
/// Highest frame format version c-blosc2 writes.
const MAX_FRAME_VERSION: u8 = 3;

/// Whether `buf` starts like a contiguous frame.
pub fn is_frame(buf: &[u8]) -> bool {
    buf.len() >= 10 && buf[0] & 0xf0 == 0x90 && buf[1] == 0xa8 && &buf[2..10] == MAGIC
}

/// Where one chunk of the frame comes from.
#[derive(Debug, Clone, Copy)]
pub enum ChunkRef<'a> {
    /// A stored chunk (the bytes from its start to the end of the data section).
    Stored(&'a [u8]),
    /// A whole chunk of zeros (also used for uninitialized chunks).
    Zeros,
    /// A whole chunk of NaNs.
    Nans,
}

/// A parsed frame.
#[derive(Debug, Clone)]
pub struct Frame<'a> {
    buf: &'a [u8],
    header_len: usize,
    /// Bytes of the data chunks after the header.
    cbytes: usize,
    /// Total uncompressed size of the chunks.
    pub nbytes: usize,
    /// Type size recorded for the frame.
    pub typesize: usize,
    /// Uncompressed size of every chunk but possibly the last.
    pub chunksize: usize,
    /// Number of chunks.
    pub nchunks: usize,
    /// Metalayers: name and msgpack content.
    pub metalayers: Vec<(&'a [u8], &'a [u8])>,
    offsets: Vec<u8>,
}

fn be(buf: &[u8], at: usize, n: usize) -> u64 {
    buf[at..at + n]
        .iter()
        .fold(0u64, |a, &b| a << 8 | u64::from(b))
}

impl<'a> Frame<'a> {
    /// Parse the header and metalayers of the frame in `buf` (no allocation besides the list
    /// of metalayers); [`load_index`](Self::load_index) reads the chunk index.
    pub fn parse(buf: &'a [u8]) -> CodecResult<Frame<'a>> {
        if !is_frame(buf) || buf.len() < HEADER_MINLEN {
            return Err("not a Blosc2 frame (no b2frame header)".into());
        }
        let expect = |at: usize, m: u8, what: &str| -> CodecResult<()> {
            if buf[at] == m {
                Ok(())
            } else {
                Err(format!(
                    "frame header: {what} expected marker {m:#04x} at byte {at}, found {:#04x}",
                    buf[at]
                ))
            }
        };
        expect(10, 0xd2, "header length")?;
        expect(15, 0xcf, "frame length")?;
        expect(24, 0xa4, "flags")?;
        expect(29, 0xd3, "uncompressed size")?;
        expect(38, 0xd3, "compressed size")?;
        expect(47, 0xd2, "type size")?;
        expect(52, 0xd2, "block size")?;
        expect(57, 0xd2, "chunk size")?;
        let header_len = be(buf, 11, 4) as u32 as i32;
        let frame_len = be(buf, 16, 8);
        let general = buf[25];
        let frame_type = buf[26];
        let nbytes = be(buf, 30, 8) as i64;
        let cbytes = be(buf, 39, 8) as i64;
        let typesize = be(buf, 48, 4) as u32 as i32;
        let chunksize = be(buf, 58, 4) as u32 as i32;
        if general & 0x0f > MAX_FRAME_VERSION {
            return Err(format!("frame format version {}", general & 0x0f));
        }
        if (general >> 4) & 3 != 1 {
            return Err(format!(
                "frame chunk offsets of code {} (only 64-bit ones exist)",
                (general >> 4) & 3
            ));
        }
        if frame_type & 0x0f != 0 {
            return Err(format!(
                "frame type {} (only contiguous frames can be stored in a chunk)",
                frame_type & 0x0f
            ));
        }
        if frame_len > buf.len() as u64 {
            return Err(format!(
                "frame length {frame_len} but the chunk holds {} bytes",
                buf.len()
            ));
        }
        let buf = &buf[..frame_len as usize];
        if header_len < HEADER_MINLEN as i32 || header_len as usize > buf.len() {
            return Err(format!(
                "frame header length {header_len} outside 87..={}",
                buf.len()
            ));
        }
        let header_len = header_len as usize;
        if nbytes < 0 || nbytes > i64::from(u32::MAX) * 1024 {
            return Err(format!("frame announces {nbytes} uncompressed bytes"));
        }
        let nbytes = nbytes as usize;
        if cbytes < 0 || cbytes as u64 > (buf.len() - header_len) as u64 {
            return Err(format!(
                "frame announces {cbytes} bytes of chunks past its {header_len}-byte header, \
                 the frame has {}",
                buf.len()
            ));
        }
        let cbytes = cbytes as usize;
        if typesize <= 0 {
            return Err(format!("frame type size {typesize}"));
        }
        let metalayers = parse_metalayers(&buf[..header_len])?;
        if chunksize < 0 {
            return Err(format!("frame chunk size {chunksize}"));
        }
        Ok(Frame {
            buf,
            header_len,
            cbytes,
            nbytes,
            typesize: typesize as usize,
            chunksize: chunksize as usize,
            nchunks: 0,
            metalayers,
            offsets: Vec::new(),
        })
    }

    /// Check the uncompressed size against `limit` (the most the caller accepts) and read the
    /// chunk index.
    pub fn load_index(&mut self, limit: usize) -> CodecResult<()> {
        if self.nbytes > limit {
            return Err(format!(
                "frame announces {} uncompressed bytes, more than the {limit} expected",
                self.nbytes
            ));
        }
        if self.nbytes == 0 {
            return Ok(());
        }
        let chunksize = self.chunksize;
        if chunksize == 0 {
            return Err(
                "frame chunk size 0 (frames of varying chunk sizes are not supported)".into(),
            );
        }
        let nchunks = self.nbytes.div_ceil(chunksize);
        if nchunks.saturating_mul(8) > limit.max(64) {
            return Err(format!(
                "frame announces {nchunks} chunks of {chunksize} bytes, too many for its size"
            ));
        }
        let data_end = self.header_len + self.cbytes;
        let index = &self.buf[data_end..];
        let head = Header::parse(index).map_err(|e| format!("chunk offsets index: {e}"))?;
        if head.nbytes != nchunks * 8 {
            return Err(format!(
                "chunk offsets index holds {} bytes, {nchunks} chunks need {}",
                head.nbytes,
                nchunks * 8
            ));
        }
        let mut offsets = Vec::with_capacity(nchunks * 8);
        chunk::decode_blocks(index, |_, b| {
            offsets.extend_from_slice(b);
            Ok(())
        })
        .map_err(|e| format!("chunk offsets index: {e}"))?;
        if offsets.len() != nchunks * 8 {
            return Err(format!(
                "chunk offsets index decodes to {} bytes, expected {}",
                offsets.len(),
                nchunks * 8
            ));
        }
        self.nchunks = nchunks;
        self.offsets = offsets;
        self.buf = &self.buf[..data_end];
        Ok(())
    }

    /// The named metalayer's content.
    pub fn metalayer(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.metalayers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, c)| c)
    }

    /// Uncompressed size of chunk `i` (below [`nchunks`](Self::nchunks)).
    pub fn chunk_len(&self, i: usize) -> usize {
        (self.nbytes - i * self.chunksize).min(self.chunksize)
    }

    /// Chunk `i` (below [`nchunks`](Self::nchunks)).
    pub fn chunk(&self, i: usize) -> CodecResult<ChunkRef<'a>> {
        let b = &self.offsets[8 * i..8 * i + 8];
        let off = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        if off >> 63 != 0 {
            return match b[7] & 7 {
                1 | 4 => Ok(ChunkRef::Zeros),
                2 => Ok(ChunkRef::Nans),
                s => Err(format!("chunk {i}: unknown special offset kind {s}")),
            };
        }
        let at = (self.header_len as u64).saturating_add(off);
        if at.saturating_add(EXT_HEADER as u64) > self.buf.len() as u64 {
            return Err(format!(
                "chunk {i} at frame byte {at} lies outside the data section (bytes {}..{})",
                self.header_len,
                self.buf.len()
            ));
        }
        Ok(ChunkRef::Stored(&self.buf[at as usize..]))
    }
}

/// The metalayers section of a frame header.
fn parse_metalayers(header: &[u8]) -> CodecResult<Vec<(&[u8], &[u8])>> {
    let mut r = Reader::new(header, METALAYERS_AT);
    let fail = |e: String| format!("frame metalayers: {e}");
    if r.array().map_err(fail)? != 3 {
        return Err("frame metalayers: not a 3-element array".into());
    }
    r.int().map_err(fail)?;
    let n = r.map().map_err(fail)?;
    if n > 64 {
        return Err(format!("frame metalayers: {n} entries"));
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let name = r.str().map_err(fail)?;
        let at = r.int().map_err(fail)?;
        let at = usize::try_from(at)
            .ok()
            .filter(|&a| a < header.len())
            .ok_or_else(|| format!("frame metalayer offset {at} outside the header"))?;
        let content = Reader::new(header, at).bin().map_err(fail)?;
        out.push((name, content));
    }
    Ok(out)
}
