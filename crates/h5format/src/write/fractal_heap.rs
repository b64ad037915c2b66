//! Fractal heaps of any size, with libhdf5's creation parameters for dense link storage
//! (`H5Gdense.c`): doubling table of width 4, starting blocks of 512 bytes, direct blocks up
//! to 64 KiB, heap size up to 2^32 bytes, one starting root row, checksummed direct blocks,
//! managed objects up to 4 KiB, 7-byte heap IDs.
//!
//! Objects are stored in insertion order, each in the first direct block (in heap-offset
//! order) with room for it; a block too small for the next object is skipped (left
//! unallocated, as libhdf5 skips blocks for a large object). One small heap is a root direct
//! block of 512 bytes; otherwise the root is an indirect block ("FHIB") whose rows beyond the
//! direct rows hold child indirect blocks, recursively, and whose row count is a power of
//! two, as libhdf5 doubles it. No free-space manager is written (libhdf5 creates one when it
//! next adds an object).

use std::collections::HashMap;

use super::encode::{usage, Put, UNDEF};
use super::sink::{Out, Sink};
use crate::checksum::lookup3;
use crate::error::Result;

/// Width of the doubling table.
const WIDTH: u64 = 4;
/// Starting block size.
const START: u64 = 512;
/// Largest direct block.
const MAX_DIRECT: u64 = 64 * 1024;
/// log2 of the heap's address space.
const MAX_INDEX: u32 = 32;
/// Largest managed object.
pub(crate) const MAX_MANAGED: usize = 4096;
/// Bytes of a heap ID.
pub(crate) const ID_LEN: usize = 7;
/// Bytes of a heap offset (`MAX_INDEX` bits).
const OFF_LEN: usize = (MAX_INDEX as usize).div_ceil(8);
/// Bytes of an object length in a heap ID (offsets within a 64 KiB block; 4 KiB objects).
const LEN_LEN: usize = 2;
/// Bytes before the objects of a direct block: signature, version, heap address, block
/// offset, checksum.
const DBLOCK_PREFIX: u64 = 4 + 1 + 8 + OFF_LEN as u64 + 4;
/// Bytes of the heap header with 8-byte offsets and lengths.
const HEADER_LEN: u64 = 146;

/// log2 of a power of two.
fn log2(v: u64) -> u32 {
    63 - v.max(1).leading_zeros()
}

/// Block size of row `r`.
fn row_size(r: u32) -> u64 {
    if r == 0 {
        START
    } else {
        START << (r - 1)
    }
}

/// Heap offset of row `r` within its indirect block.
fn row_offset(r: u32) -> u64 {
    if r == 0 {
        0
    } else {
        (WIDTH * START) << (r - 1)
    }
}

/// Rows whose blocks are direct.
fn max_direct_rows() -> u32 {
    log2(MAX_DIRECT) - log2(START) + 2
}

/// Rows of an indirect block of `size` bytes of heap space (the root: `MAX_INDEX`).
fn rows_for(size_bits: u32) -> u32 {
    size_bits - (log2(START) + log2(WIDTH)) + 1
}

/// Direct blocks in heap-offset order under an indirect block at `off` with `rows` rows;
/// `f` gets (offset, size) and returns false to stop. Returns false when stopped.
fn each_direct(off: u64, rows: u32, f: &mut dyn FnMut(u64, u64) -> bool) -> bool {
    for r in 0..rows {
        for c in 0..WIDTH {
            let at = off + row_offset(r) + c * row_size(r);
            let keep = if r < max_direct_rows() {
                f(at, row_size(r))
            } else {
                each_direct(at, rows_for(log2(row_size(r))), f)
            };
            if !keep {
                return false;
            }
        }
    }
    true
}

/// Write `objects` (each at most [`MAX_MANAGED`] bytes) into a new heap; returns its header
/// address and one heap ID per object.
pub(crate) fn write(out: &mut Out, objects: &[Vec<u8>]) -> Result<(u64, Vec<[u8; ID_LEN]>)> {
    if let Some(o) = objects.iter().find(|o| o.len() > MAX_MANAGED) {
        return Err(usage(format!(
            "fractal heap object of {} bytes, over the {MAX_MANAGED} we store",
            o.len()
        )));
    }
    let header = out.reserve(HEADER_LEN)?;
    // Place the objects: (block offset, block size, first object, end object).
    let mut blocks: Vec<(u64, u64, usize, usize)> = Vec::new();
    let mut offsets = Vec::with_capacity(objects.len());
    let total: u64 = objects.iter().map(|o| o.len() as u64).sum();
    let root_direct = DBLOCK_PREFIX + total <= START;
    if root_direct {
        blocks.push((0, START, 0, objects.len()));
        let mut at = DBLOCK_PREFIX;
        for o in objects {
            offsets.push(at);
            at += o.len() as u64;
        }
    } else {
        let mut next = 0usize;
        let done = !each_direct(0, rows_for(MAX_INDEX), &mut |off, size| {
            let first = next;
            let mut used = DBLOCK_PREFIX;
            while let Some(o) = objects.get(next) {
                if used + o.len() as u64 > size {
                    break;
                }
                offsets.push(off + used);
                used += o.len() as u64;
                next += 1;
            }
            if next > first {
                blocks.push((off, size, first, next));
            }
            next < objects.len()
        });
        if !done && next < objects.len() {
            return Err(usage("objects do not fit in a fractal heap of 4 GiB"));
        }
    }
    // Direct blocks.
    let mut addrs: HashMap<u64, u64> = HashMap::with_capacity(blocks.len());
    let (mut free, mut allocated) = (0u64, 0u64);
    for &(off, size, first, end) in &blocks {
        let mut b = Vec::with_capacity(size as usize);
        b.extend_from_slice(b"FHDB");
        b.put_u8(0);
        b.put_u64(header);
        b.extend_from_slice(&off.to_le_bytes()[..OFF_LEN]);
        let sum_at = b.len();
        b.put_u32(0);
        for o in &objects[first..end] {
            b.extend_from_slice(o);
        }
        free += size - b.len() as u64;
        b.resize(size as usize, 0);
        let sum = lookup3(&b, 0);
        b[sum_at..sum_at + 4].copy_from_slice(&sum.to_le_bytes());
        addrs.insert(off, out.append(&b)?);
        allocated += size;
    }
    let last_end = blocks.last().map_or(0, |b| b.0 + b.1);
    let (root, rows, space, iter) = if root_direct {
        (addrs.get(&0).copied().unwrap_or(UNDEF), 0u32, START, 0)
    } else {
        // Rows up to the last block's, doubled as libhdf5 grows the root.
        let mut needed = 1;
        while row_offset(needed) < last_end {
            needed += 1;
        }
        let rows = needed.next_power_of_two().min(rows_for(MAX_INDEX));
        let root = write_indirect(out, header, 0, rows, &addrs, last_end)?;
        (root, rows, row_offset(rows), last_end)
    };
    let mut h = Vec::with_capacity(HEADER_LEN as usize);
    h.extend_from_slice(b"FRHP");
    h.put_u8(0);
    h.put_u16(ID_LEN as u16);
    h.put_u16(0); // I/O filters' encoded length
    h.put_u8(0x02); // direct blocks are checksummed
    h.put_u32(MAX_MANAGED as u32);
    h.put_u64(0); // next huge object ID
    h.put_u64(UNDEF); // v2 B-tree of huge objects
    h.put_u64(free); // free space in managed blocks
    h.put_u64(UNDEF); // free-space manager
    h.put_u64(space); // managed space
    h.put_u64(allocated); // allocated managed space
    h.put_u64(iter); // direct block allocation iterator
    h.put_u64(objects.len() as u64); // managed objects
    h.put_u64(0); // huge objects: size
    h.put_u64(0); // huge objects: count
    h.put_u64(0); // tiny objects: size
    h.put_u64(0); // tiny objects: count
    h.put_u16(WIDTH as u16);
    h.put_u64(START);
    h.put_u64(MAX_DIRECT);
    h.put_u16(MAX_INDEX as u16);
    h.put_u16(1); // starting rows of the root indirect block
    h.put_u64(root);
    h.put_u16(rows as u16);
    let sum = lookup3(&h, 0);
    h.put_u32(sum);
    out.sink.write_at(header, &h)?;
    let ids = objects
        .iter()
        .zip(offsets)
        .map(|(o, off)| {
            let mut id = [0u8; ID_LEN];
            id[1..1 + OFF_LEN].copy_from_slice(&off.to_le_bytes()[..OFF_LEN]);
            id[1 + OFF_LEN..].copy_from_slice(&(o.len() as u64).to_le_bytes()[..LEN_LEN]);
            id
        })
        .collect();
    Ok((header, ids))
}

/// Write the indirect block at heap offset `off` with `rows` rows (children first); returns
/// its address, or UNDEF when no block under it is allocated (`end`: heap offset after the
/// last allocated block).
fn write_indirect(
    out: &mut Out,
    header: u64,
    off: u64,
    rows: u32,
    direct: &HashMap<u64, u64>,
    end: u64,
) -> Result<u64> {
    if off >= end {
        return Ok(UNDEF);
    }
    let mut entries = Vec::with_capacity((rows as u64 * WIDTH) as usize);
    for r in 0..rows {
        for c in 0..WIDTH {
            let at = off + row_offset(r) + c * row_size(r);
            let addr = if r < max_direct_rows() {
                direct.get(&at).copied().unwrap_or(UNDEF)
            } else {
                let sub = rows_for(log2(row_size(r)));
                write_indirect(out, header, at, sub, direct, end)?
            };
            entries.push(addr);
        }
    }
    let mut b = Vec::with_capacity(entries.len() * 8 + 32);
    b.extend_from_slice(b"FHIB");
    b.put_u8(0);
    b.put_u64(header);
    b.extend_from_slice(&off.to_le_bytes()[..OFF_LEN]);
    for a in entries {
        b.put_u64(a);
    }
    let sum = lookup3(&b, 0);
    b.put_u32(sum);
    out.append(&b)
}
