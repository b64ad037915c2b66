//! LZF (filter 32000), as registered by h5py: liblzf's format, written and read here.
//!
//! The stream is a sequence of literal runs (control byte `0..=31`: that many plus one bytes
//! follow) and back-references (control byte `len << 5 | offset_high`, an extra length byte
//! when `len == 7`, then `offset_low`; copy `len + 2` bytes from `offset + 1` bytes back).
//! h5py's client data is `[filter revision, LZF version, chunk size in bytes]`.

use super::{Codec, CodecResult, Ctx};

/// The LZF filter.
#[derive(Debug, Clone, Copy)]
pub struct Lzf;

impl Lzf {
    /// From the filter's client data (no parameter affects decoding).
    pub fn from_client_data(_cd: &[u32]) -> Self {
        Lzf
    }
}

/// Longest back-reference distance.
const MAX_OFF: usize = 1 << 13;
/// Longest match length.
const MAX_REF: usize = (1 << 8) + (1 << 3);
/// Longest literal run.
const MAX_LIT: usize = 1 << 5;
const HLOG: u32 = 14;

/// Decompress `input`, producing at most `limit` bytes (stopping early once `stop_at` bytes
/// are out, if given).
pub fn decompress(input: &[u8], limit: usize, stop_at: Option<usize>) -> CodecResult<Vec<u8>> {
    let stop = stop_at.unwrap_or(usize::MAX);
    let mut out: Vec<u8> = Vec::new();
    out.try_reserve_exact(limit.min(stop))
        .map_err(|e| format!("cannot allocate {limit} bytes: {e}"))?;
    let mut ip = 0usize;
    while ip < input.len() {
        if out.len() >= stop {
            return Ok(out);
        }
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let len = ctrl + 1;
            let lit = input.get(ip..ip + len).ok_or_else(|| {
                format!(
                    "literal run of {len} bytes at input byte {} runs past the end",
                    ip - 1
                )
            })?;
            if out.len() + len > limit {
                return Err(format!(
                    "LZF stream decodes to more than the {limit} bytes expected"
                ));
            }
            out.extend_from_slice(lit);
            ip += len;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(ip).ok_or("truncated LZF back-reference")?);
                ip += 1;
            }
            let low = usize::from(*input.get(ip).ok_or("truncated LZF back-reference")?);
            ip += 1;
            let dist = ((ctrl & 0x1f) << 8) + low + 1;
            len += 2;
            if dist > out.len() {
                return Err(format!(
                    "back-reference {dist} bytes back at output byte {} points before the start",
                    out.len()
                ));
            }
            if out.len() + len > limit {
                return Err(format!(
                    "LZF stream decodes to more than the {limit} bytes expected"
                ));
            }
            copy_match(&mut out, dist, len);
        }
    }
    Ok(out)
}

/// Append `len` bytes copied from `dist` bytes back (overlapping copies repeat the pattern).
pub(crate) fn copy_match(out: &mut Vec<u8>, dist: usize, len: usize) {
    let start = out.len() - dist;
    if dist >= len {
        out.extend_from_within(start..start + len);
    } else {
        for k in 0..len {
            let b = out[start + k];
            out.push(b);
        }
    }
}

fn hash(b: &[u8], i: usize) -> usize {
    let v = u32::from(b[i]) << 16 | u32::from(b[i + 1]) << 8 | u32::from(b[i + 2]);
    (v.wrapping_mul(2_654_435_761) >> (32 - HLOG)) as usize
}

/// Compress `input` (always succeeds; incompressible data grows by 1/32).
pub fn compress(input: &[u8]) -> Vec<u8> {
    let n = input.len();
    let mut out = Vec::with_capacity(n + n / MAX_LIT + 16);
    let mut table = vec![usize::MAX; 1 << HLOG];
    let mut lit_start = 0usize;
    let mut ip = 0usize;
    let flush = |out: &mut Vec<u8>, from: usize, to: usize| {
        for run in input[from..to].chunks(MAX_LIT) {
            out.push((run.len() - 1) as u8);
            out.extend_from_slice(run);
        }
    };
    while ip + 2 < n {
        let h = hash(input, ip);
        let cand = table[h];
        table[h] = ip;
        if cand != usize::MAX
            && ip - cand - 1 < MAX_OFF
            && input[cand..cand + 3] == input[ip..ip + 3]
        {
            let maxlen = (n - ip).min(MAX_REF);
            let mut len = 3;
            while len < maxlen && input[cand + len] == input[ip + len] {
                len += 1;
            }
            flush(&mut out, lit_start, ip);
            let off = ip - cand - 1;
            let l = len - 2;
            if l < 7 {
                out.push(((l << 5) | (off >> 8)) as u8);
            } else {
                out.push(((7 << 5) | (off >> 8)) as u8);
                out.push((l - 7) as u8);
            }
            out.push((off & 0xff) as u8);
            let end = ip + len;
            ip += 1;
            while ip < end && ip + 2 < n {
                table[hash(input, ip)] = ip;
                ip += 1;
            }
            ip = end;
            lit_start = ip;
        } else {
            ip += 1;
        }
    }
    flush(&mut out, lit_start, n);
    out
}

impl Codec for Lzf {
    fn decode(&self, input: Vec<u8>, ctx: &Ctx) -> CodecResult<Vec<u8>> {
        decompress(&input, ctx.max_out, None)
    }

    fn decode_prefix(&self, input: Vec<u8>, ctx: &Ctx, needed: usize) -> CodecResult<Vec<u8>> {
        decompress(&input, ctx.max_out, Some(needed))
    }

    fn encode(&self, input: Vec<u8>, _elem_size: usize) -> CodecResult<Vec<u8>> {
        Ok(compress(&input))
    }

    fn max_encoded_len(&self, n: usize) -> usize {
        n.saturating_add(n / MAX_LIT).saturating_add(16)
    }

    fn describe(&self) -> String {
        "lzf".to_string()
    }
}
