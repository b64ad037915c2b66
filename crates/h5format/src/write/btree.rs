//! Version 1 B-trees ("TREE" nodes), bulk-built bottom-up from sorted entries. Used for group
//! symbol tables (node type 0) and chunk indexes (node type 1).

use super::encode::{Put, Widths, UNDEF};
use super::sink::Out;
use crate::error::Result;

/// Node type of group B-trees.
pub(crate) const GROUP: u8 = 0;
/// Node type of chunk B-trees.
pub(crate) const CHUNK: u8 = 1;

/// Shape of one tree: node type, maximum children per node (2K) and key width.
pub(crate) struct TreeKind {
    pub node_type: u8,
    pub max_children: usize,
    pub key_size: usize,
}

impl TreeKind {
    /// Size of a node (in the current file's address width).
    fn node_size(&self) -> usize {
        let o = Widths::current().o() as u64;
        crate::read::btree1::node_size(o, self.max_children as u64, self.key_size as u64) as usize
    }
}

/// Write a B-tree over `children` (n addresses) bounded by `keys` (n + 1 keys, each
/// `key_size` bytes: child i holds what lies between key i and key i+1). Returns the root
/// address. With no children, writes one empty leaf holding `keys[0]`.
pub(crate) fn write(
    out: &mut Out,
    kind: &TreeKind,
    keys: Vec<Vec<u8>>,
    children: Vec<u64>,
) -> Result<u64> {
    let mut keys = keys;
    let mut children = children;
    let mut level = 0u8;
    loop {
        let n = children.len();
        let groups = n.div_ceil(kind.max_children).max(1);
        let size = kind.node_size();
        let base = out.alloc((groups * size) as u64)?;
        let mut bytes = Vec::with_capacity(groups * size);
        let mut next_keys = Vec::with_capacity(groups + 1);
        let mut next_children = Vec::with_capacity(groups);
        for g in 0..groups {
            // Spread the children evenly over the nodes of this level.
            let lo = g * n / groups;
            let hi = (g + 1) * n / groups;
            let addr = base + (g * size) as u64;
            let start = bytes.len();
            bytes.extend_from_slice(b"TREE");
            bytes.put_u8(kind.node_type);
            bytes.put_u8(level);
            bytes.put_u16((hi - lo) as u16);
            bytes.put_addr(if g == 0 { UNDEF } else { addr - size as u64 });
            bytes.put_addr(if g + 1 == groups {
                UNDEF
            } else {
                addr + size as u64
            });
            for i in lo..hi {
                put_key(&mut bytes, keys.get(i), kind.key_size);
                bytes.put_addr(children.get(i).copied().unwrap_or(UNDEF));
            }
            put_key(&mut bytes, keys.get(hi), kind.key_size);
            bytes.resize(start + size, 0);
            next_keys.push(keys.get(lo).cloned().unwrap_or_default());
            next_children.push(addr);
        }
        next_keys.push(keys.get(n).cloned().unwrap_or_default());
        out.write_at(base, &bytes)?;
        if groups == 1 {
            return Ok(base);
        }
        keys = next_keys;
        children = next_children;
        level += 1;
    }
}

fn put_key(out: &mut Vec<u8>, key: Option<&Vec<u8>>, size: usize) {
    let start = out.len();
    if let Some(k) = key {
        out.extend_from_slice(k);
    }
    out.resize(start + size, 0);
}
