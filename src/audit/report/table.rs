//! The renderings for tools: JSON documents and CSV tables. Both keep names exactly as
//! recorded (their own quoting makes any name safe); the JSON follows docs/json.md's rule that
//! an absent value is left out, never `null`.

use serde::Serialize;
use serde_json::Value;

use crate::audit::model::{BagAudit, HistoryRow, ReportData};

use super::timestamp;

/// The columns of `qoima audit history --format csv`.
pub(super) const HISTORY_COLUMNS: [&str; 17] = [
    "run",
    "bag",
    "started",
    "ended",
    "outcome",
    "verdict",
    "files",
    "bytes",
    "confirmed",
    "changed",
    "missing",
    "new",
    "moved",
    "manifest_rewritten",
    "baseline_recorded",
    "findings",
    "error",
];

/// The columns of `qoima audit report --format csv`.
pub(super) const REPORT_COLUMNS: [&str; 4] = ["day", "audits", "bytes", "failures"];

/// One element of the history's `audits`: the run, then the audit's own fields.
#[derive(Serialize)]
struct AuditEntry<'a> {
    run: i64,
    #[serde(flatten)]
    audit: &'a BagAudit,
}

#[derive(Serialize)]
struct History<'a> {
    bag: &'a str,
    audits: Vec<AuditEntry<'a>>,
}

/// Removes every `null` member of every object, at any depth.
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, value| !value.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// Pretty-printed, nulls dropped, with a final newline.
fn json<T: Serialize>(value: &T) -> String {
    let mut tree = serde_json::to_value(value).expect("the model serializes");
    drop_nulls(&mut tree);
    let mut out = serde_json::to_string_pretty(&tree).expect("a Value serializes");
    out.push('\n');
    out
}

pub(super) fn history_json(bag: &str, rows: &[HistoryRow]) -> String {
    json(&History {
        bag,
        audits: rows
            .iter()
            .map(|row| AuditEntry {
                run: row.run,
                audit: &row.audit,
            })
            .collect(),
    })
}

pub(super) fn report_json(data: &ReportData) -> String {
    json(data)
}

fn csv(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(header)
        .expect("writing to a Vec cannot fail");
    for row in rows {
        writer
            .write_record(&row)
            .expect("writing to a Vec cannot fail");
    }
    let bytes = writer.into_inner().expect("flushing a Vec cannot fail");
    String::from_utf8(bytes).expect("every field is UTF-8")
}

pub(super) fn history_csv(rows: &[HistoryRow]) -> String {
    csv(
        &HISTORY_COLUMNS,
        rows.iter().map(|row| {
            let audit = &row.audit;
            vec![
                row.run.to_string(),
                audit.bag.clone(),
                timestamp(&audit.started),
                timestamp(&audit.ended),
                audit.outcome.as_str().into(),
                audit.verdict.clone(),
                audit.files.to_string(),
                audit.bytes.to_string(),
                audit.counts.confirmed.to_string(),
                audit.counts.changed.to_string(),
                audit.counts.missing.to_string(),
                audit.counts.new.to_string(),
                audit.counts.moved.to_string(),
                audit.manifest_rewritten.to_string(),
                audit.baseline_recorded.to_string(),
                audit.findings.len().to_string(),
                audit.error.clone().unwrap_or_default(),
            ]
        }),
    )
}

pub(super) fn report_csv(data: &ReportData) -> String {
    csv(
        &REPORT_COLUMNS,
        data.days.iter().map(|day| {
            vec![
                day.day.clone(),
                day.audits.to_string(),
                day.bytes.to_string(),
                day.failures.to_string(),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().unwrap().iter().map(String::from).collect();
        let rows = reader
            .records()
            .map(|rec| rec.unwrap().iter().map(String::from).collect())
            .collect();
        (header, rows)
    }

    #[test]
    fn history_json_has_the_documented_keys() {
        let rows = fixtures::rows();
        let value: Value = serde_json::from_str(&history_json(fixtures::BAG, &rows)).unwrap();
        assert_eq!(value["bag"], fixtures::BAG, "the real name, bell and all");
        let audits = value["audits"].as_array().unwrap();
        assert_eq!(audits.len(), 3);
        for (audit, row) in audits.iter().zip(&rows) {
            let keys: Vec<&str> = audit
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            for key in [
                "run",
                "bag",
                "started",
                "ended",
                "outcome",
                "verdict",
                "files",
                "bytes",
                "counts",
                "manifest_rewritten",
                "baseline_recorded",
                "findings",
            ] {
                assert!(keys.contains(&key), "{key} in {keys:?}");
            }
            assert_eq!(audit["run"], row.run);
            assert_eq!(audit["outcome"], row.audit.outcome.as_str());
            assert_eq!(audit["bytes"], row.audit.bytes);
            assert_eq!(audit["counts"]["confirmed"], row.audit.counts.confirmed);
            assert_eq!(
                audit.get("error").is_some(),
                row.audit.error.is_some(),
                "no null"
            );
        }
        assert_eq!(audits[0]["started"], "2025-01-01T03:00:00Z");
        assert_eq!(audits[1]["manifest_rewritten"], true);
        let findings = &audits[1]["findings"];
        assert_eq!(findings[0]["path"], fixtures::FILE);
        assert_eq!(findings[0]["class"], "changed");
        assert_eq!(findings[0]["code"], "BAG-036");
        assert!(findings[1].get("code").is_none() && findings[2].get("class").is_none());
        assert_eq!(audits[2]["error"], "permission denied: <root> & \u{0}");
        let empty: Value = serde_json::from_str(&history_json("b", &[])).unwrap();
        assert_eq!(empty["audits"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn report_json_has_the_documented_keys() {
        let data = fixtures::report();
        let value: Value = serde_json::from_str(&report_json(&data)).unwrap();
        for key in [
            "since",
            "generated",
            "runs",
            "audits",
            "bags",
            "bytes",
            "failures",
            "days",
            "failing",
        ] {
            assert!(value.get(key).is_some(), "{key}");
        }
        assert_eq!(value["audits"], 10);
        assert_eq!(value["bytes"], 7_500_000_000u64);
        assert_eq!(value["days"][1]["failures"], 1);
        assert_eq!(value["failing"][0]["bag"], fixtures::BAG);
        assert_eq!(value["runs"][0]["ended"], "2025-01-01T05:00:00Z");
        assert!(
            value["runs"][2].get("ended").is_none(),
            "an interrupted run"
        );
        let empty: Value = serde_json::from_str(&report_json(&ReportData::default())).unwrap();
        assert!(empty.get("since").is_none() && empty.get("generated").is_none());
        assert_eq!(empty["audits"], 0);
    }

    #[test]
    fn history_csv_parses_back() {
        let rows = fixtures::rows();
        let (header, records) = parse_csv(&history_csv(&rows));
        assert_eq!(header, HISTORY_COLUMNS);
        assert_eq!(records.len(), rows.len());
        for (rec, row) in records.iter().zip(&rows) {
            assert_eq!(rec.len(), HISTORY_COLUMNS.len());
            assert_eq!(rec[0], row.run.to_string());
            assert_eq!(rec[1], fixtures::BAG);
            assert_eq!(rec[7], row.audit.bytes.to_string());
        }
        assert_eq!(records[1][4], "failed");
        assert_eq!(records[1][9], "1", "changed");
        assert_eq!(records[1][13], "true", "manifest re-written");
        assert_eq!(records[1][15], "3", "findings");
        assert_eq!(records[2][16], "permission denied: <root> & \u{0}");
        assert_eq!(parse_csv(&history_csv(&[])).1.len(), 0);
    }

    #[test]
    fn report_csv_has_a_row_per_day() {
        let data = fixtures::report();
        let (header, records) = parse_csv(&report_csv(&data));
        assert_eq!(header, REPORT_COLUMNS);
        assert_eq!(records.len(), data.days.len());
        assert!(
            records
                .iter()
                .all(|reader| reader.len() == REPORT_COLUMNS.len())
        );
        assert_eq!(records[1], ["2025-01-08", "4", "3500000000", "1"]);
    }
}
