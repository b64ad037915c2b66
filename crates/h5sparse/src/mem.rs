//! In-memory implementations of [`Array1`] and [`GroupSource`], which count what is read.

use crate::error::{Error, Result};
use crate::source::{Array1, GroupSource};
use crate::values::{ElemType, Values};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A 1-D array held in memory. Records every range requested, for tests of read patterns.
#[derive(Debug)]
pub struct MemArray {
    values: Values,
    elem: ElemType,
    chunk: Option<u64>,
    elems_read: AtomicU64,
    calls: AtomicU64,
    log: Mutex<Vec<Range<u64>>>,
}

impl MemArray {
    /// An array of `values` (its element type is the variant's).
    pub fn new(values: Values) -> Self {
        let elem = values.elem();
        MemArray {
            values,
            elem,
            chunk: None,
            elems_read: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
        }
    }

    /// Set the reported chunk length.
    pub fn with_chunk_len(mut self, chunk: Option<u64>) -> Self {
        self.chunk = chunk;
        self
    }

    /// Report `elem` as the stored type (e.g. `F16` for values held as `F32`).
    pub fn with_elem(mut self, elem: ElemType) -> Self {
        self.elem = elem;
        self
    }

    /// The values.
    pub fn values(&self) -> &Values {
        &self.values
    }

    /// Total number of elements requested so far.
    pub fn elems_read(&self) -> u64 {
        self.elems_read.load(Ordering::Relaxed)
    }

    /// Number of read calls so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Every range requested so far, in call order.
    pub fn ranges_read(&self) -> Vec<Range<u64>> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Forget the counters and the log.
    pub fn reset_counters(&self) {
        self.elems_read.store(0, Ordering::Relaxed);
        self.calls.store(0, Ordering::Relaxed);
        if let Ok(mut l) = self.log.lock() {
            l.clear();
        }
    }

    fn check(&self, ranges: &[Range<u64>]) -> Result<Vec<Range<usize>>> {
        let len = self.values.len() as u64;
        let mut out = Vec::with_capacity(ranges.len());
        for r in ranges {
            if r.start > r.end || r.end > len {
                return Err(Error::Usage(format!(
                    "bad read range {r:?} (array length {len})"
                )));
            }
            out.push(r.start as usize..r.end as usize);
        }
        self.calls.fetch_add(1, Ordering::Relaxed);
        let n: u64 = ranges.iter().map(|r| r.end - r.start).sum();
        self.elems_read.fetch_add(n, Ordering::Relaxed);
        if let Ok(mut l) = self.log.lock() {
            l.extend(ranges.iter().cloned());
        }
        Ok(out)
    }
}

impl Array1 for MemArray {
    fn len(&self) -> u64 {
        self.values.len() as u64
    }
    fn elem(&self) -> ElemType {
        self.elem
    }
    fn read_ranges_i64(&self, ranges: &[Range<u64>]) -> Result<Vec<i64>> {
        let rs = self.check(ranges)?;
        let mut out = Vec::new();
        for r in rs {
            out.extend(self.values.slice(r)?.to_i64()?);
        }
        Ok(out)
    }
    fn read_ranges_values(&self, ranges: &[Range<u64>]) -> Result<Values> {
        let rs = self.check(ranges)?;
        let mut out = Values::empty(self.values.elem());
        for r in rs {
            out.append_range(&self.values, r)?;
        }
        Ok(out)
    }
    fn chunk_len(&self) -> Option<u64> {
        self.chunk
    }
}

/// An attribute value of a [`MemGroup`].
#[derive(Debug, Clone, PartialEq)]
pub enum MemAttr {
    /// A string.
    Str(String),
    /// Integers (scalar = one element).
    Ints(Vec<i64>),
}

/// A group held in memory.
#[derive(Debug, Default, Clone)]
pub struct MemGroup {
    /// Attributes by name.
    pub attrs: HashMap<String, MemAttr>,
    /// Member datasets by name.
    pub datasets: HashMap<String, Arc<MemArray>>,
}

impl MemGroup {
    /// An empty group.
    pub fn new() -> Self {
        Self::default()
    }
    /// Add a string attribute.
    pub fn set_str(&mut self, name: &str, v: &str) -> &mut Self {
        self.attrs.insert(name.into(), MemAttr::Str(v.into()));
        self
    }
    /// Add an integer attribute.
    pub fn set_ints(&mut self, name: &str, v: &[i64]) -> &mut Self {
        self.attrs.insert(name.into(), MemAttr::Ints(v.to_vec()));
        self
    }
    /// Add a dataset; returns the shared handle (to inspect its counters).
    pub fn add(&mut self, name: &str, a: MemArray) -> Arc<MemArray> {
        let a = Arc::new(a);
        self.datasets.insert(name.into(), a.clone());
        a
    }
    /// A dataset by name.
    pub fn get(&self, name: &str) -> Option<&Arc<MemArray>> {
        self.datasets.get(name)
    }
}

impl GroupSource for MemGroup {
    fn attr_string(&self, name: &str) -> Result<Option<String>> {
        Ok(match self.attrs.get(name) {
            Some(MemAttr::Str(s)) => Some(s.clone()),
            _ => None,
        })
    }
    fn attr_ints(&self, name: &str) -> Result<Option<Vec<i64>>> {
        Ok(match self.attrs.get(name) {
            Some(MemAttr::Ints(v)) => Some(v.clone()),
            _ => None,
        })
    }
    fn dataset(&self, name: &str) -> Result<Option<Arc<dyn Array1>>> {
        Ok(self
            .datasets
            .get(name)
            .map(|a| a.clone() as Arc<dyn Array1>))
    }
}
