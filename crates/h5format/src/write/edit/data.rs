//! Raw data and shape of an existing dataset.
//!
//! - compact: the new bytes go into the layout message itself;
//! - contiguous: the whole extent is copied past the end of the file with the change
//!   applied, and the layout message points to the copy (overwriting in place could be torn
//!   by a kill);
//! - chunked: every chunk the selection touches is read (decoded), patched, re-encoded with
//!   the dataset's filters and appended; then the whole chunk index is written again and the
//!   layout message points to it. A resize also replaces the dataspace message. Both
//!   messages change in one commit.
//!
//! Which index is written:
//!
//! - **layout version 3** (v1 B-tree): a v1 B-tree again, version 3 layout;
//! - **layout version 4** (`libver` v110 and later): the version 4 index libhdf5 picks for
//!   the dataset's new shape and maximum shape (`write/chunk_index`, the writer's
//!   `Format::Latest` choice: one chunk covering fixed dimensions → single chunk; fixed
//!   maximum dimensions → fixed array; one unlimited dimension → extensible array; several
//!   → v2 B-tree), with a version 4 layout. The maximum shape never changes, so the index
//!   kind is the one the dataset had — except the **implicit** index (unfiltered datasets
//!   allocated early), which becomes a fixed array: libhdf5 reads and extends it, and it
//!   saves rewriting every chunk at a new place (an implicit index is one extent holding all
//!   chunks, which an edit could only overwrite in place, torn by a kill). The index blocks
//!   are encoded in the file's widths of offsets and lengths (2, 4 or 8 bytes), as libhdf5
//!   lays them out for those widths.
//! - A chunk stored with a filter skipped (nonzero filter mask, which only optional filters
//!   produce) keeps a v1 B-tree with a version 3 layout: version 4 indexes have no per-chunk
//!   mask. libhdf5 1.8+ reads the version 3 layout whatever the file's `libver` and keeps
//!   editing it.
//!
//! Space: replaced chunks are freed when the edit commits; the index blocks this editor
//! wrote for the dataset are freed when a later edit replaces them (`space.rs`, `Ledger`).
//! An index the file came with is walked for its blocks when first replaced and freed the
//! same way (`original.rs`): v1 B-tree nodes, a fixed array's header and data block, an
//! extensible array's header, index, super and data blocks, a v2 B-tree's header and nodes.
//! A single chunk index has no blocks: its address is the chunk's; an implicit one's extent
//! holds the chunks.

use std::collections::BTreeMap;

use super::super::btree::{self, TreeKind};
use super::super::chunk_index;
use super::super::dataset::next;
use super::super::dataspace;
use super::super::encode::{product, to_usize, Put, UNDEF};
use super::super::hyperslab::{copy_box, Place};
use super::original::{self, Keep};
use super::{Editor, Txn};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::read::chunked::ChunkedReader;
use crate::read::dataspace::{Dataspace, UNLIMITED};
use crate::read::datatype::Datatype;
use crate::read::layout::{ChunkIndexKind, Layout};
use crate::read::object_header::msg;
use crate::Dataset;

/// The dataset's header chunks (address, length), which the walked old index must not
/// overlap.
type HeaderChunks<'a> = &'a [(u64, u64)];

/// A hyperslab to write: start, count, raw elements.
pub(crate) type Slab<'a> = (&'a [u64], &'a [u64], &'a [u8]);

/// Resize the dataset at `path` to `new_dims` and/or write `slab`, in one commit.
pub(crate) fn change(
    ed: &Editor,
    mut txn: Txn,
    path: &str,
    new_dims: Option<&[u64]>,
    slab: Option<Slab<'_>>,
) -> Result<()> {
    let ds = txn.reader.dataset(path)?;
    if ds.external_files()?.is_some() {
        return Err(Error::unsupported(
            "edit",
            "datasets stored in external files",
        ));
    }
    let elem = ds.dtype().size() as u64;
    let (old, max) = match ds.space() {
        Dataspace::Simple { dims, max_dims } => (dims.clone(), max_dims.clone()),
        Dataspace::Scalar => (Vec::new(), Vec::new()),
        Dataspace::Null => return Err(Error::Usage("the dataset has a null dataspace".into())),
    };
    let dims = new_dims.map_or_else(|| old.clone(), <[u64]>::to_vec);
    if dims.len() != old.len() {
        return Err(Error::Usage(format!(
            "new shape {dims:?} has not the rank of {old:?}"
        )));
    }
    for d in 0..dims.len() {
        if dims[d] < old[d] {
            return Err(Error::unsupported(
                "edit",
                format!("shrinking a dataset ({old:?} to {dims:?})"),
            ));
        }
        if dims[d] > max[d] {
            return Err(Error::Usage(format!(
                "new shape {dims:?} exceeds the maximum shape {max:?}"
            )));
        }
    }
    if let Some((start, count, bytes)) = slab {
        if matches!(ds.dtype(), Datatype::VarLen { .. }) {
            return Err(Error::unsupported(
                "edit",
                "writing variable-length elements into an existing dataset",
            ));
        }
        let inside = start.len() == dims.len()
            && count.len() == dims.len()
            && (0..dims.len()).all(|d| {
                start[d]
                    .checked_add(count[d])
                    .is_some_and(|end| end <= dims[d])
            });
        if !inside {
            return Err(Error::Usage(format!(
                "selection start {start:?} count {count:?} is outside the shape {dims:?}"
            )));
        }
        if product(count)?.checked_mul(elem) != Some(bytes.len() as u64) {
            return Err(Error::Usage(format!(
                "{} bytes given for {count:?} elements of {elem} bytes",
                bytes.len()
            )));
        }
    }
    let hdr = txn.header(ds.address())?;
    let mut msgs = hdr.msgs.clone();
    let li = msgs
        .iter()
        .position(|m| m.kind == msg::LAYOUT)
        .ok_or_else(|| Error::malformed("object header", ds.address(), "no layout message"))?;
    let resized = dims != old;
    let layout = match ds.layout() {
        Layout::Compact { data } if !resized => {
            let mut data = data.clone();
            patch(&mut data, &dims, slab, elem)?;
            let mut b = vec![3, 0];
            b.put_u16(u16::try_from(data.len()).map_err(|_| Error::Usage("compact data".into()))?);
            b.extend_from_slice(&data);
            b
        }
        Layout::Contiguous { address, size } if !resized => {
            let mut data = if *address == UNDEF {
                fill(&ds, product(&dims)?)?
            } else {
                ds.read_raw()?
            };
            patch(&mut data, &dims, slab, elem)?;
            let at = txn.out.append(&data)?;
            if *address != UNDEF {
                txn.changes.freed.push((*address, *size));
            }
            let mut b = vec![3, 1];
            b.put_addr(at);
            b.put_len(*size);
            b
        }
        Layout::Chunked {
            chunk_dims,
            dont_filter_partial_edge,
            address,
            ..
        } => {
            if *dont_filter_partial_edge {
                return Err(Error::unsupported(
                    "edit",
                    "chunked layouts with unfiltered partial edge chunks",
                ));
            }
            // Layout version 4 (and later): keep a version 4 index, over the new shape.
            let latest = msgs[li].body.first().is_some_and(|&v| v >= 4);
            let max: Vec<Option<u64>> =
                max.iter().map(|&m| (m != UNLIMITED).then_some(m)).collect();
            // The index the file came with is walked for its blocks, freed once the edit
            // commits (see `original.rs`); they must not overlap the header.
            let keep = hdr.extents();
            chunked(
                ed,
                &mut txn,
                &ds,
                (chunk_dims, *address, &keep),
                (&old, &dims),
                latest.then_some(max.as_slice()),
                slab,
            )?
        }
        Layout::Compact { .. } | Layout::Contiguous { .. } => {
            return Err(Error::Usage(
                "only chunked datasets can change shape".into(),
            ))
        }
        Layout::Virtual { .. } => return Err(Error::unsupported("edit", "virtual datasets")),
    };
    msgs[li].body = layout;
    if resized {
        let si = msgs
            .iter()
            .position(|m| m.kind == msg::DATASPACE)
            .ok_or_else(|| Error::malformed("object header", ds.address(), "no dataspace"))?;
        let max: Vec<Option<u64>> = max.iter().map(|&m| (m != UNLIMITED).then_some(m)).collect();
        msgs[si].body = dataspace::encode(&dims, Some(&max));
        msgs[si].flags = 0;
    }
    ed.commit(txn, &hdr, &msgs)
}

/// `n` fill values of the dataset.
fn fill(ds: &Dataset, n: u64) -> Result<Vec<u8>> {
    let one = ds.fill_element();
    let total = n
        .checked_mul(one.len() as u64)
        .ok_or_else(|| Error::Usage("dataset too large".into()))?;
    ds.node()
        .file()
        .source()
        .check_alloc("dataset", ds.address(), total)?;
    Ok(one.repeat(to_usize(n, "elements")?))
}

/// Copy `slab` into `data`, the whole dataset of shape `dims`.
fn patch(data: &mut [u8], dims: &[u64], slab: Option<Slab<'_>>, elem: u64) -> Result<()> {
    let Some((start, count, bytes)) = slab else {
        return Ok(());
    };
    let zeros = vec![0; count.len()];
    copy_box(
        bytes,
        Place {
            shape: count,
            start: &zeros,
        },
        data,
        Place { shape: dims, start },
        count,
        elem,
    )
}

/// Re-encode the chunks `slab` touches, write an index over all chunks, and return the new
/// layout message: version 4 with the index libhdf5 picks for `dims` and `latest` (the
/// maximum dimensions, `None` unlimited) when given, else version 3 with a v1 B-tree.
fn chunked(
    ed: &Editor,
    txn: &mut Txn,
    ds: &Dataset,
    (cdims, index, header): (&[u64], u64, HeaderChunks<'_>),
    (old, dims): (&[u64], &[u64]),
    latest: Option<&[Option<u64>]>,
    slab: Option<Slab<'_>>,
) -> Result<Vec<u8>> {
    let rank = dims.len();
    let elem = ds.dtype().size() as u64;
    let reader = ds.chunks()?;
    let mut map: BTreeMap<Vec<u64>, (u64, u64, u32)> = reader
        .chunks()?
        .into_iter()
        .map(|c| (c.scaled, (c.address, c.size, c.filter_mask)))
        .collect();
    // Replaced chunks are freed for reuse only when no two chunks of the index share bytes
    // (libhdf5 never writes that; a crafted file might, and reusing one would overwrite
    // the other).
    let mut extents: Vec<(u64, u64)> = map
        .values()
        .filter(|c| c.0 != UNDEF)
        .map(|c| (c.0, c.1))
        .collect();
    extents.sort_unstable();
    let disjoint = extents
        .windows(2)
        .all(|w| w[0].0.saturating_add(w[0].1) <= w[1].0);
    let codecs = match ds.filters() {
        Some(p) => p
            .filters
            .iter()
            .map(|f| f.codec().map(|c| (f.clone(), c)))
            .collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    if let Some((info, _)) = codecs.iter().find(|(_, c)| !c.can_encode()) {
        return Err(Error::unsupported(
            "edit",
            format!(
                "re-encoding chunks through {} (read-only here)",
                info.short_name()
            ),
        ));
    }
    let per_chunk = product(cdims)?;
    if let Some((start, count, bytes)) = slab.filter(|(_, c, _)| !c.contains(&0)) {
        let lo: Vec<u64> = (0..rank).map(|d| start[d] / cdims[d]).collect();
        let hi: Vec<u64> = (0..rank)
            .map(|d| (start[d] + count[d] - 1) / cdims[d])
            .collect();
        let mut coord = lo.clone();
        loop {
            let cstart: Vec<u64> = (0..rank).map(|d| coord[d] * cdims[d]).collect();
            let mut buf = fill(ds, per_chunk)?;
            if map.contains_key(&coord) {
                read_existing(ds, &cstart, cdims, old, &mut buf)?;
            }
            let s: Vec<u64> = (0..rank).map(|d| start[d].max(cstart[d])).collect();
            let e: Vec<u64> = (0..rank)
                .map(|d| (start[d] + count[d]).min(cstart[d] + cdims[d]))
                .collect();
            let n: Vec<u64> = (0..rank).map(|d| e[d] - s[d]).collect();
            let src: Vec<u64> = (0..rank).map(|d| s[d] - start[d]).collect();
            let dst: Vec<u64> = (0..rank).map(|d| s[d] - cstart[d]).collect();
            copy_box(
                bytes,
                Place {
                    shape: count,
                    start: &src,
                },
                &mut buf,
                Place {
                    shape: cdims,
                    start: &dst,
                },
                &n,
                elem,
            )?;
            for (info, codec) in &codecs {
                buf = codec
                    .encode(buf, elem as usize)
                    .map_err(|detail| Error::Filter {
                        id: info.id,
                        name: info.short_name(),
                        offset: 0,
                        detail,
                    })?;
            }
            let at = txn.out.append(&buf)?;
            if let Some((old, size, _)) = map.insert(coord.clone(), (at, buf.len() as u64, 0)) {
                if old != UNDEF && disjoint {
                    txn.changes.freed.push((old, size));
                }
            }
            if !next(&mut coord, &lo, &hi) {
                break;
            }
        }
    }
    // Version 4 indexes record no filter mask per chunk (every filter applied): a chunk
    // stored with a filter skipped keeps the v1 B-tree, which records it.
    let latest = latest.filter(|_| map.values().all(|c| c.2 == 0));
    if let Some(max) = latest {
        // A fixed array holds an entry (at most an address, an 8-byte size and a mask) for
        // every chunk of the maximum shape, built in memory: within the reader's budget.
        if max.iter().all(Option::is_some) {
            let grid: Vec<u64> = max
                .iter()
                .zip(cdims)
                .map(|(m, c)| m.unwrap_or(0).div_ceil((*c).max(1)))
                .collect();
            let bytes = product(&grid)?.saturating_mul(8 + 8 + 4);
            ds.node().file().source().check_alloc(
                "fixed array chunk index",
                ds.address(),
                bytes,
            )?;
        }
        let mut written = BTreeMap::new();
        for (coord, &(addr, size, _)) in map.iter().filter(|c| c.1 .0 != UNDEF) {
            let size = u32::try_from(size)
                .map_err(|_| Error::unsupported("edit", "a chunk of 4 GiB or more"))?;
            written.insert(coord.clone(), (addr, size));
        }
        let c = chunk_index::Chunked {
            written: &written,
            dims: cdims,
            elem,
            shape: dims,
            max,
            filtered: !codecs.is_empty(),
        };
        txn.out.record();
        let layout = chunk_index::layout_v4(&mut txn.out, &c);
        let regions = txn.out.recorded();
        let layout = layout?;
        // The single chunk index is the chunk's address itself (no regions of its own).
        let sizes = txn.reader.sizes();
        let mut cur = Cursor::new(&layout, ds.address(), "layout message", sizes);
        let root = match Layout::parse(&mut cur)? {
            Layout::Chunked { address, .. } => address,
            _ => UNDEF,
        };
        let ledger = ed.ledger.borrow();
        let bounds = (txn.spot.end(txn.base), txn.spot.eoa);
        let file = &txn.reader;
        let old = (file, &*reader, index, rank);
        let original = |free: &[(u64, u64)]| old_index(old, header, &map, free, bounds);
        txn.changes
            .replace(&ledger, (ds.address(), index), root, regions, original);
        return Ok(layout);
    }
    let k = usize::from(txn.reader.superblock().indexed_storage_k);
    txn.out.record();
    let root = write_index(txn, &map, cdims, 2 * k);
    let regions = txn.out.recorded();
    let root = root?;
    let ledger = ed.ledger.borrow();
    let bounds = (txn.spot.end(txn.base), txn.spot.eoa);
    let file = &txn.reader;
    let old = (file, &*reader, index, rank);
    let original = |free: &[(u64, u64)]| old_index(old, header, &map, free, bounds);
    txn.changes
        .replace(&ledger, (ds.address(), index), root, regions, original);
    let mut b = vec![3, 2, rank as u8 + 1];
    b.put_addr(root);
    for &d in cdims {
        b.put_u32(
            u32::try_from(d)
                .map_err(|_| Error::unsupported("edit", "chunk dimensions over 2^32"))?,
        );
    }
    b.put_u32(u32::try_from(elem).map_err(|_| Error::Usage("element size".into()))?);
    Ok(b)
}

/// The blocks of the chunk index the file came with (`chunks` reads it; the v1 B-tree at
/// `index` of a dataset of rank `rank` in `file`): they must not overlap `header` (the
/// dataset's header chunks), the chunks of `map` (the new index's) or the `free` regions,
/// and must lie within `bounds` (see `original.rs`).
fn old_index(
    (file, chunks, index, rank): (&crate::File, &ChunkedReader, u64, usize),
    header: HeaderChunks<'_>,
    map: &BTreeMap<Vec<u64>, (u64, u64, u32)>,
    free: &[(u64, u64)],
    (low, high): (u64, u64),
) -> Vec<(u64, u64)> {
    let mut keep: Vec<(u64, u64)> = header.iter().chain(free).copied().collect();
    keep.extend(map.values().filter(|c| c.0 != UNDEF).map(|c| (c.0, c.1)));
    let keep = Keep {
        regions: &keep,
        low,
        high,
    };
    match chunks.index_kind() {
        ChunkIndexKind::BTreeV1 => original::chunk_btree(file, index, rank, &keep),
        _ => original::chunk_index(chunks, &keep),
    }
}

/// Read the part of the chunk at `cstart` inside the old shape into `buf` (a whole chunk).
fn read_existing(
    ds: &Dataset,
    cstart: &[u64],
    cdims: &[u64],
    old: &[u64],
    buf: &mut [u8],
) -> Result<()> {
    let rank = cdims.len();
    let n: Vec<u64> = (0..rank)
        .map(|d| (cstart[d] + cdims[d]).min(old[d]).saturating_sub(cstart[d]))
        .collect();
    if n.contains(&0) {
        return Ok(());
    }
    // One range of elements per row (last dimension) of the box.
    let mut ranges = Vec::new();
    let lo = vec![0; rank];
    let hi: Vec<u64> = n.iter().map(|&x| x - 1).collect();
    let mut at = lo.clone();
    loop {
        let mut flat = 0u64;
        for d in 0..rank {
            flat = flat * old[d] + cstart[d] + if d + 1 == rank { 0 } else { at[d] };
        }
        ranges.push(flat..flat + n[rank - 1]);
        let mut row = at.clone();
        row[rank - 1] = hi[rank - 1];
        at = row;
        if !next(&mut at, &lo, &hi) {
            break;
        }
    }
    let raw = ds.read_ranges_raw(&ranges)?;
    let zeros = vec![0; rank];
    copy_box(
        &raw,
        Place {
            shape: &n,
            start: &zeros,
        },
        buf,
        Place {
            shape: cdims,
            start: &zeros,
        },
        &n,
        ds.dtype().size() as u64,
    )
}

/// Write a version 1 B-tree (node type 1) over `map`; the undefined address when empty.
fn write_index(
    txn: &mut Txn,
    map: &BTreeMap<Vec<u64>, (u64, u64, u32)>,
    cdims: &[u64],
    max_children: usize,
) -> Result<u64> {
    let Some(last) = map.keys().next_back() else {
        return Ok(UNDEF);
    };
    let key = |size: u32, mask: u32, coord: &[u64], plus: u64| {
        let mut k = Vec::with_capacity(8 + 8 * (coord.len() + 1));
        k.put_u32(size);
        k.put_u32(mask);
        for (c, d) in coord.iter().zip(cdims) {
            k.put_u64((c + plus) * d);
        }
        k.put_u64(0);
        k
    };
    let mut keys = Vec::with_capacity(map.len() + 1);
    let mut children = Vec::with_capacity(map.len());
    for (coord, &(addr, size, mask)) in map {
        let size = u32::try_from(size)
            .map_err(|_| Error::unsupported("edit", "a chunk of 4 GiB or more"))?;
        keys.push(key(size, mask, coord, 0));
        children.push(addr);
    }
    keys.push(key(0, 0, last, 1));
    let kind = TreeKind {
        node_type: btree::CHUNK,
        max_children,
        key_size: 8 + 8 * (cdims.len() + 1),
    };
    btree::write(&mut txn.out, &kind, keys, children)
}
