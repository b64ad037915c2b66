//! Dataspace messages (0x0001), version 1 (readable by every libhdf5).

use super::encode::{Put, UNDEF};

/// Encode a simple dataspace (rank 0 = scalar), with optional maximum dimensions
/// (`None` = unlimited).
pub(crate) fn encode(dims: &[u64], max: Option<&[Option<u64>]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + 16 * dims.len());
    out.put_u8(1);
    out.put_u8(dims.len() as u8);
    out.put_u8(u8::from(max.is_some()));
    out.extend_from_slice(&[0; 5]);
    for &d in dims {
        out.put_len(d);
    }
    if let Some(max) = max {
        for m in max {
            out.put_len(m.unwrap_or(UNDEF));
        }
    }
    out
}

/// Encode a NULL dataspace (version 2, libhdf5 1.8+: version 1 cannot express it).
pub(crate) fn encode_null() -> Vec<u8> {
    vec![2, 0, 0, 2]
}
