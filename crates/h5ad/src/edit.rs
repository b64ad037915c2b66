//! Writing, replacing or deleting one element of an existing `.h5ad` file in place:
//! [`H5adEditor`].
//!
//! An element is named by its key, as anndata's attributes name it:
//!
//! | key | element | rules (anndata's) |
//! |---|---|---|
//! | `obs/NAME`, `var/NAME` | a dataframe column ([`Column`]) | `n_obs` / `n_vars` rows; not named like the index |
//! | `X`, `layers/NAME` | a dense or sparse (CSR/CSC) matrix | shape `(n_obs, n_vars)` |
//! | `obsp/NAME`, `varp/NAME` | a dense or sparse matrix | `(n_obs, n_obs)` / `(n_vars, n_vars)` |
//! | `obsm/NAME`, `varm/NAME` | an array, sparse matrix, string array or dataframe | first dimension `n_obs` / `n_vars`; a dataframe's index equals the names; a 1-D array is stored as one column |
//! | `uns/A/B/...` | any [`Element`] | missing dicts on the way are created |
//!
//! # Each change is one commit
//! Every operation is one [`h5format::edit::Editor::change_group`] edit of the group that
//! holds the element (`obs`, `layers`, `uns/A`, … or the root): the new element is written
//! whole past the end of the file, then one write of that group's object header swaps the
//! link — and, for a dataframe column, rewrites `column-order` in the same header. A process
//! killed at any moment leaves a file that anndata reads as before or as after the change
//! (`tests/edit_kill.rs` checks it at every write). The replaced element stays in the file,
//! unreachable (`h5repack` reclaims it).
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use h5ad::edit::H5adEditor;
//! use h5ad::{Column, Values};
//!
//! let src = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/adata_csr.h5ad");
//! let path = std::env::temp_dir().join(format!("h5ad-edit-doc-{}.h5ad", std::process::id()));
//! std::fs::copy(src, &path)?;
//! let mut ed = H5adEditor::open(&path)?;
//! let n = ed.n_obs();
//! let codes: Vec<i64> = (0..n as i64).map(|i| i % 2).collect();
//! let labels = Column::Strings(vec!["T".into(), "B".into()]);
//! let col = Column::Categorical { codes, categories: Box::new(labels), ordered: false };
//! ed.write_column("obs", "cell_type", &col)?;
//! ed.delete_element("obs/cell_type")?;
//! assert!(ed.write_column("obs", "short", &Column::Numeric(Values::F64(vec![1.0]))).is_err());
//! std::fs::remove_file(&path)?;
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

use h5format::edit::{Editor, GroupChange};
use h5format::write::{AttrValue, Durability, FileWriter};
use h5format::{File, Object};

use crate::attrs::{attr_string, attr_strings, encoding_type};
use crate::backed::BackedMatrix;
use crate::error::{Context, Error, Result};
use crate::model::{Column, DataFrame, Dense, Element, Matrix, StringArray};
use crate::read::read_strings;
use crate::write::{write_column, write_element, write_matrix, WriteOptions};
use h5sparse::Values;

/// An `.h5ad` file opened for in-place changes of single elements (see the
/// [module documentation](self)).
pub struct H5adEditor {
    ed: Editor,
    path: PathBuf,
    n_obs: usize,
    n_vars: usize,
    opts: WriteOptions,
}

/// Where an element lives.
#[derive(Debug, Clone, PartialEq)]
enum Slot {
    /// A column of `obs` (`axis` 0) or `var` (1).
    Column { axis: usize, name: String },
    /// `X`.
    X,
    /// A matrix of `layers`, `obsp` or `varp`.
    Matrix { group: &'static str, name: String },
    /// An entry of `obsm` (`axis` 0) or `varm` (1).
    Axis { axis: usize, name: String },
    /// `uns/...`: the path segments below `uns`.
    Uns(Vec<String>),
}

const FRAMES: [&str; 2] = ["obs", "var"];

fn check_name(key: &str, name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(Error::Usage(format!(
            "{key:?}: {name:?} is not a valid element name"
        )));
    }
    Ok(())
}

impl Slot {
    fn parse(key: &str) -> Result<Slot> {
        let key = key.trim_matches('/');
        let (head, rest) = key.split_once('/').unwrap_or((key, ""));
        let one = |rest: &str| -> Result<String> {
            check_name(key, rest)?;
            Ok(rest.to_string())
        };
        Ok(match head {
            "X" if rest.is_empty() => Slot::X,
            "obs" => Slot::Column {
                axis: 0,
                name: one(rest)?,
            },
            "var" => Slot::Column {
                axis: 1,
                name: one(rest)?,
            },
            "obsm" => Slot::Axis {
                axis: 0,
                name: one(rest)?,
            },
            "varm" => Slot::Axis {
                axis: 1,
                name: one(rest)?,
            },
            "layers" | "obsp" | "varp" => Slot::Matrix {
                group: match head {
                    "layers" => "layers",
                    "obsp" => "obsp",
                    _ => "varp",
                },
                name: one(rest)?,
            },
            "uns" => {
                let parts: Vec<String> = rest.split('/').map(str::to_string).collect();
                for p in &parts {
                    check_name(key, p)?;
                }
                Slot::Uns(parts)
            }
            _ => {
                return Err(Error::Usage(format!(
                    "{key:?}: not an element key (X, obs/NAME, var/NAME, layers/NAME, \
                     obsm/NAME, varm/NAME, obsp/NAME, varp/NAME or uns/PATH)"
                )))
            }
        })
    }

    /// The group holding the element, and the element's name in it.
    fn location(&self) -> (String, String) {
        match self {
            Slot::Column { axis, name } => (format!("/{}", FRAMES[*axis]), name.clone()),
            Slot::X => ("/".into(), "X".into()),
            Slot::Matrix { group, name } => (format!("/{group}"), name.clone()),
            Slot::Axis { axis, name } => (format!("/{}m", FRAMES[*axis]), name.clone()),
            Slot::Uns(parts) => {
                let (last, dirs) = parts.split_last().expect("parse gives one part at least");
                let mut parent = "/uns".to_string();
                for d in dirs {
                    parent.push('/');
                    parent.push_str(d);
                }
                (parent, last.clone())
            }
        }
    }
}

/// The object at `path`, `None` when a link on the way is missing.
fn lookup(file: &File, path: &str) -> Result<Option<Object>> {
    let mut obj = Object::Group(file.root().at("/")?);
    let mut at = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        at.push('/');
        at.push_str(part);
        let Object::Group(g) = obj else {
            return Err(Error::element(
                &at,
                "a parent of this element is not a group",
            ));
        };
        if g.link(part).at(&at)?.is_none() {
            return Ok(None);
        }
        obj = g.member(part).at(&at)?;
    }
    Ok(Some(obj))
}

/// An `obs`/`var` dataframe group as the editor needs it.
struct Frame {
    index_name: String,
    rows: usize,
    order: Vec<String>,
}

fn frame(file: &File, name: &str) -> Result<Option<Frame>> {
    let path = format!("/{name}");
    let g = match lookup(file, &path)? {
        None => return Ok(None),
        Some(Object::Group(g)) => g,
        Some(_) => {
            return Err(Error::element(
                name,
                "a pre-0.7 compound dataframe (rewrite the file with write_h5ad to edit it)",
            ))
        }
    };
    let node = g.node();
    if encoding_type(node)?.as_deref() != Some("dataframe") {
        return Err(Error::element(name, "expected encoding-type \"dataframe\""));
    }
    let index_name = attr_string(node, "_index")?.unwrap_or_else(|| "_index".into());
    let ix_path = format!("{path}/{index_name}");
    let Some(Object::Dataset(ix)) = lookup(file, &ix_path)? else {
        return Err(Error::element(&ix_path, "missing dataframe index"));
    };
    let rows = match ix.shape() {
        [n] => usize::try_from(*n).map_err(|_| Error::element(&ix_path, "too many rows"))?,
        s => {
            return Err(Error::element(
                &ix_path,
                format!("a dataframe index of rank {}", s.len()),
            ))
        }
    };
    let order = attr_strings(node, "column-order")?.unwrap_or_default();
    Ok(Some(Frame {
        index_name,
        rows,
        order,
    }))
}

/// (n_obs, n_vars): the lengths of the `obs` and `var` indexes, else `X`'s shape.
fn dims(file: &File) -> Result<(usize, usize)> {
    // X is opened only when obs or var is missing.
    let mut x = None;
    let mut x_shape = || -> Result<Option<(usize, usize)>> {
        if x.is_none() {
            x = Some(match lookup(file, "/X")? {
                Some(obj) => Some(BackedMatrix::open(obj, "/X")?.shape()),
                None => None,
            });
        }
        Ok(x.flatten())
    };
    let mut out = [0usize; 2];
    for (axis, name) in FRAMES.iter().enumerate() {
        let n = match lookup(file, &format!("/{name}"))? {
            Some(Object::Dataset(ds)) => match ds.shape().first() {
                Some(&n) => {
                    Some(usize::try_from(n).map_err(|_| Error::element(name, "too many rows"))?)
                }
                None => None,
            },
            Some(_) => frame(file, name)?.map(|f| f.rows),
            None => None,
        };
        out[axis] = match n {
            Some(n) => n,
            None => x_shape()?.map_or(0, |(r, c)| [r, c][axis]),
        };
    }
    Ok((out[0], out[1]))
}

/// A value given as an [`Element`] for a dataframe column.
fn element_to_column(key: &str, e: &Element) -> Result<Column> {
    Ok(match e {
        Element::Column(c) => c.clone(),
        Element::Dense(d) if d.shape.len() == 1 => match &d.values {
            Values::Bool(b) => Column::Bool(b.clone()),
            v => Column::Numeric(v.clone()),
        },
        Element::Strings(s) if s.shape.len() == 1 => Column::Strings(s.values.clone()),
        _ => {
            return Err(Error::element(
                key,
                "a dataframe column must be a 1-D array, a string array, a categorical or a \
                 nullable array",
            ))
        }
    })
}

/// A value given as an [`Element`] for `X`, a layer or a pairwise matrix.
fn element_to_matrix(key: &str, e: &Element) -> Result<Matrix> {
    match e {
        Element::Dense(d) if d.shape.len() == 2 => Ok(Matrix::Dense(d.clone())),
        Element::Sparse(s) => Ok(Matrix::Sparse(s.clone())),
        _ => Err(Error::element(
            key,
            "expected a 2-D dense array or a sparse matrix",
        )),
    }
}

/// The length of the first dimension of an `obsm`/`varm` value (`None`: not allowed there).
fn first_dim(e: &Element) -> Option<usize> {
    match e {
        Element::Dense(d) => d.shape.first().copied(),
        Element::Strings(s) => s.shape.first().copied(),
        Element::Sparse(s) => Some(s.shape.0),
        Element::DataFrame(df) => Some(df.len()),
        Element::Records(fields) => {
            let mut n = fields.iter().map(|(_, f)| first_dim(f));
            let first = n.next().flatten();
            n.all(|x| x.is_some() && x == first)
                .then_some(first)
                .flatten()
        }
        _ => None,
    }
}

impl H5adEditor {
    /// Open the `.h5ad` file at `path` for in-place changes.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let p = path.display().to_string();
        let ed = Editor::open(&path).at(&p)?;
        let file = File::open(&path).at(&p)?;
        let (n_obs, n_vars) = dims(&file)?;
        Ok(H5adEditor {
            ed,
            path,
            n_obs,
            n_vars,
            opts: WriteOptions::default(),
        })
    }

    /// Number of observations (rows of `obs`).
    pub fn n_obs(&self) -> usize {
        self.n_obs
    }

    /// Number of variables (rows of `var`).
    pub fn n_vars(&self) -> usize {
        self.n_vars
    }

    /// How new matrices are stored (`gzip`, `chunk_elems`; `x_format` converts new `X`,
    /// layers and pairwise matrices to that sparse format).
    pub fn set_options(&mut self, opts: WriteOptions) {
        self.opts = opts;
    }

    /// Whether each change is `fsync`ed (default: [`Durability::Fsync`], see
    /// [`h5format::edit::Editor::set_durability`]).
    pub fn set_durability(&mut self, durability: Durability) {
        self.ed.set_durability(durability);
    }

    fn file(&self) -> Result<File> {
        File::open(&self.path).at(&self.path.display().to_string())
    }

    /// Write the column `name` of the dataframe `frame` (`"obs"` or `"var"`), replacing
    /// the column of that name (keeping its place in `column-order`) or adding it last.
    pub fn write_column(&mut self, frame: &str, name: &str, col: &Column) -> Result<()> {
        let key = format!("{frame}/{name}");
        let slot = Slot::parse(&key)?;
        if !matches!(slot, Slot::Column { .. }) {
            return Err(Error::Usage(format!(
                "{frame:?}: columns belong to \"obs\" or \"var\""
            )));
        }
        self.put(&slot, &key, &Element::Column(col.clone()))
    }

    /// Write the matrix `key` (`X`, `layers/NAME`, `obsp/NAME` or `varp/NAME`), replacing
    /// the one of that name.
    pub fn write_matrix(&mut self, key: &str, m: &Matrix) -> Result<()> {
        let slot = Slot::parse(key)?;
        if !matches!(slot, Slot::X | Slot::Matrix { .. }) {
            return Err(Error::Usage(format!(
                "{key:?}: matrices go to X, layers, obsp or varp"
            )));
        }
        self.check_matrix(&slot, key, m.shape())?;
        let (parent, name) = slot.location();
        self.swap(&parent, &name, GroupChange::default(), |w, path, o| {
            write_matrix(w, path, m, o.x_format, o.gzip, o.chunk_elems)
        })
    }

    /// Write any element at `key` (see the [module documentation](self) for the keys and
    /// their rules), replacing the element of that name.
    pub fn write_element(&mut self, key: &str, e: &Element) -> Result<()> {
        let slot = Slot::parse(key)?;
        self.put(&slot, key, e)
    }

    fn check_matrix(&self, slot: &Slot, key: &str, shape: (usize, usize)) -> Result<()> {
        let want = match slot {
            Slot::Matrix { group: "obsp", .. } => (self.n_obs, self.n_obs),
            Slot::Matrix { group: "varp", .. } => (self.n_vars, self.n_vars),
            _ => (self.n_obs, self.n_vars),
        };
        if shape != want {
            return Err(Error::element(
                key,
                format!("shape {shape:?}, the file needs {want:?}"),
            ));
        }
        Ok(())
    }

    fn put(&mut self, slot: &Slot, key: &str, e: &Element) -> Result<()> {
        let (parent, name) = slot.location();
        match slot {
            Slot::Column { axis, .. } => {
                let col = element_to_column(key, e)?;
                self.put_column(*axis, &name, col)
            }
            Slot::X | Slot::Matrix { .. } => {
                let m = element_to_matrix(key, e)?;
                self.write_matrix(key, &m)
            }
            Slot::Axis { axis, .. } => {
                let e = self.axis_value(*axis, key, e)?;
                self.swap(&parent, &name, GroupChange::default(), move |w, path, _| {
                    write_element(w, path, &e)
                })
            }
            Slot::Uns(_) => {
                let e = e.clone();
                self.swap(&parent, &name, GroupChange::default(), move |w, path, _| {
                    write_element(w, path, &e)
                })
            }
        }
    }

    /// An `obsm`/`varm` value checked (and shaped) as anndata does.
    fn axis_value(&self, axis: usize, key: &str, e: &Element) -> Result<Element> {
        let n = [self.n_obs, self.n_vars][axis];
        let dim = FRAMES[axis];
        let len = first_dim(e).ok_or_else(|| {
            Error::element(
                key,
                "expected an array, a sparse matrix, a string array, a structured array or \
                 a dataframe",
            )
        })?;
        if len != n {
            return Err(Error::element(
                key,
                format!("first dimension {len}, {dim} has {n}"),
            ));
        }
        Ok(match e {
            // anndata stores a 1-D array as one column.
            Element::Dense(d) if d.shape.len() == 1 => Element::Dense(Dense {
                shape: vec![n, 1],
                values: d.values.clone(),
            }),
            Element::Strings(s) if s.shape.len() == 1 => Element::Strings(StringArray {
                shape: vec![n, 1],
                values: s.values.clone(),
                width: s.width,
            }),
            Element::DataFrame(df) => {
                let file = self.file()?;
                let f = frame(&file, dim)?
                    .ok_or_else(|| Error::element(key, format!("the file has no {dim}")))?;
                let ix = match lookup(&file, &format!("/{dim}/{}", f.index_name))? {
                    Some(Object::Dataset(ds)) => read_strings(&ds)?,
                    _ => return Err(Error::element(dim, "missing dataframe index")),
                };
                if df.index != ix {
                    return Err(Error::element(
                        key,
                        format!("the dataframe's index does not equal the {dim} names"),
                    ));
                }
                // anndata names the index like the parent's.
                Element::DataFrame(DataFrame {
                    index_name: f.index_name,
                    ..df.clone()
                })
            }
            other => other.clone(),
        })
    }

    fn put_column(&mut self, axis: usize, name: &str, col: Column) -> Result<()> {
        let dim = FRAMES[axis];
        let key = format!("{dim}/{name}");
        let file = self.file()?;
        let f = frame(&file, dim)?
            .ok_or_else(|| Error::element(&key, format!("no {dim} dataframe")))?;
        if name == f.index_name {
            return Err(Error::element(
                &key,
                format!("{name:?} is the name of the {dim} index"),
            ));
        }
        if col.len() != f.rows {
            return Err(Error::element(
                &key,
                format!("column has {} rows, {dim} has {}", col.len(), f.rows),
            ));
        }
        let mut order = f.order;
        if !order.iter().any(|c| c == name) {
            order.push(name.to_string());
        }
        let change = GroupChange {
            set_attrs: vec![("column-order".into(), AttrValue::Strings(order))],
            ..GroupChange::default()
        };
        let parent = format!("/{dim}");
        self.swap(&parent, name, change, move |w, path, _| {
            write_column(w, path, &col)
        })
    }

    /// Whether the element `key` exists (a column also when it is not in `column-order`).
    pub fn contains(&self, key: &str) -> Result<bool> {
        let (parent, name) = Slot::parse(key)?.location();
        Ok(lookup(&self.file()?, &format!("{parent}/{name}"))?.is_some())
    }

    /// Delete the element `key` (a dataframe column also leaves `column-order`).
    pub fn delete_element(&mut self, key: &str) -> Result<()> {
        let slot = Slot::parse(key)?;
        let (parent, name) = slot.location();
        let file = self.file()?;
        if lookup(&file, &format!("{parent}/{name}"))?.is_none() {
            return Err(Error::element(key, "no such element"));
        }
        let mut change = GroupChange {
            unlink: vec![name.clone()],
            ..GroupChange::default()
        };
        if let Slot::Column { axis, .. } = slot {
            let dim = FRAMES[axis];
            let f = frame(&file, dim)?.ok_or_else(|| Error::element(key, "no dataframe"))?;
            if name == f.index_name {
                return Err(Error::element(
                    key,
                    format!("{name:?} is the {dim} index, not a column"),
                ));
            }
            let order: Vec<String> = f.order.into_iter().filter(|c| *c != name).collect();
            change
                .set_attrs
                .push(("column-order".into(), AttrValue::Strings(order)));
        }
        self.ed.change_group(&parent, change, |_| Ok(())).at(key)
    }

    /// Write the element `name` of the group `parent` with `write` (given the writer, the
    /// element's path in it and the options), replacing the link of that name — or, when
    /// `parent` (or groups above it) do not exist, creating them as anndata `dict`s — in
    /// one commit together with `change`.
    fn swap(
        &mut self,
        parent: &str,
        name: &str,
        mut change: GroupChange,
        write: impl FnOnce(&mut FileWriter, &str, &WriteOptions) -> Result<()>,
    ) -> Result<()> {
        let file = self.file()?;
        let key = format!("{}/{name}", parent.trim_end_matches('/'));
        // The deepest existing group on the way to `parent`.
        let mut anchor = parent.to_string();
        let mut missing: Vec<String> = Vec::new();
        loop {
            match lookup(&file, &anchor)? {
                Some(Object::Group(_)) => break,
                Some(_) => return Err(Error::element(&anchor, "expected a group")),
                None => {
                    let (up, last) = anchor.rsplit_once('/').expect("absolute path");
                    missing.insert(0, last.to_string());
                    anchor = if up.is_empty() { "/".into() } else { up.into() };
                }
            }
        }
        if missing.is_empty() && lookup(&file, &key)?.is_some() {
            change.unlink.push(name.to_string());
        }
        if !missing.is_empty() && !change.set_attrs.is_empty() {
            return Err(Error::element(parent, "missing"));
        }
        drop(file);
        let opts = self.opts;
        let mut failed = None;
        let mut at = String::new();
        for m in &missing {
            at.push('/');
            at.push_str(m);
        }
        let r = self.ed.change_group(&anchor, change, |w| {
            let run = || -> Result<()> {
                let mut dir = String::new();
                for m in &missing {
                    dir.push('/');
                    dir.push_str(m);
                    w.create_group(&dir).at(&dir)?;
                    crate::set_encoding(w, &dir, "dict", "0.1.0").at(&dir)?;
                }
                write(w, &format!("{at}/{name}"), &opts)
            };
            run().map_err(|e| {
                let msg = e.to_string();
                failed = Some(e);
                h5format::Error::Usage(msg)
            })
        });
        match (r, failed) {
            (Err(_), Some(e)) => Err(e),
            (r, _) => r.at(&key),
        }
    }
}
