//! Object header parsing: the input's first byte picks the address/length widths, the rest is
//! the file; the header is parsed at a few addresses and its messages decoded.
#![no_main]

use std::sync::Arc;

use h5format::cursor::Sizes;
use h5format::io::{MemSource, Source};
use h5format::read::object_header::ObjectHeader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let widths = [2u8, 4, 8];
    let sizes = Sizes {
        offset: widths[(sel % 3) as usize],
        length: widths[((sel / 3) % 3) as usize],
    };
    let source = Source::new(Arc::new(MemSource::new(rest.to_vec()))).with_alloc_limit(16 << 20);
    for addr in [0u64, 8, 16] {
        if let Ok(h) = ObjectHeader::read(&source, sizes, addr) {
            // The message parsers the high-level API runs on every header.
            let _ = h5format::File::from_bytes_with_limit(rest.to_vec(), 16 << 20)
                .and_then(|f| f.object_at(h.address, "/x".into()))
                .map(|o| o.node().attributes());
        }
    }
});
