//! Unpacking a serialized bag into a folder, with every check of reading in place: a hostile
//! entry (zip-slip, a link, a device, a duplicate, a bomb, an encrypted entry) refuses the
//! whole archive before anything is written, and a damaged entry (wrong size or CRC) stops
//! the unpacking and removes what was written. The folder appears, complete, by a rename.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Format, Limits};
use crate::bagit::BagError;
use crate::digest::Progress;
use crate::error::Problem;
use crate::fsutil;
use crate::store::EntryKind;

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

/// Unpacks the bag in `archive` as the new folder `out`, on disk (synced) when it is reported.
pub fn unpack(
    archive: &Path,
    out: &Path,
    limits: &Limits,
    progress: &dyn Progress,
) -> Result<UnpackSummary, BagError> {
    unpack_with(archive, out, limits, progress, true)
}

/// As [`unpack`], into a scratch folder that is read once and removed (a bundle being
/// verified): with the same checks, but not synced to disk — flushing gigabytes that are about
/// to be deleted would cost more than the whole check.
pub fn unpack_scratch(
    archive: &Path,
    out: &Path,
    limits: &Limits,
    progress: &dyn Progress,
) -> Result<UnpackSummary, BagError> {
    unpack_with(archive, out, limits, progress, false)
}

fn unpack_with(
    archive: &Path,
    out: &Path,
    limits: &Limits,
    progress: &dyn Progress,
    durable: bool,
) -> Result<UnpackSummary, BagError> {
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
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(BagError::io(&parent))?;
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
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&dest)?;
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
        if durable {
            fsutil::sync_filesystem(&tmp).map_err(BagError::io(&tmp))?;
        }
        fs::rename(&tmp, out).map_err(BagError::io(out))?;
        if durable {
            let _ = fsutil::sync_dir(&parent);
        }
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
