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
fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// Pretty-printed, nulls dropped, with a final newline.
fn json<T: Serialize>(value: &T) -> String {
    let mut v = serde_json::to_value(value).expect("the model serializes");
    drop_nulls(&mut v);
    let mut out = serde_json::to_string_pretty(&v).expect("a Value serializes");
    out.push('\n');
    out
}

pub(super) fn history_json(bag: &str, rows: &[HistoryRow]) -> String {
    json(&History {
        bag,
        audits: rows
            .iter()
            .map(|r| AuditEntry {
                run: r.run,
                audit: &r.audit,
            })
            .collect(),
    })
}

pub(super) fn report_json(data: &ReportData) -> String {
    json(data)
}

fn csv(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)
        .expect("writing to a Vec cannot fail");
    for row in rows {
        w.write_record(&row).expect("writing to a Vec cannot fail");
    }
    let bytes = w.into_inner().expect("flushing a Vec cannot fail");
    String::from_utf8(bytes).expect("every field is UTF-8")
}

pub(super) fn history_csv(rows: &[HistoryRow]) -> String {
    csv(
        &HISTORY_COLUMNS,
        rows.iter().map(|r| {
            let a = &r.audit;
            vec![
                r.run.to_string(),
                a.bag.clone(),
                timestamp(&a.started),
                timestamp(&a.ended),
                a.outcome.as_str().into(),
                a.verdict.clone(),
                a.files.to_string(),
                a.bytes.to_string(),
                a.counts.confirmed.to_string(),
                a.counts.changed.to_string(),
                a.counts.missing.to_string(),
                a.counts.new.to_string(),
                a.counts.moved.to_string(),
                a.manifest_rewritten.to_string(),
                a.baseline_recorded.to_string(),
                a.findings.len().to_string(),
                a.error.clone().unwrap_or_default(),
            ]
        }),
    )
}

pub(super) fn report_csv(data: &ReportData) -> String {
    csv(
        &REPORT_COLUMNS,
        data.days.iter().map(|d| {
            vec![
                d.day.clone(),
                d.audits.to_string(),
                d.bytes.to_string(),
                d.failures.to_string(),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let header = r.headers().unwrap().iter().map(String::from).collect();
        let rows = r
            .records()
            .map(|rec| rec.unwrap().iter().map(String::from).collect())
            .collect();
        (header, rows)
    }

    #[test]
    fn history_json_has_the_documented_keys() {
        let rows = fixtures::rows();
        let v: Value = serde_json::from_str(&history_json(fixtures::BAG, &rows)).unwrap();
        assert_eq!(v["bag"], fixtures::BAG, "the real name, bell and all");
        let audits = v["audits"].as_array().unwrap();
        assert_eq!(audits.len(), 3);
        for (a, row) in audits.iter().zip(&rows) {
            let keys: Vec<&str> = a.as_object().unwrap().keys().map(String::as_str).collect();
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
            assert_eq!(a["run"], row.run);
            assert_eq!(a["outcome"], row.audit.outcome.as_str());
            assert_eq!(a["bytes"], row.audit.bytes);
            assert_eq!(a["counts"]["confirmed"], row.audit.counts.confirmed);
            assert_eq!(
                a.get("error").is_some(),
                row.audit.error.is_some(),
                "no null"
            );
        }
        assert_eq!(audits[0]["started"], "2025-01-01T03:00:00Z");
        assert_eq!(audits[1]["manifest_rewritten"], true);
        let f = &audits[1]["findings"];
        assert_eq!(f[0]["path"], fixtures::FILE);
        assert_eq!(f[0]["class"], "changed");
        assert_eq!(f[0]["code"], "BAG-036");
        assert!(f[1].get("code").is_none() && f[2].get("class").is_none());
        assert_eq!(audits[2]["error"], "permission denied: <root> & \u{0}");
        let empty: Value = serde_json::from_str(&history_json("b", &[])).unwrap();
        assert_eq!(empty["audits"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn report_json_has_the_documented_keys() {
        let data = fixtures::report();
        let v: Value = serde_json::from_str(&report_json(&data)).unwrap();
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
            assert!(v.get(key).is_some(), "{key}");
        }
        assert_eq!(v["audits"], 10);
        assert_eq!(v["bytes"], 7_500_000_000u64);
        assert_eq!(v["days"][1]["failures"], 1);
        assert_eq!(v["failing"][0]["bag"], fixtures::BAG);
        assert_eq!(v["runs"][0]["ended"], "2025-01-01T05:00:00Z");
        assert!(v["runs"][2].get("ended").is_none(), "an interrupted run");
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
        assert!(records.iter().all(|r| r.len() == REPORT_COLUMNS.len()));
        assert_eq!(records[1], ["2025-01-08", "4", "3500000000", "1"]);
    }
}
