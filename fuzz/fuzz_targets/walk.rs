//! Whole-file walk: open the input as an HDF5 file and read everything in it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = h5format::File::from_bytes_with_limit(data.to_vec(), 64 << 20) {
        let _ = h5format::walk::walk_all(&f);
    }
});
