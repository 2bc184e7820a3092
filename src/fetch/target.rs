//! Where a fetched file goes, and where its partial download waits.
//!
//! fetch.txt paths were checked when parsed (relative, no `..`, under `data/`); here the
//! filesystem is checked too: every folder on the way must be a real folder, not a link (which
//! could lead out of the bag), and the end must be nothing yet, or a regular file. Missing
//! folders are created one by one, never through a link.
//!
//! Partial downloads live in [`super::PARTIAL_DIR`] at the bag's top, named by a hash of the
//! target path: never in `data/` (where a leftover would pass for payload), stable across runs
//! (so that a later run resumes), and never the name of a user's file.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::PARTIAL_DIR;
use crate::digest::{Algorithm, digest_bytes};
use crate::error::{Code, Problem};
use crate::paths;

/// What is at the target path now.
pub enum Target {
    /// Nothing: the file is to be fetched to `path`.
    Absent(PathBuf),
    /// A regular file is there already.
    Present(PathBuf),
}

/// Checks (and creates) the folders on the way to `rel` in `bag`, and says what is at its end.
pub fn prepare(bag: &Path, rel: &str) -> Result<Target, Problem> {
    let unsafe_at = |at: &str, why: &str| {
        Problem::new(
            Code::FetchTargetUnsafe,
            format!(
                "{} was not fetched: {} {why}",
                paths::printable(rel),
                paths::printable(at)
            ),
        )
        .file(rel)
    };
    let parts: Vec<&str> = rel.split('/').collect();
    let Some((last, folders)) = parts.split_last() else {
        return Err(unsafe_at(rel, "is not a file path"));
    };
    let mut path = bag.to_path_buf();
    for (i, folder) in folders.iter().enumerate() {
        path.push(folder);
        let at = parts[..=i].join("/");
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {}
            Ok(m) if m.file_type().is_symlink() => {
                return Err(unsafe_at(&at, "is a symbolic link; it is not followed"));
            }
            Ok(_) => return Err(unsafe_at(&at, "is in the way: it is not a folder")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(&path) {
                Ok(()) => {}
                // Another worker made it meanwhile: check it again.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                        return Err(unsafe_at(&at, "appeared and is not a folder"));
                    }
                }
                Err(e) => return Err(io_problem(rel, &format!("cannot create {at}: {e}"))),
            },
            Err(e) => return Err(io_problem(rel, &format!("cannot inspect {at}: {e}"))),
        }
    }
    path.push(last);
    match fs::symlink_metadata(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Target::Absent(path)),
        Ok(m) if m.is_file() => Ok(Target::Present(path)),
        Ok(m) if m.file_type().is_symlink() => Err(unsafe_at(
            rel,
            "is a symbolic link; it was neither followed nor replaced",
        )),
        Ok(_) => Err(unsafe_at(rel, "is a folder or a special file")),
        Err(e) => Err(io_problem(rel, &format!("cannot inspect it: {e}"))),
    }
}

/// A problem reading or writing the bag while fetching: the file could not be fetched.
pub fn io_problem(rel: &str, why: &str) -> Problem {
    Problem::new(
        Code::FetchFailed,
        format!("{} was not fetched: {why}", paths::printable(rel)),
    )
    .file(rel)
}

/// The partial download of `rel`, creating the partial folder (refusing a link there).
pub fn partial_path(bag: &Path, rel: &str) -> Result<PathBuf, Problem> {
    let dir = bag.join(PARTIAL_DIR);
    match fs::symlink_metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(Problem::new(
                Code::FetchTargetUnsafe,
                format!(
                    "{} was not fetched: {PARTIAL_DIR} in the bag is not a folder qoima made",
                    paths::printable(rel)
                ),
            )
            .file(PARTIAL_DIR));
        }
        Err(_) => match fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(io_problem(
                    rel,
                    &format!("cannot create {PARTIAL_DIR}: {e}"),
                ));
            }
        },
    }
    let key = digest_bytes(Algorithm::Sha256, rel.as_bytes());
    Ok(dir.join(format!("{}.part", &key[..32])))
}

/// Removes the partial folder once no partial download is left in it.
pub fn remove_partial_dir_if_empty(bag: &Path) {
    // Fails harmlessly when a partial file is kept for a later run, or there is no folder.
    let _ = fs::remove_dir(bag.join(PARTIAL_DIR));
}
