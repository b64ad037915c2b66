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
use super::header::RawMsg;
use super::messages::{self, Info};
use super::{Editor, Txn};
use crate::error::{Error, Result};
use crate::read::link::LinkTarget;
use crate::read::object_header::msg;

/// Add `adds` to the group `parent` and remove the link `remove`, in one commit.
pub(crate) fn change(
    ed: &Editor,
    mut txn: Txn,
    parent: &str,
    adds: Vec<NewLink>,
    remove: Option<&str>,
) -> Result<()> {
    let group = txn.reader.group(parent)?;
    let hdr = txn.header(group.address())?;
    let mut msgs = hdr.msgs.clone();
    let existing = group.links()?;
    for a in &adds {
        if existing.iter().any(|l| l.name == a.name()) {
            return Err(Error::Usage(format!(
                "{parent}: a link named {:?} exists already",
                a.name()
            )));
        }
    }
    if let Some(name) = remove {
        if !existing.iter().any(|l| l.name == name) {
            return Err(Error::NotFound(format!("{parent}: no link named {name:?}")));
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
        for l in existing.iter() {
            if Some(l.name.as_str()) == remove {
                continue;
            }
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
            members.push(match a {
                NewLink::Hard(name, header) => Member {
                    name,
                    header,
                    stab: None,
                    soft: None,
                },
                NewLink::Soft(name, target) => Member {
                    name,
                    header: u64::MAX,
                    stab: None,
                    soft: Some(target),
                },
                NewLink::External(..) => {
                    return Err(Error::unsupported(
                        "edit",
                        "external links in a symbol-table group",
                    ))
                }
            });
        }
        // libhdf5 orders symbol table entries by strcmp of the names: byte order.
        members.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        txn.out.record();
        let written = group::write(&mut txn.out, &members);
        let regions = txn.out.recorded();
        let (tree, heap) = written?;
        let old_tree = messages::stab_tree(&msgs[i])?;
        txn.changes.replace(
            &ed.ledger.borrow(),
            group.address(),
            old_tree,
            tree,
            regions,
        );
        msgs[i].body = group::stab_message(tree, heap);
        return ed.commit(txn, &hdr, &msgs);
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
    if let Some(name) = remove {
        let mut at = None;
        for (i, m) in msgs.iter().enumerate() {
            if m.kind == msg::LINK && messages::link_name(m)? == name {
                at = Some(i);
            }
        }
        let i = at.ok_or_else(|| {
            Error::NotFound(format!("{parent}: link {name:?} is not a link message"))
        })?;
        msgs.remove(i);
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
    ed.commit(txn, &hdr, &msgs)
}
