//! The error type of the format layer.
//!
//! Every error that comes from the bytes of a file names the structure that was being read and
//! the file offset where it starts, so a corrupt file can be diagnosed with a hex dump.

use std::fmt;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong while reading or writing an HDF5 file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The byte source failed (I/O error from the OS).
    #[error("I/O error at offset {offset}: {source}")]
    Io {
        /// Offset of the failed access.
        offset: u64,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A structure's bytes are not what the specification allows.
    #[error("malformed {what} at offset {offset}: {detail}")]
    Malformed {
        /// The structure being parsed, with the spec's name ("object header", "v1 B-tree"...).
        what: &'static str,
        /// File offset of the structure (or of the faulty field where known).
        offset: u64,
        /// What was wrong.
        detail: String,
    },
    /// A read would go past the end of the file (or of an enclosing structure).
    #[error("{what} at offset {offset} needs {len} bytes but the source ends at {end}")]
    OutOfBounds {
        /// The structure being read.
        what: &'static str,
        /// Start of the read.
        offset: u64,
        /// Length of the read.
        len: u64,
        /// End of the file or enclosing structure.
        end: u64,
    },
    /// A stored checksum does not match the bytes.
    #[error("checksum mismatch in {what} at offset {offset} (stored {stored:#010x}, computed {computed:#010x})")]
    Checksum {
        /// The structure whose checksum failed.
        what: &'static str,
        /// Its file offset.
        offset: u64,
        /// Checksum stored in the file.
        stored: u32,
        /// Checksum computed from the bytes.
        computed: u32,
    },
    /// A cycle was found while following addresses (continuations, links, siblings).
    #[error("cycle detected in {what} at offset {offset}")]
    Cycle {
        /// The chain being followed.
        what: &'static str,
        /// The address seen twice.
        offset: u64,
    },
    /// A valid feature of the format that this crate does not implement yet.
    #[error("unsupported {what}: {detail}")]
    Unsupported {
        /// The kind of thing (datatype, layout, filter...).
        what: &'static str,
        /// Which one.
        detail: String,
    },
    /// A filter failed to decode (or encode) a chunk.
    #[error("filter {name} (id {id}) failed on chunk at offset {offset}: {detail}")]
    Filter {
        /// Filter id from the pipeline message.
        id: u16,
        /// Filter name.
        name: String,
        /// File offset of the chunk.
        offset: u64,
        /// What went wrong.
        detail: String,
    },
    /// An allocation driven by file contents would exceed the configured budget.
    #[error("{what} at offset {offset} asks for {requested} bytes, over the limit of {limit}")]
    TooLarge {
        /// The structure asking.
        what: &'static str,
        /// Its offset.
        offset: u64,
        /// Bytes requested.
        requested: u64,
        /// The budget.
        limit: u64,
    },
    /// No object at that path.
    #[error("{0}: no such object")]
    NotFound(String),
    /// The caller asked for something that does not fit the object (wrong type, bad selection).
    #[error("{0}")]
    Usage(String),
    /// The error happened inside the named object; wraps the cause.
    #[error("{path}: {source}")]
    InObject {
        /// Path of the object in the file.
        path: String,
        /// The cause.
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// A malformed-structure error.
    pub fn malformed(what: &'static str, offset: u64, detail: impl fmt::Display) -> Self {
        Error::Malformed {
            what,
            offset,
            detail: detail.to_string(),
        }
    }

    /// An unsupported-feature error.
    pub fn unsupported(what: &'static str, detail: impl fmt::Display) -> Self {
        Error::Unsupported {
            what,
            detail: detail.to_string(),
        }
    }

    /// Attach the object path to an error (once: an error that already names an object keeps it).
    pub fn in_object(self, path: &str) -> Self {
        match self {
            e @ Error::InObject { .. } => e,
            e @ Error::NotFound(_) => e,
            e => Error::InObject {
                path: path.to_string(),
                source: Box::new(e),
            },
        }
    }
}
