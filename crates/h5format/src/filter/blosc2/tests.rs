//! Tests of the Blosc2 decoder against c-blosc2: `oracle.py` dumps every stored chunk of the
//! Blosc2 fixtures (hdf5plugin, PyTables and python-blosc2 frames) with the bytes
//! python-blosc2 decodes it to; we decode the same chunks. Then corrupt and lying variants of
//! those chunks: errors that name what lied, never a panic, never more than the bound.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::filter::{FilterInfo, FilterPipeline, ID_BLOSC2};

struct Case {
    name: String,
    cd: Vec<u32>,
    raw: Vec<u8>,
    out: Vec<u8>,
}

/// The oracle's chunks; `None` (test skipped) when python3 with h5py, hdf5plugin and
/// python-blosc2 (installed with PyTables) is missing.
fn cases() -> Option<Vec<Case>> {
    let ok = Command::new("python3")
        .args(["-c", "import h5py, hdf5plugin, blosc2"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("SKIPPED: python3 with h5py, hdf5plugin and blosc2 is not available");
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/filter/blosc2/oracle.py");
    let st = Command::new("python3")
        .arg(script)
        .arg(dir.path())
        .status()
        .expect("run python");
    assert!(st.success(), "oracle.py failed");
    let read = |name: &str| -> Vec<u8> {
        let p: PathBuf = dir.path().join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    let index: serde_json::Value = serde_json::from_slice(&read("index.json")).expect("index.json");
    let cases: Vec<Case> = index
        .as_array()
        .expect("list")
        .iter()
        .map(|e| Case {
            name: e["name"].as_str().unwrap().to_string(),
            cd: e["cd"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u32)
                .collect(),
            raw: read(e["raw"].as_str().unwrap()),
            out: read(e["out"].as_str().unwrap()),
        })
        .collect();
    assert!(cases.len() > 100, "only {} chunks", cases.len());
    Some(cases)
}

fn decode(c: &Case, raw: Vec<u8>, limit: usize) -> CodecResult<Vec<u8>> {
    Blosc2::from_client_data(&c.cd).decode(
        raw,
        &Ctx {
            elem_size: c.cd[2] as usize,
            max_out: limit,
        },
    )
}

#[test]
fn fixture_chunks_decode_as_c_blosc2_does() {
    let Some(cases) = cases() else { return };
    let mut b2nd = 0;
    for c in &cases {
        let got = decode(c, c.raw.clone(), c.cd[3] as usize)
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        assert!(got == c.out, "{}: decoded bytes differ", c.name);
        b2nd += usize::from(c.cd.len() > 7);
    }
    assert!(b2nd > 20, "only {b2nd} b2nd chunks");
}

/// The chunk of one fixture dataset.
fn case<'a>(cases: &'a [Case], name: &str) -> &'a Case {
    cases
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no chunk {name}"))
}

fn err(c: &Case, raw: Vec<u8>, limit: usize) -> String {
    match decode(c, raw, limit) {
        Ok(_) => panic!("{}: decoded a lying chunk", c.name),
        Err(e) => e,
    }
}

#[test]
fn sizes_that_lie_are_errors_naming_them() {
    let Some(cases) = cases() else { return };
    let plain = case(&cases, "blosc2.h5:zstd_shuffle_u8[0]");
    let limit = plain.cd[3] as usize;
    // The dataset implies a smaller chunk than the frame holds.
    let e = err(plain, plain.raw.clone(), limit - 8);
    assert!(e.contains("more than the"), "{e}");
    // Frame uncompressed size (msgpack int64 at byte 30) doubled.
    let mut raw = plain.raw.clone();
    let n = i64::from_be_bytes(raw[30..38].try_into().unwrap());
    raw[30..38].copy_from_slice(&(2 * n).to_be_bytes());
    let e = err(plain, raw, limit);
    assert!(e.contains("frame announces"), "{e}");
    // The data chunk's header (after the frame header) claims more bytes than the frame.
    let hl = u32::from_be_bytes(plain.raw[11..15].try_into().unwrap()) as usize;
    let mut raw = plain.raw.clone();
    raw[hl + 4..hl + 8].copy_from_slice(&(limit as u32 + 8).to_le_bytes());
    let e = err(plain, raw, limit);
    assert!(e.contains("header announces"), "{e}");
    // A bomb: a huge chunk size in the frame is refused before anything is allocated.
    let mut raw = plain.raw.clone();
    raw[30..38].copy_from_slice(&(1i64 << 40).to_be_bytes());
    let e = err(plain, raw, limit);
    assert!(e.contains("frame announces"), "{e}");

    // b2nd: the client data's chunk shape must be the array's.
    let nd = case(&cases, "b2nd.h5:c3_blocks_u2[0]");
    let mut cd = nd.cd.clone();
    cd[8] += 1;
    let lying = Case {
        name: nd.name.clone(),
        cd,
        raw: nd.raw.clone(),
        out: Vec::new(),
    };
    let e = err(&lying, nd.raw.clone(), usize::MAX);
    assert!(e.contains("b2nd array of shape"), "{e}");
    let e = err(nd, nd.raw.clone(), nd.out.len() - 1);
    assert!(e.contains("larger than the"), "{e}");
}

#[test]
fn corrupt_frames_never_panic() {
    let Some(cases) = cases() else { return };
    let mut seed = 0x2545_f491_u32;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    // A few chunks of every kind (plain, b2nd, crafted, special, memcpyed).
    for c in cases.iter().step_by(7) {
        let limit = c.out.len();
        for cut in [0, 10, 40, 87, 100, c.raw.len() / 2, c.raw.len() - 1] {
            let _ = decode(c, c.raw[..cut.min(c.raw.len())].to_vec(), limit);
        }
        for _ in 0..200 {
            let mut bad = c.raw.clone();
            for _ in 0..1 + rnd() % 3 {
                let i = rnd() as usize % bad.len();
                bad[i] = rnd() as u8;
            }
            if let Ok(out) = decode(c, bad, limit) {
                assert!(out.len() <= limit, "{}", c.name);
            }
        }
    }
}

#[test]
fn blosc2_is_read_only() {
    let p = FilterPipeline::new(vec![FilterInfo::new(
        ID_BLOSC2,
        vec![1, 0, 4, 400, 5, 1, 5],
    )]);
    assert_eq!(p.describe(), "blosc2(zstd, 5, shuffle)");
    match p.encode(vec![0; 400], 4) {
        Err(crate::error::Error::Unsupported { .. }) => {}
        other => panic!("encoding through blosc2: {other:?}"),
    }
}
