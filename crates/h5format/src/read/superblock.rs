//! Superblock (spec III.A): versions 0, 1, 2 and 3, found at 0, 512, 1024, 2048, ...

use crate::cursor::{verify_checksum, Cursor, Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::fixed;
use crate::io::Source;
use crate::read::symbol_table::SymbolTableEntry;
use binrw::BinRead;

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
        let (head, used) = fixed::parse::<Head>(&bytes, pos, WHAT, ())?;
        let body = &bytes[used..];
        let at = pos + used as u64;
        match head.version {
            0 | 1 => {
                let (f, n) = fixed::parse::<FieldsV01>(body, at, WHAT, (head.version,))?;
                let sizes = Sizes {
                    offset: f.size_of_offsets,
                    length: f.size_of_lengths,
                };
                let mut c = Cursor::new(&body[n..], at + n as u64, WHAT, sizes);
                let root_entry = SymbolTableEntry::parse(&mut c)?;
                Ok(Superblock {
                    version: head.version,
                    position: pos,
                    sizes,
                    group_leaf_k: f.group_leaf_node_k,
                    group_internal_k: f.group_internal_node_k,
                    indexed_storage_k: f.indexed_storage_internal_node_k,
                    base_address: f.addresses.base_address,
                    eof_address: f.addresses.end_of_file_address,
                    extension_address: None,
                    root_address: root_entry.header_address,
                    root_entry: Some(root_entry),
                })
            }
            2 | 3 => {
                let (f, n) = fixed::parse::<FieldsV23>(body, at, WHAT, ())?;
                // The checksum follows the fields and covers everything before it.
                let end = used + n + 4;
                let covered = bytes.get(..end).ok_or_else(|| Error::OutOfBounds {
                    what: WHAT,
                    offset: pos,
                    len: end as u64,
                    end: source.len(),
                })?;
                verify_checksum(WHAT, pos, covered)?;
                let ext = f.superblock_extension_address;
                Ok(Superblock {
                    version: head.version,
                    position: pos,
                    sizes: f.sizes(),
                    group_leaf_k: 4,
                    group_internal_k: 16,
                    indexed_storage_k: 32,
                    base_address: f.base_address,
                    eof_address: f.end_of_file_address,
                    extension_address: (ext != UNDEF_ADDR).then_some(ext),
                    root_address: f.root_group_object_header_address,
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

/// Signature and version, common to every superblock version.
#[derive(BinRead)]
#[br(little, magic = b"\x89HDF\r\n\x1a\n")]
struct Head {
    version: u8,
}

fn valid_width(w: u8) -> bool {
    matches!(w, 2 | 4 | 8)
}

/// Superblock versions 0 and 1 after the version byte, up to the root group symbol table
/// entry (spec III.A.1, "Superblock Version 0" / "Version 1" tables).
#[derive(BinRead)]
#[br(little, import(version: u8))]
#[allow(dead_code)] // fields mirror the spec's table; not every one is used
struct FieldsV01 {
    free_space_storage_version: u8,
    root_group_symbol_table_entry_version: u8,
    reserved0: u8,
    shared_header_message_format_version: u8,
    #[br(assert(
        valid_width(size_of_offsets),
        "size of offsets {} is not 2, 4 or 8",
        size_of_offsets
    ))]
    size_of_offsets: u8,
    #[br(assert(
        valid_width(size_of_lengths),
        "size of lengths {} is not 2, 4 or 8",
        size_of_lengths
    ))]
    size_of_lengths: u8,
    reserved1: u8,
    #[br(assert(group_leaf_node_k > 0, "group B-tree K of zero"))]
    group_leaf_node_k: u16,
    #[br(assert(group_internal_node_k > 0, "group B-tree K of zero"))]
    group_internal_node_k: u16,
    file_consistency_flags: u32,
    /// Version 1 only (libhdf5's default of 32 otherwise).
    #[br(if(version == 1, 32))]
    indexed_storage_internal_node_k: u16,
    #[br(if(version == 1))]
    reserved2: u16,
    #[br(args(Sizes { offset: size_of_offsets, length: size_of_lengths }))]
    addresses: AddressesV01,
}

/// The four addresses of superblock versions 0 and 1.
#[derive(BinRead)]
#[br(little, import(sizes: Sizes))]
#[allow(dead_code)]
struct AddressesV01 {
    #[br(parse_with = fixed::addr, args(sizes))]
    base_address: u64,
    #[br(parse_with = fixed::addr, args(sizes))]
    free_space_info_address: u64,
    #[br(parse_with = fixed::addr, args(sizes))]
    end_of_file_address: u64,
    #[br(parse_with = fixed::addr, args(sizes))]
    driver_information_block_address: u64,
}

/// Superblock versions 2 and 3 after the version byte, without the checksum (spec III.A.1,
/// "Superblock Version 2" table).
#[derive(BinRead)]
#[br(little)]
#[allow(dead_code)]
struct FieldsV23 {
    #[br(assert(
        valid_width(size_of_offsets),
        "size of offsets {} is not 2, 4 or 8",
        size_of_offsets
    ))]
    size_of_offsets: u8,
    #[br(assert(
        valid_width(size_of_lengths),
        "size of lengths {} is not 2, 4 or 8",
        size_of_lengths
    ))]
    size_of_lengths: u8,
    file_consistency_flags: u8,
    #[br(parse_with = fixed::addr, args(Sizes { offset: size_of_offsets, length: size_of_lengths }))]
    base_address: u64,
    #[br(parse_with = fixed::addr, args(Sizes { offset: size_of_offsets, length: size_of_lengths }))]
    superblock_extension_address: u64,
    #[br(parse_with = fixed::addr, args(Sizes { offset: size_of_offsets, length: size_of_lengths }))]
    end_of_file_address: u64,
    #[br(parse_with = fixed::addr, args(Sizes { offset: size_of_offsets, length: size_of_lengths }))]
    root_group_object_header_address: u64,
}

impl FieldsV23 {
    fn sizes(&self) -> Sizes {
        Sizes {
            offset: self.size_of_offsets,
            length: self.size_of_lengths,
        }
    }
}
