//! # h5format — the HDF5 file format in pure Rust
//!
//! Layers, from the bytes up:
//! - [`io`]: byte sources (memory, positioned file reads, memory maps) behind one trait;
//! - [`cursor`]: bounds-checked decoding of little-endian structures;
//! - [`read`]: one module per structure of the HDF5 File Format Specification 3.0;
//! - [`filter`]: the filter pipeline (deflate, shuffle, fletcher32, LZF, ...);
//! - [`mod@write`]: the writer;
//! - the high-level API: [`File`], [`Group`], [`Dataset`], [`Attribute`].
//!
//! # Reading
//! Open a file, walk its groups, read a dataset whole or a hyperslab of it (only the chunks
//! that hold the selection are read and decoded):
//!
//! ```
//! # fn main() -> h5format::Result<()> {
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/chunked_latest.h5");
//! let file = h5format::File::open(path)?;
//! let names: Vec<String> = file.root()?.links()?.iter().map(|l| l.name.clone()).collect();
//! assert!(names.contains(&"gzip".to_string()));
//!
//! let ds = file.dataset("/gzip")?; // 50 x 40 int32, chunks 8 x 8, gzip
//! assert_eq!(ds.shape(), &[50, 40]);
//! let all: Vec<i32> = ds.read()?;
//! // Rows 10..13, every 4th column from 2: h5py's ds[10:13, 2::4].
//! let slab: Vec<i64> = ds.read_hyperslab(&[10, 2], &[3, 10], &[1, 4])?;
//! assert_eq!(slab[0], all[10 * 40 + 2] as i64);
//! assert_eq!(slab.len(), 30);
//! # Ok(()) }
//! ```
//!
//! # Writing
//! Files are written by [`write::FileWriter`] (to a temporary file renamed into place on
//! [`write::FileWriter::finish`], or to memory):
//!
//! ```
//! # fn main() -> h5format::Result<()> {
//! use h5format::write::{AttrValue, DType, DatasetSpec, FileWriter};
//!
//! let mut w = FileWriter::in_memory();
//! w.create_group("/grp")?;
//! let spec = DatasetSpec::new(DType::F32, [1000]).chunked([256]).deflate(4).shuffle();
//! let id = w.create_dataset("/grp/values", spec)?;
//! let values: Vec<f32> = (0..1000).map(|i| i as f32 / 2.0).collect();
//! w.write_typed(id, &values)?;
//! w.set_attr("/grp", "units", AttrValue::String("counts".into()))?;
//! let bytes = w.finish_to_vec()?;
//!
//! let file = h5format::File::from_bytes(bytes)?;
//! assert_eq!(file.dataset("/grp/values")?.read::<f32>()?, values);
//! # Ok(()) }
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]
// Reads take lists of element ranges; one-range lists are intended.
#![allow(clippy::single_range_in_vec_init)]

pub mod alloc;
pub mod cache;
pub mod checksum;
pub mod cursor;
mod direct;
pub mod elem;
pub mod error;
pub mod file;
pub mod filter;
mod fixed;
mod hyperslab;
pub mod io;
#[cfg(feature = "ndarray")]
pub mod ndarray;
pub mod read;
pub mod select;
pub mod value;
pub mod walk;
pub mod write;

pub use elem::ElemType;
pub use error::{Error, Result};
pub use file::{Attribute, CommittedType, Dataset, File, Group, Node, Object};
pub use read::dataspace::Dataspace;
pub use read::datatype::Datatype;
pub use read::link::{Link, LinkTarget};
#[cfg(all(feature = "fs", unix))]
pub use write::edit;
