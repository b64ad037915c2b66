//! The encode side of the filter pipeline (shuffle, deflate, fletcher32) and the filter
//! pipeline message (0x000B, version 1).

use std::io::Write;

use super::encode::Put;
use crate::error::{Error, Result};

/// Filter id of deflate (zlib).
pub const DEFLATE: u16 = 1;
/// Filter id of the byte shuffle.
pub const SHUFFLE: u16 = 2;
/// Filter id of the Fletcher-32 checksum.
pub const FLETCHER32: u16 = 3;

/// The filters applied to every chunk of a dataset, in pipeline order
/// shuffle → deflate → fletcher32.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pipeline {
    /// Byte shuffle with this element size.
    pub shuffle: Option<usize>,
    /// Deflate at this level (0-9).
    pub deflate: Option<u8>,
    /// Append a Fletcher-32 checksum.
    pub fletcher32: bool,
}

impl Pipeline {
    /// Whether no filter is applied.
    pub fn is_empty(&self) -> bool {
        self.shuffle.is_none() && self.deflate.is_none() && !self.fletcher32
    }

    /// The filter pipeline message body (version 1, no filter names).
    pub fn message(&self) -> Vec<u8> {
        let mut filters: Vec<(u16, Vec<u32>)> = Vec::new();
        if let Some(size) = self.shuffle {
            filters.push((SHUFFLE, vec![size as u32]));
        }
        if let Some(level) = self.deflate {
            filters.push((DEFLATE, vec![u32::from(level)]));
        }
        if self.fletcher32 {
            filters.push((FLETCHER32, vec![]));
        }
        let mut out = Vec::new();
        out.put_u8(1);
        out.put_u8(filters.len() as u8);
        out.extend_from_slice(&[0; 6]);
        for (id, values) in filters {
            out.put_u16(id);
            out.put_u16(0); // no name
            out.put_u16(0); // flags: mandatory
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
    let mut out = vec![0u8; data.len()];
    for (b, plane) in out.chunks_exact_mut(n).take(size).enumerate() {
        for (i, dst) in plane.iter_mut().enumerate() {
            *dst = data.get(i * size + b).copied().unwrap_or(0);
        }
    }
    let whole = n * size;
    if let (Some(dst), Some(src)) = (out.get_mut(whole..), data.get(whole..)) {
        dst.copy_from_slice(src);
    }
    out
}

/// Zlib-compress at `level` (clamped to 0-9).
pub fn deflate(data: &[u8], level: u8) -> Result<Vec<u8>> {
    let fail = |e: std::io::Error| Error::Filter {
        id: DEFLATE,
        name: "deflate".into(),
        offset: 0,
        detail: e.to_string(),
    };
    let mut enc = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        flate2::Compression::new(u32::from(level.min(9))),
    );
    enc.write_all(data).map_err(fail)?;
    enc.finish().map_err(fail)
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
