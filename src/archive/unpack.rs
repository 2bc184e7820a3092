//! Unpacking a serialized bag into a folder, with every check of reading in place: a hostile
//! entry (zip-slip, a link, a device, a duplicate, a bomb, an encrypted entry) refuses the
//! whole archive before anything is written, and a damaged entry (wrong size or CRC) stops
//! the unpacking and removes what was written. The folder appears, complete, by a rename.
//!
//! A tar that arrives as a stream (decrypted from a bundle) is [`Staged`]: read once, each
//! file's data kept under a number, and moved to its name only once the whole listing has
//! passed the same screening.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::bagit::BagError;
use crate::digest::Progress;
use crate::error::{Code, Problem};
use crate::fsutil;
use crate::store::{Entry, EntryKind, Format, Limits, RawEntry, RawKind, Store};

/// What an unpacking did.
#[derive(Clone, Debug, Serialize)]
pub struct UnpackSummary {
    /// The archive.
    pub archive: PathBuf,
    /// Its format.
    pub format: Format,
    /// The folder made.
    pub folder: PathBuf,
    /// Files written.
    pub files: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Warnings (a top-level folder named unlike the archive).
    pub problems: Vec<Problem>,
}

/// Unpacks the bag in `archive` as the new folder `out`.
pub fn unpack(
    archive: &Path,
    out: &Path,
    limits: &Limits,
    progress: &dyn Progress,
) -> Result<UnpackSummary, BagError> {
    crate::bagit::create::refuse_overlap(archive, out, "the folder")?;
    if fs::symlink_metadata(out).is_ok() {
        return Err(BagError::Exists(out.to_path_buf()));
    }
    let (store, format) = open_archive(archive, limits)?;
    let problems = store.problems();
    if problems.iter().any(Problem::is_error) {
        return Err(BagError::Refused(problems));
    }
    let entries = store.list().map_err(BagError::io(archive))?;
    let unnamed = non_utf8(entries.iter());
    if !unnamed.is_empty() {
        return Err(BagError::Refused(unnamed));
    }
    let parent = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(BagError::io(&parent))?;
    // What a killed run left (its process gone) is removed; a live run's is left alone.
    fsutil::sweep_stale(out, "unpack");
    let tmp = fsutil::temp_sibling(out, "unpack");
    progress.stage(
        "unpacking",
        entries.iter().map(|entry| entry.size).sum(),
        entries
            .iter()
            .filter(|entry| entry.kind == EntryKind::File)
            .count() as u64,
    );
    let result = write_entries(&tmp, archive, store.as_ref(), &entries, progress)
        .and_then(|written| publish(&tmp, out, &parent).map(|()| written));
    let written = match result {
        Ok(written) => written,
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    Ok(UnpackSummary {
        archive: archive.to_path_buf(),
        format,
        folder: out.to_path_buf(),
        files: written.files,
        bytes: written.bytes,
        problems,
    })
}

/// Opens `archive` as a store; a folder is refused (there is nothing to unpack).
fn open_archive(archive: &Path, limits: &Limits) -> Result<(Box<dyn Store>, Format), BagError> {
    let (store, format) =
        crate::store::open(archive, limits, false).map_err(BagError::io(archive))?;
    let Some(format) = format else {
        return Err(BagError::Usage(format!(
            "{} is a folder, not an archive",
            archive.display()
        )));
    };
    Ok((store, format))
}

/// What was written into the new folder.
#[derive(Default)]
struct Written {
    files: u64,
    bytes: u64,
}

/// Makes the folder `tmp` and writes every screened entry of `store` into it: the folders,
/// then each file as the store hands it over, checked against its declared size.
fn write_entries(
    tmp: &Path,
    archive: &Path,
    store: &dyn Store,
    entries: &[Entry],
    progress: &dyn Progress,
) -> Result<Written, BagError> {
    fs::create_dir(tmp).map_err(BagError::io(tmp))?;
    for entry in entries {
        if entry.kind == EntryKind::Dir {
            let folder = tmp.join(&entry.path);
            fs::create_dir_all(&folder).map_err(BagError::io(&folder))?;
        }
    }
    let expected: HashMap<&str, u64> = entries
        .iter()
        .filter(|entry| entry.kind == EntryKind::File)
        .map(|entry| (entry.path.as_str(), entry.size))
        .collect();
    let mut buf = vec![0u8; 1 << 20];
    let mut current = String::new();
    let mut written = Written::default();
    let outcome = store.for_each_file(&mut |rel, reader| {
        current.clear();
        current.push_str(rel);
        // The screened listing decided which names are safe; nothing else is written.
        let Some(&size) = expected.get(rel) else {
            return Ok(());
        };
        let copied = copy_entry(reader, &tmp.join(rel), rel, size, &mut buf, progress)?;
        written.files += 1;
        written.bytes += copied;
        progress.file_done();
        Ok(())
    });
    if let Err(e) = outcome {
        return Err(read_failure(archive, &current, e));
    }
    if written.files as usize != expected.len() {
        return Err(BagError::Io {
            path: archive.to_path_buf(),
            source: io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} of {} files were found in the archive's data",
                    written.files,
                    expected.len()
                ),
            ),
        });
    }
    Ok(written)
}

/// Copies one entry's data to the new file `dest`; more or fewer bytes than the `size` its
/// header declares is damage (`InvalidData`). Returns the bytes written.
fn copy_entry(
    reader: &mut dyn Read,
    dest: &Path,
    rel: &str,
    size: u64,
    buf: &mut [u8],
    progress: &dyn Progress,
) -> io::Result<u64> {
    if let Some(folder) = dest.parent() {
        fs::create_dir_all(folder)?;
    }
    let mut file = fsutil::create_new(dest)?;
    let mut copied = 0u64;
    loop {
        let count = reader.read(buf)?;
        if count == 0 {
            break;
        }
        copied += count as u64;
        if copied > size {
            break;
        }
        file.write_all(&buf[..count])?;
        progress.bytes(count as u64);
    }
    if copied != size {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("entry {rel}: its header declares {size} bytes, its data holds {copied}"),
        ));
    }
    Ok(copied)
}

/// The error for a failure while the entry `current` was read: damaged data (a wrong size
/// or CRC, a stream that does not decompress) is a finding about the entry, named like
/// validation names it; anything else is a failure to read the archive.
fn read_failure(archive: &Path, current: &str, e: io::Error) -> BagError {
    let damaged = matches!(
        e.kind(),
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
    );
    if damaged && !current.is_empty() {
        return BagError::Refused(vec![
            Problem::new(
                Code::ArchiveEntryDamaged,
                format!("{}:{current}: {e}", archive.display()),
            )
            .file(current.to_string()),
        ]);
    }
    BagError::io(archive)(e)
}

/// Flushes the complete folder `tmp` and renames it to `out`; the rename is only durable once
/// `parent` is flushed too, so a failure there is reported.
fn publish(tmp: &Path, out: &Path, parent: &Path) -> Result<(), BagError> {
    fsutil::sync_filesystem(tmp).map_err(BagError::io(tmp))?;
    fs::rename(tmp, out).map_err(BagError::io(out))?;
    fsutil::sync_dir(parent).map_err(BagError::io(parent))
}

/// Problems for the entries whose names are not UTF-8: a folder can only give them a lossy
/// copy of their name, which a manifest could list in their place.
fn non_utf8<'e>(entries: impl Iterator<Item = &'e Entry>) -> Vec<Problem> {
    entries
        .filter(|e| !e.utf8)
        .map(|e| {
            Problem::new(
                Code::NonUtf8Name,
                format!(
                    "entry {}: its name is not UTF-8, so it cannot be unpacked under that name",
                    crate::paths::printable(&e.path)
                ),
            )
            .file(e.path.clone())
        })
        .collect()
}

/// Why a tar stream could not be staged.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// The stream is not a tar qoima accepts (malformed, or larger than the limits).
    #[error("{0}")]
    Archive(String),
    /// The scratch folder could not be written.
    #[error("cannot write the scratch folder: {0}")]
    Local(io::Error),
}

/// A tar read from a stream into a scratch folder: each regular file's data is written, as it
/// comes, to a file named by its position in the archive (empty files are only noted). No name
/// from the archive is used — no folder made, no path joined — until [`Staged::place`] has
/// screened the whole listing as [`unpack`] screens an archive file.
pub struct Staged {
    dir: PathBuf,
    raw: Vec<RawEntry>,
    /// The data file of each raw entry that is a non-empty regular file.
    blobs: Vec<Option<PathBuf>>,
}

impl Staged {
    /// Reads the tar stream `stream` into the new folder `dir`, up to its end-of-archive
    /// marker (the caller reads what follows, if it must). Files larger in all than `limits`
    /// allow stop the reading.
    pub fn read(stream: impl Read, dir: &Path, limits: &Limits) -> Result<Staged, StageError> {
        fs::create_dir(dir).map_err(StageError::Local)?;
        let mut staged = Staged {
            dir: dir.to_path_buf(),
            raw: Vec::new(),
            blobs: Vec::new(),
        };
        let mut total = 0u64;
        let mut buf = vec![0u8; 1 << 20];
        let mut tar_stream = tar::Archive::new(stream);
        for entry in tar_stream.entries().map_err(malformed)? {
            let mut entry = entry.map_err(malformed)?;
            let raw = crate::store::tar_raw_entry(&mut entry).map_err(malformed)?;
            let mut blob = None;
            if raw.kind == RawKind::File && raw.size > 0 {
                total = total.saturating_add(raw.size);
                if total > limits.max_size {
                    return Err(StageError::Archive(format!(
                        "the archive's files hold more than {} bytes in all",
                        limits.max_size
                    )));
                }
                let blob_path = dir.join(format!("{:08}", staged.raw.len()));
                stage_data(&mut entry, &raw, &blob_path, &mut buf)?;
                blob = Some(blob_path);
            }
            staged.raw.push(raw);
            staged.blobs.push(blob);
        }
        Ok(staged)
    }

    /// Screens the listing (`archive` names the archive in messages, and its stem is the
    /// folder name expected) and, when nothing in it is refused, moves every file to its name
    /// in a new folder in `parent`, named as the bag's folder in the archive (the summary's
    /// `folder`); empty files are made there. Not synced: a scratch copy, read once.
    pub fn place(
        self,
        archive: &Path,
        parent: &Path,
        limits: &Limits,
    ) -> Result<UnpackSummary, BagError> {
        let screened = crate::store::screen(archive, &self.raw, limits);
        let out = parent.join(
            screened
                .top
                .clone()
                .unwrap_or_else(|| crate::store::stem(archive)),
        );
        let out = out.as_path();
        if fs::symlink_metadata(out).is_ok() {
            return Err(BagError::Exists(out.to_path_buf()));
        }
        let mut refused: Vec<Problem> = screened
            .problems
            .iter()
            .filter(|problem| problem.is_error())
            .cloned()
            .collect();
        refused.extend(non_utf8(screened.entries.iter().map(|(entry, _)| entry)));
        if !refused.is_empty() {
            return Err(BagError::Refused(refused));
        }
        fsutil::sweep_stale(out, "unpack");
        let tmp = fsutil::temp_sibling(out, "unpack");
        let mut files = 0u64;
        let mut bytes = 0u64;
        let result = (|| -> io::Result<()> {
            fs::create_dir(&tmp)?;
            for (entry, index) in &screened.entries {
                let dest = tmp.join(&entry.path);
                match entry.kind {
                    EntryKind::Dir => fs::create_dir_all(&dest)?,
                    EntryKind::File if *index < self.raw.len() => {
                        if let Some(folder) = dest.parent() {
                            fs::create_dir_all(folder)?;
                        }
                        match &self.blobs[*index] {
                            Some(blob) => fs::rename(blob, &dest)?,
                            None => {
                                fsutil::create_new(&dest)?;
                            }
                        }
                        files += 1;
                        bytes += entry.size;
                    }
                    _ => {}
                }
            }
            fs::rename(&tmp, out)
        })();
        if let Err(e) = result {
            let _ = fs::remove_dir_all(&tmp);
            return Err(BagError::io(out)(e));
        }
        Ok(UnpackSummary {
            archive: archive.to_path_buf(),
            format: Format::Tar,
            folder: out.to_path_buf(),
            files,
            bytes,
            problems: screened.problems,
        })
    }
}

/// A stream that is not a tar qoima accepts, named in words a terminal can show.
fn malformed(e: io::Error) -> StageError {
    StageError::Archive(crate::paths::printable(&e.to_string()).into_owned())
}

/// Writes the data of the tar entry `raw` (read from `entry`) to the new file `blob_path`;
/// data shorter than the header declares is refused.
fn stage_data(
    entry: &mut impl Read,
    raw: &RawEntry,
    blob_path: &Path,
    buf: &mut [u8],
) -> Result<(), StageError> {
    let mut file = fsutil::create_new(blob_path).map_err(StageError::Local)?;
    let mut copied = 0u64;
    while copied < raw.size {
        let want = (raw.size - copied).min(buf.len() as u64) as usize;
        let count = match entry.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(count) => count,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(malformed(e)),
        };
        file.write_all(&buf[..count]).map_err(StageError::Local)?;
        copied += count as u64;
    }
    if copied != raw.size {
        return Err(StageError::Archive(format!(
            "entry {}: its header declares {} bytes, its data holds {copied}",
            crate::paths::printable(&raw.name),
            raw.size
        )));
    }
    Ok(())
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}
