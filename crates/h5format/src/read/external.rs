//! External Data Files message (0x0007, spec IV.A.2.h): a contiguous dataset whose raw data
//! lives in other files, as a list of slots (file name, offset in that file, size).
//!
//! The dataset's bytes are the slots' bytes one after the other. As in libhdf5, a file
//! shorter than its slot reads as zeros past its end, and a missing file is an error. Files
//! are opened only through an [`ExternalAccess`] policy: names are resolved relative to the
//! HDF5 file's directory and must land (after following symbolic links) inside one of the
//! directories the caller allowed, so a hostile file cannot make a reader open `/etc/passwd`.

use std::path::{Path, PathBuf};

use crate::cursor::{Cursor, Sizes};
use crate::error::{Error, Result};
use crate::io::Source;
use crate::read::local_heap::LocalHeap;

/// Most slots accepted in one message (libhdf5's slot counts are 16-bit).
const MAX_SLOTS: usize = u16::MAX as usize;

/// The "unlimited" slot size: the slot extends to the end of the dataset.
pub const UNLIMITED: u64 = u64::MAX;

/// One external file holding part of the raw data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// The file name as stored (relative names are resolved against the HDF5 file's folder).
    pub name: String,
    /// Byte offset of the data in that file.
    pub offset: u64,
    /// Bytes of the dataset stored there ([`UNLIMITED`]: the rest of the dataset).
    pub size: u64,
}

/// The parsed External Data Files message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalFiles {
    /// The slots in dataset order.
    pub slots: Vec<Slot>,
    /// File offset of the message (for errors).
    pub offset: u64,
}

impl ExternalFiles {
    /// Parse the message body at `c`, reading slot names from its local heap in `source`.
    pub fn parse(c: &mut Cursor<'_>, source: &Source, sizes: Sizes) -> Result<Self> {
        let at = c.offset();
        let version = c.u8()?;
        if version != 1 {
            return Err(c.err(format!(
                "unknown external data files message version {version}"
            )));
        }
        c.skip(3)?;
        let _allocated = c.u16()?;
        let used = usize::from(c.u16()?);
        let heap_addr = c.addr()?;
        let need = used.saturating_mul(3 * usize::from(sizes.length));
        if used > MAX_SLOTS || need > c.remaining() {
            return Err(c.err(format!("{used} slots do not fit the message")));
        }
        let heap = if used > 0 {
            Some(LocalHeap::read(source, sizes, heap_addr)?)
        } else {
            None
        };
        let mut slots = Vec::with_capacity(used);
        for _ in 0..used {
            let name_at = c.length()?;
            let offset = c.length()?;
            let size = c.length()?;
            let name = match &heap {
                Some(h) => String::from_utf8_lossy(h.string(name_at)?).into_owned(),
                None => String::new(),
            };
            if name.is_empty() {
                return Err(c.err("external file slot without a name"));
            }
            slots.push(Slot { name, offset, size });
        }
        Ok(ExternalFiles { slots, offset: at })
    }

    /// The pieces `(slot index, offset in that file, length)` holding dataset bytes
    /// `start..start + len`; an error if the slots end before.
    pub fn pieces(&self, start: u64, len: u64) -> Result<Vec<(usize, u64, u64)>> {
        let mut out = Vec::new();
        let (mut at, end) = (start, start.saturating_add(len));
        let mut base = 0u64;
        for (i, s) in self.slots.iter().enumerate() {
            if at >= end {
                break;
            }
            let slot_end = base.saturating_add(s.size);
            if at < slot_end {
                let take = end.min(slot_end) - at;
                let off = s.offset.checked_add(at - base).ok_or_else(|| {
                    Error::malformed(
                        "external data files message",
                        self.offset,
                        "slot offset overflows",
                    )
                })?;
                out.push((i, off, take));
                at += take;
            }
            base = slot_end;
        }
        if at < end {
            return Err(Error::malformed(
                "external data files message",
                self.offset,
                format!("the external files hold {base} bytes, the dataset needs {end}"),
            ));
        }
        Ok(out)
    }
}

/// Which external files (of external storage and virtual datasets) a [`crate::File`] may
/// open: names resolve relative to `base` (the HDF5 file's directory) and must lie inside
/// one of `allowed`. The default allows nothing.
#[derive(Debug, Clone, Default)]
pub struct ExternalAccess {
    /// Directory that relative names are resolved against.
    pub base: Option<PathBuf>,
    /// Directories whose files (at any depth) may be opened.
    pub allowed: Vec<PathBuf>,
}

impl ExternalAccess {
    /// The path of the external file `name` (named by `what`, for errors), if the policy
    /// allows it: resolved, symbolic links followed, inside an allowed directory.
    pub fn resolve(&self, name: &str, what: &str) -> Result<PathBuf> {
        let p = Path::new(name);
        let joined = if p.is_absolute() {
            p.to_path_buf()
        } else {
            match &self.base {
                Some(b) => b.join(p),
                None => {
                    return Err(Error::Usage(format!(
                        "{what} {name:?}: relative name, and the file has no directory"
                    )))
                }
            }
        };
        let real = joined.canonicalize().map_err(|e| {
            Error::Usage(format!(
                "{what} {name:?}: cannot open {}: {e}",
                joined.display()
            ))
        })?;
        let inside = self.allowed.iter().any(|d| {
            d.canonicalize()
                .map(|d| real.starts_with(&d))
                .unwrap_or(false)
        });
        if !inside {
            return Err(Error::Usage(format!(
                "{what} {name:?} ({}) is outside the allowed directories{}",
                real.display(),
                if self.allowed.is_empty() {
                    " (none allowed: File::with_external_dirs)"
                } else {
                    ""
                }
            )));
        }
        Ok(real)
    }
}

/// Read `out.len()` dataset bytes starting at dataset byte `start` from the external files.
#[cfg(feature = "fs")]
pub fn read_into(
    files: &ExternalFiles,
    access: &ExternalAccess,
    start: u64,
    out: &mut [u8],
) -> Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut pos = 0usize;
    for (i, off, len) in files.pieces(start, out.len() as u64)? {
        let slot = &files.slots[i];
        let path = access.resolve(&slot.name, "external data file")?;
        let io = |source| Error::Io {
            offset: off,
            source,
        };
        let mut f = std::fs::File::open(&path).map_err(io)?;
        f.seek(SeekFrom::Start(off)).map_err(io)?;
        let dst = &mut out[pos..pos + len as usize];
        // A file shorter than its slot reads as zeros past its end (as libhdf5 does).
        let mut got = 0;
        while got < dst.len() {
            match f.read(&mut dst[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io(e)),
            }
        }
        dst[got..].fill(0);
        pos += len as usize;
    }
    Ok(())
}

/// Without the `fs` feature there is no file system: external files are an error.
#[cfg(not(feature = "fs"))]
pub fn read_into(
    _files: &ExternalFiles,
    _access: &ExternalAccess,
    _start: u64,
    _out: &mut [u8],
) -> Result<()> {
    Err(Error::unsupported(
        "storage",
        "raw data in external files needs the `fs` feature",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(sizes: &[u64]) -> ExternalFiles {
        ExternalFiles {
            slots: sizes
                .iter()
                .enumerate()
                .map(|(i, &size)| Slot {
                    name: format!("f{i}"),
                    offset: 10 * i as u64,
                    size,
                })
                .collect(),
            offset: 0,
        }
    }

    #[test]
    fn pieces_cross_slots() {
        let f = files(&[8, 4, UNLIMITED]);
        assert_eq!(f.pieces(0, 8).unwrap(), vec![(0, 0, 8)]);
        assert_eq!(
            f.pieces(6, 8).unwrap(),
            vec![(0, 6, 2), (1, 10, 4), (2, 20, 2)]
        );
        assert_eq!(f.pieces(100, 3).unwrap(), vec![(2, 108, 3)]);
        assert!(files(&[8, 4]).pieces(10, 3).is_err());
    }

    #[test]
    fn access_refuses_outside_and_unallowed() {
        let dir = std::env::temp_dir();
        let none = ExternalAccess {
            base: Some(dir.clone()),
            allowed: Vec::new(),
        };
        assert!(none.resolve("/etc/passwd", "x").is_err());
        let here = ExternalAccess {
            base: Some(dir.clone()),
            allowed: vec![dir.clone()],
        };
        let e = here.resolve("/etc/passwd", "x").unwrap_err().to_string();
        assert!(e.contains("outside the allowed"), "{e}");
        let e = here
            .resolve("../../../../../../etc/passwd", "x")
            .unwrap_err();
        assert!(e.to_string().contains("outside the allowed"), "{e}");
    }
}
