//! The Blosc2 filter decoder (32026) on its own: the input is its client data (first byte:
//! how many 32-bit values follow, little-endian) then one stored chunk (a Blosc2 frame, b2nd or
//! not, or a bare chunk). Decoding may fail but must not panic, hang or produce more than the
//! 1 MiB bound.
#![no_main]

use h5format::filter::{Ctx, FilterInfo, ID_BLOSC2};
use libfuzzer_sys::fuzz_target;

const MAX_OUT: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n).min(rest.len() / 4);
    let (params, chunk) = rest.split_at(n * 4);
    let cd = params
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let Ok(codec) = FilterInfo::new(ID_BLOSC2, cd).codec() else {
        return;
    };
    let ctx = Ctx {
        elem_size: 4,
        max_out: MAX_OUT,
    };
    if let Ok(out) = codec.decode(chunk.to_vec(), &ctx) {
        assert!(out.len() <= MAX_OUT);
    }
});
