//! Fixed array chunk index: header "FAHD" and one data block "FADB" with one entry per chunk
//! of the maximum dimensions (row-major). Over 2^10 entries the data block is paged: a bitmap
//! of initialized pages (all set: every page is written) and the pages after it, each with
//! its own checksum.

use std::collections::BTreeMap;

use super::{linear, EntryFormat};
use crate::checksum::lookup3;
use crate::error::Result;
use crate::write::encode::{usage, Put};
use crate::write::sink::Out;

/// log2 of the entries per data block page (libhdf5's default).
pub(super) const PAGE_BITS: u8 = 10;
/// Bytes of the header with 8-byte offsets and lengths.
const HEADER_LEN: u64 = 4 + 1 + 1 + 1 + 1 + 8 + 8 + 4;

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
    let header_at = out.eof.div_ceil(8) * 8;
    let dblock_at = header_at + HEADER_LEN.div_ceil(8) * 8;

    let mut h = Vec::with_capacity(HEADER_LEN as usize);
    h.extend_from_slice(b"FAHD");
    h.put_u8(0);
    h.put_u8(fmt.client());
    h.put_u8(fmt.len() as u8);
    h.put_u8(PAGE_BITS);
    h.put_u64(nelmts);
    h.put_u64(dblock_at);
    let h = checksummed(h);

    let mut d = Vec::with_capacity(body as usize + 64);
    d.extend_from_slice(b"FADB");
    d.put_u8(0);
    d.put_u8(fmt.client());
    d.put_u64(header_at);
    let page = 1u64 << PAGE_BITS;
    let entry = |i: u64, buf: &mut Vec<u8>| fmt.put(buf, entries.get(&i).copied());
    if nelmts <= page {
        for i in 0..nelmts {
            entry(i, &mut d);
        }
        d = checksummed(d);
    } else {
        let npages = nelmts.div_ceil(page);
        let mut bitmap = vec![0u8; npages.div_ceil(8) as usize];
        for p in 0..npages {
            bitmap[(p / 8) as usize] |= 0x80 >> (p % 8);
        }
        d.extend_from_slice(&bitmap);
        d = checksummed(d);
        for p in 0..npages {
            let mut pg = Vec::with_capacity((page * elen) as usize + 4);
            for i in p * page..((p + 1) * page).min(nelmts) {
                entry(i, &mut pg);
            }
            d.extend_from_slice(&checksummed(pg));
        }
    }
    let a = out.append(&h)?;
    let b = out.append(&d)?;
    if a != header_at || b != dblock_at {
        return Err(usage("fixed array placement mismatch"));
    }
    Ok(header_at)
}
