//! Read-only access to a bag wherever it lies, behind one trait, so the validator does not
//! care whether the bag is a folder or an archive: [`DirStore`] for a folder; [`ZipStore`]
//! and [`TarStore`] (positioned reads of entries, in parallel) and [`TarGzStore`] (streamed,
//! tag files kept in memory) for a serialized bag; [`open`] picks one by content.
//!
//! Everything needed to read an archive safely lives here too: the formats and their names
//! ([`Format`]), the [`Limits`] against bombs, the screening every reader shares ([`screen`]:
//! hostile entries are left out and reported), the ratio guard on compressed streams and the
//! positioned range reader. `archive` (writing and unpacking) builds on this, not the reverse.

mod detect;
mod dir;
mod format;
mod limits;
mod range;
mod ratio;
mod screen;
mod tar;
mod targz;
mod zip;

use std::io::{self, Read};

pub(crate) use self::tar::raw_of as tar_raw_entry;
pub use detect::open;
pub use dir::DirStore;
pub use format::{Format, stem, with_extension};
pub use limits::Limits;
pub use screen::{IMPLIED, RawEntry, RawKind, Screened, screen};
pub use tar::TarStore;
pub use targz::TarGzStore;
pub use zip::ZipStore;

use crate::error::Problem;

use crate::digest::{AlgorithmSet, DigestError, Engine, FileDigests, Progress};

/// Where a symbolic link in a bag leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkTarget {
    /// To a regular file inside the bag (its bag-relative path).
    InsideFile(String),
    /// To a directory inside the bag.
    InsideDir,
    /// Out of the bag (the resolved target, for the report).
    Outside(String),
    /// Nowhere.
    Broken,
}

/// What an entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (never followed out of the bag).
    Symlink(LinkTarget),
    /// A FIFO, socket or device.
    Special,
    /// Something that could not be read (a folder without permission); the reason.
    Unreadable(String),
}

/// One entry of a bag, named relative to the bag root with `/` separators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Bag-relative path (lossily converted when the name is not UTF-8).
    pub path: String,
    /// Whether the on-disk name is valid UTF-8.
    pub utf8: bool,
    /// What it is.
    pub kind: EntryKind,
    /// Size in bytes (of the target, for a link to a file inside the bag).
    pub size: u64,
}

impl Entry {
    /// Whether the entry can be read as file content.
    pub fn is_readable_file(&self) -> bool {
        self.utf8
            && matches!(
                self.kind,
                EntryKind::File | EntryKind::Symlink(LinkTarget::InsideFile(_))
            )
    }
}

/// A file to hash in a store.
#[derive(Clone, Debug)]
pub struct DigestRequest<'a> {
    /// Bag-relative path.
    pub path: &'a str,
    /// Size as listed.
    pub size_hint: u64,
    /// Algorithms to compute.
    pub algorithms: AlgorithmSet,
}

/// A bag's storage.
pub trait Store: Sync {
    /// Where the bag is, for reports.
    fn location(&self) -> String;
    /// Every entry below the root, sorted by path.
    fn list(&self) -> io::Result<Vec<Entry>>;
    /// The same entries, shared: a store that keeps its listing hands out that one listing
    /// instead of a copy (a million entries cost about 100 MB each).
    fn listing(&self) -> io::Result<std::sync::Arc<[Entry]>> {
        self.list().map(Into::into)
    }
    /// Opens one file (tag files).
    fn open(&self, path: &str) -> io::Result<Box<dyn Read + Send + '_>>;
    /// Hashes many files, handing the result for request `i` to `done(i, result)` as soon as
    /// it is ready (from the hashing threads).
    fn digest(
        &self,
        requests: &[DigestRequest<'_>],
        engine: &Engine,
        progress: &dyn Progress,
        done: &(dyn Fn(usize, Result<FileDigests, DigestError>) + Sync),
    );
    /// What the store found wrong while reading its own structure (hostile or damaged
    /// archive entries, which it leaves out of [`Store::list`]).
    fn problems(&self) -> Vec<Problem> {
        Vec::new()
    }
    /// Hands every regular file (bag-relative path, its bytes) to `each`, in the store's own
    /// best order: listing order for stores with random access, stream order for a tar.gz
    /// (one pass).
    fn for_each_file(
        &self,
        each: &mut dyn FnMut(&str, &mut dyn Read) -> io::Result<()>,
    ) -> io::Result<()> {
        for entry in self.list()? {
            if entry.kind == EntryKind::File {
                let mut reader = self.open(&entry.path)?;
                each(&entry.path, &mut reader)?;
            }
        }
        Ok(())
    }
}

/// Hashes archive entries in parallel: `open(path)` gives an entry's reader and declared
/// size; errors and results are named `ARCHIVE:path`.
pub(crate) fn digest_entries<'s>(
    archive: &std::path::Path,
    requests: &[DigestRequest<'_>],
    engine: &Engine,
    progress: &dyn Progress,
    done: &(dyn Fn(usize, Result<FileDigests, DigestError>) + Sync),
    open: impl Fn(&str) -> io::Result<(Box<dyn Read + Send + 's>, u64)> + Sync,
) {
    engine.run_each_stream(
        requests.len(),
        |i| requests[i].size_hint,
        |index| {
            let request = &requests[index];
            let name = std::path::PathBuf::from(format!("{}:{}", archive.display(), request.path));
            let (reader, size) = open(request.path).map_err(|source| DigestError::Open {
                path: name.clone(),
                source,
            })?;
            Ok(crate::digest::StreamJob {
                name,
                reader,
                size,
                algorithms: request.algorithms,
            })
        },
        progress,
        done,
    );
}
