//! The virtual dataset global heap block: parse the mappings (8-byte addresses and lengths;
//! the checksum is fixed up so the parser gets past it), then expand every selection over a
//! few dataspace shapes. Errors are fine; panics, hangs and huge allocations are not.
#![no_main]

use h5format::cursor::Sizes;
use h5format::read::virtual_dataset::parse_mappings;
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
        }
    }
});
