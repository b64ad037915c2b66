//! Changing an existing HDF5 file in place, safely: [`Editor`].
//!
//! # Operations
//! - attributes: add, overwrite ([`Editor::set_attr`]) and delete ([`Editor::delete_attr`])
//!   on any group or dataset;
//! - links: add new groups and datasets — anything [`FileWriter`] writes — under an existing
//!   group ([`Editor::create_group`], [`Editor::create_dataset`], [`Editor::graft`]), and
//!   delete a link ([`Editor::delete_link`]), in symbol-table groups and in groups of link
//!   messages;
//! - raw data: overwrite a hyperslab of a compact, contiguous or chunked dataset
//!   ([`Editor::write_hyperslab`]; chunks are re-encoded with the dataset's own filters);
//! - shape: grow a chunked dataset within its maximum dimensions ([`Editor::resize`]) and
//!   append rows along axis 0 ([`Editor::append`]).
//!
//! # Why an interrupted edit leaves the old or the new file
//! Every operation has the same three steps:
//! 1. **Write new bytes where nothing points.** Everything new — raw data, re-encoded
//!    chunks, a chunk index, a group's symbol table, new objects' headers, global heap
//!    collections, a header continuation chunk — goes to space no committed state
//!    references: regions earlier edits of this editor freed (see *Space* below), else past
//!    the current end of the file (the larger of the superblock's end-of-file address and
//!    the file's length). A kill during this step leaves the old file plus unused bytes,
//!    which libhdf5 accepts (it refuses only files *shorter* than their end-of-file address).
//! 2. **Extend.** If the file grew, the superblock's end-of-file address is moved past the
//!    new bytes (one write of the address in versions 0/1; the superblock with its checksum
//!    in versions 2/3). The file still describes the old content.
//! 3. **Commit.** One `pwrite` rewrites one chunk of exactly one object header, in place and
//!    with the same size: the chunk holding the changed messages when they fit there, else
//!    chunk #0 with every message laid out again and those that no longer fit moved to a
//!    continuation chunk written in step 1; NIL messages fill the rest, the v1 message count
//!    or the v2 checksum is recomputed (see `header.rs`). Until this write the old header is
//!    intact; after it, the new one is.
//!
//! The commit header per operation: the object itself for attributes; the parent group for
//! links (a link message, or the symbol table message pointing to a group B-tree and local
//! heap rebuilt in step 1); the dataset for raw data and shape (the layout message pointing to
//! new storage or to a chunk index rebuilt in step 1 — a v1 B-tree for a version 3 layout,
//! the version 4 index libhdf5 picks for a version 4 layout, see `data.rs` — and the
//! dataspace message). Chunk #0 is a few hundred bytes in the files
//! h5py writes, one or two disk sectors. With [`Durability::Fsync`] the file is `fsync`ed
//! after step 1, after step 2 and after step 3, so each step reaches the disk after what it
//! depends on (a power loss can then only tear the commit write itself, which stays within
//! the header's chunk #0; a kill cannot tear it).
//!
//! Dense storage (a fractal heap and v2 B-trees) is not edited: a group's links or an
//! object's attributes kept there become header messages again, in the same commit as the
//! edit (libhdf5 reads compact storage of any size, and moves it back to dense storage when
//! it next adds a link or attribute past the group's or object's limit).
//!
//! What the editor cannot do this way it refuses with [`Error::Unsupported`], leaving every
//! byte objects use as it was (the file's length too; only free space of this editor may
//! have been written): dense attributes of an object tracking their creation order,
//! attributes over 64 KiB, datasets in external files, variable-length data in hyperslab
//! writes, filters this crate cannot encode, "do not filter partial edge chunks" layouts,
//! shrinking, non-default B-tree sizes (K), family/multi files, and growing a file past its
//! largest address.
//!
//! # Address and length widths
//! Files whose superblock gives 2- or 4-byte addresses ("size of offsets") or lengths are
//! edited in those widths: every structure the editor writes — the writer's encoders
//! included, for objects added with [`Editor::graft`] — encodes addresses and lengths in the
//! file's widths (a scoped setting of the writer, `encode::Widths`; variable-length string
//! references shrink to 4 + address size + 4 bytes). A value that does not fit, such as an
//! end of file past 64 KiB with 2-byte addresses, refuses the edit before anything points
//! to what it wrote. Dense attribute storage (an attribute over 64 KiB), references and
//! raw variable-length objects ([`FileWriter::write_vlen_objects`]) are refused in such
//! files.
//!
//! The editor takes no file lock (like libhdf5 with `HDF5_USE_FILE_LOCKING=FALSE`): two
//! writers at once — two editors, or an editor and libhdf5 in `r+` mode — must not happen.
//! A reader that keeps the file open sees either state of each edit as long as it re-reads
//! from the superblock; one that holds on to structures from before an earlier edit may meet
//! reused space (as with libhdf5), unless [`Editor::set_space_reuse`] is off.
//!
//! # Space
//! Space the committed state references is never overwritten (that is the crash-safety
//! rule), but space it no longer references is reused within one open editor (see
//! `space.rs`): after an edit's commit write (and its `fsync`, when durable) the regions only
//! the old state used become free — the chunks it replaced, a contiguous dataset's old
//! extent, the chunk index or symbol table it replaced (when this editor wrote that one, the regions
//! it recorded; else, for a chunk index or a symbol table the file came with, the blocks a
//! walk finds, see `original.rs`), the continuation chunks of a header laid out again. Later
//! edits allocate from those regions first: the smallest region the edited object freed that
//! holds the new structure, else a close fit among other objects' regions, else the end of
//! the file. An edit never writes into what it frees itself. Header changes cost nothing
//! when the touched chunk has room; otherwise the messages beyond chunk #0 move once to a
//! chunk with 50% room, so a run of N additions writes O(N) bytes in total. Repeated edits
//! of the same kind thus stop growing the file after the first two (`tests/edit_space.rs`;
//! `bench/edit.py` measures growth against h5py). The free list lives in memory, as
//! libhdf5's free-space manager does by default: at [`Editor::close`] (or drop) a free
//! region at the end of the file is cut off — end-of-file address first, then the file
//! length — and other free regions are lost. Objects unlinked by [`Editor::delete_link`]
//! stay in the file, unreachable (their reference count unchanged).

mod data;
mod graft;
mod header;
mod links;
mod messages;
mod original;
mod replace;
mod space;
mod target;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::attribute::AttrValue;
use super::encode::Widths;
use super::global_heap;
use super::sink::{Backend, Out, Space};
use super::{DatasetSpec, Durability, FileWriter};
use crate::error::{Error, Result};
use crate::read::object_header::msg;
use header::{EditHeader, RawMsg};
use messages::Info;
use target::{AppendSink, SuperblockSpot};

pub use replace::GroupChange;

#[doc(hidden)]
pub use target::abort_after_writes;

/// An HDF5 file opened for in-place changes. Each method is one atomic edit (see the
/// [module documentation](self)): when it returns an error, the file reads as before.
pub struct Editor {
    path: PathBuf,
    file: Arc<File>,
    durability: Durability,
    /// Set once an edit has moved the superblock's end-of-file address: from then on its
    /// appended bytes must stay.
    extended: std::cell::Cell<bool>,
    /// Widths of the file's addresses and lengths, which everything appended uses.
    widths: Widths,
    /// Space freed by committed edits, reused by later ones (see `space.rs`).
    ledger: std::cell::RefCell<space::Ledger>,
    /// Set by [`Editor::close`] (nothing left to do when dropped).
    closed: bool,
    /// File offset of HDF5 address 0 (the user block's size).
    base: u64,
    /// Reuse freed space (default), or only ever append.
    reuse: bool,
}

/// One edit in progress: a fresh reader of the file as it is, and the append target.
struct Txn {
    reader: crate::File,
    out: Out,
    spot: SuperblockSpot,
    base: u64,
    /// What the edit frees and writes, applied to the ledger when it commits.
    changes: space::Changes,
}

impl Txn {
    /// Read the header of the object being edited (whose freed regions its allocations
    /// then prefer).
    fn header(&mut self, addr: u64) -> Result<EditHeader> {
        self.out.space.owner = addr;
        EditHeader::read(self.reader.source(), addr)
    }
}

impl Editor {
    /// Open `path` for reading and writing. Fails (changing nothing) when the file is not an
    /// HDF5 file the editor can change.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| Error::Io {
                offset: 0,
                source: e,
            })?;
        let mut ed = Editor {
            path,
            file: Arc::new(file),
            durability: super::default_durability(),
            extended: std::cell::Cell::new(false),
            widths: Widths::EIGHT,
            ledger: Default::default(),
            closed: false,
            base: 0,
            reuse: true,
        };
        let txn = ed.begin()?;
        ed.widths = txn.spot.widths;
        ed.base = txn.base;
        Ok(ed)
    }

    /// Choose whether later edits reuse the space earlier ones freed (the default), or only
    /// append. Without reuse the file only grows, and nothing is cut off at close; a reader
    /// that keeps the file open from before an edit then never reads bytes that changed under
    /// it (with reuse, such a reader must reopen the file, as with libhdf5).
    pub fn set_space_reuse(&mut self, reuse: bool) {
        self.reuse = reuse;
    }

    /// Choose whether each edit is `fsync`ed (default: the process default of the writer,
    /// [`Durability::Fsync`] unless changed by [`super::set_default_durability`]).
    pub fn set_durability(&mut self, durability: Durability) {
        self.durability = durability;
    }

    fn begin(&self) -> Result<Txn> {
        let reader = crate::File::open(&self.path)?;
        let spot = SuperblockSpot::new(&self.file, reader.superblock())?;
        let base = reader.source().base();
        let len = self
            .file
            .metadata()
            .map_err(|e| Error::Io {
                offset: 0,
                source: e,
            })?
            .len();
        let floor = spot.eoa.max(len.saturating_sub(base)).div_ceil(8) * 8;
        let mut space = self.ledger.borrow().free.clone();
        if !self.reuse {
            space.free.clear();
        }
        let sink = AppendSink {
            file: self.file.clone(),
            base,
            floor,
            end: floor,
            widths: spot.widths,
            reusable: space.regions(),
        };
        let mut out = Out::new(Backend::Custom(Box::new(sink)), floor);
        out.space = Space { log: None, ..space };
        Ok(Txn {
            reader,
            out,
            spot,
            base,
            changes: space::Changes::default(),
        })
    }

    /// Run one edit; if it fails before the end-of-file address moved, cut off what it
    /// appended, so that a refused edit leaves the file byte for byte as it was.
    fn run<T>(&self, path: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let io = |e| Error::Io {
            offset: 0,
            source: e,
        };
        let len = self.file.metadata().map_err(io)?.len();
        self.extended.set(false);
        // Everything encoded during the edit uses the file's widths.
        let scope = self.widths.scope();
        Widths::take_overflow();
        let r = f();
        drop(scope);
        if r.is_err() && !self.extended.get() {
            let now = self.file.metadata().map_err(io)?.len();
            if now > len {
                self.file.set_len(len).map_err(io)?;
            }
        }
        r.map_err(|e| e.in_object(path))
    }

    /// Steps 2 and 3: extend the end-of-file address over what was appended, then write the
    /// header's new chunk #0.
    fn commit(&self, mut txn: Txn, header: &EditHeader, msgs: &[RawMsg]) -> Result<()> {
        let (at, bytes, relocated) = header.encode(msgs, &mut txn.out)?;
        if let Some((v, width)) = Widths::take_overflow() {
            return Err(Error::unsupported(
                "edit",
                format!("the value {v} does not fit the file's {width}-byte fields"),
            ));
        }
        let end = txn.out.eof;
        if end > self.widths.max_addr() {
            return Err(target::too_far(self.widths, end));
        }
        let durable = self.durability == Durability::Fsync;
        if end > txn.spot.eoa {
            target::extend_to(&self.file, txn.base, end)?;
            // The appended bytes and the file length reach the disk before the end-of-file
            // address that covers them (libhdf5 refuses a file shorter than that address).
            if durable {
                target::sync(&self.file)?;
            }
            self.extended.set(true);
            txn.spot.set_eoa(&self.file, end)?;
        }
        if durable {
            target::sync(&self.file)?;
        }
        target::commit_write(&self.file, txn.base, at, &bytes)?;
        if durable {
            target::sync(&self.file)?;
        }
        // Committed (and on disk when durable): what the old state alone used is free.
        if relocated {
            txn.changes.freed.extend(header.continuations());
        }
        // Only regions inside the file's allocated space, past the superblock, can be free
        // (a crafted file could point a structure anywhere).
        let (low, high) = (txn.spot.end(txn.base), end.max(txn.spot.eoa));
        txn.changes
            .freed
            .retain(|&(a, l)| a >= low && a.checked_add(l).is_some_and(|e| e <= high));
        let mut used = std::mem::take(&mut txn.out.space);
        if !self.reuse {
            used.free = self.ledger.borrow().free.free.clone();
        }
        self.ledger
            .borrow_mut()
            .commit(used, txn.changes, header.addr);
        Ok(())
    }

    /// Bytes freed by earlier edits and not reused yet (they are reused by later edits of
    /// this editor; see the [module documentation](self)).
    pub fn free_space(&self) -> u64 {
        self.ledger.borrow().free.free_bytes()
    }

    /// The free regions as (file offset, length): no object of the file uses their bytes,
    /// which later edits may overwrite — also an edit that then fails (every other byte of
    /// the file stays as it was).
    pub fn free_regions(&self) -> Vec<(u64, u64)> {
        let base = self.base;
        let regions = self.ledger.borrow().free.regions();
        regions.into_iter().map(|(a, l)| (base + a, l)).collect()
    }

    /// Close the file: free space at its end (left by this editor's edits) is cut off —
    /// the superblock's end-of-file address is lowered first, then the file is truncated, so
    /// an interruption leaves at worst unused trailing bytes. Dropping the editor does the
    /// same, ignoring errors.
    pub fn close(mut self) -> Result<()> {
        self.closed = true;
        self.shrink()
    }

    fn shrink(&self) -> Result<()> {
        if !self.reuse {
            return Ok(());
        }
        let _scope = self.widths.scope();
        let mut txn = self.begin()?;
        let Some(start) = self.ledger.borrow().free.tail_start(txn.spot.eoa) else {
            return Ok(());
        };
        let durable = self.durability == Durability::Fsync;
        txn.spot.set_eoa(&self.file, start)?;
        if durable {
            target::sync(&self.file)?;
        }
        target::truncate(&self.file, txn.base + start)?;
        if durable {
            target::sync(&self.file)?;
        }
        Ok(())
    }

    /// Add an attribute to the object at `obj_path`, or replace the one of that name
    /// (keeping its place and creation order).
    pub fn set_attr(&mut self, obj_path: &str, name: &str, value: AttrValue) -> Result<()> {
        self.run(obj_path, || self.set_attr_inner(obj_path, name, value))
    }

    fn set_attr_inner(&self, obj_path: &str, name: &str, value: AttrValue) -> Result<()> {
        check_attr(&value)?;
        let mut txn = self.begin()?;
        let addr = txn.reader.object(obj_path)?.node().address();
        let hdr = txn.header(addr)?;
        let mut msgs = hdr.msgs.clone();
        compact_attributes(&txn, obj_path, &mut msgs)?;
        put_attr(&mut txn, &mut msgs, name, value)?;
        self.commit(txn, &hdr, &msgs)
    }

    /// Delete the attribute `name` of the object at `obj_path`.
    pub fn delete_attr(&mut self, obj_path: &str, name: &str) -> Result<()> {
        self.run(obj_path, || {
            let mut txn = self.begin()?;
            let addr = txn.reader.object(obj_path)?.node().address();
            let hdr = txn.header(addr)?;
            let mut msgs = hdr.msgs.clone();
            compact_attributes(&txn, obj_path, &mut msgs)?;
            let i = attribute_index(&msgs, name)?
                .ok_or_else(|| Error::NotFound(format!("{obj_path}: attribute {name:?}")))?;
            msgs.remove(i);
            self.commit(txn, &hdr, &msgs)
        })
    }

    /// Create an empty group at `path` (its parent must exist).
    pub fn create_group(&mut self, path: &str) -> Result<()> {
        let (parent, name) = split_parent(path)?;
        self.graft(parent, |w| w.create_group(&format!("/{name}")))
    }

    /// Create the dataset `path` (its parent must exist) and write all its elements
    /// (`bytes`: the raw little-endian elements, as [`FileWriter::write_all`] takes them).
    pub fn create_dataset(&mut self, path: &str, spec: DatasetSpec, bytes: &[u8]) -> Result<()> {
        let (parent, name) = split_parent(path)?;
        self.graft(parent, |w| {
            let id = w.create_dataset(&format!("/{name}"), spec)?;
            w.write_all(id, bytes)
        })
    }

    /// Build new objects with a [`FileWriter`] and link each member of its root group into
    /// the existing group `parent`, all in one edit. Paths given to the writer are relative
    /// to `parent` (written as absolute: `/x` becomes `parent/x`); attributes of the writer's
    /// root group are refused.
    pub fn graft(
        &mut self,
        parent: &str,
        build: impl FnOnce(&mut FileWriter) -> Result<()>,
    ) -> Result<()> {
        self.run(parent, || {
            let mut txn = self.begin()?;
            let mut w = graft::writer(&mut txn);
            build(&mut w)?;
            let (members, out) = graft::finish(w)?;
            txn.out = out;
            links::change(self, txn, parent, members, None)
        })
    }

    /// Delete the link at `path` (the object stays in the file, unreachable if it was its
    /// only link).
    pub fn delete_link(&mut self, path: &str) -> Result<()> {
        let (parent, name) = split_parent(path)?;
        self.run(path, || {
            let txn = self.begin()?;
            links::change(self, txn, parent, Vec::new(), Some(name))
        })
    }

    /// Overwrite the hyperslab `start`/`count` of the dataset at `path` with `bytes` (raw
    /// little-endian elements of the dataset's type, row-major).
    pub fn write_hyperslab(
        &mut self,
        path: &str,
        start: &[u64],
        count: &[u64],
        bytes: &[u8],
    ) -> Result<()> {
        self.run(path, || {
            let txn = self.begin()?;
            data::change(self, txn, path, None, Some((start, count, bytes)))
        })
    }

    /// Change the shape of the chunked dataset at `path` to `dims` (each within its maximum
    /// dimension, none smaller than now); new elements read as the fill value.
    pub fn resize(&mut self, path: &str, dims: &[u64]) -> Result<()> {
        self.run(path, || {
            let txn = self.begin()?;
            data::change(self, txn, path, Some(dims), None)
        })
    }

    /// Append rows along axis 0 of the chunked dataset at `path` (`bytes`: whole rows of raw
    /// elements), growing it in the same edit.
    pub fn append(&mut self, path: &str, bytes: &[u8]) -> Result<()> {
        self.run(path, || {
            let txn = self.begin()?;
            let ds = txn.reader.dataset(path)?;
            let mut dims = ds.shape().to_vec();
            if dims.is_empty() {
                return Err(Error::Usage("cannot append to a scalar dataset".into()));
            }
            let row = dims[1..].iter().product::<u64>() * ds.dtype().size() as u64;
            if row == 0 || !(bytes.len() as u64).is_multiple_of(row) {
                return Err(Error::Usage(format!(
                    "{} bytes are not whole rows of {row} bytes",
                    bytes.len()
                )));
            }
            let start: Vec<u64> = std::iter::once(dims[0])
                .chain(dims[1..].iter().map(|_| 0))
                .collect();
            dims[0] += bytes.len() as u64 / row;
            let mut count = dims.clone();
            count[0] = bytes.len() as u64 / row;
            data::change(self, txn, path, Some(&dims), Some((&start, &count, bytes)))
        })
    }
}

impl Drop for Editor {
    fn drop(&mut self) {
        if !self.closed {
            let _ = self.shrink();
        }
    }
}

/// The index of the attribute message called `name`; an error if a shared attribute message
/// hides its name.
fn attribute_index(msgs: &[RawMsg], name: &str) -> Result<Option<usize>> {
    let mut found = None;
    for (i, m) in msgs.iter().enumerate() {
        if m.kind != msg::ATTRIBUTE {
            continue;
        }
        match messages::attribute_name(m)? {
            Some(n) if n == name => found = Some(i),
            Some(_) => {}
            None => {
                return Err(Error::unsupported(
                    "edit",
                    "objects with shared attribute messages",
                ))
            }
        }
    }
    Ok(found)
}

/// An attribute value the editor can write: no references, and consistent.
fn check_attr(value: &AttrValue) -> Result<()> {
    if matches!(value, AttrValue::References { .. }) {
        return Err(Error::unsupported(
            "edit",
            "reference attributes (write them with FileWriter)",
        ));
    }
    value.validate()
}

/// Add or overwrite the attribute `name` in `msgs` (compact attribute storage): an
/// overwritten attribute keeps its place and creation order, a new one gets the next.
fn put_attr(txn: &mut Txn, msgs: &mut Vec<RawMsg>, name: &str, value: AttrValue) -> Result<()> {
    check_attr(&value)?;
    let existing = attribute_index(msgs, name)?;
    let order = next_attribute_order(msgs, existing.is_none())?;
    let strings = value.vlen_strings();
    let refs = if strings.is_empty() {
        Vec::new()
    } else {
        global_heap::write_strings(&mut txn.out, &strings)?
    };
    let body = value.message(name, &refs)?;
    if body.len() > usize::from(u16::MAX) - 8 {
        return Err(Error::unsupported(
            "edit",
            format!(
                "attribute {name:?} of {} bytes (over 64 KiB it needs dense storage)",
                body.len()
            ),
        ));
    }
    let mut m = RawMsg::new(msg::ATTRIBUTE, body);
    match existing {
        Some(i) => {
            m.order = msgs[i].order;
            msgs[i] = m;
        }
        None => {
            m.order = order;
            msgs.push(m);
        }
    }
    Ok(())
}

/// Attributes in dense storage (a fractal heap) become attribute messages of the header,
/// in the same commit as the edit; refused when one is over 64 KiB or when the object tracks
/// attribute creation order (the dense records' order is not kept).
fn compact_attributes(txn: &Txn, obj_path: &str, msgs: &mut Vec<RawMsg>) -> Result<()> {
    let Some(ai) = msgs.iter().position(|m| m.kind == msg::ATTRIBUTE_INFO) else {
        return Ok(());
    };
    let info = Info::attribute(&msgs[ai])?;
    if !info.dense {
        return Ok(());
    }
    if info.next_order.is_some() {
        return Err(Error::unsupported(
            "edit",
            "attributes in dense storage with creation order tracked",
        ));
    }
    let obj = txn.reader.object(obj_path)?;
    for a in obj.node().attributes()? {
        let space = match &a.space {
            crate::Dataspace::Scalar => super::dataspace::encode(&[], None),
            crate::Dataspace::Null => super::dataspace::encode_null(),
            crate::Dataspace::Simple { dims, max_dims } => {
                let max: Vec<Option<u64>> = max_dims
                    .iter()
                    .map(|&m| (m != crate::read::dataspace::UNLIMITED).then_some(m))
                    .collect();
                super::dataspace::encode(dims, Some(&max))
            }
        };
        let body = messages::attribute_message(&a.name, &a.dtype_raw, &space, &a.data)?;
        if body.len() > usize::from(u16::MAX) - 8 {
            return Err(Error::unsupported(
                "edit",
                format!(
                    "attribute {:?} of {} bytes in dense storage (over 64 KiB)",
                    a.name,
                    body.len()
                ),
            ));
        }
        msgs.push(RawMsg::new(msg::ATTRIBUTE, body));
    }
    info.make_compact(&mut msgs[ai])
}

/// The creation order of a new attribute; with `bump`, counts it in the attribute info
/// message.
fn next_attribute_order(msgs: &mut [RawMsg], bump: bool) -> Result<u16> {
    let Some(m) = msgs.iter_mut().find(|m| m.kind == msg::ATTRIBUTE_INFO) else {
        return Ok(0);
    };
    let info = Info::attribute(m)?;
    let Some(next) = info.next_order else {
        return Ok(0);
    };
    if bump {
        info.set_next_order(m, next + 1)?;
    }
    u16::try_from(next).map_err(|_| Error::Usage("attribute creation order over 65535".into()))
}

/// Split `/a/b/c` into (`/a/b`, `c`).
fn split_parent(path: &str) -> Result<(&str, &str)> {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some((p, name)) if !name.is_empty() && name != "." => {
            Ok((if p.is_empty() { "/" } else { p }, name))
        }
        _ => Err(Error::Usage(format!("{path:?}: not a path to a member"))),
    }
}
