//! Attribute messages (0x000C) and Attribute Info messages (0x0015).

use crate::cursor::Cursor;
use crate::error::Result;
use crate::read::dataspace::Dataspace;
use crate::read::object_header::msg;
use crate::read::shared::{self, NoSharedHeap, SharedRef, SharedResolver, TypeRef};

/// An attribute message, decoded up to its raw value bytes.
#[derive(Debug, Clone)]
pub struct AttributeMessage {
    /// Attribute name.
    pub name: String,
    /// The datatype (or a reference to a committed one).
    pub dtype: TypeRef,
    /// The datatype message bytes as stored (a shared-message reference when shared).
    pub dtype_raw: Vec<u8>,
    /// The shape.
    pub space: Dataspace,
    /// The raw value bytes (element size x number of elements).
    pub data: Vec<u8>,
    /// File offset of the message (for errors).
    pub offset: u64,
}

impl AttributeMessage {
    /// Parse the message body (a dataspace in the shared message heap is an error).
    pub fn parse(c: &mut Cursor<'_>) -> Result<Self> {
        Self::parse_with(c, &NoSharedHeap)
    }

    /// Parse the message body, taking a shared dataspace from the file's shared message
    /// heap through `shared`.
    pub fn parse_with(c: &mut Cursor<'_>, shared: &dyn SharedResolver) -> Result<Self> {
        let offset = c.offset();
        let version = c.u8()?;
        let flags = c.u8()?; // reserved in v1
        let name_len = usize::from(c.u16()?);
        let type_len = usize::from(c.u16()?);
        let space_len = usize::from(c.u16()?);
        if version == 3 {
            c.skip(1)?; // name charset
        }
        if !(1..=3).contains(&version) {
            return Err(c.err(format!("unknown attribute message version {version}")));
        }
        let pad = |n: usize| if version == 1 { (n + 7) & !7 } else { n };
        let name_bytes = c.bytes(pad(name_len))?;
        let name = name_bytes.get(..name_len).unwrap_or(name_bytes);
        let name = name.strip_suffix(&[0]).unwrap_or(name);
        let name = String::from_utf8_lossy(name).into_owned();
        let sizes = c.sizes();
        let type_at = c.offset();
        let type_bytes = c.bytes(pad(type_len))?;
        let dtype = shared::parse_type(type_bytes, type_at, flags & 1 != 0, sizes)?;
        let dtype_raw = type_bytes.get(..type_len).unwrap_or(type_bytes).to_vec();
        let space_at = c.offset();
        let space_bytes = c.bytes(pad(space_len))?;
        let space = if flags & 2 != 0 {
            let mut sc = Cursor::new(space_bytes, space_at, "dataspace message", sizes);
            match shared::parse_ref(&mut sc)? {
                SharedRef::Heap(id) => {
                    let (at, body) = shared.heap_message(msg::DATASPACE, &id)?;
                    Dataspace::parse(&mut Cursor::new(&body, at, "dataspace message", sizes))?
                }
                SharedRef::ObjectHeader(_) => {
                    return Err(c.err("dataspace shared in another object header"));
                }
            }
        } else {
            Dataspace::parse(&mut Cursor::new(
                space_bytes,
                space_at,
                "dataspace message",
                sizes,
            ))?
        };
        let data = c.rest().to_vec();
        Ok(AttributeMessage {
            name,
            dtype,
            dtype_raw,
            space,
            data,
            offset,
        })
    }
}

/// The Attribute Info message: where dense attribute storage lives.
#[derive(Debug, Clone, Copy)]
pub struct AttributeInfo {
    /// Fractal heap address (undefined when no dense storage).
    pub heap_address: u64,
    /// v2 B-tree of names (type 8).
    pub name_index_address: u64,
    /// v2 B-tree of creation order (type 9), if indexed.
    pub order_index_address: Option<u64>,
    /// Creation order tracked.
    pub creation_order_tracked: bool,
}

impl AttributeInfo {
    /// Parse the message body.
    pub fn parse(c: &mut Cursor<'_>) -> Result<Self> {
        let version = c.u8()?;
        if version != 0 {
            return Err(c.err(format!("unknown attribute info version {version}")));
        }
        let flags = c.u8()?;
        if flags & 1 != 0 {
            c.skip(2)?;
        }
        let heap_address = c.addr()?;
        let name_index_address = c.addr()?;
        let order_index_address = if flags & 2 != 0 {
            Some(c.addr()?)
        } else {
            None
        };
        Ok(AttributeInfo {
            heap_address,
            name_index_address,
            order_index_address,
            creation_order_tracked: flags & 1 != 0,
        })
    }
}
