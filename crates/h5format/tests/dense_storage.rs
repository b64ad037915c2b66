//! Dense links and dense attributes (fractal heaps + v2 B-tree name indexes), checked
//! against h5py/libhdf5: the fixture is written by h5py at test time and h5py's own view of
//! it (names, order, soft-link targets, attribute bytes) is the expected output.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use h5format::read::fractal_heap::FractalHeap;
use h5format::read::link::{Link, LinkInfo, LinkTarget};
use h5format::read::object_header::msg;
use h5format::{Error, File};

const SCRIPT: &str = include_str!("dense_fixture.py");

#[derive(Default, Debug)]
struct Expected {
    /// (name, soft-link target or empty) in h5py's order.
    links: Vec<(Vec<u8>, Vec<u8>)>,
    /// (name, raw value bytes) in h5py's order.
    attrs: Vec<(Vec<u8>, Vec<u8>)>,
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    expected: BTreeMap<String, Expected>,
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn fixture() -> Option<&'static Fixture> {
    static F: OnceLock<Option<Fixture>> = OnceLock::new();
    F.get_or_init(|| {
        if !support::python_or_skip("h5py, numpy", support::NO_H5PY) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("gen.py");
        std::fs::write(&script, SCRIPT).unwrap();
        let path = dir.path().join("dense.h5");
        let out = Command::new("python3")
            .arg(&script)
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "fixture script failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut expected: BTreeMap<String, Expected> = BTreeMap::new();
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let f: Vec<&str> = line.split(' ').collect();
            let e = expected.entry(f[1].to_string()).or_default();
            match f[0] {
                "L" => e.links.push((unhex(f[2]), unhex(f[3]))),
                "A" => e.attrs.push((unhex(f[2]), unhex(f[3]))),
                _ => panic!("bad fixture line {line}"),
            }
        }
        Some(Fixture {
            _dir: dir,
            path,
            expected,
        })
    })
    .as_ref()
}

fn check_links(path: &str) {
    let Some(fx) = fixture() else { return };
    let file = File::open(&fx.path).unwrap();
    let links = file.group(path).unwrap().links().unwrap();
    let exp = &fx.expected[path].links;
    assert_eq!(links.len(), exp.len(), "{path}: number of links");
    for (l, (name, target)) in links.iter().zip(exp) {
        assert_eq!(l.name.as_bytes(), &name[..], "{path}: link order");
        match &l.target {
            LinkTarget::Soft(t) => assert_eq!(t.as_bytes(), &target[..], "{path}/{}", l.name),
            LinkTarget::Hard(_) => assert!(target.is_empty(), "{path}/{}: hard", l.name),
            other => panic!("{path}/{}: unexpected target {other:?}", l.name),
        }
    }
}

fn check_attrs(path: &str) {
    let Some(fx) = fixture() else { return };
    let file = File::open(&fx.path).unwrap();
    let group = file.group(path).unwrap();
    let attrs = group.attributes().unwrap();
    let exp = &fx.expected[path].attrs;
    let got: Vec<&str> = attrs.iter().map(|a| a.name.as_str()).collect();
    let want: Vec<String> = exp
        .iter()
        .map(|(n, _)| String::from_utf8_lossy(n).into_owned())
        .collect();
    assert_eq!(got, want, "{path}: attribute names and order");
    for (a, (_, bytes)) in attrs.iter().zip(exp) {
        assert_eq!(&a.data, bytes, "{path}: value of attribute {}", a.name);
    }
}

fn heap_of(file: &File, path: &str) -> (FractalHeap, LinkInfo) {
    let g = file.group(path).unwrap();
    let m = g.header().first(msg::LINK_INFO).unwrap();
    let info = LinkInfo::parse(&mut m.cursor("link info message", file.sizes())).unwrap();
    let heap = FractalHeap::open(file.source(), file.sizes(), info.heap_address).unwrap();
    (heap, info)
}

#[test]
fn dense_group_of_20() {
    check_links("/n20");
}

#[test]
fn dense_group_of_1000() {
    check_links("/n1000");
}

#[test]
fn dense_group_of_5000() {
    check_links("/n5000");
}

#[test]
fn dense_group_with_child_indirect_blocks() {
    check_links("/soft");
    let Some(fx) = fixture() else { return };
    let file = File::open(&fx.path).unwrap();
    let (heap, _) = heap_of(&file, "/soft");
    // ~1.2 MB of link messages: more rows than the direct rows of the root (64 KiB max
    // direct blocks from 512-byte starting blocks, width 4), so indirect children exist.
    let direct_rows =
        heap.max_direct_block_size.trailing_zeros() - heap.start_block_size.trailing_zeros() + 2;
    assert!(
        u32::from(heap.root_rows) > direct_rows,
        "root has {} rows, direct rows {direct_rows}",
        heap.root_rows
    );
}

#[test]
fn dense_group_with_huge_link_messages() {
    check_links("/hugelinks");
    let Some(fx) = fixture() else { return };
    let file = File::open(&fx.path).unwrap();
    let (heap, _) = heap_of(&file, "/hugelinks");
    assert_eq!(heap.huge_objects, 4, "four links beyond the managed size");
}

#[test]
fn tiny_heap_ids_hold_the_object() {
    let Some(fx) = fixture() else { return };
    let file = File::open(&fx.path).unwrap();
    let (heap, _) = heap_of(&file, "/n20");
    // A tiny ID (type 2): length - 1 in the low nibble, the bytes follow.
    let got = heap
        .get(file.source(), &[0x22, b'a', b'b', b'c', 0, 0, 0])
        .unwrap();
    assert_eq!(got, b"abc");
    // Longer than the ID allows: an error, not a panic.
    assert!(heap.get(file.source(), &[0x2f, 1, 2]).is_err());
    // Unknown ID version and reserved type.
    assert!(heap.get(file.source(), &[0x40, 0, 0]).is_err());
    assert!(heap.get(file.source(), &[0x30, 0, 0]).is_err());
    // Managed offset outside the heap.
    assert!(heap
        .get(file.source(), &[0, 0xff, 0xff, 0xff, 0xff, 1, 0])
        .is_err());
}

#[test]
fn dense_group_in_creation_order() {
    check_links("/ordered");
    let Some(fx) = fixture() else { return };
    let file = File::open(&fx.path).unwrap();
    let links = file.group("/ordered").unwrap().links().unwrap();
    let orders: Vec<u64> = links.iter().map(|l| l.creation_order.unwrap()).collect();
    assert!(orders.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn dense_group_members_resolve() {
    let Some(fx) = fixture() else { return };
    let file = File::open(&fx.path).unwrap();
    let d = file.dataset("/n5000/m04321").unwrap();
    assert_eq!(d.read_raw().unwrap(), 6i32.to_le_bytes());
    assert!(file.group("/n1000/m00999").is_ok());
    assert!(matches!(
        file.group("/n1000/m01000"),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn dense_attributes_by_name_with_huge_object() {
    check_attrs("/attrs");
    let Some(fx) = fixture() else { return };
    let file = File::open(&fx.path).unwrap();
    let g = file.group("/attrs").unwrap();
    let huge = g.attribute("huge").unwrap().unwrap();
    assert_eq!(huge.data.len(), 20000 * 8);
    let m = g.header().first(msg::ATTRIBUTE_INFO).unwrap();
    let info = h5format::read::attribute::AttributeInfo::parse(
        &mut m.cursor("attribute info message", file.sizes()),
    )
    .unwrap();
    let heap = FractalHeap::open(file.source(), file.sizes(), info.heap_address).unwrap();
    assert_eq!(heap.huge_objects, 1);
}

#[test]
fn dense_attributes_in_creation_order() {
    check_attrs("/tattrs");
}

#[test]
fn compressed_link_heap() {
    let Some(fx) = fixture() else { return };
    if !fx.expected.contains_key("/zipped") {
        eprintln!("skipping: h5py's libhdf5 could not be called to make a deflated link heap");
        return;
    }
    check_links("/zipped");
    let file = File::open(&fx.path).unwrap();
    let (heap, _) = heap_of(&file, "/zipped");
    assert_eq!(heap.huge_objects, 1, "one filtered huge link message");
    assert_eq!(
        heap.pipeline
            .filters
            .iter()
            .map(|f| f.id)
            .collect::<Vec<_>>(),
        vec![1],
        "deflate filter on the heap"
    );
}

/// Walking the direct blocks sees every managed link message, parsed back to back.
#[test]
fn direct_block_walk_finds_every_link() {
    let Some(fx) = fixture() else { return };
    let file = File::open(&fx.path).unwrap();
    for path in ["/soft", "/n1000", "/zipped"] {
        if !fx.expected.contains_key(path) {
            continue;
        }
        let (heap, _) = heap_of(&file, path);
        let mut names = Vec::new();
        heap.for_each_direct_block(file.source(), |off, area| {
            let mut c = h5format::cursor::Cursor::new(area, off, "link message", file.sizes());
            while c.remaining() > 0 && c.rest()[0] == 1 {
                names.push(Link::parse(&mut c)?.name);
            }
            Ok(())
        })
        .unwrap();
        names.sort();
        let mut want: Vec<String> = fx.expected[path]
            .links
            .iter()
            .map(|(n, _)| String::from_utf8_lossy(n).into_owned())
            .collect();
        // Huge link messages live outside the managed blocks.
        want.retain(|n| n != "zhuge");
        want.sort();
        assert_eq!(names, want, "{path}");
        assert_eq!(heap.managed_objects, want.len() as u64);
    }
}

/// Corrupting any byte of the dense structures gives an error or a result, never a panic.
#[test]
fn corrupted_bytes_never_panic() {
    let Some(fx) = fixture() else { return };
    let bytes = std::fs::read(&fx.path).unwrap();
    let file = File::open(&fx.path).unwrap();
    let (heap, info) = heap_of(&file, "/n20");
    let mut regions = vec![
        (heap.address, 200u64),
        (heap.root_address, 600),
        (info.name_index_address, 100),
    ];
    let g = file.group("/attrs").unwrap();
    let m = g.header().first(msg::ATTRIBUTE_INFO).unwrap();
    let ainfo = h5format::read::attribute::AttributeInfo::parse(
        &mut m.cursor("attribute info message", file.sizes()),
    )
    .unwrap();
    regions.push((ainfo.heap_address, 200));
    regions.push((ainfo.name_index_address, 100));
    let mut errors = 0;
    for (start, len) in regions {
        for pos in start..(start + len).min(bytes.len() as u64) {
            let mut b = bytes.clone();
            b[pos as usize] ^= 0x5a;
            let Ok(f) = File::from_bytes(b) else { continue };
            if let Ok(g) = f.group("/n20") {
                errors += usize::from(g.links().is_err());
            }
            if let Ok(g) = f.group("/attrs") {
                errors += usize::from(g.attributes().is_err());
            }
        }
    }
    assert!(errors > 0);
}

/// An indirect block that names itself as its own child is a cycle, reported as such.
#[test]
fn self_referencing_indirect_block_is_a_cycle() {
    let Some(fx) = fixture() else { return };
    let mut bytes = std::fs::read(&fx.path).unwrap();
    let file = File::open(&fx.path).unwrap();
    let (heap, _) = heap_of(&file, "/soft");
    assert_eq!(file.sizes().offset, 8);
    assert!(heap.pipeline.is_empty());
    // Layout of the root indirect block: signature, version, heap address, block offset,
    // direct children (8-byte addresses), indirect children, checksum.
    let off_size = usize::from(heap.max_heap_size_bits).div_ceil(8);
    let width = usize::from(heap.table_width);
    let rows = usize::from(heap.root_rows);
    let direct_rows = (heap.max_direct_block_size.trailing_zeros()
        - heap.start_block_size.trailing_zeros()
        + 2) as usize;
    let root = heap.root_address as usize;
    let first_indirect = root + 4 + 1 + 8 + off_size + direct_rows * width * 8;
    let end = root + 4 + 1 + 8 + off_size + rows * width * 8;
    bytes[first_indirect..first_indirect + 8].copy_from_slice(&heap.root_address.to_le_bytes());
    let sum = h5format::checksum::lookup3(&bytes[root..end], 0);
    bytes[end..end + 4].copy_from_slice(&sum.to_le_bytes());
    let f = File::from_bytes(bytes).unwrap();
    let err = f.group("/soft").unwrap().links().unwrap_err();
    let Error::InObject { source, .. } = err else {
        panic!("unexpected {err:?}")
    };
    assert!(matches!(*source, Error::Cycle { .. }), "{source:?}");
    let (heap, _) = heap_of(&f, "/soft");
    let walk = heap.for_each_direct_block(f.source(), |_, _| Ok(()));
    assert!(matches!(walk, Err(Error::Cycle { .. })), "{walk:?}");
}
