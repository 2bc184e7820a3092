//! Scanning a source folder before bagging: every file in sorted order, and — all at once,
//! before anything is written — whatever cannot be bagged faithfully.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

use unicode_normalization::UnicodeNormalization;

use super::error::BagError;
use super::options::{excluded_by, is_junk};
use crate::error::{Code, Problem};
use crate::fsutil::{self, WalkIssue, Walked};
use crate::paths;

/// A file found in the source.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path relative to the source root, `/`-separated (the file is at `root.join(rel)`).
    pub rel: String,
    /// Size when scanned.
    pub size: u64,
}

/// Walks a source folder in sorted order and refuses, all at once, whatever cannot be
/// bagged faithfully: links (unless followed), FIFOs and devices, names that are not UTF-8,
/// and names that collide by Unicode form or case. `skip` names top-level entries to ignore.
pub fn scan_source(
    root: &Path,
    follow_links: bool,
    skip: &[&str],
) -> Result<(Vec<SourceFile>, Vec<Problem>), BagError> {
    scan_source_excluding(root, follow_links, skip, &[]).map(|scan| (scan.files, scan.warnings))
}

/// What [`scan_source_excluding`] found.
pub struct SourceScan {
    /// The files to bag.
    pub files: Vec<SourceFile>,
    /// Warnings about the source.
    pub warnings: Vec<Problem>,
    /// Files left out by the exclusion patterns (source-relative, sorted).
    pub excluded: Vec<String>,
}

/// [`scan_source`], leaving out the files and folders `exclude` matches (see
/// [`scan_source`], leaving out the files and folders `exclude` matches (see
/// [`excluded_by`]) and listing the files it left out.
pub fn scan_source_excluding(
    root: &Path,
    follow_links: bool,
    skip: &[&str],
    exclude: &[String],
) -> Result<SourceScan, BagError> {
    let meta = fs::metadata(root).map_err(BagError::io(root))?;
    if !meta.is_dir() {
        return Err(BagError::Usage(format!(
            "{} is not a folder",
            root.display()
        )));
    }
    let (walked, issues) = fsutil::walk(root, follow_links, skip);
    let mut found = Found {
        refused: refused_by_walk(issues)?,
        ..Found::default()
    };
    for item in walked {
        found.sort(item, exclude);
    }
    let mut warnings = found.empty_folders();
    warnings.extend(names_other_systems_merge(&found.files, &found.dirs));
    warnings.extend(lint_source_names(&found.files));
    if !found.refused.is_empty() {
        return Err(BagError::Refused(found.refused));
    }
    found.excluded.sort();
    Ok(SourceScan {
        files: found.files,
        warnings,
        excluded: found.excluded,
    })
}

/// The links the walk could not follow (loops, links to nothing), refused; an unreadable
/// folder stops the scan.
fn refused_by_walk(issues: Vec<WalkIssue>) -> Result<Vec<Problem>, BagError> {
    let mut refused = Vec::new();
    for issue in issues {
        let (rel, code, what) = match issue {
            WalkIssue::Loop(rel) => (
                rel,
                Code::SymlinkInSource,
                "is a link that loops back to a parent folder",
            ),
            WalkIssue::Broken(rel) => (rel, Code::SymlinkEscapes, "is a link to nothing"),
            WalkIssue::Io(path, source) => return Err(BagError::Io { path, source }),
        };
        let rel = rel.to_string_lossy().into_owned();
        refused.push(Problem::new(code, format!("{} {what}", paths::printable(&rel))).file(rel));
    }
    Ok(refused)
}

/// What the scan sorted the walked entries into.
#[derive(Default)]
struct Found {
    files: Vec<SourceFile>,
    /// Every folder (source-relative).
    dirs: Vec<String>,
    /// Folders that hold at least one entry kept ("" for the root).
    nonempty: HashSet<String>,
    refused: Vec<Problem>,
    excluded: Vec<String>,
}

impl Found {
    /// Files and folders to bag, entries to refuse (links, FIFOs and devices, names that are
    /// not UTF-8), and files excluded.
    fn sort(&mut self, item: Walked, exclude: &[String]) {
        let Some(rel) = rel_utf8(&item.rel) else {
            let rel = item.rel.to_string_lossy().into_owned();
            self.refuse(Code::NonUtf8Name, "has a name that is not valid UTF-8", rel);
            return;
        };
        if !exclude.is_empty() && excluded_by(exclude, &rel) {
            if !item.file_type.is_dir() {
                self.excluded.push(rel);
            }
            return;
        }
        let parent = rel.rsplit_once('/').map_or("", |(parent, _)| parent);
        self.nonempty.insert(parent.to_string());
        let file_type = item.file_type;
        if file_type.is_symlink() {
            // Only reached without follow_links (with it, the walk reports the target's type).
            self.refuse(
                Code::SymlinkInSource,
                "is a symbolic link; bagging never follows links silently",
                rel,
            );
        } else if file_type.is_dir() {
            self.dirs.push(rel);
        } else if file_type.is_file() {
            self.files.push(SourceFile {
                rel,
                size: item.len,
            });
        } else {
            self.refuse(Code::SpecialFile, "is a FIFO, socket or device", rel);
        }
    }

    fn refuse(&mut self, code: Code, what: &str, rel: String) {
        self.refused
            .push(Problem::new(code, format!("{} {what}", paths::printable(&rel))).file(rel));
    }

    /// A warning for each empty folder: a bag records files only.
    fn empty_folders(&self) -> Vec<Problem> {
        self.dirs
            .iter()
            .filter(|dir| !self.nonempty.contains(*dir))
            .map(|dir| {
                Problem::new(
                    Code::EmptyDirectory,
                    format!(
                        "the empty folder {} cannot be recorded in a bag",
                        paths::printable(dir)
                    ),
                )
                .file(dir.as_str())
            })
            .collect()
    }
}

/// Names (of files or folders) that differ only by Unicode form or only by letter case. Both
/// survive a bag written on Linux, so they are warnings (`BAG-W071`, `BAG-W008`); a copy to
/// macOS or Windows keeps one of each pair. Where bagging itself would lose one — a
/// destination filesystem that folds names — the copy is refused (`BAG-070`, `BAG-071`).
fn names_other_systems_merge(files: &[SourceFile], dirs: &[String]) -> Vec<Problem> {
    let mut found = Vec::new();
    let mut by_nfc: HashMap<String, &str> = HashMap::new();
    let mut by_case: HashMap<String, &str> = HashMap::new();
    // Folders count too: `Foo/a` beside `foo/b`, or a file `a` beside a folder `A`, merge on
    // Windows and macOS just as two files would.
    let names: Vec<&str> = files
        .iter()
        .map(|f| f.rel.as_str())
        .chain(dirs.iter().map(String::as_str))
        .collect();
    for rel in names {
        let nfc: String = rel.nfc().collect();
        let lower = nfc.to_lowercase();
        if let Some(other) = by_nfc.get(&nfc) {
            found.push(
                Problem::new(
                    Code::NormalizationOnlyDifference,
                    format!(
                        "{} and {} are the same name in different Unicode forms (NFC and NFD); both are bagged, but a copy to macOS keeps only one",
                        paths::printable(other),
                        paths::printable(rel)
                    ),
                )
                .file(rel),
            );
        } else if let Some(other) = by_case.get(&lower) {
            found.push(
                Problem::new(
                    Code::CaseOnlyDifference,
                    format!(
                        "{} and {} differ only by case; both are bagged, but a copy to Windows or macOS keeps only one",
                        paths::printable(other),
                        paths::printable(rel)
                    ),
                )
                .file(rel),
            );
        }
        by_nfc.entry(nfc).or_insert(rel);
        by_case.entry(lower).or_insert(rel);
    }
    found
}

/// Warnings about single names: operating-system junk, names Windows refuses, and `%`, which
/// RFC 8493 makes qoima write as `%25` — and bagit-python 1.9 and earlier then read literally
/// and report the file missing.
fn lint_source_names(files: &[SourceFile]) -> Vec<Problem> {
    let mut found = Vec::new();
    for file in files {
        if file.rel.split('/').any(is_junk) {
            found.push(
                Problem::new(
                    Code::OsJunkFile,
                    format!(
                        "{} looks like an operating-system file (--exclude-junk leaves it out)",
                        paths::printable(&file.rel)
                    ),
                )
                .file(file.rel.as_str()),
            );
        }
        if file.rel.contains('%') {
            found.push(
                Problem::new(
                    Code::PercentInName,
                    format!(
                        "{} has `%` in its name; the manifests write it `%25` as RFC 8493 requires, and bagit-python 1.9 and earlier will report the file missing",
                        paths::printable(&file.rel)
                    ),
                )
                .file(file.rel.as_str()),
            );
        }
        if let Some(why) = file.rel.split('/').find_map(paths::windows_unsafe) {
            found.push(
                Problem::new(
                    Code::WindowsUnsafeName,
                    format!("{}: {why}", paths::printable(&file.rel)),
                )
                .file(file.rel.as_str()),
            );
        }
    }
    found
}

fn rel_utf8(rel: &Path) -> Option<String> {
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}
