//! Where written bytes go: a small positional-write trait, with a `Vec<u8>` implementation
//! and (feature `fs`) a temporary file renamed onto its target on commit.

use crate::error::{Error, Result};

/// A random-access byte target.
pub trait Sink: Send {
    /// Write `data` at `offset`, growing the target as needed (gaps read as zeros).
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<()>;
    /// Make the target exactly `len` bytes long (extending with zeros).
    fn set_len(&mut self, len: u64) -> Result<()>;
}

impl Sink for Vec<u8> {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        let start = usize::try_from(offset).map_err(|_| too_big(offset))?;
        let end = start
            .checked_add(data.len())
            .ok_or_else(|| too_big(offset))?;
        if end > self.len() {
            self.resize(end, 0);
        }
        if let Some(dst) = self.get_mut(start..end) {
            dst.copy_from_slice(data);
        }
        Ok(())
    }

    fn set_len(&mut self, len: u64) -> Result<()> {
        let len = usize::try_from(len).map_err(|_| too_big(len))?;
        self.resize(len, 0);
        Ok(())
    }
}

fn too_big(offset: u64) -> Error {
    Error::Usage(format!("in-memory file cannot grow to offset {offset}"))
}

#[cfg(feature = "fs")]
pub use file::TempFileSink;

#[cfg(feature = "fs")]
mod file {
    use std::fs::{File, OpenOptions};
    use std::io::{Seek, SeekFrom, Write};
    use std::path::{Path, PathBuf};

    use super::Sink;
    use crate::error::{Error, Result};

    /// A temporary file next to the target, renamed onto it by [`TempFileSink::commit`].
    ///
    /// Dropping it uncommitted removes the temporary file, so the target is never left partial
    /// and an existing target is untouched.
    #[derive(Debug)]
    pub struct TempFileSink {
        file: Option<File>,
        tmp: PathBuf,
        target: PathBuf,
    }

    fn io(offset: u64, source: std::io::Error) -> Error {
        Error::Io { offset, source }
    }

    impl TempFileSink {
        /// Create the temporary file in the folder of `target`.
        pub fn create(target: &Path) -> Result<Self> {
            let dir = match target.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let name = target
                .file_name()
                .ok_or_else(|| Error::Usage(format!("{}: not a file name", target.display())))?
                .to_string_lossy()
                .into_owned();
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let mut last = None;
            for attempt in 0..100u32 {
                let tmp = dir.join(format!(
                    ".{name}.{}.{}.tmp",
                    std::process::id(),
                    nanos.wrapping_add(attempt)
                ));
                match OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(&tmp)
                {
                    Ok(file) => {
                        return Ok(TempFileSink {
                            file: Some(file),
                            tmp,
                            target: target.to_path_buf(),
                        })
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                    Err(e) => return Err(io(0, e)),
                }
            }
            Err(io(
                0,
                last.unwrap_or_else(|| std::io::Error::other("no temporary name")),
            ))
        }

        /// The temporary path being written.
        pub fn temp_path(&self) -> &Path {
            &self.tmp
        }

        /// Flush to disk (`fsync`, unless `sync` is false) and rename the temporary file onto
        /// the target.
        pub fn commit(mut self, sync: bool) -> Result<()> {
            if let Some(file) = self.file.take() {
                if sync {
                    file.sync_all().map_err(|e| io(0, e))?;
                }
                drop(file);
                std::fs::rename(&self.tmp, &self.target).map_err(|e| io(0, e))?;
            }
            Ok(())
        }

        fn file(&mut self) -> Result<&mut File> {
            self.file
                .as_mut()
                .ok_or_else(|| Error::Usage("file already committed".into()))
        }
    }

    impl Sink for TempFileSink {
        fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<()> {
            let f = self.file()?;
            f.seek(SeekFrom::Start(offset)).map_err(|e| io(offset, e))?;
            f.write_all(data).map_err(|e| io(offset, e))
        }

        fn set_len(&mut self, len: u64) -> Result<()> {
            self.file()?.set_len(len).map_err(|e| io(len, e))
        }
    }

    impl Drop for TempFileSink {
        fn drop(&mut self) {
            if self.file.take().is_some() {
                let _ = std::fs::remove_file(&self.tmp);
            }
        }
    }
}

/// The concrete targets of a [`super::FileWriter`].
pub(crate) enum Backend {
    /// Bytes in memory.
    Mem(Vec<u8>),
    /// A temporary file renamed on commit.
    #[cfg(feature = "fs")]
    File(TempFileSink),
    /// Any other sink.
    Custom(Box<dyn Sink>),
}

impl Sink for Backend {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        match self {
            Backend::Mem(v) => Sink::write_at(v, offset, data),
            #[cfg(feature = "fs")]
            Backend::File(f) => f.write_at(offset, data),
            Backend::Custom(s) => s.write_at(offset, data),
        }
    }
    fn set_len(&mut self, len: u64) -> Result<()> {
        match self {
            Backend::Mem(v) => Sink::set_len(v, len),
            #[cfg(feature = "fs")]
            Backend::File(f) => f.set_len(len),
            Backend::Custom(s) => s.set_len(len),
        }
    }
}

/// The output file: a sink plus the end-of-file allocation pointer and, when an editor
/// writes into an existing file, the free space it may reuse.
pub(crate) struct Out {
    pub sink: Backend,
    pub eof: u64,
    /// Free regions below `eof` (none for a new file), and a log of allocations.
    pub space: Space,
}

/// Free regions an [`Out`] allocates from before growing the file, and (when recording)
/// every allocation made.
///
/// Each region is tagged with its owner — the object header address of the object whose
/// edit freed it — and an allocation takes the smallest region of the current owner that
/// holds it, else the smallest of any owner: the structures an edit replaces (chunks, a
/// chunk index, a symbol table, a continuation chunk) have about the sizes of those the
/// next edit of that object writes, so keeping them apart from other objects' allocations
/// stops small structures from cutting up the regions large ones need.
#[derive(Debug, Clone, Default)]
pub(crate) struct Space {
    /// Free (address, length, owner) regions, sorted by address; touching regions of one
    /// owner are merged.
    pub free: Vec<(u64, u64, u64)>,
    /// The owner whose regions allocations prefer.
    pub owner: u64,
    /// The bytes each allocation made here occupies (its length rounded up to 8 when the
    /// next allocation could not use the padding anyway), by address: freeing one of them
    /// frees that much.
    pub mine: std::collections::HashMap<u64, u64>,
    /// Every allocation made since recording started.
    pub log: Option<Vec<(u64, u64)>>,
}

// Freeing and reusing space is the editor's (feature `fs`).
#[cfg_attr(not(feature = "fs"), allow(dead_code))]
impl Space {
    /// Add a free region of `owner`, merged with touching regions of the same owner.
    pub fn release(&mut self, addr: u64, len: u64, owner: u64) {
        let len = self.mine.remove(&addr).map_or(len, |m| m.max(len));
        let mut i = self.free.partition_point(|&(a, _, _)| a < addr);
        // A region overlapping one already free (freed twice, as a crafted file could make
        // happen) is not added again.
        let end = addr.saturating_add(len);
        let overlaps = (i > 0 && self.free[i - 1].0 + self.free[i - 1].1 > addr)
            || self.free.get(i).is_some_and(|r| r.0 < end);
        if len == 0 || overlaps {
            return;
        }
        self.free.insert(i, (addr, len, owner));
        let joins = |x: (u64, u64, u64), y: (u64, u64, u64)| x.2 == y.2 && x.0 + x.1 == y.0;
        if i + 1 < self.free.len() && joins(self.free[i], self.free[i + 1]) {
            let (_, l, _) = self.free.remove(i + 1);
            self.free[i].1 += l;
        }
        if i > 0 && joins(self.free[i - 1], self.free[i]) {
            let (_, l, _) = self.free.remove(i);
            i -= 1;
            self.free[i].1 += l;
        }
    }

    /// Take `len` bytes at an 8-byte aligned address: from the smallest region of the
    /// current owner that holds them, else from the smallest region of another owner that
    /// is not much larger (by over a quarter and 64 bytes): cutting small structures out of
    /// the large regions another object's large structures left would make those need new
    /// space at its next edit.
    fn take(&mut self, len: u64) -> Option<u64> {
        let owner = self.owner;
        let fits = |&(a, l, o): &(u64, u64, u64)| {
            let need = a.div_ceil(8) * 8 - a + len;
            need <= l && (o == owner || l - need <= (len / 4).max(64))
        };
        let len8 = len.div_ceil(8) * 8;
        let best = |own: bool| {
            self.free
                .iter()
                .enumerate()
                .filter(|(_, r)| fits(r) && (!own || r.2 == self.owner))
                .min_by_key(|(_, r)| r.1)
                .map(|(i, _)| i)
        };
        let i = best(true).or_else(|| best(false))?;
        let (a, l, owner) = self.free[i];
        let start = a.div_ceil(8) * 8;
        // The padding to 8 bytes goes with the allocation when the region has it.
        let len = if start - a + len8 <= l { len8 } else { len };
        self.mine.insert(start, len);
        let (head, tail) = (start - a, l - (start - a) - len);
        self.free.remove(i);
        if tail > 0 {
            self.free.insert(i, (start + len, tail, owner));
        }
        if head > 0 {
            self.free.insert(i, (a, head, owner));
        }
        Some(start)
    }

    /// Total free bytes.
    pub fn free_bytes(&self) -> u64 {
        self.free.iter().map(|r| r.1).sum()
    }

    /// The free (address, length) regions.
    pub fn regions(&self) -> Vec<(u64, u64)> {
        self.free.iter().map(|&(a, l, _)| (a, l)).collect()
    }

    /// Where the free space ending at `end` starts (touching regions of any owner).
    pub fn tail_start(&self, end: u64) -> Option<u64> {
        let mut start = end;
        for &(a, l, _) in self.free.iter().rev() {
            // (The last allocation's padding may reach past the end.)
            if a >= start || a + l < start {
                break;
            }
            start = a;
        }
        (start < end).then_some(start)
    }
}

impl Out {
    /// An output of no free space, allocating from `eof`.
    pub fn new(sink: Backend, eof: u64) -> Self {
        Out {
            sink,
            eof,
            space: Space::default(),
        }
    }

    /// Allocate `len` bytes: from the free space when a region holds them, else at the end
    /// of the file (8-byte aligned). The bytes are not written.
    pub fn alloc(&mut self, len: u64) -> Result<u64> {
        let addr = match self.space.take(len) {
            Some(a) => a,
            None => {
                let addr = self.eof.div_ceil(8) * 8;
                self.eof = addr.checked_add(len).ok_or_else(|| {
                    Error::Usage(format!("file would grow past 2^64 bytes ({len})"))
                })?;
                // The padding to the next allocation is this one's.
                self.space.mine.insert(addr, len.div_ceil(8) * 8);
                addr
            }
        };
        if let Some(log) = &mut self.space.log {
            log.push((addr, len));
        }
        Ok(addr)
    }

    /// Write `bytes` at a new place ([`Out::alloc`]) and return their address.
    pub fn append(&mut self, bytes: &[u8]) -> Result<u64> {
        let addr = self.alloc(bytes.len() as u64)?;
        self.sink.write_at(addr, bytes)?;
        Ok(addr)
    }

    /// Write `bytes` at `addr` (allocated by [`Out::alloc`]).
    pub fn write_at(&mut self, addr: u64, bytes: &[u8]) -> Result<()> {
        self.sink.write_at(addr, bytes)
    }

    /// Start logging allocations (what a structure about to be written occupies).
    #[cfg_attr(not(feature = "fs"), allow(dead_code))]
    pub fn record(&mut self) {
        self.space.log = Some(Vec::new());
    }

    /// Stop logging; the allocations made since [`Out::record`].
    #[cfg_attr(not(feature = "fs"), allow(dead_code))]
    pub fn recorded(&mut self) -> Vec<(u64, u64)> {
        self.space.log.take().unwrap_or_default()
    }

    /// Reserve `len` bytes (reading as zeros) at the end of the file: never from the free
    /// space, which holds old bytes.
    pub fn reserve(&mut self, len: u64) -> Result<u64> {
        let addr = self.eof.div_ceil(8) * 8;
        self.eof = addr
            .checked_add(len)
            .ok_or_else(|| Error::Usage(format!("file would grow past 2^64 bytes ({len})")))?;
        Ok(addr)
    }
}

#[cfg(test)]
mod tests {
    use super::Space;

    #[test]
    fn free_regions_merge_and_split() {
        let mut s = Space::default();
        s.release(100, 20, 1);
        s.release(140, 10, 1);
        s.release(120, 20, 1); // joins both neighbours
        assert_eq!(s.free, vec![(100, 50, 1)]);
        s.release(8, 8, 2);
        s.release(150, 10, 2); // another owner's: not merged
        assert_eq!(s.free, vec![(8, 8, 2), (100, 50, 1), (150, 10, 2)]);
        assert_eq!(s.tail_start(160), Some(100));
        assert_eq!(s.tail_start(170), None);
        // Best fit of the owner (2): the 8 bytes at 8.
        s.owner = 2;
        assert_eq!(s.take(8), Some(8));
        // None of owner 2 holds 16: best fit of any, 8-byte aligned (100 rounds up to 104).
        assert_eq!(s.take(16), Some(104));
        assert_eq!(s.free, vec![(100, 4, 1), (120, 30, 1), (150, 10, 2)]);
        assert_eq!(s.take(30), Some(120));
        assert_eq!(s.take(40), None);
        assert_eq!(s.free_bytes(), 14);
        // Freeing what is already free changes nothing.
        s.release(102, 8, 1);
        assert_eq!(s.free_bytes(), 14);
        // Another owner's region far larger than asked for stays whole; the owner's own
        // is cut.
        s.release(1000, 1000, 3);
        assert_eq!(s.take(16), None);
        s.owner = 3;
        assert_eq!(s.take(16), Some(1000));
    }
}
