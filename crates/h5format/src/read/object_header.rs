//! Object headers (spec IV.A): version 1 and version 2 ("OHDR"), with continuation blocks.

use std::collections::HashSet;

use crate::cursor::{verify_checksum, Cursor, Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::fixed;
use crate::io::Source;
use binrw::BinRead;

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

/// The version 1 object header prefix (spec III.C, "Version 1 Object Header" table), padded to
/// 16 bytes.
#[derive(BinRead)]
#[br(little)]
#[allow(dead_code)] // fields mirror the spec's table; not every one is used
struct PrefixV1 {
    #[br(assert(version == 1, "unknown object header version {}", version))]
    version: u8,
    reserved: u8,
    total_number_of_header_messages: u16,
    object_reference_count: u32,
    object_header_size: u32,
}

/// The version 2 object header prefix up to the messages (spec III.C, "Version 2 Object
/// Header" table): optional times and attribute phase-change values by flag, then the size of
/// chunk #0 in 1, 2, 4 or 8 bytes (flag bits 0-1).
#[derive(BinRead)]
#[br(little, magic = b"OHDR")]
#[allow(dead_code)]
struct PrefixV2 {
    #[br(assert(version == 2, "unknown OHDR version {}", version))]
    version: u8,
    flags: u8,
    /// Access, modification, change and birth times (flag bit 5).
    #[br(if(flags & 0x20 != 0))]
    times: Option<[u32; 4]>,
    /// Maximum compact and minimum dense attribute counts (flag bit 4).
    #[br(if(flags & 0x10 != 0))]
    attribute_phase_change: Option<[u16; 2]>,
    #[br(parse_with = chunk0_size, args(flags))]
    size_of_chunk0: u64,
}

impl PrefixV2 {
    /// Longest prefix: signature, version, flags, times, phase change, 8-byte size.
    const MAX_LEN: u64 = 4 + 1 + 1 + 16 + 4 + 8;
}

#[binrw::parser(reader)]
fn chunk0_size(flags: u8) -> binrw::BinResult<u64> {
    let mut buf = [0u8; 8];
    reader.read_exact(&mut buf[..1usize << (flags & 3)])?;
    Ok(u64::from_le_bytes(buf))
}

impl ObjectHeader {
    /// Read and parse the object header at `address`.
    pub fn read(source: &Source, sizes: Sizes, address: u64) -> Result<Self> {
        const WHAT: &str = "object header";
        if address == UNDEF_ADDR {
            return Err(Error::malformed(WHAT, address, "undefined address"));
        }
        // Enough for either prefix (a v1 header is at least 16 bytes).
        let head = source.read_up_to(WHAT, address, PrefixV2::MAX_LEN)?;
        let mut hdr = ObjectHeader {
            address,
            version: 0,
            messages: Vec::new(),
            attr_creation_order_tracked: false,
        };
        let mut pending: Vec<(u64, u64)> = Vec::new();
        if head.starts_with(b"OHDR") {
            hdr.version = 2;
            let (p, prefix_len) = fixed::parse::<PrefixV2>(&head, address, WHAT, ())?;
            let flags = p.flags;
            hdr.attr_creation_order_tracked = flags & 0x04 != 0;
            let start = address + prefix_len as u64;
            let total = p
                .size_of_chunk0
                .checked_add(prefix_len as u64 + 4)
                .ok_or_else(|| Error::malformed(WHAT, address, "chunk #0 size overflows"))?;
            source.check(WHAT, address, total)?;
            let block = source.read(WHAT, address, total)?;
            verify_checksum(WHAT, address, &block)?;
            let body = &block[prefix_len..block.len() - 4];
            parse_v2_messages(&mut hdr, body, start, flags, sizes, &mut pending)?;
        } else {
            if head.len() < 16 {
                return Err(Error::OutOfBounds {
                    what: WHAT,
                    offset: address,
                    len: 16,
                    end: source.len(),
                });
            }
            let (p, _) = fixed::parse::<PrefixV1>(&head, address, WHAT, ())?;
            hdr.version = 1;
            let size = u64::from(p.object_header_size);
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
