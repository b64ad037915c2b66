//! Dataspace message (0x0001): the shape of a dataset or attribute.

use crate::cursor::Cursor;
use crate::error::Result;

/// Unlimited maximum dimension.
pub const UNLIMITED: u64 = u64::MAX;

/// The shape of a dataset or attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dataspace {
    /// A single element, rank 0.
    Scalar,
    /// No elements at all.
    Null,
    /// An array with current and maximum dimensions ([`UNLIMITED`] for unlimited).
    Simple {
        /// Current dimensions.
        dims: Vec<u64>,
        /// Maximum dimensions (same as `dims` when not stored).
        max_dims: Vec<u64>,
    },
}

impl Dataspace {
    /// Parse a dataspace message body (versions 1 and 2).
    pub fn parse(cur: &mut Cursor<'_>) -> Result<Self> {
        let version = cur.u8()?;
        let rank = usize::from(cur.u8()?);
        let flags = cur.u8()?;
        let kind = match version {
            1 => {
                cur.skip(5)?; // reserved
                              // v1 has no null dataspace: rank 0 is scalar.
                u8::from(rank != 0)
            }
            2 => cur.u8()?,
            v => return Err(cur.err(format!("unknown dataspace version {v}"))),
        };
        if rank > 32 {
            return Err(cur.err(format!("rank {rank} exceeds 32")));
        }
        let mut dims = Vec::with_capacity(rank);
        for _ in 0..rank {
            dims.push(cur.length()?);
        }
        let max_dims = if flags & 1 != 0 {
            let mut m = Vec::with_capacity(rank);
            for _ in 0..rank {
                let v = cur.length()?;
                let bits = 8 * u32::from(cur.sizes().length);
                let all_ones = if bits >= 64 {
                    u64::MAX
                } else {
                    (1u64 << bits) - 1
                };
                m.push(if v == all_ones { UNLIMITED } else { v });
            }
            m
        } else {
            dims.clone()
        };
        // v1: permutation indices (never used by libhdf5) follow when flag bit 1 is set.
        if version == 1 && flags & 2 != 0 {
            cur.skip(4 * rank)?;
        }
        match kind {
            0 => Ok(Dataspace::Scalar),
            1 => Ok(Dataspace::Simple { dims, max_dims }),
            2 => Ok(Dataspace::Null),
            k => Err(cur.err(format!("unknown dataspace type {k}"))),
        }
    }

    /// Current dimensions (empty for scalar and null).
    pub fn dims(&self) -> &[u64] {
        match self {
            Dataspace::Simple { dims, .. } => dims,
            _ => &[],
        }
    }

    /// Number of elements (1 for scalar, 0 for null); `None` on overflow.
    pub fn num_elements(&self) -> Option<u64> {
        match self {
            Dataspace::Scalar => Some(1),
            Dataspace::Null => Some(0),
            Dataspace::Simple { dims, .. } => dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d)),
        }
    }
}
