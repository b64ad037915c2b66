//! Parsers for the structures of the file format, one module per structure of the spec.

pub mod dataspace;
pub mod datatype;
