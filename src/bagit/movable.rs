//! Whether `rename(2)` can move a folder's top-level entries, asked before anything moves.
//!
//! Bagging in place moves each top-level entry into the staging folder. The kernel refuses
//! such a move when the folder itself cannot be written, when an entry is immutable or
//! append-only (`chattr +i`/`+a`), and — for a folder moved to another parent, whose `..`
//! changes — when that folder cannot be written (mode 555, as copied from a CD). Finding that
//! out only at the move would stop the run halfway; so each case is asked here, with the
//! kernel's own rules: `faccessat(2)` with `W_OK` applies the mode bits (which root bypasses,
//! as it does for the move), a read-only mount and the immutable flag; the inode flags give
//! the append-only cases.

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::{Code, Problem};

/// `FS_IMMUTABLE_FL` and `FS_APPEND_FL` of `<linux/fs.h>` (not in the libc crate).
const IMMUTABLE: libc::c_int = 0x10;
const APPEND_ONLY: libc::c_int = 0x20;

/// Why `name` (a top-level entry of `dir`) cannot be moved, one problem each, plus one for
/// `dir` itself; empty when every move can happen.
pub fn unmovable(dir: &Path, names: &[String], advice: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let folder_refusal = if !writable(dir) {
        Some("the folder itself cannot be written")
    } else if flags(dir) & (IMMUTABLE | APPEND_ONLY) != 0 {
        Some("the folder itself is immutable or append-only (chattr)")
    } else {
        None
    };
    if let Some(why) = folder_refusal {
        problems.push(Problem::new(
            Code::InPlaceUnmovable,
            format!(
                "{}: {why}, so nothing in it can be moved into data/; {advice}",
                dir.display()
            ),
        ));
    }
    for name in names {
        let path = dir.join(name);
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        // Only files and folders are opened for their flags: opening a device can act on it.
        if !meta.is_file() && !meta.is_dir() {
            continue;
        }
        let why = if flags(&path) & (IMMUTABLE | APPEND_ONLY) != 0 {
            "it is immutable or append-only (chattr); remove the attribute with `chattr -i -a`"
        } else if meta.is_dir() && !writable(&path) {
            "it is a read-only folder (a folder is moved only when it can be written, because its `..` changes); make it writable with `chmod u+w`"
        } else {
            continue;
        };
        problems.push(
            Problem::new(
                Code::InPlaceUnmovable,
                format!(
                    "{} cannot be moved into data/: {why}; {advice}",
                    crate::paths::printable(name)
                ),
            )
            .file(name.clone()),
        );
    }
    problems
}

/// Whether the kernel would let this process write `path` (effective ids, as a move uses).
fn writable(path: &Path) -> bool {
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
    unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::W_OK, libc::AT_EACCESS) == 0 }
}

/// The inode flags of `path` (`FS_IOC_GETFLAGS`), or 0 when they cannot be read (a file
/// system without them, a file this process cannot open).
fn flags(path: &Path) -> libc::c_int {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let Ok(file) = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
    else {
        return 0;
    };
    let mut value: libc::c_int = 0;
    // SAFETY: FS_IOC_GETFLAGS writes one int (whatever its declared type says) into `value`, which lives across the call, on a
    // descriptor `file` keeps open.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::FS_IOC_GETFLAGS, &mut value) };
    if rc == 0 { value } else { 0 }
}
