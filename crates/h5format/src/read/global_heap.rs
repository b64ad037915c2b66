//! Global heap collections (spec III.E): variable-length data.

use crate::cursor::{Cursor, Sizes};
use crate::error::{Error, Result};
use crate::fixed;
use crate::io::Source;
use binrw::BinRead;

/// A global heap collection, loaded whole.
#[derive(Debug, Clone)]
pub struct GlobalHeap {
    /// Address of the collection.
    pub address: u64,
    bytes: Vec<u8>,
    /// (index, start, len) of each object inside `bytes`.
    objects: Vec<(u16, usize, usize)>,
}

/// The global heap collection header (spec III.E, "A Global Heap Collection" table).
#[derive(BinRead)]
#[br(little, magic = b"GCOL", import(sizes: Sizes))]
#[allow(dead_code)] // fields mirror the spec's table; not every one is used
struct CollectionHeader {
    #[br(assert(version == 1, "unknown version {}", version))]
    version: u8,
    reserved: [u8; 3],
    #[br(parse_with = fixed::length, args(sizes))]
    collection_size: u64,
}

impl GlobalHeap {
    /// Read the collection at `address`.
    pub fn read(source: &Source, sizes: Sizes, address: u64) -> Result<Self> {
        const WHAT: &str = "global heap collection";
        let head_len = 8 + u64::from(sizes.length);
        let head = source.read(WHAT, address, head_len)?;
        let (h, _) = fixed::parse::<CollectionHeader>(&head, address, WHAT, (sizes,))?;
        let size = h.collection_size;
        if size < head_len {
            return Err(Error::malformed(
                WHAT,
                address,
                format!("collection size {size} too small"),
            ));
        }
        // A collection may be recorded larger than what remains of a truncated file.
        let bytes = source.read_up_to(WHAT, address, size)?.into_owned();
        let mut objects = Vec::new();
        let mut c = Cursor::new(&bytes, address, WHAT, sizes);
        c.skip(head_len as usize)?;
        // libhdf5 pads the collection header and each object header to 8 bytes (which
        // matters with lengths of fewer than 8 bytes).
        c.align(8)?;
        let obj_head = 8 + usize::from(sizes.length);
        while c.remaining() >= obj_head {
            let index = c.u16()?;
            let _refs = c.u16()?;
            c.skip(4)?;
            let len = c.length()?;
            c.align(8)?;
            if index == 0 {
                break; // free space: the rest of the collection
            }
            let start = c.pos();
            let len = usize::try_from(len).map_err(|_| c.err("object size overflows"))?;
            if len > c.remaining() {
                return Err(c.err(format!(
                    "object {index} of {len} bytes overruns the collection"
                )));
            }
            c.skip(len)?;
            c.align(8)?;
            objects.push((index, start, len));
        }
        Ok(GlobalHeap {
            address,
            bytes,
            objects,
        })
    }

    /// The object with heap index `index`.
    pub fn object(&self, index: u32) -> Result<&[u8]> {
        // Writers number objects 1, 2, … in storage order: try that slot before searching,
        // so reading every string of a collection is linear, not quadratic.
        let slot = usize::try_from(index).ok().and_then(|i| i.checked_sub(1));
        slot.and_then(|i| self.objects.get(i))
            .filter(|o| u32::from(o.0) == index)
            .or_else(|| self.objects.iter().find(|o| u32::from(o.0) == index))
            .map(|&(_, s, l)| &self.bytes[s..s + l])
            .ok_or_else(|| {
                Error::malformed(
                    "global heap collection",
                    self.address,
                    format!("no object with index {index}"),
                )
            })
    }
}
