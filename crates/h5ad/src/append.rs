//! Appending one AnnData file's observations to another: `target` becomes
//! `anndata.concat([target, src])`.
//!
//! Two ways, both leaving a file h5py opens whenever they are interrupted:
//! - [`append`] (what `h5sparse append` does, as its contract asks): `concat([target, src])`
//!   is written to a temporary file in `target`'s folder, synced and renamed over `target`.
//!   A SIGKILL at any moment leaves the old or the new file — for every reader, anndata
//!   included. Cost O(file).
//! - [`append_in_place`] (`h5sparse append --in-place`, an extension): O(appended rows),
//!   every HDF5 object old or new at every moment, but AnnData as a whole passes through a
//!   window where `anndata.read_h5ad` raises an error (see below). When the file does not
//!   allow it, it falls back to [`append`] ([`ConcatStats::rewritten`] says why).
//!
//! # In place ([`append_in_place`]), when the file allows it
//! The matrices grow in place through [`h5format::edit::Editor`]: `X` and every layer get
//! `src`'s entries appended to their `data`, `indices` and `indptr` datasets (new chunks
//! past the end of the file, the last partial chunk re-encoded, the chunk index rewritten),
//! so the cost is O(appended entries) plus O(chunks) of index — not O(file). `obs` (O(rows),
//! small next to the matrices) is written anew: its members are replaced. Each step is one
//! editor commit (one header write; see the editor's module documentation), so every HDF5
//! object reads, at every moment, as its old or its new content.
//!
//! This path applies when `X` and every layer are CSR (`csr_matrix`) in both files, the
//! target's three arrays are chunked with an unlimited first dimension and keep their types
//! (the source's values and indices convert to them without loss), the target has nothing
//! `anndata.concat` would drop or that cannot grow in place (`var` columns, `obsm`, `varm`,
//! `obsp`, `varp`, `uns` entries), and the target's arrays are consistent (`indptr`'s last
//! value equals the length of `data` and `indices`). Otherwise the file is rewritten:
//! `concat([target, src])` into a temporary file renamed over `target`
//! ([`ConcatStats::rewritten`] says why).
//!
//! # What an interruption leaves
//! The commits are ordered so that AnnData readers see the old content for as long as
//! possible and an error — never a wrong answer — in between:
//! 1. `indices`, `data`, then `indptr` of `X` and of each layer grow (one commit each).
//!    `anndata` still reads the old matrices: it takes the number of rows from the group's
//!    `shape` attribute, and the old rows' entries are unchanged (the new ones lie past
//!    them).
//! 2. The **window**: the members of `obs` (its index first) are deleted one commit each,
//!    the `shape` attributes of `X` and the layers are set to the new row count, and the
//!    `column-order` attribute changes if the join dropped columns.
//! 3. The last commit links `obs`'s new members (index and columns) in one header write;
//!    from then on the file reads as `concat([target, src])`.
//!
//! A kill inside the window (2 + number of `obs` columns + number of matrices commits, each
//! a few header writes) leaves a file that h5py opens, in which every dataset holds its old
//! or its new content, and `/obs` lacks its index (and perhaps some columns) although its
//! `_index` attribute names it: `anndata.read_h5ad` raises a `KeyError` for that file. It is
//! not repaired automatically; re-running the append on it fails (reading `obs` fails).
//! The kill test (`tests/append_kill.rs`) stops the append before each of its write calls:
//! of 72, 33 leave the old content and 39 fall in the window. A kill (or an error reading
//! `src`) in step 1 leaves `data`/`indices` longer than `indptr`'s last value, which anndata
//! ignores; a later append sees that and rewrites the file, which reads through `indptr`.
//!
//! # Cost
//! Time and bytes written: the appended entries, the re-encoded last chunk and the rewritten
//! chunk index of each array, and `obs` whole. Memory: about one appended array at a time
//! (the editor appends each dataset in one commit). Each commit is `fsync`ed three times
//! (the writer's default durability, see [`h5format::write::set_default_durability`]).

use std::path::Path;

use h5format::edit::Editor;
use h5format::read::dataspace::{Dataspace, UNLIMITED};
use h5format::read::layout::Layout;
use h5format::write::AttrValue;
use h5sparse::hdf5::H5Array;
use h5sparse::{Array1, ElemType, Encoding, Format, Values};

use crate::concat::{backed, concat, open_file, ConcatOptions, ConcatStats};
use crate::concat_csr::{all_in_range, encode};
use crate::concat_obs::{merge_obs, promote, Join};
use crate::error::{Context, Error, Result};
use crate::model::{AnnData, Column, DataFrame, Matrix};
use crate::write::write_column;

/// Append the observations of `src` to `target` by rewriting it atomically: `target`
/// becomes `concat([target, src])`, and an interruption at any moment leaves the old or the
/// new file (see the [module documentation](self)).
///
/// The variables must be equal (names and order), else a usage error and `target` is not
/// touched.
pub fn append(target: &Path, src: &Path, opts: &ConcatOptions) -> Result<ConcatStats> {
    same_vars(target, src)?;
    rewrite(target, src, opts)
}

/// The variables of both files must be equal (names and order).
fn same_vars(target: &Path, src: &Path) -> Result<()> {
    let tf = open_file(target)?;
    let sf = open_file(src)?;
    check_vars(&backed(&tf, target)?, &backed(&sf, src)?, target, src)
}

/// A usage error unless `t` and `s` have the same variables (names and order).
fn check_vars(t: &AnnData, s: &AnnData, target: &Path, src: &Path) -> Result<()> {
    if t.var_names() != s.var_names() {
        return Err(Error::Usage(format!(
            "var_names of {} ({} variables) differ from those of {} ({} variables)",
            src.display(),
            s.n_vars,
            target.display(),
            t.n_vars
        )));
    }
    Ok(())
}

/// `concat([target, src])` into a temporary file renamed over `target`.
fn rewrite(target: &Path, src: &Path, opts: &ConcatOptions) -> Result<ConcatStats> {
    let opts = ConcatOptions {
        join: Join::Inner,
        ..opts.clone()
    };
    concat(&[target.to_path_buf(), src.to_path_buf()], target, &opts)
}

/// Append the observations of `src` to `target` in place when the files allow it, else by
/// [`append`]'s rewrite ([`ConcatStats::rewritten`] says why).
///
/// Every HDF5 object reads as old or new at every moment, but an interruption inside the
/// window described in the [module documentation](self) leaves a file `anndata.read_h5ad`
/// refuses (a `KeyError`), not the old or the new AnnData.
pub fn append_in_place(target: &Path, src: &Path, opts: &ConcatOptions) -> Result<ConcatStats> {
    let tf = open_file(target)?;
    let sf = open_file(src)?;
    let t = backed(&tf, target)?;
    let s = backed(&sf, src)?;
    check_vars(&t, &s, target, src)?;
    let why = match plan(&tf, &t, &sf, &s)? {
        Ok(plan) => {
            drop((t, s));
            return plan.run(target);
        }
        Err(why) => why,
    };
    drop((t, s, tf, sf));
    let mut stats = rewrite(target, src, opts)?;
    stats.rewritten = Some(why);
    Ok(stats)
}

/// One CSR matrix to grow: the bytes to append to `indices` and `indptr` (read and checked
/// before anything is written) and where to read the values for `data`.
struct Grow {
    path: String,
    data: H5Array,
    data_elem: ElemType,
    range: std::ops::Range<u64>,
    indices: Vec<u8>,
    indptr: Vec<u8>,
    shape: (u64, u64),
}

/// The in-place append, prepared (everything read and checked; nothing written yet).
struct Plan {
    matrices: Vec<Grow>,
    obs: DataFrame,
    /// Members of `/obs` to delete (its index first).
    obs_members: Vec<String>,
    column_order_changed: bool,
    stats: ConcatStats,
}

/// `Err(reason)` when the in-place path does not apply.
type Maybe<T> = std::result::Result<T, String>;

fn plan(tf: &h5format::File, t: &AnnData, sf: &h5format::File, s: &AnnData) -> Result<Maybe<Plan>> {
    let dropped = [
        ("var columns", !t.var.columns.is_empty()),
        ("obsm", !t.obsm.is_empty() || !s.obsm.is_empty()),
        ("varm", !t.varm.is_empty()),
        ("obsp", !t.obsp.is_empty()),
        ("varp", !t.varp.is_empty()),
        ("uns", !t.uns.is_empty()),
    ];
    if let Some((what, _)) = dropped.iter().find(|(_, has)| *has) {
        return Ok(Err(format!("the files have {what} entries")));
    }
    let mut keys: Vec<&String> = t.layers.keys().collect();
    if keys != s.layers.keys().collect::<Vec<_>>() {
        return Ok(Err("the files have different layers".into()));
    }
    let mut paths = Vec::new();
    match (&t.x, &s.x) {
        (Some(a), Some(b)) => paths.push(("/X".to_string(), a, b)),
        (None, None) => {}
        _ => return Ok(Err("one file has no X".into())),
    }
    for k in keys.drain(..) {
        paths.push((format!("/layers/{k}"), &t.layers[k], &s.layers[k]));
    }
    let mut matrices = Vec::new();
    for (path, a, b) in paths {
        match grow(tf, sf, &path, a, b, t.n_obs, s.n_obs)? {
            Ok(g) => matrices.push(g),
            Err(why) => return Ok(Err(format!("{path}: {why}"))),
        }
    }
    let obs = merge_obs(&[&t.obs, &s.obs], Join::Inner)?;
    let index_name = if t.obs.index_name.is_empty() {
        "_index".to_string()
    } else {
        t.obs.index_name.clone()
    };
    let obs_group = tf.group("/obs").at("/obs")?;
    let present: Vec<String> = obs_group
        .links()
        .at("/obs")?
        .iter()
        .map(|l| l.name.clone())
        .collect();
    let mut obs_members = vec![index_name];
    obs_members.extend(t.obs.columns.iter().map(|(n, _)| n.clone()));
    if let Some(m) = obs_members.iter().find(|m| !present.contains(m)) {
        return Ok(Err(format!("/obs has no member {m:?}")));
    }
    let column_order_changed = obs.columns.len() != t.obs.columns.len();
    let stats = ConcatStats {
        n_obs: obs.len(),
        n_vars: t.n_vars,
        layers: t.layers.keys().cloned().collect(),
        ..ConcatStats::default()
    };
    Ok(Ok(Plan {
        matrices,
        obs,
        obs_members,
        column_order_changed,
        stats,
    }))
}

/// Whether the dataset `p` can grow along its first dimension, and its element type.
fn growable(f: &h5format::File, p: &str) -> Result<Maybe<(H5Array, ElemType)>> {
    let ds = f.dataset(p).at(p)?;
    if !matches!(ds.layout(), Layout::Chunked { .. }) {
        return Ok(Err("not chunked".into()));
    }
    match ds.space() {
        Dataspace::Simple { max_dims, .. } if max_dims.first() == Some(&UNLIMITED) => {}
        _ => return Ok(Err("its first dimension is not unlimited".into())),
    }
    let arr = H5Array::new(ds).at(p)?;
    let e = arr.elem();
    Ok(Ok((arr, e)))
}

/// Read `src`'s matrix `path` whole and encode it for `target`'s datasets.
fn grow(
    tf: &h5format::File,
    sf: &h5format::File,
    path: &str,
    t: &Matrix,
    s: &Matrix,
    t_rows: usize,
    s_rows: usize,
) -> Result<Maybe<Grow>> {
    let csr = |m: &Matrix| match m {
        Matrix::Backed(b) => b
            .sparse()
            .is_some_and(|sd| sd.format() == Format::Csr && sd.encoding() == Encoding::Anndata),
        _ => false,
    };
    if !csr(t) || !csr(s) {
        return Ok(Err("not a CSR matrix in both files".into()));
    }
    let mut arrays = Vec::new();
    for name in ["data", "indices", "indptr"] {
        match growable(tf, &format!("{path}/{name}"))? {
            Ok(a) => arrays.push(a),
            Err(why) => return Ok(Err(format!("{name}: {why}"))),
        }
    }
    let (t_ip, ip_elem) = arrays.pop().expect("three arrays");
    let (t_ix, ix_elem) = arrays.pop().expect("three arrays");
    let (t_data, data_elem) = arrays.pop().expect("three arrays");
    let n_vars = match t {
        Matrix::Backed(b) => b.shape().1 as u64,
        _ => 0,
    };
    let t_nnz = t_data.len();
    if t_ip.len() != t_rows as u64 + 1 || t_ix.len() != t_nnz {
        return Ok(Err(
            "indptr/indices lengths do not match the rows/entries".into()
        ));
    }
    let last = t_ip
        .read_ranges_i64(&[t_rows as u64..t_rows as u64 + 1])
        .at(path)?;
    if last.first().copied() != Some(t_nnz as i64) {
        return Ok(Err("indptr does not end at the number of entries".into()));
    }
    let s_arr = |name: &str| -> Result<H5Array> {
        let p = format!("{path}/{name}");
        H5Array::new(sf.dataset(&p).at(&p)?).at(&p)
    };
    let (s_data, s_ix, s_ip) = (s_arr("data")?, s_arr("indices")?, s_arr("indptr")?);
    if promote(data_elem, s_data.elem().value_type()) != data_elem.value_type()
        || !ix_elem.is_integer()
        || !ip_elem.is_integer()
    {
        return Ok(Err(format!(
            "the values ({:?} into {data_elem:?}) or positions need a type change",
            s_data.elem()
        )));
    }
    let ip = s_ip.read_ranges_i64(&[0..s_rows as u64 + 1]).at(path)?;
    let corrupt = |what: &str| Error::element(path, format!("source file: {what}"));
    let (Some(&a), Some(&b)) = (ip.first(), ip.last()) else {
        return Err(corrupt("indptr too short"));
    };
    if a < 0 || ip.windows(2).any(|w| w[1] < w[0]) || b as u64 > s_data.len().min(s_ix.len()) {
        return Err(corrupt("indptr is decreasing or past the entries"));
    }
    let total = t_nnz + (b - a) as u64;
    let fits = |e: ElemType, v: u64| match e {
        ElemType::I32 => v <= i32::MAX as u64,
        ElemType::U32 => v <= u32::MAX as u64,
        ElemType::I64 | ElemType::U64 => v <= i64::MAX as u64,
        _ => false,
    };
    if !fits(ip_elem, total) || !fits(ix_elem, n_vars) {
        return Ok(Err("the new entries do not fit the position type".into()));
    }
    let range = a as u64..b as u64;
    let idx = s_ix
        .read_ranges_values(std::slice::from_ref(&range))
        .at(path)?;
    if !all_in_range(&idx, n_vars, path)? {
        return Err(corrupt("column index out of range"));
    }
    let indices = encode(idx, ix_elem, path)?;
    let shifted: Vec<i64> = ip[1..].iter().map(|&p| p - a + t_nnz as i64).collect();
    let indptr = encode(Values::I64(shifted), ip_elem, path)?;
    Ok(Ok(Grow {
        path: path.to_string(),
        data: s_data,
        data_elem,
        range,
        indices,
        indptr,
        shape: ((t_rows + s_rows) as u64, n_vars),
    }))
}

impl Plan {
    fn run(mut self, target: &Path) -> Result<ConcatStats> {
        let name = target.display().to_string();
        let mut ed = Editor::open(target).at(&name)?;
        // 1. The matrices' arrays (anndata still reads the old rows). The values are read
        // here, after the indices were written and dropped, one matrix at a time, so that
        // about one array is held in memory at once.
        for g in &mut self.matrices {
            let grow = |ed: &mut Editor, member: &str, bytes: Vec<u8>| -> Result<()> {
                let p = format!("{}/{member}", g.path);
                if bytes.is_empty() {
                    return Ok(());
                }
                ed.append(&p, &bytes).at(&p)
            };
            grow(&mut ed, "indices", std::mem::take(&mut g.indices))?;
            let p = format!("{}/data", g.path);
            let v = g
                .data
                .read_ranges_values(std::slice::from_ref(&g.range))
                .at(&p)?;
            grow(&mut ed, "data", encode(v, g.data_elem, &p)?)?;
            grow(&mut ed, "indptr", std::mem::take(&mut g.indptr))?;
        }
        // 2. The window: obs members out (index first), new shapes, new column order.
        for m in &self.obs_members {
            let p = format!("/obs/{m}");
            ed.delete_link(&p).at(&p)?;
        }
        for g in &self.matrices {
            let shape = [g.shape.0 as i64, g.shape.1 as i64];
            ed.set_attr(&g.path, "shape", AttrValue::array(&shape))
                .at(&g.path)?;
        }
        if self.column_order_changed {
            let order: Vec<String> = self.obs.columns.iter().map(|(n, _)| n.clone()).collect();
            ed.set_attr("/obs", "column-order", AttrValue::Strings(order))
                .at("/obs")?;
        }
        // 3. obs's new members in one commit.
        let index = Column::Strings(self.obs.index.clone());
        let index_name = self.obs_members[0].clone();
        let cols = &self.obs.columns;
        ed.graft("/obs", |w| {
            let inner = |w: &mut h5format::write::FileWriter| -> Result<()> {
                write_column(w, &format!("/{index_name}"), &index)?;
                for (n, c) in cols {
                    write_column(w, &format!("/{n}"), c)?;
                }
                Ok(())
            };
            inner(w).map_err(|e| h5format::Error::Usage(e.to_string()))
        })
        .at("/obs")?;
        Ok(self.stats)
    }
}
