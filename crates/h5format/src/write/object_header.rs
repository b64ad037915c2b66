//! Object headers: version 1 (a prefix and one chunk of 8-byte-aligned messages, readable by
//! every libhdf5) and version 2 ("OHDR", libhdf5 1.8+, needed for attribute info messages,
//! link messages and attribute creation order).

use super::encode::{align8, to_u16, usage, Put};
use crate::checksum::lookup3;
use crate::error::Result;

/// Message type: dataspace.
pub(crate) const DATASPACE: u16 = 0x0001;
/// Message type: link info.
pub(crate) const LINK_INFO: u16 = 0x0002;
/// Message type: datatype.
pub(crate) const DATATYPE: u16 = 0x0003;
/// Message type: fill value (new).
pub(crate) const FILL_VALUE: u16 = 0x0005;
/// Message type: link.
pub(crate) const LINK: u16 = 0x0006;
/// Message type: data layout.
pub(crate) const LAYOUT: u16 = 0x0008;
/// Message type: group info.
pub(crate) const GROUP_INFO: u16 = 0x000A;
/// Message type: filter pipeline.
pub(crate) const PIPELINE: u16 = 0x000B;
/// Message type: attribute.
pub(crate) const ATTRIBUTE: u16 = 0x000C;
/// Message type: symbol table.
pub(crate) const SYMBOL_TABLE: u16 = 0x0011;
/// Message type: attribute info.
pub(crate) const ATTRIBUTE_INFO: u16 = 0x0015;

/// Message flag: constant.
pub(crate) const CONSTANT: u8 = 0x01;

/// Header flag (v2): attribute creation order tracked.
pub(crate) const ATTR_ORDER_TRACKED: u8 = 0x04;

/// One header message: type, flags, body and (v2 headers tracking attribute creation
/// order) its creation order.
pub(crate) struct Message {
    pub kind: u16,
    pub flags: u8,
    pub body: Vec<u8>,
    pub order: u16,
}

impl Message {
    pub(crate) fn new(kind: u16, flags: u8, body: Vec<u8>) -> Self {
        Message {
            kind,
            flags,
            body,
            order: 0,
        }
    }
}

/// Which object header version to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    /// Version 1.
    V1,
    /// Version 2 with these header flags (bit 2 = attribute creation order tracked).
    V2 { flags: u8 },
}

/// Encode an object header holding `messages` (reference count 1); also returns the offset
/// of each message body in it.
pub(crate) fn encode_with_offsets(
    messages: &[Message],
    version: Version,
) -> Result<(Vec<u8>, Vec<usize>)> {
    match version {
        Version::V1 => encode_v1(messages),
        Version::V2 { flags } => encode_v2(messages, flags),
    }
}

fn too_big(m: &Message) -> crate::error::Error {
    usage(format!(
        "header message of type {:#06x} is {} bytes, over the 64 KiB limit of a message",
        m.kind,
        m.body.len()
    ))
}

/// Encode a version 1 object header.
fn encode_v1(messages: &[Message]) -> Result<(Vec<u8>, Vec<usize>)> {
    let mut body = Vec::new();
    let mut offsets = Vec::with_capacity(messages.len());
    for m in messages {
        let size = align8(m.body.len());
        body.put_u16(m.kind);
        body.put_u16(to_u16(size, "header message size").map_err(|_| too_big(m))?);
        body.put_u8(m.flags);
        body.extend_from_slice(&[0; 3]);
        offsets.push(16 + body.len());
        body.extend_from_slice(&m.body);
        body.pad_to(8);
    }
    let mut count = messages.len();
    if body.is_empty() {
        // A header needs at least one message: a null message.
        body.extend_from_slice(&[0; 8]);
        count = 1;
    }
    let mut out = Vec::with_capacity(16 + body.len());
    out.put_u8(1);
    out.put_u8(0);
    out.put_u16(to_u16(count, "number of header messages")?);
    out.put_u32(1);
    out.put_u32(u32::try_from(body.len()).map_err(|_| usage("object header over 4 GiB"))?);
    out.put_u32(0); // alignment padding of the prefix
    out.extend_from_slice(&body);
    Ok((out, offsets))
}

/// Encode a version 2 object header: no times, default attribute phase change values,
/// the size of chunk 0 in its minimal width.
fn encode_v2(messages: &[Message], flags: u8) -> Result<(Vec<u8>, Vec<usize>)> {
    let tracked = flags & ATTR_ORDER_TRACKED != 0;
    let mut body = Vec::new();
    let mut offsets = Vec::with_capacity(messages.len());
    for m in messages {
        let kind = u8::try_from(m.kind).map_err(|_| usage("message type over 255"))?;
        body.put_u8(kind);
        body.put_u16(to_u16(m.body.len(), "header message size").map_err(|_| too_big(m))?);
        body.put_u8(m.flags);
        if tracked {
            body.put_u16(m.order);
        }
        offsets.push(body.len());
        body.extend_from_slice(&m.body);
    }
    if body.is_empty() {
        // A null message of no body.
        body.extend_from_slice(&[0, 0, 0, 0]);
        if tracked {
            body.extend_from_slice(&[0, 0]);
        }
    }
    let len = body.len() as u64;
    let (width_flag, width) = match len {
        0..=0xFF => (0u8, 1usize),
        0x100..=0xFFFF => (1, 2),
        0x1_0000..=0xFFFF_FFFF => (2, 4),
        _ => (3, 8),
    };
    let mut out = Vec::with_capacity(16 + body.len());
    out.extend_from_slice(b"OHDR");
    out.put_u8(2);
    out.put_u8((flags & !0x03) | width_flag);
    out.extend_from_slice(&len.to_le_bytes()[..width]);
    let start = out.len();
    out.extend_from_slice(&body);
    let sum = lookup3(&out, 0);
    out.put_u32(sum);
    Ok((out, offsets.into_iter().map(|o| o + start).collect()))
}
