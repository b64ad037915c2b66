//! The few fields of header messages the editor reads or changes: attribute and link names,
//! and the creation-order counters and dense-storage addresses of the attribute info
//! (0x0015) and link info (0x0002) messages.

use super::header::RawMsg;
use crate::cursor::{Cursor, Sizes};
use crate::error::{Error, Result};
use crate::read::link::Link;

/// The widths of the file being edited.
fn sizes() -> Sizes {
    let w = super::super::encode::Widths::current();
    Sizes {
        offset: w.offset,
        length: w.length,
    }
}

/// The name of an attribute message (versions 1 to 3); `None` for a shared message, whose
/// body is a reference to the real one.
pub(crate) fn attribute_name(m: &RawMsg) -> Result<Option<String>> {
    if m.flags & crate::read::object_header::FLAG_SHARED != 0 {
        return Ok(None);
    }
    let b = &m.body;
    let bad = || Error::malformed("attribute message", 0, "truncated name");
    let size = usize::from(u16::from_le_bytes([
        *b.get(2).ok_or_else(bad)?,
        *b.get(3).ok_or_else(bad)?,
    ]));
    let start = match b.first() {
        Some(1) | Some(2) => 8,
        Some(3) => 9,
        _ => return Err(Error::malformed("attribute message", 0, "unknown version")),
    };
    let raw = b.get(start..start + size).ok_or_else(bad)?;
    let end = raw.iter().position(|&c| c == 0).unwrap_or(raw.len());
    Ok(Some(String::from_utf8_lossy(&raw[..end]).into_owned()))
}

/// The name of a link message.
pub(crate) fn link_name(m: &RawMsg) -> Result<String> {
    let mut c = Cursor::new(&m.body, 0, "link message", sizes());
    Ok(Link::parse(&mut c)?.name)
}

/// The (B-tree, local heap) addresses of a symbol table message.
pub(crate) fn stab(m: &RawMsg) -> Result<(u64, u64)> {
    let mut c = Cursor::new(&m.body, 0, "symbol table message", sizes());
    Ok((c.addr()?, c.addr()?))
}

/// An attribute info or link info message: flags, creation-order counter, and whether
/// the attributes or links are in dense storage (a fractal heap).
pub(crate) struct Info {
    /// Flags: bit 0 creation order tracked, bit 1 indexed.
    pub flags: u8,
    /// Next creation order (when tracked).
    pub next_order: Option<u64>,
    /// Dense storage in use.
    pub dense: bool,
    /// Width of the counter: 2 bytes (attribute info) or 8 (link info).
    width: usize,
}

impl Info {
    /// Parse an attribute info message.
    pub(crate) fn attribute(m: &RawMsg) -> Result<Self> {
        Self::parse(m, 2, "attribute info message")
    }

    /// Parse a link info message.
    pub(crate) fn link(m: &RawMsg) -> Result<Self> {
        Self::parse(m, 8, "link info message")
    }

    fn parse(m: &RawMsg, width: usize, what: &'static str) -> Result<Self> {
        let mut c = Cursor::new(&m.body, 0, what, sizes());
        let _version = c.u8()?;
        let flags = c.u8()?;
        let next_order = if flags & 1 != 0 {
            Some(if width == 2 {
                u64::from(c.u16()?)
            } else {
                c.u64()?
            })
        } else {
            None
        };
        let heap = c.addr()?;
        Ok(Info {
            flags,
            next_order,
            dense: heap != u64::MAX,
            width,
        })
    }

    /// Point the message at no dense storage (fractal heap, name index and creation-order
    /// index undefined): the links or attributes are header messages again.
    pub(crate) fn make_compact(&self, m: &mut RawMsg) -> Result<()> {
        let start = 2 + if self.flags & 1 != 0 { self.width } else { 0 };
        let n = if self.flags & 2 != 0 { 3 } else { 2 };
        let o = usize::from(sizes().offset);
        let dst = m
            .body
            .get_mut(start..start + o * n)
            .ok_or_else(|| Error::malformed("info message", 0, "truncated"))?;
        dst.fill(0xFF);
        Ok(())
    }

    /// Store a new creation-order counter in the message body.
    pub(crate) fn set_next_order(&self, m: &mut RawMsg, next: u64) -> Result<()> {
        if self.flags & 1 == 0 {
            return Ok(());
        }
        let dst = m
            .body
            .get_mut(2..2 + self.width)
            .ok_or_else(|| Error::malformed("info message", 0, "truncated"))?;
        if self.width == 2 {
            let v = u16::try_from(next)
                .map_err(|_| Error::Usage("attribute creation order over 65535".into()))?;
            dst.copy_from_slice(&v.to_le_bytes());
        } else {
            dst.copy_from_slice(&next.to_le_bytes());
        }
        Ok(())
    }
}

/// An attribute message (version 1, as the writer encodes them) from its parts: the
/// datatype and dataspace message bodies and the raw value bytes.
pub(crate) use super::super::attribute::encode_message as attribute_message;
