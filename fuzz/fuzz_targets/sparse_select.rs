//! The sparse selection path: open every group of the input that looks like a sparse matrix
//! (top level and one below) and select rows and columns with the CLI's text forms.
#![no_main]

use h5format::Object;
use libfuzzer_sys::fuzz_target;

const SELECTIONS: [(Option<&str>, Option<&str>); 4] = [
    (None, None),
    (Some("0:2"), Some("1,0,0")),
    (Some("::2"), None),
    (Some("-1"), Some("-3:")),
];

fuzz_target!(|data: &[u8]| {
    let Ok(f) = h5format::File::from_bytes_with_limit(data.to_vec(), 64 << 20) else {
        return;
    };
    let Ok(root) = f.root() else { return };
    let Ok(links) = root.links() else { return };
    let mut paths = Vec::new();
    for l in links.iter().take(64) {
        let p = format!("/{}", l.name);
        if let Ok(Object::Group(g)) = root.member(&l.name) {
            if let Ok(sub) = g.links() {
                for s in sub.iter().take(16) {
                    paths.push(format!("{p}/{}", s.name));
                }
            }
        }
        paths.push(p);
    }
    for p in paths {
        let Ok(m) = h5sparse::hdf5::open(&f, &p) else {
            continue;
        };
        for (rows, cols) in SELECTIONS {
            let _ = m.select_text(rows, cols);
        }
    }
});
