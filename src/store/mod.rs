//! Read-only access to a bag wherever it lies, behind one trait, so the validator does not
//! care whether the bag is a folder or (later) an archive.

mod dir;
mod tar;
mod zip;

use std::io::{self, Read};

pub(crate) use self::tar::raw_of as tar_raw_entry;
pub use dir::DirStore;
pub use tar::{TarGzStore, TarStore};
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
    /// Hands every regular file (bag-relative path, its bytes) to `f`, in the store's own
    /// best order: listing order for stores with random access, stream order for a tar.gz
    /// (one pass).
    fn for_each_file(
        &self,
        f: &mut dyn FnMut(&str, &mut dyn Read) -> io::Result<()>,
    ) -> io::Result<()> {
        for e in self.list()? {
            if e.kind == EntryKind::File {
                let mut r = self.open(&e.path)?;
                f(&e.path, &mut r)?;
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
        |i| {
            let r = &requests[i];
            let name = std::path::PathBuf::from(format!("{}:{}", archive.display(), r.path));
            let (reader, size) = open(r.path).map_err(|source| DigestError::Open {
                path: name.clone(),
                source,
            })?;
            Ok(crate::digest::StreamJob {
                name,
                reader,
                size,
                algorithms: r.algorithms,
            })
        },
        progress,
        done,
    );
}

/// Opens the bag at `path`: a folder, or a zip, tar or tar.gz file (by content). `hash_hint`
/// tells a streaming store (tar.gz) that the payload will be hashed, so it may hash it in
/// its first pass.
pub fn open(
    path: &std::path::Path,
    limits: &crate::archive::Limits,
    hash_hint: bool,
) -> io::Result<(Box<dyn Store>, Option<crate::archive::Format>)> {
    use crate::archive::Format;
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Ok((Box::new(DirStore::new(path)), None));
    }
    match Format::detect(path)? {
        Some(Format::Zip) => Ok((Box::new(ZipStore::open(path, limits)?), Some(Format::Zip))),
        Some(Format::Tar) => Ok((Box::new(TarStore::open(path, limits)?), Some(Format::Tar))),
        Some(Format::TarGz) => Ok((
            Box::new(TarGzStore::open(path, limits, hash_hint)?),
            Some(Format::TarGz),
        )),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "neither a folder nor a zip, tar or tar.gz file",
        )),
    }
}
