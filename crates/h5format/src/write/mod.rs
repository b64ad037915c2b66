//! The writer: the mirror of `read/` for what we write.
//!
//! [`FileWriter`] builds a new HDF5 file readable by libhdf5 1.8 and later: superblock
//! version 0, version 1 object headers, groups as symbol tables (v1 B-tree + local heap +
//! symbol table nodes), datatype/dataspace version 1, layout message version 3 with a v1
//! B-tree chunk index, filter pipeline version 1, variable-length strings in global heap
//! collections.
//!
//! Raw data is written as it comes (contiguous extents are allocated at creation, chunks as
//! they fill); all metadata is written at [`FileWriter::finish`], then the superblock. A file
//! target is a temporary file in the same folder, renamed onto the target by `finish`;
//! an error or a drop leaves the target untouched.
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
mod dataset;
mod dataspace;
mod datatype;
mod encode;
pub mod filters;
mod global_heap;
mod group;
mod hyperslab;
mod object_header;
mod sink;
mod superblock;

use std::collections::BTreeMap;

pub use attribute::AttrValue;
pub use dataset::{DatasetSpec, Layout, MAX_COMPACT};
pub use datatype::{to_le_bytes, DType, Element};
pub use sink::Sink;
#[cfg(feature = "fs")]
pub use sink::TempFileSink;

use crate::error::{Error, Result};
use dataset::DatasetState;
use encode::usage;
use object_header::Message;
use sink::{Backend, Out};

/// Handle of a dataset created by a [`FileWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DatasetId(usize);

enum Child {
    Group(usize),
    Dataset(usize),
    /// A soft link to this path.
    Soft(String),
}

#[derive(Default)]
struct GroupNode {
    members: BTreeMap<String, Child>,
    attrs: Vec<(String, AttrValue)>,
}

/// Writes a new HDF5 file.
pub struct FileWriter {
    out: Out,
    groups: Vec<GroupNode>,
    datasets: Vec<DatasetState>,
    /// Set after a failed write to the sink: the file can no longer be finished.
    broken: Option<String>,
}

impl FileWriter {
    fn with_backend(sink: Backend) -> Self {
        FileWriter {
            out: Out {
                sink,
                eof: superblock::SIZE,
            },
            groups: vec![GroupNode::default()],
            datasets: Vec::new(),
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
                Some(Child::Dataset(_)) => {
                    return Err(usage(format!(
                        "/{} is a dataset, not a group",
                        parts[..=i].join("/")
                    )))
                }
                Some(Child::Soft(_)) => {
                    return Err(usage(format!(
                        "/{} is a soft link, not a group",
                        parts[..=i].join("/")
                    )))
                }
                None if create => {
                    node.members.insert(part.to_string(), Child::Group(next));
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

    /// Set (or replace) an attribute of the group or dataset at `obj_path`.
    pub fn set_attr(&mut self, obj_path: &str, name: &str, value: AttrValue) -> Result<()> {
        self.check()?;
        value.validate()?;
        if name.is_empty() || name.contains('\0') {
            return Err(usage(format!("bad attribute name {name:?}")));
        }
        // Refuse now what cannot be stored in one header message at finish.
        let placeholder = vec![[0u8; 16]; value.vlen_strings().len()];
        let size = value.message(name, &placeholder)?.len();
        if size > 65_528 {
            return Err(usage(format!(
                "attribute {name:?} needs {size} bytes, over the 64 KiB limit of a header message \
                 (dense attribute storage is not implemented)"
            )));
        }
        let parts = split(obj_path)?;
        let attrs = match parts.split_last() {
            None => &mut self.groups[0].attrs,
            Some((last, parent)) => {
                let g = self.group_at(parent, false)?;
                let child = match self.groups.get(g).and_then(|n| n.members.get(*last)) {
                    Some(Child::Group(c)) => Child::Group(*c),
                    Some(Child::Dataset(d)) => Child::Dataset(*d),
                    Some(Child::Soft(_)) => {
                        return Err(usage(format!("{obj_path}: a soft link has no attributes")))
                    }
                    None => return Err(Error::NotFound(obj_path.to_string())),
                };
                match child {
                    Child::Group(c) => &mut self.groups[c].attrs,
                    Child::Dataset(d) => &mut self.datasets[d].attrs,
                    Child::Soft(_) => return Err(usage("a soft link has no attributes")),
                }
            }
        };
        match attrs.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => attrs.push((name.to_string(), value)),
        }
        Ok(())
    }

    /// Create a dataset (parent groups are created as needed).
    pub fn create_dataset(&mut self, path: &str, spec: DatasetSpec) -> Result<DatasetId> {
        self.check()?;
        let parts = split(path)?;
        let Some((last, parent)) = parts.split_last() else {
            return Err(usage("a dataset needs a name"));
        };
        let g = self.group_at(parent, true)?;
        if self.groups[g].members.contains_key(*last) {
            return Err(usage(format!("{path}: an object of that name exists")));
        }
        let r = DatasetState::new(format!("/{}", parts.join("/")), spec, &mut self.out);
        let state = self.guard(r)?;
        let id = self.datasets.len();
        self.datasets.push(state);
        self.groups[g]
            .members
            .insert(last.to_string(), Child::Dataset(id));
        Ok(DatasetId(id))
    }

    /// Create a soft link at `path` (parent groups are created as needed) pointing to
    /// `target`, a path that need not exist.
    pub fn create_soft_link(&mut self, path: &str, target: &str) -> Result<()> {
        self.check()?;
        let parts = split(path)?;
        let Some((last, parent)) = parts.split_last() else {
            return Err(usage("a soft link needs a name"));
        };
        if target.is_empty() || target.contains('\0') {
            return Err(usage(format!("bad soft link target {target:?}")));
        }
        let g = self.group_at(parent, true)?;
        if self.groups[g].members.contains_key(*last) {
            return Err(usage(format!("{path}: an object of that name exists")));
        }
        self.groups[g]
            .members
            .insert(last.to_string(), Child::Soft(target.to_string()));
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
        Ok(self.guard(r)?.concat())
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
        match self.finish_backend()? {
            #[cfg(feature = "fs")]
            Backend::File(f) => f.commit(),
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

    fn finish_backend(mut self) -> Result<Backend> {
        self.check()?;
        // Attribute strings of all objects share global heap collections.
        let mut strings: Vec<&[u8]> = Vec::new();
        for (_, v) in self
            .groups
            .iter()
            .flat_map(|g| &g.attrs)
            .chain(self.datasets.iter().flat_map(|d| &d.attrs))
        {
            strings.extend(v.vlen_strings());
        }
        let refs = global_heap::write_strings(&mut self.out, &strings)?;
        let mut refs = refs.into_iter();
        let mut encode_attrs = |attrs: &[(String, AttrValue)]| -> Result<Vec<Message>> {
            attrs
                .iter()
                .map(|(name, v)| {
                    let n = v.vlen_strings().len();
                    let mine: Vec<[u8; 16]> = refs.by_ref().take(n).collect();
                    Ok(Message::new(
                        object_header::ATTRIBUTE,
                        0,
                        v.message(name, &mine)?,
                    ))
                })
                .collect()
        };
        let mut group_attrs = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            group_attrs.push(encode_attrs(&g.attrs)?);
        }
        let mut dataset_attrs = Vec::with_capacity(self.datasets.len());
        for d in &self.datasets {
            dataset_attrs.push(encode_attrs(&d.attrs)?);
        }
        let mut ctx = Finisher {
            out: &mut self.out,
            groups: &self.groups,
            datasets: &mut self.datasets,
            group_attrs,
            dataset_attrs,
        };
        let (root, tree, heap) = ctx.write_group(0, 0)?;
        let sb = superblock::encode(self.out.eof, root, tree, heap);
        self.out.sink.write_at(0, &sb)?;
        self.out.sink.set_len(self.out.eof)?;
        Ok(self.out.sink)
    }
}

struct Finisher<'a> {
    out: &'a mut Out,
    groups: &'a [GroupNode],
    datasets: &'a mut [DatasetState],
    group_attrs: Vec<Vec<Message>>,
    dataset_attrs: Vec<Vec<Message>>,
}

impl Finisher<'_> {
    /// Write a group's members, symbol table and header; returns (header, B-tree, heap).
    fn write_group(&mut self, g: usize, depth: usize) -> Result<(u64, u64, u64)> {
        if depth > 10_000 {
            return Err(usage("groups nested too deeply"));
        }
        let node = self.groups.get(g).ok_or_else(|| usage("bad group index"))?;
        let mut members = Vec::with_capacity(node.members.len());
        for (name, child) in &node.members {
            let (header, stab) = match child {
                Child::Soft(target) => {
                    members.push(group::Member {
                        name: name.clone(),
                        header: u64::MAX,
                        stab: None,
                        soft: Some(target.clone()),
                    });
                    continue;
                }
                Child::Group(c) => {
                    let (h, t, hp) = self.write_group(*c, depth + 1)?;
                    (h, Some((t, hp)))
                }
                Child::Dataset(d) => {
                    let attrs = std::mem::take(
                        self.dataset_attrs
                            .get_mut(*d)
                            .ok_or_else(|| usage("bad dataset"))?,
                    );
                    let ds = self
                        .datasets
                        .get_mut(*d)
                        .ok_or_else(|| usage("bad dataset"))?;
                    let path = ds.path.clone();
                    let bytes = ds.finish(self.out, attrs).map_err(|e| e.in_object(&path))?;
                    (self.out.append(&bytes)?, None)
                }
            };
            members.push(group::Member {
                name: name.clone(),
                header,
                stab,
                soft: None,
            });
        }
        let (tree, heap) = group::write(self.out, &members)?;
        let mut msgs = vec![Message::new(
            object_header::SYMBOL_TABLE,
            0,
            group::stab_message(tree, heap),
        )];
        msgs.extend(std::mem::take(
            self.group_attrs
                .get_mut(g)
                .ok_or_else(|| usage("bad group"))?,
        ));
        let header = self.out.append(&object_header::encode(&msgs)?)?;
        Ok((header, tree, heap))
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
