//! The BloscLZ decompressor (Blosc's default codec, a FastLZ variant).
//!
//! Control byte `c`: below 32, a literal run of `c + 1` bytes; otherwise a match of
//! `(c >> 5) + 2` bytes (length code 7 is extended by bytes until one is not 255) at distance
//! `((c & 31) << 8) + next + 1`, or, when that is `(31 << 8) + 255 + 1`, at distance
//! `8191 + 1 + 16-bit big-endian value`. As in c-blosc, the stream must end with a literal
//! run (a match whose next control byte is missing is dropped).

use super::CodecResult;

const MAX_DISTANCE: usize = 8191;

/// Decompress `input`, producing at most `limit` bytes.
pub fn decompress(input: &[u8], limit: usize) -> CodecResult<Vec<u8>> {
    let n = input.len();
    let mut out: Vec<u8> = Vec::with_capacity(limit);
    let Some(&first) = input.first() else {
        return Ok(out);
    };
    let bad = |what: &str, ip: usize| format!("corrupt BloscLZ stream ({what} at input byte {ip})");
    let mut ctrl = usize::from(first & 31);
    let mut ip = 1usize;
    loop {
        if ctrl >= 32 {
            let mut len = (ctrl >> 5) - 1;
            let ofs = (ctrl & 31) << 8;
            if len == 6 {
                loop {
                    if ip + 1 >= n {
                        return Err(bad("truncated match length", ip));
                    }
                    let code = usize::from(input[ip]);
                    ip += 1;
                    len += code;
                    if code != 255 {
                        break;
                    }
                }
            } else if ip + 1 >= n {
                return Err(bad("truncated match", ip));
            }
            let code = usize::from(input[ip]);
            ip += 1;
            len += 3;
            let mut dist = ofs + code + 1;
            if code == 255 && ofs == 31 << 8 {
                if ip + 1 >= n {
                    return Err(bad("truncated far match", ip));
                }
                let far = usize::from(input[ip]) << 8 | usize::from(input[ip + 1]);
                ip += 2;
                dist = far + MAX_DISTANCE + 1;
            }
            if out.len() + len > limit {
                return Err(format!(
                    "BloscLZ stream decodes to more than the {limit} bytes expected"
                ));
            }
            if dist > out.len() {
                return Err(bad("match before the start of the output", ip));
            }
            if ip >= n {
                break;
            }
            ctrl = usize::from(input[ip]);
            ip += 1;
            super::lzf::copy_match(&mut out, dist, len);
        } else {
            let len = ctrl + 1;
            if out.len() + len > limit {
                return Err(format!(
                    "BloscLZ stream decodes to more than the {limit} bytes expected"
                ));
            }
            let lit = input
                .get(ip..ip + len)
                .ok_or_else(|| bad("truncated literal run", ip))?;
            out.extend_from_slice(lit);
            ip += len;
            if ip >= n {
                break;
            }
            ctrl = usize::from(input[ip]);
            ip += 1;
        }
    }
    Ok(out)
}
