//! Crash safety of in-place edits: a child process runs a fixed sequence of edits and is
//! stopped (`abort`, no unwinding, no cleanup — what `SIGKILL` leaves) just before its N-th
//! write system call, for every N until the sequence completes. Every file left behind must
//! open in h5py and read exactly as the file before or after the edit that was running —
//! compared with snapshots of an uninterrupted run — and be walked by our reader.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use h5format::edit::{abort_after_writes, Editor};
use h5format::read::layout::Layout;
use h5format::write::{to_le_bytes, AttrValue, DType, DatasetSpec, Durability};
use support::{have_h5py, run_python};

/// The base file: h5py with `libver` (symbol tables and v1 headers, or link messages and v2
/// headers with version 4 chunk indexes: `gz` a fixed array, `grow` an extensible array,
/// `grow2` a v2 B-tree, which the edits keep).
const BASE: &str = r#"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], 'w', libver=sys.argv[2]) as f:
    f.attrs['n'] = np.arange(3)
    d = f.create_group('d')
    d['contig'] = np.arange(12, dtype='f8')
    d.create_dataset('gz', data=np.arange(64, dtype='i4').reshape(8, 8), chunks=(4, 4), compression='gzip')
    d.create_dataset('grow', data=np.arange(10, dtype='i8'), chunks=(4,), maxshape=(None,))
    d.create_dataset('grow2', data=np.arange(30, dtype='i2').reshape(5, 6), chunks=(2, 4), maxshape=(None, None), compression='gzip', shuffle=True)
"#;

/// Everything h5py sees, as one JSON line per file given.
const DIGEST: &str = r#"
import sys, json, h5py, numpy as np
def val(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, str):
        return v
    return np.asarray(v).tolist()
for p in sys.argv[1:]:
    try:
        out = {}
        with h5py.File(p, 'r') as f:
            def one(name, obj):
                e = {k: val(obj.attrs[k]) for k in sorted(obj.attrs)}
                if isinstance(obj, h5py.Dataset):
                    e['__data'] = [list(obj.shape), obj[...].tobytes().hex()]
                out[name] = e
            one('/', f)
            f.visititems(one)
        print(json.dumps(out, sort_keys=True))
    except Exception as ex:
        print(json.dumps({'error': repr(ex)}))
"#;

/// The edits, in order; `progress` is told after each one.
fn sequence(p: &Path, mut progress: impl FnMut(usize)) {
    let mut ed = Editor::open(p).unwrap();
    ed.set_durability(Durability::Fsync);
    ed.set_attr("/", "a1", AttrValue::array(&[1i64, 2, 3]))
        .unwrap();
    progress(1);
    let spec = DatasetSpec::new(DType::I32, [40]).chunked([8]).deflate(3);
    ed.create_dataset(
        "/d/new",
        spec,
        &to_le_bytes(&(0..40i32).collect::<Vec<_>>()),
    )
    .unwrap();
    progress(2);
    ed.write_hyperslab("/d/gz", &[2, 2], &[4, 4], &to_le_bytes(&[-1i32; 16]))
        .unwrap();
    progress(3);
    ed.append("/d/grow", &to_le_bytes(&(10..25i64).collect::<Vec<_>>()))
        .unwrap();
    progress(4);
    ed.delete_attr("/", "n").unwrap();
    progress(5);
    ed.delete_link("/d/contig").unwrap();
    progress(6);
    ed.create_group("/g2").unwrap();
    progress(7);
    ed.set_attr("/d/gz", "s", AttrValue::String("after".into()))
        .unwrap();
    progress(8);
    ed.write_hyperslab("/d/contig2", &[0], &[1], &[0; 8])
        .unwrap_err();
    // Enough attributes to overflow the group's header into continuation chunks.
    for i in 0..12 {
        ed.set_attr("/g2", &format!("k{i}"), AttrValue::scalar(i as f64))
            .unwrap();
        progress(9 + i);
    }
    // Edits in space freed by earlier ones: the chunks and the chunk index of the
    // overwrites of /d/gz, the old continuation chunks of /g2.
    assert!(ed.free_space() > 0);
    ed.write_hyperslab("/d/gz", &[0, 0], &[1, 1], &to_le_bytes(&[5i32]))
        .unwrap();
    progress(21);
    ed.write_hyperslab("/d/gz", &[0, 0], &[1, 1], &to_le_bytes(&[6i32]))
        .unwrap();
    progress(22);
    // Each overwrite frees the chunk and index of the one before it when it commits: the
    // next one reuses them. (The second one above may not fit into what the first one
    // freed, the chunk of the larger overwrite before it: a fixed array's two blocks are
    // placed after the chunk.)
    // (An edit starts allocating at the end of the file rounded up to 8 bytes.)
    let len = std::fs::metadata(p).unwrap().len().div_ceil(8) * 8;
    ed.write_hyperslab("/d/gz", &[0, 0], &[1, 1], &to_le_bytes(&[7i32]))
        .unwrap();
    assert!(
        std::fs::metadata(p).unwrap().len() <= len,
        "the third overwrite reuses the first one's chunk and index"
    );
    progress(23);
    ed.append("/d/grow", &to_le_bytes(&[25i64, 26])).unwrap();
    progress(24);
    // Grow both unlimited dimensions of a v2 B-tree indexed dataset (a v1 B-tree in the
    // `earliest` file), writing across the old edge chunks.
    ed.resize("/d/grow2", &[7, 9]).unwrap();
    progress(25);
    ed.write_hyperslab("/d/grow2", &[3, 3], &[4, 6], &to_le_bytes(&[-3i16; 24]))
        .unwrap();
    progress(26);
    // Free space at the end of the file is cut off.
    ed.close().unwrap();
}

const STEPS: usize = 26;

/// The child: run the sequence on `$EDIT_KILL_FILE`, aborting before write `$EDIT_KILL_N`,
/// printing the number of finished edits as it goes.
#[test]
fn kill_child() {
    let (Ok(file), Ok(n)) = (
        std::env::var("EDIT_KILL_FILE"),
        std::env::var("EDIT_KILL_N"),
    ) else {
        return;
    };
    abort_after_writes(n.parse().unwrap());
    sequence(Path::new(&file), |i| {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "done {i}");
        let _ = out.flush();
    });
}

fn digests(files: &[PathBuf]) -> Vec<String> {
    let out = run_python(DIGEST, files);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), files.len());
    lines
}

#[test]
fn killed_edits_leave_old_or_new_file() {
    if !have_h5py() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut points = 0;
    for libver in ["earliest", "latest"] {
        let base = dir.path().join(format!("{libver}.h5"));
        let st = Command::new("python3")
            .args(["-c", BASE])
            .arg(&base)
            .arg(libver)
            .status()
            .unwrap();
        assert!(st.success());
        // Snapshots of an uninterrupted run: state i = after i edits.
        let mut states = vec![base.clone()];
        let run = dir.path().join(format!("{libver}-run.h5"));
        std::fs::copy(&base, &run).unwrap();
        sequence(&run, |i| {
            let snap = dir.path().join(format!("{libver}-state{i}.h5"));
            std::fs::copy(&run, &snap).unwrap();
            states.push(snap);
        });
        assert_eq!(states.len(), STEPS + 1);
        // The edited datasets keep their index kinds (version 4 ones in the `latest` file).
        let kinds = |p: &Path| -> Vec<String> {
            let f = h5format::File::open(p).unwrap();
            ["/d/gz", "/d/grow", "/d/grow2"]
                .iter()
                .map(|d| match f.dataset(d).unwrap().layout() {
                    Layout::Chunked { index, .. } => format!("{index:?}"),
                    l => panic!("{d}: {l:?}"),
                })
                .collect()
        };
        let (first, last) = (kinds(&base), kinds(&states[STEPS]));
        assert_eq!(first, last, "{libver}: index kinds");
        assert_eq!(
            first.iter().filter(|k| *k == "BTreeV1").count(),
            if libver == "latest" { 0 } else { 3 },
            "{libver}: {first:?}"
        );
        // Kill at every write until the child finishes.
        let mut killed = Vec::new();
        for n in 0.. {
            let p = dir.path().join(format!("{libver}-kill{n}.h5"));
            std::fs::copy(&base, &p).unwrap();
            let out = Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "kill_child", "--nocapture", "--test-threads=1"])
                .env("EDIT_KILL_FILE", &p)
                .env("EDIT_KILL_N", n.to_string())
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let done = stdout.matches("done ").count();
            if out.status.success() {
                assert_eq!(done, STEPS);
                break;
            }
            killed.push((p, done));
            assert!(n < 10_000, "the child never finished");
        }
        points += killed.len();
        let mut files: Vec<PathBuf> = states.clone();
        files.extend(killed.iter().map(|(p, _)| p.clone()));
        let d = digests(&files);
        let (expected, got) = d.split_at(states.len());
        for w in expected.windows(2) {
            assert_ne!(w[0], w[1], "every edit changes what h5py sees");
        }
        for ((p, done), digest) in killed.iter().zip(got) {
            assert!(
                *digest == expected[*done] || expected.get(done + 1) == Some(digest),
                "{}: killed during edit {} reads as neither state {done} nor {}: {digest}",
                p.display(),
                done + 1,
                done + 1
            );
            let f = h5format::File::open(p).unwrap();
            h5format::walk::walk_all(&f).unwrap();
        }
        // Every edit was interrupted at each of its writes: before its commit the file reads
        // as before the edit, and killed at the next edit's first write it reads as after.
        for step in 0..STEPS {
            assert!(killed.iter().any(|(_, done)| *done == step));
        }
    }
    eprintln!("{points} kill points checked");
    assert!(points >= 50, "only {points} kill points");
}
