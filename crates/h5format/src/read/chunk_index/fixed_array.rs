//! Fixed array index (layout v4+, no unlimited dimension): header "FAHD" and one data block
//! "FADB" holding one entry per chunk of the maximum dimensions, in row-major order. Large
//! arrays are paged: the data block then carries a bitmap of initialized pages and the pages
//! follow it, each with its own checksum.

use std::sync::Arc;

use super::{
    bit_set, decode_entry, delinearize, linearize, size_width_from_entry, ChunkIndex,
    ChunkLocation, Geometry,
};
use crate::cache::NodeMemo;
use crate::cursor::{verify_checksum, Cursor, Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::io::Source;

/// A page's entries, the byte offset of one entry in it, and the page address.
type PageEntry = (Arc<Vec<u8>>, usize, u64);

const HDR: &str = "fixed array header";
const DBLK: &str = "fixed array data block";
const PAGE: &str = "fixed array data block page";

/// A fixed array chunk index.
pub struct FixedArrayIndex {
    source: Source,
    sizes: Sizes,
    nelmts: u64,
    entry_size: usize,
    filtered: bool,
    size_width: usize,
    chunk_bytes: u64,
    max_chunks: Vec<u64>,
    /// Address of the header.
    header: u64,
    dblock: u64,
    /// Unpaged: all entries. Paged: empty.
    entries: Vec<u8>,
    paged: Option<Paging>,
    pages: NodeMemo<Vec<u8>>,
}

struct Paging {
    page_nelmts: u64,
    first_page: u64,
    bitmap: Vec<u8>,
}

impl FixedArrayIndex {
    /// Open the array whose header is at `address`.
    pub fn open(source: Source, sizes: Sizes, address: u64, geom: &Geometry) -> Result<Self> {
        let off = u64::from(sizes.offset);
        let hlen = 4 + 1 + 1 + 1 + 1 + u64::from(sizes.length) + off + 4;
        let h = source.read(HDR, address, hlen)?;
        verify_checksum(HDR, address, &h)?;
        let mut c = Cursor::new(&h, address, HDR, sizes);
        c.expect_signature(b"FAHD")?;
        let version = c.u8()?;
        if version != 0 {
            return Err(c.err(format!("unknown version {version}")));
        }
        let client = c.u8()?;
        let filtered = match client {
            0 => false,
            1 => true,
            k => return Err(c.err(format!("unknown client id {k}"))),
        };
        let entry_size = usize::from(c.u8()?);
        let page_bits = c.u8()?;
        let nelmts = c.length()?;
        let dblock = c.addr()?;
        let size_width = size_width_from_entry(HDR, address, entry_size, filtered, sizes)?;
        if page_bits >= 32 {
            return Err(Error::malformed(
                HDR,
                address,
                format!("page bits {page_bits}"),
            ));
        }
        let max_chunks = geom.max_chunks_per_dim();
        if max_chunks.iter().skip(1).any(|&m| m == u64::MAX) {
            return Err(Error::malformed(
                HDR,
                address,
                "fixed array index with unlimited dimensions",
            ));
        }
        let grid = max_chunks.iter().try_fold(1u64, |a, &m| a.checked_mul(m));
        if !matches!(grid, Some(g) if nelmts <= g) {
            return Err(Error::malformed(
                HDR,
                address,
                format!("{nelmts} entries for a grid of {max_chunks:?} chunks"),
            ));
        }
        let mut me = FixedArrayIndex {
            source,
            sizes,
            nelmts,
            entry_size,
            filtered,
            size_width,
            chunk_bytes: geom.chunk_bytes,
            max_chunks,
            header: address,
            dblock,
            entries: Vec::new(),
            paged: None,
            pages: NodeMemo::new(256),
        };
        if dblock == UNDEF_ADDR {
            return Ok(me);
        }
        let page_nelmts = 1u64 << page_bits;
        let prefix = 4 + 1 + 1 + off;
        let e = entry_size as u64;
        if nelmts > page_nelmts {
            let npages = nelmts.div_ceil(page_nelmts);
            let bitmap_len = npages.div_ceil(8);
            let len = prefix + bitmap_len + 4;
            let b = me.source.read(DBLK, dblock, len)?;
            verify_checksum(DBLK, dblock, &b)?;
            let mut c = Cursor::new(&b, dblock, DBLK, sizes);
            me.check_prefix(&mut c, address)?;
            let bitmap = c.bytes(bitmap_len as usize)?.to_vec();
            me.paged = Some(Paging {
                page_nelmts,
                first_page: dblock + len,
                bitmap,
            });
        } else {
            let body = nelmts
                .checked_mul(e)
                .ok_or_else(|| Error::malformed(HDR, address, "array size overflows"))?;
            let b = me.source.read(DBLK, dblock, prefix + body + 4)?;
            verify_checksum(DBLK, dblock, &b)?;
            let mut c = Cursor::new(&b, dblock, DBLK, sizes);
            me.check_prefix(&mut c, address)?;
            me.entries = c.bytes(body as usize)?.to_vec();
        }
        Ok(me)
    }

    fn check_prefix(&self, c: &mut Cursor<'_>, header: u64) -> Result<()> {
        c.expect_signature(b"FADB")?;
        let version = c.u8()?;
        if version != 0 {
            return Err(c.err(format!("unknown version {version}")));
        }
        let client = c.u8()?;
        if client != u8::from(self.filtered) {
            return Err(c.err(format!("client id {client} differs from the header's")));
        }
        let h = c.addr()?;
        if h != header {
            return Err(c.err(format!("header address {h}, expected {header}")));
        }
        Ok(())
    }

    /// The raw bytes of entry `i`, `None` when its page was never written.
    fn entry(&self, i: u64) -> Result<Option<PageEntry>> {
        if i >= self.nelmts || self.dblock == UNDEF_ADDR {
            return Ok(None);
        }
        let e = self.entry_size as u64;
        match &self.paged {
            None => Ok(None),
            Some(p) => {
                let page = i / p.page_nelmts;
                if !bit_set(&p.bitmap, page) {
                    return Ok(None);
                }
                let page_len = p.page_nelmts * e + 4;
                let addr = page
                    .checked_mul(page_len)
                    .and_then(|o| o.checked_add(p.first_page))
                    .ok_or_else(|| Error::malformed(DBLK, self.dblock, "page address overflows"))?;
                let n = p.page_nelmts.min(self.nelmts - page * p.page_nelmts);
                let bytes = self.pages.get_or_load(addr, || {
                    let b = self.source.read(PAGE, addr, n * e + 4)?;
                    verify_checksum(PAGE, addr, &b)?;
                    Ok(b[..b.len() - 4].to_vec())
                })?;
                Ok(Some((bytes, ((i % p.page_nelmts) * e) as usize, addr)))
            }
        }
    }

    fn decode(
        &self,
        bytes: &[u8],
        at: usize,
        base: u64,
        scaled: Vec<u64>,
    ) -> Result<Option<ChunkLocation>> {
        let slice = bytes
            .get(at..at + self.entry_size)
            .ok_or_else(|| Error::malformed(DBLK, base, "entry out of range"))?;
        let mut c = Cursor::new(slice, base + at as u64, DBLK, self.sizes);
        let (address, size, filter_mask) =
            decode_entry(&mut c, self.filtered, self.size_width, self.chunk_bytes)?;
        Ok((address != UNDEF_ADDR).then_some(ChunkLocation {
            scaled,
            address,
            size,
            filter_mask,
        }))
    }

    fn get(&self, i: u64, scaled: Vec<u64>) -> Result<Option<ChunkLocation>> {
        if self.paged.is_none() {
            if i >= self.nelmts || self.dblock == UNDEF_ADDR {
                return Ok(None);
            }
            let at = (i as usize).saturating_mul(self.entry_size);
            return self.decode(&self.entries, at, self.dblock, scaled);
        }
        match self.entry(i)? {
            Some((bytes, at, base)) => self.decode(&bytes, at, base, scaled),
            None => Ok(None),
        }
    }
}

impl ChunkIndex for FixedArrayIndex {
    fn kind(&self) -> &'static str {
        "fixed array"
    }
    fn lookup(&self, scaled: &[u64]) -> Result<Option<ChunkLocation>> {
        match linearize(scaled, &self.max_chunks) {
            Some(i) => self.get(i, scaled.to_vec()),
            None => Ok(None),
        }
    }
    fn for_each(&self, f: &mut dyn FnMut(ChunkLocation) -> Result<()>) -> Result<()> {
        for i in 0..self.nelmts {
            if let Some(loc) = self.get(i, delinearize(i, &self.max_chunks))? {
                f(loc)?;
            }
        }
        Ok(())
    }
    fn blocks(&self) -> Option<Result<Vec<(u64, u64)>>> {
        // The header, and the data block: its prefix (with the page bitmap and its checksum
        // when paged), every entry, and one checksum per page (or for the whole block).
        let (off, len) = (u64::from(self.sizes.offset), u64::from(self.sizes.length));
        let mut out = vec![(self.header, 4 + 1 + 1 + 1 + 1 + len + off + 4)];
        if self.dblock != UNDEF_ADDR {
            let entries = self.nelmts.checked_mul(self.entry_size as u64);
            let size = match &self.paged {
                Some(p) => entries.and_then(|e| {
                    let pages = self.nelmts.div_ceil(p.page_nelmts);
                    (p.first_page - self.dblock)
                        .checked_add(e)?
                        .checked_add(4 * pages)
                }),
                None => entries.and_then(|e| e.checked_add(4 + 1 + 1 + off + 4)),
            };
            match size {
                Some(s) => out.push((self.dblock, s)),
                None => return Some(Err(Error::malformed(DBLK, self.dblock, "size overflows"))),
            }
        }
        Some(Ok(out))
    }
}
