//! Progress bars on stderr: files and bytes, rate and ETA, and the stage of the work. Hidden
//! when stderr is not a terminal, with --quiet, and for work too small to need one.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// One bar for a whole command: it counts bytes and files within a stage, and names the
/// stage (`[2/4] copying and hashing`) when the work has several.
pub struct Bar {
    bar: ProgressBar,
    files: Arc<AtomicU64>,
    total_files: Arc<AtomicU64>,
    stages: usize,
    stage: AtomicUsize,
    label: Mutex<String>,
}

impl Bar {
    /// A bar for `total_bytes` over `total_files`, or a hidden one.
    pub fn new(label: &str, total_bytes: u64, total_files: u64, show: bool) -> Bar {
        Bar::staged(label, 0, total_bytes, total_files, show)
    }

    /// A bar for work in `stages` named stages (0: the stages are not counted).
    pub fn staged(
        label: &str,
        stages: usize,
        total_bytes: u64,
        total_files: u64,
        show: bool,
    ) -> Bar {
        let bar = if show {
            ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr_with_hz(10))
        } else {
            ProgressBar::hidden()
        };
        let bar = Bar {
            bar,
            files: Arc::new(AtomicU64::new(0)),
            total_files: Arc::new(AtomicU64::new(total_files)),
            stages,
            stage: AtomicUsize::new(0),
            label: Mutex::new(label.to_string()),
        };
        bar.restyle(total_bytes);
        bar.bar.set_prefix(label.to_string());
        if show {
            bar.bar.enable_steady_tick(Duration::from_millis(200));
        }
        bar
    }

    fn restyle(&self, total_bytes: u64) {
        let style = if total_bytes == 0 {
            // A stage of unknown size: a spinner and the time spent.
            ProgressStyle::with_template("{prefix} {spinner} {elapsed}").expect("valid template")
        } else {
            let (f, t) = (self.files.clone(), self.total_files.clone());
            ProgressStyle::with_template(
                "{prefix} [{bar:30}] {bytes}/{total_bytes} · {files} files · {bytes_per_sec} · ETA {eta}",
            )
            .expect("valid template")
            .with_key("files", move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(
                    w,
                    "{}/{}",
                    f.load(Ordering::Relaxed),
                    t.load(Ordering::Relaxed)
                );
            })
            .progress_chars("=> ")
        };
        self.bar.set_style(style);
    }

    /// The stage shown now.
    #[cfg(test)]
    pub fn current(&self) -> String {
        self.label.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Removes the bar from the screen.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl qoima::digest::Progress for Bar {
    fn bytes(&self, count: u64) {
        self.bar.inc(count);
    }
    fn file_done(&self) {
        self.files.fetch_add(1, Ordering::Relaxed);
    }
    fn stage(&self, name: &str, total_bytes: u64, total_files: u64) {
        let number = self.stage.fetch_add(1, Ordering::Relaxed) + 1;
        let label = if self.stages > 0 {
            format!("[{}/{}] {name}", number.min(self.stages), self.stages)
        } else {
            name.to_string()
        };
        self.files.store(0, Ordering::Relaxed);
        self.total_files.store(total_files, Ordering::Relaxed);
        self.restyle(total_bytes);
        self.bar.set_length(total_bytes);
        self.bar.reset();
        self.bar.set_prefix(label.clone());
        if let Ok(mut l) = self.label.lock() {
            *l = label;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qoima::digest::Progress;

    #[test]
    fn stages_are_numbered_and_counts_restart() {
        let bar = Bar::staged("packaging", 4, 0, 0, false);
        assert_eq!(bar.current(), "packaging");
        bar.stage("checking", 100, 2);
        bar.bytes(100);
        bar.file_done();
        assert_eq!(bar.current(), "[1/4] checking");
        bar.stage("copying and hashing", 50, 1);
        assert_eq!(bar.current(), "[2/4] copying and hashing");
        assert_eq!(bar.files.load(Ordering::Relaxed), 0);
        assert_eq!(bar.bar.position(), 0);
        assert_eq!(bar.bar.length(), Some(50));
    }
}
