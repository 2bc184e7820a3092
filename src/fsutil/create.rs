//! Making a new file: never through a name that exists already.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Creates the new file `path` for writing, failing (`AlreadyExists`) when anything has that
/// name already — a file, a folder, a symbolic link, even a dangling one (`O_CREAT | O_EXCL`):
/// qoima writes only into files it made itself, never through a name someone else placed.
pub fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn create_new_never_opens_a_name_that_exists() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("fresh");
        create_new(&fresh).unwrap().write_all(b"new").unwrap();
        assert_eq!(fs::read(&fresh).unwrap(), b"new");
        // The file just made, a folder, and a link to nowhere (which an ordinary create
        // would follow, making its target) are all refused, and left as they were.
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("target"), &dangling).unwrap();
        for taken in [&fresh, &dir.path().to_path_buf(), &dangling] {
            let e = create_new(taken).unwrap_err();
            assert_eq!(
                e.kind(),
                io::ErrorKind::AlreadyExists,
                "{}",
                taken.display()
            );
        }
        assert_eq!(fs::read(&fresh).unwrap(), b"new");
        assert!(fs::symlink_metadata(dir.path().join("target")).is_err());
    }
}
