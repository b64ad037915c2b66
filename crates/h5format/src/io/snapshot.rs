//! Metadata snapshots of remote files: what an open learned about a file's structure, kept
//! for the next open of the same URL.
//!
//! Reading a few rows of a remote matrix is a chain of dependent round trips (file head →
//! object headers → chunk-index roots → inner nodes → leaves → chunks); every level but the
//! last is metadata that does not change while the file does not. A [`RemoteSource`]
//! keeps the metadata it read (object headers, B-tree and heap nodes, and the byte ranges a
//! reader marks as worth keeping, such as a sparse matrix's `indptr`) and, when it is
//! dropped, publishes them as a [`Snapshot`] of that URL: in this process always, and in the
//! directory `H5SPARSE_CACHE_DIR` when that variable is set (so separate processes — CLI
//! runs, Dask workers — share it). The next open of the URL starts from the snapshot.
//!
//! A snapshot is tied to the file's version: its validator (the `ETag`, else the
//! `Last-Modified` date) and length. Freshness follows HTTP caching (RFC 9111 §4.2): an open
//! within the snapshot's freshness lifetime uses it without asking the server; after that it
//! first reads the file head, as a cold open does, and uses the snapshot only when the
//! validator is unchanged. The lifetime is `H5SPARSE_REMOTE_CACHE_TTL` seconds when set
//! (`0`: always ask), else the server's `Cache-Control: max-age` (`no-cache` → 0,
//! `no-store` → no snapshot), else `Expires`, else a tenth of the time since `Last-Modified`
//! (at most a day), as HTTP caches do. Every response of every open — warm or cold — is
//! checked against the validator, so a file replaced on the server mid-read is an error
//! (and the snapshot is dropped), never a mix of two versions; only answers made of
//! metadata alone can be as old as the lifetime allows.
//!
//! [`RemoteSource`]: super::RemoteSource

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// Most bytes one snapshot holds (ranges past it are not kept).
pub const MAX_SNAPSHOT_BYTES: u64 = 16 << 20;
/// Most snapshots kept in one process (the oldest published is forgotten first).
const MAX_IN_PROCESS: usize = 64;
/// Longest heuristic freshness lifetime (from `Last-Modified`), as HTTP caches cap it.
const MAX_HEURISTIC_SECS: u64 = 24 * 3600;
/// First bytes of a snapshot file.
const MAGIC: &[u8; 8] = b"H5SNAP01";
/// Most ranges a snapshot file may declare.
const MAX_RANGES: u64 = 1 << 20;

/// The version of a remote file a snapshot describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    /// `ETag` (quoted, as sent), else `Last-Modified`.
    pub validator: String,
    /// Length of the file in bytes.
    pub len: u64,
}

/// Byte ranges of one remote file, merged and bounded.
#[derive(Clone, Default, Debug)]
pub struct Ranges {
    by_start: BTreeMap<u64, Arc<[u8]>>,
    bytes: u64,
}

impl Ranges {
    /// Keep `data`, the bytes at `start`, unless already held or over
    /// [`MAX_SNAPSHOT_BYTES`]. Overlapping or touching ranges are merged.
    pub fn add(&mut self, start: u64, data: &[u8]) {
        let end = start + data.len() as u64;
        if data.is_empty() || self.covers(start, end) {
            return;
        }
        // Merge with every range that overlaps or touches [start, end).
        let touching: Vec<u64> = self
            .by_start
            .range(..=end)
            .filter(|(&s, d)| s + d.len() as u64 >= start)
            .map(|(&s, _)| s)
            .collect();
        let lo = touching.first().map_or(start, |&s| s.min(start));
        let hi = touching
            .iter()
            .map(|s| s + self.by_start[s].len() as u64)
            .fold(end, u64::max);
        let added =
            (hi - lo).saturating_sub(touching.iter().map(|s| self.by_start[s].len() as u64).sum());
        if self.bytes + added > MAX_SNAPSHOT_BYTES {
            return;
        }
        let mut merged = vec![0u8; (hi - lo) as usize];
        for s in &touching {
            if let Some(d) = self.by_start.remove(s) {
                let at = (s - lo) as usize;
                merged[at..at + d.len()].copy_from_slice(&d);
                self.bytes -= d.len() as u64;
            }
        }
        let at = (start - lo) as usize;
        merged[at..at + data.len()].copy_from_slice(data);
        self.bytes += merged.len() as u64;
        self.by_start.insert(lo, merged.into());
    }

    /// Whether one held range contains all of `start..end`.
    fn covers(&self, start: u64, end: u64) -> bool {
        self.by_start
            .range(..=start)
            .next_back()
            .is_some_and(|(&s, d)| s + d.len() as u64 >= end)
    }

    /// Whether a held range overlaps `start..end`.
    pub fn touches(&self, start: u64, end: u64) -> bool {
        self.by_start
            .range(..end)
            .next_back()
            .is_some_and(|(&s, d)| s + d.len() as u64 > start)
            || self.by_start.range(start..end).next().is_some()
    }

    /// Every range, as (start, bytes), in file order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &Arc<[u8]>)> {
        self.by_start.iter().map(|(&s, d)| (s, d))
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// What the opens of a remote file learned about it: shared by every open of the URL in this
/// process (each adds what it reads), and stored on disk when `H5SPARSE_CACHE_DIR` is set.
#[derive(Debug)]
pub struct Snapshot {
    /// The file's version the ranges belong to.
    pub version: Version,
    /// How long after the last confirmation it may be used without asking the server.
    pub fresh_for: u64,
    /// When a response last confirmed `version` (seconds since the Unix epoch).
    confirmed_at: AtomicU64,
    /// The metadata bytes.
    ranges: Mutex<Ranges>,
    /// What the snapshot file in `H5SPARSE_CACHE_DIR` holds, as (bytes, `confirmed_at`):
    /// `(0, 0)` when this process neither loaded nor stored one.
    on_disk: Mutex<(u64, u64)>,
}

impl Snapshot {
    /// An empty snapshot of `version`, confirmed now.
    pub fn new(version: Version, fresh_for: u64) -> Self {
        Snapshot {
            version,
            fresh_for,
            confirmed_at: AtomicU64::new(now_secs()),
            ranges: Mutex::new(Ranges::default()),
            on_disk: Mutex::new((0, 0)),
        }
    }

    /// Whether it may be used now without asking the server (`H5SPARSE_REMOTE_CACHE_TTL`,
    /// when set, replaces the lifetime it was stored with).
    pub fn is_fresh(&self) -> bool {
        let lifetime = ttl_override().unwrap_or(self.fresh_for);
        now_secs() < self.confirmed_at().saturating_add(lifetime)
    }

    /// When a response last confirmed the version.
    pub fn confirmed_at(&self) -> u64 {
        self.confirmed_at.load(Ordering::Relaxed)
    }

    /// A response just confirmed the version.
    pub fn confirm(&self) {
        self.confirmed_at.fetch_max(now_secs(), Ordering::Relaxed);
    }

    /// Keep `bytes`, read at `offset` (bounded: see [`MAX_SNAPSHOT_BYTES`]).
    pub fn add(&self, offset: u64, bytes: &[u8]) {
        if let Ok(mut r) = self.ranges.lock() {
            r.add(offset, bytes);
        }
    }

    /// Bytes held now.
    pub fn bytes(&self) -> u64 {
        self.ranges.lock().map_or(0, |r| r.bytes())
    }

    /// Whether the snapshot file lags behind this snapshot enough to rewrite it: it lacks
    /// bytes read since, or its confirmation is more than half a lifetime older than the
    /// latest one (later processes would otherwise ask the server again too soon). An open
    /// that read nothing new rewrites nothing.
    fn worth_storing(&self) -> bool {
        let (bytes, confirmed) = self.on_disk.lock().map_or((0, 0), |d| *d);
        let newer = self.fresh_for > 0
            && self.confirmed_at() >= confirmed.saturating_add((self.fresh_for / 2).max(1));
        self.bytes() != bytes || newer
    }

    /// A copy of the ranges held now.
    pub fn ranges(&self) -> Ranges {
        self.ranges.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Snapshots of this process by location, with the order they were made in.
type Registry = Mutex<HashMap<String, (u64, Arc<Snapshot>)>>;

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(Default::default)
}

/// The snapshot of `location` known to this process, else the one in
/// `H5SPARSE_CACHE_DIR` (when set and readable; a damaged file is ignored).
pub fn lookup(location: &str) -> Option<Arc<Snapshot>> {
    if let Some((_, s)) = registry().lock().ok()?.get(location) {
        return Some(s.clone());
    }
    let snap = Arc::new(load(&cache_file(location)?, location)?);
    remember(location, snap.clone());
    Some(snap)
}

/// The snapshot an open of `location` that found `version` adds to: the known one when it
/// is of that version (now confirmed), else a new, empty one that replaces it.
pub fn join(location: &str, version: &Version, fresh_for: u64) -> Arc<Snapshot> {
    if let Some(s) = lookup(location).filter(|s| s.version == *version) {
        s.confirm();
        return s;
    }
    let s = Arc::new(Snapshot::new(version.clone(), fresh_for));
    remember(location, s.clone());
    s
}

/// Store the snapshot of `location` in `H5SPARSE_CACHE_DIR`, when that is set (a cache
/// that cannot be written only makes the next open slower).
pub fn persist(location: &str, snap: &Snapshot) {
    if let Some(path) = cache_file(location).filter(|_| snap.worth_storing()) {
        let _ = store(&path, location, snap);
    }
}

/// Forget the snapshot of `location` (the file changed on the server).
pub fn forget(location: &str) {
    if let Ok(mut r) = registry().lock() {
        r.remove(location);
    }
    if let Some(path) = cache_file(location) {
        let _ = std::fs::remove_file(path);
    }
}

fn remember(location: &str, snap: Arc<Snapshot>) {
    let Ok(mut r) = registry().lock() else {
        return;
    };
    static TICK: AtomicU64 = AtomicU64::new(0);
    let t = TICK.fetch_add(1, Ordering::Relaxed);
    r.insert(location.to_string(), (t, snap));
    while r.len() > MAX_IN_PROCESS {
        let oldest = r
            .iter()
            .min_by_key(|(_, (t, _))| *t)
            .map(|(k, _)| k.clone());
        match oldest {
            Some(k) => r.remove(&k),
            None => break,
        };
    }
}

/// The snapshot file of `location` in `H5SPARSE_CACHE_DIR`, if that is set.
fn cache_file(location: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("H5SPARSE_CACHE_DIR").filter(|d| !d.is_empty())?;
    // FNV-1a of the location names the file; the location inside is checked on load.
    let h = location.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    Some(PathBuf::from(dir).join(format!("{h:016x}.h5snap")))
}

/// Write a snapshot file atomically (temporary file, then rename).
fn store(path: &std::path::Path, location: &str, s: &Snapshot) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    for text in [location, &s.version.validator] {
        out.extend_from_slice(&(text.len() as u64).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    let ranges = s.ranges();
    let n = ranges.iter().count() as u64;
    let confirmed = s.confirmed_at();
    for v in [s.version.len, confirmed, s.fresh_for, n] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (start, data) in ranges.iter() {
        out.extend_from_slice(&start.to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        out.extend_from_slice(data);
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&out)?;
    drop(f);
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    if let Ok(mut d) = s.on_disk.lock() {
        *d = (ranges.bytes(), confirmed);
    }
    Ok(())
}

/// Read a snapshot file; `None` when missing, damaged, or of another location.
fn load(path: &std::path::Path, location: &str) -> Option<Snapshot> {
    let f = std::fs::File::open(path).ok()?;
    // Never more than a full snapshot plus its bookkeeping.
    let cap = MAX_SNAPSHOT_BYTES * 2 + (1 << 20);
    let mut bytes = Vec::new();
    f.take(cap).read_to_end(&mut bytes).ok()?;
    parse(&bytes, location)
}

fn parse(bytes: &[u8], location: &str) -> Option<Snapshot> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(8)? != MAGIC {
        return None;
    }
    let mut text = || -> Option<String> {
        let n = r.u64()?;
        String::from_utf8(r.take(usize::try_from(n).ok()?)?.to_vec()).ok()
    };
    let (loc, validator) = (text()?, text()?);
    if loc != location {
        return None;
    }
    let (len, confirmed_at, fresh_for, n) = (r.u64()?, r.u64()?, r.u64()?, r.u64()?);
    if n > MAX_RANGES {
        return None;
    }
    let mut ranges = Ranges::default();
    for _ in 0..n {
        let (start, size) = (r.u64()?, r.u64()?);
        if start.checked_add(size)? > len {
            return None;
        }
        ranges.add(start, r.take(usize::try_from(size).ok()?)?);
    }
    (r.at == bytes.len()).then_some(Snapshot {
        version: Version { validator, len },
        fresh_for,
        confirmed_at: AtomicU64::new(confirmed_at),
        on_disk: Mutex::new((ranges.bytes(), confirmed_at)),
        ranges: Mutex::new(ranges),
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

/// The validator of a response: its `ETag`, else its `Last-Modified`.
pub fn validator(etag: Option<&str>, last_modified: Option<&str>) -> Option<String> {
    etag.or(last_modified)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Freshness lifetime in seconds from response headers (`None`: do not keep a snapshot at
/// all, `no-store`). `H5SPARSE_REMOTE_CACHE_TTL` overrides the headers.
pub fn lifetime(header: impl Fn(&str) -> Option<String>) -> Option<u64> {
    let cc = header("cache-control")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let directives: Vec<&str> = cc.split(',').map(str::trim).collect();
    if directives.contains(&"no-store") {
        return None;
    }
    if let Some(ttl) = ttl_override() {
        return Some(ttl);
    }
    if directives
        .iter()
        .any(|d| *d == "no-cache" || d.starts_with("no-cache="))
    {
        return Some(0);
    }
    let age = header("age")
        .and_then(|a| a.trim().parse::<u64>().ok())
        .unwrap_or(0);
    if let Some(max_age) = directives
        .iter()
        .find_map(|d| d.strip_prefix("max-age="))
        .and_then(|v| v.trim().trim_matches('"').parse::<u64>().ok())
    {
        return Some(max_age.saturating_sub(age));
    }
    let date = header("date")
        .and_then(|d| http_date(&d))
        .unwrap_or_else(now_secs);
    if let Some(expires) = header("expires") {
        // An invalid Expires means "already expired".
        return Some(http_date(&expires).map_or(0, |e| e.saturating_sub(date)));
    }
    let heuristic = header("last-modified")
        .and_then(|lm| http_date(&lm))
        .map_or(0, |lm| {
            (date.saturating_sub(lm) / 10).min(MAX_HEURISTIC_SECS)
        });
    Some(heuristic.saturating_sub(age))
}

/// `H5SPARSE_REMOTE_CACHE_TTL`, in seconds, when set.
fn ttl_override() -> Option<u64> {
    std::env::var("H5SPARSE_REMOTE_CACHE_TTL")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) as seconds since the Unix epoch.
pub fn http_date(s: &str) -> Option<u64> {
    let mut w = s.split_whitespace();
    let _weekday = w.next()?;
    let day: u64 = w.next()?.parse().ok()?;
    let month = match w.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = w.next()?.parse().ok()?;
    let mut hms = w.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if w.next()? != "GMT" || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    // Days from civil (proleptic Gregorian), 1970-01-01 = 0.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days)
        .ok()
        .map(|d| d * 86_400 + h * 3600 + m * 60 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        assert_eq!(
            http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            http_date("Sat, 05 Dec 2026 22:00:00 GMT"),
            Some(1_796_508_000)
        );
        assert_eq!(http_date("Sun, 06 Nov 1994 08:49:37 UTC"), None);
        assert_eq!(http_date("garbage"), None);
    }

    #[test]
    fn lifetimes_follow_http_caching() {
        fn h<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        }
        if std::env::var_os("H5SPARSE_REMOTE_CACHE_TTL").is_some() {
            return;
        }
        assert_eq!(
            lifetime(h(&[("cache-control", "public, max-age=600")])),
            Some(600)
        );
        assert_eq!(
            lifetime(h(&[("cache-control", "max-age=600"), ("age", "100")])),
            Some(500)
        );
        assert_eq!(lifetime(h(&[("cache-control", "no-cache")])), Some(0));
        assert_eq!(lifetime(h(&[("cache-control", "no-store")])), None);
        let lm = [
            ("date", "Sat, 05 Dec 2026 10:00:00 GMT"),
            ("last-modified", "Sat, 05 Dec 2026 00:00:00 GMT"),
        ];
        assert_eq!(lifetime(h(&lm)), Some(3600));
        let ex = [
            ("date", "Sat, 05 Dec 2026 10:00:00 GMT"),
            ("expires", "Sat, 05 Dec 2026 10:05:00 GMT"),
        ];
        assert_eq!(lifetime(h(&ex)), Some(300));
        assert_eq!(lifetime(h(&[])), Some(0));
    }

    #[test]
    fn ranges_merge_and_stay_bounded() {
        let mut r = Ranges::default();
        r.add(10, &[1, 2, 3]);
        r.add(13, &[4, 5]);
        r.add(8, &[9, 9, 1]);
        r.add(11, &[2]);
        let v: Vec<(u64, Vec<u8>)> = r.iter().map(|(s, d)| (s, d.to_vec())).collect();
        assert_eq!(v, vec![(8, vec![9, 9, 1, 2, 3, 4, 5])]);
        assert_eq!(r.bytes(), 7);
        r.add(100, &vec![0u8; MAX_SNAPSHOT_BYTES as usize]);
        assert_eq!(r.bytes(), 7);
    }

    #[test]
    fn snapshot_files_round_trip_and_damage_is_ignored() {
        let mut ranges = Ranges::default();
        ranges.add(0, b"HDF5 head");
        ranges.add(4096, &[7u8; 100]);
        let s = Snapshot {
            version: Version {
                validator: "\"abc-123\"".into(),
                len: 10_000,
            },
            fresh_for: 60,
            confirmed_at: AtomicU64::new(1_000),
            ranges: Mutex::new(ranges),
            on_disk: Mutex::new((0, 0)),
        };
        assert!(s.worth_storing());
        let dir = std::env::temp_dir().join(format!("h5snap-test-{}", std::process::id()));
        let path = dir.join("x.h5snap");
        store(&path, "http://h/f.h5", &s).unwrap();
        let back = load(&path, "http://h/f.h5").unwrap();
        assert_eq!(back.version, s.version);
        assert_eq!((back.confirmed_at(), back.fresh_for), (1_000, 60));
        let got: Vec<(u64, Vec<u8>)> = back.ranges().iter().map(|(a, d)| (a, d.to_vec())).collect();
        assert_eq!(
            got,
            vec![(0, b"HDF5 head".to_vec()), (4096, vec![7u8; 100])]
        );
        assert!(load(&path, "http://h/other.h5").is_none());
        let bytes = std::fs::read(&path).unwrap();
        for cut in [0, 7, 20, bytes.len() - 1] {
            assert!(parse(&bytes[..cut], "http://h/f.h5").is_none());
        }
        let mut bad = bytes.clone();
        // A range past the file's declared length.
        let at = bad.len() - 100 - 16;
        bad[at..at + 8].copy_from_slice(&9_990u64.to_le_bytes());
        assert!(parse(&bad, "http://h/f.h5").is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_snapshot_file_is_rewritten_only_when_it_lags() {
        let s = Snapshot::new(
            Version {
                validator: "\"v\"".into(),
                len: 1 << 20,
            },
            600,
        );
        s.add(0, &[1; 64]);
        assert!(s.worth_storing(), "never stored");
        let dir = std::env::temp_dir().join(format!("h5snap-lag-{}", std::process::id()));
        let path = dir.join("x.h5snap");
        store(&path, "http://h/f.h5", &s).unwrap();
        assert!(!s.worth_storing(), "nothing new since the store");
        // A load holds what the file holds: nothing to write back.
        let back = load(&path, "http://h/f.h5").unwrap();
        assert!(!back.worth_storing());
        // A confirmation within half the lifetime is not worth a rewrite; later it is.
        back.confirmed_at.fetch_add(200, Ordering::Relaxed);
        assert!(!back.worth_storing());
        back.confirmed_at.fetch_add(200, Ordering::Relaxed);
        assert!(back.worth_storing());
        // New bytes are.
        s.add(4096, &[2; 10]);
        assert!(s.worth_storing());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
