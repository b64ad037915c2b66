//! Version 1 object headers: a prefix and one chunk of 8-byte-aligned messages.

use super::encode::{align8, to_u16, usage, Put};
use crate::error::Result;

/// Message type: dataspace.
pub(crate) const DATASPACE: u16 = 0x0001;
/// Message type: datatype.
pub(crate) const DATATYPE: u16 = 0x0003;
/// Message type: fill value (new).
pub(crate) const FILL_VALUE: u16 = 0x0005;
/// Message type: data layout.
pub(crate) const LAYOUT: u16 = 0x0008;
/// Message type: filter pipeline.
pub(crate) const PIPELINE: u16 = 0x000B;
/// Message type: attribute.
pub(crate) const ATTRIBUTE: u16 = 0x000C;
/// Message type: symbol table.
pub(crate) const SYMBOL_TABLE: u16 = 0x0011;

/// Message flag: constant.
pub(crate) const CONSTANT: u8 = 0x01;

/// One header message: type, flags and body.
pub(crate) struct Message {
    pub kind: u16,
    pub flags: u8,
    pub body: Vec<u8>,
}

impl Message {
    pub(crate) fn new(kind: u16, flags: u8, body: Vec<u8>) -> Self {
        Message { kind, flags, body }
    }
}

/// Encode a version 1 object header holding `messages` (reference count 1).
pub(crate) fn encode(messages: &[Message]) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    for m in messages {
        let size = align8(m.body.len());
        body.put_u16(m.kind);
        body.put_u16(to_u16(size, "header message size").map_err(|_| {
            usage(format!(
                "header message of type {:#06x} is {} bytes, over the 64 KiB limit \
                 (dense attribute storage is not implemented)",
                m.kind,
                m.body.len()
            ))
        })?);
        body.put_u8(m.flags);
        body.extend_from_slice(&[0; 3]);
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
    Ok(out)
}
