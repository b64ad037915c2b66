//! Implicit index (layout v4+, no filters, early allocation): chunks are stored one after the
//! other from the index address, in row-major order of the grid of chunks of the maximum
//! dimensions.

use super::{delinearize, linearize, ChunkIndex, ChunkLocation, Geometry};
use crate::error::{Error, Result};

/// The implicit index.
#[derive(Debug)]
pub struct Implicit {
    address: u64,
    chunk_bytes: u64,
    max_chunks: Vec<u64>,
    current_chunks: Vec<u64>,
}

impl Implicit {
    /// Chunks start at `address`.
    pub fn new(address: u64, geom: &Geometry) -> Result<Self> {
        let max_chunks = geom.max_chunks_per_dim();
        if max_chunks.iter().skip(1).any(|&m| m == u64::MAX) {
            return Err(Error::malformed(
                "layout message",
                address,
                "implicit chunk index with unlimited dimensions",
            ));
        }
        Ok(Implicit {
            address,
            chunk_bytes: geom.chunk_bytes,
            max_chunks,
            current_chunks: geom.chunks_per_dim(),
        })
    }

    fn at(&self, scaled: &[u64]) -> Option<ChunkLocation> {
        let idx = linearize(scaled, &self.max_chunks)?;
        let address = idx
            .checked_mul(self.chunk_bytes)?
            .checked_add(self.address)?;
        Some(ChunkLocation {
            scaled: scaled.to_vec(),
            address,
            size: self.chunk_bytes,
            filter_mask: 0,
        })
    }
}

impl ChunkIndex for Implicit {
    fn kind(&self) -> &'static str {
        "implicit"
    }
    fn lookup(&self, scaled: &[u64]) -> Result<Option<ChunkLocation>> {
        Ok(self.at(scaled))
    }
    fn for_each(&self, f: &mut dyn FnMut(ChunkLocation) -> Result<()>) -> Result<()> {
        let total = self
            .current_chunks
            .iter()
            .try_fold(1u64, |a, &c| a.checked_mul(c))
            .unwrap_or(0);
        for i in 0..total {
            let scaled = delinearize(i, &self.current_chunks);
            if let Some(loc) = self.at(&scaled) {
                f(loc)?;
            }
        }
        Ok(())
    }
}
