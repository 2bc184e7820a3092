//! Making bags: scanning a source folder, refusing what cannot be bagged faithfully, hashing
//! (and copying) every file in one read, and writing the tag files.
//!
//! `bag` writes into a temporary folder beside the destination and renames it when complete,
//! so an interrupted run never leaves something that looks like a finished bag; the source
//! is only read.

//!
//! The files: `options` (what to bag and the rules around it), `scan` (the source, and what
//! is refused), `hash` (one read per file for every algorithm and the copy), `tags` (the tag
//! files), `error` (`BagError`); this file runs them in order.

mod error;
mod hash;
mod options;
mod scan;
mod tags;

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

pub use self::error::{BagError, refuse_overlap};
pub(crate) use self::hash::hash_files;
use self::hash::hash_files_linked;
pub use self::options::{
    BagOptions, JUNK, bagging_date, bagging_time, excluded_by, is_junk, tag_file_refusal,
};
pub use self::scan::{SourceFile, SourceScan, scan_source, scan_source_excluding};
pub use self::tags::{final_info, write_tag_files};
use super::baginfo::Oxum;
use crate::digest::{Algorithm, Engine, FileDigests, Progress};
use crate::error::Problem;
use crate::fsutil;

/// What a finished bag holds.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BagSummary {
    /// Where the bag is.
    pub bag: PathBuf,
    /// Payload files.
    pub files: u64,
    /// Payload bytes.
    pub bytes: u64,
    /// Manifest algorithms.
    pub algorithms: Vec<Algorithm>,
    /// Payload-Oxum written.
    pub payload_oxum: String,
    /// Warnings about the source (nothing that stopped bagging).
    pub problems: Vec<Problem>,
    /// Source files left out by `--exclude` or `--exclude-junk` (source-relative, sorted).
    pub excluded: Vec<String>,
}

/// Bags the folder `src` into a new bag at `dest`, copying the payload; `src` is only read.
pub fn create_bag(
    src: &Path,
    dest: &Path,
    opts: &BagOptions,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<BagSummary, BagError> {
    create_bag_with(src, dest, opts, engine, progress, &|_, _| Ok(Vec::new()))
}

/// Further tag files for a bag, made from its payload and digests once they are known:
/// `(bag-relative path, content)`, written and listed in the tag manifests.
pub type ExtraTags<'a> =
    dyn Fn(&[SourceFile], &[FileDigests]) -> Result<Vec<(String, Vec<u8>)>, BagError> + 'a;

/// [`create_bag`], with tag files of the caller's (a METS, descriptive records) added before
/// the tag manifests are written.
pub fn create_bag_with(
    src: &Path,
    dest: &Path,
    opts: &BagOptions,
    engine: &Engine,
    progress: &dyn Progress,
    extra: &ExtraTags<'_>,
) -> Result<BagSummary, BagError> {
    // Where the destination would be, judged before anything is created, through links and
    // `..`: `new/../src/bag` cannot slip past the check.
    refuse_overlap(src, dest, "the bag")?;
    if dest.exists() || fs::symlink_metadata(dest).is_ok() {
        return Err(BagError::Exists(dest.to_path_buf()));
    }
    let parent = match dest.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let scan =
        engine.install(|| scan_source_excluding(src, opts.follow_links, &[], &opts.exclude))?;
    fs::create_dir_all(&parent).map_err(BagError::io(&parent))?;
    // A killed run's temporary folder (its process gone) is removed; a live run's is not.
    fsutil::sweep_stale(dest, "bag");
    let tmp = fsutil::temp_sibling(dest, "bag");
    let stage = Stage {
        src,
        tmp: &tmp,
        files: &scan.files,
        opts,
        engine,
        progress,
    };
    let result = (|| {
        let digests = stage.fill(extra)?;
        fs::rename(&tmp, dest).map_err(BagError::io(dest))?;
        // The rename is only durable once the folder is flushed: a failure is reported.
        fsutil::sync_dir(&parent).map_err(BagError::io(&parent))?;
        Ok(digests)
    })();
    match result {
        Ok(digests) => {
            let mut done = summary(dest, &scan.files, &digests, opts, scan.warnings);
            done.excluded = scan.excluded;
            Ok(done)
        }
        Err(error) => {
            let _ = fs::remove_dir_all(&tmp);
            Err(error)
        }
    }
}

/// A bag being made in its temporary folder `tmp`.
struct Stage<'a> {
    src: &'a Path,
    tmp: &'a Path,
    files: &'a [SourceFile],
    opts: &'a BagOptions,
    engine: &'a Engine,
    progress: &'a dyn Progress,
}

impl Stage<'_> {
    /// Copies (or links) and hashes the payload, syncs it, and writes the tag files; returns
    /// the payload's digests.
    fn fill(&self, extra: &ExtraTags<'_>) -> Result<Vec<FileDigests>, BagError> {
        let data = self.tmp.join("data");
        self.make_folders(&data)?;
        let linked = self.link_payload(&data);
        let stage = if self.opts.link && linked.iter().all(|&is_linked| is_linked) {
            "hashing"
        } else {
            "copying and hashing"
        };
        self.progress.stage(
            stage,
            self.files.iter().map(|file| file.size).sum(),
            self.files.len() as u64,
        );
        let digests = hash_files_linked(
            self.src,
            self.files,
            &self.opts.algorithms,
            Some(data.as_path()),
            &linked,
            self.opts.follow_links,
            self.engine,
            self.progress,
        )?;
        let tags = self.sync_while_describing(&digests, extra)?;
        write_tag_files(self.tmp, self.files, &digests, self.opts, &tags)?;
        Ok(digests)
    }

    /// `data/` and every folder the payload needs.
    fn make_folders(&self, data: &Path) -> Result<(), BagError> {
        fs::create_dir_all(data).map_err(BagError::io(data))?;
        let mut made: HashSet<&str> = HashSet::new();
        for file in self.files {
            if let Some((dir, _)) = file.rel.rsplit_once('/')
                && made.insert(dir)
            {
                let folder = data.join(dir);
                fs::create_dir_all(&folder).map_err(BagError::io(&folder))?;
            }
        }
        Ok(())
    }

    /// With --link, every regular file that can be is hard-linked first (a link cannot cross
    /// filesystems, and a followed symlink is copied so that the bag holds a file); which
    /// ones were (empty without --link).
    fn link_payload(&self, data: &Path) -> Vec<bool> {
        if !self.opts.link {
            return Vec::new();
        }
        self.files
            .iter()
            .map(|file| {
                let from = self.src.join(&file.rel);
                fs::symlink_metadata(&from).is_ok_and(|meta| meta.is_file())
                    && fs::hard_link(&from, data.join(&file.rel)).is_ok()
            })
            .collect()
    }

    /// The payload reaches the disk before the tag files that vouch for it, and the rename
    /// that makes the bag visible comes last: one syncfs(2) instead of a fsync per file. The
    /// caller's tag files (a METS of 60 MB for 5,000 items) are made while the disk catches
    /// up: describing is work for a core, syncing is waiting for the disk.
    fn sync_while_describing(
        &self,
        digests: &[FileDigests],
        extra: &ExtraTags<'_>,
    ) -> Result<Vec<(String, Vec<u8>)>, BagError> {
        self.progress.stage("syncing to disk", 0, 0);
        let (synced, tags) = std::thread::scope(|scope| {
            let sync = scope.spawn(|| fsutil::sync_filesystem(self.tmp));
            let tags = extra(self.files, digests);
            (sync.join().expect("the sync thread does not panic"), tags)
        });
        synced.map_err(BagError::io(self.tmp))?;
        fsutil::failpoint("bag-before-tags");
        self.progress.stage("writing tag files", 0, 0);
        tags
    }
}

/// What a finished bag holds: its files, bytes, algorithms and Payload-Oxum, and the
/// warnings about its source.
pub(crate) fn summary(
    bag: &Path,
    files: &[SourceFile],
    digests: &[FileDigests],
    opts: &BagOptions,
    problems: Vec<Problem>,
) -> BagSummary {
    let bytes = digests.iter().map(|d| d.size).sum();
    BagSummary {
        bag: bag.to_path_buf(),
        files: files.len() as u64,
        bytes,
        algorithms: opts.algorithms.clone(),
        payload_oxum: Oxum {
            octets: bytes,
            streams: files.len() as u64,
        }
        .to_string(),
        problems,
        excluded: Vec::new(),
    }
}
