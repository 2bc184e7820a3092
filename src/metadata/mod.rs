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

use std::collections::BTreeMap;
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
    pub values: BTreeMap<String, Vec<String>>,
    /// The row had more or fewer fields than the header, so its values may sit in the wrong
    /// columns: rules that would only repeat that finding (a "missing" element) are skipped.
    #[serde(skip)]
    pub ragged: bool,
}

impl Record {
    /// Every value of an element.
    pub fn all(&self, element: &str) -> &[String] {
        self.values.get(element).map_or(&[], |v| v.as_slice())
    }

    /// The first value of an element.
    pub fn first(&self, element: &str) -> Option<&str> {
        self.all(element).first().map(String::as_str)
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
