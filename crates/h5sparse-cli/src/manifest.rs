//! `h5sparse manifest`: a kerchunk version-1 reference set for the datasets of a file.
//!
//! Every group becomes a Zarr v2 group (`.zgroup`, `.zattrs` with its HDF5 attributes) and
//! every dataset Zarr v2 can express becomes a Zarr v2 array (`.zarray`, `.zattrs`) whose
//! chunks are `[URL, offset, length]` references into the HDF5 file itself: fsspec's
//! reference file system and Zarr then read the file without any HDF5 library. Compact data
//! is inlined as `base64:` text. A dataset Zarr v2 cannot express (variable-length data,
//! references, a filter without a numcodecs equivalent, a chunk stored with a filter
//! skipped, ...) is left out and named in its parent's `.zattrs` under `h5sparse:skipped`.

use std::io::Write;

use h5format::filter::{FilterInfo, ID_BLOSC, ID_DEFLATE, ID_FLETCHER32, ID_SHUFFLE, ID_ZSTD};
use h5format::read::datatype::{ByteOrder, CompoundMember, IeeeFloat, StrPad};
use h5format::read::layout::Layout;
use h5format::{Dataset, Dataspace, Datatype, Error, File, LinkTarget, Node, Object};
use serde_json::{json, Map, Value as Json};

use crate::json::attribute_json;
use crate::UserError;

/// Key under which a group's `.zattrs` names the members left out.
pub const SKIPPED_KEY: &str = "h5sparse:skipped";

/// Run the command: print the reference set of `path` (default `/`) in `file`, with chunk
/// references pointing at `url` (default: `file` as given).
pub fn run(
    out: &mut impl Write,
    file: &str,
    path: Option<&str>,
    url: Option<&str>,
) -> Result<(), UserError> {
    let f = crate::open::open(file)?;
    let path = path.unwrap_or("/");
    let obj = f.object(path)?;
    let mut m = Manifest {
        file: &f,
        url: url.unwrap_or(file),
        base: f.source().base(),
        refs: Map::new(),
        ancestors: Vec::new(),
    };
    match &obj {
        Object::Dataset(d) => {
            if let Err(why) = m.dataset("", d)? {
                return Err(UserError(format!(
                    "{path}: a Zarr v2 array cannot express this dataset: {why}"
                )));
            }
        }
        _ => m.group("", &obj)?,
    }
    let doc = json!({"version": 1, "refs": Json::Object(m.refs)});
    serde_json::to_writer(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}

/// The reference set being built.
struct Manifest<'a> {
    file: &'a File,
    /// What chunk references point at.
    url: &'a str,
    /// Offset in the file of HDF5 address 0 (the user block's size).
    base: u64,
    refs: Map<String, Json>,
    /// Addresses of the groups being walked (a hard link back to one is not followed).
    ancestors: Vec<u64>,
}

/// A `.zarray` document and the chunk references (key, value) of one array.
type ZarrArray = (Json, Vec<(String, Json)>);

/// A JSON document stored as a reference: its text.
fn text(v: &Json) -> Json {
    Json::String(v.to_string())
}

impl Manifest<'_> {
    /// A group (or committed datatype, described as an empty group) at key prefix `prefix`.
    fn group(&mut self, prefix: &str, obj: &Object) -> Result<(), Error> {
        let node = obj.node();
        let mut attrs = attrs(self.file, node)?;
        let mut skipped = Vec::new();
        if let Object::Group(g) = obj {
            let addr = g.address();
            if !self.ancestors.contains(&addr) {
                self.ancestors.push(addr);
                for link in g.links()?.iter() {
                    if !matches!(link.target, LinkTarget::Hard(_)) {
                        continue;
                    }
                    let child = g.member(&link.name)?;
                    let key = format!("{prefix}{}/", link.name);
                    match &child {
                        Object::Dataset(d) => {
                            if self.dataset(&key, d)?.is_err() {
                                skipped.push(Json::String(link.name.clone()));
                            }
                        }
                        Object::Group(_) => self.group(&key, &child)?,
                        Object::Datatype(_) => {}
                    }
                }
                self.ancestors.pop();
            }
        }
        if !skipped.is_empty() {
            attrs.insert(SKIPPED_KEY.to_string(), Json::Array(skipped));
        }
        self.refs
            .insert(format!("{prefix}.zgroup"), text(&json!({"zarr_format": 2})));
        self.refs
            .insert(format!("{prefix}.zattrs"), text(&Json::Object(attrs)));
        Ok(())
    }

    /// A dataset at key prefix `prefix`: `Ok(Err(why))` when Zarr v2 cannot express it
    /// (nothing is added then).
    fn dataset(&mut self, prefix: &str, d: &Dataset) -> Result<Result<(), String>, Error> {
        let zarr = self.array(d).map_err(|e| e.in_object(d.path()))?;
        let (zarray, chunks) = match zarr {
            Ok(v) => v,
            Err(why) => return Ok(Err(why)),
        };
        let attrs = attrs(self.file, d.node())?;
        self.refs.insert(format!("{prefix}.zarray"), text(&zarray));
        self.refs
            .insert(format!("{prefix}.zattrs"), text(&Json::Object(attrs)));
        for (key, v) in chunks {
            self.refs.insert(format!("{prefix}{key}"), v);
        }
        Ok(Ok(()))
    }

    /// The `.zarray` document and the chunk references of `d`, or why Zarr v2 cannot
    /// express it.
    fn array(&self, d: &Dataset) -> Result<Result<ZarrArray, String>, Error> {
        let shape: Vec<u64> = match d.space() {
            Dataspace::Null => return Ok(Err("null dataspace".into())),
            Dataspace::Scalar => Vec::new(),
            Dataspace::Simple { dims, .. } => dims.clone(),
        };
        let dtype = match zarr_dtype(d.dtype()) {
            Ok(t) => t,
            Err(why) => return Ok(Err(why)),
        };
        if d.external_files()?.is_some() {
            return Ok(Err("raw data in external files".into()));
        }
        let fill = fill_value(d.dtype(), &d.fill_element());
        let mut filters = Vec::new();
        let mut refs = Vec::new();
        let whole = || -> Vec<u64> { shape.iter().map(|&n| n.max(1)).collect() };
        let zero_key = if shape.is_empty() {
            "0".to_string()
        } else {
            vec!["0"; shape.len()].join(".")
        };
        let n_bytes = d.byte_len()?;
        let chunks = match d.layout() {
            Layout::Virtual { .. } => return Ok(Err("virtual dataset".into())),
            Layout::Compact { data } => {
                if n_bytes > 0 {
                    let bytes = data.get(..n_bytes as usize).ok_or_else(|| {
                        Error::malformed("compact data", d.address(), "shorter than the dataset")
                    })?;
                    refs.push((zero_key, Json::String(format!("base64:{}", base64(bytes)))));
                }
                whole()
            }
            Layout::Contiguous { address, size } => {
                if n_bytes > 0 && *address != h5format::cursor::UNDEF_ADDR {
                    if *size < n_bytes {
                        return Err(Error::malformed(
                            "contiguous layout",
                            d.address(),
                            format!("{size} bytes stored for a dataset of {n_bytes}"),
                        ));
                    }
                    refs.push((zero_key, self.reference(*address, n_bytes)));
                }
                whole()
            }
            Layout::Chunked {
                chunk_dims,
                dont_filter_partial_edge,
                ..
            } => {
                if let Some(p) = d.filters() {
                    for f in &p.filters {
                        match numcodec(f, d.dtype().size()) {
                            Ok(c) => filters.push(c),
                            Err(why) => return Ok(Err(why)),
                        }
                    }
                }
                let partial_edge = shape
                    .iter()
                    .zip(chunk_dims)
                    .any(|(&n, &c)| c > 0 && n % c != 0);
                if *dont_filter_partial_edge && partial_edge && !filters.is_empty() {
                    return Ok(Err("partial edge chunks stored unfiltered".into()));
                }
                if n_bytes > 0 {
                    for loc in d.chunks()?.chunks()? {
                        if loc.filter_mask != 0 && !filters.is_empty() {
                            return Ok(Err(format!(
                                "chunk {:?} stored with filters skipped (mask {:#x})",
                                loc.scaled, loc.filter_mask
                            )));
                        }
                        let key = if shape.is_empty() {
                            "0".to_string()
                        } else {
                            let parts: Vec<String> =
                                loc.scaled.iter().map(|c| c.to_string()).collect();
                            parts.join(".")
                        };
                        refs.push((key, self.reference(loc.address, loc.size)));
                    }
                }
                chunk_dims.clone()
            }
        };
        let zarray = json!({
            "zarr_format": 2,
            "shape": shape,
            "chunks": chunks,
            "dtype": dtype,
            "fill_value": fill,
            "order": "C",
            "compressor": null,
            "filters": if filters.is_empty() { Json::Null } else { Json::Array(filters) },
        });
        Ok(Ok((zarray, refs)))
    }

    /// `[URL, offset, length]` of `len` bytes at HDF5 address `address`.
    fn reference(&self, address: u64, len: u64) -> Json {
        json!([self.url, self.base + address, len])
    }
}

/// The attributes of `node` as a JSON object (values as `dump --json` prints them).
fn attrs(file: &File, node: &Node) -> Result<Map<String, Json>, Error> {
    let mut m = Map::new();
    for a in node.attributes().map_err(|e| e.in_object(node.path()))? {
        let v = attribute_json(file, &a)
            .map_err(|e| e.in_object(&format!("{}@{}", node.path(), a.name)))?;
        m.insert(a.name.clone(), v);
    }
    Ok(m)
}

/// The numcodecs form of one HDF5 filter.
fn numcodec(f: &FilterInfo, elem_size: usize) -> Result<Json, String> {
    let cd = &f.client_data;
    Ok(match f.id {
        ID_DEFLATE => json!({"id": "zlib", "level": cd.first().copied().unwrap_or(6).min(9)}),
        ID_SHUFFLE => {
            let n = cd.first().map_or(elem_size, |&n| n as usize);
            json!({"id": "shuffle", "elementsize": n})
        }
        ID_FLETCHER32 => json!({"id": "fletcher32"}),
        ID_ZSTD => json!({"id": "zstd", "level": cd.first().map_or(0, |&l| l as i32)}),
        ID_BLOSC => {
            // Decoding reads everything from the blosc header; the rest is for encoding.
            let cname = match cd.get(6).copied().unwrap_or(0) {
                0 => "blosclz",
                1 => "lz4",
                2 => "lz4hc",
                3 => "snappy",
                4 => "zlib",
                5 => "zstd",
                c => return Err(format!("blosc compressor {c} unknown")),
            };
            json!({
                "id": "blosc",
                "cname": cname,
                "clevel": cd.get(4).copied().unwrap_or(5),
                "shuffle": cd.get(5).copied().unwrap_or(1),
                "blocksize": 0,
            })
        }
        _ => {
            return Err(format!(
                "filter {} has no numcodecs equivalent",
                f.short_name()
            ))
        }
    })
}

/// The Zarr v2 (numpy) dtype of `t`: a string, or a list for a compound.
fn zarr_dtype(t: &Datatype) -> Result<Json, String> {
    let order = |o: &ByteOrder, size: u32| {
        if size == 1 {
            '|'
        } else if *o == ByteOrder::Little {
            '<'
        } else {
            '>'
        }
    };
    if let Some(why) = t.unsupported_reason() {
        return Err(why);
    }
    Ok(match t {
        Datatype::Integer {
            size,
            order: o,
            signed,
            bit_offset,
            precision,
        } => {
            if *bit_offset != 0 || u32::from(*precision) != size * 8 {
                return Err(format!("{precision}-bit integer at bit {bit_offset}"));
            }
            let kind = if *signed { 'i' } else { 'u' };
            Json::String(format!("{}{kind}{size}", order(o, *size)))
        }
        Datatype::Float { size, order: o, .. } => {
            if t.ieee_float().is_none() {
                return Err("non-IEEE float".into());
            }
            Json::String(format!("{}f{size}", order(o, *size)))
        }
        Datatype::Enum { base, .. } if t.is_h5py_bool() => {
            let _ = base;
            Json::String("|b1".into())
        }
        Datatype::Enum { base, .. } => zarr_dtype(base)?,
        Datatype::String { pad, .. } if *pad == StrPad::SpacePad => {
            // HDF5 (h5py) strips the padding spaces when reading; Zarr would keep them.
            return Err("space-padded strings".into());
        }
        Datatype::String { size, .. } => Json::String(format!("|S{size}")),
        Datatype::Opaque { size, .. } => Json::String(format!("|V{size}")),
        Datatype::Compound { size, members } => {
            if let Some(c) = complex_dtype(*size, members) {
                return Ok(Json::String(c));
            }
            let mut ms: Vec<_> = members.iter().collect();
            ms.sort_by_key(|m| m.offset);
            let mut at = 0u64;
            let mut fields = Vec::new();
            for m in ms {
                if u64::from(m.offset) != at {
                    return Err("compound with padding".into());
                }
                at += m.dtype.size() as u64;
                fields.push(match &m.dtype {
                    Datatype::Array { dims, base, .. } => {
                        json!([m.name, zarr_dtype(base)?, dims])
                    }
                    other => json!([m.name, zarr_dtype(other)?]),
                });
            }
            if at != u64::from(*size) {
                return Err("compound with padding".into());
            }
            Json::Array(fields)
        }
        Datatype::VarLen { .. } => return Err("variable-length data".into()),
        Datatype::Reference { .. } => return Err("references".into()),
        Datatype::Array { .. } => return Err("array elements outside a compound".into()),
        other => return Err(other.dtype_name()),
    })
}

/// h5py's complex numbers: a compound of two IEEE floats of one type named `r` and `i`,
/// in that order and packed, is numpy's `c8`/`c16`.
fn complex_dtype(size: u32, members: &[CompoundMember]) -> Option<String> {
    let [r, i] = members else { return None };
    let (Datatype::Float { order: o, .. }, Datatype::Float { order: o2, .. }) =
        (&r.dtype, &i.dtype)
    else {
        return None;
    };
    let half = r.dtype.size() as u32;
    let ok = r.name == "r"
        && i.name == "i"
        && r.offset == 0
        && i.offset == half
        && size == 2 * half
        && o == o2
        && r.dtype.ieee_float().is_some()
        && r.dtype == i.dtype
        && matches!(half, 4 | 8);
    ok.then(|| {
        let bo = if *o == ByteOrder::Little { '<' } else { '>' };
        format!("{bo}c{size}")
    })
}

/// The Zarr v2 `fill_value` of the fill element `bytes` of type `t`.
fn fill_value(t: &Datatype, bytes: &[u8]) -> Json {
    let ordered = |o: &ByteOrder| -> Vec<u8> {
        let mut b = bytes.to_vec();
        if *o == ByteOrder::Big {
            b.reverse();
        }
        b
    };
    match t {
        Datatype::Enum { .. } if t.is_h5py_bool() => Json::Bool(bytes.iter().any(|&b| b != 0)),
        Datatype::Enum { base, .. } => fill_value(base, bytes),
        Datatype::Compound { size, members } if complex_dtype(*size, members).is_some() => {
            let half = bytes.len() / 2;
            json!([
                fill_value(&members[0].dtype, &bytes[..half]),
                fill_value(&members[1].dtype, &bytes[half..])
            ])
        }
        Datatype::Integer {
            size,
            order,
            signed,
            ..
        } => {
            let le = ordered(order);
            let mut wide = [0u8; 8];
            let n = (*size as usize).min(8).min(le.len());
            wide[..n].copy_from_slice(&le[..n]);
            if *signed && n > 0 && le[n - 1] & 0x80 != 0 {
                wide[n..].fill(0xff);
            }
            if *signed {
                json!(i64::from_le_bytes(wide))
            } else {
                json!(u64::from_le_bytes(wide))
            }
        }
        Datatype::Float { order, .. } => {
            let le = ordered(order);
            let v = match (t.ieee_float(), le.len()) {
                (Some(IeeeFloat::F64), 8) => {
                    f64::from_le_bytes(le[..8].try_into().unwrap_or([0; 8]))
                }
                (Some(IeeeFloat::F32), 4) => {
                    f64::from(f32::from_le_bytes(le[..4].try_into().unwrap_or([0; 4])))
                }
                (Some(IeeeFloat::F16), 2) => f16_to_f64(u16::from_le_bytes([le[0], le[1]])),
                _ => 0.0,
            };
            if v.is_nan() {
                json!("NaN")
            } else if v.is_infinite() {
                json!(if v > 0.0 { "Infinity" } else { "-Infinity" })
            } else {
                json!(v)
            }
        }
        _ => Json::String(base64(bytes)),
    }
}

/// An IEEE binary16 value.
fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let mant = f64::from(h & 0x3ff);
    sign * match exp {
        0 => mant * 2f64.powi(-24),
        31 if mant == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + mant / 1024.0) * 2f64.powi(e - 15),
    }
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= c.len() {
                s.push(char::from(A[(n >> shift & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        // RFC 4648 section 10 test vectors.
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn half_floats() {
        assert_eq!(f16_to_f64(0x3c00), 1.0);
        assert_eq!(f16_to_f64(0xc000), -2.0);
        assert!(f16_to_f64(0x7e00).is_nan());
        assert_eq!(f16_to_f64(0x0001), 2f64.powi(-24));
    }
}
