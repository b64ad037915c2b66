//! The szip filter decoder on its own: the input is its client data (first byte: how many
//! 32-bit values follow, little-endian) then one stored chunk. Decoding may fail but must not
//! panic, hang or produce more than the 1 MiB bound;
//! a prefix decode must agree with the full decode.
#![no_main]

use h5format::filter::{Ctx, FilterInfo};
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
    let Ok(codec) = FilterInfo::new(4, cd).codec() else {
        return;
    };
    let ctx = Ctx {
        elem_size: 4,
        max_out: MAX_OUT,
    };
    if let Ok(out) = codec.decode(chunk.to_vec(), &ctx) {
        assert!(out.len() <= MAX_OUT);
        // A prefix is the same bytes as far as it goes.
        let needed = chunk.len() % 97;
        if let Ok(head) = codec.decode_prefix(chunk.to_vec(), &ctx, needed) {
            assert!(head.len() >= needed.min(out.len()));
            assert_eq!(head[..needed.min(out.len())], out[..needed.min(out.len())]);
        }
    }
});
