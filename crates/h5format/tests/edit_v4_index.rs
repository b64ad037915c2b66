//! Edits of chunked datasets with version 4 layouts keep a version 4 chunk index of the kind
//! libhdf5 picks (single chunk, fixed array, extensible array, v2 B-tree). For every index
//! kind, with and without filters, edge chunks and unwritten chunks: overwrite a hyperslab
//! spanning chunks, append rows, enlarge within the maximum shape; then the same edit is
//! done by h5py on a copy of the base file, and
//!
//! - h5py reads the same shape and bytes from both files, and so does our reader;
//! - our reader finds the same index kind (and parameters) in both files (libhdf5 keeps the
//!   index kind of a dataset; its implicit index becomes a fixed array here);
//! - `h5dump` prints the same data for both (when it reads h5py's copy: Debian's 1.10 does
//!   not read the superblock HDF5 2.0 writes for `libver="latest"`, so `v110` files are
//!   checked too).
//!
//! Files with 4-byte and 2-byte offsets or lengths are edited as well (smaller datasets).

mod support;

use std::path::Path;
use std::process::Command;

use h5format::edit::Editor;
use h5format::read::layout::{ChunkIndexKind, Layout};
use h5format::write::Durability;
use serde_json::Value;
use support::{check_py, have_h5py, python_ok, run_python};

/// One dataset of the base file and its edit.
struct Case {
    /// Dataset name.
    name: &'static str,
    /// h5py code creating it in `f` (numpy as `np`).
    create: &'static str,
    /// Numpy type of its elements (the edit's values are `arange(n) * 3 + 1000` of it).
    dtype: &'static str,
    /// New shape (resize) before the slab is written; with `append`, the slab is appended.
    resize: Option<&'static [u64]>,
    /// Hyperslab written: start and count.
    start: &'static [u64],
    count: &'static [u64],
    /// Done as one append edit (resize + slab at the end of axis 0).
    append: bool,
    /// Has an extensible array (one unlimited dimension): left out of files with 4-byte
    /// lengths, whose unlimited maximum libhdf5 cannot reopen.
    one_unlimited: bool,
    /// Too large for a file with 2-byte offsets.
    big: bool,
    /// The index kind libhdf5 leaves (None: the one of h5py's copy).
    expect: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        name: "single",
        create: "f.create_dataset('single', data=np.arange(30, dtype='<i4').reshape(5, 6), chunks=(5, 6))",
        dtype: "<i4",
        resize: None,
        start: &[1, 1],
        count: &[3, 4],
        append: false,
        one_unlimited: false,
        big: false,
        expect: None,
    },
    Case {
        name: "single_gz",
        create: "f.create_dataset('single_gz', data=np.arange(30, dtype='<i4').reshape(5, 6), chunks=(5, 6), compression='gzip', shuffle=True)",
        dtype: "<i4",
        resize: None,
        start: &[0, 2],
        count: &[5, 3],
        append: false,
        one_unlimited: false,
        big: false,
        expect: None,
    },
    Case {
        name: "farray_gz",
        create: "f.create_dataset('farray_gz', data=np.arange(23 * 17, dtype='<i4').reshape(23, 17), chunks=(5, 4), compression='gzip')",
        dtype: "<i4",
        resize: None,
        start: &[10, 10],
        count: &[13, 7],
        append: false,
        one_unlimited: false,
        big: false,
        expect: None,
    },
    Case {
        name: "farray_max",
        create: "f.create_dataset('farray_max', data=np.arange(70, dtype='<i4').reshape(10, 7), chunks=(4, 3), maxshape=(30, 7), fillvalue=-5)",
        dtype: "<i4",
        resize: Some(&[25, 7]),
        start: &[8, 1],
        count: &[15, 5],
        append: false,
        one_unlimited: false,
        big: false,
        expect: None,
    },
    Case {
        name: "farray_sparse",
        create: "d = f.create_dataset('farray_sparse', shape=(10, 10), dtype='<i4', chunks=(3, 3), fillvalue=-9, compression='gzip', fletcher32=True)\n    d[0:3, 0:3] = 1",
        dtype: "<i4",
        resize: None,
        start: &[4, 4],
        count: &[2, 6],
        append: false,
        one_unlimited: false,
        big: false,
        expect: None,
    },
    Case {
        name: "farray_paged",
        create: "f.create_dataset('farray_paged', data=np.arange(1500, dtype='<i2'), chunks=(1,))",
        dtype: "<i2",
        resize: None,
        start: &[1000],
        count: &[100],
        append: false,
        one_unlimited: false,
        big: true,
        expect: None,
    },
    Case {
        name: "implicit",
        create: "dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)\n    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)\n    d = f.create_dataset('implicit', shape=(20, 9), dtype='<i4', chunks=(4, 3), dcpl=dcpl, fillvalue=3)\n    d[0:4, 0:3] = 11",
        dtype: "<i4",
        resize: None,
        start: &[2, 2],
        count: &[5, 5],
        append: false,
        one_unlimited: false,
        big: false,
        expect: Some("fixed-array"),
    },
    Case {
        name: "earray",
        create: "f.create_dataset('earray', data=np.arange(50 * 6, dtype='<i4').reshape(50, 6), chunks=(4, 4), maxshape=(None, 6), compression='gzip', fletcher32=True)",
        dtype: "<i4",
        resize: Some(&[57, 6]),
        start: &[50, 0],
        count: &[7, 6],
        append: true,
        one_unlimited: true,
        big: false,
        expect: None,
    },
    Case {
        name: "earray_big",
        create: "d = f.create_dataset('earray_big', shape=(0,), dtype='<f8', chunks=(1,), maxshape=(None,))\n    d.resize((3000,))\n    d[:] = np.arange(3000) * 0.5",
        dtype: "<f8",
        resize: Some(&[3500]),
        start: &[3000],
        count: &[500],
        append: true,
        one_unlimited: true,
        big: true,
        expect: None,
    },
    Case {
        name: "earray_empty",
        create: "f.create_dataset('earray_empty', shape=(0, 3), dtype='<i4', chunks=(4, 3), maxshape=(None, 3))",
        dtype: "<i4",
        resize: Some(&[10, 3]),
        start: &[0, 0],
        count: &[10, 3],
        append: true,
        one_unlimited: true,
        big: false,
        expect: None,
    },
    Case {
        name: "btree2_gz",
        create: "f.create_dataset('btree2_gz', data=np.arange(20 * 30, dtype='<i4').reshape(20, 30), chunks=(3, 4), maxshape=(None, None), compression='gzip', shuffle=True)",
        dtype: "<i4",
        resize: Some(&[26, 37]),
        start: &[18, 25],
        count: &[8, 12],
        append: false,
        one_unlimited: false,
        big: false,
        expect: None,
    },
    Case {
        name: "btree2_many",
        create: "d = f.create_dataset('btree2_many', shape=(30, 40), dtype='<u1', chunks=(1, 1), maxshape=(None, None))\n    d[:] = (np.arange(1200) % 251).reshape(30, 40).astype('u1')",
        dtype: "<u1",
        resize: Some(&[35, 45]),
        start: &[28, 3],
        count: &[7, 40],
        append: false,
        one_unlimited: false,
        big: true,
        expect: None,
    },
];

/// The base file at `sys.argv[1]`: libver `sys.argv[2]`, widths `sys.argv[3]`/`[4]`.
fn base_script(cases: &[&Case]) -> String {
    let mut s = String::from(
        "import sys, h5py, numpy as np\n\
         from h5py import h5f, h5p\n\
         fcpl = h5p.create(h5p.FILE_CREATE)\n\
         fcpl.set_sizes(int(sys.argv[3]), int(sys.argv[4]))\n\
         fapl = h5p.create(h5p.FILE_ACCESS)\n\
         low = {'v110': h5f.LIBVER_V110, 'latest': h5f.LIBVER_LATEST}[sys.argv[2]]\n\
         fapl.set_libver_bounds(low, h5f.LIBVER_LATEST)\n\
         fid = h5f.create(sys.argv[1].encode(), h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)\n\
         with h5py.File(fid) as f:\n",
    );
    for c in cases {
        s.push_str("    ");
        s.push_str(c.create);
        s.push('\n');
    }
    s
}

/// h5py doing every case's edit on `sys.argv[1]`.
fn h5py_edit_script(cases: &[&Case]) -> String {
    let mut s =
        String::from("import sys, h5py, numpy as np\nwith h5py.File(sys.argv[1], 'r+') as f:\n");
    for c in cases {
        let n: u64 = c.count.iter().product();
        let shape: Vec<String> = c.count.iter().map(u64::to_string).collect();
        let sel: Vec<String> = c
            .start
            .iter()
            .zip(c.count)
            .map(|(s, n)| format!("{s}:{}", s + n))
            .collect();
        s.push_str(&format!("    d = f['{}']\n", c.name));
        if let Some(r) = c.resize {
            let r: Vec<String> = r.iter().map(u64::to_string).collect();
            s.push_str(&format!("    d.resize(({},))\n", r.join(", ")));
        }
        s.push_str(&format!(
            "    d[{}] = (np.arange({n}) * 3 + 1000).astype('{}').reshape(({},))\n",
            sel.join(", "),
            c.dtype,
            shape.join(", ")
        ));
    }
    s
}

/// The raw little-endian bytes of `arange(n) * 3 + 1000` as `dtype`.
fn values(dtype: &str, n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let v = i * 3 + 1000;
        match dtype {
            "<i4" => out.extend_from_slice(&(v as i32).to_le_bytes()),
            "<i2" => out.extend_from_slice(&(v as i16).to_le_bytes()),
            "<u1" => out.push(v as u8),
            "<f8" => out.extend_from_slice(&(v as f64).to_le_bytes()),
            _ => panic!("dtype {dtype}"),
        }
    }
    out
}

/// h5py's view of every dataset: name → [shape, bytes as hex].
const DIGEST: &str = r#"
import sys, json, h5py, numpy as np
out = {}
with h5py.File(sys.argv[1], 'r') as f:
    for k in f:
        out[k] = [list(f[k].shape), f[k][...].tobytes().hex()]
print(json.dumps(out))
"#;

fn digest(p: &Path) -> Value {
    let out = python_ok("h5py digest", DIGEST, p);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Short name of an index kind, as the fixtures' manifest names them.
fn kind_name(k: &ChunkIndexKind) -> &'static str {
    match k {
        ChunkIndexKind::BTreeV1 => "btree-v1",
        ChunkIndexKind::SingleChunk { .. } => "single-chunk",
        ChunkIndexKind::Implicit => "implicit",
        ChunkIndexKind::FixedArray { .. } => "fixed-array",
        ChunkIndexKind::ExtensibleArray { .. } => "extensible-array",
        ChunkIndexKind::BTreeV2 { .. } => "btree-v2",
    }
}

/// The dataset's index kind; a single chunk's stored size (our deflate's, not zlib's)
/// left out.
fn index_kind(f: &h5format::File, name: &str) -> ChunkIndexKind {
    match f.dataset(name).unwrap().layout() {
        Layout::Chunked {
            index: ChunkIndexKind::SingleChunk { filtered },
            ..
        } => ChunkIndexKind::SingleChunk {
            filtered: filtered.map(|(_, mask)| (0, mask)),
        },
        Layout::Chunked { index, .. } => index.clone(),
        l => panic!("{name}: layout {l:?}"),
    }
}

/// `h5dump -d /name`'s output without its first line (the file name), or None on failure.
fn dump(p: &Path, name: &str) -> Option<String> {
    let out = Command::new("h5dump")
        .arg("-d")
        .arg(format!("/{name}"))
        .arg(p)
        .output()
        .ok()?;
    if !out.status.success() || !out.stderr.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.lines().skip(1).collect::<Vec<_>>().join("\n"))
}

/// Edit the base of `libver` and widths with our editor and with h5py; compare.
fn check(dir: &Path, libver: &str, (o, l): (u8, u8)) {
    let cases: Vec<&Case> = CASES
        .iter()
        .filter(|c| !((c.big && o == 2) || (c.one_unlimited && l == 4)))
        .collect();
    let tag = format!("{libver}_o{o}_l{l}");
    let base = dir.join(format!("{tag}.h5"));
    let out = run_python(
        &base_script(&cases),
        &[
            base.to_str().unwrap(),
            libver,
            &o.to_string(),
            &l.to_string(),
        ],
    );
    assert!(
        out.status.success(),
        "base {tag}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = dir.join(format!("{tag}_ours.h5"));
    let theirs = dir.join(format!("{tag}_h5py.h5"));
    std::fs::copy(&base, &ours).unwrap();
    std::fs::copy(&base, &theirs).unwrap();
    python_ok("h5py edit", &h5py_edit_script(&cases), &theirs);

    let before = h5format::File::open(&base).unwrap();
    let mut ed = Editor::open(&ours).unwrap();
    ed.set_durability(Durability::PageCache);
    for c in &cases {
        let n: u64 = c.count.iter().product();
        let bytes = values(c.dtype, n);
        let path = format!("/{}", c.name);
        if c.append {
            ed.append(&path, &bytes).unwrap();
        } else {
            if let Some(r) = c.resize {
                ed.resize(&path, r).unwrap();
            }
            ed.write_hyperslab(&path, c.start, c.count, &bytes).unwrap();
        }
    }
    ed.close().unwrap();

    let (got, want) = (digest(&ours), digest(&theirs));
    let ours_f = h5format::File::open(&ours).unwrap();
    let theirs_f = h5format::File::open(&theirs).unwrap();
    for c in &cases {
        assert_eq!(got[c.name], want[c.name], "{tag} {}: h5py values", c.name);
        let raw = ours_f.dataset(c.name).unwrap().read_raw().unwrap();
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            want[c.name][1].as_str().unwrap(),
            hex,
            "{tag} {}: our reader",
            c.name
        );
        let (k_before, k_ours, k_theirs) = (
            index_kind(&before, c.name),
            index_kind(&ours_f, c.name),
            index_kind(&theirs_f, c.name),
        );
        match c.expect {
            None => {
                assert_eq!(k_ours, k_theirs, "{tag} {}: index kind", c.name);
                assert_eq!(
                    kind_name(&k_ours),
                    kind_name(&k_before),
                    "{tag} {}: kind kept",
                    c.name
                );
            }
            Some(k) => assert_eq!(kind_name(&k_ours), k, "{tag} {}: index kind", c.name),
        }
        match dump(&theirs, c.name) {
            Some(text) => assert_eq!(
                dump(&ours, c.name).as_deref(),
                Some(text.as_str()),
                "{tag} {}: h5dump",
                c.name
            ),
            None => eprintln!(
                "{tag} {}: h5dump does not read h5py's copy: skipped",
                c.name
            ),
        }
    }
    h5format::walk::walk_all(&ours_f).unwrap();
    drop((ours_f, theirs_f));

    // libhdf5 goes on editing what we wrote: h5py grows every dataset it can along axis 0
    // (inserting into our extensible arrays and v2 B-trees) and writes its first and last
    // rows, in our file and in its own copy; both read the same.
    for p in [&ours, &theirs] {
        python_ok("h5py second edit", MORE, p);
    }
    let (got, want) = (digest(&ours), digest(&theirs));
    for c in &cases {
        assert_eq!(
            got[c.name], want[c.name],
            "{tag} {}: after h5py's edit",
            c.name
        );
    }
}

/// h5py's second edit of every dataset of `sys.argv[1]`.
const MORE: &str = r#"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], 'r+') as f:
    for k in f:
        d = f[k]
        if d.maxshape[0] is None or d.maxshape[0] >= d.shape[0] + 2:
            d.resize((d.shape[0] + 2,) + d.shape[1:])
        d[-1, ...] = 7
        d[0, ...] = 5
"#;

#[test]
fn v4_indexes_keep_their_kind() {
    if !have_h5py() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    check(dir.path(), "v110", (8, 8));
    check(dir.path(), "latest", (8, 8));
    check(dir.path(), "v110", (4, 4));
    check(dir.path(), "v110", (2, 8));
    check(dir.path(), "v110", (8, 4));
}

/// Repeated overwrites of one element of each index kind: from the third one on, each
/// reuses the chunk and the index blocks the one two before it wrote (freed when the one in
/// between committed), so the file stops growing; h5py reads the last values.
#[test]
fn repeated_edits_reuse_index_space() {
    if !have_h5py() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("reuse.h5");
    python_ok(
        "base file",
        r#"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], 'w', libver='latest') as f:
    d = f.create_dataset('earray', shape=(0,), dtype='<i4', chunks=(1,), maxshape=(None,))
    d.resize((3000,))
    d[:] = np.arange(3000)
    d = f.create_dataset('btree2', shape=(30, 40), dtype='<i4', chunks=(1, 1), maxshape=(None, None))
    d[:] = 1
    f.create_dataset('farray', data=np.arange(1500, dtype='<i4'), chunks=(1,), compression='gzip')
    f.create_dataset('single', data=np.arange(64, dtype='<i4'), chunks=(64,), compression='gzip')
"#,
        &p,
    );
    let mut ed = Editor::open(&p).unwrap();
    ed.set_durability(Durability::PageCache);
    let len = || std::fs::metadata(&p).unwrap().len();
    for (name, start) in [
        ("/earray", &[100u64][..]),
        ("/btree2", &[3, 3][..]),
        ("/farray", &[100][..]),
        ("/single", &[10][..]),
    ] {
        let count = vec![1; start.len()];
        let mut sizes = Vec::new();
        for v in 0..5i32 {
            ed.write_hyperslab(name, start, &count, &v.to_le_bytes())
                .unwrap();
            sizes.push(len());
        }
        // (An edit starts allocating at the end of the file rounded up to 8 bytes.)
        assert!(
            sizes[4] <= sizes[2].div_ceil(8) * 8,
            "{name}: the file keeps growing: {sizes:?}"
        );
    }
    ed.close().unwrap();
    check_py(
        &p,
        "f = h5py.File(p, 'r')\n\
         assert f['earray'][100] == 4 and f['earray'][99] == 99 and f['earray'][2999] == 2999\n\
         assert f['btree2'][3, 3] == 4 and f['btree2'][29, 39] == 1\n\
         assert f['farray'][100] == 4 and f['farray'][1499] == 1499\n\
         assert f['single'][10] == 4 and f['single'][63] == 63",
    );
}
