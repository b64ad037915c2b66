//! What the fuzz targets share: the input layout of the single-filter targets (`nbit`,
//! `scaleoffset`, `szip`, `blosc2`).

use h5format::filter::{Codec, Ctx, FilterInfo};

/// The most bytes a filter decoder may produce for one fuzzed chunk.
pub const MAX_OUT: usize = 1 << 20;

/// One fuzzed filter case: the decoder built from the input's client data, and the chunk.
pub struct FilterCase<'a> {
    /// The decoder of the filter with the fuzzed client data.
    pub codec: Box<dyn Codec>,
    /// The stored chunk to decode.
    pub chunk: &'a [u8],
    /// 4-byte elements, at most [`MAX_OUT`] bytes out.
    pub ctx: Ctx,
}

impl<'a> FilterCase<'a> {
    /// Split `data` into the client data of filter `id` (first byte: how many 32-bit
    /// little-endian values follow) and one stored chunk (the rest); `None` when the input is
    /// empty or the filter refuses the client data.
    pub fn parse(id: u16, data: &'a [u8]) -> Option<Self> {
        let (&n, rest) = data.split_first()?;
        let n = usize::from(n).min(rest.len() / 4);
        let (params, chunk) = rest.split_at(n * 4);
        let cd = params
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let codec = FilterInfo::new(id, cd).codec().ok()?;
        let ctx = Ctx {
            elem_size: 4,
            max_out: MAX_OUT,
        };
        Some(FilterCase { codec, chunk, ctx })
    }

    /// Decode the chunk: may fail, must not panic or hang; what it produces is returned.
    pub fn decode(&self) -> Option<Vec<u8>> {
        self.codec.decode(self.chunk.to_vec(), &self.ctx).ok()
    }
}
