//! The nbit filter decoder on its own: the input is its client data (first byte: how many
//! 32-bit values follow, little-endian) then one stored chunk. Decoding may fail but must not
//! panic, hang or produce more than the 1 MiB bound.
#![no_main]

use h5format_fuzz::{FilterCase, MAX_OUT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(case) = FilterCase::parse(5, data) else {
        return;
    };
    if let Some(out) = case.decode() {
        assert!(out.len() <= MAX_OUT.max(case.chunk.len()));
    }
});
