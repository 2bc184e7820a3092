//! `fetch.txt` (RFC 8493 section 2.2.3): files the bag names but does not hold yet.
//!
//! Validation reads and checks fetch.txt but never fetches: following URLs chosen by whoever
//! made a bag is a decision for a person (section 5.2), taken with `qoima fetch`
//! ([`crate::fetch`]). A bag whose fetch entries are absent is reported *incomplete*, not
//! invalid, and the files it still owes are listed ([`Owed`]) with what is needed to get them.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use serde::Serialize;

use super::declaration::Version;
use super::manifest::Manifest;
use super::text::{Encoding, LineWording, Lines, Usable, usable_line};
use crate::error::{Code, Problem};
use crate::paths;
use crate::verdict::Problems;

/// One fetch.txt line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchEntry {
    /// Line number.
    pub line: u64,
    /// The absolute URL.
    pub url: String,
    /// The declared length; untrusted, never used to size anything.
    pub length: Option<u64>,
    /// The decoded bag-relative path.
    pub path: String,
}

/// A file fetch.txt still owes: listed there, absent from the bag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Owed {
    /// The bag-relative path (`data/…`), decoded.
    pub path: String,
    /// Where fetch.txt says to get it.
    pub url: String,
    /// The length fetch.txt declares, if it gives one (`-` is `None`).
    pub length: Option<u64>,
    /// The fetch.txt line.
    pub line: u64,
    /// The checksum each payload manifest lists for it: algorithm name → lower-case hex.
    pub checksums: BTreeMap<String, String>,
}

/// The entries of `fetch` whose path is in `pending` (absent from the bag), with the checksums
/// the payload manifests list for them, in fetch.txt order.
pub fn owed(fetch: &[FetchEntry], pending: &BTreeSet<String>, manifests: &[Manifest]) -> Vec<Owed> {
    let mut checksums: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
    for m in manifests {
        for e in m.entries.iter().filter(|e| pending.contains(e.path)) {
            checksums
                .entry(e.path)
                .or_default()
                .insert(m.algorithm_name.clone(), e.digest.to_string());
        }
    }
    fetch
        .iter()
        .filter(|f| pending.contains(&f.path))
        .map(|f| Owed {
            path: f.path.clone(),
            url: f.url.clone(),
            length: f.length,
            line: f.line,
            checksums: checksums.get(f.path.as_str()).cloned().unwrap_or_default(),
        })
        .collect()
}

const FILE: &str = "fetch.txt";

/// How fetch.txt's unusable lines are worded.
const WORDING: LineWording = LineWording {
    too_long: |file, n| format!("line {n} of {file} is too long"),
    bad_encoding: |file, n, _| format!("line {n} of {file} is not valid text"),
};

/// Parses fetch.txt, reporting malformed and unsafe lines.
pub fn parse(
    reader: impl Read,
    encoding: Encoding,
    version: Version,
    problems: &mut Problems,
) -> Vec<FetchEntry> {
    let mut entries = Vec::new();
    let mut lines = Lines::new(reader, encoding);
    while let Some(item) = lines.next_line() {
        match usable_line(item, FILE, &WORDING, problems) {
            Usable::Text(number, text) => {
                entries.extend(parse_line(text, number, version, problems));
            }
            Usable::Skipped => {}
            Usable::Unreadable => break,
        }
    }
    entries
}

/// One line `url length path`, checked: an absolute URL, digits or `-`, a safe payload path.
fn parse_line(
    text: &str,
    line: u64,
    version: Version,
    problems: &mut Problems,
) -> Option<FetchEntry> {
    let malformed = |problems: &mut Problems, why: String| {
        problems.push(
            Problem::new(Code::FetchLineMalformed, why)
                .file(FILE)
                .line(line),
        );
    };
    let mut parts = text.splitn(3, [' ', '\t']);
    let (Some(url), Some(length), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
        malformed(
            problems,
            format!("line {line} of fetch.txt is not `url length path`"),
        );
        return None;
    };
    let path = path.trim_start_matches([' ', '\t']);
    if !is_absolute_url(url) {
        malformed(
            problems,
            format!(
                "line {line} of fetch.txt: {} is not an absolute URL",
                crate::paths::quoted(url)
            ),
        );
        return None;
    }
    let length = match length {
        "-" => None,
        digits if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            digits.parse().ok()
        }
        other => {
            malformed(
                problems,
                format!(
                    "line {line} of fetch.txt: length {} is neither digits nor `-`",
                    crate::paths::quoted(other)
                ),
            );
            return None;
        }
    };
    let decoded = payload_path(path, line, version, problems)?;
    Some(FetchEntry {
        line,
        url: url.to_string(),
        length,
        path: decoded,
    })
}

/// The decoded bag-relative path on `line`, if it is a safe path under `data/`.
fn payload_path(
    path: &str,
    line: u64,
    version: Version,
    problems: &mut Problems,
) -> Option<String> {
    let refuse = |problems: &mut Problems, code: Code, message: String| {
        problems.push(Problem::new(code, message).file(FILE).line(line));
    };
    let decoded = if version.is_rfc() {
        match paths::decode(path) {
            Ok(decoded) => decoded.into_owned(),
            Err(_) => {
                refuse(
                    problems,
                    Code::BadPercentEncoding,
                    format!(
                        "line {line} of fetch.txt: {} has an invalid percent escape",
                        paths::printable(path)
                    ),
                );
                return None;
            }
        }
    } else {
        path.to_string()
    };
    if let Some(why) = paths::unsafe_reason(&decoded) {
        refuse(
            problems,
            Code::UnsafePath,
            format!(
                "line {line} of fetch.txt names {}: {why}",
                paths::printable(path)
            ),
        );
        return None;
    }
    if !decoded.starts_with("data/") {
        refuse(
            problems,
            Code::FetchOutsideData,
            format!(
                "line {line} of fetch.txt names {}, which is not a payload file",
                paths::printable(&decoded)
            ),
        );
        return None;
    }
    Some(decoded)
}

fn is_absolute_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> (Vec<FetchEntry>, Vec<&'static str>) {
        let mut probs = Problems::unlimited();
        let e = parse(text.as_bytes(), Encoding::Utf8, Version::V1_0, &mut probs);
        (e, probs.iter().map(|p| p.code.as_str()).collect())
    }

    #[test]
    fn parses_and_checks_lines() {
        let (e, c) =
            p("https://example.org/a.tif 1024 data/a b.tif\nhttps://example.org/b - data/b%0Ac\n");
        assert!(c.is_empty(), "{c:?}");
        assert_eq!(e[0].length, Some(1024));
        assert_eq!(e[0].path, "data/a b.tif");
        assert_eq!(e[1].path, "data/b\nc");
        assert_eq!(p("relative/url 1 data/a\n").1, ["BAG-050"]);
        assert_eq!(p("https://x 1x data/a\n").1, ["BAG-050"]);
        assert_eq!(p("https://x 1\n").1, ["BAG-050"]);
        assert_eq!(p("https://x 1 ../../etc/passwd\n").1, ["BAG-031"]);
        assert_eq!(p("https://x 1 /etc/passwd\n").1, ["BAG-031"]);
        assert_eq!(p("https://x 1 bag-info.txt\n").1, ["BAG-053"]);
    }
}
