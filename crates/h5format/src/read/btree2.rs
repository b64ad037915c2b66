//! Version 2 B-trees (spec III.A.2): header "BTHD", internal nodes "BTIN", leaves "BTLF".
//!
//! Generic over the record type: records are handed out as raw bytes of the header's record
//! size, and searches take a comparison closure. Every checksum is verified, any depth works,
//! and visited nodes are memoized so repeated lookups do not re-read them.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::cache::NodeMemo;
use crate::cursor::{verify_checksum, Cursor, Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::fixed;
use crate::io::Source;
use binrw::BinRead;

/// Deepest tree accepted.
pub const MAX_DEPTH: u16 = 32;
/// Nodes memoized per tree.
const MEMO_NODES: usize = 1024;
/// Signature + version + type + checksum.
const PREFIX: u64 = 10;

/// Per-depth sizes derived from the header, as libhdf5 computes them.
#[derive(Debug, Clone, Copy)]
struct DepthInfo {
    /// Most records in a node at this depth.
    max_nrec: u64,
    /// Most records in a subtree rooted at this depth.
    cum_max_nrec: u64,
    /// Bytes of the "total records" field of a pointer to a node at this depth.
    cum_max_nrec_size: usize,
}

/// The header of a v2 B-tree.
#[derive(Debug, Clone)]
pub struct Header {
    /// Address of the header.
    pub address: u64,
    /// Record type (1–11).
    pub tree_type: u8,
    /// Size of every node in bytes.
    pub node_size: u32,
    /// Size of one record in bytes.
    pub record_size: u16,
    /// Depth of the tree (0: the root is a leaf).
    pub depth: u16,
    /// Split percent.
    pub split_percent: u8,
    /// Merge percent.
    pub merge_percent: u8,
    /// Address of the root node (undefined for an empty tree).
    pub root: u64,
    /// Records in the root node.
    pub root_records: u64,
    /// Records in the whole tree.
    pub total_records: u64,
    info: Vec<DepthInfo>,
    max_nrec_size: usize,
}

/// The v2 B-tree header (spec III.A.2, "Version 2 B-tree Header" table), without the
/// checksum that follows it.
#[derive(BinRead)]
#[br(little, magic = b"BTHD", import(sizes: Sizes))]
#[allow(dead_code)] // fields mirror the spec's table; not every one is used
struct HeaderFields {
    #[br(assert(version == 0, "unknown version {}", version))]
    version: u8,
    tree_type: u8,
    node_size: u32,
    record_size: u16,
    depth: u16,
    split_percent: u8,
    merge_percent: u8,
    #[br(parse_with = fixed::addr, args(sizes))]
    root_node_address: u64,
    root_node_records: u16,
    #[br(parse_with = fixed::length, args(sizes))]
    total_records: u64,
}

/// Bytes of a header, its checksum included.
fn header_len(sizes: Sizes) -> u64 {
    4 + 1 + 1 + 4 + 2 + 2 + 1 + 1 + u64::from(sizes.offset) + 2 + u64::from(sizes.length) + 4
}

/// Bytes needed to encode values up to `limit` (libhdf5's "limit encode size").
fn limit_enc_size(limit: u64) -> usize {
    let log2 = 63 - limit.max(1).leading_zeros();
    (log2 / 8 + 1) as usize
}

impl Header {
    /// Read and verify the header at `address`.
    pub fn read(source: &Source, sizes: Sizes, address: u64) -> Result<Self> {
        const WHAT: &str = "v2 B-tree header";
        let len = header_len(sizes);
        let bytes = source.read(WHAT, address, len)?;
        verify_checksum(WHAT, address, &bytes)?;
        let (h, _) = fixed::parse::<HeaderFields>(&bytes, address, WHAT, (sizes,))?;
        let HeaderFields {
            tree_type,
            node_size,
            record_size,
            depth,
            split_percent,
            merge_percent,
            root_node_address: root,
            ..
        } = h;
        let root_records = u64::from(h.root_node_records);
        let total_records = h.total_records;
        if record_size == 0 || u64::from(node_size) <= PREFIX + u64::from(record_size) {
            return Err(Error::malformed(
                WHAT,
                address,
                format!("node size {node_size} cannot hold records of {record_size} bytes"),
            ));
        }
        if depth > MAX_DEPTH {
            return Err(Error::malformed(
                WHAT,
                address,
                format!("depth {depth} exceeds {MAX_DEPTH}"),
            ));
        }
        let leaf_max = (u64::from(node_size) - PREFIX) / u64::from(record_size);
        let max_nrec_size = limit_enc_size(leaf_max);
        let mut info = vec![DepthInfo {
            max_nrec: leaf_max,
            cum_max_nrec: leaf_max,
            cum_max_nrec_size: 0,
        }];
        for d in 1..=usize::from(depth) {
            let prev = info[d - 1];
            let ptr =
                u64::from(sizes.offset) + max_nrec_size as u64 + prev.cum_max_nrec_size as u64;
            let room = u64::from(node_size).checked_sub(PREFIX + ptr);
            let max_nrec = room.map_or(0, |r| r / (u64::from(record_size) + ptr));
            if max_nrec == 0 {
                return Err(Error::malformed(
                    WHAT,
                    address,
                    format!("internal nodes at depth {d} cannot hold a record"),
                ));
            }
            let cum = (max_nrec + 1)
                .checked_mul(prev.cum_max_nrec)
                .and_then(|v| v.checked_add(max_nrec))
                .ok_or_else(|| Error::malformed(WHAT, address, "record count overflows"))?;
            info.push(DepthInfo {
                max_nrec,
                cum_max_nrec: cum,
                cum_max_nrec_size: limit_enc_size(cum),
            });
        }
        Ok(Header {
            address,
            tree_type,
            node_size,
            record_size,
            depth,
            split_percent,
            merge_percent,
            root,
            root_records,
            total_records,
            info,
            max_nrec_size,
        })
    }
}

/// A pointer to a node: its address, depth and number of records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodePtr {
    /// Address of the node.
    pub address: u64,
    /// Depth of the node (0 for leaves).
    pub depth: u16,
    /// Records in the node itself.
    pub records: u64,
}

/// A parsed node: records and, for internal nodes, `records + 1` children.
#[derive(Debug, Clone)]
pub struct Node {
    /// Records, concatenated (`record_size` bytes each).
    pub records: Vec<u8>,
    /// Record size.
    pub record_size: usize,
    /// Children (empty for leaves).
    pub children: Vec<NodePtr>,
}

impl Node {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len() / self.record_size.max(1)
    }

    /// Whether the node holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th record, if any.
    pub fn record(&self, i: usize) -> Option<&[u8]> {
        let start = i.checked_mul(self.record_size)?;
        self.records
            .get(start..start.checked_add(self.record_size)?)
    }
}

/// An open v2 B-tree.
pub struct BTree2 {
    source: Source,
    sizes: Sizes,
    header: Header,
    memo: NodeMemo<Node>,
}

impl std::fmt::Debug for BTree2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BTree2")
            .field("header", &self.header)
            .finish()
    }
}

impl BTree2 {
    /// Open the tree whose header is at `address`; `expect_type` checks the record type.
    pub fn open(
        source: Source,
        sizes: Sizes,
        address: u64,
        expect_type: Option<u8>,
    ) -> Result<Self> {
        let header = Header::read(&source, sizes, address)?;
        if let Some(t) = expect_type {
            if header.tree_type != t {
                return Err(Error::malformed(
                    "v2 B-tree header",
                    address,
                    format!("record type {}, expected {t}", header.tree_type),
                ));
            }
        }
        Ok(BTree2 {
            source,
            sizes,
            header,
            memo: NodeMemo::new(MEMO_NODES),
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The root pointer, `None` for an empty tree.
    pub fn root(&self) -> Option<NodePtr> {
        (self.header.root != UNDEF_ADDR && self.header.root_records > 0).then_some(NodePtr {
            address: self.header.root,
            depth: self.header.depth,
            records: self.header.root_records,
        })
    }

    /// The blocks of the tree in the file (address, length): its header and every node, at
    /// the header's node size (libhdf5 allocates each node at it). A node reached twice is
    /// an error.
    pub fn blocks(&self) -> Result<Vec<(u64, u64)>> {
        /// Most nodes walked (a crafted file cannot make the walk run without end).
        const MAX_NODES: usize = 1 << 20;
        let mut out = vec![(self.header.address, header_len(self.sizes))];
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<NodePtr> = self.root().into_iter().collect();
        while let Some(p) = stack.pop() {
            if !seen.insert(p.address) || seen.len() > MAX_NODES {
                return Err(Error::Cycle {
                    what: "v2 B-tree",
                    offset: p.address,
                });
            }
            out.push((p.address, u64::from(self.header.node_size)));
            if p.depth > 0 {
                stack.extend(self.node(p)?.children.iter().copied());
            }
        }
        Ok(out)
    }

    /// Read (or recall) the node `ptr` points to.
    pub fn node(&self, ptr: NodePtr) -> Result<Arc<Node>> {
        self.memo.get_or_load(ptr.address, || self.load_node(ptr))
    }

    fn load_node(&self, ptr: NodePtr) -> Result<Node> {
        let h = &self.header;
        let internal = ptr.depth > 0;
        let what: &'static str = if internal {
            "v2 B-tree internal node"
        } else {
            "v2 B-tree leaf node"
        };
        let info = h
            .info
            .get(usize::from(ptr.depth))
            .ok_or_else(|| Error::malformed(what, ptr.address, "node deeper than the tree"))?;
        if ptr.records > info.max_nrec {
            return Err(Error::malformed(
                what,
                ptr.address,
                format!("{} records, at most {} fit", ptr.records, info.max_nrec),
            ));
        }
        let rec_size = usize::from(h.record_size);
        let nrec = ptr.records as usize;
        let (child_total_size, ptr_size) = if internal {
            let below = h.info[usize::from(ptr.depth) - 1];
            let total = if ptr.depth > 1 {
                below.cum_max_nrec_size
            } else {
                0
            };
            (
                total,
                usize::from(self.sizes.offset) + h.max_nrec_size + total,
            )
        } else {
            (0, 0)
        };
        let body = nrec * rec_size + if internal { (nrec + 1) * ptr_size } else { 0 };
        let len = 6 + body as u64 + 4;
        if len > u64::from(h.node_size) {
            return Err(Error::malformed(
                what,
                ptr.address,
                "node contents exceed the node size",
            ));
        }
        let bytes = self.source.read(what, ptr.address, len)?;
        verify_checksum(what, ptr.address, &bytes)?;
        let mut c = Cursor::new(&bytes, ptr.address, what, self.sizes);
        c.expect_signature(if internal { b"BTIN" } else { b"BTLF" })?;
        let version = c.u8()?;
        if version != 0 {
            return Err(c.err(format!("unknown version {version}")));
        }
        let t = c.u8()?;
        if t != h.tree_type {
            return Err(c.err(format!("record type {t}, header says {}", h.tree_type)));
        }
        let records = c.bytes(nrec * rec_size)?.to_vec();
        let mut children = Vec::new();
        if internal {
            children.reserve(nrec + 1);
            for _ in 0..=nrec {
                let address = c.addr()?;
                let records = c.uint(h.max_nrec_size)?;
                if child_total_size > 0 {
                    c.skip(child_total_size)?;
                }
                if address == UNDEF_ADDR {
                    return Err(c.err("undefined child address"));
                }
                children.push(NodePtr {
                    address,
                    depth: ptr.depth - 1,
                    records,
                });
            }
        }
        Ok(Node {
            records,
            record_size: rec_size,
            children,
        })
    }

    /// Call `f` on every record, in key order.
    pub fn for_each(&self, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        match self.root() {
            Some(root) => self.walk(root, f),
            None => Ok(()),
        }
    }

    fn walk(&self, ptr: NodePtr, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        let node = self.node(ptr)?;
        let n = node.len();
        for i in 0..n {
            if let Some(child) = node.children.get(i) {
                self.walk(*child, f)?;
            }
            if let Some(r) = node.record(i) {
                f(r)?;
            }
        }
        if let Some(child) = node.children.get(n) {
            self.walk(*child, f)?;
        }
        Ok(())
    }

    /// Find the record for which `cmp(record)` is `Equal`; `cmp` orders a record against the
    /// searched key (`Less`: the record sorts before the key).
    pub fn find(&self, cmp: &dyn Fn(&[u8]) -> Ordering) -> Result<Option<Vec<u8>>> {
        let Some(mut ptr) = self.root() else {
            return Ok(None);
        };
        loop {
            let node = self.node(ptr)?;
            let (mut lo, mut hi) = (0usize, node.len());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                let rec = node.record(mid).unwrap_or_default();
                match cmp(rec) {
                    Ordering::Less => lo = mid + 1,
                    Ordering::Greater => hi = mid,
                    Ordering::Equal => return Ok(Some(rec.to_vec())),
                }
            }
            match node.children.get(lo) {
                Some(child) => ptr = *child,
                None => return Ok(None),
            }
        }
    }
}

/// Every record of the v2 B-tree at `addr` whose records are of `expected_type`, in key
/// order, each with the tree's address (for error messages of the caller's decoding).
pub fn all_records(
    source: &Source,
    sizes: Sizes,
    addr: u64,
    expected_type: u8,
) -> Result<Vec<(u64, Vec<u8>)>> {
    let tree = BTree2::open(source.clone(), sizes, addr, Some(expected_type))?;
    let mut out = Vec::new();
    tree.for_each(&mut |rec| {
        out.push((addr, rec.to_vec()));
        Ok(())
    })?;
    Ok(out)
}
