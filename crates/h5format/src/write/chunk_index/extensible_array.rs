//! Extensible array chunk index (one unlimited dimension): header "EAHD", index block "EAIB"
//! (the first elements, the data blocks of the first super blocks and the addresses of the
//! other super blocks), super blocks "EASB" and data blocks "EADB", paged when they hold more
//! than 2^10 elements (each page checksummed, its "initialized" bit set in the super block).
//!
//! Blocks holding no chunk are not written (undefined address), as libhdf5 creates them only
//! when an element in them is set; written blocks hold every element they cover, unset ones
//! with an undefined address, as libhdf5 fills them.

use std::collections::BTreeMap;

use super::{log2, EntryFormat};
use crate::checksum::lookup3;
use crate::error::Result;
use crate::write::encode::{usage, Put, Widths, UNDEF};
use crate::write::sink::Out;

/// Bits of the maximum number of elements.
const MAX_BITS: u8 = 32;
/// Elements stored in the index block.
const IBLK_ELMTS: u64 = 4;
/// Minimum data block pointers of a super block.
const SBLK_MIN_PTRS: u64 = 4;
/// Minimum elements of a data block.
const DBLK_MIN_ELMTS: u64 = 16;
/// log2 of the elements of a data block page.
const PAGE_BITS: u8 = 10;
/// The index-specific fields of the layout message, in its order.
pub(super) const PARAMS: [u8; 5] = [
    MAX_BITS,
    IBLK_ELMTS as u8,
    SBLK_MIN_PTRS as u8,
    DBLK_MIN_ELMTS as u8,
    PAGE_BITS,
];
/// Bytes of a block offset (enough for 2^MAX_BITS elements).
const OFF_LEN: usize = (MAX_BITS as usize).div_ceil(8);
/// Bytes of the header in the current widths (six lengths, one address).
fn header_len() -> u64 {
    let w = Widths::current();
    (12 + 6 * w.l() + w.o() + 4) as u64
}

/// Geometry of one super block level: data blocks, elements per data block, and the index
/// (after the index block's elements) of its first element.
struct Level {
    ndblks: u64,
    dblk_nelmts: u64,
    start: u64,
    first_dblk: u64,
}

fn levels() -> Vec<Level> {
    let n = 1 + (u32::from(MAX_BITS) - log2(DBLK_MIN_ELMTS)) as usize;
    let (mut start, mut first_dblk) = (0u64, 0u64);
    (0..n)
        .map(|u| {
            let l = Level {
                ndblks: 1 << (u / 2),
                dblk_nelmts: (1u64 << u.div_ceil(2)) * DBLK_MIN_ELMTS,
                start,
                first_dblk,
            };
            start += l.ndblks * l.dblk_nelmts;
            first_dblk += l.ndblks;
            l
        })
        .collect()
}

/// Append a lookup3 checksum of `bytes`.
fn seal(bytes: &mut Vec<u8>) {
    let sum = lookup3(bytes, 0);
    bytes.put_u32(sum);
}

/// The common prefix of the array's blocks.
fn prefix(sig: &[u8; 4], fmt: EntryFormat, header: u64) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(sig);
    b.put_u8(0);
    b.put_u8(fmt.client());
    b.put_addr(header);
    b
}

/// Write the array whose element `i` is `elements[i]` (absent: no chunk); returns the header
/// address.
pub(super) fn write(
    out: &mut Out,
    elements: &BTreeMap<u64, (u64, u32)>,
    fmt: EntryFormat,
) -> Result<u64> {
    let max_idx_set = elements.keys().next_back().map_or(0, |&i| i + 1);
    if max_idx_set > 1 << MAX_BITS {
        return Err(usage(format!(
            "{max_idx_set} chunks along the unlimited dimension, over the extensible \
             array's 2^{MAX_BITS}"
        )));
    }
    // Allocated first (from free space when the editor has some), written last.
    let header = out.alloc(header_len())?;
    let get = |i: u64| elements.get(&i).copied();
    let any_in = |lo: u64, n: u64| elements.range(lo..lo + n).next().is_some();
    let elen = fmt.len() as u64;
    let page = 1u64 << PAGE_BITS;
    // Statistics kept in the header, as libhdf5 counts them.
    let (mut nsblks, mut sblk_bytes, mut ndblks, mut dblk_bytes) = (0u64, 0u64, 0u64, 0u64);
    let mut nelmts = 0u64;
    let levels = levels();
    let iblock_levels = 2 * log2(SBLK_MIN_PTRS) as usize;
    let mut iblock_dblks = vec![UNDEF; 2 * (SBLK_MIN_PTRS as usize - 1)];
    let mut iblock_sblks = vec![UNDEF; levels.len() - iblock_levels];
    let iblock_at = if max_idx_set == 0 {
        UNDEF
    } else {
        nelmts += IBLK_ELMTS;
        for (s, l) in levels.iter().enumerate() {
            let first = IBLK_ELMTS + l.start;
            if first >= max_idx_set {
                break;
            }
            let paged = l.dblk_nelmts > page;
            let npages = if paged { l.dblk_nelmts / page } else { 0 };
            let mut addrs = vec![UNDEF; l.ndblks as usize];
            for (d, slot) in addrs.iter_mut().enumerate() {
                let lo = first + d as u64 * l.dblk_nelmts;
                if !any_in(lo, l.dblk_nelmts) {
                    continue;
                }
                let mut b = prefix(b"EADB", fmt, header);
                let off = l.start + d as u64 * l.dblk_nelmts;
                b.extend_from_slice(&off.to_le_bytes()[..OFF_LEN]);
                if paged {
                    seal(&mut b);
                    for p in 0..npages {
                        let mut pg = Vec::with_capacity((page * elen) as usize + 4);
                        for i in lo + p * page..lo + (p + 1) * page {
                            fmt.put(&mut pg, get(i));
                        }
                        seal(&mut pg);
                        b.extend_from_slice(&pg);
                    }
                } else {
                    for i in lo..lo + l.dblk_nelmts {
                        fmt.put(&mut b, get(i));
                    }
                    seal(&mut b);
                }
                *slot = out.append(&b)?;
                ndblks += 1;
                dblk_bytes += b.len() as u64;
                nelmts += l.dblk_nelmts;
            }
            if s < iblock_levels {
                for (d, a) in addrs.into_iter().enumerate() {
                    if let Some(slot) = iblock_dblks.get_mut(l.first_dblk as usize + d) {
                        *slot = a;
                    }
                }
                continue;
            }
            if addrs.iter().all(|&a| a == UNDEF) {
                continue;
            }
            let mut b = prefix(b"EASB", fmt, header);
            b.extend_from_slice(&l.start.to_le_bytes()[..OFF_LEN]);
            if paged {
                let mut bitmap = vec![0u8; (l.ndblks * npages.div_ceil(8)) as usize];
                for (d, &a) in addrs.iter().enumerate() {
                    if a == UNDEF {
                        continue;
                    }
                    for p in 0..npages {
                        let bit = d as u64 * npages + p;
                        bitmap[(bit / 8) as usize] |= 0x80 >> (bit % 8);
                    }
                }
                b.extend_from_slice(&bitmap);
            }
            for a in &addrs {
                b.put_addr(*a);
            }
            seal(&mut b);
            if let Some(slot) = iblock_sblks.get_mut(s - iblock_levels) {
                *slot = out.append(&b)?;
            }
            nsblks += 1;
            sblk_bytes += b.len() as u64;
        }
        let mut b = prefix(b"EAIB", fmt, header);
        for i in 0..IBLK_ELMTS {
            fmt.put(&mut b, get(i));
        }
        for a in iblock_dblks.iter().chain(&iblock_sblks) {
            b.put_addr(*a);
        }
        seal(&mut b);
        out.append(&b)?
    };

    let mut h = Vec::with_capacity(header_len() as usize);
    h.extend_from_slice(b"EAHD");
    h.put_u8(0);
    h.put_u8(fmt.client());
    h.put_u8(elen as u8);
    h.put_u8(MAX_BITS);
    h.put_u8(IBLK_ELMTS as u8);
    h.put_u8(DBLK_MIN_ELMTS as u8);
    h.put_u8(SBLK_MIN_PTRS as u8);
    h.put_u8(PAGE_BITS);
    h.put_len(nsblks);
    h.put_len(sblk_bytes);
    h.put_len(ndblks);
    h.put_len(dblk_bytes);
    h.put_len(max_idx_set);
    h.put_len(nelmts);
    h.put_addr(iblock_at);
    seal(&mut h);
    out.write_at(header, &h)?;
    Ok(header)
}
