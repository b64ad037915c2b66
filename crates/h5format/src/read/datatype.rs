//! Datatype message (0x0003). STUB: to be written (see the datatype helper's task).

use crate::cursor::Cursor;
use crate::error::{Error, Result};

/// A datatype (stub).
#[derive(Debug, Clone, PartialEq)]
pub struct Datatype {
    /// Size of one element in bytes.
    pub size: u32,
}

impl Datatype {
    /// Parse a datatype message body.
    pub fn parse(cur: &mut Cursor<'_>) -> Result<Self> {
        Err(Error::unsupported(
            "datatype",
            format!("not yet parsed at {}", cur.offset()),
        ))
    }

    /// Size of one element in bytes.
    pub fn size(&self) -> usize {
        self.size as usize
    }
}
