//! Direct and indirect blocks of a fractal heap: locating the direct block that holds a
//! managed object, reading and checking blocks (prefix, checksum, filters), the block cache,
//! and walking every direct block.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use super::*;

/// The children of an indirect block (`None` where no block is allocated).
pub(super) type Children = Arc<Vec<Option<Child>>>;

/// Blocks already read and checked.
#[derive(Debug, Default)]
pub(super) struct BlockCache {
    pub(super) direct: HashMap<u64, Arc<Vec<u8>>>,
    pub(super) direct_bytes: u64,
    pub(super) indirect: HashMap<(u64, u32, u64), Children>,
}

/// A located direct block.
#[derive(Debug, Clone, Copy)]
pub(super) struct DirectRef {
    pub(super) address: u64,
    /// Size of the block once decoded.
    pub(super) size: u64,
    /// Offset of the block in the heap's managed space.
    pub(super) heap_offset: u64,
    /// On-disk size and filter mask, when the heap is filtered.
    pub(super) filtered: Option<(u64, u32)>,
}

/// A child entry of an indirect block.
#[derive(Debug, Clone, Copy)]
pub(super) enum Child {
    Direct(DirectRef),
    Indirect {
        address: u64,
        rows: u32,
        heap_offset: u64,
    },
}

impl FractalHeap {
    /// Find the direct block that holds managed-space offset `offset`.
    pub(super) fn locate(&self, source: &Source, offset: u64) -> Result<DirectRef> {
        let out_of_heap = || {
            Error::malformed(
                HEAP_ID,
                self.address,
                format!("managed object offset {offset} is outside the heap"),
            )
        };
        if self.max_heap_size_bits < 64 && offset >> self.max_heap_size_bits != 0 {
            return Err(out_of_heap());
        }
        if self.root_address == UNDEF_ADDR {
            return Err(out_of_heap());
        }
        if self.root_rows == 0 {
            if offset >= self.start_block_size {
                return Err(out_of_heap());
            }
            return Ok(DirectRef {
                address: self.root_address,
                size: self.start_block_size,
                heap_offset: 0,
                filtered: self.root_filtered,
            });
        }
        let mut address = self.root_address;
        let mut rows = u32::from(self.root_rows);
        let mut base = 0u64;
        let mut seen = HashSet::new();
        for _ in 0..MAX_DEPTH {
            if !seen.insert(address) {
                return Err(Error::Cycle {
                    what: INDIRECT,
                    offset: address,
                });
            }
            let rel = offset - base;
            let (row, col) = self.row_col(rel).ok_or_else(out_of_heap)?;
            if row >= rows || col >= u64::from(self.table_width) {
                return Err(out_of_heap());
            }
            let index = u64::from(row) * u64::from(self.table_width) + col;
            let children = self.indirect_cached(source, address, rows, base)?;
            let child = usize::try_from(index)
                .ok()
                .and_then(|i| children.get(i).copied())
                .ok_or_else(out_of_heap)?;
            match child {
                None => {
                    return Err(Error::malformed(
                        INDIRECT,
                        address,
                        format!("no block allocated for heap offset {offset}"),
                    ))
                }
                Some(Child::Direct(d)) => return Ok(d),
                Some(Child::Indirect {
                    address: a,
                    rows: r,
                    heap_offset,
                }) => {
                    address = a;
                    rows = r;
                    base = heap_offset;
                }
            }
        }
        Err(Error::malformed(
            INDIRECT,
            self.root_address,
            "indirect blocks nested too deeply",
        ))
    }

    /// [`Self::read_direct`] through the block cache.
    pub(super) fn direct_cached(&self, source: &Source, block: &DirectRef) -> Result<Arc<Vec<u8>>> {
        if let Some(hit) = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.direct.get(&block.address).cloned())
        {
            if hit.len() as u64 == block.size {
                return Ok(hit);
            }
        }
        let image = Arc::new(self.read_direct(source, block)?);
        if let Ok(mut c) = self.cache.lock() {
            if c.direct_bytes.saturating_add(block.size) > CACHE_BYTES {
                c.direct.clear();
                c.direct_bytes = 0;
            }
            c.direct_bytes = c.direct_bytes.saturating_add(block.size);
            c.direct.insert(block.address, image.clone());
        }
        Ok(image)
    }

    /// [`Self::read_indirect`] through the block cache.
    fn indirect_cached(
        &self,
        source: &Source,
        address: u64,
        rows: u32,
        base: u64,
    ) -> Result<Children> {
        let key = (address, rows, base);
        if let Some(hit) = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.indirect.get(&key).cloned())
        {
            return Ok(hit);
        }
        let children = Arc::new(self.read_indirect(source, address, rows, base)?);
        if let Ok(mut c) = self.cache.lock() {
            if c.indirect.len() >= 4096 {
                c.indirect.clear();
            }
            c.indirect.insert(key, children.clone());
        }
        Ok(children)
    }

    /// Parse the indirect block at `address` with `rows` rows that starts at heap offset
    /// `base`; unallocated children are `None`.
    fn read_indirect(
        &self,
        source: &Source,
        address: u64,
        rows: u32,
        base: u64,
    ) -> Result<Vec<Option<Child>>> {
        let o = u64::from(self.sizes.offset);
        let w = u64::from(self.table_width);
        let direct_rows = u64::from(rows.min(self.max_direct_rows));
        let indirect_rows = u64::from(rows.saturating_sub(self.max_direct_rows));
        let direct_entry = if self.pipeline.is_empty() {
            o
        } else {
            o + u64::from(self.sizes.length) + 4
        };
        let too_big = || Error::malformed(INDIRECT, address, "indirect block size overflows");
        let body = direct_rows
            .checked_mul(w)
            .and_then(|n| n.checked_mul(direct_entry))
            .and_then(|a| indirect_rows.checked_mul(w)?.checked_mul(o)?.checked_add(a))
            .ok_or_else(too_big)?;
        let size = (4 + 1 + o + self.off_size as u64)
            .checked_add(body)
            .and_then(|s| s.checked_add(4))
            .ok_or_else(too_big)?;
        let bytes = source.read(INDIRECT, address, size)?;
        verify_checksum(INDIRECT, address, &bytes)?;
        let mut c = Cursor::new(&bytes, address, INDIRECT, self.sizes);
        self.check_block_prefix(&mut c, b"FHIB", "indirect", base)?;
        let mut children = Vec::new();
        for row in 0..rows {
            let row_size = self.row_block_size(row).ok_or_else(too_big)?;
            let row_start = base
                .checked_add(self.row_offset(row).ok_or_else(too_big)?)
                .ok_or_else(too_big)?;
            for col in 0..w {
                let heap_offset = col
                    .checked_mul(row_size)
                    .and_then(|x| x.checked_add(row_start))
                    .ok_or_else(too_big)?;
                let child_addr = c.addr()?;
                if row < self.max_direct_rows {
                    let filtered = if self.pipeline.is_empty() {
                        None
                    } else {
                        let s = c.length()?;
                        let m = c.u32()?;
                        Some((s, m))
                    };
                    children.push(
                        (child_addr != UNDEF_ADDR).then_some(Child::Direct(DirectRef {
                            address: child_addr,
                            size: row_size,
                            heap_offset,
                            filtered,
                        })),
                    );
                } else {
                    let child_rows = self.rows_for_size(row_size, address)?;
                    children.push((child_addr != UNDEF_ADDR).then_some(Child::Indirect {
                        address: child_addr,
                        rows: child_rows,
                        heap_offset,
                    }));
                }
            }
        }
        Ok(children)
    }

    /// Read, decode and check the direct block `block`; returns its whole image (header
    /// included: object offsets count from the start of the block).
    /// The prefix every heap block starts with: signature, version 0, the owning heap's
    /// address and the block's offset in the heap (which must be where the doubling table
    /// puts it).
    fn check_block_prefix(
        &self,
        c: &mut Cursor<'_>,
        signature: &[u8; 4],
        kind: &str,
        expected_offset: u64,
    ) -> Result<()> {
        c.expect_signature(signature)?;
        let version = c.u8()?;
        if version != 0 {
            return Err(c.err(format!("unknown {kind} block version {version}")));
        }
        let heap = c.addr()?;
        if heap != self.address {
            return Err(c.err(format!(
                "belongs to the heap at {heap}, not to the heap at {}",
                self.address
            )));
        }
        let block_offset = c.uint(self.off_size)?;
        if block_offset != expected_offset {
            return Err(c.err(format!(
                "block offset {block_offset} where the doubling table puts {expected_offset}"
            )));
        }
        Ok(())
    }

    fn read_direct(&self, source: &Source, block: &DirectRef) -> Result<Vec<u8>> {
        let at = block.address;
        let image: Vec<u8> = match block.filtered {
            None => source.read(DIRECT, at, block.size)?.into_owned(),
            Some((stored, mask)) => {
                source.check_alloc(DIRECT, at, block.size)?;
                let raw = source.read(DIRECT, at, stored)?;
                self.unfilter(raw, mask, block.size, at)?
            }
        };
        if image.len() as u64 != block.size {
            return Err(Error::malformed(
                DIRECT,
                at,
                format!(
                    "decoded to {} bytes, the doubling table says {}",
                    image.len(),
                    block.size
                ),
            ));
        }
        let mut c = Cursor::new(&image, at, DIRECT, self.sizes);
        self.check_block_prefix(&mut c, b"FHDB", "direct", block.heap_offset)?;
        if self.checksum_direct_blocks {
            // The checksum covers the whole block with the checksum field zeroed.
            let pos = c.pos();
            let stored = c.u32()?;
            let mut zeroed = image.clone();
            if let Some(f) = zeroed.get_mut(pos..pos + 4) {
                f.fill(0);
            }
            let computed = crate::checksum::lookup3(&zeroed, 0);
            if stored != computed {
                return Err(Error::Checksum {
                    what: DIRECT,
                    offset: at,
                    stored,
                    computed,
                });
            }
        }
        Ok(image)
    }

    /// Undo the heap's filters (in reverse order, skipping those set in `mask`); the result
    /// must be exactly `expected` bytes.
    pub(super) fn unfilter(
        &self,
        raw: Cow<'_, [u8]>,
        mask: u32,
        expected: u64,
        at: u64,
    ) -> Result<Vec<u8>> {
        let expected = usize::try_from(expected)
            .map_err(|_| Error::malformed(HEADER, self.address, "object size overflows"))?;
        self.pipeline
            .decode(raw.into_owned(), mask, expected, 1, at)
    }

    /// Call `f(heap_offset, object_area)` for every allocated direct block, in heap order;
    /// `object_area` is the block past its header. The heap itself does not record object
    /// boundaries (the B-tree indexes do), so callers parse the area themselves.
    pub fn for_each_direct_block(
        &self,
        source: &Source,
        mut f: impl FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        if self.root_address == UNDEF_ADDR {
            return Ok(());
        }
        let skip = self.direct_header_len();
        let mut visit = |this: &Self, d: &DirectRef| -> Result<()> {
            let image = this.read_direct(source, d)?;
            f(d.heap_offset, image.get(skip..).unwrap_or(&[]))
        };
        if self.root_rows == 0 {
            let root = DirectRef {
                address: self.root_address,
                size: self.start_block_size,
                heap_offset: 0,
                filtered: self.root_filtered,
            };
            return visit(self, &root);
        }
        let mut seen = HashSet::new();
        // Depth-first, children in table order.
        let mut stack = vec![(self.root_address, u32::from(self.root_rows), 0u64, 0usize)];
        while let Some((address, rows, base, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                return Err(Error::malformed(
                    INDIRECT,
                    address,
                    "indirect blocks nested too deeply",
                ));
            }
            if !seen.insert(address) {
                return Err(Error::Cycle {
                    what: INDIRECT,
                    offset: address,
                });
            }
            let children = self.read_indirect(source, address, rows, base)?;
            let mut pending = Vec::new();
            for child in children.into_iter().flatten() {
                match child {
                    Child::Direct(d) => {
                        if !seen.insert(d.address) {
                            return Err(Error::Cycle {
                                what: DIRECT,
                                offset: d.address,
                            });
                        }
                        visit(self, &d)?;
                    }
                    Child::Indirect {
                        address,
                        rows,
                        heap_offset,
                    } => pending.push((address, rows, heap_offset, depth + 1)),
                }
            }
            stack.extend(pending.into_iter().rev());
        }
        Ok(())
    }
}
