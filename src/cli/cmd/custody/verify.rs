//! `qoima custody verify` and `custody export`: the log checked against the keys the verifier
//! trusts, reported, or exported as PREMIS once it verifies.

use anyhow::{Context, bail};

use qoima::seal::custody::{self, CustodyReport, EntrySummary};
use qoima::seal::{self, SEAL_DIR};

use crate::cli::Exit;
use crate::cli::args::{CustodyExportArgs, CustodyVerifyArgs, Global};
use crate::cli::output;

pub(super) fn verify(args: &CustodyVerifyArgs, global: &Global) -> anyhow::Result<Exit> {
    let keys = seal::read_trusted_keys(&args.trusted_keys)?;
    super::need_folder(&args.bag)?;
    if !args.bag.join(custody::CUSTODY_DIR).is_dir() {
        bail!(
            "{} has no custody log ({}/)",
            args.bag.display(),
            custody::CUSTODY_DIR
        );
    }
    let roots = super::super::tsa_roots(args.tsa_roots.as_deref())?;
    let report = custody::verify(
        &args.bag,
        Some(&keys),
        args.expect_head.as_deref(),
        roots.as_deref(),
    );
    super::super::seal::verification("custody verify", report.verified, "verified", &report).render(
        global,
        |report| {
            if !global.quiet || !report.verified {
                print_report(&args.bag, report);
            }
        },
    )
}

/// The checks and problems, one line per entry (verified, anchored), the notes and the head.
fn print_report(bag: &std::path::Path, report: &CustodyReport) {
    super::super::seal::print_checks(&report.checks, &report.problems);
    for entry in &report.entries {
        output::stderrln!("{}", entry_line(report, entry));
    }
    for note in &report.notes {
        output::stderrln!("note: {note}");
    }
    output::stderrln!(
        "{}: custody log {}; head {}",
        output::path(bag),
        if report.verified {
            "VERIFIED"
        } else {
            "NOT VERIFIED"
        },
        report.head.as_deref().unwrap_or("none")
    );
}

/// `  ok      3  transfer by Courier (receipt); anchored by …`.
fn entry_line(report: &CustodyReport, entry: &EntrySummary) -> String {
    let who = entry
        .entry
        .as_ref()
        .map(|signed| format!("{} by {}", signed.event_label, signed.agent.name))
        .unwrap_or_else(|| "unreadable".into());
    let by_time = report
        .timestamp_anchored
        .iter()
        .copied()
        .find(|&stamped| stamped >= entry.seq);
    let anchor = match (by_time, entry.anchored_by) {
        (Some(stamped), _) => format!("anchored by the time-stamp over entry {stamped}"),
        (None, Some(receipt)) => format!("anchored by receipt {receipt}"),
        (None, None) => "NOT anchored".into(),
    };
    format!(
        "  {} {:>4}  {who}{}; {anchor}",
        if entry.verified { "ok  " } else { "FAIL" },
        entry.seq,
        if entry.receipt { " (receipt)" } else { "" },
    )
}

pub(super) fn export(args: &CustodyExportArgs, global: &Global) -> anyhow::Result<Exit> {
    let keys = super::trusted(args.trusted_keys.as_deref())?;
    super::need_folder(&args.bag)?;
    let roots = super::super::tsa_roots(args.tsa_roots.as_deref())?;
    let report = custody::verify(&args.bag, keys.as_deref(), None, roots.as_deref());
    if !report.verified {
        for check in report.checks.iter().filter(|check| !check.passed) {
            output::stderrln!("FAIL  {}: {}", check.check, check.detail);
        }
        output::problems(&report.problems, false, "  ");
        output::stderrln!(
            "qoima: {}: the custody log does not verify; nothing was exported",
            output::path(&args.bag)
        );
        return Ok(Exit::Invalid);
    }
    // The seal's time-stamps are events of the bag's history too (the custody log's are in the
    // report); they are checked as verify-seal checks them.
    let (seal_tokens, problems) = seal::timestamp::check_folder(
        &args.bag.join(SEAL_DIR),
        SEAL_DIR,
        "",
        &|name| seal::timestamp::seal_signature_of(&args.bag, name),
        roots.as_deref(),
    );
    if problems.iter().any(qoima::error::Problem::is_error) {
        output::problems(&problems, false, "  ");
        output::stderrln!(
            "qoima: {}: a time-stamp in {SEAL_DIR}/ does not verify; nothing was exported",
            output::path(&args.bag),
        );
        return Ok(Exit::Invalid);
    }
    let xml = custody::export_premis(&report, &seal_tokens);
    // A PREMIS file written into the bag would change the bag it describes.
    if let Some(Err(e)) = args
        .output
        .as_deref()
        .map(|file| qoima::bagit::create::refuse_overlap(&args.bag, file, "-o"))
    {
        return Ok(super::super::outputs::report_refusal(&e));
    }
    match &args.output {
        Some(file) => {
            qoima::fsutil::write_atomic(file, xml.as_bytes())
                .with_context(|| format!("cannot write {}", file.display()))?;
            if !global.quiet {
                output::stderrln!(
                    "{}: {} PREMIS event(s) written to {}",
                    output::path(&args.bag),
                    report.entries.len(),
                    output::path(file)
                );
            }
        }
        None => print!("{xml}"),
    }
    Ok(Exit::Ok)
}
