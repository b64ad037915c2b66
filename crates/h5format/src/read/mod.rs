//! Parsers for the structures of the file format, one module per structure of the spec.

pub mod attribute;
pub mod btree1;
pub mod btree2;
pub mod chunk_index;
pub mod chunked;
pub mod dataspace;
pub mod datatype;
pub mod dense;
pub mod external;
pub mod fill_value;
pub mod fractal_heap;
pub mod global_heap;
pub mod layout;
pub mod link;
pub mod local_heap;
pub mod object_header;
pub mod shared;
pub mod shared_message_table;
pub mod superblock;
pub mod symbol_table;
pub mod virtual_dataset;
