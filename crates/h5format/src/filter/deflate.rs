//! Deflate (filter 1): a zlib stream (RFC 1950) per chunk, level in `client_data[0]`.
//!
//! Decoding inflates into a buffer sized to the expected output; a stream that would produce
//! more than that (a "deflate bomb") is an error, found without allocating further.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::{Codec, CodecResult, Ctx};

/// The deflate filter.
#[derive(Debug, Clone, Copy)]
pub struct Deflate {
    /// Compression level 0..=9 used when encoding.
    pub level: u32,
}

impl Deflate {
    /// From the filter's client data: `[level]` (default 6 when absent).
    pub fn from_client_data(cd: &[u32]) -> Self {
        Deflate {
            level: cd.first().copied().unwrap_or(6).min(9),
        }
    }
}

/// Inflate `input` into at most `limit` bytes. With `stop_at = Some(n)`, stop once `n` bytes
/// are out (the stream need not be complete). Otherwise the stream must end within `limit`.
///
/// The 2-byte zlib header is checked and skipped and the body inflated as raw deflate: the
/// adler32 trailer is not recomputed (it cost ~10% of read time; block structure and lengths
/// are still validated, and fletcher32 is the filter HDF5 offers for integrity).
pub fn inflate(input: &[u8], limit: usize, stop_at: Option<usize>) -> CodecResult<Vec<u8>> {
    let target = stop_at.map_or(limit, |n| n.min(limit));
    let input = zlib_body(input)?;
    let mut z = Decompress::new(false);
    // One byte more than allowed: producing it proves the stream is too long.
    let cap = if stop_at.is_some() {
        target
    } else {
        target.saturating_add(1)
    };
    let mut out: Vec<u8> = Vec::new();
    out.try_reserve_exact(cap)
        .map_err(|e| format!("cannot allocate {cap} bytes: {e}"))?;
    loop {
        let consumed = usize::try_from(z.total_in()).unwrap_or(usize::MAX);
        let rest = input.get(consumed..).unwrap_or(&[]);
        let before = (z.total_in(), z.total_out());
        let status = z
            .decompress_vec(rest, &mut out, FlushDecompress::Finish)
            .map_err(|e| format!("corrupt deflate stream: {e}"))?;
        if out.len() > limit {
            return Err(format!(
                "stream inflates to more than the {limit} bytes expected"
            ));
        }
        if let Some(n) = stop_at {
            if out.len() >= n {
                return Ok(out);
            }
        }
        match status {
            Status::StreamEnd => return Ok(out),
            Status::Ok | Status::BufError => {
                if out.len() == out.capacity() {
                    // Output buffer full yet the stream goes on.
                    if out.len() >= cap {
                        return Err(format!(
                            "stream inflates to more than the {limit} bytes expected"
                        ));
                    }
                    out.try_reserve_exact(cap - out.len())
                        .map_err(|e| format!("cannot allocate {cap} bytes: {e}"))?;
                } else if (z.total_in(), z.total_out()) == before {
                    return Err(format!(
                        "truncated deflate stream ({} bytes in, {} bytes out)",
                        input.len(),
                        out.len()
                    ));
                }
            }
        }
    }
}

/// Inflate `input` (a zlib stream) into exactly `out`: the stream must produce `out.len()`
/// bytes, no fewer and no more. No intermediate buffer (full chunk reads decode in place).
pub fn inflate_into(input: &[u8], out: &mut [u8]) -> CodecResult<()> {
    let body = zlib_body(input)?;
    let mut z = Decompress::new(false);
    loop {
        let (i, o) = (z.total_in() as usize, z.total_out() as usize);
        let src = body.get(i..).unwrap_or(&[]);
        let dst = out.get_mut(o..).unwrap_or(&mut []);
        let status = z
            .decompress(src, dst, FlushDecompress::Finish)
            .map_err(|e| format!("corrupt deflate stream: {e}"))?;
        let done = z.total_out() as usize;
        match status {
            Status::StreamEnd if done == out.len() => return Ok(()),
            Status::StreamEnd => {
                return Err(format!(
                    "stream inflates to {done} bytes, {} expected",
                    out.len()
                ))
            }
            Status::Ok | Status::BufError => {
                if done == out.len() {
                    // Output full: one more byte out would make the stream too long.
                    let mut probe = [0u8; 1];
                    let rest = body.get(z.total_in() as usize..).unwrap_or(&[]);
                    let st = z
                        .decompress(rest, &mut probe, FlushDecompress::Finish)
                        .map_err(|e| format!("corrupt deflate stream: {e}"))?;
                    if z.total_out() as usize > out.len() {
                        return Err(format!(
                            "stream inflates to more than the {} bytes expected",
                            out.len()
                        ));
                    }
                    if st == Status::StreamEnd {
                        return Ok(());
                    }
                    return Err("truncated deflate stream".to_string());
                }
                if (z.total_in() as usize, z.total_out() as usize) == (i, o) {
                    return Err(format!(
                        "truncated deflate stream ({} bytes in, {done} bytes out)",
                        input.len()
                    ));
                }
            }
        }
    }
}

/// The deflate body of a zlib stream: checks the header (method 8, window <= 32 KiB, header
/// check bits, no preset dictionary) and returns what follows it.
fn zlib_body(input: &[u8]) -> CodecResult<&[u8]> {
    let [cmf, flg, body @ ..] = input else {
        return Err(format!(
            "deflate stream of {} bytes has no zlib header",
            input.len()
        ));
    };
    if cmf & 0x0f != 8 || cmf >> 4 > 7 {
        return Err(format!("not a zlib deflate stream (CMF byte {cmf:#04x})"));
    }
    if (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 != 0 {
        return Err("corrupt zlib header (check bits)".to_string());
    }
    if flg & 0x20 != 0 {
        return Err("zlib stream needs a preset dictionary".to_string());
    }
    Ok(body)
}

/// The zlib-rs level that compresses like libz (what libhdf5 links) at `level`.
///
/// zlib-rs, like zlib-ng, runs level 1 as `deflate_quick` (static Huffman codes, one hash probe
/// per position): fast, but about twice libz's level-1 size on typical chunks (2.2x on the
/// shuffled all-ones f64 values, see `bench/deflate_levels.py`). zlib-rs's level 2 is
/// `deflate_fast` with exactly libz's level-1 parameters (good 4, lazy 4, nice 8, chain 4), so a
/// requested level 1 runs at zlib-rs level 2: its files are no larger than libhdf5's level 1 and
/// it is still faster than libz. The filter message keeps the requested level (a decoder does
/// not use it). Other levels map to themselves.
pub fn engine_level(level: u8) -> u32 {
    match level.min(9) {
        1 => 2,
        l => u32::from(l),
    }
}

/// Compress `input` as one zlib stream with zlib-rs's `level` (0-9, used as given; the writer
/// picks it with [`engine_level`]). The output buffer is reserved once at the
/// zlib bound, so the whole chunk is compressed in one call.
pub fn deflate(input: &[u8], level: u32) -> CodecResult<Vec<u8>> {
    let mut z = Compress::new(Compression::new(level.min(9)), true);
    let bound = input.len() + input.len() / 1000 + input.len() / 16383 * 5 + 64;
    let mut out = Vec::with_capacity(bound);
    loop {
        let consumed = usize::try_from(z.total_in()).unwrap_or(usize::MAX);
        let rest = input.get(consumed..).unwrap_or(&[]);
        let status = z
            .compress_vec(rest, &mut out, FlushCompress::Finish)
            .map_err(|e| format!("deflate failed: {e}"))?;
        match status {
            Status::StreamEnd => return Ok(out),
            Status::Ok | Status::BufError => out.reserve(out.capacity().max(1024)),
        }
    }
}

impl Codec for Deflate {
    fn decode(&self, input: Vec<u8>, ctx: &Ctx) -> CodecResult<Vec<u8>> {
        inflate(&input, ctx.max_out, None)
    }

    fn decode_prefix(&self, input: Vec<u8>, ctx: &Ctx, needed: usize) -> CodecResult<Vec<u8>> {
        inflate(&input, ctx.max_out, Some(needed))
    }

    fn encode(&self, input: Vec<u8>, _elem_size: usize) -> CodecResult<Vec<u8>> {
        let level = u8::try_from(self.level.min(9)).unwrap_or(9);
        deflate(&input, engine_level(level))
    }

    fn max_encoded_len(&self, n: usize) -> usize {
        // zlib's compressBound plus slack.
        n.saturating_add(n >> 12)
            .saturating_add(n >> 14)
            .saturating_add(n >> 25)
            .saturating_add(64)
    }

    fn describe(&self) -> String {
        format!("deflate({})", self.level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflate_into_needs_the_exact_length() {
        let data: Vec<u8> = (0..10_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let z = deflate(&data, 6).expect("deflate");
        let mut out = vec![0u8; data.len()];
        inflate_into(&z, &mut out).expect("exact length");
        assert_eq!(out, data);
        // A stream longer than the buffer (a bomb) and one shorter than it are both errors.
        let mut small = vec![0u8; data.len() - 1];
        assert!(inflate_into(&z, &mut small)
            .unwrap_err()
            .contains("more than"));
        let mut big = vec![0u8; data.len() + 1];
        assert!(inflate_into(&z, &mut big).is_err());
        // A truncated stream and a bad header are errors, not panics.
        let mut out = vec![0u8; data.len()];
        assert!(inflate_into(&z[..z.len() / 2], &mut out).is_err());
        assert!(inflate_into(&[0x78], &mut out).is_err());
        assert!(inflate_into(&[0x12, 0x34, 0, 0], &mut out).is_err());
    }
}
