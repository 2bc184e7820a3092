//! The payload as found: which entries are payload files (and what is wrong with those that
//! are not), whether every one is listed in every payload manifest, and names that will cause
//! trouble elsewhere.

use super::context::Context;
use super::manifests::Listed;
use super::report::BagReport;
use crate::bagit::create::is_junk;
use crate::bagit::declaration::Version;
use crate::bagit::manifest::Manifest;
use crate::error::{Code, Problem};
use crate::paths;
use crate::store::{Entry, EntryKind, LinkTarget};

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

/// Reports a bag without a `data/` directory.
pub(super) fn check_data_dir(context: &mut Context<'_>) {
    match context.entry("data").map(|entry| entry.kind.clone()) {
        Some(EntryKind::Dir) => {}
        _ => context.push(
            Problem::new(Code::DataDirMissing, "the bag has no data/ directory").file("data/"),
        ),
    }
}

/// The payload files on disk (indices into the listing). Reports links that leave the bag,
/// special files and names that cannot be written in a manifest, in the payload and beside
/// it.
pub(super) fn scan(context: &mut Context<'_>) -> Vec<usize> {
    let mut payload = Vec::new();
    let mut problems = Vec::new();
    for (index, entry) in context.entries.iter().enumerate() {
        if !entry.path.starts_with("data/") {
            check_tag_area_entry(entry, &mut problems);
        } else if is_payload_file(entry, &mut problems) {
            payload.push(index);
        }
    }
    context.problems.extend(problems);
    payload
}

/// Records how many payload files and bytes were found.
pub(super) fn count(context: &Context<'_>, payload: &[usize], report: &mut BagReport) {
    report.payload_files = payload.len() as u64;
    report.payload_bytes = payload
        .iter()
        .map(|&index| context.entries[index].size)
        .sum();
}

/// An entry outside `data/` that cannot be read, is special or links out of the bag.
fn check_tag_area_entry(entry: &Entry, problems: &mut Vec<Problem>) {
    let path = paths::printable(&entry.path);
    if let EntryKind::Unreadable(why) = &entry.kind {
        problems.push(
            Problem::new(Code::FileUnreadable, format!("cannot read {path}: {why}"))
                .file(entry.path.as_str()),
        );
    }
    // A FIFO named fetch.txt or manifest-md5.txt is never opened (only regular files are
    // read), so it would otherwise pass unseen.
    if entry.kind == EntryKind::Special {
        problems.push(
            Problem::new(
                Code::SpecialFile,
                format!("{path} is a FIFO, socket or device, not a tag file"),
            )
            .file(entry.path.as_str()),
        );
    }
    if let EntryKind::Symlink(LinkTarget::Outside(_) | LinkTarget::Broken) = entry.kind {
        problems.push(
            Problem::new(
                Code::SymlinkEscapes,
                format!("{path} is a link out of the bag or to nothing"),
            )
            .file(entry.path.as_str()),
        );
    }
}

/// Whether an entry under `data/` is a payload file (a file, or a link to a file inside the
/// bag), reporting what is wrong with it.
fn is_payload_file(entry: &Entry, problems: &mut Vec<Problem>) -> bool {
    let path = paths::printable(&entry.path);
    let (code, message) = match &entry.kind {
        EntryKind::Dir => return false,
        EntryKind::File => (None, String::new()),
        EntryKind::Unreadable(why) => (
            Some(Code::FileUnreadable),
            format!("cannot read {path}: {why}"),
        ),
        EntryKind::Special => (
            Some(Code::SpecialFile),
            format!("{path} is a FIFO, socket or device"),
        ),
        EntryKind::Symlink(LinkTarget::Outside(target)) => (
            Some(Code::SymlinkEscapes),
            format!(
                "{path} is a link to {}, outside the bag; it was not followed",
                paths::printable(target)
            ),
        ),
        EntryKind::Symlink(LinkTarget::Broken) => (
            Some(Code::SymlinkEscapes),
            format!("{path} is a link to nothing"),
        ),
        EntryKind::Symlink(LinkTarget::InsideDir) => (
            Some(Code::SymlinkInBag),
            format!(
                "{path} is a link to a folder inside the bag; its files are counted where they really are"
            ),
        ),
        EntryKind::Symlink(LinkTarget::InsideFile(target)) => (
            Some(Code::SymlinkInBag),
            format!(
                "{path} is a link to {}; the target's content was used",
                paths::printable(target)
            ),
        ),
    };
    if let Some(code) = code {
        problems.push(Problem::new(code, message).file(entry.path.as_str()));
    }
    // Only a file, or a link to a file inside the bag, is payload.
    if !matches!(
        entry.kind,
        EntryKind::File | EntryKind::Symlink(LinkTarget::InsideFile(_))
    ) {
        return false;
    }
    if !entry.utf8 {
        problems.push(
            Problem::new(
                Code::NonUtf8Name,
                format!("{path} has a name that is not valid UTF-8"),
            )
            .file(entry.path.as_str()),
        );
    }
    true
}

/// Every payload file in every payload manifest (from BagIt 1.0 on; before, in at least one,
/// and the manifests that list different files are reported once).
pub(super) fn check_every_file_listed(
    context: &mut Context<'_>,
    payload: &[usize],
    listed: &Listed,
    manifests: &[Manifest],
    version: Version,
) {
    let mut differ_reported = false;
    for &index in payload {
        let path = &context.entries[index].path;
        let count = (0..manifests.len())
            .filter(|&manifest| listed.contains(manifest, index))
            .count();
        if version.is_rfc() || count == 0 {
            let missing: Vec<&str> = manifests
                .iter()
                .enumerate()
                .filter(|(manifest, _)| !listed.contains(*manifest, index))
                .map(|(_, manifest)| manifest.file.as_str())
                .collect();
            if !missing.is_empty() {
                let problem = not_listed(path, &missing);
                context.push(problem);
            }
        } else if count < manifests.len() && !differ_reported {
            differ_reported = true;
            let problem = Problem::new(
                Code::ManifestSetsDiffer,
                format!(
                    "the payload manifests list different files (first: {})",
                    paths::printable(path)
                ),
            )
            .file(path.as_str());
            context.push(problem);
        }
    }
}

/// `BAG-035` for the payload file `path` missing from the manifests `missing`; for
/// operating-system junk, the message and hint say where it came from.
fn not_listed(path: &str, missing: &[&str]) -> Problem {
    let mut problem = Problem::new(
        Code::FileNotInManifest,
        format!(
            "{} is not listed in {}",
            paths::printable(path),
            missing.join(", ")
        ),
    )
    .file(path);
    if path.split('/').any(is_junk) {
        problem
            .message
            .push_str("; it is an operating-system file a file browser added after bagging");
        problem.hint = JUNK_UNLISTED_HINT;
    }
    problem
}

/// Payload names that will cause trouble elsewhere: operating-system junk, a bag inside the
/// payload, names Windows refuses.
pub(super) fn lint(context: &mut Context<'_>, payload: &[usize]) {
    let mut found = Vec::new();
    for &index in payload {
        let path = &context.entries[index].path;
        let name = path.rsplit('/').next().unwrap_or(path);
        if JUNK.contains(&name)
            || name.starts_with("._")
            || path.split('/').any(|component| JUNK.contains(&component))
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
    context.problems.extend(found);
}
