//! What a fault may and may not change on disk: a snapshot of a tree (names, kinds, modes,
//! file contents and modification times), the copy of a prepared input, and the search for
//! anything qoima leaves behind.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use crate::util::sha256_hex;

/// Relative path → "kind mode content" for every entry under a root (the root included).
/// Folder modification times are left out: a folder's time changes when anything is made
/// or removed in it, which is what the other entries already show.
pub type Tree = BTreeMap<String, String>;

/// The tree at `root`, or an empty tree when nothing is there.
pub fn snapshot(root: &Path) -> Tree {
    let mut tree = Tree::new();
    if fs::symlink_metadata(root).is_err() {
        return tree;
    }
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        let rel = entry
            .path()
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let mode = meta.mode() & 0o7777;
        let description = if meta.file_type().is_symlink() {
            format!("link {:?}", fs::read_link(entry.path()).unwrap())
        } else if meta.is_dir() {
            format!("dir {mode:o}")
        } else {
            let data = fs::read(entry.path()).unwrap();
            format!(
                "file {mode:o} {} mtime {}.{}",
                sha256_hex(&data),
                meta.mtime(),
                meta.mtime_nsec()
            )
        };
        tree.insert(rel, description);
    }
    tree
}

/// The first differences between two trees, for a failure message.
pub fn diff(before: &Tree, after: &Tree) -> String {
    let mut lines = Vec::new();
    for (path, was) in before {
        match after.get(path) {
            None => lines.push(format!("  gone: {path} ({was})")),
            Some(now) if now != was => lines.push(format!("  changed: {path}: {was} → {now}")),
            _ => {}
        }
    }
    for (path, now) in after {
        if !before.contains_key(path) {
            lines.push(format!("  new: {path} ({now})"));
        }
    }
    lines.truncate(8);
    lines.join("\n")
}

/// A fresh copy of `from` at `to` (removed first), keeping modes and times (`cp -a`).
pub fn copy_fresh(from: &Path, to: &Path) {
    if to.exists() {
        make_writable(to);
        fs::remove_dir_all(to).unwrap();
    }
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "cp -a {} {}",
        from.display(),
        to.display()
    );
}

/// A killed run may leave read-only folders behind; make them removable.
fn make_writable(root: &Path) {
    for entry in walkdir::WalkDir::new(root).into_iter().flatten() {
        if entry.file_type().is_dir() {
            let _ = Command::new("chmod")
                .arg("u+rwx")
                .arg(entry.path())
                .status();
        }
    }
}

/// Every name under `root` that marks an unfinished qoima operation or a database left
/// mid-transaction: `*.qoima-*` temporaries, the in-place journal and staging folder, and
/// SQLite's `-journal` / `-wal` files.
pub fn leftovers(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .flatten()
        .filter(|entry| {
            let name = entry.file_name().to_string_lossy();
            name.contains(".qoima-") || name.ends_with("-journal") || name.ends_with("-wal")
        })
        .map(|entry| {
            entry
                .path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}
