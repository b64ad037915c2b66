//! The superblock of [`Format::Latest`](super::Format::Latest) files: version 3 (libhdf5
//! 1.10+, what h5py writes with `libver="latest"`), 48 bytes with 8-byte offsets and lengths:
//! the root group's object header address instead of a symbol table entry, no superblock
//! extension, and a lookup3 checksum.

use super::encode::{Put, UNDEF};
use crate::checksum::lookup3;

/// Bytes of the version 3 superblock.
pub(crate) const SIZE: u64 = 48;

/// Encode the superblock of a file ending at `eof` whose root group's header is at `root`.
pub(crate) fn encode(eof: u64, root: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(SIZE as usize);
    b.extend_from_slice(b"\x89HDF\r\n\x1a\n");
    // Version 3, sizes of offsets and lengths, file consistency flags (closed).
    b.extend_from_slice(&[3, 8, 8, 0]);
    b.put_u64(0); // base address
    b.put_u64(UNDEF); // superblock extension
    b.put_u64(eof);
    b.put_u64(root);
    let sum = lookup3(&b, 0);
    b.put_u32(sum);
    b
}
