//! Dense storage of links and attributes: a fractal heap holding the messages, indexed by
//! v2 B-trees (spec III.H) of names (record types 5 and 8) and, optionally, creation order
//! (types 6 and 9).
//!
//! Listing reads every record of the name index and fetches each heap ID from the heap, so
//! managed, tiny and huge objects are all found. A minimal reader of v2 B-tree records lives
//! here too ([`btree2_records`]) until the generic v2 B-tree module is merged.

use std::collections::HashSet;

use crate::cursor::{verify_checksum, Cursor, Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::io::Source;
use crate::read::attribute::{AttributeInfo, AttributeMessage};
use crate::read::fractal_heap::FractalHeap;
use crate::read::link::{Link, LinkInfo};
use crate::read::object_header::msg;
use crate::read::shared::SharedResolver;

const BTREE_HEADER: &str = "v2 B-tree header";
const BTREE_INTERNAL: &str = "v2 B-tree internal node";
const BTREE_LEAF: &str = "v2 B-tree leaf node";
/// Deepest v2 B-tree accepted (a tree of depth 16 already holds more records than any file).
const MAX_BTREE_DEPTH: u16 = 32;

/// The links of a dense group, in libhdf5's default order: creation order when the group
/// tracks it, otherwise by name (byte order).
pub fn dense_links(source: &Source, sizes: Sizes, info: &LinkInfo) -> Result<Vec<Link>> {
    let heap = FractalHeap::open(source, sizes, info.heap_address)?;
    let mut links = Vec::new();
    if info.name_index_address == UNDEF_ADDR {
        return Err(Error::malformed(
            "link info message",
            info.heap_address,
            "dense links without a name index",
        ));
    }
    for (_, rec) in btree2_records(source, sizes, info.name_index_address, 5)? {
        // Record type 5: name hash (4 bytes), then the heap ID.
        let id = rec.get(4..).unwrap_or(&[]);
        let bytes = heap.get(source, id)?;
        let mut c = Cursor::new(&bytes, heap.address, "link message", sizes);
        links.push(Link::parse(&mut c)?);
    }
    if info.creation_order_tracked {
        links.sort_by_key(|l| l.creation_order.unwrap_or(u64::MAX));
    } else {
        links.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    }
    Ok(links)
}

/// The attributes kept in dense storage, by creation order when it is tracked, otherwise by
/// name (byte order).
/// Attributes kept in the shared message heap are fetched through `shared`.
pub fn dense_attributes(
    source: &Source,
    sizes: Sizes,
    info: &AttributeInfo,
    shared: &dyn SharedResolver,
) -> Result<Vec<AttributeMessage>> {
    let heap = FractalHeap::open(source, sizes, info.heap_address)?;
    if info.name_index_address == UNDEF_ADDR {
        return Err(Error::malformed(
            "attribute info message",
            info.heap_address,
            "dense attributes without a name index",
        ));
    }
    let mut out = Vec::new();
    for (at, rec) in btree2_records(source, sizes, info.name_index_address, 8)? {
        // Record type 8: heap ID (8), message flags (1), creation order (4), name hash (4).
        let mut c = Cursor::new(&rec, at, "attribute name index record", sizes);
        let id = c.bytes(8)?;
        let flags = c.u8()?;
        let order = c.u32()?;
        let (at, bytes) = if flags & 0x02 != 0 {
            // The ID is one of the shared message heap, not of this heap.
            let mut sid = [0u8; 8];
            sid.copy_from_slice(id);
            shared.heap_message(msg::ATTRIBUTE, &sid)?
        } else {
            (heap.address, heap.get(source, id)?)
        };
        let mut c = Cursor::new(&bytes, at, "attribute message", sizes);
        out.push((order, AttributeMessage::parse_with(&mut c, shared)?));
    }
    if info.creation_order_tracked {
        out.sort_by_key(|(order, _)| *order);
    } else {
        out.sort_by(|(_, a), (_, b)| a.name.as_bytes().cmp(b.name.as_bytes()));
    }
    Ok(out.into_iter().map(|(_, a)| a).collect())
}

/// Per-depth sizes of a v2 B-tree, computed from its header as libhdf5 does.
struct Shape {
    node_size: u64,
    record_size: u64,
    /// Bytes of a child's record count in internal nodes.
    nrec_size: usize,
    /// Per depth: maximum records of a node, and bytes of the "total records" of a child
    /// pointer to a node of that depth.
    max_nrec: Vec<u64>,
    cum_size: Vec<usize>,
}

/// Bytes needed to encode any value up to `v` (libhdf5's `H5VM_limit_enc_size`).
fn limit_enc_size(v: u64) -> usize {
    (63 - v.max(1).leading_zeros()) as usize / 8 + 1
}

impl Shape {
    fn new(node_size: u64, record_size: u64, depth: u16, sizes: Sizes, at: u64) -> Result<Self> {
        let bad = |d: &str| Error::malformed(BTREE_HEADER, at, d.to_string());
        if record_size == 0 || node_size <= 10 {
            return Err(bad("zero-sized records or nodes"));
        }
        let leaf_max = (node_size - 10) / record_size;
        if leaf_max == 0 {
            return Err(bad("nodes too small for one record"));
        }
        let nrec_size = limit_enc_size(leaf_max);
        let mut max_nrec = vec![leaf_max];
        let mut cum = vec![leaf_max];
        let mut cum_size = vec![0usize];
        for d in 1..=usize::from(depth) {
            let ptr = u64::from(sizes.offset)
                + nrec_size as u64
                + if d > 1 { cum_size[d - 1] as u64 } else { 0 };
            let n = node_size
                .checked_sub(10 + ptr)
                .map(|room| room / (record_size + ptr))
                .filter(|&n| n > 0)
                .ok_or_else(|| bad("internal nodes too small for one record"))?;
            let c = n
                .checked_add(1)
                .and_then(|k| k.checked_mul(cum[d - 1]))
                .and_then(|k| k.checked_add(n))
                .unwrap_or(u64::MAX);
            max_nrec.push(n);
            cum.push(c);
            cum_size.push(limit_enc_size(c));
        }
        Ok(Shape {
            node_size,
            record_size,
            nrec_size,
            max_nrec,
            cum_size,
        })
    }
}

/// Every record of the v2 B-tree at `addr`, in key order, with the file offset of each;
/// `expected_type` is the record type the caller can decode.
pub fn btree2_records(
    source: &Source,
    sizes: Sizes,
    addr: u64,
    expected_type: u8,
) -> Result<Vec<(u64, Vec<u8>)>> {
    let o = u64::from(sizes.offset);
    let l = u64::from(sizes.length);
    let len = 4 + 1 + 1 + 4 + 2 + 2 + 1 + 1 + o + 2 + l + 4;
    let bytes = source.read(BTREE_HEADER, addr, len)?;
    verify_checksum(BTREE_HEADER, addr, &bytes)?;
    let mut c = Cursor::new(&bytes, addr, BTREE_HEADER, sizes);
    c.expect_signature(b"BTHD")?;
    let version = c.u8()?;
    if version != 0 {
        return Err(c.err(format!("unknown v2 B-tree version {version}")));
    }
    let rtype = c.u8()?;
    if rtype != expected_type {
        return Err(c.err(format!(
            "record type {rtype} where type {expected_type} was expected"
        )));
    }
    let node_size = u64::from(c.u32()?);
    let record_size = u64::from(c.u16()?);
    let depth = c.u16()?;
    c.skip(2)?; // split and merge percentages
    let root = c.addr()?;
    let root_nrec = u64::from(c.u16()?);
    let total = c.length()?;
    if depth > MAX_BTREE_DEPTH {
        return Err(c.err(format!("depth {depth} is beyond any real tree")));
    }
    let mut out = Vec::new();
    if root == UNDEF_ADDR || total == 0 {
        return Ok(out);
    }
    let shape = Shape::new(node_size, record_size, depth, sizes, addr)?;
    let mut walk = Walk {
        source,
        sizes,
        shape: &shape,
        rtype,
        seen: HashSet::new(),
        out: &mut out,
    };
    walk.node(root, depth, root_nrec)?;
    Ok(out)
}

struct Walk<'a> {
    source: &'a Source,
    sizes: Sizes,
    shape: &'a Shape,
    rtype: u8,
    seen: HashSet<u64>,
    out: &'a mut Vec<(u64, Vec<u8>)>,
}

impl Walk<'_> {
    fn node(&mut self, addr: u64, depth: u16, nrec: u64) -> Result<()> {
        let what = if depth == 0 {
            BTREE_LEAF
        } else {
            BTREE_INTERNAL
        };
        if !self.seen.insert(addr) {
            return Err(Error::Cycle { what, offset: addr });
        }
        let d = usize::from(depth);
        let max = self.shape.max_nrec.get(d).copied().unwrap_or(0);
        if nrec > max {
            return Err(Error::malformed(
                what,
                addr,
                format!("{nrec} records, at most {max} fit a node"),
            ));
        }
        let bytes = self.source.read(what, addr, self.shape.node_size)?;
        let mut c = Cursor::new(&bytes, addr, what, self.sizes);
        c.expect_signature(if depth == 0 { b"BTLF" } else { b"BTIN" })?;
        let version = c.u8()?;
        if version != 0 {
            return Err(c.err(format!("unknown node version {version}")));
        }
        let rtype = c.u8()?;
        if rtype != self.rtype {
            return Err(c.err(format!(
                "record type {rtype} in a tree of type {}",
                self.rtype
            )));
        }
        // nrec <= max records of a node, so this fits in the node.
        let rs = self.shape.record_size as usize;
        let mut records = Vec::new();
        for _ in 0..nrec {
            let at = c.offset();
            records.push((at, c.bytes(rs)?.to_vec()));
        }
        if depth == 0 {
            self.checksum(&c, &bytes, addr, what)?;
            self.out.extend(records);
            return Ok(());
        }
        let mut children = Vec::new();
        for _ in 0..=nrec {
            let child = c.addr()?;
            let child_nrec = c.uint(self.shape.nrec_size)?;
            if depth > 1 {
                c.skip(self.shape.cum_size.get(d - 1).copied().unwrap_or(0))?;
            }
            children.push((child, child_nrec));
        }
        self.checksum(&c, &bytes, addr, what)?;
        let mut records = records.into_iter();
        for (i, (child, child_nrec)) in children.into_iter().enumerate() {
            if i > 0 {
                if let Some(r) = records.next() {
                    self.out.push(r);
                }
            }
            self.node(child, depth - 1, child_nrec)?;
        }
        Ok(())
    }

    fn checksum(&self, c: &Cursor<'_>, bytes: &[u8], addr: u64, what: &'static str) -> Result<()> {
        let end = c.pos() + 4;
        let body = bytes
            .get(..end)
            .ok_or_else(|| Error::malformed(what, addr, "node too small for its checksum"))?;
        verify_checksum(what, addr, body)
    }
}
