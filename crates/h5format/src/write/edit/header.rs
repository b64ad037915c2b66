//! Object headers as the editor sees them: every chunk's raw messages (spec III.C), and
//! the re-encoding of a changed message list into the header's first chunk.
//!
//! The first chunk of a header has a fixed size (recorded in its prefix) and a fixed
//! address (every link to the object points there), so an edited header keeps both: its
//! messages are laid out again in chunk #0, and what does not fit goes to one new
//! continuation chunk written past the end of the file beforehand. The old continuation
//! chunks are no longer referenced. The rewritten chunk #0 (prefix, messages, NIL filler
//! and, for version 2, checksum) is the single write that commits an edit.

use std::collections::HashSet;

use super::super::encode::{align8, usage, Put};
use super::super::sink::Out;
use crate::checksum::lookup3;
use crate::error::{Error, Result};
use crate::io::Source;
use crate::read::object_header::msg;

/// Upper bound on the continuation chunks of a header we edit.
const MAX_CHUNKS: usize = 4096;
/// Upper bound on the messages of a header we edit.
const MAX_MESSAGES: usize = 1 << 16;
/// Body of a continuation message with 8-byte offsets and lengths.
const CONT_BODY: usize = 16;

/// One header message, raw (NIL and continuation messages are not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawMsg {
    /// Message type.
    pub kind: u16,
    /// Message flags.
    pub flags: u8,
    /// Creation order (v2 headers tracking attribute creation order).
    pub order: u16,
    /// The body (for version 1 headers, padded to 8 bytes).
    pub body: Vec<u8>,
}

impl RawMsg {
    /// A new message of no flags and creation order 0.
    pub(crate) fn new(kind: u16, body: Vec<u8>) -> Self {
        RawMsg {
            kind,
            flags: 0,
            order: 0,
            body,
        }
    }
}

/// An object header read for editing.
#[derive(Debug, Clone)]
pub(crate) struct EditHeader {
    /// Address of the header (of its prefix).
    pub addr: u64,
    /// 1 or 2.
    pub version: u8,
    /// The bytes of the prefix up to the first message of chunk #0 (v1: 16 bytes).
    prefix: Vec<u8>,
    /// Size of the message area of chunk #0.
    capacity: usize,
    /// The messages of every chunk, in storage order.
    pub msgs: Vec<RawMsg>,
}

impl EditHeader {
    /// Whether version 2 message headers carry a creation order (header flag bit 2).
    pub(crate) fn tracked(&self) -> bool {
        self.version == 2 && self.prefix.get(5).is_some_and(|f| f & 0x04 != 0)
    }

    /// Read the header at `addr`, every chunk of it.
    pub(crate) fn read(source: &Source, addr: u64) -> Result<Self> {
        const WHAT: &str = "object header";
        let head = source.read_up_to(WHAT, addr, 40)?.to_vec();
        let mut pending = Vec::new();
        let mut msgs = Vec::new();
        let (version, prefix, capacity) = if head.starts_with(b"OHDR") {
            let flags = *head.get(5).ok_or_else(|| bad(addr, "truncated prefix"))?;
            if head.get(4) != Some(&2) {
                return Err(bad(addr, "unknown OHDR version"));
            }
            let mut at = 6usize;
            if flags & 0x20 != 0 {
                at += 16;
            }
            if flags & 0x10 != 0 {
                at += 4;
            }
            let width = 1usize << (flags & 3);
            let mut size = [0u8; 8];
            size[..width].copy_from_slice(
                head.get(at..at + width)
                    .ok_or_else(|| bad(addr, "truncated prefix"))?,
            );
            at += width;
            let capacity = usize::try_from(u64::from_le_bytes(size))
                .map_err(|_| bad(addr, "chunk #0 size overflows"))?;
            let total = (at + capacity + 4) as u64;
            let block = source.read(WHAT, addr, total)?;
            verify(&block, addr)?;
            let body = &block[at..block.len() - 4];
            parse_v2(
                body,
                addr + at as u64,
                flags & 0x04 != 0,
                &mut msgs,
                &mut pending,
            )?;
            (2, block[..at].to_vec(), capacity)
        } else {
            if head.first() != Some(&1) || head.len() < 16 {
                return Err(bad(addr, "not a version 1 or 2 object header"));
            }
            let size = u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize;
            let block = source.read(WHAT, addr + 16, size as u64)?;
            parse_v1(&block, addr + 16, &mut msgs, &mut pending)?;
            (1, head[..16].to_vec(), size)
        };
        let tracked = version == 2 && prefix[5] & 0x04 != 0;
        let mut seen = HashSet::from([addr]);
        while let Some((at, len)) = pending.pop() {
            if !seen.insert(at) || seen.len() > MAX_CHUNKS {
                return Err(Error::Cycle {
                    what: "object header continuation",
                    offset: at,
                });
            }
            let block = source.read("object header continuation", at, len)?;
            if version == 2 {
                if !block.starts_with(b"OCHK") || block.len() < 8 {
                    return Err(bad(at, "continuation chunk without its OCHK signature"));
                }
                verify(&block, at)?;
                parse_v2(
                    &block[4..block.len() - 4],
                    at + 4,
                    tracked,
                    &mut msgs,
                    &mut pending,
                )?;
            } else {
                parse_v1(&block, at, &mut msgs, &mut pending)?;
            }
        }
        Ok(EditHeader {
            addr,
            version,
            prefix,
            capacity,
            msgs,
        })
    }

    /// Size of one message with its header in this header's version.
    fn msg_len(&self, body: usize) -> usize {
        match (self.version, self.tracked()) {
            (1, _) => 8 + align8(body),
            (_, true) => 6 + body,
            _ => 4 + body,
        }
    }

    /// Encode `msgs` as this header's new content: messages that do not fit chunk #0 are
    /// appended to `out` as one continuation chunk (not referenced until the returned
    /// chunk #0 bytes are written at [`EditHeader::addr`]).
    pub(crate) fn encode(&self, msgs: &[RawMsg], out: &mut Out) -> Result<Vec<u8>> {
        let mut msgs: Vec<RawMsg> = msgs.to_vec();
        if self.version == 1 {
            for m in &mut msgs {
                m.body.resize(align8(m.body.len()), 0);
            }
        }
        for m in &msgs {
            if m.body.len() > usize::from(u16::MAX) {
                return Err(usage(format!(
                    "header message of type {:#06x} is {} bytes, over the 64 KiB limit",
                    m.kind,
                    m.body.len()
                )));
            }
        }
        let total: usize = msgs.iter().map(|m| self.msg_len(m.body.len())).sum();
        let (first, rest): (Vec<RawMsg>, Vec<RawMsg>) = if total <= self.capacity {
            (msgs, Vec::new())
        } else {
            let cont = self.msg_len(CONT_BODY);
            if cont > self.capacity {
                return Err(Error::unsupported(
                    "edit",
                    format!(
                        "object header at {}: chunk #0 ({} bytes) cannot hold a continuation message",
                        self.addr, self.capacity
                    ),
                ));
            }
            let mut used = cont;
            let mut first = Vec::new();
            let mut rest = Vec::new();
            for m in msgs {
                let n = self.msg_len(m.body.len());
                if rest.is_empty() && used + n <= self.capacity {
                    used += n;
                    first.push(m);
                } else {
                    rest.push(m);
                }
            }
            let mut chunk = Vec::new();
            if self.version == 2 {
                chunk.extend_from_slice(b"OCHK");
            }
            for m in &rest {
                self.put_msg(&mut chunk, m);
            }
            if self.version == 2 {
                let sum = lookup3(&chunk, 0);
                chunk.put_u32(sum);
            }
            let at = out.append(&chunk)?;
            let mut body = Vec::with_capacity(CONT_BODY);
            body.put_u64(at);
            body.put_u64(chunk.len() as u64);
            first.push(RawMsg::new(msg::CONTINUATION, body));
            (first, rest)
        };
        let mut area = Vec::with_capacity(self.capacity);
        for m in &first {
            self.put_msg(&mut area, m);
        }
        let mut count = first.len() + rest.len();
        // Fill the rest of chunk #0 with NIL messages (a v2 remainder shorter than a message
        // header is a gap, which the format allows).
        loop {
            let left = self.capacity - area.len();
            let hdr = self.msg_len(0);
            if left < hdr {
                area.resize(self.capacity, 0);
                break;
            }
            let mut body = (left - hdr).min(usize::from(u16::MAX) & !7);
            if self.version == 1 {
                body &= !7;
            }
            self.put_msg(&mut area, &RawMsg::new(msg::NIL, vec![0; body]));
            count += 1;
        }
        let mut bytes = self.prefix.clone();
        if self.version == 1 {
            let n = u16::try_from(count).map_err(|_| usage("too many header messages"))?;
            bytes[2..4].copy_from_slice(&n.to_le_bytes());
        }
        bytes.extend_from_slice(&area);
        if self.version == 2 {
            let sum = lookup3(&bytes, 0);
            bytes.put_u32(sum);
        }
        Ok(bytes)
    }

    fn put_msg(&self, out: &mut Vec<u8>, m: &RawMsg) {
        if self.version == 1 {
            out.put_u16(m.kind);
            out.put_u16(m.body.len() as u16);
            out.put_u8(m.flags);
            out.extend_from_slice(&[0; 3]);
            out.extend_from_slice(&m.body);
            out.pad_to(8);
        } else {
            out.put_u8(m.kind as u8);
            out.put_u16(m.body.len() as u16);
            out.put_u8(m.flags);
            if self.tracked() {
                out.put_u16(m.order);
            }
            out.extend_from_slice(&m.body);
        }
    }
}

fn bad(addr: u64, what: &str) -> Error {
    Error::malformed("object header", addr, what.to_string())
}

fn verify(block: &[u8], addr: u64) -> Result<()> {
    let n = block.len() - 4;
    let stored = u32::from_le_bytes([block[n], block[n + 1], block[n + 2], block[n + 3]]);
    let computed = lookup3(&block[..n], 0);
    if stored != computed {
        return Err(Error::Checksum {
            what: "object header",
            offset: addr,
            stored,
            computed,
        });
    }
    Ok(())
}

fn keep(m: RawMsg, at: u64, msgs: &mut Vec<RawMsg>, pending: &mut Vec<(u64, u64)>) -> Result<()> {
    match m.kind {
        msg::NIL => {}
        msg::CONTINUATION => {
            let b = &m.body;
            if b.len() < CONT_BODY {
                return Err(bad(at, "short continuation message"));
            }
            let addr = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
            let len = u64::from_le_bytes(b[8..16].try_into().unwrap_or_default());
            pending.push((addr, len));
        }
        _ => {
            if msgs.len() >= MAX_MESSAGES {
                return Err(bad(at, "too many messages"));
            }
            msgs.push(m);
        }
    }
    Ok(())
}

fn parse_v1(
    block: &[u8],
    start: u64,
    msgs: &mut Vec<RawMsg>,
    pending: &mut Vec<(u64, u64)>,
) -> Result<()> {
    let mut at = 0usize;
    while block.len() - at >= 8 {
        let kind = u16::from_le_bytes([block[at], block[at + 1]]);
        let size = usize::from(u16::from_le_bytes([block[at + 2], block[at + 3]]));
        let flags = block[at + 4];
        let body = block
            .get(at + 8..at + 8 + size)
            .ok_or_else(|| bad(start + at as u64, "message past the end of its chunk"))?;
        let m = RawMsg {
            kind,
            flags,
            order: 0,
            body: body.to_vec(),
        };
        keep(m, start + at as u64, msgs, pending)?;
        at += 8 + size;
    }
    Ok(())
}

fn parse_v2(
    block: &[u8],
    start: u64,
    tracked: bool,
    msgs: &mut Vec<RawMsg>,
    pending: &mut Vec<(u64, u64)>,
) -> Result<()> {
    let hdr = if tracked { 6 } else { 4 };
    let mut at = 0usize;
    while block.len() - at >= hdr {
        let kind = u16::from(block[at]);
        let size = usize::from(u16::from_le_bytes([block[at + 1], block[at + 2]]));
        let flags = block[at + 3];
        let order = if tracked {
            u16::from_le_bytes([block[at + 4], block[at + 5]])
        } else {
            0
        };
        let body = block
            .get(at + hdr..at + hdr + size)
            .ok_or_else(|| bad(start + at as u64, "message past the end of its chunk"))?;
        let m = RawMsg {
            kind,
            flags,
            order,
            body: body.to_vec(),
        };
        keep(m, start + at as u64, msgs, pending)?;
        at += hdr + size;
    }
    Ok(())
}
