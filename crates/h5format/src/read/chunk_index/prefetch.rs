//! A chunk index for remote files: every chunk looked up is announced to the source
//! ([`Source::hint`]), so the chunks of one read are fetched together (merged, concurrently)
//! when the first of them is read. A v1 B-tree looked up many times is loaded whole, one
//! level per burst, instead of one round trip per node and lookup.

use std::sync::{Arc, Mutex};

use super::{ChunkIndex, ChunkLocation};
use crate::error::{Error, Result};
use crate::io::Source;

/// Lookups answered by descending the index before it is loaded whole.
const DESCENTS: u32 = 8;
/// Most entries of an index loaded whole (about 64 bytes each).
const MAX_LOADED: usize = 1 << 21;

/// Wraps the index of a dataset in a remote file.
pub struct Prefetching {
    inner: Box<dyn ChunkIndex>,
    source: Source,
    state: Mutex<Loaded>,
}

enum Loaded {
    /// Not loaded yet; lookups so far.
    No(u32),
    /// Every stored chunk, sorted by coordinates.
    Yes(Arc<Vec<ChunkLocation>>),
    /// Too large to load (or not worth it): always descend.
    Never,
}

impl Prefetching {
    /// Wrap `inner`, whose chunks live in `source`.
    pub fn new(inner: Box<dyn ChunkIndex>, source: Source) -> Self {
        // Only a v1 B-tree descends several nodes per lookup; the other kinds address their
        // entries (almost) directly.
        let state = if inner.kind() == "v1 B-tree" {
            Loaded::No(0)
        } else {
            Loaded::Never
        };
        Prefetching {
            inner,
            source,
            state: Mutex::new(state),
        }
    }

    /// The whole index, when it is (or now gets) loaded.
    fn loaded(&self) -> Result<Option<Arc<Vec<ChunkLocation>>>> {
        let mut st = self
            .state
            .lock()
            .map_err(|_| Error::Usage("chunk index lock poisoned".into()))?;
        match &mut *st {
            Loaded::Yes(all) => return Ok(Some(all.clone())),
            Loaded::Never => return Ok(None),
            Loaded::No(n) if *n < DESCENTS => {
                *n += 1;
                return Ok(None);
            }
            Loaded::No(_) => {}
        }
        let mut all = Vec::new();
        let walked = self.inner.for_each(&mut |loc| {
            if all.len() >= MAX_LOADED {
                return Err(Error::Usage("index too large to load".into()));
            }
            all.push(loc);
            Ok(())
        });
        if walked.is_err() {
            // Too large, or corrupt: descend per lookup (which reports corruption itself).
            *st = Loaded::Never;
            return Ok(None);
        }
        all.sort_by(|a, b| a.scaled.cmp(&b.scaled));
        let all = Arc::new(all);
        *st = Loaded::Yes(all.clone());
        Ok(Some(all))
    }
}

impl ChunkIndex for Prefetching {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    fn lookup(&self, scaled: &[u64]) -> Result<Option<ChunkLocation>> {
        let loc = match self.loaded()? {
            Some(all) => all
                .binary_search_by(|l| l.scaled.as_slice().cmp(scaled))
                .ok()
                .and_then(|i| all.get(i).cloned()),
            None => self.inner.lookup(scaled)?,
        };
        if let Some(l) = &loc {
            self.source.hint(l.address, l.size);
        }
        Ok(loc)
    }

    fn for_each(&self, f: &mut dyn FnMut(ChunkLocation) -> Result<()>) -> Result<()> {
        self.inner.for_each(f)
    }

    fn warm(&self) {
        self.inner.warm()
    }

    fn blocks(&self) -> Option<Result<Vec<(u64, u64)>>> {
        self.inner.blocks()
    }
}
