//! The regions of a structure the file came with, which an edit replaces: the first rewrite
//! of an h5py-written chunk index or symbol table frees them (later rewrites free what this
//! editor wrote, see `space.rs`).
//!
//! The structure is walked with the readers (v1 B-tree nodes, symbol table nodes, the local
//! heap; a version 4 index's blocks as its reader tells them: a fixed array's header and
//! data block, an extensible array's header, index block, super blocks and data blocks, a
//! v2 B-tree's header and nodes) and each block counted at the size libhdf5 allocates for
//! it: a v1 B-tree node holds 2K children and 2K + 1 keys whatever it uses, a symbol table
//! node 2 × leaf K entries, a v2 B-tree node the header's node size. Chunks are not part of
//! it (they stay referenced unless the edit rewrote them). Implicit and single-chunk
//! indexes have no blocks of their own.
//!
//! What is freed must be referenced by nothing else once the edit commits. libhdf5 gives
//! each block to one structure; a file that does not (crafted, or damaged) frees nothing:
//! any read error, a node using more entries than K allows, a K the superblock does not
//! state (a version 2/3 superblock with an extension, which may hold other K values), blocks
//! overlapping each other, outside the allocated space, or overlapping what stays
//! referenced (the object's header, its remaining chunks, its members' headers) or what is
//! already free — then the structure is left in the file, as before.

use std::collections::HashSet;

use super::space::Regions;
use crate::cursor::{Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::io::Source;
use crate::read::btree1::{self, Node};
use crate::read::chunked::ChunkedReader;
use crate::read::local_heap::LocalHeap;
use crate::read::symbol_table;

/// Most blocks one walk visits (a crafted file cannot make it run without end).
const MAX_BLOCKS: usize = 1 << 20;

/// Where the walked structure must not be: what stays referenced and what is free.
pub(crate) struct Keep<'a> {
    /// Regions that stay referenced or are free: (address, length).
    pub regions: &'a [(u64, u64)],
    /// Allocated space: `[low, high)`.
    pub low: u64,
    /// End of the allocated space (the end-of-file address before the edit).
    pub high: u64,
}

/// The blocks of a v1 B-tree (type 0 for a group, 1 for chunks) with keys of `key_size`
/// bytes and `two_k` children per node; for a group tree, its symbol table nodes too (of
/// `snod_entries` entries).
fn btree_blocks(
    source: &Source,
    sizes: Sizes,
    root: u64,
    node_type: u8,
    key_size: usize,
    two_k: u64,
    snod_entries: u64,
) -> Result<Regions> {
    let what = "v1 B-tree node";
    let o = u64::from(sizes.offset);
    let node_size = btree1::node_size(o, two_k, key_size as u64);
    let snod_size = 8 + snod_entries * symbol_table::entry_len(sizes);
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut level = vec![root];
    let mut expect: Option<u8> = None;
    for _ in 0..=btree1::MAX_DEPTH {
        let mut next = Vec::new();
        for &addr in &level {
            if !seen.insert(addr) || seen.len() > MAX_BLOCKS {
                return Err(Error::Cycle { what, offset: addr });
            }
            let node = Node::read(source, sizes, addr, key_size, node_type)?;
            if expect.is_some_and(|l| l != node.level) || node.children.len() as u64 > two_k {
                return Err(Error::malformed(what, addr, "not a node of this tree"));
            }
            out.push((addr, node_size));
            if node.level > 0 {
                next.extend_from_slice(&node.children);
            } else if node_type == 0 {
                for &snod in &node.children {
                    if !seen.insert(snod) {
                        return Err(Error::Cycle { what, offset: snod });
                    }
                    if symbol_table::snod_entries(source, sizes, snod)? > snod_entries {
                        return Err(Error::malformed("symbol table node", snod, "overfull"));
                    }
                    out.push((snod, snod_size));
                }
            }
            expect = Some(node.level);
        }
        if next.is_empty() {
            return Ok(out);
        }
        // Children of level-L nodes are at level L - 1 (internal nodes have level >= 1).
        expect = expect.map(|l| l.wrapping_sub(1));
        level = next;
    }
    Err(Error::Cycle { what, offset: root })
}

/// The regions of the chunk index of layout version 1–3 (a v1 B-tree of type 1) rooted at
/// `root`, for a dataset of rank `rank` (empty when unsure, see the module documentation).
pub(crate) fn chunk_btree(file: &crate::File, root: u64, rank: usize, keep: &Keep) -> Regions {
    let Some(two_k) = known_k(file, |sb| sb.indexed_storage_k) else {
        return Vec::new();
    };
    if root == UNDEF_ADDR {
        return Vec::new();
    }
    let key_size = 8 + 8 * (rank + 1);
    let walked = btree_blocks(file.source(), file.sizes(), root, 1, key_size, two_k, 0);
    checked(walked, keep)
}

/// The blocks of a version 4 chunk index (layout version 4: fixed array, extensible array,
/// v2 B-tree — kinds whose reader tells its blocks) read by `chunks` (empty when unsure or
/// for other kinds).
pub(crate) fn chunk_index(chunks: &ChunkedReader, keep: &Keep) -> Regions {
    match chunks.index_blocks() {
        Some(walked) => checked(walked, keep),
        None => Vec::new(),
    }
}

/// The regions of a group's symbol table: its v1 B-tree (type 0), symbol table nodes and
/// local heap (empty when unsure, see the module documentation).
pub(crate) fn symbol_table(file: &crate::File, tree: u64, heap: u64, keep: &Keep) -> Regions {
    let (Some(two_k), Some(leaf)) = (
        known_k(file, |sb| sb.group_internal_k),
        known_k(file, |sb| sb.group_leaf_k),
    ) else {
        return Vec::new();
    };
    let sizes = file.sizes();
    let walked = (|| {
        let mut r = btree_blocks(
            file.source(),
            sizes,
            tree,
            0,
            usize::from(sizes.length),
            two_k,
            leaf,
        )?;
        let (head, data) = LocalHeap::extent(file.source(), sizes, heap)?;
        r.push((heap, head));
        r.push(data);
        Ok(r)
    })();
    checked(walked, keep)
}

/// 2K for the K `pick` chooses, when the superblock states it.
fn known_k(
    file: &crate::File,
    pick: impl Fn(&crate::read::superblock::Superblock) -> u16,
) -> Option<u64> {
    let sb = file.superblock();
    (sb.version <= 1 || sb.extension_address.is_none()).then(|| 2 * u64::from(pick(sb)))
}

/// `walked` when it is sound (see the module documentation), else nothing.
fn checked(walked: Result<Regions>, keep: &Keep) -> Regions {
    let Ok(mut r) = walked else {
        return Vec::new();
    };
    r.retain(|&(_, l)| l > 0);
    r.sort_unstable();
    let inside = || {
        r.iter()
            .all(|&(a, l)| a >= keep.low && a.checked_add(l).is_some_and(|e| e <= keep.high))
    };
    // (Within the allocated space, so no end overflows.)
    let disjoint = || r.windows(2).all(|w| w[0].0 + w[0].1 <= w[1].0);
    let clear = || {
        keep.regions.iter().all(|&(a, l)| {
            let end = a.saturating_add(l.max(1));
            let i = r.partition_point(|&(b, m)| b + m <= a);
            r.get(i).is_none_or(|&(b, _)| b >= end)
        })
    };
    if inside() && disjoint() && clear() {
        r
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_or_outside_regions_free_nothing() {
        let keep = Keep {
            regions: &[(500, 10)],
            low: 100,
            high: 1000,
        };
        let ok = vec![(200, 50), (100, 100)];
        assert_eq!(checked(Ok(ok), &keep), vec![(100, 100), (200, 50)]);
        assert!(checked(Ok(vec![(100, 60), (150, 10)]), &keep).is_empty());
        assert!(checked(Ok(vec![(990, 20)]), &keep).is_empty());
        assert!(checked(Ok(vec![(50, 10)]), &keep).is_empty());
        assert!(checked(Ok(vec![(505, 1)]), &keep).is_empty());
        assert!(checked(Ok(vec![(400, 101)]), &keep).is_empty());
        assert_eq!(checked(Ok(vec![(400, 100)]), &keep), vec![(400, 100)]);
        assert!(checked(Err(Error::Usage("x".into())), &keep).is_empty());
    }
}
