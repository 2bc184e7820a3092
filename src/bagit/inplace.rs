//! Bagging a folder where it stands, so that a crash at any moment loses nothing.
//!
//! Only `rename(2)` ever moves a byte, and a journal names every moved entry before the first
//! move, so at every instant each original entry is either where it was or in the staging
//! folder. The steps:
//! 1. scan and hash everything in place (read-only: a refusal or crash here changes nothing);
//! 2. write the journal `.qoima-inplace.json` (stage `prepared`), create the staging folder
//!    `.qoima-payload`, and move each top-level entry into it;
//! 3. rewrite the journal (stage `moved`), rename the staging folder to `data`;
//! 4. write the tag files, bagit.txt last; remove the journal.
//!
//! Rerunning on a folder with a journal finishes the job; `rollback` undoes it.
//!
//! Nothing of the user's is ever taken for qoima's. The journal and the staging folder have
//! fixed names, so a fresh run refuses (BAG-090) a folder whose top already holds one: a
//! staging folder without a journal is never qoima's, and a file named like the journal that
//! does not read as one is the user's. Temporaries (`.NAME.qoima-write-PID`) are qoima's only
//! where qoima writes NAME: at a fresh start the one possible leftover is the journal's own
//! temporary, proven by reading as a journal; once everything is in data/, what stands at the
//! top beside it is qoima's, so finishing removes stale temporaries of the tag files there
//! (a rerun after a crash otherwise leaves them in the bag) and a rollback removes the tag
//! files. Every other name, `.qoima-write-` in it or not, is payload.
//!
//! Everything that cannot be moved (a read-only folder, an immutable file; see
//! [`super::movable`]) is found before the first move.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::create::{
    BagError, BagOptions, BagSummary, hash_files, scan_source, summary, write_tag_files,
};
use crate::digest::{Engine, Progress};
use crate::error::{Code, Problem};
use crate::fsutil;

/// The journal's file name at the folder's top.
pub const JOURNAL: &str = ".qoima-inplace.json";
/// The staging folder's name at the folder's top.
pub const STAGING: &str = ".qoima-payload";

#[derive(Serialize, Deserialize, Debug, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Stage {
    Prepared,
    Moved,
    /// A rollback has put the payload back into the staging folder: nothing at the top is
    /// qoima's any more, and only a rollback may go on.
    RollingBack,
}

#[derive(Serialize, Deserialize, Debug)]
struct Journal {
    qoima_in_place: u32,
    stage: Stage,
    entries: Vec<String>,
}

fn read_journal(dir: &Path) -> Result<Option<Journal>, BagError> {
    let path = dir.join(JOURNAL);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(BagError::Io { path, source }),
    };
    let why = match serde_json::from_slice::<Journal>(&bytes) {
        Ok(journal) if journal.entries.iter().all(|n| is_top_level_name(n)) => {
            return Ok(Some(journal));
        }
        Ok(_) => "it names an entry that is not a top-level name".to_string(),
        Err(error) => error.to_string(),
    };
    Err(BagError::Refused(vec![
        Problem::new(
            Code::InPlaceReservedName,
            format!(
                "{JOURNAL} in {} is not a journal of `qoima bag --in-place` ({why}): if the file is yours, rename it; if qoima wrote it, it is damaged: inspect the folder by hand. Nothing was moved",
                dir.display()
            ),
        )
        .file(JOURNAL),
    ]))
}

/// One plain name, as a journal may list: no separator, not `.` or `..`.
fn is_top_level_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

/// Whether `name`, at the top of a folder being bagged in place, is the temporary of a file
/// qoima writes there (the journal or a tag file; [`fsutil::temp_sibling`]'s form).
fn is_tag_temporary(name: &str) -> bool {
    fsutil::temp_target(name, "write").is_some_and(|target| {
        target == JOURNAL
            || target == "bagit.txt"
            || target == "bag-info.txt"
            || super::manifest::classify(target).is_some()
    })
}

fn write_journal(dir: &Path, journal: &Journal) -> Result<(), BagError> {
    let path = dir.join(JOURNAL);
    let text = serde_json::to_vec_pretty(journal).expect("journal serialises");
    fsutil::write_atomic(&path, &text).map_err(BagError::io(&path))?;
    fsutil::sync_dir(dir).map_err(BagError::io(dir))
}

/// Bags `dir` in place: its content moves into `dir/data/` and the tag files are written
/// beside it. If an earlier run was interrupted, this finishes it. The caller holds the
/// folder's lock ([`fsutil::DirLock`]).
pub fn bag_in_place(
    dir: &Path,
    opts: &BagOptions,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<BagSummary, BagError> {
    if opts.follow_links {
        return Err(BagError::Usage(
            "--follow-links cannot be combined with --in-place: moving a link into data/ changes what a relative link points to; bag into a new place with -o".into(),
        ));
    }
    if let Some(journal) = read_journal(dir)? {
        return undo_on_disk_error(dir, finish(dir, journal, opts, engine, progress));
    }
    if dir.join("bagit.txt").exists() {
        return Err(BagError::Usage(format!(
            "{} already holds a bagit.txt: it looks like a bag already. To bag it again as payload, bag it into a new place with -o",
            dir.display()
        )));
    }
    let entries = clear_reserved(dir, top_level_names(dir)?)?;
    let (files, warnings) = engine.install(|| scan_source(dir, false, &[]))?;
    refuse_unmovable(dir, &entries, "nothing was moved")?;
    progress.stage(
        "hashing",
        files.iter().map(|f| f.size).sum(),
        files.len() as u64,
    );
    let digests = hash_files(dir, &files, &opts.algorithms, None, false, engine, progress)?;
    let journal = Journal {
        qoima_in_place: 1,
        stage: Stage::Prepared,
        entries,
    };
    let done = move_and_tag(
        dir,
        journal,
        (files, digests),
        opts,
        engine,
        progress,
        warnings,
    );
    undo_on_disk_error(dir, done)
}

/// From the journal on: moves every entry into data/ and writes the tag files.
fn move_and_tag(
    dir: &Path,
    mut journal: Journal,
    (files, digests): (
        Vec<super::create::SourceFile>,
        Vec<crate::digest::FileDigests>,
    ),
    opts: &BagOptions,
    engine: &Engine,
    progress: &dyn Progress,
    warnings: Vec<Problem>,
) -> Result<BagSummary, BagError> {
    write_journal(dir, &journal)?;
    fsutil::failpoint("inplace-journal");
    let staging = dir.join(STAGING);
    fs::create_dir(&staging).map_err(BagError::io(&staging))?;
    for name in &journal.entries {
        move_entry(dir, &staging, name)?;
        fsutil::failpoint("inplace-move");
    }
    journal.stage = Stage::Moved;
    write_journal(dir, &journal)?;
    fsutil::failpoint("inplace-moved");
    fs::rename(&staging, dir.join("data")).map_err(BagError::io(&staging))?;
    fsutil::sync_dir(dir).map_err(BagError::io(dir))?;
    fsutil::failpoint("inplace-renamed");
    // Anything created or resized between the scan and the moves went into data/ with the
    // rest: the manifests must describe data/ as it is now, so look again, and hash again
    // when it differs.
    let data = dir.join("data");
    let (now, _) = engine.install(|| scan_source(&data, false, &[]))?;
    let same = now.len() == files.len()
        && now
            .iter()
            .zip(&files)
            .all(|(a, b)| a.rel == b.rel && a.size == b.size);
    let (files, digests) = if same {
        (files, digests)
    } else {
        let rehashed = hash_files(&data, &now, &opts.algorithms, None, false, engine, progress)?;
        (now, rehashed)
    };
    complete(dir, &files, &digests, opts, warnings)
}

/// After a disk error (a full or failing disk, a file that cannot be moved) once the journal
/// exists: rolls the folder back, so that an error exit leaves it as it was before the run.
/// Should the rollback fail too, the journal stays, and the message says how to finish or
/// undo. Refusals and usage errors pass unchanged (they name their own way out).
fn undo_on_disk_error(
    dir: &Path,
    result: Result<BagSummary, BagError>,
) -> Result<BagSummary, BagError> {
    let Err(BagError::Io { path, source }) = result else {
        return result;
    };
    if fs::symlink_metadata(dir.join(JOURNAL)).is_err() {
        return Err(BagError::Io { path, source });
    }
    let outcome = match rollback(dir) {
        Ok(_) => format!(
            "{source}. qoima rolled {} back: it is as it was before this run, nothing is lost; fix the cause and run `qoima bag --in-place` again",
            dir.display()
        ),
        Err(undo) => format!(
            "{source}. Rolling back failed too ({undo}): the journal {JOURNAL} is kept and nothing is lost; once the cause is fixed, run `qoima bag --in-place` again to finish, or `qoima bag --rollback` to undo"
        ),
    };
    Err(BagError::Io {
        path,
        source: std::io::Error::new(source.kind(), outcome),
    })
}

/// The names at the top of `dir`, sorted; a name that is not UTF-8 is refused.
fn top_level_names(dir: &Path) -> Result<Vec<String>, BagError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(BagError::io(dir))? {
        let entry = entry.map_err(BagError::io(dir))?;
        let name = entry.file_name().into_string().map_err(|n| {
            BagError::Refused(vec![Problem::new(
                Code::NonUtf8Name,
                format!("{} has a name that is not valid UTF-8", n.to_string_lossy()),
            )])
        })?;
        names.push(name);
    }
    names.sort();
    Ok(names)
}

/// Before a fresh run (no journal): removes the journal's temporary a crash left, once it is
/// proven qoima's by reading as a journal, and refuses (BAG-090) every other top-level name
/// qoima would use. Returns the names that are payload.
fn clear_reserved(dir: &Path, names: Vec<String>) -> Result<Vec<String>, BagError> {
    let mut payload = Vec::new();
    let mut problems = Vec::new();
    for name in names {
        let path = dir.join(&name);
        let why = if name == STAGING {
            "it is the name of qoima's staging folder (qoima's own exists only while its journal does)"
        } else if fsutil::temp_target(&name, "write") == Some(JOURNAL) {
            let ours = fs::symlink_metadata(&path).is_ok_and(|m| m.is_file())
                && fs::read(&path).is_ok_and(|b| serde_json::from_slice::<Journal>(&b).is_ok());
            if ours {
                fs::remove_file(&path).map_err(BagError::io(&path))?;
                continue;
            }
            "it is named like the temporary of qoima's journal but does not read as one"
        } else {
            payload.push(name);
            continue;
        };
        problems.push(
            Problem::new(
                Code::InPlaceReservedName,
                format!(
                    "{} cannot be bagged in place: {why}; rename it, or bag into a new place with -o. Nothing was moved",
                    crate::paths::printable(&name)
                ),
            )
            .file(name),
        );
    }
    if problems.is_empty() {
        Ok(payload)
    } else {
        Err(BagError::Refused(problems))
    }
}

/// Refuses (BAG-091), before anything more moves, when `names` cannot all be moved.
fn refuse_unmovable(dir: &Path, names: &[String], advice: &str) -> Result<(), BagError> {
    let problems = super::movable::unmovable(dir, names, advice);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(BagError::Refused(problems))
    }
}

/// Moves the top-level entry `name` into the staging folder; a failure says what to do.
fn move_entry(dir: &Path, staging: &Path, name: &str) -> Result<(), BagError> {
    let from = dir.join(name);
    fs::rename(&from, staging.join(name)).map_err(|e| BagError::Io {
        path: from,
        source: std::io::Error::new(
            e.kind(),
            format!(
                "{e}: it could not be moved into {STAGING} (to make it movable: `chmod u+w`, `chattr -i`)"
            ),
        ),
    })
}

/// The last step of a run, fresh or finished: the tag files, then the removal of qoima's
/// stale temporaries, then the journal.
fn complete(
    dir: &Path,
    files: &[super::create::SourceFile],
    digests: &[crate::digest::FileDigests],
    opts: &BagOptions,
    warnings: Vec<Problem>,
) -> Result<BagSummary, BagError> {
    write_tag_files(dir, files, digests, opts, &[])?;
    remove_stale_temporaries(dir, opts)?;
    fs::remove_file(dir.join(JOURNAL)).map_err(BagError::io(dir.join(JOURNAL)))?;
    // The bag is complete; a failed flush here is still reported (the disk may be failing),
    // though nothing is left to undo or finish.
    fsutil::sync_dir(dir).map_err(|e| BagError::Io {
        path: dir.to_path_buf(),
        source: std::io::Error::new(
            e.kind(),
            format!("{e}: the bag is complete, but the folder could not be flushed to disk; check the disk, then `qoima validate` the bag"),
        ),
    })?;
    Ok(summary(dir, files, digests, opts, warnings))
}

/// Removes the temporaries an interrupted run left beside the tag files. Called with the
/// payload in data/, when everything else at the top (and in a `--tag-file`'s folder) was
/// written by qoima.
fn remove_stale_temporaries(dir: &Path, opts: &BagOptions) -> Result<(), BagError> {
    let mut places: Vec<(std::path::PathBuf, Option<&str>)> = vec![(dir.to_path_buf(), None)];
    for (rel, _) in &opts.tag_files {
        let path = dir.join(rel);
        if let (Some(parent), Some(name)) = (path.parent(), rel.rsplit('/').next()) {
            places.push((parent.to_path_buf(), Some(name)));
        }
    }
    for (folder, extra) in places {
        let Ok(listing) = fs::read_dir(&folder) else {
            continue;
        };
        for entry in listing.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stale = match extra {
                None => is_tag_temporary(&name),
                Some(tag) => fsutil::temp_target(&name, "write") == Some(tag),
            };
            if stale && entry.file_type().is_ok_and(|kind| kind.is_file()) {
                fs::remove_file(entry.path()).map_err(BagError::io(entry.path()))?;
            }
        }
    }
    Ok(())
}

/// Finishes an interrupted in-place run from its journal.
fn finish(
    dir: &Path,
    mut journal: Journal,
    opts: &BagOptions,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<BagSummary, BagError> {
    if journal.stage == Stage::RollingBack {
        return Err(BagError::Usage(format!(
            "a rollback of {} was interrupted; finish it with `qoima bag --rollback` first",
            dir.display()
        )));
    }
    let staging = dir.join(STAGING);
    if journal.stage == Stage::Prepared {
        if !staging.exists() {
            // Nothing moved yet: start again from the beginning.
            fs::remove_file(dir.join(JOURNAL)).map_err(BagError::io(dir.join(JOURNAL)))?;
            return bag_in_place(dir, opts, engine, progress);
        }
        let left: Vec<String> = journal
            .entries
            .iter()
            .filter(|name| {
                fs::symlink_metadata(dir.join(name)).is_ok()
                    && fs::symlink_metadata(staging.join(name)).is_err()
            })
            .cloned()
            .collect();
        refuse_unmovable(
            dir,
            &left,
            "some entries are already in .qoima-payload: make it movable and run again to finish, or undo with `qoima bag --rollback`",
        )?;
        for name in &left {
            move_entry(dir, &staging, name)?;
        }
        journal.stage = Stage::Moved;
        write_journal(dir, &journal)?;
    }
    if staging.exists() {
        fs::rename(&staging, dir.join("data")).map_err(BagError::io(&staging))?;
        fsutil::sync_dir(dir).map_err(BagError::io(dir))?;
    }
    let data = dir.join("data");
    let (files, warnings) = engine.install(|| scan_source(&data, false, &[]))?;
    let digests = hash_files(
        &data,
        &files,
        &opts.algorithms,
        None,
        false,
        engine,
        progress,
    )?;
    complete(dir, &files, &digests, opts, warnings)
}

/// Removes the journal's temporaries a killed run left at the top of `dir` (one made while
/// replacing the journal holds a complete journal: see [`fsutil::write_atomic`]), each proven
/// qoima's by reading as a journal; anything else of that name is the user's and stays.
fn remove_journal_temporaries(dir: &Path) -> Result<(), BagError> {
    for entry in fs::read_dir(dir).map_err(BagError::io(dir))?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let ours = fsutil::temp_target(&name, "write") == Some(JOURNAL)
            && entry.file_type().is_ok_and(|kind| kind.is_file())
            && fs::read(&path).is_ok_and(|bytes| serde_json::from_slice::<Journal>(&bytes).is_ok());
        if ours {
            fs::remove_file(&path).map_err(BagError::io(&path))?;
        }
    }
    Ok(())
}

/// Undoes an interrupted in-place run: every original entry goes back to where it was and
/// the tag files qoima wrote are removed. Returns the number of entries restored. The caller
/// holds the folder's lock ([`fsutil::DirLock`]).
pub fn rollback(dir: &Path) -> Result<usize, BagError> {
    let Some(mut journal) = read_journal(dir)? else {
        return Err(BagError::Usage(format!(
            "{} has no interrupted in-place run to roll back (no {JOURNAL})",
            dir.display()
        )));
    };
    let staging = dir.join(STAGING);
    if journal.stage == Stage::Moved && !staging.exists() {
        // The staging folder had become data/: every original is inside it, so what stands
        // beside it at the top was written by qoima — but only its own names are removed.
        for entry in fs::read_dir(dir).map_err(BagError::io(dir))? {
            let entry = entry.map_err(BagError::io(dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let ours = name == "bagit.txt"
                || name == "bag-info.txt"
                || super::manifest::classify(&name).is_some()
                || is_tag_temporary(&name);
            if ours && entry.file_type().is_ok_and(|kind| kind.is_file()) {
                fs::remove_file(entry.path()).map_err(BagError::io(entry.path()))?;
            }
        }
        fs::rename(dir.join("data"), &staging).map_err(BagError::io(dir.join("data")))?;
        // From here on, what reappears at the top is the user's: say so before restoring,
        // so that a crash during the restore can never lead a rerun to delete or overwrite it.
        journal.stage = Stage::RollingBack;
        write_journal(dir, &journal)?;
    }
    let mut restored = 0;
    if staging.exists() {
        for name in &journal.entries {
            let from = staging.join(name);
            if fs::symlink_metadata(&from).is_ok() {
                fs::rename(&from, dir.join(name)).map_err(BagError::io(&from))?;
                restored += 1;
                fsutil::failpoint("rollback-restore");
            }
        }
        fs::remove_dir(&staging).map_err(BagError::io(&staging))?;
    }
    remove_journal_temporaries(dir)?;
    fs::remove_file(dir.join(JOURNAL)).map_err(BagError::io(dir.join(JOURNAL)))?;
    let _ = fsutil::sync_dir(dir);
    Ok(restored)
}
