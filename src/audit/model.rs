//! What an audit records: the shared vocabulary of the register, the auditor and the
//! reports. Plain data; the register stores it, the reports render it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a file fared against the bag's baseline (its first audit) and its own manifests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileClass {
    /// Same path, same content as at the baseline.
    Confirmed,
    /// Same path, other content: bit rot, or an edit (re-bagged or not).
    Changed,
    /// At the baseline, gone now (and not found elsewhere in the bag).
    Missing,
    /// Not at the baseline, present now.
    New,
    /// The baseline's content, now under another path.
    Moved,
}

impl FileClass {
    /// The stable word (`confirmed`, `changed`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            FileClass::Confirmed => "confirmed",
            FileClass::Changed => "changed",
            FileClass::Missing => "missing",
            FileClass::New => "new",
            FileClass::Moved => "moved",
        }
    }

    /// The class named by `text`.
    pub fn parse(text: &str) -> Option<FileClass> {
        Some(match text {
            "confirmed" => FileClass::Confirmed,
            "changed" => FileClass::Changed,
            "missing" => FileClass::Missing,
            "new" => FileClass::New,
            "moved" => FileClass::Moved,
            _ => return None,
        })
    }
}

/// Counts of files by class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassCounts {
    /// Files confirmed.
    pub confirmed: u64,
    /// Files changed.
    pub changed: u64,
    /// Files missing.
    pub missing: u64,
    /// Files new.
    pub new: u64,
    /// Files moved.
    pub moved: u64,
}

impl ClassCounts {
    /// Adds one file of class `class`.
    pub fn add(&mut self, class: FileClass) {
        match class {
            FileClass::Confirmed => self.confirmed += 1,
            FileClass::Changed => self.changed += 1,
            FileClass::Missing => self.missing += 1,
            FileClass::New => self.new += 1,
            FileClass::Moved => self.moved += 1,
        }
    }
}

/// One thing an audit found about one file (every class but `confirmed`), or a problem of
/// the validator's that names no file of the payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Bag-relative path (`data/…`, or a tag file).
    pub path: String,
    /// The class, for payload files; `None` for a problem with a tag file or the bag.
    pub class: Option<FileClass>,
    /// The validator's problem code, when there is one (`BAG-036`).
    pub code: Option<String>,
    /// What was found: for `moved`, the path at the baseline; for `changed`, the digests.
    pub detail: String,
}

/// The outcome of one bag's audit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Valid, and nothing differs from the baseline.
    Passed,
    /// Invalid, incomplete, or different from its baseline.
    Failed,
    /// Could not be read (vanished, not a bag, permissions).
    Unreadable,
}

impl Outcome {
    /// The stable word.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Unreadable => "unreadable",
        }
    }

    /// The outcome named by `text`.
    pub fn parse(text: &str) -> Option<Outcome> {
        Some(match text {
            "passed" => Outcome::Passed,
            "failed" => Outcome::Failed,
            "unreadable" => Outcome::Unreadable,
            _ => return None,
        })
    }
}

/// A bag's baseline: its manifests' and tag manifests' digests (the strongest algorithm the
/// bag has) and sizes, recorded at its first audit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// The algorithm of the digests (`sha512`).
    pub algorithm: String,
    /// Payload files: (path, hex digest, size).
    pub files: Vec<(String, String, u64)>,
    /// Tag files listed in the tag manifest: (path, hex digest).
    pub tags: Vec<(String, String)>,
}

/// One bag's audit, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BagAudit {
    /// The bag, as an absolute path (folder or archive).
    pub bag: String,
    /// When its audit began and ended.
    pub started: DateTime<Utc>,
    /// When it ended.
    pub ended: DateTime<Utc>,
    /// Passed, failed or unreadable.
    pub outcome: Outcome,
    /// The validator's verdict word (`valid`, `invalid`, …).
    pub verdict: String,
    /// Payload files and bytes read.
    pub files: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Files by class.
    pub counts: ClassCounts,
    /// The tag manifests differ from the baseline's: the bag was re-bagged (it may validate
    /// against itself, yet its content is not what was deposited).
    pub manifest_rewritten: bool,
    /// This audit recorded the bag's baseline (its first audit).
    pub baseline_recorded: bool,
    /// Every file not confirmed, and every problem not about a payload file.
    pub findings: Vec<Finding>,
    /// Why the bag could not be read, when it could not.
    pub error: Option<String>,
}

/// One audit run, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Its number in the register.
    pub id: i64,
    /// When it began.
    pub started: DateTime<Utc>,
    /// When it ended (`None`: still running, or killed).
    pub ended: Option<DateTime<Utc>>,
    /// Who ran it (user name).
    pub user: String,
    /// On which host.
    pub host: String,
    /// The qoima version.
    pub qoima_version: String,
    /// Bags audited.
    pub bags: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Bags that failed or could not be read.
    pub failed: u64,
    /// `passed`, `failed`, `interrupted` (killed; found by a later run), `stopped`
    /// (reached --max-bytes or --max-duration), or `running`.
    pub outcome: String,
}

/// One row of a bag's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRow {
    /// The run.
    pub run: i64,
    /// The audit.
    pub audit: BagAudit,
}

/// A period's summary for `qoima audit report`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportData {
    /// The start of the period (`None`: since the register began).
    pub since: Option<DateTime<Utc>>,
    /// When the report was made.
    pub generated: Option<DateTime<Utc>>,
    /// Runs in the period, oldest first.
    pub runs: Vec<RunRecord>,
    /// Bag audits in the period.
    pub audits: u64,
    /// Distinct bags audited.
    pub bags: u64,
    /// Bytes verified.
    pub bytes: u64,
    /// Audits that failed or could not read their bag.
    pub failures: u64,
    /// By day (UTC, `YYYY-MM-DD`): bytes verified, audits, failures.
    pub days: Vec<DayTotals>,
    /// Each bag whose latest audit in the period failed, with that audit.
    pub failing: Vec<BagAudit>,
}

/// One day's totals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotals {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Bytes verified that day.
    pub bytes: u64,
    /// Bag audits that day.
    pub audits: u64,
    /// Of which failed or unreadable.
    pub failures: u64,
}
