//! Where the reads of a call run: without the GIL, and — for a remote file — on a pool of
//! many threads.
//!
//! Reads of a remote file wait on the network, not the CPU: the library issues independent
//! reads from its rayon workers, so the number of workers bounds the requests in flight. The
//! CLI makes its global pool large when given a URL; a Python process cannot (its global
//! pool serves local reads too, sized to the cores), so calls on a remote file run inside
//! a second pool of [`REMOTE_THREADS`] threads, made on first use. `RAYON_NUM_THREADS`, when
//! set, sizes it instead.

use std::sync::OnceLock;

use pyo3::Python;

/// Threads of the pool remote reads run on (as the CLI's pool for URLs).
pub const REMOTE_THREADS: usize = 32;

fn remote_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let n = std::env::var("RAYON_NUM_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(REMOTE_THREADS);
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("h5sparse-remote-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// Run `f` without the GIL; on the remote pool when `remote` (and the pool could be made).
pub fn detach<T: Send>(py: Python<'_>, remote: bool, f: impl FnOnce() -> T + Send) -> T {
    py.detach(|| match remote.then(remote_pool).flatten() {
        Some(pool) => pool.install(f),
        None => f(),
    })
}
