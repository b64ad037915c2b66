//! Tests of the filter pipeline. libhdf5 (through h5py and hdf5plugin) is the oracle: a Python
//! script writes datasets with every filter and dumps raw chunks, masks and decoded bytes; we
//! decode them, and we encode the decoded bytes and let libhdf5 read our chunks back.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::cursor::Sizes;

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/filter")
        .join(name)
}

/// Run the generator in a temp dir; `None` (test skipped) when h5py/hdf5plugin are missing.
fn oracle() -> Option<tempfile::TempDir> {
    let ok = Command::new("python3")
        .args(["-c", "import h5py, hdf5plugin"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("SKIPPED: python3 with h5py and hdf5plugin is not available");
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let st = Command::new("python3")
        .arg(script("oracle_gen.py"))
        .arg(dir.path())
        .status()
        .expect("run python");
    assert!(st.success(), "oracle_gen.py failed");
    Some(dir)
}

/// Parse h5py's `id:flags:cd,cd;...` rendering of a pipeline.
fn pipeline_from(s: &str) -> FilterPipeline {
    let filters = s
        .split(';')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut it = p.split(':');
            let id = it.next().unwrap().parse().unwrap();
            let flags: u32 = it.next().unwrap().parse().unwrap();
            let cd = it.next().unwrap_or("");
            let client_data = cd
                .split(',')
                .filter(|v| !v.is_empty())
                .map(|v| v.parse().unwrap())
                .collect();
            FilterInfo {
                id,
                name: None,
                optional: flags & 1 != 0,
                client_data,
            }
        })
        .collect();
    FilterPipeline { filters }
}

struct Entry {
    name: String,
    base: String,
    elem: usize,
    expected_len: usize,
    mask: u32,
    pipeline: FilterPipeline,
}

fn manifest(dir: &Path) -> Vec<Entry> {
    std::fs::read_to_string(dir.join("manifest.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Entry {
                name: f[0].to_string(),
                base: f[1].to_string(),
                elem: f[2].parse().unwrap(),
                expected_len: f[3].parse().unwrap(),
                mask: f[4].parse().unwrap(),
                pipeline: pipeline_from(f[8]),
            }
        })
        .collect()
}

#[test]
fn decode_and_encode_match_libhdf5() {
    let Some(dir) = oracle() else { return };
    let dir = dir.path();
    let entries = manifest(dir);
    assert!(entries.len() > 50);
    let mut failures = Vec::new();
    for e in &entries {
        let raw = std::fs::read(dir.join(format!("{}.raw", e.base))).unwrap();
        let exp = std::fs::read(dir.join(format!("{}.exp", e.base))).unwrap();
        match e
            .pipeline
            .decode(raw.clone(), e.mask, e.expected_len, e.elem, 4096)
        {
            Ok(got) if got == exp => {}
            Ok(got) => failures.push(format!(
                "{}: decoded bytes differ (len {} vs {})",
                e.base,
                got.len(),
                exp.len()
            )),
            Err(err) => failures.push(format!("{}: {err}", e.base)),
        }
        let needed = 100.min(exp.len());
        match e
            .pipeline
            .decode_prefix(raw, e.mask, e.expected_len, e.elem, 4096, needed)
        {
            Ok(got) if got == exp[..needed] => {}
            Ok(_) => failures.push(format!("{}: prefix differs", e.base)),
            Err(err) => failures.push(format!("{}: prefix: {err}", e.base)),
        }
        match e.pipeline.encode(exp.clone(), e.elem) {
            Ok(enc) => {
                // Our own decoder must read what we wrote...
                match e.pipeline.decode(enc.clone(), 0, e.expected_len, e.elem, 0) {
                    Ok(back) if back == exp => {}
                    _ => failures.push(format!("{}: own roundtrip failed", e.base)),
                }
                // ...and so must libhdf5 (checked below).
                std::fs::write(dir.join(format!("{}.enc", e.base)), enc).unwrap();
            }
            Err(err) => failures.push(format!("{}: encode: {err}", e.base)),
        }
        assert!(!e.pipeline.describe().is_empty(), "{}", e.name);
    }
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    let out = Command::new("python3")
        .arg(script("oracle_check.py"))
        .arg(dir)
        .output()
        .expect("run python");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "libhdf5 could not read our chunks:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("checked {}, bad 0", entries.len())),
        "{text}"
    );
}

#[test]
fn parse_pipeline_messages_written_by_libhdf5() {
    let Some(dir) = oracle() else { return };
    for libver in ["earliest", "latest"] {
        let file = std::fs::read(dir.path().join(format!("parse_{libver}.h5"))).unwrap();
        let want: Vec<FilterPipeline> =
            std::fs::read_to_string(dir.path().join(format!("parse_{libver}.txt")))
                .unwrap()
                .lines()
                .map(pipeline_from)
                .collect();
        // Find the messages by trying every offset: the parser must turn libhdf5's bytes into
        // exactly the pipeline libhdf5 reports.
        let mut found = vec![false; want.len()];
        for off in 0..file.len() {
            if !matches!(file[off], 1 | 2) {
                continue;
            }
            let mut cur = Cursor::new(
                &file[off..],
                off as u64,
                "filter pipeline message",
                Sizes::default(),
            );
            if let Ok(p) = FilterPipeline::parse(&mut cur) {
                let mut p = p;
                for f in &mut p.filters {
                    f.name = None;
                }
                for (k, w) in want.iter().enumerate() {
                    if &p == w {
                        found[k] = true;
                    }
                }
            }
        }
        assert!(
            found.iter().all(|&f| f),
            "{libver}: pipelines not found: {found:?}"
        );
    }
}

#[test]
fn message_bytes_roundtrip_through_parse() {
    let mut named = FilterInfo::new(ID_LZF, vec![4, 261, 4000]);
    named.name = Some("lzf".into());
    named.optional = true;
    let p = FilterPipeline::new(vec![
        FilterInfo::shuffle(8),
        FilterInfo::deflate(4),
        named,
        FilterInfo::fletcher32(),
    ]);
    for version in [1, 2] {
        let bytes = p.to_message_bytes(version).unwrap();
        let mut cur = Cursor::new(&bytes, 0, "filter pipeline message", Sizes::default());
        let mut back = FilterPipeline::parse(&mut cur).unwrap();
        assert_eq!(cur.remaining(), 0);
        if version == 1 {
            // Version 1 stores empty names for the predefined filters.
            for f in &mut back.filters {
                if f.id < 256 {
                    assert_eq!(f.name, None);
                }
            }
        }
        assert_eq!(back, p, "version {version}");
    }
    // Truncated messages are errors, not panics.
    let bytes = p.to_message_bytes(1).unwrap();
    for cut in 0..bytes.len() {
        let mut cur = Cursor::new(
            &bytes[..cut],
            0,
            "filter pipeline message",
            Sizes::default(),
        );
        assert!(FilterPipeline::parse(&mut cur).is_err(), "cut {cut}");
    }
}

#[test]
fn describe_lists_filters() {
    let p = FilterPipeline::new(vec![
        FilterInfo::new(ID_SHUFFLE, vec![4]),
        FilterInfo::new(ID_DEFLATE, vec![4]),
        FilterInfo::new(ID_FLETCHER32, vec![]),
    ]);
    assert_eq!(p.describe(), "shuffle, deflate(4), fletcher32");
    let q = FilterPipeline::new(vec![
        FilterInfo::new(ID_SZIP, vec![169, 8, 16, 50]),
        FilterInfo::new(ID_SZIP, vec![141, 32, 8, 32]),
        FilterInfo::new(305, vec![]),
    ]);
    assert_eq!(
        q.describe(),
        "szip(nn, 8), szip(ec, 32), filter 305 (id 305)"
    );
}

#[test]
fn unsupported_filter_is_a_typed_error() {
    // LZO (305) is registered with the HDF Group but not implemented here.
    let p = FilterPipeline::new(vec![FilterInfo::new(305, vec![])]);
    let err = p.decode(vec![1, 2, 3], 0, 3, 1, 77).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("305"), "{err}");
    // Masked out, the filter is not needed.
    assert_eq!(p.decode(vec![1, 2, 3], 1, 3, 1, 77).unwrap(), vec![1, 2, 3]);
    let q = FilterPipeline::new(vec![FilterInfo::new(40000, vec![])]);
    assert!(matches!(
        q.decode(vec![1], 0, 1, 1, 0),
        Err(Error::Unsupported { .. })
    ));
}

fn deflate_pipeline() -> FilterPipeline {
    FilterPipeline::new(vec![FilterInfo::new(ID_DEFLATE, vec![6])])
}

#[test]
fn bad_deflate_stream_is_an_error() {
    let p = deflate_pipeline();
    let err = p
        .decode(vec![0x78, 0x9c, 0xff, 0xff, 0xff, 0x00], 0, 100, 1, 1234)
        .unwrap_err();
    match err {
        Error::Filter { id, offset, .. } => assert_eq!((id, offset), (1, 1234)),
        e => panic!("unexpected {e}"),
    }
    // Truncated stream.
    let enc = p
        .encode((0..1000u32).map(|v| (v % 251) as u8).collect(), 1)
        .unwrap();
    assert!(p
        .decode(enc[..enc.len() / 2].to_vec(), 0, 1000, 1, 0)
        .is_err());
    // Stream too short for the chunk.
    assert!(p.decode(enc, 0, 2000, 1, 0).is_err());
}

#[test]
fn deflate_bomb_is_an_error() {
    let p = deflate_pipeline();
    let bomb = p.encode(vec![0u8; 10 << 20], 1).unwrap();
    assert!(bomb.len() < 20_000);
    let err = p.decode(bomb.clone(), 0, 4096, 1, 99).unwrap_err();
    assert!(err.to_string().contains("more than"), "{err}");
    // The prefix decoder stops early and does not care.
    assert_eq!(
        p.decode_prefix(bomb, 0, 4096, 1, 99, 10).unwrap(),
        vec![0u8; 10]
    );
}

#[test]
fn wrong_fletcher32_is_an_error() {
    let p = FilterPipeline::new(vec![FilterInfo::new(ID_FLETCHER32, vec![])]);
    let data: Vec<u8> = (0..999u32).map(|v| (v * 7) as u8).collect();
    let mut enc = p.encode(data.clone(), 1).unwrap();
    assert_eq!(p.decode(enc.clone(), 0, 999, 1, 0).unwrap(), data);
    enc[10] ^= 1;
    let err = p.decode(enc, 0, 999, 1, 5555).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Filter {
                id: 3,
                offset: 5555,
                ..
            }
        ),
        "{err}"
    );
    assert!(p.decode(vec![1, 2], 0, 0, 1, 0).is_err());
}

#[test]
fn fletcher32_accepts_the_pre_1_6_3_byte_order() {
    let p = FilterPipeline::new(vec![FilterInfo::new(ID_FLETCHER32, vec![])]);
    let data: Vec<u8> = (0..64u8).collect();
    let sum = crate::checksum::fletcher32(&data);
    let legacy = ((sum & 0x00ff_00ff) << 8) | ((sum >> 8) & 0x00ff_00ff);
    let mut enc = data.clone();
    enc.extend_from_slice(&legacy.to_le_bytes());
    assert_eq!(p.decode(enc, 0, 64, 1, 0).unwrap(), data);
}

#[test]
fn bitshuffle_transpose_matches_definition() {
    let (m, s) = (24usize, 3usize);
    let src: Vec<u8> = (0..m * s)
        .map(|v| (v as u8).wrapping_mul(37).wrapping_add(11))
        .collect();
    let mut fast = vec![0u8; m * s];
    bitshuffle::trans_bit_elem(&src, &mut fast, m, s);
    let mut slow = vec![0u8; m * s];
    for i in 0..m {
        for j in 0..s {
            for k in 0..8 {
                let bit = (src[i * s + j] >> k) & 1;
                let row = j * 8 + k;
                slow[row * (m / 8) + i / 8] |= bit << (i % 8);
            }
        }
    }
    assert_eq!(fast, slow);
    let mut back = vec![0u8; m * s];
    bitshuffle::untrans_bit_elem(&fast, &mut back, m, s);
    assert_eq!(back, src);
}

#[test]
fn shuffle_keeps_trailing_bytes() {
    let data: Vec<u8> = (0..23u8).collect();
    let s = shuffle::shuffle(&data, 4);
    assert_eq!(&s[..5], &[0, 4, 8, 12, 16]);
    assert_eq!(&s[20..], &[20, 21, 22]);
    assert_eq!(shuffle::unshuffle(&s, 4), data);
}

#[test]
fn lzf_roundtrips() {
    for data in [
        Vec::new(),
        vec![7u8],
        vec![0u8; 100_000],
        (0..50_000u32)
            .map(|v| (v.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect(),
        (0..50_000u32).map(|v| (v / 7) as u8).collect(),
    ] {
        let c = lzf::compress(&data);
        assert_eq!(lzf::decompress(&c, data.len(), None).unwrap(), data);
    }
}

/// Every codec must turn corrupt input into an error (or some bytes), never a panic, and
/// never produce more than the bound.
#[test]
fn corrupt_chunks_never_panic() {
    let data: Vec<u8> = (0..4000u32).map(|v| ((v / 3) ^ (v >> 5)) as u8).collect();
    let pipes = [
        vec![FilterInfo::new(ID_DEFLATE, vec![4])],
        vec![
            FilterInfo::new(ID_SHUFFLE, vec![4]),
            FilterInfo::new(ID_DEFLATE, vec![1]),
            FilterInfo::new(ID_FLETCHER32, vec![]),
        ],
        vec![FilterInfo::new(ID_LZF, vec![4, 261, 4000])],
        vec![FilterInfo::new(ID_ZSTD, vec![3])],
        vec![FilterInfo::new(ID_LZ4, vec![1000])],
        vec![FilterInfo::new(ID_BITSHUFFLE, vec![0, 4, 4, 0, 0])],
        vec![FilterInfo::new(ID_BITSHUFFLE, vec![0, 4, 4, 0, 2])],
        vec![FilterInfo::new(ID_BITSHUFFLE, vec![0, 4, 4, 0, 3])],
        vec![FilterInfo::new(ID_BLOSC, vec![2, 2, 4, 4000, 5, 1, 1])],
        vec![FilterInfo::new(ID_BLOSC, vec![2, 2, 4, 4000, 5, 2, 4])],
        vec![FilterInfo::new(ID_BLOSC, vec![2, 2, 4, 4000, 5, 0, 5])],
    ];
    let mut seed = 0x1234_5678_u32;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    for filters in pipes {
        let p = FilterPipeline::new(filters);
        let enc = p.encode(data.clone(), 4).unwrap();
        assert_eq!(
            p.decode(enc.clone(), 0, data.len(), 4, 0).unwrap(),
            data,
            "{}",
            p.describe()
        );
        for cut in [
            0,
            1,
            5,
            12,
            16,
            20,
            enc.len() / 2,
            enc.len().saturating_sub(1),
        ] {
            let _ = p.decode(enc[..cut.min(enc.len())].to_vec(), 0, data.len(), 4, 0);
        }
        for _ in 0..300 {
            let mut bad = enc.clone();
            for _ in 0..1 + rnd() % 4 {
                let i = rnd() as usize % bad.len();
                bad[i] = rnd() as u8;
            }
            if let Ok(out) = p.decode(bad, 0, data.len(), 4, 0) {
                assert_eq!(out.len(), data.len());
            }
        }
    }
}

// ------------------------------------------------------------------------------- szip

/// One chunk of `szip_oracle.py`: base name, element size, chunk bytes, filter mask, client
/// data.
type SzipChunk = (String, usize, usize, u32, Vec<u32>);

/// Chunks libhdf5 + libaec wrote with szip, from `szip_oracle.py` (in a temp dir); `None`
/// (test skipped) without h5py or its szip.
fn szip_oracle() -> Option<(tempfile::TempDir, Vec<SzipChunk>)> {
    let ok = Command::new("python3")
        .args([
            "-c",
            "import h5py, sys; sys.exit(0 if h5py.h5z.filter_avail(4) else 1)",
        ])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("SKIPPED: python3 with h5py and its szip filter is not available");
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let st = Command::new("python3")
        .arg(script("szip_oracle.py"))
        .arg(dir.path())
        .status()
        .expect("run python");
    assert!(st.success(), "szip_oracle.py failed");
    let entries = std::fs::read_to_string(dir.path().join("manifest.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let cd = f[4].split(',').map(|v| v.parse().unwrap()).collect();
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
                cd,
            )
        })
        .collect();
    Some((dir, entries))
}

#[test]
fn szip_decodes_like_libaec() {
    let Some((dir, entries)) = szip_oracle() else {
        return;
    };
    assert!(entries.len() > 300, "{} chunks", entries.len());
    let mut failures = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (base, elem, len, mask, cd) in &entries {
        let raw = std::fs::read(dir.path().join(format!("{base}.raw"))).unwrap();
        let exp = std::fs::read(dir.path().join(format!("{base}.exp"))).unwrap();
        if *mask == 0 {
            seen.insert((cd[0], cd[1], cd[2]));
        }
        let p = FilterPipeline::new(vec![FilterInfo::new(ID_SZIP, cd.clone())]);
        match p.decode(raw.clone(), *mask, *len, *elem, 0) {
            Ok(got) if got == exp => {}
            Ok(got) => {
                let at = got.iter().zip(&exp).position(|(a, b)| a != b);
                failures.push(format!("{base} {cd:?}: differs at byte {at:?}"));
            }
            Err(e) => failures.push(format!("{base} {cd:?}: {e}")),
        }
        let needed = 37.min(exp.len());
        match p.decode_prefix(raw, *mask, *len, *elem, 0, needed) {
            Ok(got) if got == exp[..needed] => {}
            _ => failures.push(format!("{base}: prefix differs")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // NN and EC, both byte orders, every sample width, odd block sizes of libhdf5's range.
    for want in [
        (169, 8, 16),
        (177, 8, 16),
        (141, 16, 32),
        (169, 10, 64),
        (169, 8, 12),
    ] {
        assert!(seen.contains(&want), "no chunk with {want:?}: {seen:?}");
    }
}

#[test]
fn szip_corrupt_chunks_are_errors() {
    let Some((dir, entries)) = szip_oracle() else {
        return;
    };
    let mut seed = 0x9e37_79b9_u32;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let mut truncated = 0;
    for (base, elem, len, mask, cd) in entries.iter().step_by(7) {
        if *mask != 0 {
            continue;
        }
        let raw = std::fs::read(dir.path().join(format!("{base}.raw"))).unwrap();
        let p = FilterPipeline::new(vec![FilterInfo::new(ID_SZIP, cd.clone())]);
        // A cut stream ends before the chunk is complete: an error naming the filter.
        for cut in [0, 3, 4, 5, raw.len() / 2, raw.len() - 1] {
            if cut >= raw.len() {
                continue;
            }
            match p.decode(raw[..cut].to_vec(), 0, *len, *elem, 4321) {
                Err(Error::Filter {
                    id: 4,
                    offset: 4321,
                    ..
                }) => truncated += 1,
                // The last byte may hold only padding bits.
                Ok(got) if cut == raw.len() - 1 => assert_eq!(got.len(), *len),
                other => panic!("{base} cut at {cut}: {other:?}"),
            }
        }
        // A header claiming more than the chunk holds is refused before decoding.
        let mut big = raw.clone();
        big[..4].copy_from_slice(&(*len as u32 + 4).to_le_bytes());
        assert!(p.decode(big, 0, *len, *elem, 0).is_err(), "{base}");
        for _ in 0..40 {
            let mut bad = raw.clone();
            for _ in 0..1 + rnd() % 3 {
                let i = 4 + rnd() as usize % (bad.len() - 4);
                bad[i] = rnd() as u8;
            }
            if let Ok(out) = p.decode(bad, 0, *len, *elem, 0) {
                assert_eq!(out.len(), *len);
            }
        }
    }
    assert!(truncated > 100, "{truncated}");
}

#[test]
fn szip_hostile_client_data_is_an_error() {
    let chunk = {
        let mut c = 64u32.to_le_bytes().to_vec();
        c.extend([0u8; 64]);
        c
    };
    for cd in [
        vec![],
        vec![169, 8, 16],
        vec![169, 8, 16, 50, 0],
        vec![169, 0, 16, 50],
        vec![169, 7, 16, 50],
        vec![169, 66, 16, 50],
        vec![169, 8, 0, 50],
        vec![169, 8, 33, 50],
        vec![169, 8, 48, 50],
        vec![169, 8, 16, 0],
    ] {
        let p = FilterPipeline::new(vec![FilterInfo::new(ID_SZIP, cd.clone())]);
        let err = p.decode(chunk.clone(), 0, 64, 2, 0).unwrap_err();
        assert!(matches!(err, Error::Filter { id: 4, .. }), "{cd:?}: {err}");
    }
    // Read-only: writing through szip is refused as unsupported, not attempted.
    let p = FilterPipeline::new(vec![FilterInfo::new(ID_SZIP, vec![169, 8, 16, 50])]);
    assert!(matches!(
        p.encode(vec![0; 64], 2),
        Err(Error::Unsupported { .. })
    ));
}
