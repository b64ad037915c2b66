//! Result buffers: large zeroed vectors asked to be backed by transparent huge pages.
//!
//! A full load writes gigabytes into freshly allocated memory; with 4 KiB pages every 4 KiB
//! of the result costs a page fault (780,000 of them for 3.2 GB), which on this kind of
//! machine is a third of a read from the page cache. Linux backs a region with 2 MiB pages
//! when asked (`madvise(MADV_HUGEPAGE)`; the default policy on many distributions is
//! "madvise"), as numpy does for its large arrays. The allocation itself stays a plain
//! zeroed `Vec` (the allocator maps fresh zero pages: no zeroing pass). A result that a
//! decoder fills over seconds is also faulted in up front ([`output_vec`]).
//!
//! The one `unsafe` here is the `madvise` call (an FFI boundary): it is given a page-aligned
//! range inside the vector's own allocation and only changes how the kernel backs those
//! pages — never their contents, size or ownership — so no Rust invariant depends on it, and
//! its failure (older kernels, THP disabled) is ignored. Setting the environment variable
//! `H5FORMAT_NO_HUGEPAGES` turns the huge-page advice off, `H5FORMAT_NO_PREFAULT` the
//! faulting in (for comparisons).

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

/// `n` zeroed values about to be overwritten whole (the result of a full read): as
/// [`zeroed_vec`], and for large ones every page is faulted in up front, on every core of
/// the rayon pool, before the caller starts writing.
///
/// The kernel must zero each fresh page at its first touch either way; doing it in one
/// quick pass instead of spread over a multi-second decode matters on virtual machines that
/// hand free guest memory back to the host (virtio free page reporting): memory freed by
/// the previous result and not reused within a second or two goes back to the host and
/// costs a host fault on top of the zeroing when touched again. Measured here on a full
/// load of 3.2 GB: zeroing went from a quarter of the load's CPU time to a tenth. Where the
/// advice is unavailable (older kernels, other systems) this is [`zeroed_vec`].
///
/// ```
/// let v = h5format::alloc::output_vec::<f32>(1 << 22);
/// assert!(v.len() == 1 << 22 && v.iter().all(|&x| x == 0.0));
/// ```
pub fn output_vec<T: Zeroable + Clone>(n: usize) -> Vec<T> {
    let v = zeroed_vec::<T>(n);
    let bytes = n.saturating_mul(std::mem::size_of::<T>());
    if bytes >= HUGE_MIN_BYTES && std::env::var_os("H5FORMAT_NO_PREFAULT").is_none() {
        populate(v.as_ptr() as usize, bytes);
    }
    v
}

/// Fault `[start, start + len)` in for writing, in pieces on the rayon pool.
#[cfg(target_os = "linux")]
fn populate(start: usize, len: usize) {
    use rayon::prelude::*;
    const PIECE: usize = 64 << 20;
    let (first, end) = page_range(start, len);
    let pieces: Vec<(usize, usize)> = (first..end)
        .step_by(PIECE)
        .map(|s| (s, PIECE.min(end - s)))
        .collect();
    pieces
        .into_par_iter()
        .for_each(|(s, n)| advise(s, n, libc::MADV_POPULATE_WRITE));
}

#[cfg(not(target_os = "linux"))]
fn populate(_start: usize, _len: usize) {}

/// The whole 4 KiB pages inside `[start, start + len)`, as (first, end).
#[cfg(target_os = "linux")]
fn page_range(start: usize, len: usize) -> (usize, usize) {
    const PAGE: usize = 4096;
    let first = start.next_multiple_of(PAGE);
    let end = (start + len) & !(PAGE - 1);
    (first, end.max(first))
}

#[cfg(target_os = "linux")]
fn advise_huge(start: usize, len: usize) {
    let (first, end) = page_range(start, len);
    advise(first, end - first, libc::MADV_HUGEPAGE);
}

/// `madvise(start, len, advice)` on whole pages of a live allocation; failures (an advice
/// the kernel does not know) are ignored: the advice only changes how pages are backed.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn advise(start: usize, len: usize, advice: libc::c_int) {
    if len > 0 {
        // SAFETY: callers pass whole pages inside the live allocation of a vector they own
        // (see `page_range`). MADV_HUGEPAGE only changes how those pages are backed;
        // MADV_POPULATE_WRITE faults them in as a write would, leaving their contents (zero)
        // as they are. Neither changes the mapping, size or ownership, so no memory owned by
        // Rust is invalidated.
        unsafe {
            libc::madvise(start as *mut libc::c_void, len, advice);
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
            let v = super::output_vec::<u64>(n + 17);
            assert_eq!(v.len(), n + 17);
            assert!(v.iter().all(|&x| x == 0));
        }
    }
}
