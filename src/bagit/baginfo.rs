//! `bag-info.txt` (RFC 8493 section 2.2.2): ordered, repeatable `Label: value` elements.
//!
//! Order is kept exactly as read and as given, because the RFC says a rewrite must preserve
//! it (bagit-python sorts the labels when it rewrites). Reserved labels are matched without
//! regard to case.

use std::io::Read;

use super::declaration::Version;
use super::text::{
    Encoding, LineWording, Lines, MAX_LINE, Usable, not_valid_text_after, report_utf8_bom,
    usable_line,
};
use crate::error::{Code, Problem};
use crate::verdict::{self, Problems};

/// One element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    /// The label as written.
    pub label: String,
    /// The value, continuation lines unfolded (the line break removed, the indentation kept
    /// as one space).
    pub value: String,
    /// Line where the element starts.
    pub line: u64,
}

/// The ordered elements of a bag-info file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BagInfo {
    elements: Vec<Element>,
}

/// `Payload-Oxum`: payload bytes and file count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Oxum {
    /// Total payload bytes.
    pub octets: u64,
    /// Number of payload files.
    pub streams: u64,
}

impl std::fmt::Display for Oxum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.octets, self.streams)
    }
}

impl Oxum {
    /// Parses `OctetCount.StreamCount`.
    pub fn parse(s: &str) -> Option<Oxum> {
        let (octets, streams) = s.trim().split_once('.')?;
        let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
        if !digits(octets) || !digits(streams) {
            return None;
        }
        Some(Oxum {
            octets: octets.parse().ok()?,
            streams: streams.parse().ok()?,
        })
    }
}

impl BagInfo {
    /// No elements.
    pub fn new() -> BagInfo {
        BagInfo::default()
    }

    /// All elements in order.
    pub fn elements(&self) -> &[Element] {
        &self.elements
    }

    /// Appends an element.
    pub fn push(&mut self, label: impl Into<String>, value: impl Into<String>) {
        self.elements.push(Element {
            label: label.into(),
            value: value.into(),
            line: 0,
        });
    }

    /// Replaces every element with this label (case-insensitive) by one, at the place of the
    /// first, or appends it.
    pub fn set(&mut self, label: &str, value: impl Into<String>) {
        let value = value.into();
        match self
            .elements
            .iter()
            .position(|e| e.label.eq_ignore_ascii_case(label))
        {
            Some(first) => {
                self.elements[first].value = value;
                let mut position = 0;
                self.elements.retain(|e| {
                    position += 1;
                    position - 1 == first || !e.label.eq_ignore_ascii_case(label)
                });
            }
            None => self.push(label, value),
        }
    }

    /// Whether an element with this label exists.
    pub fn contains(&self, label: &str) -> bool {
        self.get(label).is_some()
    }

    /// The first value for a label (case-insensitive).
    pub fn get(&self, label: &str) -> Option<&str> {
        self.elements
            .iter()
            .find(|e| e.label.eq_ignore_ascii_case(label))
            .map(|e| e.value.as_str())
    }

    /// Every value for a label (case-insensitive), in order.
    pub fn get_all<'a>(&'a self, label: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.elements
            .iter()
            .filter(move |e| e.label.eq_ignore_ascii_case(label))
            .map(|e| e.value.as_str())
    }

    /// The Payload-Oxum, if present and well-formed.
    pub fn oxum(&self) -> Option<Oxum> {
        self.get("Payload-Oxum").and_then(Oxum::parse)
    }

    /// The file's text. A value holding line breaks is folded onto continuation lines, so no
    /// raw CR or LF ever starts a false element.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for e in &self.elements {
            out.push_str(&e.label);
            out.push(':');
            let mut first = true;
            for part in e.value.split(['\n', '\r']).filter(|p| !p.is_empty()) {
                if first {
                    out.push(' ');
                    first = false;
                } else {
                    out.push_str("\n ");
                }
                out.push_str(part);
            }
            if first {
                out.push(' ');
            }
            out.push('\n');
        }
        out
    }
}

/// The most text (labels and values) qoima reads of a bag-info file. Real ones hold a few
/// kilobytes; without a bound a 1 GB file of `Label: value` lines would cost gigabytes.
pub const MAX_INFO_BYTES: usize = 8 * 1024 * 1024;

/// The most lines qoima reads of a bag-info file: each element costs about 120 bytes beside
/// its text, so 8 MiB of `N: v` lines would still take 250 MB.
pub const MAX_INFO_LINES: u64 = 100_000;

/// How a bag-info file's unusable lines are worded.
const WORDING: LineWording = LineWording {
    too_long: |file, line| format!("line {line} of {file} is too long"),
    bad_encoding: not_valid_text_after,
};

/// Parses a bag-info (or package-info) file, reporting every malformed line. An element
/// longer than [`MAX_LINE`] once unfolded, or a file of more than [`MAX_INFO_LINES`] lines or
/// [`MAX_INFO_BYTES`] of text, is reported as `BAG-011`; reading stops at the second.
pub fn parse(
    reader: impl Read,
    file: &str,
    encoding: Encoding,
    version: Version,
    problems: &mut Problems,
) -> BagInfo {
    let mut info = BagInfo::new();
    let mut kept = 0usize;
    // The last element's continuation lines were cut at MAX_LINE.
    let mut cut = false;
    let mut lines = Lines::new(reader, encoding);
    while let Some(item) = lines.next_line() {
        let (line, text) = match usable_line(item, file, &WORDING, problems) {
            Usable::Text(line, text) => (line, text),
            Usable::Skipped => continue,
            Usable::Unreadable => break,
        };
        if over_budget(kept, text, line, file, problems) {
            break;
        }
        kept += text.len();
        // Archivematica's bags end bag-info.txt with a blank line; bagit-python skips it.
        if text.trim().is_empty() {
            problems.push(
                Problem::new(
                    Code::BagInfoBlankLine,
                    format!("line {line} of {file} is blank; it was skipped"),
                )
                .file(file)
                .line(line),
            );
            continue;
        }
        if text.starts_with([' ', '\t']) {
            match info.elements.last_mut() {
                Some(last) => unfold(last, text, &mut cut, file, line, problems),
                None => problems.push(
                    Problem::new(
                        Code::BagInfoMalformed,
                        format!("{file} starts with a continuation line"),
                    )
                    .file(file)
                    .line(line),
                ),
            }
            continue;
        }
        if let Some(element) = parse_element(text, line, file, version, problems) {
            cut = false;
            info.elements.push(element);
        }
    }
    report_utf8_bom(lines.had_bom(), encoding, file, problems);
    check_reserved(&info, file, problems);
    info
}

/// Whether `line` passes [`MAX_INFO_LINES`] or takes the text kept past [`MAX_INFO_BYTES`]
/// (reported as `BAG-011`: reading stops there).
fn over_budget(kept: usize, text: &str, line: u64, file: &str, problems: &mut Problems) -> bool {
    if kept + text.len() <= MAX_INFO_BYTES && line <= MAX_INFO_LINES {
        return false;
    }
    problems.push(
        Problem::new(
            Code::LineTooLong,
            format!(
                "{file} has more than {} lines or {} MiB of text; qoima read no further than line {line}",
                verdict::thousands(MAX_INFO_LINES),
                MAX_INFO_BYTES >> 20
            ),
        )
        .file(file)
        .line(line),
    );
    true
}

/// The element on `line`, `Label: value`; from BagIt 1.0 on, a label with whitespace
/// around it or a value without its space is reported (and the element kept).
fn parse_element(
    text: &str,
    line: u64,
    file: &str,
    version: Version,
    problems: &mut Problems,
) -> Option<Element> {
    let Some((label, rest)) = text.split_once(':') else {
        problems.push(
            Problem::new(
                Code::BagInfoMalformed,
                format!(
                    "line {line} of {file} is not `Label: value`: {}",
                    crate::paths::quoted(text)
                ),
            )
            .file(file)
            .line(line),
        );
        return None;
    };
    let malformed = |problems: &mut Problems, message: String| {
        problems.push(
            Problem::new(Code::BagInfoMalformed, message)
                .file(file)
                .line(line)
                .field(label.trim()),
        );
    };
    let value = if version.is_rfc() {
        if label.is_empty() || label.trim() != label {
            malformed(
                problems,
                format!(
                    "label {} is empty or has leading or trailing whitespace",
                    crate::paths::quoted(label)
                ),
            );
        }
        match rest.chars().next() {
            None => String::new(),
            Some(' ' | '\t') => rest[1..].trim_end().to_string(),
            Some(_) => {
                malformed(
                    problems,
                    format!("no space after the colon in {}", crate::paths::quoted(text)),
                );
                rest.trim().to_string()
            }
        }
    } else {
        rest.trim().to_string()
    };
    Some(Element {
        label: label.trim().to_string(),
        value,
        line,
    })
}

/// Appends a continuation line to its element (the line break goes, the indentation stays as
/// one space), unless the element would pass [`MAX_LINE`]: then the line is skipped, and
/// reported if it is the element's first skipped one (`cut` remembers that).
fn unfold(
    last: &mut Element,
    text: &str,
    cut: &mut bool,
    file: &str,
    n: u64,
    problems: &mut Problems,
) {
    let part = text.trim_start();
    if *cut {
        return;
    }
    if last.label.len() + 2 + last.value.len() + 1 + part.len() > MAX_LINE {
        *cut = true;
        problems.push(
            Problem::new(
                Code::LineTooLong,
                format!(
                    "the element {} starting on line {} of {file} is longer than 64 KiB once its continuation lines are joined; they were skipped from line {n} on",
                    crate::paths::printable(&last.label),
                    last.line
                ),
            )
            .file(file)
            .line(n)
            .field(last.label.as_str()),
        );
        return;
    }
    last.value.push(' ');
    last.value.push_str(part);
}

fn check_reserved(info: &BagInfo, file: &str, problems: &mut Problems) {
    let all = |label: &'static str| {
        info.elements
            .iter()
            .filter(move |element| element.label.eq_ignore_ascii_case(label))
    };
    for (index, element) in all("Payload-Oxum").enumerate() {
        if index == 1 {
            problems.push(
                Problem::new(Code::OxumRepeated, "Payload-Oxum appears more than once")
                    .file(file)
                    .line(element.line)
                    .field(&element.label),
            );
        }
        if Oxum::parse(&element.value).is_none() {
            problems.push(
                Problem::new(
                    Code::OxumMalformed,
                    format!(
                        "Payload-Oxum {} is not OctetCount.StreamCount",
                        crate::paths::quoted(&element.value)
                    ),
                )
                .file(file)
                .line(element.line)
                .field(&element.label),
            );
        }
    }
    for label in [
        "Bag-Size",
        "Bagging-Date",
        "Bag-Group-Identifier",
        "Bag-Count",
    ] {
        if let Some(element) = all(label).nth(1) {
            problems.push(
                Problem::new(
                    Code::BagInfoRepeated,
                    format!("{label} appears more than once"),
                )
                .file(file)
                .line(element.line)
                .field(&element.label),
            );
        }
    }
    for element in all("Bagging-Date") {
        if chrono::NaiveDate::parse_from_str(element.value.trim(), "%Y-%m-%d").is_err()
            || element.value.trim().len() != 10
        {
            problems.push(
                Problem::new(
                    Code::BagInfoValue,
                    format!(
                        "Bagging-Date {} is not YYYY-MM-DD",
                        crate::paths::quoted(&element.value)
                    ),
                )
                .file(file)
                .line(element.line)
                .field(&element.label),
            );
        }
    }
    for element in all("Bag-Count") {
        let ok = element
            .value
            .split_once(" of ")
            .is_some_and(|(count, total)| {
                let num = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
                num(count.trim()) && (num(total.trim()) || total.trim() == "?")
            });
        if !ok {
            problems.push(
                Problem::new(
                    Code::BagInfoValue,
                    format!(
                        "Bag-Count {} is not `N of T`",
                        crate::paths::quoted(&element.value)
                    ),
                )
                .file(file)
                .line(element.line)
                .field(&element.label),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str, v: Version) -> (BagInfo, Vec<&'static str>) {
        let mut probs = Problems::unlimited();
        let info = parse(
            text.as_bytes(),
            "bag-info.txt",
            Encoding::Utf8,
            v,
            &mut probs,
        );
        (info, probs.iter().map(|p| p.code.as_str()).collect())
    }

    #[test]
    fn issue13_continuations_stop_at_64_kib_reported_once() {
        let piece = format!(" {}\n", "x".repeat(1000));
        let text = format!("Note: a\n{}Next: b\n", piece.repeat(100));
        let (info, codes) = p(&text, Version::V1_0);
        assert_eq!(codes, ["BAG-011"]);
        let note = info.get("Note").unwrap();
        assert!(
            note.len() <= MAX_LINE && note.len() > MAX_LINE - 1002,
            "{}",
            note.len()
        );
        assert_eq!(info.get("Next"), Some("b"));
    }

    #[test]
    fn issue13_a_bag_info_of_too_many_lines_is_read_no_further() {
        let text = "N: v\n".repeat(MAX_INFO_LINES as usize + 50);
        let mut probs = Problems::unlimited();
        let info = parse(
            text.as_bytes(),
            "bag-info.txt",
            Encoding::Utf8,
            Version::V1_0,
            &mut probs,
        );
        assert_eq!(info.elements().len(), MAX_INFO_LINES as usize);
        let cut: Vec<_> = probs
            .iter()
            .filter(|p| p.code == Code::LineTooLong)
            .collect();
        assert_eq!(cut.len(), 1);
        assert_eq!(cut[0].location.line, Some(MAX_INFO_LINES + 1));
        let big = format!("N: {}\n", "v".repeat(60_000)).repeat(200);
        let (info, codes) = p(&big, Version::V1_0);
        assert!(codes.contains(&"BAG-011"));
        assert!(info.elements().len() < 150);
    }

    #[test]
    fn order_repeats_continuations_and_case_insensitive_labels() {
        let (info, c) = p(
            "Source-Organization: Qoima Archive\nContact-Name: A\nContact-Name: B\nExternal-Description: one\n  two\n\tthree\npayload-oxum: 10.2\n",
            Version::V1_0,
        );
        assert!(c.is_empty(), "{c:?}");
        assert_eq!(
            info.get_all("contact-name").collect::<Vec<_>>(),
            vec!["A", "B"]
        );
        assert_eq!(info.get("External-Description"), Some("one two three"));
        assert_eq!(
            info.oxum(),
            Some(Oxum {
                octets: 10,
                streams: 2
            })
        );
        let labels: Vec<_> = info.elements().iter().map(|e| e.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Source-Organization",
                "Contact-Name",
                "Contact-Name",
                "External-Description",
                "payload-oxum"
            ]
        );
    }

    #[test]
    fn malformed_lines() {
        assert_eq!(p("no colon here\n", Version::V1_0).1, vec!["BAG-020"]);
        assert_eq!(p("Label : value\n", Version::V1_0).1, vec!["BAG-020"]);
        assert_eq!(p("Label:value\n", Version::V1_0).1, vec!["BAG-020"]);
        assert_eq!(
            p(" leading continuation\n", Version::V1_0).1,
            vec!["BAG-020"]
        );
        // Before 1.0, whitespace around the colon is allowed.
        let (info, c) = p(
            "Label  :   value\n",
            Version {
                major: 0,
                minor: 97,
            },
        );
        assert!(c.is_empty());
        assert_eq!(info.get("label"), Some("value"));
    }

    #[test]
    fn reserved_elements() {
        assert_eq!(p("Payload-Oxum: 12\n", Version::V1_0).1, vec!["BAG-021"]);
        assert_eq!(
            p("Payload-Oxum: 1.1\nPayload-Oxum: 1.1\n", Version::V1_0).1,
            vec!["BAG-022"]
        );
        assert_eq!(
            p("Bagging-Date: 2022-1-5\n", Version::V1_0).1,
            vec!["BAG-W020"]
        );
        assert_eq!(
            p(
                "Bag-Count: 1 of ?\nBagging-Date: 2022-01-05\n",
                Version::V1_0
            )
            .1,
            Vec::<&str>::new()
        );
        assert_eq!(p("Bag-Count: one\n", Version::V1_0).1, vec!["BAG-W020"]);
        assert_eq!(
            p("Bag-Size: 1 MB\nBag-Size: 2 MB\n", Version::V1_0).1,
            vec!["BAG-W019"]
        );
    }

    #[test]
    fn render_keeps_order_and_folds_line_breaks() {
        let mut info = BagInfo::new();
        info.push("Source-Organization", "Qoima & Co <archive>");
        info.push("External-Description", "line one\nline two\r\nline three");
        info.push("Contact-Name", "A");
        info.set("contact-name", "B");
        let text = info.render();
        assert_eq!(
            text,
            "Source-Organization: Qoima & Co <archive>\nExternal-Description: line one\n line two\n line three\nContact-Name: B\n"
        );
        let (back, c) = p(&text, Version::V1_0);
        assert!(c.is_empty());
        assert_eq!(
            back.get("External-Description"),
            Some("line one line two line three")
        );
    }
}
