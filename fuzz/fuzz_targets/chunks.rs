//! Chunk indexes and the filter pipeline: every chunked dataset of the input file is read in
//! full, then by a few element ranges (through the chunk cache).
#![no_main]

use h5format::read::layout::Layout;
use h5format::Object;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(f) = h5format::File::from_bytes_with_limit(data.to_vec(), 64 << 20) else {
        return;
    };
    let Ok(root) = f.root() else { return };
    let Ok(links) = root.links() else { return };
    let mut groups = vec![root.clone()];
    for l in links.iter().take(64) {
        if let Ok(Object::Group(g)) = root.member(&l.name) {
            groups.push(g);
        }
    }
    for g in groups {
        let Ok(links) = g.links() else { continue };
        for l in links.iter().take(64) {
            if let Ok(Object::Dataset(d)) = g.member(&l.name) {
                if !matches!(d.layout(), Layout::Chunked { .. }) {
                    continue;
                }
                let _ = d.read_raw();
                let n = d.len();
                let _ = d.read_ranges_raw(&[0..n.min(3), n / 2..n.min(n / 2 + 5)]);
            }
        }
    }
});
