//! Partial reads touch only the chunks they need; corrupt chunk addresses are errors.

#![allow(clippy::single_range_in_vec_init, clippy::too_many_arguments)]

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use h5format::cache::ChunkCache;
use h5format::io::{CountingSource, FileSource};
use h5format::read::chunked::{ChunkDecoder, NoFilters};
use h5format::{Error, File, Result};

/// Deflate decoder that counts the chunks it decodes.
#[derive(Default)]
struct CountingDeflate(AtomicU64);

impl ChunkDecoder for CountingDeflate {
    fn decode(&self, raw: Vec<u8>, mask: u32, expected: usize, addr: u64) -> Result<Vec<u8>> {
        self.0.fetch_add(1, Ordering::Relaxed);
        support::inflate(raw, mask, expected, addr)
    }
}

fn python(script: &str, dir: &std::path::Path) -> bool {
    if !support::have_h5py() {
        return false;
    }
    support::generate_fixtures(script, dir);
    true
}

fn i32s(b: &[u8]) -> Vec<i32> {
    b.chunks_exact(4)
        .map(|w| i32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        .collect()
}

#[test]
fn hundred_elements_of_ten_million_decode_only_their_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let gen = r#"
import h5py, numpy as np, sys, os
with h5py.File(os.path.join(sys.argv[1], 'big.h5'), 'w', libver='latest') as f:
    f.create_dataset('x', data=np.arange(10**7, dtype='<i4'), chunks=(10000,), compression='gzip', compression_opts=1)
"#;
    if !python(gen, dir.path()) {
        return;
    }
    let path = dir.path().join("big.h5");
    let counting = Arc::new(CountingSource::new(FileSource::open(&path).unwrap()));
    let file = File::from_source(counting.clone()).unwrap();
    let ds = file.dataset("/x").unwrap();
    let dec = Arc::new(CountingDeflate::default());
    let reader = ds
        .chunked_reader(dec.clone(), Some(Arc::new(ChunkCache::new(16 << 20))))
        .unwrap();
    counting.reset();
    // 100 elements in 4 runs, touching chunks 0, 123, 500 and 999 (two runs in chunk 500).
    let ranges = [
        5..30u64,
        1_234_567..1_234_592,
        5_000_000..5_000_025,
        9_999_975..10_000_000,
    ];
    let mut buf = vec![0u8; 400];
    reader.read_ranges(&ranges, &mut buf).unwrap();
    let want: Vec<i32> = ranges
        .iter()
        .flat_map(|r| r.clone().map(|v| v as i32))
        .collect();
    assert_eq!(i32s(&buf), want);
    assert_eq!(dec.0.load(Ordering::Relaxed), 4, "decoded chunks");
    assert_eq!(reader.chunks_decoded(), 4);
    // Only a few KiB of index and four compressed chunks were read, not the 40 MB dataset.
    assert!(
        counting.bytes() < 200_000,
        "read {} bytes",
        counting.bytes()
    );

    // Same ranges again: served by the cache, nothing decoded.
    reader.read_ranges(&ranges, &mut buf).unwrap();
    assert_eq!(dec.0.load(Ordering::Relaxed), 4);

    // A strided hyperslab touching 3 chunks.
    let mut out = vec![0u8; 3 * 4];
    reader
        .read_hyperslab(&[10_000], &[3], &[10_001], &mut out)
        .unwrap();
    assert_eq!(i32s(&out), vec![10_000, 20_001, 30_002]);
    assert_eq!(dec.0.load(Ordering::Relaxed), 7);

    // A full read decodes each chunk exactly once.
    let dec2 = Arc::new(CountingDeflate::default());
    let r2 = ds.chunked_reader(dec2.clone(), None).unwrap();
    let all = r2.read_all().unwrap();
    assert_eq!(all.len(), 40_000_000);
    assert_eq!(dec2.0.load(Ordering::Relaxed), 1000);
    assert!(i32s(&all).iter().enumerate().all(|(i, &v)| v == i as i32));
}

/// Patch an 8-byte little-endian value in a byte buffer (first occurrence after `from`).
fn patch(bytes: &mut [u8], from: usize, old: u64, new: u64) -> usize {
    let pat = old.to_le_bytes();
    let at = from
        + bytes[from..]
            .windows(8)
            .position(|w| w == pat)
            .expect("value present");
    bytes[at..at + 8].copy_from_slice(&new.to_le_bytes());
    at
}

#[test]
fn chunk_addresses_past_eof_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let gen = r#"
import h5py, numpy as np, sys, os
d = sys.argv[1]
with h5py.File(os.path.join(d, 'early.h5'), 'w', libver='earliest') as f:
    f.create_dataset('x', data=np.arange(1000, dtype='<i4'), chunks=(100,))
with h5py.File(os.path.join(d, 'late.h5'), 'w', libver='latest') as f:
    f.create_dataset('x', data=np.arange(1000, dtype='<i4'), chunks=(100,))
"#;
    if !python(gen, dir.path()) {
        return;
    }
    for name in ["early.h5", "late.h5"] {
        let bytes = std::fs::read(dir.path().join(name)).unwrap();
        let file = File::from_bytes(bytes.clone()).unwrap();
        let ds = file.dataset("/x").unwrap();
        let reader = ds.chunked_reader(Arc::new(NoFilters), None).unwrap();
        let loc = reader.chunk_location(&[3]).unwrap().unwrap();
        let index_at = match ds.layout() {
            h5format::read::layout::Layout::Chunked { address, .. } => *address as usize,
            _ => unreachable!(),
        };
        let mut bad = bytes.clone();
        let at = patch(&mut bad, index_at, loc.address, 1 << 40);
        if name == "late.h5" {
            // The fixed array data block is checksummed: recompute it so the bad address
            // itself is what the reader meets.
            let start = bad[..at].windows(4).rposition(|w| w == b"FADB").unwrap();
            let end = start + 4 + 1 + 1 + 8 + 10 * 8;
            let sum = h5format::checksum::lookup3(&bad[start..end], 0);
            bad[end..end + 4].copy_from_slice(&sum.to_le_bytes());
        }
        let file = File::from_bytes(bad).unwrap();
        let ds = file.dataset("/x").unwrap();
        let reader = ds.chunked_reader(Arc::new(NoFilters), None).unwrap();
        let err = reader.read_all().unwrap_err();
        assert!(matches!(err, Error::OutOfBounds { .. }), "{name}: {err}");
        let mut buf = vec![0u8; 40];
        assert!(reader.read_ranges(&[300..310], &mut buf).is_err(), "{name}");
        // Chunks elsewhere still read.
        reader.read_ranges(&[0..10], &mut buf).unwrap();
        assert_eq!(i32s(&buf), (0..10).collect::<Vec<_>>());
        assert!(ds.read_raw().is_err(), "{name}: read_raw");

        // Every single-byte corruption of the index region and truncations: no panic.
        for i in (index_at..(index_at + 400).min(bytes.len())).step_by(3) {
            let mut b = bytes.clone();
            b[i] ^= 0x5a;
            if let Ok(f) = File::from_bytes(b) {
                if let Ok(ds) = f.dataset("/x") {
                    if let Ok(r) = ds.chunked_reader(Arc::new(NoFilters), None) {
                        let _ = r.read_all();
                        let _ = r.chunks();
                        let mut buf = vec![0u8; 40];
                        let _ = r.read_ranges(&[95..105], &mut buf);
                    }
                }
            }
        }
        for cut in [index_at + 10, bytes.len() - 100, bytes.len() - 1] {
            if let Ok(f) = File::from_bytes(bytes[..cut].to_vec()) {
                if let Ok(ds) = f.dataset("/x") {
                    if let Ok(r) = ds.chunked_reader(Arc::new(NoFilters), None) {
                        assert!(r.read_all().is_err(), "{name}: truncated at {cut}");
                    }
                }
            }
        }
    }
}
