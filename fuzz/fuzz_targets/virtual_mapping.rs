//! The virtual dataset global heap block: parse the mappings (8-byte addresses and lengths;
//! the checksum is fixed up so the parser gets past it), then expand every selection over a
//! few dataspace shapes, and the unlimited-mapping arithmetic (clips, slice counts, extents,
//! printf blocks and names). Errors are fine; panics, hangs and huge allocations are not.
#![no_main]

use h5format::cursor::Sizes;
use h5format::read::virtual_dataset::{has_block_number, parse_mappings, source_name};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    let sum = h5format::checksum::lookup3(&bytes, 0);
    bytes.extend_from_slice(&sum.to_le_bytes());
    let sizes = Sizes {
        offset: 8,
        length: 8,
    };
    let Ok(mappings) = parse_mappings(&bytes, 0, sizes) else {
        return;
    };
    for m in &mappings {
        for dims in [&[10u64][..], &[4, 6], &[3, 1, 7]] {
            let _ = m.source.ranges(dims, 4096);
            let _ = m.target.ranges(dims, 4096);
            let _ = m.target.bounds_end(dims);
        }
        // Unlimited mappings: clipping, slice counts, extents, printf blocks and names.
        let _ = source_name(&m.file, Some(7));
        let _ = source_name(&m.dataset, None);
        let _ = has_block_number(&m.file);
        for sel in [&m.source, &m.target] {
            let Some(axis) = sel.unlimited_axis() else {
                continue;
            };
            for size in [0u64, 1, 5, 13, u64::MAX] {
                let slices = sel.slices_below(size);
                let extent = sel.extent_for_slices(slices);
                let mut dims = vec![9u64; axis + 1];
                dims[axis] = extent.min(64);
                let _ = sel.ranges_clipped(&dims, 4096, Some((axis, dims[axis])));
            }
            for j in [0u64, 1, 3, u64::MAX] {
                if let Ok((block, _, end)) = sel.unlimited_block(j) {
                    let mut dims = vec![9u64; axis + 1];
                    dims[axis] = end.min(64);
                    let _ = block.ranges_clipped(&dims, 4096, Some((axis, dims[axis] / 2)));
                }
            }
        }
    }
});
