//! Adding and removing links of an existing group.
//!
//! - A symbol-table group (symbol table message → v1 B-tree + local heap + symbol table
//!   nodes) gets a whole new symbol table, written past the end of the file by the writer's
//!   own group code; the commit replaces the 16-byte symbol table message.
//! - A group of link messages (link info message with no fractal heap) gets link messages
//!   added to or removed from its header, and its link info creation counter moved on, in the
//!   same commit.
//!
//! A group in dense link storage (a fractal heap and v2 B-trees) is turned into a group of
//! link messages by the same commit (the old heap and B-trees are left unreferenced).

use super::super::group::{self, Member};
use super::super::link::{self, LinkValue};
use super::graft::NewLink;
use super::header::{EditHeader, RawMsg};
use super::messages::{self, Info};
use super::original::{self, Keep};
use super::{Editor, Txn};
use crate::error::{Error, Result};
use crate::read::link::LinkTarget;
use crate::read::object_header::msg;

/// Add `adds` to the group `parent` and remove the link `remove`, in one commit. A symbol
/// table the editor wrote is recorded in the ledger, so that the next change of the group
/// frees it.
pub(crate) fn change(
    ed: &Editor,
    mut txn: Txn,
    parent: &str,
    adds: Vec<NewLink>,
    remove: Option<&str>,
) -> Result<()> {
    let addr = txn.reader.group(parent)?.address();
    let hdr = txn.header(addr)?;
    let mut msgs = hdr.msgs.clone();
    let unlink: Vec<String> = remove.into_iter().map(str::to_owned).collect();
    relink_recorded(ed, &mut txn, parent, &hdr, &mut msgs, adds, &unlink)?;
    ed.commit(txn, &hdr, &msgs)
}

/// [`relink`], and for a symbol-table group the replacement of its symbol table in the
/// ledger: the new one recorded, the old one freed when the edit commits (the one this
/// editor wrote, else the one the file came with, walked: see `original.rs`).
pub(crate) fn relink_recorded(
    ed: &Editor,
    txn: &mut Txn,
    parent: &str,
    hdr: &EditHeader,
    msgs: &mut Vec<RawMsg>,
    adds: Vec<NewLink>,
    unlink: &[String],
) -> Result<()> {
    let stab = msgs.iter().position(|m| m.kind == msg::SYMBOL_TABLE);
    let old = stab.map(|i| messages::stab(&msgs[i])).transpose()?;
    txn.out.record();
    let relinked = relink(txn, parent, msgs, adds, unlink);
    let regions = txn.out.recorded();
    relinked?;
    let (Some(i), Some((old_tree, old_heap))) = (stab, old) else {
        return Ok(());
    };
    let (tree, _) = messages::stab(&msgs[i])?;
    let bounds = (txn.spot.end(txn.base), txn.spot.eoa);
    let reader = &txn.reader;
    let original = |free: &[(u64, u64)]| {
        // The members' headers stay referenced: the old table's blocks must not hold them.
        let Ok(links) = reader.group(parent).and_then(|g| g.links()) else {
            return Vec::new();
        };
        let mut keep: Vec<(u64, u64)> = hdr
            .extents()
            .into_iter()
            .chain(free.iter().copied())
            .collect();
        keep.extend(links.iter().filter_map(|l| match l.target {
            LinkTarget::Hard(a) => Some((a, 1)),
            _ => None,
        }));
        let keep = Keep {
            regions: &keep,
            low: bounds.0,
            high: bounds.1,
        };
        original::symbol_table(reader, old_tree, old_heap, &keep)
    };
    txn.changes.replace(
        &ed.ledger.borrow(),
        (hdr.addr, old_tree),
        tree,
        regions,
        original,
    );
    Ok(())
}

/// Remove the links `unlink` from the group `parent` (header messages `msgs`) and add
/// `adds`: a new symbol table appended for a symbol-table group, link messages changed for
/// a group of link messages (dense link storage becomes link messages). A removed name may
/// be added again (the link then points to the new object); any other added name must be
/// new.
pub(crate) fn relink(
    txn: &mut Txn,
    parent: &str,
    msgs: &mut Vec<RawMsg>,
    adds: Vec<NewLink>,
    unlink: &[String],
) -> Result<()> {
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
        // Dense storage becomes compact: every link a message of the header again (libhdf5
        // reads compact storage of any size, and converts back when it next adds a link).
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
    if !unlink.is_empty() {
        let mut kept = Vec::with_capacity(msgs.len());
        let mut gone = 0;
        for m in msgs.drain(..) {
            if m.kind == msg::LINK && removed(&messages::link_name(&m)?) {
                gone += 1;
                continue;
            }
            kept.push(m);
        }
        *msgs = kept;
        if gone < unlink.len() {
            return Err(Error::NotFound(format!(
                "{parent}: a link of {unlink:?} is not a link message"
            )));
        }
    }
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
