//! Old-style groups (spec III.C, IV.A.2.r): symbol table entries, symbol table nodes ("SNOD")
//! and the group's v1 B-tree of type 0.

use std::collections::HashSet;

use crate::cursor::{Cursor, Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::io::Source;
use crate::read::btree1;
use crate::read::local_heap::LocalHeap;

/// A symbol table entry: one member of an old-style group.
#[derive(Debug, Clone)]
pub struct SymbolTableEntry {
    /// Offset of the name in the group's local heap.
    pub name_offset: u64,
    /// Address of the object header.
    pub header_address: u64,
    /// Cache type: 0 none, 1 group (B-tree and heap cached), 2 soft link.
    pub cache_type: u32,
    /// The 16-byte scratch pad.
    pub scratch: [u8; 16],
}

impl SymbolTableEntry {
    /// Parse one entry.
    pub fn parse(c: &mut Cursor<'_>) -> Result<Self> {
        // libhdf5 encodes the name offset with the width of lengths.
        let name_offset = c.length()?;
        let header_address = c.addr()?;
        let cache_type = c.u32()?;
        c.skip(4)?;
        let mut scratch = [0u8; 16];
        scratch.copy_from_slice(c.bytes(16)?);
        Ok(SymbolTableEntry {
            name_offset,
            header_address,
            cache_type,
            scratch,
        })
    }

    /// For a soft link (cache type 2): the heap offset of the link value.
    pub fn soft_link_offset(&self) -> Option<u64> {
        (self.cache_type == 2).then(|| {
            u64::from(u32::from_le_bytes([
                self.scratch[0],
                self.scratch[1],
                self.scratch[2],
                self.scratch[3],
            ]))
        })
    }
}

/// The Symbol Table message: where a group's B-tree and local heap are.
#[derive(Debug, Clone, Copy)]
pub struct SymbolTableMessage {
    /// Address of the v1 B-tree (type 0).
    pub btree_address: u64,
    /// Address of the local heap holding member names.
    pub heap_address: u64,
}

impl SymbolTableMessage {
    /// Parse the message body.
    pub fn parse(c: &mut Cursor<'_>) -> Result<Self> {
        Ok(SymbolTableMessage {
            btree_address: c.addr()?,
            heap_address: c.addr()?,
        })
    }
}

/// A member of an old-style group, resolved.
#[derive(Debug, Clone)]
pub struct Member {
    /// Member name (raw bytes; UTF-8 in practice).
    pub name: Vec<u8>,
    /// Object header address, or the soft link target.
    pub entry: SymbolTableEntry,
    /// Soft link value, when the entry is a soft link.
    pub soft_target: Option<Vec<u8>>,
}

/// List every member of an old-style group, in the B-tree's (name) order.
pub fn members(source: &Source, sizes: Sizes, stm: SymbolTableMessage) -> Result<Vec<Member>> {
    let heap = LocalHeap::read(source, sizes, stm.heap_address)?;
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    walk(
        source,
        sizes,
        stm.btree_address,
        &heap,
        &mut out,
        &mut seen,
        btree1::MAX_DEPTH,
    )?;
    Ok(out)
}

fn walk(
    source: &Source,
    sizes: Sizes,
    addr: u64,
    heap: &LocalHeap,
    out: &mut Vec<Member>,
    seen: &mut HashSet<u64>,
    depth_left: u8,
) -> Result<()> {
    if addr == UNDEF_ADDR {
        return Ok(());
    }
    if !seen.insert(addr) {
        return Err(Error::Cycle {
            what: "group B-tree",
            offset: addr,
        });
    }
    if depth_left == 0 {
        return Err(Error::malformed("v1 B-tree node", addr, "tree too deep"));
    }
    let node = btree1::Node::read(source, sizes, addr, usize::from(sizes.length), 0)?;
    if node.level > 0 {
        for &child in &node.children {
            walk(source, sizes, child, heap, out, seen, depth_left - 1)?;
        }
        return Ok(());
    }
    for &snod in &node.children {
        if !seen.insert(snod) {
            return Err(Error::Cycle {
                what: "symbol table node",
                offset: snod,
            });
        }
        read_snod(source, sizes, snod, heap, out)?;
    }
    Ok(())
}

/// Bytes of one symbol table entry (libhdf5 encodes the name offset as a length).
pub(crate) fn entry_len(sizes: Sizes) -> u64 {
    24 + u64::from(sizes.offset) + u64::from(sizes.length)
}

/// The number of entries a symbol table node at `addr` holds, from its header (signature
/// and version checked).
pub(crate) fn snod_entries(source: &Source, sizes: Sizes, addr: u64) -> Result<u64> {
    const WHAT: &str = "symbol table node";
    let head = source.read(WHAT, addr, 8)?;
    let mut c = Cursor::new(&head, addr, WHAT, sizes);
    c.expect_signature(b"SNOD")?;
    let version = c.u8()?;
    if version != 1 {
        return Err(Error::malformed(
            WHAT,
            addr,
            format!("unknown version {version}"),
        ));
    }
    c.skip(1)?;
    Ok(u64::from(c.u16()?))
}

fn read_snod(
    source: &Source,
    sizes: Sizes,
    addr: u64,
    heap: &LocalHeap,
    out: &mut Vec<Member>,
) -> Result<()> {
    const WHAT: &str = "symbol table node";
    let n = snod_entries(source, sizes, addr)?;
    let entry_len = entry_len(sizes);
    let body = source.read(WHAT, addr + 8, n * entry_len)?;
    let mut c = Cursor::new(&body, addr + 8, WHAT, sizes);
    for _ in 0..n {
        let entry = SymbolTableEntry::parse(&mut c)?;
        let name = heap.string(entry.name_offset)?.to_vec();
        let soft_target = match entry.soft_link_offset() {
            Some(off) => Some(heap.string(off)?.to_vec()),
            None => None,
        };
        out.push(Member {
            name,
            entry,
            soft_target,
        });
    }
    Ok(())
}
