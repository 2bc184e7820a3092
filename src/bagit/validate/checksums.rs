//! Full mode: every file any manifest lists is read once, for the union of its algorithms,
//! and each result is compared with the manifest lines that name the file the moment it is
//! ready.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::context::Context;
use super::manifests::Manifests;
use super::plan::HashPlan;
use super::report::BagReport;
use crate::digest::{DigestError, Engine, FileDigests, Progress};
use crate::error::{Code, Problem};
use crate::paths;
use crate::store::{DigestRequest, EntryKind, LinkTarget};
use crate::verdict::Problems;

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
            let key = &entries[plan.entry_of(slot)].path;
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
    plan.slots()
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
    let expected = &listing.entries.get(line as usize);
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
