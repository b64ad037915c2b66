//! Read hints and bursts for sources where a request costs a round trip.
//!
//! Readers that know which byte ranges they will read next (the chunks of a selection, the
//! nodes of one B-tree level) announce them with [`ByteSource::hint`](super::ByteSource::hint).
//! The first read that falls in an announced range turns every pending hint into one
//! *burst*: the ranges are sorted, neighbours closer than [`GAP`] are merged (up to
//! [`MAX_MERGED`] bytes per request), and the merged requests are issued concurrently on up
//! to [`CONNECTIONS`] connections. Their bytes are kept as [`Extents`] that serve the reads
//! that follow; the store is bounded ([`MAX_EXTENT_BYTES`]) and forgets the oldest extents
//! first. A failed burst is reported to the read that started it; later reads fall back to
//! ordinary requests.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// Neighbouring ranges closer than this are fetched in one request (the bytes between them
/// cost less than another round trip).
pub const GAP: u64 = 256 << 10;
/// Largest merged request.
pub const MAX_MERGED: u64 = 16 << 20;
/// Requests of one burst in flight at once.
pub const CONNECTIONS: usize = 32;
/// Bytes of fetched extents kept for the reads that follow.
pub const MAX_EXTENT_BYTES: u64 = 128 << 20;
/// Bytes of pending hints accepted (beyond this, hints are dropped: reads still work).
pub const MAX_PENDING_BYTES: u64 = 64 << 20;
/// Pending hints accepted.
pub const MAX_PENDING: usize = 1 << 16;

/// Byte ranges announced and not fetched yet.
#[derive(Default)]
pub struct Pending {
    ranges: Vec<(u64, u64)>,
    bytes: u64,
}

impl Pending {
    /// Announce `offset..offset + len` (dropped when the budget is spent).
    pub fn add(&mut self, offset: u64, len: u64) {
        if len == 0
            || self.ranges.len() >= MAX_PENDING
            || self.bytes.saturating_add(len) > MAX_PENDING_BYTES
        {
            return;
        }
        self.ranges.push((offset, offset.saturating_add(len)));
        self.bytes += len;
    }

    /// Whether no range is pending.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether a pending range overlaps `start..end`.
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.ranges.iter().any(|&(s, e)| s < end && start < e)
    }

    /// Whether a pending range overlaps `start..end` outside every request of `running`
    /// (an announced part of a read that no running request fetches).
    pub fn overlaps_outside(&self, start: u64, end: u64, running: &[(u64, u64)]) -> bool {
        self.ranges.iter().any(|&(s, e)| {
            let (s, e) = (s.max(start), e.min(end));
            s < e && !running.iter().any(|&(rs, re)| rs <= s && e <= re)
        })
    }

    /// Take every pending range.
    pub fn take(&mut self) -> Vec<(u64, u64)> {
        self.bytes = 0;
        std::mem::take(&mut self.ranges)
    }
}

/// The requests (start, end) that fetch `ranges`: sorted, overlapping and near ranges
/// merged, each at most [`MAX_MERGED`] long unless one range alone is longer. Every range
/// lies wholly inside one request.
pub fn plan(mut ranges: Vec<(u64, u64)>, file_len: u64) -> Vec<(u64, u64)> {
    ranges.retain(|&(s, e)| s < e && s < file_len);
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (s, e) in ranges {
        let e = e.min(file_len);
        match out.last_mut() {
            Some(last)
                if s <= last.1.saturating_add(GAP) && e.max(last.1) - last.0 <= MAX_MERGED =>
            {
                last.1 = last.1.max(e);
            }
            Some(last) if e <= last.1 => {} // inside the last request already
            _ => out.push((s, e)),
        }
    }
    out
}

/// Fetched byte extents, bounded, oldest forgotten first.
#[derive(Default)]
pub struct Extents {
    by_start: BTreeMap<u64, Arc<Vec<u8>>>,
    order: VecDeque<u64>,
    bytes: u64,
}

impl Extents {
    /// Keep `data`, the bytes at `start`.
    pub fn insert(&mut self, start: u64, data: Vec<u8>) {
        let len = data.len() as u64;
        if let Some(old) = self.by_start.insert(start, Arc::new(data)) {
            self.bytes -= old.len() as u64;
        } else {
            self.order.push_back(start);
        }
        self.bytes += len;
        while self.bytes > MAX_EXTENT_BYTES {
            let Some(s) = self.order.pop_front() else {
                break;
            };
            if let Some(old) = self.by_start.remove(&s) {
                self.bytes -= old.len() as u64;
            }
        }
    }

    /// The extent holding byte `at` that reaches furthest, as (start, bytes).
    fn holding(&self, at: u64) -> Option<(u64, &Arc<Vec<u8>>)> {
        // Extents may overlap: look at the few that start at or before `at`.
        self.by_start
            .range(..=at)
            .rev()
            .take(8)
            .filter(|(&s, d)| s + d.len() as u64 > at)
            .max_by_key(|(&s, d)| s + d.len() as u64)
            .map(|(&s, d)| (s, d))
    }

    /// Copy `buf.len()` bytes at `offset` from the extents holding them (one, or several
    /// that touch or overlap); false if a byte is missing.
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> bool {
        let end = offset + buf.len() as u64;
        if !self.covers(offset, end) {
            return false;
        }
        let mut at = offset;
        while at < end {
            let Some((s, data)) = self.holding(at) else {
                return false;
            };
            let from = (at - s) as usize;
            let n = (data.len() - from).min((end - at) as usize);
            let to = (at - offset) as usize;
            buf[to..to + n].copy_from_slice(&data[from..from + n]);
            at += n as u64;
        }
        true
    }

    /// Whether the extents hold every byte of `start..end`.
    pub fn covers(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        while at < end {
            match self.holding(at) {
                Some((s, d)) => at = s + d.len() as u64,
                None => return false,
            }
        }
        true
    }
}

/// Run `fetch` on every request on up to [`CONNECTIONS`] threads; results in request order.
pub fn run_concurrently<T: Send>(
    requests: &[(u64, u64)],
    fetch: &(dyn Fn(u64, u64) -> std::io::Result<T> + Sync),
) -> Vec<std::io::Result<T>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    if requests.len() <= 1 {
        return requests.iter().map(|&(s, e)| fetch(s, e - s)).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<std::io::Result<T>>>> =
        Mutex::new((0..requests.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..CONNECTIONS.min(requests.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(s, e)) = requests.get(i) else {
                    break;
                };
                let r = fetch(s, e - s);
                if let Ok(mut all) = results.lock() {
                    all[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(std::io::Error::other("burst request not run"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_merges_near_ranges_and_splits_far_ones() {
        let p = plan(
            vec![
                (1000, 2000),
                (0, 100),
                (2100, 3000),
                (1 << 30, (1 << 30) + 5),
            ],
            u64::MAX,
        );
        assert_eq!(p, vec![(0, 3000), (1 << 30, (1 << 30) + 5)]);
        // Capped at MAX_MERGED per request.
        let many: Vec<_> = (0..40u64).map(|i| (i << 20, (i + 1) << 20)).collect();
        let p = plan(many, u64::MAX);
        assert!(p.iter().all(|(s, e)| e - s <= MAX_MERGED));
        assert_eq!(p.first().unwrap().0, 0);
        assert_eq!(p.last().unwrap().1, 40 << 20);
        // Clipped to the file.
        assert_eq!(plan(vec![(10, 100)], 50), vec![(10, 50)]);
    }

    #[test]
    fn announced_parts_outside_running_requests() {
        let mut p = Pending::default();
        p.add(624, 256);
        p.add(880, 256);
        // A read of 612..1044 whose first bytes a running request (368..624) fetches.
        let running = [(368, 624)];
        assert!(p.overlaps_outside(612, 1044, &running));
        // All of it running: nothing to start.
        assert!(!p.overlaps_outside(612, 1044, &[(368, 1136)]));
        // Announced ranges beside the read do not count.
        assert!(!p.overlaps_outside(0, 600, &running));
    }

    #[test]
    fn extents_serve_covered_reads_and_stay_bounded() {
        let mut x = Extents::default();
        x.insert(100, (0..=255u8).collect());
        let mut b = [0u8; 4];
        assert!(x.read(110, &mut b));
        assert_eq!(b, [10, 11, 12, 13]);
        assert!(!x.read(354, &mut b));
        assert!(x.covers(100, 356) && !x.covers(99, 120));
        // A read across two touching extents.
        x.insert(356, vec![7; 10]);
        let mut c = [0u8; 6];
        assert!(x.read(352, &mut c) && x.covers(100, 366) && !x.covers(360, 367));
        assert_eq!(c, [252, 253, 254, 255, 7, 7]);
        for i in 0..40u64 {
            x.insert(1000 + (i << 25), vec![0; 16 << 20]);
        }
        assert!(x.bytes <= MAX_EXTENT_BYTES);
    }

    #[test]
    fn requests_run_concurrently_in_order() {
        let reqs: Vec<(u64, u64)> = (0..100u64).map(|i| (i * 10, i * 10 + 3)).collect();
        let out = run_concurrently(&reqs, &|s, n| Ok((s, n)));
        for (i, r) in out.into_iter().enumerate() {
            assert_eq!(r.unwrap(), (i as u64 * 10, 3));
        }
    }
}
