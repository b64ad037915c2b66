//! Reusing the space earlier edits freed, within one open [`super::Editor`].
//!
//! An edit that replaces a structure leaves the old one unreferenced once it commits: the
//! chunks it re-encoded, a contiguous dataset's old extent, the chunk index or symbol table
//! it rewrote (when this editor wrote that one too: see [`Ledger::owned`]; else the blocks
//! of the chunk index or symbol table the file came with, walked: `original.rs`), the
//! continuation chunks of a header laid out again. Those regions go to the editor's free
//! list **after** the commit write (and its `fsync`, when durable) — never during the edit that frees them,
//! whose old state still points there until the commit. Later edits allocate from the free
//! list first (first fit, 8-byte aligned), so the state on disk never points into a region
//! being written: a kill or a failed edit leaves it exactly as the crash rule requires.
//!
//! The free list lives in memory, as libhdf5's free-space manager does by default: what is
//! still free when the editor is closed is lost, except a free region at the end of the file,
//! which [`super::Editor::close`] cuts off (end-of-file address first, then the file length).

use std::collections::HashMap;

use super::super::sink::Space;

/// The free space of an editor and the structures it wrote that objects still use.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    /// Regions no committed state references.
    pub free: Space,
    /// Per object header address: a structure this editor wrote for it (a chunk index or a
    /// symbol table), named by its root address as the header records it, and the regions
    /// it occupies. When a later edit replaces that root, the regions are freed.
    owned: HashMap<u64, (u64, Regions)>,
}

/// File regions: (address, length).
pub(crate) type Regions = Vec<(u64, u64)>;

/// What one edit frees and takes ownership of, applied when it commits.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// Regions the committed state no longer references.
    pub freed: Regions,
    /// A structure written for an object: (header address, root address, regions).
    pub owned: Option<(u64, u64, Regions)>,
}

impl Changes {
    /// The edit replaces the structure at `root` of the object whose header is at `header`
    /// with a new one (root `new_root`, occupying `regions`): free the old one — the
    /// regions recorded when this editor wrote it, else those `original` finds walking it
    /// (a structure the file came with; `original` gets the free regions, which the
    /// structure must not overlap, and returns nothing when unsure).
    pub(crate) fn replace(
        &mut self,
        ledger: &Ledger,
        (header, root): (u64, u64),
        new_root: u64,
        regions: Regions,
        original: impl FnOnce(&[(u64, u64)]) -> Regions,
    ) {
        match ledger.owned.get(&header) {
            Some((r, old)) if *r == root => self.freed.extend(old.iter().copied()),
            _ => self.freed.extend(original(&ledger.free.regions())),
        }
        self.owned = Some((header, new_root, regions));
    }
}

impl Ledger {
    /// Apply a committed edit of the object whose header is at `owner`: `space` is the free
    /// list the edit allocated from (what it used is gone from it), `changes` what it freed
    /// and wrote.
    pub(crate) fn commit(&mut self, space: Space, changes: Changes, owner: u64) {
        self.free = Space { log: None, ..space };
        for (a, l) in changes.freed {
            self.free.release(a, l, owner);
        }
        if let Some((header, root, regions)) = changes.owned {
            self.owned.insert(header, (root, regions));
        }
    }
}
