//! Layout v1–v3 chunk index: a version 1 B-tree of type 1 (raw data chunks).
//!
//! Keys are the chunk's stored size (u32), filter mask (u32) and `rank + 1` element offsets
//! (u64, the last one zero). Child `i` of a node covers chunks from key `i` up to key `i + 1`.

use std::cmp::Ordering;
use std::sync::Arc;

use super::{ChunkIndex, ChunkLocation, Geometry};
use crate::cache::NodeMemo;
use crate::cursor::{Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::io::Source;
use crate::read::btree1::{Node, MAX_DEPTH};

const WHAT: &str = "v1 B-tree node";

/// A v1 B-tree chunk index.
pub struct BTreeV1Index {
    source: Source,
    sizes: Sizes,
    root: u64,
    chunk_dims: Vec<u64>,
    key_size: usize,
    memo: NodeMemo<Node>,
}

/// A decoded key.
struct Key {
    size: u32,
    mask: u32,
    offsets: Vec<u64>,
}

impl BTreeV1Index {
    /// The index whose root node is at `root`.
    pub fn new(source: Source, sizes: Sizes, root: u64, geom: &Geometry) -> Self {
        let rank = geom.rank();
        BTreeV1Index {
            source,
            sizes,
            root,
            chunk_dims: geom.chunk_dims.clone(),
            key_size: key_size(rank),
            memo: NodeMemo::new(1024),
        }
    }

    fn node(&self, addr: u64) -> Result<Arc<Node>> {
        self.memo.get_or_load(addr, || {
            Node::read(&self.source, self.sizes, addr, self.key_size, 1)
        })
    }

    fn key(&self, node: &Node, i: usize) -> Result<Key> {
        let rank = self.chunk_dims.len();
        let start = i * self.key_size;
        let k = node
            .keys
            .get(start..start + self.key_size)
            .ok_or_else(|| Error::malformed(WHAT, node.address, "key out of range"))?;
        let word = |j: usize| -> u64 {
            let mut a = [0u8; 8];
            a.copy_from_slice(&k[8 + 8 * j..16 + 8 * j]);
            u64::from_le_bytes(a)
        };
        Ok(Key {
            size: u32::from_le_bytes([k[0], k[1], k[2], k[3]]),
            mask: u32::from_le_bytes([k[4], k[5], k[6], k[7]]),
            offsets: (0..rank).map(word).collect(),
        })
    }

    fn location(&self, node: &Node, key: Key, child: u64) -> Result<ChunkLocation> {
        let mut scaled = Vec::with_capacity(key.offsets.len());
        for (&o, &c) in key.offsets.iter().zip(&self.chunk_dims) {
            if o % c != 0 {
                return Err(Error::malformed(
                    WHAT,
                    node.address,
                    format!("chunk offset {o} is not a multiple of chunk dimension {c}"),
                ));
            }
            scaled.push(o / c);
        }
        Ok(ChunkLocation {
            scaled,
            address: child,
            size: u64::from(key.size),
            filter_mask: key.mask,
        })
    }

    /// Visit every leaf entry, one level of the tree at a time: the nodes of a level are
    /// announced to the source together ([`Source::hint`]), so a remote file fetches each
    /// level in one burst instead of one round trip per node. A node reached twice (a
    /// hostile file) is visited once.
    fn walk(&self, f: &mut dyn FnMut(ChunkLocation) -> Result<()>) -> Result<()> {
        let mut level = vec![self.root];
        let mut expect: Option<u8> = None;
        for _ in 0..=MAX_DEPTH {
            if level.len() > 1 && self.source.is_remote() {
                for &addr in &level {
                    self.source
                        .hint(addr, node_bytes_estimate(self.sizes, self.key_size));
                }
            }
            let mut next = Vec::new();
            let mut child_level = None;
            for &addr in &level {
                let node = self.node(addr)?;
                check_level(&node, expect)?;
                if node.level == 0 {
                    for (i, &child) in node.children.iter().enumerate() {
                        let key = self.key(&node, i)?;
                        if child != UNDEF_ADDR {
                            f(self.location(&node, key, child)?)?;
                        }
                    }
                } else {
                    child_level = Some(node.level - 1);
                    next.extend_from_slice(&node.children);
                }
                expect = Some(node.level);
            }
            if next.is_empty() {
                return Ok(());
            }
            let mut seen = std::collections::HashSet::with_capacity(next.len());
            next.retain(|a| seen.insert(*a));
            level = next;
            expect = child_level;
        }
        Err(Error::Cycle {
            what: "v1 B-tree",
            offset: self.root,
        })
    }

    /// Remote files: read the root and announce the children that the next lookups will
    /// descend into when they are few — every internal node below the root (at most
    /// [`WARM_INTERNAL`]), or the leaves of a small two-level tree (at most [`WARM_LEAVES`]) —
    /// so that they ride along with the next burst of reads instead of costing a round trip
    /// of their own after the first lookup. Errors are left to the lookups.
    fn warm_root(&self) {
        let Ok(root) = self.node(self.root) else {
            return;
        };
        let few = match root.level {
            0 => false,
            1 => root.children.len() <= WARM_LEAVES,
            _ => root.children.len() <= WARM_INTERNAL,
        };
        if few {
            for &child in &root.children {
                if child != UNDEF_ADDR {
                    self.source
                        .hint_maybe(child, node_bytes_estimate(self.sizes, self.key_size));
                }
            }
        }
    }
}

/// Children of a remote root announced when they are internal nodes (see
/// [`BTreeV1Index`]'s `warm`).
const WARM_INTERNAL: usize = 16;
/// Children of a remote root announced when they are leaves.
const WARM_LEAVES: usize = 4;

/// Bytes of a node with the default 64 entries (libhdf5's chunk B-tree K of 32) and keys of
/// `key_size` bytes: what an announcement covers per node (a larger node reads its tail
/// separately).
pub(crate) fn node_bytes_estimate(sizes: Sizes, key_size: usize) -> u64 {
    let off = u64::from(sizes.offset);
    8 + 2 * off + 65 * key_size as u64 + 64 * off
}

/// Key size of a chunk B-tree of a dataset of rank `rank`: chunk size, filter mask and
/// `rank + 1` offsets.
pub(crate) fn key_size(rank: usize) -> usize {
    8 + 8 * (rank + 1)
}

fn check_level(node: &Node, expect: Option<u8>) -> Result<()> {
    match expect {
        Some(l) if l != node.level => Err(Error::malformed(
            WHAT,
            node.address,
            format!("level {}, expected {l}", node.level),
        )),
        _ => Ok(()),
    }
}

impl ChunkIndex for BTreeV1Index {
    fn kind(&self) -> &'static str {
        "v1 B-tree"
    }

    fn lookup(&self, scaled: &[u64]) -> Result<Option<ChunkLocation>> {
        let target: Vec<u64> = scaled
            .iter()
            .zip(&self.chunk_dims)
            .map(|(&s, &c)| s.saturating_mul(c))
            .collect();
        let mut addr = self.root;
        let mut expect = None;
        for _ in 0..=MAX_DEPTH {
            let node = self.node(addr)?;
            check_level(&node, expect)?;
            // Last child whose left key is <= target.
            let (mut lo, mut hi) = (0usize, node.children.len());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if self.key(&node, mid)?.offsets.as_slice().cmp(&target) == Ordering::Greater {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            if lo == 0 {
                return Ok(None);
            }
            let i = lo - 1;
            let child = node.children[i];
            if node.level == 0 {
                let key = self.key(&node, i)?;
                if key.offsets != target || child == UNDEF_ADDR {
                    return Ok(None);
                }
                return self.location(&node, key, child).map(Some);
            }
            expect = Some(node.level - 1);
            addr = child;
        }
        Err(Error::Cycle {
            what: "v1 B-tree",
            offset: addr,
        })
    }

    fn for_each(&self, f: &mut dyn FnMut(ChunkLocation) -> Result<()>) -> Result<()> {
        self.walk(f)
    }

    fn warm(&self) {
        if self.source.is_remote() {
            self.warm_root();
        }
    }
}
