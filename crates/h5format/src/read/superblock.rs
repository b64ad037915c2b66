//! Superblock (spec III.A): versions 0, 1, 2 and 3, found at 0, 512, 1024, 2048, ...

use crate::cursor::{verify_checksum, Cursor, Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::io::Source;
use crate::read::symbol_table::SymbolTableEntry;

/// The 8-byte format signature.
pub const SIGNATURE: [u8; 8] = *b"\x89HDF\r\n\x1a\n";

/// The parsed superblock.
#[derive(Debug, Clone)]
pub struct Superblock {
    /// Superblock version (0..=3).
    pub version: u8,
    /// Byte offset of the superblock in the source (the user block's size).
    pub position: u64,
    /// Widths of addresses and lengths.
    pub sizes: Sizes,
    /// Group B-tree leaf node K (v0/v1).
    pub group_leaf_k: u16,
    /// Group B-tree internal node K (v0/v1).
    pub group_internal_k: u16,
    /// Chunk B-tree internal node K (v1; 32 otherwise).
    pub indexed_storage_k: u16,
    /// Absolute base address of the file.
    pub base_address: u64,
    /// End-of-file address (relative to base).
    pub eof_address: u64,
    /// Superblock extension object header address (v2/v3), if any.
    pub extension_address: Option<u64>,
    /// Object header address of the root group.
    pub root_address: u64,
    /// Root symbol table entry (v0/v1): carries cached B-tree/heap addresses.
    pub root_entry: Option<SymbolTableEntry>,
}

impl Superblock {
    /// Find and parse the superblock of `source`.
    pub fn find(source: &Source) -> Result<Self> {
        let mut pos = 0u64;
        loop {
            if pos.checked_add(8).is_none_or(|end| end > source.len()) {
                return Err(Error::malformed(
                    "superblock",
                    0,
                    "no HDF5 signature found (not an HDF5 file, or truncated)",
                ));
            }
            if source.read("superblock signature", pos, 8)?.as_ref() == SIGNATURE {
                return Self::parse_at(source, pos);
            }
            pos = if pos == 0 { 512 } else { pos * 2 };
        }
    }

    fn parse_at(source: &Source, pos: u64) -> Result<Self> {
        const WHAT: &str = "superblock";
        // The largest superblock (v1, 8-byte fields) is well under 256 bytes.
        let bytes = source.read_up_to(WHAT, pos, 256)?;
        let mut c = Cursor::new(&bytes, pos, WHAT, Sizes::default());
        c.skip(8)?;
        let version = c.u8()?;
        match version {
            0 | 1 => {
                c.skip(3)?; // free-space, root group STE, reserved
                c.skip(1)?; // shared header message format version
                let sizes = read_sizes(&mut c)?;
                c.skip(1)?;
                let group_leaf_k = c.u16()?;
                let group_internal_k = c.u16()?;
                c.skip(4)?; // file consistency flags
                let indexed_storage_k = if version == 1 {
                    let k = c.u16()?;
                    c.skip(2)?;
                    k
                } else {
                    32
                };
                let mut c = Cursor::new(c.rest(), c.offset(), WHAT, sizes);
                let base_address = c.addr()?;
                let _free_space = c.addr()?;
                let eof_address = c.addr()?;
                let _driver_info = c.addr()?;
                let root_entry = SymbolTableEntry::parse(&mut c)?;
                if group_leaf_k == 0 || group_internal_k == 0 {
                    return Err(Error::malformed(WHAT, pos, "group B-tree K of zero"));
                }
                Ok(Superblock {
                    version,
                    position: pos,
                    sizes,
                    group_leaf_k,
                    group_internal_k,
                    indexed_storage_k,
                    base_address,
                    eof_address,
                    extension_address: None,
                    root_address: root_entry.header_address,
                    root_entry: Some(root_entry),
                })
            }
            2 | 3 => {
                let sizes = read_sizes(&mut c)?;
                c.skip(1)?; // file consistency flags
                let mut c2 = Cursor::new(c.rest(), c.offset(), WHAT, sizes);
                let base_address = c2.addr()?;
                let ext = c2.addr()?;
                let eof_address = c2.addr()?;
                let root_address = c2.addr()?;
                let end = 12 + 4 * usize::from(sizes.offset);
                verify_checksum(
                    WHAT,
                    pos,
                    bytes.get(..end + 4).ok_or_else(|| Error::OutOfBounds {
                        what: WHAT,
                        offset: pos,
                        len: end as u64 + 4,
                        end: source.len(),
                    })?,
                )?;
                Ok(Superblock {
                    version,
                    position: pos,
                    sizes,
                    group_leaf_k: 4,
                    group_internal_k: 16,
                    indexed_storage_k: 32,
                    base_address,
                    eof_address,
                    extension_address: (ext != UNDEF_ADDR).then_some(ext),
                    root_address,
                    root_entry: None,
                })
            }
            v => Err(Error::malformed(
                WHAT,
                pos,
                format!("unknown superblock version {v}"),
            )),
        }
    }
}

fn read_sizes(c: &mut Cursor<'_>) -> Result<Sizes> {
    let at = c.offset();
    let offset = c.u8()?;
    let length = c.u8()?;
    for s in [offset, length] {
        if !matches!(s, 2 | 4 | 8) {
            return Err(Error::malformed(
                "superblock",
                at,
                format!("size of offsets/lengths {s} is not 2, 4 or 8"),
            ));
        }
    }
    Ok(Sizes { offset, length })
}
