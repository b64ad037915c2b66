//! Groups as symbol tables: a local heap of names, symbol table nodes ("SNOD") of up to
//! 2 × leaf-K entries, and a v1 B-tree over the nodes.

use super::btree::{self, TreeKind};
use super::encode::{to_u32, Put, Widths};
use super::sink::Out;
use crate::error::Result;

/// Group leaf node K written in the superblock (a node holds up to 2K entries).
pub(crate) const LEAF_K: u16 = 4;
/// Group internal node K written in the superblock.
pub(crate) const INTERNAL_K: u16 = 16;
/// Local heap "no free block" marker, as libhdf5 encodes it.
const FREE_NULL: u64 = 1;

/// One member of a group.
pub(crate) struct Member {
    /// Link name.
    pub name: String,
    /// Address of the member's object header.
    pub header: u64,
    /// For a member group: its (B-tree, local heap) addresses, cached in the entry.
    pub stab: Option<(u64, u64)>,
    /// For a soft link: the target path (then `header` is unused).
    pub soft: Option<String>,
}

/// Size of a symbol table entry: name offset (a length), header address, cache type,
/// reserved, 16-byte scratch pad (40 bytes with 8-byte offsets and lengths).
fn entry_size() -> usize {
    let w = Widths::current();
    w.l() + w.o() + 24
}

/// Encode a symbol table entry.
pub(crate) fn entry(out: &mut Vec<u8>, name_offset: u64, header: u64, stab: Option<(u64, u64)>) {
    let start = out.len();
    out.put_len(name_offset);
    out.put_addr(header);
    match stab {
        Some((tree, heap)) => {
            out.put_u32(1);
            out.put_u32(0);
            out.put_addr(tree);
            out.put_addr(heap);
        }
        None => {
            out.put_u32(0);
            out.put_u32(0);
        }
    }
    out.resize(start + entry_size(), 0);
}

/// Encode the symbol table entry of a soft link: no object header, cache type 2, and the
/// offset of the link value in the group's local heap in the scratch pad.
fn soft_entry(out: &mut Vec<u8>, name_offset: u64, value_offset: u32) {
    let start = out.len();
    out.put_len(name_offset);
    out.put_addr(u64::MAX);
    out.put_u32(2);
    out.put_u32(0);
    out.put_u32(value_offset);
    out.resize(start + entry_size(), 0);
}

/// Write the symbol table of a group whose members are sorted by name; returns the
/// (B-tree, local heap) addresses for the symbol table message.
pub(crate) fn write(out: &mut Out, members: &[Member]) -> Result<(u64, u64)> {
    // Local heap data: the empty string at offset 0, then every name, 8-byte aligned.
    let mut data = vec![0u8; 8];
    let mut offsets = Vec::with_capacity(members.len());
    let mut soft_offsets = Vec::with_capacity(members.len());
    for m in members {
        offsets.push(data.len() as u64);
        data.extend_from_slice(m.name.as_bytes());
        data.put_u8(0);
        data.pad_to(8);
    }
    // Soft link values follow the names (the entry's scratch pad holds their offset).
    for m in members {
        soft_offsets.push(match &m.soft {
            Some(target) => {
                let at = data.len() as u64;
                data.extend_from_slice(target.as_bytes());
                data.put_u8(0);
                data.pad_to(8);
                Some(to_u32(at, "soft link value offset")?)
            }
            None => None,
        });
    }
    let mut heap = Vec::with_capacity(32 + data.len());
    heap.extend_from_slice(b"HEAP");
    heap.put_u8(0);
    heap.extend_from_slice(&[0; 3]);
    heap.put_len(data.len() as u64);
    heap.put_len(FREE_NULL);
    let w = Widths::current();
    let head = (8 + 2 * w.l() + w.o()) as u64;
    let heap_addr = out.alloc(head + data.len() as u64)?;
    heap.put_addr(heap_addr + head);
    heap.extend_from_slice(&data);
    out.write_at(heap_addr, &heap)?;

    // Symbol table nodes, each full-size on disk.
    let per_node = 2 * usize::from(LEAF_K);
    let node_size = 8 + per_node * entry_size();
    let key = |offset: u64| offset.to_le_bytes()[..w.l()].to_vec();
    let mut keys = vec![key(0)];
    let mut children = Vec::new();
    for ((chunk, offs), softs) in members
        .chunks(per_node)
        .zip(offsets.chunks(per_node))
        .zip(soft_offsets.chunks(per_node))
    {
        let mut node = Vec::with_capacity(node_size);
        node.extend_from_slice(b"SNOD");
        node.put_u8(1);
        node.put_u8(0);
        node.put_u16(chunk.len() as u16);
        for ((m, &off), soft) in chunk.iter().zip(offs).zip(softs) {
            match soft {
                Some(value_at) => soft_entry(&mut node, off, *value_at),
                None => entry(&mut node, off, m.header, m.stab),
            }
        }
        node.resize(node_size, 0);
        children.push(out.append(&node)?);
        keys.push(key(offs.last().copied().unwrap_or(0)));
    }
    let kind = TreeKind {
        node_type: btree::GROUP,
        max_children: 2 * usize::from(INTERNAL_K),
        key_size: w.l(),
    };
    let tree = btree::write(out, &kind, keys, children)?;
    Ok((tree, heap_addr))
}

/// The symbol table message body.
pub(crate) fn stab_message(tree: u64, heap: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(16);
    b.put_addr(tree);
    b.put_addr(heap);
    b
}
