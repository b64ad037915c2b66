//! The error type of the sparse layer.

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong while reading or writing a sparse matrix group.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The storage layer (HDF5 reader or writer) failed.
    #[error(transparent)]
    Format(#[from] h5format::Error),
    /// A selection is invalid (bad syntax, step 0, index out of range, wrong mask length).
    #[error("invalid selection: {0}")]
    Selection(String),
    /// The group is not a sparse matrix group (missing attribute or member, bad shape...).
    #[error("not a sparse matrix: {0}")]
    NotSparse(String),
    /// The stored arrays contradict each other (indptr decreasing or past nnz, index out of
    /// range). `dataset` names the array and `index` the element position in it.
    #[error("corrupt sparse matrix: {dataset}[{index}]: {detail}")]
    Corrupt {
        /// `indptr`, `indices`, `data` or `shape`.
        dataset: &'static str,
        /// Element position in that dataset.
        index: u64,
        /// What is wrong.
        detail: String,
    },
    /// A result or buffer would be larger than memory allows.
    #[error("{what} needs {requested} elements, more than can be allocated")]
    TooLarge {
        /// What was being allocated.
        what: &'static str,
        /// Number of elements requested.
        requested: u64,
    },
    /// Invalid use of the API (wrong types, bad arguments to the writer).
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// A corruption error.
    pub fn corrupt(dataset: &'static str, index: u64, detail: impl std::fmt::Display) -> Self {
        Error::Corrupt {
            dataset,
            index,
            detail: detail.to_string(),
        }
    }
}
