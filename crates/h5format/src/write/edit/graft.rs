//! New objects for an existing file: a [`FileWriter`] whose output starts past the file's
//! end, finished without a superblock; its root group's members become new links.

use super::super::sink::{Backend, Out};
use super::super::{Child, FileWriter};
use super::Txn;
use crate::error::{Error, Result};

/// A link to add to an existing group.
pub(crate) enum NewLink {
    /// To an object header written by the graft.
    Hard(String, u64),
    /// A soft link.
    Soft(String, String),
    /// An external link (file, path).
    External(String, String, String),
}

impl NewLink {
    /// The link name.
    pub(crate) fn name(&self) -> &str {
        match self {
            NewLink::Hard(n, _) | NewLink::Soft(n, _) | NewLink::External(n, _, _) => n,
        }
    }
}

/// A writer whose output starts past the end of the file `txn` edits (it takes the
/// transaction's output; [`finish`] gives it back).
pub(crate) fn writer(txn: &mut Txn) -> FileWriter {
    let out = std::mem::replace(&mut txn.out, Out::new(Backend::Mem(Vec::new()), 0));
    let mut w = FileWriter::with_backend(out.sink);
    w.out.eof = out.eof;
    w.out.space = out.space;
    w
}

/// Write every object of `w` (appended past the existing file's end) and return the links
/// of its root group's members and the output, positioned after what was written.
pub(crate) fn finish(mut w: FileWriter) -> Result<(Vec<NewLink>, Out)> {
    let root = w
        .groups
        .first()
        .ok_or_else(|| Error::Usage("graft: no root group".into()))?;
    if !root.attrs.is_empty() {
        return Err(Error::Usage(
            "graft: attributes of the writer's root group have no place in the file \
             (set them with Editor::set_attr)"
                .into(),
        ));
    }
    let (_, _, addrs) = w.write_objects(false)?;
    let root = w
        .groups
        .first()
        .ok_or_else(|| Error::Usage("graft: no root group".into()))?;
    let mut links = Vec::with_capacity(root.members.len());
    for (name, child) in &root.members {
        links.push(match child {
            Child::Soft(target) => NewLink::Soft(name.clone(), target.clone()),
            Child::External { file, path } => {
                NewLink::External(name.clone(), file.clone(), path.clone())
            }
            Child::Group(_) | Child::Dataset(_) | Child::Datatype(_) => {
                let addr = addrs
                    .get(&format!("/{name}"))
                    .copied()
                    .ok_or_else(|| Error::Usage(format!("graft: {name} was not written")))?;
                NewLink::Hard(name.clone(), addr)
            }
        });
    }
    Ok((links, w.out))
}
