//! Single chunk index (layout v4+): the dataset is one chunk stored at the index address.

use super::{ChunkIndex, ChunkLocation, Geometry};
use crate::error::Result;

/// The single-chunk index.
#[derive(Debug)]
pub struct SingleChunk {
    location: ChunkLocation,
}

impl SingleChunk {
    /// The chunk at `address`; `filtered` carries the stored size and filter mask.
    pub fn new(address: u64, filtered: Option<(u64, u32)>, geom: &Geometry) -> Self {
        let (size, filter_mask) = filtered.unwrap_or((geom.chunk_bytes, 0));
        SingleChunk {
            location: ChunkLocation {
                scaled: vec![0; geom.rank()],
                address,
                size,
                filter_mask,
            },
        }
    }
}

impl ChunkIndex for SingleChunk {
    fn kind(&self) -> &'static str {
        "single chunk"
    }
    fn lookup(&self, scaled: &[u64]) -> Result<Option<ChunkLocation>> {
        Ok(scaled
            .iter()
            .all(|&s| s == 0)
            .then(|| self.location.clone()))
    }
    fn for_each(&self, f: &mut dyn FnMut(ChunkLocation) -> Result<()>) -> Result<()> {
        f(self.location.clone())
    }
}
