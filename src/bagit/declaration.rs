//! `bagit.txt`: the bag declaration (RFC 8493 section 2.1.1), read to the letter.

use std::fmt;
use std::io::Read;

use super::text::{Encoding, LineWording, Lines, Usable, usable_line};
use crate::error::{Code, Problem};
use crate::verdict::Problems;

/// A BagIt version `major.minor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
}

impl Version {
    /// BagIt 1.0, the version qoima writes.
    pub const V1_0: Version = Version { major: 1, minor: 0 };

    /// Whether this is RFC 8493 (1.0) or later: percent-encoded paths, every file in every
    /// manifest, no duplicate lines.
    pub fn is_rfc(self) -> bool {
        self >= Version::V1_0
    }

    /// Versions 0.93 to 0.95 named the metadata file `package-info.txt`.
    pub fn info_file(self) -> &'static str {
        if self
            < (Version {
                major: 0,
                minor: 96,
            })
        {
            "package-info.txt"
        } else {
            "bag-info.txt"
        }
    }

    fn parse(s: &str) -> Option<Version> {
        let (major, minor) = s.split_once('.')?;
        let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
        if !digits(major) || !digits(minor) {
            return None;
        }
        Some(Version {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// What `bagit.txt` declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Declaration {
    /// The BagIt version.
    pub version: Version,
    /// The encoding of the other tag files.
    pub encoding: Encoding,
}

/// The exact text qoima writes.
pub fn render(d: Declaration) -> String {
    let enc = d.encoding.name();
    format!(
        "BagIt-Version: {}\nTag-File-Character-Encoding: {enc}\n",
        d.version
    )
}

const FILE: &str = "bagit.txt";

/// The encoding `bagit.txt` itself is in: UTF-8, unless its first bytes are a UTF-16
/// byte-order mark or show UTF-16's zero bytes (0.9x bags from bagit-java and the LoC
/// conformance suite write the whole bag, bagit.txt included, in UTF-16).
fn sniff(head: &[u8]) -> Encoding {
    match head {
        [0xFE, 0xFF, ..] | [0, 1..=255, ..] => Encoding::Other(encoding_rs::UTF_16BE),
        [0xFF, 0xFE, ..] | [1..=255, 0, ..] => Encoding::Other(encoding_rs::UTF_16LE),
        _ => Encoding::Utf8,
    }
}

/// Parses `bagit.txt`. Any departure from the exact form is reported; the declaration is
/// still returned when the version and encoding can be made out, so that validation can go on
/// and report everything else.
pub fn parse(reader: impl Read, problems: &mut Problems) -> Option<Declaration> {
    let mut reader = std::io::BufReader::new(reader);
    let own = match std::io::BufRead::fill_buf(&mut reader) {
        Ok(head) => sniff(head),
        Err(_) => Encoding::Utf8,
    };
    let declaration = parse_lines(Lines::new(reader, own), problems)?;
    if own != Encoding::Utf8 && declaration.version.is_rfc() {
        problems.push(
            Problem::new(
                Code::BagitTxtBom,
                format!(
                    "bagit.txt is written in {}; BagIt {} requires UTF-8 without a byte-order mark",
                    own.name(),
                    declaration.version
                ),
            )
            .file(FILE)
            .line(1),
        );
    }
    Some(declaration)
}

/// How bagit.txt's unusable lines are worded; either one ends the reading.
const WORDING: LineWording = LineWording {
    too_long: |_, _| "bagit.txt has an overlong line".into(),
    bad_encoding: |_, _, _| "bagit.txt is not valid UTF-8".into(),
};

/// One line of bagit.txt, kept with its number.
type NumberedLine = (u64, String);

fn parse_lines(lines: Lines<impl Read>, problems: &mut Problems) -> Option<Declaration> {
    let (texts, count) = read_lines(lines, problems)?;
    if count != 2 {
        malformed(
            problems,
            count.clamp(1, 3) as u64,
            "",
            format!("bagit.txt has {count} lines; it must have exactly two"),
        );
    }
    let mut version = None;
    let mut encoding = None;
    for (index, (n, text)) in texts.iter().enumerate() {
        let Some((label, value)) = text.split_once(':') else {
            malformed(
                problems,
                *n,
                "",
                format!(
                    "line {n} is not `Label: value`: {}",
                    crate::paths::quoted(text)
                ),
            );
            continue;
        };
        let element = Element {
            index,
            number: *n,
            text,
            label,
            value,
        };
        match label.trim() {
            "BagIt-Version" => version = element.version(problems).or(version),
            "Tag-File-Character-Encoding" => encoding = element.encoding(problems).or(encoding),
            other => malformed(
                problems,
                *n,
                other,
                format!(
                    "unexpected element {} in bagit.txt",
                    crate::paths::quoted(other)
                ),
            ),
        }
    }
    report_missing(&texts, version.is_none(), encoding.is_none(), problems);
    let version = supported(version?, problems)?;
    Some(Declaration {
        version,
        encoding: encoding?,
    })
}

/// Reads the lines of bagit.txt: the first three are kept (two are due; a third is enough
/// to report), the rest only counted, so that a bagit.txt of a billion lines costs no memory.
/// `None` when a line is overlong or not valid text, or the file cannot be read.
fn read_lines(
    mut lines: Lines<impl Read>,
    problems: &mut Problems,
) -> Option<(Vec<NumberedLine>, usize)> {
    let mut texts = Vec::new();
    let mut count = 0usize;
    while let Some(item) = lines.next_line() {
        match usable_line(item, FILE, &WORDING, problems) {
            Usable::Text(number, text) => {
                count += 1;
                if texts.len() < 3 {
                    texts.push((number, text.to_string()));
                }
            }
            Usable::Skipped | Usable::Unreadable => return None,
        }
    }
    if lines.had_bom() {
        problems.push(
            Problem::new(Code::BagitTxtBom, "bagit.txt starts with a byte-order mark")
                .file(FILE)
                .line(1),
        );
    }
    Some((texts, count))
}

/// Reports `BAG-002` on `line` of bagit.txt, naming `field` unless it is empty.
fn malformed(problems: &mut Problems, line: u64, field: &str, message: String) {
    let mut problem = Problem::new(Code::BagitTxtMalformed, message)
        .file(FILE)
        .line(line);
    if !field.is_empty() {
        problem = problem.field(field);
    }
    problems.push(problem);
}

/// One `Label: value` line of bagit.txt.
struct Element<'a> {
    /// Its place among the lines read (0 is the first).
    index: usize,
    /// Its line number.
    number: u64,
    /// The whole line.
    text: &'a str,
    /// Before the colon, as written.
    label: &'a str,
    /// After the colon, as written.
    value: &'a str,
}

impl Element<'_> {
    /// One space after the colon, none before, none more.
    fn is_exact(&self) -> bool {
        self.value.starts_with(' ')
            && !self.value[1..].starts_with([' ', '\t'])
            && !self.label.ends_with([' ', '\t'])
    }

    /// Reports the element when it is not line number `place` (0 is the first) of the file,
    /// with `out_of_place`, and when it is not written exactly `FIELD: value`, with the line
    /// quoted before `form`.
    fn check_place_and_form(
        &self,
        place: usize,
        field: &str,
        out_of_place: &str,
        form: &str,
        problems: &mut Problems,
    ) {
        if self.index != place {
            malformed(problems, self.number, field, out_of_place.into());
        }
        if !self.is_exact() || self.label != field {
            malformed(
                problems,
                self.number,
                field,
                format!("{} {form}", crate::paths::quoted(self.text)),
            );
        }
    }

    /// The `BagIt-Version` line: first, exactly written, `M.N`.
    fn version(&self, problems: &mut Problems) -> Option<Version> {
        const FIELD: &str = "BagIt-Version";
        self.check_place_and_form(
            0,
            FIELD,
            "BagIt-Version must be the first line",
            "must read exactly `BagIt-Version: M.N` (one space after the colon, none before)",
            problems,
        );
        let value = self.value.trim();
        let version = Version::parse(value);
        if version.is_none() {
            malformed(
                problems,
                self.number,
                FIELD,
                format!(
                    "{} is not a version of the form M.N",
                    crate::paths::quoted(value)
                ),
            );
        }
        version
    }

    /// The `Tag-File-Character-Encoding` line: second, exactly written, an encoding qoima
    /// reads (`BAG-005` otherwise).
    fn encoding(&self, problems: &mut Problems) -> Option<Encoding> {
        const FIELD: &str = "Tag-File-Character-Encoding";
        self.check_place_and_form(
            1,
            FIELD,
            "Tag-File-Character-Encoding must be the second line",
            "must read exactly `Tag-File-Character-Encoding: ENCODING`",
            problems,
        );
        let value = self.value.trim();
        let encoding = Encoding::from_label(value);
        if encoding.is_none() {
            problems.push(
                Problem::new(
                    Code::UnsupportedEncoding,
                    format!(
                        "tag file encoding {} is not supported",
                        crate::paths::quoted(value)
                    ),
                )
                .file(FILE)
                .line(self.number)
                .field(FIELD),
            );
        }
        encoding
    }
}

/// Reports a version or encoding line that is not there at all (one that is there but
/// unreadable was reported with its line).
fn report_missing(
    texts: &[NumberedLine],
    no_version: bool,
    no_encoding: bool,
    problems: &mut Problems,
) {
    let present = |label: &str| {
        texts
            .iter()
            .any(|(_, text)| text.trim_start().starts_with(label))
    };
    if no_version && !present("BagIt-Version") {
        malformed(
            problems,
            1,
            "BagIt-Version",
            "bagit.txt has no BagIt-Version line".into(),
        );
    }
    if no_encoding && !present("Tag-File-Character-Encoding") {
        malformed(
            problems,
            2,
            "Tag-File-Character-Encoding",
            "bagit.txt has no Tag-File-Character-Encoding line".into(),
        );
    }
}

/// `version`, if qoima reads it: 0.93 to 1.x (`BAG-004` otherwise).
fn supported(version: Version, problems: &mut Problems) -> Option<Version> {
    if version.major >= 2
        || version
            < (Version {
                major: 0,
                minor: 93,
            })
    {
        problems.push(
            Problem::new(
                Code::UnsupportedVersion,
                format!("BagIt version {version} is not supported"),
            )
            .file(FILE)
            .line(1)
            .field("BagIt-Version"),
        );
        return None;
    }
    Some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &[u8]) -> (Option<Declaration>, Vec<&'static str>) {
        let mut p = Problems::unlimited();
        let d = parse(text, &mut p);
        (d, p.iter().map(|p| p.code.as_str()).collect())
    }

    #[test]
    fn the_exact_form_passes_with_any_line_ending() {
        for t in [
            &b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"[..],
            b"BagIt-Version: 1.0\r\nTag-File-Character-Encoding: UTF-8\r\n",
            b"BagIt-Version: 1.0\rTag-File-Character-Encoding: UTF-8",
        ] {
            let (d, c) = codes(t);
            assert_eq!(c, Vec::<&str>::new());
            assert_eq!(d.unwrap().version, Version::V1_0);
        }
    }

    #[test]
    fn space_before_colon_is_invalid() {
        let (_, c) = codes(b"BagIt-Version : 1.0\nTag-File-Character-Encoding: UTF-8\n");
        assert_eq!(c, vec!["BAG-002"]);
        let (_, c) = codes(b"BagIt-Version:  1.0\nTag-File-Character-Encoding: UTF-8\n");
        assert_eq!(c, vec!["BAG-002"]);
    }

    #[test]
    fn bom_swapped_extra_missing_lines() {
        assert_eq!(
            codes(b"\xEF\xBB\xBFBagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n").1,
            vec!["BAG-003"]
        );
        assert!(
            codes(b"Tag-File-Character-Encoding: UTF-8\nBagIt-Version: 1.0\n")
                .1
                .contains(&"BAG-002")
        );
        assert!(
            codes(b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\nExtra: x\n")
                .1
                .contains(&"BAG-002")
        );
        let (d, c) = codes(b"BagIt-Version: 1.0\n");
        assert!(d.is_none());
        assert!(c.contains(&"BAG-002"));
    }

    #[test]
    fn versions_and_encodings() {
        let (d, c) = codes(b"BagIt-Version: 0.97\nTag-File-Character-Encoding: utf-8\n");
        assert!(c.is_empty());
        assert!(!d.unwrap().version.is_rfc());
        assert_eq!(
            codes(b"BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n").1,
            vec!["BAG-004"]
        );
        assert_eq!(
            codes(b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-7\n").1,
            vec!["BAG-005"]
        );
        assert_eq!(
            codes(b"BagIt-Version: one\nTag-File-Character-Encoding: UTF-8\n").1,
            vec!["BAG-002"]
        );
    }
}
