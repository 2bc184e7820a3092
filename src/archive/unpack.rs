//! Unpacking a serialized bag into a folder, with every check of reading in place: a hostile
//! entry (zip-slip, a link, a device, a duplicate, a bomb, an encrypted entry) refuses the
//! whole archive before anything is written, and a damaged entry (wrong size or CRC) stops
//! the unpacking and removes what was written. The folder appears, complete, by a rename.
//!
//! A tar that arrives as a stream (decrypted from a bundle) is [`Staged`]: read once, each
//! file's data kept under a number, and moved to its name only once the whole listing has
//! passed the same screening.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::bagit::BagError;
use crate::digest::Progress;
use crate::error::{Code, Problem};
use crate::fsutil;
use crate::store::{Entry, EntryKind, Format, Limits, RawEntry, RawKind};

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
    let (store, format) =
        crate::store::open(archive, limits, false).map_err(BagError::io(archive))?;
    let Some(format) = format else {
        return Err(BagError::Usage(format!(
            "{} is a folder, not an archive",
            archive.display()
        )));
    };
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
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(BagError::io(&parent))?;
    // What a killed run left (its process gone) is removed; a live run's is left alone.
    fsutil::sweep_stale(out, "unpack");
    let tmp = fsutil::temp_sibling(out, "unpack");
    progress.stage(
        "unpacking",
        entries.iter().map(|e| e.size).sum(),
        entries.iter().filter(|e| e.kind == EntryKind::File).count() as u64,
    );
    let mut files = 0u64;
    let mut bytes = 0u64;
    let result = (|| -> Result<(), BagError> {
        fs::create_dir(&tmp).map_err(BagError::io(&tmp))?;
        for e in &entries {
            if e.kind == EntryKind::Dir {
                let d = tmp.join(&e.path);
                fs::create_dir_all(&d).map_err(BagError::io(&d))?;
            }
        }
        let expected: std::collections::HashMap<&str, u64> = entries
            .iter()
            .filter(|e| e.kind == EntryKind::File)
            .map(|e| (e.path.as_str(), e.size))
            .collect();
        let mut buf = vec![0u8; 1 << 20];
        let mut current = String::new();
        let outcome = store.for_each_file(&mut |rel, r| {
            current.clear();
            current.push_str(rel);
            // The screened listing decided which names are safe; nothing else is written.
            let Some(&size) = expected.get(rel) else {
                return Ok(());
            };
            let dest = tmp.join(rel);
            if let Some(d) = dest.parent() {
                fs::create_dir_all(d)?;
            }
            let mut f = fsutil::create_new(&dest)?;
            let mut n = 0u64;
            loop {
                let k = r.read(&mut buf)?;
                if k == 0 {
                    break;
                }
                n += k as u64;
                if n > size {
                    break;
                }
                f.write_all(&buf[..k])?;
                progress.bytes(k as u64);
            }
            if n != size {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("entry {rel}: its header declares {size} bytes, its data holds {n}"),
                ));
            }
            files += 1;
            bytes += n;
            progress.file_done();
            Ok(())
        });
        match outcome {
            Ok(()) => {}
            // Damaged data (a wrong size or CRC, a stream that does not decompress) is a
            // finding about the entry, named like validation names it.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
                ) && !current.is_empty() =>
            {
                return Err(BagError::Refused(vec![
                    Problem::new(
                        crate::error::Code::ArchiveEntryDamaged,
                        format!("{}:{current}: {e}", archive.display()),
                    )
                    .file(current.clone()),
                ]));
            }
            Err(e) => return Err(BagError::io(archive)(e)),
        }
        if files as usize != expected.len() {
            return Err(BagError::Io {
                path: archive.to_path_buf(),
                source: io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} of {} files were found in the archive's data",
                        files,
                        expected.len()
                    ),
                ),
            });
        }
        fsutil::sync_filesystem(&tmp).map_err(BagError::io(&tmp))?;
        fs::rename(&tmp, out).map_err(BagError::io(out))?;
        // The rename is only durable once the folder is flushed: a failure is reported.
        fsutil::sync_dir(&parent).map_err(BagError::io(&parent))?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    Ok(UnpackSummary {
        archive: archive.to_path_buf(),
        format,
        folder: out.to_path_buf(),
        files,
        bytes,
        problems,
    })
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
    /// Reads the tar stream `r` into the new folder `dir`, up to its end-of-archive marker
    /// (the caller reads what follows, if it must). Files larger in all than `limits` allow
    /// stop the reading.
    pub fn read(r: impl Read, dir: &Path, limits: &Limits) -> Result<Staged, StageError> {
        let archive = |e: io::Error| {
            StageError::Archive(crate::paths::printable(&e.to_string()).into_owned())
        };
        fs::create_dir(dir).map_err(StageError::Local)?;
        let mut staged = Staged {
            dir: dir.to_path_buf(),
            raw: Vec::new(),
            blobs: Vec::new(),
        };
        let mut total = 0u64;
        let mut buf = vec![0u8; 1 << 20];
        let mut ar = tar::Archive::new(r);
        for e in ar.entries().map_err(archive)? {
            let mut e = e.map_err(archive)?;
            let raw = crate::store::tar_raw_entry(&mut e).map_err(archive)?;
            let mut blob = None;
            if raw.kind == RawKind::File && raw.size > 0 {
                total = total.saturating_add(raw.size);
                if total > limits.max_size {
                    return Err(StageError::Archive(format!(
                        "the archive's files hold more than {} bytes in all",
                        limits.max_size
                    )));
                }
                let p = dir.join(format!("{:08}", staged.raw.len()));
                let mut f = fsutil::create_new(&p).map_err(StageError::Local)?;
                let mut n = 0u64;
                while n < raw.size {
                    let want = (raw.size - n).min(buf.len() as u64) as usize;
                    let k = match e.read(&mut buf[..want]) {
                        Ok(0) => break,
                        Ok(k) => k,
                        Err(x) if x.kind() == io::ErrorKind::Interrupted => continue,
                        Err(x) => return Err(archive(x)),
                    };
                    f.write_all(&buf[..k]).map_err(StageError::Local)?;
                    n += k as u64;
                }
                if n != raw.size {
                    return Err(StageError::Archive(format!(
                        "entry {}: its header declares {} bytes, its data holds {n}",
                        crate::paths::printable(&raw.name),
                        raw.size
                    )));
                }
                blob = Some(p);
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
            .filter(|p| p.is_error())
            .cloned()
            .collect();
        refused.extend(non_utf8(screened.entries.iter().map(|(e, _)| e)));
        if !refused.is_empty() {
            return Err(BagError::Refused(refused));
        }
        fsutil::sweep_stale(out, "unpack");
        let tmp = fsutil::temp_sibling(out, "unpack");
        let mut files = 0u64;
        let mut bytes = 0u64;
        let result = (|| -> io::Result<()> {
            fs::create_dir(&tmp)?;
            for (e, i) in &screened.entries {
                let dest = tmp.join(&e.path);
                match e.kind {
                    EntryKind::Dir => fs::create_dir_all(&dest)?,
                    EntryKind::File if *i < self.raw.len() => {
                        if let Some(d) = dest.parent() {
                            fs::create_dir_all(d)?;
                        }
                        match &self.blobs[*i] {
                            Some(blob) => fs::rename(blob, &dest)?,
                            None => {
                                fsutil::create_new(&dest)?;
                            }
                        }
                        files += 1;
                        bytes += e.size;
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

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}
