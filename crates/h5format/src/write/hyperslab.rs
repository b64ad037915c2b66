//! Copying n-dimensional boxes between row-major arrays, as runs of contiguous bytes; walking
//! the coordinates of a box; arrays filled with a fill value.

use crate::error::{Error, Result};

/// A row-major array: its shape and the corner of the box inside it.
pub(crate) struct Place<'a> {
    pub shape: &'a [u64],
    pub start: &'a [u64],
}

/// Call `f(src_offset, dst_offset, len)` (bytes) for every contiguous run of a box of `count`
/// elements of `elem` bytes, from `src` to `dst` (both of rank `count.len()`).
pub(crate) fn for_each_run(
    src: Place<'_>,
    dst: Place<'_>,
    count: &[u64],
    elem: u64,
    mut f: impl FnMut(u64, u64, u64) -> Result<()>,
) -> Result<()> {
    let rank = count.len();
    if src.shape.len() != rank
        || dst.shape.len() != rank
        || src.start.len() != rank
        || dst.start.len() != rank
    {
        return Err(Error::Usage("hyperslab rank mismatch".into()));
    }
    if count.contains(&0) {
        return Ok(());
    }
    // Fold trailing dimensions that are copied whole on both sides into the run.
    let mut run_dims = rank;
    let mut run = elem;
    while run_dims > 1 {
        let d = run_dims - 1;
        let whole = |p: &Place<'_>| p.start[d] == 0 && p.shape[d] == count[d];
        if whole(&src) && whole(&dst) {
            run *= count[d];
            run_dims -= 1;
        } else {
            break;
        }
    }
    if run_dims == 0 {
        return f(0, 0, run);
    }
    let last = run_dims - 1;
    run *= count[last];
    // Byte strides of dimensions 0..run_dims on both sides.
    let strides = |shape: &[u64]| {
        let mut s = vec![0u64; run_dims];
        let mut acc = elem;
        for d in (0..rank).rev() {
            if d < run_dims {
                s[d] = acc;
            }
            acc = acc.saturating_mul(shape[d]);
        }
        s
    };
    let ss = strides(src.shape);
    let ds = strides(dst.shape);
    let mut idx = vec![0u64; last];
    loop {
        let mut so = 0u64;
        let mut doff = 0u64;
        for d in 0..run_dims {
            let i = if d < last { idx[d] } else { 0 };
            so += (src.start[d] + i) * ss[d];
            doff += (dst.start[d] + i) * ds[d];
        }
        f(so, doff, run)?;
        // Odometer over the outer dimensions.
        let mut d = last;
        loop {
            if d == 0 {
                return Ok(());
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < count[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// Copy a box between two in-memory arrays.
pub(crate) fn copy_box(
    src: &[u8],
    sp: Place<'_>,
    dst: &mut [u8],
    dp: Place<'_>,
    count: &[u64],
    elem: u64,
) -> Result<()> {
    for_each_run(sp, dp, count, elem, |so, doff, len| {
        let (so, doff, len) = (so as usize, doff as usize, len as usize);
        let s = src.get(so..so + len);
        let d = dst.get_mut(doff..doff + len);
        match (s, d) {
            (Some(s), Some(d)) => {
                d.copy_from_slice(s);
                Ok(())
            }
            _ => Err(Error::Usage("hyperslab copy out of range".into())),
        }
    })
}

/// `len` bytes of the fill value `fill` repeated (zeros without one).
pub(crate) fn fill_pattern(fill: Option<&[u8]>, elem: usize, len: usize) -> Vec<u8> {
    match fill {
        Some(f) if f.iter().any(|&b| b != 0) && f.len() == elem => {
            f.iter().copied().cycle().take(len).collect()
        }
        _ => vec![0u8; len],
    }
}

/// Advance `coord` in the box `lo..=hi` (row-major); false when done.
pub(crate) fn next(coord: &mut [u64], lo: &[u64], hi: &[u64]) -> bool {
    for d in (0..coord.len()).rev() {
        if coord[d] < hi[d] {
            coord[d] += 1;
            return true;
        }
        coord[d] = lo[d];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_inner_box() {
        // 3x4 source, copy box [1..3, 1..3] into a 2x2 destination.
        let src: Vec<u8> = (0..12).collect();
        let mut dst = vec![0u8; 4];
        copy_box(
            &src,
            Place {
                shape: &[3, 4],
                start: &[1, 1],
            },
            &mut dst,
            Place {
                shape: &[2, 2],
                start: &[0, 0],
            },
            &[2, 2],
            1,
        )
        .unwrap();
        assert_eq!(dst, vec![5, 6, 9, 10]);
    }

    #[test]
    fn scalar_and_whole() {
        let mut dst = vec![0u8; 8];
        copy_box(
            &[7; 8],
            Place {
                shape: &[],
                start: &[],
            },
            &mut dst,
            Place {
                shape: &[],
                start: &[],
            },
            &[],
            8,
        )
        .unwrap();
        assert_eq!(dst, vec![7; 8]);
        let src: Vec<u8> = (0..6).collect();
        let mut dst = vec![0u8; 6];
        copy_box(
            &src,
            Place {
                shape: &[2, 3],
                start: &[0, 0],
            },
            &mut dst,
            Place {
                shape: &[2, 3],
                start: &[0, 0],
            },
            &[2, 3],
            1,
        )
        .unwrap();
        assert_eq!(dst, src);
    }
}
