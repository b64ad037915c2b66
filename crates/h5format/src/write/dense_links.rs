//! Dense link storage: a group's link messages in a fractal heap, indexed by a v2 B-tree of
//! name hashes (record type 5), announced by the link info message — what libhdf5 does with
//! a group of link messages past 8 links (the group info message's default maximum of
//! compact links).
//!
//! Links tracked by creation order are flagged so in the link info message but, as h5py's
//! groups written by us are "tracked, not indexed", get no creation-order index (type 6):
//! libhdf5 then lists them in creation order by sorting a table built from the name index.

use super::btree2::Tree;
use super::encode::Put;
use super::fractal_heap::{self, ID_LEN, MAX_MANAGED};
use super::sink::Out;
use crate::checksum::lookup3;
use crate::error::Result;

/// Most links kept in the header (libhdf5's default `max_compact`).
pub(crate) const MAX_COMPACT: usize = 8;
/// v2 B-tree record type of the link name index.
const NAME_INDEX: u8 = 5;
/// Node size of libhdf5's link name index.
const NODE_SIZE: u32 = 512;

/// Whether libhdf5 would keep these links (`(name, link message)`) in dense storage: more
/// than [`MAX_COMPACT`], each small enough for a managed heap object. Only in files of
/// 8-byte addresses and lengths (what the heap and B-tree encoders write): a group grafted
/// into a file of other widths keeps its links compact, which libhdf5 reads at any count.
pub(crate) fn wanted(links: &[(String, Vec<u8>)]) -> bool {
    super::encode::Widths::current().is_eight()
        && links.len() > MAX_COMPACT
        && links.iter().all(|(_, b)| b.len() <= MAX_MANAGED)
}

/// Store the link messages (`(name, body)` in creation order) densely; returns the
/// (fractal heap, name index) addresses.
pub(crate) fn write(out: &mut Out, links: &[(String, Vec<u8>)]) -> Result<(u64, u64)> {
    let bodies: Vec<Vec<u8>> = links.iter().map(|(_, b)| b.clone()).collect();
    let (heap, ids) = fractal_heap::write(out, &bodies)?;
    let mut recs: Vec<(u32, &str, Vec<u8>)> = links
        .iter()
        .zip(&ids)
        .map(|((name, _), id)| {
            let hash = lookup3(name.as_bytes(), 0);
            let mut r = Vec::with_capacity(4 + ID_LEN);
            r.put_u32(hash);
            r.extend_from_slice(id);
            (hash, name.as_str(), r)
        })
        .collect();
    // libhdf5 orders the name index by hash, then by name.
    recs.sort_by(|a, b| (a.0, a.1.as_bytes()).cmp(&(b.0, b.1.as_bytes())));
    let records: Vec<Vec<u8>> = recs.into_iter().map(|(_, _, r)| r).collect();
    let tree = Tree {
        kind: NAME_INDEX,
        node_size: NODE_SIZE,
        record_len: 4 + ID_LEN,
        split_percent: 100,
        merge_percent: 40,
    };
    let index = tree.write(out, &records)?;
    Ok((heap, index))
}

/// The link info message body (version 0) of a group in dense storage.
pub(crate) fn link_info(tracked: bool, max_order: u64, (heap, index): (u64, u64)) -> Vec<u8> {
    let mut b = Vec::with_capacity(26);
    b.put_u8(0);
    b.put_u8(u8::from(tracked));
    if tracked {
        b.put_u64(max_order);
    }
    b.put_u64(heap);
    b.put_u64(index);
    b
}
