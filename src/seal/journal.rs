//! Writing a seal's files so that a kill at any instant leaves the bag as it was, the bag
//! sealed, or a journal that the next `qoima seal` finishes before anything else.
//!
//! A seal rewrites several files that the tag manifests tie together (bag-info.txt, the tag
//! manifests, the key, VERIFY.txt, verify.sh, the signatures): no order of single renames keeps
//! the bag valid throughout. So every new file is first written and flushed beside its place
//! under a temporary name (`.NAME.qoima-seal-PID`); then the journal `.qoima-seal.json`, naming
//! each temporary and its place, is written (the commit point); then each temporary is renamed
//! into place, stale signatures are removed, and the journal last. Before the commit point the
//! bag is as it was, and the temporaries are removed by the next seal; after it, the next seal
//! rolls the renames forward. Only names of this exact form, beside a file seal writes, are
//! ever removed; a journal that does not name such files is refused (SEAL-068), not obeyed.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::SealError;
use super::layout::{CUSTODY_DIR, KEY_FILE, SEAL_DIR, VERIFY_SH, VERIFY_TXT};
use crate::bagit::manifest;
use crate::error::{Code, Problem};
use crate::fsutil;

/// The journal's name at the bag's top.
pub const SEAL_JOURNAL: &str = ".qoima-seal.json";
/// The tag of seal's temporaries (`.NAME.qoima-seal-PID`).
const TAG: &str = "seal";

#[derive(Serialize, Deserialize, Debug)]
struct Journal {
    qoima_seal: u32,
    /// `(place, temporary)`, bag-relative.
    write: Vec<(String, String)>,
    /// Stale signatures to remove, bag-relative.
    remove: Vec<String>,
}

/// Whether seal writes the bag-relative path `rel`.
fn is_seal_file(rel: &str) -> bool {
    match rel.split_once('/') {
        None => {
            rel == "bag-info.txt"
                || rel == VERIFY_TXT
                || rel == VERIFY_SH
                || matches!(manifest::classify(rel), Some((true, _)))
        }
        Some((SEAL_DIR, name)) => is_signature(name),
        Some(_) => rel == KEY_FILE,
    }
}

/// `tagmanifest-ALG.txt.minisig`, the name of a seal signature in `seal/`.
fn is_signature(name: &str) -> bool {
    name.strip_suffix(".minisig")
        .is_some_and(|tm| matches!(manifest::classify(tm), Some((true, _))))
}

/// The temporary of `rel` for this process, bag-relative.
fn temporary_of(rel: &str) -> String {
    fsutil::temp_sibling(Path::new(rel), TAG)
        .to_string_lossy()
        .into_owned()
}

/// Whether `temp` is a temporary of seal's form for `rel`, in the same folder.
fn is_temporary_of(temp: &str, rel: &str) -> bool {
    let (temp_dir, temp_name) = temp.rsplit_once('/').unwrap_or(("", temp));
    let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    temp_dir == dir && fsutil::temp_target(temp_name, TAG) == Some(name)
}

/// Writes `files` (bag-relative path, content) into `bag` and removes `remove` (stale
/// signatures), as one step a crash cannot leave half done (see the module comment). An error
/// before the commit point removes what this run staged, so the bag is as it was; an error
/// after it is reported once the seal is rolled forward as far as it goes.
pub fn commit(bag: &Path, files: &[(String, Vec<u8>)], remove: &[String]) -> Result<(), SealError> {
    let mut staged = Vec::new();
    let journal = match stage(bag, files, remove, &mut staged) {
        Ok(journal) => journal,
        Err(e) => {
            discard(bag, &staged);
            return Err(e);
        }
    };
    fsutil::failpoint("seal-journal");
    apply(bag, &journal)
}

/// Writes and flushes every temporary, then the journal (the commit point). `staged`
/// collects each path this run creates, as it creates it, for [`discard`].
fn stage(
    bag: &Path,
    files: &[(String, Vec<u8>)],
    remove: &[String],
    staged: &mut Vec<std::path::PathBuf>,
) -> Result<Journal, SealError> {
    let mut journal = Journal {
        qoima_seal: 1,
        write: Vec::new(),
        remove: remove.to_vec(),
    };
    for (rel, data) in files {
        let temp = temporary_of(rel);
        let path = bag.join(&temp);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(SealError::io(parent))?;
        }
        staged.push(path.clone());
        write_flushed(&path, data).map_err(SealError::io(&path))?;
        journal.write.push((rel.clone(), temp));
        fsutil::failpoint("seal-staged");
    }
    for folder in folders(bag) {
        fsutil::sync_dir(&folder).map_err(SealError::io(&folder))?;
    }
    let path = bag.join(SEAL_JOURNAL);
    let text = serde_json::to_vec_pretty(&journal).expect("the journal serialises");
    fsutil::write_atomic(&path, &text).map_err(SealError::io(&path))?;
    // Until the folder is flushed the journal is not known to be on disk: a failure here
    // still undoes the seal (no file has moved yet).
    staged.push(path);
    fsutil::sync_dir(bag).map_err(SealError::io(bag))?;
    Ok(journal)
}

/// After an error before the commit point: removes what this run staged (no file of the bag
/// has been touched yet), so the bag is as it was.
fn discard(bag: &Path, staged: &[std::path::PathBuf]) {
    for path in staged.iter().rev() {
        let _ = fs::remove_file(path);
    }
    for folder in folders(bag) {
        let _ = fsutil::sync_dir(&folder);
    }
}

/// Finishes what a journal names: the renames still to do, the removals, then the journal.
/// A rename or removal that fails stops here and the journal stays, for the next seal to
/// finish; a flush that fails does not stop the roll forward (every rename is already done,
/// and leaving the journal would only make the next seal redo them), but is reported.
fn apply(bag: &Path, journal: &Journal) -> Result<(), SealError> {
    for (rel, temp) in &journal.write {
        let from = bag.join(temp);
        if fs::symlink_metadata(&from).is_ok() {
            let to = bag.join(rel);
            fs::rename(&from, &to).map_err(SealError::io(&to))?;
            fsutil::failpoint("seal-rename");
        }
    }
    for rel in &journal.remove {
        let path = bag.join(rel);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(SealError::io(&path)(e)),
        }
    }
    fsutil::failpoint("seal-removed");
    let mut unflushed = None;
    for folder in folders(bag) {
        if let Err(e) = fsutil::sync_dir(&folder) {
            unflushed.get_or_insert((folder, e));
        }
    }
    let path = bag.join(SEAL_JOURNAL);
    fs::remove_file(&path).map_err(SealError::io(&path))?;
    if let Err(e) = fsutil::sync_dir(bag) {
        unflushed.get_or_insert((bag.to_path_buf(), e));
    }
    fsutil::failpoint("seal-done");
    match unflushed {
        None => Ok(()),
        Some((folder, e)) => Err(SealError::io(&folder)(std::io::Error::new(
            e.kind(),
            format!(
                "{e}: the seal is written, but this folder could not be flushed to disk; check the disk, then run `qoima verify-seal {}`",
                bag.display()
            ),
        ))),
    }
}

/// The folders seal writes in (those that exist).
fn folders(bag: &Path) -> Vec<std::path::PathBuf> {
    let key_dir = Path::new(KEY_FILE).parent().unwrap_or(Path::new(""));
    [bag.to_path_buf(), bag.join(key_dir), bag.join(SEAL_DIR)]
        .into_iter()
        .filter(|p| p.is_dir())
        .collect()
}

fn write_flushed(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = fs::File::create(path)?;
    file.write_all(data)?;
    file.sync_all()
}

/// Before a seal: finishes an interrupted one from its journal (true when it did), or removes
/// the temporaries of one interrupted before its commit point. A journal that is not qoima's
/// is refused (SEAL-068), and nothing is changed.
pub fn recover(bag: &Path) -> Result<bool, SealError> {
    let path = bag.join(SEAL_JOURNAL);
    match fs::read(&path) {
        Ok(bytes) => {
            let journal = parse(&bytes).map_err(|why| {
                SealError::Refused(vec![
                    Problem::new(
                        Code::SealJournal,
                        format!(
                            "{SEAL_JOURNAL} in {} is not the journal of an interrupted seal ({why}); nothing was changed",
                            bag.display()
                        ),
                    )
                    .file(SEAL_JOURNAL),
                ])
            })?;
            apply(bag, &journal)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            remove_stale_temporaries(bag)?;
            Ok(false)
        }
        Err(e) => Err(SealError::io(&path)(e)),
    }
}

/// A journal, read and checked: every place is one seal writes, every temporary is of seal's
/// form beside it, every removal a signature in `seal/`.
fn parse(bytes: &[u8]) -> Result<Journal, String> {
    let journal: Journal = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    for (rel, temp) in &journal.write {
        if !is_seal_file(rel) || !is_temporary_of(temp, rel) {
            return Err(format!(
                "it names {rel:?} and {temp:?}, which seal does not write"
            ));
        }
    }
    for rel in &journal.remove {
        let ok = rel
            .strip_prefix(&format!("{SEAL_DIR}/"))
            .is_some_and(is_signature);
        if !ok {
            return Err(format!(
                "it would remove {rel:?}, which is not a seal signature"
            ));
        }
    }
    Ok(journal)
}

/// Removes seal's temporaries (`.NAME.qoima-seal-PID` beside a file NAME that seal writes)
/// and the journal's own temporary, left by a seal killed before its commit point.
fn remove_stale_temporaries(bag: &Path) -> Result<(), SealError> {
    let journal_temp = |name: &str| fsutil::temp_target(name, "write") == Some(SEAL_JOURNAL);
    for folder in folders(bag) {
        let rel_dir = folder
            .strip_prefix(bag)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Ok(listing) = fs::read_dir(&folder) else {
            continue;
        };
        for e in listing.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let target = fsutil::temp_target(&name, TAG).map(|t| {
                if rel_dir.is_empty() {
                    t.to_string()
                } else {
                    format!("{rel_dir}/{t}")
                }
            });
            let ours = target.is_some_and(|t| is_seal_file(&t))
                || (rel_dir.is_empty() && journal_temp(&name));
            if ours && e.file_type().is_ok_and(|t| t.is_file()) {
                fs::remove_file(e.path()).map_err(SealError::io(&e.path()))?;
            }
        }
    }
    Ok(())
}

/// Temporaries of qoima's form (`.NAME.qoima-TAG-PID`) outside `data/`, `seal/` and
/// `custody/` that no seal step removes (another run's, e.g. an interrupted `bag`): a seal
/// would sign them, so it refuses them (SEAL-067).
pub fn leftover_temporaries(bag: &Path) -> Vec<Problem> {
    const TAGS: [&str; 6] = ["write", "seal", "custody", "token", "bag", "inplace"];
    let (walked, _) = fsutil::walk(bag, false, &["data", SEAL_DIR, CUSTODY_DIR]);
    walked
        .into_iter()
        .filter(|entry| entry.file_type.is_file())
        .filter_map(|entry| {
            let rel = entry.rel.to_string_lossy().into_owned();
            let name = entry.rel.file_name()?.to_string_lossy().into_owned();
            TAGS.iter()
                .any(|tag| fsutil::temp_target(&name, tag).is_some())
                .then_some(rel)
        })
        .map(|rel| {
            Problem::new(
                Code::SealLeftoverTemporary,
                format!(
                    "{} is a temporary file an interrupted qoima run left; a seal would sign it",
                    crate::paths::printable(&rel)
                ),
            )
            .file(rel)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_naming_other_files_is_refused() {
        let good = format!(
            r#"{{"qoima_seal":1,"write":[["bag-info.txt",".bag-info.txt.qoima-seal-7"],["seal/tagmanifest-sha256.txt.minisig","seal/.tagmanifest-sha256.txt.minisig.qoima-seal-7"]],"remove":["{SEAL_DIR}/tagmanifest-md5.txt.minisig"]}}"#
        );
        parse(good.as_bytes()).unwrap();
        for bad in [
            r#"{"qoima_seal":1,"write":[["data/a.txt",".a.txt.qoima-seal-7"]],"remove":[]}"#,
            r#"{"qoima_seal":1,"write":[["bag-info.txt","data/notes.txt"]],"remove":[]}"#,
            r#"{"qoima_seal":1,"write":[],"remove":["data/a.txt"]}"#,
            r#"{"qoima_seal":1,"write":[],"remove":["seal/../data/a.txt.minisig"]}"#,
            "my own notes",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
