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
    let p = dir.join(JOURNAL);
    match fs::read(&p) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| BagError::Io {
                path: p,
                source: std::io::Error::other(format!(
                    "the in-place journal is unreadable ({e}); inspect the folder by hand"
                )),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(BagError::Io { path: p, source: e }),
    }
}

fn write_journal(dir: &Path, j: &Journal) -> Result<(), BagError> {
    let p = dir.join(JOURNAL);
    let text = serde_json::to_vec_pretty(j).expect("journal serialises");
    fsutil::write_atomic(&p, &text).map_err(BagError::io(&p))?;
    fsutil::sync_dir(dir).map_err(BagError::io(dir))
}

/// Bags `dir` in place: its content moves into `dir/data/` and the tag files are written
/// beside it. If an earlier run was interrupted, this finishes it.
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
    if let Some(j) = read_journal(dir)? {
        return finish(dir, j, opts, engine, progress);
    }
    if dir.join("bagit.txt").exists() {
        return Err(BagError::Usage(format!(
            "{} already holds a bagit.txt: it looks like a bag already. To bag it again as payload, bag it into a new place with -o",
            dir.display()
        )));
    }
    // A temporary left by a crash while the journal was being written is qoima's, not payload.
    let leftovers: Vec<String> = fs::read_dir(dir)
        .map_err(BagError::io(dir))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains(".qoima-write-"))
        .collect();
    let mut skip: Vec<&str> = vec![JOURNAL, STAGING];
    skip.extend(leftovers.iter().map(String::as_str));
    let (files, warnings) = engine.install(|| scan_source(dir, false, &skip))?;
    progress.stage(
        "hashing",
        files.iter().map(|f| f.size).sum(),
        files.len() as u64,
    );
    let digests = hash_files(dir, &files, &opts.algorithms, None, false, engine, progress)?;
    let mut entries: Vec<String> = Vec::new();
    for e in fs::read_dir(dir).map_err(BagError::io(dir))? {
        let e = e.map_err(BagError::io(dir))?;
        let name = e.file_name().into_string().map_err(|n| {
            BagError::Refused(vec![Problem::new(
                Code::NonUtf8Name,
                format!("{} has a name that is not valid UTF-8", n.to_string_lossy()),
            )])
        })?;
        if !skip.contains(&name.as_str()) {
            entries.push(name);
        }
    }
    entries.sort();
    let mut journal = Journal {
        qoima_in_place: 1,
        stage: Stage::Prepared,
        entries,
    };
    write_journal(dir, &journal)?;
    fsutil::failpoint("inplace-journal");
    let staging = dir.join(STAGING);
    fs::create_dir(&staging).map_err(BagError::io(&staging))?;
    for name in &journal.entries {
        fs::rename(dir.join(name), staging.join(name)).map_err(BagError::io(dir.join(name)))?;
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
        let d = hash_files(&data, &now, &opts.algorithms, None, false, engine, progress)?;
        (now, d)
    };
    write_tag_files(dir, &files, &digests, opts, &[])?;
    fs::remove_file(dir.join(JOURNAL)).map_err(BagError::io(dir.join(JOURNAL)))?;
    let _ = fsutil::sync_dir(dir);
    Ok(summary(dir, &files, &digests, opts, warnings))
}

/// Finishes an interrupted in-place run from its journal.
fn finish(
    dir: &Path,
    mut j: Journal,
    opts: &BagOptions,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<BagSummary, BagError> {
    if j.stage == Stage::RollingBack {
        return Err(BagError::Usage(format!(
            "a rollback of {} was interrupted; finish it with `qoima bag --rollback` first",
            dir.display()
        )));
    }
    let staging = dir.join(STAGING);
    if j.stage == Stage::Prepared {
        if !staging.exists() {
            // Nothing moved yet: start again from the beginning.
            fs::remove_file(dir.join(JOURNAL)).map_err(BagError::io(dir.join(JOURNAL)))?;
            return bag_in_place(dir, opts, engine, progress);
        }
        for name in &j.entries {
            let from = dir.join(name);
            if fs::symlink_metadata(&from).is_ok()
                && fs::symlink_metadata(staging.join(name)).is_err()
            {
                fs::rename(&from, staging.join(name)).map_err(BagError::io(&from))?;
            }
        }
        j.stage = Stage::Moved;
        write_journal(dir, &j)?;
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
    write_tag_files(dir, &files, &digests, opts, &[])?;
    fs::remove_file(dir.join(JOURNAL)).map_err(BagError::io(dir.join(JOURNAL)))?;
    let _ = fsutil::sync_dir(dir);
    Ok(summary(dir, &files, &digests, opts, warnings))
}

/// Undoes an interrupted in-place run: every original entry goes back to where it was and
/// the tag files qoima wrote are removed. Returns the number of entries restored.
pub fn rollback(dir: &Path) -> Result<usize, BagError> {
    let Some(mut j) = read_journal(dir)? else {
        return Err(BagError::Usage(format!(
            "{} has no interrupted in-place run to roll back (no {JOURNAL})",
            dir.display()
        )));
    };
    let staging = dir.join(STAGING);
    if j.stage == Stage::Moved && !staging.exists() {
        // The staging folder had become data/: everything original is inside it, so what
        // stands beside it at the top was written by qoima.
        for e in fs::read_dir(dir).map_err(BagError::io(dir))? {
            let e = e.map_err(BagError::io(dir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let ours = name == "bagit.txt"
                || name == "bag-info.txt"
                || super::manifest::classify(&name).is_some()
                || name.contains(".qoima-write-");
            if ours && e.file_type().is_ok_and(|t| t.is_file()) {
                fs::remove_file(e.path()).map_err(BagError::io(e.path()))?;
            }
        }
        fs::rename(dir.join("data"), &staging).map_err(BagError::io(dir.join("data")))?;
        // From here on, what reappears at the top is the user's: say so before restoring,
        // so that a crash during the restore can never lead a rerun to delete or overwrite it.
        j.stage = Stage::RollingBack;
        write_journal(dir, &j)?;
    }
    let mut restored = 0;
    if staging.exists() {
        for name in &j.entries {
            let from = staging.join(name);
            if fs::symlink_metadata(&from).is_ok() {
                fs::rename(&from, dir.join(name)).map_err(BagError::io(&from))?;
                restored += 1;
                fsutil::failpoint("rollback-restore");
            }
        }
        fs::remove_dir(&staging).map_err(BagError::io(&staging))?;
    }
    fs::remove_file(dir.join(JOURNAL)).map_err(BagError::io(dir.join(JOURNAL)))?;
    let _ = fsutil::sync_dir(dir);
    Ok(restored)
}
