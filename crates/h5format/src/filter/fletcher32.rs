//! Fletcher-32 (filter 3): a checksum of the chunk appended as 4 bytes, little-endian.
//!
//! libhdf5 before 1.6.3 computed the checksum with the bytes of each 16-bit half swapped on
//! little-endian machines; like libhdf5, decoding accepts either form.

use super::{Codec, CodecResult, Ctx};
use crate::checksum::fletcher32;

/// The Fletcher-32 filter.
#[derive(Debug, Clone, Copy)]
pub struct Fletcher32;

impl Codec for Fletcher32 {
    fn decode(&self, mut input: Vec<u8>, _ctx: &Ctx) -> CodecResult<Vec<u8>> {
        let Some(body_len) = input.len().checked_sub(4) else {
            return Err(format!(
                "chunk of {} bytes is too short for a checksum",
                input.len()
            ));
        };
        let (body, sum) = input.split_at(body_len);
        let stored = u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]);
        let computed = fletcher32(body);
        let legacy = ((computed & 0x00ff_00ff) << 8) | ((computed >> 8) & 0x00ff_00ff);
        if stored != computed && stored != legacy {
            return Err(format!(
                "Fletcher-32 checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ));
        }
        input.truncate(body_len);
        Ok(input)
    }

    fn encode(&self, mut input: Vec<u8>, _elem_size: usize) -> CodecResult<Vec<u8>> {
        let sum = fletcher32(&input);
        input.extend_from_slice(&sum.to_le_bytes());
        Ok(input)
    }

    fn max_encoded_len(&self, n: usize) -> usize {
        n.saturating_add(4)
    }

    fn describe(&self) -> String {
        "fletcher32".to_string()
    }
}
