//! Extensible array index (layout v4+, one unlimited dimension): header "EAHD", index block
//! "EAIB", super blocks "EASB" and data blocks "EADB" (paged when large, each page with its
//! own checksum and an "initialized" bit in its super block).
//!
//! Element `i` of the array is the chunk whose coordinates, with the unlimited dimension moved
//! first, have row-major index `i` in the grid of chunks of the maximum dimensions.

use std::sync::Arc;

use super::{
    bit_set, decode_entry, delinearize, linearize, size_width_from_entry, ChunkIndex,
    ChunkLocation, Geometry,
};
use crate::cache::NodeMemo;
use crate::cursor::{verify_checksum, Cursor, Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::io::Source;

const HDR: &str = "extensible array header";
const IBLK: &str = "extensible array index block";
const SBLK: &str = "extensible array super block";
const DBLK: &str = "extensible array data block";
const PAGE: &str = "extensible array data block page";

/// Geometry of one super block level.
#[derive(Debug, Clone, Copy)]
struct SblkInfo {
    ndblks: u64,
    dblk_nelmts: u64,
    start_idx: u64,
    start_dblk: u64,
}

/// A parsed super block.
struct SuperBlock {
    page_init: Vec<u8>,
    dblk_addrs: Vec<u64>,
}

/// An extensible array chunk index.
pub struct ExtensibleArrayIndex {
    source: Source,
    sizes: Sizes,
    filtered: bool,
    elem_size: usize,
    size_width: usize,
    chunk_bytes: u64,
    iblk_elmts: u64,
    data_blk_min_elmts: u64,
    page_nelmts: u64,
    arr_off_size: usize,
    max_idx_set: u64,
    sblk_info: Vec<SblkInfo>,
    /// Super blocks whose data blocks the index block points to directly.
    iblock_nsblks: usize,
    header: u64,
    /// The index block (address, length), when there is one.
    iblock: Option<(u64, u64)>,
    iblock_elmts: Vec<u8>,
    iblock_dblks: Vec<u64>,
    iblock_sblks: Vec<u64>,
    unlim_dim: usize,
    swizzled_max: Vec<u64>,
    sblocks: NodeMemo<SuperBlock>,
    blocks: NodeMemo<Vec<u8>>,
}

fn log2(v: u64) -> u32 {
    63 - v.max(1).leading_zeros()
}

impl ExtensibleArrayIndex {
    /// Open the array whose header is at `address`.
    pub fn open(source: Source, sizes: Sizes, address: u64, geom: &Geometry) -> Result<Self> {
        let off = u64::from(sizes.offset);
        let len = 4 + 1 + 1 + 6 + 6 * u64::from(sizes.length) + off + 4;
        let h = source.read(HDR, address, len)?;
        verify_checksum(HDR, address, &h)?;
        let mut c = Cursor::new(&h, address, HDR, sizes);
        c.expect_signature(b"EAHD")?;
        let version = c.u8()?;
        if version != 0 {
            return Err(c.err(format!("unknown version {version}")));
        }
        let filtered = match c.u8()? {
            0 => false,
            1 => true,
            k => return Err(c.err(format!("unknown client id {k}"))),
        };
        let elem_size = usize::from(c.u8()?);
        let max_bits = c.u8()?;
        let iblk_elmts = u64::from(c.u8()?);
        let min_elmts = u64::from(c.u8()?);
        let min_ptrs = u64::from(c.u8()?);
        let page_bits = c.u8()?;
        for _ in 0..4 {
            c.length()?;
        }
        let max_idx_set = c.length()?;
        c.length()?;
        let iblock = c.addr()?;
        let size_width = size_width_from_entry(HDR, address, elem_size, filtered, sizes)?;
        if max_bits == 0
            || max_bits > 64
            || page_bits >= 32
            || !min_elmts.is_power_of_two()
            || !min_ptrs.is_power_of_two()
            || log2(min_elmts) > u32::from(max_bits)
        {
            return Err(Error::malformed(
                HDR,
                address,
                format!(
                    "bad parameters: max bits {max_bits}, data block min elements {min_elmts}, \
                     super block min pointers {min_ptrs}, page bits {page_bits}"
                ),
            ));
        }
        let nsblks = 1 + (u32::from(max_bits) - log2(min_elmts)) as usize;
        let mut sblk_info = Vec::with_capacity(nsblks);
        let (mut start_idx, mut start_dblk) = (0u64, 0u64);
        for u in 0..nsblks {
            let ndblks = 1u64 << (u / 2);
            let dblk_nelmts = (1u64 << u.div_ceil(2).min(63)).saturating_mul(min_elmts);
            sblk_info.push(SblkInfo {
                ndblks,
                dblk_nelmts,
                start_idx,
                start_dblk,
            });
            start_idx = start_idx.saturating_add(ndblks.saturating_mul(dblk_nelmts));
            start_dblk = start_dblk.saturating_add(ndblks);
        }
        let iblock_nsblks = (2 * log2(min_ptrs)) as usize;
        if iblock_nsblks > nsblks {
            return Err(Error::malformed(
                HDR,
                address,
                "index block holds more super blocks than the array",
            ));
        }
        let ndblk_addrs = 2 * (min_ptrs as usize - 1);
        let nsblk_addrs = nsblks - iblock_nsblks;

        let max_chunks = geom.max_chunks_per_dim();
        let unlim_dim = max_chunks.iter().position(|&m| m == u64::MAX).unwrap_or(0);
        let mut swizzled_max = max_chunks.clone();
        swizzled_max.remove(unlim_dim);
        swizzled_max.insert(0, max_chunks[unlim_dim]);
        if swizzled_max.iter().skip(1).any(|&m| m == u64::MAX) {
            return Err(Error::unsupported(
                "chunk index",
                "extensible array with several unlimited dimensions",
            ));
        }

        let mut me = ExtensibleArrayIndex {
            source,
            sizes,
            filtered,
            elem_size,
            size_width,
            chunk_bytes: geom.chunk_bytes,
            iblk_elmts,
            data_blk_min_elmts: min_elmts,
            page_nelmts: 1u64 << page_bits,
            arr_off_size: usize::from(max_bits).div_ceil(8),
            max_idx_set,
            sblk_info,
            iblock_nsblks,
            header: address,
            iblock: None,
            iblock_elmts: Vec::new(),
            iblock_dblks: Vec::new(),
            iblock_sblks: Vec::new(),
            unlim_dim,
            swizzled_max,
            sblocks: NodeMemo::new(256),
            blocks: NodeMemo::new(256),
        };
        if iblock == UNDEF_ADDR {
            me.max_idx_set = 0;
            return Ok(me);
        }
        let elen = iblk_elmts as usize * elem_size;
        let len = 4 + 1 + 1 + off + elen as u64 + (ndblk_addrs + nsblk_addrs) as u64 * off + 4;
        let b = me.source.read(IBLK, iblock, len)?;
        verify_checksum(IBLK, iblock, &b)?;
        let mut c = Cursor::new(&b, iblock, IBLK, sizes);
        c.expect_signature(b"EAIB")?;
        me.check_prefix(&mut c)?;
        me.iblock_elmts = c.bytes(elen)?.to_vec();
        me.iblock_dblks = (0..ndblk_addrs).map(|_| c.addr()).collect::<Result<_>>()?;
        me.iblock_sblks = (0..nsblk_addrs).map(|_| c.addr()).collect::<Result<_>>()?;
        me.iblock = Some((iblock, len));
        Ok(me)
    }

    fn check_prefix(&self, c: &mut Cursor<'_>) -> Result<()> {
        let version = c.u8()?;
        if version != 0 {
            return Err(c.err(format!("unknown version {version}")));
        }
        let client = c.u8()?;
        if client != u8::from(self.filtered) {
            return Err(c.err(format!("client id {client} differs from the header's")));
        }
        let h = c.addr()?;
        if h != self.header {
            return Err(c.err(format!("header address {h}, expected {}", self.header)));
        }
        Ok(())
    }

    fn dblk_npages(&self, dblk_nelmts: u64) -> u64 {
        if dblk_nelmts > self.page_nelmts {
            dblk_nelmts / self.page_nelmts
        } else {
            0
        }
    }

    fn dblk_prefix(&self) -> u64 {
        4 + 1 + 1 + u64::from(self.sizes.offset) + self.arr_off_size as u64
    }

    /// Bytes of a data block of `nelmts` elements: prefix, elements, and one checksum for
    /// the block, or one after the prefix and one per page when paged.
    fn dblk_len(&self, nelmts: u64) -> u64 {
        let body = nelmts.saturating_mul(self.elem_size as u64);
        let sums = 4u64.saturating_mul(self.dblk_npages(nelmts).saturating_add(1));
        self.dblk_prefix().saturating_add(body).saturating_add(sums)
    }

    /// Bytes of a super block of level `info`.
    fn sblk_len(&self, info: SblkInfo) -> u64 {
        let off = u64::from(self.sizes.offset);
        let npages = self.dblk_npages(info.dblk_nelmts);
        let bitmap_len = if npages > 0 {
            info.ndblks.saturating_mul(npages.div_ceil(8))
        } else {
            0
        };
        (4 + 1 + 1 + off + self.arr_off_size as u64)
            .saturating_add(bitmap_len)
            .saturating_add(info.ndblks.saturating_mul(off))
            .saturating_add(4)
    }

    fn sblock(&self, addr: u64, info: SblkInfo) -> Result<Arc<SuperBlock>> {
        self.sblocks.get_or_load(addr, || {
            let npages = self.dblk_npages(info.dblk_nelmts);
            let bitmap_len = if npages > 0 {
                info.ndblks.saturating_mul(npages.div_ceil(8))
            } else {
                0
            };
            let len = self.sblk_len(info);
            let b = self.source.read(SBLK, addr, len)?;
            verify_checksum(SBLK, addr, &b)?;
            let mut c = Cursor::new(&b, addr, SBLK, self.sizes);
            c.expect_signature(b"EASB")?;
            self.check_prefix(&mut c)?;
            c.skip(self.arr_off_size)?;
            let page_init = c.bytes(bitmap_len as usize)?.to_vec();
            let dblk_addrs = (0..info.ndblks)
                .map(|_| c.addr())
                .collect::<Result<Vec<_>>>()?;
            Ok(SuperBlock {
                page_init,
                dblk_addrs,
            })
        })
    }

    /// Elements of an unpaged data block.
    fn dblock(&self, addr: u64, nelmts: u64) -> Result<Arc<Vec<u8>>> {
        self.blocks.get_or_load(addr, || {
            let body = nelmts.saturating_mul(self.elem_size as u64);
            let b = self.source.read(
                DBLK,
                addr,
                self.dblk_prefix().saturating_add(body).saturating_add(4),
            )?;
            verify_checksum(DBLK, addr, &b)?;
            let mut c = Cursor::new(&b, addr, DBLK, self.sizes);
            c.expect_signature(b"EADB")?;
            self.check_prefix(&mut c)?;
            c.skip(self.arr_off_size)?;
            Ok(c.bytes(body as usize)?.to_vec())
        })
    }

    /// Elements of page `page` of a paged data block.
    fn page(&self, dblk: u64, page: u64) -> Result<(Arc<Vec<u8>>, u64)> {
        let e = self.elem_size as u64;
        let page_size = self.page_nelmts * e + 4;
        let addr = page
            .checked_mul(page_size)
            .and_then(|o| o.checked_add(dblk))
            .and_then(|a| a.checked_add(self.dblk_prefix() + 4))
            .ok_or_else(|| Error::malformed(DBLK, dblk, "page address overflows"))?;
        let bytes = self.blocks.get_or_load(addr, || {
            let b = self.source.read(PAGE, addr, page_size)?;
            verify_checksum(PAGE, addr, &b)?;
            Ok(b[..b.len() - 4].to_vec())
        })?;
        Ok((bytes, addr))
    }

    fn decode(&self, bytes: &[u8], i: u64, base: u64) -> Result<Option<(u64, u64, u32)>> {
        let at = usize::try_from(i)
            .ok()
            .and_then(|i| i.checked_mul(self.elem_size))
            .unwrap_or(usize::MAX);
        let slice = bytes
            .get(at..at.saturating_add(self.elem_size))
            .ok_or_else(|| Error::malformed(DBLK, base, "element out of range"))?;
        let mut c = Cursor::new(slice, base, DBLK, self.sizes);
        let e = decode_entry(&mut c, self.filtered, self.size_width, self.chunk_bytes)?;
        Ok((e.0 != UNDEF_ADDR).then_some(e))
    }

    /// Element `i` in a data block at `addr` of `nelmts` elements; `page_init` is the bitmap
    /// (and bit offset) of its pages when known.
    fn in_dblock(
        &self,
        addr: u64,
        nelmts: u64,
        i: u64,
        page_init: Option<(&[u8], u64)>,
    ) -> Result<Option<(u64, u64, u32)>> {
        if addr == UNDEF_ADDR {
            return Ok(None);
        }
        if self.dblk_npages(nelmts) > 0 {
            let page = i / self.page_nelmts;
            if let Some((bits, first)) = page_init {
                if !bit_set(bits, first + page) {
                    return Ok(None);
                }
            }
            let (bytes, base) = self.page(addr, page)?;
            self.decode(&bytes, i % self.page_nelmts, base)
        } else {
            let bytes = self.dblock(addr, nelmts)?;
            self.decode(&bytes, i, addr)
        }
    }

    /// Entry `idx` of the array.
    fn element(&self, idx: u64) -> Result<Option<(u64, u64, u32)>> {
        if idx >= self.max_idx_set {
            return Ok(None);
        }
        if idx < self.iblk_elmts {
            return self.decode(&self.iblock_elmts, idx, self.header);
        }
        let j = idx - self.iblk_elmts;
        let s = log2(j / self.data_blk_min_elmts + 1) as usize;
        let Some(&info) = self.sblk_info.get(s) else {
            return Ok(None);
        };
        let elmt = j - info.start_idx;
        let d = elmt / info.dblk_nelmts;
        let within = elmt % info.dblk_nelmts;
        if s < self.iblock_nsblks {
            let Some(&addr) = usize::try_from(info.start_dblk + d)
                .ok()
                .and_then(|k| self.iblock_dblks.get(k))
            else {
                return Ok(None);
            };
            return self.in_dblock(addr, info.dblk_nelmts, within, None);
        }
        let Some(&saddr) = self.iblock_sblks.get(s - self.iblock_nsblks) else {
            return Ok(None);
        };
        if saddr == UNDEF_ADDR {
            return Ok(None);
        }
        let sb = self.sblock(saddr, info)?;
        let Some(&daddr) = usize::try_from(d).ok().and_then(|k| sb.dblk_addrs.get(k)) else {
            return Ok(None);
        };
        let npages = self.dblk_npages(info.dblk_nelmts);
        self.in_dblock(
            daddr,
            info.dblk_nelmts,
            within,
            Some((&sb.page_init, d * npages)),
        )
    }

    fn scaled_of(&self, idx: u64) -> Vec<u64> {
        let mut sw = delinearize(idx, &self.swizzled_max);
        let first = sw.remove(0);
        sw.insert(self.unlim_dim, first);
        sw
    }

    fn location(&self, scaled: Vec<u64>, e: (u64, u64, u32)) -> ChunkLocation {
        ChunkLocation {
            scaled,
            address: e.0,
            size: e.1,
            filter_mask: e.2,
        }
    }
}

impl ChunkIndex for ExtensibleArrayIndex {
    fn kind(&self) -> &'static str {
        "extensible array"
    }

    /// The header, the index block, and the super blocks and data blocks holding elements
    /// up to the last one set.
    fn blocks(&self) -> Option<Result<Vec<(u64, u64)>>> {
        let (off, len) = (u64::from(self.sizes.offset), u64::from(self.sizes.length));
        let mut out = vec![(self.header, 4 + 1 + 1 + 6 + 6 * len + off + 4)];
        let Some(iblock) = self.iblock else {
            return Some(Ok(out));
        };
        out.push(iblock);
        for (s, info) in self.sblk_info.iter().enumerate() {
            // No block holds an element past the last one set (as in `for_each`).
            if self.iblk_elmts.saturating_add(info.start_idx) >= self.max_idx_set {
                break;
            }
            let dblks: Vec<u64> = if s < self.iblock_nsblks {
                let start = usize::try_from(info.start_dblk).unwrap_or(usize::MAX);
                let end = start.saturating_add(usize::try_from(info.ndblks).unwrap_or(0));
                self.iblock_dblks
                    .get(start..end)
                    .unwrap_or_default()
                    .to_vec()
            } else {
                let Some(&saddr) = self.iblock_sblks.get(s - self.iblock_nsblks) else {
                    break;
                };
                if saddr == UNDEF_ADDR {
                    continue;
                }
                let sb = match self.sblock(saddr, *info) {
                    Ok(sb) => sb,
                    Err(e) => return Some(Err(e)),
                };
                out.push((saddr, self.sblk_len(*info)));
                sb.dblk_addrs.clone()
            };
            for d in dblks.into_iter().filter(|&d| d != UNDEF_ADDR) {
                out.push((d, self.dblk_len(info.dblk_nelmts)));
            }
        }
        Some(Ok(out))
    }

    fn lookup(&self, scaled: &[u64]) -> Result<Option<ChunkLocation>> {
        if self.unlim_dim >= scaled.len() {
            return Ok(None);
        }
        let mut sw = scaled.to_vec();
        let u = sw.remove(self.unlim_dim);
        sw.insert(0, u);
        let Some(idx) = linearize(&sw, &self.swizzled_max) else {
            return Ok(None);
        };
        Ok(self
            .element(idx)?
            .map(|e| self.location(scaled.to_vec(), e)))
    }

    fn for_each(&self, f: &mut dyn FnMut(ChunkLocation) -> Result<()>) -> Result<()> {
        // Walk the structures (not the index space) so a huge "max index set" costs nothing.
        let limit = self.max_idx_set;
        for i in 0..self.iblk_elmts.min(limit) {
            if let Some(e) = self.decode(&self.iblock_elmts, i, self.header)? {
                f(self.location(self.scaled_of(i), e))?;
            }
        }
        for (s, info) in self.sblk_info.iter().enumerate() {
            let first = self.iblk_elmts.saturating_add(info.start_idx);
            if first >= limit {
                break;
            }
            let sb;
            let (dblks, bitmap): (&[u64], Option<&[u8]>) = if s < self.iblock_nsblks {
                let start = info.start_dblk as usize;
                let end = start.saturating_add(info.ndblks as usize);
                (self.iblock_dblks.get(start..end).unwrap_or_default(), None)
            } else {
                let Some(&saddr) = self.iblock_sblks.get(s - self.iblock_nsblks) else {
                    break;
                };
                if saddr == UNDEF_ADDR {
                    continue;
                }
                sb = self.sblock(saddr, *info)?;
                (&sb.dblk_addrs, Some(&sb.page_init))
            };
            let npages = self.dblk_npages(info.dblk_nelmts);
            for (d, &daddr) in dblks.iter().enumerate() {
                if daddr == UNDEF_ADDR {
                    continue;
                }
                let dfirst = first.saturating_add((d as u64).saturating_mul(info.dblk_nelmts));
                for k in 0..info.dblk_nelmts {
                    let idx = dfirst.saturating_add(k);
                    if idx >= limit {
                        break;
                    }
                    let page_init = bitmap.map(|b| (b, d as u64 * npages));
                    if let Some(e) = self.in_dblock(daddr, info.dblk_nelmts, k, page_init)? {
                        f(self.location(self.scaled_of(idx), e))?;
                    }
                }
            }
        }
        Ok(())
    }
}
