//! Datatype messages (0x0003) for the types we write, all in datatype version 1.

use super::encode::{usage, Put, Widths};
use crate::elem::ElemType;
use crate::error::Result;

/// The element type of a dataset or attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DType {
    /// A numeric element type or h5py's boolean (h5py's `bool`: an enum over int8 with
    /// `FALSE = 0`, `TRUE = 1`). `DType::F32` and the other constants below name them.
    Elem(ElemType),
    /// Fixed-length string of `len` bytes, NUL-padded; `utf8` selects the character set.
    FixedString {
        /// Length in bytes.
        len: u32,
        /// UTF-8 (true) or ASCII (false) character set.
        utf8: bool,
    },
    /// Variable-length UTF-8 string (stored in global heap collections).
    VarString,
    /// Object reference (8 bytes: an object header address), written with
    /// [`Reference`](super::Reference) values resolved when the file is finished.
    ObjectRef,
    /// Dataset region reference (12 bytes: a global heap object with the dataset's address
    /// and a selection).
    RegionRef,
    /// An already-encoded datatype message body (e.g. copied from another file).
    Raw(Vec<u8>),
}

impl DType {
    /// Signed 8-bit integer.
    pub const I8: DType = DType::Elem(ElemType::I8);
    /// Signed 16-bit integer.
    pub const I16: DType = DType::Elem(ElemType::I16);
    /// Signed 32-bit integer.
    pub const I32: DType = DType::Elem(ElemType::I32);
    /// Signed 64-bit integer.
    pub const I64: DType = DType::Elem(ElemType::I64);
    /// Unsigned 8-bit integer.
    pub const U8: DType = DType::Elem(ElemType::U8);
    /// Unsigned 16-bit integer.
    pub const U16: DType = DType::Elem(ElemType::U16);
    /// Unsigned 32-bit integer.
    pub const U32: DType = DType::Elem(ElemType::U32);
    /// Unsigned 64-bit integer.
    pub const U64: DType = DType::Elem(ElemType::U64);
    /// IEEE half precision.
    pub const F16: DType = DType::Elem(ElemType::F16);
    /// IEEE single precision.
    pub const F32: DType = DType::Elem(ElemType::F32);
    /// IEEE double precision.
    pub const F64: DType = DType::Elem(ElemType::F64);
    /// h5py's boolean: an enum over int8 with `FALSE = 0`, `TRUE = 1` (one byte per value).
    #[allow(non_upper_case_globals)] // spelled like `ElemType::Bool`, as the other names
    pub const Bool: DType = DType::Elem(ElemType::Bool);

    /// The numeric element type, for [`DType::Elem`].
    pub fn elem(&self) -> Option<ElemType> {
        match self {
            DType::Elem(e) => Some(*e),
            _ => None,
        }
    }

    /// Size of one element in the file, in bytes (a variable-length string's heap reference
    /// is 16 bytes in files with 8-byte addresses, as every file [`super::FileWriter`]
    /// creates; 4 + address size + 4 in files an editor changes).
    pub fn size(&self) -> Result<usize> {
        Ok(match self {
            DType::Elem(e) => e.size(),
            DType::ObjectRef => 8,
            DType::RegionRef => 12,
            DType::FixedString { len, .. } => *len as usize,
            DType::VarString => Widths::current().heap_ref(),
            DType::Raw(b) => match b.get(4..8) {
                Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize,
                None => return Err(usage("raw datatype message shorter than 8 bytes")),
            },
        })
    }

    /// Encode the datatype message body.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let w = Widths::current();
        if self.is_reference() && w.offset != 8 {
            return Err(crate::error::Error::unsupported(
                "write",
                format!("references in a file with {}-byte addresses", w.offset),
            ));
        }
        match self {
            DType::Elem(ElemType::I8) => int(&mut out, 1, true),
            DType::Elem(ElemType::I16) => int(&mut out, 2, true),
            DType::Elem(ElemType::I32) => int(&mut out, 4, true),
            DType::Elem(ElemType::I64) => int(&mut out, 8, true),
            DType::Elem(ElemType::U8) => int(&mut out, 1, false),
            DType::Elem(ElemType::U16) => int(&mut out, 2, false),
            DType::Elem(ElemType::U32) => int(&mut out, 4, false),
            DType::Elem(ElemType::U64) => int(&mut out, 8, false),
            DType::Elem(ElemType::F16) => float(&mut out, 2, 15, 10, 5, 10, 15),
            DType::Elem(ElemType::F32) => float(&mut out, 4, 31, 23, 8, 23, 127),
            DType::Elem(ElemType::F64) => float(&mut out, 8, 63, 52, 11, 52, 1023),
            DType::Elem(ElemType::Bool) => {
                header(&mut out, 8, [2, 0, 0], 1);
                int(&mut out, 1, true);
                // Member names, each NUL-terminated and padded to a multiple of 8 bytes.
                for name in [&b"FALSE"[..], b"TRUE"] {
                    let mut n = name.to_vec();
                    n.put_u8(0);
                    n.pad_to(8);
                    out.extend_from_slice(&n);
                }
                out.extend_from_slice(&[0, 1]);
            }
            DType::FixedString { len, utf8 } => {
                if *len == 0 {
                    return Err(usage("fixed-length string of length 0"));
                }
                // Padding type 1 = NUL-padded, as numpy's `S` strings.
                header(&mut out, 3, [1, u8::from(*utf8), 0], *len);
            }
            DType::VarString => {
                // Variable-length sequence of type "string", UTF-8, over unsigned bytes.
                header(&mut out, 9, [1, 1, 0], w.heap_ref() as u32);
                int(&mut out, 1, false);
            }
            DType::ObjectRef => header(&mut out, 7, [0, 0, 0], 8),
            DType::RegionRef => header(&mut out, 7, [1, 0, 0], 12),
            DType::Raw(bytes) => {
                self.size()?;
                out.extend_from_slice(bytes);
                if out.first().is_some_and(|h| h >> 4 >= 4) {
                    downgrade(&mut out, 0, 0)?;
                }
            }
        }
        Ok(out)
    }

    /// Whether elements reference the global heap (variable-length strings).
    pub fn is_vlen(&self) -> bool {
        matches!(self, DType::VarString)
    }

    /// Whether elements are references, resolved when the file is finished.
    pub fn is_reference(&self) -> bool {
        matches!(self, DType::ObjectRef | DType::RegionRef)
    }
}

fn header(out: &mut Vec<u8>, class: u8, bits: [u8; 3], size: u32) {
    out.put_u8(0x10 | class);
    out.extend_from_slice(&bits);
    out.put_u32(size);
}

fn int(out: &mut Vec<u8>, size: u32, signed: bool) {
    header(out, 0, [if signed { 0x08 } else { 0 }, 0, 0], size);
    out.put_u16(0);
    out.put_u16((size * 8) as u16);
}

fn float(out: &mut Vec<u8>, size: u32, sign: u8, eloc: u8, esize: u8, msize: u8, bias: u32) {
    // Mantissa normalization 2 (implied leading 1) in bits 4-5; sign bit position in bits 8-15.
    header(out, 1, [0x20, sign, 0], size);
    out.put_u16(0);
    out.put_u16((size * 8) as u16);
    out.extend_from_slice(&[eloc, esize, 0, msize]);
    out.put_u32(bias);
}

impl From<ElemType> for DType {
    fn from(e: ElemType) -> DType {
        DType::Elem(e)
    }
}

impl ElemType {
    /// The writer datatype storing values of this type as they are carried in memory
    /// ([`value_type`](ElemType::value_type)): half floats, carried as f32, are stored as f32.
    pub fn write_dtype(self) -> DType {
        DType::Elem(self.value_type())
    }
}

/// A Rust number type that maps to a [`DType`].
pub trait Element: Copy + Send + Sync + 'static {
    /// The HDF5 type of this Rust type.
    const DTYPE: DType;
    /// Append the little-endian bytes of `values` to `out`.
    fn extend_le(values: &[Self], out: &mut Vec<u8>);
}

macro_rules! element {
    ($($t:ty => $d:ident),*) => {$(
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn extend_le(values: &[Self], out: &mut Vec<u8>) {
                out.reserve(std::mem::size_of_val(values));
                for v in values {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
    )*};
}
element!(i8 => I8, i16 => I16, i32 => I32, i64 => I64, u8 => U8, u16 => U16, u32 => U32,
         u64 => U64, f32 => F32, f64 => F64);

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    fn extend_le(values: &[Self], out: &mut Vec<u8>) {
        out.extend(values.iter().map(|&b| u8::from(b)));
    }
}

/// Little-endian bytes of a slice of elements.
pub fn to_le_bytes<T: Element>(values: &[T]) -> Vec<u8> {
    let mut out = Vec::new();
    T::extend_le(values, &mut out);
    out
}

/// Rewrite the version-4+ datatype headers (libhdf5 1.12+) of an encoded type at `at` as
/// version 3, which encodes every class but references identically and which libhdf5 1.8+
/// reads; returns the end of the type. Version 4 references (new-style) are refused.
fn downgrade(b: &mut [u8], at: usize, depth: usize) -> Result<usize> {
    let bad = |d: &str| usage(format!("raw datatype: {d}"));
    if depth > 32 {
        return Err(bad("nested too deeply"));
    }
    let head = *b.get(at).ok_or_else(|| bad("truncated"))?;
    let (version, class) = (head >> 4, head & 0x0f);
    if version >= 4 {
        if class == 7 {
            return Err(bad("version 4+ (new-style) references cannot be written"));
        }
        if let Some(h) = b.get_mut(at) {
            *h = 0x30 | class;
        }
    }
    let get = |i: usize| b.get(i).copied().ok_or_else(|| bad("truncated"));
    let bits = u32::from(get(at + 1)?) | u32::from(get(at + 2)?) << 8;
    let size = u32::from_le_bytes([get(at + 4)?, get(at + 5)?, get(at + 6)?, get(at + 7)?]);
    let mut p = at + 8;
    let cstr_end = |b: &[u8], p: usize| -> Result<usize> {
        b.get(p..)
            .and_then(|r| r.iter().position(|&c| c == 0))
            .map(|n| p + n + 1)
            .ok_or_else(|| bad("unterminated name"))
    };
    match class {
        0 | 4 => p += 4,
        1 => p += 12,
        2 => p += 2,
        3 | 7 => {}
        5 => p += (bits & 0xff) as usize,
        6 | 8 if version < 3 => {
            // Versions 1-2 keep their (padded) encoding; nested types are version 1-2 too.
            return Err(bad(
                "compound/enum of datatype version < 3 cannot be walked",
            ));
        }
        6 => {
            let width = (31 - size.max(1).leading_zeros()) as usize / 8 + 1;
            for _ in 0..(bits & 0xffff) {
                p = cstr_end(b, p)? + width;
                p = downgrade(b, p, depth + 1)?;
            }
        }
        8 => {
            let base = p;
            p = downgrade(b, p, depth + 1)?;
            let bsize = b
                .get(base + 4..base + 8)
                .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
                .ok_or_else(|| bad("truncated"))?;
            let n = (bits & 0xffff) as usize;
            for _ in 0..n {
                p = cstr_end(b, p)?;
            }
            p += n * bsize;
        }
        9 => p = downgrade(b, p, depth + 1)?,
        10 if version >= 3 => {
            let rank = usize::from(get(p)?);
            p = downgrade(b, p + 1 + 4 * rank, depth + 1)?;
        }
        10 => return Err(bad("array of datatype version 2 cannot be walked")),
        _ => return Err(bad(&format!("class {class} cannot be written"))),
    }
    if p > b.len() {
        return Err(bad("truncated"));
    }
    Ok(p)
}
