//! Local heaps (spec III.D): the names of symbol-table groups.

use crate::cursor::{Cursor, Sizes};
use crate::error::{Error, Result};
use crate::io::Source;

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
        let mut c = Cursor::new(&head, address, WHAT, sizes);
        c.expect_signature(b"HEAP")?;
        let version = c.u8()?;
        if version != 0 {
            return Err(Error::malformed(
                WHAT,
                address,
                format!("unknown version {version}"),
            ));
        }
        c.skip(3)?;
        let size = c.length()?;
        let _free = c.length()?;
        let data_addr = c.addr()?;
        let data = source.read_vec("local heap data segment", data_addr, size)?;
        Ok(LocalHeap { address, data })
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
