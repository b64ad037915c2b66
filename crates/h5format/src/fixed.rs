//! Fixed-layout structures of the specification, declared with `binrw`.
//!
//! The headers whose fields the spec lists in a fixed table (superblocks, heap headers,
//! B-tree headers) are `#[derive(BinRead)]` types next to the code that uses them, with
//! fields in the spec's order and named as in its tables. Their widths of offsets and
//! lengths come in as arguments ([`Sizes`]); this module holds the parsers for those
//! variable-width fields and [`parse`], which runs a declaration over bytes read from the
//! file and maps `binrw`'s errors onto [`Error`] with the file offset of the failing field.
//! Variable parts (messages, records) and hot loops keep the hand-written [`crate::cursor`].

use crate::cursor::{Sizes, UNDEF_ADDR};
use crate::error::{Error, Result};
use binrw::{BinRead, BinResult};
use std::io::Cursor as IoCursor;

/// Read a little-endian unsigned integer of `width` bytes (1..=8).
fn uint<R: binrw::io::Read>(reader: &mut R, width: u8) -> BinResult<u64> {
    let mut buf = [0u8; 8];
    let n = usize::from(width.min(8));
    reader.read_exact(&mut buf[..n])?;
    Ok(u64::from_le_bytes(buf))
}

/// An address of the file's offset width; all bits set is the undefined address.
#[binrw::parser(reader)]
pub(crate) fn addr(sizes: Sizes) -> BinResult<u64> {
    let v = uint(reader, sizes.offset)?;
    let n = u32::from(sizes.offset);
    Ok(if n < 8 && v == (1u64 << (8 * n)) - 1 {
        UNDEF_ADDR
    } else {
        v
    })
}

/// A length of the file's length width.
#[binrw::parser(reader)]
pub(crate) fn length(sizes: Sizes) -> BinResult<u64> {
    uint(reader, sizes.length)
}

/// Parse the fixed structure `T` from `bytes`, whose first byte is at file offset `base`;
/// returns it with the number of bytes it took. Errors name `what` and the offset.
pub(crate) fn parse<T>(
    bytes: &[u8],
    base: u64,
    what: &'static str,
    args: T::Args<'_>,
) -> Result<(T, usize)>
where
    T: BinRead,
{
    let mut cur = IoCursor::new(bytes);
    match T::read_le_args(&mut cur, args) {
        Ok(v) => Ok((v, cur.position() as usize)),
        Err(e) => Err(map_error(e, bytes.len(), base, what)),
    }
}

fn map_error(e: binrw::Error, len: usize, base: u64, what: &'static str) -> Error {
    match e {
        binrw::Error::BadMagic { pos, .. } => Error::malformed(what, base + pos, "bad signature"),
        binrw::Error::AssertFail { pos, message } => Error::malformed(what, base + pos, message),
        binrw::Error::Io(_) => Error::malformed(
            what,
            base,
            format!("structure longer than the {len} bytes available"),
        ),
        binrw::Error::Custom { pos, err } => Error::malformed(what, base + pos, format!("{err}")),
        binrw::Error::Backtrace(bt) => map_error(*bt.error, len, base, what),
        other => Error::malformed(what, base, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use binrw::BinRead;

    #[derive(BinRead, Debug)]
    #[br(little, magic = b"TEST", import(sizes: Sizes))]
    struct Sample {
        #[br(assert(version == 0, "unknown version {}", version))]
        version: u8,
        #[br(parse_with = addr, args(sizes))]
        address: u64,
        #[br(parse_with = length, args(sizes))]
        size: u64,
    }

    #[test]
    fn widths_undefined_addresses_and_errors() {
        let sizes = Sizes {
            offset: 4,
            length: 2,
        };
        let bytes = b"TEST\0\xff\xff\xff\xff\x34\x12";
        let (s, used) = parse::<Sample>(bytes, 100, "sample", (sizes,)).unwrap();
        assert_eq!(
            (s.version, s.address, s.size, used),
            (0, UNDEF_ADDR, 0x1234, 11)
        );

        let e = parse::<Sample>(b"TEXT\0", 100, "sample", (sizes,)).unwrap_err();
        assert!(e.to_string().contains("signature"), "{e}");
        let e = parse::<Sample>(b"TEST\x01\0\0\0\0\0\0", 100, "sample", (sizes,)).unwrap_err();
        assert!(e.to_string().contains("unknown version 1"), "{e}");
        assert!(e.to_string().contains("offset 100"), "{e}");
        let e = parse::<Sample>(&bytes[..7], 100, "sample", (sizes,)).unwrap_err();
        assert!(e.to_string().contains("longer"), "{e}");
    }
}
