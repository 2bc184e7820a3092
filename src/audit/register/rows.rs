//! Rows to model types and back: the column lists the queries share, times as
//! microseconds, counts as SQLite's signed integers.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row};

use crate::audit::model::{BagAudit, ClassCounts, FileClass, Finding, Outcome, RunRecord};

/// The columns `audit_from_row` reads, from `audits a JOIN bags b`.
pub(super) const AUDIT_COLUMNS: &str =
    "a.id, a.run_id, b.path, a.started, a.ended, a.outcome, a.verdict,
    a.files, a.bytes, a.confirmed, a.changed, a.missing, a.new, a.moved,
    a.manifest_rewritten, a.baseline_recorded, a.error";

/// (audit id, run, the audit without its findings).
pub(super) fn audit_from_row(row: &Row<'_>) -> rusqlite::Result<(i64, i64, BagAudit)> {
    let outcome: String = row.get(5)?;
    let outcome = Outcome::parse(&outcome).ok_or_else(|| bad_word(5, &outcome))?;
    let audit = BagAudit {
        bag: row.get(2)?,
        started: from_micros(row.get(3)?),
        ended: from_micros(row.get(4)?),
        outcome,
        verdict: row.get(6)?,
        files: uint(row.get(7)?),
        bytes: uint(row.get(8)?),
        counts: ClassCounts {
            confirmed: uint(row.get(9)?),
            changed: uint(row.get(10)?),
            missing: uint(row.get(11)?),
            new: uint(row.get(12)?),
            moved: uint(row.get(13)?),
        },
        manifest_rewritten: row.get(14)?,
        baseline_recorded: row.get(15)?,
        findings: Vec::new(),
        error: row.get(16)?,
    };
    Ok((row.get(0)?, row.get(1)?, audit))
}

/// The findings of the audits `a` matching `filter`, by audit id, in recorded order.
pub(super) fn findings_where(
    conn: &Connection,
    filter: &str,
    p: impl rusqlite::Params,
) -> rusqlite::Result<HashMap<i64, Vec<Finding>>> {
    let sql = format!(
        "SELECT f.audit_id, f.path, f.class, f.code, f.detail
         FROM audits a JOIN findings f ON f.audit_id = a.id
         WHERE {filter} ORDER BY f.audit_id, f.seq"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(p)?;
    let mut out: HashMap<i64, Vec<Finding>> = HashMap::new();
    while let Some(r) = rows.next()? {
        let class = match r.get::<_, Option<String>>(2)? {
            Some(w) => Some(FileClass::parse(&w).ok_or_else(|| bad_word(2, &w))?),
            None => None,
        };
        out.entry(r.get(0)?).or_default().push(Finding {
            path: r.get(1)?,
            class,
            code: r.get(3)?,
            detail: r.get(4)?,
        });
    }
    Ok(out)
}

pub(super) const RUN_COLUMNS: &str =
    "id, started, ended, user, host, qoima_version, bags, bytes, failed, outcome";

pub(super) fn run_from_row(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: row.get(0)?,
        started: from_micros(row.get(1)?),
        ended: row.get::<_, Option<i64>>(2)?.map(from_micros),
        user: row.get(3)?,
        host: row.get(4)?,
        qoima_version: row.get(5)?,
        bags: uint(row.get(6)?),
        bytes: uint(row.get(7)?),
        failed: uint(row.get(8)?),
        outcome: row.get(9)?,
    })
}

pub(super) fn bad_word(col: usize, word: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        col,
        rusqlite::types::Type::Text,
        format!("unknown word `{word}` in the register").into(),
    )
}

/// Times are stored as microseconds since the epoch (UTC): finer than any audit needs, and
/// good for ±292,000 years.
pub(super) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(super) fn from_micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// SQLite integers are signed; counts and sizes saturate at `i64::MAX`.
pub(super) fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn uint(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
