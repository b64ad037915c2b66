//! Version 2 B-tree chunk index (layout v4+, several unlimited dimensions): records of type
//! 10 (unfiltered: address, scaled offsets) and 11 (filtered: address, stored size, filter
//! mask, scaled offsets), ordered by scaled offsets.

use super::{ChunkIndex, ChunkLocation, Geometry};
use crate::cursor::{Cursor, Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::io::Source;
use crate::read::btree2::BTree2;

const WHAT: &str = "v2 B-tree chunk record";

/// A v2 B-tree chunk index.
pub struct BTreeV2Index {
    tree: BTree2,
    sizes: Sizes,
    filtered: bool,
    size_width: usize,
    rank: usize,
    chunk_bytes: u64,
}

impl BTreeV2Index {
    /// Open the tree whose header is at `address`.
    pub fn open(source: Source, sizes: Sizes, address: u64, geom: &Geometry) -> Result<Self> {
        let tree = BTree2::open(source, sizes, address, None)?;
        let h = tree.header();
        let rank = geom.rank();
        let rec = usize::from(h.record_size);
        let base = usize::from(sizes.offset) + 8 * rank;
        let (filtered, size_width) = match h.tree_type {
            10 if rec == base => (false, 0),
            11 => match rec.checked_sub(base + 4) {
                Some(w @ 1..=8) => (true, w),
                _ => {
                    return Err(Error::malformed(
                        "v2 B-tree header",
                        address,
                        format!("record size {rec} for filtered chunks of rank {rank}"),
                    ))
                }
            },
            t => {
                return Err(Error::malformed(
                    "v2 B-tree header",
                    address,
                    format!("record type {t} with record size {rec} is not a chunk index"),
                ))
            }
        };
        Ok(BTreeV2Index {
            tree,
            sizes,
            filtered,
            size_width,
            rank,
            chunk_bytes: geom.chunk_bytes,
        })
    }

    fn decode(&self, rec: &[u8]) -> Result<ChunkLocation> {
        let mut c = Cursor::new(rec, self.tree.header().address, WHAT, self.sizes);
        let address = c.addr()?;
        let (size, filter_mask) = if self.filtered {
            (c.uint(self.size_width)?, c.u32()?)
        } else {
            (self.chunk_bytes, 0)
        };
        let scaled = (0..self.rank).map(|_| c.u64()).collect::<Result<_>>()?;
        Ok(ChunkLocation {
            scaled,
            address,
            size,
            filter_mask,
        })
    }

    fn scaled_offset(&self) -> usize {
        usize::from(self.sizes.offset)
            + if self.filtered {
                self.size_width + 4
            } else {
                0
            }
    }
}

impl ChunkIndex for BTreeV2Index {
    fn kind(&self) -> &'static str {
        "v2 B-tree"
    }

    fn lookup(&self, scaled: &[u64]) -> Result<Option<ChunkLocation>> {
        let at = self.scaled_offset();
        let cmp = |rec: &[u8]| {
            let coords = rec.get(at..).unwrap_or_default().chunks_exact(8).map(|w| {
                let mut a = [0u8; 8];
                a.copy_from_slice(w);
                u64::from_le_bytes(a)
            });
            coords.cmp(scaled.iter().copied())
        };
        match self.tree.find(&cmp)? {
            Some(rec) => {
                let loc = self.decode(&rec)?;
                Ok((loc.address != UNDEF_ADDR).then_some(loc))
            }
            None => Ok(None),
        }
    }

    fn for_each(&self, f: &mut dyn FnMut(ChunkLocation) -> Result<()>) -> Result<()> {
        self.tree.for_each(&mut |rec| {
            let loc = self.decode(rec)?;
            if loc.address != UNDEF_ADDR {
                f(loc)?;
            }
            Ok(())
        })
    }

    fn blocks(&self) -> Option<Result<Vec<(u64, u64)>>> {
        Some(self.tree.blocks())
    }
}
