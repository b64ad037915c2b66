//! Attribute values and attribute messages (0x000C, version 1).

use super::dataspace;
use super::datatype::{to_le_bytes, DType, Element};
use super::encode::{product, to_u16, usage, Put, Widths};
use crate::error::Result;

/// The value of an attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// Elements of a fixed-size type (numbers, bool, fixed strings, or a raw datatype):
    /// `shape` empty = scalar; `data` = little-endian element bytes, row-major.
    Data {
        /// Element type (not [`DType::VarString`]: use `String`/`Strings`).
        dtype: DType,
        /// Dimensions (empty = scalar).
        shape: Vec<u64>,
        /// Raw element bytes.
        data: Vec<u8>,
    },
    /// A scalar variable-length UTF-8 string (as anndata's `encoding-type`).
    String(String),
    /// A 1-D array of variable-length UTF-8 strings.
    Strings(Vec<String>),
    /// Variable-length UTF-8 strings of any shape (`strings` row-major, one per element).
    StringArray {
        /// Dimensions (empty = scalar).
        shape: Vec<u64>,
        /// The strings.
        strings: Vec<String>,
    },
    /// No value: a NULL dataspace of this type (h5py's `Empty(dtype)`).
    Empty(DType),
    /// References to objects of the file (resolved when it is finished): object references,
    /// or with `region`, dataset region references.
    References {
        /// Region references (else object references).
        region: bool,
        /// Dimensions (empty = scalar).
        shape: Vec<u64>,
        /// One reference per element.
        refs: Vec<Reference>,
    },
}

/// A reference value, by path: resolved to the object's address when the file is finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// The null reference.
    Null,
    /// The object (group, dataset or committed datatype) at this path of the new file.
    Object(String),
    /// A region of the dataset at `path`: `selection` is the serialized dataspace selection
    /// as libhdf5 stores it after the object address in the region's global heap object.
    Region {
        /// Path of the dataset.
        path: String,
        /// Serialized selection.
        selection: Vec<u8>,
    },
}

impl AttrValue {
    /// A scalar number (or bool).
    pub fn scalar<T: Element>(v: T) -> Self {
        AttrValue::Data {
            dtype: T::DTYPE,
            shape: vec![],
            data: to_le_bytes(&[v]),
        }
    }

    /// A 1-D array of numbers (or bools).
    pub fn array<T: Element>(v: &[T]) -> Self {
        AttrValue::Data {
            dtype: T::DTYPE,
            shape: vec![v.len() as u64],
            data: to_le_bytes(v),
        }
    }

    /// A scalar fixed-length string (NUL-padded, length = byte length, at least 1).
    pub fn fixed_string(s: &str, utf8: bool) -> Self {
        let mut data = s.as_bytes().to_vec();
        if data.is_empty() {
            data.push(0);
        }
        AttrValue::Data {
            dtype: DType::FixedString {
                len: data.len() as u32,
                utf8,
            },
            shape: vec![],
            data,
        }
    }

    /// An attribute with an already-encoded datatype message body.
    pub fn raw(datatype: Vec<u8>, shape: Vec<u64>, data: Vec<u8>) -> Self {
        AttrValue::Data {
            dtype: DType::Raw(datatype),
            shape,
            data,
        }
    }

    /// The variable-length strings this value stores in the global heap.
    pub(crate) fn vlen_strings(&self) -> Vec<&[u8]> {
        match self {
            AttrValue::String(s) => vec![s.as_bytes()],
            AttrValue::Strings(v) | AttrValue::StringArray { strings: v, .. } => {
                v.iter().map(|s| s.as_bytes()).collect()
            }
            AttrValue::Data { .. } | AttrValue::Empty(_) | AttrValue::References { .. } => vec![],
        }
    }

    /// Check sizes before the value is stored.
    pub(crate) fn validate(&self) -> Result<()> {
        match self {
            AttrValue::Data { dtype, shape, data } => {
                if shape.len() > 32 {
                    return Err(usage(format!(
                        "attribute rank {} over HDF5's maximum of 32",
                        shape.len()
                    )));
                }
                if dtype.is_vlen() {
                    return Err(usage(
                        "use AttrValue::String(s) for variable-length strings",
                    ));
                }
                if dtype.is_reference() {
                    return Err(usage("use AttrValue::References for references"));
                }
                dtype.encode()?;
                let want = product(shape)?.saturating_mul(dtype.size()? as u64);
                if want != data.len() as u64 {
                    return Err(usage(format!(
                        "attribute of shape {shape:?} needs {want} bytes, got {}",
                        data.len()
                    )));
                }
                Ok(())
            }
            AttrValue::String(s) => check_len(s),
            AttrValue::Strings(v) => v.iter().try_for_each(|s| check_len(s)),
            AttrValue::StringArray { shape, strings } => {
                if shape.len() > 32 {
                    return Err(usage(format!(
                        "attribute rank {} over HDF5's maximum of 32",
                        shape.len()
                    )));
                }
                if product(shape)? != strings.len() as u64 {
                    return Err(usage(format!(
                        "{} strings for an attribute of shape {shape:?}",
                        strings.len()
                    )));
                }
                strings.iter().try_for_each(|s| check_len(s))
            }
            AttrValue::Empty(dtype) => dtype.encode().map(|_| ()),
            AttrValue::References { shape, refs, .. } => {
                if product(shape)? != refs.len() as u64 {
                    return Err(usage(format!(
                        "{} references for an attribute of shape {shape:?}",
                        refs.len()
                    )));
                }
                Ok(())
            }
        }
    }

    /// Encode the attribute message; `refs` are the heap references of its strings.
    pub(crate) fn message(&self, name: &str, refs: &[[u8; 16]]) -> Result<Vec<u8>> {
        let (dtype, space, data) = match self {
            AttrValue::Data { dtype, shape, data } => (
                dtype.encode()?,
                dataspace::encode(shape, None),
                data.clone(),
            ),
            AttrValue::String(_) => (
                DType::VarString.encode()?,
                dataspace::encode(&[], None),
                narrow(refs),
            ),
            AttrValue::Strings(v) => (
                DType::VarString.encode()?,
                dataspace::encode(&[v.len() as u64], None),
                narrow(refs),
            ),
            AttrValue::StringArray { shape, .. } => (
                DType::VarString.encode()?,
                dataspace::encode(shape, None),
                refs.concat(),
            ),
            AttrValue::Empty(dtype) => (dtype.encode()?, dataspace::encode_null(), Vec::new()),
            AttrValue::References {
                region,
                shape,
                refs,
            } => {
                let t = if *region {
                    DType::RegionRef
                } else {
                    DType::ObjectRef
                };
                let zeros = vec![0u8; refs.len() * t.size()?];
                (t.encode()?, dataspace::encode(shape, None), zeros)
            }
        };
        if name.is_empty() || name.contains('\0') {
            return Err(usage(format!("bad attribute name {name:?}")));
        }
        encode_message(name, &dtype, &space, &data)
    }
}

/// An attribute message (version 1) from its parts: the datatype and dataspace message
/// bodies and the raw value bytes.
pub(crate) fn encode_message(
    name: &str,
    dtype: &[u8],
    space: &[u8],
    data: &[u8],
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64 + data.len());
    out.put_u8(1);
    out.put_u8(0);
    out.put_u16(to_u16(name.len() + 1, "attribute name length")?);
    out.put_u16(to_u16(dtype.len(), "attribute datatype size")?);
    out.put_u16(to_u16(space.len(), "attribute dataspace size")?);
    out.extend_from_slice(name.as_bytes());
    out.put_u8(0);
    out.pad_to(8);
    out.extend_from_slice(dtype);
    out.pad_to(8);
    out.extend_from_slice(space);
    out.pad_to(8);
    out.extend_from_slice(data);
    Ok(out)
}

/// Heap references as the current file stores them ([`Widths::narrow_ref`]).
fn narrow(refs: &[[u8; 16]]) -> Vec<u8> {
    let w = Widths::current();
    refs.iter().flat_map(|r| w.narrow_ref(r)).collect()
}

fn check_len(s: &str) -> Result<()> {
    u32::try_from(s.len())
        .map(|_| ())
        .map_err(|_| usage("string longer than 4 GiB"))
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> Self {
        AttrValue::String(s.to_string())
    }
}

impl From<String> for AttrValue {
    fn from(s: String) -> Self {
        AttrValue::String(s)
    }
}

impl From<Vec<String>> for AttrValue {
    fn from(v: Vec<String>) -> Self {
        AttrValue::Strings(v)
    }
}

macro_rules! from_num {
    ($($t:ty),*) => {$(
        impl From<$t> for AttrValue {
            fn from(v: $t) -> Self {
                AttrValue::scalar(v)
            }
        }
        impl From<&[$t]> for AttrValue {
            fn from(v: &[$t]) -> Self {
                AttrValue::array(v)
            }
        }
    )*};
}
from_num!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, bool);
