//! [`Group`]: the links of a group (symbol table, link messages or dense storage).

use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};
use crate::read::link::{Link, LinkInfo, LinkTarget};
use crate::read::object_header::msg;
use crate::read::symbol_table::{self, SymbolTableMessage};

use super::node::Node;
use super::Object;

/// Most members whose object headers a remote group announces when its links are read.
pub const MEMBER_HINTS: usize = 16;

/// A group.
#[derive(Clone)]
pub struct Group {
    pub(super) node: Node,
    pub(super) links: OnceLock<Arc<Vec<Link>>>,
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
        self.announce_members(&links);
        Ok(self.links.get_or_init(|| links).clone())
    }

    /// Remote files: announce ([`crate::io::ByteSource::hint`]) the object headers of the
    /// group's members — the block holding each, when the group has at most
    /// [`MEMBER_HINTS`] hard links — so that opening several of them (a sparse matrix's
    /// three datasets) costs one burst of requests, not one round trip each. No effect on
    /// local files; never required.
    fn announce_members(&self, links: &[Link]) {
        let source = self.node.file.source();
        if !source.is_remote() {
            return;
        }
        let hard = || {
            links.iter().filter_map(|l| match l.target {
                LinkTarget::Hard(a) => Some(a),
                _ => None,
            })
        };
        if hard().count() > MEMBER_HINTS {
            return;
        }
        let block = crate::io::HINT_BLOCK;
        for addr in hard() {
            let start = addr / block * block;
            if start < source.len() {
                source.hint_maybe(start, block.min(source.len() - start));
            }
        }
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
