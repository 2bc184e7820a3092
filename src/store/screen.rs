//! Screening an archive's entries: each format lists its raw entries, and [`screen`] turns
//! them into the bag-relative [`Entry`] list a [`super::Store`] offers, leaving out — and
//! reporting — every entry that must never be read or written: names that climb out (`..`,
//! absolute, drive letters), links, devices, duplicates, entries beside the single top-level
//! folder, encrypted entries and likely decompression bombs.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::format::stem;
use super::{Entry, EntryKind, Limits, ratio};
use crate::error::{Code, Problem};

/// What an archive's raw entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawKind {
    /// A regular file.
    File,
    /// A folder.
    Dir,
    /// A symbolic link (its target).
    Symlink(String),
    /// A hard link (its target).
    Hardlink(String),
    /// A device, FIFO or another entry type qoima does not unpack.
    Special(String),
    /// A sparse file (a GNU `S` entry, or GNU sparse data described by `GNU.sparse.*` PAX
    /// keys), whose stored bytes are not the file's: qoima does not expand it.
    Sparse,
}

/// One entry as the archive names it.
#[derive(Clone, Debug)]
pub struct RawEntry {
    /// The name in the archive (`/`-separated; lossy when not UTF-8).
    pub name: String,
    /// Whether the name is valid UTF-8.
    pub utf8: bool,
    /// What it is.
    pub kind: RawKind,
    /// Uncompressed size, as declared.
    pub size: u64,
    /// Stored size (equal to `size` in a tar).
    pub compressed: u64,
    /// Encrypted (zip).
    pub encrypted: bool,
    /// A compression method qoima cannot read (zip), named.
    pub unsupported: Option<String>,
}

/// The screened contents of an archive.
#[derive(Debug, Default)]
pub struct Screened {
    /// The top-level folder (the bag's name inside the archive).
    pub top: Option<String>,
    /// Bag-relative entries with the index of their raw entry ([`IMPLIED`] for a folder only
    /// implied by other names), sorted by path.
    pub entries: Vec<(Entry, usize)>,
    /// What was wrong, naming the entries (each left out of `entries`).
    pub problems: Vec<Problem>,
}

/// The raw-entry index [`Screened::entries`] gives a folder that no entry names, only the
/// paths of others imply.
pub const IMPLIED: usize = usize::MAX;

/// Sorts the archive's raw entries into the bag they hold and the problems they pose.
/// `archive` names the archive file (whose stem the top-level folder should match).
pub fn screen(archive: &Path, raw: &[RawEntry], limits: &Limits) -> Screened {
    let mut out = Screened::default();
    let expected = stem(archive);
    let layout = Layout::find(archive, raw, &expected, &mut out.problems);
    let names = Names::count(raw, &layout);
    let mut reported: HashSet<String> = HashSet::new();
    let mut totals = Totals::default();
    for (index, raw_entry) in raw.iter().enumerate() {
        match judge(raw_entry, &layout, &names, limits, &mut reported) {
            Judged::Kept(entry) => {
                totals.add(raw_entry);
                out.entries.push((entry, index));
            }
            Judged::Refused(problem) => out.problems.push(problem),
            Judged::Ignored => {}
        }
    }
    if let Some(problem) = totals.over_limits(archive, limits) {
        out.problems.push(problem);
        out.entries.clear();
    }
    if let Some(top) = &layout.top
        && *top != expected
    {
        out.problems.push(Problem::new(
            Code::ArchiveNameMismatch,
            format!(
                "the bag's folder inside {} is {top}/, not {expected}/ as the archive's name implies",
                archive.display()
            ),
        ));
    }
    add_implied_folders(&mut out.entries);
    out.entries
        .sort_by(|left, right| left.0.path.cmp(&right.0.path));
    out.top = layout.top;
    out
}

/// Where the bag lies in the archive: inside one top-level folder, or (against §4.4) at the
/// archive's root.
struct Layout {
    /// The top-level folder: the first component most entries share.
    top: Option<String>,
    /// The bag's tag files lie at the archive's root.
    at_root: bool,
}

impl Layout {
    /// Finds the top-level folder; a bag at the root is reported in `problems`.
    fn find(
        archive: &Path,
        raw: &[RawEntry],
        expected: &str,
        problems: &mut Vec<Problem>,
    ) -> Layout {
        let mut tops: Vec<(String, usize)> = Vec::new();
        for raw_entry in raw {
            let name = raw_entry.name.trim_start_matches("./");
            if let Some(first) = name.split('/').next().filter(|first| !first.is_empty()) {
                match tops.iter_mut().find(|(top, _)| top == first) {
                    Some((_, count)) => *count += 1,
                    None => tops.push((first.to_string(), 1)),
                }
            }
        }
        // A bag whose tag files lie at the archive's root (as `cd bag && zip -r ../bag.zip .`
        // makes) breaks §4.4 but is still read, so that its content is judged too.
        let at_root = raw
            .iter()
            .any(|raw_entry| raw_entry.name.trim_start_matches("./") == "bagit.txt");
        if at_root {
            problems.push(Problem::new(
                Code::ArchiveBagAtRoot,
                format!(
                    "the bag's tag files lie at the top of {} instead of inside one folder named {expected}/ (RFC 8493 §4.4); its content was read as it is",
                    archive.display()
                ),
            ));
            return Layout { top: None, at_root };
        }
        let top = tops
            .iter()
            .max_by_key(|(top, count)| (*count, *top == expected))
            .map(|(top, _)| top.clone());
        Layout { top, at_root }
    }

    /// The bag-relative path of an entry named `name` (without `./` and a trailing `/`), when
    /// it lies inside the bag.
    fn below_top<'n>(&self, name: &'n str) -> Option<&'n str> {
        if self.at_root {
            return Some(name);
        }
        match (&self.top, name.split_once('/')) {
            (Some(top), Some((first, rest))) if first == top => Some(rest),
            _ => None,
        }
    }
}

/// An entry's name without a leading `./` and a trailing `/`.
fn trimmed(raw_entry: &RawEntry) -> &str {
    raw_entry
        .name
        .trim_start_matches("./")
        .trim_end_matches('/')
}

/// How often each bag-relative path is named, and which paths other entries use as folders.
struct Names {
    count: HashMap<String, usize>,
    folders: HashSet<String>,
}

impl Names {
    fn count(raw: &[RawEntry], layout: &Layout) -> Names {
        let mut count: HashMap<String, usize> = HashMap::new();
        let mut folders: HashSet<String> = HashSet::new();
        for raw_entry in raw {
            let Some(path) = layout.below_top(trimmed(raw_entry)) else {
                continue;
            };
            if path.is_empty() {
                continue;
            }
            *count.entry(path.to_string()).or_default() += 1;
            let mut rest = path;
            while let Some((parent, _)) = rest.rsplit_once('/') {
                folders.insert(parent.to_string());
                rest = parent;
            }
        }
        Names { count, folders }
    }
}

/// What screening makes of one raw entry.
enum Judged {
    /// Read, as this bag entry.
    Kept(Entry),
    /// Left out, for this reason.
    Refused(Problem),
    /// Left out without a word: the archive's `.`, the bag's folder itself, another copy of
    /// a duplicate already reported.
    Ignored,
}

/// Screens one raw entry; `reported` holds the duplicated paths already reported.
fn judge(
    raw_entry: &RawEntry,
    layout: &Layout,
    names: &Names,
    limits: &Limits,
    reported: &mut HashSet<String>,
) -> Judged {
    let shown = crate::paths::printable(&raw_entry.name).into_owned();
    let name = trimmed(raw_entry);
    let problem = |code: Code, what: String| {
        Judged::Refused(Problem::new(code, what).file(raw_entry.name.clone()))
    };
    if name.is_empty() || name == "." {
        return Judged::Ignored;
    }
    if let Some(why) = crate::paths::unsafe_reason(name) {
        return problem(
            Code::ArchiveUnsafeName,
            format!("entry {shown}: {why}; it was not read"),
        );
    }
    let path = match layout.below_top(name) {
        Some(path) => path.to_string(),
        None => return outside_the_bag(raw_entry, name, &shown, layout),
    };
    let twice = names.count.get(&path).copied().unwrap_or(0) > 1;
    let file_and_folder = raw_entry.kind != RawKind::Dir && names.folders.contains(&path);
    if twice || file_and_folder {
        if !reported.insert(path) {
            return Judged::Ignored;
        }
        return problem(
            Code::ArchiveDuplicateEntry,
            if twice {
                format!("entry {shown} appears more than once; none of its copies can be trusted")
            } else {
                format!(
                    "entry {shown} is a file, and other entries use it as a folder; neither can be trusted"
                )
            },
        );
    }
    if let Some((code, what)) =
        refused_kind(raw_entry, &shown).or_else(|| refused_content(raw_entry, &shown, limits))
    {
        return problem(code, what);
    }
    let is_dir = raw_entry.kind == RawKind::Dir;
    Judged::Kept(Entry {
        path,
        utf8: raw_entry.utf8,
        kind: if is_dir {
            EntryKind::Dir
        } else {
            EntryKind::File
        },
        size: if is_dir { 0 } else { raw_entry.size },
    })
}

/// An entry that is not inside the bag's folder: the folder itself (silently), or a stray
/// entry beside it.
fn outside_the_bag(raw_entry: &RawEntry, name: &str, shown: &str, layout: &Layout) -> Judged {
    let what = match &layout.top {
        Some(top) if name == top => {
            if raw_entry.kind == RawKind::Dir {
                return Judged::Ignored;
            }
            format!("entry {shown} is a file beside the bag's folder {top}/")
        }
        top => format!(
            "entry {shown} lies outside the bag's folder {}/: a serialized bag holds one folder",
            top.as_deref().unwrap_or("")
        ),
    };
    Judged::Refused(Problem::new(Code::ArchiveSeveralTops, what).file(raw_entry.name.clone()))
}

/// Why an entry of its kind is never read: a link, a device, a sparse file.
fn refused_kind(raw_entry: &RawEntry, shown: &str) -> Option<(Code, String)> {
    match &raw_entry.kind {
        RawKind::Symlink(target) | RawKind::Hardlink(target) => {
            let to = if target.is_empty() {
                String::new()
            } else {
                format!(" to {}", crate::paths::printable(target))
            };
            Some((
                Code::ArchiveLinkEntry,
                format!("entry {shown} is a link{to}; qoima never follows links in archives"),
            ))
        }
        RawKind::Special(what) => Some((
            Code::ArchiveSpecialEntry,
            format!("entry {shown} is a {what}, not a file or folder"),
        )),
        RawKind::Sparse => Some((
            Code::ArchiveSparseEntry,
            format!(
                "entry {shown} is a sparse file (GNU tar --sparse), which qoima does not expand; it was not read"
            ),
        )),
        RawKind::Dir | RawKind::File => None,
    }
}

/// Why an entry's data is not read: encrypted, compressed in an unknown way, or a likely
/// bomb on its own.
fn refused_content(raw_entry: &RawEntry, shown: &str, limits: &Limits) -> Option<(Code, String)> {
    if raw_entry.encrypted {
        return Some((
            Code::ArchiveEncryptedEntry,
            format!("entry {shown} is encrypted; qoima cannot check it"),
        ));
    }
    if let Some(method) = &raw_entry.unsupported {
        return Some((
            Code::ArchiveUnsupportedMethod,
            format!("entry {shown} is compressed with {method}, which qoima does not read"),
        ));
    }
    let ratio = raw_entry.size / raw_entry.compressed.max(1);
    if raw_entry.kind == RawKind::File && raw_entry.size > 1 << 20 && ratio > limits.max_ratio {
        return Some((
            Code::ArchiveBomb,
            format!(
                "entry {shown} would expand {ratio} times ({} bytes from {}), over the limit of {} (--max-ratio)",
                raw_entry.size, raw_entry.compressed, limits.max_ratio
            ),
        ));
    }
    None
}

/// The sizes of the entries kept, declared and stored.
#[derive(Default)]
struct Totals {
    size: u64,
    compressed: u64,
}

impl Totals {
    fn add(&mut self, raw_entry: &RawEntry) {
        self.size = self.size.saturating_add(raw_entry.size);
        self.compressed = self.compressed.saturating_add(raw_entry.compressed);
    }

    /// The problem when the kept entries together would expand too far or too much.
    fn over_limits(&self, archive: &Path, limits: &Limits) -> Option<Problem> {
        let (total, total_compressed) = (self.size, self.compressed);
        if total > ratio::EXEMPT && total / total_compressed.max(1) > limits.max_ratio {
            return Some(Problem::new(
                Code::ArchiveBomb,
                format!(
                    "{} would expand {} times in all ({total} bytes from {total_compressed}), over the limit of {} (--max-ratio)",
                    archive.display(),
                    total / total_compressed.max(1),
                    limits.max_ratio
                ),
            ));
        }
        // (u64::MAX: the sizes overflowed, whatever --max-size says)
        if total > limits.max_size || total == u64::MAX {
            return Some(Problem::new(
                Code::ArchiveBomb,
                format!(
                    "{} would expand to {total} bytes, over the limit of {} (--max-size)",
                    archive.display(),
                    limits.max_size
                ),
            ));
        }
        None
    }
}

/// Adds the folders that file names imply (index [`IMPLIED`]), as a folder bag would list
/// them.
fn add_implied_folders(entries: &mut Vec<(Entry, usize)>) {
    let mut folders: HashSet<String> = entries
        .iter()
        .filter(|(entry, _)| entry.kind == EntryKind::Dir)
        .map(|(entry, _)| entry.path.clone())
        .collect();
    let mut implied = Vec::new();
    for (entry, _) in entries.iter() {
        let mut rest = entry.path.as_str();
        while let Some((parent, _)) = rest.rsplit_once('/') {
            if folders.insert(parent.to_string()) {
                implied.push(Entry {
                    path: parent.to_string(),
                    utf8: true,
                    kind: EntryKind::Dir,
                    size: 0,
                });
            }
            rest = parent;
        }
    }
    entries.extend(implied.into_iter().map(|entry| (entry, IMPLIED)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> RawEntry {
        RawEntry {
            name: name.into(),
            utf8: true,
            kind: RawKind::File,
            size: 10,
            compressed: 10,
            encrypted: false,
            unsupported: None,
        }
    }

    fn codes(s: &Screened) -> Vec<(&str, Option<&str>)> {
        s.problems
            .iter()
            .map(|p| (p.code.as_str(), p.location.file.as_deref()))
            .collect()
    }

    #[test]
    fn a_clean_archive_lists_the_bag_relative_entries_and_implied_folders() {
        let raw = vec![
            file("bag/bagit.txt"),
            file("bag/data/a/b.txt"),
            file("./bag/manifest-sha256.txt"),
        ];
        let s = screen(Path::new("bag.zip"), &raw, &Limits::default());
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        let paths: Vec<&str> = s.entries.iter().map(|(e, _)| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "bagit.txt",
                "data",
                "data/a",
                "data/a/b.txt",
                "manifest-sha256.txt"
            ]
        );
    }

    #[test]
    fn hostile_entries_are_left_out_and_named() {
        let mut link = file("bag/data/link");
        link.kind = RawKind::Symlink("/etc/passwd".into());
        let mut hard = file("bag/data/hard");
        hard.kind = RawKind::Hardlink("bag/bagit.txt".into());
        let mut enc = file("bag/data/secret");
        enc.encrypted = true;
        let mut bomb = file("bag/data/zeros");
        bomb.size = 10 << 30;
        bomb.compressed = 10 << 20;
        let mut dev = file("bag/data/dev");
        dev.kind = RawKind::Special("character device".into());
        let raw = vec![
            file("bag/bagit.txt"),
            file("bag/../../etc/cron.d/x"),
            file("/abs"),
            link,
            hard,
            enc,
            bomb,
            dev,
            file("bag/data/dup"),
            file("bag/data/dup"),
            file("other/x"),
        ];
        let s = screen(Path::new("bag.zip"), &raw, &Limits::default());
        let mut got = codes(&s);
        got.sort();
        assert_eq!(
            got,
            [
                ("ARC-002", Some("/abs")),
                ("ARC-002", Some("bag/../../etc/cron.d/x")),
                ("ARC-003", Some("bag/data/hard")),
                ("ARC-003", Some("bag/data/link")),
                ("ARC-004", Some("bag/data/dup")),
                ("ARC-005", Some("other/x")),
                ("ARC-006", Some("bag/data/dev")),
                ("ARC-007", Some("bag/data/secret")),
                ("ARC-009", Some("bag/data/zeros")),
            ]
        );
        let paths: Vec<&str> = s.entries.iter().map(|(e, _)| e.path.as_str()).collect();
        // Neither copy of the duplicate is kept.
        assert_eq!(paths, ["bagit.txt"]);
    }

    #[test]
    fn a_bag_at_the_archive_root_is_read_and_reported_once() {
        let raw = vec![file("bagit.txt"), file("./data/a.txt")];
        let s = screen(Path::new("bag.zip"), &raw, &Limits::default());
        assert_eq!(codes(&s), [("ARC-023", None)]);
        let paths: Vec<&str> = s.entries.iter().map(|(e, _)| e.path.as_str()).collect();
        assert_eq!(paths, ["bagit.txt", "data", "data/a.txt"]);
    }

    #[test]
    fn a_folder_named_unlike_the_archive_is_a_warning_and_size_limits_apply() {
        let raw = vec![file("other/bagit.txt")];
        let s = screen(Path::new("bag.tar"), &raw, &Limits::default());
        assert_eq!(codes(&s), [("ARC-W001", None)]);
        assert_eq!(s.top.as_deref(), Some("other"));
        let s = screen(
            Path::new("other.tar"),
            &raw,
            &Limits {
                max_ratio: 1000,
                max_size: 5,
            },
        );
        assert_eq!(codes(&s), [("ARC-009", None)]);
        assert!(s.entries.is_empty());
    }
}
