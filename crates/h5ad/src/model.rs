//! The AnnData model: [`AnnData`], dataframes, columns and the `uns` element tree ([`Element`]);
//! its arrays ([`Dense`], [`StringArray`]) and matrices ([`Matrix`]) live in the modules below it
//! and are re-exported here.

use std::collections::BTreeMap;

use h5sparse::{Selection, SparseResult, Values};

use crate::backed::{dense_take_rows, positions, sparse_select};
use crate::error::{Error, Result};

pub use crate::array::{Dense, StringArray};
pub use crate::backed::Matrix;

/// One dataframe column.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Numbers (never [`Values::Bool`]: booleans are [`Column::Bool`]).
    Numeric(Values),
    /// Booleans.
    Bool(Vec<bool>),
    /// Strings.
    Strings(Vec<String>),
    /// A pandas categorical: `codes[i]` indexes `categories`, -1 = missing.
    Categorical {
        /// Category codes (-1 for a missing value).
        codes: Vec<i64>,
        /// The categories (a plain column: numbers, booleans or strings).
        categories: Box<Column>,
        /// Ordered categorical.
        ordered: bool,
    },
    /// A pandas nullable array (`Int64`, `boolean`, `string`): `mask[i]` = missing.
    Nullable {
        /// The values (a plain column; undefined where masked).
        values: Box<Column>,
        /// True where the value is missing.
        mask: Vec<bool>,
    },
}

impl Column {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Bool(v) => v.len(),
            Column::Strings(v) => v.len(),
            Column::Categorical { codes, .. } => codes.len(),
            Column::Nullable { mask, .. } => mask.len(),
        }
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows at `positions` (each must be `< len()`).
    pub fn take(&self, positions: &[usize]) -> crate::Result<Column> {
        fn pick<T: Clone>(v: &[T], p: &[usize]) -> crate::Result<Vec<T>> {
            p.iter()
                .map(|&i| {
                    v.get(i)
                        .cloned()
                        .ok_or_else(|| crate::Error::Usage(format!("row {i} out of range")))
                })
                .collect()
        }
        Ok(match self {
            Column::Numeric(v) => Column::Numeric(
                v.gather(positions)
                    .map_err(|e| crate::Error::Usage(e.to_string()))?,
            ),
            Column::Bool(v) => Column::Bool(pick(v, positions)?),
            Column::Strings(v) => Column::Strings(pick(v, positions)?),
            Column::Categorical {
                codes,
                categories,
                ordered,
            } => Column::Categorical {
                codes: pick(codes, positions)?,
                categories: categories.clone(),
                ordered: *ordered,
            },
            Column::Nullable { values, mask } => Column::Nullable {
                values: Box::new(values.take(positions)?),
                mask: pick(mask, positions)?,
            },
        })
    }
}

/// A pandas dataframe as anndata stores it (`obs`, `var`, or a dataframe in `obsm`/`uns`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DataFrame {
    /// Name of the index dataset (the `_index` attribute; `"_index"` when unnamed).
    pub index_name: String,
    /// Row names.
    pub index: Vec<String>,
    /// Columns in `column-order`.
    pub columns: Vec<(String, Column)>,
}

impl DataFrame {
    /// A dataframe with only an index.
    pub fn from_index(index: Vec<String>) -> Self {
        DataFrame {
            index_name: "_index".into(),
            index,
            columns: Vec::new(),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when the dataframe has no rows.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    /// The rows at `positions`.
    pub fn take(&self, positions: &[usize]) -> crate::Result<DataFrame> {
        let index = positions
            .iter()
            .map(|&i| {
                self.index
                    .get(i)
                    .cloned()
                    .ok_or_else(|| crate::Error::Usage(format!("row {i} out of range")))
            })
            .collect::<crate::Result<Vec<_>>>()?;
        let columns = self
            .columns
            .iter()
            .map(|(n, c)| Ok((n.clone(), c.take(positions)?)))
            .collect::<crate::Result<Vec<_>>>()?;
        Ok(DataFrame {
            index_name: self.index_name.clone(),
            index,
            columns,
        })
    }
}

/// Any element of `uns`, `obsm` or `varm`.
#[derive(Debug, Clone, PartialEq)]
pub enum Element {
    /// A mapping (`dict`).
    Dict(BTreeMap<String, Element>),
    /// A dense numeric or boolean array (`array`).
    Dense(Dense),
    /// A string array (`string-array`).
    Strings(StringArray),
    /// A numeric or boolean scalar (`numeric-scalar`): one value.
    Scalar(Values),
    /// A string scalar (`string`).
    String(String),
    /// A sparse matrix (`csr_matrix` / `csc_matrix`).
    Sparse(SparseResult),
    /// A dataframe.
    DataFrame(DataFrame),
    /// A categorical or nullable array.
    Column(Column),
    /// A numpy structured array (anndata's `rec-array`, or a compound dataset of an old
    /// file): named fields in order, each a [`Element::Dense`] or [`Element::Strings`]
    /// whose first dimension is the number of records. Written as a `dict` of its fields.
    Records(Vec<(String, Element)>),
}

/// An AnnData object: a matrix `X` of `n_obs` × `n_vars` with annotations.
#[derive(Debug, Clone, Default)]
pub struct AnnData {
    /// Number of observations (rows, cells).
    pub n_obs: usize,
    /// Number of variables (columns, genes).
    pub n_vars: usize,
    /// The main matrix (absent in some files).
    pub x: Option<Matrix>,
    /// Other matrices of the same shape.
    pub layers: BTreeMap<String, Matrix>,
    /// Observation annotations (one row per observation).
    pub obs: DataFrame,
    /// Variable annotations (one row per variable).
    pub var: DataFrame,
    /// Multi-dimensional observation annotations (first dimension `n_obs`).
    pub obsm: BTreeMap<String, Element>,
    /// Multi-dimensional variable annotations (first dimension `n_vars`).
    pub varm: BTreeMap<String, Element>,
    /// Pairwise observation matrices (`n_obs` × `n_obs`).
    pub obsp: BTreeMap<String, Matrix>,
    /// Pairwise variable matrices (`n_vars` × `n_vars`).
    pub varp: BTreeMap<String, Matrix>,
    /// Unstructured annotations.
    pub uns: BTreeMap<String, Element>,
}

/// Rows `rows` of an `obsm`/`varm` element.
pub(crate) fn element_take_rows(e: &Element, rows: &Selection) -> Result<Element> {
    Ok(match e {
        Element::Dense(d) => Element::Dense(dense_take_rows(d, &positions(rows))?),
        Element::Sparse(s) => {
            Element::Sparse(sparse_select(s, rows, &Selection::all(s.shape.1 as u64))?)
        }
        Element::DataFrame(df) => Element::DataFrame(df.take(&positions(rows))?),
        Element::Strings(s) => {
            let stride: usize = s.shape.iter().skip(1).product();
            let mut values = Vec::new();
            for r in rows.iter() {
                let r = r as usize;
                let part = s
                    .values
                    .get(r * stride..(r + 1) * stride)
                    .ok_or_else(|| Error::Usage(format!("row {r} out of range")))?;
                values.extend_from_slice(part);
            }
            let mut shape = s.shape.clone();
            if let Some(x) = shape.first_mut() {
                *x = rows.len() as usize;
            }
            Element::Strings(StringArray {
                shape,
                values,
                width: s.width,
            })
        }
        Element::Records(fields) => Element::Records(
            fields
                .iter()
                .map(|(k, v)| Ok((k.clone(), element_take_rows(v, rows)?)))
                .collect::<Result<Vec<_>>>()?,
        ),
        other => other.clone(),
    })
}
