//! Progress of long commands on stderr: a bar (or a counter when the total is unknown) that
//! appears once a command has run for [`SHOW_AFTER`] and only when stderr is a terminal, so
//! scripts and the contract's outputs never see it.

use h5sparse::write::SparseSink;
use h5sparse::{ElemType, Values};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Read};
use std::time::{Duration, Instant};

/// How long a command runs silently before its progress shows (the environment variable
/// `H5SPARSE_PROGRESS_AFTER_MS` overrides it, for tests).
pub const SHOW_AFTER: Duration = Duration::from_secs(2);

fn show_after() -> Duration {
    std::env::var("H5SPARSE_PROGRESS_AFTER_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(SHOW_AFTER, Duration::from_millis)
}

/// A progress indicator counting bytes or entries.
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    /// Whether the bar may be drawn at all (stderr is a terminal).
    enabled: bool,
    shown: bool,
}

impl Progress {
    /// A progress of `total` units (`None`: unknown) labelled `what`; `bytes` formats the
    /// counts as sizes, otherwise as numbers of entries.
    pub fn new(what: &str, total: Option<u64>, bytes: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::hidden());
        let counts = if bytes {
            "{bytes}/{total_bytes} ({bytes_per_sec}, {eta})"
        } else {
            "{human_pos}/{human_len} ({per_sec}, {eta})"
        };
        let template = match (total, bytes) {
            (Some(_), _) => format!("{{msg}} [{{bar:30}}] {counts}"),
            (None, true) => "{spinner} {msg} {bytes} ({bytes_per_sec})".to_string(),
            (None, false) => "{spinner} {msg} {human_pos} ({per_sec})".to_string(),
        };
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_string());
        Progress {
            bar,
            started: Instant::now(),
            enabled: std::io::stderr().is_terminal(),
            shown: false,
        }
    }

    /// Count `n` more units done.
    pub fn inc(&mut self, n: u64) {
        self.bar.inc(n);
        if self.enabled && !self.shown && self.started.elapsed() >= show_after() {
            self.shown = true;
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(200));
        }
    }

    /// Units counted so far.
    pub fn position(&self) -> u64 {
        self.bar.position()
    }

    /// Change the label (e.g. the object being copied).
    pub fn set_message(&self, msg: &str) {
        self.bar.set_message(msg.to_string());
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // Leave the terminal clean: the command's own output (if any) follows.
        self.bar.finish_and_clear();
    }
}

/// A reader that counts the bytes read through it into a [`Progress`].
pub struct CountingReader<R> {
    inner: R,
    progress: Progress,
}

impl<R> CountingReader<R> {
    /// Count the bytes read from `inner`.
    pub fn new(inner: R, progress: Progress) -> Self {
        CountingReader { inner, progress }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.inc(n as u64);
        Ok(n)
    }
}

/// A sparse sink that counts the entries appended to `data` into a [`Progress`].
pub struct ProgressSink<S> {
    inner: S,
    progress: Progress,
}

impl<S> ProgressSink<S> {
    /// Count the `data` entries written through `inner` (total: the matrix's nnz if known).
    pub fn new(inner: S, what: &str, nnz: Option<u64>) -> Self {
        ProgressSink {
            inner,
            progress: Progress::new(what, nnz, false),
        }
    }
}

impl<S: SparseSink> SparseSink for ProgressSink<S> {
    fn create_dataset(
        &mut self,
        name: &str,
        elem: ElemType,
        len_hint: Option<u64>,
    ) -> h5sparse::Result<()> {
        self.inner.create_dataset(name, elem, len_hint)
    }
    fn append(&mut self, name: &str, values: &Values) -> h5sparse::Result<()> {
        self.inner.append(name, values)?;
        if name == "data" {
            self.progress.inc(values.len() as u64);
        }
        Ok(())
    }
    fn set_attr_string(&mut self, name: &str, value: &str) -> h5sparse::Result<()> {
        self.inner.set_attr_string(name, value)
    }
    fn set_attr_ints(&mut self, name: &str, value: &[i64]) -> h5sparse::Result<()> {
        self.inner.set_attr_ints(name, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use h5sparse::write::MemSink;

    #[test]
    fn counts_pass_through() {
        let mut r = CountingReader::new(&b"hello"[..], Progress::new("t", Some(5), true));
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello");
        assert_eq!(r.progress.bar.position(), 5);

        let mut sink = ProgressSink::new(MemSink::new(), "t", Some(3));
        sink.create_dataset("data", ElemType::F32, Some(3)).unwrap();
        sink.create_dataset("indices", ElemType::I32, Some(3))
            .unwrap();
        sink.append("data", &Values::F32(vec![1.0, 2.0, 3.0]))
            .unwrap();
        sink.append("indices", &Values::I32(vec![0, 1, 2])).unwrap();
        assert_eq!(sink.progress.bar.position(), 3);
        // Not a terminal under `cargo test`: never drawn.
        assert!(!sink.progress.shown);
    }
}
