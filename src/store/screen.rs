//! Screening an archive's entries: each format lists its raw entries, and [`screen`] turns
//! them into the bag-relative [`Entry`] list a [`super::Store`] offers, leaving out — and
//! reporting — every entry that must never be read or written: names that climb out (`..`,
//! absolute, drive letters), links, devices, duplicates, entries beside the single top-level
//! folder, encrypted entries and likely decompression bombs.

use std::collections::HashSet;
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
    /// Bag-relative entries with the index of their raw entry, sorted by path.
    pub entries: Vec<(Entry, usize)>,
    /// What was wrong, naming the entries (each left out of `entries`).
    pub problems: Vec<Problem>,
}

/// Sorts the archive's raw entries into the bag they hold and the problems they pose.
/// `archive` names the archive file (whose stem the top-level folder should match).
pub fn screen(archive: &Path, raw: &[RawEntry], limits: &Limits) -> Screened {
    let mut out = Screened::default();
    let expected = stem(archive);
    // The top-level folder is the first component most entries share.
    let mut tops: Vec<(String, usize)> = Vec::new();
    for r in raw {
        let name = r.name.trim_start_matches("./");
        if let Some(first) = name.split('/').next().filter(|f| !f.is_empty()) {
            match tops.iter_mut().find(|(t, _)| t == first) {
                Some((_, n)) => *n += 1,
                None => tops.push((first.to_string(), 1)),
            }
        }
    }
    // A bag whose tag files lie at the archive's root (as `cd bag && zip -r ../bag.zip .`
    // makes) breaks §4.4 but is still read, so that its content is judged too.
    let at_root = raw
        .iter()
        .any(|r| r.name.trim_start_matches("./") == "bagit.txt");
    let top = if at_root {
        out.problems.push(Problem::new(
            Code::ArchiveBagAtRoot,
            format!(
                "the bag's tag files lie at the top of {} instead of inside one folder named {expected}/ (RFC 8493 §4.4); its content was read as it is",
                archive.display()
            ),
        ));
        None
    } else {
        tops.iter()
            .max_by_key(|(t, n)| (*n, *t == expected))
            .map(|(t, _)| t.clone())
    };
    // A name given twice (or a file that is also a folder) is left out in every copy: which
    // copy a tool would read depends on the tool.
    let key = |r: &RawEntry| -> String {
        let n = r.name.trim_start_matches("./").trim_end_matches('/');
        if at_root {
            return n.to_string();
        }
        match (&top, n.split_once('/')) {
            (Some(t), Some((first, rest))) if first == t => rest.to_string(),
            _ => String::new(),
        }
    };
    let mut count: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for r in raw {
        let k = key(r);
        if !k.is_empty() {
            *count.entry(k).or_default() += 1;
        }
    }
    let mut folders: HashSet<String> = HashSet::new();
    for r in raw {
        let k = key(r);
        let mut p = k.as_str();
        while let Some((parent, _)) = p.rsplit_once('/') {
            folders.insert(parent.to_string());
            p = parent;
        }
    }
    let mut reported: HashSet<String> = HashSet::new();
    let mut total: u64 = 0;
    let mut total_compressed: u64 = 0;
    for (i, r) in raw.iter().enumerate() {
        let shown = crate::paths::printable(&r.name).into_owned();
        let name = r.name.trim_start_matches("./").trim_end_matches('/');
        let problem = |code: Code, what: String| Problem::new(code, what).file(r.name.clone());
        if name.is_empty() || name == "." {
            continue;
        }
        if let Some(why) = crate::paths::unsafe_reason(name) {
            out.problems.push(problem(
                Code::ArchiveUnsafeName,
                format!("entry {shown}: {why}; it was not read"),
            ));
            continue;
        }
        let rel = match (&top, name.split_once('/')) {
            (None, _) if at_root => name.to_string(),
            (Some(t), Some((first, rest))) if first == t => rest.to_string(),
            (Some(t), None) if name == t => {
                if !matches!(r.kind, RawKind::Dir) {
                    out.problems.push(problem(
                        Code::ArchiveSeveralTops,
                        format!("entry {shown} is a file beside the bag's folder {t}/"),
                    ));
                }
                continue;
            }
            _ => {
                out.problems.push(problem(
                    Code::ArchiveSeveralTops,
                    format!(
                        "entry {shown} lies outside the bag's folder {}/: a serialized bag holds one folder",
                        top.as_deref().unwrap_or("")
                    ),
                ));
                continue;
            }
        };
        let twice = count.get(&rel).copied().unwrap_or(0) > 1;
        let file_and_folder = r.kind != RawKind::Dir && folders.contains(&rel);
        if twice || file_and_folder {
            if reported.insert(rel.clone()) {
                out.problems.push(problem(
                    Code::ArchiveDuplicateEntry,
                    if twice {
                        format!("entry {shown} appears more than once; none of its copies can be trusted")
                    } else {
                        format!("entry {shown} is a file, and other entries use it as a folder; neither can be trusted")
                    },
                ));
            }
            continue;
        }
        match &r.kind {
            RawKind::Symlink(t) | RawKind::Hardlink(t) => {
                let to = if t.is_empty() {
                    String::new()
                } else {
                    format!(" to {}", crate::paths::printable(t))
                };
                out.problems.push(problem(
                    Code::ArchiveLinkEntry,
                    format!("entry {shown} is a link{to}; qoima never follows links in archives"),
                ));
                continue;
            }
            RawKind::Special(what) => {
                out.problems.push(problem(
                    Code::ArchiveSpecialEntry,
                    format!("entry {shown} is a {what}, not a file or folder"),
                ));
                continue;
            }
            RawKind::Sparse => {
                out.problems.push(problem(
                    Code::ArchiveSparseEntry,
                    format!(
                        "entry {shown} is a sparse file (GNU tar --sparse), which qoima does not expand; it was not read"
                    ),
                ));
                continue;
            }
            RawKind::Dir | RawKind::File => {}
        }
        if r.encrypted {
            out.problems.push(problem(
                Code::ArchiveEncryptedEntry,
                format!("entry {shown} is encrypted; qoima cannot check it"),
            ));
            continue;
        }
        if let Some(method) = &r.unsupported {
            out.problems.push(problem(
                Code::ArchiveUnsupportedMethod,
                format!("entry {shown} is compressed with {method}, which qoima does not read"),
            ));
            continue;
        }
        if r.kind == RawKind::File
            && r.size > 1 << 20
            && r.size / r.compressed.max(1) > limits.max_ratio
        {
            out.problems.push(problem(
                Code::ArchiveBomb,
                format!(
                    "entry {shown} would expand {} times ({} bytes from {}), over the limit of {} (--max-ratio)",
                    r.size / r.compressed.max(1),
                    r.size,
                    r.compressed,
                    limits.max_ratio
                ),
            ));
            continue;
        }
        total = total.saturating_add(r.size);
        total_compressed = total_compressed.saturating_add(r.compressed);
        let kind = if r.kind == RawKind::Dir {
            EntryKind::Dir
        } else {
            EntryKind::File
        };
        out.entries.push((
            Entry {
                path: rel,
                utf8: r.utf8,
                kind,
                size: if r.kind == RawKind::Dir { 0 } else { r.size },
            },
            i,
        ));
    }
    if total > ratio::EXEMPT && total / total_compressed.max(1) > limits.max_ratio {
        out.problems.push(Problem::new(
            Code::ArchiveBomb,
            format!(
                "{} would expand {} times in all ({total} bytes from {total_compressed}), over the limit of {} (--max-ratio)",
                archive.display(),
                total / total_compressed.max(1),
                limits.max_ratio
            ),
        ));
        out.entries.clear();
    } else if total > limits.max_size || total == u64::MAX {
        // (u64::MAX: the sizes overflowed, whatever --max-size says)
        out.problems.push(Problem::new(
            Code::ArchiveBomb,
            format!(
                "{} would expand to {total} bytes, over the limit of {} (--max-size)",
                archive.display(),
                limits.max_size
            ),
        ));
        out.entries.clear();
    }
    if let Some(t) = &top
        && *t != expected
    {
        out.problems.push(Problem::new(
            Code::ArchiveNameMismatch,
            format!(
                "the bag's folder inside {} is {t}/, not {expected}/ as the archive's name implies",
                archive.display()
            ),
        ));
    }
    // Folders implied by file names are listed too, as a folder bag would list them.
    let mut dirs: HashSet<String> = out
        .entries
        .iter()
        .filter(|(e, _)| e.kind == EntryKind::Dir)
        .map(|(e, _)| e.path.clone())
        .collect();
    let mut implied = Vec::new();
    for (e, _) in &out.entries {
        let mut p = e.path.as_str();
        while let Some((parent, _)) = p.rsplit_once('/') {
            if dirs.insert(parent.to_string()) {
                implied.push(Entry {
                    path: parent.to_string(),
                    utf8: true,
                    kind: EntryKind::Dir,
                    size: 0,
                });
            }
            p = parent;
        }
    }
    out.entries
        .extend(implied.into_iter().map(|e| (e, usize::MAX)));
    out.entries.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    out.top = top;
    out
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
