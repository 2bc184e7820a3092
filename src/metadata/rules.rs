//! The rules a collection's records must meet, and the cross-checks between records and the
//! files they describe: required elements, unique identifiers, a safe existing `file` for
//! each record and exactly one record for each photo, dates (ISO 8601 / EDTF level 0–1),
//! language tags (BCP 47), DCMI Types, and the photo's own EXIF date and position.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Deserialize;

use super::{Record, Sidecar, edtf, lang};
use crate::error::{Code, Kind, Problem, Severity};
use crate::paths;
use crate::verdict::Problems;

/// The DCMI Type Vocabulary.
pub const DCMI_TYPES: [&str; 12] = [
    "Collection",
    "Dataset",
    "Event",
    "Image",
    "InteractiveResource",
    "MovingImage",
    "PhysicalObject",
    "Service",
    "Software",
    "Sound",
    "StillImage",
    "Text",
];

/// What the records must satisfy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Rules {
    /// Elements every record must have (default: identifier, file, title, date, rights).
    #[serde(default = "default_required")]
    pub required: Vec<String>,
    /// A photo no record describes is a warning rather than an error.
    #[serde(default)]
    pub allow_undescribed: bool,
}

fn default_required() -> Vec<String> {
    ["identifier", "file", "title", "date", "rights"]
        .map(String::from)
        .to_vec()
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            required: default_required(),
            allow_undescribed: false,
        }
    }
}

/// A file of the collection, as the rules need to know it.
#[derive(Debug, Clone, Default)]
pub struct FileFacts {
    /// Path relative to the collection, `/`-separated.
    pub path: String,
    /// Whether it is a photo (by content or by name).
    pub photo: bool,
    /// The local calendar day of its EXIF DateTimeOriginal.
    pub exif_day: Option<NaiveDate>,
    /// Whether its EXIF holds a GPS position.
    pub gps: bool,
}

/// What the rules found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Every problem.
    pub problems: Vec<Problem>,
    /// For each file path, the index of the record describing it (the first, if several).
    pub described_by: HashMap<String, usize>,
}

/// Checks the records of `sidecar` against `rules` and the collection's `files`, listing at
/// most `max_problems` problems of one code in one file (0: all; the rest are counted in a
/// `BAG-W050` summary).
pub fn apply(
    sidecar: &Sidecar,
    files: &[FileFacts],
    rules: &Rules,
    max_problems: usize,
) -> Outcome {
    let mut cx = Context {
        file: sidecar.file.as_str(),
        by_path: files.iter().map(|f| (f.path.as_str(), f)).collect(),
        by_lower: files
            .iter()
            .map(|f| (f.path.to_lowercase(), f.path.as_str()))
            .collect(),
        ids: HashMap::new(),
        found: Problems::new(max_problems),
        described_by: HashMap::new(),
    };
    for (idx, r) in sidecar.records.iter().enumerate() {
        check_values(&mut cx, r, rules);
        check_file(&mut cx, sidecar, idx);
    }
    check_undescribed(&mut cx, files, rules);
    Outcome {
        problems: cx.found.into_vec(),
        described_by: cx.described_by,
    }
}

/// What the rules keep while they go through the records.
struct Context<'a> {
    /// The sidecar's name.
    file: &'a str,
    by_path: HashMap<&'a str, &'a FileFacts>,
    by_lower: HashMap<String, &'a str>,
    /// Each identifier and the line that first used it.
    ids: HashMap<&'a str, u64>,
    found: Problems,
    described_by: HashMap<String, usize>,
}

impl Context<'_> {
    /// Reports a problem of `record` in `field`.
    fn report(&mut self, record: &Record, code: Code, field: &str, message: String) {
        self.found.push(
            Problem::new(code, message)
                .file(self.file)
                .line(record.line)
                .field(field),
        );
    }
}

/// The record's own values: required elements, unique identifiers, dates, languages, types.
fn check_values<'a>(cx: &mut Context<'a>, r: &'a Record, rules: &Rules) {
    for req in rules.required.iter().filter(|_| !r.ragged) {
        if r.all(req).is_empty() {
            let message = format!("line {} has no {req}, which every record needs", r.line);
            cx.report(r, Code::RequiredMissing, req, message);
        }
    }
    for id in r.all("identifier") {
        match cx.ids.get(id) {
            Some(first) => {
                let message = format!(
                    "the identifier {} on line {} is already used on line {first}",
                    paths::quoted(id),
                    r.line
                );
                cx.report(r, Code::DuplicateIdentifier, "identifier", message);
            }
            None => {
                cx.ids.insert(id, r.line);
            }
        }
    }
    for d in r.all("date") {
        if let Some(why) = edtf::invalid_reason(d) {
            let message = format!(
                "line {}: {} is not an ISO 8601 / EDTF date: {why}",
                r.line,
                paths::quoted(d)
            );
            cx.report(r, Code::BadDate, "date", message);
        }
    }
    for l in r.all("language") {
        if let Some(why) = lang::invalid_reason(l) {
            let message = format!("line {}: {why}", r.line);
            cx.report(r, Code::BadLanguage, "language", message);
        }
    }
    for t in r.all("type") {
        let term = t.strip_prefix("http://purl.org/dc/dcmitype/").unwrap_or(t);
        if !DCMI_TYPES.contains(&term) {
            let message = format!(
                "line {}: {} is not a DCMI Type term (e.g. StillImage, Image, Text)",
                r.line,
                paths::quoted(t)
            );
            cx.report(r, Code::BadType, "type", message);
        }
    }
}

/// The file record `idx` describes: one, safe, present, described once, and agreeing with
/// the photo's EXIF date and position.
fn check_file(cx: &mut Context<'_>, sidecar: &Sidecar, idx: usize) {
    let r = &sidecar.records[idx];
    let files_of_record = r.all("file");
    if files_of_record.len() > 1 {
        let message = format!(
            "line {} names {} files; a record describes one",
            r.line,
            files_of_record.len()
        );
        cx.report(r, Code::DescribedTwice, "file", message);
    }
    let Some(path) = files_of_record.first() else {
        return;
    };
    if let Some(why) = paths::unsafe_reason(path)
        .or_else(|| path.contains('\\').then_some("the path uses `\\`; use `/`"))
    {
        let message = format!("line {}: {}: {why}", r.line, paths::excerpt(path));
        cx.report(r, Code::UnsafeFilePath, "file", message);
        return;
    }
    let Some(&facts) = cx.by_path.get(path) else {
        let near = cx
            .by_lower
            .get(&path.to_lowercase())
            .map(|n| format!(" (there is {})", paths::printable(n)))
            .unwrap_or_default();
        let message = format!(
            "line {}: {} is not in the collection{near}",
            r.line,
            paths::excerpt(path)
        );
        cx.report(r, Code::DescribedFileMissing, "file", message);
        return;
    };
    if let Some(&first) = cx.described_by.get(path) {
        let message = format!(
            "{} is described on line {} and again on line {}",
            paths::excerpt(path),
            sidecar.records[first].line,
            r.line
        );
        cx.report(r, Code::DescribedTwice, "file", message);
        return;
    }
    cx.described_by.insert(path.to_string(), idx);
    if let Some(day) = facts.exif_day {
        let range = r.all("date").iter().find_map(edtf::day_range);
        if let Some((start, end)) = range {
            let before = (start - day).num_days();
            let after = (day - end).num_days();
            if before > 1 || after > 1 {
                let message = format!(
                    "line {}: the photo's EXIF date is {day}, the record says {}",
                    r.line,
                    paths::excerpt(&r.all("date").join(" | "))
                );
                cx.report(r, Code::ExifDateDisagrees, "date", message);
            }
        }
    }
    if facts.gps && r.all("coverage").is_empty() {
        let message = format!(
            "line {}: the photo has a GPS position but the record has no coverage",
            r.line
        );
        cx.report(r, Code::GpsWithoutCoverage, "coverage", message);
    }
}

/// Every file no record describes: an undescribed photo, or a file that is neither.
fn check_undescribed(cx: &mut Context<'_>, files: &[FileFacts], rules: &Rules) {
    let file = cx.file;
    for f in files {
        if cx.described_by.contains_key(&f.path) {
            continue;
        }
        if f.photo {
            let mut problem = Problem::new(
                Code::Undescribed,
                format!(
                    "the photo {} is not described in {file}",
                    paths::printable(&f.path)
                ),
            )
            .file(f.path.as_str());
            if rules.allow_undescribed {
                problem.severity = Severity::Warning;
                problem.kind = Kind::Warning;
            }
            cx.found.push(problem);
        } else {
            cx.found.push(
                Problem::new(
                    Code::NotAPhoto,
                    format!(
                        "{} is neither a photo nor described in {file}",
                        paths::printable(&f.path)
                    ),
                )
                .file(f.path.as_str()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(line: u64, pairs: &[(&str, &str)]) -> Record {
        let mut r = Record {
            line,
            ..Record::default()
        };
        for (k, v) in pairs {
            r.values.push(k, v.to_string());
        }
        r
    }

    fn facts(path: &str) -> FileFacts {
        FileFacts {
            path: path.into(),
            photo: true,
            ..FileFacts::default()
        }
    }

    fn codes(o: &Outcome) -> Vec<(Code, Option<u64>)> {
        o.problems
            .iter()
            .map(|p| (p.code, p.location.line))
            .collect()
    }

    const GOOD: [(&str, &str); 6] = [
        ("identifier", "q-1"),
        ("file", "a.jpg"),
        ("title", "T"),
        ("date", "2022-01-04"),
        ("rights", "CC BY 4.0"),
        ("type", "StillImage"),
    ];

    #[test]
    fn a_good_record_passes() {
        let s = Sidecar {
            file: "metadata.csv".into(),
            records: vec![rec(2, &GOOD)],
            ..Sidecar::default()
        };
        let o = apply(&s, &[facts("a.jpg")], &Rules::default(), 0);
        assert!(o.problems.is_empty(), "{:?}", o.problems);
        assert_eq!(o.described_by["a.jpg"], 0);
    }

    #[test]
    fn each_rule_names_its_line() {
        let s = Sidecar {
            file: "metadata.csv".into(),
            records: vec![
                rec(2, &GOOD),
                rec(
                    3,
                    &[
                        ("identifier", "q-1"),
                        ("file", "../etc/passwd"),
                        ("title", "x"),
                        ("date", "04.01.2022"),
                        ("rights", "r"),
                        ("language", "russian"),
                        ("type", "Photo"),
                    ],
                ),
                rec(
                    4,
                    &[
                        ("identifier", "q-3"),
                        ("file", "A.JPG"),
                        ("title", "x"),
                        ("date", "2022"),
                        ("rights", "r"),
                    ],
                ),
                rec(
                    5,
                    &[
                        ("identifier", "q-4"),
                        ("file", "a.jpg"),
                        ("title", "x"),
                        ("date", "2022"),
                        ("rights", "r"),
                    ],
                ),
                rec(6, &[("identifier", "q-5"), ("file", "b.jpg")]),
            ],
            ..Sidecar::default()
        };
        let o = apply(
            &s,
            &[facts("a.jpg"), facts("b.jpg"), facts("c.jpg")],
            &Rules::default(),
            0,
        );
        let c = codes(&o);
        for want in [
            (Code::DuplicateIdentifier, Some(3)),
            (Code::UnsafeFilePath, Some(3)),
            (Code::BadDate, Some(3)),
            (Code::BadLanguage, Some(3)),
            (Code::BadType, Some(3)),
            (Code::DescribedFileMissing, Some(4)),
            (Code::DescribedTwice, Some(5)),
            (Code::RequiredMissing, Some(6)),
            (Code::Undescribed, None),
        ] {
            assert!(c.contains(&want), "missing {want:?} in {c:?}");
        }
        assert!(
            o.problems
                .iter()
                .any(|p| p.code == Code::DescribedFileMissing
                    && p.message.contains("there is a.jpg"))
        );
        let o = apply(
            &s,
            &[facts("a.jpg"), facts("b.jpg"), facts("c.jpg")],
            &Rules {
                allow_undescribed: true,
                ..Rules::default()
            },
            0,
        );
        let orphan = o
            .problems
            .iter()
            .find(|p| p.code == Code::Undescribed)
            .unwrap();
        assert_eq!(orphan.severity, Severity::Warning);
    }

    #[test]
    fn exif_cross_checks() {
        let s = Sidecar {
            file: "m.csv".into(),
            records: vec![rec(2, &GOOD)],
            ..Sidecar::default()
        };
        let mut f = facts("a.jpg");
        f.exif_day = NaiveDate::from_ymd_opt(2022, 1, 5);
        f.gps = true;
        let o = apply(&s, &[f.clone()], &Rules::default(), 0);
        assert_eq!(
            codes(&o),
            vec![(Code::GpsWithoutCoverage, Some(2))],
            "one day off is tolerated"
        );
        f.exif_day = NaiveDate::from_ymd_opt(2022, 1, 7);
        let o = apply(&s, &[f], &Rules::default(), 0);
        assert!(codes(&o).contains(&(Code::ExifDateDisagrees, Some(2))));
    }
}
