//! The high-level reading API: [`File`], [`Group`], [`Dataset`], [`Attribute`].
//!
//! A read flows File → Group (links) → object header → Dataset (datatype, dataspace, layout,
//! filters) → layout-specific reader → caller's buffer.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use crate::cursor::{Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::io::{ByteSource, MemSource, Source};
use crate::read::attribute::{AttributeInfo, AttributeMessage};
use crate::read::dataspace::Dataspace;
use crate::read::datatype::{ByteOrder, Datatype};
use crate::read::fill_value::FillValue;
use crate::read::fractal_heap::FractalHeap;
use crate::read::global_heap::GlobalHeap;
use crate::read::layout::Layout;
use crate::read::link::{Link, LinkInfo, LinkTarget};
use crate::read::object_header::FLAG_SHARED;
use crate::read::object_header::{msg, ObjectHeader};
use crate::read::shared::{SharedRef, SharedResolver, TypeRef};
use crate::read::shared_message_table::{type_flag, SharedMessageTable, SharedMessageTableMessage};
use crate::read::superblock::Superblock;
use crate::read::symbol_table::{self, SymbolTableMessage};

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

/// What every object has: its file, header and path.
#[derive(Clone)]
pub struct Node {
    file: File,
    header: Arc<ObjectHeader>,
    path: String,
}

impl Node {
    /// The file.
    pub fn file(&self) -> &File {
        &self.file
    }
    /// The object header.
    pub fn header(&self) -> &ObjectHeader {
        &self.header
    }
    /// Object header address (the object's identity in the file).
    pub fn address(&self) -> u64 {
        self.header.address
    }
    /// Path by which the object was opened.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn datatype_message(&self) -> Result<Datatype> {
        let m = self.header.first(msg::DATATYPE).ok_or_else(|| {
            Error::malformed("object header", self.address(), "no datatype message")
        })?;
        let tref =
            crate::read::shared::parse_type(&m.data, m.offset, m.is_shared(), self.file.sizes())?;
        self.file.resolve_type(tref)
    }

    /// The datatype message body of a dataset or committed datatype, exactly as stored
    /// (trailing padding removed); a shared (committed) type is resolved to the committed
    /// type's own message body.
    pub fn datatype_raw(&self) -> Result<Vec<u8>> {
        let m = self.header.first(msg::DATATYPE).ok_or_else(|| {
            Error::malformed("object header", self.address(), "no datatype message")
        })?;
        let tref =
            crate::read::shared::parse_type(&m.data, m.offset, m.is_shared(), self.file.sizes())?;
        match tref {
            TypeRef::Inline(_) => self.file.datatype_bytes(&m.data, m.offset),
            TypeRef::Shared(r) => self.file.shared_datatype_raw(r),
        }
    }

    /// The attributes of the object, in the order libhdf5 lists them (creation order when
    /// tracked, else name order for dense storage, storage order for compact).
    pub fn attributes(&self) -> Result<Vec<Attribute>> {
        let sizes = self.file.sizes();
        let mut out = Vec::new();
        for m in self.header.all(msg::ATTRIBUTE) {
            let am = AttributeMessage::parse_with(
                &mut m.cursor("attribute message", sizes),
                &self.file,
            )?;
            out.push(self.file.attribute_from(am)?);
        }
        if !self.header.attr_creation_order_tracked {
            // libhdf5 lists compact attributes by name unless creation order is tracked.
            out.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        }
        if let Some(m) = self.header.first(msg::ATTRIBUTE_INFO) {
            let info = AttributeInfo::parse(&mut m.cursor("attribute info message", sizes))?;
            if info.heap_address != UNDEF_ADDR {
                for am in crate::read::dense::dense_attributes(
                    self.file.source(),
                    sizes,
                    &info,
                    &self.file,
                )? {
                    out.push(self.file.attribute_from(am)?);
                }
            }
        }
        Ok(out)
    }

    /// One attribute by name.
    pub fn attribute(&self, name: &str) -> Result<Option<Attribute>> {
        Ok(self.attributes()?.into_iter().find(|a| a.name == name))
    }
}

impl File {
    fn resolve_type(&self, tref: TypeRef) -> Result<Datatype> {
        match tref {
            TypeRef::Inline(t) => Ok(t),
            TypeRef::Shared(r) => {
                let (at, body) = self.shared_datatype_body(r)?;
                Datatype::parse(&mut crate::cursor::Cursor::new(
                    &body,
                    at,
                    "datatype message",
                    self.sizes(),
                ))
            }
        }
    }

    /// Where a shared datatype message lives: its file offset and body (committed datatype's
    /// object header, or the shared-message heap).
    fn shared_datatype_body(&self, r: SharedRef) -> Result<(u64, Vec<u8>)> {
        match r {
            SharedRef::ObjectHeader(addr) => {
                let h = self.header(addr)?;
                let m = h.first(msg::DATATYPE).ok_or_else(|| {
                    Error::malformed("committed datatype", addr, "no datatype message")
                })?;
                if m.is_shared() {
                    return Err(Error::malformed(
                        "committed datatype",
                        addr,
                        "datatype message is itself shared",
                    ));
                }
                Ok((m.offset, m.data.clone()))
            }
            SharedRef::Heap(id) => self.heap_message(msg::DATATYPE, &id),
        }
    }

    /// The bytes of the datatype encoded at the start of `data` (trailing padding cut off).
    fn datatype_bytes(&self, data: &[u8], offset: u64) -> Result<Vec<u8>> {
        let mut c = crate::cursor::Cursor::new(data, offset, "datatype message", self.sizes());
        Datatype::parse(&mut c)?;
        let used = c.offset().saturating_sub(offset) as usize;
        Ok(data.get(..used).unwrap_or(data).to_vec())
    }

    /// The datatype message body of the committed datatype a shared message points to.
    fn shared_datatype_raw(&self, r: SharedRef) -> Result<Vec<u8>> {
        let (at, body) = self.shared_datatype_body(r)?;
        self.datatype_bytes(&body, at)
    }

    fn attribute_from(&self, am: AttributeMessage) -> Result<Attribute> {
        let dtype_raw = match &am.dtype {
            TypeRef::Inline(_) => am.dtype_raw.clone(),
            TypeRef::Shared(r) => self.shared_datatype_raw(*r)?,
        };
        let dtype = self.resolve_type(am.dtype)?;
        Ok(Attribute {
            name: am.name,
            dtype,
            dtype_raw,
            space: am.space,
            data: am.data,
            offset: am.offset,
        })
    }
}

impl SharedResolver for File {
    fn heap_message(&self, kind: u16, heap_id: &[u8; 8]) -> Result<(u64, Vec<u8>)> {
        let table = self.shared_message_table()?.ok_or_else(|| {
            Error::malformed(
                "shared message",
                self.inner
                    .superblock
                    .extension_address
                    .unwrap_or(UNDEF_ADDR),
                "message in the shared message heap, but the file has no shared message table",
            )
        })?;
        let index = table.index_for(kind).ok_or_else(|| {
            Error::malformed(
                "shared message table",
                table.address,
                format!("no index holds messages of type {kind:#06x}"),
            )
        })?;
        let heap = self.sohm_heap(index.heap_address)?;
        Ok((index.heap_address, heap.get(&self.inner.source, heap_id)?))
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

/// A committed datatype object.
#[derive(Clone)]
pub struct CommittedType {
    node: Node,
    dtype: Datatype,
}

impl CommittedType {
    /// The datatype.
    pub fn dtype(&self) -> &Datatype {
        &self.dtype
    }
    /// The common part.
    pub fn node(&self) -> &Node {
        &self.node
    }
}

/// A group.
#[derive(Clone)]
pub struct Group {
    node: Node,
    links: OnceLock<Arc<Vec<Link>>>,
}

impl std::ops::Deref for Group {
    type Target = Node;
    fn deref(&self) -> &Node {
        &self.node
    }
}

impl Group {
    /// The links of the group, in libhdf5's default iteration order: creation order when the
    /// group tracks it, name order otherwise.
    pub fn links(&self) -> Result<Arc<Vec<Link>>> {
        if let Some(l) = self.links.get() {
            return Ok(l.clone());
        }
        let links = Arc::new(
            self.read_links()
                .map_err(|e| e.in_object(&self.node.path))?,
        );
        Ok(self.links.get_or_init(|| links).clone())
    }

    fn read_links(&self) -> Result<Vec<Link>> {
        let file = &self.node.file;
        let sizes = file.sizes();
        let h = &self.node.header;
        if let Some(m) = h.first(msg::SYMBOL_TABLE) {
            let stm = SymbolTableMessage::parse(&mut m.cursor("symbol table message", sizes))?;
            let members = symbol_table::members(file.source(), sizes, stm)?;
            let mut links: Vec<Link> = members
                .into_iter()
                .map(|m| Link {
                    name: String::from_utf8_lossy(&m.name).into_owned(),
                    target: match m.soft_target {
                        Some(t) => LinkTarget::Soft(String::from_utf8_lossy(&t).into_owned()),
                        None => LinkTarget::Hard(m.entry.header_address),
                    },
                    creation_order: None,
                })
                .collect();
            links.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
            return Ok(links);
        }
        let mut links = Vec::new();
        for m in h.all(msg::LINK) {
            links.push(Link::parse(&mut m.cursor("link message", sizes))?);
        }
        let mut by_order = false;
        if let Some(m) = h.first(msg::LINK_INFO) {
            let info = LinkInfo::parse(&mut m.cursor("link info message", sizes))?;
            by_order = info.creation_order_tracked;
            if info.is_dense() {
                return crate::read::dense::dense_links(file.source(), sizes, &info);
            }
        }
        if by_order {
            links.sort_by_key(|l| l.creation_order.unwrap_or(u64::MAX));
        } else {
            links.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        }
        Ok(links)
    }

    /// The link called `name`, if any.
    pub fn link(&self, name: &str) -> Result<Option<Link>> {
        Ok(self.links()?.iter().find(|l| l.name == name).cloned())
    }

    /// The object linked as `name` (hard or soft link, resolved).
    pub fn member(&self, name: &str) -> Result<Object> {
        let base = if self.node.path == "/" {
            String::new()
        } else {
            self.node.path.clone()
        };
        let path = format!("{base}/{name}");
        match self.link(name)? {
            Some(Link {
                target: LinkTarget::Hard(addr),
                ..
            }) => self.node.file.object_at(addr, path),
            Some(_) => self.node.file.object(&path),
            None => Err(Error::NotFound(path)),
        }
    }

    /// The common part.
    pub fn node(&self) -> &Node {
        &self.node
    }
}

/// An attribute with its raw value bytes.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// Name.
    pub name: String,
    /// Datatype (committed types resolved).
    pub dtype: Datatype,
    /// The datatype message body (committed types resolved to their own message body).
    pub dtype_raw: Vec<u8>,
    /// Shape.
    pub space: Dataspace,
    /// Raw value bytes.
    pub data: Vec<u8>,
    /// Offset of the attribute message (for errors).
    pub offset: u64,
}

/// A dataset.
#[derive(Clone)]
pub struct Dataset {
    node: Node,
    dtype: Datatype,
    space: Dataspace,
    layout: Layout,
    fill: FillValue,
    filters: Option<crate::filter::FilterPipeline>,
    chunks: OnceLock<Arc<crate::read::chunked::ChunkedReader>>,
}

/// The filter pipeline of a dataset as the chunk engine's decoder.
struct PipelineDecoder {
    pipeline: crate::filter::FilterPipeline,
    elem_size: usize,
}

impl crate::read::chunked::ChunkDecoder for PipelineDecoder {
    fn decode(
        &self,
        raw: Vec<u8>,
        filter_mask: u32,
        expected_len: usize,
        chunk_addr: u64,
    ) -> Result<Vec<u8>> {
        self.pipeline
            .decode(raw, filter_mask, expected_len, self.elem_size, chunk_addr)
    }

    fn decode_into(
        &self,
        raw: &[u8],
        filter_mask: u32,
        out: &mut [u8],
        chunk_addr: u64,
    ) -> Result<bool> {
        self.pipeline.decode_into(raw, filter_mask, out, chunk_addr)
    }

    fn decode_prefix(
        &self,
        raw: Vec<u8>,
        filter_mask: u32,
        expected_len: usize,
        chunk_addr: u64,
        needed: usize,
    ) -> Result<Vec<u8>> {
        self.pipeline.decode_prefix(
            raw,
            filter_mask,
            expected_len,
            self.elem_size,
            chunk_addr,
            needed,
        )
    }
}

impl std::ops::Deref for Dataset {
    type Target = Node;
    fn deref(&self) -> &Node {
        &self.node
    }
}

impl Dataset {
    fn new(node: Node) -> Result<Self> {
        let sizes = node.file.sizes();
        let h = &node.header;
        let addr = h.address;
        let dtype = node.datatype_message()?;
        let space = match h.first(msg::DATASPACE) {
            Some(m) if !m.is_shared() => {
                Dataspace::parse(&mut m.cursor("dataspace message", sizes))?
            }
            Some(_) => return Err(Error::unsupported("dataspace", "shared dataspace message")),
            None => {
                return Err(Error::malformed(
                    "object header",
                    addr,
                    "dataset without dataspace message",
                ))
            }
        };
        let layout = match h.first(msg::LAYOUT) {
            Some(m) => Layout::parse(&mut m.cursor("layout message", sizes))?,
            None => {
                return Err(Error::malformed(
                    "object header",
                    addr,
                    "dataset without layout message",
                ))
            }
        };
        let fill = if let Some(m) = h.first(msg::FILL_VALUE) {
            FillValue::parse(&mut m.cursor("fill value message", sizes))?
        } else if let Some(m) = h.first(msg::FILL_VALUE_OLD) {
            FillValue::parse_old(&mut m.cursor("fill value message", sizes))?
        } else {
            FillValue::default()
        };
        let filters = match h.first(msg::FILTER_PIPELINE) {
            Some(m) => Some(crate::filter::FilterPipeline::parse(
                &mut m.cursor("filter pipeline message", sizes),
            )?),
            None => None,
        };
        Ok(Dataset {
            node,
            dtype,
            space,
            layout,
            fill,
            filters,
            chunks: OnceLock::new(),
        })
    }

    /// The element datatype.
    pub fn dtype(&self) -> &Datatype {
        &self.dtype
    }
    /// The dataspace.
    pub fn space(&self) -> &Dataspace {
        &self.space
    }
    /// Current dimensions.
    pub fn shape(&self) -> &[u64] {
        self.space.dims()
    }
    /// The storage layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
    /// The filter pipeline, if the dataset has one.
    pub fn filters(&self) -> Option<&crate::filter::FilterPipeline> {
        self.filters.as_ref()
    }
    /// The fill value.
    pub fn fill_value(&self) -> &FillValue {
        &self.fill
    }
    /// The common part.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Total size in bytes of the dataset's elements.
    pub fn byte_len(&self) -> Result<u64> {
        self.space
            .num_elements()
            .and_then(|n| n.checked_mul(self.dtype.size() as u64))
            .ok_or_else(|| Error::malformed("dataspace", self.address(), "dataset size overflows"))
    }

    /// One element of the fill value (zeros when not user-defined).
    pub fn fill_element(&self) -> Vec<u8> {
        let size = self.dtype.size();
        match &self.fill.value {
            Some(v) if v.len() == size => v.clone(),
            _ => vec![0; size],
        }
    }

    /// Whether the raw data lives in other files (an External Data Files message).
    pub(crate) fn has_external_storage(&self) -> bool {
        self.node.header.first(msg::EXTERNAL_FILES).is_some()
    }

    /// The External Data Files message, if the raw data lives in other files.
    pub fn external_files(&self) -> Result<Option<crate::read::external::ExternalFiles>> {
        match self.node.header.first(msg::EXTERNAL_FILES) {
            Some(m) => {
                let sizes = self.node.file.sizes();
                let mut c = m.cursor("external data files message", sizes);
                crate::read::external::ExternalFiles::parse(&mut c, self.node.file.source(), sizes)
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    /// Dataset bytes `start..start + out.len()` from the external files.
    fn read_external_into(
        &self,
        files: &crate::read::external::ExternalFiles,
        start: u64,
        out: &mut [u8],
    ) -> Result<()> {
        crate::read::external::read_into(files, &self.node.file.inner.external, start, out)
    }

    /// Read every element as raw bytes (file byte order), row-major.
    pub fn read_raw(&self) -> Result<Vec<u8>> {
        self.read_raw_inner()
            .map_err(|e| e.in_object(&self.node.path))
    }

    fn read_raw_inner(&self) -> Result<Vec<u8>> {
        let len = self.byte_len()?;
        let source = self.node.file.source();
        source.check_alloc("dataset", self.address(), len)?;
        if let Some(files) = self.external_files()? {
            let mut out = vec![0; len as usize];
            self.read_external_into(&files, 0, &mut out)?;
            return Ok(out);
        }
        match &self.layout {
            Layout::Compact { data } => {
                if (data.len() as u64) < len {
                    return Err(Error::malformed(
                        "layout message",
                        self.address(),
                        "compact data shorter than the dataset",
                    ));
                }
                Ok(data[..len as usize].to_vec())
            }
            Layout::Contiguous { address, size } => {
                if *address == UNDEF_ADDR {
                    return Ok(self
                        .fill_element()
                        .repeat(self.space.num_elements().unwrap_or(0) as usize));
                }
                if *size < len {
                    return Err(Error::malformed(
                        "layout message",
                        self.address(),
                        "contiguous storage smaller than the dataset",
                    ));
                }
                source.read_vec("contiguous data", *address, len)
            }
            Layout::Chunked { .. } => self.chunks()?.read_all(),
            Layout::Virtual {
                heap_address,
                heap_index,
            } => crate::read::virtual_dataset::read_all(self, *heap_address, *heap_index),
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

impl Dataset {
    /// Number of elements of a 1-D dataset (or of all elements, flattened).
    pub fn len(&self) -> u64 {
        self.space.num_elements().unwrap_or(0)
    }

    /// Whether the dataset has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Read the concatenation of element `ranges` (in flattened row-major order; sorted and
    /// non-overlapping ranges read best) as raw bytes in file byte order.
    pub fn read_ranges_raw(&self, ranges: &[std::ops::Range<u64>]) -> Result<Vec<u8>> {
        self.read_ranges_raw_inner(ranges)
            .map_err(|e| e.in_object(&self.node.path))
    }

    fn read_ranges_raw_inner(&self, ranges: &[std::ops::Range<u64>]) -> Result<Vec<u8>> {
        let n = self.len();
        let esize = self.dtype.size() as u64;
        let mut total = 0u64;
        for r in ranges {
            if r.start > r.end || r.end > n {
                return Err(Error::Usage(format!(
                    "range {}..{} outside 0..{n}",
                    r.start, r.end
                )));
            }
            total += (r.end - r.start) * esize;
        }
        let source = self.node.file.source();
        source.check_alloc("dataset selection", self.address(), total)?;
        let mut out = Vec::with_capacity(total as usize);
        if let Some(files) = self.external_files()? {
            for r in ranges {
                let at = out.len();
                out.resize(at + ((r.end - r.start) * esize) as usize, 0);
                self.read_external_into(&files, r.start * esize, &mut out[at..])?;
            }
            return Ok(out);
        }
        match &self.layout {
            Layout::Compact { data } => {
                for r in ranges {
                    let s = data
                        .get((r.start * esize) as usize..(r.end * esize) as usize)
                        .ok_or_else(|| {
                            Error::malformed(
                                "layout message",
                                self.address(),
                                "compact data too short",
                            )
                        })?;
                    out.extend_from_slice(s);
                }
            }
            Layout::Contiguous { address, .. } if *address == UNDEF_ADDR => {
                let fill = self.fill_element();
                for r in ranges {
                    for _ in r.start..r.end {
                        out.extend_from_slice(&fill);
                    }
                }
            }
            Layout::Contiguous { address, size } => {
                if *size < n * esize {
                    return Err(Error::malformed(
                        "layout message",
                        self.address(),
                        "contiguous storage smaller than the dataset",
                    ));
                }
                // Coalesce ranges whose gap is small: fewer, larger positioned reads.
                const GAP: u64 = 4096;
                let mut i = 0;
                while i < ranges.len() {
                    let start = ranges[i].start;
                    let mut end = ranges[i].end;
                    let mut j = i + 1;
                    while j < ranges.len()
                        && ranges[j].start >= end
                        && (ranges[j].start - end) * esize <= GAP
                    {
                        end = ranges[j].end;
                        j += 1;
                    }
                    let block = source.read(
                        "contiguous data",
                        address + start * esize,
                        (end - start) * esize,
                    )?;
                    for r in &ranges[i..j] {
                        out.extend_from_slice(
                            &block[((r.start - start) * esize) as usize
                                ..((r.end - start) * esize) as usize],
                        );
                    }
                    i = j;
                }
            }
            Layout::Chunked { .. } if self.space.dims().len() == 1 => {
                out.resize(total as usize, 0);
                self.chunks()?.read_ranges(ranges, &mut out)?;
            }
            Layout::Virtual {
                heap_address,
                heap_index,
            } => {
                out = crate::read::virtual_dataset::read_ranges(
                    self,
                    *heap_address,
                    *heap_index,
                    ranges,
                )?;
            }
            _ => {
                // N-D chunked and other layouts: read everything once, then cut.
                let all = self.read_raw_inner()?;
                for r in ranges {
                    out.extend_from_slice(
                        &all[(r.start * esize) as usize..(r.end * esize) as usize],
                    );
                }
            }
        }
        Ok(out)
    }

    /// Read the concatenation of element `ranges`, converted to `T`.
    pub fn read_ranges<T: crate::value::Numeric>(
        &self,
        ranges: &[std::ops::Range<u64>],
    ) -> Result<Vec<T>> {
        let n = self.ranges_count(ranges)?;
        if let Some(v) = self
            .read_ranges_direct::<T>(ranges, n)
            .map_err(|e| e.in_object(&self.node.path))?
        {
            return Ok(v);
        }
        let n = self.ranges_len(ranges)?;
        let chunked_1d =
            matches!(self.layout, Layout::Chunked { .. }) && self.space.dims().len() == 1;
        if !chunked_1d {
            let raw = self.read_ranges_raw(ranges)?;
            return crate::value::convert(&self.dtype, &raw)
                .map_err(|e| e.in_object(&self.node.path));
        }
        // Chunked: convert each piece straight out of the decoded chunks into the result.
        let esize = self.dtype.size().max(1);
        let mut out = vec![T::zeroed(); n];
        let dtype = &self.dtype;
        self.chunks()
            .and_then(|c| {
                c.read_ranges_with(ranges, &mut |at, bytes| {
                    let at = at as usize;
                    let dst = out
                        .get_mut(at..at + bytes.len() / esize)
                        .ok_or_else(|| Error::Usage("range copy out of range".into()))?;
                    crate::value::convert_into(dtype, bytes, dst)
                })
            })
            .map_err(|e| e.in_object(&self.node.path))?;
        Ok(out)
    }

    /// Number of elements in `ranges`, checked against the dataset (not the budget: direct
    /// reads check their allocation against what the file holds).
    pub(crate) fn ranges_count(&self, ranges: &[std::ops::Range<u64>]) -> Result<usize> {
        let n = self.len();
        let mut total = 0u64;
        for r in ranges {
            if r.start > r.end || r.end > n {
                return Err(Error::Usage(format!(
                    "{}: range {}..{} outside 0..{n}",
                    self.node.path, r.start, r.end
                )));
            }
            total += r.end - r.start;
        }
        usize::try_from(total).map_err(|_| Error::Usage("selection too large".into()))
    }

    /// Number of elements in `ranges`, checked against the dataset and the allocation budget.
    fn ranges_len(&self, ranges: &[std::ops::Range<u64>]) -> Result<usize> {
        let total = self.ranges_count(ranges)?;
        let bytes = (total as u64).saturating_mul(self.dtype.size() as u64);
        self.node
            .file
            .source()
            .check_alloc("dataset selection", self.address(), bytes)?;
        Ok(total)
    }

    /// Read every element, converted to `T`.
    ///
    /// When `T` has the size of the stored type, the data is read straight into the result
    /// and converted in place (one buffer, not two); chunked data is decoded in parallel.
    pub fn read<T: crate::value::Numeric>(&self) -> Result<Vec<T>> {
        if self.space.dims().len() == 1 {
            let n = self.ranges_count(&[0..self.len()])?;
            if let Some(v) = self
                .read_ranges_direct::<T>(&[0..self.len()], n)
                .map_err(|e| e.in_object(&self.node.path))?
            {
                return Ok(v);
            }
        }
        let esize = self.dtype.size();
        let chunked = matches!(self.layout, Layout::Chunked { .. });
        if !chunked || esize != std::mem::size_of::<T>() {
            let raw = self.read_raw()?;
            return crate::value::convert(&self.dtype, &raw)
                .map_err(|e| e.in_object(&self.node.path));
        }
        let n = usize::try_from(self.len())
            .map_err(|_| Error::Usage(format!("{}: too many elements", self.node.path)))?;
        self.node
            .file
            .source()
            .check_alloc("dataset", self.address(), self.byte_len()?)?;
        let mut out = vec![T::zeroed(); n];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut out);
        self.chunks()
            .and_then(|c| c.read_all_into(bytes))
            .map_err(|e| e.in_object(&self.node.path))?;
        let native = crate::value::numeric_source(&self.dtype)
            .is_some_and(|(p, o, bits)| p == T::PRIM && o == ByteOrder::NATIVE && bits.is_none());
        if !native {
            // Same width, other representation: convert block by block through a small buffer.
            let mut tmp = vec![0u8; 1 << 16];
            for block in out.chunks_mut((1 << 16) / esize.max(1)) {
                let src = &mut tmp[..block.len() * esize];
                src.copy_from_slice(bytemuck::cast_slice(block));
                crate::value::convert_into(&self.dtype, src, block)
                    .map_err(|e| e.in_object(&self.node.path))?;
            }
        }
        Ok(out)
    }
}

impl Dataset {
    /// The chunk engine of a chunked dataset (built once, sharing the file's chunk cache).
    pub fn chunks(&self) -> Result<Arc<crate::read::chunked::ChunkedReader>> {
        if let Some(r) = self.chunks.get() {
            return Ok(r.clone());
        }
        let decoder: Arc<dyn crate::read::chunked::ChunkDecoder> = match &self.filters {
            Some(p) if !p.filters.is_empty() => Arc::new(PipelineDecoder {
                pipeline: p.clone(),
                elem_size: self.dtype.size(),
            }),
            _ => Arc::new(crate::read::chunked::NoFilters),
        };
        let cache = Some(self.node.file.inner.chunk_cache.clone());
        let r = Arc::new(self.chunked_reader(decoder, cache)?);
        Ok(self.chunks.get_or_init(|| r).clone())
    }

    /// A reader for a chunked dataset, decoding chunks with `decoder` and caching them in
    /// `cache` (keyed by this dataset's object header address).
    pub fn chunked_reader(
        &self,
        decoder: Arc<dyn crate::read::chunked::ChunkDecoder>,
        cache: Option<Arc<crate::cache::ChunkCache>>,
    ) -> Result<crate::read::chunked::ChunkedReader> {
        let max_dims = match &self.space {
            Dataspace::Simple { max_dims, .. } => max_dims.clone(),
            _ => Vec::new(),
        };
        crate::read::chunked::ChunkedReader::new(crate::read::chunked::ChunkedConfig {
            source: self.node.file.source().clone(),
            sizes: self.node.file.sizes(),
            layout: self.layout.clone(),
            dims: self.space.dims().to_vec(),
            max_dims,
            element_size: self.dtype.size(),
            fill: self.fill_element(),
            decoder,
            cache,
            dataset_id: self.address(),
        })
        .map_err(|e| e.in_object(&self.node.path))
    }
}
