//! Object headers (spec IV.A): version 1 and version 2 ("OHDR"), with continuation blocks.

use std::collections::HashSet;

use crate::cursor::{verify_checksum, Cursor, Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::io::Source;

/// Header message type numbers (spec IV.A.2), with the spec's names.
pub mod msg {
    #![allow(missing_docs)]
    pub const NIL: u16 = 0x0000;
    pub const DATASPACE: u16 = 0x0001;
    pub const LINK_INFO: u16 = 0x0002;
    pub const DATATYPE: u16 = 0x0003;
    pub const FILL_VALUE_OLD: u16 = 0x0004;
    pub const FILL_VALUE: u16 = 0x0005;
    pub const LINK: u16 = 0x0006;
    pub const EXTERNAL_FILES: u16 = 0x0007;
    pub const LAYOUT: u16 = 0x0008;
    pub const BOGUS: u16 = 0x0009;
    pub const GROUP_INFO: u16 = 0x000A;
    pub const FILTER_PIPELINE: u16 = 0x000B;
    pub const ATTRIBUTE: u16 = 0x000C;
    pub const COMMENT: u16 = 0x000D;
    pub const MODIFICATION_TIME_OLD: u16 = 0x000E;
    pub const SHARED_MESSAGE_TABLE: u16 = 0x000F;
    pub const CONTINUATION: u16 = 0x0010;
    pub const SYMBOL_TABLE: u16 = 0x0011;
    pub const MODIFICATION_TIME: u16 = 0x0012;
    pub const BTREE_K: u16 = 0x0013;
    pub const DRIVER_INFO: u16 = 0x0014;
    pub const ATTRIBUTE_INFO: u16 = 0x0015;
    pub const REFERENCE_COUNT: u16 = 0x0016;
}

/// Message flag: the message is stored elsewhere (shared).
pub const FLAG_SHARED: u8 = 0x02;

/// Upper bound on the number of messages of one object header (a hostile file cannot make us
/// loop or allocate without end).
const MAX_MESSAGES: usize = 1 << 16;
/// Upper bound on continuation blocks of one object header.
const MAX_BLOCKS: usize = 4096;

/// One header message, raw.
#[derive(Debug, Clone)]
pub struct Message {
    /// Message type (see [`msg`]).
    pub kind: u16,
    /// Message flags.
    pub flags: u8,
    /// File address of the message body.
    pub offset: u64,
    /// The message body.
    pub data: Vec<u8>,
}

impl Message {
    /// A cursor over the body.
    pub fn cursor(&self, what: &'static str, sizes: Sizes) -> Cursor<'_> {
        Cursor::new(&self.data, self.offset, what, sizes)
    }
    /// Whether the body is a shared-message reference rather than the message itself.
    pub fn is_shared(&self) -> bool {
        self.flags & FLAG_SHARED != 0
    }
}

/// A parsed object header: its messages in storage order.
#[derive(Debug, Clone)]
pub struct ObjectHeader {
    /// Address of the header.
    pub address: u64,
    /// Header version (1 or 2).
    pub version: u8,
    /// Messages, continuation and NIL messages removed.
    pub messages: Vec<Message>,
    /// v2 flag: attribute creation order tracked.
    pub attr_creation_order_tracked: bool,
}

impl ObjectHeader {
    /// Read and parse the object header at `address`.
    pub fn read(source: &Source, sizes: Sizes, address: u64) -> Result<Self> {
        const WHAT: &str = "object header";
        if address == UNDEF_ADDR {
            return Err(Error::malformed(WHAT, address, "undefined address"));
        }
        let prefix = source.read_up_to(WHAT, address, 16)?;
        let mut hdr = ObjectHeader {
            address,
            version: 0,
            messages: Vec::new(),
            attr_creation_order_tracked: false,
        };
        let mut pending: Vec<(u64, u64)> = Vec::new();
        if prefix.len() >= 4 && &prefix[..4] == b"OHDR" {
            hdr.version = 2;
            let flags = *prefix
                .get(5)
                .ok_or_else(|| Error::malformed(WHAT, address, "truncated"))?;
            hdr.attr_creation_order_tracked = flags & 0x04 != 0;
            let mut fixed = 6usize;
            if flags & 0x20 != 0 {
                fixed += 16;
            }
            if flags & 0x10 != 0 {
                fixed += 4;
            }
            let size_len = 1usize << (flags & 3);
            let head = source.read(WHAT, address, (fixed + size_len) as u64)?;
            let mut c = Cursor::new(&head, address, WHAT, sizes);
            c.skip(4)?;
            let version = c.u8()?;
            if version != 2 {
                return Err(Error::malformed(
                    WHAT,
                    address,
                    format!("unknown OHDR version {version}"),
                ));
            }
            c.skip(fixed - 5)?;
            let chunk0 = c.uint(size_len)?;
            let start = address + (fixed + size_len) as u64;
            let total = chunk0
                .checked_add((fixed + size_len) as u64 + 4)
                .ok_or_else(|| Error::malformed(WHAT, address, "chunk #0 size overflows"))?;
            source.check(WHAT, address, total)?;
            let block = source.read(WHAT, address, total)?;
            verify_checksum(WHAT, address, &block)?;
            let body = &block[fixed + size_len..block.len() - 4];
            parse_v2_messages(&mut hdr, body, start, flags, sizes, &mut pending)?;
        } else {
            let head = source.read(WHAT, address, 16)?;
            let mut c = Cursor::new(&head, address, WHAT, sizes);
            let version = c.u8()?;
            if version != 1 {
                return Err(Error::malformed(
                    WHAT,
                    address,
                    format!("unknown object header version {version}"),
                ));
            }
            hdr.version = 1;
            c.skip(1)?;
            let _nmsgs = c.u16()?;
            let _refcount = c.u32()?;
            let size = u64::from(c.u32()?);
            // Messages start after the 12-byte prefix, aligned to 8 bytes.
            let start = address + 16;
            let block = source.read(WHAT, start, size)?;
            parse_v1_messages(&mut hdr, &block, start, sizes, &mut pending)?;
        }
        let mut seen: HashSet<u64> = HashSet::new();
        seen.insert(address);
        let mut blocks = 0usize;
        while let Some((addr, len)) = pending.pop() {
            if !seen.insert(addr) {
                return Err(Error::Cycle {
                    what: "object header continuation",
                    offset: addr,
                });
            }
            blocks += 1;
            if blocks > MAX_BLOCKS {
                return Err(Error::malformed(
                    WHAT,
                    address,
                    "too many continuation blocks",
                ));
            }
            let block = source.read("object header continuation", addr, len)?;
            if hdr.version == 2 {
                const C: &str = "object header continuation block";
                let mut c = Cursor::new(&block, addr, C, sizes);
                c.expect_signature(b"OCHK")?;
                if block.len() < 8 {
                    return Err(Error::malformed(
                        C,
                        addr,
                        "shorter than its signature and checksum",
                    ));
                }
                verify_checksum(C, addr, &block)?;
                let flags = if hdr.attr_creation_order_tracked {
                    0x04
                } else {
                    0
                };
                parse_v2_messages(
                    &mut hdr,
                    &block[4..block.len() - 4],
                    addr + 4,
                    flags,
                    sizes,
                    &mut pending,
                )?;
            } else {
                parse_v1_messages(&mut hdr, &block, addr, sizes, &mut pending)?;
            }
        }
        Ok(hdr)
    }

    /// The first message of a type.
    pub fn first(&self, kind: u16) -> Option<&Message> {
        self.messages.iter().find(|m| m.kind == kind)
    }

    /// All messages of a type.
    pub fn all(&self, kind: u16) -> impl Iterator<Item = &Message> {
        self.messages.iter().filter(move |m| m.kind == kind)
    }
}

fn push(
    hdr: &mut ObjectHeader,
    m: Message,
    sizes: Sizes,
    pending: &mut Vec<(u64, u64)>,
) -> Result<()> {
    match m.kind {
        msg::NIL => {}
        msg::CONTINUATION => {
            let mut c = m.cursor("continuation message", sizes);
            let addr = c.addr()?;
            let len = c.length()?;
            pending.push((addr, len));
        }
        _ => {
            if hdr.messages.len() >= MAX_MESSAGES {
                return Err(Error::malformed(
                    "object header",
                    hdr.address,
                    "too many messages",
                ));
            }
            hdr.messages.push(m);
        }
    }
    Ok(())
}

fn parse_v1_messages(
    hdr: &mut ObjectHeader,
    block: &[u8],
    start: u64,
    sizes: Sizes,
    pending: &mut Vec<(u64, u64)>,
) -> Result<()> {
    let mut c = Cursor::new(block, start, "object header message", sizes);
    while c.remaining() >= 8 {
        let kind = c.u16()?;
        let size = usize::from(c.u16()?);
        let flags = c.u8()?;
        c.skip(3)?;
        let offset = c.offset();
        let data = c.bytes(size)?.to_vec();
        push(
            hdr,
            Message {
                kind,
                flags,
                offset,
                data,
            },
            sizes,
            pending,
        )?;
    }
    Ok(())
}

fn parse_v2_messages(
    hdr: &mut ObjectHeader,
    block: &[u8],
    start: u64,
    hdr_flags: u8,
    sizes: Sizes,
    pending: &mut Vec<(u64, u64)>,
) -> Result<()> {
    let mut c = Cursor::new(block, start, "object header message", sizes);
    let header_len = if hdr_flags & 0x04 != 0 { 6 } else { 4 };
    while c.remaining() >= header_len {
        let kind = u16::from(c.u8()?);
        let size = usize::from(c.u16()?);
        let flags = c.u8()?;
        if hdr_flags & 0x04 != 0 {
            c.skip(2)?; // creation order
        }
        let offset = c.offset();
        let data = c.bytes(size)?.to_vec();
        push(
            hdr,
            Message {
                kind,
                flags,
                offset,
                data,
            },
            sizes,
            pending,
        )?;
    }
    Ok(())
}
