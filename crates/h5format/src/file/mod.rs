//! The high-level reading API: [`File`], [`Group`], [`Dataset`], [`Attribute`].
//!
//! A read flows File → Group (links) → object header → Dataset (datatype, dataspace, layout,
//! filters) → layout-specific reader → caller's buffer.
//!
//! This module holds [`File`] (opening, object lookup by path or address, caches) and
//! [`Object`]; [`Node`], [`CommittedType`] and [`Attribute`] live in `node`, [`Group`] in
//! `group`, [`Dataset`] in `dataset`.

mod dataset;
mod group;
mod node;

pub use dataset::Dataset;
pub use group::Group;
pub use node::{Attribute, CommittedType, Node};

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use crate::cursor::{Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::io::{ByteSource, MemSource, Source};
use crate::read::fractal_heap::FractalHeap;
use crate::read::global_heap::GlobalHeap;
use crate::read::link::LinkTarget;
use crate::read::object_header::FLAG_SHARED;
use crate::read::object_header::{msg, ObjectHeader};
use crate::read::shared::{SharedRef, SharedResolver};
use crate::read::shared_message_table::{type_flag, SharedMessageTable, SharedMessageTableMessage};
use crate::read::superblock::Superblock;

/// Most soft links followed while resolving one path.
const MAX_SOFT_LINKS: usize = 40;

/// An open HDF5 file (cheap to clone; shareable between threads).
#[derive(Clone)]
pub struct File {
    inner: Arc<FileInner>,
}

struct FileInner {
    source: Source,
    superblock: Superblock,
    global_heaps: Mutex<HashMap<u64, Arc<GlobalHeap>>>,
    paths: OnceLock<HashMap<u64, String>>,
    chunk_cache: Arc<crate::cache::ChunkCache>,
    /// The shared object header message table, loaded on first use (`Some(None)`: the file
    /// has none).
    sohm_table: Mutex<Option<Option<Arc<SharedMessageTable>>>>,
    /// Open shared message heaps by address.
    sohm_heaps: Mutex<HashMap<u64, Arc<FractalHeap>>>,
    /// Which external files (external storage, virtual sources) may be opened.
    external: crate::read::external::ExternalAccess,
}

pub use crate::cache::DEFAULT_CHUNK_CACHE_BYTES;

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("File")
            .field("superblock", &self.inner.superblock)
            .finish()
    }
}

impl File {
    /// Open a file from the file system with positioned reads.
    #[cfg(feature = "fs")]
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let src =
            crate::io::FileSource::open(path).map_err(|source| Error::Io { offset: 0, source })?;
        Ok(Self::from_source(Arc::new(src))?.with_base_dir(path))
    }

    /// Open a local path, or (feature `remote`) an `http://` URL or `s3://BUCKET/KEY`
    /// object read by range requests. The one entry point for "FILE may be a URL".
    #[cfg(feature = "fs")]
    pub fn open_location(location: &str) -> Result<Self> {
        #[cfg(feature = "remote")]
        if crate::io::is_url(location) {
            let src = crate::io::RemoteSource::open(location)
                .map_err(|source| Error::Io { offset: 0, source })?;
            return Self::from_source(Arc::new(src));
        }
        #[cfg(not(feature = "remote"))]
        if ["http://", "https://", "s3://"]
            .iter()
            .any(|p| location.starts_with(p))
        {
            return Err(Error::Io {
                offset: 0,
                source: std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    "remote files need the `remote` feature of h5format",
                ),
            });
        }
        Self::open(location)
    }

    /// Open a file through a memory map.
    #[cfg(feature = "mmap")]
    pub fn open_mmap(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let src =
            crate::io::MmapSource::open(path).map_err(|source| Error::Io { offset: 0, source })?;
        Ok(Self::from_source(Arc::new(src))?.with_base_dir(path))
    }

    /// Open a file held in memory.
    pub fn from_bytes(bytes: impl Into<Arc<[u8]>>) -> Result<Self> {
        Self::from_source(Arc::new(MemSource::new(bytes)))
    }

    /// Open a file held in memory, capping every file-driven allocation at `alloc_limit`
    /// bytes (see [`Source::with_alloc_limit`]).
    pub fn from_bytes_with_limit(bytes: impl Into<Arc<[u8]>>, alloc_limit: u64) -> Result<Self> {
        let src = Source::new(Arc::new(MemSource::new(bytes))).with_alloc_limit(alloc_limit);
        Self::from_raw(src)
    }

    /// Open a file from any byte source.
    pub fn from_source(source: Arc<dyn ByteSource>) -> Result<Self> {
        Self::from_raw(Source::new(source))
    }

    fn from_raw(raw: Source) -> Result<Self> {
        let superblock = Superblock::find(&raw)?;
        let source = raw.rebased(superblock.position);
        // libhdf5 refuses a file shorter than its recorded end of file: it is truncated. (The
        // recorded end counts the user block too.)
        if superblock.eof_address != UNDEF_ADDR && superblock.eof_address > raw.len() {
            return Err(Error::malformed(
                "superblock",
                superblock.position,
                format!(
                    "file is truncated: end-of-file address is {} but the file has {} bytes",
                    superblock.eof_address,
                    raw.len()
                ),
            ));
        }
        Ok(File {
            inner: Arc::new(FileInner {
                source,
                superblock,
                global_heaps: Mutex::new(HashMap::new()),
                paths: OnceLock::new(),
                chunk_cache: Arc::new(crate::cache::ChunkCache::new(DEFAULT_CHUNK_CACHE_BYTES)),
                sohm_table: Mutex::new(None),
                sohm_heaps: Mutex::new(HashMap::new()),
                external: Default::default(),
            }),
        })
    }

    /// Replace the decoded-chunk cache (size in bytes; 0 disables caching). Affects datasets
    /// opened afterwards.
    pub fn with_chunk_cache(self, bytes: usize) -> Self {
        let inner = FileInner {
            source: self.inner.source.clone(),
            superblock: self.inner.superblock.clone(),
            global_heaps: Mutex::new(HashMap::new()),
            paths: OnceLock::new(),
            chunk_cache: Arc::new(crate::cache::ChunkCache::new(bytes)),
            sohm_table: Mutex::new(None),
            sohm_heaps: Mutex::new(HashMap::new()),
            external: self.inner.external.clone(),
        };
        File {
            inner: Arc::new(inner),
        }
    }

    /// Set the policy for external files (see [`crate::read::external::ExternalAccess`]);
    /// caches start empty again.
    fn with_external(self, external: crate::read::external::ExternalAccess) -> Self {
        let inner = FileInner {
            source: self.inner.source.clone(),
            superblock: self.inner.superblock.clone(),
            global_heaps: Mutex::new(HashMap::new()),
            paths: OnceLock::new(),
            chunk_cache: self.inner.chunk_cache.clone(),
            sohm_table: Mutex::new(None),
            sohm_heaps: Mutex::new(HashMap::new()),
            external,
        };
        File {
            inner: Arc::new(inner),
        }
    }

    /// Resolve relative names of external files (external storage, virtual dataset
    /// sources) against the directory of `file_path` ([`File::open`] does this).
    pub fn with_base_dir(self, file_path: impl AsRef<std::path::Path>) -> Self {
        let dir = match file_path.as_ref().parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let mut ext = self.inner.external.clone();
        ext.base = Some(dir);
        self.with_external(ext)
    }

    /// Allow reading external files (external storage, virtual dataset sources) inside
    /// `dirs` (at any depth, after following symbolic links). By default none is allowed:
    /// a file cannot make the reader open files it was not given.
    pub fn with_external_dirs(
        self,
        dirs: impl IntoIterator<Item = impl Into<std::path::PathBuf>>,
    ) -> Self {
        let mut ext = self.inner.external.clone();
        ext.allowed = dirs.into_iter().map(Into::into).collect();
        self.with_external(ext)
    }

    /// The directory of the file (when opened from a path): relative external names resolve
    /// there.
    pub fn base_dir(&self) -> Option<&std::path::Path> {
        self.inner.external.base.as_deref()
    }

    /// The external-file policy.
    pub fn external_access(&self) -> &crate::read::external::ExternalAccess {
        &self.inner.external
    }

    /// The superblock.
    pub fn superblock(&self) -> &Superblock {
        &self.inner.superblock
    }

    /// Widths of addresses and lengths.
    pub fn sizes(&self) -> Sizes {
        self.inner.superblock.sizes
    }

    /// The byte source, addressed from the file's base address.
    pub fn source(&self) -> &Source {
        &self.inner.source
    }

    /// Parse the object header at `address`. Messages kept in the shared object header
    /// message heap are replaced by their bodies (and lose their shared flag); messages
    /// shared with another object header (committed datatypes) stay references.
    pub fn header(&self, address: u64) -> Result<ObjectHeader> {
        let mut h = ObjectHeader::read(&self.inner.source, self.sizes(), address)?;
        if self.inner.superblock.extension_address.is_some() {
            for m in &mut h.messages {
                if !m.is_shared() || type_flag(m.kind).is_none() {
                    continue;
                }
                let r =
                    crate::read::shared::parse_ref(&mut m.cursor("shared message", self.sizes()))?;
                if let SharedRef::Heap(id) = r {
                    let (_, body) = self.heap_message(m.kind, &id)?;
                    m.data = body;
                    m.flags &= !FLAG_SHARED;
                }
            }
        }
        Ok(h)
    }

    /// The shared object header message table of the file (from the superblock extension),
    /// if it has one.
    pub fn shared_message_table(&self) -> Result<Option<Arc<SharedMessageTable>>> {
        if let Some(t) = self.inner.sohm_table.lock().ok().and_then(|t| t.clone()) {
            return Ok(t);
        }
        let mut table = None;
        if let Some(ext) = self.inner.superblock.extension_address {
            let h = ObjectHeader::read(&self.inner.source, self.sizes(), ext)?;
            if let Some(m) = h.first(msg::SHARED_MESSAGE_TABLE) {
                let tm = SharedMessageTableMessage::parse(
                    &mut m.cursor("shared message table message", self.sizes()),
                )?;
                table = Some(Arc::new(SharedMessageTable::read(
                    &self.inner.source,
                    self.sizes(),
                    tm,
                )?));
            }
        }
        if let Ok(mut t) = self.inner.sohm_table.lock() {
            *t = Some(table.clone());
        }
        Ok(table)
    }

    /// The fractal heap at `address` holding shared messages (cached).
    fn sohm_heap(&self, address: u64) -> Result<Arc<FractalHeap>> {
        if let Some(h) = self
            .inner
            .sohm_heaps
            .lock()
            .ok()
            .and_then(|m| m.get(&address).cloned())
        {
            return Ok(h);
        }
        let heap = Arc::new(FractalHeap::open(
            &self.inner.source,
            self.sizes(),
            address,
        )?);
        if let Ok(mut m) = self.inner.sohm_heaps.lock() {
            m.insert(address, heap.clone());
        }
        Ok(heap)
    }

    /// The root group.
    pub fn root(&self) -> Result<Group> {
        let addr = self.inner.superblock.root_address;
        match self.object_at(addr, "/".to_string())? {
            Object::Group(g) => Ok(g),
            _ => Err(Error::malformed(
                "superblock",
                0,
                "root object is not a group",
            )),
        }
    }

    /// The object at an absolute path (soft links followed; external links are an error).
    pub fn object(&self, path: &str) -> Result<Object> {
        let mut obj = Object::Group(self.root()?);
        let mut hops = 0usize;
        let mut parts: VecDeque<String> = path
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .map(str::to_string)
            .collect();
        let mut cur_path = String::new();
        while let Some(name) = parts.pop_front() {
            let group = match obj {
                Object::Group(g) => g,
                _ => return Err(Error::NotFound(format!("{cur_path}/{name}"))),
            };
            let link = group
                .link(&name)?
                .ok_or_else(|| Error::NotFound(format!("{cur_path}/{name}")))?;
            match link.target {
                LinkTarget::Hard(addr) => {
                    cur_path = format!("{cur_path}/{name}");
                    obj = self.object_at(addr, cur_path.clone())?;
                }
                LinkTarget::Soft(target) => {
                    hops += 1;
                    if hops > MAX_SOFT_LINKS {
                        return Err(Error::Cycle {
                            what: "soft links",
                            offset: group.address(),
                        });
                    }
                    let mut rest: VecDeque<String> = target
                        .split('/')
                        .filter(|p| !p.is_empty() && *p != ".")
                        .map(str::to_string)
                        .collect();
                    rest.extend(parts.drain(..));
                    parts = rest;
                    if target.starts_with('/') {
                        obj = Object::Group(self.root()?);
                        cur_path.clear();
                    } else {
                        obj = Object::Group(group);
                    }
                }
                LinkTarget::External { file, path } => {
                    return Err(Error::Usage(format!(
                        "{cur_path}/{name}: external link to {file}:{path} is not followed"
                    )))
                }
                LinkTarget::UserDefined(t) => {
                    return Err(Error::unsupported(
                        "link",
                        format!("user-defined link type {t}"),
                    ))
                }
            }
        }
        Ok(obj)
    }

    /// A group by path.
    pub fn group(&self, path: &str) -> Result<Group> {
        match self.object(path)? {
            Object::Group(g) => Ok(g),
            _ => Err(Error::Usage(format!("{path}: not a group"))),
        }
    }

    /// A dataset by path.
    pub fn dataset(&self, path: &str) -> Result<Dataset> {
        match self.object(path)? {
            Object::Dataset(d) => Ok(d),
            _ => Err(Error::Usage(format!("{path}: not a dataset"))),
        }
    }

    /// The object whose header is at `address`, known as `path`.
    pub fn object_at(&self, address: u64, path: String) -> Result<Object> {
        let header = Arc::new(self.header(address).map_err(|e| e.in_object(&path))?);
        let node = Node {
            file: self.clone(),
            header,
            path,
        };
        let h = &node.header;
        if h.first(msg::LAYOUT).is_some()
            || (h.first(msg::DATASPACE).is_some() && h.first(msg::DATATYPE).is_some())
        {
            let path = node.path.clone();
            return Dataset::new(node)
                .map(Object::Dataset)
                .map_err(|e| e.in_object(&path));
        }
        if h.first(msg::DATATYPE).is_some()
            && h.first(msg::SYMBOL_TABLE).is_none()
            && h.first(msg::LINK).is_none()
        {
            let dtype = node.datatype_message()?;
            return Ok(Object::Datatype(CommittedType { node, dtype }));
        }
        Ok(Object::Group(Group {
            node,
            links: OnceLock::new(),
        }))
    }

    /// A global heap collection (cached).
    pub fn global_heap(&self, address: u64) -> Result<Arc<GlobalHeap>> {
        if let Some(h) = self
            .inner
            .global_heaps
            .lock()
            .ok()
            .and_then(|m| m.get(&address).cloned())
        {
            return Ok(h);
        }
        let heap = Arc::new(GlobalHeap::read(&self.inner.source, self.sizes(), address)?);
        if let Ok(mut m) = self.inner.global_heaps.lock() {
            if m.len() > 1024 {
                m.clear();
            }
            m.insert(address, heap.clone());
        }
        Ok(heap)
    }

    /// The first path (breadth-first, by iteration order) at which the object with header
    /// `address` is linked; computed once per file.
    pub fn path_of(&self, address: u64) -> Option<String> {
        let map = self.inner.paths.get_or_init(|| self.index_paths());
        map.get(&address).cloned()
    }

    fn index_paths(&self) -> HashMap<u64, String> {
        let mut map = HashMap::new();
        let root = self.inner.superblock.root_address;
        map.insert(root, "/".to_string());
        let mut queue = VecDeque::from([(root, "/".to_string())]);
        let mut visited = HashSet::from([root]);
        while let Some((addr, path)) = queue.pop_front() {
            let Ok(Object::Group(g)) = self.object_at(addr, path.clone()) else {
                continue;
            };
            let Ok(links) = g.links() else { continue };
            for l in links.iter() {
                if let LinkTarget::Hard(a) = l.target {
                    let p = if path == "/" {
                        format!("/{}", l.name)
                    } else {
                        format!("{path}/{}", l.name)
                    };
                    map.entry(a).or_insert_with(|| p.clone());
                    if visited.insert(a) {
                        queue.push_back((a, p));
                    }
                }
            }
        }
        map
    }
}

/// Any object reached by a link.
#[derive(Clone)]
pub enum Object {
    /// A group.
    Group(Group),
    /// A dataset.
    Dataset(Dataset),
    /// A committed (named) datatype.
    Datatype(CommittedType),
}

impl Object {
    /// The common part.
    pub fn node(&self) -> &Node {
        match self {
            Object::Group(g) => &g.node,
            Object::Dataset(d) => &d.node,
            Object::Datatype(t) => &t.node,
        }
    }
}

impl crate::value::Resolver for File {
    fn global_heap_object(&self, collection_addr: u64, index: u32) -> Result<Vec<u8>> {
        Ok(self.global_heap(collection_addr)?.object(index)?.to_vec())
    }
    fn object_path(&self, addr: u64) -> Result<Option<String>> {
        Ok(self.path_of(addr))
    }
}
