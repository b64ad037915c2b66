//! The file being edited: appending past its end, moving the superblock's end-of-file
//! address, and the commit write.
//!
//! Every write goes through [`pwrite`], which counts writes for the kill test
//! ([`abort_after_writes`]).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use super::super::encode::Widths;
use super::super::sink::Sink;
use crate::checksum::lookup3;
use crate::error::{Error, Result};
use crate::read::superblock::Superblock;

/// Writes left before the process aborts (negative: never). Set by the kill test.
static WRITES_LEFT: AtomicI64 = AtomicI64::new(-1);

/// Testing hook: abort the process (as a `SIGKILL` would stop it, with no unwinding or
/// cleanup) just before the editor's `n`-th next write system call; a negative `n` disables
/// it. The kill test calls this in a child process.
#[doc(hidden)]
pub fn abort_after_writes(n: i64) {
    WRITES_LEFT.store(n, Ordering::SeqCst);
}

fn io(offset: u64, source: std::io::Error) -> Error {
    Error::Io { offset, source }
}

/// One positioned write (counted by the kill-test hook).
fn pwrite(file: &File, offset: u64, data: &[u8]) -> Result<()> {
    if WRITES_LEFT.load(Ordering::SeqCst) >= 0 && WRITES_LEFT.fetch_sub(1, Ordering::SeqCst) == 0 {
        std::process::abort();
    }
    file.write_all_at(data, offset).map_err(|e| io(offset, e))
}

/// Appends to the file past `floor` (an HDF5 address: relative to `base`); refuses any
/// write below it, so nothing reachable from the current file is ever overwritten by it.
pub(crate) struct AppendSink {
    pub file: Arc<File>,
    pub base: u64,
    pub floor: u64,
    /// Highest end written or reserved (HDF5 address).
    pub end: u64,
    /// The file's address width: nothing may be written past its largest address.
    pub widths: Widths,
    /// Free regions below `floor` that may be written (what earlier edits freed).
    pub reusable: Vec<(u64, u64)>,
}

impl AppendSink {
    /// Refuse an end past what the file's addresses can express (a file with 2-byte
    /// addresses ends before 64 KiB).
    fn check_end(&self, end: u64) -> Result<()> {
        if end > self.widths.max_addr() {
            return Err(too_far(self.widths, end));
        }
        Ok(())
    }
}

/// The error of an edit that would grow the file past its largest address.
pub(crate) fn too_far(w: Widths, end: u64) -> Error {
    Error::unsupported(
        "edit",
        format!(
            "growing a file with {}-byte addresses to {end} bytes (its largest address is {})",
            w.offset,
            w.max_addr()
        ),
    )
}

impl Sink for AppendSink {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        let end = offset.saturating_add(data.len() as u64);
        let free = self
            .reusable
            .iter()
            .any(|&(a, l)| a <= offset && end <= a + l);
        if offset < self.floor && !free {
            return Err(Error::Usage(format!(
                "edit: a write at {offset} would change the existing file (it ends at {})",
                self.floor
            )));
        }
        self.check_end(end)?;
        pwrite(&self.file, self.base + offset, data)?;
        self.end = self.end.max(end);
        Ok(())
    }

    fn set_len(&mut self, len: u64) -> Result<()> {
        self.check_end(len)?;
        self.end = self.end.max(len);
        Ok(())
    }
}

/// Where the superblock keeps the end-of-file address, and how to rewrite it.
#[derive(Debug, Clone)]
pub(crate) struct SuperblockSpot {
    /// Absolute offset of the superblock.
    pos: u64,
    version: u8,
    /// The superblock's base address field.
    base_address: u64,
    /// Address and length widths.
    pub widths: Widths,
    /// End-of-file address, relative to the base address. libhdf5 stores it plus the base
    /// address (the absolute end of the file when there is a user block) and subtracts the
    /// base on reading: so do we.
    pub eoa: u64,
}

impl SuperblockSpot {
    /// Check that the editor can work on this superblock: addresses and lengths of 2, 4 or
    /// 8 bytes and no driver information block (multi/family files).
    pub(crate) fn new(file: &File, sb: &Superblock) -> Result<Self> {
        let widths = Widths {
            offset: sb.sizes.offset,
            length: sb.sizes.length,
        };
        if ![2, 4, 8].contains(&widths.offset) || ![2, 4, 8].contains(&widths.length) {
            return Err(Error::unsupported(
                "edit",
                format!(
                    "files with {}-byte addresses and {}-byte lengths",
                    widths.offset, widths.length
                ),
            ));
        }
        let spot = SuperblockSpot {
            pos: sb.position,
            version: sb.version,
            base_address: sb.base_address,
            widths,
            eoa: sb.eof_address.saturating_sub(sb.base_address),
        };
        if sb.version <= 1 {
            let o = widths.o();
            let mut driver = [0u8; 8];
            let at = spot.eoa_offset() + o as u64;
            file.read_exact_at(&mut driver[..o], at)
                .map_err(|e| io(at, e))?;
            if driver[..o].iter().any(|&b| b != 0xFF) {
                return Err(Error::unsupported(
                    "edit",
                    "files with a driver information block (family or multi files)",
                ));
            }
        }
        Ok(spot)
    }

    /// The HDF5 address just past the superblock (with the root group's symbol table entry
    /// in versions 0/1): no free region may start below it.
    pub(crate) fn end(&self, base: u64) -> u64 {
        let (o, l) = (self.widths.o() as u64, self.widths.l() as u64);
        let size = match self.version {
            0 => 24 + 4 * o + (l + o + 24),
            1 => 28 + 4 * o + (l + o + 24),
            _ => 12 + 4 * o + 4,
        };
        (self.pos + size).saturating_sub(base)
    }

    /// Absolute offset of the end-of-file address field (after the base and free-space
    /// or extension addresses).
    fn eoa_offset(&self) -> u64 {
        let two = 2 * self.widths.offset as u64;
        match self.version {
            0 => self.pos + 24 + two,
            1 => self.pos + 28 + two,
            _ => self.pos + 12 + two,
        }
    }

    /// Store a new end-of-file address (v2/v3: with the superblock checksum).
    pub(crate) fn set_eoa(&mut self, file: &File, eoa: u64) -> Result<()> {
        let stored = eoa + self.base_address;
        let w = self.widths;
        if stored > w.max_addr() {
            return Err(too_far(w, stored));
        }
        let field = &stored.to_le_bytes()[..w.o()];
        if self.version <= 1 {
            pwrite(file, self.eoa_offset(), field)?;
        } else {
            // Signature, versions and sizes (12 bytes), four addresses, the checksum.
            let len = 12 + 4 * w.o();
            let mut sb = vec![0u8; len + 4];
            file.read_exact_at(&mut sb, self.pos)
                .map_err(|e| io(self.pos, e))?;
            let at = (self.eoa_offset() - self.pos) as usize;
            sb[at..at + w.o()].copy_from_slice(field);
            let sum = lookup3(&sb[..len], 0);
            sb[len..].copy_from_slice(&sum.to_le_bytes());
            pwrite(file, self.pos, &sb)?;
        }
        self.eoa = eoa;
        Ok(())
    }
}

/// Write `bytes` at HDF5 address `addr` (the commit).
pub(crate) fn commit_write(file: &File, base: u64, addr: u64, bytes: &[u8]) -> Result<()> {
    pwrite(file, base + addr, bytes)
}

/// Make the appended bytes exist up to `end` (HDF5 address) even where only reserved.
pub(crate) fn extend_to(file: &File, base: u64, end: u64) -> Result<()> {
    let len = file.metadata().map_err(|e| io(0, e))?.len();
    if base + end > len {
        if WRITES_LEFT.load(Ordering::SeqCst) >= 0
            && WRITES_LEFT.fetch_sub(1, Ordering::SeqCst) == 0
        {
            std::process::abort();
        }
        file.set_len(base + end).map_err(|e| io(len, e))?;
    }
    Ok(())
}

/// Cut the file to `len` bytes (absolute), a counted write for the kill test.
pub(crate) fn truncate(file: &File, len: u64) -> Result<()> {
    if WRITES_LEFT.load(Ordering::SeqCst) >= 0 && WRITES_LEFT.fetch_sub(1, Ordering::SeqCst) == 0 {
        std::process::abort();
    }
    file.set_len(len).map_err(|e| io(len, e))
}

/// `fsync` the file.
pub(crate) fn sync(file: &File) -> Result<()> {
    file.sync_all().map_err(|e| io(0, e))
}
