//! Remote byte sources: `http://` URLs read by range requests and `s3://BUCKET/KEY` objects
//! read through the S3 API (path-style, SigV4-signed when credentials are set).
//!
//! Few round trips: opening reads the file head (superblock and root metadata) in one
//! request; ranges the readers announce ([`ByteSource::hint`]: the chunks of a selection,
//! the nodes of a B-tree level) are fetched together on the first read of one of them
//! (merged, concurrently: see [`burst`]); a large read just after an earlier one fetches a
//! read-ahead window; other small reads go through a bounded cache of aligned blocks (the
//! missing blocks of one read in one request); other large reads go straight to the server
//! in one request each. Failed requests (5xx, connection errors, timeouts) are retried with
//! backoff; a server that ignores ranges, a missing object or a timeout is an error, never a
//! hang. A reopen of the same URL starts from the metadata earlier opens read
//! ([`snapshot`](super::snapshot)); every response is checked against the file's version.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::burst::{self, Extents, Pending};
use super::http::{Client, Response, Target};
use super::sigv4::{self, Credentials};
use super::snapshot::{self, Snapshot, Version};
use super::ByteSource;

/// Bytes read by the first request (superblock, root group and usually all metadata).
pub const HEAD_BYTES: u64 = 1 << 20;
/// Cache block size for small reads.
const BLOCK: u64 = super::HINT_BLOCK;
/// Reads at least this long bypass the cache.
const DIRECT: u64 = 256 << 10;
/// Most blocks kept (64 MiB).
const MAX_BLOCKS: usize = 1024;
/// Reads at least this long are checked for a sequential pattern.
const SEQUENTIAL_MIN: u64 = 16 << 10;
/// A read starting at most this far (or two of its lengths) after an earlier read's end is
/// sequential.
const SEQUENTIAL_GAP: u64 = 4 << 10;
/// A sequential read fetches this many times its length...
const READ_AHEAD: u64 = 4;
/// ... up to this many bytes.
const MAX_READ_AHEAD: u64 = 8 << 20;
/// Attempts per request (first try plus retries).
const ATTEMPTS: u32 = 4;

/// Whether `location` names a remote file (`http://`, `https://` or `s3://`).
pub fn is_url(location: &str) -> bool {
    location.starts_with("http://")
        || location.starts_with("https://")
        || location.starts_with("s3://")
}

/// A remote file read by HTTP range requests.
pub struct RemoteSource {
    client: Client,
    location: String,
    creds: Option<Credentials>,
    len: u64,
    cache: Mutex<Cache>,
    /// Announced ranges and the extents bursts fetched (see [`burst`]).
    bursts: Mutex<Bursts>,
    /// Signalled when a burst ends.
    burst_done: Condvar,
    requests: AtomicU64,
    bytes: AtomicU64,
    /// `H5SPARSE_HTTP_TRACE` set: every request is printed to stderr.
    trace: bool,
    /// When the source was opened (for the trace).
    opened: std::time::Instant,
    /// Ends of the latest large reads (sequential reads are detected against them).
    recent_ends: Mutex<std::collections::VecDeque<u64>>,
    /// The file's version (validator and length) every response must match; `None` when
    /// the server names no version.
    version: Option<Version>,
    /// The URL's snapshot this open adds the metadata it reads to (see [`snapshot`]);
    /// `None` without a version or when the server forbids keeping responses.
    snap: Option<Arc<Snapshot>>,
    /// What the snapshot held when this open started (hints for it are not fetched).
    seeded: snapshot::Ranges,
    /// A response showed another version of the file: the snapshot is not stored.
    changed: std::sync::atomic::AtomicBool,
}

/// Response headers as `(lower-case name, value)`.
type Headers = Vec<(String, String)>;

/// A response's body and the file's total length.
struct Reply {
    body: Vec<u8>,
    total: u64,
}

#[derive(Default)]
struct Bursts {
    pending: Pending,
    extents: Extents,
    /// Requests of the bursts running now (several threads may run one each).
    in_flight: Vec<(u64, u64)>,
}

struct Cache {
    blocks: HashMap<u64, (Arc<[u8]>, u64)>,
    tick: u64,
}

impl RemoteSource {
    /// Open `http://…` or `s3://BUCKET/KEY`: one request reads the first `HEAD_BYTES` (1 MiB) and
    /// learns the length. The timeout per connect/read is `H5SPARSE_HTTP_TIMEOUT` seconds
    /// (default 30).
    pub fn open(location: &str) -> std::io::Result<RemoteSource> {
        let timeout = std::env::var("H5SPARSE_HTTP_TIMEOUT")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .map_or(Duration::from_secs(30), Duration::from_secs_f64);
        let (target, creds) = if let Some(rest) = location.strip_prefix("s3://") {
            sigv4::s3_target(location, rest)?
        } else {
            (Target::parse(location)?, None)
        };
        let mut src = RemoteSource {
            client: Client::new(target, timeout)?,
            location: location.to_string(),
            creds,
            len: 0,
            cache: Mutex::new(Cache {
                blocks: HashMap::new(),
                tick: 0,
            }),
            bursts: Mutex::new(Bursts::default()),
            burst_done: Condvar::new(),
            requests: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            trace: std::env::var_os("H5SPARSE_HTTP_TRACE").is_some_and(|v| !v.is_empty()),
            opened: std::time::Instant::now(),
            recent_ends: Mutex::new(std::collections::VecDeque::new()),
            version: None,
            snap: None,
            seeded: snapshot::Ranges::default(),
            changed: std::sync::atomic::AtomicBool::new(false),
        };
        if let Some(snap) = snapshot::lookup(location).filter(|s| s.is_fresh()) {
            // Within the snapshot's freshness lifetime: no request at open. Every response
            // is still checked against its version.
            src.len = snap.version.len;
            src.version = Some(snap.version.clone());
            src.seed(&snap)?;
            if src.trace {
                eprintln!(
                    "h5sparse http: fresh snapshot of {location}: {} bytes of metadata, no request at open",
                    src.seeded.bytes()
                );
            }
            src.snap = Some(snap);
            return Ok(src);
        }
        let (Reply { body: head, total }, headers) = src.fetch_head()?;
        src.len = total;
        let validator = snapshot::validator(
            header(&headers, "etag").as_deref(),
            header(&headers, "last-modified").as_deref(),
        );
        src.version = validator.map(|validator| Version {
            validator,
            len: total,
        });
        if let (Some(v), Some(fresh_for)) =
            (&src.version, snapshot::lifetime(|k| header(&headers, k)))
        {
            // Revalidated by the head request: what the snapshot holds (if it is of this
            // version) spares the rest of the metadata chain.
            let snap = snapshot::join(location, v, fresh_for);
            src.seed(&snap)?;
            src.snap = Some(snap);
        }
        // The head fills the cache in whole blocks (and the file's tail block if short).
        let mut cache = src.cache.lock().map_err(|_| poisoned())?;
        let mut at = 0u64;
        while at < head.len() as u64 {
            let end = (at + BLOCK).min(head.len() as u64);
            if end - at == BLOCK || end == total {
                cache.tick += 1;
                let t = cache.tick;
                cache
                    .blocks
                    .insert(at / BLOCK, (Arc::from(&head[at as usize..end as usize]), t));
            }
            at = end;
        }
        drop(cache);
        Ok(src)
    }

    /// Start from a snapshot's metadata: its ranges serve reads as a burst's extents do.
    fn seed(&mut self, s: &Snapshot) -> std::io::Result<()> {
        self.seeded = s.ranges();
        let mut b = self.bursts.lock().map_err(|_| poisoned())?;
        for (start, data) in self.seeded.iter() {
            b.extents.insert(start, data.to_vec());
        }
        Ok(())
    }

    /// The first request of a cold open: the head of the file, with the response's headers.
    fn fetch_head(&self) -> std::io::Result<(Reply, Headers)> {
        let headers = Mutex::new(Vec::new());
        let reply = self.fetch_with(0, HEAD_BYTES, &|resp: &Response| {
            if let Ok(mut h) = headers.lock() {
                h.clone_from(&resp.headers);
            }
        })?;
        let headers = headers.into_inner().map_err(|_| poisoned())?;
        Ok((reply, headers))
    }

    /// Requests made so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Body bytes received so far.
    pub fn bytes_received(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// GET `len` bytes at `offset` (fewer at the end of the file), with retries. Returns
    /// the body and the file's total length.
    fn fetch(&self, offset: u64, len: u64) -> std::io::Result<(Vec<u8>, u64)> {
        let r = self.fetch_with(offset, len, &|_| {})?;
        Ok((r.body, r.total))
    }

    /// [`fetch`](Self::fetch), showing the accepted response to `look` first.
    fn fetch_with(
        &self,
        offset: u64,
        len: u64,
        look: &dyn Fn(&Response),
    ) -> std::io::Result<Reply> {
        let end = offset + len.max(1) - 1;
        let mut delay = Duration::from_millis(100);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.fetch_once(offset, end, len, look);
            match result {
                Err(e) if attempt < ATTEMPTS && retryable(&e) => {
                    std::thread::sleep(delay);
                    delay *= 2;
                }
                Err(e) if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
                {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!(
                            "timed out after {:?} ({attempt} attempts; H5SPARSE_HTTP_TIMEOUT sets the limit)",
                            self.client.timeout()
                        ),
                    ))
                }
                Err(e) => return Err(e),
                Ok(v) => return Ok(v),
            }
        }
    }

    fn fetch_once(
        &self,
        offset: u64,
        end: u64,
        len: u64,
        look: &dyn Fn(&Response),
    ) -> std::io::Result<Reply> {
        let extra = match &self.creds {
            Some(c) => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let t = self.client.target();
                sigv4::sign_get(c, &t.host_header(), &t.path, now)
            }
            None => Vec::new(),
        };
        self.requests.fetch_add(1, Ordering::Relaxed);
        if self.trace {
            eprintln!(
                "h5sparse http: {:.3}s GET {} bytes {offset}-{end}",
                self.opened.elapsed().as_secs_f64(),
                self.location
            );
        }
        let resp = self.client.get_range(offset, end, &extra, len)?;
        if self.trace {
            eprintln!(
                "h5sparse http: {:.3}s done {offset}-{end}",
                self.opened.elapsed().as_secs_f64()
            );
        }
        self.bytes
            .fetch_add(resp.body.len() as u64, Ordering::Relaxed);
        match resp.status {
            206 => {}
            200 => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    "the server does not answer range requests (HTTP 200 to a Range request)",
                ))
            }
            404 => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such file or object (HTTP 404)",
                ))
            }
            403 | 401 => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("access denied (HTTP {})", resp.status),
                ))
            }
            416 => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "range not satisfiable (HTTP 416; empty file?)",
                ))
            }
            s => {
                let kind = if s >= 500 {
                    std::io::ErrorKind::Other
                } else {
                    std::io::ErrorKind::InvalidData
                };
                return Err(std::io::Error::new(kind, format!("HTTP {s}")));
            }
        }
        let range = resp.header("content-range").ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "HTTP 206 without Content-Range",
            )
        })?;
        let (first, total) = parse_content_range(range).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("bad Content-Range {range:?}"),
            )
        })?;
        if first != offset {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("asked for bytes from {offset}, got {range:?}"),
            ));
        }
        self.check_version(&resp, total)?;
        look(&resp);
        Ok(Reply {
            body: resp.body,
            total,
        })
    }

    /// Every response must come from the version of the file this open started from (its
    /// metadata, perhaps from a snapshot, says where everything is): another validator or
    /// length is an error, and the URL's snapshot is forgotten.
    fn check_version(&self, resp: &Response, total: u64) -> std::io::Result<()> {
        let Some(v) = &self.version else {
            return Ok(());
        };
        let got = snapshot::validator(resp.header("etag"), resp.header("last-modified"));
        if got.as_deref() == Some(v.validator.as_str()) && total == v.len {
            if let Some(s) = &self.snap {
                s.confirm();
            }
            return Ok(());
        }
        self.changed.store(true, Ordering::Relaxed);
        snapshot::forget(&self.location);
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{}: the file changed on the server while it was read ({} bytes, version {} when opened; now {total} bytes, version {}): open it again",
                self.location,
                v.len,
                v.validator,
                got.as_deref().unwrap_or("unnamed")
            ),
        ))
    }

    /// Read `buf.len()` bytes at `offset` straight from the server.
    fn read_direct(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let (body, _) = self.fetch(offset, buf.len() as u64)?;
        if body.len() != buf.len() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "{}: asked for {} bytes at {offset}, got {}",
                    self.location,
                    buf.len(),
                    body.len()
                ),
            ));
        }
        buf.copy_from_slice(&body);
        Ok(())
    }

    /// Serve `buf` from a burst: from the extents of an earlier one, by waiting for a
    /// running one that fetches it, or by running one now (with every pending hint) when a
    /// pending hint overlaps the read — or, with `carry`, when any hint is pending: a read
    /// that must go to the server anyway takes the announced ranges along (concurrently, so
    /// at no extra wait) instead of leaving them for a round trip of their own later; a small
    /// read then fetches the cache blocks around it, as the block cache would. `Ok(false)`:
    /// nothing to do with a burst, read it the ordinary way.
    ///
    /// `ahead`: where a read-ahead window starts when the read is sequential (see
    /// [`note_read`](Self::note_read)): the window, [`READ_AHEAD`] times the read's length,
    /// is announced and fetched with the burst.
    fn read_from_burst(
        &self,
        offset: u64,
        buf: &mut [u8],
        ahead: Option<u64>,
        carry: bool,
    ) -> std::io::Result<bool> {
        let end = offset + buf.len() as u64;
        let mut b = self.bursts.lock().map_err(|_| poisoned())?;
        if let Some(from) = ahead {
            let fetching = b.in_flight.iter().any(|&(s, e)| s < end && offset < e);
            if !fetching && !b.extents.covers(offset, end) {
                let len = buf.len() as u64;
                let window = (len * READ_AHEAD).min(MAX_READ_AHEAD).max(end - from);
                b.pending.add(from, window);
            }
        }
        loop {
            if b.extents.read(offset, buf) {
                return Ok(true);
            }
            let running = b.in_flight.iter().any(|&(s, e)| s < end && offset < e);
            if running && !b.pending.overlaps_outside(offset, end, &b.in_flight) {
                b = self.burst_done.wait(b).map_err(|_| poisoned())?;
                continue;
            }
            // Part of the read is fetched by a running burst and part is announced but not
            // fetched (another thread's burst took this thread's first announcements along
            // while it was still announcing the rest): fetch that part now, beside the
            // running burst, then wait for both — one round trip, not two.
            let announced = b.pending.overlaps(offset, end);
            let carried = carry && !b.pending.is_empty();
            if !announced && !carried {
                return Ok(false);
            }
            // The read itself joins the burst: one spanning several announced ranges (the
            // unfiltered chunks of a range, file-adjacent) and the bytes between them is then
            // served by the merged requests, not fetched a second time.
            let (from, to) = if announced || buf.len() as u64 >= DIRECT {
                (offset, end)
            } else {
                (offset / BLOCK * BLOCK, end.div_ceil(BLOCK) * BLOCK)
            };
            if !running && to - from <= burst::MAX_MERGED {
                b.pending.add(from, to - from);
            }
            if !b.pending.overlaps(offset, end) {
                // Over the hint budget: the ordinary way.
                return Ok(false);
            }
            let requests = burst::plan(b.pending.take(), self.len);
            b.in_flight.extend_from_slice(&requests);
            drop(b);
            let results = burst::run_concurrently(&requests, &|s, n| {
                let (body, _) = self.fetch(s, n)?;
                if body.len() as u64 != n {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!("{}: short read at {s}", self.location),
                    ));
                }
                Ok(body)
            });
            b = self.bursts.lock().map_err(|_| poisoned())?;
            let mut first_err = None;
            for (&(s, e), r) in requests.iter().zip(results) {
                if let Some(i) = b.in_flight.iter().position(|&x| x == (s, e)) {
                    b.in_flight.swap_remove(i);
                }
                match r {
                    Ok(body) => b.extents.insert(s, body),
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            self.burst_done.notify_all();
            if let Some(e) = first_err {
                if !b.extents.covers(offset, end) {
                    return Err(e);
                }
            }
        }
    }

    /// Note a read of `len` bytes at `offset`; for a large one that starts shortly after an
    /// earlier one's end, that end (where a read-ahead window starts).
    fn note_read(&self, offset: u64, len: u64) -> Option<u64> {
        if len < SEQUENTIAL_MIN {
            return None;
        }
        let mut r = self.recent_ends.lock().ok()?;
        // Reads of a range may arrive a little out of order: a few lengths back still counts.
        let hit = r
            .iter()
            .copied()
            .filter(|&e| offset >= e && offset - e <= SEQUENTIAL_GAP.max(2 * len))
            .min();
        r.push_back(offset + len);
        if r.len() > 16 {
            r.pop_front();
        }
        hit
    }

    /// Cached blocks `first..=last` when all of them are cached (nothing fetched).
    fn cached_blocks(&self, first: u64, last: u64) -> std::io::Result<Option<Vec<Arc<[u8]>>>> {
        let mut c = self.cache.lock().map_err(|_| poisoned())?;
        c.tick += 1;
        let t = c.tick;
        let mut out = Vec::with_capacity((last - first + 1) as usize);
        for b in first..=last {
            match c.blocks.get_mut(&b) {
                Some(e) => {
                    e.1 = t;
                    out.push(e.0.clone());
                }
                None => return Ok(None),
            }
        }
        Ok(Some(out))
    }

    /// Cached blocks `first..=last`, fetching every missing run in one request each.
    fn blocks(&self, first: u64, last: u64) -> std::io::Result<Vec<Arc<[u8]>>> {
        let mut have: Vec<Option<Arc<[u8]>>> = {
            let mut c = self.cache.lock().map_err(|_| poisoned())?;
            c.tick += 1;
            let t = c.tick;
            (first..=last)
                .map(|b| {
                    c.blocks.get_mut(&b).map(|e| {
                        e.1 = t;
                        e.0.clone()
                    })
                })
                .collect()
        };
        let mut i = 0;
        while i < have.len() {
            if have[i].is_some() {
                i += 1;
                continue;
            }
            let mut j = i;
            while j < have.len() && have[j].is_none() {
                j += 1;
            }
            let start = (first + i as u64) * BLOCK;
            let end = ((first + j as u64) * BLOCK).min(self.len);
            let (body, _) = self.fetch(start, end - start)?;
            if body.len() as u64 != end - start {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("{}: short read at {start}", self.location),
                ));
            }
            let mut c = self.cache.lock().map_err(|_| poisoned())?;
            for (k, slot) in have.iter_mut().enumerate().take(j).skip(i) {
                let s = (k - i) * BLOCK as usize;
                let e = (s + BLOCK as usize).min(body.len());
                let block: Arc<[u8]> = Arc::from(&body[s..e]);
                c.tick += 1;
                let t = c.tick;
                c.blocks.insert(first + k as u64, (block.clone(), t));
                *slot = Some(block);
            }
            while c.blocks.len() > MAX_BLOCKS {
                // Evict the least recently used block.
                let oldest = c.blocks.iter().min_by_key(|(_, v)| v.1).map(|(k, _)| *k);
                match oldest {
                    Some(k) => c.blocks.remove(&k),
                    None => break,
                };
            }
            i = j;
        }
        Ok(have.into_iter().flatten().collect())
    }
}

impl Drop for RemoteSource {
    /// Store the URL's snapshot for other processes (`H5SPARSE_CACHE_DIR`; see [`snapshot`]).
    fn drop(&mut self) {
        if let Some(snap) = &self.snap {
            if !self.changed.load(Ordering::Relaxed) && snap.bytes() > 0 {
                snapshot::persist(&self.location, snap);
            }
        }
    }
}

impl ByteSource for RemoteSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn keep(&self, offset: u64, bytes: &[u8]) {
        if let Some(s) = &self.snap {
            s.add(offset, bytes);
        }
    }

    fn hint(&self, offset: u64, len: u64) {
        let end = offset.saturating_add(len).min(self.len);
        if offset >= end {
            return;
        }
        // Metadata the snapshot this open started from holds: a structure announced at its
        // start (a node whose read will be shorter than the announced bound), or a header
        // announced by position only (its whole block) where the snapshot holds metadata —
        // the header is most likely among it (a wrong guess only costs a request later).
        let k = &self.seeded;
        let known = k.touches(offset, offset + 1)
            || (offset.is_multiple_of(BLOCK) && len == BLOCK && k.touches(offset, offset + BLOCK));
        if known {
            return;
        }
        // Already in the block cache or a burst's extents: nothing to fetch.
        let cached = self
            .cache
            .lock()
            .is_ok_and(|c| (offset / BLOCK..=(end - 1) / BLOCK).all(|b| c.blocks.contains_key(&b)));
        if cached {
            return;
        }
        if let Ok(mut b) = self.bursts.lock() {
            if !b.extents.covers(offset, end) {
                b.pending.add(offset, end - offset);
            }
        }
    }

    fn hint_maybe(&self, offset: u64, len: u64) {
        // An open that started from a snapshot holds what the last open read; what that
        // one did not read, this one most likely does not need either.
        if self.seeded.bytes() == 0 {
            self.hint(offset, len);
        }
    }

    fn is_remote(&self) -> bool {
        true
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|e| *e <= self.len)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?;
        let sequential = self.note_read(offset, buf.len() as u64);
        if self.read_from_burst(offset, buf, sequential, false)? {
            return Ok(());
        }
        let first = offset / BLOCK;
        let last = (end - 1) / BLOCK;
        let small = (buf.len() as u64) < DIRECT;
        let cached = if small {
            self.cached_blocks(first, last)?
        } else {
            None
        };
        let blocks = match cached {
            Some(b) => b,
            None => {
                if self.read_from_burst(offset, buf, None, true)? {
                    return Ok(());
                }
                if !small {
                    return self.read_direct(offset, buf);
                }
                self.blocks(first, last)?
            }
        };
        let mut pos = 0usize;
        for (k, block) in blocks.iter().enumerate() {
            let block_start = (first + k as u64) * BLOCK;
            let from = offset.max(block_start) - block_start;
            let to = (end.min(block_start + block.len() as u64)) - block_start;
            if to < from {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
            }
            let n = (to - from) as usize;
            buf[pos..pos + n].copy_from_slice(&block[from as usize..to as usize]);
            pos += n;
        }
        if pos != buf.len() {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
        }
        Ok(())
    }
}

fn retryable(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        Other
            | TimedOut
            | WouldBlock
            | ConnectionReset
            | ConnectionAborted
            | ConnectionRefused
            | BrokenPipe
            | UnexpectedEof
            | Interrupted
    )
}

/// The value of header `name` (lower case) in `headers`.
fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn poisoned() -> std::io::Error {
    std::io::Error::other("remote cache lock poisoned")
}

/// `bytes FIRST-LAST/TOTAL` → `(FIRST, TOTAL)`.
fn parse_content_range(v: &str) -> Option<(u64, u64)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (first, _) = range.split_once('-')?;
    Some((first.trim().parse().ok()?, total.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range() {
        assert_eq!(parse_content_range("bytes 0-99/1234"), Some((0, 1234)));
        assert_eq!(parse_content_range("bytes */1234"), None);
    }

    #[test]
    fn urls() {
        assert!(is_url("s3://b/k") && is_url("http://h/x") && !is_url("x.h5"));
        let t = Target::parse("http://127.0.0.1:8080/a/b.h5").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("127.0.0.1", 8080, "/a/b.h5")
        );
        // https needs the `tls` feature.
        assert_eq!(Target::parse("https://x/y").is_ok(), cfg!(feature = "tls"));
    }
}
