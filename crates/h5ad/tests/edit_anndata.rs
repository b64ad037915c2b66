//! In-place element edits ([`H5adEditor`]) checked against anndata: a file written by
//! anndata gets each edit of `edit_ops::OPS` in turn; after each one, anndata
//! (`read_h5ad`, in memory and `backed='r'`) must read our file exactly as the base file
//! changed in memory by anndata and written by it — values, dtypes, categories, column
//! order. `h5dump` must accept every edited file. Refused edits leave the file unchanged.

mod edit_ops;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use edit_ops::{apply, have_anndata, make_base, N_OBS, N_VARS, OPS};
use h5ad::edit::H5adEditor;
use h5ad::{Column, DataFrame, Dense, Element, Error, Format, Matrix, Values};
use h5format::write::Durability;

fn h5dump_ok(path: &Path) {
    match Command::new("h5dump").arg(path).output() {
        Ok(out) => assert!(
            out.status.success(),
            "h5dump {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => eprintln!("skipping h5dump: not installed"),
    }
}

/// Apply every operation to a copy of the base, keeping a copy after each one.
fn edited_states(dir: &Path, base: &Path, tag: &str) -> Vec<PathBuf> {
    let work = dir.join(format!("{tag}-work.h5ad"));
    std::fs::copy(base, &work).unwrap();
    let mut ed = H5adEditor::open(&work).unwrap();
    ed.set_durability(Durability::PageCache);
    assert_eq!((ed.n_obs(), ed.n_vars()), (N_OBS, N_VARS));
    let mut states = Vec::new();
    for (k, op) in OPS.iter().enumerate() {
        apply(&mut ed, op);
        let p = dir.join(format!("{tag}-state{}.h5ad", k + 1));
        std::fs::copy(&work, &p).unwrap();
        states.push(p);
    }
    states
}

#[test]
fn edits_read_by_anndata_like_its_own() {
    if !have_anndata() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (tag, latest) in [("earliest", false), ("latest", true)] {
        let base = dir.path().join(format!("{tag}-base.h5ad"));
        make_base(&base, latest);
        let states = edited_states(dir.path(), &base, tag);
        let ops = OPS.join(",");
        let mut args: Vec<&OsStr> = vec!["compare".as_ref(), ops.as_ref(), base.as_os_str()];
        args.extend(states.iter().map(|p| p.as_os_str()));
        let out = edit_ops::check(&args);
        assert!(
            out.status.success(),
            "{tag}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for p in &states {
            h5dump_ok(p);
            h5ad::AnnData::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        }
        // Our own reader sees the last state's changes.
        let last = h5ad::AnnData::read(states.last().unwrap()).unwrap();
        let names: Vec<&str> = last.obs.columns.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["n", "ct", "cell_type", "flag"]);
        assert!(last.layers.contains_key("sp") && !last.layers.contains_key("counts"));
        assert!(matches!(last.uns.get("a"), Some(Element::String(s)) if s == "hello"));
    }
}

fn column(n: usize) -> Column {
    Column::Numeric(Values::F64(vec![0.0; n]))
}

fn dense(shape: &[usize]) -> Dense {
    Dense {
        shape: shape.to_vec(),
        values: Values::F64(vec![1.0; shape.iter().product()]),
    }
}

#[test]
fn refused_edits_leave_the_file_unchanged() {
    if !have_anndata() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.h5ad");
    make_base(&base, false);
    let before = std::fs::read(&base).unwrap();
    let mut ed = H5adEditor::open(&base).unwrap();
    type Case<'a> = (&'a str, Box<dyn Fn(&mut H5adEditor) -> h5ad::Result<()>>);
    let cases: Vec<Case> = vec![
        (
            "obs column of the wrong length",
            Box::new(|ed| ed.write_column("obs", "c", &column(N_OBS - 1))),
        ),
        (
            "var column of the wrong length",
            Box::new(|ed| ed.write_column("var", "c", &column(N_OBS))),
        ),
        (
            "column named like the index",
            Box::new(|ed| ed.write_column("obs", "_index", &column(N_OBS))),
        ),
        (
            "categorical codes out of range",
            Box::new(|ed| {
                ed.write_column(
                    "obs",
                    "c",
                    &Column::Categorical {
                        codes: vec![5; N_OBS],
                        categories: Box::new(Column::Strings(vec!["a".into()])),
                        ordered: false,
                    },
                )
            }),
        ),
        (
            "layer of the wrong shape",
            Box::new(|ed| ed.write_matrix("layers/l", &Matrix::Dense(dense(&[N_OBS, 3])))),
        ),
        (
            "sparse layer of the wrong shape",
            Box::new(|ed| {
                let s =
                    edit_ops::sparse(N_VARS, N_OBS, &vec![1.0; N_OBS * N_VARS], true, Format::Csr);
                ed.write_matrix("layers/l", &Matrix::Sparse(s))
            }),
        ),
        (
            "obsp not n_obs x n_obs",
            Box::new(|ed| ed.write_matrix("obsp/p", &Matrix::Dense(dense(&[N_OBS, N_VARS])))),
        ),
        (
            "obsm of the wrong first dimension",
            Box::new(|ed| ed.write_element("obsm/m", &Element::Dense(dense(&[N_VARS, 2])))),
        ),
        (
            "obsm dataframe with another index",
            Box::new(|ed| {
                let df = DataFrame::from_index((0..N_OBS).map(|i| format!("x{i}")).collect());
                ed.write_element("obsm/df", &Element::DataFrame(df))
            }),
        ),
        (
            "scalar in obsm",
            Box::new(|ed| ed.write_element("obsm/s", &Element::String("x".into()))),
        ),
        (
            "deleting a missing column",
            Box::new(|ed| ed.delete_element("obs/missing")),
        ),
        (
            "deleting the index",
            Box::new(|ed| ed.delete_element("obs/_index")),
        ),
        (
            "unknown key",
            Box::new(|ed| ed.write_element("raw/x", &Element::String("x".into()))),
        ),
        (
            "bad name",
            Box::new(|ed| ed.write_element("uns/a//b", &Element::String("x".into()))),
        ),
        (
            "uns below a dataset",
            Box::new(|ed| ed.write_element("uns/a/b", &Element::String("x".into()))),
        ),
    ];
    for (what, f) in &cases {
        let err = f(&mut ed).expect_err(what);
        let element = matches!(err, Error::Element { .. });
        let usage = matches!(err, Error::Usage(_));
        assert!(element || usage, "{what}: {err:?}");
        assert_eq!(
            std::fs::read(&base).unwrap(),
            before,
            "{what}: file changed"
        );
        eprintln!("{what}: {err}");
    }
    // Length errors are element errors naming the column.
    let err = ed.write_column("obs", "c", &column(3)).unwrap_err();
    assert!(
        matches!(&err, Error::Element { path, detail } if path == "obs/c" && detail.contains("3 rows")),
        "{err:?}"
    );
}
