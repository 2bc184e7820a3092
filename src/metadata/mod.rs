//! The descriptive record of a collection: one Dublin Core record per item, read from a
//! sidecar (`metadata.csv`, as archivists export from spreadsheets, or `metadata.json`), and
//! the rules that check the records and the files they describe.
//!
//! Knows nothing of XML: writing Dublin Core and METS is `describe`'s job.

mod collection;
pub(crate) mod csv_sidecar;
pub mod edtf;
pub(crate) mod json_sidecar;
pub mod lang;
pub mod rules;
pub mod source;

pub use collection::{COLLECTION_FILES, load_collection};

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Code, Problem};
use crate::verdict::Problems;

/// The fifteen Dublin Core elements plus `file` (the item's path in the collection) and
/// `spatial` (a DCMI term qualifying coverage), in the order reports list them.
pub const ELEMENTS: [&str; 17] = [
    "identifier",
    "file",
    "title",
    "description",
    "date",
    "creator",
    "subject",
    "coverage",
    "spatial",
    "language",
    "rights",
    "type",
    "source",
    "publisher",
    "contributor",
    "relation",
    "format",
];

/// The column naming the group an item belongs to (the logical structure of a METS).
pub const SECTION: &str = "section";

/// The separator of repeated values within one cell.
pub const REPEAT: char = '|';

/// One item's description.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Record {
    /// Line of the sidecar where the record starts (1 is the CSV header).
    pub line: u64,
    /// Values by element, in NFC, repeated values split on `|`.
    pub values: Values,
    /// The row had more or fewer fields than the header, so its values may sit in the wrong
    /// columns: rules that would only repeat that finding (a "missing" element) are skipped.
    #[serde(skip)]
    pub ragged: bool,
}

impl Record {
    /// Every value of an element.
    pub fn all(&self, element: &str) -> Strs<'_> {
        self.values.get(element)
    }

    /// The first value of an element.
    pub fn first(&self, element: &str) -> Option<&str> {
        self.all(element).first()
    }
}

/// The names a record holds values of: [`ELEMENTS`], then [`SECTION`].
fn element_index(name: &str) -> Option<u8> {
    if name == SECTION {
        return Some(ELEMENTS.len() as u8);
    }
    ELEMENTS.iter().position(|e| *e == name).map(|i| i as u8)
}

fn element_name(index: u8) -> &'static str {
    ELEMENTS.get(index as usize).copied().unwrap_or(SECTION)
}

/// An item's values by element, in NFC, repeated values split on `|`: a small map, ordered
/// by element name, held in one string and one table of spans. A million records of a
/// sidecar are what `qoima check` holds at once, so a record owns two allocations instead of
/// a tree of strings (about 1.2 KB a record before).
///
/// Only the names of [`ELEMENTS`] and [`SECTION`] are kept: no reader gives another (an
/// unknown column or key is reported and left out as it is read).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Values {
    /// Every value, one after another.
    text: Box<str>,
    /// Each value's element and where it ends in `text`, ordered by element name, then as
    /// given.
    spans: Box<[(u8, u32)]>,
}

/// The values of one element of a [`Values`], in order.
#[derive(Clone, Copy)]
pub struct Strs<'a> {
    text: &'a str,
    /// Where the first value starts in `text`.
    start: u32,
    spans: &'a [(u8, u32)],
}

impl<'a> Strs<'a> {
    /// How many values.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The first value.
    pub fn first(&self) -> Option<&'a str> {
        self.iter().next()
    }

    /// Every value, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let text = self.text;
        let mut start = self.start as usize;
        self.spans.iter().map(move |&(_, end)| {
            let value = &text[start..end as usize];
            start = end as usize;
            value
        })
    }

    /// The values, owned.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(String::from).collect()
    }

    /// The values joined by `separator`.
    pub fn join(&self, separator: &str) -> String {
        self.iter().collect::<Vec<_>>().join(separator)
    }
}

impl<'a> IntoIterator for Strs<'a> {
    type Item = &'a str;
    type IntoIter = Box<dyn Iterator<Item = &'a str> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl std::fmt::Debug for Strs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<S: AsRef<str>> PartialEq<[S]> for Strs<'_> {
    fn eq(&self, other: &[S]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for Strs<'_> {
    fn eq(&self, other: &[S; N]) -> bool {
        *self == other[..]
    }
}

impl Values {
    /// The values of `element` (none when it has none).
    pub fn get(&self, element: &str) -> Strs<'_> {
        let Some(index) = element_index(element) else {
            return Strs {
                text: "",
                start: 0,
                spans: &[],
            };
        };
        let from = self
            .spans
            .partition_point(|&(e, _)| element_name(e) < element);
        let to = from + self.spans[from..].partition_point(|&(e, _)| e == index);
        let start = from.checked_sub(1).map_or(0, |before| self.spans[before].1);
        Strs {
            text: &self.text,
            start,
            spans: &self.spans[from..to],
        }
    }

    /// Whether `element` has a value.
    pub fn contains_key(&self, element: &str) -> bool {
        !self.get(element).is_empty()
    }

    /// Every element that has values, by name, with its values.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Strs<'_>)> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            let &(index, _) = self.spans.get(at)?;
            let name = element_name(index);
            let values = self.get(name);
            at += values.len();
            Some((name, values))
        })
    }

    /// Sets the values of `element`, replacing any it had (as a map's insert does). An empty
    /// list removes it; a name outside [`ELEMENTS`] and [`SECTION`] is not kept.
    pub fn insert(&mut self, element: String, values: Vec<String>) {
        let mut all: Vec<(&'static str, Vec<String>)> = self
            .iter()
            .filter(|(name, _)| *name != element)
            .map(|(name, values)| (name, values.to_vec()))
            .collect();
        if let Some(index) = element_index(&element) {
            all.push((element_name(index), values));
        }
        *self = Values::build(all);
    }

    /// Sets the values of `element` unless it has some already.
    pub fn insert_if_absent(&mut self, element: &str, values: Vec<String>) {
        if !self.contains_key(element) {
            self.insert(element.to_string(), values);
        }
    }

    /// Adds one value to `element`, after those it has.
    pub fn push(&mut self, element: &str, value: String) {
        let mut values = self.get(element).to_vec();
        values.push(value);
        self.insert(element.to_string(), values);
    }

    /// The compact form of `(element, values)` pairs, each element once.
    fn build(mut all: Vec<(&'static str, Vec<String>)>) -> Values {
        all.sort_by_key(|(name, _)| *name);
        let mut text = String::new();
        let mut spans = Vec::new();
        for (name, values) in all {
            let index = element_index(name).expect("a known name");
            for value in values {
                text.push_str(&value);
                // A sidecar is bounded far below 4 GiB (see source::read_inside).
                spans.push((index, u32::try_from(text.len()).unwrap_or(u32::MAX)));
            }
        }
        Values {
            text: text.into_boxed_str(),
            spans: spans.into_boxed_slice(),
        }
    }
}

impl FromIterator<(String, Vec<String>)> for Values {
    /// As a map collects: a later element replaces an earlier one of the same name.
    fn from_iter<I: IntoIterator<Item = (String, Vec<String>)>>(pairs: I) -> Values {
        let mut all: Vec<(&'static str, Vec<String>)> = Vec::new();
        for (name, values) in pairs {
            let Some(index) = element_index(&name) else {
                continue;
            };
            let name = element_name(index);
            all.retain(|(other, _)| *other != name);
            all.push((name, values));
        }
        Values::build(all)
    }
}

impl std::fmt::Debug for Values {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Values {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for (name, values) in self.iter() {
            map.serialize_entry(name, &values.iter().collect::<Vec<_>>())?;
        }
        map.end()
    }
}

/// A loaded sidecar.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Sidecar {
    /// Its name, relative to the collection.
    pub file: String,
    /// The columns (or JSON keys) it uses, normalised.
    pub columns: Vec<String>,
    /// The records in file order.
    pub records: Vec<Record>,
}

/// How to read a sidecar.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// CSV field delimiter; detected from the header line when absent.
    pub delimiter: Option<u8>,
    /// Problems listed per code and file, in reading the sidecar and (for `qoima check`) in
    /// applying the rules; the rest are counted in one `BAG-W050` summary (0: list all).
    pub max_problems: usize,
}

/// The sidecar of a collection: `explicit` if given, else `metadata.csv`, else `metadata.json`.
pub fn find_sidecar(root: &Path, explicit: Option<&Path>) -> Result<PathBuf, Problem> {
    if let Some(p) = explicit {
        // An absolute path, or one that exists from the current folder, is taken as given;
        // otherwise it is read from the collection.
        let full = if p.is_absolute() || p.exists() {
            p.to_path_buf()
        } else {
            root.join(p)
        };
        return if full.is_file() {
            Ok(full)
        } else {
            Err(Problem::new(
                Code::SidecarMissing,
                format!("the metadata file {} does not exist", p.display()),
            )
            .file(p.display().to_string()))
        };
    }
    for name in ["metadata.csv", "metadata.json"] {
        let p = root.join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(Problem::new(
        Code::SidecarMissing,
        format!(
            "{} has neither metadata.csv nor metadata.json",
            root.display()
        ),
    )
    .file("metadata.csv"))
}

/// Reads the sidecar of the collection at `root` (CSV unless its name ends in `.json`);
/// `name` is how problems name it. A sidecar in the collection that is a link leading out of
/// it is not read (see [`source::read_inside`]).
pub fn load(root: &Path, path: &Path, name: &str, opts: &LoadOptions) -> (Sidecar, Vec<Problem>) {
    let mut problems = Problems::new(opts.max_problems);
    let bytes = match source::read_inside(root, path, name) {
        Ok(b) => b,
        Err(p) => {
            problems.push(p);
            return (
                Sidecar {
                    file: name.into(),
                    ..Sidecar::default()
                },
                problems.into_vec(),
            );
        }
    };
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let sidecar = if is_json {
        json_sidecar::parse(&bytes, name, &mut problems)
    } else {
        csv_sidecar::parse(&bytes, name, opts.delimiter, &mut problems)
    };
    (sidecar, problems.into_vec())
}

/// The normalised name of a column: trimmed, lower case, a `dc:`/`dc.`/`dcterms:` prefix removed.
fn column_name(raw: &str) -> String {
    let lower = raw.trim().trim_start_matches('\u{feff}').to_lowercase();
    for prefix in ["dcterms:", "dcterms.", "dc:", "dc."] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            return rest.to_string();
        }
    }
    lower
}

/// Cleans one cell: NFC (with a warning when it was not), no control characters other than
/// tab and line breaks (an error), repeated values split on `|` and trimmed.
fn cell_values(
    raw: &str,
    file: &str,
    line: u64,
    column: &str,
    problems: &mut Problems,
) -> Vec<String> {
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    let text: std::borrow::Cow<'_, str> = if is_nfc_quick(raw.chars()) == IsNormalized::Yes {
        raw.into()
    } else {
        let nfc: String = raw.nfc().collect();
        if nfc != raw {
            problems.push(
                Problem::new(Code::NotNfc, format!("the {column} value on line {line} was not in Unicode NFC; it was normalised"))
                    .file(file)
                    .line(line)
                    .field(column),
            );
        }
        nfc.into()
    };
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        problems.push(
            Problem::new(
                Code::ControlCharacter,
                format!(
                    "the {column} value on line {line} holds the control character U+{:04X}",
                    c as u32
                ),
            )
            .file(file)
            .line(line)
            .field(column),
        );
    }
    let split: Vec<String> = if column == "description" {
        // Descriptions are prose; a `|` there is text, not a separator.
        vec![text.trim().to_string()]
    } else {
        text.split(REPEAT).map(|v| v.trim().to_string()).collect()
    };
    split.into_iter().filter(|v| !v.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_normalised() {
        assert_eq!(column_name(" Title "), "title");
        assert_eq!(column_name("dc:Creator"), "creator");
        assert_eq!(column_name("dcterms:spatial"), "spatial");
    }

    #[test]
    fn cells_split_normalise_and_flag_control_characters() {
        let mut p = Problems::unlimited();
        assert_eq!(
            cell_values("a | b||c ", "m.csv", 2, "subject", &mut p),
            ["a", "b", "c"]
        );
        assert_eq!(
            cell_values("x | y", "m.csv", 2, "description", &mut p),
            ["x | y"]
        );
        assert!(p.is_empty());
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd("Й").collect();
        assert_ne!(nfd, "Й");
        let v = cell_values(&nfd, "m.csv", 3, "title", &mut p);
        assert_eq!(v, ["Й"]);
        assert_eq!(p[0].code, Code::NotNfc);
        cell_values("bad\u{7}bell", "m.csv", 4, "title", &mut p);
        assert_eq!(p[1].code, Code::ControlCharacter);
        assert_eq!(p[1].location.line, Some(4));
    }
}
