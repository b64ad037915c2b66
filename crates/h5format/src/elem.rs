//! [`ElemType`]: the numeric element types (and h5py's boolean), the one definition every
//! layer uses — the read side ([`value::numeric_source`](crate::value::numeric_source)), the
//! writer ([`DType::Elem`](crate::write::DType::Elem)) and `h5sparse` (`h5sparse::ElemType`).

/// A numeric element type: the integers of 1, 2, 4 and 8 bytes, IEEE binary16/32/64, and
/// h5py's boolean (an enum over int8 with `FALSE = 0`, `TRUE = 1`).
///
/// The read side never reports `Bool` ([`numeric_source`](crate::value::numeric_source) sees
/// the boolean enum's `I8` base); the writer and `h5sparse` use it for boolean arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElemType {
    /// Signed 8-bit integer.
    I8,
    /// Signed 16-bit integer.
    I16,
    /// Signed 32-bit integer.
    I32,
    /// Signed 64-bit integer.
    I64,
    /// Unsigned 8-bit integer.
    U8,
    /// Unsigned 16-bit integer.
    U16,
    /// Unsigned 32-bit integer.
    U32,
    /// Unsigned 64-bit integer.
    U64,
    /// IEEE half precision (read into `f32`: see [`value_type`](Self::value_type)).
    F16,
    /// IEEE single precision.
    F32,
    /// IEEE double precision.
    F64,
    /// h5py's boolean (int8 enum FALSE/TRUE), one byte per value.
    Bool,
}

impl ElemType {
    /// The integer type of `size` bytes and the given signedness (`None` for sizes other than
    /// 1, 2, 4 and 8).
    pub fn integer(size: u32, signed: bool) -> Option<ElemType> {
        Some(match (size, signed) {
            (1, true) => ElemType::I8,
            (2, true) => ElemType::I16,
            (4, true) => ElemType::I32,
            (8, true) => ElemType::I64,
            (1, false) => ElemType::U8,
            (2, false) => ElemType::U16,
            (4, false) => ElemType::U32,
            (8, false) => ElemType::U64,
            _ => return None,
        })
    }

    /// Size of one stored element in bytes.
    pub fn size(self) -> usize {
        match self {
            ElemType::I8 | ElemType::U8 | ElemType::Bool => 1,
            ElemType::I16 | ElemType::U16 | ElemType::F16 => 2,
            ElemType::I32 | ElemType::U32 | ElemType::F32 => 4,
            ElemType::I64 | ElemType::U64 | ElemType::F64 => 8,
        }
    }

    /// True for the float kinds.
    pub fn is_float(self) -> bool {
        matches!(self, ElemType::F16 | ElemType::F32 | ElemType::F64)
    }

    /// True for the integer types (not floats, not bool).
    pub fn is_integer(self) -> bool {
        !matches!(
            self,
            ElemType::F16 | ElemType::F32 | ElemType::F64 | ElemType::Bool
        )
    }

    /// True for the signed integer types.
    pub fn is_signed_integer(self) -> bool {
        matches!(
            self,
            ElemType::I8 | ElemType::I16 | ElemType::I32 | ElemType::I64
        )
    }

    /// The DTYPE string of the CLI spec (`i4`, `f8`, `bool`...).
    pub fn dtype_str(self) -> &'static str {
        match self {
            ElemType::I8 => "i1",
            ElemType::I16 => "i2",
            ElemType::I32 => "i4",
            ElemType::I64 => "i8",
            ElemType::U8 => "u1",
            ElemType::U16 => "u2",
            ElemType::U32 => "u4",
            ElemType::U64 => "u8",
            ElemType::F16 => "f2",
            ElemType::F32 => "f4",
            ElemType::F64 => "f8",
            ElemType::Bool => "bool",
        }
    }

    /// Whether this integer type can hold every value in `0..=max` (false for non-integers).
    pub fn holds(self, max: u64) -> bool {
        match self {
            ElemType::I8 => max <= i8::MAX as u64,
            ElemType::I16 => max <= i16::MAX as u64,
            ElemType::I32 => max <= i32::MAX as u64,
            ElemType::I64 => max <= i64::MAX as u64,
            ElemType::U8 => max <= u8::MAX as u64,
            ElemType::U16 => max <= u16::MAX as u64,
            ElemType::U32 => max <= u32::MAX as u64,
            ElemType::U64 => true,
            _ => false,
        }
    }

    /// The type of result positions up to `max`: `self` when it can hold them, else `I64`.
    pub fn index_for(self, max: u64) -> ElemType {
        if self.is_integer() && self.holds(max) {
            self
        } else {
            ElemType::I64
        }
    }

    /// The type in which values of this type are carried in memory: itself, except half
    /// floats, carried as `f32` (there is no `f16` Rust primitive; `h5sparse::Values` has no
    /// half-precision variant).
    pub fn value_type(self) -> ElemType {
        match self {
            ElemType::F16 => ElemType::F32,
            t => t,
        }
    }
}
