//! The writer: the mirror of `read/` for what we write.
//!
//! [`FileWriter`] builds a new HDF5 file readable by libhdf5 1.8 and later: superblock
//! version 0, version 1 object headers, groups as symbol tables (v1 B-tree + local heap +
//! symbol table nodes), datatype/dataspace version 1, layout message version 3 with a v1
//! B-tree chunk index, filter pipeline version 1, variable-length strings in global heap
//! collections.
//! With [`Format::Latest`] (h5py's `libver="latest"`, libhdf5 1.10+): superblock version 3,
//! version 2 object headers, link messages (dense past 8 links) and layout message version 4
//! with the chunk indexes libhdf5 picks (`chunk_index`).
//!
//! Raw data is written as it comes (contiguous extents are allocated at creation, chunks as
//! they fill); all metadata is written at [`FileWriter::finish`], then the superblock. A file
//! target is a temporary file in the same folder, renamed onto the target by `finish`;
//! an error or a drop leaves the target untouched.
//!
//! This module holds [`FileWriter`]'s object tree and the calls that build it; `finish`
//! writes the metadata at the end; one submodule per structure written (`superblock`,
//! `object_header`, `group`, `link`, `dense`, `dataset`, `attribute`, `datatype`, ...).
//!
//! ```
//! use h5format::write::{AttrValue, DType, DatasetSpec, FileWriter};
//! let mut w = FileWriter::in_memory();
//! w.create_group("/obs")?;
//! w.set_attr("/obs", "encoding-type", AttrValue::from("dataframe"))?;
//! let ds = w.create_dataset("/obs/x", DatasetSpec::new(DType::F64, [3]))?;
//! w.write_typed(ds, &[1.0f64, 2.0, 3.0])?;
//! let bytes = w.finish_to_vec()?;
//! assert_eq!(&bytes[..8], b"\x89HDF\r\n\x1a\n");
//! # Ok::<(), h5format::Error>(())
//! ```

mod attribute;
mod btree;
mod btree2;
mod chunk_index;
mod chunked;
mod dataset;
mod dataspace;
mod datatype;
mod dense;
mod dense_links;
#[cfg(all(feature = "fs", unix))]
pub mod edit;
mod encode;
pub mod filters;
mod finish;
mod fractal_heap;
mod global_heap;
mod group;
mod hyperslab;
mod link;
mod object_header;
pub mod plugins;
mod sink;
mod superblock;
mod superblock_v3;

use std::collections::{BTreeMap, HashMap};

pub use attribute::{AttrValue, Reference};
pub use dataset::{DatasetSpec, Layout, MAX_COMPACT};
pub use datatype::{to_le_bytes, DType, Element};
pub use sink::Sink;
#[cfg(feature = "fs")]
pub use sink::TempFileSink;

use crate::error::{Error, Result};
use dataset::DatasetState;
use encode::usage;
use sink::{Backend, Out};

/// Handle of a dataset created by a [`FileWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DatasetId(usize);

enum Child {
    Group(usize),
    Dataset(usize),
    /// A committed (named) datatype.
    Datatype(usize),
    /// A soft link to this path.
    Soft(String),
    /// An external link to `path` in `file`.
    External {
        file: String,
        path: String,
    },
}

impl Child {
    fn kind(&self) -> &'static str {
        match self {
            Child::Group(_) => "group",
            Child::Dataset(_) => "dataset",
            Child::Datatype(_) => "committed datatype",
            Child::Soft(_) => "soft link",
            Child::External { .. } => "external link",
        }
    }
}

#[derive(Default)]
struct GroupNode {
    members: BTreeMap<String, Child>,
    /// Creation order of each member.
    orders: HashMap<String, u64>,
    next_order: u64,
    attrs: Vec<(String, AttrValue)>,
    /// Track the creation order of links and attributes.
    track_order: bool,
}

impl GroupNode {
    fn insert(&mut self, name: &str, child: Child) {
        self.orders.insert(name.to_string(), self.next_order);
        self.next_order += 1;
        self.members.insert(name.to_string(), child);
    }

    /// Whether the group needs link messages (a symbol table cannot hold it).
    fn new_style(&self) -> bool {
        self.track_order
            || self
                .members
                .values()
                .any(|c| matches!(c, Child::External { .. }))
    }
}

/// A committed datatype being written.
struct TypeNode {
    dtype: Vec<u8>,
    attrs: Vec<(String, AttrValue)>,
    track_order: bool,
}

/// What [`FileWriter::finish`] does to make a file written by [`FileWriter::create`] durable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// `fsync` the file before renaming it onto the target (the default): when `finish`
    /// returns, the data is on disk.
    #[default]
    Fsync,
    /// Rename without `fsync`: the data is in the page cache, as when h5py/libhdf5 close a file
    /// (they do not `fsync`); a power loss soon after may lose it. Faster for large
    /// uncompressed files.
    PageCache,
}

/// The durability of writers made from now on in this process (0: fsync, 1: page cache).
static DEFAULT_DURABILITY: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Set the [`Durability`] that every [`FileWriter`] created afterwards in this process starts
/// with (a command-line tool's `--no-fsync`); [`FileWriter::set_durability`] still overrides it.
pub fn set_default_durability(durability: Durability) {
    let v = u8::from(durability == Durability::PageCache);
    DEFAULT_DURABILITY.store(v, std::sync::atomic::Ordering::Relaxed);
}

fn default_durability() -> Durability {
    match DEFAULT_DURABILITY.load(std::sync::atomic::Ordering::Relaxed) {
        0 => Durability::Fsync,
        _ => Durability::PageCache,
    }
}

/// Which structure versions a [`FileWriter`] writes (see `docs/writer.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// The oldest structures that express each object (superblock 0, version 1 object
    /// headers, symbol table groups, v1 B-tree chunk indexes): read by libhdf5 1.8 and later.
    /// The default.
    #[default]
    Earliest,
    /// What libhdf5 1.10+ writes with h5py's `libver="latest"`: superblock 3, version 2 object
    /// headers for every object, link messages for every group (dense link storage past 8
    /// links), layout message 4 with single-chunk, fixed array, extensible array or v2
    /// B-tree chunk indexes. Read by libhdf5 1.10 and later.
    Latest,
}

/// Writes a new HDF5 file.
pub struct FileWriter {
    format: Format,
    durability: Durability,
    out: Out,
    groups: Vec<GroupNode>,
    datasets: Vec<DatasetState>,
    types: Vec<TypeNode>,
    /// Set after a failed write to the sink: the file can no longer be finished.
    broken: Option<String>,
}

impl FileWriter {
    fn with_backend(sink: Backend) -> Self {
        FileWriter {
            format: Format::Earliest,
            durability: default_durability(),
            out: Out::new(sink, superblock::SIZE),
            groups: vec![GroupNode::default()],
            datasets: Vec::new(),
            types: Vec::new(),
            broken: None,
        }
    }

    /// Write to a temporary file next to `path`, renamed onto `path` by [`finish`](Self::finish).
    #[cfg(feature = "fs")]
    pub fn create(path: impl AsRef<std::path::Path>) -> Result<Self> {
        Ok(Self::with_backend(Backend::File(TempFileSink::create(
            path.as_ref(),
        )?)))
    }

    /// Choose whether [`finish`](Self::finish) `fsync`s a file target (default:
    /// [`Durability::Fsync`]). Memory and custom sinks are not affected.
    pub fn set_durability(&mut self, durability: Durability) {
        self.durability = durability;
    }

    /// Choose the [`Format`] (default [`Format::Earliest`]); only before anything is created.
    pub fn set_format(&mut self, format: Format) -> Result<()> {
        self.check()?;
        let fresh = self.datasets.is_empty()
            && self.types.is_empty()
            && self.groups.len() == 1
            && self.groups[0].members.is_empty()
            && matches!(self.out.eof, superblock::SIZE | superblock_v3::SIZE);
        if !fresh {
            return Err(usage("set_format must come before any object is created"));
        }
        self.format = format;
        self.out.eof = match format {
            Format::Earliest => superblock::SIZE,
            Format::Latest => superblock_v3::SIZE,
        };
        Ok(())
    }

    /// Write to memory; get the bytes with [`finish_to_vec`](Self::finish_to_vec).
    pub fn in_memory() -> Self {
        Self::with_backend(Backend::Mem(Vec::new()))
    }

    /// Write through any [`Sink`] (finished with [`finish`](Self::finish)).
    pub fn with_sink(sink: Box<dyn Sink>) -> Self {
        Self::with_backend(Backend::Custom(sink))
    }

    fn check(&self) -> Result<()> {
        match &self.broken {
            Some(e) => Err(Error::Usage(format!("an earlier write failed: {e}"))),
            None => Ok(()),
        }
    }

    /// Run a write to the sink; a failure marks the writer broken.
    fn guard<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e @ Error::Io { .. }) = &r {
            self.broken = Some(e.to_string());
        }
        r
    }

    /// Find (or with `create`, make) the group at the components of `path`.
    fn group_at(&mut self, parts: &[&str], create: bool) -> Result<usize> {
        let mut g = 0;
        for (i, part) in parts.iter().enumerate() {
            let next = self.groups.len();
            let node = self
                .groups
                .get_mut(g)
                .ok_or_else(|| usage("bad group index"))?;
            g = match node.members.get(*part) {
                Some(Child::Group(c)) => *c,
                Some(other) => {
                    return Err(usage(format!(
                        "/{} is a {}, not a group",
                        parts[..=i].join("/"),
                        other.kind()
                    )))
                }
                None if create => {
                    node.insert(part, Child::Group(next));
                    self.groups.push(GroupNode::default());
                    next
                }
                None => return Err(Error::NotFound(format!("/{}", parts[..=i].join("/")))),
            };
        }
        Ok(g)
    }

    /// Create a group and any missing parents (an existing group is fine).
    pub fn create_group(&mut self, path: &str) -> Result<()> {
        self.check()?;
        let parts = split(path)?;
        self.group_at(&parts, true).map(|_| ())
    }

    /// Resolve `obj_path` to a group, dataset or committed datatype (not a link).
    fn object_at(&mut self, obj_path: &str) -> Result<Child> {
        let parts = split(obj_path)?;
        let Some((last, parent)) = parts.split_last() else {
            return Ok(Child::Group(0));
        };
        let g = self.group_at(parent, false)?;
        match self.groups.get(g).and_then(|n| n.members.get(*last)) {
            Some(Child::Group(c)) => Ok(Child::Group(*c)),
            Some(Child::Dataset(d)) => Ok(Child::Dataset(*d)),
            Some(Child::Datatype(t)) => Ok(Child::Datatype(*t)),
            Some(other) => Err(usage(format!(
                "{obj_path}: a {} is not an object",
                other.kind()
            ))),
            None => Err(Error::NotFound(obj_path.to_string())),
        }
    }

    /// Set (or replace) an attribute of the group, dataset or committed datatype at
    /// `obj_path`.
    ///
    /// Attributes stay in the object header (version 1 attribute messages) unless one of an
    /// object's attributes is over about 64 KiB: then all its attributes go to dense storage
    /// (a fractal heap indexed by a v2 B-tree), up to 16 MiB per object.
    pub fn set_attr(&mut self, obj_path: &str, name: &str, value: AttrValue) -> Result<()> {
        self.check()?;
        value.validate()?;
        if name.is_empty() || name.contains('\0') {
            return Err(usage(format!("bad attribute name {name:?}")));
        }
        // Refuse now what cannot be stored at finish.
        let placeholder = vec![[0u8; 16]; value.vlen_strings().len()];
        let size = value.message(name, &placeholder)?.len();
        if size > dense::MAX_ATTRIBUTE {
            return Err(usage(format!(
                "attribute {name:?} needs {size} bytes, over the {} bytes of dense attribute \
                 storage we write",
                dense::MAX_ATTRIBUTE
            )));
        }
        let attrs = match self.object_at(obj_path)? {
            Child::Group(c) => &mut self.groups[c].attrs,
            Child::Dataset(d) => &mut self.datasets[d].attrs,
            Child::Datatype(t) => &mut self.types[t].attrs,
            _ => return Err(usage(format!("{obj_path}: not an object"))),
        };
        match attrs.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => attrs.push((name.to_string(), value)),
        }
        Ok(())
    }

    /// Make the object at `obj_path` track the creation order of its attributes (and, for a
    /// group, of its links), as h5py's `track_order=True`: libhdf5 then lists them in
    /// creation order. Such objects get version 2 object headers (libhdf5 1.8+), and such
    /// groups link messages instead of a symbol table.
    pub fn set_track_order(&mut self, obj_path: &str, track: bool) -> Result<()> {
        self.check()?;
        match self.object_at(obj_path)? {
            Child::Group(c) => self.groups[c].track_order = track,
            Child::Dataset(d) => self.datasets[d].track_order = track,
            Child::Datatype(t) => self.types[t].track_order = track,
            _ => return Err(usage(format!("{obj_path}: not an object"))),
        }
        Ok(())
    }

    /// Commit a datatype as a named object at `path` (parent groups are created as needed).
    ///
    /// Datasets do not share it: they carry their own copy of the type.
    pub fn commit_datatype(&mut self, path: &str, dtype: DType) -> Result<()> {
        self.check()?;
        let msg = dtype.encode()?;
        let (g, last) = self.new_member(path, "a committed datatype")?;
        let id = self.types.len();
        self.types.push(TypeNode {
            dtype: msg,
            attrs: Vec::new(),
            track_order: false,
        });
        self.groups[g].insert(&last, Child::Datatype(id));
        Ok(())
    }

    /// Create an external link at `path` to the object `target` of the file `file` (both
    /// need not exist). Its group then uses link messages (a version 2 object header).
    pub fn create_external_link(&mut self, path: &str, file: &str, target: &str) -> Result<()> {
        self.check()?;
        for (what, v) in [("file name", file), ("target", target)] {
            if v.is_empty() || v.contains('\0') {
                return Err(usage(format!("bad external link {what} {v:?}")));
            }
        }
        let (g, last) = self.new_member(path, "an external link")?;
        self.groups[g].insert(
            &last,
            Child::External {
                file: file.to_string(),
                path: target.to_string(),
            },
        );
        Ok(())
    }

    /// The parent group (created as needed) and name of a new member at `path`.
    fn new_member(&mut self, path: &str, what: &str) -> Result<(usize, String)> {
        let parts = split(path)?;
        let Some((last, parent)) = parts.split_last() else {
            return Err(usage(format!("{what} needs a name")));
        };
        let g = self.group_at(parent, true)?;
        if self.groups[g].members.contains_key(*last) {
            return Err(usage(format!("{path}: an object of that name exists")));
        }
        Ok((g, last.to_string()))
    }

    /// Create a dataset (parent groups are created as needed).
    pub fn create_dataset(&mut self, path: &str, spec: DatasetSpec) -> Result<DatasetId> {
        self.check()?;
        let (g, last) = self.new_member(path, "a dataset")?;
        let full = format!("/{}", split(path)?.join("/"));
        let r = DatasetState::new(full, spec, &mut self.out);
        let mut state = self.guard(r)?;
        state.latest = self.format == Format::Latest;
        let id = self.datasets.len();
        self.datasets.push(state);
        self.groups[g].insert(&last, Child::Dataset(id));
        Ok(DatasetId(id))
    }

    /// Create a soft link at `path` (parent groups are created as needed) pointing to
    /// `target`, a path that need not exist.
    pub fn create_soft_link(&mut self, path: &str, target: &str) -> Result<()> {
        self.check()?;
        if target.is_empty() || target.contains('\0') {
            return Err(usage(format!("bad soft link target {target:?}")));
        }
        let (g, last) = self.new_member(path, "a soft link")?;
        self.groups[g].insert(&last, Child::Soft(target.to_string()));
        Ok(())
    }

    fn dataset(&mut self, ds: DatasetId) -> Result<&mut DatasetState> {
        self.datasets
            .get_mut(ds.0)
            .ok_or_else(|| usage("unknown dataset id"))
    }

    /// Write the whole dataset from little-endian element bytes (row-major).
    pub fn write_all(&mut self, ds: DatasetId, bytes: &[u8]) -> Result<()> {
        self.check()?;
        let shape = self.dataset(ds)?.shape.clone();
        self.write_hyperslab(ds, &vec![0; shape.len()], &shape, bytes)
    }

    /// Write the whole dataset from a slice of numbers (the type must match the dataset's).
    pub fn write_typed<T: Element>(&mut self, ds: DatasetId, values: &[T]) -> Result<()> {
        self.check_type::<T>(ds)?;
        self.write_all(ds, &to_le_bytes(values))
    }

    fn check_type<T: Element>(&mut self, ds: DatasetId) -> Result<()> {
        let d = self.dataset(ds)?;
        if d.spec.dtype != T::DTYPE {
            return Err(usage(format!(
                "{}: dataset of {:?} written with {:?}",
                d.path,
                d.spec.dtype,
                T::DTYPE
            )));
        }
        Ok(())
    }

    /// Write the block `start`/`count` (per dimension) of a dataset.
    ///
    /// With chunked layout, the chunks stay in memory until [`finish`](Self::finish) (or until
    /// [`append`](Self::append) writes them out); a chunk already written out cannot be changed.
    pub fn write_hyperslab(
        &mut self,
        ds: DatasetId,
        start: &[u64],
        count: &[u64],
        bytes: &[u8],
    ) -> Result<()> {
        self.check()?;
        let d = self
            .datasets
            .get_mut(ds.0)
            .ok_or_else(|| usage("unknown dataset id"))?;
        let r = d.write_hyperslab(&mut self.out, start, count, bytes);
        self.guard(r)
    }

    /// Append rows along dimension 0 of a chunked dataset (`bytes` = whole rows).
    ///
    /// Complete chunks are filtered in parallel and written as they fill, so memory stays
    /// bounded by a few chunks (times the chunks across the other dimensions).
    pub fn append(&mut self, ds: DatasetId, bytes: &[u8]) -> Result<()> {
        self.check()?;
        let d = self
            .datasets
            .get_mut(ds.0)
            .ok_or_else(|| usage("unknown dataset id"))?;
        let r = d.append(&mut self.out, bytes);
        self.guard(r)
    }

    /// Append numbers along dimension 0 (the type must match the dataset's).
    pub fn append_typed<T: Element>(&mut self, ds: DatasetId, values: &[T]) -> Result<()> {
        self.check_type::<T>(ds)?;
        self.append(ds, &to_le_bytes(values))
    }

    /// Encode strings into heap references, for a variable-length string dataset.
    fn string_refs<S: AsRef<str>>(&mut self, ds: DatasetId, strings: &[S]) -> Result<Vec<u8>> {
        self.check()?;
        let d = self.dataset(ds)?;
        if !d.spec.dtype.is_vlen() {
            return Err(usage(format!(
                "{}: not a variable-length string dataset",
                d.path
            )));
        }
        let bytes: Vec<&[u8]> = strings.iter().map(|s| s.as_ref().as_bytes()).collect();
        if bytes.iter().any(|b| u32::try_from(b.len()).is_err()) {
            return Err(usage("string longer than 4 GiB"));
        }
        let r = global_heap::write_strings(&mut self.out, &bytes);
        let w = encode::Widths::current();
        Ok(self
            .guard(r)?
            .iter()
            .flat_map(|r| w.narrow_ref(r))
            .collect())
    }

    /// Store variable-length values in the file's global heap: each item is the length its
    /// reference records (elements of a sequence, bytes of a string) and its bytes (nested
    /// variable-length parts already replaced by references returned here). Returns the
    /// 16-byte references (length, collection address, index) to put in element bytes of
    /// [`DType::Raw`] variable-length types. An empty sequence (length 0, no bytes) gets the
    /// null reference.
    pub fn write_vlen_objects(&mut self, items: &[(u32, Vec<u8>)]) -> Result<Vec<[u8; 16]>> {
        self.check()?;
        let w = encode::Widths::current();
        if !w.is_eight() {
            return Err(Error::unsupported(
                "write",
                format!(
                    "variable-length objects in a file with {}-byte addresses",
                    w.offset
                ),
            ));
        }
        let stored: Vec<(u32, &[u8])> = items
            .iter()
            .filter(|(n, b)| *n != 0 || !b.is_empty())
            .map(|(n, b)| (*n, b.as_slice()))
            .collect();
        if stored.iter().any(|(_, b)| u32::try_from(b.len()).is_err()) {
            return Err(usage("variable-length value over 4 GiB"));
        }
        let r = global_heap::write_objects(&mut self.out, &stored);
        let mut refs = self.guard(r)?.into_iter();
        Ok(items
            .iter()
            .map(|(n, b)| {
                if *n == 0 && b.is_empty() {
                    [0u8; 16]
                } else {
                    refs.next().unwrap_or([0u8; 16])
                }
            })
            .collect())
    }

    /// Set the values of a dataset of [`DType::ObjectRef`] or [`DType::RegionRef`] (one per
    /// element); they are resolved to object addresses when the file is finished, where a
    /// path naming no group, dataset or committed datatype is an error.
    pub fn write_references(&mut self, ds: DatasetId, refs: Vec<Reference>) -> Result<()> {
        self.check()?;
        let d = self.dataset(ds)?;
        if !d.spec.dtype.is_reference() {
            return Err(usage(format!("{}: not a dataset of references", d.path)));
        }
        let region = d.spec.dtype == DType::RegionRef;
        let n = encode::product(&d.shape)?;
        if n != refs.len() as u64 {
            return Err(usage(format!(
                "{}: dataset has {n} elements, got {} references",
                d.path,
                refs.len()
            )));
        }
        if refs
            .iter()
            .any(|r| matches!(r, Reference::Region { .. }) != region && *r != Reference::Null)
        {
            return Err(usage(format!(
                "{}: object and region references mixed",
                d.path
            )));
        }
        d.refs = Some(refs);
        Ok(())
    }

    /// Write all elements of a variable-length string dataset.
    pub fn write_strings<S: AsRef<str>>(&mut self, ds: DatasetId, strings: &[S]) -> Result<()> {
        let n = encode::product(&self.dataset(ds)?.shape)?;
        if n != strings.len() as u64 {
            return Err(usage(format!(
                "dataset has {n} elements, got {} strings",
                strings.len()
            )));
        }
        let refs = self.string_refs(ds, strings)?;
        self.write_all(ds, &refs)
    }

    /// Append strings along dimension 0 of a chunked variable-length string dataset.
    pub fn append_strings<S: AsRef<str>>(&mut self, ds: DatasetId, strings: &[S]) -> Result<()> {
        let refs = self.string_refs(ds, strings)?;
        self.append(ds, &refs)
    }

    /// Write all metadata and the superblock; with a file target, rename it into place.
    pub fn finish(self) -> Result<()> {
        let _durability = self.durability;
        match self.finish_backend()? {
            #[cfg(feature = "fs")]
            Backend::File(f) => f.commit(_durability == Durability::Fsync),
            _ => Ok(()),
        }
    }

    /// Finish an in-memory writer and return the file's bytes.
    pub fn finish_to_vec(self) -> Result<Vec<u8>> {
        match self.finish_backend()? {
            Backend::Mem(v) => Ok(v),
            _ => Err(usage(
                "finish_to_vec needs a writer made by FileWriter::in_memory",
            )),
        }
    }
}

/// Split an object path into its components ("/" or "" = the root group).
fn split(path: &str) -> Result<Vec<&str>> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.iter().any(|p| *p == "." || p.contains('\0')) {
        return Err(usage(format!("bad object path {path:?}")));
    }
    Ok(parts)
}
