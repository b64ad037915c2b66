//! Several changes of one group in one commit: [`Editor::change_group`].
//!
//! Links are removed, new objects linked in — a name may be both removed and added, which
//! replaces the object it names — and attributes of the group set or deleted, all in the
//! group's header: one commit, as every other edit (see the [module documentation](super)).
//! A reader sees the group entirely as before or entirely as after, e.g. a dataframe's
//! column and its `column-order` attribute, or the old and the new object under one name.

use super::super::attribute::AttrValue;
use super::super::global_heap;
use super::super::group::{self, Member};
use super::super::link::{self, LinkValue};
use super::super::sink::{Backend, Out};
use super::super::FileWriter;
use super::graft::{self, NewLink};
use super::header::RawMsg;
use super::messages::{self, Info};
use super::{attribute_index, compact_attributes, next_attribute_order, Editor, Txn};
use crate::error::{Error, Result};
use crate::read::link::LinkTarget;
use crate::read::object_header::msg;

/// What [`Editor::change_group`] changes in a group besides the links its builder adds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupChange {
    /// Links to remove (each must exist). A removed name may be added again by the
    /// builder: the link then points to the new object.
    pub unlink: Vec<String>,
    /// Attributes to delete (each must exist).
    pub delete_attrs: Vec<String>,
    /// Attributes to add or overwrite (after the deletions).
    pub set_attrs: Vec<(String, AttrValue)>,
}

impl Editor {
    /// Change the group `group` in one edit: write new objects with a [`FileWriter`]
    /// (paths relative to `group`, as in [`Editor::graft`]) and link its root group's
    /// members into `group`, remove the links `change.unlink`, delete and set the group's
    /// attributes — one commit of the group's header, so a reader sees all of it or none.
    pub fn change_group(
        &mut self,
        group: &str,
        change: GroupChange,
        build: impl FnOnce(&mut FileWriter) -> Result<()>,
    ) -> Result<()> {
        self.run(group, || {
            let mut txn = self.begin()?;
            let adds = build_objects(&mut txn, build)?;
            let g = txn.reader.group(group)?;
            let hdr = txn.header(g.address())?;
            let mut msgs = hdr.msgs.clone();
            relink(&mut txn, group, &mut msgs, adds, &change.unlink)?;
            if !change.delete_attrs.is_empty() || !change.set_attrs.is_empty() {
                compact_attributes(&txn, group, &mut msgs)?;
            }
            for name in &change.delete_attrs {
                let i = attribute_index(&msgs, name)?
                    .ok_or_else(|| Error::NotFound(format!("{group}: attribute {name:?}")))?;
                msgs.remove(i);
            }
            for (name, value) in change.set_attrs {
                put_attr(&mut txn, &mut msgs, &name, value)?;
            }
            self.commit(txn, &hdr, &msgs)
        })
    }
}

/// Run `build` on a writer appending past the file's end; the links to what it wrote.
fn build_objects(
    txn: &mut Txn,
    build: impl FnOnce(&mut FileWriter) -> Result<()>,
) -> Result<Vec<NewLink>> {
    let out = std::mem::replace(&mut txn.out, Out::new(Backend::Mem(Vec::new()), 0));
    let mut w = FileWriter::with_backend(out.sink);
    w.out.eof = out.eof;
    w.out.space = out.space;
    build(&mut w)?;
    let empty = w
        .groups
        .first()
        .is_some_and(|r| r.members.is_empty() && r.attrs.is_empty());
    if empty {
        // Nothing to link: the writer's root group is not written at all.
        txn.out = w.out;
        return Ok(Vec::new());
    }
    let (adds, out) = graft::finish(w)?;
    txn.out = out;
    Ok(adds)
}

/// Add or overwrite the attribute `name` in `msgs` (as [`Editor::set_attr`] does).
fn put_attr(txn: &mut Txn, msgs: &mut Vec<RawMsg>, name: &str, value: AttrValue) -> Result<()> {
    if matches!(value, AttrValue::References { .. }) {
        return Err(Error::unsupported(
            "edit",
            "reference attributes (write them with FileWriter)",
        ));
    }
    value.validate()?;
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

/// Remove the links `unlink` from the group `parent` (header messages `msgs`) and add
/// `adds`: a new symbol table appended for a symbol-table group, link messages changed for
/// a group of link messages (dense link storage becomes link messages).
fn relink(
    txn: &mut Txn,
    parent: &str,
    msgs: &mut Vec<RawMsg>,
    adds: Vec<NewLink>,
    unlink: &[String],
) -> Result<()> {
    if adds.is_empty() && unlink.is_empty() {
        return Ok(());
    }
    let group = txn.reader.group(parent)?;
    let existing = group.links()?;
    for name in unlink {
        if !existing.iter().any(|l| &l.name == name) {
            return Err(Error::NotFound(format!("{parent}: no link named {name:?}")));
        }
        if unlink.iter().filter(|n| *n == name).count() > 1 {
            return Err(Error::Usage(format!("{parent}: {name:?} unlinked twice")));
        }
    }
    let removed = |name: &str| unlink.iter().any(|n| n == name);
    for a in &adds {
        if existing.iter().any(|l| l.name == a.name()) && !removed(a.name()) {
            return Err(Error::Usage(format!(
                "{parent}: a link named {:?} exists already",
                a.name()
            )));
        }
    }
    if let Some(i) = msgs.iter().position(|m| m.kind == msg::SYMBOL_TABLE) {
        let sb = txn.reader.superblock();
        if (sb.group_leaf_k, sb.group_internal_k) != (group::LEAF_K, group::INTERNAL_K) {
            return Err(Error::unsupported(
                "edit",
                format!(
                    "symbol-table groups with B-tree K {}/{} (the editor writes {}/{})",
                    sb.group_leaf_k,
                    sb.group_internal_k,
                    group::LEAF_K,
                    group::INTERNAL_K
                ),
            ));
        }
        let mut members = Vec::with_capacity(existing.len() + adds.len());
        for l in existing.iter().filter(|l| !removed(&l.name)) {
            let (header, soft) = match &l.target {
                LinkTarget::Hard(a) => (*a, None),
                LinkTarget::Soft(t) => (u64::MAX, Some(t.clone())),
                _ => {
                    return Err(Error::unsupported(
                        "edit",
                        "a symbol-table group holding an external or user-defined link",
                    ))
                }
            };
            members.push(Member {
                name: l.name.clone(),
                header,
                stab: None,
                soft,
            });
        }
        for a in adds {
            let (name, header, soft) = match a {
                NewLink::Hard(name, header) => (name, header, None),
                NewLink::Soft(name, target) => (name, u64::MAX, Some(target)),
                NewLink::External(..) => {
                    return Err(Error::unsupported(
                        "edit",
                        "external links in a symbol-table group",
                    ))
                }
            };
            members.push(Member {
                name,
                header,
                stab: None,
                soft,
            });
        }
        // libhdf5 orders symbol table entries by strcmp of the names: byte order.
        members.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        let (tree, heap) = group::write(&mut txn.out, &members)?;
        msgs[i].body = group::stab_message(tree, heap);
        return Ok(());
    }
    let Some(li) = msgs.iter().position(|m| m.kind == msg::LINK_INFO) else {
        return Err(Error::unsupported(
            "edit",
            "a group with neither a symbol table nor a link info message",
        ));
    };
    let info = Info::link(&msgs[li])?;
    if info.dense {
        info.make_compact(&mut msgs[li])?;
        let tracked = info.flags & 1 != 0;
        for l in existing.iter() {
            let value = match &l.target {
                LinkTarget::Hard(a) => LinkValue::Hard(*a),
                LinkTarget::Soft(t) => LinkValue::Soft(t),
                LinkTarget::External { file, path } => LinkValue::External { file, path },
                LinkTarget::UserDefined(t) => {
                    return Err(Error::unsupported(
                        "edit",
                        format!("a dense group holding a user-defined link (type {t})"),
                    ))
                }
            };
            let order = tracked.then(|| l.creation_order.unwrap_or(0));
            msgs.push(RawMsg::new(
                msg::LINK,
                link::message(&l.name, &value, order)?,
            ));
        }
    }
    let mut kept = Vec::with_capacity(msgs.len());
    for m in msgs.drain(..) {
        if m.kind == msg::LINK && removed(&messages::link_name(&m)?) {
            continue;
        }
        kept.push(m);
    }
    *msgs = kept;
    let mut next = info.next_order;
    for a in &adds {
        let value = match a {
            NewLink::Hard(_, addr) => LinkValue::Hard(*addr),
            NewLink::Soft(_, t) => LinkValue::Soft(t),
            NewLink::External(_, file, path) => LinkValue::External { file, path },
        };
        msgs.push(RawMsg::new(
            msg::LINK,
            link::message(a.name(), &value, next)?,
        ));
        next = next.map(|n| n + 1);
    }
    if let (Some(n), Some(li)) = (next, msgs.iter().position(|m| m.kind == msg::LINK_INFO)) {
        info.set_next_order(&mut msgs[li], n)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The wiring of `change_group` on files of our writer, read back by our reader (h5py
    //! and anndata check the same edits in `h5ad`'s `tests/edit_anndata.rs` and
    //! `tests/edit_kill.rs`).
    use super::*;
    use crate::write::{DType, DatasetSpec};

    fn base(dir: &std::path::Path, track: bool) -> std::path::PathBuf {
        let p = dir.join(format!("base-{track}.h5"));
        let mut w = FileWriter::create(&p).unwrap();
        w.create_group("/g").unwrap();
        w.set_track_order("/g", track).unwrap();
        for name in ["a", "b"] {
            let id = w
                .create_dataset(&format!("/g/{name}"), DatasetSpec::new(DType::I32, [2]))
                .unwrap();
            w.write_all(id, &[1, 0, 0, 0, 2, 0, 0, 0]).unwrap();
        }
        w.set_attr(
            "/g",
            "order",
            AttrValue::Strings(vec!["a".into(), "b".into()]),
        )
        .unwrap();
        w.finish().unwrap();
        p
    }

    #[test]
    fn replace_a_link_and_set_an_attribute_in_one_edit() {
        let dir = tempfile::tempdir().unwrap();
        for track in [false, true] {
            let p = base(dir.path(), track);
            let mut ed = Editor::open(&p).unwrap();
            let change = GroupChange {
                unlink: vec!["a".into(), "b".into()],
                set_attrs: vec![("order".into(), AttrValue::Strings(vec!["a".into()]))],
                ..GroupChange::default()
            };
            ed.change_group("/g", change, |w| {
                let id = w.create_dataset("/a", DatasetSpec::new(DType::F64, [3]))?;
                w.write_all(id, &[0u8; 24])
            })
            .unwrap();
            let f = crate::File::open(&p).unwrap();
            let g = f.group("/g").unwrap();
            let names: Vec<String> = g.links().unwrap().iter().map(|l| l.name.clone()).collect();
            assert_eq!(names, ["a"], "track_order {track}");
            assert_eq!(f.dataset("/g/a").unwrap().shape(), [3]);
            let a = g.node().attribute("order").unwrap().unwrap();
            let v = crate::value::decode(&a.dtype, &a.data, 1, f.sizes(), &f).unwrap();
            assert_eq!(v, [crate::value::Value::Str("a".into())]);
            // A refused change (unlinking a missing link) leaves the file as it was.
            let before = std::fs::read(&p).unwrap();
            let bad = GroupChange {
                unlink: vec!["zz".into()],
                ..GroupChange::default()
            };
            assert!(ed.change_group("/g", bad, |_| Ok(())).is_err());
            // Adding a name that exists without unlinking it is refused too.
            let err = ed.change_group("/g", GroupChange::default(), |w| w.create_group("/a"));
            assert!(err.is_err());
            assert_eq!(std::fs::read(&p).unwrap(), before);
        }
    }
}
