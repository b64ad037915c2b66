//! The small types every layer of the crate shares: a matrix's storage order ([`Format`]),
//! how its group describes itself ([`Encoding`]) and the tuning of reads ([`ReadOptions`]).
//! They sit below `dataset`, `read` and `result`, which all use them.

/// Storage order of a sparse matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Compressed sparse rows: indptr over rows, indices are columns.
    Csr,
    /// Compressed sparse columns: indptr over columns, indices are rows.
    Csc,
}

impl Format {
    /// `"csr"` or `"csc"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csr => "csr",
            Format::Csc => "csc",
        }
    }
}

/// How the group describes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// anndata: `encoding-type` = `csr_matrix`/`csc_matrix`, `encoding-version`, `shape`.
    Anndata,
    /// The 2017 legacy: `h5sparse_format` = `csr`/`csc`, `h5sparse_shape`.
    H5sparse,
    /// 10x Genomics: a `shape` dataset, CSC of (features, barcodes).
    TenX,
}

impl Encoding {
    /// `"anndata"`, `"h5sparse"` or `"10x"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Anndata => "anndata",
            Encoding::H5sparse => "h5sparse",
            Encoding::TenX => "10x",
        }
    }
}

/// Tuning of reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// Entries per processing block (raised to the indices' chunk length).
    pub block_elems: u64,
    /// Two needed element ranges closer than this are read as one.
    pub coalesce_gap: u64,
    /// Process blocks in parallel with rayon.
    pub parallel: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            block_elems: 1 << 20,
            coalesce_gap: 1024,
            parallel: true,
        }
    }
}
