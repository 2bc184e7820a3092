//! Progress bars on stderr: files and bytes, rate and ETA. Hidden when stderr is not a
//! terminal, with --quiet, and for work too small to need one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// A bar counting bytes, with a file counter beside it.
pub struct Bar {
    bar: ProgressBar,
    files: Arc<AtomicU64>,
}

impl Bar {
    /// A bar for `total_bytes` over `total_files`, or a hidden one.
    pub fn new(label: &str, total_bytes: u64, total_files: u64, show: bool) -> Bar {
        let files = Arc::new(AtomicU64::new(0));
        let bar = if show {
            ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr_with_hz(10))
        } else {
            ProgressBar::hidden()
        };
        let f = files.clone();
        let style = ProgressStyle::with_template(
            "{prefix} [{bar:30}] {bytes}/{total_bytes} · {files} files · {bytes_per_sec} · ETA {eta}",
        )
        .expect("valid template")
        .with_key("files", move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}/{}", f.load(Ordering::Relaxed), total_files);
        })
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label.to_string());
        if show {
            bar.enable_steady_tick(Duration::from_millis(200));
        }
        Bar { bar, files }
    }

    /// Removes the bar from the screen.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl qoima::digest::Progress for Bar {
    fn bytes(&self, n: u64) {
        self.bar.inc(n);
    }
    fn file_done(&self) {
        self.files.fetch_add(1, Ordering::Relaxed);
    }
}
