//! Making bags: scanning a source folder, refusing what cannot be bagged faithfully, hashing
//! (and copying) every file in one read, and writing the tag files.
//!
//! `bag` writes into a temporary folder beside the destination and renames it when complete,
//! so an interrupted run never leaves something that looks like a finished bag; the source
//! is only read.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use unicode_normalization::UnicodeNormalization;

use super::baginfo::{BagInfo, Oxum};
use super::declaration::{self, Declaration, Version};
use super::manifest;
use super::text::Encoding;
use crate::digest::{
    Algorithm, Digest, DigestError, Engine, FileDigests, HashJob, Hasher, Progress,
};
use crate::error::{Code, Problem};
use crate::fsutil;
use crate::paths;
use crate::verdict::human_bytes;

/// What to put in a new bag.
#[derive(Clone, Debug)]
pub struct BagOptions {
    /// Manifest algorithms (default sha256 and sha512).
    pub algorithms: Vec<Algorithm>,
    /// The user's bag-info elements, in order.
    pub info: BagInfo,
    /// Bag what symbolic links point to (otherwise a link is refused).
    pub follow_links: bool,
    /// Hard-link payload files into a new bag instead of copying them, where the source and
    /// the bag share a filesystem (each file that cannot be linked is copied). qoima never
    /// writes to a linked file; an edit made later through either name changes both.
    pub link: bool,
    /// Bagging-Date; default from `SOURCE_DATE_EPOCH`, else today (UTC).
    pub date: Option<chrono::NaiveDate>,
    /// Further tag files the user supplies (bag-relative name, content), e.g. the
    /// `aptrust-info.txt` a profile requires; written and listed in the tag manifests.
    pub tag_files: Vec<(String, Vec<u8>)>,
    /// Patterns of source files and folders to leave out of the payload (`--exclude`, and
    /// [`JUNK`] with `--exclude-junk`); see [`excluded_by`].
    pub exclude: Vec<String>,
}

/// The names file browsers and operating systems leave behind: Finder's `.DS_Store` and
/// AppleDouble `._*` files, Spotlight's and the Trash's folders, Windows Explorer's
/// `Thumbs.db`, `ehthumbs.db` and `desktop.ini`. `--exclude-junk` leaves them out.
pub const JUNK: &[&str] = &[
    ".DS_Store",
    "._*",
    ".Spotlight-V100",
    ".Trashes",
    ".fseventsd",
    "Thumbs.db",
    "ehthumbs.db",
    "desktop.ini",
];

/// Whether `name` (one path component) is operating-system junk (see [`JUNK`]).
pub fn is_junk(name: &str) -> bool {
    JUNK.iter().any(|p| crate::glob::matches(p, name))
}

/// Whether the source-relative path `rel` is left out by one of `patterns`: a pattern without
/// `/` is matched against every component of the path (so a folder's name leaves out all it
/// holds), a pattern with `/` against the whole path and each of its folders.
pub fn excluded_by(patterns: &[String], rel: &str) -> bool {
    patterns.iter().any(|p| {
        if p.contains('/') {
            let p = p.trim_end_matches('/');
            let mut prefix = rel;
            loop {
                if crate::glob::matches(p, prefix) {
                    return true;
                }
                match prefix.rsplit_once('/') {
                    Some((parent, _)) => prefix = parent,
                    None => return false,
                }
            }
        } else {
            rel.split('/').any(|c| crate::glob::matches(p, c))
        }
    })
}

impl Default for BagOptions {
    fn default() -> Self {
        BagOptions {
            algorithms: vec![Algorithm::Sha256, Algorithm::Sha512],
            info: BagInfo::new(),
            follow_links: false,
            link: false,
            date: None,
            tag_files: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

/// A file found in the source.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path relative to the source root, `/`-separated (the file is at `root.join(rel)`).
    pub rel: String,
    /// Size when scanned.
    pub size: u64,
}

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

/// Why a bag could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BagError {
    /// The source holds things that cannot be bagged faithfully; nothing was written.
    #[error("the source cannot be bagged as it is ({} problem(s)); nothing was written", .0.len())]
    Refused(Vec<Problem>),
    /// The destination exists.
    #[error("{} already exists; choose another destination or remove it", .0.display())]
    Exists(PathBuf),
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The request makes no sense (e.g. a tag file qoima writes itself).
    #[error("{0}")]
    Usage(String),
    /// A refusal with its problem code: the output overlaps the input (`BAG-083`), the
    /// source changed while it was archived (`BAG-084`). Nothing was kept.
    #[error("{}", .0.message)]
    Coded(Box<Problem>),
}

/// Refuses (`BAG-083`, before anything is created or deleted) when `output` is `input`,
/// contains it or lies inside it, links and `..` resolved in both. `what` names the output
/// for the message (`the bag`, `the archive`, `--checksum-file`).
pub fn refuse_overlap(input: &Path, output: &Path, what: &str) -> Result<(), BagError> {
    let Some(overlap) = fsutil::overlap(input, output).map_err(BagError::io(input))? else {
        return Ok(());
    };
    let problem = Problem::new(
        Code::OutputOverlapsInput,
        format!(
            "{what}: {}; nothing was written",
            overlap.describe(output, input)
        ),
    )
    .file(output.display().to_string());
    Err(BagError::Coded(Box::new(problem)))
}

impl BagError {
    /// The problems behind a refusal (empty for other errors).
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            BagError::Refused(p) => p.clone(),
            BagError::Coded(p) => vec![(**p).clone()],
            _ => Vec::new(),
        }
    }

    /// Whether this is a refusal (exit 1) rather than a failure to run (exit 2).
    pub fn is_refusal(&self) -> bool {
        matches!(self, BagError::Refused(_) | BagError::Coded(_))
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> BagError {
        let path = path.into();
        move |source| BagError::Io { path, source }
    }
}

/// Why `name` cannot be a tag file the user adds, if it cannot: it must be a safe relative
/// path outside `data/`, and not a file qoima writes itself.
pub fn tag_file_refusal(name: &str) -> Option<String> {
    if let Some(why) = crate::paths::unsafe_reason(name) {
        return Some(why.to_string());
    }
    if name == "data" || name.starts_with("data/") {
        return Some("it would be payload (under data/)".into());
    }
    let reserved = name == "bagit.txt"
        || name == "bag-info.txt"
        || name == "fetch.txt"
        || manifest::classify(name).is_some();
    if reserved {
        return Some("qoima writes that file itself".into());
    }
    None
}

/// The Bagging-Date: the option, else `SOURCE_DATE_EPOCH`, else today in UTC.
pub fn bagging_date(opt: Option<chrono::NaiveDate>) -> chrono::NaiveDate {
    opt.or_else(|| {
        let secs: i64 = std::env::var("SOURCE_DATE_EPOCH")
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Some(chrono::DateTime::from_timestamp(secs, 0)?.date_naive())
    })
    .unwrap_or_else(|| chrono::Utc::now().date_naive())
}

/// The time a bag is made, as an `xs:dateTime` in UTC: the Bagging-Date option at midnight,
/// else `SOURCE_DATE_EPOCH`, else now — so that reproducible runs give identical METS headers.
pub fn bagging_time(opt: Option<chrono::NaiveDate>) -> String {
    if let Some(d) = opt {
        return format!("{}T00:00:00Z", d.format("%Y-%m-%d"));
    }
    let t = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(chrono::Utc::now);
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
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
    let mut files = Vec::new();
    let mut refused = Vec::new();
    let mut warnings = Vec::new();
    let mut dirs: Vec<(String, bool)> = Vec::new();
    let mut nonempty: HashSet<String> = HashSet::new();
    let mut excluded = Vec::new();
    let (walked, issues) = fsutil::walk(root, follow_links, skip);
    for issue in issues {
        match issue {
            fsutil::WalkIssue::Loop(rel) => {
                let rel = rel.to_string_lossy().into_owned();
                refused.push(
                    Problem::new(
                        Code::SymlinkInSource,
                        format!(
                            "{} is a link that loops back to a parent folder",
                            paths::printable(&rel)
                        ),
                    )
                    .file(rel),
                );
            }
            fsutil::WalkIssue::Broken(rel) => {
                let rel = rel.to_string_lossy().into_owned();
                refused.push(
                    Problem::new(
                        Code::SymlinkEscapes,
                        format!("{} is a link to nothing", paths::printable(&rel)),
                    )
                    .file(rel),
                );
            }
            fsutil::WalkIssue::Io(path, source) => return Err(BagError::Io { path, source }),
        }
    }
    for item in walked {
        let Some(rel) = rel_utf8(&item.rel) else {
            let rel = item.rel.to_string_lossy().into_owned();
            refused.push(
                Problem::new(
                    Code::NonUtf8Name,
                    format!(
                        "{} has a name that is not valid UTF-8",
                        paths::printable(&rel)
                    ),
                )
                .file(rel),
            );
            continue;
        };
        if !exclude.is_empty() && excluded_by(exclude, &rel) {
            if !item.file_type.is_dir() {
                excluded.push(rel);
            }
            continue;
        }
        if let Some((parent, _)) = rel.rsplit_once('/') {
            nonempty.insert(parent.to_string());
        } else {
            nonempty.insert(String::new());
        }
        let ft = item.file_type;
        if ft.is_symlink() {
            // Only reached without follow_links (with it, the walk reports the target's type).
            refused.push(
                Problem::new(
                    Code::SymlinkInSource,
                    format!(
                        "{} is a symbolic link; bagging never follows links silently",
                        paths::printable(&rel)
                    ),
                )
                .file(rel),
            );
        } else if ft.is_dir() {
            dirs.push((rel, true));
        } else if ft.is_file() {
            files.push(SourceFile {
                rel,
                size: item.len,
            });
        } else {
            refused.push(
                Problem::new(
                    Code::SpecialFile,
                    format!("{} is a FIFO, socket or device", paths::printable(&rel)),
                )
                .file(rel),
            );
        }
    }
    for (d, _) in &dirs {
        if !nonempty.contains(d) {
            warnings.push(
                Problem::new(
                    Code::EmptyDirectory,
                    format!(
                        "the empty folder {} cannot be recorded in a bag",
                        paths::printable(d)
                    ),
                )
                .file(d.as_str()),
            );
        }
    }
    warnings.extend(names_other_systems_merge(&files, &dirs));
    warnings.extend(lint_source_names(&files));
    if !refused.is_empty() {
        return Err(BagError::Refused(refused));
    }
    excluded.sort();
    Ok(SourceScan {
        files,
        warnings,
        excluded,
    })
}

/// Names (of files or folders) that differ only by Unicode form or only by letter case. Both
/// survive a bag written on Linux, so they are warnings (`BAG-W071`, `BAG-W008`); a copy to
/// macOS or Windows keeps one of each pair. Where bagging itself would lose one — a
/// destination filesystem that folds names — the copy is refused (`BAG-070`, `BAG-071`).
fn names_other_systems_merge(files: &[SourceFile], dirs: &[(String, bool)]) -> Vec<Problem> {
    let mut found = Vec::new();
    let mut by_nfc: HashMap<String, &str> = HashMap::new();
    let mut by_case: HashMap<String, &str> = HashMap::new();
    // Folders count too: `Foo/a` beside `foo/b`, or a file `a` beside a folder `A`, merge on
    // Windows and macOS just as two files would.
    let names: Vec<&str> = files
        .iter()
        .map(|f| f.rel.as_str())
        .chain(dirs.iter().map(|(d, _)| d.as_str()))
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
    for f in files {
        if f.rel.split('/').any(is_junk) {
            found.push(
                Problem::new(
                    Code::OsJunkFile,
                    format!(
                        "{} looks like an operating-system file (--exclude-junk leaves it out)",
                        paths::printable(&f.rel)
                    ),
                )
                .file(f.rel.as_str()),
            );
        }
        if f.rel.contains('%') {
            found.push(
                Problem::new(
                    Code::PercentInName,
                    format!(
                        "{} has `%` in its name; the manifests write it `%25` as RFC 8493 requires, and bagit-python 1.9 and earlier will report the file missing",
                        paths::printable(&f.rel)
                    ),
                )
                .file(f.rel.as_str()),
            );
        }
        if let Some(why) = f.rel.split('/').find_map(paths::windows_unsafe) {
            found.push(
                Problem::new(
                    Code::WindowsUnsafeName,
                    format!("{}: {why}", paths::printable(&f.rel)),
                )
                .file(f.rel.as_str()),
            );
        }
    }
    found
}

fn rel_utf8(rel: &Path) -> Option<String> {
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

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
fn hash_files_linked(
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
    for r in results {
        match r {
            Ok(d) => out.push(d),
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

/// Writes bagit.txt, bag-info.txt, the manifests and the tag manifests into `bag`, whose
/// payload is `files` (paths relative to data/) with `digests`. `extra_tags` are further tag
/// files (bag-relative path, content) to write and list in the tag manifests. bagit.txt is
/// written last, so a bag interrupted while its tag files are written is not mistaken for one.
pub fn write_tag_files(
    bag: &Path,
    files: &[SourceFile],
    digests: &[FileDigests],
    opts: &BagOptions,
    extra_tags: &[(String, Vec<u8>)],
) -> Result<BagInfo, BagError> {
    // Each tag file is written to a temporary name and renamed; its digests for the tag
    // manifests are computed from the same bytes as they are written (a manifest of 100,000
    // lines is never held in memory).
    let write = |rel: &str,
                 fill: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>|
     -> Result<(String, Vec<Digest>), BagError> {
        let p = bag.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).map_err(BagError::io(parent))?;
        }
        let mut w = TagWriter::create(&p, &opts.algorithms).map_err(BagError::io(&p))?;
        fill(&mut w).map_err(BagError::io(&p))?;
        let d = w.commit().map_err(BagError::io(&p))?;
        fsutil::failpoint("tag-write");
        Ok((rel.to_string(), d))
    };
    let mut tags: Vec<(String, Vec<Digest>)> = Vec::new();
    for (rel, data) in opts.tag_files.iter().chain(extra_tags) {
        tags.push(write(rel, &mut |w| w.write_all(data))?);
    }
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by(|&a, &b| files[a].rel.cmp(&files[b].rel));
    for &a in &opts.algorithms {
        let name = manifest::file_name(false, a);
        tags.push(write(&name, &mut |w| {
            let mut path = String::new();
            for &i in &order {
                path.clear();
                path.push_str("data/");
                path.push_str(&files[i].rel);
                let d = digests[i].get(a).expect("every algorithm was computed");
                manifest::write_line(w, &path, d)?;
            }
            Ok(())
        })?);
    }
    let oxum = Oxum {
        octets: digests.iter().map(|d| d.size).sum(),
        streams: files.len() as u64,
    };
    let info = final_info(&opts.info, opts.date, oxum);
    let info_text = info.render();
    tags.push(write("bag-info.txt", &mut |w| {
        w.write_all(info_text.as_bytes())
    })?);
    let decl = declaration::render(Declaration {
        version: Version::V1_0,
        encoding: Encoding::Utf8,
    });
    tags.push((
        "bagit.txt".into(),
        opts.algorithms
            .iter()
            .map(|&a| digest_of(a, decl.as_bytes()))
            .collect(),
    ));
    tags.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, &a) in opts.algorithms.iter().enumerate() {
        let name = manifest::file_name(true, a);
        write(&name, &mut |w| {
            for (path, d) in &tags {
                manifest::write_line(w, path, &d[k])?;
            }
            Ok(())
        })?;
    }
    write("bagit.txt", &mut |w| w.write_all(decl.as_bytes()))?;
    Ok(info)
}

fn digest_of(a: Algorithm, data: &[u8]) -> Digest {
    let mut h = Hasher::new(a);
    h.update(data);
    h.finish()
}

/// A tag file being written: buffered, hashed as it goes, under a temporary name until
/// [`TagWriter::commit`] flushes it to disk and renames it into place.
struct TagWriter {
    /// `None` once committed.
    out: Option<io::BufWriter<fs::File>>,
    hashers: Vec<Hasher>,
    tmp: PathBuf,
    path: PathBuf,
}

impl TagWriter {
    fn create(path: &Path, algorithms: &[Algorithm]) -> io::Result<TagWriter> {
        let tmp = fsutil::temp_sibling(path, "write");
        let f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        Ok(TagWriter {
            out: Some(io::BufWriter::with_capacity(256 * 1024, f)),
            hashers: algorithms.iter().map(|&a| Hasher::new(a)).collect(),
            tmp,
            path: path.to_path_buf(),
        })
    }

    fn commit(mut self) -> io::Result<Vec<Digest>> {
        let out = self.out.take().expect("committed once");
        let placed = (|| {
            let f = out.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            fs::rename(&self.tmp, &self.path)
        })();
        if let Err(e) = placed {
            // A full or failing disk while flushing: the temporary is this run's, and
            // incomplete; `Drop` no longer sees it, so remove it here.
            let _ = fs::remove_file(&self.tmp);
            return Err(e);
        }
        Ok(std::mem::take(&mut self.hashers)
            .into_iter()
            .map(Hasher::finish)
            .collect())
    }
}

impl Write for TagWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.as_mut().expect("not committed").write(buf)?;
        for h in &mut self.hashers {
            h.update(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.as_mut().expect("not committed").flush()
    }
}

impl Drop for TagWriter {
    fn drop(&mut self) {
        // A writer dropped before its commit leaves no temporary file behind.
        if self.out.is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The bag-info qoima writes: the user's elements in their order, then Bagging-Date and
/// Bag-Software-Agent unless given, then the computed Payload-Oxum and Bag-Size (which
/// replace any given, since only the computed values can be true).
pub fn final_info(user: &BagInfo, date: Option<chrono::NaiveDate>, oxum: Oxum) -> BagInfo {
    let mut info = BagInfo::new();
    for e in user.elements() {
        if !e.label.eq_ignore_ascii_case("Payload-Oxum")
            && !e.label.eq_ignore_ascii_case("Bag-Size")
        {
            info.push(e.label.clone(), e.value.clone());
        }
    }
    if !info.contains("Bagging-Date") {
        info.push(
            "Bagging-Date",
            bagging_date(date).format("%Y-%m-%d").to_string(),
        );
    }
    if !info.contains("Bag-Software-Agent") {
        info.push(
            "Bag-Software-Agent",
            format!(
                "qoima {} <https://crates.io/crates/qoima>",
                env!("CARGO_PKG_VERSION")
            ),
        );
    }
    info.push("Payload-Oxum", oxum.to_string());
    info.push("Bag-Size", human_bytes(oxum.octets));
    info
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
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let scan =
        engine.install(|| scan_source_excluding(src, opts.follow_links, &[], &opts.exclude))?;
    let (files, warnings) = (scan.files, scan.warnings);
    fs::create_dir_all(&parent).map_err(BagError::io(&parent))?;
    // A killed run's temporary folder (its process gone) is removed; a live run's is not.
    fsutil::sweep_stale(dest, "bag");
    let tmp = fsutil::temp_sibling(dest, "bag");
    let result = (|| {
        let data = tmp.join("data");
        fs::create_dir_all(&data).map_err(BagError::io(&data))?;
        let mut made: HashSet<&str> = HashSet::new();
        for f in &files {
            if let Some((dir, _)) = f.rel.rsplit_once('/')
                && made.insert(dir)
            {
                let d = data.join(dir);
                fs::create_dir_all(&d).map_err(BagError::io(&d))?;
            }
        }
        // With --link, every regular file that can be is hard-linked first (a link cannot
        // cross filesystems, and a followed symlink is copied so that the bag holds a file).
        let linked: Vec<bool> = if opts.link {
            files
                .iter()
                .map(|f| {
                    let from = src.join(&f.rel);
                    fs::symlink_metadata(&from).is_ok_and(|m| m.is_file())
                        && fs::hard_link(&from, data.join(&f.rel)).is_ok()
                })
                .collect()
        } else {
            Vec::new()
        };
        let stage = if opts.link && linked.iter().all(|&l| l) {
            "hashing"
        } else {
            "copying and hashing"
        };
        progress.stage(
            stage,
            files.iter().map(|f| f.size).sum(),
            files.len() as u64,
        );
        let digests = hash_files_linked(
            src,
            &files,
            &opts.algorithms,
            Some(data.as_path()),
            &linked,
            opts.follow_links,
            engine,
            progress,
        )?;
        // The payload reaches the disk before the tag files that vouch for it, and the
        // rename that makes the bag visible comes last: one syncfs(2) instead of a fsync per
        // file.
        progress.stage("syncing to disk", 0, 0);
        // The caller's tag files (a METS of 60 MB for 5,000 items) are made while the disk
        // catches up: describing is work for a core, syncing is waiting for the disk.
        let (synced, tags) = std::thread::scope(|s| {
            let sync = s.spawn(|| fsutil::sync_filesystem(&tmp));
            let tags = extra(&files, &digests);
            (sync.join().expect("the sync thread does not panic"), tags)
        });
        synced.map_err(BagError::io(&tmp))?;
        fsutil::failpoint("bag-before-tags");
        progress.stage("writing tag files", 0, 0);
        let tags = tags?;
        write_tag_files(&tmp, &files, &digests, opts, &tags)?;
        fs::rename(&tmp, dest).map_err(BagError::io(dest))?;
        // The rename is only durable once the folder is flushed: a failure is reported.
        fsutil::sync_dir(&parent).map_err(BagError::io(&parent))?;
        Ok(digests)
    })();
    match result {
        Ok(digests) => {
            let mut done = summary(dest, &files, &digests, opts, warnings);
            done.excluded = scan.excluded;
            Ok(done)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

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
