//! Version 1 B-trees (spec III.A.1): group nodes (type 0) and raw-data chunk nodes (type 1).

use crate::cursor::{Cursor, Sizes};
use crate::error::{Error, Result};
use crate::io::Source;

/// Deepest tree we accept (a hostile file cannot recurse without end).
pub const MAX_DEPTH: u8 = 64;

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
        let mut c = Cursor::new(&head, address, WHAT, sizes);
        c.expect_signature(b"TREE")?;
        let node_type = c.u8()?;
        if node_type != expect_type {
            return Err(Error::malformed(
                WHAT,
                address,
                format!("node type {node_type}, expected {expect_type}"),
            ));
        }
        let level = c.u8()?;
        let entries = usize::from(c.u16()?);
        let left = c.addr()?;
        let right = c.addr()?;
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
