//! Several changes of one group in one commit: [`Editor::change_group`].
//!
//! Links are removed, new objects linked in — a name may be both removed and added, which
//! replaces the object it names — and attributes of the group set or deleted, all in the
//! group's header: one commit, as every other edit (see the [module documentation](super)).
//! A reader sees the group entirely as before or entirely as after, e.g. a dataframe's
//! column and its `column-order` attribute, or the old and the new object under one name.

use super::super::attribute::AttrValue;
use super::super::FileWriter;
use super::graft::{self, NewLink};
use super::{attribute_index, compact_attributes, links, put_attr, Editor, Txn};
use crate::error::{Error, Result};

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
            if !adds.is_empty() || !change.unlink.is_empty() {
                links::relink_recorded(
                    self,
                    &mut txn,
                    group,
                    &hdr,
                    &mut msgs,
                    adds,
                    &change.unlink,
                )?;
            }
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
    let mut w = graft::writer(txn);
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
            // A refused change (unlinking a missing link) leaves the file as it was — but for
            // the free space (the group's first symbol table, freed by the edit above), which
            // the refused edit may have written.
            let before = std::fs::read(&p).unwrap();
            let bad = GroupChange {
                unlink: vec!["zz".into()],
                ..GroupChange::default()
            };
            assert!(ed.change_group("/g", bad, |_| Ok(())).is_err());
            // Adding a name that exists without unlinking it is refused too.
            let err = ed.change_group("/g", GroupChange::default(), |w| w.create_group("/a"));
            assert!(err.is_err());
            let mut after = std::fs::read(&p).unwrap();
            assert_eq!(after.len(), before.len());
            for (a, l) in ed.free_regions() {
                let r = a as usize..(a + l) as usize;
                after[r.clone()].copy_from_slice(&before[r]);
            }
            assert_eq!(after, before);
        }
    }
}
