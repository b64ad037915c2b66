//! The superblock, version 0 (8-byte offsets and lengths).

use super::encode::{Put, UNDEF};
use super::group;

/// Size of the version 0 superblock with its root symbol table entry.
pub(crate) const SIZE: u64 = 96;

/// Encode the superblock for a file ending at `eof` whose root group has header `root`
/// and, for a symbol table root group, symbol table (B-tree, heap) addresses.
pub(crate) fn encode(eof: u64, root: u64, stab: Option<(u64, u64)>) -> Vec<u8> {
    let mut b = Vec::with_capacity(SIZE as usize);
    b.extend_from_slice(b"\x89HDF\r\n\x1a\n");
    // Versions: superblock 0, free-space 0, root group symbol table entry 0, reserved,
    // shared header message format 0; sizes of offsets and lengths; reserved.
    b.extend_from_slice(&[0, 0, 0, 0, 0, 8, 8, 0]);
    b.put_u16(group::LEAF_K);
    b.put_u16(group::INTERNAL_K);
    b.put_u32(0); // file consistency flags
    b.put_u64(0); // base address
    b.put_u64(UNDEF); // free-space info
    b.put_u64(eof);
    b.put_u64(UNDEF); // driver information block
    group::entry(&mut b, 0, root, stab);
    b
}
