//! # h5format — the HDF5 file format in pure Rust
//!
//! Layers, from the bytes up:
//! - [`io`]: byte sources (memory, positioned file reads, memory maps) behind one trait;
//! - [`cursor`]: bounds-checked decoding of little-endian structures;
//! - [`read`]: one module per structure of the HDF5 File Format Specification 3.0;
//! - [`filter`]: the filter pipeline (deflate, shuffle, fletcher32, LZF, ...);
//! - [`write`]: the writer;
//! - the high-level API: [`File`], [`Group`], [`Dataset`], [`Attribute`].
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod cache;
pub mod checksum;
pub mod cursor;
pub mod error;
pub mod file;
pub mod filter;
mod hyperslab;
pub mod io;
#[cfg(feature = "ndarray")]
pub mod ndarray;
pub mod read;
pub mod select;
pub mod value;
pub mod walk;
pub mod write;

pub use error::{Error, Result};
pub use file::{Attribute, CommittedType, Dataset, File, Group, Node, Object};
pub use read::dataspace::Dataspace;
pub use read::datatype::Datatype;
pub use read::link::{Link, LinkTarget};
