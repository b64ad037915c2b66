//! A memory-mapped file. One of the two `unsafe` blocks of the crate lives here (the other:
//! `madvise` in `alloc.rs`).

use std::fs::File;
use std::path::Path;

use memmap2::Mmap;

use super::ByteSource;

/// A read-only memory map of a file.
#[derive(Debug)]
pub struct MmapSource {
    map: Mmap,
}

impl MmapSource {
    /// Map a file read-only.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let file = File::open(path)?;
        // SAFETY: `Mmap::map` is unsafe because another process may truncate or modify the file
        // while it is mapped, which would make the slice change under us (or fault). We map
        // read-only, never hand out references that outlive `self`, and document that files
        // must not be modified while open through a memory map; every read is bounds-checked
        // against the length taken at mapping time. This is the crate boundary memmap2 imposes.
        let map = unsafe { Mmap::map(&file)? };
        Ok(MmapSource { map })
    }
}

impl ByteSource for MmapSource {
    fn len(&self) -> u64 {
        self.map.len() as u64
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| std::io::ErrorKind::UnexpectedEof)?;
        let src = start
            .checked_add(buf.len())
            .and_then(|end| self.map.get(start..end))
            .ok_or(std::io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn as_slice(&self) -> Option<&[u8]> {
        Some(&self.map)
    }
}
