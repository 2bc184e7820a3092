//! Making bags: scanning a source folder, refusing what cannot be bagged faithfully, hashing
//! (and copying) every file in one read, and writing the tag files.
//!
//! `bag` writes into a temporary folder beside the destination and renames it when complete,
//! so an interrupted run never leaves something that looks like a finished bag; the source
//! is only read.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use unicode_normalization::UnicodeNormalization;
use walkdir::WalkDir;

use super::baginfo::{BagInfo, Oxum};
use super::declaration::{self, Declaration, Version};
use super::manifest;
use super::text::Encoding;
use crate::digest::{Algorithm, DigestError, Engine, FileDigests, HashJob, Progress};
use crate::error::{Code, Problem};
use crate::fsutil;
use crate::paths;
use crate::report::human_bytes;

/// What to put in a new bag.
#[derive(Clone, Debug)]
pub struct BagOptions {
    /// Manifest algorithms (default sha256 and sha512).
    pub algorithms: Vec<Algorithm>,
    /// The user's bag-info elements, in order.
    pub info: BagInfo,
    /// Bag what symbolic links point to (otherwise a link is refused).
    pub follow_links: bool,
    /// Bagging-Date; default from `SOURCE_DATE_EPOCH`, else today (UTC).
    pub date: Option<chrono::NaiveDate>,
}

impl Default for BagOptions {
    fn default() -> Self {
        BagOptions {
            algorithms: vec![Algorithm::Sha256, Algorithm::Sha512],
            info: BagInfo::new(),
            follow_links: false,
            date: None,
        }
    }
}

/// A file found in the source.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path relative to the source root, `/`-separated.
    pub rel: String,
    /// Where to read it.
    pub abs: PathBuf,
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
    /// The request makes no sense (e.g. a destination inside the source).
    #[error("{0}")]
    Usage(String),
}

impl BagError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> BagError {
        let path = path.into();
        move |source| BagError::Io { path, source }
    }
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

/// Walks a source folder in sorted order and refuses, all at once, whatever cannot be
/// bagged faithfully: links (unless followed), FIFOs and devices, names that are not UTF-8,
/// and names that collide by Unicode form or case. `skip` names top-level entries to ignore.
pub fn scan_source(
    root: &Path,
    follow_links: bool,
    skip: &[&str],
) -> Result<(Vec<SourceFile>, Vec<Problem>), BagError> {
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
    let walker = WalkDir::new(root)
        .min_depth(1)
        .follow_links(follow_links)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() != 1 || !skip.iter().any(|s| e.file_name() == *s));
    for item in walker {
        let item = match item {
            Ok(i) => i,
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| p.to_path_buf())
                    .unwrap_or_else(|| root.to_path_buf());
                let rel = display_rel(root, &path);
                if e.loop_ancestor().is_some() {
                    refused.push(
                        Problem::new(
                            Code::SymlinkInSource,
                            format!("{rel} is a link that loops back to a parent folder"),
                        )
                        .file(rel),
                    );
                } else if follow_links
                    && fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink())
                {
                    refused.push(
                        Problem::new(Code::SymlinkEscapes, format!("{rel} is a link to nothing"))
                            .file(rel),
                    );
                } else {
                    let source = e
                        .into_io_error()
                        .unwrap_or_else(|| io::Error::other("walk failed"));
                    return Err(BagError::Io { path, source });
                }
                continue;
            }
        };
        let Some(rel) = rel_utf8(root, item.path()) else {
            let rel = display_rel(root, item.path());
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
        if let Some((parent, _)) = rel.rsplit_once('/') {
            nonempty.insert(parent.to_string());
        } else {
            nonempty.insert(String::new());
        }
        let ft = item.file_type();
        if ft.is_symlink() {
            // Only reached without follow_links (with it, walkdir reports the target's type).
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
            let size = item
                .metadata()
                .map_err(|e| BagError::io(item.path())(io::Error::other(e)))?
                .len();
            files.push(SourceFile {
                abs: item.path().to_path_buf(),
                rel,
                size,
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
    let mut by_nfc: HashMap<String, &str> = HashMap::new();
    let mut by_case: HashMap<String, &str> = HashMap::new();
    for f in &files {
        let nfc: String = f.rel.nfc().collect();
        let lower = nfc.to_lowercase();
        if let Some(other) = by_nfc.get(&nfc) {
            refused.push(
                Problem::new(
                    Code::NormalizationCollision,
                    format!(
                        "{} and {} are the same name in different Unicode forms",
                        paths::printable(other),
                        paths::printable(&f.rel)
                    ),
                )
                .file(f.rel.as_str()),
            );
        } else if let Some(other) = by_case.get(&lower) {
            refused.push(
                Problem::new(
                    Code::CaseCollision,
                    format!(
                        "{} and {} differ only by case",
                        paths::printable(other),
                        paths::printable(&f.rel)
                    ),
                )
                .file(f.rel.as_str()),
            );
        }
        by_nfc.entry(nfc).or_insert(&f.rel);
        by_case.entry(lower).or_insert(&f.rel);
        let name = f.rel.rsplit('/').next().unwrap_or(&f.rel);
        if [".DS_Store", "Thumbs.db", "desktop.ini", "ehthumbs.db"].contains(&name)
            || name.starts_with("._")
        {
            warnings.push(
                Problem::new(
                    Code::OsJunkFile,
                    format!(
                        "{} looks like an operating-system file",
                        paths::printable(&f.rel)
                    ),
                )
                .file(f.rel.as_str()),
            );
        }
        if let Some(why) = f.rel.split('/').find_map(paths::windows_unsafe) {
            warnings.push(
                Problem::new(
                    Code::WindowsUnsafeName,
                    format!("{}: {why}", paths::printable(&f.rel)),
                )
                .file(f.rel.as_str()),
            );
        }
    }
    if !refused.is_empty() {
        return Err(BagError::Refused(refused));
    }
    Ok((files, warnings))
}

fn rel_utf8(root: &Path, p: &Path) -> Option<String> {
    let rel = p.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

fn display_rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

/// Hashes (and optionally copies) the source files; any failure is an error naming the file.
pub(crate) fn hash_files(
    files: &[SourceFile],
    algorithms: &[Algorithm],
    copy_root: Option<&Path>,
    follow_links: bool,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<Vec<FileDigests>, BagError> {
    let jobs: Vec<HashJob> = files
        .iter()
        .map(|f| HashJob {
            path: f.abs.clone(),
            size_hint: f.size,
            algorithms: algorithms.iter().copied().collect(),
            copy_to: copy_root.map(|r| r.join(&f.rel)),
            follow_links,
        })
        .collect();
    let mut out = Vec::with_capacity(files.len());
    for r in engine.run(&jobs, progress) {
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
        }
    }
    Ok(out)
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
    let write = |rel: &str, data: &[u8]| -> Result<(), BagError> {
        let p = bag.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).map_err(BagError::io(parent))?;
        }
        fsutil::write_atomic(&p, data).map_err(BagError::io(&p))?;
        fsutil::failpoint("tag-write");
        Ok(())
    };
    let mut tags: Vec<(String, Vec<u8>)> = Vec::new();
    for (rel, data) in extra_tags {
        write(rel, data)?;
        tags.push((rel.clone(), data.clone()));
    }
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by(|&a, &b| files[a].rel.cmp(&files[b].rel));
    let payload: Vec<String> = files.iter().map(|f| format!("data/{}", f.rel)).collect();
    for &a in &opts.algorithms {
        let text = manifest::render(order.iter().map(|&i| {
            (
                payload[i].as_str(),
                digests[i].get(a).expect("every algorithm was computed"),
            )
        }));
        let name = manifest::file_name(false, a);
        write(&name, text.as_bytes())?;
        tags.push((name, text.into_bytes()));
    }
    let oxum = Oxum {
        octets: digests.iter().map(|d| d.size).sum(),
        streams: files.len() as u64,
    };
    let info = final_info(&opts.info, opts.date, oxum);
    let info_text = info.render();
    write("bag-info.txt", info_text.as_bytes())?;
    tags.push(("bag-info.txt".into(), info_text.into_bytes()));
    let decl = declaration::render(Declaration {
        version: Version::V1_0,
        encoding: Encoding::Utf8,
    });
    tags.push(("bagit.txt".into(), decl.clone().into_bytes()));
    tags.sort_by(|a, b| a.0.cmp(&b.0));
    for &a in &opts.algorithms {
        let digests: Vec<(String, String)> = tags
            .iter()
            .map(|(p, d)| (p.clone(), crate::digest::digest_bytes(a, d)))
            .collect();
        let text = manifest::render(digests.iter().map(|(p, d)| (p.as_str(), d.as_str())));
        write(&manifest::file_name(true, a), text.as_bytes())?;
    }
    write("bagit.txt", decl.as_bytes())?;
    Ok(info)
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
    if dest.exists() || fs::symlink_metadata(dest).is_ok() {
        return Err(BagError::Exists(dest.to_path_buf()));
    }
    let src_canon = fs::canonicalize(src).map_err(BagError::io(src))?;
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(BagError::io(&parent))?;
    let parent_canon = fs::canonicalize(&parent).map_err(BagError::io(&parent))?;
    if parent_canon.starts_with(&src_canon) {
        return Err(BagError::Usage(format!(
            "the destination {} is inside the source {}; choose a destination outside it (or use --in-place)",
            dest.display(),
            src.display()
        )));
    }
    let (files, warnings) = scan_source(src, opts.follow_links, &[])?;
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
        let digests = hash_files(
            &files,
            &opts.algorithms,
            Some(&data),
            opts.follow_links,
            engine,
            progress,
        )?;
        fsutil::failpoint("bag-before-tags");
        write_tag_files(&tmp, &files, &digests, opts, &[])?;
        fs::rename(&tmp, dest).map_err(BagError::io(dest))?;
        let _ = fsutil::sync_dir(&parent);
        Ok(digests)
    })();
    match result {
        Ok(digests) => Ok(summary(dest, &files, &digests, opts, warnings)),
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
    }
}
