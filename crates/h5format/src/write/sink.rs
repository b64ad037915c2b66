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

/// The output file: a sink plus the end-of-file allocation pointer.
pub(crate) struct Out {
    pub sink: Backend,
    pub eof: u64,
}

impl Out {
    /// Append `bytes` at the end of the file (8-byte aligned) and return their address.
    pub fn append(&mut self, bytes: &[u8]) -> Result<u64> {
        let addr = self.eof.div_ceil(8) * 8;
        self.sink.write_at(addr, bytes)?;
        self.eof = addr + bytes.len() as u64;
        Ok(addr)
    }

    /// Reserve `len` bytes (reading as zeros) at the end of the file.
    pub fn reserve(&mut self, len: u64) -> Result<u64> {
        let addr = self.eof.div_ceil(8) * 8;
        self.eof = addr
            .checked_add(len)
            .ok_or_else(|| Error::Usage(format!("file would grow past 2^64 bytes ({len})")))?;
        Ok(addr)
    }
}
