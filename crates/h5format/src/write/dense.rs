//! Dense attribute storage: the attribute messages in a fractal heap, indexed by a v2 B-tree
//! of name hashes (record type 8), announced by an attribute info message (0x0015).
//!
//! The fractal heap is written as libhdf5 reads it but in its simplest shape: the root block
//! is one direct block (no indirect blocks) whose size is the smallest power of two, at least
//! 512 bytes, holding every message as a managed object; the v2 B-tree is one leaf node
//! (a node size large enough for every record). Both are plain, valid instances of the
//! structures: libhdf5 derives everything else (heap ID widths, node capacities) from the
//! header fields we write.

use super::encode::{usage, Put, Widths, UNDEF};
use super::sink::Out;
use crate::checksum::lookup3;
use crate::error::Result;

/// Largest attribute message we store (the direct block holding it stays under 16 MiB).
pub(crate) const MAX_ATTRIBUTE: usize = (1 << 24) - 64;
/// Heap ID length of dense attribute storage (libhdf5's `H5O_FHEAP_ID_LEN`).
const ID_LEN: usize = 8;
/// Width of the doubling table (libhdf5's default).
const TABLE_WIDTH: u16 = 4;
/// Bytes of a fractal heap header with 8-byte offsets and lengths.
const HEAP_HEADER_LEN: u64 = 146;
/// Size of a type-8 record: heap ID, message flags, creation order, name hash.
const ATTR_RECORD_LEN: usize = ID_LEN + 1 + 4 + 4;
/// v2 B-tree record type of the attribute name index.
const ATTR_NAME_INDEX: u8 = 8;

/// Bytes needed for `bits` bits.
fn bytes_for_bits(bits: u32) -> usize {
    bits.div_ceil(8) as usize
}

/// Write `objects` into a new fractal heap; returns its header address and one heap ID per
/// object.
pub(crate) fn write_heap(out: &mut Out, objects: &[Vec<u8>]) -> Result<(u64, Vec<[u8; ID_LEN]>)> {
    // Direct block header: signature, version, heap header address, block offset, checksum.
    let payload: u64 = objects.iter().map(|o| o.len() as u64).sum();
    let mut bits = 9u32;
    let (off_size, len_size, block_header) = loop {
        let max_index = bits + TABLE_WIDTH.trailing_zeros();
        let off_size = bytes_for_bits(max_index);
        let block_header = (4 + 1 + 8 + off_size + 4) as u64;
        let block = 1u64 << bits;
        let max_man = block - block_header;
        let man_len = (63 - max_man.max(1).leading_zeros()) as usize / 8 + 1;
        let len_size = bytes_for_bits(bits).min(man_len);
        if block_header + payload <= block {
            break (off_size, len_size, block_header);
        }
        bits += 1;
        if bits > 24 {
            return Err(usage(format!(
                "attributes of one object need {payload} bytes, over the 16 MiB of dense \
                 attribute storage we write"
            )));
        }
    };
    if 1 + off_size + len_size > ID_LEN {
        return Err(usage("fractal heap IDs do not fit in 8 bytes"));
    }
    let block = 1u64 << bits;
    let max_index = bits + TABLE_WIDTH.trailing_zeros();
    let max_man = block - block_header;

    let header_at = out.alloc(HEAP_HEADER_LEN)?;
    let block_at = out.alloc(block)?;

    // The direct block with its objects.
    let mut blk = Vec::with_capacity(block as usize);
    blk.extend_from_slice(b"FHDB");
    blk.put_u8(0);
    blk.put_u64(header_at);
    blk.extend_from_slice(&0u64.to_le_bytes()[..off_size]);
    let sum_at = blk.len();
    blk.put_u32(0);
    let mut ids = Vec::with_capacity(objects.len());
    for o in objects {
        let offset = blk.len() as u64;
        let mut id = [0u8; ID_LEN];
        id[1..1 + off_size].copy_from_slice(&offset.to_le_bytes()[..off_size]);
        id[1 + off_size..1 + off_size + len_size]
            .copy_from_slice(&(o.len() as u64).to_le_bytes()[..len_size]);
        ids.push(id);
        blk.extend_from_slice(o);
    }
    let used = blk.len() as u64;
    blk.resize(block as usize, 0);
    let sum = lookup3(&blk, 0);
    blk[sum_at..sum_at + 4].copy_from_slice(&sum.to_le_bytes());

    let mut h = Vec::with_capacity(HEAP_HEADER_LEN as usize);
    h.extend_from_slice(b"FRHP");
    h.put_u8(0);
    h.put_u16(ID_LEN as u16);
    h.put_u16(0); // I/O filters' encoded length
    h.put_u8(0x02); // direct blocks are checksummed
    h.put_u32(max_man as u32);
    h.put_u64(0); // next huge object ID
    h.put_u64(UNDEF); // v2 B-tree of huge objects
    h.put_u64(block - used); // free space in managed blocks
    h.put_u64(UNDEF); // free-space manager
    h.put_u64(block); // managed space
    h.put_u64(block); // allocated managed space
    h.put_u64(block); // direct block allocation iterator
    h.put_u64(objects.len() as u64); // managed objects
    h.put_u64(0); // huge objects: size
    h.put_u64(0); // huge objects: count
    h.put_u64(0); // tiny objects: size
    h.put_u64(0); // tiny objects: count
    h.put_u16(TABLE_WIDTH);
    h.put_u64(block); // starting block size
    h.put_u64(block); // maximum direct block size
    h.put_u16(max_index as u16); // maximum heap size (bits)
    h.put_u16(1); // starting rows of the root indirect block
    h.put_u64(block_at); // root block: the direct block
    h.put_u16(0); // current rows of the root indirect block: 0 = root is direct
    let sum = lookup3(&h, 0);
    h.put_u32(sum);
    debug_assert_eq!(h.len() as u64, HEAP_HEADER_LEN);

    out.write_at(header_at, &h)?;
    out.write_at(block_at, &blk)?;
    Ok((header_at, ids))
}

/// Write a v2 B-tree of `kind` holding `records` (already in index order, each
/// `record_len` bytes) as one leaf; returns the header address.
pub(crate) fn write_btree2(
    out: &mut Out,
    kind: u8,
    record_len: usize,
    records: &[Vec<u8>],
) -> Result<u64> {
    let n = u16::try_from(records.len())
        .map_err(|_| usage(format!("{} records in one v2 B-tree leaf", records.len())))?;
    let node_size = (10 + record_len * records.len()).max(512);
    let mut leaf = Vec::with_capacity(node_size);
    leaf.extend_from_slice(b"BTLF");
    leaf.put_u8(0);
    leaf.put_u8(kind);
    for r in records {
        leaf.extend_from_slice(r);
    }
    let sum = lookup3(&leaf, 0);
    leaf.put_u32(sum);
    leaf.resize(node_size, 0);
    let leaf_at = out.append(&leaf)?;

    let mut h = Vec::with_capacity(38);
    h.extend_from_slice(b"BTHD");
    h.put_u8(0);
    h.put_u8(kind);
    h.put_u32(node_size as u32);
    h.put_u16(record_len as u16);
    h.put_u16(0); // depth
    h.put_u8(100); // split percent
    h.put_u8(40); // merge percent
    h.put_u64(leaf_at);
    h.put_u16(n);
    h.put_u64(records.len() as u64);
    let sum = lookup3(&h, 0);
    h.put_u32(sum);
    out.append(&h)
}

/// Store attribute messages (`(name, body)` in creation order) densely; returns the
/// (fractal heap, name index) addresses.
pub(crate) fn write_attributes(out: &mut Out, attrs: &[(String, Vec<u8>)]) -> Result<(u64, u64)> {
    let w = Widths::current();
    if !w.is_eight() {
        return Err(crate::error::Error::unsupported(
            "write",
            format!(
                "dense attribute storage (an attribute over 64 KiB) in a file with {}-byte \
                 addresses and {}-byte lengths",
                w.offset, w.length
            ),
        ));
    }
    let bodies: Vec<Vec<u8>> = attrs.iter().map(|(_, b)| b.clone()).collect();
    let (heap, ids) = write_heap(out, &bodies)?;
    let mut recs: Vec<(u32, &str, Vec<u8>)> = attrs
        .iter()
        .zip(&ids)
        .enumerate()
        .map(|(i, ((name, _), id))| {
            let hash = lookup3(name.as_bytes(), 0);
            let mut r = Vec::with_capacity(ATTR_RECORD_LEN);
            r.extend_from_slice(id);
            r.put_u8(0); // message flags
            r.put_u32(i as u32); // creation order
            r.put_u32(hash);
            (hash, name.as_str(), r)
        })
        .collect();
    // libhdf5 orders the name index by hash, then by name.
    recs.sort_by(|a, b| (a.0, a.1.as_bytes()).cmp(&(b.0, b.1.as_bytes())));
    let records: Vec<Vec<u8>> = recs.into_iter().map(|(_, _, r)| r).collect();
    let index = write_btree2(out, ATTR_NAME_INDEX, ATTR_RECORD_LEN, &records)?;
    Ok((heap, index))
}

/// The attribute info message body (version 0). `dense` = (heap, name index) addresses.
pub(crate) fn attribute_info(tracked: bool, count: usize, dense: Option<(u64, u64)>) -> Vec<u8> {
    let mut b = Vec::with_capacity(20);
    b.put_u8(0);
    b.put_u8(u8::from(tracked));
    if tracked {
        b.put_u16(count.min(u16::MAX as usize) as u16); // maximum creation index
    }
    let (heap, index) = dense.unwrap_or((UNDEF, UNDEF));
    b.put_addr(heap);
    b.put_addr(index);
    b
}
