//! The writer: the mirror of `read/` for what we write.
