//! Every chunk index kind, unfiltered and deflated, against h5py: the parsed index kind, the
//! chunk list (h5py's `get_chunk_info`), full reads, hyperslabs and 1-D range reads.

#![allow(clippy::single_range_in_vec_init, clippy::too_many_arguments)]

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use h5format::cache::ChunkCache;
use h5format::read::chunked::{ChunkDecoder, ChunkedReader, NoFilters};
use h5format::read::layout::Layout;
use h5format::File;
use support::{generate_fixtures, have_h5py, Deflate};

const GEN: &str = r#"
import h5py, numpy as np, sys, os
d = sys.argv[1]
man = open(os.path.join(d, 'manifest.txt'), 'w')
rng = np.random.default_rng(7)

def record(fname, f, name, kind):
    ds = f[name]
    arr = ds[()]
    arr.astype(arr.dtype.newbyteorder('<')).tofile(os.path.join(d, name + '.bin'))
    man.write('ds %s %s %s %d\n' % (fname, name, kind, arr.dtype.itemsize))
    def one(c):
        man.write('chunk %s %d %d %d\n' % (','.join(str(o) for o in c.chunk_offset),
                                          c.filter_mask, c.byte_offset, c.size))
    ds.id.chunk_iter(one)

def data(shape, dtype):
    n = int(np.prod(shape))
    return (rng.integers(-1000, 1000, n) if np.dtype(dtype).kind in 'iu' else rng.random(n)).astype(dtype).reshape(shape)

fname = 'early.h5'
with h5py.File(os.path.join(d, fname), 'w', libver='earliest') as f:
    f.create_dataset('bt1_deep', data=np.arange(50000, dtype='<i4'), chunks=(10,))
    f.create_dataset('bt1_2d_gz', data=data((37, 53), '<i8'), chunks=(8, 7), compression='gzip')
    x = f.create_dataset('bt1_3d_resized', data=data((9, 10, 11), '<f8'), chunks=(4, 3, 5),
                         maxshape=(None, None, None), fillvalue=-7.5)
    x.resize((12, 7, 13))
    y = f.create_dataset('bt1_sparse', shape=(100, 100), chunks=(10, 10), dtype='<i2', fillvalue=42)
    y[5:17, 33:35] = 7
    y[99, 99] = 9
    f.create_dataset('bt1_one', data=data((5, 6), '<i4'), chunks=(1, 1))
for n, k in [('bt1_deep', 'v1 B-tree'), ('bt1_2d_gz', 'v1 B-tree'), ('bt1_3d_resized', 'v1 B-tree'),
             ('bt1_sparse', 'v1 B-tree'), ('bt1_one', 'v1 B-tree')]:
    with h5py.File(os.path.join(d, fname), 'r') as f:
        record(fname, f, n, k)

fname = 'late.h5'
with h5py.File(os.path.join(d, fname), 'w', libver='latest') as f:
    f.create_dataset('single', data=data((20, 30), '<i4'), chunks=(20, 30))
    f.create_dataset('single_gz', data=data((20, 30), '<i4'), chunks=(20, 30), compression='gzip')
    f.create_dataset('single_edge', data=data((15, 25), '<f4'), maxshape=(20, 30), chunks=(20, 30), compression='gzip')
    # implicit: fixed dims, early allocation, no filters
    space = h5py.h5s.create_simple((100, 70))
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((10, 8))
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    h5py.h5d.create(f.id, b'implicit', h5py.h5t.STD_I32LE, space, dcpl=dcpl)
    f['implicit'][:, :50] = data((100, 50), '<i4')
    f.create_dataset('fa', data=data((100, 100), '<i4'), chunks=(10, 10))
    f.create_dataset('fa_gz', data=data((101, 99), '<f8'), chunks=(10, 10), compression='gzip')
    f.create_dataset('fa_paged', data=data((3001,), '<i4'), chunks=(2,))
    f.create_dataset('fa_paged_gz', data=data((3001,), '<i4'), chunks=(2,), compression='gzip')
    s = f.create_dataset('fa_paged_sparse', shape=(5000,), chunks=(2,), dtype='<i4', fillvalue=-3)
    s[10:20] = 5
    s[4000:4003] = 6
    f.create_dataset('fa_rank5', data=data((3, 4, 5, 2, 7), '<i2'), chunks=(2, 3, 2, 1, 4))
    f.create_dataset('fa_rank32', data=data((2, 3) + (1,) * 30, '<i4'), chunks=(1, 2) + (1,) * 30)
    f.create_dataset('fa_one', data=data((5, 6), '<i4'), chunks=(1, 1))
    f.create_dataset('ea', data=data((1000,), '<i4'), maxshape=(None,), chunks=(3,))
    f.create_dataset('ea_gz', data=data((1000,), '<i8'), maxshape=(None,), chunks=(3,), compression='gzip')
    f.create_dataset('ea_2d_gz', data=data((50, 7), '<i4'), maxshape=(None, 7), chunks=(4, 3), compression='gzip')
    f.create_dataset('ea_swz', data=data((7, 50), '<i4'), maxshape=(7, None), chunks=(3, 4))
    g = f.create_dataset('ea_paged', shape=(133200,), maxshape=(None,), chunks=(1,), dtype='i1')
    g[:] = data((133200,), 'i1')
    g = f.create_dataset('ea_sparse', shape=(140000,), maxshape=(None,), chunks=(1,), dtype='i1', fillvalue=3)
    g[0:5] = 1
    g[139000:139010] = 2
    g[131100:131105] = 4
    g = f.create_dataset('ea_shrunk', data=data((100,), '<i4'), maxshape=(None,), chunks=(10,))
    g.resize((55,))
    g = f.create_dataset('ea_grown', data=data((100,), '<i4'), maxshape=(None,), chunks=(10,), fillvalue=11)
    g.resize((250,))
    f.create_dataset('bt2', data=data((40, 60), '<i4'), maxshape=(None, None), chunks=(7, 9))
    f.create_dataset('bt2_gz', data=data((40, 60), '<f8'), maxshape=(None, None), chunks=(7, 9), compression='gzip')
    f.create_dataset('bt2_deep', data=data((100, 100), 'i1'), maxshape=(None, None), chunks=(1, 1))
    f.create_dataset('bt2_3d', data=data((6, 5, 4), '<i4'), maxshape=(None, 5, None), chunks=(4, 2, 3))
kinds = [('single', 'single chunk'), ('single_gz', 'single chunk'), ('single_edge', 'fixed array'),
         ('implicit', 'implicit'), ('fa', 'fixed array'), ('fa_gz', 'fixed array'),
         ('fa_paged', 'fixed array'), ('fa_paged_gz', 'fixed array'), ('fa_paged_sparse', 'fixed array'),
         ('fa_rank5', 'fixed array'), ('fa_rank32', 'fixed array'), ('fa_one', 'fixed array'),
         ('ea', 'extensible array'), ('ea_gz', 'extensible array'), ('ea_2d_gz', 'extensible array'),
         ('ea_swz', 'extensible array'), ('ea_paged', 'extensible array'), ('ea_sparse', 'extensible array'),
         ('ea_shrunk', 'extensible array'), ('ea_grown', 'extensible array'),
         ('bt2', 'v2 B-tree'), ('bt2_gz', 'v2 B-tree'), ('bt2_deep', 'v2 B-tree'), ('bt2_3d', 'v2 B-tree')]
with h5py.File(os.path.join(d, fname), 'r') as f:
    for n, k in kinds:
        record(fname, f, n, k)
man.close()
"#;

struct Expect {
    file: String,
    name: String,
    kind: String,
    elem: usize,
    /// (element offsets, mask, address, size)
    chunks: Vec<(Vec<u64>, u32, u64, u64)>,
}

fn generate(dir: &Path) -> Vec<Expect> {
    generate_fixtures(GEN, dir);
    let text = std::fs::read_to_string(dir.join("manifest.txt")).unwrap();
    let mut out: Vec<Expect> = Vec::new();
    for line in text.lines() {
        let w: Vec<&str> = line.split(' ').collect();
        match w[0] {
            "ds" => out.push(Expect {
                file: w[1].into(),
                name: w[2].into(),
                kind: w[3..w.len() - 1].join(" "),
                elem: w[w.len() - 1].parse().unwrap(),
                chunks: Vec::new(),
            }),
            "chunk" => out.last_mut().unwrap().chunks.push((
                w[1].split(',').map(|x| x.parse().unwrap()).collect(),
                w[2].parse().unwrap(),
                w[3].parse().unwrap(),
                w[4].parse().unwrap(),
            )),
            _ => panic!("bad manifest line {line}"),
        }
    }
    out
}

/// Reference hyperslab from the full row-major data.
fn slab(
    full: &[u8],
    dims: &[u64],
    elem: usize,
    start: &[u64],
    count: &[u64],
    step: &[u64],
) -> Vec<u8> {
    let rank = dims.len();
    let n: u64 = count.iter().product();
    let mut out = Vec::with_capacity(n as usize * elem);
    let mut idx = vec![0u64; rank];
    for _ in 0..n {
        let mut off = 0u64;
        for d in 0..rank {
            off = off * dims[d] + start[d] + idx[d] * step[d];
        }
        let o = off as usize * elem;
        out.extend_from_slice(&full[o..o + elem]);
        for d in (0..rank).rev() {
            idx[d] += 1;
            if idx[d] < count[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

fn check_slab(
    r: &ChunkedReader,
    full: &[u8],
    dims: &[u64],
    elem: usize,
    start: &[u64],
    count: &[u64],
    step: &[u64],
    what: &str,
) {
    let n: u64 = count.iter().product();
    let mut buf = vec![0u8; n as usize * elem];
    r.read_hyperslab(start, count, step, &mut buf)
        .unwrap_or_else(|e| panic!("{what}: hyperslab {start:?} {count:?} {step:?}: {e}"));
    assert!(
        buf == slab(full, dims, elem, start, count, step),
        "{what}: hyperslab {start:?} {count:?} {step:?} differs"
    );
}

#[test]
fn every_index_kind_matches_h5py() {
    if !have_h5py() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let expects = generate(dir.path());
    assert!(expects.len() >= 29);
    let mut files: HashMap<String, File> = HashMap::new();
    let mut caches: HashMap<String, Arc<ChunkCache>> = HashMap::new();
    for ex in &expects {
        let what = ex.name.as_str();
        let file = files
            .entry(ex.file.clone())
            .or_insert_with(|| File::open(dir.path().join(&ex.file)).unwrap());
        let ds = file.dataset(&format!("/{}", ex.name)).unwrap();
        let Layout::Chunked { index, .. } = ds.layout() else {
            panic!("{what}: not chunked");
        };
        assert_eq!(index.name(), ex.kind, "{what}: index kind");
        let decoder: Arc<dyn ChunkDecoder> = if ex.name.contains("gz") || ex.name == "single_edge" {
            Arc::new(Deflate)
        } else {
            Arc::new(NoFilters)
        };
        // One cache per file: the dataset identity (header address) is only unique in a file.
        let cache = caches
            .entry(ex.file.clone())
            .or_insert_with(|| Arc::new(ChunkCache::new(1 << 20)))
            .clone();
        let reader = ds.chunked_reader(decoder, Some(cache)).unwrap();
        let dims = ds.shape().to_vec();
        let chunk_dims = reader.geometry().chunk_dims.clone();

        // Chunk enumeration == h5py's get_chunk_info (ours may list chunks outside the
        // current extent after a shrink; h5py lists what is stored too).
        let mut ours: Vec<_> = reader
            .chunks()
            .unwrap()
            .into_iter()
            .map(|c| {
                let offs: Vec<u64> = c
                    .scaled
                    .iter()
                    .zip(&chunk_dims)
                    .map(|(s, d)| s * d)
                    .collect();
                (offs, c.filter_mask, c.address, c.size)
            })
            .collect();
        let mut theirs = ex.chunks.clone();
        ours.sort();
        theirs.sort();
        if ex.kind == "implicit" {
            // h5py lists every allocated chunk; so do we for the current extent.
            assert_eq!(ours.len(), theirs.len(), "{what}: chunk count");
        }
        if ex.name == "ea_swz" {
            // libhdf5's chunk iteration reports wrong offsets when the unlimited dimension is
            // not the first (it does not un-swizzle); compare the stored chunks by address.
            let addrs = |v: &[(Vec<u64>, u32, u64, u64)]| {
                let mut a: Vec<(u64, u64, u32)> = v.iter().map(|c| (c.2, c.3, c.1)).collect();
                a.sort();
                a
            };
            assert_eq!(addrs(&ours), addrs(&theirs), "{what}: chunk list");
        } else {
            assert_eq!(ours, theirs, "{what}: chunk list");
        }
        // Direct lookups agree with the enumeration.
        for (offs, mask, addr, size) in ours.iter().take(300) {
            let scaled: Vec<u64> = offs.iter().zip(&chunk_dims).map(|(o, d)| o / d).collect();
            let loc = reader
                .chunk_location(&scaled)
                .unwrap()
                .expect("chunk found");
            assert_eq!(
                (loc.filter_mask, loc.address, loc.size),
                (*mask, *addr, *size),
                "{what}: lookup {offs:?}"
            );
        }

        // Full read, through the engine and through Dataset::read_raw for unfiltered data.
        let full = std::fs::read(dir.path().join(format!("{}.bin", ex.name))).unwrap();
        let before = reader.chunks_decoded();
        let all = reader
            .read_all()
            .unwrap_or_else(|e| panic!("{what}: read_all: {e}"));
        assert!(all == full, "{what}: read_all differs from h5py");
        let stored_inside = ours
            .iter()
            .filter(|(offs, ..)| offs.iter().zip(&dims).all(|(o, d)| o < d))
            .count() as u64;
        assert!(
            reader.chunks_decoded() - before <= stored_inside,
            "{what}: chunk decoded twice"
        );
        // The crate's own wiring (filter pipeline + per-file cache).
        assert!(ds.read_raw().unwrap() == full, "{what}: Dataset::read_raw");

        // Hyperslabs: whole, a corner, strided, single element, empty.
        let rank = dims.len();
        let ones = vec![1u64; rank];
        check_slab(
            &reader,
            &full,
            &dims,
            ex.elem,
            &vec![0; rank],
            &dims,
            &ones,
            what,
        );
        let start: Vec<u64> = dims.iter().map(|d| d / 3).collect();
        let count: Vec<u64> = dims
            .iter()
            .zip(&start)
            .map(|(d, s)| (d - s).min(5))
            .collect();
        check_slab(&reader, &full, &dims, ex.elem, &start, &count, &ones, what);
        let step: Vec<u64> = dims.iter().map(|&d| if d > 3 { 3 } else { 1 }).collect();
        let count: Vec<u64> = dims
            .iter()
            .zip(&step)
            .map(|(d, s)| d.div_ceil(*s))
            .collect();
        check_slab(
            &reader,
            &full,
            &dims,
            ex.elem,
            &vec![0; rank],
            &count,
            &step,
            what,
        );
        let last: Vec<u64> = dims.iter().map(|d| d - 1).collect();
        check_slab(&reader, &full, &dims, ex.elem, &last, &ones, &ones, what);
        check_slab(
            &reader,
            &full,
            &dims,
            ex.elem,
            &vec![0; rank],
            &vec![0; rank],
            &ones,
            what,
        );
        let mut bad = vec![0u8; ex.elem];
        assert!(
            reader
                .read_hyperslab(&dims, &ones, &ones, &mut bad)
                .is_err(),
            "{what}: out of bounds slab"
        );

        // Range reads on 1-D datasets.
        if rank == 1 {
            let n = dims[0];
            let ranges = vec![
                n / 2..n / 2 + n.min(7) / 2,
                0..1,
                n - 1..n,
                3.min(n)..(n / 4).max(3.min(n)),
                0..0,
            ];
            // What h5py read, cut by `ranges`, and a buffer for them.
            let expect = |ranges: &[std::ops::Range<u64>]| {
                let mut want = Vec::new();
                for r in ranges {
                    want.extend_from_slice(
                        &full[r.start as usize * ex.elem..r.end as usize * ex.elem],
                    );
                }
                let buf = vec![0u8; want.len()];
                (want, buf)
            };
            let (want, mut buf) = expect(&ranges);
            reader.read_ranges(&ranges, &mut buf).unwrap();
            assert!(buf == want, "{what}: read_ranges");
            // The into-place path (pieces of unfiltered chunks read straight into place),
            // with repeated and overlapping ranges that cross chunk edges.
            let mut ranges = ranges;
            ranges.extend([n / 3..n, 0..n / 2, n / 2..n / 2 + n.min(7) / 2]);
            let (want, mut buf) = expect(&ranges);
            reader.read_ranges_into(&ranges, &mut buf).unwrap();
            assert!(buf == want, "{what}: read_ranges_into");
            assert!(reader
                .read_ranges(&[0..n + 1], &mut vec![0u8; (n as usize + 1) * ex.elem])
                .is_err());
        }
    }
}
