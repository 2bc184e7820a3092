//! Filesystem helpers with one home: write-to-temporary-then-rename, directory sync, and the
//! failpoints that crash tests use to stop the process at a chosen step.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// A name beside `path`, in the same directory (so a rename is atomic), marked as qoima's
/// temporary and unique to this process.
pub fn temp_sibling(path: &Path, tag: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let unique = format!(".{name}.qoima-{tag}-{}", std::process::id());
    path.with_file_name(unique)
}

/// Writes `data` to `path` through a temporary file in the same directory: the file is
/// flushed to disk and then renamed over `path`, so a reader sees the old or the new
/// content, never half of it.
pub fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    let tmp = temp_sibling(path, "write");
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Flushes a directory's entries (after renames in it) to disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Stops the process at once (as a crash or `kill -9` would) when the environment variable
/// `QOIMA_FAILPOINT` is `NAME` or `NAME:N` and this is the N-th time (default 1) the point
/// named `NAME` is reached. Tests use it to prove that every step can be interrupted safely.
pub fn failpoint(name: &str) {
    static SPEC: OnceLock<Option<(String, u64)>> = OnceLock::new();
    static HITS: AtomicU64 = AtomicU64::new(0);
    let spec = SPEC.get_or_init(|| {
        let v = std::env::var("QOIMA_FAILPOINT").ok()?;
        match v.split_once(':') {
            Some((n, k)) => Some((n.to_string(), k.parse().ok()?)),
            None => Some((v, 1)),
        }
    });
    if let Some((n, k)) = spec
        && n == name
        && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *k
    {
        eprintln!("qoima: failpoint {name}:{k} reached, aborting");
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_and_leaves_no_temporary() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("bag-info.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }
}
