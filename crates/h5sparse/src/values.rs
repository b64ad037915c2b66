//! Element types and typed value buffers.

use crate::error::{Error, Result};
use std::ops::Range;

/// The element type of a stored 1-D array: `h5format`'s one numeric element type, used by
/// every layer (its methods: size, DTYPE string, index fitting, writer datatype).
pub use h5format::ElemType;

/// A typed buffer of values (the `data` of a sparse matrix).
///
/// There is no half-precision variant: `F16` arrays deliver their values as `F32`.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum Values {
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bool(Vec<bool>),
}

/// Apply `$body` to the vector inside any variant, binding it as `$v`.
macro_rules! each {
    ($val:expr, $v:ident => $body:expr) => {
        match $val {
            Values::I8($v) => $body,
            Values::I16($v) => $body,
            Values::I32($v) => $body,
            Values::I64($v) => $body,
            Values::U8($v) => $body,
            Values::U16($v) => $body,
            Values::U32($v) => $body,
            Values::U64($v) => $body,
            Values::F32($v) => $body,
            Values::F64($v) => $body,
            Values::Bool($v) => $body,
        }
    };
}

/// Apply `$body` to a pair of values of the same variant; mismatched variants give an error.
macro_rules! pair {
    ($a:expr, $b:expr, $x:ident, $y:ident => $body:expr) => {
        match ($a, $b) {
            (Values::I8($x), Values::I8($y)) => $body,
            (Values::I16($x), Values::I16($y)) => $body,
            (Values::I32($x), Values::I32($y)) => $body,
            (Values::I64($x), Values::I64($y)) => $body,
            (Values::U8($x), Values::U8($y)) => $body,
            (Values::U16($x), Values::U16($y)) => $body,
            (Values::U32($x), Values::U32($y)) => $body,
            (Values::U64($x), Values::U64($y)) => $body,
            (Values::F32($x), Values::F32($y)) => $body,
            (Values::F64($x), Values::F64($y)) => $body,
            (Values::Bool($x), Values::Bool($y)) => $body,
            _ => return Err(Error::Usage("mixing values of different types".into())),
        }
    };
}

impl Values {
    /// The values as little-endian element bytes (booleans as one byte each), ready for
    /// h5format's writer.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        use h5format::write::to_le_bytes;
        each!(self, v => to_le_bytes(v))
    }

    /// The writer datatype of these values.
    pub fn write_dtype(&self) -> h5format::write::DType {
        self.elem().write_dtype()
    }

    /// An empty buffer of the variant that carries `elem`.
    pub fn empty(elem: ElemType) -> Values {
        Values::with_capacity(elem, 0)
    }

    /// An empty buffer with room for `n` values (fails instead of aborting when too large).
    pub fn try_with_capacity(elem: ElemType, n: usize) -> Result<Values> {
        let mut v = Values::empty(elem);
        each!(&mut v, x => x.try_reserve_exact(n).map_err(|_| Error::TooLarge {
            what: "values buffer",
            requested: n as u64
        })?);
        Ok(v)
    }

    fn with_capacity(elem: ElemType, n: usize) -> Values {
        match elem {
            ElemType::I8 => Values::I8(Vec::with_capacity(n)),
            ElemType::I16 => Values::I16(Vec::with_capacity(n)),
            ElemType::I32 => Values::I32(Vec::with_capacity(n)),
            ElemType::I64 => Values::I64(Vec::with_capacity(n)),
            ElemType::U8 => Values::U8(Vec::with_capacity(n)),
            ElemType::U16 => Values::U16(Vec::with_capacity(n)),
            ElemType::U32 => Values::U32(Vec::with_capacity(n)),
            ElemType::U64 => Values::U64(Vec::with_capacity(n)),
            ElemType::F16 | ElemType::F32 => Values::F32(Vec::with_capacity(n)),
            ElemType::F64 => Values::F64(Vec::with_capacity(n)),
            ElemType::Bool => Values::Bool(Vec::with_capacity(n)),
        }
    }

    /// The element type of this variant.
    pub fn elem(&self) -> ElemType {
        match self {
            Values::I8(_) => ElemType::I8,
            Values::I16(_) => ElemType::I16,
            Values::I32(_) => ElemType::I32,
            Values::I64(_) => ElemType::I64,
            Values::U8(_) => ElemType::U8,
            Values::U16(_) => ElemType::U16,
            Values::U32(_) => ElemType::U32,
            Values::U64(_) => ElemType::U64,
            Values::F32(_) => ElemType::F32,
            Values::F64(_) => ElemType::F64,
            Values::Bool(_) => ElemType::Bool,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        each!(self, v => v.len())
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Append all values of `other` (same variant).
    pub fn append(&mut self, other: &Values) -> Result<()> {
        pair!(self, other, a, b => {
            a.try_reserve(b.len()).map_err(|_| Error::TooLarge { what: "values buffer", requested: (a.len() + b.len()) as u64 })?;
            a.extend_from_slice(b)
        });
        Ok(())
    }

    /// Append the values of `src` in `range` (same variant; out-of-range is an error).
    pub fn append_range(&mut self, src: &Values, range: Range<usize>) -> Result<()> {
        pair!(self, src, a, b => {
            let part = b.get(range.clone()).ok_or_else(|| Error::Usage(format!("range {range:?} outside values of length {}", b.len())))?;
            a.extend_from_slice(part)
        });
        Ok(())
    }

    /// The values at `positions`, in that order.
    pub fn gather(&self, positions: &[usize]) -> Result<Values> {
        let mut out = Values::try_with_capacity(self.elem(), positions.len())?;
        pair!(&mut out, self, o, s => {
            for &p in positions {
                o.push(*s.get(p).ok_or_else(|| Error::Usage(format!("position {p} outside values of length {}", s.len())))?);
            }
        });
        Ok(out)
    }

    /// The value at `i` as `f64` (integers converted, bool as 0/1); `None` past the end.
    pub fn get_f64(&self, i: usize) -> Option<f64> {
        match self {
            Values::Bool(v) => v.get(i).map(|&b| if b { 1.0 } else { 0.0 }),
            Values::F32(v) => v.get(i).map(|&x| x as f64),
            Values::F64(v) => v.get(i).copied(),
            Values::I8(v) => v.get(i).map(|&x| x as f64),
            Values::I16(v) => v.get(i).map(|&x| x as f64),
            Values::I32(v) => v.get(i).map(|&x| x as f64),
            Values::I64(v) => v.get(i).map(|&x| x as f64),
            Values::U8(v) => v.get(i).map(|&x| x as f64),
            Values::U16(v) => v.get(i).map(|&x| x as f64),
            Values::U32(v) => v.get(i).map(|&x| x as f64),
            Values::U64(v) => v.get(i).map(|&x| x as f64),
        }
    }

    /// All values converted to `f64`.
    pub fn to_f64(&self) -> Vec<f64> {
        (0..self.len()).filter_map(|i| self.get_f64(i)).collect()
    }

    /// Integer values converted to `i64` (floats are an error, u64 past i64::MAX too).
    pub fn to_i64(&self) -> Result<Vec<i64>> {
        fn conv<T: Copy + TryInto<i64> + std::fmt::Display>(v: &[T]) -> Result<Vec<i64>> {
            v.iter()
                .map(|&x| {
                    x.try_into()
                        .map_err(|_| Error::Usage(format!("value {x} does not fit in i64")))
                })
                .collect()
        }
        match self {
            Values::I8(v) => conv(v),
            Values::I16(v) => conv(v),
            Values::I32(v) => conv(v),
            Values::I64(v) => Ok(v.clone()),
            Values::U8(v) => conv(v),
            Values::U16(v) => conv(v),
            Values::U32(v) => conv(v),
            Values::U64(v) => conv(v),
            Values::Bool(v) => Ok(v.iter().map(|&b| b as i64).collect()),
            Values::F32(_) | Values::F64(_) => Err(Error::Usage(
                "floating-point values where integers were expected".into(),
            )),
        }
    }

    /// Integers `v` converted to the variant carrying `elem` (range-checked).
    pub fn from_i64(elem: ElemType, v: &[i64]) -> Result<Values> {
        fn conv<T: TryFrom<i64>>(v: &[i64], name: &str) -> Result<Vec<T>> {
            v.iter()
                .map(|&x| {
                    T::try_from(x)
                        .map_err(|_| Error::Usage(format!("value {x} does not fit in {name}")))
                })
                .collect()
        }
        let n = elem.dtype_str();
        Ok(match elem {
            ElemType::I8 => Values::I8(conv(v, n)?),
            ElemType::I16 => Values::I16(conv(v, n)?),
            ElemType::I32 => Values::I32(conv(v, n)?),
            ElemType::I64 => Values::I64(v.to_vec()),
            ElemType::U8 => Values::U8(conv(v, n)?),
            ElemType::U16 => Values::U16(conv(v, n)?),
            ElemType::U32 => Values::U32(conv(v, n)?),
            ElemType::U64 => Values::U64(conv(v, n)?),
            ElemType::F16 | ElemType::F32 => Values::F32(v.iter().map(|&x| x as f32).collect()),
            ElemType::F64 => Values::F64(v.iter().map(|&x| x as f64).collect()),
            ElemType::Bool => Values::Bool(v.iter().map(|&x| x != 0).collect()),
        })
    }

    /// The values in `range` as a new buffer.
    pub fn slice(&self, range: Range<usize>) -> Result<Values> {
        let mut out = Values::empty(self.elem());
        out.append_range(self, range)?;
        Ok(out)
    }
}

impl Values {
    /// The concatenation of `ranges` of this buffer (a single dispatch for many ranges).
    pub fn gather_ranges<I>(&self, ranges: I, total: usize) -> Result<Values>
    where
        I: IntoIterator<Item = Range<usize>>,
    {
        let mut out = Values::try_with_capacity(self.elem(), total)?;
        pair!(&mut out, self, o, s => {
            for r in ranges {
                let part = s.get(r.clone()).ok_or_else(|| Error::Usage(format!("range {r:?} outside values of length {}", s.len())))?;
                o.extend_from_slice(part);
            }
        });
        Ok(out)
    }
}

/// Apply `$body` to the vector of an integer variant (`$v`); other variants evaluate `$other`.
macro_rules! each_int {
    ($val:expr, $v:ident => $body:expr, _ => $other:expr) => {
        match $val {
            Values::I8($v) => $body,
            Values::I16($v) => $body,
            Values::I32($v) => $body,
            Values::I64($v) => $body,
            Values::U8($v) => $body,
            Values::U16($v) => $body,
            Values::U32($v) => $body,
            Values::U64($v) => $body,
            _ => $other,
        }
    };
}

/// Position of the first value of `v` outside `0..bound` (negative values included).
fn first_outside<T: Copy + Ord + Send + Sync + TryInto<u64>>(v: &[T], bound: u64) -> Option<usize> {
    use rayon::prelude::*;
    let bad = |x: &T| (*x).try_into().map_or(true, |u: u64| u >= bound);
    // The common case is that every value is fine: a block is fine when its minimum and
    // maximum are (a branch-free min/max pass the compiler vectorises), in parallel when large.
    let block_bad = |c: &[T]| match c.first() {
        Some(&f) => {
            let (lo, hi) = c.iter().fold((f, f), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            bad(&lo) || bad(&hi)
        }
        None => false,
    };
    let any = if v.len() >= 1 << 20 {
        v.par_chunks(1 << 16).any(block_bad)
    } else {
        v.chunks(1 << 16).any(block_bad)
    };
    if any {
        v.iter().position(bad)
    } else {
        None
    }
}

impl Values {
    /// Integer offsets or positions as the variant carrying `elem` when every value fits in
    /// it, otherwise as `I64` (the widening rule of selection results: the file's index type
    /// is kept unless a result value cannot be represented in it).
    pub fn from_positions(elem: ElemType, v: &[u64]) -> Values {
        let max = v.iter().copied().max().unwrap_or(0);
        let fits = |limit: u64| max <= limit;
        match elem {
            ElemType::I8 if fits(i8::MAX as u64) => {
                Values::I8(v.iter().map(|&x| x as i8).collect())
            }
            ElemType::I16 if fits(i16::MAX as u64) => {
                Values::I16(v.iter().map(|&x| x as i16).collect())
            }
            ElemType::I32 if fits(i32::MAX as u64) => {
                Values::I32(v.iter().map(|&x| x as i32).collect())
            }
            ElemType::U8 if fits(u8::MAX as u64) => {
                Values::U8(v.iter().map(|&x| x as u8).collect())
            }
            ElemType::U16 if fits(u16::MAX as u64) => {
                Values::U16(v.iter().map(|&x| x as u16).collect())
            }
            ElemType::U32 if fits(u32::MAX as u64) => {
                Values::U32(v.iter().map(|&x| x as u32).collect())
            }
            ElemType::U64 => Values::U64(v.to_vec()),
            _ => Values::I64(v.iter().map(|&x| x as i64).collect()),
        }
    }

    /// Position of the first integer value outside `0..bound`, `None` when all are inside
    /// (floating-point and boolean buffers report position 0).
    pub fn first_outside(&self, bound: u64) -> Option<usize> {
        each_int!(self, v => first_outside(v, bound), _ => Some(0))
    }

    /// The integer value at `i` as `u64` (`None` past the end, for negative values and for
    /// non-integer buffers).
    // One body for every integer width: the conversion is fallible for the signed ones.
    #[allow(clippy::unnecessary_fallible_conversions, clippy::useless_conversion)]
    pub fn get_u64(&self, i: usize) -> Option<u64> {
        each_int!(self, v => v.get(i).and_then(|&x| x.try_into().ok()), _ => None)
    }

    /// Integer values as `usize` positions (a copy; negative values are an error).
    #[allow(clippy::unnecessary_fallible_conversions, clippy::useless_conversion)]
    pub fn to_usize_vec(&self) -> Result<Vec<usize>> {
        each_int!(self, v => v
            .iter()
            .map(|&x| {
                let u: Option<u64> = x.try_into().ok();
                u.and_then(|u| usize::try_from(u).ok())
                    .ok_or_else(|| Error::Usage(format!("value {x} is not a position")))
            })
            .collect(),
            _ => Err(Error::Usage("positions must be integers".into())))
    }
}
