//! Caches for chunked reads: a bounded LRU of decoded chunks shared between readers
//! ([`ChunkCache`]), and a small memo of parsed index nodes kept by one index ([`NodeMemo`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Default capacity of a [`ChunkCache`] (one per open file): 64 MiB of decoded chunk bytes,
/// room for the chunks of a selection of a few million entries and its neighbours.
pub const DEFAULT_CHUNK_CACHE_BYTES: usize = 64 << 20;

/// Key of a decoded chunk: the dataset's identity and the chunk's scaled coordinates.
///
/// The identity is chosen by the caller (usually the object header address); when one cache is
/// shared by several files the caller must make it unique across them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkKey {
    /// Identity of the dataset.
    pub dataset: u64,
    /// Chunk coordinates in chunk units.
    pub coords: Box<[u64]>,
}

struct Entry {
    data: Arc<Vec<u8>>,
    tick: u64,
}

#[derive(Default)]
struct Lru {
    map: HashMap<ChunkKey, Entry>,
    order: BTreeMap<u64, ChunkKey>,
    tick: u64,
    bytes: usize,
    hits: u64,
    misses: u64,
}

/// A bounded least-recently-used cache of decoded chunks, safe to share between threads.
pub struct ChunkCache {
    capacity: usize,
    inner: Mutex<Lru>,
}

impl std::fmt::Debug for ChunkCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkCache")
            .field("capacity", &self.capacity)
            .field("bytes", &self.bytes())
            .finish()
    }
}

impl Default for ChunkCache {
    fn default() -> Self {
        ChunkCache::new(DEFAULT_CHUNK_CACHE_BYTES)
    }
}

impl ChunkCache {
    /// A cache holding at most `capacity` bytes of decoded chunks.
    pub fn new(capacity: usize) -> Self {
        ChunkCache {
            capacity,
            inner: Mutex::new(Lru::default()),
        }
    }

    /// Capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes currently held.
    pub fn bytes(&self) -> usize {
        self.inner.lock().map(|l| l.bytes).unwrap_or(0)
    }

    /// Number of chunks currently held.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|l| l.map.len()).unwrap_or(0)
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (hits, misses) of [`ChunkCache::get`] so far.
    pub fn stats(&self) -> (u64, u64) {
        self.inner
            .lock()
            .map(|l| (l.hits, l.misses))
            .unwrap_or((0, 0))
    }

    /// The chunk under `key`, marking it most recently used.
    pub fn get(&self, key: &ChunkKey) -> Option<Arc<Vec<u8>>> {
        let mut guard = self.inner.lock().ok()?;
        let lru = &mut *guard;
        lru.tick += 1;
        let tick = lru.tick;
        match lru.map.get_mut(key) {
            Some(e) => {
                lru.order.remove(&e.tick);
                e.tick = tick;
                lru.order.insert(tick, key.clone());
                lru.hits += 1;
                Some(e.data.clone())
            }
            None => {
                lru.misses += 1;
                None
            }
        }
    }

    /// Store a chunk, evicting the least recently used ones to stay within capacity. A chunk
    /// larger than the whole cache is not stored.
    pub fn insert(&self, key: ChunkKey, data: Arc<Vec<u8>>) {
        let size = data.len();
        if size > self.capacity {
            return;
        }
        let Ok(mut guard) = self.inner.lock() else {
            return;
        };
        let lru = &mut *guard;
        if let Some(old) = lru.map.remove(&key) {
            lru.order.remove(&old.tick);
            lru.bytes -= old.data.len();
        }
        while lru.bytes + size > self.capacity {
            let Some((_, victim)) = lru.order.pop_first() else {
                break;
            };
            if let Some(e) = lru.map.remove(&victim) {
                lru.bytes -= e.data.len();
            }
        }
        lru.tick += 1;
        let tick = lru.tick;
        lru.order.insert(tick, key.clone());
        lru.map.insert(key, Entry { data, tick });
        lru.bytes += size;
    }

    /// Drop every chunk.
    pub fn clear(&self) {
        if let Ok(mut l) = self.inner.lock() {
            l.map.clear();
            l.order.clear();
            l.bytes = 0;
        }
    }
}

/// A small memo of parsed index structures keyed by file address, so that many lookups in one
/// index do not re-read and re-verify the same node. Bounded: cleared when full.
pub struct NodeMemo<T> {
    limit: usize,
    map: Mutex<HashMap<u64, Arc<T>>>,
}

impl<T> std::fmt::Debug for NodeMemo<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeMemo")
            .field("limit", &self.limit)
            .finish()
    }
}

impl<T> NodeMemo<T> {
    /// A memo holding at most `limit` nodes.
    pub fn new(limit: usize) -> Self {
        NodeMemo {
            limit,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The node at `address`, parsed by `load` on a miss.
    pub fn get_or_load(
        &self,
        address: u64,
        load: impl FnOnce() -> crate::Result<T>,
    ) -> crate::Result<Arc<T>> {
        if let Some(n) = self.map.lock().ok().and_then(|m| m.get(&address).cloned()) {
            return Ok(n);
        }
        let node = Arc::new(load()?);
        if let Ok(mut m) = self.map.lock() {
            if m.len() >= self.limit {
                m.clear();
            }
            m.insert(address, node.clone());
        }
        Ok(node)
    }

    /// Number of nodes held.
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether the memo is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(d: u64, c: u64) -> ChunkKey {
        ChunkKey {
            dataset: d,
            coords: vec![c].into_boxed_slice(),
        }
    }

    #[test]
    fn lru_evicts_oldest_and_keys_by_dataset() {
        let c = ChunkCache::new(30);
        c.insert(key(1, 0), Arc::new(vec![0; 10]));
        c.insert(key(2, 0), Arc::new(vec![1; 10]));
        assert_eq!(c.get(&key(1, 0)).map(|v| v[0]), Some(0));
        assert_eq!(c.get(&key(2, 0)).map(|v| v[0]), Some(1));
        c.insert(key(1, 1), Arc::new(vec![2; 10]));
        // touch (1,0) so (2,0) is the oldest
        assert!(c.get(&key(1, 0)).is_some());
        c.insert(key(1, 2), Arc::new(vec![3; 10]));
        assert!(c.get(&key(2, 0)).is_none());
        assert!(c.get(&key(1, 0)).is_some());
        assert!(c.bytes() <= 30);
        // too big: not cached
        c.insert(key(9, 9), Arc::new(vec![0; 31]));
        assert!(c.get(&key(9, 9)).is_none());
        assert_eq!(c.len(), 3);
    }
}
