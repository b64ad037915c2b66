//! `ndarray` interop (feature `ndarray`): read a dataset or a hyperslab into an
//! [`ndarray::ArrayD`] (or `Array1`/`Array2`), write a dataset from an [`ndarray::ArrayView`].
//!
//! Shapes follow the dataset's dataspace (a scalar dataset is a 0-D array), element order is
//! C (row-major) as in HDF5; views in another memory order are copied to C order on write.
//!
//! ```
//! # fn main() -> h5format::Result<()> {
//! use h5format::write::{DType, DatasetSpec, FileWriter};
//! use ndarray::array;
//!
//! let a = array![[1.0f64, 2.0, 3.0], [4.0, 5.0, 6.0]];
//! let mut w = FileWriter::in_memory();
//! w.write_array("/a", a.view(), DatasetSpec::new(DType::F64, [2, 3]).chunked([1, 3]))?;
//! let file = h5format::File::from_bytes(w.finish_to_vec()?)?;
//! let ds = file.dataset("/a")?;
//! assert_eq!(ds.read_array2::<f64>()?, a);
//! // A hyperslab: row 1, columns 0 and 2.
//! let s = ds.read_slab_array::<f64>(&[1, 0], &[1, 2], &[1, 2])?;
//! assert_eq!(s.into_raw_vec_and_offset().0, vec![4.0, 6.0]);
//! # Ok(()) }
//! ```

use crate::error::{Error, Result};
use crate::value::Numeric;
use crate::write::{DatasetSpec, Element, FileWriter};
use crate::Dataset;
use ndarray::{Array1, Array2, ArrayD, ArrayView, Dimension, IxDyn};

fn to_shape(dims: &[u64], path: &str) -> Result<Vec<usize>> {
    dims.iter()
        .map(|&d| {
            usize::try_from(d).map_err(|_| Error::Usage(format!("{path}: dimension {d} too large")))
        })
        .collect()
}

fn shaped<T>(shape: Vec<usize>, values: Vec<T>, path: &str) -> Result<ArrayD<T>> {
    ArrayD::from_shape_vec(IxDyn(&shape), values).map_err(|e| Error::Usage(format!("{path}: {e}")))
}

impl Dataset {
    /// Read every element into an N-D array of the dataset's shape, converted to `T`.
    pub fn read_array<T: Numeric>(&self) -> Result<ArrayD<T>> {
        let shape = to_shape(self.shape(), self.path())?;
        shaped(shape, self.read::<T>()?, self.path())
    }

    /// Read the hyperslab `start + k * step` (`k < count`) into an array of shape `count`.
    pub fn read_slab_array<T: Numeric>(
        &self,
        start: &[u64],
        count: &[u64],
        step: &[u64],
    ) -> Result<ArrayD<T>> {
        let values = self.read_hyperslab::<T>(start, count, step)?;
        shaped(to_shape(count, self.path())?, values, self.path())
    }

    /// Read a 1-D dataset (an error for another rank).
    pub fn read_array1<T: Numeric>(&self) -> Result<Array1<T>> {
        self.read_array::<T>()?
            .into_dimensionality()
            .map_err(|_| self.rank_error(1))
    }

    /// Read a 2-D dataset (an error for another rank).
    pub fn read_array2<T: Numeric>(&self) -> Result<Array2<T>> {
        self.read_array::<T>()?
            .into_dimensionality()
            .map_err(|_| self.rank_error(2))
    }

    fn rank_error(&self, want: usize) -> Error {
        Error::Usage(format!(
            "{}: a dataset of rank {} read as rank {want}",
            self.path(),
            self.shape().len()
        ))
    }
}

impl FileWriter {
    /// Create the dataset `path` from an array view and write its elements (C order).
    ///
    /// `spec` gives layout and filters; its `dtype` and `shape` are replaced by the array's
    /// (so `DatasetSpec::new(any type, any shape)` with the wanted layout will do).
    pub fn write_array<T: Element, D: Dimension>(
        &mut self,
        path: &str,
        array: ArrayView<'_, T, D>,
        mut spec: DatasetSpec,
    ) -> Result<()> {
        spec.dtype = T::DTYPE;
        spec.shape = array.shape().iter().map(|&d| d as u64).collect();
        let id = self.create_dataset(path, spec)?;
        match array.as_slice() {
            Some(contiguous) => self.write_typed(id, contiguous),
            None => {
                let owned: Vec<T> = array.iter().copied().collect();
                self.write_typed(id, &owned)
            }
        }
    }
}
