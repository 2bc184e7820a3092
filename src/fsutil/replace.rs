//! Replacing an existing output by a complete new one, so that at every instant the output's
//! name holds either the old or the new complete content.
//!
//! The new content is built beside the output under a temporary name (`.OUT.qoima-new-PID`).
//! Where the filesystem offers it, one `renameat2(RENAME_EXCHANGE)` swaps the two names; the
//! temporary name then holds the old content, which is removed. Where it does not (some network
//! and FUSE filesystems), the old content is renamed aside to `.OUT.qoima-old-PID`, then the new
//! one renamed into place: between those two renames OUT does not exist. A run killed in that
//! window leaves the old content only under `.OUT.qoima-old-PID`; the next run restores it
//! ([`super::clean_stale`]). Each durable step has a failpoint, for the crash tests.

use std::fs;
use std::io;
use std::path::Path;

use super::{exchange, failpoint, parent_dir, sync_dir, temp_sibling, unsupported};

/// How an output was replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replaced {
    /// In one atomic exchange: OUT was never missing.
    Exchanged,
    /// By two renames (the filesystem refused the exchange): OUT was missing for an instant.
    Renamed,
}

/// Puts the complete `new` (a sibling of `out`, on the same filesystem) in place of the
/// existing `out`, then removes the old content. Failpoints: `replace-before-exchange`,
/// `replace-after-exchange`, and on the fallback `replace-after-moving-old`,
/// `replace-after-moving-new`.
pub fn replace_dir(new: &Path, out: &Path) -> io::Result<Replaced> {
    let parent = parent_dir(out);
    failpoint("replace-before-exchange");
    match exchange(new, out) {
        Ok(()) => {
            sync_dir(parent)?;
            failpoint("replace-after-exchange");
            // `new` now holds the old content. Should removing it fail, the next run that
            // writes OUT finds it (its process is gone) and removes it.
            let _ = remove_any(new);
            Ok(Replaced::Exchanged)
        }
        Err(e) if unsupported(&e) => by_two_renames(new, out, parent),
        Err(e) => Err(e),
    }
}

/// The fallback: OUT aside to `.OUT.qoima-old-PID`, then `new` to OUT.
fn by_two_renames(new: &Path, out: &Path, parent: &Path) -> io::Result<Replaced> {
    let old = temp_sibling(out, "old");
    fs::rename(out, &old)?;
    sync_dir(parent)?;
    failpoint("replace-after-moving-old");
    if let Err(e) = fs::rename(new, out) {
        // Put the old content back rather than leave OUT missing.
        fs::rename(&old, out)?;
        return Err(e);
    }
    sync_dir(parent)?;
    failpoint("replace-after-moving-new");
    let _ = remove_any(&old);
    Ok(Replaced::Renamed)
}

/// Removes a folder with everything in it, or a file or link (never following it).
pub(super) fn remove_any(path: &Path) -> io::Result<()> {
    if fs::symlink_metadata(path)?.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_swaps_and_leaves_only_the_new_content() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let new = temp_sibling(&out, "new");
        fs::create_dir_all(out.join("data")).unwrap();
        fs::write(out.join("data/old.txt"), "old").unwrap();
        fs::create_dir_all(new.join("data")).unwrap();
        fs::write(new.join("data/new.txt"), "new").unwrap();
        replace_dir(&new, &out).unwrap();
        assert_eq!(fs::read(out.join("data/new.txt")).unwrap(), b"new");
        assert!(!out.join("data/old.txt").exists());
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1, "no leftover");
    }
}
