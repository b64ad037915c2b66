//! h5sparse
