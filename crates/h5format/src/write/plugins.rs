//! Registered filter plugins the writer applies under their registered ids: LZF (32000),
//! Blosc (32001), LZ4 (32004), bitshuffle (32008) and Zstandard (32015), with the client data
//! that h5py (LZF) and hdf5plugin store after their `set_local` callbacks, so libhdf5 with
//! those plugins reads our chunks (and `copy` keeps them):
//!
//! | filter | client data |
//! |---|---|
//! | LZF | filter revision 4, LZF version 0x105, chunk bytes |
//! | zstd | level (default 3) |
//! | LZ4 | block size in bytes (0: one block per chunk) |
//! | bitshuffle | 0, 4 (the plugin version), element size, block size (0: automatic), compression (0 none, 2 LZ4, 3 zstd) and for zstd its level |
//! | Blosc | 2, 2 (filter and format versions), element size, chunk bytes, level (default 5), shuffle (0/1 byte/2 bit; default 1), compressor (0 blosclz, 1 lz4 (default), 2 lz4hc, 3 snappy, 4 zlib, 5 zstd) |
//!
//! The fields `set_local` derives from the dataset (sizes) are filled in here; the others are
//! taken from what the caller gives, or defaulted as hdf5plugin defaults them. Plugins are
//! flagged optional, as libhdf5 registers them.

use super::encode::usage;
use crate::error::{Error, Result};
use crate::filter::{FilterInfo, ID_BITSHUFFLE, ID_BLOSC, ID_LZ4, ID_LZF, ID_ZSTD};

/// Whether the writer can apply the filter `id`.
pub fn writable(id: u16) -> bool {
    matches!(id, ID_LZF | ID_BLOSC | ID_LZ4 | ID_BITSHUFFLE | ID_ZSTD)
}

/// The filter as it is stored for a dataset of `elem`-byte elements and `chunk`-byte chunks:
/// client data completed as the plugin's `set_local` completes it.
pub(crate) fn complete(info: &FilterInfo, elem: u64, chunk: u64) -> Result<FilterInfo> {
    let cd = &info.client_data;
    let get = |i: usize, default: u32| cd.get(i).copied().unwrap_or(default);
    let elem32 = u32::try_from(elem).map_err(|_| usage("element size over 4 GiB"))?;
    let chunk32 = u32::try_from(chunk).map_err(|_| usage("chunk size over 4 GiB"))?;
    let client_data = match info.id {
        ID_LZF => vec![4, 0x105, chunk32],
        ID_ZSTD => vec![get(0, 3)],
        ID_LZ4 => vec![get(0, 0)],
        ID_BITSHUFFLE => {
            let compression = get(4, 0);
            let mut v = vec![get(0, 0), get(1, 4), elem32, get(3, 0), compression];
            if compression == 3 {
                v.push(get(5, 3));
            }
            v
        }
        ID_BLOSC => vec![2, 2, elem32, chunk32, get(4, 5), get(5, 1), get(6, 1)],
        id => {
            return Err(usage(format!(
                "filter {} (id {id}) cannot be written",
                info.short_name()
            )))
        }
    };
    let done = FilterInfo {
        id: info.id,
        name: None,
        optional: true,
        client_data,
    };
    let codec = done.codec()?;
    if !codec.can_encode() {
        return Err(Error::unsupported(
            "filter",
            format!("{} cannot be written", codec.describe()),
        ));
    }
    Ok(done)
}
