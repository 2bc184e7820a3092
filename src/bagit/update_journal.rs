//! Putting an update's new tag files into a bag so that a kill at any instant leaves the bag
//! as it was, or a journal that the next `qoima bag --update` rolls forward before anything
//! else.
//!
//! An update rewrites several files that tie each other together (the manifests, bag-info.txt,
//! the tag manifests): no order of single renames keeps the bag valid throughout. So every new
//! tag file is first written and flushed into a staging folder at the bag's top
//! (`.qoima-update-stage-PID`); then the journal `.qoima-update.json`, naming the staging
//! folder and every file to put in place or remove, is written (the commit point); then the
//! tag manifests to keep are moved aside (a sealed bag's, into `seal/`), each staged file is
//! renamed into place, the manifests of removed algorithms are deleted, the staging folder
//! and the journal last. Before the commit point the bag is as it was and the next update
//! removes the staging folder; after it, the next update rolls the renames forward. Every
//! step is idempotent, so a crash during the roll-forward is finished by the next run too.
//!
//! Only qoima's names are ever touched: a journal naming anything but bagit.txt, bag-info.txt
//! and manifests is refused (BAG-141), not obeyed.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::create::BagError;
use super::manifest;
use crate::error::{Code, Problem};
use crate::fsutil;

/// The journal's name at the bag's top.
pub const JOURNAL: &str = ".qoima-update.json";
/// The start of the staging folder's name (`.qoima-update-stage-PID`).
const STAGING_PREFIX: &str = ".qoima-update-stage-";

/// What to do to commit an update.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct Journal {
    qoima_update: u32,
    /// The staging folder, a top-level name.
    pub staging: String,
    /// Tag manifests to move, before anything is put in place, into `keep_in` (a top-level
    /// folder) unless a file of that name is there already: the tag manifests as sealed.
    pub keep: Vec<String>,
    /// The folder `keep` moves into.
    pub keep_in: Option<String>,
    /// Top-level files to rename from the staging folder into place.
    pub put: Vec<String>,
    /// Top-level manifests to remove (those of algorithms no longer used).
    pub remove: Vec<String>,
}

/// The staging folder's name for this process.
pub fn staging_name() -> String {
    format!("{STAGING_PREFIX}{}", std::process::id())
}

/// Whether `name` has the form of an update's staging folder.
pub fn is_staging(name: &str) -> bool {
    name.strip_prefix(STAGING_PREFIX)
        .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `name`, at a bag's top, is the journal or its temporary.
pub fn is_journal(name: &str) -> bool {
    name == JOURNAL || fsutil::temp_target(name, "write") == Some(JOURNAL)
}

impl Journal {
    /// A journal for the staging folder `staging`.
    pub fn new(staging: String) -> Journal {
        Journal {
            qoima_update: 1,
            staging,
            ..Journal::default()
        }
    }
}

/// Whether an update writes the top-level file `name`.
fn is_update_file(name: &str) -> bool {
    name == "bagit.txt" || name == "bag-info.txt" || manifest::classify(name).is_some()
}

/// Checks a journal read from disk: every name is one an update writes, removes or keeps.
fn parse(bytes: &[u8]) -> Result<Journal, String> {
    let journal: Journal = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if journal.qoima_update != 1 || !is_staging(&journal.staging) {
        return Err(format!(
            "its staging folder {:?} is not an update's",
            journal.staging
        ));
    }
    if let Some(bad) = journal.put.iter().find(|n| !is_update_file(n)) {
        return Err(format!(
            "it would put {bad:?} in place, which an update does not write"
        ));
    }
    let manifests = journal.remove.iter().chain(&journal.keep);
    if let Some(bad) = manifests
        .into_iter()
        .find(|n| manifest::classify(n).is_none() || n.contains('/'))
    {
        return Err(format!("it names {bad:?}, which is not a manifest"));
    }
    let plain =
        |n: &str| !n.is_empty() && n != "data" && !n.contains(['/', '\0']) && !n.starts_with('.');
    match &journal.keep_in {
        Some(folder) if !plain(folder) => Err(format!("it would keep files in {folder:?}")),
        None if !journal.keep.is_empty() => Err("it keeps files but names no folder".into()),
        _ => Ok(journal),
    }
}

/// Commits the update staged in `journal.staging` (see the module comment).
pub fn commit(bag: &Path, journal: &Journal) -> Result<(), BagError> {
    let staging = bag.join(&journal.staging);
    sync_tree(&staging)?;
    fsutil::failpoint("update-staged");
    let path = bag.join(JOURNAL);
    let text = serde_json::to_vec_pretty(journal).expect("the journal serialises");
    fsutil::write_atomic(&path, &text).map_err(BagError::io(&path))?;
    fsutil::sync_dir(bag).map_err(BagError::io(bag))?;
    fsutil::failpoint("update-journal");
    apply(bag, journal)
}

/// Flushes the entries of `dir` and of every folder below it.
fn sync_tree(dir: &Path) -> Result<(), BagError> {
    for entry in fs::read_dir(dir).map_err(BagError::io(dir))?.flatten() {
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            sync_tree(&entry.path())?;
        }
    }
    fsutil::sync_dir(dir).map_err(BagError::io(dir))
}

/// Finishes what a journal names; each step can be done again after a crash.
fn apply(bag: &Path, journal: &Journal) -> Result<(), BagError> {
    keep_sealed(bag, journal)?;
    let staging = bag.join(&journal.staging);
    for name in &journal.put {
        let from = staging.join(name);
        if fs::symlink_metadata(&from).is_ok() {
            let to = bag.join(name);
            fs::rename(&from, &to).map_err(BagError::io(&to))?;
            fsutil::failpoint("update-put");
        }
    }
    for name in &journal.remove {
        let path = bag.join(name);
        match fs::remove_file(&path) {
            Ok(()) => fsutil::failpoint("update-removed"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(BagError::io(&path)(e)),
        }
    }
    fsutil::sync_dir(bag).map_err(BagError::io(bag))?;
    // What is left in the staging folder are the copies of the user's tag files, written
    // only to hash them as the tag manifests list them.
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(BagError::io(&staging))?;
    }
    fsutil::failpoint("update-cleaned");
    let path = bag.join(JOURNAL);
    fs::remove_file(&path).map_err(BagError::io(&path))?;
    fsutil::sync_dir(bag).map_err(BagError::io(bag))
}

/// Moves the tag manifests the journal keeps into their folder, unless kept there already
/// (by an earlier update: what is kept is what was sealed, never an update's).
fn keep_sealed(bag: &Path, journal: &Journal) -> Result<(), BagError> {
    let Some(folder) = &journal.keep_in else {
        return Ok(());
    };
    let folder = bag.join(folder);
    for name in &journal.keep {
        let (from, to) = (bag.join(name), folder.join(name));
        if fs::symlink_metadata(&to).is_err() && fs::symlink_metadata(&from).is_ok() {
            fs::create_dir_all(&folder).map_err(BagError::io(&folder))?;
            fsutil::rename_noreplace(&from, &to).map_err(BagError::io(&to))?;
            fsutil::sync_dir(&folder).map_err(BagError::io(&folder))?;
            fsutil::failpoint("update-keep");
        }
    }
    Ok(())
}

/// Before an update: finishes an interrupted one from its journal (true when it did), or
/// removes the staging folders and journal temporaries of one killed before its commit point.
/// A journal that is not qoima's is refused (BAG-141), and nothing is changed.
pub fn recover(bag: &Path) -> Result<bool, BagError> {
    let path = bag.join(JOURNAL);
    match fs::read(&path) {
        Ok(bytes) => {
            let journal = parse(&bytes).map_err(|why| {
                BagError::Refused(vec![
                    Problem::new(
                        Code::UpdateJournal,
                        format!(
                            "{JOURNAL} in {} is not the journal of an interrupted `qoima bag --update` ({why}); nothing was changed",
                            bag.display()
                        ),
                    )
                    .file(JOURNAL),
                ])
            })?;
            apply(bag, &journal)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            remove_stale(bag)?;
            Ok(false)
        }
        Err(e) => Err(BagError::io(&path)(e)),
    }
}

/// Removes the staging folders and the journal's temporaries a run killed before its commit
/// point left at the bag's top.
fn remove_stale(bag: &Path) -> Result<(), BagError> {
    for entry in fs::read_dir(bag).map_err(BagError::io(bag))?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && is_staging(&name) {
            fs::remove_dir_all(entry.path()).map_err(BagError::io(entry.path()))?;
        } else if kind.is_file() && name != JOURNAL && is_journal(&name) {
            fs::remove_file(entry.path()).map_err(BagError::io(entry.path()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_naming_other_files_is_refused() {
        let good = r#"{"qoima_update":1,"staging":".qoima-update-stage-7","keep":["tagmanifest-sha256.txt"],"keep_in":"seal","put":["bagit.txt","manifest-md5.txt"],"remove":["manifest-sha1.txt"]}"#;
        parse(good.as_bytes()).unwrap();
        for bad in [
            r#"{"qoima_update":1,"staging":"data","keep":[],"keep_in":null,"put":[],"remove":[]}"#,
            r#"{"qoima_update":1,"staging":".qoima-update-stage-7","keep":[],"keep_in":null,"put":["data/a.txt"],"remove":[]}"#,
            r#"{"qoima_update":1,"staging":".qoima-update-stage-7","keep":[],"keep_in":null,"put":[],"remove":["mets.xml"]}"#,
            r#"{"qoima_update":1,"staging":".qoima-update-stage-7","keep":["tagmanifest-sha256.txt"],"keep_in":"data","put":[],"remove":[]}"#,
            r#"{"qoima_update":1,"staging":".qoima-update-stage-7","keep":["tagmanifest-sha256.txt"],"keep_in":null,"put":[],"remove":[]}"#,
            "my own notes",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn staging_names_are_recognised_by_their_exact_form() {
        assert!(is_staging(&staging_name()));
        for other in [
            ".qoima-update-stage-",
            ".qoima-update-stage-1a",
            "qoima-update-stage-1",
        ] {
            assert!(!is_staging(other), "{other}");
        }
    }
}
