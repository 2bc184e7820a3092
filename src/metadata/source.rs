//! Reading the collection's own files — the sidecar, `collection.toml` or `collection.json` —
//! without being led out of the collection.
//!
//! A collection arrives from someone else. A `metadata.csv` that is a link to `/etc/passwd`
//! would otherwise be read and its lines quoted back in warnings, and a FIFO would hang the
//! check. So a file that lies in the collection must resolve to a regular file in the
//! collection (a link that stays inside is followed), it is opened without following a link
//! swapped in after that check, and what is read is bounded. A file the user names outside
//! the collection (`--metadata /elsewhere/m.csv`) is read as named: that is the user's choice.

use std::io::Read;
use std::path::Path;

use crate::error::{Code, Problem};
use crate::fsutil;

/// The largest description file read (a sidecar of 100,000 records is about 40 MiB).
pub const MAX_DESCRIPTION_BYTES: u64 = 256 << 20;

/// The bytes of `path`, a description file of the collection at `root`; `name` is how
/// problems name it. Refuses a file in the collection that resolves outside it (`META-020`),
/// and anything unreadable, not a regular file, or larger than [`MAX_DESCRIPTION_BYTES`]
/// (`META-002`).
pub fn read_inside(root: &Path, path: &Path, name: &str) -> Result<Vec<u8>, Problem> {
    let unreadable = |why: String| {
        Problem::new(
            Code::SidecarUnreadable,
            format!("cannot read {name}: {why}"),
        )
        .file(name)
    };
    let target = std::fs::canonicalize(path).map_err(|e| unreadable(e.to_string()))?;
    if lies_in(root, path) {
        let canon_root = std::fs::canonicalize(root).map_err(|e| unreadable(e.to_string()))?;
        if !target.starts_with(&canon_root) {
            return Err(Problem::new(
                Code::LinkOutsideCollection,
                format!(
                    "{name} is a link to {}, outside the collection; it was not read",
                    crate::paths::printable(&target.to_string_lossy())
                ),
            )
            .file(name));
        }
    }
    // The resolved path has no link in its last component: one swapped in now is refused.
    let file =
        crate::digest::open_for_read(&target, false).map_err(|e| unreadable(e.to_string()))?;
    let meta = file.metadata().map_err(|e| unreadable(e.to_string()))?;
    if !meta.is_file() {
        return Err(unreadable(
            "it is not a regular file (a FIFO, a device or a folder)".into(),
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(MAX_DESCRIPTION_BYTES) as usize);
    file.take(MAX_DESCRIPTION_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(e.to_string()))?;
    if bytes.len() as u64 > MAX_DESCRIPTION_BYTES {
        return Err(unreadable(format!(
            "it is larger than {} MiB, more than any description qoima reads",
            MAX_DESCRIPTION_BYTES >> 20
        )));
    }
    Ok(bytes)
}

/// Whether `path` names a place in the folder `root`, before any link is followed.
fn lies_in(root: &Path, path: &Path) -> bool {
    match (
        fsutil::lexical_absolute(root),
        fsutil::lexical_absolute(path),
    ) {
        (Ok(root), Ok(path)) => path.starts_with(root),
        // Unresolvable: judged as inside, the stricter reading.
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_out_are_refused_and_links_inside_followed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("c");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(dir.path().join("secret.csv"), "root:x:0:0\n").unwrap();
        std::fs::write(root.join("real.csv"), "identifier\n").unwrap();
        std::os::unix::fs::symlink("../secret.csv", root.join("out.csv")).unwrap();
        std::os::unix::fs::symlink("real.csv", root.join("in.csv")).unwrap();
        let out = read_inside(&root, &root.join("out.csv"), "out.csv").unwrap_err();
        assert_eq!(out.code, Code::LinkOutsideCollection);
        assert!(!out.message.contains("root:x"));
        assert_eq!(
            read_inside(&root, &root.join("in.csv"), "in.csv").unwrap(),
            b"identifier\n"
        );
        // Named by the user outside the collection: read as named.
        let named = dir.path().join("secret.csv");
        assert!(read_inside(&root, &named, "secret.csv").is_ok());
    }

    #[test]
    fn a_fifo_is_refused_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("metadata.csv");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo touches nothing else.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let p = read_inside(dir.path(), &fifo, "metadata.csv").unwrap_err();
        assert_eq!(p.code, Code::SidecarUnreadable);
    }
}
