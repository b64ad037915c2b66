//! Result buffers: large zeroed vectors asked to be backed by transparent huge pages.
//!
//! A full load writes gigabytes into freshly allocated memory; with 4 KiB pages every 4 KiB
//! of the result costs a page fault (780,000 of them for 3.2 GB), which on this kind of
//! machine is a third of a read from the page cache. Linux backs a region with 2 MiB pages
//! when asked (`madvise(MADV_HUGEPAGE)`; the default policy on many distributions is
//! "madvise"), as numpy does for its large arrays. The allocation itself stays a plain
//! zeroed `Vec` (the allocator maps fresh zero pages: no zeroing pass).
//!
//! The one `unsafe` here is the `madvise` call (an FFI boundary): it is given a page-aligned
//! range inside the vector's own allocation and only changes how the kernel backs those
//! pages — never their contents, size or ownership — so no Rust invariant depends on it, and
//! its failure (older kernels, THP disabled) is ignored. Setting the environment variable
//! `H5FORMAT_NO_HUGEPAGES` turns the advice off (for comparisons).

use bytemuck::Zeroable;

/// Below this many bytes the advice is not worth a system call.
const HUGE_MIN_BYTES: usize = 8 << 20;

/// `n` zeroed values; large ones backed by transparent huge pages where the OS allows.
///
/// The buffer the library's own full reads return; exposed so a caller (or a benchmark)
/// filling a large result itself gets the same page backing.
///
/// ```
/// let v = h5format::alloc::zeroed_vec::<u32>(1000);
/// assert!(v.len() == 1000 && v.iter().all(|&x| x == 0));
/// ```
pub fn zeroed_vec<T: Zeroable + Clone>(n: usize) -> Vec<T> {
    let v = vec![T::zeroed(); n];
    let bytes = n.saturating_mul(std::mem::size_of::<T>());
    if bytes >= HUGE_MIN_BYTES && std::env::var_os("H5FORMAT_NO_HUGEPAGES").is_none() {
        advise_huge(v.as_ptr() as usize, bytes);
    }
    v
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn advise_huge(start: usize, len: usize) {
    const PAGE: usize = 4096;
    let first = start.next_multiple_of(PAGE);
    let end = (start + len) & !(PAGE - 1);
    if end > first {
        // SAFETY: [first, end) lies inside the live allocation of the caller's vector (page
        // aligned inwards); MADV_HUGEPAGE only changes how those pages are backed, not their
        // contents or mapping, so no memory owned by Rust is invalidated.
        unsafe {
            libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_start: usize, _len: usize) {}

#[cfg(test)]
mod tests {
    #[test]
    fn zeroed_vectors_are_zero_at_any_size() {
        for n in [0usize, 1, 1000, (8 << 20) / 4 + 3] {
            let v = super::zeroed_vec::<u32>(n);
            assert_eq!(v.len(), n);
            assert!(v.iter().all(|&x| x == 0));
        }
    }
}
