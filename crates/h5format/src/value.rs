//! Decoded values of any datatype (for dumps and attributes) and numeric conversion.
//!
//! [`decode`] turns raw elements into [`Value`]s following the rules of the `h5sparse` CLI
//! contract; [`convert`] / [`convert_into`] are the fast paths that turn numeric data of any
//! integer or IEEE float type, in either byte order, into a Rust primitive slice.

use crate::cursor::{Sizes, UNDEF_ADDR};
use crate::elem::ElemType;
use crate::error::{Error, Result};
use crate::read::datatype::{ByteOrder, Datatype, FloatBits, IeeeFloat, Norm, RefKind, StrPad};

/// One decoded element.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value (e.g. an attribute with a NULL dataspace).
    Null,
    /// h5py boolean.
    Bool(bool),
    /// A signed integer (or the value of a signed enum).
    Int(i64),
    /// An unsigned integer (or the value of an unsigned enum).
    UInt(u64),
    /// Any IEEE float, widened exactly to binary64.
    Float(f64),
    /// A string (fixed or variable length), padding removed.
    Str(String),
    /// Opaque bytes.
    Opaque(Vec<u8>),
    /// An array element (nested by dimensions) or a variable-length sequence.
    List(Vec<Value>),
    /// A compound element: members in file order.
    Compound(Vec<(String, Value)>),
    /// An object reference: the target's path, or `None` for a null reference.
    Ref(Option<String>),
    /// A value of a type this crate cannot decode.
    Unsupported,
}

/// What element decoding needs from the file: global-heap objects (vlen data) and the path of
/// an object header address (object references). The file implements it.
pub trait Resolver {
    /// The bytes of object `index` of the global heap collection at `collection_addr`.
    fn global_heap_object(&self, collection_addr: u64, index: u32) -> Result<Vec<u8>>;
    /// A path to the object whose header is at `addr`, or `None` if it has none.
    fn object_path(&self, addr: u64) -> Result<Option<String>>;
}

/// A [`Resolver`] for data without variable-length or reference elements: every lookup fails.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoResolver;

impl Resolver for NoResolver {
    fn global_heap_object(&self, collection_addr: u64, _index: u32) -> Result<Vec<u8>> {
        Err(Error::unsupported(
            "global heap",
            format!("no resolver for heap collection at {collection_addr}"),
        ))
    }
    fn object_path(&self, _addr: u64) -> Result<Option<String>> {
        Ok(None)
    }
}

fn short(what: &'static str, need: u64, have: usize) -> Error {
    Error::OutOfBounds {
        what,
        offset: 0,
        len: need,
        end: have as u64,
    }
}

/// Decode `count` elements of `dtype` stored back to back in `bytes`.
///
/// `sizes` gives the widths of addresses inside variable-length and reference elements;
/// `res` fetches what those point to. Lengths read from the data are checked against the
/// available bytes before anything is allocated.
pub fn decode(
    dtype: &Datatype,
    bytes: &[u8],
    count: usize,
    sizes: Sizes,
    res: &dyn Resolver,
) -> Result<Vec<Value>> {
    if dtype.unsupported_reason().is_some() {
        let need = dtype
            .size()
            .checked_mul(count)
            .filter(|&n| n <= bytes.len());
        if need.is_none() {
            return Err(short("data elements", u64::MAX, bytes.len()));
        }
        return Ok(vec![Value::Unsupported; count]);
    }
    let budget = Budgeted {
        res,
        left: std::cell::Cell::new(MAX_HEAP_BYTES_PER_DECODE),
    };
    decode_n(dtype, bytes, count, sizes, &budget)
}

/// Most bytes of global-heap objects one [`decode`] call fetches: heap objects can be
/// referenced many times (and nest), so without a bound a small hostile file could expand
/// into an unbounded number of values.
pub const MAX_HEAP_BYTES_PER_DECODE: u64 = 1 << 30;

/// A resolver that counts the heap bytes fetched against a budget.
struct Budgeted<'a> {
    res: &'a dyn Resolver,
    left: std::cell::Cell<u64>,
}

impl Resolver for Budgeted<'_> {
    fn global_heap_object(&self, collection_addr: u64, index: u32) -> Result<Vec<u8>> {
        let obj = self.res.global_heap_object(collection_addr, index)?;
        let left = self.left.get();
        let n = obj.len() as u64;
        if n > left {
            return Err(Error::TooLarge {
                what: "variable-length data",
                offset: collection_addr,
                requested: MAX_HEAP_BYTES_PER_DECODE - left + n,
                limit: MAX_HEAP_BYTES_PER_DECODE,
            });
        }
        self.left.set(left - n);
        Ok(obj)
    }
    fn object_path(&self, addr: u64) -> Result<Option<String>> {
        self.res.object_path(addr)
    }
}

fn decode_n(
    dtype: &Datatype,
    bytes: &[u8],
    count: usize,
    sizes: Sizes,
    res: &dyn Resolver,
) -> Result<Vec<Value>> {
    let size = dtype.size();
    if size == 0 {
        return Err(Error::Usage("cannot decode a datatype of size 0".into()));
    }
    let need = size
        .checked_mul(count)
        .ok_or_else(|| short("data elements", u64::MAX, bytes.len()))?;
    let data = bytes
        .get(..need)
        .ok_or_else(|| short("data elements", need as u64, bytes.len()))?;
    let mut out = Vec::with_capacity(count);
    for elem in data.chunks_exact(size) {
        out.push(decode_one(dtype, elem, sizes, res)?);
    }
    Ok(out)
}

/// Read an unsigned integer of `b.len()` (<= 8) bytes in the given order.
fn read_uint(b: &[u8], order: ByteOrder) -> u64 {
    match order {
        ByteOrder::Little => b.iter().rev().fold(0u64, |a, &x| (a << 8) | u64::from(x)),
        ByteOrder::Big => b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)),
    }
}

/// The integer in `b` (size <= 8) honouring bit offset and precision; `(value, signed)`.
fn int_bits(b: &[u8], order: ByteOrder, signed: bool, bit_offset: u16, precision: u16) -> i128 {
    let raw = read_uint(b, order);
    let total = (b.len() * 8) as u32;
    let off = u32::from(bit_offset).min(63);
    let prec = u32::from(precision).min(total.saturating_sub(off)).max(1);
    let v = if prec >= 64 {
        raw >> off
    } else {
        (raw >> off) & ((1u64 << prec) - 1)
    };
    if signed && (v >> (prec - 1)) & 1 == 1 {
        // Sign-extend from `prec` bits.
        i128::from(v) - (1i128 << prec)
    } else {
        i128::from(v)
    }
}

/// Rewrite, in place, every integer of reduced precision or with a bit offset in `raw`
/// (elements of `dtype` back to back, as stored — also inside compound, array and enum
/// types) the way libhdf5 converts it on reading: shifted down and sign-extended to its full
/// width, in its stored byte order; likewise every float of another layout than IEEE that
/// h5py reads as binary32/64 of the same width (into that format). Raw bytes handed to a
/// reader of the full-width type (numpy) then hold the values h5py shows. Other bytes are
/// left as they are.
pub fn normalize_int_bits(dtype: &Datatype, raw: &mut [u8]) {
    let size = dtype.size();
    if size == 0 || !has_partial_ints(dtype) {
        return;
    }
    for e in raw.chunks_exact_mut(size) {
        normalize_elem(dtype, e);
    }
}

fn has_partial_ints(t: &Datatype) -> bool {
    match t {
        Datatype::Integer {
            size,
            bit_offset,
            precision,
            ..
        } => *bit_offset != 0 || u32::from(*precision) != size * 8,
        Datatype::Float { size, .. } => same_width_layout(t, *size).is_some(),
        Datatype::Compound { members, .. } => members.iter().any(|m| has_partial_ints(&m.dtype)),
        Datatype::Array { base, .. } | Datatype::Enum { base, .. } => has_partial_ints(base),
        _ => false,
    }
}

/// For a float of another layout than IEEE that h5py reads as binary32/64 of its own width,
/// that format.
fn same_width_layout(t: &Datatype, size: u32) -> Option<IeeeFloat> {
    if t.ieee_float().is_some() {
        return None;
    }
    match t.float_target()? {
        k @ IeeeFloat::F32 if size == 4 => Some(k),
        k @ IeeeFloat::F64 if size == 8 => Some(k),
        _ => None,
    }
}

fn normalize_elem(t: &Datatype, b: &mut [u8]) {
    match t {
        Datatype::Integer {
            size,
            order,
            signed,
            bit_offset,
            precision,
        } => {
            let n = *size as usize;
            if matches!(n, 1 | 2 | 4 | 8) {
                if let Some(b) = b.get_mut(..n) {
                    // Two's complement of the value in n bytes (the truncation is the point).
                    let v = int_bits(b, *order, *signed, *bit_offset, *precision) as u64;
                    let bytes = v.to_le_bytes();
                    match order {
                        ByteOrder::Little => b.copy_from_slice(&bytes[..n]),
                        ByteOrder::Big => {
                            for (d, s) in b.iter_mut().zip(bytes[..n].iter().rev()) {
                                *d = *s;
                            }
                        }
                    }
                }
            }
        }
        Datatype::Float {
            size, order, bits, ..
        } => {
            let Some(kind) = same_width_layout(t, *size) else {
                return;
            };
            let v = float_bits_value(bits, b, *order);
            let bytes = match kind {
                IeeeFloat::F32 => u64::from((v as f32).to_bits()).to_le_bytes(),
                _ => v.to_bits().to_le_bytes(),
            };
            let n = (*size as usize).min(b.len());
            match order {
                ByteOrder::Little => b[..n].copy_from_slice(&bytes[..n]),
                ByteOrder::Big => {
                    for (d, s) in b[..n].iter_mut().zip(bytes[..n].iter().rev()) {
                        *d = *s;
                    }
                }
            }
        }
        Datatype::Compound { members, .. } => {
            for m in members {
                let at = m.offset as usize;
                if let Some(part) = b.get_mut(at..at.saturating_add(m.dtype.size())) {
                    normalize_elem(&m.dtype, part);
                }
            }
        }
        Datatype::Array { base, .. } => {
            let n = base.size();
            if n > 0 {
                for part in b.chunks_exact_mut(n) {
                    normalize_elem(base, part);
                }
            }
        }
        Datatype::Enum { base, .. } => normalize_elem(base, b),
        _ => {}
    }
}

fn int_value(dtype: &Datatype, b: &[u8]) -> Option<Value> {
    let Datatype::Integer {
        size,
        order,
        signed,
        bit_offset,
        precision,
    } = dtype
    else {
        return None;
    };
    if !matches!(size, 1 | 2 | 4 | 8) {
        return Some(Value::Unsupported);
    }
    let v = int_bits(b, *order, *signed, *bit_offset, *precision);
    Some(if *signed {
        i64::try_from(v).map_or(Value::Unsupported, Value::Int)
    } else {
        u64::try_from(v).map_or(Value::Unsupported, Value::UInt)
    })
}

/// Exact conversion of IEEE binary16 bits to binary64 (sign of zero, inf and NaN kept).
pub fn f16_to_f64(h: u16) -> f64 {
    let sign = u64::from(h >> 15) << 63;
    let exp = u64::from((h >> 10) & 0x1f);
    let mant = u64::from(h & 0x3ff);
    let bits = if exp == 0 {
        if mant == 0 {
            sign
        } else {
            // Subnormal: mant * 2^-24, exactly representable.
            let v = mant as f64 * f64::powi(2.0, -24);
            return if sign != 0 { -v } else { v };
        }
    } else if exp == 0x1f {
        sign | (0x7ff << 52) | (mant << 42)
    } else {
        sign | ((exp + 1023 - 15) << 52) | (mant << 42)
    };
    f64::from_bits(bits)
}

fn float_value(kind: IeeeFloat, b: &[u8], order: ByteOrder) -> f64 {
    let raw = read_uint(b, order);
    match kind {
        IeeeFloat::F16 => f16_to_f64(raw as u16),
        IeeeFloat::F32 => f64::from(f32::from_bits(raw as u32)),
        IeeeFloat::F64 => f64::from_bits(raw),
    }
}

/// Strip a fixed-length string's padding and decode it (invalid UTF-8 -> U+FFFD).
fn fixed_string(b: &[u8], pad: StrPad) -> String {
    let s = match pad {
        StrPad::NullTerm => b.split(|&c| c == 0).next().unwrap_or(b),
        StrPad::NullPad => trim_end(b, 0),
        StrPad::SpacePad => trim_end(b, b' '),
    };
    String::from_utf8_lossy(s).into_owned()
}

fn trim_end(b: &[u8], c: u8) -> &[u8] {
    let end = b.iter().rposition(|&x| x != c).map_or(0, |i| i + 1);
    b.get(..end).unwrap_or(b)
}

/// Read an address of `sizes.offset` bytes (little-endian) at `pos`; all ones -> UNDEF_ADDR.
fn addr_at(b: &[u8], pos: usize, sizes: Sizes) -> Result<u64> {
    let n = usize::from(sizes.offset);
    let raw = b
        .get(pos..pos + n)
        .filter(|_| n <= 8)
        .ok_or_else(|| short("address in data element", (pos + n) as u64, b.len()))?;
    let v = read_uint(raw, ByteOrder::Little);
    Ok(if n < 8 && v == (1u64 << (8 * n)) - 1 {
        UNDEF_ADDR
    } else {
        v
    })
}

fn u32_at(b: &[u8], pos: usize) -> Result<u32> {
    let raw = b
        .get(pos..pos + 4)
        .ok_or_else(|| short("data element", (pos + 4) as u64, b.len()))?;
    Ok(read_uint(raw, ByteOrder::Little) as u32)
}

/// Decode one element whose bytes are exactly `b` (`b.len() == dtype.size()`).
/// `x · 2^k` with a single rounding (at the end), for any `k`.
fn scale2(mut x: f64, mut k: i64) -> f64 {
    while k > 1000 {
        x *= f64::powi(2.0, 1000);
        k -= 1000;
    }
    while k < -1000 {
        x *= f64::powi(2.0, -1000);
        k += 1000;
    }
    x * f64::powi(2.0, k as i32)
}

/// The value of one element of a float type with any bit layout (sign, exponent and
/// mantissa fields at any positions, any bias and normalization; padding bits ignored), as
/// libhdf5's float-to-float conversion reads it: exponent and mantissa all zero is ±0;
/// exponent all ones is ±infinity with a zero mantissa (or, without an implied bit, one
/// whose only set bit is the leading one) and NaN otherwise; exponent zero (or no implied
/// bit) is `m · 2^(e − bias + 1 − mant_size)` (and, without an implied bit, a zero mantissa
/// under a nonzero exponent `2^(e − bias − mant_size)`, as libhdf5 reads it), else
/// `(2^mant_size + m) · 2^(e − bias − mant_size)` with the implied leading bit. Exact in
/// binary64 for every layout with a [`float_target`](Datatype::float_target).
pub fn float_bits_value(bits: &FloatBits, b: &[u8], order: ByteOrder) -> f64 {
    let raw = read_uint(&b[..b.len().min(8)], order);
    let field = |pos: u8, n: u8| -> u64 {
        let v = raw.checked_shr(u32::from(pos)).unwrap_or(0);
        if n >= 64 {
            v
        } else {
            v & ((1u64 << n) - 1)
        }
    };
    let negative = field(bits.sign_pos, 1) == 1;
    let e = field(bits.exp_pos, bits.exp_size);
    let m = field(bits.mant_pos, bits.mant_size);
    let e_ones = if bits.exp_size >= 64 {
        u64::MAX
    } else {
        (1u64 << bits.exp_size) - 1
    };
    let ms = i64::from(bits.mant_size);
    let leading_only = ms > 0 && m == 1u64 << (ms - 1).min(63);
    let v = if e == e_ones && (m == 0 || (bits.norm == Norm::None && leading_only)) {
        f64::INFINITY
    } else if e == e_ones {
        return f64::NAN;
    } else if m == 0 && e == 0 {
        0.0
    } else {
        let bias = i64::from(bits.exp_bias);
        let e = e as i64;
        if m == 0 && bits.norm != Norm::Implied {
            // libhdf5 looks for the leading one below the mantissa: 2^(e − bias − mant_size).
            scale2(1.0, e - bias - ms)
        } else if e == 0 || bits.norm != Norm::Implied {
            scale2(m as f64, e - bias + 1 - ms)
        } else {
            scale2((m as f64) + scale2(1.0, ms), e - bias - ms)
        }
    };
    if negative {
        -v
    } else {
        v
    }
}

fn decode_one(dtype: &Datatype, b: &[u8], sizes: Sizes, res: &dyn Resolver) -> Result<Value> {
    Ok(match dtype {
        Datatype::Integer { .. } => int_value(dtype, b).unwrap_or(Value::Unsupported),
        Datatype::Float { order, bits, .. } => match (dtype.ieee_float(), dtype.float_target()) {
            (Some(kind), _) => Value::Float(float_value(kind, b, *order)),
            (None, Some(_)) => Value::Float(float_bits_value(bits, b, *order)),
            (None, None) => Value::Unsupported,
        },
        Datatype::String { pad, .. } => Value::Str(fixed_string(b, *pad)),
        Datatype::Opaque { .. } => Value::Opaque(b.to_vec()),
        Datatype::Compound { members, .. } => {
            let mut out = Vec::with_capacity(members.len());
            for m in members {
                let start = m.offset as usize;
                let mb = b
                    .get(start..start.saturating_add(m.dtype.size()))
                    .ok_or_else(|| {
                        short("compound member", (start + m.dtype.size()) as u64, b.len())
                    })?;
                out.push((m.name.clone(), decode_one(&m.dtype, mb, sizes, res)?));
            }
            Value::Compound(out)
        }
        Datatype::Reference {
            kind: RefKind::Object,
            ..
        } => {
            let addr = addr_at(b, 0, sizes)?;
            if addr == 0 || addr == UNDEF_ADDR {
                Value::Ref(None)
            } else {
                Value::Ref(res.object_path(addr)?)
            }
        }
        Datatype::Enum { base, .. } => {
            let v = int_value(base, b).unwrap_or(Value::Unsupported);
            if dtype.is_h5py_bool() {
                match v {
                    Value::Int(i) => Value::Bool(i != 0),
                    other => other,
                }
            } else {
                v
            }
        }
        Datatype::VarLen { base, string, .. } => {
            let len = u32_at(b, 0)?;
            let addr = addr_at(b, 4, sizes)?;
            let index = u32_at(b, 4 + usize::from(sizes.offset))?;
            let base_size = if string.is_some() { 1 } else { base.size() };
            let need = (len as usize).checked_mul(base_size).ok_or_else(|| {
                Error::malformed("variable-length element", addr, "length overflows")
            })?;
            let obj = if len == 0 {
                Vec::new()
            } else {
                res.global_heap_object(addr, index)?
            };
            let data = obj.get(..need).ok_or_else(|| {
                Error::malformed(
                    "variable-length element",
                    addr,
                    format!(
                        "heap object {index} has {} bytes, the element needs {need}",
                        obj.len()
                    ),
                )
            })?;
            match string {
                Some(_) => {
                    // libhdf5 hands vlen strings to C as NUL-terminated: cut at the first NUL.
                    let s = data.split(|&c| c == 0).next().unwrap_or(data);
                    Value::Str(String::from_utf8_lossy(s).into_owned())
                }
                None => Value::List(decode_n(base, data, len as usize, sizes, res)?),
            }
        }
        Datatype::Array { dims, base, .. } => {
            let n = b.len() / base.size().max(1);
            let flat = decode_n(base, b, n, sizes, res)?;
            nest_values(flat, dims)
        }
        Datatype::Reference { .. }
        | Datatype::Time { .. }
        | Datatype::Bitfield { .. }
        | Datatype::Unsupported { .. } => Value::Unsupported,
    })
}

/// Nest a flat row-major list by `dims` (`[]` -> the single value itself).
fn nest_values(flat: Vec<Value>, dims: &[u64]) -> Value {
    fn build(it: &mut std::vec::IntoIter<Value>, dims: &[u64]) -> Value {
        match dims.split_first() {
            None => it.next().unwrap_or(Value::Null),
            Some((&d, rest)) => Value::List((0..d).map(|_| build(it, rest)).collect()),
        }
    }
    build(&mut flat.into_iter(), dims)
}

// ---------------------------------------------------------------------------------------
// Numeric conversion
// ---------------------------------------------------------------------------------------

/// How the elements of a numeric dataset are stored: primitive kind, byte order, and
/// `Some((bit_offset, precision))` for integers that do not use all their bits.
pub type NumericSource = (ElemType, ByteOrder, Option<(u16, u16)>);

/// The numeric storage of `dtype` (integers of 1/2/4/8 bytes, IEEE f16/f32/f64, and enums
/// over such integers, h5py's bool included), or `None` if it is not numeric.
pub fn numeric_source(dtype: &Datatype) -> Option<NumericSource> {
    match dtype {
        Datatype::Integer {
            size,
            order,
            signed,
            bit_offset,
            precision,
        } => {
            let p = ElemType::integer(*size, *signed)?;
            let full = *bit_offset == 0 && u32::from(*precision) == size * 8;
            Some((p, *order, (!full).then_some((*bit_offset, *precision))))
        }
        Datatype::Float { order, .. } => {
            let p = match dtype.ieee_float()? {
                IeeeFloat::F16 => ElemType::F16,
                IeeeFloat::F32 => ElemType::F32,
                IeeeFloat::F64 => ElemType::F64,
            };
            Some((p, *order, None))
        }
        Datatype::Enum { base, .. } => numeric_source(base),
        _ => None,
    }
}

/// A Rust primitive that numeric data converts to. Conversions follow Rust's `as` casts
/// (like numpy's `astype`): integers wrap, floats to integers saturate and NaN becomes 0.
pub trait Numeric: bytemuck::Pod + Send + Sync + 'static {
    /// The element type equal to `Self` (used for the copy fast path).
    const PRIM: ElemType;
    /// From a signed integer.
    fn from_i64(v: i64) -> Self;
    /// From an unsigned integer.
    fn from_u64(v: u64) -> Self;
    /// From a float.
    fn from_f64(v: f64) -> Self;
}

macro_rules! numeric {
    ($($t:ty => $p:ident),*) => {$(
        impl Numeric for $t {
            const PRIM: ElemType = ElemType::$p;
            #[inline(always)]
            fn from_i64(v: i64) -> Self { v as $t }
            #[inline(always)]
            fn from_u64(v: u64) -> Self { v as $t }
            #[inline(always)]
            fn from_f64(v: f64) -> Self { v as $t }
        }
    )*};
}
numeric!(i8 => I8, i16 => I16, i32 => I32, i64 => I64, u8 => U8, u16 => U16, u32 => U32,
         u64 => U64, f32 => F32, f64 => F64);

/// The tight conversion loop: `N`-byte source elements through `f`.
#[inline(always)]
fn each<T: Numeric, const N: usize>(src: &[u8], dst: &mut [T], f: impl Fn([u8; N]) -> T) {
    for (d, s) in dst.iter_mut().zip(src.chunks_exact(N)) {
        *d = f(s.try_into().unwrap_or([0; N]));
    }
}

/// Convert numeric elements of `dtype` in `src` into `dst` (`src.len()` must be
/// `dst.len() * dtype.size()`).
pub fn convert_into<T: Numeric>(dtype: &Datatype, src: &[u8], dst: &mut [T]) -> Result<()> {
    if let (Datatype::Float { bits, order, size }, None, Some(_)) =
        (dtype, dtype.ieee_float(), dtype.float_target())
    {
        // A float of another layout: each value as libhdf5 converts it.
        let n = *size as usize;
        if dst.len().checked_mul(n) != Some(src.len()) {
            return Err(Error::Usage(format!(
                "{} bytes of a {n}-byte float do not hold {} elements",
                src.len(),
                dst.len()
            )));
        }
        for (d, s) in dst.iter_mut().zip(src.chunks_exact(n)) {
            *d = T::from_f64(float_bits_value(bits, s, *order));
        }
        return Ok(());
    }
    let (prim, order, partial) = numeric_source(dtype)
        .ok_or_else(|| Error::Usage(format!("datatype {} is not numeric", dtype.dtype_name())))?;
    let need = dst.len().checked_mul(prim.size());
    if need != Some(src.len()) {
        return Err(Error::Usage(format!(
            "{} bytes of {} do not hold {} elements",
            src.len(),
            dtype.dtype_name(),
            dst.len()
        )));
    }
    if let Some((off, prec)) = partial {
        let signed = prim.is_signed_integer();
        for (d, s) in dst.iter_mut().zip(src.chunks_exact(prim.size())) {
            let v = int_bits(s, order, signed, off, prec);
            *d = if signed {
                T::from_i64(v as i64)
            } else {
                T::from_u64(v as u64)
            };
        }
        return Ok(());
    }
    if prim == T::PRIM && order == ByteOrder::NATIVE {
        bytemuck::cast_slice_mut::<T, u8>(dst).copy_from_slice(src);
        return Ok(());
    }
    let le = order == ByteOrder::Little;
    macro_rules! go {
        ($n:literal, $t:ty, $from:ident, $via:ty) => {
            if le {
                each::<T, $n>(src, dst, |a| T::$from(<$t>::from_le_bytes(a) as $via))
            } else {
                each::<T, $n>(src, dst, |a| T::$from(<$t>::from_be_bytes(a) as $via))
            }
        };
    }
    match prim {
        // Never reported by numeric_source (h5py's bool is its int8 base there).
        ElemType::I8 | ElemType::Bool => go!(1, i8, from_i64, i64),
        ElemType::I16 => go!(2, i16, from_i64, i64),
        ElemType::I32 => go!(4, i32, from_i64, i64),
        ElemType::I64 => go!(8, i64, from_i64, i64),
        ElemType::U8 => go!(1, u8, from_u64, u64),
        ElemType::U16 => go!(2, u16, from_u64, u64),
        ElemType::U32 => go!(4, u32, from_u64, u64),
        ElemType::U64 => go!(8, u64, from_u64, u64),
        ElemType::F16 => {
            if le {
                each::<T, 2>(src, dst, |a| T::from_f64(f16_to_f64(u16::from_le_bytes(a))))
            } else {
                each::<T, 2>(src, dst, |a| T::from_f64(f16_to_f64(u16::from_be_bytes(a))))
            }
        }
        ElemType::F32 => go!(4, f32, from_f64, f64),
        ElemType::F64 => go!(8, f64, from_f64, f64),
    }
    Ok(())
}

/// Convert numeric elements of `dtype` in `src` to a new vector.
pub fn convert<T: Numeric>(dtype: &Datatype, src: &[u8]) -> Result<Vec<T>> {
    let size = dtype.size().max(1);
    let mut out = vec![T::zeroed(); src.len() / size];
    convert_into(dtype, src, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::datatype::FloatBits;

    fn ieee(size: u32) -> Datatype {
        let (sign_pos, exp_size, mant_size, exp_bias) = match size {
            2 => (15, 5, 10, 15),
            4 => (31, 8, 23, 127),
            _ => (63, 11, 52, 1023),
        };
        Datatype::Float {
            size,
            order: ByteOrder::Little,
            bits: FloatBits {
                bit_offset: 0,
                precision: (size * 8) as u16,
                sign_pos,
                exp_pos: mant_size,
                exp_size,
                mant_pos: 0,
                mant_size,
                exp_bias,
                norm: Norm::Implied,
            },
        }
    }

    /// The general layout decoder agrees with the IEEE ones on IEEE layouts.
    #[test]
    fn any_layout_decoder_matches_ieee() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Some patterns with the exponent all zeros or all ones.
            let v = match i % 4 {
                0 => x & !(0x7ffu64 << 52) & !(0xffu64 << 23) & !(0x1fu64 << 10),
                1 => x | (0x7ffu64 << 52) | (0xffu64 << 23) | (0x1fu64 << 10),
                _ => x,
            };
            for (size, kind) in [
                (2, IeeeFloat::F16),
                (4, IeeeFloat::F32),
                (8, IeeeFloat::F64),
            ] {
                let t = ieee(size);
                let Datatype::Float { bits, .. } = &t else {
                    unreachable!()
                };
                let b = &v.to_le_bytes()[..size as usize];
                let want = float_value(kind, b, ByteOrder::Little);
                let got = float_bits_value(bits, b, ByteOrder::Little);
                assert!(
                    want.to_bits() == got.to_bits() || (want.is_nan() && got.is_nan()),
                    "{size} bytes {v:#x}: {got} != {want}"
                );
            }
        }
    }
}
