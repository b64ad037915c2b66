//! Global heap collections ("GCOL") holding variable-length string data.

use super::encode::Put;
use super::sink::Out;
use crate::error::Result;

/// Minimum collection size libhdf5 reads in one go.
const MIN_SIZE: usize = 4096;
/// Soft maximum size of one collection we build.
const TARGET_SIZE: usize = 1 << 20;

/// Store `strings` in as many collections as needed; returns one 16-byte reference
/// (length, collection address, object index) per string.
pub(crate) fn write_strings<S: AsRef<[u8]>>(out: &mut Out, strings: &[S]) -> Result<Vec<[u8; 16]>> {
    let objects: Vec<(u32, &[u8])> = strings
        .iter()
        .map(|s| (s.as_ref().len() as u32, s.as_ref()))
        .collect();
    write_objects(out, &objects)
}

/// Store the bytes of variable-length values, each with the length its reference records
/// (bytes for strings, elements for sequences); returns one 16-byte reference each.
pub(crate) fn write_objects(out: &mut Out, strings: &[(u32, &[u8])]) -> Result<Vec<[u8; 16]>> {
    let mut refs = Vec::with_capacity(strings.len());
    let mut start = 0;
    while start < strings.len() {
        // Take strings while the collection stays under the target size (at least one).
        let mut size = 16usize;
        let mut end = start;
        while let Some(s) = strings.get(end) {
            let obj = 16 + s.1.len().div_ceil(8) * 8;
            if end > start && (size + obj > TARGET_SIZE || end - start >= 65_534) {
                break;
            }
            size += obj;
            end += 1;
        }
        let batch = strings.get(start..end).unwrap_or_default();
        // Room for the free-space object, and at least the minimum size.
        let total = (size + 16).max(MIN_SIZE);
        let mut col = Vec::with_capacity(total);
        col.extend_from_slice(b"GCOL");
        col.put_u8(1);
        col.extend_from_slice(&[0; 3]);
        // Sizes in the file's width, each header padded to 8 bytes as libhdf5 lays them out.
        col.put_len(total as u64);
        col.pad_to(8);
        for (i, s) in batch.iter().enumerate() {
            let s = s.1;
            col.put_u16((i + 1) as u16);
            col.put_u16(0);
            col.put_u32(0);
            col.put_len(s.len() as u64);
            col.pad_to(8);
            col.extend_from_slice(s);
            col.pad_to(8);
        }
        let free = total - col.len();
        col.put_u16(0);
        col.put_u16(0);
        col.put_u32(0);
        col.put_len(free as u64);
        col.pad_to(8);
        col.resize(total, 0);
        let addr = out.append(&col)?;
        for (i, s) in batch.iter().enumerate() {
            let mut r = [0u8; 16];
            r[0..4].copy_from_slice(&s.0.to_le_bytes());
            r[4..12].copy_from_slice(&addr.to_le_bytes());
            r[12..16].copy_from_slice(&((i + 1) as u32).to_le_bytes());
            refs.push(r);
        }
        start = end;
    }
    Ok(refs)
}
