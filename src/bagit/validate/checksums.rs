//! Full mode: every file any manifest lists is read once, for the union of its algorithms,
//! and each result is compared with the manifest lines that name the file the moment it is
//! ready.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::context::Context;
use super::manifests::Manifests;
use super::report::BagReport;
use crate::digest::{Algorithm, AlgorithmSet, DigestError, Engine, FileDigests, Progress};
use crate::error::{Code, Problem};
use crate::paths;
use crate::store::{DigestRequest, EntryKind, LinkTarget};
use crate::verdict::Problems;

/// One manifest line to compare with a file's digests: (slot, a tag manifest, manifest index,
/// line index).
type LineRef = (u32, bool, u32, u32);

/// The files to hash: one slot per distinct file with the union of its algorithms, and one
/// reference per manifest line to its slot.
pub(super) struct HashPlan {
    slot_of: Vec<u32>,
    slots: Vec<(usize, AlgorithmSet)>,
    refs: Vec<LineRef>,
}

impl HashPlan {
    /// An empty plan over a listing of `entries` entries.
    pub(super) fn new(entries: usize) -> HashPlan {
        HashPlan {
            slot_of: vec![u32::MAX; entries],
            slots: Vec::new(),
            refs: Vec::new(),
        }
    }

    /// Plans line `line` of manifest `manifest` (a tag manifest if `tag`), which names entry
    /// `entry`, to be checked with `algorithm` (nothing is planned without one).
    pub(super) fn add(
        &mut self,
        entry: usize,
        algorithm: Option<Algorithm>,
        tag: bool,
        manifest: usize,
        line: usize,
    ) {
        let Some(algorithm) = algorithm else { return };
        let mut slot = self.slot_of[entry];
        if slot == u32::MAX {
            slot = self.slots.len() as u32;
            self.slot_of[entry] = slot;
            self.slots.push((entry, AlgorithmSet::EMPTY));
        }
        self.slots[slot as usize].1.insert(algorithm);
        self.refs.push((slot, tag, manifest as u32, line as u32));
    }

    /// The manifest lines grouped by slot (compressed rows: the lines of slot `s` are
    /// `lines[starts[s]..starts[s + 1]]`), so that each result is compared with its lines the
    /// moment it is ready and then dropped.
    fn lines_by_slot(&self) -> LinesBySlot {
        let mut starts = vec![0u32; self.slots.len() + 1];
        for &(slot, ..) in &self.refs {
            starts[slot as usize + 1] += 1;
        }
        for index in 1..starts.len() {
            starts[index] += starts[index - 1];
        }
        let mut lines = vec![(false, 0u32, 0u32); self.refs.len()];
        let mut fill = starts.clone();
        for &(slot, tag, manifest, line) in &self.refs {
            lines[fill[slot as usize] as usize] = (tag, manifest, line);
            fill[slot as usize] += 1;
        }
        LinesBySlot { starts, lines }
    }
}

/// [`HashPlan::lines_by_slot`].
struct LinesBySlot {
    starts: Vec<u32>,
    /// (a tag manifest, manifest index, line index).
    lines: Vec<(bool, u32, u32)>,
}

impl LinesBySlot {
    fn of(&self, slot: usize) -> &[(bool, u32, u32)] {
        &self.lines[self.starts[slot] as usize..self.starts[slot + 1] as usize]
    }
}

/// Hashes every planned file and reports each checksum that differs from its manifest line
/// and each file that could not be read; records what was hashed in `report`.
pub(super) fn verify(
    context: &mut Context<'_>,
    report: &mut BagReport,
    plan: &HashPlan,
    manifests: &Manifests,
    engine: &Engine,
    progress: &dyn Progress,
) {
    let requests = requests(context, plan);
    let by_slot = plan.lines_by_slot();
    // Capped as it fills: a million changed files make a million BAG-036 in one manifest.
    let found = Mutex::new(Problems::new(context.problems.limit()));
    let totals = AtomicU64::new(0);
    let hashed = AtomicU64::new(0);
    let entries = &context.entries;
    let observe = context.observe;
    context
        .store
        .digest(&requests, engine, progress, &|slot, result| {
            let key = &entries[plan.slots[slot].0].path;
            let digests = match result {
                Ok(digests) => digests,
                Err(error) => {
                    let problem = unreadable(&error, key);
                    found.lock().expect("no panic while held").push(problem);
                    return;
                }
            };
            hashed.fetch_add(1, Ordering::Relaxed);
            totals.fetch_add(digests.size, Ordering::Relaxed);
            observe(key, &digests);
            for &(tag, manifest, line) in by_slot.of(slot) {
                if let Some(problem) = compare(key, &digests, manifests, tag, manifest, line) {
                    found.lock().expect("no panic while held").push(problem);
                }
            }
        });
    report.files_hashed = hashed.into_inner();
    report.bytes_hashed = totals.into_inner();
    let found = found.into_inner().expect("no panic while held").into_vec();
    add_once(context, found);
}

/// One request per planned file. A link that stays inside the bag is read through its
/// target, so that no link is ever followed while hashing.
fn requests<'a>(context: &'a Context<'_>, plan: &HashPlan) -> Vec<DigestRequest<'a>> {
    plan.slots
        .iter()
        .map(|&(index, algorithms)| {
            let entry = &context.entries[index];
            let path = match &entry.kind {
                EntryKind::Symlink(LinkTarget::InsideFile(target)) => target.as_str(),
                _ => entry.path.as_str(),
            };
            DigestRequest {
                path,
                size_hint: entry.size,
                algorithms,
            }
        })
        .collect()
}

/// The problem of a file that could not be hashed.
fn unreadable(error: &DigestError, key: &str) -> Problem {
    let code = match error {
        DigestError::Changed { .. } => Code::FileChanged,
        DigestError::NotRegular { .. } => Code::SpecialFile,
        DigestError::Damaged { .. } => Code::ArchiveEntryDamaged,
        _ => Code::FileUnreadable,
    };
    Problem::new(code, error.to_string()).file(key)
}

/// `BAG-036` when the file `key`'s digest differs from what the manifest line says.
fn compare(
    key: &str,
    digests: &FileDigests,
    manifests: &Manifests,
    tag: bool,
    manifest: u32,
    line: u32,
) -> Option<Problem> {
    let listing = if tag {
        &manifests.tag[manifest as usize]
    } else {
        &manifests.payload[manifest as usize]
    };
    let algorithm = listing.algorithm?;
    let expected = &listing.entries[line as usize];
    let got = digests.get(algorithm)?;
    if *got == expected.digest {
        return None;
    }
    Some(
        Problem::new(
            Code::ChecksumMismatch,
            format!(
                "{}: {algorithm} is {got}, {} says {}",
                paths::printable(key),
                listing.file,
                expected.digest
            ),
        )
        .file(&listing.file)
        .line(expected.line)
        .field(key),
    )
}

/// Adds the problems hashing found, leaving out an archive entry the store already found
/// damaged (a truncated tar): it is reported once.
fn add_once(context: &mut Context<'_>, found: Vec<Problem>) {
    let known: HashSet<Option<String>> = context
        .problems
        .iter()
        .filter(|problem| problem.code == Code::ArchiveEntryDamaged)
        .map(|problem| problem.location.file.clone())
        .collect();
    context.problems.extend(found.into_iter().filter(|problem| {
        !(problem.code == Code::ArchiveEntryDamaged && known.contains(&problem.location.file))
    }));
}
