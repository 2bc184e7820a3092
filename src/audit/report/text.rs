//! The text renderings, for people at a terminal: one line per audit, run or day, the
//! findings indented under what they belong to. Every name goes through
//! [`printable`](crate::paths::printable), so a path holding ESC or U+202E cannot repaint the
//! screen.

use std::fmt::Write;

use crate::audit::model::{BagAudit, ClassCounts, Finding, HistoryRow, Outcome, ReportData};
use crate::paths::printable;
use crate::verdict::human_bytes;

use super::timestamp;

/// `confirmed 10, changed 1, missing 0, new 0, moved 1`.
pub(super) fn counts(tally: &ClassCounts) -> String {
    format!(
        "confirmed {}, changed {}, missing {}, new {}, moved {}",
        tally.confirmed, tally.changed, tally.missing, tally.new, tally.moved
    )
}

/// One finding on one line: class (or `-`), code (or `-`), path, detail.
fn finding(out: &mut String, indent: &str, entry: &Finding) {
    let class = entry.class.map_or("-", |class_of| class_of.as_str());
    let code = entry.code.as_deref().unwrap_or("-");
    let _ = write!(
        out,
        "{indent}{class:<9} {code:<9} {}",
        printable(&entry.path)
    );
    if !entry.detail.is_empty() {
        let _ = write!(out, ": {}", printable(&entry.detail));
    }
    out.push('\n');
}

/// The audit's line (without the bag), then its error and findings when it did not pass.
fn audit(out: &mut String, run: Option<i64>, bag_audit: &BagAudit) {
    let _ = write!(
        out,
        "{}  {:<10} {:<10} {} files, {}  {}",
        timestamp(&bag_audit.started),
        bag_audit.outcome.as_str(),
        printable(&bag_audit.verdict),
        bag_audit.files,
        human_bytes(bag_audit.bytes),
        counts(&bag_audit.counts)
    );
    if bag_audit.manifest_rewritten {
        out.push_str("  manifest re-written");
    }
    if bag_audit.baseline_recorded {
        out.push_str("  baseline recorded");
    }
    if let Some(run) = run {
        let _ = write!(out, "  (run {run})");
    }
    out.push('\n');
    if bag_audit.outcome != Outcome::Passed {
        if let Some(error) = &bag_audit.error {
            let _ = writeln!(out, "    error: {}", printable(error));
        }
        for entry in &bag_audit.findings {
            finding(out, "    ", entry);
        }
    }
}

pub(super) fn history(bag: &str, rows: &[HistoryRow]) -> String {
    let mut out = format!("History of {}\n", printable(bag));
    if rows.is_empty() {
        out.push_str("  never audited\n");
        return out;
    }
    let failed = rows
        .iter()
        .filter(|row| row.audit.outcome != Outcome::Passed)
        .count();
    let _ = writeln!(
        out,
        "  {} audits, {} passed, {} failed or unreadable",
        rows.len(),
        rows.len() - failed,
        failed
    );
    for row in rows {
        out.push_str("  ");
        audit(&mut out, Some(row.run), &row.audit);
    }
    out
}

pub(super) fn report(data: &ReportData) -> String {
    let mut out = String::from("Fixity audit report, ");
    match &data.since {
        Some(time) => {
            let _ = write!(out, "since {}", timestamp(time));
        }
        None => out.push_str("since the register began"),
    }
    if let Some(time) = &data.generated {
        let _ = write!(out, " (generated {})", timestamp(time));
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "  {} audits of {} bags, {} verified ({} bytes), {} failures",
        data.audits,
        data.bags,
        human_bytes(data.bytes),
        data.bytes,
        data.failures
    );

    if data.failing.is_empty() {
        out.push_str("\nNo failing bags.\n");
    } else {
        let _ = writeln!(out, "\nFailing bags ({}):", data.failing.len());
        for bag_audit in &data.failing {
            let _ = writeln!(out, "  {}", printable(&bag_audit.bag));
            out.push_str("    ");
            audit(&mut out, None, bag_audit);
        }
    }

    let _ = writeln!(out, "\nRuns ({}):", data.runs.len());
    for run in &data.runs {
        let ended = run.ended.as_ref().map_or_else(|| "-".into(), timestamp);
        let _ = writeln!(
            out,
            "  #{:<5} {} .. {}  {:<11} {} bags, {}, {} failed  {}@{}  qoima {}",
            run.id,
            timestamp(&run.started),
            ended,
            printable(&run.outcome),
            run.bags,
            human_bytes(run.bytes),
            run.failed,
            printable(&run.user),
            printable(&run.host),
            printable(&run.qoima_version)
        );
    }

    let _ = writeln!(out, "\nDays ({}):", data.days.len());
    for day in &data.days {
        let _ = writeln!(
            out,
            "  {}  {} audits, {}, {} failures",
            printable(&day.day),
            day.audits,
            human_bytes(day.bytes),
            day.failures
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    #[test]
    fn history_has_one_line_per_audit_and_the_findings_of_failures() {
        let rows = fixtures::rows();
        let out = history(fixtures::BAG, &rows);
        assert!(
            out.contains("3 audits, 1 passed, 2 failed or unreadable"),
            "{out}"
        );
        let lines: Vec<&str> = out.lines().collect();
        let audit_lines: Vec<&&str> = lines.iter().filter(|l| l.starts_with("  2025-")).collect();
        assert_eq!(audit_lines.len(), 3, "{out}");
        assert!(audit_lines[0].contains("passed") && audit_lines[0].contains("valid"));
        assert!(audit_lines[0].contains("12 files, 1.2 GB"));
        assert!(audit_lines[0].contains("baseline recorded"));
        assert!(audit_lines[1].contains("failed") && audit_lines[1].contains("invalid"));
        assert!(audit_lines[1].contains("confirmed 10, changed 1, missing 0, new 0, moved 1"));
        assert!(audit_lines[1].contains("manifest re-written"));
        assert!(!audit_lines[0].contains("manifest re-written"));
        assert!(audit_lines[2].contains("unreadable") && audit_lines[2].ends_with("(run 3)"));
        // Findings under the failed audit, indented, with class, code, path and detail.
        assert!(
            out.contains("    changed   BAG-036   data/фото <1> & \"2\"\\u{1b}[31m.jpg: sha512")
        );
        assert!(out.contains("    moved     -         data/moved/здесь.tif: data/там.tif"));
        assert!(out.contains("    -         BAG-040   tagmanifest-sha512.txt"));
        assert!(out.contains("    error: permission denied: <root> & \\u{0}"));
        // Nothing raw reaches the terminal.
        assert!(!out.contains('\u{7}') && !out.contains('\u{1b}') && !out.contains('\u{202e}'));
        assert!(out.contains("\\u{7}bell\\u{202e}gpj.exe"));
        assert!(history("b", &[]).contains("never audited"));
    }

    #[test]
    fn report_has_the_key_numbers() {
        let out = report(&fixtures::report());
        assert!(out.starts_with(
            "Fixity audit report, since 2025-01-01T00:00:00Z (generated 2025-01-31T12:00:00Z)\n"
        ));
        assert!(
            out.contains("10 audits of 4 bags, 7.5 GB verified (7500000000 bytes), 3 failures"),
            "{out}"
        );
        assert!(out.contains("Failing bags (1):"));
        assert!(
            out.contains("<script>alert(1)</script>"),
            "text is not HTML"
        );
        assert!(out.contains("    changed   BAG-036"));
        assert!(out.contains("Runs (3):"));
        assert!(out.contains("#3     2025-01-15T03:00:00Z .. -  interrupted"));
        assert!(out.contains("2025-01-08  4 audits, 3.5 GB, 1 failures"));
        assert!(!out.contains('\u{7}'));
        let empty = report(&ReportData::default());
        assert!(empty.contains("since the register began"));
        assert!(empty.contains("0 audits of 0 bags, 0 bytes verified"));
        assert!(empty.contains("No failing bags."));
    }
}
