//! Concatenating AnnData files along observations on disk, in bounded memory (like
//! `anndata.experimental.concat_on_disk`).
//!
//! The output equals `anndata.concat([read_h5ad(f) for f in inputs], join=...)` for `X`, the
//! layers present in every input, `obs` (merged as in [`crate::concat_obs`]), `obs_names`
//! and `var_names`; like `anndata.concat` with its defaults, `var` keeps only its index and
//! `varm`, `obsp`, `varp`, `uns` are written empty; dense `obsm` arrays are concatenated
//! (other `obsm` entries are left out, see [`ConcatStats::obsm_skipped`]).
//!
//! Matrices are streamed: each input is read a block of rows at a time, its columns remapped
//! to the output's `var_names`, and appended to the output's CSR arrays (sparse output;
//! a CSR input whose columns are the output's is copied array to array) or
//! appended to a chunked dataset (dense output, when every input is dense). A CSC input is
//! first rewritten as CSR out of core ([`h5sparse::convert`]) into a temporary folder next
//! to the output. The output goes to a temporary file renamed onto OUT at the end, so an
//! interrupted run leaves no partial OUT. Appending to a file (atomically or in place) is [`mod@crate::append`].

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use h5format::write::{DatasetSpec, FileWriter};
use h5sparse::convert::{convert, ConvertOptions};
use h5sparse::hdf5::{H5Sink, SinkOptions};

use crate::array::convert_to;
use crate::concat_csr::{CsrEncoder, CsrOut, Piece, RawCsr};
use h5sparse::{ElemType, Format, Selection, SparseDataset, SparseResult, Values};

use crate::concat_obs::{merge_obs, promote, Join};
use crate::error::{Context, Error, Result};
use crate::model::{AnnData, DataFrame, Matrix};
use crate::write::write_dataframe;

/// Options of [`concat()`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcatOptions {
    /// Which variables are kept.
    pub join: Join,
    /// Deflate level of `X` and the layers.
    pub gzip: Option<u8>,
    /// Elements per chunk of the matrix datasets.
    pub chunk_elems: u64,
    /// Entries (sparse) or values (dense) read per block of rows.
    pub block_elems: usize,
    /// Structure versions of the output file (default [`h5format::write::Format::Earliest`];
    /// `Latest` is h5py's `libver="latest"`).
    pub libver: h5format::write::Format,
}

impl Default for ConcatOptions {
    fn default() -> Self {
        ConcatOptions {
            join: Join::Inner,
            gzip: None,
            chunk_elems: 1 << 16,
            block_elems: 1 << 21,
            libver: h5format::write::Format::Earliest,
        }
    }
}

/// What a concatenation wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConcatStats {
    /// Rows of the output.
    pub n_obs: usize,
    /// Columns of the output.
    pub n_vars: usize,
    /// Layers written (besides `X`).
    pub layers: Vec<String>,
    /// CSC inputs rewritten as CSR first.
    pub converted: usize,
    /// `obsm` entries written (dense arrays).
    pub obsm: Vec<String>,
    /// `obsm` entries left out (not dense arrays in every input, or of different widths).
    pub obsm_skipped: Vec<String>,
    /// For [`crate::append_in_place()`]: why the target was rewritten rather than grown in place
    /// (`None`: in place, or not an append).
    pub rewritten: Option<String>,
}

/// One input's matrix as a row source.
enum Rows {
    /// A CSR matrix, with its arrays for the direct copy.
    Sparse(SparseDataset, Option<Box<RawCsr>>),
    Dense(crate::BackedMatrix),
    /// An input without this layer (`outer` join): no entries, NaN in a dense output.
    Missing,
}

/// Where one input's columns go: `map[old] = Some(new)`, and whether entries stay sorted.
struct ColMap {
    map: Vec<Option<u64>>,
    monotonic: bool,
    identity: bool,
}

impl ColMap {
    fn new(names: &[String], out_pos: &HashMap<&str, u64>, n_out: usize) -> ColMap {
        let map: Vec<Option<u64>> = names
            .iter()
            .map(|n| out_pos.get(n.as_str()).copied())
            .collect();
        let kept: Vec<u64> = map.iter().flatten().copied().collect();
        let monotonic = kept.windows(2).all(|w| w[0] < w[1]);
        let identity =
            map.len() == n_out && map.iter().enumerate().all(|(i, m)| *m == Some(i as u64));
        ColMap {
            map,
            monotonic,
            identity,
        }
    }
}

/// The output's `var_names` as anndata's `merge_indices` computes them: `inner` =
/// `Index.intersection` (first input's order), `outer` = `Index.union` (sorted, unless
/// every input has the same names in the same order).
fn merge_var_names(all: &[&[String]], join: Join) -> Result<Vec<String>> {
    for names in all {
        let mut seen = HashSet::new();
        if let Some(d) = names.iter().find(|n| !seen.insert(n.as_str())) {
            return Err(Error::Usage(format!(
                "var_names are not unique ({d:?} repeats): cannot align the inputs' variables"
            )));
        }
    }
    let first = all.first().copied().unwrap_or(&[]);
    if all.iter().all(|n| *n == first) {
        return Ok(first.to_vec());
    }
    Ok(match join {
        Join::Inner => {
            let sets: Vec<HashSet<&str>> = all
                .iter()
                .skip(1)
                .map(|n| n.iter().map(String::as_str).collect())
                .collect();
            first
                .iter()
                .filter(|n| sets.iter().all(|s| s.contains(n.as_str())))
                .cloned()
                .collect()
        }
        Join::Outer => {
            let mut u: Vec<String> = all
                .iter()
                .flat_map(|n| n.iter().cloned())
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            u.sort();
            u
        }
    })
}

/// Concatenate the `.h5ad` files `inputs` along observations into `out`.
pub fn concat(inputs: &[PathBuf], out: &Path, opts: &ConcatOptions) -> Result<ConcatStats> {
    if inputs.is_empty() {
        return Err(Error::Usage("concat needs at least one input".into()));
    }
    if let Some(l) = opts.gzip.filter(|&l| l > 9) {
        return Err(Error::Usage(format!("gzip level {l} is not in 0..=9")));
    }
    // One handle per input, without the decoded-chunk cache: every chunk is read once, and
    // a cache per input would only hold memory (64 MiB each by default).
    let files = inputs
        .iter()
        .map(|p| open_file(p))
        .collect::<Result<Vec<_>>>()?;
    let ads = files
        .iter()
        .zip(inputs)
        .map(|(f, p)| backed(f, p))
        .collect::<Result<Vec<_>>>()?;
    let names: Vec<&[String]> = ads.iter().map(|a| a.var_names()).collect();
    let var_names = merge_var_names(&names, opts.join)?;
    let out_pos: HashMap<&str, u64> = var_names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u64))
        .collect();
    let maps: Vec<ColMap> = names
        .iter()
        .map(|n| ColMap::new(n, &out_pos, var_names.len()))
        .collect();
    let obs_frames: Vec<&DataFrame> = ads.iter().map(|a| &a.obs).collect();
    let obs = merge_obs(&obs_frames, opts.join)?;

    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = tempfile_dir(&dir)?;
    let mut w = FileWriter::create(out).at(&out.display().to_string())?;
    w.set_format(opts.libver).at("/")?;
    crate::set_encoding(&mut w, "/", "anndata", "0.1.0").at("/")?;
    write_dataframe(&mut w, "/obs", &obs)?;
    write_dataframe(&mut w, "/var", &DataFrame::from_index(var_names.clone()))?;
    for g in ["/obsm", "/varm", "/obsp", "/varp", "/layers", "/uns"] {
        w.create_group(g).at(g)?;
        crate::set_encoding(&mut w, g, "dict", "0.1.0").at(g)?;
    }
    let mut stats = ConcatStats {
        n_obs: obs.len(),
        n_vars: var_names.len(),
        ..ConcatStats::default()
    };
    let mut job = Job {
        w: &mut w,
        files: &files,
        maps: &maps,
        n_vars: var_names.len(),
        opts,
        tmp: tmp.path(),
        converted: 0,
    };
    let xs: Vec<Option<&Matrix>> = ads.iter().map(|a| a.x.as_ref()).collect();
    if xs.iter().all(Option::is_some) {
        let rows: Vec<usize> = ads.iter().map(|a| a.n_obs).collect();
        job.matrix_or_missing("/X", &xs, &rows)?;
    } else if xs.iter().any(Option::is_some) {
        return Err(Error::Usage(
            "some inputs have no X: cannot concatenate X".into(),
        ));
    }
    // Layers: those of every input (`inner`) or of any input (`outer`: anndata fills the
    // missing ones with zeros when the others are sparse, NaN when they are dense).
    let mut keys: Vec<&String> = ads.iter().flat_map(|a| a.layers.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let ms: Vec<Option<&Matrix>> = ads.iter().map(|a| a.layers.get(key)).collect();
        if opts.join == Join::Inner && ms.iter().any(Option::is_none) {
            continue;
        }
        let rows: Vec<usize> = ads.iter().map(|a| a.n_obs).collect();
        job.matrix_or_missing(&format!("/layers/{key}"), &ms, &rows)?;
        stats.layers.push(key.clone());
    }
    stats.converted = job.converted;
    (stats.obsm, stats.obsm_skipped) = crate::concat_obs::concat_obsm(&mut w, &ads, opts.join)?;
    drop(ads);
    w.finish().at(&out.display().to_string())?;
    Ok(stats)
}

/// Open an input file for one pass over its chunks (no decoded-chunk cache).
pub(crate) fn open_file(p: &Path) -> Result<h5format::File> {
    h5format::File::open(p)
        .map(|f| f.with_chunk_cache(0))
        .map_err(|e| Error::Usage(format!("{}: {e}", p.display())))
}

/// The AnnData of an opened input, `X` and layers left in the file; errors name the file.
pub(crate) fn backed(f: &h5format::File, p: &Path) -> Result<AnnData> {
    AnnData::from_file(f, true).map_err(|e| {
        let name = p.display().to_string();
        let msg = e.to_string();
        if msg.starts_with(name.trim_start_matches('/')) {
            Error::Usage(msg)
        } else {
            Error::Usage(format!("{name}: {msg}"))
        }
    })
}

fn tempfile_dir(dir: &Path) -> Result<TempDir> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    for attempt in 0..100u32 {
        let p = dir.join(format!(
            ".h5ad-concat.{}.{}",
            std::process::id(),
            nanos.wrapping_add(attempt)
        ));
        match std::fs::create_dir(&p) {
            Ok(()) => return Ok(TempDir(p)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(Error::Usage(format!(
                    "cannot create a temporary folder in {}: {e}",
                    dir.display()
                )))
            }
        }
    }
    Err(Error::Usage("no temporary folder name".into()))
}

/// A temporary folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writing the matrices of one output file.
struct Job<'a> {
    w: &'a mut FileWriter,
    files: &'a [h5format::File],
    maps: &'a [ColMap],
    n_vars: usize,
    opts: &'a ConcatOptions,
    tmp: &'a Path,
    converted: usize,
}

/// One block of rows in CSR form, columns already in output positions.
struct Block {
    indptr: Vec<usize>,
    indices: Vec<u64>,
    data: Values,
}

impl Job<'_> {
    fn sink_opts(&self) -> SinkOptions {
        SinkOptions {
            chunk_elems: self.opts.chunk_elems.max(1),
            gzip: self.opts.gzip,
            ..SinkOptions::default()
        }
    }

    /// Concatenate one matrix element (`X` or a layer) of every input into `path`.
    fn matrix_or_missing(
        &mut self,
        path: &str,
        ms: &[Option<&Matrix>],
        rows: &[usize],
    ) -> Result<()> {
        let mut sources = Vec::with_capacity(ms.len());
        let mut held = Vec::new();
        for (k, m) in ms.iter().enumerate() {
            let b = match m {
                Some(Matrix::Backed(b)) => b,
                None => {
                    sources.push(Rows::Missing);
                    continue;
                }
                _ => return Err(Error::element(path, "expected a matrix left in its file")),
            };
            if b.shape().0 != rows[k] {
                return Err(Error::element(path, "rows differ from obs"));
            }
            sources.push(match b.sparse() {
                Some(sd) if sd.format() == Format::Csc => {
                    let (file, sd) = self.csc_to_csr(sd, path, k)?;
                    let raw = RawCsr::open(&file, "/m").ok().map(Box::new);
                    held.push(file);
                    Rows::Sparse(sd, raw)
                }
                Some(sd) => {
                    let raw = match sd.encoding() {
                        h5sparse::Encoding::TenX => None,
                        _ => RawCsr::open(&self.files[k], path).ok().map(Box::new),
                    };
                    Rows::Sparse(sd.clone(), raw)
                }
                None => Rows::Dense(b.clone()),
            });
        }
        let total: usize = rows.iter().sum();
        let dense_out = sources
            .iter()
            .all(|s| matches!(s, Rows::Dense(_) | Rows::Missing));
        let missing = self
            .maps
            .iter()
            .any(|m| m.map.iter().flatten().count() < self.n_vars);
        let mut elem = sources
            .iter()
            .map(|s| match s {
                Rows::Sparse(sd, _) => sd.dtype().value_type(),
                Rows::Dense(b) => b_dtype(b),
                Rows::Missing => ElemType::F64,
            })
            .reduce(promote)
            .unwrap_or(ElemType::F64);
        if dense_out && missing && !matches!(elem, ElemType::F32 | ElemType::F64) {
            elem = ElemType::F64; // NaN fill
        }
        if dense_out {
            self.dense(path, &sources, rows, total, elem)
        } else {
            self.sparse(path, &sources, rows, total, elem)
        }
    }

    /// Rewrite a CSC input as CSR in a temporary file (out of core).
    fn csc_to_csr(
        &mut self,
        sd: &SparseDataset,
        path: &str,
        k: usize,
    ) -> Result<(h5format::File, SparseDataset)> {
        let file_path = self.tmp.join(format!("csr{}-{k}.h5", self.converted));
        self.converted += 1;
        let mut tw = FileWriter::create(&file_path).at(path)?;
        let sink = H5Sink::new(&mut tw, "/m", SinkOptions::default()).at(path)?;
        let copts = ConvertOptions {
            temp_dir: Some(self.tmp.to_path_buf()),
            ..ConvertOptions::default()
        };
        convert(sd, sink, &copts).at(path)?;
        tw.finish().at(path)?;
        let f = h5format::File::open(&file_path).at(path)?;
        let csr = h5sparse::hdf5::open(&f, "/m").at(path)?;
        Ok((f, csr))
    }

    fn block_rows(&self, src: &Rows, rows: usize) -> Result<usize> {
        block_rows(self.opts.block_elems, src, rows)
    }
}

fn block_rows(block_elems: usize, src: &Rows, rows: usize) -> Result<usize> {
    let per_row = match src {
        Rows::Sparse(sd, _) => {
            let nnz = sd.nnz().at("matrix")? as usize;
            nnz.div_ceil(rows.max(1)).max(1)
        }
        Rows::Dense(b) => b.shape().1.max(1),
        Rows::Missing => 1 << 12,
    };
    Ok((block_elems / per_row).clamp(1, rows.max(1)))
}

impl Job<'_> {
    fn sparse(
        &mut self,
        path: &str,
        sources: &[Rows],
        rows: &[usize],
        total: usize,
        elem: ElemType,
    ) -> Result<()> {
        let mut nnz_bound = 0u64;
        for (s, &r) in sources.iter().zip(rows) {
            nnz_bound += match s {
                Rows::Sparse(sd, _) => sd.nnz().at(path)?,
                Rows::Dense(b) => (r as u64).saturating_mul(b.shape().1 as u64),
                Rows::Missing => 0,
            };
        }
        let block_elems = self.opts.block_elems;
        let index_elem = if nnz_bound.max(total as u64).max(self.n_vars as u64) > i32::MAX as u64 {
            ElemType::I64
        } else {
            ElemType::I32
        };
        let shape = (total as u64, self.n_vars as u64);
        let so = self.sink_opts();
        let mut out = CsrOut::new(self.w, path, shape, elem, index_elem, &so)?;
        let mut enc = CsrEncoder::new(path, shape.1, elem, index_elem);
        let maps = self.maps;
        let n_vars = self.n_vars;
        // Read (and inflate) the next blocks on a second thread while this one writes: one
        // piece waits in the channel, one is being read, one written.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Piece>>(1);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for ((src, &n), map) in sources.iter().zip(rows).zip(maps) {
                    if let (Rows::Sparse(_, Some(raw)), true) = (src, map.identity) {
                        // Entries in blocks of whole input chunks, rows apart.
                        let r = raw_pieces(&mut enc, raw, n as u64, block_elems, &tx);
                        if let Err(e) = r {
                            return drop(tx.send(Err(e)));
                        }
                        continue;
                    }
                    let step = match block_rows(block_elems, src, n) {
                        Ok(s) => s,
                        Err(e) => return drop(tx.send(Err(e))),
                    };
                    let mut start = 0;
                    while start < n {
                        let len = step.min(n - start);
                        let piece = read_block(src, start, len, n_vars, path)
                            .and_then(|b| remap(b, map, path))
                            .and_then(|b| enc.block(&b.indptr, &b.indices, b.data));
                        let failed = piece.is_err();
                        if tx.send(piece).is_err() || failed {
                            return;
                        }
                        start += len;
                    }
                }
            });
            for piece in rx {
                out.push(piece?)?;
            }
            Ok::<(), Error>(())
        })?;
        out.finish()
    }

    fn dense(
        &mut self,
        path: &str,
        sources: &[Rows],
        rows: &[usize],
        total: usize,
        elem: ElemType,
    ) -> Result<()> {
        let nc = self.n_vars;
        let dt = elem.write_dtype();
        if nc == 0 || total == 0 {
            let id = self
                .w
                .create_dataset(path, DatasetSpec::new(dt, vec![total as u64, nc as u64]))
                .at(path)?;
            self.w.write_all(id, &[]).at(path)?;
        } else {
            let chunk_rows = (self.opts.chunk_elems / nc as u64).clamp(1, total as u64);
            let mut spec = DatasetSpec::new(dt, vec![0, nc as u64])
                .chunked(vec![chunk_rows, nc as u64])
                .unlimited();
            if let Some(l) = self.opts.gzip {
                spec = spec.deflate(l);
            }
            let id = self.w.create_dataset(path, spec).at(path)?;
            for ((src, &n), map) in sources.iter().zip(rows).zip(self.maps) {
                let step = self.block_rows(src, n)?;
                let mut start = 0;
                while start < n {
                    let len = step.min(n - start);
                    let vals = match src {
                        Rows::Dense(b) => dense_rows(b, start, len, path)?,
                        Rows::Missing => {
                            let nan = Values::F64(vec![f64::NAN; len * nc]);
                            let vals =
                                convert_to(&nan, elem).map_err(|e| Error::element(path, e))?;
                            self.w.append(id, &vals.to_le_bytes()).at(path)?;
                            start += len;
                            continue;
                        }
                        Rows::Sparse(..) => {
                            return Err(Error::element(path, "expected a dense input"))
                        }
                    };
                    let vals = convert_to(&vals, elem).map_err(|e| Error::element(path, e))?;
                    let out = if map.identity {
                        vals
                    } else {
                        spread_dense(&vals, len, map, nc, elem, path)?
                    };
                    self.w.append(id, &out.to_le_bytes()).at(path)?;
                    start += len;
                }
            }
        }
        crate::set_encoding(self.w, path, "array", "0.2.0").at(path)
    }
}

/// Send the pieces of a CSR input whose columns are the output's: its entries in blocks
/// of whole input chunks (no chunk decoded twice), then its `indptr` in blocks of rows.
/// Stops quietly when the writer has hung up (it failed and reports its own error).
fn raw_pieces(
    enc: &mut CsrEncoder,
    raw: &RawCsr,
    rows: u64,
    block_elems: usize,
    tx: &std::sync::mpsc::SyncSender<Result<Piece>>,
) -> Result<()> {
    let bounds = enc.raw_bounds(raw, rows)?;
    let step = CsrEncoder::raw_step(raw, block_elems);
    let mut e = bounds.0;
    while e < bounds.1 {
        let end = ((e / step + 1) * step).min(bounds.1);
        let piece = enc.raw_entries(raw, e..end);
        let failed = piece.is_err();
        if tx.send(piece).is_err() || failed {
            return Ok(());
        }
        e = end;
    }
    let mut prev = bounds.0 as i64;
    let row_step = (block_elems as u64).max(1);
    let mut r = 0;
    while r < rows {
        let len = row_step.min(rows - r);
        let piece = enc.raw_indptr(raw, r, len, bounds, &mut prev);
        let failed = piece.is_err();
        if tx.send(piece).is_err() || failed {
            return Ok(());
        }
        r += len;
    }
    if prev as u64 != bounds.1 {
        return Err(Error::element(
            enc.path(),
            "input matrix: indptr is inconsistent",
        ));
    }
    enc.add_entries(bounds.1 - bounds.0);
    Ok(())
}

fn b_dtype(b: &crate::BackedMatrix) -> ElemType {
    // A dense backed matrix: read no data, ask for a zero-row selection's type.
    match b.select(&Selection::all(0), &Selection::all(0)) {
        Ok(Matrix::Dense(d)) => d.values.elem(),
        _ => ElemType::F64,
    }
}

fn dense_rows(b: &crate::BackedMatrix, start: usize, len: usize, path: &str) -> Result<Values> {
    let sel = Selection::Range {
        start: start as u64,
        step: 1,
        len: len as u64,
    };
    match b.select(&sel, &Selection::all(b.shape().1 as u64))? {
        Matrix::Dense(d) => Ok(d.values),
        _ => Err(Error::element(path, "expected a dense matrix")),
    }
}

/// Dense rows placed at their output columns; other columns are NaN (anndata's fill for
/// dense arrays).
fn spread_dense(
    vals: &Values,
    len: usize,
    map: &ColMap,
    nc: usize,
    elem: ElemType,
    path: &str,
) -> Result<Values> {
    let src_nc = map.map.len();
    let mut pos = Vec::with_capacity(len * nc);
    let mut src_of = vec![None; nc];
    for (j, m) in map.map.iter().enumerate() {
        if let Some(o) = m {
            src_of[*o as usize] = Some(j);
        }
    }
    // Gather with a NaN sentinel appended at the end (only needed for missing columns,
    // which make `elem` a float type).
    let mut ext = vals.clone();
    if src_of.iter().any(Option::is_none) {
        let nan =
            convert_to(&Values::F64(vec![f64::NAN]), elem).map_err(|e| Error::element(path, e))?;
        ext.append(&nan).map_err(|e| Error::element(path, e))?;
    }
    let sentinel = vals.len();
    for r in 0..len {
        for s in &src_of {
            pos.push(s.map_or(sentinel, |j| r * src_nc + j));
        }
    }
    ext.gather(&pos).map_err(|e| Error::element(path, e))
}

/// Read rows `start..start+len` of one input as a CSR block with the input's own columns.
fn read_block(src: &Rows, start: usize, len: usize, _nc: usize, path: &str) -> Result<Block> {
    let sel = Selection::Range {
        start: start as u64,
        step: 1,
        len: len as u64,
    };
    match src {
        Rows::Sparse(sd, _) => {
            let part = sd.select(&sel, &Selection::all(sd.shape().1)).at(path)?;
            from_result(part, path)
        }
        Rows::Missing => Ok(Block {
            indptr: vec![0; len + 1],
            indices: Vec::new(),
            data: Values::F64(Vec::new()),
        }),
        Rows::Dense(b) => {
            let vals = dense_rows(b, start, len, path)?;
            let nc = b.shape().1;
            let mut indptr = Vec::with_capacity(len + 1);
            indptr.push(0);
            let mut indices = Vec::new();
            let mut pos = Vec::new();
            for r in 0..len {
                for c in 0..nc {
                    let p = r * nc + c;
                    let nz = match &vals {
                        Values::Bool(b) => b.get(p).copied().unwrap_or(false),
                        v => v.get_f64(p).is_some_and(|x| x != 0.0),
                    };
                    if nz {
                        indices.push(c as u64);
                        pos.push(p);
                    }
                }
                indptr.push(indices.len());
            }
            let data = vals.gather(&pos).map_err(|e| Error::element(path, e))?;
            Ok(Block {
                indptr,
                indices,
                data,
            })
        }
    }
}

/// Positions of a [`SparseResult`] (`indptr`/`indices`) as plain integers, whether the
/// result holds them as `Vec<usize>` or as [`Values`] of the file's integer type.
trait Positions {
    fn into_u64s(self) -> std::result::Result<Vec<u64>, String>;
}

impl Positions for Vec<usize> {
    fn into_u64s(self) -> std::result::Result<Vec<u64>, String> {
        Ok(self.into_iter().map(|i| i as u64).collect())
    }
}

impl Positions for Values {
    fn into_u64s(self) -> std::result::Result<Vec<u64>, String> {
        let v = self.to_i64().map_err(|e| e.to_string())?;
        v.into_iter()
            .map(|i| u64::try_from(i).map_err(|_| format!("negative position {i}")))
            .collect()
    }
}

/// The one place that reads the fields of a [`SparseResult`].
fn from_result(part: SparseResult, path: &str) -> Result<Block> {
    let bad = |e: String| Error::element(path, e);
    let indptr = part.indptr.into_u64s().map_err(bad)?;
    Ok(Block {
        indptr: indptr.into_iter().map(|i| i as usize).collect(),
        indices: part.indices.into_u64s().map_err(bad)?,
        data: part.data,
    })
}

/// Move a block's columns to their output positions: drop columns the output lacks, sort
/// each row again when the mapping does not keep the order.
fn remap(b: Block, map: &ColMap, path: &str) -> Result<Block> {
    if map.identity {
        return Ok(b);
    }
    let bad = || Error::element(path, "column index out of range");
    let mut indptr = Vec::with_capacity(b.indptr.len());
    indptr.push(0);
    let mut indices = Vec::with_capacity(b.indices.len());
    let mut pos = Vec::with_capacity(b.indices.len());
    let mut row: Vec<(u64, usize)> = Vec::new();
    for w in b.indptr.windows(2) {
        row.clear();
        for p in w[0]..w[1] {
            let c = *b.indices.get(p).ok_or_else(bad)?;
            if let Some(o) = *map.map.get(c as usize).ok_or_else(bad)? {
                row.push((o, p));
            }
        }
        if !map.monotonic {
            row.sort_by_key(|&(o, _)| o);
        }
        for &(o, p) in &row {
            indices.push(o);
            pos.push(p);
        }
        indptr.push(indices.len());
    }
    let data = b.data.gather(&pos).map_err(|e| Error::element(path, e))?;
    Ok(Block {
        indptr,
        indices,
        data,
    })
}
