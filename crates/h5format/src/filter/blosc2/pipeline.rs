//! The Blosc2 filter pipeline of one chunk: six slots applied in slot order when writing,
//! undone from slot 5 down to slot 0 when reading, one block at a time.
//!
//! Filter ids: 0 none, 1 byte shuffle (elements of the slot's meta bytes, or of the type size
//! when the meta is 0), 2 bit shuffle (of the type size; the elements past the last multiple
//! of 8 are stored as is), 3 delta (XOR with the first block of the chunk; within the first
//! block XOR with the previous element), 4 truncated precision (lossy when writing, nothing to
//! undo). Higher ids are plugins and are refused.

use crate::filter::bitshuffle::untrans_bit_elem;
use crate::filter::CodecResult;

const NOFILTER: u8 = 0;
const SHUFFLE: u8 = 1;
const BITSHUFFLE: u8 = 2;
const DELTA: u8 = 3;
const TRUNC_PREC: u8 = 4;

/// The filters of one chunk, ready to undo.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// (filter id, meta) in undo order (slot 5 first), no-ops left out.
    steps: Vec<(u8, u8)>,
    typesize: usize,
}

impl Pipeline {
    /// From the header's filter slots; a filter id we cannot undo is an error.
    pub fn new(filters: &[u8; 6], meta: &[u8; 6], typesize: usize) -> CodecResult<Pipeline> {
        let mut steps = Vec::new();
        for i in (0..6).rev() {
            match filters[i] {
                NOFILTER | TRUNC_PREC => {}
                SHUFFLE | BITSHUFFLE | DELTA => steps.push((filters[i], meta[i])),
                f => {
                    return Err(format!(
                        "filter id {f} in slot {i} (a plugin filter) is not supported"
                    ))
                }
            }
        }
        Ok(Pipeline { steps, typesize })
    }

    /// Whether a delta filter needs the first block as reference.
    pub fn has_delta(&self) -> bool {
        self.steps.iter().any(|&(f, _)| f == DELTA)
    }

    /// Undo the filters on one block held in `buf` (the result is left in `buf`; `tmp` is
    /// scratch). `first` is the decoded first block (for delta), `is_first` says this is it.
    pub fn undo(
        &self,
        buf: &mut Vec<u8>,
        tmp: &mut Vec<u8>,
        first: &[u8],
        is_first: bool,
    ) -> CodecResult<()> {
        for &(f, meta) in &self.steps {
            match f {
                SHUFFLE => {
                    let size = if meta == 0 {
                        self.typesize
                    } else {
                        usize::from(meta)
                    };
                    if size > 1 && buf.len() >= size {
                        tmp.resize(buf.len(), 0);
                        unshuffle_into(buf, tmp, size);
                        std::mem::swap(buf, tmp);
                    }
                }
                BITSHUFFLE => {
                    let n = buf.len() / self.typesize;
                    let n = n - n % 8;
                    if n > 0 {
                        tmp.resize(buf.len(), 0);
                        let body = n * self.typesize;
                        untrans_bit_elem(&buf[..body], &mut tmp[..body], n, self.typesize);
                        tmp[body..].copy_from_slice(&buf[body..]);
                        std::mem::swap(buf, tmp);
                    }
                }
                DELTA => delta_decode(buf, first, is_first, self.typesize)?,
                _ => {}
            }
        }
        Ok(())
    }
}

/// Undo the byte shuffle of `src` (elements of `size` bytes) into `dst`; trailing bytes past
/// the last whole element are copied.
fn unshuffle_into(src: &[u8], dst: &mut [u8], size: usize) {
    let n = src.len() / size;
    let body = n * size;
    for (j, plane) in src[..body].chunks_exact(n).enumerate() {
        for (elem, &s) in dst[..body].chunks_exact_mut(size).zip(plane) {
            elem[j] = s;
        }
    }
    dst[body..].copy_from_slice(&src[body..]);
}

/// Undo delta coding in place, in units of the type size when it is 1, 2, 4 or 8 bytes, of
/// 8 bytes when it is another multiple of 8, of single bytes otherwise (as c-blosc2 does).
fn delta_decode(buf: &mut [u8], first: &[u8], is_first: bool, typesize: usize) -> CodecResult<()> {
    let unit = match typesize {
        1 | 2 | 4 | 8 => typesize,
        t if t % 8 == 0 => 8,
        _ => 1,
    };
    let n = buf.len() / unit;
    if is_first {
        for i in 1..n {
            let (prev, cur) = buf.split_at_mut(i * unit);
            let prev = &prev[(i - 1) * unit..];
            for (c, p) in cur[..unit].iter_mut().zip(prev) {
                *c ^= *p;
            }
        }
    } else {
        let reference = first
            .get(..n * unit)
            .ok_or("delta-coded block longer than the chunk's first block")?;
        for (c, r) in buf[..n * unit].iter_mut().zip(reference) {
            *c ^= *r;
        }
    }
    Ok(())
}
