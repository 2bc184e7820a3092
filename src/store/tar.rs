//! A bag serialized as a plain tar, read in place, and the reading of tar headers that the
//! tar.gz store ([`super::targz`]) and the unpacking of a streamed tar share.
//!
//! A plain tar on disk is indexed by a pass over its headers only (each entry's data is
//! skipped with a seek), then its entries are read with positioned reads in parallel, like
//! a zip.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::range::RangeReader;
use super::{DigestRequest, Entry, EntryKind, IMPLIED, Limits, RawEntry, RawKind, Store, screen};
use crate::digest::{DigestError, Engine, FileDigests, Progress};
use crate::error::Problem;

/// The PAX keys GNU tar writes for a sparse file (formats 0.0, 0.1 and 1.0).
const GNU_SPARSE_PREFIX: &str = "GNU.sparse.";

/// The name GNU tar records for a PAX-sparse entry (`GNU.sparse.name`, else the PAX `path`),
/// when the entry's PAX headers say it is sparse. Its data is a sparse map followed by the
/// non-empty blocks, not the file, and its header names a `GNUSparseFile.N/` stand-in: read
/// as a plain file it would be a stray payload file and a missing one.
fn pax_sparse_name(entry: &mut tar::Entry<'_, impl Read>) -> io::Result<Option<Vec<u8>>> {
    let Some(extensions) = entry.pax_extensions()? else {
        return Ok(None);
    };
    let mut sparse = false;
    let mut name = None;
    for ext in extensions {
        let ext = ext?;
        let key = ext.key_bytes();
        sparse |= key.starts_with(GNU_SPARSE_PREFIX.as_bytes());
        if key == b"GNU.sparse.name" || (key == b"path" && name.is_none()) {
            name = Some(ext.value_bytes().to_vec());
        }
    }
    Ok(sparse.then(|| name.unwrap_or_else(|| entry.path_bytes().into_owned())))
}

/// The raw description of a tar entry, for [`screen`].
pub(crate) fn raw_of(entry: &mut tar::Entry<'_, impl Read>) -> io::Result<RawEntry> {
    let sparse_name = pax_sparse_name(entry)?;
    let header = entry.header();
    let bytes = sparse_name
        .clone()
        .unwrap_or_else(|| entry.path_bytes().into_owned());
    let (name, utf8) = match std::str::from_utf8(&bytes) {
        Ok(text) => (text.to_string(), true),
        Err(_) => (String::from_utf8_lossy(&bytes).into_owned(), false),
    };
    let link = || {
        entry
            .link_name_bytes()
            .map(|target| String::from_utf8_lossy(&target).into_owned())
            .unwrap_or_default()
    };
    use tar::EntryType;
    let kind = match header.entry_type() {
        _ if sparse_name.is_some() => RawKind::Sparse,
        EntryType::Regular | EntryType::Continuous => RawKind::File,
        EntryType::Directory => RawKind::Dir,
        EntryType::Symlink => RawKind::Symlink(link()),
        EntryType::Link => RawKind::Hardlink(link()),
        EntryType::GNUSparse => RawKind::Sparse,
        EntryType::Char => RawKind::Special("character device".into()),
        EntryType::Block => RawKind::Special("block device".into()),
        EntryType::Fifo => RawKind::Special("FIFO".into()),
        other => RawKind::Special(format!("tar entry of type {:?}", other.as_byte() as char)),
    };
    let size = entry.size();
    Ok(RawEntry {
        name,
        utf8,
        kind,
        size,
        compressed: size,
        encrypted: false,
        unsupported: None,
    })
}

/// A tar error as damage to the archive (`InvalidData`), whatever its kind, unless it is
/// already damage or an early end.
pub(super) fn bad(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::InvalidData || e.kind() == io::ErrorKind::UnexpectedEof {
        e
    } else {
        io::Error::new(io::ErrorKind::InvalidData, e.to_string())
    }
}

/// A bag in an uncompressed tar file.
pub struct TarStore {
    path: PathBuf,
    file: Arc<File>,
    entries: Vec<Entry>,
    /// Offset and size of each file's data, by bag-relative path.
    data: HashMap<String, (u64, u64)>,
    problems: Vec<Problem>,
}

impl TarStore {
    /// Indexes the tar's headers and screens its entries.
    pub fn open(path: &Path, limits: &Limits) -> io::Result<TarStore> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        let mut headers = tar::Archive::new(BufReader::with_capacity(64 << 10, file.try_clone()?));
        let mut raw = Vec::new();
        let mut offsets = Vec::new();
        for entry in headers.entries_with_seek().map_err(bad)? {
            let mut entry = entry.map_err(bad)?;
            raw.push(raw_of(&mut entry)?);
            offsets.push(entry.raw_file_position());
        }
        let screened = screen(path, &raw, limits);
        let mut data = HashMap::new();
        let mut entries = Vec::with_capacity(screened.entries.len());
        let mut problems = screened.problems;
        for (entry, raw_index) in screened.entries {
            if raw_index != IMPLIED && entry.kind == EntryKind::File {
                let offset = offsets[raw_index];
                if offset.saturating_add(entry.size) > len {
                    problems.push(
                        Problem::new(
                            crate::error::Code::ArchiveEntryDamaged,
                            format!(
                                "entry {} declares {} bytes but the archive ends first (truncated)",
                                raw[raw_index].name, entry.size
                            ),
                        )
                        .file(entry.path.clone()),
                    );
                }
                data.insert(entry.path.clone(), (offset, entry.size));
            }
            entries.push(entry);
        }
        Ok(TarStore {
            path: path.to_path_buf(),
            file: Arc::new(file),
            entries,
            data,
            problems,
        })
    }

    fn range(&self, path: &str) -> io::Result<(RangeReader, u64)> {
        let &(offset, size) = self
            .data
            .get(path)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such entry"))?;
        Ok((RangeReader::new(self.file.clone(), offset, size), size))
    }
}

impl Store for TarStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn list(&self) -> io::Result<Vec<Entry>> {
        Ok(self.entries.clone())
    }

    fn open(&self, path: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        self.range(path)
            .map(|(reader, _)| Box::new(reader) as Box<dyn Read + Send>)
    }

    fn digest(
        &self,
        requests: &[DigestRequest<'_>],
        engine: &Engine,
        progress: &dyn Progress,
        done: &(dyn Fn(usize, Result<FileDigests, DigestError>) + Sync),
    ) {
        super::digest_entries(&self.path, requests, engine, progress, done, |p| {
            self.range(p)
                .map(|(r, size)| (Box::new(r) as Box<dyn Read + Send>, size))
        });
    }

    fn problems(&self) -> Vec<Problem> {
        self.problems.clone()
    }
}
