//! The renderings of the register: a bag's history (`qoima audit history`), a period's report
//! (`qoima audit report`) and a bag's fixity checks as PREMIS events (`qoima audit
//! export-premis`). Every format is documented in docs/audit-reports.md.
//!
//! Renderers are pure functions of the model's data: no clock, no file system, so the same
//! data always gives the same bytes (a report's date is the one in [`ReportData::generated`]).
//! Names found in bags are hostile until proven otherwise: text escapes control and bidi
//! characters for the terminal, HTML and XML escape their markup and never let a control
//! character through, JSON and CSV keep the real name (their own quoting makes it safe).

mod html;
mod premis;
mod table;
mod text;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::model::{HistoryRow, ReportData};

pub use premis::export_premis;

/// An output format of `qoima audit history` and `qoima audit report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Lines for people.
    Text,
    /// One pretty-printed JSON document.
    Json,
    /// Comma-separated values with a header row (RFC 4180).
    Csv,
    /// One self-contained HTML page (no script, nothing fetched).
    Html,
}

impl Format {
    /// Every format, in the order the help lists them.
    pub const ALL: [Format; 4] = [Format::Text, Format::Json, Format::Csv, Format::Html];

    /// The stable word (`text`, `json`, `csv`, `html`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Html => "html",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, format: &mut fmt::Formatter<'_>) -> fmt::Result {
        format.write_str(self.as_str())
    }
}

/// A format name that is none of `text`, `json`, `csv`, `html`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown format `{0}` (expected text, json, csv or html)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(name: &str) -> Result<Format, UnknownFormat> {
        Format::ALL
            .into_iter()
            .find(|format| format.as_str() == name)
            .ok_or_else(|| UnknownFormat(name.to_string()))
    }
}

/// A bag's history (`rows` oldest first, as the register gives them) in `format`: text (one
/// line per audit, the findings of audits that did not pass indented under it), JSON
/// (`{"bag", "audits": [...]}`), CSV (one row per audit) or a simple HTML page.
pub fn history(bag: &str, rows: &[HistoryRow], format: Format) -> String {
    match format {
        Format::Text => text::history(bag, rows),
        Format::Json => table::history_json(bag, rows),
        Format::Csv => table::history_csv(rows),
        Format::Html => html::history(bag, rows),
    }
}

/// The period report in `format`: text (totals, failing bags with their findings, runs,
/// days), JSON (the report's fields), CSV (one row per day) or one self-contained HTML page
/// (totals, a chart of bytes verified and failures per day, failing bags, runs).
pub fn report(data: &ReportData, format: Format) -> String {
    match format {
        Format::Text => text::report(data),
        Format::Json => table::report_json(data),
        Format::Csv => table::report_csv(data),
        Format::Html => html::report(data),
    }
}

/// A moment as every rendering writes it: `2025-01-15T09:59:58Z` (UTC, whole seconds), which
/// is also a valid `xs:dateTime`.
fn timestamp(moment: &DateTime<Utc>) -> String {
    moment.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Hand-built register data full of hostile names, shared by the renderers' tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use chrono::{DateTime, TimeZone, Utc};

    use crate::audit::model::{
        BagAudit, ClassCounts, DayTotals, FileClass, Finding, HistoryRow, Outcome, ReportData,
        RunRecord,
    };

    /// A bag path with markup, an ampersand, both quotes, Cyrillic, a bell and a bidi override.
    pub(crate) const BAG: &str =
        "/archive/<script>alert(1)</script> & \"Қойма\" 'архив' \u{7}bell\u{202e}gpj.exe";
    /// A payload path as hostile.
    pub(crate) const FILE: &str = "data/фото <1> & \"2\"\u{1b}[31m.jpg";

    pub(crate) fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, day, hour, 0, 0).unwrap()
    }

    fn audit(day: u32, outcome: Outcome, verdict: &str, findings: Vec<Finding>) -> BagAudit {
        let mut counts = ClassCounts {
            confirmed: 10,
            ..ClassCounts::default()
        };
        for format in &findings {
            if let Some(class) = format.class {
                counts.add(class);
            }
        }
        BagAudit {
            bag: BAG.into(),
            started: at(day, 3),
            ended: at(day, 4),
            outcome,
            verdict: verdict.into(),
            files: 12,
            bytes: 1_234_567_890,
            counts,
            manifest_rewritten: false,
            baseline_recorded: day == 1,
            findings,
            error: None,
        }
    }

    pub(crate) fn findings() -> Vec<Finding> {
        vec![
            Finding {
                path: FILE.into(),
                class: Some(FileClass::Changed),
                code: Some("BAG-036".into()),
                detail: "sha512 was <aa…> & is \"bb…\"".into(),
            },
            Finding {
                path: "data/moved/здесь.tif".into(),
                class: Some(FileClass::Moved),
                code: None,
                detail: "data/там.tif".into(),
            },
            Finding {
                path: "tagmanifest-sha512.txt".into(),
                class: None,
                code: Some("BAG-040".into()),
                detail: "a tag file changed".into(),
            },
        ]
    }

    /// Three audits of [`BAG`]: the baseline (passed), a failure with findings and a
    /// re-written manifest, and an unreadable one.
    pub(crate) fn rows() -> Vec<HistoryRow> {
        let mut failed = audit(8, Outcome::Failed, "invalid", findings());
        failed.manifest_rewritten = true;
        let mut unreadable = audit(15, Outcome::Unreadable, "unreadable", Vec::new());
        unreadable.files = 0;
        unreadable.bytes = 0;
        unreadable.counts = ClassCounts::default();
        unreadable.error = Some("permission denied: <root> & \u{0}".into());
        vec![
            HistoryRow {
                run: 1,
                audit: audit(1, Outcome::Passed, "valid", Vec::new()),
            },
            HistoryRow {
                run: 2,
                audit: failed,
            },
            HistoryRow {
                run: 3,
                audit: unreadable,
            },
        ]
    }

    /// A month with three runs over three days, one failing bag.
    pub(crate) fn report() -> ReportData {
        let run = |id: i64, day: u32, bags: u64, bytes: u64, failed: u64| RunRecord {
            id,
            started: at(day, 3),
            ended: (id != 3).then(|| at(day, 5)),
            user: "архивист <&>".into(),
            host: "store-1".into(),
            qoima_version: "0.1.0".into(),
            bags,
            bytes,
            failed,
            outcome: if id == 3 {
                "interrupted"
            } else if failed > 0 {
                "failed"
            } else {
                "passed"
            }
            .into(),
        };
        let mut failing = rows().remove(1).audit;
        failing.bag = BAG.into();
        ReportData {
            since: Some(at(1, 0)),
            generated: Some(at(31, 12)),
            runs: vec![
                run(1, 1, 4, 4_000_000_000, 0),
                run(2, 8, 4, 3_500_000_000, 1),
                run(3, 15, 2, 0, 2),
            ],
            audits: 10,
            bags: 4,
            bytes: 7_500_000_000,
            failures: 3,
            days: vec![
                DayTotals {
                    day: "2025-01-01".into(),
                    bytes: 4_000_000_000,
                    audits: 4,
                    failures: 0,
                },
                DayTotals {
                    day: "2025-01-08".into(),
                    bytes: 3_500_000_000,
                    audits: 4,
                    failures: 1,
                },
                DayTotals {
                    day: "2025-01-15".into(),
                    bytes: 0,
                    audits: 2,
                    failures: 2,
                },
            ],
            failing: vec![failing],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_by_their_word() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
            assert_eq!(format.to_string(), format.as_str());
        }
        let err = "xml".parse::<Format>().unwrap_err();
        assert_eq!(err, UnknownFormat("xml".into()));
        assert!(err.to_string().contains("text, json, csv or html"));
        assert!("JSON".parse::<Format>().is_err(), "words are lower-case");
    }

    #[test]
    fn timestamps_are_utc_whole_seconds() {
        assert_eq!(timestamp(&fixtures::at(15, 9)), "2025-01-15T09:00:00Z");
    }

    #[test]
    fn every_format_is_deterministic() {
        let rows = fixtures::rows();
        let data = fixtures::report();
        for format in Format::ALL {
            assert_eq!(
                history(fixtures::BAG, &rows, format),
                history(fixtures::BAG, &rows, format)
            );
            assert_eq!(report(&data, format), report(&data, format));
            assert!(!report(&ReportData::default(), format).is_empty());
            assert!(!history(fixtures::BAG, &[], format).is_empty());
        }
    }
}
