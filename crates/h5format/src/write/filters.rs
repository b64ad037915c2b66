//! The encode side of the filter pipeline (shuffle, deflate, fletcher32) and the filter
//! pipeline message (0x000B, version 1).

use super::encode::Put;
use crate::error::{Error, Result};

/// Filter id of deflate (zlib).
pub const DEFLATE: u16 = 1;
/// Filter id of the byte shuffle.
pub const SHUFFLE: u16 = 2;
/// Filter id of the Fletcher-32 checksum.
pub const FLETCHER32: u16 = 3;

/// The filters applied to every chunk of a dataset, in pipeline order
/// shuffle → plugins → deflate → fletcher32.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pipeline {
    /// Byte shuffle with this element size.
    pub shuffle: Option<usize>,
    /// Registered filter plugins (see `plugins.rs`), with complete client data, in order.
    pub plugins: Vec<crate::filter::FilterInfo>,
    /// Element size handed to the plugins' encoders.
    pub elem_size: usize,
    /// Deflate at this level (0-9).
    pub deflate: Option<u8>,
    /// Append a Fletcher-32 checksum.
    pub fletcher32: bool,
}

impl Pipeline {
    /// Whether no filter is applied.
    pub fn is_empty(&self) -> bool {
        self.shuffle.is_none()
            && self.deflate.is_none()
            && !self.fletcher32
            && self.plugins.is_empty()
    }

    /// The filter pipeline message body (version 1, no filter names).
    pub fn message(&self) -> Vec<u8> {
        // (id, client data, flags: 1 = optional).
        let mut filters: Vec<(u16, Vec<u32>, u16)> = Vec::new();
        if let Some(size) = self.shuffle {
            filters.push((SHUFFLE, vec![size as u32], 0));
        }
        for p in &self.plugins {
            filters.push((p.id, p.client_data.clone(), u16::from(p.optional)));
        }
        if let Some(level) = self.deflate {
            filters.push((DEFLATE, vec![u32::from(level)], 0));
        }
        if self.fletcher32 {
            filters.push((FLETCHER32, vec![], 0));
        }
        let mut out = Vec::new();
        out.put_u8(1);
        out.put_u8(filters.len() as u8);
        out.extend_from_slice(&[0; 6]);
        for (id, values, flags) in filters {
            out.put_u16(id);
            out.put_u16(0); // no name
            out.put_u16(flags);
            out.put_u16(values.len() as u16);
            for v in &values {
                out.put_u32(*v);
            }
            if values.len() % 2 == 1 {
                out.put_u32(0);
            }
        }
        out
    }

    /// Apply the pipeline to one chunk.
    pub fn encode(&self, chunk: Vec<u8>) -> Result<Vec<u8>> {
        let mut data = chunk;
        if let Some(size) = self.shuffle {
            data = shuffle(&data, size);
        }
        for p in &self.plugins {
            let codec = p.codec()?;
            data = codec
                .encode(data, self.elem_size)
                .map_err(|detail| Error::Filter {
                    id: p.id,
                    name: p.short_name(),
                    offset: 0,
                    detail,
                })?;
        }
        if let Some(level) = self.deflate {
            data = deflate(&data, level)?;
        }
        if self.fletcher32 {
            let sum = crate::checksum::fletcher32(&data);
            data.extend_from_slice(&sum.to_le_bytes());
        }
        Ok(data)
    }
}

/// Byte shuffle: all first bytes of the elements, then all second bytes, ...; a trailing
/// partial element is copied unchanged.
pub fn shuffle(data: &[u8], size: usize) -> Vec<u8> {
    if size <= 1 || data.len() < size {
        return data.to_vec();
    }
    let n = data.len() / size;
    let whole = n * size;
    let mut out = vec![0u8; data.len()];
    let (src, tail) = data.split_at(whole);
    let (dst, dst_tail) = out.split_at_mut(whole);
    match size {
        2 => shuffle_const::<2>(src, dst, n),
        4 => shuffle_const::<4>(src, dst, n),
        8 => shuffle_const::<8>(src, dst, n),
        _ => {
            for (b, plane) in dst.chunks_exact_mut(n).enumerate() {
                for (d, e) in plane.iter_mut().zip(src.chunks_exact(size)) {
                    *d = e.get(b).copied().unwrap_or(0);
                }
            }
        }
    }
    dst_tail.copy_from_slice(tail);
    out
}

/// Shuffle `n` elements of `S` bytes, in tiles of the source that stay in the L1 cache while
/// each byte plane takes its bytes from them (one constant-stride pass per plane, which the
/// compiler vectorises).
fn shuffle_const<const S: usize>(src: &[u8], dst: &mut [u8], n: usize) {
    const TILE: usize = 2048;
    let mut planes: Vec<&mut [u8]> = dst.chunks_exact_mut(n).collect();
    for (t, tile) in src.chunks(TILE * S).enumerate() {
        let (at, len) = (t * TILE, tile.len() / S);
        let mut outs = planes.iter_mut().filter_map(|p| p.get_mut(at..at + len));
        let mut next = || outs.next().unwrap_or_default();
        match S {
            2 => {
                plane::<S, 0>(tile, next());
                plane::<S, 1>(tile, next());
            }
            4 => {
                plane::<S, 0>(tile, next());
                plane::<S, 1>(tile, next());
                plane::<S, 2>(tile, next());
                plane::<S, 3>(tile, next());
            }
            _ => {
                plane::<S, 0>(tile, next());
                plane::<S, 1>(tile, next());
                plane::<S, 2>(tile, next());
                plane::<S, 3>(tile, next());
                plane::<S, 4>(tile, next());
                plane::<S, 5>(tile, next());
                plane::<S, 6>(tile, next());
                plane::<S, 7>(tile, next());
            }
        }
    }
}

/// Byte `B` of every `S`-byte element of `tile`, into `out`.
#[inline(always)]
fn plane<const S: usize, const B: usize>(tile: &[u8], out: &mut [u8]) {
    for (d, e) in out.iter_mut().zip(tile.chunks_exact(S)) {
        if let Some(v) = e.get(B) {
            *d = *v;
        }
    }
}

pub use crate::filter::deflate::engine_level;

/// Zlib-compress at `level` (clamped to 0-9; level 1 as [`engine_level`] says).
pub fn deflate(data: &[u8], level: u8) -> Result<Vec<u8>> {
    crate::filter::deflate::deflate(data, engine_level(level)).map_err(|detail| Error::Filter {
        id: DEFLATE,
        name: "deflate".into(),
        offset: 0,
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_planes() {
        assert_eq!(
            shuffle(&[1, 2, 3, 4, 5, 6, 7], 2),
            vec![1, 3, 5, 2, 4, 6, 7]
        );
        assert_eq!(shuffle(&[1, 2, 3], 1), vec![1, 2, 3]);
        // Every element size, across tile boundaries, with a trailing partial element:
        // the specialised loops agree with the definition.
        for size in [2usize, 3, 4, 8] {
            let data: Vec<u8> = (0..(5000 * size + 1))
                .map(|i| (i * 7 % 251) as u8)
                .collect();
            let n = data.len() / size;
            let mut want = vec![0u8; data.len()];
            for i in 0..n {
                for b in 0..size {
                    want[b * n + i] = data[i * size + b];
                }
            }
            want[n * size..].copy_from_slice(&data[n * size..]);
            assert_eq!(shuffle(&data, size), want, "element size {size}");
        }
    }

    #[test]
    fn deflate_roundtrip() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 7) as u8).collect();
        let z = deflate(&data, 6).unwrap();
        let mut d = flate2::read::ZlibDecoder::new(&z[..]);
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut d, &mut back).unwrap();
        assert_eq!(back, data);
    }
}
