//! The filter pipeline: one module per filter behind one trait.
//!
//! A chunked dataset may carry a *Filter Pipeline* message (type 0x000B) listing the filters
//! applied, in order, to every chunk when it is written; reading undoes them last to first.
//! Each stored chunk has a *filter mask*: bit `i` set means filter `i` was skipped for that
//! chunk (an optional filter that failed, or a partial edge chunk left unfiltered).
//!
//! Every filter is a [`Codec`] built from its [`FilterInfo`] (id + client data). Decoding is
//! bounded: each step knows the largest output it may produce (derived from the chunk's
//! uncompressed size), so a crafted stream cannot make us allocate more than that.

use crate::cursor::Cursor;
use crate::error::{Error, Result};

pub mod bitshuffle;
pub mod blosc;
pub mod blosc2;
mod blosclz;
pub mod deflate;
pub mod fletcher32;
pub mod lz4;
pub mod lzf;
pub mod nbit;
pub mod scaleoffset;
pub mod shuffle;
pub mod szip;
pub mod zstd;

/// Filter id of deflate (zlib).
pub const ID_DEFLATE: u16 = 1;
/// Filter id of the byte shuffle.
pub const ID_SHUFFLE: u16 = 2;
/// Filter id of the Fletcher-32 checksum.
pub const ID_FLETCHER32: u16 = 3;
/// Filter id of szip (CCSDS 121.0-B adaptive entropy coding; read-only).
pub const ID_SZIP: u16 = 4;
/// Filter id of n-bit packing.
pub const ID_NBIT: u16 = 5;
/// Filter id of scale-offset.
pub const ID_SCALEOFFSET: u16 = 6;
/// Filter id of h5py's LZF.
pub const ID_LZF: u16 = 32000;
/// Filter id of the Blosc (version 1) plugin.
pub const ID_BLOSC: u16 = 32001;
/// Filter id of the LZ4 plugin.
pub const ID_LZ4: u16 = 32004;
/// Filter id of the bitshuffle plugin.
pub const ID_BITSHUFFLE: u16 = 32008;
/// Filter id of the Zstandard plugin.
pub const ID_ZSTD: u16 = 32015;
/// Filter id of the Blosc2 plugin.
pub const ID_BLOSC2: u16 = 32026;

/// What a filter step needs to know besides its input bytes.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// Size in bytes of one dataset element (the datatype size).
    pub elem_size: usize,
    /// Largest output the decode step may produce; anything more is an error.
    pub max_out: usize,
}

/// Error detail from a codec; the pipeline wraps it into [`Error::Filter`] with the filter id,
/// name and chunk address.
pub type CodecResult<T> = std::result::Result<T, String>;

/// One filter of the pipeline, both directions.
pub trait Codec {
    /// Undo the filter. The output must not exceed `ctx.max_out` bytes (checked while decoding,
    /// before allocating).
    fn decode(&self, input: Vec<u8>, ctx: &Ctx) -> CodecResult<Vec<u8>>;

    /// Undo the filter but produce only (at least) the first `needed` bytes where the codec can
    /// stop early; the default decodes everything.
    fn decode_prefix(&self, input: Vec<u8>, ctx: &Ctx, needed: usize) -> CodecResult<Vec<u8>> {
        let _ = needed;
        self.decode(input, ctx)
    }

    /// Apply the filter (for the writer).
    fn encode(&self, input: Vec<u8>, elem_size: usize) -> CodecResult<Vec<u8>>;

    /// Whether [`encode`](Self::encode) is implemented (a read-only codec says `false`, and
    /// writing through it is [`Error::Unsupported`], not a failure).
    fn can_encode(&self) -> bool {
        true
    }

    /// Largest encoded size for an input of `n` bytes (used to bound intermediate decode steps).
    fn max_encoded_len(&self, n: usize) -> usize;

    /// Short human-readable description with parameters, e.g. `deflate(4)`.
    fn describe(&self) -> String;
}

/// A generous bound for compressors: the input plus 1/8 plus 1 KiB of framing.
pub(crate) fn generous_bound(n: usize) -> usize {
    n.saturating_add(n / 8).saturating_add(1024)
}

/// One entry of the filter pipeline message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterInfo {
    /// Filter identification number (1..=255 predefined by HDF5, 256.. registered plugins).
    pub id: u16,
    /// Name stored in the message, if any.
    pub name: Option<String>,
    /// The filter is optional: a chunk it failed on was stored without it (mask bit set).
    pub optional: bool,
    /// The filter's parameters ("client data").
    pub client_data: Vec<u32>,
}

impl FilterInfo {
    /// A filter entry with the given id and client data, mandatory and unnamed.
    pub fn new(id: u16, client_data: Vec<u32>) -> Self {
        FilterInfo {
            id,
            name: None,
            optional: false,
            client_data,
        }
    }

    /// Deflate at `level` (0..=9), optional as libhdf5's `H5Pset_deflate` makes it.
    pub fn deflate(level: u32) -> Self {
        FilterInfo {
            id: ID_DEFLATE,
            name: None,
            optional: true,
            client_data: vec![level.min(9)],
        }
    }

    /// Byte shuffle of `elem_size`-byte elements, optional as libhdf5's `H5Pset_shuffle`.
    pub fn shuffle(elem_size: u32) -> Self {
        FilterInfo {
            id: ID_SHUFFLE,
            name: None,
            optional: true,
            client_data: vec![elem_size],
        }
    }

    /// Fletcher-32 checksum (mandatory, as libhdf5's `H5Pset_fletcher32`).
    pub fn fletcher32() -> Self {
        FilterInfo {
            id: ID_FLETCHER32,
            name: None,
            optional: false,
            client_data: Vec::new(),
        }
    }

    /// The filter's conventional name ("deflate", "lzf"...), or the stored name, or "filter N".
    pub fn short_name(&self) -> String {
        match known_name(self.id) {
            Some(n) => n.to_string(),
            None => match &self.name {
                Some(n) if !n.is_empty() => n.clone(),
                _ => format!("filter {}", self.id),
            },
        }
    }

    /// Build the codec implementing this filter; an unknown or unimplemented filter is
    /// [`Error::Unsupported`] naming it.
    pub fn codec(&self) -> Result<Box<dyn Codec>> {
        let cd = &self.client_data;
        let codec: Box<dyn Codec> = match self.id {
            ID_DEFLATE => Box::new(deflate::Deflate::from_client_data(cd)),
            ID_SHUFFLE => Box::new(shuffle::Shuffle::from_client_data(cd)),
            ID_FLETCHER32 => Box::new(fletcher32::Fletcher32),
            ID_SZIP => Box::new(szip::Szip::from_client_data(cd)),
            ID_NBIT => Box::new(nbit::Nbit::from_client_data(cd)),
            ID_SCALEOFFSET => Box::new(scaleoffset::ScaleOffset::from_client_data(cd)),
            ID_LZF => Box::new(lzf::Lzf::from_client_data(cd)),
            ID_ZSTD => Box::new(zstd::Zstd::from_client_data(cd)),
            ID_LZ4 => Box::new(lz4::Lz4::from_client_data(cd)),
            ID_BITSHUFFLE => Box::new(
                bitshuffle::Bitshuffle::from_client_data(cd)
                    .map_err(|d| Error::unsupported("filter", format!("bitshuffle: {d}")))?,
            ),
            ID_BLOSC => Box::new(blosc::Blosc::from_client_data(cd)),
            ID_BLOSC2 => Box::new(blosc2::Blosc2::from_client_data(cd)),
            _ => {
                return Err(Error::unsupported(
                    "filter",
                    format!("{} (id {}) is not implemented", self.short_name(), self.id),
                ))
            }
        };
        Ok(codec)
    }
}

/// Conventional names of the filters this crate knows about.
fn known_name(id: u16) -> Option<&'static str> {
    Some(match id {
        ID_DEFLATE => "deflate",
        ID_SHUFFLE => "shuffle",
        ID_FLETCHER32 => "fletcher32",
        ID_SZIP => "szip",
        ID_NBIT => "nbit",
        ID_SCALEOFFSET => "scaleoffset",
        ID_LZF => "lzf",
        ID_BLOSC => "blosc",
        ID_BLOSC2 => "blosc2",
        ID_LZ4 => "lz4",
        ID_BITSHUFFLE => "bitshuffle",
        ID_ZSTD => "zstd",
        _ => return None,
    })
}

/// The Filter Pipeline message (0x000B): the filters applied to every chunk, in write order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterPipeline {
    /// Filters in the order stored (applied in this order on write, reversed on read).
    pub filters: Vec<FilterInfo>,
}

/// Most filters a pipeline message may hold (the spec's limit).
const MAX_FILTERS: usize = 32;

impl FilterPipeline {
    /// A pipeline of the given filters.
    pub fn new(filters: Vec<FilterInfo>) -> Self {
        FilterPipeline { filters }
    }

    /// Parse the Filter Pipeline message (0x000B), versions 1 and 2 (v1 pads names to 8 bytes
    /// and odd client-data counts to 8 bytes; v2 omits the name for ids < 256).
    pub fn parse(cur: &mut Cursor<'_>) -> Result<Self> {
        let version = cur.u8()?;
        if version != 1 && version != 2 {
            return Err(cur.err(format!(
                "filter pipeline message version {version} (expected 1 or 2)"
            )));
        }
        let n = usize::from(cur.u8()?);
        if n > MAX_FILTERS {
            return Err(cur.err(format!("{n} filters, more than the limit of {MAX_FILTERS}")));
        }
        if version == 1 {
            cur.skip(6)?;
        }
        let mut filters = Vec::with_capacity(n);
        for _ in 0..n {
            let id = cur.u16()?;
            let has_name = version == 1 || id >= 256;
            let name_len = if has_name { usize::from(cur.u16()?) } else { 0 };
            let flags = cur.u16()?;
            let nvalues = usize::from(cur.u16()?);
            if version == 1 && name_len % 8 != 0 {
                return Err(cur.err(format!(
                    "filter {id}: name length {name_len} is not a multiple of 8"
                )));
            }
            let name = if name_len > 0 {
                let raw = cur.bytes(name_len)?;
                let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
                Some(String::from_utf8_lossy(&raw[..end]).into_owned())
            } else {
                None
            };
            if nvalues.saturating_mul(4) > cur.remaining() {
                return Err(cur.err(format!(
                    "filter {id}: {nvalues} client data values do not fit in the message"
                )));
            }
            let mut client_data = Vec::with_capacity(nvalues);
            for _ in 0..nvalues {
                client_data.push(cur.u32()?);
            }
            if version == 1 && nvalues % 2 == 1 {
                // Padding to a multiple of 8 bytes; tolerate its absence at the very end.
                cur.skip(4.min(cur.remaining()))?;
            }
            filters.push(FilterInfo {
                id,
                name,
                optional: flags & 1 != 0,
                client_data,
            });
        }
        Ok(FilterPipeline { filters })
    }

    /// Serialize as a Filter Pipeline message body of `version` 1 or 2 (the inverse of
    /// [`parse`](Self::parse); version 1 writes names padded to 8 bytes, version 2 writes names
    /// only for ids >= 256).
    pub fn to_message_bytes(&self, version: u8) -> Result<Vec<u8>> {
        if version != 1 && version != 2 {
            return Err(Error::unsupported(
                "filter pipeline message version",
                version,
            ));
        }
        if self.filters.len() > MAX_FILTERS {
            return Err(Error::Usage(format!(
                "{} filters, more than {MAX_FILTERS}",
                self.filters.len()
            )));
        }
        let mut out = vec![version, self.filters.len() as u8];
        if version == 1 {
            out.extend_from_slice(&[0; 6]);
        }
        for f in &self.filters {
            let too_big = |what: &str| Error::Usage(format!("filter {}: {what} too long", f.id));
            out.extend_from_slice(&f.id.to_le_bytes());
            let mut name = f.name.clone().unwrap_or_default().into_bytes();
            let with_name = version == 1 || f.id >= 256;
            if with_name {
                if !name.is_empty() || version == 2 {
                    name.push(0);
                }
                if version == 1 {
                    name.resize(name.len().div_ceil(8) * 8, 0);
                }
                out.extend_from_slice(
                    &u16::try_from(name.len())
                        .map_err(|_| too_big("name"))?
                        .to_le_bytes(),
                );
            }
            out.extend_from_slice(&u16::from(f.optional).to_le_bytes());
            let n = u16::try_from(f.client_data.len()).map_err(|_| too_big("client data"))?;
            out.extend_from_slice(&n.to_le_bytes());
            if with_name {
                out.extend_from_slice(&name);
            }
            for v in &f.client_data {
                out.extend_from_slice(&v.to_le_bytes());
            }
            if version == 1 && n % 2 == 1 {
                out.extend_from_slice(&[0; 4]);
            }
        }
        Ok(out)
    }

    /// `true` when the pipeline has no filters.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// Human-readable list for `ls -v`, e.g. `"shuffle, deflate(4), fletcher32"`.
    pub fn describe(&self) -> String {
        self.filters
            .iter()
            .map(|f| match f.codec() {
                Ok(c) => c.describe(),
                Err(_) => format!("{} (id {})", f.short_name(), f.id),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The filters active for a chunk with `filter_mask`, with their codecs and the largest
    /// output each decode step may produce, in write order.
    fn active(&self, filter_mask: u32, expected_len: usize) -> Result<Vec<Step<'_>>> {
        let mut steps: Vec<Step<'_>> = Vec::with_capacity(self.filters.len());
        let mut bound = expected_len;
        for (i, info) in self.filters.iter().enumerate() {
            if i < 32 && filter_mask & (1u32 << i) != 0 {
                continue;
            }
            let codec = info.codec()?;
            let next = codec.max_encoded_len(bound);
            steps.push(Step {
                info,
                codec,
                max_out: bound,
            });
            bound = next;
        }
        Ok(steps)
    }

    /// Undo the filters, last to first, skipping filter `i` when bit `i` of `filter_mask` is
    /// set. `expected_len` is the uncompressed chunk size in bytes: a step producing more than
    /// it may (deflate bombs) is an error, and so is a final output of any other length.
    /// `elem_size` is the datatype size; `chunk_addr` is only used in errors. A chunk with every
    /// filter masked is returned unchanged.
    pub fn decode(
        &self,
        chunk: Vec<u8>,
        filter_mask: u32,
        expected_len: usize,
        elem_size: usize,
        chunk_addr: u64,
    ) -> Result<Vec<u8>> {
        self.decode_impl(
            chunk,
            filter_mask,
            expected_len,
            elem_size,
            chunk_addr,
            None,
        )
    }

    /// Decode straight into `out` (exactly the chunk's decoded size) when the filters left to
    /// undo are deflate alone: returns `Ok(true)` when done, `Ok(false)` when this pipeline
    /// needs the buffered [`decode`](Self::decode) (the caller falls back).
    pub fn decode_into(
        &self,
        chunk: &[u8],
        filter_mask: u32,
        out: &mut [u8],
        chunk_addr: u64,
    ) -> Result<bool> {
        let steps = self.active(filter_mask, out.len())?;
        let [step] = steps.as_slice() else {
            return Ok(false);
        };
        if step.info.id != ID_DEFLATE {
            return Ok(false);
        }
        deflate::inflate_into(chunk, out).map_err(|detail| Error::Filter {
            id: step.info.id,
            name: step.info.short_name(),
            offset: chunk_addr,
            detail,
        })?;
        Ok(true)
    }

    /// Like [`decode`](Self::decode) but the caller needs only the first `needed` bytes of
    /// the chunk: when the final decode step can stop early (deflate, LZF), it does. Returns
    /// exactly `min(needed, expected_len)` bytes.
    pub fn decode_prefix(
        &self,
        chunk: Vec<u8>,
        filter_mask: u32,
        expected_len: usize,
        elem_size: usize,
        chunk_addr: u64,
        needed: usize,
    ) -> Result<Vec<u8>> {
        let needed = needed.min(expected_len);
        let mut out = self.decode_impl(
            chunk,
            filter_mask,
            expected_len,
            elem_size,
            chunk_addr,
            Some(needed),
        )?;
        out.truncate(needed);
        Ok(out)
    }

    fn decode_impl(
        &self,
        chunk: Vec<u8>,
        filter_mask: u32,
        expected_len: usize,
        elem_size: usize,
        chunk_addr: u64,
        prefix: Option<usize>,
    ) -> Result<Vec<u8>> {
        let steps = self.active(filter_mask, expected_len)?;
        let mut data = chunk;
        for (k, step) in steps.iter().enumerate().rev() {
            let ctx = Ctx {
                elem_size,
                max_out: step.max_out,
            };
            let last = k == 0;
            let fail = |detail: String| Error::Filter {
                id: step.info.id,
                name: step.info.short_name(),
                offset: chunk_addr,
                detail,
            };
            let input = std::mem::take(&mut data);
            data = match prefix {
                Some(needed) if last => step.codec.decode_prefix(input, &ctx, needed),
                _ => step.codec.decode(input, &ctx),
            }
            .map_err(fail)?;
            if data.len() > step.max_out {
                return Err(fail(format!(
                    "decoded {} bytes, more than the {} expected",
                    data.len(),
                    step.max_out
                )));
            }
            if last {
                let want = prefix.unwrap_or(expected_len);
                let short = match prefix {
                    Some(_) => data.len() < want,
                    None => data.len() != want,
                };
                if short {
                    return Err(fail(format!(
                        "decoded {} bytes, expected {}",
                        data.len(),
                        expected_len
                    )));
                }
            }
        }
        Ok(data)
    }

    /// Apply the filters in order (for the writer). Parameters come from each filter's client
    /// data (deflate level from `client_data[0]`, shuffle element size from `client_data[0]`
    /// or else `elem_size`, ...).
    pub fn encode(&self, data: Vec<u8>, elem_size: usize) -> Result<Vec<u8>> {
        let mut data = data;
        for info in &self.filters {
            let codec = info.codec()?;
            if !codec.can_encode() {
                return Err(Error::unsupported(
                    "filter",
                    format!("writing through {} (read-only here)", info.short_name()),
                ));
            }
            data = codec
                .encode(data, elem_size)
                .map_err(|detail| Error::Filter {
                    id: info.id,
                    name: info.short_name(),
                    offset: crate::cursor::UNDEF_ADDR,
                    detail: format!("encoding: {detail}"),
                })?;
        }
        Ok(data)
    }
}

/// One active filter of a chunk's pipeline.
struct Step<'a> {
    info: &'a FilterInfo,
    codec: Box<dyn Codec>,
    /// Largest output of this step's decode.
    max_out: usize,
}

#[cfg(test)]
mod tests;
