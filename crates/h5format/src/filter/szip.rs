//! Szip (filter 4): CCSDS 121.0-B lossless adaptive entropy coding, as libaec decodes it for
//! libhdf5 (libaec's `SZ_BufftoBuffDecompress`, the "szip compatibility" entry point).
//!
//! # Client data
//!
//! libhdf5 stores four values (`H5Pset_szip` sets the first two, `H5Z__set_local_szip` the
//! others when the dataset is created):
//!
//! | index | value |
//! |-------|-------|
//! | 0 | options mask: allow-k13 1, chip 2, EC 4, LSB 8, MSB 16, NN 32, raw 128 |
//! | 1 | pixels per block (even, at most 32 from libhdf5; the spec allows 64) |
//! | 2 | bits per pixel: the datatype's precision (kept up to 24, else rounded to 32 or 64) |
//! | 3 | pixels per scanline (the chunk's fastest dimension, at most 128 blocks) |
//!
//! Of the options only two change the stream: NN turns on the preprocessor (unit-delay
//! predictor, samples mapped to non-negative residuals) and MSB makes samples big-endian.
//! libaec's compatibility layer never sets its *signed*, *3-byte* or *restricted* flags, so
//! none of those variants can reach an HDF5 file and none is decoded here.
//!
//! # Chunk layout
//!
//! A stored chunk is the decoded size (4 bytes, little-endian) then the AEC stream. 32- and
//! 64-bit pixels are coded as 8-bit samples of the chunk's bytes *interleaved*: every
//! pixel's first byte, then every pixel's second byte, and so on. Each scanline of
//! `pixels per scanline` samples is one *reference sample interval* (RSI) of
//! `ceil(scanline / block)` blocks; when the scanline is not a whole number of blocks the
//! writer padded it (the padding is decoded and dropped). Without padding the last RSI and its
//! last block may be partial: the stream holds whole blocks, the samples past the end are
//! dropped.
//!
//! # Coded data sets
//!
//! Every block starts with an option identifier of 3 (samples up to 8 bits), 4 (up to 16) or
//! 5 bits; with the preprocessor the first block of each RSI carries the *reference sample*
//! (the raw first value, `bits per sample` wide) right after the identifier (after the low
//! entropy bit for identifier 0). Identifier:
//! - `0`, then one bit: `0` a run of all-zero blocks, its length a fundamental-sequence code
//!   (`n` zero bits then a one): `n + 1` blocks for `n < 4`, `n = 4` (ROS) to the end of the
//!   RSI or of the current 64-block segment, whichever comes first, `n` blocks for `n > 4`;
//!   `1` the *second extension*: pairs of residuals `(a, b)` each coded as the FS code of
//!   `(a+b)(a+b+1)/2 + b` (with a reference sample the first code gives only `b`);
//! - `1` to `2^len - 2`: *split sample* with `k = id - 1` (k = 0 is the plain fundamental
//!   sequence): every sample's high part `v >> k` as an FS code, then every sample's `k` low
//!   bits;
//! - all ones: the block's samples uncompressed.
//!
//! With the preprocessor every value but the reference is a residual `d` of the prediction
//! `p` (the previous sample): `d <= 2θ` (θ the room between `p` and the nearer end of the
//! range) means `p + d/2` for even `d` and `p - (d+1)/2` for odd `d`; larger `d` continue
//! on the side with room, `d` from the bottom or from the top of the range.

use super::{Codec, CodecResult, Ctx};

/// Option bit: entropy coding without preprocessing (informational).
const OPT_EC: u32 = 4;
/// Option bit: big-endian samples.
const OPT_MSB: u32 = 16;
/// Option bit: nearest-neighbour preprocessing.
const OPT_NN: u32 = 32;
/// Number of client data values libhdf5 stores.
const NPARAMS: usize = 4;
/// Largest block (CCSDS 121.0-B-3 allows 8, 16, 32, 64; libaec decodes any even size).
const MAX_BLOCK: u32 = 64;
/// The decoded size in front of the AEC stream.
const HEADER: usize = 4;
/// Zero-block count meaning "remainder of the segment".
const ROS: u64 = 5;
/// Blocks per segment (a zero run with ROS stops at the segment's end).
const SEGMENT: usize = 64;
/// Largest second-extension code (a pair summing to 12 at most).
const MAX_SE: u64 = 90;

/// The szip filter with its client data.
#[derive(Debug, Clone)]
pub struct Szip {
    params: Vec<u32>,
}

impl Szip {
    /// From the filter's client data (see the module documentation).
    pub fn from_client_data(cd: &[u32]) -> Self {
        Szip {
            params: cd.to_vec(),
        }
    }
}

/// The client data, checked.
#[derive(Debug, Clone, Copy)]
struct Params {
    /// Options mask as stored.
    mask: u32,
    /// Pixels per block.
    block: usize,
    /// Bits per pixel as stored (32 and 64 mean interleaved bytes).
    bits_per_pixel: u32,
    /// Pixels per scanline (samples per RSI that hold data).
    scanline: usize,
}

impl Params {
    fn parse(cd: &[u32]) -> CodecResult<Params> {
        if cd.len() != NPARAMS {
            return Err(format!(
                "{} client data values, {NPARAMS} expected (options mask, pixels per block, \
                 bits per pixel, pixels per scanline)",
                cd.len()
            ));
        }
        let (mask, block, bits, scanline) = (cd[0], cd[1], cd[2], cd[3]);
        if block == 0 || block % 2 == 1 || block > MAX_BLOCK {
            return Err(format!(
                "pixels per block {block} (an even number from 2 to {MAX_BLOCK} expected)"
            ));
        }
        if !(1..=32).contains(&bits) && bits != 64 {
            return Err(format!("bits per pixel {bits} (1 to 32 or 64 expected)"));
        }
        if scanline == 0 {
            return Err("pixels per scanline 0".into());
        }
        let scanline = usize::try_from(scanline)
            .map_err(|_| format!("pixels per scanline {scanline} does not fit in memory"))?;
        Ok(Params {
            mask,
            block: block as usize,
            bits_per_pixel: bits,
            scanline,
        })
    }

    /// 32- and 64-bit pixels are coded as their bytes, interleaved.
    fn interleaved(&self) -> bool {
        self.bits_per_pixel == 32 || self.bits_per_pixel == 64
    }

    /// Bits per coded sample.
    fn sample_bits(&self) -> u32 {
        if self.interleaved() {
            8
        } else {
            self.bits_per_pixel
        }
    }

    /// Bytes per decoded sample.
    fn sample_bytes(&self) -> usize {
        match self.sample_bits() {
            0..=8 => 1,
            9..=16 => 2,
            _ => 4,
        }
    }

    /// Blocks per reference sample interval.
    fn rsi_blocks(&self) -> usize {
        self.scanline.div_ceil(self.block)
    }

    fn nn(&self) -> bool {
        self.mask & OPT_NN != 0
    }
}

/// Most significant bit first reader over the AEC stream, refilled 8 bytes at a time.
struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    /// The next `n` bits, left-aligned; the bits below them are zero.
    acc: u64,
    n: u32,
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8]) -> Self {
        BitReader {
            data,
            pos: 0,
            acc: 0,
            n: 0,
        }
    }

    /// Top up the accumulator with whole bytes (to 57..=64 bits unless the input ends).
    #[inline]
    fn refill(&mut self) {
        let take = (64 - self.n) / 8;
        if take == 0 {
            return;
        }
        if let Some(word) = self.data.get(self.pos..self.pos + 8) {
            let w = u64::from_be_bytes(word.try_into().expect("8 bytes"));
            let drop = 64 - take * 8;
            self.acc |= ((w >> drop) << drop) >> self.n;
            self.n += take * 8;
            self.pos += take as usize;
        } else {
            while self.n <= 56 && self.pos < self.data.len() {
                self.acc |= u64::from(self.data[self.pos]) << (56 - self.n);
                self.n += 8;
                self.pos += 1;
            }
        }
    }

    /// The next `n` bits (1..=32).
    #[inline]
    fn get(&mut self, n: u32) -> CodecResult<u32> {
        if self.n < n {
            self.refill();
            if self.n < n {
                return Err(self.ended());
            }
        }
        let v = (self.acc >> (64 - n)) as u32;
        self.acc <<= n;
        self.n -= n;
        Ok(v)
    }

    /// A fundamental-sequence code: the number of zero bits before the next one bit.
    #[inline]
    fn fs(&mut self) -> CodecResult<u64> {
        let mut count = 0u64;
        loop {
            if self.acc != 0 {
                let z = self.acc.leading_zeros();
                self.acc = self.acc.checked_shl(z + 1).unwrap_or(0);
                self.n -= z + 1;
                return Ok(count + u64::from(z));
            }
            count += u64::from(self.n);
            self.n = 0;
            self.refill();
            if self.n == 0 {
                return Err(self.ended());
            }
        }
    }

    fn ended(&self) -> String {
        format!(
            "the stream ends early (after {} of its {} bytes)",
            self.pos,
            self.data.len()
        )
    }
}

/// Decodes the coded data sets one reference sample interval after another, undoes the
/// preprocessor and writes the samples out.
struct Decoder<'a> {
    bits: BitReader<'a>,
    /// Bits of the option identifier.
    id_len: u32,
    /// Identifier of an uncompressed block (all ones).
    id_uncompressed: u32,
    /// Bits per sample.
    bps: u32,
    block: usize,
    rsi_blocks: usize,
    nn: bool,
    /// Largest sample value.
    xmax: u32,
    width: usize,
    msb: bool,
    /// One block of residuals (then samples).
    buf: Vec<u32>,
}

impl<'a> Decoder<'a> {
    fn new(stream: &'a [u8], p: &Params) -> Self {
        let bps = p.sample_bits();
        let id_len = match bps {
            0..=8 => 3,
            9..=16 => 4,
            _ => 5,
        };
        Decoder {
            bits: BitReader::new(stream),
            id_len,
            id_uncompressed: (1 << id_len) - 1,
            bps,
            block: p.block,
            rsi_blocks: p.rsi_blocks(),
            nn: p.nn(),
            xmax: u32::MAX >> (32 - bps),
            width: p.sample_bytes(),
            msb: p.mask & OPT_MSB != 0,
            buf: vec![0; p.block],
        }
    }

    /// Decode `total` samples, `line` of them from each RSI, into `out`.
    fn run(&mut self, total: usize, line: usize, out: &mut Vec<u8>) -> CodecResult<()> {
        let rsi_samples = self.rsi_blocks.saturating_mul(self.block);
        let mut done = 0;
        let mut rsi = 0usize;
        while done < total {
            let keep = line.min(total - done);
            // The last RSI is decoded only as far as needed; the others to their end.
            let end = if total - done <= line {
                keep
            } else {
                rsi_samples
            };
            self.rsi(keep, end, out)
                .map_err(|e| format!("reference sample interval {rsi}: {e}"))?;
            done += keep;
            rsi += 1;
        }
        Ok(())
    }

    /// One RSI: decode blocks until `end` samples, write the first `keep`.
    fn rsi(&mut self, keep: usize, end: usize, out: &mut Vec<u8>) -> CodecResult<()> {
        let block = self.block;
        let rsi_samples = self.rsi_blocks.saturating_mul(block);
        let mut j = 0;
        let mut last = 0u32;
        while j < end {
            let reference = self.nn && j == 0;
            let r = usize::from(reference);
            let id = self.bits.get(self.id_len)?;
            if id == 0 {
                let second_extension = self.bits.get(1)? == 1;
                if reference {
                    self.buf[0] = self.bits.get(self.bps)?;
                }
                if second_extension {
                    self.second_extension(r)?;
                } else {
                    let n = self.zero_run(j)? * block;
                    if n > rsi_samples - j {
                        return Err(format!(
                            "a run of {} zero blocks at block {} passes the end of the interval \
                             ({} blocks)",
                            n / block,
                            j / block,
                            self.rsi_blocks
                        ));
                    }
                    if reference {
                        last = self.buf[0];
                    }
                    // Zero residuals repeat the previous sample (or are zeros without NN).
                    let v = if self.nn { last } else { 0 };
                    let count = keep.min(j + n).saturating_sub(j);
                    put_repeat(out, v, count, self.width, self.msb);
                    j += n;
                    continue;
                }
            } else if id == self.id_uncompressed {
                for s in self.buf.iter_mut() {
                    *s = self.bits.get(self.bps)?;
                }
            } else {
                let k = id - 1;
                if reference {
                    self.buf[0] = self.bits.get(self.bps)?;
                }
                for s in &mut self.buf[r..] {
                    // libaec keeps samples in 32 bits: a corrupt long code wraps.
                    *s = (self.bits.fs()? as u32) << k;
                }
                if k > 0 {
                    for s in &mut self.buf[r..] {
                        *s = s.wrapping_add(self.bits.get(k)?);
                    }
                }
            }
            if self.nn {
                let start = if j == 0 {
                    last = self.buf[0];
                    1
                } else {
                    0
                };
                let (xmax, med) = (self.xmax, self.xmax / 2 + 1);
                for s in &mut self.buf[start..] {
                    last = unmap(last, *s, xmax, med);
                    *s = last;
                }
            }
            let count = keep.saturating_sub(j).min(block);
            put(out, &self.buf[..count], self.width, self.msb);
            j += block;
        }
        Ok(())
    }

    /// Number of blocks of a zero run starting at sample `j` of the RSI.
    fn zero_run(&mut self, j: usize) -> CodecResult<usize> {
        let blocks = self.bits.fs()?.saturating_add(1);
        let blocks = match blocks.cmp(&ROS) {
            std::cmp::Ordering::Equal => {
                let b = j / self.block;
                return Ok((self.rsi_blocks - b).min(SEGMENT - b % SEGMENT));
            }
            std::cmp::Ordering::Greater => blocks - 1,
            std::cmp::Ordering::Less => blocks,
        };
        usize::try_from(blocks)
            .ok()
            .filter(|&b| b <= self.rsi_blocks)
            .ok_or_else(|| {
                format!(
                    "a run of {blocks} zero blocks, more than the interval's {}",
                    self.rsi_blocks
                )
            })
    }

    /// A second-extension block: pairs of residuals from one code each (with a reference
    /// sample, the first code gives only the second residual of its pair).
    fn second_extension(&mut self, start: usize) -> CodecResult<()> {
        let mut i = start;
        while i < self.block {
            let m = self.bits.fs()?;
            if m > MAX_SE {
                return Err(format!(
                    "second-extension code {m} (at most {MAX_SE} expected)"
                ));
            }
            let m = m as u32;
            // The pair sums to the largest `s` with s(s+1)/2 <= m.
            let mut sum = 0u32;
            while (sum + 1) * (sum + 2) / 2 <= m {
                sum += 1;
            }
            let second = m - sum * (sum + 1) / 2;
            if i.is_multiple_of(2) {
                self.buf[i] = sum - second;
                i += 1;
            }
            self.buf[i] = second;
            i += 1;
        }
        Ok(())
    }
}

/// Undo the preprocessor's mapping of a residual `d` predicted by `last` (unsigned samples
/// `0..=xmax`, `med` the middle): small residuals alternate +, -, larger ones continue on the
/// side with room. Wrapping like libaec on corrupt input.
#[inline]
fn unmap(last: u32, d: u32, xmax: u32, med: u32) -> u32 {
    let half = (d >> 1) + (d & 1);
    // Room below `last` when in the lower half, above it when in the upper half.
    let mask = xmax & 0u32.wrapping_sub(u32::from(last & med != 0));
    // Even residuals add d/2, odd ones subtract (d+1)/2: `!(d >> 1)` is `-(d >> 1) - 1`.
    let inside = last.wrapping_add((d >> 1) ^ (d & 1).wrapping_neg());
    let outside = mask ^ d;
    // Both computed, one selected: the comparison is data-dependent and often mispredicted.
    if half <= (mask ^ last) {
        inside
    } else {
        outside
    }
}

/// Write samples of `width` bytes in the given order.
fn put(out: &mut Vec<u8>, vals: &[u32], width: usize, msb: bool) {
    let start = out.len();
    out.resize(start + vals.len() * width, 0);
    let dst = &mut out[start..];
    match (width, msb) {
        (1, _) => dst.iter_mut().zip(vals).for_each(|(d, &v)| *d = v as u8),
        (2, false) => dst
            .chunks_exact_mut(2)
            .zip(vals)
            .for_each(|(d, &v)| d.copy_from_slice(&(v as u16).to_le_bytes())),
        (2, true) => dst
            .chunks_exact_mut(2)
            .zip(vals)
            .for_each(|(d, &v)| d.copy_from_slice(&(v as u16).to_be_bytes())),
        (_, false) => dst
            .chunks_exact_mut(4)
            .zip(vals)
            .for_each(|(d, &v)| d.copy_from_slice(&v.to_le_bytes())),
        (_, true) => dst
            .chunks_exact_mut(4)
            .zip(vals)
            .for_each(|(d, &v)| d.copy_from_slice(&v.to_be_bytes())),
    }
}

/// Write `count` copies of one sample.
fn put_repeat(out: &mut Vec<u8>, v: u32, count: usize, width: usize, msb: bool) {
    let bytes = if msb {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    };
    let sample = if msb {
        &bytes[4 - width..]
    } else {
        &bytes[..width]
    };
    if width == 1 || sample.iter().all(|&b| b == sample[0]) {
        out.resize(out.len() + count * width, sample[0]);
    } else {
        for _ in 0..count {
            out.extend_from_slice(sample);
        }
    }
}

/// Undo the byte interleaving of 32/64-bit pixels (`word` bytes each).
fn deinterleave(planes: &[u8], word: usize) -> Vec<u8> {
    let n = planes.len() / word;
    let mut out = vec![0u8; planes.len()];
    for (j, plane) in planes.chunks_exact(n.max(1)).enumerate().take(word) {
        for (i, &b) in plane.iter().enumerate() {
            out[i * word + j] = b;
        }
    }
    out
}

impl Szip {
    /// Decode a chunk, stopping after the first `needed` bytes when the layout allows it.
    fn decode_upto(&self, input: &[u8], ctx: &Ctx, needed: usize) -> CodecResult<Vec<u8>> {
        let p = Params::parse(&self.params)?;
        let Some((head, stream)) = input.split_first_chunk::<HEADER>() else {
            return Err(format!(
                "a {}-byte chunk is shorter than the {HEADER}-byte size header",
                input.len()
            ));
        };
        let size = u32::from_le_bytes(*head) as usize;
        if size > ctx.max_out {
            return Err(format!(
                "the header's decoded size {size} is more than the chunk's {} bytes",
                ctx.max_out
            ));
        }
        let width = p.sample_bytes();
        let word = if p.interleaved() {
            p.bits_per_pixel as usize / 8
        } else {
            width
        };
        if !size.is_multiple_of(word) {
            return Err(format!(
                "decoded size {size} is not a whole number of {word}-byte samples"
            ));
        }
        let total = size / width;
        let wanted = if p.interleaved() {
            total
        } else {
            total.min(needed.div_ceil(width))
        };
        let mut out = Vec::with_capacity(wanted * width);
        Decoder::new(stream, &p).run(wanted, p.scanline, &mut out)?;
        if p.interleaved() {
            out = deinterleave(&out, word);
        }
        Ok(out)
    }
}

impl Codec for Szip {
    fn decode(&self, input: Vec<u8>, ctx: &Ctx) -> CodecResult<Vec<u8>> {
        self.decode_upto(&input, ctx, usize::MAX)
    }

    fn decode_prefix(&self, input: Vec<u8>, ctx: &Ctx, needed: usize) -> CodecResult<Vec<u8>> {
        self.decode_upto(&input, ctx, needed)
    }

    fn encode(&self, _input: Vec<u8>, _elem_size: usize) -> CodecResult<Vec<u8>> {
        Err("writing szip data is not implemented".into())
    }

    fn can_encode(&self) -> bool {
        false
    }

    fn max_encoded_len(&self, n: usize) -> usize {
        // Every sample uncompressed, scanlines padded to whole blocks, one identifier per
        // block, the header and a partial last byte.
        let Ok(p) = Params::parse(&self.params) else {
            return super::generous_bound(n);
        };
        let samples = n.div_ceil(p.sample_bytes());
        let lines = samples.div_ceil(p.scanline);
        let blocks = lines.saturating_mul(p.rsi_blocks());
        let block_bits = (p.block as u64) * u64::from(p.sample_bits()) + 5;
        let bits = (blocks as u64).saturating_mul(block_bits);
        usize::try_from(bits / 8)
            .unwrap_or(usize::MAX)
            .saturating_add(HEADER + 2)
    }

    fn describe(&self) -> String {
        match Params::parse(&self.params) {
            Ok(p) if p.nn() => format!("szip(nn, {})", p.block),
            Ok(p) if p.mask & OPT_EC != 0 => format!("szip(ec, {})", p.block),
            Ok(p) => format!("szip({})", p.block),
            Err(_) => "szip".to_string(),
        }
    }
}
