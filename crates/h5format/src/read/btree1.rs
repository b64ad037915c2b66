//! Version 1 B-trees (spec III.A.1): group nodes (type 0) and raw-data chunk nodes (type 1).

use crate::cursor::{Cursor, Sizes};
use crate::error::{Error, Result};
use crate::fixed;
use crate::io::Source;
use binrw::BinRead;

/// Deepest tree we accept (a hostile file cannot recurse without end).
pub const MAX_DEPTH: u8 = 64;

/// Bytes of a node with room for `two_k` children and `two_k + 1` keys of `key_size` bytes
/// in a file with `offset_size`-byte addresses: libhdf5 allocates every node at this size,
/// however many entries it uses.
pub fn node_size(offset_size: u64, two_k: u64, key_size: u64) -> u64 {
    8 + 2 * offset_size + two_k * offset_size + (two_k + 1) * key_size
}

/// One node of a v1 B-tree: `entries` children and `entries + 1` keys (raw bytes).
#[derive(Debug, Clone)]
pub struct Node {
    /// Address of the node.
    pub address: u64,
    /// 0 = group node, 1 = raw data chunk node.
    pub node_type: u8,
    /// 0 for leaves.
    pub level: u8,
    /// Left sibling address (undefined for none).
    pub left: u64,
    /// Right sibling address.
    pub right: u64,
    /// Keys: `children.len() + 1` slices of `key_size` bytes, concatenated.
    pub keys: Vec<u8>,
    /// Size of one key.
    pub key_size: usize,
    /// Child addresses.
    pub children: Vec<u64>,
}

/// The fixed part of a v1 B-tree node (spec III.A.1, "Version 1 B-tree Nodes" table); keys
/// and child pointers follow.
#[derive(BinRead)]
#[br(little, magic = b"TREE", import(sizes: Sizes))]
struct NodeHeader {
    node_type: u8,
    node_level: u8,
    entries_used: u16,
    #[br(parse_with = fixed::addr, args(sizes))]
    left_sibling_address: u64,
    #[br(parse_with = fixed::addr, args(sizes))]
    right_sibling_address: u64,
}

impl Node {
    /// Read the node at `address`, whose keys are `key_size` bytes wide.
    pub fn read(
        source: &Source,
        sizes: Sizes,
        address: u64,
        key_size: usize,
        expect_type: u8,
    ) -> Result<Self> {
        const WHAT: &str = "v1 B-tree node";
        let head_len = 8 + 2 * u64::from(sizes.offset);
        let head = source.read(WHAT, address, head_len)?;
        let (h, _) = fixed::parse::<NodeHeader>(&head, address, WHAT, (sizes,))?;
        let NodeHeader {
            node_type,
            node_level: level,
            left_sibling_address: left,
            right_sibling_address: right,
            ..
        } = h;
        if node_type != expect_type {
            return Err(Error::malformed(
                WHAT,
                address,
                format!("node type {node_type}, expected {expect_type}"),
            ));
        }
        let entries = usize::from(h.entries_used);
        let body_len =
            (entries as u64) * (key_size as u64 + u64::from(sizes.offset)) + key_size as u64;
        let body = source.read(WHAT, address + head_len, body_len)?;
        let mut c = Cursor::new(&body, address + head_len, WHAT, sizes);
        let mut keys = Vec::with_capacity((entries + 1) * key_size);
        let mut children = Vec::with_capacity(entries);
        for _ in 0..entries {
            keys.extend_from_slice(c.bytes(key_size)?);
            children.push(c.addr()?);
        }
        keys.extend_from_slice(c.bytes(key_size)?);
        Ok(Node {
            address,
            node_type,
            level,
            left,
            right,
            keys,
            key_size,
            children,
        })
    }

    /// The `i`-th key (0..=children.len()).
    pub fn key(&self, i: usize) -> &[u8] {
        &self.keys[i * self.key_size..(i + 1) * self.key_size]
    }
}
