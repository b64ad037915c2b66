//! The element edits of the in-place edit tests, made with [`H5adEditor`]; `edit_check.py`
//! makes the same ones with anndata in memory (keep `op` there in step with [`apply`]).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use h5ad::edit::H5adEditor;
use h5ad::{Column, DataFrame, Dense, Element, Format, Matrix, SparseResult, Values};

pub const N_OBS: usize = 30;
pub const N_VARS: usize = 12;

/// Every operation, in the order the tests apply them.
pub const OPS: &[&str] = &[
    "obs_replace_num",
    "obs_add_cat",
    "obs_cat_to_strings",
    "obs_add_bool",
    "obs_del",
    "var_add_int",
    "var_del",
    "layer_csr",
    "layer_csc",
    "layer_replace_dense",
    "obsm_2d",
    "obsm_1d",
    "obsm_df",
    "obsm_replace_sparse",
    "obsp_csr",
    "uns_nested_new",
    "uns_replace",
    "uns_del",
    "layer_del",
    "x_replace",
];

pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/edit_check.py")
}

/// `python3 edit_check.py args...`.
pub fn check(args: &[&std::ffi::OsStr]) -> Output {
    Command::new("python3")
        .arg(script())
        .args(args)
        .output()
        .expect("python3 runs")
}

/// Whether python3 has anndata (prints a skip message if not).
pub fn have_anndata() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import anndata, h5py, scipy, pandas"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("skipping: python3 with anndata, h5py, scipy and pandas is not available");
    }
    ok
}

/// Write the base file with anndata (`latest`: copied into a libver="latest" file).
pub fn make_base(path: &Path, latest: bool) {
    let mut args = vec!["base".as_ref(), path.as_os_str()];
    if latest {
        args.push("latest".as_ref());
    }
    let out = check(&args);
    assert!(
        out.status.success(),
        "base: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A dense matrix as CSR or CSC (zeros left out), with anndata's index types.
pub fn sparse(rows: usize, cols: usize, v: &[f64], f32s: bool, format: Format) -> SparseResult {
    let (major, minor) = match format {
        Format::Csr => (rows, cols),
        Format::Csc => (cols, rows),
    };
    let (mut indptr, mut indices, mut data) = (vec![0i32], Vec::new(), Vec::new());
    for a in 0..major {
        for b in 0..minor {
            let (i, j) = if format == Format::Csr {
                (a, b)
            } else {
                (b, a)
            };
            let x = v[i * cols + j];
            if x != 0.0 {
                indices.push(b as i32);
                data.push(x);
            }
        }
        indptr.push(indices.len() as i32);
    }
    SparseResult {
        format,
        shape: (rows, cols),
        indptr: Values::I32(indptr),
        indices: Values::I32(indices),
        data: if f32s {
            Values::F32(data.iter().map(|&x| x as f32).collect())
        } else {
            Values::F64(data)
        },
    }
}

/// ((7i + 3j) mod 5), the matrix of the new layers and X.
pub fn m_values() -> Vec<f64> {
    (0..N_OBS)
        .flat_map(|i| (0..N_VARS).map(move |j| ((7 * i + 3 * j) % 5) as f64))
        .collect()
}

fn p_values() -> Vec<f64> {
    (0..N_OBS)
        .flat_map(|i| (0..N_OBS).map(move |j| f64::from(u8::from((i + j) % 4 == 0))))
        .collect()
}

fn strings(v: impl IntoIterator<Item = String>) -> Column {
    Column::Strings(v.into_iter().collect())
}

/// Make operation `name` with our editor.
pub fn apply(ed: &mut H5adEditor, name: &str) {
    let n = N_OBS;
    let r = match name {
        "obs_replace_num" => ed.write_column(
            "obs",
            "n",
            &Column::Numeric(Values::F64((0..n).map(|i| i as f64 * 2.5).collect())),
        ),
        "obs_add_cat" => ed.write_column(
            "obs",
            "cell_type",
            &Column::Categorical {
                codes: (0..n).map(|i| [2, 0, 1][i % 3]).collect(),
                categories: Box::new(strings(["B", "NK", "T"].map(String::from))),
                ordered: false,
            },
        ),
        "obs_cat_to_strings" => ed.write_element(
            "obs/ct",
            &Element::Column(strings((0..n).map(|i| format!("s{}", i % 4)))),
        ),
        "obs_add_bool" => ed.write_column(
            "obs",
            "flag",
            &Column::Bool((0..n).map(|i| i % 2 == 0).collect()),
        ),
        "obs_del" => ed.delete_element("obs/score"),
        "var_add_int" => ed.write_element(
            "var/gi",
            &Element::Dense(Dense {
                shape: vec![N_VARS],
                values: Values::I32((0..N_VARS as i32).map(|i| i * 3).collect()),
            }),
        ),
        "var_del" => ed.delete_element("var/g"),
        "layer_csr" => ed.write_matrix(
            "layers/sp",
            &Matrix::Sparse(sparse(n, N_VARS, &m_values(), true, Format::Csr)),
        ),
        "layer_csc" => ed.write_element(
            "layers/cs",
            &Element::Sparse(sparse(n, N_VARS, &m_values(), true, Format::Csc)),
        ),
        "layer_replace_dense" => ed.write_matrix(
            "layers/counts",
            &Matrix::Dense(Dense {
                shape: vec![n, N_VARS],
                values: Values::F64((0..n * N_VARS).map(|i| i as f64 / 4.0).collect()),
            }),
        ),
        "obsm_2d" => ed.write_element(
            "obsm/emb",
            &Element::Dense(Dense {
                shape: vec![n, 2],
                values: Values::F64((0..2 * n).map(|i| i as f64 * 0.5).collect()),
            }),
        ),
        "obsm_1d" => ed.write_element(
            "obsm/one",
            &Element::Dense(Dense {
                shape: vec![n],
                values: Values::I64((0..n as i64).collect()),
            }),
        ),
        "obsm_df" => ed.write_element(
            "obsm/df",
            &Element::DataFrame(DataFrame {
                index_name: "_index".into(),
                index: (0..n).map(|i| format!("cell{i}")).collect(),
                columns: vec![(
                    "q".into(),
                    Column::Numeric(Values::F64((0..n).map(|i| i as f64).collect())),
                )],
            }),
        ),
        "obsm_replace_sparse" => ed.write_element(
            "obsm/X_pca",
            &Element::Sparse(sparse(n, N_VARS, &m_values(), true, Format::Csr)),
        ),
        "obsp_csr" => ed.write_matrix(
            "obsp/dist",
            &Matrix::Sparse(sparse(n, n, &p_values(), false, Format::Csr)),
        ),
        "uns_nested_new" => ed.write_element(
            "uns/new/deep/v",
            &Element::Dense(Dense {
                shape: vec![3],
                values: Values::I64(vec![1, 2, 3]),
            }),
        ),
        "uns_replace" => ed.write_element("uns/a", &Element::String("hello".into())),
        "uns_del" => ed.delete_element("uns/nested"),
        "layer_del" => ed.delete_element("layers/counts"),
        "x_replace" => ed.write_matrix(
            "X",
            &Matrix::Sparse(sparse(n, N_VARS, &m_values(), true, Format::Csr)),
        ),
        other => panic!("unknown operation {other}"),
    };
    r.unwrap_or_else(|e| panic!("{name}: {e}"));
}
