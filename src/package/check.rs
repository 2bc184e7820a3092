//! `qoima check`: is every photo what it claims to be, and is every description complete and
//! well formed? Reads each photo once (in parallel), loads the sidecar, applies the metadata
//! rules and cross-checks records with the photos' EXIF. Writes nothing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use crate::digest::{Engine, Progress};
use crate::error::{Code, Problem};
use crate::fsutil;
use crate::metadata::rules::{self, FileFacts, Rules};
use crate::metadata::{self, LoadOptions, Record};
use crate::paths;
use crate::photo::{self, Decode, Exif, FormatId, Identification, Technical};
use crate::verdict::{self, Counts};

/// Options of a check.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// The sidecar (default: metadata.csv, else metadata.json, in the collection).
    pub metadata: Option<PathBuf>,
    /// How to read the sidecar.
    pub load: LoadOptions,
    /// The rules records must meet.
    pub rules: Rules,
    /// Decode every image fully (slower; catches corrupt pixel data).
    pub decode: bool,
    /// The memory one image's decoding may use (default: [`photo::DEFAULT_DECODE_BUDGET`]).
    pub decode_memory: Option<u64>,
    /// Warnings count as errors.
    pub strict: bool,
    /// Warnings that stay warnings under `strict`.
    pub allow: Vec<Code>,
    /// Files and folders to leave out, as `qoima package --exclude` (and `--exclude-junk`)
    /// leave them out of the bag: see [`crate::bagit::create::excluded_by`].
    pub exclude: Vec<String>,
}

/// One item: a record and the photo it describes (or a photo no record describes). The
/// photo's facts are boxed: an item without a photo (a record naming an absent file) costs
/// about 180 bytes, not 450, and a sidecar may hold a million.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// The record's identifier.
    pub identifier: Option<String>,
    /// The photo's path in the collection.
    pub file: Option<String>,
    /// The record's line in the sidecar.
    pub line: Option<u64>,
    /// The record's section.
    pub section: Option<String>,
    /// The photo's format, identified by content.
    pub format: Option<Box<FormatId>>,
    /// How the format was reached: the PRONOM candidates, the one chosen, and why.
    pub identification: Option<Box<Identification>>,
    /// The photo's size in bytes.
    pub size: Option<u64>,
    /// Technical metadata.
    pub technical: Option<Box<Technical>>,
    /// EXIF.
    pub exif: Option<Box<Exif>>,
    /// Whether the photo's image data was decoded (`--decode`), and if not, why; `None` when
    /// the item has no photo.
    pub decode: Option<Box<Decode>>,
    /// Problems of this item.
    pub problems: Vec<Problem>,
}

/// What a check found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The collection folder.
    pub collection: String,
    /// The sidecar used.
    pub sidecar: Option<String>,
    /// The PRONOM signature release the formats' PUIDs follow.
    pub pronom_signatures: &'static str,
    /// Whether the collection passed (no errors; under `strict`, no warnings either).
    pub passed: bool,
    /// Records and photos.
    pub items: Vec<Item>,
    /// Photos examined.
    pub photos: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Error and warning counts over everything.
    pub counts: Counts,
    /// Problems of the collection as a whole (the sidecar's header, unreadable files…).
    pub problems: Vec<Problem>,
    /// The sidecar's records (for the stages after the check; not part of the JSON report).
    #[serde(skip)]
    pub records: Vec<Record>,
    /// The collection's own Dublin Core (`collection.toml` or `collection.json`, with the
    /// folder's name where they say nothing), as `package` writes it.
    #[serde(skip)]
    pub collection_record: Record,
}

impl CheckReport {
    /// Every problem, items' included.
    pub fn all_problems(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .chain(self.items.iter().flat_map(|i| i.problems.iter()))
    }
}

/// File extensions that make a file a photo even when its content is not one.
const IMAGE_EXTENSIONS: [&str; 17] = [
    "jpg", "jpeg", "jpe", "jfif", "png", "tif", "tiff", "gif", "webp", "jp2", "j2k", "jpf", "jpx",
    "heic", "heif", "avif", "dng",
];

fn has_image_extension(path: &str) -> bool {
    path.rsplit_once('.')
        .is_some_and(|(_, e)| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Files that belong to the collection rather than describe or depict an item.
fn is_collection_file(path: &str, sidecar: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    path == sidecar
        || [
            metadata::COLLECTION_FILES[0],
            metadata::COLLECTION_FILES[1],
            "metadata.csv",
            "metadata.json",
        ]
        .contains(&lower.as_str())
        || (!lower.contains('/') && lower.starts_with("readme"))
}

/// Checks the collection at `root`.
pub fn check(
    root: &Path,
    opts: &CheckOptions,
    engine: &Engine,
    progress: &dyn Progress,
) -> std::io::Result<CheckReport> {
    let meta = std::fs::metadata(root)?;
    if !meta.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            format!("{} is not a folder", root.display()),
        ));
    }
    let mut global: Vec<Problem> = Vec::new();
    let (sidecar, sidecar_name) = load_sidecar(root, opts, &mut global);
    // Without a readable sidecar every photo is undescribed; saying so per photo would only
    // repeat the one problem that matters.
    let sidecar_unusable = global.iter().any(|p| {
        matches!(
            p.code,
            Code::SidecarMissing
                | Code::SidecarUnreadable
                | Code::SidecarMalformed
                | Code::LinkOutsideCollection
        )
    });
    // The collection's own description, read as `package` reads it.
    let (collection, problems) = metadata::load_collection(root);
    global.extend(problems);
    let files = list_files(root, opts, engine, sidecar_name.as_deref(), &mut global);
    let read = AtomicU64::new(0);
    let examined = examine_files(root, &files, &sidecar, opts, engine, progress, &read);
    let facts: Vec<FileFacts> = examined.iter().map(|(f, _)| f.clone()).collect();
    let mut outcome = rules::apply(&sidecar, &facts, &opts.rules, opts.load.max_problems);
    if sidecar_unusable {
        outcome
            .problems
            .retain(|p| p.counted_code() != Code::Undescribed);
    }
    let (mut items, mut orphans, photos) = gather_items(&sidecar, examined, &outcome);
    let by_line = LineIndex::of(&sidecar);
    let own_file = |p: &Problem| p.location.file.as_deref() == sidecar_name.as_deref();
    // Rule problems go to the item on their line, or the item of their file.
    for p in std::mem::take(&mut outcome.problems) {
        if let Some(i) = p
            .location
            .line
            .and_then(|l| by_line.find(l))
            .filter(|_| own_file(&p))
        {
            items[i].problems.push(p);
        } else if let Some(o) = orphans
            .iter_mut()
            .find(|o| o.file.is_some() && o.file.as_deref() == p.location.file.as_deref())
        {
            o.problems.push(p);
        } else {
            global.push(p);
        }
    }
    // Sidecar problems that name a record's line (encoding, NFC, field count…) go to its item.
    let mut rest = Vec::new();
    for p in global {
        match p
            .location
            .line
            .and_then(|l| by_line.find(l))
            .filter(|_| own_file(&p))
        {
            Some(i) => items[i].problems.push(p),
            None => rest.push(p),
        }
    }
    drop(by_line);
    items.extend(orphans);
    Ok(finish(
        root,
        opts,
        items,
        rest,
        (photos, read.into_inner()),
        sidecar.records,
        sidecar_name,
        collection,
    ))
}

/// Reads the sidecar (reporting into `global`): it and its name, relative to the collection.
fn load_sidecar(
    root: &Path,
    opts: &CheckOptions,
    global: &mut Vec<Problem>,
) -> (metadata::Sidecar, Option<String>) {
    match metadata::find_sidecar(root, opts.metadata.as_deref()) {
        Ok(path) => {
            let name = path
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| path.display().to_string());
            let (sidecar, problems) = metadata::load(root, &path, &name, &opts.load);
            global.extend(problems);
            (sidecar, Some(name))
        }
        Err(p) => {
            global.push(p);
            (metadata::Sidecar::default(), None)
        }
    }
}

/// The collection's files that may be items (path, size), reporting what cannot be one.
fn list_files(
    root: &Path,
    opts: &CheckOptions,
    engine: &Engine,
    sidecar_name: Option<&str>,
    global: &mut Vec<Problem>,
) -> Vec<(String, u64)> {
    let (walked, issues) = engine.install(|| fsutil::walk(root, false, &[]));
    for issue in issues {
        if let fsutil::WalkIssue::Io(p, e) = issue {
            global.push(
                Problem::new(
                    Code::FileUnreadable,
                    format!("cannot read {}: {e}", p.display()),
                )
                .file(p.display().to_string()),
            );
        }
    }
    let mut files: Vec<(String, u64)> = Vec::new();
    for w in walked {
        let Some(rel) = w
            .rel
            .to_str()
            .map(|s| s.replace(std::path::MAIN_SEPARATOR, "/"))
        else {
            let shown = w.rel.to_string_lossy().into_owned();
            global.push(
                Problem::new(
                    Code::NonUtf8Name,
                    format!(
                        "{} has a name that is not valid UTF-8",
                        paths::printable(&shown)
                    ),
                )
                .file(shown),
            );
            continue;
        };
        if w.file_type.is_dir() || crate::bagit::create::excluded_by(&opts.exclude, &rel) {
            continue;
        }
        if w.file_type.is_symlink() {
            global.push(
                Problem::new(
                    Code::SymlinkInSource,
                    format!(
                        "{} is a symbolic link; a collection holds the files themselves",
                        paths::printable(&rel)
                    ),
                )
                .file(rel),
            );
            continue;
        }
        if !w.file_type.is_file() {
            global.push(
                Problem::new(
                    Code::SpecialFile,
                    format!("{} is a FIFO, socket or device", paths::printable(&rel)),
                )
                .file(rel),
            );
            continue;
        }
        if is_collection_file(&rel, sidecar_name.unwrap_or("")) {
            continue;
        }
        files.push((rel, w.len));
    }
    files
}

/// Each file read once, in parallel: its facts for the rules and, for a photo (or a file a
/// record names), what examining it found.
fn examine_files(
    root: &Path,
    files: &[(String, u64)],
    sidecar: &metadata::Sidecar,
    opts: &CheckOptions,
    engine: &Engine,
    progress: &dyn Progress,
    read: &AtomicU64,
) -> Vec<(FileFacts, Option<ExaminedPhoto>)> {
    progress.stage(
        "checking",
        files.iter().map(|(_, size)| size).sum(),
        files.len() as u64,
    );
    // Built only when there are files: a million records naming absent photos need none.
    let described: HashSet<&str> = if files.is_empty() {
        HashSet::new()
    } else {
        sidecar
            .records
            .iter()
            .filter_map(|r| r.first("file"))
            .collect()
    };
    engine.install(|| {
        files
            .par_iter()
            .map(|(rel, size)| {
                let full = root.join(rel);
                let candidate = described.contains(rel.as_str())
                    || has_image_extension(rel)
                    || looks_like_image(&full);
                if !candidate {
                    let facts = FileFacts {
                        path: rel.clone(),
                        ..FileFacts::default()
                    };
                    return (facts, None);
                }
                examine_photo(rel, &full, *size, opts, progress, read)
            })
            .collect()
    })
}

/// Reads and examines one photo.
fn examine_photo(
    rel: &str,
    full: &Path,
    size: u64,
    opts: &CheckOptions,
    progress: &dyn Progress,
    read: &AtomicU64,
) -> (FileFacts, Option<ExaminedPhoto>) {
    let data = match read_photo(full) {
        Ok(d) => d,
        Err(e) => {
            let p = Problem::new(
                Code::FileUnreadable,
                format!("cannot read {}: {e}", paths::printable(rel)),
            )
            .file(rel);
            let facts = FileFacts {
                path: rel.to_string(),
                photo: true,
                ..FileFacts::default()
            };
            let examined = ExaminedPhoto {
                size,
                report: None,
                problems: vec![p],
            };
            return (facts, Some(examined));
        }
    };
    read.fetch_add(data.len() as u64, Ordering::Relaxed);
    progress.bytes(size);
    let budget = opts.decode_memory.unwrap_or(photo::DEFAULT_DECODE_BUDGET);
    let r = photo::examine_within(rel, &data, opts.decode.then_some(budget));
    progress.file_done();
    let exif_day = r
        .exif
        .as_ref()
        .and_then(|e| e.date_time_original.as_deref())
        .and_then(exif_day);
    let gps = r
        .exif
        .as_ref()
        .is_some_and(|e| e.gps_latitude.is_some() && e.gps_longitude.is_some());
    let facts = FileFacts {
        path: rel.to_string(),
        photo: true,
        exif_day,
        gps,
    };
    let problems = r.problems.clone();
    let examined = ExaminedPhoto {
        size,
        report: Some(r),
        problems,
    };
    (facts, Some(examined))
}

/// The items in sidecar order, the photos no record describes, and the number of photos.
fn gather_items(
    sidecar: &metadata::Sidecar,
    examined: Vec<(FileFacts, Option<ExaminedPhoto>)>,
    outcome: &rules::Outcome,
) -> (Vec<Item>, Vec<Item>, u64) {
    let mut items: Vec<Item> = sidecar.records.iter().map(item_of).collect();
    let mut orphans = Vec::new();
    let mut photos = 0;
    for (f, ex) in examined {
        let Some(ex) = ex else { continue };
        photos += 1;
        let target = match outcome.described_by.get(&f.path) {
            Some(&i) => &mut items[i],
            None => {
                orphans.push(Item {
                    file: Some(f.path.clone()),
                    ..empty_item()
                });
                orphans.last_mut().expect("just pushed")
            }
        };
        target.size = Some(ex.size);
        target.problems.extend(ex.problems);
        if let Some(r) = ex.report {
            target.format = r.format.map(Box::new);
            target.identification = r.identification.map(Box::new);
            target.technical = Some(Box::new(r.technical));
            target.exif = r.exif.map(Box::new);
            target.decode = Some(Box::new(r.decode));
        }
    }
    (items, orphans, photos)
}

/// Finds the record that starts on a line: by binary search when the records are in line
/// order (as both readers give them), else through a map (no copy for a million records).
enum LineIndex<'a> {
    Sorted(&'a [metadata::Record]),
    Map(std::collections::HashMap<u64, usize>),
}

impl LineIndex<'_> {
    fn of(sidecar: &metadata::Sidecar) -> LineIndex<'_> {
        let records = sidecar.records.as_slice();
        if records.windows(2).all(|w| w[0].line < w[1].line) {
            return LineIndex::Sorted(records);
        }
        LineIndex::Map(
            records
                .iter()
                .enumerate()
                .map(|(i, r)| (r.line, i))
                .collect(),
        )
    }

    fn find(&self, line: u64) -> Option<usize> {
        match self {
            LineIndex::Sorted(records) => records.binary_search_by_key(&line, |r| r.line).ok(),
            LineIndex::Map(map) => map.get(&line).copied(),
        }
    }
}

/// Sorts every list of problems (after `--strict`), counts them and makes the report.
#[allow(clippy::too_many_arguments)]
fn finish(
    root: &Path,
    opts: &CheckOptions,
    mut items: Vec<Item>,
    mut global: Vec<Problem>,
    (photos, bytes): (u64, u64),
    records: Vec<metadata::Record>,
    sidecar: Option<String>,
    collection_record: metadata::Record,
) -> CheckReport {
    for it in &mut items {
        if opts.strict {
            verdict::apply_strict(&mut it.problems, &opts.allow);
        }
        verdict::sort_problems(&mut it.problems);
    }
    if opts.strict {
        verdict::apply_strict(&mut global, &opts.allow);
    }
    verdict::sort_problems(&mut global);
    let mut report = CheckReport {
        collection: root.display().to_string(),
        sidecar,
        pronom_signatures: photo::PRONOM_SIGNATURE_RELEASE,
        passed: false,
        items,
        photos,
        bytes,
        counts: Counts::default(),
        problems: global,
        // Moved, not cloned.
        records,
        collection_record,
    };
    // Summed list by list: a million records must not cost a second copy of their problems.
    report.counts = report
        .items
        .iter()
        .map(|it| Counts::of(&it.problems))
        .fold(Counts::of(&report.problems), Counts::plus);
    report.passed = report.counts.errors == 0;
    report
}

struct ExaminedPhoto {
    size: u64,
    report: Option<photo::PhotoReport>,
    problems: Vec<Problem>,
}

fn empty_item() -> Item {
    Item {
        identifier: None,
        file: None,
        line: None,
        section: None,
        format: None,
        identification: None,
        size: None,
        technical: None,
        exif: None,
        decode: None,
        problems: Vec::new(),
    }
}

fn item_of(r: &Record) -> Item {
    Item {
        identifier: r.first("identifier").map(String::from),
        file: r.first("file").map(String::from),
        line: Some(r.line),
        section: r.first(metadata::SECTION).map(String::from),
        ..empty_item()
    }
}

/// The bytes of a photo to examine: all of it when its first bytes are an image format qoima
/// knows; otherwise only those first bytes, which are all the verdict needs (empty, text, or
/// unidentified) — a 2 GB file that is not an image is not read into memory.
fn read_photo(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut head = vec![0u8; 4096];
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    head.truncate(n);
    if n < 4096 || photo::identify(&head).is_none() {
        return Ok(head);
    }
    let mut rest = head;
    f.read_to_end(&mut rest)?;
    Ok(rest)
}

/// Whether the first bytes of a file are an image format qoima knows.
fn looks_like_image(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 64];
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let n = f.read(&mut head).unwrap_or(0);
    photo::identify(&head[..n]).is_some()
}

/// The calendar day of an EXIF date-time (`2022:01:04 19:30:00`).
fn exif_day(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y:%m:%d").ok()
}
