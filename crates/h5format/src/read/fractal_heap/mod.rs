//! Fractal heaps (spec III.G): the "FRHP" header, "FHIB" indirect blocks of any depth, "FHDB"
//! direct blocks (optionally filtered), and the three kinds of heap IDs (managed, tiny, huge).
//!
//! Dense groups keep their link messages in a fractal heap, and objects with dense attribute
//! storage keep their attribute messages in one; the v2 B-tree indexes store heap IDs.
//!
//! The managed space of a heap is one linear address space laid out by a *doubling table*:
//! row 0 and row 1 hold `width` blocks of the starting block size, every further row holds
//! `width` blocks twice as large as the row before. Rows whose blocks are no larger than the
//! maximum direct block size are direct blocks; larger ones are indirect blocks, each one a
//! smaller doubling table of its own.

mod blocks;
use blocks::BlockCache;

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::cursor::{verify_checksum, Cursor, Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use crate::filter::FilterPipeline;
use crate::fixed;
use crate::io::Source;
use binrw::BinRead;

const HEADER: &str = "fractal heap header";
const DIRECT: &str = "fractal heap direct block";
const INDIRECT: &str = "fractal heap indirect block";
const HEAP_ID: &str = "fractal heap ID";
const HUGE: &str = "fractal heap huge object";

/// Deepest nesting of indirect blocks accepted (a 64-bit heap needs far fewer levels).
const MAX_DEPTH: usize = 64;
/// Largest table width accepted (libhdf5 caps it at 65535; real files use 4).
const MAX_WIDTH: u64 = 1 << 16;
/// Bytes of decoded direct blocks a heap keeps while it is in use.
const CACHE_BYTES: u64 = 64 << 20;

/// A parsed fractal heap header, ready to fetch objects by heap ID.
#[derive(Debug)]
pub struct FractalHeap {
    /// Address of the header.
    pub address: u64,
    sizes: Sizes,
    /// Length in bytes of the heap IDs of this heap.
    pub id_len: u16,
    /// I/O filters applied to direct blocks and huge objects (empty when none).
    pub pipeline: FilterPipeline,
    /// Huge object IDs wrap around (flag bit 0).
    pub huge_ids_wrapped: bool,
    /// Direct blocks carry a checksum (flag bit 1).
    pub checksum_direct_blocks: bool,
    /// Largest object stored in managed space; larger objects are "huge".
    pub max_managed_size: u32,
    /// Address of the v2 B-tree indexing huge objects.
    pub huge_btree_address: u64,
    /// Number of managed objects.
    pub managed_objects: u64,
    /// Number of huge objects.
    pub huge_objects: u64,
    /// Number of tiny objects.
    pub tiny_objects: u64,
    /// Width of the doubling table.
    pub table_width: u16,
    /// Size of the blocks of rows 0 and 1.
    pub start_block_size: u64,
    /// Largest direct block size.
    pub max_direct_block_size: u64,
    /// Log2 of the maximum heap size: the number of bits of a managed object offset.
    pub max_heap_size_bits: u16,
    /// Address of the root block (direct or indirect; undefined when the heap is empty).
    pub root_address: u64,
    /// Rows of the root indirect block; 0 when the root is a direct block.
    pub root_rows: u16,
    /// On-disk size and filter mask of the root direct block, when filtered.
    root_filtered: Option<(u64, u32)>,
    /// Bytes of the "block offset" field of blocks and of the offset in managed heap IDs.
    off_size: usize,
    /// Bytes of the length in managed heap IDs.
    len_size: usize,
    /// Rows (of a full-size table) made of direct blocks.
    max_direct_rows: u32,
    /// Huge object records from the huge-object B-tree, by ID (read on first use).
    huge_index: OnceLock<HashMap<u64, HugeRecord>>,
    /// Decoded blocks (objects are fetched in name-hash order, so blocks are revisited).
    cache: Mutex<BlockCache>,
}

/// Where a huge object lives.
#[derive(Debug, Clone, Copy)]
struct HugeRecord {
    address: u64,
    /// Stored (possibly filtered) length.
    length: u64,
    /// Filter mask and de-filtered size, for filtered heaps.
    filtered: Option<(u32, u64)>,
}

/// The fixed part of the fractal heap header (spec III.G, "Fractal Heap Header" table), up to
/// and including the number of rows of the root indirect block; the optional filter
/// information and the checksum follow.
#[derive(BinRead)]
#[br(little, magic = b"FRHP", import(sizes: Sizes))]
#[allow(dead_code)] // fields mirror the spec's table; not every one is used
struct HeaderFields {
    #[br(assert(version == 0, "unknown fractal heap version {}", version))]
    version: u8,
    heap_id_length: u16,
    io_filters_encoded_length: u16,
    flags: u8,
    max_managed_object_size: u32,
    #[br(parse_with = fixed::length, args(sizes))]
    next_huge_object_id: u64,
    #[br(parse_with = fixed::addr, args(sizes))]
    huge_object_btree_address: u64,
    #[br(parse_with = fixed::length, args(sizes))]
    free_space_in_managed_blocks: u64,
    #[br(parse_with = fixed::addr, args(sizes))]
    free_space_manager_address: u64,
    #[br(parse_with = fixed::length, args(sizes))]
    managed_space: u64,
    #[br(parse_with = fixed::length, args(sizes))]
    allocated_managed_space: u64,
    #[br(parse_with = fixed::length, args(sizes))]
    managed_space_iterator_offset: u64,
    #[br(parse_with = fixed::length, args(sizes))]
    managed_objects_count: u64,
    #[br(parse_with = fixed::length, args(sizes))]
    huge_objects_size: u64,
    #[br(parse_with = fixed::length, args(sizes))]
    huge_objects_count: u64,
    #[br(parse_with = fixed::length, args(sizes))]
    tiny_objects_size: u64,
    #[br(parse_with = fixed::length, args(sizes))]
    tiny_objects_count: u64,
    table_width: u16,
    #[br(parse_with = fixed::length, args(sizes))]
    starting_block_size: u64,
    #[br(parse_with = fixed::length, args(sizes))]
    max_direct_block_size: u64,
    max_heap_size_bits: u16,
    starting_root_indirect_block_rows: u16,
    #[br(parse_with = fixed::addr, args(sizes))]
    root_block_address: u64,
    root_indirect_block_rows: u16,
}

fn log2_exact(v: u64) -> Option<u32> {
    (v != 0 && v.is_power_of_two()).then(|| v.trailing_zeros())
}

impl FractalHeap {
    /// Read and check the fractal heap header at `addr`.
    pub fn open(source: &Source, sizes: Sizes, addr: u64) -> Result<Self> {
        let o = u64::from(sizes.offset);
        let l = u64::from(sizes.length);
        // Fixed part, up to and including "current # of rows in root indirect block".
        let fixed = 4 + 1 + 2 + 2 + 1 + 4 + l + o + l + o + l * 8 + 2 + l + l + 2 + 2 + o + 2;
        let head = source.read(HEADER, addr, fixed)?;
        let (h, _) = fixed::parse::<HeaderFields>(&head, addr, HEADER, (sizes,))?;
        drop(head);
        let HeaderFields {
            heap_id_length: id_len,
            io_filters_encoded_length: filter_len,
            flags,
            max_managed_object_size: max_managed_size,
            huge_object_btree_address: huge_btree_address,
            managed_objects_count: managed_objects,
            huge_objects_count: huge_objects,
            tiny_objects_count: tiny_objects,
            table_width,
            starting_block_size: start_block_size,
            max_direct_block_size,
            max_heap_size_bits,
            root_block_address: root_address,
            root_indirect_block_rows: root_rows,
            ..
        } = h;

        // Optional filter information, then the checksum over the whole header.
        let tail = if filter_len > 0 {
            l + 4 + u64::from(filter_len)
        } else {
            0
        };
        let total = fixed + tail + 4;
        let all = source.read(HEADER, addr, total)?;
        verify_checksum(HEADER, addr, &all)?;
        let mut c = Cursor::new(&all, addr, HEADER, sizes);
        c.seek(fixed as usize)?;
        let mut pipeline = FilterPipeline::default();
        let mut root_filtered = None;
        if filter_len > 0 {
            let size = c.length()?;
            let mask = c.u32()?;
            root_filtered = Some((size, mask));
            let at = c.offset();
            let bytes = c.bytes(usize::from(filter_len))?;
            pipeline = FilterPipeline::parse(&mut Cursor::new(
                bytes,
                at,
                "filter pipeline message",
                sizes,
            ))?;
        }

        let bad = |detail: String| Error::malformed(HEADER, addr, detail);
        if id_len == 0 {
            return Err(bad("heap ID length is zero".into()));
        }
        let w = u64::from(table_width);
        if log2_exact(w).is_none() || w > MAX_WIDTH {
            return Err(bad(format!(
                "table width {table_width} is not a power of two"
            )));
        }
        let start_bits = log2_exact(start_block_size).ok_or_else(|| {
            bad(format!(
                "starting block size {start_block_size} is not a power of two"
            ))
        })?;
        let max_direct_bits = log2_exact(max_direct_block_size).ok_or_else(|| {
            bad(format!(
                "maximum direct block size {max_direct_block_size} is not a power of two"
            ))
        })?;
        if max_direct_bits < start_bits {
            return Err(bad(
                "maximum direct block size below the starting block size".into(),
            ));
        }
        if max_heap_size_bits == 0 || max_heap_size_bits > 64 {
            return Err(bad(format!(
                "maximum heap size of 2^{max_heap_size_bits} bytes"
            )));
        }
        if u32::from(max_heap_size_bits) < max_direct_bits {
            return Err(bad(
                "maximum heap size below the maximum direct block size".into()
            ));
        }
        let off_size = usize::from(max_heap_size_bits).div_ceil(8);
        let dblock_len_size = (max_direct_bits as usize).div_ceil(8).max(1);
        let man_len_size =
            (63 - u64::from(max_managed_size.max(1)).leading_zeros()) as usize / 8 + 1;
        let len_size = dblock_len_size.min(man_len_size);
        let max_direct_rows = max_direct_bits - start_bits + 2;
        // Rows beyond what the heap's address space can hold are impossible.
        let width_bits = w.trailing_zeros();
        let max_rows = u32::from(max_heap_size_bits)
            .saturating_sub(start_bits + width_bits)
            .saturating_add(1);
        if u32::from(root_rows) > max_rows {
            return Err(bad(format!(
                "root indirect block has {root_rows} rows, at most {max_rows} fit the heap"
            )));
        }
        Ok(FractalHeap {
            address: addr,
            sizes,
            id_len,
            pipeline,
            huge_ids_wrapped: flags & 1 != 0,
            checksum_direct_blocks: flags & 2 != 0,
            max_managed_size,
            huge_btree_address,
            managed_objects,
            huge_objects,
            tiny_objects,
            table_width,
            start_block_size,
            max_direct_block_size,
            max_heap_size_bits,
            root_address,
            root_rows,
            root_filtered,
            off_size,
            len_size,
            max_direct_rows,
            huge_index: OnceLock::new(),
            cache: Mutex::new(BlockCache::default()),
        })
    }

    /// The object whose heap ID is `heap_id` (managed, tiny or huge).
    pub fn get(&self, source: &Source, heap_id: &[u8]) -> Result<Vec<u8>> {
        let mut c = Cursor::new(heap_id, self.address, HEAP_ID, self.sizes);
        let first = c.u8()?;
        let version = first >> 6;
        if version != 0 {
            return Err(c.err(format!("unknown heap ID version {version}")));
        }
        match (first >> 4) & 3 {
            0 => {
                let offset = c.uint(self.off_size)?;
                let len = c.uint(self.len_size)?;
                self.get_managed(source, offset, len)
            }
            1 => self.get_huge(source, &mut c),
            2 => {
                // Tiny: the object is inside the ID; its length is 4 bits, or 12 bits when
                // the IDs are longer than 18 bytes.
                let extended = usize::from(self.id_len).saturating_sub(1) > 16;
                let len = if extended {
                    usize::from(c.u8()?) | (usize::from(first & 0x0f) << 8)
                } else {
                    usize::from(first & 0x0f)
                };
                Ok(c.bytes(len + 1)?.to_vec())
            }
            t => Err(c.err(format!("reserved heap ID type {t}"))),
        }
    }

    fn get_managed(&self, source: &Source, offset: u64, len: u64) -> Result<Vec<u8>> {
        if len > u64::from(self.max_managed_size) {
            return Err(Error::malformed(
                HEAP_ID,
                self.address,
                format!(
                    "managed object of {len} bytes exceeds the heap's maximum of {}",
                    self.max_managed_size
                ),
            ));
        }
        let block = self.locate(source, offset)?;
        let image = self.direct_cached(source, &block)?;
        let start = offset - block.heap_offset;
        let end = start.checked_add(len).filter(|&e| e <= image.len() as u64);
        let Some(end) = end else {
            return Err(Error::malformed(
                DIRECT,
                block.address,
                format!("object at heap offset {offset} ({len} bytes) runs past the block"),
            ));
        };
        // Objects never overlap the block's own header.
        if start < self.direct_header_len() as u64 {
            return Err(Error::malformed(
                DIRECT,
                block.address,
                format!("object at heap offset {offset} overlaps the block header"),
            ));
        }
        Ok(image[start as usize..end as usize].to_vec())
    }

    /// Bytes before the first object of a direct block.
    fn direct_header_len(&self) -> usize {
        4 + 1
            + usize::from(self.sizes.offset)
            + self.off_size
            + if self.checksum_direct_blocks { 4 } else { 0 }
    }

    /// Size of the blocks of row `row` of a doubling table.
    fn row_block_size(&self, row: u32) -> Option<u64> {
        if row == 0 {
            Some(self.start_block_size)
        } else {
            let bits = self
                .start_block_size
                .trailing_zeros()
                .checked_add(row - 1)?;
            (bits < 64).then(|| 1u64 << bits)
        }
    }

    /// Offset of row `row` from the start of a doubling table.
    fn row_offset(&self, row: u32) -> Option<u64> {
        if row == 0 {
            Some(0)
        } else {
            self.row_block_size(row)?
                .checked_mul(u64::from(self.table_width))
        }
    }

    /// Number of rows of an indirect block spanning `size` bytes.
    fn rows_for_size(&self, size: u64, at: u64) -> Result<u32> {
        let first_row = self
            .start_block_size
            .checked_mul(u64::from(self.table_width))
            .and_then(log2_exact);
        match (log2_exact(size), first_row) {
            (Some(s), Some(f)) if s >= f => Ok(s - f + 1),
            _ => Err(Error::malformed(
                INDIRECT,
                at,
                format!("indirect block of {size} bytes does not fit the doubling table"),
            )),
        }
    }

    /// Row and column of the block holding `offset` (relative to the start of a table).
    fn row_col(&self, offset: u64) -> Option<(u32, u64)> {
        let first_row_span = self
            .start_block_size
            .checked_mul(u64::from(self.table_width))?;
        if offset < first_row_span {
            return Some((0, offset / self.start_block_size));
        }
        let high = 63 - offset.leading_zeros();
        let first_bits = first_row_span.trailing_zeros();
        let row = high - first_bits + 1;
        let col = (offset - (1u64 << high)) / self.row_block_size(row)?;
        Some((row, col))
    }

    fn get_huge(&self, source: &Source, c: &mut Cursor<'_>) -> Result<Vec<u8>> {
        let o = usize::from(self.sizes.offset);
        let l = usize::from(self.sizes.length);
        let id_len = usize::from(self.id_len);
        let filtered = !self.pipeline.is_empty();
        // IDs long enough to hold the address and length hold them directly.
        let direct = if filtered {
            id_len > o + l + 4 + l
        } else {
            id_len > o + l
        };
        let rec = if direct {
            let address = c.addr()?;
            let length = c.length()?;
            let filtered = if filtered {
                let mask = c.u32()?;
                let size = c.length()?;
                Some((mask, size))
            } else {
                None
            };
            HugeRecord {
                address,
                length,
                filtered,
            }
        } else {
            let key = c.uint((id_len - 1).min(8))?;
            *self.huge_index(source)?.get(&key).ok_or_else(|| {
                Error::malformed(
                    HUGE,
                    self.huge_btree_address,
                    format!("huge object {key} is not in the heap's huge-object B-tree"),
                )
            })?
        };
        let raw = source.read(HUGE, rec.address, rec.length)?;
        match rec.filtered {
            None => Ok(raw.into_owned()),
            Some((mask, size)) => {
                source.check_alloc(HUGE, rec.address, size)?;
                let data = self.unfilter(raw, mask, size, rec.address)?;
                if data.len() as u64 != size {
                    return Err(Error::malformed(
                        HUGE,
                        rec.address,
                        format!("decoded to {} bytes instead of {size}", data.len()),
                    ));
                }
                Ok(data)
            }
        }
    }

    fn huge_index(&self, source: &Source) -> Result<&HashMap<u64, HugeRecord>> {
        if let Some(m) = self.huge_index.get() {
            return Ok(m);
        }
        let filtered = !self.pipeline.is_empty();
        let rtype = if filtered { 2 } else { 1 };
        let records =
            crate::read::btree2::all_records(source, self.sizes, self.huge_btree_address, rtype)?;
        let mut map = HashMap::new();
        for (at, r) in records {
            let mut c = Cursor::new(&r, at, "huge object record", self.sizes);
            let address = c.addr()?;
            let length = c.length()?;
            let filt = if filtered {
                let mask = c.u32()?;
                let size = c.length()?;
                Some((mask, size))
            } else {
                None
            };
            let id = c.length()?;
            map.insert(
                id,
                HugeRecord {
                    address,
                    length,
                    filtered: filt,
                },
            );
        }
        Ok(self.huge_index.get_or_init(|| map))
    }
}
