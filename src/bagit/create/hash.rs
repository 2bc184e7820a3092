//! Hashing the payload, and copying (or reading a hard-linked file) in the same read; a
//! failure is an error naming the file.

use std::io;
use std::path::Path;

use unicode_normalization::UnicodeNormalization;

use super::error::BagError;
use super::scan::SourceFile;
use crate::digest::{Algorithm, DigestError, Engine, FileDigests, HashJob, Progress};
use crate::error::{Code, Problem};
use crate::paths;

/// Hashes (and optionally copies) the source files found under `root`; any failure is an
/// error naming the file.
pub(crate) fn hash_files(
    root: &Path,
    files: &[SourceFile],
    algorithms: &[Algorithm],
    copy_root: Option<&Path>,
    follow_links: bool,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<Vec<FileDigests>, BagError> {
    hash_files_linked(
        root,
        files,
        algorithms,
        copy_root,
        &[],
        follow_links,
        engine,
        progress,
    )
}

/// [`hash_files`], where `linked[i]` marks a file already hard-linked into the bag: it is
/// only read, not copied.
#[allow(clippy::too_many_arguments)]
pub(super) fn hash_files_linked(
    root: &Path,
    files: &[SourceFile],
    algorithms: &[Algorithm],
    copy_root: Option<&Path>,
    linked: &[bool],
    follow_links: bool,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<Vec<FileDigests>, BagError> {
    let algorithms: crate::digest::AlgorithmSet = algorithms.iter().copied().collect();
    let results = engine.run_with(
        files.len(),
        |i| files[i].size,
        |i| HashJob {
            path: root.join(&files[i].rel),
            size_hint: files[i].size,
            algorithms,
            copy_to: copy_root
                .filter(|_| !linked.get(i).copied().unwrap_or(false))
                .map(|r| r.join(&files[i].rel)),
            follow_links,
        },
        progress,
    );
    let mut out = Vec::with_capacity(files.len());
    for result in results {
        match result {
            Ok(digests) => out.push(digests),
            Err(DigestError::Changed {
                path,
                expected,
                actual,
            }) => {
                return Err(BagError::Io {
                    path,
                    source: io::Error::other(format!(
                        "the file changed while it was read ({expected} bytes at open, {actual} after); bag it again when nothing writes to it"
                    )),
                });
            }
            Err(DigestError::Write { path, source })
                if source.kind() == io::ErrorKind::AlreadyExists =>
            {
                return Err(folded_name(&path, copy_root, files));
            }
            Err(
                DigestError::Open { path, source }
                | DigestError::Read { path, source }
                | DigestError::Write { path, source },
            ) => {
                return Err(BagError::Io { path, source });
            }
            Err(DigestError::NotRegular { path }) => {
                return Err(BagError::Io {
                    path,
                    source: io::Error::other("not a regular file (it changed since the scan)"),
                });
            }
            Err(DigestError::Damaged { path, reason }) => {
                return Err(BagError::Io {
                    path,
                    source: io::Error::other(reason),
                });
            }
        }
    }
    Ok(out)
}

/// The refusal when copying a file into the bag found its name taken: the destination's
/// filesystem folds names (case-insensitive, or normalizing Unicode), so two source files
/// would become one. `BAG-070` when the names differ by Unicode form, else `BAG-071`.
fn folded_name(path: &Path, copy_root: Option<&Path>, files: &[SourceFile]) -> BagError {
    let rel = copy_root
        .and_then(|r| path.strip_prefix(r).ok())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let nfc: String = rel.nfc().collect();
    let by_form = files
        .iter()
        .any(|f| f.rel != rel && f.rel.nfc().eq(nfc.chars()));
    let (code, how) = if by_form {
        (Code::NormalizationCollision, "Unicode form")
    } else {
        (Code::CaseCollision, "letter case")
    };
    BagError::Refused(vec![
        Problem::new(
            code,
            format!(
                "{} cannot be copied into the bag: the destination's filesystem already holds a name that differs from it only by {how}, so one file would be lost; nothing was kept",
                paths::printable(&rel)
            ),
        )
        .file(rel.as_str()),
    ])
}
