//! `h5sparse copy`: rewrite every object of a file with the project's writer (like
//! `h5repack`).
//!
//! Groups, datasets, committed datatypes, attributes, soft and external links are copied, and
//! so is the creation-order tracking of groups and attributes; a hard link that appears twice
//! is copied twice (datasets using a committed type carry their own copy of it). Datatypes
//! travel as their encoded message bodies (`DType::Raw`), so data bytes are copied as stored;
//! variable-length strings and sequences (also inside compounds and arrays) are re-stored in
//! the new file's global heap. What the writer cannot represent (references, virtual
//! datasets) fails with an error naming the object, and the writer's temporary file is
//! removed, so no partial output remains.

use crate::progress::Progress;
use h5format::read::dataspace::{Dataspace, UNLIMITED};
use h5format::read::datatype::{Datatype, RefKind};
use h5format::read::layout::Layout as InLayout;
use h5format::value::{self, Value};
use h5format::write::{
    AttrValue, DType, DatasetId, DatasetSpec, FileWriter, Format, Layout, Reference, MAX_COMPACT,
};
use h5format::{Dataset, File, Group, LinkTarget, Node, Object};

use crate::UserError;

/// Options of `copy`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CopyOptions {
    /// Deflate level for every dataset of more than one element.
    pub gzip: Option<u8>,
    /// Shuffle filter for every dataset of more than one element.
    pub shuffle: bool,
    /// Elements per chunk when re-chunking.
    pub chunk_elems: Option<u64>,
    /// Structure versions of OUT (`--libver`).
    pub libver: Format,
}

impl CopyOptions {
    /// Whether any option asks for re-chunking.
    fn rechunk(&self) -> bool {
        self.gzip.is_some() || self.shuffle || self.chunk_elems.is_some()
    }
}

/// Default elements per chunk when re-chunking without `--chunk-elems`.
const DEFAULT_CHUNK_ELEMS: u64 = 65_536;
/// Bytes read and appended at a time when streaming a dataset.
const BLOCK_BYTES: u64 = 8 << 20;

/// Run the command.
pub fn run(input: &str, output: &str, opts: &CopyOptions) -> Result<(), UserError> {
    if let Some(level) = opts.gzip {
        if level > 9 {
            return Err(UserError(format!("--gzip {level}: the level must be 0-9")));
        }
    }
    if opts.chunk_elems == Some(0) {
        return Err(UserError("--chunk-elems must be at least 1".into()));
    }
    let same = match (std::fs::canonicalize(input), std::fs::canonicalize(output)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(UserError(format!(
            "{input}: input and output are the same file"
        )));
    }
    let file = crate::open::open(input)?;
    let root = file
        .root()
        .map_err(|e| UserError(format!("{input}: {e}")))?;
    let mut w = FileWriter::create(output).map_err(|e| UserError(format!("{output}: {e}")))?;
    w.set_format(opts.libver)?;
    let mut c = Copier {
        file: &file,
        w: &mut w,
        opts,
        ancestors: Vec::new(),
        progress: Progress::new("copy", None, true),
    };
    c.group(&root, "/")?;
    // On error above, `w` is dropped and its temporary file removed.
    w.finish()
        .map_err(|e| UserError(format!("{output}: {e}")))?;
    Ok(())
}

struct Copier<'a> {
    file: &'a File,
    w: &'a mut FileWriter,
    opts: &'a CopyOptions,
    /// Object header addresses of the groups being copied (to refuse cycles).
    ancestors: Vec<u64>,
    /// Bytes of dataset values copied (shown on a terminal for long copies).
    progress: Progress,
}

/// An error about the object at `path`.
fn obj_err(path: &str, detail: impl std::fmt::Display) -> UserError {
    UserError(format!("{path}: {detail}"))
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

impl Copier<'_> {
    fn group(&mut self, g: &Group, path: &str) -> Result<(), UserError> {
        if self.ancestors.contains(&g.address()) {
            return Err(obj_err(
                path,
                "a hard link back to an enclosing group (a cycle) cannot be copied",
            ));
        }
        if self.ancestors.len() > 1000 {
            return Err(obj_err(path, "groups nested too deeply"));
        }
        self.ancestors.push(g.address());
        self.w.create_group(path).map_err(|e| obj_err(path, e))?;
        let links = g.links().map_err(|e| obj_err(path, e))?;
        if g.header().attr_creation_order_tracked
            || links.iter().any(|l| l.creation_order.is_some())
        {
            self.w
                .set_track_order(path, true)
                .map_err(|e| obj_err(path, e))?;
        }
        self.attributes(g.node(), path)?;
        for link in links.iter() {
            let child = join(path, &link.name);
            match &link.target {
                LinkTarget::Hard(addr) => {
                    let obj = self
                        .file
                        .object_at(*addr, child.clone())
                        .map_err(|e| obj_err(&child, e))?;
                    match obj {
                        Object::Group(sub) => self.group(&sub, &child)?,
                        Object::Dataset(ds) => self.dataset(&ds, &child)?,
                        Object::Datatype(t) => {
                            let raw = t.node().datatype_raw().map_err(|e| obj_err(&child, e))?;
                            self.w
                                .commit_datatype(&child, DType::Raw(raw))
                                .map_err(|e| obj_err(&child, e))?;
                            if t.node().header().attr_creation_order_tracked {
                                self.w
                                    .set_track_order(&child, true)
                                    .map_err(|e| obj_err(&child, e))?;
                            }
                            self.attributes(t.node(), &child)?;
                        }
                    }
                }
                LinkTarget::Soft(target) => self
                    .w
                    .create_soft_link(&child, target)
                    .map_err(|e| obj_err(&child, e))?,
                LinkTarget::External { file, path: p } => self
                    .w
                    .create_external_link(&child, file, p)
                    .map_err(|e| obj_err(&child, e))?,
                LinkTarget::UserDefined(t) => {
                    return Err(obj_err(
                        &child,
                        format!("user-defined link (type {t}) cannot be written"),
                    ))
                }
            }
        }
        self.ancestors.pop();
        Ok(())
    }

    fn attributes(&mut self, node: &Node, path: &str) -> Result<(), UserError> {
        let attrs = node.attributes().map_err(|e| obj_err(path, e))?;
        for a in attrs {
            let what = || format!("{path}: attribute {:?}", a.name);
            let shape = match &a.space {
                Dataspace::Scalar => vec![],
                Dataspace::Simple { dims, .. } => dims.clone(),
                Dataspace::Null => {
                    if let Kind::Refuse(why) = classify(&a.dtype) {
                        return Err(UserError(format!("{}: {why}", what())));
                    }
                    self.w
                        .set_attr(
                            path,
                            &a.name,
                            AttrValue::Empty(DType::Raw(a.dtype_raw.clone())),
                        )
                        .map_err(|e| UserError(format!("{}: {e}", what())))?;
                    continue;
                }
            };
            let count = shape.iter().try_fold(1u64, |p, &d| p.checked_mul(d));
            let count = count
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| UserError(format!("{}: too many elements", what())))?;
            let value = match classify(&a.dtype) {
                Kind::Plain => {
                    // The stored value may carry message padding: keep the elements only.
                    let len = count
                        .checked_mul(a.dtype.size())
                        .filter(|&l| l <= a.data.len())
                        .ok_or_else(|| {
                            UserError(format!("{}: value shorter than its shape", what()))
                        })?;
                    AttrValue::raw(a.dtype_raw.clone(), shape, a.data[..len].to_vec())
                }
                Kind::Refs(region) => {
                    let refs = self
                        .references(&a.dtype, &a.data, count, region)
                        .map_err(|e| UserError(format!("{}: {e}", what())))?;
                    AttrValue::References {
                        region,
                        shape,
                        refs,
                    }
                }
                Kind::Vlen => {
                    let len = count
                        .checked_mul(a.dtype.size())
                        .filter(|&l| l <= a.data.len())
                        .ok_or_else(|| {
                            UserError(format!("{}: value shorter than its shape", what()))
                        })?;
                    let mut data = a.data[..len].to_vec();
                    self.restore_vlen(&a.dtype, &mut data, count)
                        .map_err(|e| UserError(format!("{}: {e}", what())))?;
                    AttrValue::raw(a.dtype_raw.clone(), shape, data)
                }
                Kind::VarString => {
                    let strings = self
                        .strings(&a.dtype, &a.data, count)
                        .map_err(|e| UserError(format!("{}: {e}", what())))?;
                    match shape.len() {
                        0 => AttrValue::String(strings.into_iter().next().unwrap_or_default()),
                        1 => AttrValue::Strings(strings),
                        _ => AttrValue::StringArray { shape, strings },
                    }
                }
                Kind::Refuse(why) => return Err(UserError(format!("{}: {why}", what()))),
            };
            self.w
                .set_attr(path, &a.name, value)
                .map_err(|e| UserError(format!("{}: {e}", what())))?;
        }
        Ok(())
    }

    /// Decode `count` variable-length strings.
    fn strings(
        &self,
        dtype: &Datatype,
        data: &[u8],
        count: usize,
    ) -> h5format::Result<Vec<String>> {
        let values = value::decode(dtype, data, count, self.file.sizes(), self.file)?;
        Ok(values
            .into_iter()
            .map(|v| match v {
                Value::Str(s) => s,
                _ => String::new(),
            })
            .collect())
    }

    fn dataset(&mut self, ds: &Dataset, path: &str) -> Result<(), UserError> {
        self.progress.set_message(path);
        let before = self.progress.position();
        self.dataset_data(ds, path)?;
        // Streamed datasets counted their blocks; count the rest of this one now.
        let streamed = self.progress.position() - before;
        self.progress
            .inc(ds.byte_len().unwrap_or(0).saturating_sub(streamed));
        self.attributes(ds.node(), path)
    }

    fn dataset_data(&mut self, ds: &Dataset, path: &str) -> Result<(), UserError> {
        let (shape, max_dims) = match ds.space() {
            Dataspace::Scalar => (vec![], vec![]),
            Dataspace::Simple { dims, max_dims } => (dims.clone(), max_dims.clone()),
            Dataspace::Null => {
                if let Kind::Refuse(why) = classify(ds.dtype()) {
                    return Err(obj_err(path, why));
                }
                let raw = ds.node().datatype_raw().map_err(|e| obj_err(path, e))?;
                self.create(path, DatasetSpec::null(DType::Raw(raw)))?;
                return Ok(());
            }
        };
        let kind = classify(ds.dtype());
        let dtype = match &kind {
            Kind::Plain | Kind::Vlen => {
                DType::Raw(ds.node().datatype_raw().map_err(|e| obj_err(path, e))?)
            }
            Kind::VarString => DType::VarString,
            Kind::Refs(region) => {
                // References are resolved by the writer: contiguous, unfiltered.
                let region = *region;
                let raw = ds.read_raw().map_err(|e| obj_err(path, e))?;
                let count =
                    usize::try_from(ds.len()).map_err(|_| obj_err(path, "too many elements"))?;
                let refs = self
                    .references(ds.dtype(), &raw, count, region)
                    .map_err(|e| obj_err(path, e))?;
                let t = if region {
                    DType::RegionRef
                } else {
                    DType::ObjectRef
                };
                let id = self.create(path, DatasetSpec::new(t, shape))?;
                return self
                    .w
                    .write_references(id, refs)
                    .map_err(|e| obj_err(path, e));
            }
            Kind::Refuse(why) => return Err(obj_err(path, why)),
        };
        let esize = ds.dtype().size() as u64;
        let n = ds.len();
        let mut spec = DatasetSpec::new(dtype, shape.clone());
        if matches!(kind, Kind::Plain) {
            if let Some(f) = &ds.fill_value().value {
                if f.len() as u64 == esize {
                    spec = spec.fill(f.clone());
                }
            }
        }
        let max: Vec<Option<u64>> = max_dims
            .iter()
            .map(|&m| if m == UNLIMITED { None } else { Some(m) })
            .collect();
        if self.opts.rechunk() && n > 1 {
            let target = self.opts.chunk_elems.unwrap_or(DEFAULT_CHUNK_ELEMS);
            spec = spec.chunked(chunk_shape(&shape, target));
            if max.len() == shape.len() {
                spec = spec.max_shape(max);
            }
            if self.opts.shuffle {
                spec = spec.shuffle();
            }
            if let Some(level) = self.opts.gzip {
                spec = spec.deflate(level);
            }
        } else {
            match ds.layout() {
                InLayout::Compact { .. } if n * esize <= MAX_COMPACT as u64 => {
                    spec = spec.compact();
                }
                InLayout::Chunked { chunk_dims, .. } if !shape.is_empty() => {
                    spec = spec.chunked(chunk_dims.clone());
                    if max.len() == shape.len() {
                        spec = spec.max_shape(max);
                    }
                    for f in ds.filters().map(|p| p.filters.as_slice()).unwrap_or(&[]) {
                        match f.id {
                            1 => {
                                let level = f.client_data.first().copied().unwrap_or(6).min(9);
                                spec = spec.deflate(level as u8);
                            }
                            2 => spec = spec.shuffle(),
                            3 => spec = spec.fletcher32(),
                            other if h5format::write::plugins::writable(other) => {
                                spec = spec.filter(f.clone());
                            }
                            other => eprintln!(
                                "warning: {path}: filter {} ({other}) cannot be written; \
                                 the copy stores the data without it",
                                f.short_name()
                            ),
                        }
                    }
                }
                InLayout::Virtual { .. } => eprintln!(
                    "warning: {path}: a virtual dataset is copied as a regular dataset \
                     holding its values (the mappings are not written)"
                ),
                _ => {}
            }
        }
        let chunked = matches!(spec.layout, Layout::Chunked(_));
        if matches!(kind, Kind::Vlen) {
            let mut raw = ds.read_raw().map_err(|e| obj_err(path, e))?;
            let count = usize::try_from(n).map_err(|_| obj_err(path, "too many elements"))?;
            self.restore_vlen(ds.dtype(), &mut raw, count)
                .map_err(|e| obj_err(path, e))?;
            let id = self.create(path, spec)?;
            if n > 0 {
                self.w.write_all(id, &raw).map_err(|e| obj_err(path, e))?;
            }
            return Ok(());
        }
        if matches!(kind, Kind::VarString) {
            let raw = ds.read_raw().map_err(|e| obj_err(path, e))?;
            let count = usize::try_from(n).map_err(|_| obj_err(path, "too many elements"))?;
            let strings = self
                .strings(ds.dtype(), &raw, count)
                .map_err(|e| obj_err(path, e))?;
            drop(raw);
            let id = self.create(path, spec)?;
            return self
                .w
                .write_strings(id, &strings)
                .map_err(|e| obj_err(path, e));
        }
        if chunked && n > 0 {
            return self.stream_chunked(ds, path, spec, &shape);
        }
        let id = self.create(path, spec)?;
        if n > 0 {
            let raw = ds.read_raw().map_err(|e| obj_err(path, e))?;
            self.w.write_all(id, &raw).map_err(|e| obj_err(path, e))?;
        }
        Ok(())
    }

    fn create(&mut self, path: &str, spec: DatasetSpec) -> Result<DatasetId, UserError> {
        let id = self
            .w
            .create_dataset(path, spec)
            .map_err(|e| obj_err(path, e))?;
        if let Ok(Object::Dataset(ds)) = self.file.object(path) {
            if ds.header().attr_creation_order_tracked {
                self.w
                    .set_track_order(path, true)
                    .map_err(|e| obj_err(path, e))?;
            }
        }
        Ok(id)
    }

    /// Decode `count` references (object or region) of the input file into paths.
    fn references(
        &self,
        t: &Datatype,
        data: &[u8],
        count: usize,
        region: bool,
    ) -> h5format::Result<Vec<Reference>> {
        let size = t.size();
        let off = usize::from(self.file.sizes().offset);
        let bad = |d: &str| h5format::Error::Usage(format!("reference: {d}"));
        let addr_at = |b: &[u8], n: usize| -> Option<u64> {
            let mut a = [0u8; 8];
            a.get_mut(..n)?.copy_from_slice(b.get(..n)?);
            Some(u64::from_le_bytes(a))
        };
        let undef = if off >= 8 {
            u64::MAX
        } else {
            (1u64 << (8 * off)) - 1
        };
        let mut out = Vec::with_capacity(count);
        for e in 0..count {
            let el = data
                .get(e * size..(e + 1) * size)
                .ok_or_else(|| bad("value shorter than its shape"))?;
            let r = if region {
                let coll = addr_at(el, off).ok_or_else(|| bad("short region reference"))?;
                let idx = el
                    .get(off..off + 4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .ok_or_else(|| bad("short region reference"))?;
                if coll == 0 || coll == undef {
                    Reference::Null
                } else {
                    let heap = self.file.global_heap(coll)?;
                    let obj = heap.object(idx)?;
                    let target = addr_at(obj, off).ok_or_else(|| bad("short region object"))?;
                    match self.file.path_of(target) {
                        Some(path) => Reference::Region {
                            path,
                            selection: obj.get(off..).unwrap_or_default().to_vec(),
                        },
                        None => Reference::Null,
                    }
                }
            } else {
                let a = addr_at(el, off.min(size)).ok_or_else(|| bad("short object reference"))?;
                if a == 0 || a == undef {
                    Reference::Null
                } else {
                    match self.file.path_of(a) {
                        Some(path) => Reference::Object(path),
                        None => Reference::Null,
                    }
                }
            };
            out.push(r);
        }
        Ok(out)
    }

    /// Replace the variable-length references in `data` (`count` elements of `t`, read
    /// from the input file) by references to copies stored in the output file.
    fn restore_vlen(
        &mut self,
        t: &Datatype,
        data: &mut [u8],
        count: usize,
    ) -> h5format::Result<()> {
        let mut slots = Vec::new();
        vlen_slots(t, 0, &mut slots);
        if slots.is_empty() {
            return Ok(());
        }
        let esize = t.size();
        let bad = |d: &str| h5format::Error::Usage(format!("variable-length data: {d}"));
        let mut items = Vec::new();
        let mut places = Vec::new();
        for e in 0..count {
            for (off, base) in &slots {
                let at = e
                    .checked_mul(esize)
                    .and_then(|p| p.checked_add(*off))
                    .ok_or_else(|| bad("offset overflows"))?;
                let r = data
                    .get(at..at + 16)
                    .ok_or_else(|| bad("element out of range"))?;
                let len = u32::from_le_bytes([r[0], r[1], r[2], r[3]]);
                let mut a = [0u8; 8];
                a.copy_from_slice(&r[4..12]);
                let addr = u64::from_le_bytes(a);
                let idx = u32::from_le_bytes([r[12], r[13], r[14], r[15]]);
                let mut bytes = if addr == 0 || addr == u64::MAX {
                    Vec::new()
                } else {
                    self.file.global_heap(addr)?.object(idx)?.to_vec()
                };
                if has_vlen(base) {
                    self.restore_vlen(base, &mut bytes, len as usize)?;
                }
                items.push((len, bytes));
                places.push(at);
            }
        }
        let refs = self.w.write_vlen_objects(&items)?;
        for (at, r) in places.into_iter().zip(refs) {
            if let Some(dst) = data.get_mut(at..at + 16) {
                dst.copy_from_slice(&r);
            }
        }
        Ok(())
    }

    /// Write a chunked dataset by appending blocks of rows, so that finished chunks leave
    /// memory as they fill.
    fn stream_chunked(
        &mut self,
        ds: &Dataset,
        path: &str,
        mut spec: DatasetSpec,
        shape: &[u64],
    ) -> Result<(), UserError> {
        let rows = shape.first().copied().unwrap_or(0);
        let row_elems: u64 = shape.get(1..).unwrap_or_default().iter().product();
        let esize = ds.dtype().size() as u64;
        let row_bytes = row_elems.saturating_mul(esize).max(1);
        // Grow dimension 0 from zero up to its final size (within the original maximum).
        let max = spec
            .max_shape
            .clone()
            .unwrap_or_else(|| shape.iter().map(|&d| Some(d)).collect());
        spec = spec.max_shape(max);
        if let Some(first) = spec.shape.first_mut() {
            *first = 0;
        }
        let chunk_rows = match &spec.layout {
            Layout::Chunked(c) => c.first().copied().unwrap_or(1).max(1),
            _ => 1,
        };
        let block_rows = ((BLOCK_BYTES / row_bytes).max(1)).div_ceil(chunk_rows) * chunk_rows;
        let id = self.create(path, spec)?;
        // 1-D data and contiguous/compact storage read by ranges efficiently; N-D chunked
        // storage is read once.
        let by_ranges = shape.len() == 1 || !matches!(ds.layout(), InLayout::Chunked { .. });
        if by_ranges {
            let mut r = 0;
            while r < rows {
                let end = rows.min(r.saturating_add(block_rows));
                let range = r * row_elems..end * row_elems;
                let bytes = ds.read_ranges_raw(&[range]).map_err(|e| obj_err(path, e))?;
                self.w.append(id, &bytes).map_err(|e| obj_err(path, e))?;
                self.progress.inc(bytes.len() as u64);
                r = end;
            }
        } else {
            let raw = ds.read_raw().map_err(|e| obj_err(path, e))?;
            let step = usize::try_from(block_rows.saturating_mul(row_bytes)).unwrap_or(usize::MAX);
            for block in raw.chunks(step.max(1)) {
                self.w.append(id, block).map_err(|e| obj_err(path, e))?;
                self.progress.inc(block.len() as u64);
            }
        }
        Ok(())
    }
}

/// How a datatype is copied.
enum Kind {
    /// Bytes copied as stored, with the raw datatype message.
    Plain,
    /// A variable-length string: decoded and re-encoded.
    VarString,
    /// Object (false) or region (true) references, rewritten by path.
    Refs(bool),
    /// Variable-length parts (sequences, strings inside compounds/arrays): stored bytes
    /// copied with their heap objects re-stored in the new file.
    Vlen,
    /// Not writable: the reason.
    Refuse(String),
}

fn classify(t: &Datatype) -> Kind {
    match t {
        Datatype::VarLen {
            string: Some(_), ..
        } => Kind::VarString,
        Datatype::Reference { kind, .. } => Kind::Refs(*kind == RefKind::Region),
        _ => match refusal(t) {
            Some(why) => Kind::Refuse(why),
            None if has_vlen(t) => Kind::Vlen,
            None => Kind::Plain,
        },
    }
}

/// Whether values of `t` hold variable-length parts.
fn has_vlen(t: &Datatype) -> bool {
    let mut v = Vec::new();
    vlen_slots(t, 0, &mut v);
    !v.is_empty()
}

/// Byte offsets in one element of `t` (starting at `at`) of its variable-length parts, with
/// their base types.
fn vlen_slots<'t>(t: &'t Datatype, at: usize, out: &mut Vec<(usize, &'t Datatype)>) {
    match t {
        Datatype::VarLen { base, .. } => out.push((at, base)),
        Datatype::Compound { members, .. } => {
            for m in members {
                vlen_slots(&m.dtype, at + m.offset as usize, out);
            }
        }
        Datatype::Array { dims, base, .. } => {
            let n: u64 = dims.iter().product();
            let size = base.size();
            for i in 0..n.min(1 << 20) as usize {
                vlen_slots(base, at + i * size, out);
            }
        }
        _ => {}
    }
}

/// Why a type whose bytes point into the old file cannot be copied as stored.
fn refusal(t: &Datatype) -> Option<String> {
    match t {
        Datatype::VarLen { size, base, .. } => {
            if *size != 16 {
                Some(format!(
                    "variable-length values of {size}-byte references (the input's size of \
                     offsets is not 8) cannot be written"
                ))
            } else {
                refusal(base)
            }
        }
        Datatype::Reference { .. } => {
            Some("references inside compound or array types cannot be written yet".into())
        }
        Datatype::Compound { members, .. } => members.iter().find_map(|m| refusal(&m.dtype)),
        Datatype::Array { base, .. } | Datatype::Enum { base, .. } => refusal(base),
        Datatype::Integer {
            size,
            bit_offset,
            precision,
            ..
        } if u32::from(*precision) != size * 8 || *bit_offset != 0 => Some(format!(
            "integers of {precision} significant bits at bit {bit_offset} in {size} bytes \
             (an n-bit datatype) cannot be written: libhdf5 accepts them only through the \
             n-bit filter, which we read but do not write"
        )),
        _ => None,
    }
}

/// Chunk dimensions of about `target` elements: whole trailing dimensions first.
fn chunk_shape(shape: &[u64], target: u64) -> Vec<u64> {
    let mut left = target.max(1);
    let mut chunk = vec![1u64; shape.len()];
    for (c, &d) in chunk.iter_mut().zip(shape).rev() {
        let take = d.max(1).min(left).max(1);
        *c = take;
        left = (left / take).max(1);
    }
    chunk
}

#[cfg(test)]
mod tests {
    use super::chunk_shape;

    #[test]
    fn chunk_shapes() {
        assert_eq!(chunk_shape(&[10_000], 1000), vec![1000]);
        assert_eq!(chunk_shape(&[50], 1000), vec![50]);
        assert_eq!(chunk_shape(&[100, 30], 1000), vec![33, 30]);
        assert_eq!(chunk_shape(&[5, 3000], 1000), vec![1, 1000]);
        assert_eq!(chunk_shape(&[0, 7], 1000), vec![1, 7]);
    }
}
