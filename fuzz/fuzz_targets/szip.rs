//! The szip filter decoder on its own: the input is its client data (first byte: how many
//! 32-bit values follow, little-endian) then one stored chunk. Decoding may fail but must not
//! panic, hang or produce more than the 1 MiB bound;
//! a prefix decode must agree with the full decode.
#![no_main]

use h5format_fuzz::{FilterCase, MAX_OUT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(case) = FilterCase::parse(4, data) else {
        return;
    };
    if let Some(out) = case.decode() {
        assert!(out.len() <= MAX_OUT);
        // A prefix is the same bytes as far as it goes.
        let needed = case.chunk.len() % 97;
        if let Ok(head) = case
            .codec
            .decode_prefix(case.chunk.to_vec(), &case.ctx, needed)
        {
            assert!(head.len() >= needed.min(out.len()));
            assert_eq!(head[..needed.min(out.len())], out[..needed.min(out.len())]);
        }
    }
});
