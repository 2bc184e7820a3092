//! Where a new bag goes, and the one way a bag becomes an archive.
//!
//! `qoima bag -o OUT --zip` and `qoima package -o OUT --zip` make the bag in a staging folder
//! beside the archive, its payload hard-linked where the filesystem allows (the source is only
//! read), then write that folder into the archive — which replaces an old one only once it is
//! complete — and remove the staging folder whatever happens. Because the staged payload may
//! share its bytes with a source still being written to, what goes into the archive is held to
//! the digests taken when it was hashed ([`WriteOptions::verify`]). `qoima serialize` writes an
//! existing bag folder through the same step, without the staging.

use std::fs;
use std::path::{Path, PathBuf};

use super::run::{self, PackageOptions, PackageReport};
use crate::archive::write::{self, ArchiveSummary, WriteOptions};
use crate::bagit::create::{BagError, BagOptions, BagSummary, create_bag};
use crate::digest::{Engine, Progress};
use crate::store::Format;

/// How a bag is written as one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchivePlan {
    /// zip, tar or tar.gz.
    pub format: Format,
    /// Deflate zip entries (they are stored otherwise).
    pub compress: bool,
    /// Compute the archive's sha256 (for the transfer receipt).
    pub checksum: bool,
    /// Write the archive's sha256 beside it as `ARCHIVE.sha256` (computing it).
    pub checksum_file: bool,
}

/// Where a new bag goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// A new folder.
    Folder(PathBuf),
    /// One archive file.
    Archive {
        /// The archive, named with the format's extension.
        file: PathBuf,
        /// How it is written.
        plan: ArchivePlan,
    },
}

impl Destination {
    /// `-o out`: the folder `out`, or with a `plan` the archive `out` with the format's
    /// extension added when it is missing.
    pub fn new(out: &Path, plan: Option<ArchivePlan>) -> Destination {
        match plan {
            None => Destination::Folder(out.to_path_buf()),
            Some(plan) => Destination::Archive {
                file: crate::store::with_extension(out, plan.format),
                plan,
            },
        }
    }
}

/// Makes a bag of the folder `source` at `destination` (`qoima bag -o`): the bag's summary,
/// with the archive's when it was serialized (the summary then names the archive).
pub fn bag(
    source: &Path,
    destination: &Destination,
    opts: &BagOptions,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<(BagSummary, Option<ArchiveSummary>), BagError> {
    match destination {
        Destination::Folder(out) => Ok((create_bag(source, out, opts, engine, progress)?, None)),
        Destination::Archive { file, plan } => {
            let staged_opts = BagOptions {
                link: true,
                ..opts.clone()
            };
            let make = |staged: &Path| create_bag(source, staged, &staged_opts, engine, progress);
            stage_then_serialize(file, plan, false, progress, make, |summary| Some(summary))
        }
    }
}

/// Checks the collection `collection` and packages it at `destination` (`qoima package`):
/// the package report, with the archive's summary when a bag was made and serialized.
pub fn package(
    collection: &Path,
    destination: &Destination,
    opts: &PackageOptions,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<(PackageReport, Option<ArchiveSummary>), BagError> {
    match destination {
        Destination::Folder(out) => {
            Ok((run::package(collection, out, opts, engine, progress)?, None))
        }
        Destination::Archive { file, plan } => {
            // The staged bag is new; `force` applies to the archive it is written into.
            let mut staged_opts = opts.clone();
            staged_opts.bag.link = true;
            staged_opts.force = false;
            let make =
                |staged: &Path| run::package(collection, staged, &staged_opts, engine, progress);
            stage_then_serialize(file, plan, opts.force, progress, make, |report| {
                report.bag.as_mut()
            })
        }
    }
}

/// Writes the bag folder `bag` into `archive` as `plan` says (`qoima serialize`), and its
/// checksum file when asked. An existing `archive` is refused.
pub fn serialize(
    bag: &Path,
    archive: &Path,
    plan: &ArchivePlan,
    progress: &dyn Progress,
) -> Result<ArchiveSummary, BagError> {
    write_archive(bag, archive, plan, Staged::No, progress)
}

/// Where a bag made for an archive is staged: beside the archive, so that payload can be
/// hard-linked rather than copied when the source shares its filesystem.
fn staging_dir(archive: &Path) -> PathBuf {
    crate::fsutil::temp_sibling(archive, "stage")
}

/// Makes a bag with `make` in a staging folder beside `archive`, then serializes it there when
/// `bag_of` finds a bag in what was made (a package refused by its check has none). The staging
/// folder is removed whatever happens. `replace` lets the archive replace an existing file.
fn stage_then_serialize<T>(
    archive: &Path,
    plan: &ArchivePlan,
    replace: bool,
    progress: &dyn Progress,
    make: impl FnOnce(&Path) -> Result<T, BagError>,
    bag_of: fn(&mut T) -> Option<&mut BagSummary>,
) -> Result<(T, Option<ArchiveSummary>), BagError> {
    if !replace && fs::symlink_metadata(archive).is_ok() {
        return Err(BagError::Exists(archive.to_path_buf()));
    }
    let staged = staging_dir(archive);
    let mut made = match make(&staged) {
        Ok(made) => made,
        Err(e) => {
            let _ = fs::remove_dir_all(&staged);
            return Err(e);
        }
    };
    let Some(summary) = bag_of(&mut made) else {
        let _ = fs::remove_dir_all(&staged);
        return Ok((made, None));
    };
    let written = write_archive(&staged, archive, plan, Staged::Yes { replace }, progress);
    let _ = fs::remove_dir_all(&staged);
    let written = written?;
    summary.bag = archive.to_path_buf();
    Ok((made, Some(written)))
}

/// Whether the bag written is a staged one.
#[derive(Clone, Copy)]
enum Staged {
    /// A bag folder the user named: it is written as it is, beside no other.
    No,
    /// A bag staged by this run: held to its manifests as it is written, and allowed to
    /// replace an existing archive when `replace`.
    Yes {
        /// Replace an existing archive (only once the new one is complete).
        replace: bool,
    },
}

/// Serializes `bag` into `archive`, then writes the checksum file when the plan asks for it.
fn write_archive(
    bag: &Path,
    archive: &Path,
    plan: &ArchivePlan,
    staged: Staged,
    progress: &dyn Progress,
) -> Result<ArchiveSummary, BagError> {
    let (replace, verify) = match staged {
        Staged::No => (false, false),
        Staged::Yes { replace } => (replace, true),
    };
    let opts = WriteOptions {
        format: plan.format,
        compress: plan.compress,
        mtime: write::archive_time(bag),
        checksum: plan.checksum || plan.checksum_file,
        replace,
        verify,
    };
    let summary = write::serialize(bag, archive, &opts, progress)?;
    if plan.checksum_file
        && let Some(sum) = &summary.sha256
    {
        write::write_checksum_file(archive, sum).map_err(BagError::io(archive))?;
    }
    Ok(summary)
}
