//! Opening, subsetting and writing whole AnnData objects.

use std::collections::BTreeMap;
use std::path::Path;

use h5format::write::FileWriter;
use h5format::{File, Object};
use h5sparse::Selection;

use crate::backed::{matrix_select, BackedMatrix};
use crate::error::{Context, Error, Result};
use crate::legacy;
use crate::model::{element_take_rows, AnnData, DataFrame, Matrix};
use crate::read::{read_element, read_mapping, read_matrix, read_root_dataframe};
use crate::write::{write_dataframe, write_element, write_matrix, WriteOptions};

fn read_any_matrix(backed: bool) -> impl FnMut(Object, &str) -> Result<Matrix> {
    move |obj, path| {
        if backed {
            Ok(Matrix::Backed(BackedMatrix::open(obj, path)?))
        } else {
            read_matrix(obj, path)
        }
    }
}

/// `obsm` / `varm`: a group of elements, or (before anndata 0.7) one compound dataset.
fn read_axis_mapping(file: &File, name: &str) -> Result<BTreeMap<String, crate::Element>> {
    let root = file.root().at("/")?;
    if root.link(name).at(name)?.is_some() {
        let path = format!("/{name}");
        if let Object::Dataset(ds) = root.member(name).at(&path)? {
            if legacy::is_compound(&Object::Dataset(ds.clone())) {
                return legacy::read_records_mapping(&ds);
            }
        }
    }
    read_mapping(file, name, read_element)
}

impl AnnData {
    /// Open an `.h5ad` file in backed mode: `obs`, `var`, `obsm`, `varm`, `obsp`, `varp` and
    /// `uns` are read; `X` and the layers stay in the file ([`Matrix::Backed`]).
    pub fn open(path: impl AsRef<Path>) -> Result<AnnData> {
        let p = path.as_ref().display().to_string();
        let file = File::open(path).at(&p)?;
        Self::from_file(&file, true)
    }

    /// Read a whole `.h5ad` file into memory.
    pub fn read(path: impl AsRef<Path>) -> Result<AnnData> {
        let p = path.as_ref().display().to_string();
        let file = File::open(path).at(&p)?;
        Self::from_file(&file, false)
    }

    /// Read an opened file; `backed` leaves `X` and the layers in the file.
    pub fn from_file(file: &File, backed: bool) -> Result<AnnData> {
        let root = file.root().at("/")?;
        let x = if root.link("X").at("X")?.is_some() {
            let obj = root.member("X").at("X")?;
            Some(read_any_matrix(backed)(obj, "/X")?)
        } else {
            None
        };
        let obs = read_root_dataframe(file, "obs")?;
        let var = read_root_dataframe(file, "var")?;
        let (xr, xc) = x.as_ref().map(Matrix::shape).unwrap_or((0, 0));
        let n_obs = obs.as_ref().map(DataFrame::len).unwrap_or(xr);
        let n_vars = var.as_ref().map(DataFrame::len).unwrap_or(xc);
        let default_names = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
        let obs = obs.unwrap_or_else(|| DataFrame::from_index(default_names(n_obs)));
        let var = var.unwrap_or_else(|| DataFrame::from_index(default_names(n_vars)));
        if x.is_some() && (xr, xc) != (n_obs, n_vars) {
            return Err(Error::element(
                "X",
                format!("shape ({xr}, {xc}) but obs has {n_obs} rows and var {n_vars}"),
            ));
        }
        let layers = read_mapping(file, "layers", read_any_matrix(backed))?;
        for (k, m) in &layers {
            if m.shape() != (n_obs, n_vars) {
                return Err(Error::element(
                    &format!("layers/{k}"),
                    format!("shape {:?}, expected ({n_obs}, {n_vars})", m.shape()),
                ));
            }
        }
        let mut ad = AnnData {
            n_obs,
            n_vars,
            x,
            layers,
            obs,
            var,
            obsm: read_axis_mapping(file, "obsm")?,
            varm: read_axis_mapping(file, "varm")?,
            obsp: read_mapping(file, "obsp", read_matrix)?,
            varp: read_mapping(file, "varp", read_matrix)?,
            uns: read_mapping(file, "uns", read_element)?,
        };
        // anndata's read-time compatibility fixes, in its order.
        legacy::move_adjacency(&mut ad.uns, &mut ad.obsp);
        if legacy::is_legacy_file(file)? {
            legacy::clean_uns(&mut ad.uns, [&mut ad.obs, &mut ad.var])?;
        }
        Ok(ad)
    }

    /// True when `X` or a layer is still in its file.
    pub fn is_backed(&self) -> bool {
        self.x
            .iter()
            .chain(self.layers.values())
            .any(|m| matches!(m, Matrix::Backed(_)))
    }

    /// The observation names.
    pub fn obs_names(&self) -> &[String] {
        &self.obs.index
    }

    /// The variable names.
    pub fn var_names(&self) -> &[String] {
        &self.var.index
    }

    /// An in-memory AnnData of observations `rows` and variables `cols` (numpy/scipy
    /// selection semantics: order and repetitions are kept). Backed matrices read only the
    /// selected part.
    pub fn subset(&self, rows: &Selection, cols: &Selection) -> Result<AnnData> {
        let check = |s: &Selection, n: usize, what: &str| -> Result<Vec<usize>> {
            s.iter()
                .map(|p| {
                    usize::try_from(p)
                        .ok()
                        .filter(|&p| p < n)
                        .ok_or_else(|| Error::Usage(format!("{what} {p} out of range 0..{n}")))
                })
                .collect()
        };
        let r = check(rows, self.n_obs, "observation")?;
        let c = check(cols, self.n_vars, "variable")?;
        let sel_map = |m: &BTreeMap<String, Matrix>, a: &Selection, b: &Selection, name: &str| {
            m.iter()
                .map(|(k, v)| {
                    let sub =
                        matrix_select(v, a, b).map_err(|e| prefix(e, &format!("{name}/{k}")))?;
                    Ok((k.clone(), sub))
                })
                .collect::<Result<BTreeMap<_, _>>>()
        };
        let take_map = |m: &BTreeMap<String, crate::Element>, s: &Selection, name: &str| {
            m.iter()
                .map(|(k, v)| {
                    let sub =
                        element_take_rows(v, s).map_err(|e| prefix(e, &format!("{name}/{k}")))?;
                    Ok((k.clone(), sub))
                })
                .collect::<Result<BTreeMap<_, _>>>()
        };
        let x = match &self.x {
            Some(m) => Some(matrix_select(m, rows, cols).map_err(|e| prefix(e, "X"))?),
            None => None,
        };
        Ok(AnnData {
            n_obs: r.len(),
            n_vars: c.len(),
            x,
            layers: sel_map(&self.layers, rows, cols, "layers")?,
            obs: self.obs.take(&r)?,
            var: self.var.take(&c)?,
            obsm: take_map(&self.obsm, rows, "obsm")?,
            varm: take_map(&self.varm, cols, "varm")?,
            obsp: sel_map(&self.obsp, rows, rows, "obsp")?,
            varp: sel_map(&self.varp, cols, cols, "varp")?,
            uns: self.uns.clone(),
        })
    }

    /// Load every backed matrix into memory.
    pub fn to_memory(&self) -> Result<AnnData> {
        self.subset(
            &Selection::all(self.n_obs as u64),
            &Selection::all(self.n_vars as u64),
        )
    }

    /// Write to an `.h5ad` file that anndata reads (backed matrices are streamed from
    /// their file when their format is kept).
    pub fn write_h5ad(&self, path: impl AsRef<Path>, opts: WriteOptions) -> Result<()> {
        let p = path.as_ref().display().to_string();
        let mut w = FileWriter::create(path).at(&p)?;
        self.write_to(&mut w, opts)?;
        w.finish().at(&p)
    }

    /// Write every element into a file being written.
    pub fn write_to(&self, w: &mut FileWriter, opts: WriteOptions) -> Result<()> {
        if self.obs.len() != self.n_obs || self.var.len() != self.n_vars {
            return Err(Error::Usage(format!(
                "obs has {} rows and var {} for a {}x{} AnnData",
                self.obs.len(),
                self.var.len(),
                self.n_obs,
                self.n_vars
            )));
        }
        crate::set_encoding(w, "/", "anndata", "0.1.0").at("/")?;
        write_dataframe(w, "/obs", &self.obs)?;
        write_dataframe(w, "/var", &self.var)?;
        if let Some(x) = &self.x {
            if x.shape() != (self.n_obs, self.n_vars) {
                return Err(Error::element(
                    "X",
                    format!("shape {:?} differs from the AnnData's", x.shape()),
                ));
            }
            write_matrix(w, "/X", x, opts.x_format, opts.gzip, opts.chunk_elems)?;
        }
        let dict = |w: &mut FileWriter, g: &str| -> Result<()> {
            w.create_group(g).at(g)?;
            crate::set_encoding(w, g, "dict", "0.1.0").at(g)
        };
        dict(w, "/layers")?;
        for (k, m) in &self.layers {
            write_matrix(
                w,
                &format!("/layers/{k}"),
                m,
                None,
                opts.gzip,
                opts.chunk_elems,
            )?;
        }
        for (g, map) in [
            ("/obsm", &self.obsm),
            ("/varm", &self.varm),
            ("/uns", &self.uns),
        ] {
            dict(w, g)?;
            for (k, e) in map {
                write_element(w, &format!("{g}/{k}"), e)?;
            }
        }
        for (g, map) in [("/obsp", &self.obsp), ("/varp", &self.varp)] {
            dict(w, g)?;
            for (k, m) in map {
                write_matrix(w, &format!("{g}/{k}"), m, None, None, opts.chunk_elems)?;
            }
        }
        Ok(())
    }
}

fn prefix(e: Error, path: &str) -> Error {
    match e {
        Error::Usage(d) => Error::element(path, d),
        other => other,
    }
}
