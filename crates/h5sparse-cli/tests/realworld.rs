//! Real-world files that no one in this project wrote: the HDF5 test files inside the PyPI
//! wheels of PyTables, h5py and scanpy, fetched by `tests/realworld/fetch.sh` into
//! `testdata/realworld/` (git-ignored) and compared with the h5py reference by
//! `tests/realworld/compare.py`.
//!
//! Skips (passes with a message) when the files cannot be fetched (no network) or h5py is
//! missing. Fails only when a file that h5py dumps is neither matched nor listed with a
//! reason in `tests/realworld/known.txt`.

mod support;

use std::path::Path;
use std::process::Command;

/// True when at least one HDF5 file is under `dir` (recursively).
fn has_hdf5_files(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            has_hdf5_files(&p)
        } else {
            p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| matches!(x, "h5" | "h5ad" | "hdf5" | "nc"))
        }
    })
}

#[test]
fn realworld_files_match_h5py() {
    let root = support::root();
    if !support::python_or_skip("h5py", "skipped: python3 with h5py is not available") {
        return;
    }
    let dest = root.join("testdata/realworld");
    let fetch = Command::new("sh")
        .arg(root.join("tests/realworld/fetch.sh"))
        .arg(&dest)
        .output();
    match &fetch {
        Ok(o) if o.status.success() => {}
        Ok(o) => eprintln!(
            "fetch.sh failed (exit {:?}): {}",
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => eprintln!("cannot run fetch.sh: {e}"),
    }
    if !has_hdf5_files(&dest) {
        eprintln!(
            "skipped: no real-world files in {} (no network?)",
            dest.display()
        );
        return;
    }
    let out = Command::new("python3")
        .arg(root.join("tests/realworld/compare.py"))
        .arg(env!("CARGO_BIN_EXE_h5sparse"))
        .arg(&dest)
        .output()
        .expect("run compare.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    assert!(
        out.status.success(),
        "compare.py exit {:?}: {}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr),
        stdout
            .lines()
            .filter(|l| l.contains("NOT IN known.txt") || l.starts_with("not matched"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Shared object header messages (SOHM) as libhdf5 writes them: `h5repack -s` (Debian's
/// h5repack, i.e. libhdf5 itself) rewrites project fixtures with every dataspace, datatype,
/// fill value, filter pipeline and attribute message of at least 8 bytes in the shared
/// message heaps (or attributes only), and the dumps must equal h5py's. Skips without
/// h5repack or h5py.
#[test]
fn sohm_files_from_h5repack_match_h5py() {
    let root = support::root();
    if !support::python_or_skip("h5py", "skipped: python3 with h5py is not available") {
        return;
    }
    if Command::new("h5repack").arg("-V").output().is_err() {
        eprintln!("skipped: h5repack is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("h5sparse-sohm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let inputs = [
        "everything_v110.h5",
        "groups_earliest.h5",
        "groups_latest.h5",
        "adata_csr.h5ad",
        "tenx.h5",
        "chunked_earliest.h5",
    ];
    let mut made = 0;
    for name in inputs {
        for (tag, spec) in [("all", "8"), ("attr", "8:attr"), ("dtype", "1:dtype")] {
            let out = dir.join(format!("sohm_{tag}_{name}"));
            let ok = Command::new("h5repack")
                .arg("-s")
                .arg(spec)
                .arg(root.join("testdata").join(name))
                .arg(&out)
                .output()
                .is_ok_and(|o| o.status.success());
            if ok {
                made += 1;
            } else {
                // (h5repack 1.10 cannot read every newer structure; it may leave a partial file)
                let _ = std::fs::remove_file(&out);
                eprintln!("h5repack -s {spec} {name} failed; skipped");
            }
        }
    }
    assert!(made > 0, "h5repack made no file");
    // Objects linked twice: an object reference names the target by the path libhdf5's
    // depth-first search in storage order meets first, ours by breadth-first in listing
    // order; h5repack reorders the links of the root group.
    let known = dir.join("known.txt");
    let mut lines = String::new();
    for tag in ["all", "attr", "dtype"] {
        lines.push_str(&format!(
            "sohm_{tag}_everything_v110.h5  object reference to a twice-linked dataset named \
             by another of its paths\n"
        ));
    }
    std::fs::write(&known, lines).expect("write known.txt");
    let out = Command::new("python3")
        .arg(root.join("tests/realworld/compare.py"))
        .arg(env!("CARGO_BIN_EXE_h5sparse"))
        .arg(&dir)
        .arg("--known")
        .arg(&known)
        .output()
        .expect("run compare.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    let table_check = check_sohm_table(&dir.join("sohm_all_groups_earliest.h5"));
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = table_check {
        panic!("sohm_all_groups_earliest.h5: {e}");
    }
    assert!(
        out.status.success(),
        "compare.py exit {:?}: {}\n{stdout}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr),
    );
    // The dumps above must actually have gone through the shared message heap.
    assert!(
        !stdout.contains("ours-error"),
        "a SOHM file failed to dump:\n{stdout}"
    );
}

/// The table of a file `h5repack -s 8` wrote: indexes for the shareable header message types,
/// and the messages of every list index found in its heap.
fn check_sohm_table(path: &Path) -> Result<(), String> {
    use h5format::read::shared::SharedResolver;
    use h5format::read::shared_message_table::{list_records, IndexKind, RecordLocation};
    let file = h5format::File::open(path).map_err(|e| e.to_string())?;
    let table = file
        .shared_message_table()
        .map_err(|e| e.to_string())?
        .ok_or("no shared message table")?;
    let flags: u16 = table
        .indexes
        .iter()
        .map(|i| i.type_flags)
        .fold(0, |a, b| a | b);
    // dataspace, datatype, fill value, filter pipeline (h5repack -s shares no attributes
    // unless asked)
    let want = 0x0002 | 0x0008 | 0x0020 | 0x0800;
    if flags & want != want {
        return Err(format!("index type flags {flags:#06x}"));
    }
    let mut in_heap = 0;
    for index in &table.indexes {
        if index.kind != IndexKind::List {
            continue;
        }
        let records =
            list_records(file.source(), file.sizes(), index).map_err(|e| e.to_string())?;
        if records.len() != usize::from(index.message_count) {
            return Err(format!(
                "{} records, {} counted",
                records.len(),
                index.message_count
            ));
        }
        for r in records {
            if let RecordLocation::Heap { heap_id, .. } = r.location {
                let kind = index.type_flags.trailing_zeros() as u16;
                let (_, body) = file
                    .heap_message(kind, &heap_id)
                    .map_err(|e| e.to_string())?;
                if body.is_empty() {
                    return Err("empty shared message".into());
                }
                in_heap += 1;
            }
        }
    }
    if in_heap == 0 {
        return Err("no message in a shared message heap".into());
    }
    Ok(())
}
