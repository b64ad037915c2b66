//! Reading virtual datasets: each mapping's source dataset (in this file or in another file
//! inside the allowed directories) is opened and only the parts of it that land in the
//! requested elements are read. The mappings themselves are parsed by
//! [`crate::read::virtual_dataset`].

use std::cell::Cell;
use std::ops::Range;

use crate::error::{Error, Result};
use crate::file::{Dataset, File};
use crate::read::datatype::{ByteOrder, Datatype, IeeeFloat};
use crate::read::external::ExternalAccess;
use crate::read::virtual_dataset::{
    has_block_number, parse_mappings, source_name, Mapping, Selection,
};

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
    if let Some(why) = ds.unresolved_extent() {
        // Never the fill value where the sources could not be opened: their error again
        // (or the one of the open, should they have become readable since).
        current_dims(ds, heap_addr, index)?;
        return Err(Error::Usage(format!(
            "the extent of this virtual dataset could not be resolved when it was opened: {why}"
        )));
    }
    nested(|| read_ranges_inner(ds, heap_addr, index, ranges))
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

/// Blocks of a printf-named (`%b`) mapping looked at, at most.
const MAX_BLOCKS: u64 = 1 << 16;

/// A mapping resolved against the current extents: its source dataset and the selections
/// (clipped where unlimited) whose elements pair in order.
struct Piece {
    src: Dataset,
    name: String,
    source: Selection,
    source_clip: Option<(usize, u64)>,
    target: Selection,
    target_clip: Option<(usize, u64)>,
    /// The target block is cut by the extent (along axis 0): the first source elements pair
    /// with what remains of it.
    partial: bool,
}

/// The source dataset `dataset` of file `file` (names already substituted), or `None` when
/// the file or the dataset does not exist (the fill value, as in libhdf5).
fn open_source(ds: &Dataset, file: &str, dataset: &str) -> Result<Option<Dataset>> {
    let this = ds.file();
    let Some(f) = source_file(this, this.external_access(), file)? else {
        return Ok(None);
    };
    match f.dataset(dataset) {
        Ok(d) => Ok(Some(d)),
        Err(Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn unsupported(what: &str) -> Error {
    Error::unsupported("virtual dataset", what.to_string())
}

/// The extent of the virtual dataset and its mappings resolved, as libhdf5 resolves them
/// with its default view (`H5D_VDS_LAST_AVAILABLE`, printf gap 0): an unlimited mapping
/// extends the unlimited axis as far as its source's current extent fills it; a `%b`
/// mapping as far as the last of its sources 0, 1, … before the first missing one; the
/// axis is the largest of these, at least what the fixed mappings cover. Axes no mapping
/// is unlimited in keep `stored` (the dataspace's dims).
fn resolve(ds: &Dataset, stored: &[u64], mappings: &[Mapping]) -> Result<(Vec<u64>, Vec<Piece>)> {
    let rank = stored.len();
    let mut grown: Vec<Option<u64>> = vec![None; rank];
    let mut min_dims = vec![0u64; rank];
    let mut pieces = Vec::new();
    let mut printf = Vec::new();
    for m in mappings {
        let uv = m.target.unlimited_axis();
        if let Some(b) = m.target.bounds_end(stored) {
            for (d, &e) in b.iter().enumerate().take(rank) {
                if Some(d) != uv {
                    min_dims[d] = min_dims[d].max(e);
                }
            }
        }
        let named = has_block_number(&m.file) || has_block_number(&m.dataset);
        let name = |block| -> Result<(String, String)> {
            Ok((
                source_name(&m.file, block)?,
                source_name(&m.dataset, block)?,
            ))
        };
        match (uv, m.source.unlimited_axis()) {
            (None, Some(_)) => {
                return Err(unsupported(
                    "an unlimited source selection for a fixed virtual selection",
                ))
            }
            (None, None) => {
                let (file, dataset) = name(None)?;
                if let Some(src) = open_source(ds, &file, &dataset)? {
                    pieces.push(Piece {
                        src,
                        name: format!("{file}:{dataset}"),
                        source: m.source.clone(),
                        source_clip: None,
                        target: m.target.clone(),
                        target_clip: None,
                        partial: false,
                    });
                }
            }
            (Some(uv), Some(us)) => {
                let (file, dataset) = name(None)?;
                let clip = match open_source(ds, &file, &dataset)? {
                    Some(src) => {
                        let n = *src.shape().get(us).ok_or_else(|| {
                            unsupported("a source of another rank than its selection")
                        })?;
                        let clip = m.target.extent_for_slices(m.source.slices_below(n));
                        pieces.push(Piece {
                            src,
                            name: format!("{file}:{dataset}"),
                            source: m.source.clone(),
                            source_clip: Some((us, n)),
                            target: m.target.clone(),
                            target_clip: Some((uv, clip)),
                            partial: false,
                        });
                        clip
                    }
                    None => 0,
                };
                grown[uv] = Some(grown[uv].map_or(clip, |g: u64| g.max(clip)));
            }
            (Some(uv), None) => {
                if !named {
                    return Err(unsupported(
                        "an unlimited virtual selection without an unlimited source or %b name",
                    ));
                }
                // Sources 0, 1, … up to the first missing one (printf gap 0).
                let mut first_missing = 0u64;
                let mut j = 0u64;
                while j <= first_missing {
                    if j >= MAX_BLOCKS {
                        return Err(unsupported("more than 65536 printf-named sources"));
                    }
                    let (file, dataset) = name(Some(j))?;
                    if open_source(ds, &file, &dataset)?.is_some() {
                        first_missing = j + 1;
                    }
                    j += 1;
                }
                let clip = match first_missing {
                    0 => 0,
                    n => m.target.unlimited_block(n - 1)?.2,
                };
                grown[uv] = Some(grown[uv].map_or(clip, |g: u64| g.max(clip)));
                printf.push((m, uv));
            }
        }
    }
    let dims: Vec<u64> = (0..rank)
        .map(|d| grown[d].map_or(stored[d], |g| g.max(min_dims[d])))
        .collect();
    if dims
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .is_none()
    {
        return Err(Error::malformed(
            "virtual dataset",
            ds.address(),
            format!("extent {dims:?} from its sources overflows"),
        ));
    }
    // The blocks of printf-named mappings inside the extent, each from its own source.
    for (m, uv) in printf {
        for j in 0.. {
            let (target, start, end) = m.target.unlimited_block(j)?;
            if start >= dims[uv] {
                break;
            }
            if j >= MAX_BLOCKS {
                return Err(unsupported("more than 65536 printf-named sources"));
            }
            let (file, dataset) = (
                source_name(&m.file, Some(j))?,
                source_name(&m.dataset, Some(j))?,
            );
            let Some(src) = open_source(ds, &file, &dataset)? else {
                continue;
            };
            let partial = end > dims[uv];
            if partial && uv != 0 {
                return Err(unsupported(
                    "a printf-named block cut by the extent in an axis other than the first",
                ));
            }
            pieces.push(Piece {
                src,
                name: format!("{file}:{dataset}"),
                source: m.source.clone(),
                source_clip: None,
                target,
                target_clip: partial.then_some((uv, dims[uv])),
                partial,
            });
        }
    }
    Ok((dims, pieces))
}

/// Run `f` one virtual-dataset level deeper (an error past [`MAX_NESTING`]).
fn nested<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    let depth = DEPTH.with(|d| d.get());
    if depth >= MAX_NESTING {
        return Err(Error::Usage(format!(
            "virtual datasets nest deeper than {MAX_NESTING} levels"
        )));
    }
    DEPTH.with(|d| d.set(depth + 1));
    let r = f();
    DEPTH.with(|d| d.set(depth));
    r
}

/// The current extent of virtual dataset `ds` when a mapping is unlimited (libhdf5 sets it
/// from the sources when the dataset is opened), else `None` (the dataspace's dims hold).
pub(crate) fn current_dims(ds: &Dataset, heap_addr: u64, index: u32) -> Result<Option<Vec<u64>>> {
    let file = ds.file();
    let heap = file.global_heap(heap_addr)?;
    let mappings = parse_mappings(heap.object(index)?, heap_addr, file.sizes())?;
    if mappings.iter().all(|m| m.target.unlimited_axis().is_none()) {
        return Ok(None);
    }
    nested(|| resolve(ds, ds.shape(), &mappings).map(|(dims, _)| Some(dims)))
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
    // Extents as when the dataset was opened (`dims`); the sources as they are now.
    let (_, pieces) = resolve(ds, &dims, &mappings)?;
    for p in &pieces {
        let target = p.target.ranges_clipped(&dims, limit, p.target_clip)?;
        if target.is_empty() {
            continue;
        }
        let src = &p.src;
        let convert = src.dtype() != ds.dtype();
        if convert {
            conversion(src.dtype(), ds.dtype()).ok_or_else(|| {
                unsupported(&format!(
                    "source {} of type {} for a virtual dataset of type {} (only numeric \
                     conversions are implemented)",
                    p.name,
                    src.dtype().dtype_name(),
                    ds.dtype().dtype_name()
                ))
            })?;
        }
        let source = p.source.ranges_clipped(src.shape(), limit, p.source_clip)?;
        let count = |r: &[Range<u64>]| r.iter().map(|r| r.end - r.start).sum::<u64>();
        let (cs, ct) = (count(&source), count(&target));
        if cs != ct && !(p.partial && cs > ct) {
            return Err(Error::malformed(
                "virtual dataset mapping",
                heap_addr,
                format!(
                    "source {} selects {cs} elements for {ct} virtual ones",
                    p.name
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
        let mut bytes = src.read_ranges_raw(&src_ranges)?;
        if convert {
            bytes = convert_elements(src.dtype(), ds.dtype(), &bytes)?;
        }
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

/// A numeric type a virtual dataset's elements are converted into.
#[derive(Debug, Clone, Copy)]
enum Target {
    Int {
        size: usize,
        signed: bool,
        order: ByteOrder,
    },
    F32(ByteOrder),
    F64(ByteOrder),
}

/// Whether libhdf5's conversion from source type `src` to virtual type `dst` is one done
/// here: any integer (1/2/4/8 bytes, reduced precision too) or float h5py reads into
/// full-precision integers of 1/2/4/8 bytes or IEEE f4/f8.
fn conversion(src: &Datatype, dst: &Datatype) -> Option<Target> {
    let source_ok = match src {
        Datatype::Integer { size, .. } => matches!(size, 1 | 2 | 4 | 8),
        Datatype::Float { .. } => src.float_target().is_some(),
        _ => false,
    };
    if !source_ok {
        return None;
    }
    match dst {
        Datatype::Integer {
            size,
            order,
            signed,
            bit_offset: 0,
            precision,
        } if matches!(size, 1 | 2 | 4 | 8) && u32::from(*precision) == size * 8 => {
            Some(Target::Int {
                size: *size as usize,
                signed: *signed,
                order: *order,
            })
        }
        Datatype::Float { order, .. } => match dst.ieee_float()? {
            IeeeFloat::F32 => Some(Target::F32(*order)),
            IeeeFloat::F64 => Some(Target::F64(*order)),
            IeeeFloat::F16 => None,
        },
        _ => None,
    }
}

/// Convert `bytes` (elements of `src`) to elements of `dst` as libhdf5 does: integers
/// clamp to the target's range, floats to integers truncate toward zero and clamp (±inf
/// too), integers and floats to floats round to nearest (overflow: ±inf). A NaN has no
/// integer value (libhdf5's result depends on the platform): an error.
fn convert_elements(src: &Datatype, dst: &Datatype, bytes: &[u8]) -> Result<Vec<u8>> {
    let target = conversion(src, dst).ok_or_else(|| unsupported("this type conversion"))?;
    let n = bytes.len() / src.size().max(1);
    // The exact source values.
    let values: Vec<Result<i128, f64>> = match src {
        Datatype::Integer { signed: true, .. } => crate::value::convert::<i64>(src, bytes)?
            .into_iter()
            .map(|v| Ok(i128::from(v)))
            .collect(),
        Datatype::Integer { .. } => crate::value::convert::<u64>(src, bytes)?
            .into_iter()
            .map(|v| Ok(i128::from(v)))
            .collect(),
        _ => crate::value::convert::<f64>(src, bytes)?
            .into_iter()
            .map(Err)
            .collect(),
    };
    let mut out = Vec::with_capacity(n * dst.size());
    let put = |out: &mut Vec<u8>, raw: u64, size: usize, order: ByteOrder| {
        let le = raw.to_le_bytes();
        match order {
            ByteOrder::Little => out.extend_from_slice(&le[..size]),
            ByteOrder::Big => out.extend(le[..size].iter().rev()),
        }
    };
    for v in values {
        match target {
            Target::Int {
                size,
                signed,
                order,
            } => {
                let bits = 8 * size as u32;
                let (lo, hi) = if signed {
                    (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
                } else {
                    (0, (1i128 << bits) - 1)
                };
                let x =
                    match v {
                        Ok(i) => i.clamp(lo, hi),
                        Err(f) if f.is_nan() => return Err(unsupported(
                            "a NaN converted to an integer (libhdf5's result is platform-defined)",
                        )),
                        Err(f) => (f.trunc().clamp(lo as f64, hi as f64) as i128).clamp(lo, hi),
                    };
                put(&mut out, x as u64, size, order);
            }
            Target::F32(order) => {
                let x = match v {
                    Ok(i) => i as f32,
                    Err(f) => f as f32,
                };
                put(&mut out, u64::from(x.to_bits()), 4, order);
            }
            Target::F64(order) => {
                let x = match v {
                    Ok(i) => i as f64,
                    Err(f) => f,
                };
                put(&mut out, x.to_bits(), 8, order);
            }
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
