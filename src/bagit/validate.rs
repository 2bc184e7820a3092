//! Validation: is the bag complete, and is it valid (RFC 8493 section 3)?
//!
//! Every problem is collected; nothing stops at the first. Three depths:
//! - `Fast`: bagit.txt, bag-info.txt and the payload's count and size against Payload-Oxum.
//!   A pass means "complete according to Oxum", never "valid".
//! - `Completeness`: everything but the checksums.
//! - `Full`: completeness plus every checksum of every payload and tag manifest qoima can
//!   compute, each file read once for all of its algorithms.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use super::baginfo::{self, BagInfo};
use super::declaration::{self, Declaration};
use super::fetch::{self, FetchEntry};
use super::manifest::{self, Manifest};
use crate::digest::{Algorithm, AlgorithmSet, DigestError, Engine, FileDigests, Progress};
use crate::error::{Code, Problem};
use crate::paths;
use crate::store::{DigestRequest, Entry, EntryKind, LinkTarget, Store};
use crate::verdict::{self, Counts, Problems, Verdict};

/// How deep to validate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Everything, checksums included.
    #[default]
    Full,
    /// Everything but checksums.
    Completeness,
    /// Payload-Oxum only.
    Fast,
}

/// Options of a validation.
#[derive(Clone, Debug, Default)]
pub struct ValidateOptions {
    /// How deep.
    pub mode: Mode,
    /// Warnings count as errors.
    pub strict: bool,
    /// Warnings that stay warnings under `strict`.
    pub allow: Vec<Code>,
    /// Problems listed per code and file; the rest are counted in one `BAG-W050` summary
    /// (0: list every one). The verdict and counts do not depend on it.
    pub max_problems: usize,
}

/// What validation found about one bag.
#[derive(Clone, Debug, Serialize)]
pub struct BagReport {
    /// The bag, as given.
    pub bag: String,
    /// The outcome.
    pub verdict: Verdict,
    /// How deep it was checked.
    pub mode: Mode,
    /// BagIt version declared.
    pub version: Option<String>,
    /// Algorithms whose manifests were checked.
    pub algorithms: Vec<Algorithm>,
    /// Payload files found.
    pub payload_files: u64,
    /// Payload bytes found.
    pub payload_bytes: u64,
    /// Files whose checksums were computed.
    pub files_hashed: u64,
    /// Bytes hashed.
    pub bytes_hashed: u64,
    /// Error and warning counts.
    pub counts: Counts,
    /// Every problem, errors first.
    pub problems: Vec<Problem>,
    /// The archive format, when the bag was read from a zip, tar or tar.gz.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serialization: Option<crate::archive::Format>,
    /// For a bag read from an archive: whether the archive's layout conforms to RFC 8493
    /// §4.4 (one folder holding the bag). Set by [`BagReport::judge_serialization`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serialization_conforms: Option<bool>,
    /// For a bag read from an archive: the verdict on the bag's content alone, leaving out
    /// how the archive is laid out, so that a non-conforming archive of an intact bag says
    /// both things apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_verdict: Option<Verdict>,
    /// The BagIt Profile the bag was checked against (its name and version), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The files fetch.txt still owes, with their URL, size and checksums (`qoima fetch`
    /// gets them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owed: Vec<fetch::Owed>,
}

impl BagReport {
    /// A report on `bag` with nothing found yet (verdict: unreadable).
    fn empty(bag: String, mode: Mode) -> BagReport {
        BagReport {
            bag,
            verdict: Verdict::Unreadable,
            mode,
            version: None,
            algorithms: Vec::new(),
            payload_files: 0,
            payload_bytes: 0,
            files_hashed: 0,
            bytes_hashed: 0,
            counts: Counts::default(),
            problems: Vec::new(),
            serialization: None,
            serialization_conforms: None,
            content_verdict: None,
            profile: None,
            owed: Vec::new(),
        }
    }

    /// Records that the bag was read from an archive in `format` (if any), and splits the
    /// verdict in two: does the archive's layout conform (`ARC-005`, `ARC-023`), and what is
    /// the content's own verdict without the layout's problems. Call it after the last
    /// [`BagReport::absorb`].
    pub fn judge_serialization(&mut self, format: Option<crate::archive::Format>) {
        self.serialization = format;
        if format.is_none() {
            return;
        }
        let layout = |c: Code| {
            matches!(
                c,
                Code::ArchiveSeveralTops | Code::ArchiveBagAtRoot | Code::ArchiveNameMismatch
            )
        };
        let conforms = !self
            .problems
            .iter()
            .any(|p| p.is_error() && layout(p.code) && p.code != Code::ArchiveNameMismatch);
        let content: Vec<Problem> = self
            .problems
            .iter()
            .filter(|p| !layout(p.code))
            .cloned()
            .collect();
        let pass = match self.mode {
            Mode::Full => Verdict::Valid,
            Mode::Completeness => Verdict::Complete,
            Mode::Fast => Verdict::CompleteByOxum,
        };
        let pass = if self.verdict.passed() {
            self.verdict
        } else {
            pass
        };
        self.serialization_conforms = Some(conforms);
        self.content_verdict = Some(Verdict::from_problems(&content, pass));
    }

    /// Adds problems found by a check outside BagIt (a packaged bag's METS), then sorts the
    /// problems and recomputes the verdict and counts as validation itself does.
    pub fn absorb(&mut self, mut extra: Vec<Problem>, opts: &ValidateOptions) {
        if extra.is_empty() {
            return;
        }
        if opts.strict {
            verdict::apply_strict(&mut extra, &opts.allow);
        }
        self.problems.extend(extra);
        verdict::sort_problems(&mut self.problems);
        self.verdict = Verdict::from_problems(&self.problems, self.verdict);
        self.counts = Counts::of(&self.problems);
    }
}

/// Names browsers and operating systems leave behind.
const JUNK: [&str; 6] = [
    ".DS_Store",
    "Thumbs.db",
    "desktop.ini",
    "ehthumbs.db",
    ".Spotlight-V100",
    ".Trashes",
];

/// The hint of `BAG-035` when the unlisted file is operating-system junk.
const JUNK_UNLISTED_HINT: &str = "The unlisted file is operating-system junk (.DS_Store, Thumbs.db, desktop.ini or an AppleDouble ._ file) that macOS Finder or Windows Explorer added when the bag was opened; it is not part of the bag's content. Delete it and validate again (bag with `qoima bag --exclude-junk` to leave such files out from the start).";

struct Ctx<'a> {
    store: &'a dyn Store,
    /// Capped per code and file, so that ten million blank manifest lines cost no more than
    /// a hundred.
    problems: Problems,
    /// Every entry of the bag, sorted by path (looked up by binary search: no second copy of
    /// 100,000 names in a hash map), shared with the store (no copy of a million entries).
    entries: std::sync::Arc<[Entry]>,
    nfc_index: Option<HashMap<String, usize>>,
    observe: &'a Observer<'a>,
}

impl Ctx<'_> {
    fn push(&mut self, p: Problem) {
        self.problems.push(p);
    }

    fn find(&self, path: &str) -> Option<usize> {
        self.entries
            .binary_search_by(|e| e.path.as_str().cmp(path))
            .ok()
    }

    fn entry(&self, path: &str) -> Option<&Entry> {
        self.find(path).map(|i| &self.entries[i])
    }

    /// The index of a readable file at `path`.
    fn file(&self, path: &str) -> Option<usize> {
        self.find(path)
            .filter(|&i| self.entries[i].is_readable_file())
    }

    fn is_file(&self, path: &str) -> bool {
        self.entry(path).is_some_and(Entry::is_readable_file)
    }

    /// The on-disk entry whose NFC form equals `path`'s NFC form.
    fn nfc_lookup(&mut self, path: &str) -> Option<usize> {
        let entries = &self.entries;
        let idx = self.nfc_index.get_or_insert_with(|| {
            entries
                .iter()
                .enumerate()
                .map(|(i, e)| (e.path.nfc().collect::<String>(), i))
                .collect()
        });
        let key: String = path.nfc().collect();
        idx.get(&key).copied()
    }

    fn read_tag<T>(
        &mut self,
        path: &str,
        parse: impl FnOnce(&mut dyn std::io::Read, &mut Problems) -> T,
    ) -> Option<T> {
        match self.store.open(path) {
            Ok(mut r) => Some(parse(&mut r, &mut self.problems)),
            Err(e) => {
                self.push(
                    Problem::new(Code::TagFileUnreadable, format!("cannot read {path}: {e}"))
                        .file(path),
                );
                None
            }
        }
    }
}

/// Validates the bag in `store`.
pub fn validate(
    store: &dyn Store,
    opts: &ValidateOptions,
    engine: &Engine,
    progress: &dyn Progress,
) -> BagReport {
    validate_observed(store, opts, engine, progress, &|_, _| {})
}

/// Sees each file's digests as validation computes them (bag-relative path as on disk).
pub type Observer<'a> = dyn Fn(&str, &FileDigests) + Sync + 'a;

/// [`validate`], handing every file's digests to `observe` as they are computed (an audit
/// compares them with the bag's baseline without reading the bag a second time).
pub fn validate_observed(
    store: &dyn Store,
    opts: &ValidateOptions,
    engine: &Engine,
    progress: &dyn Progress,
    observe: &Observer<'_>,
) -> BagReport {
    let mut report = BagReport::empty(store.location(), opts.mode);
    let entries = match engine.install(|| store.listing()) {
        Ok(e) if e.is_sorted_by(|a, b| a.path <= b.path) => e,
        Ok(e) => {
            let mut sorted = e.to_vec();
            sorted.sort_unstable_by(|a, b| a.path.cmp(&b.path));
            sorted.into()
        }
        Err(e) => {
            report.problems.push(Problem::new(
                Code::NotABag,
                format!("cannot read {}: {e}", store.location()),
            ));
            return finish(report, opts, Verdict::Unreadable);
        }
    };
    let mut problems = Problems::new(opts.max_problems);
    // What the store found wrong while listing (hostile archive entries, left out).
    problems.extend(store.problems());
    let mut cx = Ctx {
        store,
        problems,
        entries,
        nfc_index: None,
        observe,
    };
    let pass = run(&mut cx, &mut report, opts, engine, progress);
    report.problems = cx.problems.into_vec();
    finish(report, opts, pass)
}

/// The report for a bag that could not be opened at all (an archive that is not one).
pub fn unopened(location: String, problem: Problem, opts: &ValidateOptions) -> BagReport {
    let mut report = BagReport::empty(location, opts.mode);
    report.problems.push(problem);
    finish(report, opts, Verdict::Unreadable)
}

fn finish(mut report: BagReport, opts: &ValidateOptions, pass: Verdict) -> BagReport {
    if opts.strict {
        verdict::apply_strict(&mut report.problems, &opts.allow);
    }
    verdict::sort_problems(&mut report.problems);
    report.verdict = Verdict::from_problems(&report.problems, pass);
    report.counts = Counts::of(&report.problems);
    report
}

fn run(
    cx: &mut Ctx<'_>,
    report: &mut BagReport,
    opts: &ValidateOptions,
    engine: &Engine,
    progress: &dyn Progress,
) -> Verdict {
    if cx.entry(super::inplace::JOURNAL).is_some() {
        cx.push(
            Problem::new(
                Code::InterruptedInPlace,
                "an in-place bagging of this folder was interrupted",
            )
            .file(super::inplace::JOURNAL),
        );
    }
    // ---- declaration ----
    if !cx.is_file("bagit.txt") {
        cx.push(
            Problem::new(
                Code::BagitTxtMissing,
                format!("{} has no bagit.txt", cx.store.location()),
            )
            .file("bagit.txt"),
        );
        return Verdict::Incomplete;
    }
    let Some(Some(decl)) = cx.read_tag("bagit.txt", |r, p| declaration::parse(r, p)) else {
        return Verdict::Invalid;
    };
    report.version = Some(decl.version.to_string());
    if !decl.version.is_rfc() {
        cx.push(
            Problem::new(
                Code::OldVersion,
                format!("the bag declares BagIt {}", decl.version),
            )
            .file("bagit.txt")
            .line(1),
        );
    }

    // ---- bag-info ----
    let info_file = decl.version.info_file();
    let info = if cx.is_file(info_file) {
        cx.read_tag(info_file, |r, p| {
            baginfo::parse(r, info_file, decl.encoding, decl.version, p)
        })
        .unwrap_or_default()
    } else {
        BagInfo::new()
    };

    // ---- payload on disk ----
    match cx.entry("data").map(|e| e.kind.clone()) {
        Some(EntryKind::Dir) => {}
        _ => cx.push(
            Problem::new(Code::DataDirMissing, "the bag has no data/ directory").file("data/"),
        ),
    }
    let payload = scan_payload(cx);
    report.payload_files = payload.len() as u64;
    report.payload_bytes = payload.iter().map(|&i| cx.entries[i].size).sum();

    // ---- Payload-Oxum ----
    let oxum_lines: Vec<_> = info
        .elements()
        .iter()
        .filter(|e| e.label.eq_ignore_ascii_case("Payload-Oxum"))
        .collect();
    match info.oxum() {
        Some(ox) if ox.octets != report.payload_bytes || ox.streams != report.payload_files => {
            let mut p = Problem::new(
                Code::OxumMismatch,
                format!(
                    "Payload-Oxum says {} bytes in {} files; the payload holds {} bytes in {} files",
                    ox.octets, ox.streams, report.payload_bytes, report.payload_files
                ),
            )
            .file(info_file)
            .field("Payload-Oxum");
            if let Some(e) = oxum_lines.first() {
                p = p.line(e.line);
            }
            cx.push(p);
        }
        None if opts.mode == Mode::Fast && oxum_lines.is_empty() => {
            cx.push(
                Problem::new(
                    Code::NoOxum,
                    format!("{info_file} has no Payload-Oxum, so --fast cannot judge the bag"),
                )
                .file(info_file),
            );
            return Verdict::Unreadable;
        }
        _ => {}
    }
    if opts.mode == Mode::Fast {
        return Verdict::CompleteByOxum;
    }

    // ---- manifests ----
    let mut payload_manifests = Vec::new();
    let mut tag_manifests = Vec::new();
    let names: Vec<String> = cx
        .entries
        .iter()
        .filter(|e| {
            !e.path.contains('/') && e.is_readable_file() && manifest::classify(&e.path).is_some()
        })
        .map(|e| e.path.clone())
        .collect();
    // Manifests are parsed in parallel: a bag of 100,000 files has two of 100,000 lines.
    let store = cx.store;
    let limit = cx.problems.limit();
    let parsed: Vec<(Option<Manifest>, Problems)> = engine.install(|| {
        use rayon::prelude::*;
        names
            .par_iter()
            .map(|name| {
                let mut problems = Problems::new(limit);
                let m = match store.open(name) {
                    Ok(r) => Some(manifest::parse(
                        r,
                        name,
                        decl.encoding,
                        decl.version,
                        &mut problems,
                    )),
                    Err(e) => {
                        problems.push(
                            Problem::new(
                                Code::TagFileUnreadable,
                                format!("cannot read {name}: {e}"),
                            )
                            .file(name.as_str()),
                        );
                        None
                    }
                };
                (m, problems)
            })
            .collect()
    });
    for (m, problems) in parsed {
        cx.problems.extend(problems.into_vec());
        let Some(m) = m else { continue };
        if m.algorithm.is_none() {
            cx.push(
                Problem::new(
                    Code::UnknownAlgorithm,
                    format!(
                        "{} uses algorithm {:?}, which qoima cannot compute; it was not checked",
                        m.file, m.algorithm_name
                    ),
                )
                .file(&m.file),
            );
        }
        if m.tag {
            tag_manifests.push(m);
        } else {
            payload_manifests.push(m);
        }
    }
    // A tag file that cannot be decoded says nothing qoima can judge the payload by: every
    // file would look unlisted. The bag could not be checked; stop before completeness.
    if cx
        .problems
        .iter()
        .any(|p| p.code == Code::TagFileUndecodable)
    {
        return Verdict::Unreadable;
    }
    if payload_manifests.is_empty() {
        cx.push(Problem::new(
            Code::NoPayloadManifest,
            "the bag has no payload manifest (manifest-<algorithm>.txt)",
        ));
    } else if payload_manifests.iter().all(|m| m.algorithm.is_none()) {
        cx.push(Problem::new(
            Code::NoCheckableManifest,
            "no payload manifest uses an algorithm qoima can compute",
        ));
    }
    let payload_algs: BTreeSet<Algorithm> = payload_manifests
        .iter()
        .filter_map(|m| m.algorithm)
        .collect();
    if !payload_algs.is_empty() && payload_algs.iter().all(|a| a.is_weak()) {
        let names: Vec<&str> = payload_algs.iter().map(|a| a.name()).collect();
        cx.push(Problem::new(
            Code::WeakAlgorithmOnly,
            format!("the payload is protected only by {}", names.join(" and ")),
        ));
    }

    // ---- fetch.txt ----
    let fetch: Vec<FetchEntry> = if cx.is_file("fetch.txt") {
        cx.read_tag("fetch.txt", |r, p| {
            fetch::parse(r, decl.encoding, decl.version, p)
        })
        .unwrap_or_default()
    } else {
        Vec::new()
    };
    if cx
        .problems
        .iter()
        .any(|p| p.code == Code::TagFileUndecodable)
    {
        return Verdict::Unreadable;
    }
    let fetch_paths: HashMap<&str, &FetchEntry> =
        fetch.iter().map(|f| (f.path.as_str(), f)).collect();

    // ---- resolve payload manifest entries ----
    // Every file to hash gets a slot (with the union of its algorithms); `refs` ties each
    // manifest line to its slot. `listed[m]` is a bitset over entries: listed by manifest m.
    let mut hash = HashPlan::new(cx.entries.len());
    let words = cx.entries.len().div_ceil(64);
    let mut listed: Vec<Vec<u64>> = vec![vec![0u64; words]; payload_manifests.len()];
    let mut pending_reported: BTreeSet<String> = BTreeSet::new();
    for (mi, m) in payload_manifests.iter().enumerate() {
        for (ei, e) in m.entries.iter().enumerate() {
            if !e.path.starts_with("data/") {
                cx.push(
                    Problem::new(
                        Code::PayloadOutsideData,
                        format!(
                            "{} lists {}, which is not under data/",
                            m.file,
                            paths::printable(e.path)
                        ),
                    )
                    .file(&m.file)
                    .line(e.line),
                );
                continue;
            }
            let Some(disk) = resolve(cx, m, &e, &fetch_paths, &mut pending_reported) else {
                continue;
            };
            listed[mi][disk / 64] |= 1 << (disk % 64);
            hash.add(disk, m.algorithm, false, mi, ei);
        }
    }
    check_manifest_names(cx, &payload_manifests);
    report.owed = fetch::owed(&fetch, &pending_reported, &payload_manifests);

    // ---- every payload file in every manifest ----
    let mut differ_reported = false;
    for &idx in &payload {
        let path = &cx.entries[idx].path;
        let is_listed = |m: usize| listed[m][idx / 64] & (1 << (idx % 64)) != 0;
        let count = (0..payload_manifests.len())
            .filter(|&m| is_listed(m))
            .count();
        if decl.version.is_rfc() || count == 0 {
            let missing: Vec<&str> = payload_manifests
                .iter()
                .enumerate()
                .filter(|(i, _)| !is_listed(*i))
                .map(|(_, m)| m.file.as_str())
                .collect();
            if !missing.is_empty() {
                let mut p = Problem::new(
                    Code::FileNotInManifest,
                    format!(
                        "{} is not listed in {}",
                        paths::printable(path),
                        missing.join(", ")
                    ),
                )
                .file(path.as_str());
                if path.split('/').any(super::create::is_junk) {
                    p.message.push_str(
                        "; it is an operating-system file a file browser added after bagging",
                    );
                    p.hint = JUNK_UNLISTED_HINT;
                }
                cx.push(p);
            }
        } else if count < payload_manifests.len() && !differ_reported {
            differ_reported = true;
            cx.push(
                Problem::new(
                    Code::ManifestSetsDiffer,
                    format!(
                        "the payload manifests list different files (first: {})",
                        paths::printable(path)
                    ),
                )
                .file(path.as_str()),
            );
        }
    }
    let manifest_sets: Vec<std::collections::HashSet<&str>> = if fetch.is_empty() {
        Vec::new()
    } else {
        payload_manifests
            .iter()
            .map(|m| m.entries.iter().map(|e| e.path).collect())
            .collect()
    };
    for f in &fetch {
        if manifest_sets.iter().any(|s| !s.contains(f.path.as_str())) {
            cx.push(
                Problem::new(
                    Code::FetchNotInManifest,
                    format!(
                        "{} is in fetch.txt but not in every payload manifest",
                        paths::printable(&f.path)
                    ),
                )
                .file("fetch.txt")
                .line(f.line),
            );
        }
    }

    // ---- tag manifests ----
    let tag_files: BTreeSet<String> = cx
        .entries
        .iter()
        .filter(|e| !e.path.starts_with("data/") && e.path != "data" && e.is_readable_file())
        .map(|e| e.path.clone())
        .collect();
    let mut tag_listed: BTreeSet<String> = BTreeSet::new();
    for (mi, m) in tag_manifests.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for (ei, e) in m.entries.iter().enumerate() {
            if e.path.starts_with("data/") {
                cx.push(
                    Problem::new(
                        Code::TagManifestListsPayload,
                        format!(
                            "{} lists the payload file {}",
                            m.file,
                            paths::printable(e.path)
                        ),
                    )
                    .file(&m.file)
                    .line(e.line),
                );
                continue;
            }
            if manifest::classify(e.path).is_some_and(|(tag, _)| tag) {
                cx.push(
                    Problem::new(
                        Code::TagManifestListsTagManifest,
                        format!("{} lists the tag manifest {}", m.file, e.path),
                    )
                    .file(&m.file)
                    .line(e.line),
                );
                continue;
            }
            seen.insert(e.path);
            // A tag file copied through macOS may be named in the other Unicode form.
            let idx = cx.file(e.path).or_else(|| {
                let disk = cx
                    .nfc_lookup(e.path)
                    .filter(|&i| cx.entries[i].is_readable_file())?;
                cx.push(other_unicode_form(m, &e));
                Some(disk)
            });
            let Some(idx) = idx else {
                let code = if cx.entry(e.path).is_some_and(|x| x.kind == EntryKind::Dir) {
                    Code::ManifestListsDirectory
                } else {
                    Code::FileMissing
                };
                cx.push(
                    Problem::new(
                        code,
                        format!(
                            "{} lists {}, which is not a file in the bag",
                            m.file,
                            paths::printable(e.path)
                        ),
                    )
                    .file(&m.file)
                    .line(e.line),
                );
                continue;
            };
            tag_listed.insert(cx.entries[idx].path.clone());
            hash.add(idx, m.algorithm, true, mi, ei);
        }
        for pm in &payload_manifests {
            if !seen.contains(pm.file.as_str()) {
                cx.push(
                    Problem::new(
                        Code::TagManifestMissesManifest,
                        format!("{} does not list the payload manifest {}", m.file, pm.file),
                    )
                    .file(&m.file),
                );
            }
        }
    }
    if tag_manifests.is_empty() {
        cx.push(Problem::new(Code::NoTagManifest, "the bag has no tag manifest: changes to bag-info.txt or the manifests cannot be detected"));
    } else {
        // A sealed bag keeps its signatures (seal/) and its custody log (custody/) outside
        // the tag manifests by design: they are proofs over the manifests, added later.
        let sealed = info.contains("Seal-Version");
        let proof = |t: &str| sealed && (t.starts_with("seal/") || t.starts_with("custody/"));
        for t in &tag_files {
            if !tag_listed.contains(t)
                && manifest::classify(t).is_none_or(|(tag, _)| !tag)
                && !proof(t)
            {
                cx.push(
                    Problem::new(
                        Code::TagFileNotInTagManifest,
                        format!(
                            "the tag file {} is not listed in any tag manifest",
                            paths::printable(t)
                        ),
                    )
                    .file(t.as_str()),
                );
            }
        }
        let tag_algs: BTreeSet<Algorithm> =
            tag_manifests.iter().filter_map(|m| m.algorithm).collect();
        if tag_algs != payload_algs && !payload_algs.is_empty() {
            let names =
                |s: &BTreeSet<Algorithm>| s.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ");
            cx.push(Problem::new(
                Code::TagManifestAlgorithmsDiffer,
                format!(
                    "payload manifests use {}; tag manifests use {}",
                    names(&payload_algs),
                    names(&tag_algs)
                ),
            ));
        }
    }

    lint_payload(cx, &payload);
    report.algorithms = payload_algs
        .iter()
        .copied()
        .chain(tag_manifests.iter().filter_map(|m| m.algorithm))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    if opts.mode == Mode::Completeness {
        return Verdict::Complete;
    }

    // ---- checksums ----
    let requests: Vec<DigestRequest<'_>> = hash
        .slots
        .iter()
        .map(|&(idx, algs)| {
            let e = &cx.entries[idx];
            // A link that stays inside the bag is read through its target, so that no link
            // is ever followed while hashing.
            let path = match &e.kind {
                EntryKind::Symlink(LinkTarget::InsideFile(t)) => t.as_str(),
                _ => e.path.as_str(),
            };
            DigestRequest {
                path,
                size_hint: e.size,
                algorithms: algs,
            }
        })
        .collect();
    // Manifest lines grouped by slot (compressed rows), so that each result is compared with
    // its lines the moment it is ready and then dropped.
    let mut starts = vec![0u32; hash.slots.len() + 1];
    for &(slot, ..) in &hash.refs {
        starts[slot as usize + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut grouped = vec![(false, 0u32, 0u32); hash.refs.len()];
    let mut fill = starts.clone();
    for &(slot, tag, mi, ei) in &hash.refs {
        grouped[fill[slot as usize] as usize] = (tag, mi, ei);
        fill[slot as usize] += 1;
    }
    drop(fill);
    // Capped as it fills: a million changed files make a million BAG-036 in one manifest.
    let found = std::sync::Mutex::new(Problems::new(cx.problems.limit()));
    let totals = std::sync::atomic::AtomicU64::new(0);
    let hashed = std::sync::atomic::AtomicU64::new(0);
    let entries = &cx.entries;
    let observe = cx.observe;
    cx.store
        .digest(&requests, engine, progress, &|slot, result| {
            let key = &entries[hash.slots[slot].0].path;
            let d = match result {
                Ok(d) => d,
                Err(e) => {
                    let code = match e {
                        DigestError::Changed { .. } => Code::FileChanged,
                        DigestError::NotRegular { .. } => Code::SpecialFile,
                        DigestError::Damaged { .. } => Code::ArchiveEntryDamaged,
                        _ => Code::FileUnreadable,
                    };
                    let p = Problem::new(code, e.to_string()).file(key.as_str());
                    found.lock().expect("no panic while held").push(p);
                    return;
                }
            };
            hashed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            totals.fetch_add(d.size, std::sync::atomic::Ordering::Relaxed);
            observe(key, &d);
            for &(tag, mi, ei) in &grouped[starts[slot] as usize..starts[slot + 1] as usize] {
                let m = if tag {
                    &tag_manifests[mi as usize]
                } else {
                    &payload_manifests[mi as usize]
                };
                let Some(a) = m.algorithm else { continue };
                let e = m.entries.get(ei as usize);
                let Some(got) = d.get(a) else { continue };
                if *got != e.digest {
                    let p = Problem::new(
                        Code::ChecksumMismatch,
                        format!(
                            "{}: {a} is {got}, {} says {}",
                            paths::printable(key),
                            m.file,
                            e.digest
                        ),
                    )
                    .file(&m.file)
                    .line(e.line)
                    .field(key.as_str());
                    found.lock().expect("no panic while held").push(p);
                }
            }
        });
    report.files_hashed = hashed.into_inner();
    report.bytes_hashed = totals.into_inner();
    // An archive entry the store already found damaged (a truncated tar) is reported once.
    let known: HashSet<Option<String>> = cx
        .problems
        .iter()
        .filter(|p| p.code == Code::ArchiveEntryDamaged)
        .map(|p| p.location.file.clone())
        .collect();
    cx.problems.extend(
        found
            .into_inner()
            .expect("no panic while held")
            .into_vec()
            .into_iter()
            .filter(|p| !(p.code == Code::ArchiveEntryDamaged && known.contains(&p.location.file))),
    );
    Verdict::Valid
}

/// Payload files on disk: path -> size. Reports links that leave the bag, special files and
/// names that cannot be written in a manifest.
fn scan_payload(cx: &mut Ctx<'_>) -> Vec<usize> {
    let mut payload = Vec::new();
    let mut problems = Vec::new();
    for (i, e) in cx.entries.iter().enumerate() {
        if !e.path.starts_with("data/") {
            if let EntryKind::Unreadable(why) = &e.kind {
                problems.push(
                    Problem::new(
                        Code::FileUnreadable,
                        format!("cannot read {}: {why}", paths::printable(&e.path)),
                    )
                    .file(e.path.as_str()),
                );
            }
            // A FIFO named fetch.txt or manifest-md5.txt is never opened (only regular files
            // are read), so it would otherwise pass unseen.
            if e.kind == EntryKind::Special {
                problems.push(
                    Problem::new(
                        Code::SpecialFile,
                        format!(
                            "{} is a FIFO, socket or device, not a tag file",
                            paths::printable(&e.path)
                        ),
                    )
                    .file(e.path.as_str()),
                );
            }
            if let EntryKind::Symlink(LinkTarget::Outside(_) | LinkTarget::Broken) = e.kind {
                problems.push(
                    Problem::new(
                        Code::SymlinkEscapes,
                        format!(
                            "{} is a link out of the bag or to nothing",
                            paths::printable(&e.path)
                        ),
                    )
                    .file(e.path.as_str()),
                );
            }
            continue;
        }
        match &e.kind {
            EntryKind::Dir => continue,
            EntryKind::Unreadable(why) => {
                problems.push(
                    Problem::new(
                        Code::FileUnreadable,
                        format!("cannot read {}: {why}", paths::printable(&e.path)),
                    )
                    .file(e.path.as_str()),
                );
                continue;
            }
            EntryKind::Special => {
                problems.push(
                    Problem::new(
                        Code::SpecialFile,
                        format!("{} is a FIFO, socket or device", paths::printable(&e.path)),
                    )
                    .file(e.path.as_str()),
                );
                continue;
            }
            EntryKind::Symlink(LinkTarget::Outside(t)) => {
                problems.push(
                    Problem::new(
                        Code::SymlinkEscapes,
                        format!(
                            "{} is a link to {}, outside the bag; it was not followed",
                            paths::printable(&e.path),
                            paths::printable(t)
                        ),
                    )
                    .file(e.path.as_str()),
                );
                continue;
            }
            EntryKind::Symlink(LinkTarget::Broken) => {
                problems.push(
                    Problem::new(
                        Code::SymlinkEscapes,
                        format!("{} is a link to nothing", paths::printable(&e.path)),
                    )
                    .file(e.path.as_str()),
                );
                continue;
            }
            EntryKind::Symlink(LinkTarget::InsideDir) => {
                problems.push(
                    Problem::new(Code::SymlinkInBag, format!("{} is a link to a folder inside the bag; its files are counted where they really are", paths::printable(&e.path)))
                        .file(e.path.as_str()),
                );
                continue;
            }
            EntryKind::Symlink(LinkTarget::InsideFile(t)) => {
                problems.push(
                    Problem::new(
                        Code::SymlinkInBag,
                        format!(
                            "{} is a link to {}; the target's content was used",
                            paths::printable(&e.path),
                            paths::printable(t)
                        ),
                    )
                    .file(e.path.as_str()),
                );
            }
            EntryKind::File => {}
        }
        if !e.utf8 {
            problems.push(
                Problem::new(
                    Code::NonUtf8Name,
                    format!(
                        "{} has a name that is not valid UTF-8",
                        paths::printable(&e.path)
                    ),
                )
                .file(e.path.as_str()),
            );
        }
        payload.push(i);
    }
    cx.problems.extend(problems);
    payload
}

/// Finds the on-disk file a manifest entry names, reporting how it was found or why not.
fn resolve(
    cx: &mut Ctx<'_>,
    m: &Manifest,
    e: &manifest::EntryRef<'_>,
    fetch: &HashMap<&str, &FetchEntry>,
    pending_reported: &mut BTreeSet<String>,
) -> Option<usize> {
    if !e.bad_escape
        && let Some(i) = cx.file(e.path)
    {
        return Some(i);
    }
    // bagit-python writes `%` unencoded: fall back to the literal name, never silently.
    if e.raw.is_some() || e.bad_escape {
        if let Some(i) = cx.file(e.raw()) {
            cx.push(
                Problem::new(
                    Code::PercentLiteralFallback,
                    format!("{} line {} lists {:?}; read literally, it names an existing file, which was used", m.file, e.line, e.raw()),
                )
                .file(&m.file)
                .line(e.line),
            );
            return Some(i);
        }
        if e.bad_escape {
            cx.push(
                Problem::new(
                    Code::BadPercentEncoding,
                    format!(
                        "{} line {}: {} has a `%` that is not %25, %0A or %0D",
                        m.file,
                        e.line,
                        paths::printable(e.raw())
                    ),
                )
                .file(&m.file)
                .line(e.line),
            );
            return None;
        }
    }
    if let Some(disk) = cx.nfc_lookup(e.path)
        && cx.entries[disk].is_readable_file()
    {
        cx.push(other_unicode_form(m, e));
        return Some(disk);
    }
    match cx.entry(e.path).map(|x| x.kind.clone()) {
        Some(EntryKind::Dir) => cx.push(
            Problem::new(
                Code::ManifestListsDirectory,
                format!(
                    "{} lists the directory {}",
                    m.file,
                    paths::printable(e.path)
                ),
            )
            .file(&m.file)
            .line(e.line),
        ),
        // Links out of the bag and special files were reported when the payload was scanned.
        Some(_) => {}
        None if fetch.contains_key(e.path) => {
            if pending_reported.insert(e.path.to_string()) {
                let f = fetch[e.path];
                cx.push(
                    Problem::new(
                        Code::FetchPending,
                        format!(
                            "{} has not been fetched yet (from {})",
                            paths::printable(e.path),
                            f.url
                        ),
                    )
                    .file("fetch.txt")
                    .line(f.line),
                );
            }
        }
        None => cx.push(
            Problem::new(
                Code::FileMissing,
                format!(
                    "{} lists {}, which is not in the bag",
                    m.file,
                    paths::printable(e.path)
                ),
            )
            .file(&m.file)
            .line(e.line),
        ),
    }
    None
}

/// The warning for a manifest line that names a file in another Unicode form than the one on
/// disk (a bag copied through macOS): the file is matched all the same.
fn other_unicode_form(m: &Manifest, e: &manifest::EntryRef<'_>) -> Problem {
    Problem::new(
        Code::NormalizationMismatch,
        format!(
            "{} line {} names {} in another Unicode form than the file on disk",
            m.file,
            e.line,
            paths::printable(e.path)
        ),
    )
    .file(&m.file)
    .line(e.line)
}

/// Names within one manifest that collide by Unicode form or by case. Found by sorting
/// normalised keys (borrowed where normalising changes nothing, as for most names), so a
/// manifest of 100,000 lines costs no hash map and almost no allocation.
fn check_manifest_names(cx: &mut Ctx<'_>, manifests: &[Manifest]) {
    for m in manifests {
        check_names_of(cx, m);
    }
}

fn check_names_of(cx: &mut Ctx<'_>, m: &Manifest) {
    fn nfc(p: &str) -> Cow<'_, str> {
        if unicode_normalization::is_nfc_quick(p.chars())
            == unicode_normalization::IsNormalized::Yes
        {
            Cow::Borrowed(p)
        } else {
            Cow::Owned(p.nfc().collect())
        }
    }
    let lower = |p: Cow<'_, str>| -> String { p.to_lowercase() };
    let mut found = Vec::new();
    let mut keys: Vec<(Cow<'_, str>, usize)> = m
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| (nfc(e.path), i))
        .collect();
    keys.sort_unstable();
    for w in keys.windows(2) {
        if w[0].0 == w[1].0 {
            let (a, b) = (
                m.entries.get(w[0].1.min(w[1].1)),
                m.entries.get(w[0].1.max(w[1].1)),
            );
            found.push(
                Problem::new(
                    Code::NormalizationDuplicate,
                    format!(
                        "{} (line {}) and line {} are the same name in two Unicode forms",
                        paths::printable(b.path),
                        b.line,
                        a.line
                    ),
                )
                .file(&m.file)
                .line(b.line),
            );
        }
    }
    let has_upper = |p: &str| p.chars().any(|c| c.is_uppercase() || !c.is_ascii());
    if m.entries.iter().any(|e| has_upper(e.path)) {
        let mut folded: Vec<(String, Cow<'_, str>, usize)> = keys
            .into_iter()
            .map(|(k, i)| (lower(k.clone()), k, i))
            .collect();
        folded.sort_unstable();
        for w in folded.windows(2) {
            if w[0].0 == w[1].0 && w[0].1 != w[1].1 {
                let (a, b) = (
                    m.entries.get(w[0].2.min(w[1].2)),
                    m.entries.get(w[0].2.max(w[1].2)),
                );
                found.push(
                    Problem::new(
                        Code::CaseOnlyDifference,
                        format!(
                            "{} and {} differ only by case",
                            paths::printable(a.path),
                            paths::printable(b.path)
                        ),
                    )
                    .file(&m.file)
                    .line(b.line),
                );
            }
        }
    }
    cx.problems.extend(found);
}

fn lint_payload(cx: &mut Ctx<'_>, payload: &[usize]) {
    let mut found = Vec::new();
    for &i in payload {
        let path = &cx.entries[i].path;
        let name = path.rsplit('/').next().unwrap_or(path);
        if JUNK.contains(&name)
            || name.starts_with("._")
            || path.split('/').any(|c| JUNK.contains(&c))
        {
            found.push(
                Problem::new(
                    Code::OsJunkFile,
                    format!(
                        "{} looks like an operating-system file",
                        paths::printable(path)
                    ),
                )
                .file(path.as_str()),
            );
        }
        if name == "bagit.txt" {
            found.push(
                Problem::new(
                    Code::BagInBag,
                    format!(
                        "{} suggests a bag inside the payload",
                        paths::printable(path)
                    ),
                )
                .file(path.as_str()),
            );
        }
        if let Some(why) = path.split('/').skip(1).find_map(paths::windows_unsafe) {
            found.push(
                Problem::new(
                    Code::WindowsUnsafeName,
                    format!("{}: {why}", paths::printable(path)),
                )
                .file(path.as_str()),
            );
        }
    }
    cx.problems.extend(found);
}

/// Reads the declaration of a bag (for tools that only need the version).
pub fn read_declaration(store: &dyn Store) -> Option<Declaration> {
    let mut r = store.open("bagit.txt").ok()?;
    declaration::parse(&mut r, &mut Problems::default())
}

/// The files to hash: one slot per distinct file with the union of its algorithms, and one
/// reference per manifest line to its slot.
struct HashPlan {
    slot_of: Vec<u32>,
    slots: Vec<(usize, AlgorithmSet)>,
    refs: Vec<(u32, bool, u32, u32)>,
}

impl HashPlan {
    fn new(entries: usize) -> HashPlan {
        HashPlan {
            slot_of: vec![u32::MAX; entries],
            slots: Vec::new(),
            refs: Vec::new(),
        }
    }

    fn add(
        &mut self,
        entry: usize,
        alg: Option<Algorithm>,
        tag: bool,
        manifest: usize,
        line: usize,
    ) {
        let Some(a) = alg else { return };
        let mut slot = self.slot_of[entry];
        if slot == u32::MAX {
            slot = self.slots.len() as u32;
            self.slot_of[entry] = slot;
            self.slots.push((entry, AlgorithmSet::EMPTY));
        }
        self.slots[slot as usize].1.insert(a);
        self.refs.push((slot, tag, manifest as u32, line as u32));
    }
}
