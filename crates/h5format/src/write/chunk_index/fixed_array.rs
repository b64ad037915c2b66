//! Fixed array chunk index: header "FAHD" and one data block "FADB" with one entry per chunk
//! of the maximum dimensions (row-major). Over 2^10 entries the data block is paged: a bitmap
//! of initialized pages (all set: every page is written) and the pages after it, each with
//! its own checksum.

use std::collections::BTreeMap;

use super::{linear, EntryFormat};
use crate::checksum::lookup3;
use crate::error::Result;
use crate::write::encode::{usage, Put, Widths};
use crate::write::sink::Out;

/// log2 of the entries per data block page (libhdf5's default).
pub(super) const PAGE_BITS: u8 = 10;

/// Append `bytes` with a lookup3 checksum of them.
fn checksummed(mut bytes: Vec<u8>) -> Vec<u8> {
    let sum = lookup3(&bytes, 0);
    bytes.put_u32(sum);
    bytes
}

/// Write the array over a grid of `grid` chunks; returns the header address.
pub(super) fn write(
    out: &mut Out,
    written: &BTreeMap<Vec<u64>, (u64, u32)>,
    grid: &[u64],
    fmt: EntryFormat,
) -> Result<u64> {
    let nelmts = grid
        .iter()
        .try_fold(1u64, |a, &g| a.checked_mul(g))
        .ok_or_else(|| usage("fixed array of too many chunks"))?;
    let mut entries: BTreeMap<u64, (u64, u32)> = BTreeMap::new();
    for (scaled, e) in written {
        entries.insert(linear(scaled, grid)?, *e);
    }
    let elen = fmt.len() as u64;
    let body = nelmts
        .checked_mul(elen)
        .filter(|b| *b < (1 << 32))
        .ok_or_else(|| usage(format!("fixed array of {nelmts} chunks")))?;
    // The data block's entries (the bitmap and the pages when paged) do not depend on
    // where the blocks go: encode them first, then allocate both blocks (from free space
    // when the editor has some) and write them pointing to each other.
    let page = 1u64 << PAGE_BITS;
    let entry = |i: u64, buf: &mut Vec<u8>| fmt.put(buf, entries.get(&i).copied());
    let mut body = Vec::with_capacity(body as usize + 64);
    let mut pages = Vec::new();
    if nelmts <= page {
        for i in 0..nelmts {
            entry(i, &mut body);
        }
    } else {
        let npages = nelmts.div_ceil(page);
        let mut bitmap = vec![0u8; npages.div_ceil(8) as usize];
        for p in 0..npages {
            bitmap[(p / 8) as usize] |= 0x80 >> (p % 8);
        }
        body.extend_from_slice(&bitmap);
        for p in 0..npages {
            let mut pg = Vec::with_capacity((page * elen) as usize + 4);
            for i in p * page..((p + 1) * page).min(nelmts) {
                entry(i, &mut pg);
            }
            pages.extend_from_slice(&checksummed(pg));
        }
    }
    let w = Widths::current();
    let header_len = 4 + 4 + w.l() + w.o() + 4;
    let prefix_len = 4 + 2 + w.o();
    let header_at = out.alloc(header_len as u64)?;
    let dblock_at = out.alloc((prefix_len + body.len() + 4 + pages.len()) as u64)?;

    let mut h = Vec::with_capacity(header_len);
    h.extend_from_slice(b"FAHD");
    h.put_u8(0);
    h.put_u8(fmt.client());
    h.put_u8(fmt.len() as u8);
    h.put_u8(PAGE_BITS);
    h.put_len(nelmts);
    h.put_addr(dblock_at);
    out.write_at(header_at, &checksummed(h))?;

    let mut d = Vec::with_capacity(prefix_len + body.len() + 4 + pages.len());
    d.extend_from_slice(b"FADB");
    d.put_u8(0);
    d.put_u8(fmt.client());
    d.put_addr(header_at);
    d.extend_from_slice(&body);
    let mut d = checksummed(d);
    d.extend_from_slice(&pages);
    out.write_at(dblock_at, &d)?;
    Ok(header_at)
}
