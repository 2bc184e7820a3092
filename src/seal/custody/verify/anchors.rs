//! Step 6 of verifying a custody log: the head, what anchors it (receipts, trusted
//! time-stamps), the head the verifier kept, and the unanchored tail.

use super::super::CUSTODY_DIR;
use super::super::entry::entry_name;
use super::CustodyReport;
use crate::error::{Code, Problem};

/// Step 6: the head, its anchors (receipts and trusted time-stamps), the head the verifier
/// expected, and the unanchored tail.
pub(super) fn check_head(
    expect_head: Option<&str>,
    tsa_roots: Option<&[u8]>,
    report: &mut CustodyReport,
) {
    report.head = report.entries.last().map(|e| e.digest.clone());
    let receipts: Vec<u64> = report
        .entries
        .iter()
        .filter(|e| e.receipt)
        .map(|e| e.seq)
        .collect();
    for entry in &mut report.entries {
        entry.anchored_by = receipts.iter().copied().find(|&seq| seq > entry.seq);
    }
    let by_receipt = receipts.last().map(|seq| seq - 1).unwrap_or(0);
    let by_time = report.timestamp_anchored.last().copied().unwrap_or(0);
    report.anchored_through = by_receipt.max(by_time);
    let mut found = Vec::new();
    let last = report.entries.last().map(|e| e.seq).unwrap_or(0);
    if let Some(want) = expect_head {
        found.extend(expected_head(want, last, report));
    }
    if last > 0 {
        anchor_notes(by_receipt, by_time, tsa_roots, report);
    }
    if last > 0 && report.anchored_through < last {
        let message = unanchored_tail(last, report);
        report.notes.push(message.clone());
        found.push(Problem::new(Code::CustodyUnanchored, message).file(CUSTODY_DIR));
    }
    let head = match &report.head {
        Some(head) => format!(
            "head {head} (entry {last}); anchored through entry {}",
            report.anchored_through
        ),
        None => "no entries".to_string(),
    };
    report.check("head", found, head);
    if last > 0 && report.anchored_through >= last {
        report
            .notes
            .push(format!("every entry is anchored (through entry {last})"));
    }
}

/// Where the head the verifier kept (`want`) is in the log: the head (a note), an earlier
/// entry (a note), or nowhere (the problem returned).
fn expected_head(want: &str, last: u64, report: &mut CustodyReport) -> Option<Problem> {
    let want = want.trim();
    let want = if want.starts_with("sha256:") {
        want.to_ascii_lowercase()
    } else {
        format!("sha256:{}", want.to_ascii_lowercase())
    };
    match report.entries.iter().find(|e| e.digest == want) {
        Some(entry) if entry.seq == last => report
            .notes
            .push(format!("the head is {want}, the head you expected")),
        Some(entry) => {
            let note = format!(
                "the head you expected ({want}) is entry {}; entries {}–{last} were added after it",
                entry.seq,
                entry.seq + 1
            );
            report.notes.push(note);
        }
        None => {
            return Some(
                Problem::new(
                    Code::CustodyHeadMissing,
                    format!(
                        "no entry of the log has the digest you expected ({want}); the head is now {}: entries were removed from the end, or the log was replaced",
                        report.head.as_deref().unwrap_or("none (no entries)")
                    ),
                )
                .file(CUSTODY_DIR),
            );
        }
    }
    None
}

/// The notes on what anchors the log: the last receipt, the last trusted time-stamp.
fn anchor_notes(
    by_receipt: u64,
    by_time: u64,
    tsa_roots: Option<&[u8]>,
    report: &mut CustodyReport,
) {
    let upto = |seq: u64| {
        if seq == 1 {
            "entry 1 is".to_string()
        } else {
            format!("entries 1–{seq} are")
        }
    };
    if by_receipt > 0 {
        report.notes.push(format!(
            "{} anchored by receipt: entry {} is signed by another custodian and records the head it saw (an anchor only while a copy of that receipt is kept outside the bag, e.g. by the sender)",
            upto(by_receipt),
            by_receipt + 1
        ));
    }
    if by_time > 0 {
        let when = report
            .timestamps
            .iter()
            .filter(|t| t.trusted && t.data == format!("{}.minisig", entry_name(by_time)))
            .filter_map(|t| {
                t.info
                    .as_ref()
                    .map(|info| format!("{} by {}", info.time, t.tsa))
            })
            .next()
            .unwrap_or_default();
        report.notes.push(format!(
            "{} anchored by a trusted time-stamp over entry {by_time}'s signature ({when}): they existed then (an anchor against removal only while a copy of that token, or of entry {by_time}'s digest, is kept outside the bag)",
            upto(by_time)
        ));
    } else if tsa_roots.is_some() || report.timestamps.is_empty() {
        report
            .notes
            .push("no entry is anchored by a trusted time-stamp".to_string());
    } else {
        report.notes.push(
            "no entry is anchored by a trusted time-stamp: the log's time-stamps were not checked (give --tsa-roots)"
                .to_string(),
        );
    }
}

/// The warning on the entries after the last anchor.
fn unanchored_tail(last: u64, report: &CustodyReport) -> String {
    let from = report.anchored_through + 1;
    let range = if from == last {
        format!("entry {last} is")
    } else {
        format!("entries {from}–{last} are")
    };
    format!(
        "{range} not anchored: {}, and any entries after {}, could have been removed without detection; keep the head {} outside the bag (a receiver's signed receipt records it) and check it with --expect-head",
        if from == last { "it" } else { "they" },
        if from == last { "it" } else { "them" },
        report.head.as_deref().unwrap_or("")
    )
}
