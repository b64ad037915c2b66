//! `Handle`: an open HDF5 file, its groups, attributes and datasets, for the h5py-like
//! classes of the Python half.

use std::sync::{Arc, Mutex};

use h5format::read::datatype::{ByteOrder, Datatype, IeeeFloat};
use h5format::read::layout::Layout;
use h5format::value::numeric_source;
use h5format::{Dataset, Dataspace, ElemType, File, Object};
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3::IntoPyObjectExt;

use crate::{convert, error, pool};

/// An open file. `close()` drops it; later calls raise `ValueError`.
#[pyclass(module = "h5sparse._native", frozen)]
pub struct Handle {
    file: Mutex<Option<Arc<File>>>,
    /// The path or URL it was opened with (what pickling reopens).
    #[pyo3(get)]
    location: String,
}

/// Open a file by path or `http(s)://` / `s3://` URL (the one place files are opened).
pub fn open_location(location: &str) -> PyResult<File> {
    let file = File::open_location(location).map_err(|e| error::open(location, e))?;
    // External storage only in the file's own directory (none for a URL), like the CLI.
    let dir = file.base_dir().map(|d| d.to_path_buf());
    Ok(file.with_external_dirs(dir))
}

/// How a dataset's elements come back.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Numeric(ElemType),
    FixedString(usize),
    VarString,
    Other,
}

/// The primitive and byte order numeric data of `t` comes back as: `numeric_source`'s, and
/// for floats of other layouts than IEEE the float h5py reads them as (libhdf5 converts).
fn numeric(t: &Datatype) -> Option<(ElemType, ByteOrder)> {
    if let Some((prim, order, _)) = numeric_source(t) {
        return Some((prim, order));
    }
    match (t, t.float_target()?) {
        (Datatype::Float { order, .. }, IeeeFloat::F16) => Some((ElemType::F16, *order)),
        (Datatype::Float { order, .. }, IeeeFloat::F32) => Some((ElemType::F32, *order)),
        (Datatype::Float { order, .. }, IeeeFloat::F64) => Some((ElemType::F64, *order)),
        _ => None,
    }
}

/// Whether `t` is or contains a float of a non-IEEE layout h5py reads as a wider type.
fn has_widened_float(t: &Datatype) -> bool {
    match t {
        Datatype::Float { size, .. } => {
            t.ieee_float().is_none() && numeric(t).is_some_and(|(p, _)| p.size() != *size as usize)
        }
        Datatype::Compound { members, .. } => members.iter().any(|m| has_widened_float(&m.dtype)),
        Datatype::Array { base, .. } | Datatype::VarLen { base, .. } => has_widened_float(base),
        _ => false,
    }
}

fn kind_of(t: &Datatype) -> Kind {
    if let Some((prim, _)) = numeric(t) {
        return Kind::Numeric(prim);
    }
    match t {
        Datatype::String { size, .. } => Kind::FixedString(*size as usize),
        Datatype::VarLen {
            string: Some(_), ..
        } => Kind::VarString,
        _ => Kind::Other,
    }
}

/// The numpy dtype string h5py gives this type (`"O"` for what the binding returns as
/// Python objects).
fn numpy_dtype(t: &Datatype) -> String {
    if t.is_h5py_bool() {
        return "|b1".into();
    }
    match numeric(t) {
        Some((prim, order)) => {
            let size = prim.size();
            let kind = if prim.is_float() {
                'f'
            } else if prim.is_signed_integer() {
                'i'
            } else {
                'u'
            };
            let o = if size == 1 {
                '|'
            } else if order == ByteOrder::Big {
                '>'
            } else {
                '<'
            };
            format!("{o}{kind}{size}")
        }
        None => match t {
            Datatype::String { size, .. } => format!("|S{size}"),
            _ => "O".into(),
        },
    }
}

/// The type of a dataset as a tree the Python half turns into h5py's numpy dtype:
/// `("num", dtype)`, `("S", size)`, `("vstr", stored size)`, `("vlen", base, stored size)`,
/// `("array", dims, base)`,
/// `("compound", [(name, offset, member)], size)`, `("opaque", size)`, or
/// `("other", numpy dtype)` for what comes back as Python objects (references, …).
fn describe(py: Python<'_>, t: &Datatype) -> PyResult<Py<PyAny>> {
    if !matches!(t, Datatype::Float { .. }) && has_widened_float(t) {
        // Inside a compound, array or vlen its raw bytes cannot be handed out as h5py's type.
        return Err(error::format(h5format::Error::unsupported(
            "datatype",
            "a float of a non-IEEE layout that h5py widens, inside a composite type",
        )));
    }
    if t.is_h5py_bool() || numeric(t).is_some() {
        return ("num", numpy_dtype(t)).into_py_any(py);
    }
    match t {
        Datatype::String { size, .. } => ("S", *size).into_py_any(py),
        Datatype::VarLen {
            string: Some(_),
            size,
            ..
        } => ("vstr", *size).into_py_any(py),
        Datatype::VarLen { base, size, .. } => ("vlen", describe(py, base)?, *size).into_py_any(py),
        Datatype::Array { dims, base, .. } => {
            ("array", dims.clone(), describe(py, base)?).into_py_any(py)
        }
        Datatype::Compound { size, members } => {
            let m: Vec<(String, u32, Py<PyAny>)> = members
                .iter()
                .map(|m| Ok((m.name.clone(), m.offset, describe(py, &m.dtype)?)))
                .collect::<PyResult<_>>()?;
            ("compound", m, *size).into_py_any(py)
        }
        Datatype::Opaque { size, .. } => ("opaque", *size).into_py_any(py),
        _ => ("other", numpy_dtype(t)).into_py_any(py),
    }
}

impl Handle {
    pub fn file(&self) -> PyResult<Arc<File>> {
        self.file
            .lock()
            .map_err(|_| error::Error::new_err("file lock poisoned"))?
            .clone()
            .ok_or_else(|| pyo3::exceptions::PyValueError::new_err("the file is closed"))
    }

    fn dataset(&self, path: &str) -> PyResult<Dataset> {
        self.file()?.dataset(path).map_err(error::format)
    }
}

/// Fixed-length strings as numpy `S` elements, the way libhdf5 converts them for h5py:
/// space-padded strings get their trailing spaces turned into NULs.
fn fixed_strings(t: &Datatype, mut raw: Vec<u8>) -> Vec<u8> {
    use h5format::read::datatype::StrPad;
    if let Datatype::String {
        size,
        pad: StrPad::SpacePad,
        ..
    } = t
    {
        for elem in raw.chunks_mut((*size as usize).max(1)) {
            for b in elem.iter_mut().rev() {
                if *b != b' ' {
                    break;
                }
                *b = 0;
            }
        }
    }
    raw
}

/// Read a hyperslab as the Python value the binding hands on: a flat numpy array of the
/// native type (numbers), the raw bytes (fixed strings) or a list of `str`.
fn read_slab(
    py: Python<'_>,
    ds: &Dataset,
    start: &[u64],
    count: &[u64],
    step: &[u64],
) -> PyResult<Py<PyAny>> {
    let remote = ds.file().source().is_remote();
    macro_rules! typed {
        ($t:ty) => {{
            let v: Vec<$t> =
                pool::detach(py, remote, || ds.read_hyperslab::<$t>(start, count, step))
                    .map_err(error::format)?;
            v.into_pyarray(py).into_any().unbind()
        }};
    }
    Ok(match kind_of(ds.dtype()) {
        Kind::Numeric(p) => match p {
            // Bool: never reported by numeric_source (h5py's bool is its int8 base there).
            ElemType::I8 | ElemType::Bool => typed!(i8),
            ElemType::I16 => typed!(i16),
            ElemType::I32 => typed!(i32),
            ElemType::I64 => typed!(i64),
            ElemType::U8 => typed!(u8),
            ElemType::U16 => typed!(u16),
            ElemType::U32 => typed!(u32),
            ElemType::U64 => typed!(u64),
            ElemType::F16 | ElemType::F32 => typed!(f32),
            ElemType::F64 => typed!(f64),
        },
        Kind::FixedString(_) => {
            let raw = pool::detach(py, remote, || ds.read_hyperslab_raw(start, count, step))
                .map_err(error::format)?;
            PyBytes::new(py, &fixed_strings(ds.dtype(), raw))
                .into_any()
                .unbind()
        }
        Kind::VarString | Kind::Other => {
            let raw = pool::detach(py, remote, || ds.read_hyperslab_raw(start, count, step))
                .map_err(error::format)?;
            let n: u64 = count.iter().product();
            let file = ds.file();
            let values = h5format::value::decode(ds.dtype(), &raw, n as usize, file.sizes(), file)
                .map_err(error::format)?;
            let out: Vec<Py<PyAny>> = values
                .iter()
                .map(|v| convert::value(py, v))
                .collect::<PyResult<_>>()?;
            out.into_py_any(py)?
        }
    })
}

#[pymethods]
impl Handle {
    #[new]
    fn new(py: Python<'_>, location: &str) -> PyResult<Self> {
        let file = py.detach(|| open_location(location))?;
        Ok(Handle {
            file: Mutex::new(Some(Arc::new(file))),
            location: location.to_string(),
        })
    }

    /// Drop the file (idempotent).
    fn close(&self) {
        if let Ok(mut f) = self.file.lock() {
            *f = None;
        }
    }

    /// Whether the file is open.
    fn is_open(&self) -> bool {
        self.file.lock().map(|f| f.is_some()).unwrap_or(false)
    }

    /// `"group"`, `"dataset"`, `"datatype"`, or `None` when nothing is at `path`.
    fn kind(&self, py: Python<'_>, path: &str) -> PyResult<Option<&'static str>> {
        let file = self.file()?;
        match py.detach(|| file.object(path)) {
            Ok(Object::Group(_)) => Ok(Some("group")),
            Ok(Object::Dataset(_)) => Ok(Some("dataset")),
            Ok(Object::Datatype(_)) => Ok(Some("datatype")),
            Err(e) => match error::format(e) {
                err if err.is_instance_of::<pyo3::exceptions::PyKeyError>(py) => Ok(None),
                err => Err(err),
            },
        }
    }

    /// Member names of the group at `path`, in the order libhdf5 lists them.
    fn members(&self, py: Python<'_>, path: &str) -> PyResult<Vec<String>> {
        let file = self.file()?;
        py.detach(|| {
            let g = file.group(path)?;
            Ok::<_, h5format::Error>(g.links()?.iter().map(|l| l.name.clone()).collect())
        })
        .map_err(error::format)
    }

    /// The attributes of the object at `path`: `(name, numpy dtype, shape or None for a
    /// scalar, payload)` with the payload a list of values, or the raw bytes of fixed
    /// strings.
    #[allow(clippy::type_complexity)]
    fn attrs(
        &self,
        py: Python<'_>,
        path: &str,
    ) -> PyResult<Vec<(String, String, Option<Vec<u64>>, Py<PyAny>)>> {
        let file = self.file()?;
        let obj = py.detach(|| file.object(path)).map_err(error::format)?;
        let node = match &obj {
            Object::Group(g) => g.node(),
            Object::Dataset(d) => d.node(),
            Object::Datatype(t) => t.node(),
        };
        let attrs = py.detach(|| node.attributes()).map_err(error::format)?;
        let mut out = Vec::with_capacity(attrs.len());
        for a in attrs {
            let shape = match &a.space {
                Dataspace::Scalar => None,
                Dataspace::Simple { dims, .. } => Some(dims.clone()),
                Dataspace::Null => Some(vec![0]),
            };
            let n = a.space.num_elements().unwrap_or(0) as usize;
            let payload = match kind_of(&a.dtype) {
                Kind::FixedString(_) => PyBytes::new(py, &fixed_strings(&a.dtype, a.data.clone()))
                    .into_any()
                    .unbind(),
                _ if n == 0 => Vec::<i64>::new().into_py_any(py)?,
                _ => {
                    let values =
                        h5format::value::decode(&a.dtype, &a.data, n, file.sizes(), &*file)
                            .map_err(error::format)?;
                    let v: Vec<Py<PyAny>> = values
                        .iter()
                        .map(|v| convert::value(py, v))
                        .collect::<PyResult<_>>()?;
                    v.into_py_any(py)?
                }
            };
            out.push((a.name.clone(), numpy_dtype(&a.dtype), shape, payload));
        }
        Ok(out)
    }

    /// `(shape or None for a NULL dataspace, numpy dtype, chunks or None, compression or
    /// None, kind)` of the dataset at `path`; kind is `"numeric"`, `"fixed_str"`,
    /// `"vlen_str"` or `"other"`.
    #[allow(clippy::type_complexity)]
    fn info(
        &self,
        path: &str,
    ) -> PyResult<(
        Option<Vec<u64>>,
        String,
        Option<Vec<u64>>,
        Option<String>,
        &'static str,
    )> {
        let ds = self.dataset(path)?;
        let shape = match ds.space() {
            Dataspace::Null => None,
            _ => Some(ds.shape().to_vec()),
        };
        let chunks = match ds.layout() {
            Layout::Chunked { chunk_dims, .. } => Some(chunk_dims.clone()),
            _ => None,
        };
        // As h5py: gzip, lzf or szip when present (in that order), else "unknown" for any
        // filter outside its list (shuffle, fletcher32, scaleoffset and the three).
        let compression = ds.filters().and_then(|p| {
            let has = |id: u16| p.filters.iter().any(|f| f.id == id);
            [(1, "gzip"), (32000, "lzf"), (4, "szip")]
                .into_iter()
                .find(|&(id, _)| has(id))
                .map(|(_, name)| name.to_string())
                .or_else(|| {
                    p.filters
                        .iter()
                        .any(|f| !matches!(f.id, 1 | 2 | 3 | 4 | 6 | 32000))
                        .then(|| "unknown".to_string())
                })
        });
        let kind = match kind_of(ds.dtype()) {
            Kind::Numeric(_) => "numeric",
            Kind::FixedString(_) => "fixed_str",
            Kind::VarString => "vlen_str",
            Kind::Other => "other",
        };
        Ok((shape, numpy_dtype(ds.dtype()), chunks, compression, kind))
    }

    /// The type tree of the dataset at `path` (see `describe`).
    fn type_desc(&self, py: Python<'_>, path: &str) -> PyResult<Py<PyAny>> {
        let ds = self.dataset(path)?;
        describe(py, ds.dtype())
    }

    /// The stored bytes of the hyperslab `start + k * step` (`k < count`) of the dataset at
    /// `path`, element after element (for types numpy reads as they are stored).
    fn read_bytes(
        &self,
        py: Python<'_>,
        path: &str,
        start: Vec<u64>,
        count: Vec<u64>,
        step: Vec<u64>,
    ) -> PyResult<Py<PyAny>> {
        let ds = self.dataset(path)?;
        let remote = ds.file().source().is_remote();
        let raw = pool::detach(py, remote, || {
            let mut raw = ds.read_hyperslab_raw(&start, &count, &step)?;
            // Integers of reduced precision (n-bit types, also inside compounds and
            // arrays) as libhdf5 converts them.
            h5format::value::normalize_int_bits(ds.dtype(), &mut raw);
            Ok::<_, h5format::Error>(raw)
        })
        .map_err(error::format)?;
        Ok(PyBytes::new(py, &raw).into_any().unbind())
    }

    /// Read the hyperslab `start + k * step` (`k < count`) of the dataset at `path`,
    /// flattened (see `read_slab`).
    fn read(
        &self,
        py: Python<'_>,
        path: &str,
        start: Vec<u64>,
        count: Vec<u64>,
        step: Vec<u64>,
    ) -> PyResult<Py<PyAny>> {
        let ds = self.dataset(path)?;
        read_slab(py, &ds, &start, &count, &step)
    }
}
