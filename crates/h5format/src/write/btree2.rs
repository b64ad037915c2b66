//! Version 2 B-trees ("BTHD" header, "BTIN" internal nodes, "BTLF" leaves), bulk-built from
//! records already in index order, of any size: as many levels as the records need.
//!
//! Node capacities are libhdf5's (`H5B2__hdr_init`): a leaf holds (node size − 10) / record
//! size records; an internal node at depth d holds records and child pointers (address,
//! records in the child, and from depth 2 on the records in the child's subtree, in the
//! widths libhdf5 derives from the node capacities). The tree has the least depth that holds
//! every record; each node gets the fewest children that hold its records, spread evenly, so
//! every node is at least about half full (libhdf5 reads any fill, and can insert into and
//! split these nodes later).

use super::encode::{usage, Put, Widths, UNDEF};
use super::sink::Out;
use crate::checksum::lookup3;
use crate::error::Result;

/// Signature, version, type and checksum of a node.
const PREFIX: u64 = 10;

/// Shape of one tree.
pub(crate) struct Tree {
    /// Record type (5: link names, 6: link creation order, 8: attribute names, 10/11: chunks).
    pub kind: u8,
    /// Bytes of every node.
    pub node_size: u32,
    /// Bytes of one record.
    pub record_len: usize,
    /// Split and merge percents recorded in the header.
    pub split_percent: u8,
    /// See `split_percent`.
    pub merge_percent: u8,
}

/// Per-depth capacities.
struct Depth {
    max_nrec: u64,
    cum_max_nrec: u64,
    cum_size: usize,
}

/// Bytes that encode values up to `v` (libhdf5's `H5VM_limit_enc_size`).
fn enc_size(v: u64) -> usize {
    (63 - v.max(1).leading_zeros()) as usize / 8 + 1
}

impl Tree {
    /// Capacities of depths 0..=`depth`, and the width of a child's record count.
    fn depths(&self, depth: usize) -> Result<(Vec<Depth>, usize)> {
        let node = u64::from(self.node_size);
        let rec = self.record_len as u64;
        let leaf = node.saturating_sub(PREFIX) / rec.max(1);
        if leaf < 2 {
            return Err(usage("v2 B-tree nodes too small for their records"));
        }
        let nrec_size = enc_size(leaf);
        let mut v = vec![Depth {
            max_nrec: leaf,
            cum_max_nrec: leaf,
            cum_size: 0,
        }];
        for d in 1..=depth {
            let prev = &v[d - 1];
            let ptr = Widths::current().o() as u64
                + nrec_size as u64
                + if d > 1 { prev.cum_size as u64 } else { 0 };
            let max_nrec = node.saturating_sub(PREFIX + ptr) / (rec + ptr);
            if max_nrec < 1 {
                return Err(usage("v2 B-tree internal nodes too small"));
            }
            let cum = (max_nrec + 1)
                .saturating_mul(prev.cum_max_nrec)
                .saturating_add(max_nrec);
            v.push(Depth {
                max_nrec,
                cum_max_nrec: cum,
                cum_size: enc_size(cum),
            });
        }
        Ok((v, nrec_size))
    }

    /// Write the tree holding `records` (in index order); returns the header address.
    pub(crate) fn write(&self, out: &mut Out, records: &[Vec<u8>]) -> Result<u64> {
        if records.iter().any(|r| r.len() != self.record_len) {
            return Err(usage("v2 B-tree record of the wrong size"));
        }
        let n = records.len() as u64;
        let mut depth = 0;
        let (depths, nrec_size) = loop {
            let (d, s) = self.depths(depth)?;
            if d[depth].cum_max_nrec >= n {
                break (d, s);
            }
            depth += 1;
            if depth > 32 {
                return Err(usage("v2 B-tree too deep"));
            }
        };
        let (root, root_nrec) = if records.is_empty() {
            (UNDEF, 0)
        } else {
            let b = Builder {
                tree: self,
                depths: &depths,
                nrec_size,
            };
            let (addr, nrec, _) = b.node(out, records, depth)?;
            (addr, nrec)
        };
        let mut h = Vec::with_capacity(38);
        h.extend_from_slice(b"BTHD");
        h.put_u8(0);
        h.put_u8(self.kind);
        h.put_u32(self.node_size);
        h.put_u16(self.record_len as u16);
        h.put_u16(depth as u16);
        h.put_u8(self.split_percent);
        h.put_u8(self.merge_percent);
        h.put_addr(root);
        h.put_u16(u16::try_from(root_nrec).map_err(|_| usage("v2 B-tree root too full"))?);
        h.put_len(n);
        let sum = lookup3(&h, 0);
        h.put_u32(sum);
        out.append(&h)
    }
}

struct Builder<'a> {
    tree: &'a Tree,
    depths: &'a [Depth],
    nrec_size: usize,
}

impl Builder<'_> {
    /// Write the subtree of `depth` holding `records`; returns its address, the records in
    /// its root node and in the whole subtree.
    fn node(&self, out: &mut Out, records: &[Vec<u8>], depth: usize) -> Result<(u64, u64, u64)> {
        let n = records.len() as u64;
        let mut b = Vec::with_capacity(self.tree.node_size as usize);
        b.extend_from_slice(if depth == 0 { b"BTLF" } else { b"BTIN" });
        b.put_u8(0);
        b.put_u8(self.tree.kind);
        let nrec = if depth == 0 {
            for r in records {
                b.extend_from_slice(r);
            }
            n
        } else {
            // The fewest children that hold the records, spread evenly, separated by one
            // record each.
            let c = self.depths[depth - 1].cum_max_nrec;
            let k = (n + 1).div_ceil(c + 1).max(2);
            if k - 1 > self.depths[depth].max_nrec {
                return Err(usage("v2 B-tree node overflow"));
            }
            let spread = n - (k - 1);
            let mut children = Vec::with_capacity(k as usize);
            let mut at = 0usize;
            let mut separators = Vec::with_capacity(k as usize - 1);
            for i in 0..k {
                let share = (spread / k + u64::from(i < spread % k)) as usize;
                let part = records
                    .get(at..at + share)
                    .ok_or_else(|| usage("v2 B-tree split out of range"))?;
                children.push(self.node(out, part, depth - 1)?);
                at += share;
                if i + 1 < k {
                    separators.push(at);
                    at += 1;
                }
            }
            for &s in &separators {
                b.extend_from_slice(&records[s]);
            }
            for (addr, child_nrec, total) in &children {
                b.put_addr(*addr);
                b.extend_from_slice(&child_nrec.to_le_bytes()[..self.nrec_size]);
                if depth > 1 {
                    let w = self.depths[depth - 1].cum_size;
                    b.extend_from_slice(&total.to_le_bytes()[..w]);
                }
            }
            k - 1
        };
        let sum = lookup3(&b, 0);
        b.put_u32(sum);
        if b.len() > self.tree.node_size as usize {
            return Err(usage("v2 B-tree node over its size"));
        }
        b.resize(self.tree.node_size as usize, 0);
        let addr = out.append(&b)?;
        Ok((addr, nrec, n))
    }
}
