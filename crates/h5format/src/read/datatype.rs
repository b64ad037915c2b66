//! Datatype message (0x0003), File Format Specification section IV.A.2.d, versions 1 to 5.
//!
//! A datatype is a 4-byte header (class in the low nibble of byte 0, version in the high
//! nibble, then a 24-bit class bit field), a 4-byte element size, and class-specific
//! properties. Compound, enum, variable-length, array and complex types nest other datatypes;
//! nesting is bounded by [`MAX_DEPTH`] so a hostile file cannot recurse without end.

use crate::cursor::{bytes_needed, Cursor};
use crate::error::{Error, Result};

/// Deepest nesting of datatypes accepted (compound in array in vlen ...).
pub const MAX_DEPTH: usize = 32;

/// Byte order of an atomic type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    /// Least significant byte first.
    Little,
    /// Most significant byte first.
    Big,
}

impl ByteOrder {
    /// The byte order of the machine running this code.
    pub const NATIVE: ByteOrder = if cfg!(target_endian = "little") {
        ByteOrder::Little
    } else {
        ByteOrder::Big
    };
}

/// Padding of a string (fixed-length, or variable-length string flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrPad {
    /// NUL-terminated: the string ends at the first NUL.
    NullTerm,
    /// Padded with NULs.
    NullPad,
    /// Padded with spaces (Fortran style).
    SpacePad,
}

impl StrPad {
    fn from_bits(v: u32) -> StrPad {
        // Values 3..15 are reserved; treat them like libhdf5's default (nullterm).
        match v {
            1 => StrPad::NullPad,
            2 => StrPad::SpacePad,
            _ => StrPad::NullTerm,
        }
    }
}

/// Character set of a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// US-ASCII.
    Ascii,
    /// UTF-8.
    Utf8,
}

impl Charset {
    fn from_bits(v: u32) -> Charset {
        // Reserved values are treated as ASCII: strings are decoded as UTF-8 either way.
        if v == 1 {
            Charset::Utf8
        } else {
            Charset::Ascii
        }
    }
}

/// Kind of a reference datatype (class 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// Object reference (`H5R_OBJECT1`): an object header address.
    Object,
    /// Dataset region reference (`H5R_DATASET_REGION1`): a global heap id.
    Region,
}

/// Floating-point mantissa normalization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Norm {
    /// No normalization.
    None,
    /// The most significant bit of the mantissa is always set (and stored).
    MsbSet,
    /// The most significant bit of the mantissa is implied (IEEE).
    Implied,
}

/// The bit layout of a floating-point type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloatBits {
    /// Offset of the first significant bit.
    pub bit_offset: u16,
    /// Number of significant bits.
    pub precision: u16,
    /// Bit position of the sign bit.
    pub sign_pos: u8,
    /// Bit position of the exponent.
    pub exp_pos: u8,
    /// Size of the exponent in bits.
    pub exp_size: u8,
    /// Bit position of the mantissa.
    pub mant_pos: u8,
    /// Size of the mantissa in bits.
    pub mant_size: u8,
    /// Exponent bias.
    pub exp_bias: u32,
    /// Mantissa normalization.
    pub norm: Norm,
}

/// An IEEE 754 binary format this crate decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IeeeFloat {
    /// binary16 (`f2`).
    F16,
    /// binary32 (`f4`).
    F32,
    /// binary64 (`f8`).
    F64,
}

/// One member of a compound datatype.
#[derive(Debug, Clone, PartialEq)]
pub struct CompoundMember {
    /// Member name (exact bytes of the file, decoded lossily as UTF-8).
    pub name: String,
    /// Byte offset of the member inside the compound element.
    pub offset: u32,
    /// The member's datatype (an array type for version-1 members with dimensions).
    pub dtype: Datatype,
}

/// One member of an enumeration.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumMember {
    /// Symbol name.
    pub name: String,
    /// Raw value bytes, in the base type's encoding.
    pub value: Vec<u8>,
}

/// A datatype, as stored in a datatype message.
#[derive(Debug, Clone, PartialEq)]
pub enum Datatype {
    /// Class 0: fixed-point integer.
    Integer {
        /// Element size in bytes.
        size: u32,
        /// Byte order.
        order: ByteOrder,
        /// Two's complement signed.
        signed: bool,
        /// Offset of the first significant bit.
        bit_offset: u16,
        /// Number of significant bits.
        precision: u16,
    },
    /// Class 1: floating point.
    Float {
        /// Element size in bytes.
        size: u32,
        /// Byte order.
        order: ByteOrder,
        /// Bit layout.
        bits: FloatBits,
    },
    /// Class 2: time.
    Time {
        /// Element size in bytes.
        size: u32,
        /// Byte order.
        order: ByteOrder,
    },
    /// Class 3: fixed-length string.
    String {
        /// Length in bytes.
        size: u32,
        /// Padding.
        pad: StrPad,
        /// Character set.
        charset: Charset,
    },
    /// Class 4: bit field.
    Bitfield {
        /// Element size in bytes.
        size: u32,
        /// Byte order.
        order: ByteOrder,
    },
    /// Class 5: opaque bytes with a tag.
    Opaque {
        /// Element size in bytes.
        size: u32,
        /// The ASCII tag.
        tag: String,
    },
    /// Class 6: compound (struct).
    Compound {
        /// Element size in bytes.
        size: u32,
        /// Members in file order.
        members: Vec<CompoundMember>,
    },
    /// Class 7: reference.
    Reference {
        /// Element size in bytes.
        size: u32,
        /// Object or region reference.
        kind: RefKind,
    },
    /// Class 8: enumeration.
    Enum {
        /// Element size in bytes.
        size: u32,
        /// Base integer type.
        base: Box<Datatype>,
        /// Members in file order.
        members: Vec<EnumMember>,
    },
    /// Class 9: variable-length sequence or string.
    VarLen {
        /// Element size in bytes as stored (4 + size of offsets + 4 in files).
        size: u32,
        /// Base type (a 1-byte integer or character type for strings).
        base: Box<Datatype>,
        /// `Some` for a variable-length string: its padding and character set.
        string: Option<(StrPad, Charset)>,
    },
    /// Class 10: fixed-size array of a base type.
    Array {
        /// Element size in bytes.
        size: u32,
        /// Dimensions.
        dims: Vec<u64>,
        /// Base type.
        base: Box<Datatype>,
    },
    /// A valid type this crate does not decode (complex numbers, new-style references, ...).
    Unsupported {
        /// Element size in bytes.
        size: u32,
        /// What it is.
        what: String,
    },
}

impl Datatype {
    /// Parse a datatype message body; consumes exactly the datatype's bytes.
    pub fn parse(cur: &mut Cursor<'_>) -> Result<Datatype> {
        parse_at(cur, 0)
    }

    /// Size of one element in bytes.
    pub fn size(&self) -> usize {
        let s = match self {
            Datatype::Integer { size, .. }
            | Datatype::Float { size, .. }
            | Datatype::Time { size, .. }
            | Datatype::String { size, .. }
            | Datatype::Bitfield { size, .. }
            | Datatype::Opaque { size, .. }
            | Datatype::Compound { size, .. }
            | Datatype::Reference { size, .. }
            | Datatype::Enum { size, .. }
            | Datatype::VarLen { size, .. }
            | Datatype::Array { size, .. }
            | Datatype::Unsupported { size, .. } => *size,
        };
        s as usize
    }

    /// True for h5py's boolean: an enum over a signed 1-byte integer with exactly the two
    /// members `FALSE` = 0 and `TRUE` = 1.
    pub fn is_h5py_bool(&self) -> bool {
        let Datatype::Enum { base, members, .. } = self else {
            return false;
        };
        if !matches!(
            **base,
            Datatype::Integer {
                size: 1,
                signed: true,
                ..
            }
        ) || members.len() != 2
        {
            return false;
        }
        let has = |name: &str, v: u8| members.iter().any(|m| m.name == name && m.value == [v]);
        has("FALSE", 0) && has("TRUE", 1)
    }

    /// For IEEE binary16/32/64 layouts, which one; `None` for any other float layout
    /// (long double, bfloat16, VAX, ...) and for non-float types.
    pub fn ieee_float(&self) -> Option<IeeeFloat> {
        let Datatype::Float { size, bits, .. } = self else {
            return None;
        };
        let (kind, sign, exp_size, mant_size, bias) = match size {
            2 => (IeeeFloat::F16, 15, 5, 10, 15),
            4 => (IeeeFloat::F32, 31, 8, 23, 127),
            8 => (IeeeFloat::F64, 63, 11, 52, 1023),
            _ => return None,
        };
        let ok = bits.bit_offset == 0
            && u32::from(bits.precision) == size * 8
            && bits.sign_pos == sign
            && bits.exp_pos == mant_size
            && bits.exp_size == exp_size
            && bits.mant_pos == 0
            && bits.mant_size == mant_size
            && bits.exp_bias == bias
            && bits.norm == Norm::Implied;
        ok.then_some(kind)
    }

    /// The IEEE format the values of this float type are read as: its own for IEEE
    /// binary16/32/64 layouts, and for any other layout (reduced precision, custom exponent
    /// or mantissa fields and bias) the smallest of binary16/32/64 that is at least as wide
    /// and holds every value exactly — h5py's choice of numpy type, into which libhdf5
    /// converts. `None` for layouts no binary64 holds (long double, ...), for MSB-set
    /// normalization (libhdf5 does not convert it) and for non-floats.
    pub fn float_target(&self) -> Option<IeeeFloat> {
        if let Some(kind) = self.ieee_float() {
            return Some(kind);
        }
        let Datatype::Float { size, bits, .. } = self else {
            return None;
        };
        // libhdf5 cannot convert MSB-set normalization ("not implemented yet").
        if bits.norm == Norm::MsbSet || bits.exp_size > 32 || bits.mant_size > 64 || *size > 8 {
            return None;
        }
        // Largest exponent (a power of two values stay below) and smallest normal one.
        let max_exp = (1i64 << bits.exp_size) - i64::from(bits.exp_bias) - 1;
        let min_exp = 1 - i64::from(bits.exp_bias);
        [
            (IeeeFloat::F16, 2, 10, 16, -14),
            (IeeeFloat::F32, 4, 23, 128, -126),
            (IeeeFloat::F64, 8, 52, 1024, -1022),
        ]
        .into_iter()
        .find(|&(_, width, nmant, maxexp, minexp)| {
            width >= *size && bits.mant_size <= nmant && max_exp <= maxexp && min_exp >= minexp
        })
        .map(|(kind, ..)| kind)
    }

    /// Why this type cannot be decoded, or `None` when every value of it can be. A compound,
    /// array, enum or variable-length type containing an unsupported type is unsupported.
    pub fn unsupported_reason(&self) -> Option<String> {
        match self {
            Datatype::Integer { size, .. } => {
                (!matches!(size, 1 | 2 | 4 | 8)).then(|| format!("int{}", u64::from(*size) * 8))
            }
            Datatype::Float { size, .. } => {
                if self.float_target().is_some() {
                    None
                } else if *size > 8 {
                    Some("long double".into())
                } else {
                    Some(format!("float{} (non-IEEE)", u64::from(*size) * 8))
                }
            }
            Datatype::Time { .. } => Some("time".into()),
            Datatype::Bitfield { .. } => Some("bitfield".into()),
            Datatype::String { .. } | Datatype::Opaque { .. } => None,
            Datatype::Reference {
                kind: RefKind::Object,
                ..
            } => None,
            Datatype::Reference {
                kind: RefKind::Region,
                ..
            } => Some("region reference".into()),
            Datatype::Compound { members, .. } => members.iter().find_map(|m| {
                m.dtype
                    .unsupported_reason()
                    .map(|r| format!("compound member {}: {r}", m.name))
            }),
            Datatype::Enum { base, .. } => match base.unsupported_reason() {
                Some(r) => Some(format!("enum of {r}")),
                None if !matches!(**base, Datatype::Integer { .. }) => {
                    Some("enum of non-integer".into())
                }
                None => None,
            },
            Datatype::VarLen {
                string: Some(_), ..
            } => None,
            Datatype::VarLen { base, .. } => {
                base.unsupported_reason().map(|r| format!("vlen of {r}"))
            }
            Datatype::Array { base, .. } => {
                base.unsupported_reason().map(|r| format!("array of {r}"))
            }
            Datatype::Unsupported { what, .. } => Some(what.clone()),
        }
    }

    /// The DTYPE string of the `h5sparse` CLI contract (`i4`, `f8`, `bool`, `str`, `S5`,
    /// `enum:i2`, `compound`, `array:f8[2,3]`, `vlen:i4`, `ref`, `opaque`, or
    /// `unsupported:<what>`).
    pub fn dtype_name(&self) -> String {
        if let Some(r) = self.unsupported_reason() {
            return format!("unsupported:{r}");
        }
        match self {
            Datatype::Integer { size, signed, .. } => {
                format!("{}{}", if *signed { 'i' } else { 'u' }, size)
            }
            Datatype::Float { .. } => match self.float_target() {
                Some(IeeeFloat::F16) => "f2".into(),
                Some(IeeeFloat::F32) => "f4".into(),
                _ => "f8".into(),
            },
            Datatype::String { size, .. } => format!("S{size}"),
            Datatype::Opaque { .. } => "opaque".into(),
            Datatype::Compound { .. } => "compound".into(),
            Datatype::Reference { .. } => "ref".into(),
            Datatype::Enum { base, .. } => {
                if self.is_h5py_bool() {
                    "bool".into()
                } else {
                    format!("enum:{}", base.dtype_name())
                }
            }
            Datatype::VarLen {
                string: Some(_), ..
            } => "str".into(),
            Datatype::VarLen { base, .. } => format!("vlen:{}", base.dtype_name()),
            Datatype::Array { dims, base, .. } => {
                let d: Vec<String> = dims.iter().map(u64::to_string).collect();
                format!("array:{}[{}]", base.dtype_name(), d.join(","))
            }
            // Unsupported kinds returned above.
            Datatype::Time { .. } | Datatype::Bitfield { .. } | Datatype::Unsupported { .. } => {
                "unsupported".into()
            }
        }
    }
}

/// A NUL-terminated name, padded with NULs to a multiple of 8 bytes before version 3.
fn name(cur: &mut Cursor<'_>, version: u8) -> Result<String> {
    let raw = cur.cstr()?;
    if version < 3 {
        let used = raw.len() + 1;
        let padded = used.div_ceil(8) * 8;
        cur.skip(padded - used)?;
    }
    Ok(String::from_utf8_lossy(raw).into_owned())
}

fn order_bit(flags: u32) -> ByteOrder {
    if flags & 1 != 0 {
        ByteOrder::Big
    } else {
        ByteOrder::Little
    }
}

fn parse_at(cur: &mut Cursor<'_>, depth: usize) -> Result<Datatype> {
    let at = cur.offset();
    if depth > MAX_DEPTH {
        return Err(cur.err(format!("datatype nesting deeper than {MAX_DEPTH}")));
    }
    let head = cur.u32()?;
    let class = head & 0x0f;
    let version = ((head >> 4) & 0x0f) as u8;
    let flags = head >> 8;
    let size = cur.u32()?;
    let bad = |detail: String| Error::malformed("datatype message", at, detail);
    if !(1..=5).contains(&version) {
        return Err(bad(format!("unknown datatype version {version}")));
    }
    if size == 0 {
        return Err(bad("datatype size is zero".into()));
    }
    let bits_total = u64::from(size) * 8;
    let dt = match class {
        0 => {
            let bit_offset = cur.u16()?;
            let precision = cur.u16()?;
            check_bits(bit_offset, precision, bits_total).map_err(bad)?;
            Datatype::Integer {
                size,
                order: order_bit(flags),
                signed: flags & 0x08 != 0,
                bit_offset,
                precision,
            }
        }
        1 => {
            let vax = flags & 0x40 != 0;
            let norm = match (flags >> 4) & 0x03 {
                0 => Norm::None,
                1 => Norm::MsbSet,
                2 => Norm::Implied,
                n => return Err(bad(format!("unknown float normalization {n}"))),
            };
            let sign_pos = ((flags >> 8) & 0xff) as u8;
            let bit_offset = cur.u16()?;
            let precision = cur.u16()?;
            let exp_pos = cur.u8()?;
            let exp_size = cur.u8()?;
            let mant_pos = cur.u8()?;
            let mant_size = cur.u8()?;
            let exp_bias = cur.u32()?;
            check_bits(bit_offset, precision, bits_total).map_err(bad)?;
            let fits = |pos: u8, n: u8| n > 0 && u64::from(pos) + u64::from(n) <= bits_total;
            if u64::from(sign_pos) >= bits_total
                || !fits(exp_pos, exp_size)
                || !fits(mant_pos, mant_size)
            {
                return Err(bad("float bit fields outside the element".into()));
            }
            if vax {
                Datatype::Unsupported {
                    size,
                    what: "VAX float".into(),
                }
            } else {
                let bits = FloatBits {
                    bit_offset,
                    precision,
                    sign_pos,
                    exp_pos,
                    exp_size,
                    mant_pos,
                    mant_size,
                    exp_bias,
                    norm,
                };
                Datatype::Float {
                    size,
                    order: order_bit(flags),
                    bits,
                }
            }
        }
        2 => {
            let _precision = cur.u16()?;
            Datatype::Time {
                size,
                order: order_bit(flags),
            }
        }
        3 => Datatype::String {
            size,
            pad: StrPad::from_bits(flags & 0x0f),
            charset: Charset::from_bits((flags >> 4) & 0x0f),
        },
        4 => {
            let bit_offset = cur.u16()?;
            let precision = cur.u16()?;
            check_bits(bit_offset, precision, bits_total).map_err(bad)?;
            Datatype::Bitfield {
                size,
                order: order_bit(flags),
            }
        }
        5 => {
            let n = (flags & 0xff) as usize;
            let raw = cur.bytes(n)?;
            let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            let tag = String::from_utf8_lossy(raw.get(..end).unwrap_or(raw)).into_owned();
            Datatype::Opaque { size, tag }
        }
        6 => parse_compound(cur, version, flags, size, depth, at)?,
        7 => match flags & 0x0f {
            0 => Datatype::Reference {
                size,
                kind: RefKind::Object,
            },
            1 => Datatype::Reference {
                size,
                kind: RefKind::Region,
            },
            2 => Datatype::Unsupported {
                size,
                what: "object reference (new style)".into(),
            },
            3 => Datatype::Unsupported {
                size,
                what: "region reference (new style)".into(),
            },
            4 => Datatype::Unsupported {
                size,
                what: "attribute reference".into(),
            },
            t => return Err(bad(format!("unknown reference type {t}"))),
        },
        8 => {
            let nmembs = (flags & 0xffff) as usize;
            let base = parse_at(cur, depth + 1)?;
            if base.size() != size as usize {
                return Err(bad(format!(
                    "enum size {size} differs from its base type's size {}",
                    base.size()
                )));
            }
            // Each member needs at least one name byte: bound the allocation by the input.
            let mut names = Vec::with_capacity(nmembs.min(cur.remaining()));
            for _ in 0..nmembs {
                names.push(name(cur, version)?);
            }
            let mut members = Vec::with_capacity(names.len());
            for name in names {
                let value = cur.bytes(size as usize)?.to_vec();
                members.push(EnumMember { name, value });
            }
            Datatype::Enum {
                size,
                base: Box::new(base),
                members,
            }
        }
        9 => {
            let base = parse_at(cur, depth + 1)?;
            let string = match flags & 0x0f {
                0 => None,
                1 => Some((
                    StrPad::from_bits((flags >> 4) & 0x0f),
                    Charset::from_bits((flags >> 8) & 0x0f),
                )),
                t => return Err(bad(format!("unknown variable-length type {t}"))),
            };
            Datatype::VarLen {
                size,
                base: Box::new(base),
                string,
            }
        }
        10 => {
            let ndims = usize::from(cur.u8()?);
            if ndims > 32 {
                return Err(bad(format!("array rank {ndims} exceeds 32")));
            }
            if version < 3 {
                cur.skip(3)?;
            }
            let mut dims = Vec::with_capacity(ndims);
            for _ in 0..ndims {
                dims.push(u64::from(cur.u32()?));
            }
            if version < 3 {
                cur.skip(4 * ndims)?;
            }
            let base = parse_at(cur, depth + 1)?;
            let nelem = dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
            let expect = nelem.and_then(|n| n.checked_mul(base.size() as u64));
            if expect != Some(u64::from(size)) {
                return Err(bad(format!(
                    "array size {size} is not {dims:?} x {} bytes",
                    base.size()
                )));
            }
            Datatype::Array {
                size,
                dims,
                base: Box::new(base),
            }
        }
        11 => {
            let base = parse_at(cur, depth + 1)?;
            let _ = base;
            Datatype::Unsupported {
                size,
                what: "complex".into(),
            }
        }
        c => {
            if depth == 0 {
                // The message length bounds the properties we cannot parse.
                return Ok(Datatype::Unsupported {
                    size,
                    what: format!("datatype class {c}"),
                });
            }
            return Err(Error::unsupported(
                "datatype",
                format!("class {c} at offset {at}"),
            ));
        }
    };
    Ok(dt)
}

fn check_bits(offset: u16, precision: u16, bits_total: u64) -> Result<(), String> {
    if precision == 0 || u64::from(offset) + u64::from(precision) > bits_total {
        return Err(format!(
            "bit offset {offset} + precision {precision} do not fit in {bits_total} bits"
        ));
    }
    Ok(())
}

fn parse_compound(
    cur: &mut Cursor<'_>,
    version: u8,
    flags: u32,
    size: u32,
    depth: usize,
    at: u64,
) -> Result<Datatype> {
    let nmembs = (flags & 0xffff) as usize;
    if nmembs == 0 {
        return Err(Error::malformed(
            "datatype message",
            at,
            "compound without members",
        ));
    }
    let offset_bytes = usize::from(bytes_needed(u64::from(size)));
    let mut members: Vec<CompoundMember> = Vec::with_capacity(nmembs.min(cur.remaining()));
    for _ in 0..nmembs {
        let member_at = cur.offset();
        let name = name(cur, version)?;
        let offset = if version >= 3 {
            cur.uint(offset_bytes)? as u32
        } else {
            cur.u32()?
        };
        let mut v1_dims = Vec::new();
        if version == 1 {
            let ndims = usize::from(cur.u8()?);
            cur.skip(3 + 4 + 4)?; // reserved, permutation, reserved
            let mut dims = [0u32; 4];
            for d in &mut dims {
                *d = cur.u32()?;
            }
            if ndims > 4 {
                return Err(cur.err(format!("compound member array of rank {ndims} (max 4)")));
            }
            v1_dims = dims.iter().take(ndims).map(|&d| u64::from(d)).collect();
        }
        let mut dtype = parse_at(cur, depth + 1)?;
        if !v1_dims.is_empty() {
            let nelem = v1_dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
            let total = nelem
                .and_then(|n| n.checked_mul(dtype.size() as u64))
                .and_then(|t| u32::try_from(t).ok())
                .filter(|_| v1_dims.iter().all(|&d| d > 0))
                .ok_or_else(|| {
                    Error::malformed("datatype message", member_at, "bad compound member dims")
                })?;
            dtype = Datatype::Array {
                size: total,
                dims: v1_dims,
                base: Box::new(dtype),
            };
        }
        if u64::from(offset) + dtype.size() as u64 > u64::from(size) {
            return Err(Error::malformed(
                "datatype message",
                member_at,
                format!(
                    "compound member {name:?} at {offset} (+{} bytes) exceeds the size {size}",
                    dtype.size()
                ),
            ));
        }
        members.push(CompoundMember {
            name,
            offset,
            dtype,
        });
    }
    Ok(Datatype::Compound { size, members })
}
