//! Shared messages (spec IV.A.2, "shared message" encoding): a message stored in another object
//! header (committed datatypes) or in the shared-message heap.

use crate::cursor::{Cursor, Sizes};
use crate::error::{Error, Result};
use crate::read::datatype::Datatype;

/// Where a shared message lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedRef {
    /// In the object header at this address (committed datatype).
    ObjectHeader(u64),
    /// In the file's shared object header message heap, by heap ID.
    Heap([u8; 8]),
}

/// Parse a shared-message reference (versions 1, 2 and 3).
pub fn parse_ref(c: &mut Cursor<'_>) -> Result<SharedRef> {
    let version = c.u8()?;
    let kind = c.u8()?;
    match version {
        1 => {
            c.skip(6)?;
            Ok(SharedRef::ObjectHeader(c.addr()?))
        }
        2 => Ok(SharedRef::ObjectHeader(c.addr()?)),
        3 if kind == 1 => {
            let mut id = [0u8; 8];
            id.copy_from_slice(c.bytes(8)?);
            Ok(SharedRef::Heap(id))
        }
        3 => Ok(SharedRef::ObjectHeader(c.addr()?)),
        v => Err(c.err(format!("unknown shared message version {v}"))),
    }
}

/// A datatype given inline or by reference to a committed one.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeRef {
    /// Stored in place.
    Inline(Datatype),
    /// Stored elsewhere; resolve through the file.
    Shared(SharedRef),
}

/// Parse datatype bytes that may be a shared reference.
pub fn parse_type(bytes: &[u8], offset: u64, shared: bool, sizes: Sizes) -> Result<TypeRef> {
    let mut c = Cursor::new(bytes, offset, "datatype message", sizes);
    if shared {
        Ok(TypeRef::Shared(parse_ref(&mut c)?))
    } else {
        Datatype::parse(&mut c).map(TypeRef::Inline)
    }
}

/// Looks up messages kept in the file's shared object header message heaps (SOHM).
pub trait SharedResolver {
    /// The body of the message of header message type `kind` whose SOHM heap ID is
    /// `heap_id`, with the address of the heap it came from (for errors).
    fn heap_message(&self, kind: u16, heap_id: &[u8; 8]) -> Result<(u64, Vec<u8>)>;
}

/// A resolver for callers without a file: every SOHM reference is unsupported.
pub struct NoSharedHeap;

impl SharedResolver for NoSharedHeap {
    fn heap_message(&self, _kind: u16, _heap_id: &[u8; 8]) -> Result<(u64, Vec<u8>)> {
        Err(unsupported_heap())
    }
}

/// Error for a shared message we cannot follow.
pub fn unsupported_heap() -> Error {
    Error::unsupported(
        "shared message",
        "messages in the shared object header message heap",
    )
}
