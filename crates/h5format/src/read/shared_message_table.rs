//! Shared object header messages (SOHM, spec III.E): the Shared Message Table message
//! (0x000F) in the superblock extension, the master table ("SMTB") it points to, and the
//! list indexes ("SMLI").
//!
//! A message stored once for the whole file lives in the fractal heap of the index that covers
//! its message type; object headers refer to it with a version-3 shared message whose heap ID
//! points into that heap. Resolving such a reference needs only the table (which heap holds
//! which message types); the list and B-tree indexes are what libhdf5 uses to find duplicates
//! when writing, and are decoded here for inspection only.

use crate::cursor::{verify_checksum, Cursor, Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::io::Source;
use crate::read::object_header::msg;

const TABLE: &str = "shared message table";
const LIST: &str = "shared message list";

/// Most indexes a table may have (libhdf5's `H5O_SHMESG_MAX_NINDEXES`).
pub const MAX_INDEXES: u8 = 8;

/// The Shared Message Table message (0x000F) of the superblock extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedMessageTableMessage {
    /// Address of the master table ("SMTB").
    pub table_address: u64,
    /// Number of indexes in the table.
    pub index_count: u8,
}

impl SharedMessageTableMessage {
    /// Parse the message body.
    pub fn parse(c: &mut Cursor<'_>) -> Result<Self> {
        let version = c.u8()?;
        if version != 0 {
            return Err(c.err(format!(
                "unknown shared message table message version {version}"
            )));
        }
        let table_address = c.addr()?;
        let index_count = c.u8()?;
        if index_count == 0 || index_count > MAX_INDEXES {
            return Err(c.err(format!(
                "{index_count} shared message indexes (1 to {MAX_INDEXES} allowed)"
            )));
        }
        Ok(SharedMessageTableMessage {
            table_address,
            index_count,
        })
    }
}

/// How one index is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    /// A list ("SMLI" block).
    List,
    /// A version 2 B-tree (record type 7).
    BTree,
}

/// One index of the master table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedMessageIndex {
    /// List or B-tree.
    pub kind: IndexKind,
    /// Message types kept in this index (bit `1 << type`, see [`type_flag`]).
    pub type_flags: u16,
    /// Messages smaller than this are not shared.
    pub min_message_size: u32,
    /// Above this many messages the list becomes a B-tree.
    pub list_cutoff: u16,
    /// Below this many messages the B-tree becomes a list.
    pub btree_cutoff: u16,
    /// Number of messages in the index.
    pub message_count: u16,
    /// Address of the list or B-tree.
    pub index_address: u64,
    /// Address of the fractal heap holding the messages.
    pub heap_address: u64,
}

/// The SOHM flag bit of a message type, if that type can be shared this way. libhdf5 uses
/// bit `1 << type` (dataspace 0x0002, datatype 0x0008, fill value 0x0020, filter pipeline
/// 0x0800, attribute 0x1000), not the consecutive bits the format specification lists.
pub fn type_flag(kind: u16) -> Option<u16> {
    match kind {
        msg::DATASPACE
        | msg::DATATYPE
        | msg::FILL_VALUE
        | msg::FILTER_PIPELINE
        | msg::ATTRIBUTE => Some(1 << kind),
        _ => None,
    }
}

/// The master table: the file's shared message indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedMessageTable {
    /// Address of the table.
    pub address: u64,
    /// The indexes, in stored order.
    pub indexes: Vec<SharedMessageIndex>,
}

impl SharedMessageTable {
    /// Read and check the table that `m` points to.
    pub fn read(source: &Source, sizes: Sizes, m: SharedMessageTableMessage) -> Result<Self> {
        let o = usize::from(sizes.offset);
        let entry = 1 + 1 + 2 + 4 + 2 + 2 + 2 + 2 * o;
        let len = 4 + usize::from(m.index_count) * entry + 4;
        let bytes = source.read(TABLE, m.table_address, len as u64)?;
        let mut c = Cursor::new(&bytes, m.table_address, TABLE, sizes);
        c.expect_signature(b"SMTB")?;
        let mut indexes = Vec::with_capacity(usize::from(m.index_count));
        for _ in 0..m.index_count {
            let version = c.u8()?;
            if version != 0 {
                return Err(c.err(format!("unknown shared message index version {version}")));
            }
            let kind = match c.u8()? {
                0 => IndexKind::List,
                1 => IndexKind::BTree,
                k => return Err(c.err(format!("unknown shared message index type {k}"))),
            };
            indexes.push(SharedMessageIndex {
                kind,
                type_flags: c.u16()?,
                min_message_size: c.u32()?,
                list_cutoff: c.u16()?,
                btree_cutoff: c.u16()?,
                message_count: c.u16()?,
                index_address: c.addr()?,
                heap_address: c.addr()?,
            });
        }
        verify_checksum(TABLE, m.table_address, &bytes)?;
        Ok(SharedMessageTable {
            address: m.table_address,
            indexes,
        })
    }

    /// The index that keeps messages of header message type `kind`, if any.
    pub fn index_for(&self, kind: u16) -> Option<&SharedMessageIndex> {
        let flag = type_flag(kind)?;
        self.indexes.iter().find(|i| i.type_flags & flag != 0)
    }
}

/// Where a message recorded in an index is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordLocation {
    /// In the index's fractal heap.
    Heap {
        /// Number of object headers sharing it.
        ref_count: u32,
        /// Fractal heap ID.
        heap_id: [u8; 8],
    },
    /// Left in one object header (only one user so far).
    ObjectHeader {
        /// Header message type.
        message_type: u8,
        /// Index of the message among those of its type in the header.
        creation_index: u16,
        /// Address of the object header.
        address: u64,
    },
}

/// One record of a shared message index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedMessageRecord {
    /// Hash of the encoded message (lookup3).
    pub hash: u32,
    /// Where the message is.
    pub location: RecordLocation,
}

/// Bytes of one list record: location, hash, then the larger of the two location forms.
fn record_size(sizes: Sizes) -> usize {
    1 + 4 + (4 + 8).max(1 + 1 + 2 + usize::from(sizes.offset))
}

/// Read the records of a list index ("SMLI" block).
pub fn list_records(
    source: &Source,
    sizes: Sizes,
    index: &SharedMessageIndex,
) -> Result<Vec<SharedMessageRecord>> {
    if index.kind != IndexKind::List {
        return Err(Error::unsupported(
            "shared message index",
            "records of a B-tree index",
        ));
    }
    let at = index.index_address;
    if at == UNDEF_ADDR {
        // An index that never held a message has no list yet.
        return Ok(Vec::new());
    }
    let rec = record_size(sizes);
    let n = usize::from(index.message_count);
    let len = 4 + n * rec + 4;
    let bytes = source.read(LIST, at, len as u64)?;
    let mut c = Cursor::new(&bytes, at, LIST, sizes);
    c.expect_signature(b"SMLI")?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let body = c.bytes(rec)?;
        let body_at = c.offset().saturating_sub(rec as u64);
        let mut r = Cursor::new(body, body_at, LIST, sizes);
        let loc = r.u8()?;
        let hash = r.u32()?;
        let location = match loc {
            0 => {
                let ref_count = r.u32()?;
                let mut heap_id = [0u8; 8];
                heap_id.copy_from_slice(r.bytes(8)?);
                RecordLocation::Heap { ref_count, heap_id }
            }
            1 => {
                r.skip(1)?;
                RecordLocation::ObjectHeader {
                    message_type: r.u8()?,
                    creation_index: r.u16()?,
                    address: r.addr()?,
                }
            }
            k => return Err(r.err(format!("unknown shared message location {k}"))),
        };
        out.push(SharedMessageRecord { hash, location });
    }
    // The checksum follows the records in use and covers the signature and them.
    verify_checksum(LIST, at, &bytes)?;
    Ok(out)
}
