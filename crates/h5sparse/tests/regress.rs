//! Inputs found by fuzzing the sparse selection path (`fuzz/`), replayed: every sparse group
//! of each file in `testdata/regress/sparse_*.h5` is opened and selected with the fuzz
//! target's selections; each must give a result or an error, never a panic or a huge
//! allocation.

use h5format::Object;

const SELECTIONS: [(Option<&str>, Option<&str>); 4] = [
    (None, None),
    (Some("0:2"), Some("1,0,0")),
    (Some("::2"), None),
    (Some("-1"), Some("-3:")),
];

#[test]
fn fuzz_regressions_give_errors_not_crashes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/regress");
    let mut files = 0;
    let mut selections = 0;
    // Groups whose (corrupt) shape gives a minor axis far beyond the file: a list selection
    // there once sized a table by the axis length; it must now be answered.
    let mut huge_minor_lists_ok = 0;
    for entry in std::fs::read_dir(&dir).expect("testdata/regress") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if !name.starts_with("sparse_") {
            continue;
        }
        files += 1;
        let bytes = std::fs::read(&path).expect("read");
        let Ok(f) = h5format::File::from_bytes_with_limit(bytes, 64 << 20) else {
            continue;
        };
        let root = f.root().expect("root");
        let mut paths = Vec::new();
        for l in root.links().expect("links").iter() {
            paths.push(format!("/{}", l.name));
            if let Ok(Object::Group(g)) = root.member(&l.name) {
                if let Ok(sub) = g.links() {
                    paths.extend(sub.iter().map(|s| format!("/{}/{}", l.name, s.name)));
                }
            }
        }
        for p in paths {
            let Ok(m) = h5sparse::hdf5::open(&f, &p) else {
                continue;
            };
            let (r, c) = m.shape();
            let minor = match m.format() {
                h5sparse::Format::Csr => c,
                h5sparse::Format::Csc => r,
            };
            for (rows, cols) in SELECTIONS {
                // A result or an error: both are fine; what matters is getting here.
                let res = m.select_text(rows, cols);
                selections += 1;
                // An integer list (not a slice, not a mask) on the minor axis.
                let is_list = |t: Option<&str>| t.is_some_and(|t| !t.contains(':'));
                let minor_list = match m.format() {
                    h5sparse::Format::Csr => is_list(cols),
                    h5sparse::Format::Csc => is_list(rows),
                };
                if minor > 1 << 40 && minor_list && res.is_ok() {
                    huge_minor_lists_ok += 1;
                }
            }
        }
    }
    assert!(
        files > 0,
        "no sparse regression inputs found in {}",
        dir.display()
    );
    assert!(
        selections > 0,
        "no sparse group could be opened in the regression inputs"
    );
    assert!(
        huge_minor_lists_ok > 0,
        "no list selection on a huge minor axis was answered"
    );
}
