//! Scale-offset (filter 6), a libhdf5 built-in.
//!
//! Each chunk stores its values minus the chunk's minimum, in the fewest bits that hold the
//! range (*minbits*), packed back to back most significant bit first. Floats are first
//! scaled by `10^D` and rounded to integers (lossy "D-scale"); integers are exact unless the
//! writer forced fewer bits. When a fill value is defined, elements equal to it are stored as
//! all ones (`2^minbits - 1`) and read back as the fill value.
//!
//! Client data (20 values, set by libhdf5 when the dataset is created):
//!
//! | index | value |
//! |-------|-------|
//! | 0 | scale type: 0 float D-scale, 1 float E-scale (never implemented by libhdf5), 2 integer |
//! | 1 | scale factor: `D` for floats; for integers the forced minbits (0 = computed per chunk) |
//! | 2 | number of elements in a chunk |
//! | 3 | class: 0 integer, 1 float |
//! | 4 | size in bytes (integers 1, 2, 4, 8; floats 4, 8) |
//! | 5 | integer sign: 0 unsigned, 1 two's complement |
//! | 6 | byte order of the dataset: 0 LE, 1 BE |
//! | 7 | 1 when a fill value is defined |
//! | 8.. | the fill value's bytes in the writer's byte order (little-endian in practice), four per value, low bytes first |
//!
//! A chunk starts with a 21-byte header: minbits (4 bytes LE), the size of the minimum (1
//! byte, 8), the minimum (8 bytes LE: the integer, or the float's bits in its low bytes),
//! 8 unused bytes. Then the packed values; when minbits equals the full size the values follow
//! unpacked in the writer's byte order (little-endian).

use super::nbit::BitReader;
use super::{Codec, CodecResult, Ctx};

/// Number of client data values libhdf5 writes.
const NPARAMS: usize = 20;
/// Bytes before the packed values.
const HEADER: usize = 21;

const SCALE_FLOAT_D: u32 = 0;
const SCALE_FLOAT_E: u32 = 1;
const SCALE_INT: u32 = 2;

/// The scale-offset filter with its client data.
#[derive(Debug, Clone)]
pub struct ScaleOffset {
    params: Vec<u32>,
}

impl ScaleOffset {
    /// From the filter's client data (see the module documentation).
    pub fn from_client_data(cd: &[u32]) -> Self {
        ScaleOffset {
            params: cd.to_vec(),
        }
    }
}

/// What a chunk decodes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int { signed: bool },
    Float { decimal_scale: i32 },
}

/// The parameters that matter for decoding, checked.
struct Params {
    kind: Kind,
    size: usize,
    nelems: usize,
    big_endian: bool,
    /// The fill value's bits (native little-endian value), when one is defined.
    fill: Option<u64>,
    /// Integers written with minbits equal to the full size: stored as is, no header.
    passthrough: bool,
}

fn params(cd: &[u32]) -> CodecResult<Params> {
    if cd.len() != NPARAMS {
        return Err(format!(
            "{} client data values, {NPARAMS} expected",
            cd.len()
        ));
    }
    let (scale_type, factor) = (cd[0], cd[1] as i32);
    let size = cd[4] as usize;
    let big_endian = match cd[6] {
        0 => false,
        1 => true,
        o => return Err(format!("byte order code {o} (expected 0 or 1)")),
    };
    let mut passthrough = false;
    let kind = match cd[3] {
        0 => {
            if scale_type != SCALE_INT {
                return Err(format!("scale type {scale_type} for an integer type"));
            }
            if !matches!(size, 1 | 2 | 4 | 8) {
                return Err(format!("integer size {size} (expected 1, 2, 4 or 8)"));
            }
            let minbits = factor.max(0) as u32;
            if minbits as usize > size * 8 {
                return Err(format!("{minbits} minimum bits for a {size}-byte integer"));
            }
            passthrough = minbits as usize == size * 8;
            Kind::Int {
                signed: match cd[5] {
                    0 => false,
                    1 => true,
                    s => return Err(format!("integer sign code {s} (expected 0 or 1)")),
                },
            }
        }
        1 => {
            match scale_type {
                SCALE_FLOAT_D => {}
                SCALE_FLOAT_E => {
                    return Err(
                        "E-scale floats (never written by libhdf5) are not supported".into(),
                    )
                }
                t => return Err(format!("scale type {t} for a float type")),
            }
            if !matches!(size, 4 | 8) {
                return Err(format!("float size {size} (expected 4 or 8)"));
            }
            Kind::Float {
                decimal_scale: factor,
            }
        }
        c => return Err(format!("datatype class code {c} (expected 0 or 1)")),
    };
    let fill = match cd[7] {
        0 => None,
        1 => {
            let lo = u64::from(cd[8]);
            let hi = u64::from(cd[9]);
            Some(lo | (hi << 32))
        }
        f => return Err(format!("fill value flag {f} (expected 0 or 1)")),
    };
    Ok(Params {
        kind,
        size,
        nelems: cd[2] as usize,
        big_endian,
        fill,
        passthrough,
    })
}

/// Writes the low `size` bytes of `bits` into `out` in the dataset's byte order.
fn store(out: &mut [u8], bits: u64, big_endian: bool) {
    let le = bits.to_le_bytes();
    let n = out.len();
    if big_endian {
        for (i, b) in out.iter_mut().enumerate() {
            *b = le[n - 1 - i];
        }
    } else {
        out.copy_from_slice(&le[..n]);
    }
}

/// The element value (as bits of the dataset type) for packed value `v`.
fn value(p: &Params, v: u64, minbits: u32, minval: u64) -> u64 {
    let all_ones = (1u64 << minbits) - 1; // minbits < 64 here
    let mask = if p.size == 8 {
        u64::MAX
    } else {
        (1u64 << (p.size * 8)) - 1
    };
    match p.kind {
        Kind::Int { .. } => match p.fill {
            Some(fill) if v == all_ones => fill & mask,
            _ => v.wrapping_add(minval) & mask,
        },
        Kind::Float { decimal_scale } => {
            if let Some(fill) = p.fill.filter(|_| v == all_ones) {
                return fill & mask;
            }
            if p.size == 4 {
                let min = f32::from_bits(minval as u32);
                let scaled = (v as u32 as i32) as f32 / 10f32.powf(decimal_scale as f32) + min;
                u64::from(scaled.to_bits())
            } else {
                let min = f64::from_bits(minval);
                let scaled = (v as i64) as f64 / 10f64.powf(f64::from(decimal_scale)) + min;
                scaled.to_bits()
            }
        }
    }
}

impl Codec for ScaleOffset {
    fn decode(&self, input: Vec<u8>, ctx: &Ctx) -> CodecResult<Vec<u8>> {
        let p = params(&self.params)?;
        if p.passthrough {
            return Ok(input);
        }
        let out_len = p
            .nelems
            .checked_mul(p.size)
            .filter(|&n| n <= ctx.max_out)
            .ok_or_else(|| {
                format!(
                    "{} elements of {} bytes are more than the chunk's {} bytes",
                    p.nelems, p.size, ctx.max_out
                )
            })?;
        if input.len() < HEADER {
            return Err(format!(
                "{} bytes, shorter than the {HEADER}-byte header",
                input.len()
            ));
        }
        let minbits = u32::from_le_bytes([input[0], input[1], input[2], input[3]]);
        let minval_size = usize::from(input[4]).min(8);
        let mut minval = [0u8; 8];
        minval[..minval_size].copy_from_slice(&input[5..5 + minval_size]);
        let minval = u64::from_le_bytes(minval);
        let full = (p.size * 8) as u32;
        if minbits > full {
            return Err(format!(
                "{minbits} bits per value for a {}-byte type",
                p.size
            ));
        }
        let body = &input[HEADER..];
        let mut out = vec![0u8; out_len];
        if minbits == full {
            // Stored unpacked, in the writer's (little-endian) order.
            let raw = body.get(..out_len).ok_or_else(|| {
                format!(
                    "{} bytes of unpacked values, {out_len} expected",
                    body.len()
                )
            })?;
            out.copy_from_slice(raw);
            if p.big_endian {
                for e in out.chunks_exact_mut(p.size) {
                    e.reverse();
                }
            }
            return Ok(out);
        }
        let mut bits = BitReader::new(body);
        for e in out.chunks_exact_mut(p.size) {
            let v = if minbits == 0 { 0 } else { bits.read(minbits)? };
            store(e, value(&p, v, minbits, minval), p.big_endian);
        }
        Ok(out)
    }

    fn encode(&self, _input: Vec<u8>, _elem_size: usize) -> CodecResult<Vec<u8>> {
        Err("writing scale-offset data is not implemented".into())
    }

    fn can_encode(&self) -> bool {
        false
    }

    fn max_encoded_len(&self, n: usize) -> usize {
        // The header plus at most every bit of the input (plus a partial last byte).
        n.saturating_add(HEADER + 1)
    }

    fn describe(&self) -> String {
        match params(&self.params) {
            Ok(Params {
                kind: Kind::Float { decimal_scale },
                ..
            }) => format!("scaleoffset(D={decimal_scale})"),
            Ok(_) if self.params[1] > 0 => format!("scaleoffset(minbits={})", self.params[1]),
            _ => "scaleoffset".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(max_out: usize) -> Ctx {
        Ctx {
            elem_size: 4,
            max_out,
        }
    }

    fn int_cd(nelems: u32, size: u32) -> Vec<u32> {
        let mut cd = vec![0u32; NPARAMS];
        cd[0] = SCALE_INT;
        cd[2] = nelems;
        cd[4] = size;
        cd[5] = 1;
        cd
    }

    #[test]
    fn hostile_parameters_are_errors() {
        let mut cases = vec![vec![0u32; 5], {
            let mut cd = int_cd(4, 4);
            cd[0] = SCALE_FLOAT_D;
            cd
        }];
        for (i, v) in [
            (4, 3),
            (4, 16),
            (3, 7),
            (6, 2),
            (7, 5),
            (1, 33),
            (2, u32::MAX),
        ] {
            let mut cd = int_cd(4, 4);
            cd[i] = v;
            cases.push(cd);
        }
        let mut e_scale = int_cd(4, 4);
        e_scale[0] = SCALE_FLOAT_E;
        e_scale[3] = 1;
        cases.push(e_scale);
        for cd in cases {
            let codec = ScaleOffset::from_client_data(&cd);
            assert!(codec.decode(vec![0xff; 64], &ctx(16)).is_err(), "{cd:?}");
        }
    }

    #[test]
    fn truncated_buffers_are_errors() {
        let codec = ScaleOffset::from_client_data(&int_cd(4, 4));
        let mut chunk = vec![0u8; HEADER];
        chunk[0] = 7; // minbits
        chunk[4] = 8;
        assert!(codec.decode(chunk[..10].to_vec(), &ctx(16)).is_err());
        assert!(codec.decode(chunk.clone(), &ctx(16)).is_err());
        chunk.extend([0u8; 4]); // 28 bits packed
        assert_eq!(codec.decode(chunk.clone(), &ctx(16)).unwrap().len(), 16);
        chunk[0] = 33;
        assert!(codec.decode(chunk.clone(), &ctx(16)).is_err());
        chunk[0] = 32; // unpacked, but short
        assert!(codec.decode(chunk, &ctx(16)).is_err());
    }
}
