//! Chunked storage (data layout class 2) while a file is written: chunk buffers, chunks
//! filtered on the thread pool and appended in order, and the version 1 B-tree chunk index
//! (node type 1) over the written chunks. Layout version 4 indexes are in
//! [`super::chunk_index`].

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::mpsc;

use super::btree::{self, TreeKind};
use super::encode::{to_u32, usage, Put, UNDEF};
use super::filters::Pipeline;
use super::hyperslab::{copy_box, fill_pattern, next, Place};
use super::sink::Out;
use crate::error::Result;

/// Maximum children of a chunk B-tree node (2K with libhdf5's default K = 32).
const CHUNK_NODE_CHILDREN: usize = 64;

/// Chunk buffers and written chunks of a chunked dataset.
pub(crate) struct Chunks {
    pub(super) dims: Vec<u64>,
    bytes: usize,
    pub(super) pipeline: Pipeline,
    pub(super) open: HashMap<Vec<u64>, Vec<u8>>,
    pub(super) written: BTreeMap<Vec<u64>, (u64, u32)>,
    /// Chunks being filtered on the thread pool, oldest first; appended to the file in this
    /// order as they are taken (so the caller keeps filling chunks while others compress).
    inflight: VecDeque<InFlight>,
}

/// A chunk being filtered: its key and where its filtered bytes will arrive.
type InFlight = (Vec<u64>, mpsc::Receiver<Result<Vec<u8>>>);

impl Chunks {
    /// No chunk written yet: chunks of `dims` (`bytes` bytes each) through `pipeline`.
    pub(super) fn new(dims: Vec<u64>, bytes: usize, pipeline: Pipeline) -> Self {
        Chunks {
            dims,
            bytes,
            pipeline,
            open: HashMap::new(),
            written: BTreeMap::new(),
            inflight: VecDeque::new(),
        }
    }

    /// Copy the selection `start`/`count` of `bytes` into the chunks it touches (creating
    /// them filled with `fill`); with `direct`, a whole chunk of a 1-D dataset goes to the
    /// filters or the file straight from `bytes`. A chunk already written out is refused.
    pub(super) fn write(
        &mut self,
        path: &str,
        start: &[u64],
        count: &[u64],
        bytes: &[u8],
        (elem, fill): (u64, Option<&[u8]>),
        mut direct: Option<&mut Out>,
    ) -> Result<()> {
        if count.contains(&0) {
            return Ok(());
        }
        let rank = self.dims.len();
        let lo: Vec<u64> = (0..rank).map(|d| start[d] / self.dims[d]).collect();
        let hi: Vec<u64> = (0..rank)
            .map(|d| (start[d] + count[d] - 1) / self.dims[d])
            .collect();
        // Refuse before touching anything if a chunk was already written out.
        let mut coord = lo.clone();
        loop {
            if self.written.contains_key(&coord) || self.inflight.iter().any(|(k, _)| *k == coord) {
                return Err(usage(format!(
                    "{path}: chunk {coord:?} was already written to the file"
                )));
            }
            if !next(&mut coord, &lo, &hi) {
                break;
            }
        }
        let mut coord = lo.clone();
        loop {
            let cstart: Vec<u64> = (0..rank).map(|d| coord[d] * self.dims[d]).collect();
            let s: Vec<u64> = (0..rank).map(|d| start[d].max(cstart[d])).collect();
            let e: Vec<u64> = (0..rank)
                .map(|d| (start[d] + count[d]).min(cstart[d] + self.dims[d]))
                .collect();
            let n: Vec<u64> = (0..rank).map(|d| e[d] - s[d]).collect();
            let src_start: Vec<u64> = (0..rank).map(|d| s[d] - start[d]).collect();
            let dst_start: Vec<u64> = (0..rank).map(|d| s[d] - cstart[d]).collect();
            if let Some(out) = direct.as_deref_mut() {
                // A whole chunk of a 1-D dataset is one run of `bytes`: no chunk buffer.
                let whole = rank == 1 && n == self.dims && !self.open.contains_key(&coord);
                let (a, len) = (src_start[0] * elem, n[0] * elem);
                let run = bytes.get(a as usize..(a + len) as usize);
                if let (true, Some(run)) = (whole, run) {
                    if self.pipeline.is_empty() {
                        self.drain(out, 0)?;
                        self.append(out, coord.clone(), run)?;
                    } else {
                        self.submit(out, coord.clone(), run.to_vec())?;
                    }
                    if !next(&mut coord, &lo, &hi) {
                        return Ok(());
                    }
                    continue;
                }
            }
            let size = self.bytes;
            let buf = self
                .open
                .entry(coord.clone())
                .or_insert_with(|| fill_pattern(fill, elem as usize, size));
            copy_box(
                bytes,
                Place {
                    shape: count,
                    start: &src_start,
                },
                buf,
                Place {
                    shape: &self.dims,
                    start: &dst_start,
                },
                &n,
                elem,
            )?;
            if !next(&mut coord, &lo, &hi) {
                return Ok(());
            }
        }
    }

    /// Hand the given open chunks to the thread pool for filtering, in key order; append
    /// finished ones to the file while more than two per thread are in flight, and all of them
    /// when `drain` is set. Unfiltered chunks are appended directly (after those in flight).
    pub(super) fn flush(
        &mut self,
        out: &mut Out,
        mut keys: Vec<Vec<u64>>,
        drain: bool,
    ) -> Result<()> {
        keys.sort();
        for k in keys {
            if let Some(buf) = self.open.remove(&k) {
                self.submit(out, k, buf)?;
            }
        }
        if drain {
            self.drain(out, 0)?;
        }
        Ok(())
    }

    /// Filter one complete chunk on the thread pool (appending finished ones while more than
    /// two per thread are in flight), or append it at once when there are no filters.
    fn submit(&mut self, out: &mut Out, key: Vec<u64>, buf: Vec<u8>) -> Result<()> {
        if self.pipeline.is_empty() {
            self.drain(out, 0)?;
            return self.append(out, key, &buf);
        }
        let (tx, rx) = mpsc::sync_channel(1);
        let pipeline = self.pipeline.clone();
        rayon::spawn(move || {
            // The receiver is gone only if the writer was dropped: nothing to report to.
            let _ = tx.send(pipeline.encode(buf));
        });
        self.inflight.push_back((key, rx));
        self.drain(out, 2 * rayon::current_num_threads().max(1))
    }

    /// Append finished chunks, oldest first, until at most `keep` are in flight.
    fn drain(&mut self, out: &mut Out, keep: usize) -> Result<()> {
        while self.inflight.len() > keep {
            let Some((k, rx)) = self.inflight.pop_front() else {
                break;
            };
            let data = rx
                .recv()
                .map_err(|_| usage("a chunk filter stopped without a result"))??;
            self.append(out, k, &data)?;
        }
        Ok(())
    }

    /// Append one filtered chunk to the file and record where it is.
    fn append(&mut self, out: &mut Out, key: Vec<u64>, data: &[u8]) -> Result<()> {
        let size = to_u32(data.len() as u64, "filtered chunk size")?;
        let addr = out.append(data)?;
        self.written.insert(key, (addr, size));
        Ok(())
    }

    /// Write the v1 B-tree over the written chunks; UNDEF if there are none.
    pub(super) fn write_index(&self, out: &mut Out) -> Result<u64> {
        let Some(last) = self.written.keys().next_back() else {
            return Ok(UNDEF);
        };
        let key = |size: u32, coord: &[u64], plus: u64| {
            let mut k = Vec::with_capacity(8 + 8 * (coord.len() + 1));
            k.put_u32(size);
            k.put_u32(0);
            for (c, d) in coord.iter().zip(&self.dims) {
                k.put_u64((c + plus) * d);
            }
            k.put_u64(0);
            k
        };
        let mut keys = Vec::with_capacity(self.written.len() + 1);
        let mut children = Vec::with_capacity(self.written.len());
        for (coord, &(addr, size)) in &self.written {
            keys.push(key(size, coord, 0));
            children.push(addr);
        }
        keys.push(key(0, last, 1));
        let kind = TreeKind {
            node_type: btree::CHUNK,
            max_children: CHUNK_NODE_CHILDREN,
            key_size: 8 + 8 * (self.dims.len() + 1),
        };
        btree::write(out, &kind, keys, children)
    }
}
