//! Writing a small file whole: a reader, or a run killed at any instant, sees the old content
//! or the new, never a part, and never a temporary name holding less than the new content.
//!
//! The bytes go into an anonymous file (`O_TMPFILE`) in the target's folder: it has no name
//! until it is complete and flushed. It is then given one with `linkat`: straight to the
//! final name when nothing is there (one atomic step, no temporary name ever exists), or to
//! the temporary name `.NAME.qoima-write-PID` and renamed over the old file when replacing
//! (so a named temporary only ever holds complete, flushed content: a kill between the link
//! and the rename leaves one that a caller may prove its own by reading it).
//!
//! Where `O_TMPFILE` is not offered (older kernels, some network and FUSE filesystems) or
//! `/proc` is not mounted (the link goes through `/proc/self/fd/N`), the file is written
//! under the temporary name, flushed and renamed, as before; a kill may then leave a partial
//! temporary. Debug builds take that way when `QOIMA_TEST_NO_TMPFILE` is set, for tests.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use super::{parent_dir, temp_sibling};

/// Writes `data` to `path` so that `path` holds the old or the new content at every instant
/// (see the module documentation). The file's mode is `0666` less the umask, as for a file
/// made by `File::create`. The folder itself is not flushed: callers that need the new name
/// to survive a power cut call [`super::sync_dir`].
pub fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    match anonymous_in(parent_dir(path)) {
        Some(file) => write_linked(file, path, data),
        None => write_renamed(path, data),
    }
}

/// An anonymous file in `dir`, or `None` where the system does not offer one (then the
/// caller writes under a temporary name). A real error (a full disk, no permission) is
/// also `None`: the fallback meets it again and reports it.
fn anonymous_in(dir: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    #[cfg(debug_assertions)]
    if std::env::var_os("QOIMA_TEST_NO_TMPFILE").is_some() {
        return None;
    }
    if !Path::new("/proc/self/fd").is_dir() {
        return None;
    }
    OpenOptions::new()
        .write(true)
        .mode(0o666)
        .custom_flags(libc::O_TMPFILE)
        .open(dir)
        .ok()
}

/// Fills the anonymous `file`, flushes it, then gives it its name.
fn write_linked(mut file: File, path: &Path, data: &[u8]) -> io::Result<()> {
    file.write_all(data)?;
    file.sync_all()?;
    match link_anonymous(&file, path) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        done => return done,
    }
    // Replacing: a complete temporary, then one rename over the old file.
    let tmp = temp_sibling(path, "write");
    if let Err(e) = link_anonymous(&file, &tmp) {
        if e.kind() != io::ErrorKind::AlreadyExists {
            return Err(e);
        }
        // This process's own leftover of an earlier failed replace: never another run's.
        fs::remove_file(&tmp)?;
        link_anonymous(&file, &tmp)?;
    }
    fs::rename(&tmp, path).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// `linkat(/proc/self/fd/N, path, AT_SYMLINK_FOLLOW)`: names the anonymous file (which
/// `AT_EMPTY_PATH` would do too, but only with `CAP_DAC_READ_SEARCH`).
fn link_anonymous(file: &File, path: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    let from =
        CString::new(format!("/proc/self/fd/{}", file.as_raw_fd())).expect("no NUL in a number");
    let to = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in a path"))?;
    // SAFETY: both strings are NUL-terminated and live across the call, which only reads
    // them; `file` keeps the descriptor open.
    let rc = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The fallback: the data under the temporary name, flushed, then renamed over `path`. The
/// temporary is removed on any error.
fn write_renamed(path: &Path, data: &[u8]) -> io::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// The process's umask, as the kernel reports it (setting it to read it would race
    /// with the other tests).
    fn umask() -> u32 {
        let status = fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
        u32::from_str_radix(line["Umask:".len()..].trim(), 8).unwrap()
    }

    /// Both ways make the file, replace it, keep the usual mode, and leave no other name.
    fn check(write: fn(&Path, &[u8]) -> io::Result<()>) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("bag-info.txt");
        write(&p, b"one").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"one");
        write(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o666 & !umask());
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1, "no leftover");
    }

    #[test]
    fn write_atomic_through_an_anonymous_file() {
        let d = tempfile::tempdir().unwrap();
        if anonymous_in(d.path()).is_none() {
            eprintln!("skipped: O_TMPFILE is not offered here");
            return;
        }
        check(|path, data| {
            let file = anonymous_in(parent_dir(path)).expect("offered above");
            write_linked(file, path, data)
        });
    }

    #[test]
    fn write_atomic_through_a_named_temporary() {
        check(write_renamed);
    }

    #[test]
    fn a_failed_write_leaves_nothing() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("missing/bag-info.txt");
        assert!(write_atomic(&p, b"x").is_err());
        assert!(write_renamed(&p, b"x").is_err());
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 0);
    }
}
