//! Payload and tag manifests (RFC 8493 sections 2.1.3 and 2.2.1).

use std::io::Read;

use super::declaration::Version;
use super::text::{
    Encoding, LineWording, Lines, Usable, not_valid_text_after, report_utf8_bom, usable_line,
};
use crate::digest::{Algorithm, Digest};
use crate::error::{Code, Problem};
use crate::paths;
use crate::verdict::Problems;

/// One manifest line, owned (see [`EntryRef`] for the form a [`Manifest`] keeps).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Line number.
    pub line: u64,
    /// The checksum.
    pub digest: Digest,
    /// The path as written (after a tolerated `*` or `./` prefix is removed), when it differs
    /// from `path`.
    pub raw: Option<String>,
    /// The decoded path (BagIt 1.0 percent-decoding; before 1.0 the raw path). When `raw`
    /// holds a `%` that is not a valid escape, this is the raw path and `bad_escape` is set.
    pub path: String,
    /// The raw path held an invalid percent escape.
    pub bad_escape: bool,
}

/// One manifest line as a [`Manifest`] keeps it: borrowed from its [`Entries`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryRef<'a> {
    /// Line number.
    pub line: u64,
    /// The checksum.
    pub digest: Digest,
    /// The path as written, when it differs from `path` (see [`Entry::raw`]).
    pub raw: Option<&'a str>,
    /// The decoded path (see [`Entry::path`]).
    pub path: &'a str,
    /// The raw path held an invalid percent escape.
    pub bad_escape: bool,
}

impl<'a> EntryRef<'a> {
    /// The path as written in the manifest.
    pub fn raw(&self) -> &'a str {
        self.raw.unwrap_or(self.path)
    }

    /// The owned form.
    pub fn to_entry(&self) -> Entry {
        Entry {
            line: self.line,
            digest: self.digest,
            raw: self.raw.map(str::to_string),
            path: self.path.to_string(),
            bad_escape: self.bad_escape,
        }
    }
}

/// A manifest's lines, stored compactly: a million lines of two manifests are what a bag of a
/// million files is validated with, so no line owns an allocation. The paths share one
/// string, the checksums one byte vector (as many bytes as the algorithm's digest, not the
/// 65 of a [`Digest`]), and each line is a row of 24 bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entries {
    /// Each line's path, then its path as written when that differs, one after another.
    text: String,
    /// Each line's checksum in `stride` bytes: the digest itself when the algorithm is known
    /// (its length is checked), else a length byte and up to 64 bytes.
    digests: Vec<u8>,
    /// Bytes per checksum in `digests`; 0 until the first line fixes it.
    stride: usize,
    rows: Vec<Row>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Row {
    line: u64,
    /// Where the path starts in `text`.
    start: u64,
    path_len: u32,
    /// The length of the raw path (0: the same as the path); the top bit: a bad escape.
    raw: u32,
}

const BAD_ESCAPE: u32 = 1 << 31;

impl Entries {
    /// No lines, with checksums of `digest_len` bytes (`None`: any length up to 64).
    fn new(digest_len: Option<usize>) -> Entries {
        Entries {
            stride: digest_len.unwrap_or(1 + crate::digest::MAX_DIGEST),
            ..Entries::default()
        }
    }

    fn fixed_width(&self) -> bool {
        self.stride != 1 + crate::digest::MAX_DIGEST
    }

    fn push(&mut self, entry: EntryRef<'_>) {
        let digest = entry.digest.as_bytes();
        if self.fixed_width() {
            debug_assert_eq!(digest.len(), self.stride, "checked by the parser");
            self.digests.extend_from_slice(digest);
        } else {
            self.digests.push(digest.len() as u8);
            self.digests.extend_from_slice(digest);
            self.digests
                .resize(self.rows.len() * self.stride + self.stride, 0);
        }
        let start = self.text.len() as u64;
        self.text.push_str(entry.path);
        let raw_len = entry.raw.map_or(0, |raw| {
            self.text.push_str(raw);
            raw.len() as u32
        });
        self.rows.push(Row {
            line: entry.line,
            start,
            path_len: entry.path.len() as u32,
            raw: raw_len | if entry.bad_escape { BAD_ESCAPE } else { 0 },
        });
    }

    /// The number of lines.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Line `index` (in file order, duplicates removed).
    ///
    /// # Panics
    /// When `index` is out of range, as slice indexing does.
    pub fn get(&self, index: usize) -> EntryRef<'_> {
        let row = self.rows[index];
        let start = row.start as usize;
        let path_end = start + row.path_len as usize;
        let raw_len = (row.raw & !BAD_ESCAPE) as usize;
        let slot = &self.digests[index * self.stride..(index + 1) * self.stride];
        let digest = if self.fixed_width() {
            Digest::from_bytes(slot)
        } else {
            Digest::from_bytes(&slot[1..1 + slot[0] as usize])
        };
        EntryRef {
            line: row.line,
            digest,
            raw: (raw_len > 0).then(|| &self.text[path_end..path_end + raw_len]),
            path: &self.text[start..path_end],
            bad_escape: row.raw & BAD_ESCAPE != 0,
        }
    }

    /// The decoded path of line `index`, as [`Entries::get`] gives it, without its checksum.
    pub fn path(&self, index: usize) -> &str {
        let row = self.rows[index];
        &self.text[row.start as usize..row.start as usize + row.path_len as usize]
    }

    /// Every line, in file order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = EntryRef<'_>> + '_ {
        (0..self.len()).map(|index| self.get(index))
    }

    /// Keeps the lines whose index `keep` accepts, and gives back the memory parsing left over.
    fn retain(&mut self, keep: impl Fn(usize) -> bool) {
        let mut kept = Entries::new(None);
        kept.stride = self.stride;
        for index in (0..self.len()).filter(|&index| keep(index)) {
            kept.push(self.get(index));
        }
        *self = kept;
        self.shrink_to_fit();
    }

    fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.digests.shrink_to_fit();
        self.rows.shrink_to_fit();
    }
}

impl<'a> IntoIterator for &'a Entries {
    type Item = EntryRef<'a>;
    type IntoIter = Box<dyn ExactSizeIterator<Item = EntryRef<'a>> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// The owned lines of a manifest, one at a time.
pub struct IntoIter {
    entries: Entries,
    next: usize,
}

impl Iterator for IntoIter {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        (self.next < self.entries.len()).then(|| {
            self.next += 1;
            self.entries.get(self.next - 1).to_entry()
        })
    }
}

impl IntoIterator for Entries {
    type Item = Entry;
    type IntoIter = IntoIter;

    fn into_iter(self) -> IntoIter {
        IntoIter {
            entries: self,
            next: 0,
        }
    }
}

/// A parsed manifest.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// File name, e.g. `manifest-sha256.txt`.
    pub file: String,
    /// The algorithm name from the file name, normalised.
    pub algorithm_name: String,
    /// The algorithm, when qoima can compute it.
    pub algorithm: Option<Algorithm>,
    /// A tag manifest.
    pub tag: bool,
    /// Entries in file order, unsafe and duplicate lines removed.
    pub entries: Entries,
}

/// If `name` is a manifest file name, whether it is a tag manifest and its algorithm name.
pub fn classify(name: &str) -> Option<(bool, &str)> {
    let stem = name.strip_suffix(".txt")?;
    if let Some(a) = stem.strip_prefix("tagmanifest-") {
        return (!a.is_empty()).then_some((true, a));
    }
    stem.strip_prefix("manifest-")
        .filter(|a| !a.is_empty())
        .map(|a| (false, a))
}

/// The file name of a manifest.
pub fn file_name(tag: bool, a: Algorithm) -> String {
    if tag {
        format!("tagmanifest-{}.txt", a.name())
    } else {
        format!("manifest-{}.txt", a.name())
    }
}

/// How a manifest's unusable lines are worded.
const WORDING: LineWording = LineWording {
    too_long: |file, n| format!("line {n} of {file} is longer than 64 KiB and was skipped"),
    bad_encoding: not_valid_text_after,
};

/// Parses a manifest, reporting every malformed, unsafe or duplicate line.
pub fn parse(
    reader: impl Read,
    file: &str,
    encoding: Encoding,
    version: Version,
    problems: &mut Problems,
) -> Manifest {
    let (tag, alg_name) = classify(file).unwrap_or((false, ""));
    let algorithm = Algorithm::from_manifest_name(alg_name);
    let mut m = Manifest {
        file: file.to_string(),
        algorithm_name: crate::digest::normalize_name(alg_name),
        algorithm,
        tag,
        entries: Entries::new(algorithm.map(|a| a.hex_len() / 2)),
    };
    let mut lines = Lines::new(reader, encoding);
    while let Some(item) = lines.next_line() {
        let (n, text) = match usable_line(item, file, &WORDING, problems) {
            Usable::Text(number, text) => (number, text),
            Usable::Skipped => continue,
            Usable::Unreadable => break,
        };
        if text.trim().is_empty() || text.starts_with('#') {
            problems.push(
                Problem::new(
                    Code::BlankManifestLine,
                    format!("line {n} of {file} is blank or a comment"),
                )
                .file(file)
                .line(n),
            );
            continue;
        }
        let Some(entry) = parse_line(text, n, file, algorithm, version, problems) else {
            continue;
        };
        m.entries.push(entry.borrowed());
    }
    m.entries.shrink_to_fit();
    remove_duplicates(&mut m, file, version, problems);
    report_utf8_bom(lines.had_bom(), encoding, file, problems);
    m
}

fn parse_line(
    text: &str,
    n: u64,
    file: &str,
    algorithm: Option<Algorithm>,
    version: Version,
    problems: &mut Problems,
) -> Option<Entry> {
    let malformed = |problems: &mut Problems, why: String| {
        problems.push(
            Problem::new(Code::ManifestLineMalformed, why)
                .file(file)
                .line(n),
        );
    };
    let Some(split) = text.find([' ', '\t']) else {
        malformed(
            problems,
            format!("line {n} of {file} has no whitespace between checksum and path"),
        );
        return None;
    };
    let digest = &text[..split];
    let mut path = text[split..].trim_start_matches([' ', '\t']);
    if path.is_empty() {
        malformed(
            problems,
            format!("line {n} of {file} has a checksum but no path"),
        );
        return None;
    }
    let Some(value) = Digest::from_hex(digest).filter(|_| !digest.is_empty()) else {
        malformed(
            problems,
            format!(
                "line {n} of {file}: {} is not a hexadecimal checksum (an even number of hex digits, at most 128)",
                crate::paths::quoted(digest)
            ),
        );
        return None;
    };
    if let Some(a) = algorithm
        && digest.len() != a.hex_len()
    {
        malformed(
            problems,
            format!(
                "line {n} of {file}: a {a} checksum has {} hex digits, this one has {}",
                a.hex_len(),
                digest.len()
            ),
        );
        return None;
    }
    if let Some(rest) = path.strip_prefix('*') {
        problems.push(
            Problem::new(
                Code::Md5sumStyle,
                format!("line {n} of {file} uses md5sum's binary-mode `*` marker"),
            )
            .file(file)
            .line(n),
        );
        path = rest;
    }
    if let Some(rest) = path.strip_prefix("./") {
        problems.push(
            Problem::new(
                Code::LeadingDotSlash,
                format!("line {n} of {file} starts its path with `./`"),
            )
            .file(file)
            .line(n),
        );
        path = rest;
    }
    let (decoded, bad_escape) = if version.is_rfc() {
        match paths::decode(path) {
            Ok(d) => (d.into_owned(), false),
            Err(_) => (path.to_string(), true),
        }
    } else {
        (path.to_string(), false)
    };
    if let Some(why) = paths::unsafe_reason(&decoded) {
        problems.push(
            Problem::new(
                Code::UnsafePath,
                format!("line {n} of {file} names {}: {why}", paths::printable(path)),
            )
            .file(file)
            .line(n),
        );
        return None;
    }
    if decoded.contains('\\') {
        problems.push(
            Problem::new(
                Code::Backslash,
                format!(
                    "line {n} of {file}: {} contains a backslash",
                    paths::printable(path)
                ),
            )
            .file(file)
            .line(n),
        );
    }
    Some(Entry {
        line: n,
        digest: value,
        raw: (decoded != path).then(|| path.to_string()),
        path: decoded,
        bad_escape,
    })
}

impl Entry {
    /// The path as written in the manifest.
    pub fn raw(&self) -> &str {
        self.raw.as_deref().unwrap_or(&self.path)
    }

    /// The borrowed form.
    pub fn borrowed(&self) -> EntryRef<'_> {
        EntryRef {
            line: self.line,
            digest: self.digest,
            raw: self.raw.as_deref(),
            path: &self.path,
            bad_escape: self.bad_escape,
        }
    }
}

/// Reports and drops repeated paths, keeping the first line of each. Sorting line indices by
/// path finds them without a hash map holding a second copy of every path.
fn remove_duplicates(m: &mut Manifest, file: &str, version: Version, problems: &mut Problems) {
    let entries = &m.entries;
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| entries.path(a).cmp(entries.path(b)).then(a.cmp(&b)));
    let mut drop = vec![false; entries.len()];
    let mut run_start = 0;
    for k in 1..order.len() {
        let next = entries.get(order[k]);
        if entries.path(order[run_start]) != next.path {
            run_start = k;
            continue;
        }
        let first = entries.get(order[run_start]);
        let (code, what) = if first.digest != next.digest {
            (
                Code::DuplicateEntryConflict,
                "is listed again with a different checksum",
            )
        } else if version.is_rfc() {
            (Code::DuplicateEntry, "is listed twice")
        } else {
            (
                Code::DuplicateEntryOld,
                "is listed twice with the same checksum",
            )
        };
        problems.push(
            Problem::new(
                code,
                format!(
                    "{} {what} (first on line {})",
                    paths::printable(next.path),
                    first.line
                ),
            )
            .file(file)
            .line(next.line),
        );
        drop[order[k]] = true;
    }
    if drop.iter().any(|&d| d) {
        m.entries.retain(|index| !drop[index]);
    }
}

/// Writes a manifest line: `digest  path`, the path percent-encoded. Two spaces, so
/// `sha256sum -c` can read a manifest too.
pub fn write_line<W: std::io::Write + ?Sized>(
    out: &mut W,
    path: &str,
    digest: &Digest,
) -> std::io::Result<()> {
    writeln!(out, "{digest}  {}", paths::encode(path))
}

/// A manifest's text for `(path, digest)` entries in the order given (callers sort).
pub fn render<'a>(entries: impl IntoIterator<Item = (&'a str, &'a Digest)>) -> String {
    let mut out = Vec::new();
    for (path, digest) in entries {
        write_line(&mut out, path, digest).expect("writing to memory");
    }
    String::from_utf8(out).expect("manifest text is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn p(text: &str, v: Version) -> (Manifest, Vec<&'static str>) {
        let mut probs = Problems::unlimited();
        let m = parse(
            text.as_bytes(),
            "manifest-sha256.txt",
            Encoding::Utf8,
            v,
            &mut probs,
        );
        (m, probs.iter().map(|p| p.code.as_str()).collect())
    }

    #[test]
    fn separators_case_and_encoding() {
        let text = format!(
            "{A} data/a b.txt\n{}\t\tdata/file%250A1.txt\n{A}   data/x%0Ay\n",
            A.to_uppercase()
        );
        let (m, c) = p(&text, Version::V1_0);
        assert!(c.is_empty(), "{c:?}");
        let paths: Vec<_> = m.entries.iter().map(|e| e.path).collect();
        assert_eq!(paths, ["data/a b.txt", "data/file%0A1.txt", "data/x\ny"]);
        assert!(m.entries.iter().all(|e| e.digest.to_hex() == A));
        assert_eq!(m.algorithm, Some(Algorithm::Sha256));
    }

    #[test]
    fn version_0_97_decodes_nothing() {
        let (m, c) = p(
            &format!("{A}  data/%7Etest1.txt\n{A}  data/%test2.txt\n"),
            Version {
                major: 0,
                minor: 97,
            },
        );
        assert!(c.is_empty());
        assert_eq!(m.entries.get(0).path, "data/%7Etest1.txt");
        assert_eq!(m.entries.get(1).path, "data/%test2.txt");
    }

    #[test]
    fn unencoded_percent_is_kept_literal_and_marked() {
        let (m, c) = p(&format!("{A}  data/50%off.txt\n"), Version::V1_0);
        assert!(c.is_empty());
        assert!(m.entries.get(0).bad_escape);
        assert_eq!(m.entries.get(0).path, "data/50%off.txt");
    }

    #[test]
    fn lint_and_malformed_lines() {
        assert_eq!(p(&format!("{A} *data/a\n"), Version::V1_0).1, ["BAG-W001"]);
        assert_eq!(
            p(&format!("{A}  ./data/a\n"), Version::V1_0).1,
            ["BAG-W002"]
        );
        assert_eq!(
            p("\n# comment\n", Version::V1_0).1,
            ["BAG-W015", "BAG-W015"]
        );
        assert_eq!(p(&format!("{A}\n"), Version::V1_0).1, ["BAG-030"]);
        assert_eq!(p(&format!("{A} \n"), Version::V1_0).1, ["BAG-030"]);
        assert_eq!(p("abc data/a\n", Version::V1_0).1, ["BAG-030"]);
        assert_eq!(
            p(&format!("{}  data/a\n", &A[..63]), Version::V1_0).1,
            ["BAG-030"]
        );
        assert_eq!(
            p(&format!("{}zz  data/a\n", &A[..62]), Version::V1_0).1,
            ["BAG-030"]
        );
        assert_eq!(
            p(&format!("{A}  data\\sub\\a\n"), Version::V1_0).1,
            ["BAG-W018"]
        );
    }

    #[test]
    fn unsafe_paths_are_refused() {
        for bad in [
            "../x",
            "data/../../x",
            "/etc/passwd",
            "~/x",
            "C:/x",
            "data/%2E%2E/x",
        ] {
            let (m, c) = p(&format!("{A}  {bad}\n"), Version::V1_0);
            if bad.contains("%2E") {
                // Not an escape BagIt defines: kept literal, so it is a (safe) odd name.
                assert!(c.is_empty());
                continue;
            }
            assert_eq!(c, ["BAG-031"], "{bad}");
            assert!(m.entries.is_empty());
        }
        let (_, c) = p(&format!("{A}  data/a%0A..%0A\n"), Version::V1_0);
        assert!(
            c.is_empty(),
            "a name holding `..` amid other characters is fine"
        );
        let (_, c) = p(
            &format!("{A}  data/%2e%2e\n"),
            Version {
                major: 0,
                minor: 97,
            },
        );
        assert!(c.is_empty());
    }

    #[test]
    fn duplicates_by_version() {
        let b = "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed";
        assert_eq!(
            p(&format!("{A}  data/a\n{A}  data/a\n"), Version::V1_0).1,
            ["BAG-033"]
        );
        assert_eq!(
            p(
                &format!("{A}  data/a\n{A}  data/a\n"),
                Version {
                    major: 0,
                    minor: 97
                }
            )
            .1,
            ["BAG-W024"]
        );
        assert_eq!(
            p(
                &format!("{A}  data/a\n{b}  data/a\n"),
                Version {
                    major: 0,
                    minor: 97
                }
            )
            .1,
            ["BAG-032"]
        );
        // The same file spelled encoded and literally is a duplicate too.
        assert_eq!(
            p(
                &format!("{A}  data/a%0Ab\n{A}  data/a%0ab\n"),
                Version::V1_0
            )
            .1,
            ["BAG-033"]
        );
    }

    #[test]
    fn classify_names() {
        assert_eq!(classify("manifest-sha256.txt"), Some((false, "sha256")));
        assert_eq!(classify("tagmanifest-md5.txt"), Some((true, "md5")));
        assert_eq!(classify("manifest-.txt"), None);
        assert_eq!(classify("bag-info.txt"), None);
    }

    #[test]
    fn render_encodes() {
        assert_eq!(
            render([("data/a%b\nc", &Digest::from_hex(A).unwrap())]),
            format!("{A}  data/a%25b%0Ac\n")
        );
    }
}
