//! The whole-file dump in library form: open every object reachable from the root, read every
//! attribute value and every dataset in full, and decode them.
//!
//! [`walk_all`] is what `h5dump` does without printing; it is the harness of the mutation tests
//! and fuzz targets, which check that no file, however hostile, makes it panic, hang or
//! allocate without bound. Errors met on one object are counted and the walk goes on, so one
//! corrupt object does not hide the rest of the file from the test.

use std::collections::{HashSet, VecDeque};

use crate::error::Result;
use crate::file::{File, Node, Object};
use crate::read::dataspace::Dataspace;
use crate::read::link::LinkTarget;

/// Most objects one walk visits (a hostile file can link a huge number of distinct headers).
pub const MAX_WALK_OBJECTS: usize = 100_000;

/// What one [`walk_all`] saw.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WalkStats {
    /// Groups opened.
    pub groups: u64,
    /// Datasets opened.
    pub datasets: u64,
    /// Committed datatypes opened.
    pub datatypes: u64,
    /// Links listed.
    pub links: u64,
    /// Attributes read.
    pub attributes: u64,
    /// Values decoded (attribute and dataset elements).
    pub values: u64,
    /// Raw dataset bytes read.
    pub bytes: u64,
    /// Errors met (and stepped over) below the root.
    pub errors: u64,
    /// The first few error messages, for diagnostics.
    pub first_errors: Vec<String>,
}

impl WalkStats {
    fn error(&mut self, e: &crate::Error) {
        self.errors += 1;
        if self.first_errors.len() < 8 {
            self.first_errors.push(e.to_string());
        }
    }
}

/// Open every object reachable from the root by hard or soft links (each header once, so
/// cycles end), read and decode every attribute and every dataset.
///
/// Fails only if the root group cannot be opened; errors below the root are counted in
/// [`WalkStats::errors`].
pub fn walk_all(file: &File) -> Result<WalkStats> {
    let mut stats = WalkStats::default();
    let root = file.root()?;
    let mut seen = HashSet::from([root.address()]);
    // Paths already reached, and soft-link targets still to resolve: a soft link is followed
    // (from the root, which re-reads every group on the way) only if its target was not
    // reached by hard links, and each distinct target once.
    let mut paths = HashSet::from(["/".to_string()]);
    let mut soft: Vec<String> = Vec::new();
    let mut queue = VecDeque::from([Object::Group(root)]);
    loop {
        let Some(obj) = queue.pop_front() else {
            // Hard links exhausted: follow the soft links whose targets are still unknown.
            let mut found = false;
            while let Some(target) = soft.pop() {
                let abs = normalize(&target);
                if !paths.insert(abs.clone()) {
                    continue;
                }
                match file.object(&abs) {
                    Ok(child) => {
                        if seen.insert(child.node().address()) {
                            queue.push_back(child);
                            found = true;
                            break;
                        }
                    }
                    Err(e) => stats.error(&e),
                }
            }
            if found {
                continue;
            }
            break;
        };
        visit(
            file, &obj, &mut stats, &mut seen, &mut paths, &mut soft, &mut queue,
        );
    }
    Ok(stats)
}

/// `/a/./b//c` → `/a/b/c`; relative paths are taken from the root (as [`File::object`] does).
fn normalize(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

fn child_path(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

#[allow(clippy::too_many_arguments)]
fn visit(
    file: &File,
    obj: &Object,
    stats: &mut WalkStats,
    seen: &mut HashSet<u64>,
    paths: &mut HashSet<String>,
    soft: &mut Vec<String>,
    queue: &mut VecDeque<Object>,
) {
    attributes(file, obj.node(), stats);
    match obj {
        Object::Group(g) => {
            stats.groups += 1;
            let links = match g.links() {
                Ok(l) => l,
                Err(e) => {
                    stats.error(&e);
                    return;
                }
            };
            for link in links.iter() {
                stats.links += 1;
                let path = child_path(g.path(), &link.name);
                match &link.target {
                    LinkTarget::Hard(addr) => {
                        paths.insert(path.clone());
                        if seen.len() >= MAX_WALK_OBJECTS || !seen.insert(*addr) {
                            continue;
                        }
                        match file.object_at(*addr, path) {
                            Ok(child) => queue.push_back(child),
                            Err(e) => stats.error(&e),
                        }
                    }
                    // A relative target is resolved from the link's group.
                    LinkTarget::Soft(t) if soft.len() < MAX_WALK_OBJECTS => {
                        soft.push(if t.starts_with('/') {
                            t.clone()
                        } else {
                            format!("{}/{t}", g.path())
                        });
                    }
                    _ => {}
                }
            }
        }
        Object::Dataset(d) => {
            stats.datasets += 1;
            if matches!(d.space(), Dataspace::Null) {
                return;
            }
            let n = d.space().num_elements().unwrap_or(0);
            let decoded = check_values(file, d.address(), n)
                .and_then(|()| d.read_raw())
                .and_then(|raw| {
                    stats.bytes += raw.len() as u64;
                    let n = usize::try_from(n).map_err(|_| {
                        crate::Error::malformed("dataspace", d.address(), "too many elements")
                    })?;
                    crate::value::decode(d.dtype(), &raw, n, file.sizes(), file)
                });
            match decoded {
                Ok(v) => stats.values += v.len() as u64,
                Err(e) => stats.error(&e),
            }
        }
        Object::Datatype(_) => stats.datatypes += 1,
    }
}

/// Decoded values take far more memory than their raw bytes (a one-byte element becomes a
/// [`Value`](crate::value::Value)): hold them to the file's allocation limit too.
fn check_values(file: &File, offset: u64, n: u64) -> Result<()> {
    let bytes = n.saturating_mul(std::mem::size_of::<crate::value::Value>() as u64);
    file.source().check_alloc("decoded values", offset, bytes)
}

fn attributes(file: &File, node: &Node, stats: &mut WalkStats) {
    let attrs = match node.attributes() {
        Ok(a) => a,
        Err(e) => {
            stats.error(&e);
            return;
        }
    };
    for a in attrs {
        stats.attributes += 1;
        if matches!(a.space, Dataspace::Null) {
            continue;
        }
        let n = a.space.num_elements().unwrap_or(0);
        let decoded = check_values(file, a.offset, n)
            .and_then(|()| {
                usize::try_from(n).map_err(|_| {
                    crate::Error::malformed("attribute", a.offset, "too many elements")
                })
            })
            .and_then(|n| crate::value::decode(&a.dtype, &a.data, n, file.sizes(), file));
        match decoded {
            Ok(v) => stats.values += v.len() as u64,
            Err(e) => stats.error(&e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_fixtures_without_errors() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
        for name in ["everything_latest.h5", "chunked_earliest.h5", "tenx.h5"] {
            let bytes = std::fs::read(dir.join(name)).unwrap();
            let f = File::from_bytes(bytes).unwrap();
            let s = walk_all(&f).unwrap();
            assert!(s.groups >= 1 && s.datasets >= 1, "{name}: {s:?}");
        }
    }
}
