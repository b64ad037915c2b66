//! Version 2 B-tree chunk index (several unlimited dimensions): records of type 10
//! (unfiltered: address, scaled offsets) or 11 (filtered: address, stored size, filter mask,
//! scaled offsets), ordered by scaled offsets, in 2048-byte nodes as libhdf5 makes them.

use std::collections::BTreeMap;

use super::EntryFormat;
use crate::error::Result;
use crate::write::btree2::Tree;
use crate::write::encode::Put;
use crate::write::sink::Out;

/// Node size of libhdf5's chunk B-trees.
pub(super) const NODE_SIZE: u32 = 2048;
/// Split percent of libhdf5's chunk B-trees.
pub(super) const SPLIT_PERCENT: u8 = 100;
/// Merge percent of libhdf5's chunk B-trees.
pub(super) const MERGE_PERCENT: u8 = 40;

/// Write the tree over the written chunks; returns its header address.
pub(super) fn write(
    out: &mut Out,
    written: &BTreeMap<Vec<u64>, (u64, u32)>,
    fmt: EntryFormat,
) -> Result<u64> {
    let rank = written.keys().next().map_or(0, Vec::len);
    let records: Vec<Vec<u8>> = written
        .iter()
        .map(|(scaled, e)| {
            let mut r = Vec::with_capacity(fmt.len() + 8 * rank);
            fmt.put(&mut r, Some(*e));
            for s in scaled {
                r.put_u64(*s);
            }
            r
        })
        .collect();
    let tree = Tree {
        kind: if fmt.size_len == 0 { 10 } else { 11 },
        node_size: NODE_SIZE,
        record_len: fmt.len() + 8 * rank,
        split_percent: SPLIT_PERCENT,
        merge_percent: MERGE_PERCENT,
    };
    tree.write(out, &records)
}
