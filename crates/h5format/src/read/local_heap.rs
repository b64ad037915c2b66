//! Local heaps (spec III.D): the names of symbol-table groups.

use crate::cursor::Sizes;
use crate::error::{Error, Result};
use crate::fixed;
use crate::io::Source;
use binrw::BinRead;

/// The local heap header (spec III.D, "Local Heap" table).
#[derive(BinRead)]
#[br(little, magic = b"HEAP", import(sizes: Sizes))]
#[allow(dead_code)] // fields mirror the spec's table; not every one is used
struct HeaderFields {
    #[br(assert(version == 0, "unknown version {}", version))]
    version: u8,
    reserved: [u8; 3],
    #[br(parse_with = fixed::length, args(sizes))]
    data_segment_size: u64,
    #[br(parse_with = fixed::length, args(sizes))]
    offset_to_head_of_free_list: u64,
    #[br(parse_with = fixed::addr, args(sizes))]
    data_segment_address: u64,
}

/// A local heap with its data segment loaded.
#[derive(Debug, Clone)]
pub struct LocalHeap {
    /// Address of the heap header.
    pub address: u64,
    /// The data segment.
    pub data: Vec<u8>,
}

impl LocalHeap {
    /// Read the heap whose header is at `address`.
    pub fn read(source: &Source, sizes: Sizes, address: u64) -> Result<Self> {
        const WHAT: &str = "local heap";
        let len = 8 + 2 * u64::from(sizes.length) + u64::from(sizes.offset);
        let head = source.read(WHAT, address, len)?;
        let (h, _) = fixed::parse::<HeaderFields>(&head, address, WHAT, (sizes,))?;
        let (size, data_addr) = (h.data_segment_size, h.data_segment_address);
        let data = source.read_vec("local heap data segment", data_addr, size)?;
        Ok(LocalHeap { address, data })
    }

    /// The header's size and its data segment's (address, size), without reading the
    /// segment: the regions the heap occupies.
    pub fn extent(source: &Source, sizes: Sizes, address: u64) -> Result<(u64, (u64, u64))> {
        const WHAT: &str = "local heap";
        let len = 8 + 2 * u64::from(sizes.length) + u64::from(sizes.offset);
        let head = source.read(WHAT, address, len)?;
        let (h, _) = fixed::parse::<HeaderFields>(&head, address, WHAT, (sizes,))?;
        Ok((len, (h.data_segment_address, h.data_segment_size)))
    }

    /// The NUL-terminated string at `offset` in the data segment.
    pub fn string(&self, offset: u64) -> Result<&[u8]> {
        let bad = || {
            Error::malformed(
                "local heap",
                self.address,
                format!("string offset {offset} out of range"),
            )
        };
        let start = usize::try_from(offset).map_err(|_| bad())?;
        let rest = self.data.get(start..).ok_or_else(bad)?;
        let n = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        Ok(&rest[..n])
    }
}
