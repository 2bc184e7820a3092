//! The payload manifests: read in parallel, their algorithms judged, each line resolved to the
//! file on disk it names (exactly; by the literal name for tools that leave `%` unencoded;
//! in another Unicode form), and names within one manifest that collide.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use unicode_normalization::UnicodeNormalization;

use super::context::Context;
use super::plan::HashPlan;
use crate::bagit::declaration::Declaration;
use crate::bagit::fetch::FetchEntry;
use crate::bagit::manifest::{self, Manifest};
use crate::digest::{Algorithm, Engine};
use crate::error::{Code, Problem};
use crate::paths;
use crate::verdict::Problems;

/// The bag's manifests, payload and tag apart, in name order.
pub(super) struct Manifests {
    /// `manifest-*.txt`.
    pub(super) payload: Vec<Manifest>,
    /// `tagmanifest-*.txt`.
    pub(super) tag: Vec<Manifest>,
}

impl Manifests {
    /// Every algorithm qoima checked, payload and tag, sorted.
    pub(super) fn algorithms(&self, payload_algorithms: &BTreeSet<Algorithm>) -> Vec<Algorithm> {
        payload_algorithms
            .iter()
            .copied()
            .chain(self.tag.iter().filter_map(|manifest| manifest.algorithm))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }
}

/// Reads every manifest at the top of the bag. They are parsed in parallel: a bag of 100,000
/// files has two of 100,000 lines.
pub(super) fn read(context: &mut Context<'_>, declared: Declaration, engine: &Engine) -> Manifests {
    let names: Vec<String> = context
        .entries
        .iter()
        .filter(|entry| {
            !entry.path.contains('/')
                && entry.is_readable_file()
                && manifest::classify(&entry.path).is_some()
        })
        .map(|entry| entry.path.clone())
        .collect();
    let store = context.store;
    let limit = context.problems.limit();
    let parsed: Vec<(Option<Manifest>, Problems)> = engine.install(|| {
        use rayon::prelude::*;
        names
            .par_iter()
            .map(|name| {
                let mut problems = Problems::new(limit);
                let parsed = match store.open(name) {
                    Ok(reader) => Some(manifest::parse(
                        reader,
                        name,
                        declared.encoding,
                        declared.version,
                        &mut problems,
                    )),
                    Err(error) => {
                        problems.push(
                            Problem::new(
                                Code::TagFileUnreadable,
                                format!("cannot read {name}: {error}"),
                            )
                            .file(name.as_str()),
                        );
                        None
                    }
                };
                (parsed, problems)
            })
            .collect()
    });
    let mut manifests = Manifests {
        payload: Vec::new(),
        tag: Vec::new(),
    };
    for (parsed, problems) in parsed {
        context.problems.extend(problems.into_vec());
        let Some(parsed) = parsed else { continue };
        if parsed.algorithm.is_none() {
            context.push(
                Problem::new(
                    Code::UnknownAlgorithm,
                    format!(
                        "{} uses algorithm {:?}, which qoima cannot compute; it was not checked",
                        parsed.file, parsed.algorithm_name
                    ),
                )
                .file(&parsed.file),
            );
        }
        if parsed.tag {
            manifests.tag.push(parsed);
        } else {
            manifests.payload.push(parsed);
        }
    }
    manifests
}

/// Reports a bag without a payload manifest, or none qoima can check, or one protected only
/// by weak algorithms; returns the payload manifests' algorithms qoima can compute.
pub(super) fn check_payload_algorithms(
    context: &mut Context<'_>,
    payload_manifests: &[Manifest],
) -> BTreeSet<Algorithm> {
    if payload_manifests.is_empty() {
        context.push(Problem::new(
            Code::NoPayloadManifest,
            "the bag has no payload manifest (manifest-<algorithm>.txt)",
        ));
    } else if payload_manifests
        .iter()
        .all(|manifest| manifest.algorithm.is_none())
    {
        context.push(Problem::new(
            Code::NoCheckableManifest,
            "no payload manifest uses an algorithm qoima can compute",
        ));
    }
    let algorithms: BTreeSet<Algorithm> = payload_manifests
        .iter()
        .filter_map(|manifest| manifest.algorithm)
        .collect();
    if !algorithms.is_empty() && algorithms.iter().all(|algorithm| algorithm.is_weak()) {
        let names: Vec<&str> = algorithms
            .iter()
            .map(|algorithm| algorithm.name())
            .collect();
        context.push(Problem::new(
            Code::WeakAlgorithmOnly,
            format!("the payload is protected only by {}", names.join(" and ")),
        ));
    }
    algorithms
}

/// Which payload manifest lists which entry of the bag: one bitset over the listing per
/// manifest.
pub(super) struct Listed {
    bits: Vec<Vec<u64>>,
}

impl Listed {
    fn new(manifests: usize, entries: usize) -> Listed {
        Listed {
            bits: vec![vec![0u64; entries.div_ceil(64)]; manifests],
        }
    }

    fn insert(&mut self, manifest: usize, entry: usize) {
        self.bits[manifest][entry / 64] |= 1 << (entry % 64);
    }

    /// Whether payload manifest number `manifest` lists entry number `entry`.
    pub(super) fn contains(&self, manifest: usize, entry: usize) -> bool {
        self.bits[manifest][entry / 64] & (1 << (entry % 64)) != 0
    }
}

/// What resolving the payload manifests found.
pub(super) struct Resolved {
    /// Which manifest lists which entry.
    pub(super) listed: Listed,
    /// Paths absent from the bag that fetch.txt still owes (each reported once).
    pub(super) pending: BTreeSet<String>,
}

/// Resolves every line of every payload manifest to the file it names, reporting lines
/// outside `data/` and names that are not there; each file found is planned for hashing with
/// the line's algorithm.
pub(super) fn resolve_payload_entries(
    context: &mut Context<'_>,
    payload_manifests: &[Manifest],
    fetch: &[FetchEntry],
    plan: &mut HashPlan,
) -> Resolved {
    let fetch_paths: HashMap<&str, &FetchEntry> = fetch
        .iter()
        .map(|entry| (entry.path.as_str(), entry))
        .collect();
    let mut resolved = Resolved {
        listed: Listed::new(payload_manifests.len(), context.entries.len()),
        pending: BTreeSet::new(),
    };
    for (manifest_index, listing) in payload_manifests.iter().enumerate() {
        for (line_index, line) in listing.entries.iter().enumerate() {
            if !line.path.starts_with("data/") {
                context.push(at_line(
                    Code::PayloadOutsideData,
                    format!(
                        "{} lists {}, which is not under data/",
                        listing.file,
                        paths::printable(line.path)
                    ),
                    listing,
                    &line,
                ));
                continue;
            }
            let Some(disk) = resolve(context, listing, &line, &fetch_paths, &mut resolved.pending)
            else {
                continue;
            };
            resolved.listed.insert(manifest_index, disk);
            plan.add(disk, listing.algorithm, false, manifest_index, line_index);
        }
    }
    resolved
}

/// Finds the on-disk file a manifest line names, reporting how it was found or why not.
fn resolve(
    context: &mut Context<'_>,
    listing: &Manifest,
    line: &manifest::EntryRef<'_>,
    fetch: &HashMap<&str, &FetchEntry>,
    pending_reported: &mut BTreeSet<String>,
) -> Option<usize> {
    if !line.bad_escape
        && let Some(index) = context.file(line.path)
    {
        return Some(index);
    }
    // bagit-python writes `%` unencoded: fall back to the literal name, never silently.
    if line.raw.is_some() || line.bad_escape {
        if let Some(index) = context.file(line.raw()) {
            context.push(
                at_line(
                    Code::PercentLiteralFallback,
                    format!("{} line {} lists {:?}; read literally, it names an existing file, which was used", listing.file, line.line, line.raw()), listing, line),
            );
            return Some(index);
        }
        if line.bad_escape {
            context.push(at_line(
                Code::BadPercentEncoding,
                format!(
                    "{} line {}: {} has a `%` that is not %25, %0A or %0D",
                    listing.file,
                    line.line,
                    paths::printable(line.raw())
                ),
                listing,
                line,
            ));
            return None;
        }
    }
    if let Some(disk) = context.nfc_lookup(line.path)
        && context.entries[disk].is_readable_file()
    {
        context.push(other_unicode_form(listing, line));
        return Some(disk);
    }
    report_unresolved(context, listing, line, fetch, pending_reported);
    None
}

/// Why a manifest line names no file: a directory, something already reported while the
/// payload was scanned, a file fetch.txt still owes, or nothing at all.
fn report_unresolved(
    context: &mut Context<'_>,
    listing: &Manifest,
    line: &manifest::EntryRef<'_>,
    fetch: &HashMap<&str, &FetchEntry>,
    pending_reported: &mut BTreeSet<String>,
) {
    match context.entry(line.path).map(|entry| entry.kind.clone()) {
        Some(crate::store::EntryKind::Dir) => context.push(at_line(
            Code::ManifestListsDirectory,
            format!(
                "{} lists the directory {}",
                listing.file,
                paths::printable(line.path)
            ),
            listing,
            line,
        )),
        // Links out of the bag and special files were reported when the payload was scanned.
        Some(_) => {}
        None if fetch.contains_key(line.path) => {
            if pending_reported.insert(line.path.to_string()) {
                let owed = fetch[line.path];
                context.push(
                    Problem::new(
                        Code::FetchPending,
                        format!(
                            "{} has not been fetched yet (from {})",
                            paths::printable(line.path),
                            owed.url
                        ),
                    )
                    .file("fetch.txt")
                    .line(owed.line),
                );
            }
        }
        None => context.push(at_line(
            Code::FileMissing,
            format!(
                "{} lists {}, which is not in the bag",
                listing.file,
                paths::printable(line.path)
            ),
            listing,
            line,
        )),
    }
}

/// A problem found on `line` of the manifest `listing`.
pub(super) fn at_line(
    code: Code,
    message: impl Into<String>,
    listing: &Manifest,
    line: &manifest::EntryRef<'_>,
) -> Problem {
    Problem::new(code, message)
        .file(&listing.file)
        .line(line.line)
}

/// The warning for a manifest line that names a file in another Unicode form than the one on
/// disk (a bag copied through macOS): the file is matched all the same.
pub(super) fn other_unicode_form(listing: &Manifest, line: &manifest::EntryRef<'_>) -> Problem {
    at_line(
        Code::NormalizationMismatch,
        format!(
            "{} line {} names {} in another Unicode form than the file on disk",
            listing.file,
            line.line,
            paths::printable(line.path)
        ),
        listing,
        line,
    )
}

/// Names within one manifest that collide by Unicode form or by case. Found by sorting
/// normalised keys (borrowed where normalising changes nothing, as for most names), so a
/// manifest of 100,000 lines costs no hash map and almost no allocation.
pub(super) fn check_names(context: &mut Context<'_>, manifests: &[Manifest]) {
    for listing in manifests {
        let mut found = Vec::new();
        let keys = same_name_in_two_forms(listing, &mut found);
        names_differing_by_case(listing, keys, &mut found);
        context.problems.extend(found);
    }
}

/// The NFC form of `path`, borrowed when it already is in NFC.
fn nfc(path: &str) -> Cow<'_, str> {
    if unicode_normalization::is_nfc_quick(path.chars()) == unicode_normalization::IsNormalized::Yes
    {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(path.nfc().collect())
    }
}

/// `BAG-W022` for each two lines of `listing` naming the same path in two Unicode forms;
/// returns the sorted (NFC form, line index) keys for the case check.
fn same_name_in_two_forms<'a>(
    listing: &'a Manifest,
    found: &mut Vec<Problem>,
) -> Vec<(Cow<'a, str>, usize)> {
    let mut keys: Vec<(Cow<'_, str>, usize)> = listing
        .entries
        .iter()
        .enumerate()
        .map(|(index, line)| (nfc(line.path), index))
        .collect();
    keys.sort_unstable();
    for pair in keys.windows(2) {
        if pair[0].0 == pair[1].0 {
            let (first, second) = (
                &listing.entries.get(pair[0].1.min(pair[1].1)),
                &listing.entries.get(pair[0].1.max(pair[1].1)),
            );
            found.push(
                Problem::new(
                    Code::NormalizationDuplicate,
                    format!(
                        "{} (line {}) and line {} are the same name in two Unicode forms",
                        paths::printable(second.path),
                        second.line,
                        first.line
                    ),
                )
                .file(&listing.file)
                .line(second.line),
            );
        }
    }
    keys
}

/// `BAG-W008` for each two lines of `listing` whose names differ only by letter case.
fn names_differing_by_case(
    listing: &Manifest,
    keys: Vec<(Cow<'_, str>, usize)>,
    found: &mut Vec<Problem>,
) {
    let has_upper = |path: &str| {
        path.chars()
            .any(|character| character.is_uppercase() || !character.is_ascii())
    };
    if !listing.entries.iter().any(|line| has_upper(line.path)) {
        return;
    }
    let mut folded: Vec<(String, Cow<'_, str>, usize)> = keys
        .into_iter()
        .map(|(key, index)| (key.to_lowercase(), key, index))
        .collect();
    folded.sort_unstable();
    for pair in folded.windows(2) {
        if pair[0].0 == pair[1].0 && pair[0].1 != pair[1].1 {
            let (first, second) = (
                &listing.entries.get(pair[0].2.min(pair[1].2)),
                &listing.entries.get(pair[0].2.max(pair[1].2)),
            );
            found.push(
                Problem::new(
                    Code::CaseOnlyDifference,
                    format!(
                        "{} and {} differ only by case",
                        paths::printable(first.path),
                        paths::printable(second.path)
                    ),
                )
                .file(&listing.file)
                .line(second.line),
            );
        }
    }
}
