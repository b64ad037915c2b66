//! Link messages (0x0006) and Link Info messages (0x0002): new-style groups.

use crate::cursor::{Cursor, UNDEF_ADDR};
use crate::error::Result;

/// Where a link points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTarget {
    /// A hard link: the object header address.
    Hard(u64),
    /// A soft link: a path in the same file.
    Soft(String),
    /// An external link: file name and path inside it.
    External {
        /// The other file's name.
        file: String,
        /// The path inside it.
        path: String,
    },
    /// A user-defined link type, not followed.
    UserDefined(u8),
}

/// A link: a name and a target.
#[derive(Debug, Clone)]
pub struct Link {
    /// Link name.
    pub name: String,
    /// The target.
    pub target: LinkTarget,
    /// Creation order, when tracked.
    pub creation_order: Option<u64>,
}

impl Link {
    /// Parse a link message body (also the records stored in dense groups' fractal heaps).
    pub fn parse(c: &mut Cursor<'_>) -> Result<Self> {
        let version = c.u8()?;
        if version != 1 {
            return Err(c.err(format!("unknown link message version {version}")));
        }
        let flags = c.u8()?;
        let link_type = if flags & 0x08 != 0 { c.u8()? } else { 0 };
        let creation_order = if flags & 0x04 != 0 {
            Some(c.u64()?)
        } else {
            None
        };
        if flags & 0x10 != 0 {
            c.skip(1)?; // charset: ASCII or UTF-8, both decoded as UTF-8
        }
        let name_len = c.uint(1 << (flags & 3))?;
        let name_len = usize::try_from(name_len).map_err(|_| c.err("link name too long"))?;
        let name = String::from_utf8_lossy(c.bytes(name_len)?).into_owned();
        let target = match link_type {
            0 => LinkTarget::Hard(c.addr()?),
            1 => {
                let n = usize::from(c.u16()?);
                LinkTarget::Soft(String::from_utf8_lossy(c.bytes(n)?).into_owned())
            }
            64 => {
                let n = usize::from(c.u16()?);
                let info = c.bytes(n)?;
                // version/flags byte, then two NUL-terminated strings.
                let mut parts = info.get(1..).unwrap_or(&[]).split(|&b| b == 0);
                let file = String::from_utf8_lossy(parts.next().unwrap_or(&[])).into_owned();
                let path = String::from_utf8_lossy(parts.next().unwrap_or(&[])).into_owned();
                LinkTarget::External { file, path }
            }
            t => {
                let n = usize::from(c.u16()?);
                c.skip(n)?;
                LinkTarget::UserDefined(t)
            }
        };
        Ok(Link {
            name,
            target,
            creation_order,
        })
    }
}

/// The Link Info message: where a dense group keeps its links.
#[derive(Debug, Clone, Copy)]
pub struct LinkInfo {
    /// Creation order tracked (flag bit 0).
    pub creation_order_tracked: bool,
    /// Creation order indexed (flag bit 1).
    pub creation_order_indexed: bool,
    /// Fractal heap address (undefined when links are compact).
    pub heap_address: u64,
    /// v2 B-tree of names (type 5).
    pub name_index_address: u64,
    /// v2 B-tree of creation order (type 6), if indexed.
    pub order_index_address: Option<u64>,
}

impl LinkInfo {
    /// Parse the message body.
    pub fn parse(c: &mut Cursor<'_>) -> Result<Self> {
        let version = c.u8()?;
        if version != 0 {
            return Err(c.err(format!("unknown link info version {version}")));
        }
        let flags = c.u8()?;
        if flags & 1 != 0 {
            c.skip(8)?; // maximum creation index
        }
        let heap_address = c.addr()?;
        let name_index_address = c.addr()?;
        let order_index_address = if flags & 2 != 0 {
            Some(c.addr()?)
        } else {
            None
        };
        Ok(LinkInfo {
            creation_order_tracked: flags & 1 != 0,
            creation_order_indexed: flags & 2 != 0,
            heap_address,
            name_index_address,
            order_index_address,
        })
    }

    /// Whether the links live in a fractal heap (dense storage).
    pub fn is_dense(&self) -> bool {
        self.heap_address != UNDEF_ADDR
    }
}
