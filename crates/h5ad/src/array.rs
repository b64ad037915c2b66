//! In-memory N-D arrays: numbers or booleans ([`Dense`]) and strings ([`StringArray`]),
//! row-major, and the conversion of their values between element types. The leaves of the
//! model, below the matrices and elements that hold them.

use h5sparse::{ElemType, Values};

/// A dense N-D numeric (or boolean) array, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// Dimensions (empty for a scalar).
    pub shape: Vec<usize>,
    /// The elements, row-major; `values.len()` is the product of `shape`.
    pub values: Values,
}

/// A dense N-D array of strings, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct StringArray {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// The strings, row-major.
    pub values: Vec<String>,
    /// `Some(n)` when the file stores them as fixed-length strings of `n` bytes that anndata
    /// reads as a numpy `<U{n}` array (unencoded datasets of files before 0.7 and string
    /// fields of structured arrays); `None` for anndata's object arrays of `str`.
    pub width: Option<usize>,
}

/// Values converted to `elem` (numbers to numbers, booleans to 0/1).
pub(crate) fn convert_to(v: &Values, elem: ElemType) -> std::result::Result<Values, String> {
    if v.elem() == elem {
        return Ok(v.clone());
    }
    let f = || match v {
        Values::Bool(b) => b.iter().map(|&x| f64::from(u8::from(x))).collect(),
        v => v.to_f64(),
    };
    Ok(match elem {
        ElemType::F64 => Values::F64(f()),
        ElemType::F32 => Values::F32(f().into_iter().map(|x| x as f32).collect()),
        ElemType::Bool => Values::Bool(f().into_iter().map(|x| x != 0.0).collect()),
        e => {
            let ints: Vec<i64> = match v {
                Values::Bool(b) => b.iter().map(|&x| i64::from(x)).collect(),
                v => v.to_i64().map_err(|e| e.to_string())?,
            };
            Values::from_i64(e, &ints).map_err(|e| e.to_string())?
        }
    })
}
