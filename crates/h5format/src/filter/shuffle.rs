//! Byte shuffle (filter 2): byte `j` of every element is stored together, for each `j`.
//!
//! As in libhdf5, trailing bytes that do not fill a whole element are copied unchanged, and an
//! element size of 1 (or a buffer smaller than one element) leaves the data as is.

use super::{Codec, CodecResult, Ctx};

/// The shuffle filter.
#[derive(Debug, Clone, Copy)]
pub struct Shuffle {
    /// Element size from `client_data[0]` (set by libhdf5 to the datatype size), if present.
    pub elem_size: Option<usize>,
}

impl Shuffle {
    /// From the filter's client data: `[element size]`.
    pub fn from_client_data(cd: &[u32]) -> Self {
        Shuffle {
            elem_size: cd
                .first()
                .and_then(|&v| usize::try_from(v).ok())
                .filter(|&v| v > 0),
        }
    }

    fn size(&self, elem_size: usize) -> usize {
        self.elem_size.unwrap_or(elem_size)
    }
}

/// Shuffle `data` with elements of `size` bytes.
pub fn shuffle(data: &[u8], size: usize) -> Vec<u8> {
    if size <= 1 || data.len() < size {
        return data.to_vec();
    }
    let n = data.len() / size;
    let body = n * size;
    let mut out = vec![0u8; data.len()];
    let (dst, tail) = out.split_at_mut(body);
    for (j, plane) in dst.chunks_exact_mut(n).enumerate() {
        for (d, elem) in plane.iter_mut().zip(data.chunks_exact(size)) {
            *d = elem[j];
        }
    }
    tail.copy_from_slice(&data[body..]);
    out
}

/// Undo [`shuffle`].
pub fn unshuffle(data: &[u8], size: usize) -> Vec<u8> {
    if size <= 1 || data.len() < size {
        return data.to_vec();
    }
    let n = data.len() / size;
    let body = n * size;
    let mut out = vec![0u8; data.len()];
    let (dst, tail) = out.split_at_mut(body);
    for (j, plane) in data[..body].chunks_exact(n).enumerate() {
        for (elem, &s) in dst.chunks_exact_mut(size).zip(plane) {
            elem[j] = s;
        }
    }
    tail.copy_from_slice(&data[body..]);
    out
}

impl Codec for Shuffle {
    fn decode(&self, input: Vec<u8>, ctx: &Ctx) -> CodecResult<Vec<u8>> {
        let size = self.size(ctx.elem_size);
        if size <= 1 || input.len() < size {
            return Ok(input);
        }
        Ok(unshuffle(&input, size))
    }

    fn encode(&self, input: Vec<u8>, elem_size: usize) -> CodecResult<Vec<u8>> {
        let size = self.size(elem_size);
        if size <= 1 || input.len() < size {
            return Ok(input);
        }
        Ok(shuffle(&input, size))
    }

    fn max_encoded_len(&self, n: usize) -> usize {
        n
    }

    fn describe(&self) -> String {
        "shuffle".to_string()
    }
}
