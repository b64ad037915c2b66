//! Hostile and plumbing tests: arbitrary bytes never panic, nesting is bounded, and
//! variable-length / reference elements go through the resolver.

use std::collections::HashMap;

use h5format::cursor::{Cursor, Sizes};
use h5format::read::datatype::{ByteOrder, Charset, Datatype, RefKind, StrPad};
use h5format::value::{convert, decode, NoResolver, Resolver, Value};
use h5format::Result;
use proptest::prelude::*;

fn u8_type() -> Datatype {
    Datatype::Integer {
        size: 1,
        order: ByteOrder::Little,
        signed: false,
        bit_offset: 0,
        precision: 8,
    }
}

fn i32_type(order: ByteOrder) -> Datatype {
    Datatype::Integer {
        size: 4,
        order,
        signed: true,
        bit_offset: 0,
        precision: 32,
    }
}

struct Heap {
    objects: HashMap<(u64, u32), Vec<u8>>,
    paths: HashMap<u64, String>,
}

impl Resolver for Heap {
    fn global_heap_object(&self, addr: u64, index: u32) -> Result<Vec<u8>> {
        self.objects
            .get(&(addr, index))
            .cloned()
            .ok_or_else(|| h5format::Error::NotFound(format!("heap {addr}/{index}")))
    }
    fn object_path(&self, addr: u64) -> Result<Option<String>> {
        Ok(self.paths.get(&addr).cloned())
    }
}

/// A vlen element as libhdf5 lays it out with 8-byte offsets: length, collection, index.
fn vlen_elem(len: u32, addr: u64, index: u32) -> Vec<u8> {
    let mut v = len.to_le_bytes().to_vec();
    v.extend_from_slice(&addr.to_le_bytes());
    v.extend_from_slice(&index.to_le_bytes());
    v
}

#[test]
fn vlen_strings_sequences_and_refs_use_the_resolver() {
    let heap = Heap {
        objects: HashMap::from([
            ((4096, 1), b"hello".to_vec()),
            ((4096, 2), "h\u{e9}\0tail".as_bytes().to_vec()),
            (
                (4096, 3),
                [7i32.to_be_bytes(), (-1i32).to_be_bytes()].concat(),
            ),
        ]),
        paths: HashMap::from([(800, "/a/b".to_string())]),
    };
    let s = Sizes::default();
    let vstr = Datatype::VarLen {
        size: 16,
        base: Box::new(u8_type()),
        string: Some((StrPad::NullTerm, Charset::Utf8)),
    };
    assert_eq!(vstr.dtype_name(), "str");
    let data = [
        vlen_elem(5, 4096, 1),
        vlen_elem(0, 0, 0),
        vlen_elem(7, 4096, 2),
    ]
    .concat();
    let v = decode(&vstr, &data, 3, s, &heap).unwrap();
    assert_eq!(
        v,
        [
            Value::Str("hello".into()),
            Value::Str(String::new()),
            Value::Str("h\u{e9}".into())
        ]
    );
    // A length beyond the heap object is an error, not a panic.
    assert!(decode(&vstr, &vlen_elem(6, 4096, 1), 1, s, &heap).is_err());
    assert!(decode(&vstr, &vlen_elem(u32::MAX, 4096, 1), 1, s, &heap).is_err());

    let vseq = Datatype::VarLen {
        size: 16,
        base: Box::new(i32_type(ByteOrder::Big)),
        string: None,
    };
    assert_eq!(vseq.dtype_name(), "vlen:i4");
    let v = decode(&vseq, &vlen_elem(2, 4096, 3), 1, s, &heap).unwrap();
    assert_eq!(v, [Value::List(vec![Value::Int(7), Value::Int(-1)])]);

    let r = Datatype::Reference {
        size: 8,
        kind: RefKind::Object,
    };
    let data = [800u64, 0, u64::MAX, 12]
        .iter()
        .flat_map(|a| a.to_le_bytes())
        .collect::<Vec<_>>();
    let v = decode(&r, &data, 4, s, &heap).unwrap();
    assert_eq!(
        v,
        [
            Value::Ref(Some("/a/b".into())),
            Value::Ref(None),
            Value::Ref(None),
            Value::Ref(None)
        ]
    );

    // 4-byte offsets.
    let s4 = Sizes {
        offset: 4,
        length: 4,
    };
    let mut e = 5u32.to_le_bytes().to_vec();
    e.extend_from_slice(&4096u32.to_le_bytes());
    e.extend_from_slice(&1u32.to_le_bytes());
    let vstr12 = Datatype::VarLen {
        size: 12,
        base: Box::new(u8_type()),
        string: Some((StrPad::NullTerm, Charset::Utf8)),
    };
    assert_eq!(
        decode(&vstr12, &e, 1, s4, &heap).unwrap(),
        [Value::Str("hello".into())]
    );
}

#[test]
fn unsupported_types_decode_to_unsupported() {
    let t = Datatype::Bitfield {
        size: 2,
        order: ByteOrder::Little,
    };
    assert_eq!(
        decode(&t, &[0; 6], 3, Sizes::default(), &NoResolver).unwrap(),
        vec![Value::Unsupported; 3]
    );
    assert!(decode(&t, &[0; 5], 3, Sizes::default(), &NoResolver).is_err());
    assert!(convert::<f64>(&t, &[0; 6]).is_err());
    assert!(decode(&t, &[], usize::MAX, Sizes::default(), &NoResolver).is_err());
}

#[test]
fn partial_precision_integers_are_masked() {
    // 12 significant bits at offset 4 in a 2-byte signed integer.
    let t = Datatype::Integer {
        size: 2,
        order: ByteOrder::Little,
        signed: true,
        bit_offset: 4,
        precision: 12,
    };
    let raw = [0xf0u8, 0xff, 0x10, 0x00]; // -1, 1
    let v = decode(&t, &raw, 2, Sizes::default(), &NoResolver).unwrap();
    assert_eq!(v, [Value::Int(-1), Value::Int(1)]);
    assert_eq!(convert::<i64>(&t, &raw).unwrap(), [-1, 1]);
}

#[test]
fn nesting_is_bounded() {
    // A chain of 100 vlen-of-vlen headers (class 9, version 1, size 16).
    let mut b = Vec::new();
    for _ in 0..100 {
        b.extend_from_slice(&[0x19, 0, 0, 0, 16, 0, 0, 0]);
    }
    let mut c = Cursor::new(&b, 0, "datatype message", Sizes::default());
    let e = Datatype::parse(&mut c).unwrap_err();
    assert!(e.to_string().contains("nesting"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), data in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut c = Cursor::new(&bytes, 0, "datatype message", Sizes::default());
        if let Ok(dt) = Datatype::parse(&mut c) {
            let _ = dt.dtype_name();
            let n = data.len() / dt.size().max(1);
            let _ = decode(&dt, &data, n, Sizes::default(), &NoResolver);
            let _ = convert::<f64>(&dt, &data);
            let _ = convert::<i32>(&dt, &data);
        }
    }

    #[test]
    fn mutated_real_types_never_panic(pos in 0usize..64, val in any::<u8>(), which in 0usize..4) {
        // Real libhdf5 encodings (H5Tencode bodies) with one byte changed.
        let bodies: [&str; 4] = [
            "16020000100000007200000000000000000000000000000000000000000000000000000000000000000000000000000011203f000800000000004000340b0034ff0300006900000000000000080000000000000000000000000000000000000000000000000000000000000011203f000800000000004000340b0034ff030000",
            "180200000100000010080000010000000000080046414c534500000054525545000000000001",
            "1901010008000000100000000100000000000800",
            "11213f000800000000004000340b0034ff030000",
        ];
        let hexs = bodies[which];
        let mut b: Vec<u8> = (0..hexs.len() / 2).map(|i| u8::from_str_radix(&hexs[2 * i..2 * i + 2], 16).unwrap()).collect();
        let p = pos % b.len();
        b[p] = val;
        let mut c = Cursor::new(&b, 0, "datatype message", Sizes::default());
        if let Ok(dt) = Datatype::parse(&mut c) {
            let _ = dt.dtype_name();
            let data = vec![0xabu8; dt.size().min(4096) * 2];
            let _ = decode(&dt, &data, data.len() / dt.size(), Sizes::default(), &NoResolver);
        }
    }
}
