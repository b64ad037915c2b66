//! In-memory N-D arrays: numbers or booleans ([`Dense`]) and strings ([`StringArray`]),
//! row-major. The leaves of the model, below the matrices and elements that hold them.

use h5sparse::Values;

/// A dense N-D numeric (or boolean) array, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// Dimensions (empty for a scalar).
    pub shape: Vec<usize>,
    /// The elements, row-major; `values.len()` is the product of `shape`.
    pub values: Values,
}

/// A dense N-D array of strings, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct StringArray {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// The strings, row-major.
    pub values: Vec<String>,
}
