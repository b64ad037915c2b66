//! h5ad
