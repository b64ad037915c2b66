//! "New-style" groups (libhdf5 1.8+): link info (0x0002), group info (0x000A) and one link
//! message (0x0006) per member in the group's (version 2) object header. Used for groups
//! that track link creation order or hold external links, which symbol tables cannot
//! express.

use super::encode::{to_u16, Put, UNDEF};
use crate::error::Result;

/// What a link points to.
pub(crate) enum LinkValue<'a> {
    /// An object header address.
    Hard(u64),
    /// A path in the same file.
    Soft(&'a str),
    /// A path in another file.
    External { file: &'a str, path: &'a str },
}

/// Encode a link message (version 1); `order` = creation order when tracked.
pub(crate) fn message(name: &str, value: &LinkValue, order: Option<u64>) -> Result<Vec<u8>> {
    let n = name.len() as u64;
    let (width_flag, width) = match n {
        0..=0xFF => (0u8, 1usize),
        0x100..=0xFFFF => (1, 2),
        0x1_0000..=0xFFFF_FFFF => (2, 4),
        _ => (3, 8),
    };
    let kind = match value {
        LinkValue::Hard(_) => 0u8,
        LinkValue::Soft(_) => 1,
        LinkValue::External { .. } => 64,
    };
    let utf8 = !name.is_ascii();
    let mut flags = width_flag;
    if order.is_some() {
        flags |= 0x04;
    }
    if kind != 0 {
        flags |= 0x08;
    }
    if utf8 {
        flags |= 0x10;
    }
    let mut b = Vec::with_capacity(16 + name.len());
    b.put_u8(1);
    b.put_u8(flags);
    if kind != 0 {
        b.put_u8(kind);
    }
    if let Some(o) = order {
        b.put_u64(o);
    }
    if utf8 {
        b.put_u8(1);
    }
    b.extend_from_slice(&n.to_le_bytes()[..width]);
    b.extend_from_slice(name.as_bytes());
    match value {
        LinkValue::Hard(addr) => b.put_addr(*addr),
        LinkValue::Soft(target) => {
            b.put_u16(to_u16(target.len(), "soft link value length")?);
            b.extend_from_slice(target.as_bytes());
        }
        LinkValue::External { file, path } => {
            let len = 1 + file.len() + 1 + path.len() + 1;
            b.put_u16(to_u16(len, "external link value length")?);
            b.put_u8(0); // version 0, no flags
            b.extend_from_slice(file.as_bytes());
            b.put_u8(0);
            b.extend_from_slice(path.as_bytes());
            b.put_u8(0);
        }
    }
    Ok(b)
}

/// The link info message body (version 0) of a group with compact link storage.
pub(crate) fn link_info(tracked: bool, max_order: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(26);
    b.put_u8(0);
    b.put_u8(u8::from(tracked));
    if tracked {
        b.put_u64(max_order);
    }
    b.put_addr(UNDEF); // fractal heap
    b.put_addr(UNDEF); // name index
    b
}

/// The group info message body (version 0, default phase change values).
pub(crate) fn group_info() -> Vec<u8> {
    vec![0, 0]
}
