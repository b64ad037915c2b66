//! Object headers as the editor sees them: every chunk's raw messages (spec III.C), and
//! the re-encoding of a changed message list into the header's first chunk.
//!
//! An edit is committed by rewriting one chunk in place, with the same size:
//! - when every removed or replaced message lies in one chunk and that chunk has room for
//!   the new ones, that chunk (a version 1 continuation chunk only if its message count can
//!   stay the same, as the count is kept in chunk #0's prefix);
//! - otherwise chunk #0 — its size is in the prefix and every link points to its address —
//!   with the messages laid out again, those that do not fit moved to one new continuation
//!   chunk written past the end of the file beforehand, with half its size again of NIL
//!   space for later additions (so that a run of additions appends a geometric series, not
//!   the whole header each time). The old continuation chunks are no longer referenced.
//!
//! The rewritten chunk (messages, NIL filler, the v1 count or the v2 checksum) is the single
//! write that commits an edit.

use std::collections::{HashMap, HashSet};

use super::super::encode::{align8, usage, Put, Widths};
use super::super::sink::Out;
use crate::checksum::lookup3;
use crate::error::{Error, Result};
use crate::io::Source;
use crate::read::object_header::msg;

/// Upper bound on the continuation chunks of a header we edit.
const MAX_CHUNKS: usize = 4096;
/// Upper bound on the messages of a header we edit.
const MAX_MESSAGES: usize = 1 << 16;
/// Body of a continuation message: an address and a length, in the file's widths.
fn cont_body() -> usize {
    let w = Widths::current();
    w.o() + w.l()
}

/// One header message, raw (NIL and continuation messages are not kept).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
    /// The chunk holding each message of `msgs`.
    homes: Vec<usize>,
    /// Every chunk: where its messages are, its continuation messages, its message count.
    chunks: Vec<Chunk>,
}

/// One chunk of a header.
#[derive(Debug, Clone)]
struct Chunk {
    /// Address of the chunk (chunk #0: of the header prefix; others: of the chunk, "OCHK"
    /// included).
    addr: u64,
    /// Size of its message area.
    size: usize,
    /// Length on disk as its continuation message records it (chunk #0: 0).
    len: u64,
    /// The continuation messages it holds.
    conts: Vec<RawMsg>,
    /// Number of messages in it, NIL and continuation messages included (for the v1 count).
    count: usize,
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
        let mut p = Parsed::default();
        let mut chunks = Vec::new();
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
            parse_v2(body, addr + at as u64, flags & 0x04 != 0, 0, &mut p)?;
            (2, block[..at].to_vec(), capacity)
        } else {
            if head.first() != Some(&1) || head.len() < 16 {
                return Err(bad(addr, "not a version 1 or 2 object header"));
            }
            let size = u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize;
            let block = source.read(WHAT, addr + 16, size as u64)?;
            parse_v1(&block, addr + 16, 0, &mut p)?;
            (1, head[..16].to_vec(), size)
        };
        chunks.push(Chunk {
            addr,
            size: capacity,
            len: 0,
            conts: std::mem::take(&mut p.conts),
            count: std::mem::take(&mut p.count),
        });
        let tracked = version == 2 && prefix[5] & 0x04 != 0;
        let mut seen = HashSet::from([addr]);
        while let Some((at, len)) = p.pending.pop() {
            if !seen.insert(at) || seen.len() > MAX_CHUNKS {
                return Err(Error::Cycle {
                    what: "object header continuation",
                    offset: at,
                });
            }
            let block = source.read("object header continuation", at, len)?;
            let i = chunks.len();
            let size = if version == 2 {
                if !block.starts_with(b"OCHK") || block.len() < 8 {
                    return Err(bad(at, "continuation chunk without its OCHK signature"));
                }
                verify(&block, at)?;
                parse_v2(&block[4..block.len() - 4], at + 4, tracked, i, &mut p)?;
                block.len() - 8
            } else {
                parse_v1(&block, at, i, &mut p)?;
                block.len()
            };
            chunks.push(Chunk {
                addr: at,
                size,
                len,
                conts: std::mem::take(&mut p.conts),
                count: std::mem::take(&mut p.count),
            });
        }
        Ok(EditHeader {
            addr,
            version,
            prefix,
            capacity,
            msgs: p.msgs,
            homes: p.homes,
            chunks,
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

    /// The continuation chunks (address, length), which a relocating commit frees.
    pub(crate) fn continuations(&self) -> Vec<(u64, u64)> {
        self.chunks
            .iter()
            .skip(1)
            .map(|c| (c.addr, c.len))
            .collect()
    }

    /// Every chunk of the header (address, length; chunk #0 with its prefix, and its
    /// checksum in version 2): what a freed region must not overlap.
    pub(crate) fn extents(&self) -> Vec<(u64, u64)> {
        let checksum = if self.version == 2 { 4 } else { 0 };
        let first = (self.prefix.len() + self.capacity + checksum) as u64;
        std::iter::once((self.addr, first))
            .chain(self.continuations())
            .collect()
    }

    /// Encode `msgs` as this header's new content; returns the one write that commits it
    /// (address, bytes) and whether the old continuation chunks are left unreferenced by it.
    /// When the change lies within one chunk and fits there, that chunk is rewritten in
    /// place; otherwise chunk #0 is, and the messages that do not fit it move to one new
    /// continuation chunk allocated from `out` (with room for later additions).
    pub(crate) fn encode(&self, msgs: &[RawMsg], out: &mut Out) -> Result<(u64, Vec<u8>, bool)> {
        let mut msgs: Vec<RawMsg> = msgs.to_vec();
        if self.version == 1 {
            for m in &mut msgs {
                m.body.resize(align8(m.body.len()), 0);
            }
        }
        for m in &msgs {
            if m.body.len() > usize::from(u16::MAX) - 8 {
                return Err(usage(format!(
                    "header message of type {:#06x} is {} bytes, over the 64 KiB limit",
                    m.kind,
                    m.body.len()
                )));
            }
        }
        if let Some((at, bytes)) = self.in_place(&msgs)? {
            return Ok((at, bytes, false));
        }
        self.relocate(msgs, out).map(|b| (self.addr, b, true))
    }

    /// The single-chunk rewrite, if the change allows one.
    fn in_place(&self, new: &[RawMsg]) -> Result<Option<(u64, Vec<u8>)>> {
        let mut index: HashMap<&RawMsg, Vec<usize>> = HashMap::new();
        for (i, m) in self.msgs.iter().enumerate().rev() {
            index.entry(m).or_default().push(i);
        }
        let mut used = vec![false; self.msgs.len()];
        let mut added = Vec::new();
        for m in new {
            match index.get_mut(m).and_then(Vec::pop) {
                Some(i) => used[i] = true,
                None => added.push(m),
            }
        }
        let touched: HashSet<usize> = (0..self.msgs.len())
            .filter(|&i| !used[i])
            .map(|i| self.homes[i])
            .collect();
        let candidates: Vec<usize> = match touched.len() {
            0 => (0..self.chunks.len()).collect(),
            1 => touched.into_iter().collect(),
            _ => return Ok(None),
        };
        for k in candidates {
            let chunk = &self.chunks[k];
            let mut content: Vec<&RawMsg> = chunk.conts.iter().collect();
            content.extend(
                (0..self.msgs.len())
                    .filter(|&i| used[i] && self.homes[i] == k)
                    .map(|i| &self.msgs[i]),
            );
            content.extend(added.iter().copied());
            let need: usize = content.iter().map(|m| self.msg_len(m.body.len())).sum();
            if need > chunk.size {
                continue;
            }
            let mut area = Vec::with_capacity(chunk.size);
            for m in &content {
                self.put_msg(&mut area, m);
            }
            let count = if self.version == 1 && k != 0 {
                // The message count lives in chunk #0: keep this chunk's count.
                let left = chunk.size - need;
                let Some(fill) = chunk.count.checked_sub(content.len()) else {
                    continue;
                };
                let fits = if left == 0 {
                    fill == 0
                } else {
                    fill >= 1
                        && left.is_multiple_of(8)
                        && left >= 8 * fill
                        && left - 8 * fill <= 0xFFF8
                };
                if !fits {
                    continue;
                }
                for i in 0..fill {
                    let body = if i + 1 == fill { left - 8 * fill } else { 0 };
                    self.put_msg(&mut area, &RawMsg::new(msg::NIL, vec![0; body]));
                }
                chunk.count
            } else {
                content.len() + self.fill(&mut area, chunk.size)
            };
            let bytes = if k == 0 {
                let total =
                    self.chunks.iter().map(|c| c.count).sum::<usize>() - chunk.count + count;
                self.chunk0(total, &area)?
            } else if self.version == 2 {
                let mut b = b"OCHK".to_vec();
                b.extend_from_slice(&area);
                let sum = lookup3(&b, 0);
                b.put_u32(sum);
                b
            } else {
                area
            };
            return Ok(Some((chunk.addr, bytes)));
        }
        Ok(None)
    }

    /// Fill `area` up to `size` with NIL messages (a v2 remainder shorter than a message
    /// header is a gap, which the format allows); returns how many were added.
    fn fill(&self, area: &mut Vec<u8>, size: usize) -> usize {
        let mut n = 0;
        loop {
            let left = size - area.len();
            let hdr = self.msg_len(0);
            if left < hdr {
                area.resize(size, 0);
                return n;
            }
            let mut body = (left - hdr).min(usize::from(u16::MAX) & !7);
            if self.version == 1 {
                body &= !7;
            }
            self.put_msg(area, &RawMsg::new(msg::NIL, vec![0; body]));
            n += 1;
        }
    }

    /// Chunk #0 with its prefix (v1: the total message count `count`; v2: the checksum).
    fn chunk0(&self, count: usize, area: &[u8]) -> Result<Vec<u8>> {
        let mut bytes = self.prefix.clone();
        if self.version == 1 {
            let n = u16::try_from(count).map_err(|_| usage("too many header messages"))?;
            bytes[2..4].copy_from_slice(&n.to_le_bytes());
        }
        bytes.extend_from_slice(area);
        if self.version == 2 {
            let sum = lookup3(&bytes, 0);
            bytes.put_u32(sum);
        }
        Ok(bytes)
    }

    /// Lay every message out again: chunk #0 first, the rest in one new continuation chunk
    /// with half its size again as room for later in-place additions; returns chunk #0.
    fn relocate(&self, msgs: Vec<RawMsg>, out: &mut Out) -> Result<Vec<u8>> {
        let total: usize = msgs.iter().map(|m| self.msg_len(m.body.len())).sum();
        let (first, nrest) = if total <= self.capacity {
            (msgs, 0)
        } else {
            let cont = self.msg_len(cont_body());
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
            let mut area = Vec::new();
            for m in &rest {
                self.put_msg(&mut area, m);
            }
            let mut count = rest.len();
            // Room for later additions: v1 as NIL messages of 32 bytes (an addition then
            // takes one NIL's place, keeping the chunk's message count); v2 as NIL space.
            let slack = (area.len() / 2).max(256).div_ceil(32) * 32;
            if self.version == 1 {
                for _ in 0..slack / 32 {
                    self.put_msg(&mut area, &RawMsg::new(msg::NIL, vec![0; 24]));
                    count += 1;
                }
            } else {
                let size = area.len() + slack;
                count += self.fill(&mut area, size);
            }
            let mut chunk = Vec::new();
            if self.version == 2 {
                chunk.extend_from_slice(b"OCHK");
            }
            chunk.extend_from_slice(&area);
            if self.version == 2 {
                let sum = lookup3(&chunk, 0);
                chunk.put_u32(sum);
            }
            let at = out.append(&chunk)?;
            let mut body = Vec::with_capacity(cont_body());
            body.put_addr(at);
            body.put_len(chunk.len() as u64);
            if self.version == 1 {
                // Version 1 message sizes are multiples of 8 (a 2-byte-offset body is 10).
                body.resize(align8(body.len()), 0);
            }
            first.push(RawMsg::new(msg::CONTINUATION, body));
            (first, count)
        };
        let mut area = Vec::with_capacity(self.capacity);
        for m in &first {
            self.put_msg(&mut area, m);
        }
        let count = first.len() + nrest + self.fill(&mut area, self.capacity);
        self.chunk0(count, &area)
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

/// What parsing collects: messages with their chunk, continuation messages, counts.
#[derive(Default)]
struct Parsed {
    msgs: Vec<RawMsg>,
    homes: Vec<usize>,
    conts: Vec<RawMsg>,
    count: usize,
    /// Chunks still to read: (address, length).
    pending: Vec<(u64, u64)>,
}

fn keep(m: RawMsg, at: u64, chunk: usize, p: &mut Parsed) -> Result<()> {
    p.count += 1;
    match m.kind {
        msg::NIL => {}
        msg::CONTINUATION => {
            let w = Widths::current();
            let sizes = crate::cursor::Sizes {
                offset: w.offset,
                length: w.length,
            };
            let mut c = crate::cursor::Cursor::new(&m.body, at, "continuation message", sizes);
            let addr = c.addr()?;
            let len = c.length()?;
            p.pending.push((addr, len));
            p.conts.push(m);
        }
        _ => {
            if p.msgs.len() >= MAX_MESSAGES {
                return Err(bad(at, "too many messages"));
            }
            p.msgs.push(m);
            p.homes.push(chunk);
        }
    }
    Ok(())
}

fn parse_v1(block: &[u8], start: u64, chunk: usize, p: &mut Parsed) -> Result<()> {
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
        keep(m, start + at as u64, chunk, p)?;
        at += 8 + size;
    }
    Ok(())
}

fn parse_v2(block: &[u8], start: u64, tracked: bool, chunk: usize, p: &mut Parsed) -> Result<()> {
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
        keep(m, start + at as u64, chunk, p)?;
        at += hdr + size;
    }
    Ok(())
}
