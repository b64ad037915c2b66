//! Reading virtual datasets: each mapping's source dataset (in this file or in another file
//! inside the allowed directories) is opened and only the parts of it that land in the
//! requested elements are read. The mappings themselves are parsed by
//! [`crate::read::virtual_dataset`].

use std::cell::Cell;
use std::ops::Range;

use crate::error::{Error, Result};
use crate::file::{Dataset, File};
use crate::read::external::ExternalAccess;
use crate::read::virtual_dataset::parse_mappings;

/// Deepest chain of virtual datasets whose sources are virtual datasets.
const MAX_NESTING: usize = 8;

thread_local! {
    /// Virtual datasets being read on this thread (sources that are virtual themselves).
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Where a mapping's source file is: this file, another (allowed) file, or nowhere (a
/// missing file reads as the fill value, as in libhdf5).
#[cfg(feature = "fs")]
fn source_file(this: &File, access: &ExternalAccess, name: &str) -> Result<Option<File>> {
    const WHAT: &str = "virtual dataset source file";
    if name == "." {
        return Ok(Some(this.clone()));
    }
    let p = std::path::Path::new(name);
    let joined = match (&access.base, p.is_absolute()) {
        (Some(b), false) => b.join(p),
        _ => p.to_path_buf(),
    };
    if !joined.exists() {
        // Missing: the fill value, provided the folder it would be in is allowed.
        let inside = joined
            .parent()
            .and_then(|d| d.canonicalize().ok())
            .is_some_and(|d| {
                access
                    .allowed
                    .iter()
                    .any(|a| a.canonicalize().map(|a| d.starts_with(&a)).unwrap_or(false))
            });
        if !inside {
            return Err(Error::Usage(format!(
                "{WHAT} {name:?} is outside the allowed directories"
            )));
        }
        return Ok(None);
    }
    let path = access.resolve(name, WHAT)?;
    let f = File::open(&path)?.with_external_dirs(access.allowed.clone());
    Ok(Some(f))
}

#[cfg(not(feature = "fs"))]
fn source_file(this: &File, _access: &ExternalAccess, name: &str) -> Result<Option<File>> {
    if name == "." {
        return Ok(Some(this.clone()));
    }
    Err(Error::unsupported(
        "virtual dataset",
        "sources in other files need the `fs` feature",
    ))
}

/// Read every element of virtual dataset `ds` (layout heap object `heap_addr`/`index`) as
/// raw bytes.
pub(crate) fn read_all(ds: &Dataset, heap_addr: u64, index: u32) -> Result<Vec<u8>> {
    let n = ds.len();
    read_ranges(ds, heap_addr, index, &[0..n])
}

/// Read the concatenation of element `ranges` (row-major indices, each inside the dataset)
/// of virtual dataset `ds` as raw bytes: only the parts of the sources that land in them
/// are read.
pub(crate) fn read_ranges(
    ds: &Dataset,
    heap_addr: u64,
    index: u32,
    ranges: &[Range<u64>],
) -> Result<Vec<u8>> {
    let depth = DEPTH.with(|d| d.get());
    if depth >= MAX_NESTING {
        return Err(Error::Usage(format!(
            "virtual datasets nest deeper than {MAX_NESTING} levels"
        )));
    }
    DEPTH.with(|d| d.set(depth + 1));
    let r = read_ranges_inner(ds, heap_addr, index, ranges);
    DEPTH.with(|d| d.set(depth));
    r
}

/// `(virtual start, source start, length)` pieces pairing the selected elements in order.
fn pair(target: &[Range<u64>], source: &[Range<u64>]) -> Vec<(u64, u64, u64)> {
    let mut out = Vec::with_capacity(target.len().max(source.len()));
    let (mut ti, mut si) = (0, 0);
    let (mut t_at, mut s_at) = (
        target.first().map_or(0, |r| r.start),
        source.first().map_or(0, |r| r.start),
    );
    while ti < target.len() && si < source.len() {
        let len = (target[ti].end - t_at).min(source[si].end - s_at);
        out.push((t_at, s_at, len));
        t_at += len;
        s_at += len;
        if t_at == target[ti].end {
            ti += 1;
            t_at = target.get(ti).map_or(0, |r| r.start);
        }
        if s_at == source[si].end {
            si += 1;
            s_at = source.get(si).map_or(0, |r| r.start);
        }
    }
    out
}

fn read_ranges_inner(
    ds: &Dataset,
    heap_addr: u64,
    index: u32,
    ranges: &[Range<u64>],
) -> Result<Vec<u8>> {
    let file = ds.file();
    let esize = ds.dtype().size() as u64;
    let total: u64 = ranges.iter().map(|r| r.end - r.start).sum();
    file.source().check_alloc(
        "dataset selection",
        ds.address(),
        total.saturating_mul(esize),
    )?;
    let heap = file.global_heap(heap_addr)?;
    let mappings = parse_mappings(heap.object(index)?, heap_addr, file.sizes())?;
    let dims = ds.shape().to_vec();
    let n = ds.len();
    let mut out = ds.fill_element().repeat(total as usize);
    // Output position of each requested range.
    let mut starts = Vec::with_capacity(ranges.len());
    let mut acc = 0u64;
    for r in ranges {
        starts.push(acc);
        acc += r.end - r.start;
    }
    let limit = usize::try_from(n)
        .unwrap_or(usize::MAX)
        .saturating_mul(2)
        .max(1024);
    for m in &mappings {
        let target = m.target.ranges(&dims, limit)?;
        if target.is_empty() {
            continue;
        }
        let Some(src_file) = source_file(file, file.external_access(), &m.file)? else {
            continue;
        };
        let src = match src_file.dataset(&m.dataset) {
            Ok(d) => d,
            Err(Error::NotFound(_)) => continue, // as libhdf5: the fill value
            Err(e) => return Err(e),
        };
        if src.dtype() != ds.dtype() {
            return Err(Error::unsupported(
                "virtual dataset",
                format!(
                    "source {}:{} has another datatype (conversion is not implemented)",
                    m.file, m.dataset
                ),
            ));
        }
        let source = m.source.ranges(src.shape(), limit)?;
        let count = |r: &[Range<u64>]| r.iter().map(|r| r.end - r.start).sum::<u64>();
        if count(&source) != count(&target) {
            return Err(Error::malformed(
                "virtual dataset mapping",
                heap_addr,
                format!(
                    "source {}:{} selects {} elements for {} virtual ones",
                    m.file,
                    m.dataset,
                    count(&source),
                    count(&target)
                ),
            ));
        }
        // The source elements that land in the requested ranges, and where they go.
        let mut src_ranges = Vec::new();
        let mut dest = Vec::new();
        for (t, s, len) in pair(&target, &source) {
            for (r, &o) in ranges.iter().zip(&starts) {
                let a = t.max(r.start);
                let b = (t + len).min(r.end);
                if a < b {
                    src_ranges.push(s + (a - t)..s + (b - t));
                    dest.push(o + (a - r.start));
                }
            }
        }
        if src_ranges.is_empty() {
            continue;
        }
        let bytes = src.read_ranges_raw(&src_ranges)?;
        let mut at = 0usize;
        for (r, &o) in src_ranges.iter().zip(&dest) {
            let len = ((r.end - r.start) * esize) as usize;
            let o = (o * esize) as usize;
            out[o..o + len].copy_from_slice(&bytes[at..at + len]);
            at += len;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_pair_selections_in_order() {
        assert_eq!(
            pair(&[0..3, 10..12], &[5..6, 7..11]),
            vec![(0, 5, 1), (1, 7, 2), (10, 9, 2)]
        );
        assert_eq!(pair(&[], &[0..3]), vec![]);
    }
}
