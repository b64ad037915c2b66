//! The storage abstraction: 1-D arrays read by element ranges, and groups with attributes.
//!
//! The HDF5 backend implements these for h5format's datasets; [`crate::mem`] implements them
//! in memory.

use crate::error::Result;
use crate::values::{ElemType, Values};
use std::ops::Range;
use std::sync::Arc;

/// A 1-D stored array (an HDF5 dataset) read by element ranges.
///
/// Every read takes a list of ranges, in any order (they may repeat or overlap), and returns
/// the concatenation of their elements, so an implementation can read each storage chunk once
/// per call and place each range straight into the result.
pub trait Array1: Send + Sync {
    /// Number of elements.
    fn len(&self) -> u64;
    /// True when the array has no elements.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The stored element type.
    fn elem(&self) -> ElemType;
    /// Read the concatenation of `ranges` as `i64`.
    /// Non-integer types and u64 values past `i64::MAX` are errors.
    fn read_ranges_i64(&self, ranges: &[Range<u64>]) -> Result<Vec<i64>>;
    /// Read integer positions (indices) of the concatenation of `ranges` as `usize`, negative
    /// values wrapped to huge ones (callers reject every position past the axis length).
    fn read_ranges_index(&self, ranges: &[Range<u64>]) -> Result<Vec<usize>> {
        Ok(self
            .read_ranges_i64(ranges)?
            .into_iter()
            .map(|v| v as usize)
            .collect())
    }
    /// Read the concatenation of `ranges` (in any order; they may repeat or overlap), typed
    /// as stored
    /// (`F16` delivered as `F32`).
    fn read_ranges_values(&self, ranges: &[Range<u64>]) -> Result<Values>;
    /// Natural read granularity (chunk length in elements) for streaming in bounded memory;
    /// `None` for contiguous storage.
    fn chunk_len(&self) -> Option<u64>;
    /// Remote storage: announce the first reads of this array (its chunk index), so that
    /// the announcements of several arrays are fetched together by the first
    /// [`prepare`](Self::prepare). Default: nothing.
    fn announce(&self) {}
    /// Remote storage: get ready to read (open the chunk index, reading what
    /// [`announce`](Self::announce) named). Errors are left to the reads. Default: nothing.
    fn prepare(&self) {}
    /// Remote storage: keep what reads of this array fetch for the next open of the same
    /// file (a small index into larger arrays, such as `indptr`). Default: nothing.
    fn keep_for_reopen(&self) {}
}

/// A group: its attributes and member datasets.
pub trait GroupSource {
    /// A string attribute (`None` if absent; a non-string attribute is an error or `None`).
    fn attr_string(&self, name: &str) -> Result<Option<String>>;
    /// An integer (scalar or 1-D) attribute as `i64`s (`None` if absent).
    fn attr_ints(&self, name: &str) -> Result<Option<Vec<i64>>>;
    /// A member dataset (`None` if there is no member of that name or it is not a dataset).
    fn dataset(&self, name: &str) -> Result<Option<Arc<dyn Array1>>>;
}
