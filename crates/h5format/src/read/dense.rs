//! Dense storage of links and attributes: a fractal heap holding the messages, indexed by
//! v2 B-trees (spec III.H) of names (record types 5 and 8) and, optionally, creation order
//! (types 6 and 9).
//!
//! Listing reads every record of the name index and fetches each heap ID from the heap, so
//! managed, tiny and huge objects are all found. A minimal reader of v2 B-tree records lives
//! through [`crate::read::btree2::all_records`].

use crate::cursor::{Cursor, Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::io::Source;
use crate::read::attribute::{AttributeInfo, AttributeMessage};
use crate::read::btree2::all_records;
use crate::read::fractal_heap::FractalHeap;
use crate::read::link::{Link, LinkInfo};
use crate::read::object_header::msg;
use crate::read::shared::SharedResolver;

/// The links of a dense group, in libhdf5's default order: creation order when the group
/// tracks it, otherwise by name (byte order).
pub fn dense_links(source: &Source, sizes: Sizes, info: &LinkInfo) -> Result<Vec<Link>> {
    let heap = FractalHeap::open(source, sizes, info.heap_address)?;
    let mut links = Vec::new();
    if info.name_index_address == UNDEF_ADDR {
        return Err(Error::malformed(
            "link info message",
            info.heap_address,
            "dense links without a name index",
        ));
    }
    for (_, rec) in all_records(source, sizes, info.name_index_address, 5)? {
        // Record type 5: name hash (4 bytes), then the heap ID.
        let id = rec.get(4..).unwrap_or(&[]);
        let bytes = heap.get(source, id)?;
        let mut c = Cursor::new(&bytes, heap.address, "link message", sizes);
        links.push(Link::parse(&mut c)?);
    }
    if info.creation_order_tracked {
        links.sort_by_key(|l| l.creation_order.unwrap_or(u64::MAX));
    } else {
        links.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    }
    Ok(links)
}

/// The attributes kept in dense storage, by creation order when it is tracked, otherwise by
/// name (byte order).
/// Attributes kept in the shared message heap are fetched through `shared`.
pub fn dense_attributes(
    source: &Source,
    sizes: Sizes,
    info: &AttributeInfo,
    shared: &dyn SharedResolver,
) -> Result<Vec<AttributeMessage>> {
    let heap = FractalHeap::open(source, sizes, info.heap_address)?;
    if info.name_index_address == UNDEF_ADDR {
        return Err(Error::malformed(
            "attribute info message",
            info.heap_address,
            "dense attributes without a name index",
        ));
    }
    let mut out = Vec::new();
    for (at, rec) in all_records(source, sizes, info.name_index_address, 8)? {
        // Record type 8: heap ID (8), message flags (1), creation order (4), name hash (4).
        let mut c = Cursor::new(&rec, at, "attribute name index record", sizes);
        let id = c.bytes(8)?;
        let flags = c.u8()?;
        let order = c.u32()?;
        let (at, bytes) = if flags & 0x02 != 0 {
            // The ID is one of the shared message heap, not of this heap.
            let mut sid = [0u8; 8];
            sid.copy_from_slice(id);
            shared.heap_message(msg::ATTRIBUTE, &sid)?
        } else {
            (heap.address, heap.get(source, id)?)
        };
        let mut c = Cursor::new(&bytes, at, "attribute message", sizes);
        out.push((order, AttributeMessage::parse_with(&mut c, shared)?));
    }
    if info.creation_order_tracked {
        out.sort_by_key(|(order, _)| *order);
    } else {
        out.sort_by(|(_, a), (_, b)| a.name.as_bytes().cmp(b.name.as_bytes()));
    }
    Ok(out.into_iter().map(|(_, a)| a).collect())
}
