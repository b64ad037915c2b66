//! The error type of the AnnData layer: every error names the element path.

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong while reading or writing an `.h5ad` file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An element does not follow anndata's on-disk rules.
    #[error("{path}: {detail}")]
    Element {
        /// The element path (`obs/cell_type`, `X`, `uns/nested/a`).
        path: String,
        /// What was expected and what was found.
        detail: String,
    },
    /// The HDF5 layer failed while reading or writing an element.
    #[error("{path}: {source}")]
    Format {
        /// The element path.
        path: String,
        /// The HDF5 error.
        #[source]
        source: h5format::Error,
    },
    /// The sparse layer failed while reading or writing an element.
    #[error("{path}: {source}")]
    Sparse {
        /// The element path.
        path: String,
        /// The sparse-matrix error.
        #[source]
        source: h5sparse::Error,
    },
    /// Invalid use of the API (bad selection, mismatched lengths).
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// An element error at `path`.
    pub fn element(path: &str, detail: impl std::fmt::Display) -> Self {
        Error::Element {
            path: path.trim_start_matches('/').to_string(),
            detail: detail.to_string(),
        }
    }
}

/// Attach an element path to lower-level errors.
pub(crate) trait Context<T> {
    /// Name the element whose reading or writing failed.
    fn at(self, path: &str) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, h5format::Error> {
    fn at(self, path: &str) -> Result<T> {
        self.map_err(|source| Error::Format {
            path: path.trim_start_matches('/').to_string(),
            source,
        })
    }
}

impl<T> Context<T> for std::result::Result<T, h5sparse::Error> {
    fn at(self, path: &str) -> Result<T> {
        self.map_err(|source| Error::Sparse {
            path: path.trim_start_matches('/').to_string(),
            source,
        })
    }
}
