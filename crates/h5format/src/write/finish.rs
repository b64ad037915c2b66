//! Finishing a file: every object's metadata (object headers, symbol tables or link
//! messages, attributes in the header or in dense storage, committed datatypes) written depth
//! first from the root, references resolved once every address is known, then the superblock.

use std::collections::HashMap;

use crate::error::Result;

use super::dataset::{self, DatasetState};
use super::encode::{self, usage};
use super::object_header::{self, Message};
use super::sink::{Backend, Out, Sink};
use super::{dense, dense_links, global_heap, group, link, superblock};
use super::{split, AttrValue, Child, FileWriter, GroupNode, Reference, TypeNode};

/// Largest attribute message kept in the object header; larger ones (or objects with one)
/// go to dense attribute storage.
const MAX_COMPACT_ATTR: usize = 65_000;

impl FileWriter {
    pub(super) fn finish_backend(mut self) -> Result<Backend> {
        // A new file: 8-byte addresses and lengths, whatever an editor on this thread uses.
        let _widths = encode::Widths::EIGHT.scope();
        let (root, stab, _) = self.write_objects(true)?;
        let sb = match self.format {
            super::Format::Earliest => superblock::encode(self.out.eof, root, stab),
            super::Format::Latest => super::superblock_v3::encode(self.out.eof, root),
        };
        self.out.sink.write_at(0, &sb)?;
        self.out.sink.set_len(self.out.eof)?;
        Ok(self.out.sink)
    }

    /// Write every object and resolve references; returns the root group's header address,
    /// its symbol table (B-tree, heap) addresses, and the header address of every path.
    /// Without `root`, the root group's own header and links are not written (an editor
    /// links its members into an existing group): its address is then undefined.
    pub(super) fn write_objects(&mut self, with_root: bool) -> Result<Written> {
        self.check()?;
        // Attribute strings of all objects share global heap collections.
        let mut strings: Vec<&[u8]> = Vec::new();
        for (_, v) in self
            .groups
            .iter()
            .flat_map(|g| &g.attrs)
            .chain(self.datasets.iter().flat_map(|d| &d.attrs))
            .chain(self.types.iter().flat_map(|t| &t.attrs))
        {
            strings.extend(v.vlen_strings());
        }
        let refs = global_heap::write_strings(&mut self.out, &strings)?;
        let mut refs = refs.into_iter();
        let mut encode_attrs = |attrs: &[(String, AttrValue)]| -> Result<Vec<EncAttr>> {
            attrs
                .iter()
                .map(|(name, v)| {
                    let n = v.vlen_strings().len();
                    let mine: Vec<[u8; 16]> = refs.by_ref().take(n).collect();
                    let body = v.message(name, &mine)?;
                    let refs = match v {
                        AttrValue::References { region, refs, .. } => {
                            let len = refs.len() * if *region { 12 } else { 8 };
                            Some((body.len().saturating_sub(len), refs.clone()))
                        }
                        _ => None,
                    };
                    Ok(EncAttr {
                        name: name.clone(),
                        body,
                        refs,
                    })
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
        let mut type_attrs = Vec::with_capacity(self.types.len());
        for t in &self.types {
            type_attrs.push(encode_attrs(&t.attrs)?);
        }
        let mut ctx = Finisher {
            out: &mut self.out,
            groups: &self.groups,
            datasets: &mut self.datasets,
            types: &self.types,
            group_attrs,
            dataset_attrs,
            type_attrs,
            addrs: HashMap::new(),
            patches: Vec::new(),
            latest: self.format == super::Format::Latest,
            members_only: !with_root,
        };
        let (root, stab) = ctx.write_group(0, "/", 0)?;
        if root != encode::UNDEF {
            ctx.addrs.insert("/".to_string(), root);
        }
        let (addrs, patches) = (ctx.addrs, ctx.patches);
        resolve_references(&mut self.out, &addrs, patches)?;
        Ok((root, stab, addrs))
    }
}

/// What [`FileWriter::write_objects`] wrote: the root group's header address, its symbol
/// table (B-tree, heap) addresses, and the header address of every path.
pub(super) type Written = (u64, Option<(u64, u64)>, HashMap<String, u64>);

struct Finisher<'a> {
    out: &'a mut Out,
    groups: &'a [GroupNode],
    datasets: &'a mut [DatasetState],
    types: &'a [TypeNode],
    group_attrs: Vec<Vec<EncAttr>>,
    dataset_attrs: Vec<Vec<EncAttr>>,
    type_attrs: Vec<Vec<EncAttr>>,
    /// Object header address of every path written.
    addrs: HashMap<String, u64>,
    /// Bytes holding references, rewritten once every address is known.
    patches: Vec<Patch>,
    /// [`Format::Latest`](super::Format::Latest): version 2 headers and link messages for
    /// every object.
    latest: bool,
    /// Write the root group's members but not the root group itself.
    members_only: bool,
}

/// An encoded attribute message.
struct EncAttr {
    name: String,
    body: Vec<u8>,
    /// For references: where their values start in `body`, and the values.
    refs: Option<(usize, Vec<Reference>)>,
}

/// Bytes already written at `addr` whose reference values (`spots`: offset, value) are
/// filled in at the end; `checksum`: the bytes end with a lookup3 checksum of the rest.
struct Patch {
    addr: u64,
    bytes: Vec<u8>,
    checksum: bool,
    spots: Vec<(usize, Reference)>,
}

/// References inside the attribute messages of one header: (message index among the
/// attribute messages, offset in its body, values).
type RefSpots = Vec<(usize, usize, Vec<Reference>)>;

/// Resolve every reference and rewrite the patched bytes.
fn resolve_references(
    out: &mut Out,
    addrs: &HashMap<String, u64>,
    patches: Vec<Patch>,
) -> Result<()> {
    let lookup = |path: &str| -> Result<u64> {
        let key = format!("/{}", split(path)?.join("/"));
        addrs
            .get(&key)
            .copied()
            .ok_or_else(|| usage(format!("reference to {path}: no object at that path")))
    };
    // Region references point to global heap objects: the dataset's address and selection.
    let mut regions: Vec<(u32, Vec<u8>)> = Vec::new();
    for p in &patches {
        for (_, r) in &p.spots {
            if let Reference::Region { path, selection } = r {
                let mut obj = lookup(path)?.to_le_bytes().to_vec();
                obj.extend_from_slice(selection);
                regions.push((obj.len() as u32, obj));
            }
        }
    }
    let stored: Vec<(u32, &[u8])> = regions.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    let mut region_refs = global_heap::write_objects(out, &stored)?.into_iter();
    for mut p in patches {
        for (at, r) in &p.spots {
            let value: Vec<u8> = match r {
                // The bytes are zero already.
                Reference::Null => continue,
                Reference::Object(path) => lookup(path)?.to_le_bytes().to_vec(),
                Reference::Region { .. } => region_refs
                    .next()
                    .map(|g| g[4..16].to_vec())
                    .ok_or_else(|| usage("region reference lost"))?,
            };
            let dst = p
                .bytes
                .get_mut(*at..*at + value.len())
                .ok_or_else(|| usage("reference outside its bytes"))?;
            dst.copy_from_slice(&value);
        }
        if p.checksum {
            let n = p.bytes.len().saturating_sub(4);
            let sum = crate::checksum::lookup3(p.bytes.get(..n).unwrap_or_default(), 0);
            if let Some(dst) = p.bytes.get_mut(n..) {
                dst.copy_from_slice(&sum.to_le_bytes());
            }
        }
        out.sink.write_at(p.addr, &p.bytes)?;
    }
    Ok(())
}

/// Take the encoded attributes of object `i`.
fn take(list: &mut [Vec<EncAttr>], i: usize) -> Result<Vec<EncAttr>> {
    Ok(std::mem::take(
        list.get_mut(i).ok_or_else(|| usage("bad object index"))?,
    ))
}

/// The attribute messages of an object and the header version it needs: attributes too
/// large for the header go to dense storage (written now), which, like creation order
/// tracking, needs a version 2 header with an attribute info message. Also returns where
/// reference values sit in the returned messages.
fn attribute_messages(
    out: &mut Out,
    attrs: Vec<EncAttr>,
    track: bool,
    force_v2: bool,
) -> Result<(Vec<Message>, object_header::Version, RefSpots)> {
    let dense = attrs.iter().any(|a| a.body.len() > MAX_COMPACT_ATTR);
    let flags = if track {
        object_header::ATTR_ORDER_TRACKED
    } else {
        0
    };
    if dense {
        if let Some(a) = attrs.iter().find(|a| a.refs.is_some()) {
            return Err(usage(format!(
                "attribute {:?} holds references: not supported next to an attribute over \
                 64 KiB (dense storage)",
                a.name
            )));
        }
        let pairs: Vec<(String, Vec<u8>)> = attrs.into_iter().map(|a| (a.name, a.body)).collect();
        let addrs = dense::write_attributes(out, &pairs)?;
        let info = dense::attribute_info(track, pairs.len(), Some(addrs));
        return Ok((
            vec![Message::new(object_header::ATTRIBUTE_INFO, 0, info)],
            object_header::Version::V2 { flags },
            Vec::new(),
        ));
    }
    let mut msgs = Vec::with_capacity(attrs.len() + 1);
    let v2 = track || force_v2;
    if v2 {
        msgs.push(Message::new(
            object_header::ATTRIBUTE_INFO,
            0,
            dense::attribute_info(track, attrs.len(), None),
        ));
    }
    let mut spots = Vec::new();
    for (i, a) in attrs.into_iter().enumerate() {
        if let Some((at, refs)) = a.refs {
            spots.push((msgs.len(), at, refs));
        }
        let mut m = Message::new(object_header::ATTRIBUTE, 0, a.body);
        m.order = u16::try_from(i).unwrap_or(u16::MAX);
        msgs.push(m);
    }
    let version = if v2 {
        object_header::Version::V2 { flags }
    } else {
        object_header::Version::V1
    };
    Ok((msgs, version, spots))
}

/// Reference values of a header written at `addr` whose last `n_attr` messages are the
/// attribute messages: a patch, if any.
fn header_patch(
    addr: u64,
    bytes: &[u8],
    offsets: &[usize],
    n_attr: usize,
    spots: RefSpots,
    version: object_header::Version,
) -> Option<Patch> {
    if spots.is_empty() {
        return None;
    }
    let first = offsets.len().saturating_sub(n_attr);
    let mut out = Vec::new();
    for (msg, at, refs) in spots {
        let Some(&body) = offsets.get(first + msg) else {
            continue;
        };
        let width = if refs.iter().any(|r| matches!(r, Reference::Region { .. })) {
            12
        } else {
            8
        };
        for (i, r) in refs.into_iter().enumerate() {
            out.push((body + at + i * width, r));
        }
    }
    Some(Patch {
        addr,
        bytes: bytes.to_vec(),
        checksum: version != object_header::Version::V1,
        spots: out,
    })
}

/// Join a group path and a member name.
fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

impl Finisher<'_> {
    /// Write a group's members, links and header; returns the header address and, for a
    /// symbol table group, its (B-tree, heap) addresses.
    fn write_group(
        &mut self,
        g: usize,
        path: &str,
        depth: usize,
    ) -> Result<(u64, Option<(u64, u64)>)> {
        if depth > 10_000 {
            return Err(usage("groups nested too deeply"));
        }
        let node = self.groups.get(g).ok_or_else(|| usage("bad group index"))?;
        let mut members = Vec::with_capacity(node.members.len());
        let mut links = Vec::new();
        let new_style = node.new_style() || self.latest;
        for (name, child) in &node.members {
            let order = node
                .track_order
                .then(|| node.orders.get(name).copied().unwrap_or(0));
            let (header, stab) = match child {
                Child::Soft(target) => {
                    if new_style {
                        links.push((
                            order,
                            name.clone(),
                            link::message(name, &link::LinkValue::Soft(target), order)?,
                        ));
                    }
                    members.push(group::Member {
                        name: name.clone(),
                        header: u64::MAX,
                        stab: None,
                        soft: Some(target.clone()),
                    });
                    continue;
                }
                Child::External { file, path } => {
                    let v = link::LinkValue::External { file, path };
                    links.push((order, name.clone(), link::message(name, &v, order)?));
                    continue;
                }
                Child::Group(c) => self.write_group(*c, &join(path, name), depth + 1)?,
                Child::Dataset(d) => (self.write_dataset(*d)?, None),
                Child::Datatype(t) => (self.write_type(*t)?, None),
            };
            self.addrs.entry(join(path, name)).or_insert(header);
            if new_style {
                links.push((
                    order,
                    name.clone(),
                    link::message(name, &link::LinkValue::Hard(header), order)?,
                ));
            }
            members.push(group::Member {
                name: name.clone(),
                header,
                stab,
                soft: None,
            });
        }
        if g == 0 && self.members_only {
            return Ok((encode::UNDEF, None));
        }
        let attrs = take(&mut self.group_attrs, g)?;
        let (attr_msgs, version, spots) =
            attribute_messages(self.out, attrs, node.track_order, new_style)?;
        let n_attr = attr_msgs.len();
        let (mut msgs, stab) = if new_style {
            links.sort_by_key(|(o, _, _)| *o);
            let links: Vec<(String, Vec<u8>)> = links.into_iter().map(|(_, n, b)| (n, b)).collect();
            let info = if dense_links::wanted(&links) {
                let addrs = dense_links::write(self.out, &links)?;
                dense_links::link_info(node.track_order, node.next_order, addrs)
            } else {
                link::link_info(node.track_order, node.next_order)
            };
            let mut msgs = vec![
                Message::new(object_header::LINK_INFO, 0, info),
                Message::new(object_header::GROUP_INFO, 0, link::group_info()),
            ];
            if !dense_links::wanted(&links) {
                msgs.extend(
                    links
                        .into_iter()
                        .map(|(_, b)| Message::new(object_header::LINK, 0, b)),
                );
            }
            (msgs, None)
        } else {
            let (tree, heap) = group::write(self.out, &members)?;
            (
                vec![Message::new(
                    object_header::SYMBOL_TABLE,
                    0,
                    group::stab_message(tree, heap),
                )],
                Some((tree, heap)),
            )
        };
        msgs.extend(attr_msgs);
        let (bytes, offsets) = object_header::encode_with_offsets(&msgs, version)?;
        let header = self.out.append(&bytes)?;
        self.patches.extend(header_patch(
            header, &bytes, &offsets, n_attr, spots, version,
        ));
        Ok((header, stab))
    }

    fn write_dataset(&mut self, d: usize) -> Result<u64> {
        let attrs = take(&mut self.dataset_attrs, d)?;
        let ds = self
            .datasets
            .get_mut(d)
            .ok_or_else(|| usage("bad dataset"))?;
        let path = ds.path.clone();
        let r = attribute_messages(self.out, attrs, ds.track_order, self.latest).and_then(
            |(msgs, version, spots)| {
                let n_attr = msgs.len();
                ds.finish(self.out, msgs, version)
                    .map(|(b, o)| (b, o, n_attr, spots, version))
            },
        );
        let (bytes, offsets, n_attr, spots, version) = r.map_err(|e| e.in_object(&path))?;
        let header = self.out.append(&bytes)?;
        self.patches.extend(header_patch(
            header, &bytes, &offsets, n_attr, spots, version,
        ));
        if let (Some(refs), dataset::Storage::Contiguous(addr)) = (ds.refs.take(), &ds.storage) {
            let width = ds.elem as usize;
            if *addr != encode::UNDEF && !refs.is_empty() {
                self.patches.push(Patch {
                    addr: *addr,
                    bytes: vec![0; refs.len() * width],
                    checksum: false,
                    spots: refs
                        .into_iter()
                        .enumerate()
                        .map(|(i, r)| (i * width, r))
                        .collect(),
                });
            }
        }
        Ok(header)
    }

    fn write_type(&mut self, t: usize) -> Result<u64> {
        let attrs = take(&mut self.type_attrs, t)?;
        let node = self.types.get(t).ok_or_else(|| usage("bad datatype"))?;
        let (attr_msgs, version, spots) =
            attribute_messages(self.out, attrs, node.track_order, self.latest)?;
        let n_attr = attr_msgs.len();
        let mut msgs = vec![Message::new(
            object_header::DATATYPE,
            object_header::CONSTANT,
            node.dtype.clone(),
        )];
        msgs.extend(attr_msgs);
        let (bytes, offsets) = object_header::encode_with_offsets(&msgs, version)?;
        let header = self.out.append(&bytes)?;
        self.patches.extend(header_patch(
            header, &bytes, &offsets, n_attr, spots, version,
        ));
        Ok(header)
    }
}
