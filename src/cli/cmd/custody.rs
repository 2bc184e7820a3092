//! `qoima custody append|show|verify|export`: the custody log of a sealed bag.

use std::path::Path;

use anyhow::{Context, bail};
use serde::Serialize;

use qoima::error::Problem;
use qoima::seal::custody::{self, AppendOptions, Appended, Entry};
use qoima::seal::{self, SealError, TrustedKey};

use super::super::Exit;
use super::super::args::{
    CustodyAppendArgs, CustodyArgs, CustodyCommand, CustodyExportArgs, CustodyOutcome,
    CustodyShowArgs, CustodyVerifyArgs, Global,
};
use super::super::output;
use super::super::passphrase;

pub fn run(a: &CustodyArgs, g: &Global) -> anyhow::Result<Exit> {
    match &a.command {
        CustodyCommand::Append(a) => append(a, g),
        CustodyCommand::Show(a) => show(a, g),
        CustodyCommand::Verify(a) => verify(a, g),
        CustodyCommand::Export(a) => export(a, g),
    }
}

/// The custodian's passphrase; `bag --update --sign` reads it the same way.
pub(super) fn passphrase(file: Option<&Path>) -> anyhow::Result<String> {
    passphrase::read(file, passphrase::CUSTODIAN_KEY)
}

fn trusted(file: Option<&Path>) -> anyhow::Result<Option<Vec<TrustedKey>>> {
    file.map(seal::read_trusted_keys)
        .transpose()
        .map_err(Into::into)
}

fn need_folder(bag: &Path) -> anyhow::Result<()> {
    if !bag.is_dir() {
        bail!(
            "{} is not a bag folder (unpack a serialized bag first)",
            bag.display()
        );
    }
    Ok(())
}

#[derive(Serialize)]
struct AppendJson<'a> {
    qoima_version: &'static str,
    command: &'static str,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    appended: Option<&'a Appended>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    problems: &'a [Problem],
    exit_code: u8,
}

fn append(a: &CustodyAppendArgs, g: &Global) -> anyhow::Result<Exit> {
    need_folder(&a.bag)?;
    let keys = trusted(a.trusted_keys.as_deref())?;
    let (sk, pk) = seal::load_secret_key(&a.sign, || {
        passphrase(a.passphrase_file.as_deref()).map_err(|e| SealError::Key(e.to_string()))
    })
    .with_context(|| format!("cannot use the key {}", a.sign.display()))?;
    // Two appends at once would both take the next number: the second waits its turn.
    let _lock = super::lock(&a.bag, super::Contention::Wait)?;
    let opts = AppendOptions {
        event: a.event,
        agent: a.agent.clone(),
        success: a.outcome == CustodyOutcome::Success,
        detail: a.detail.clone(),
    };
    let result = custody::append(&a.bag, &sk, &pk, &opts, keys.as_deref());
    let (exit, done, error, problems) = match &result {
        Ok(d) => (Exit::Ok, Some(d), None, Vec::new()),
        // The closing SEAL-030 says which condition failed (not sealed, an untrusted signer, a
        // log that does not verify); the generic "was not sealed" would mislead.
        Err(SealError::Refused(p)) => (
            Exit::Invalid,
            None,
            Some(format!("nothing was appended ({} problem(s))", p.len())),
            p.clone(),
        ),
        Err(e) => (Exit::Error, None, Some(e.to_string()), Vec::new()),
    };
    if g.json {
        output::json(&AppendJson {
            qoima_version: qoima::VERSION,
            command: "custody append",
            outcome: match exit {
                Exit::Ok => "appended",
                Exit::Invalid => "refused",
                Exit::Error => "error",
            },
            appended: done,
            error: error.clone(),
            problems: &problems,
            exit_code: exit as u8,
        })?;
    }
    match (done, error) {
        (Some(d), _) => {
            if !g.quiet {
                output::stderrln!(
                    "{}: appended {} ({}, by {}, key {}){}",
                    output::path(&a.bag),
                    d.file,
                    d.entry.event_label,
                    d.entry.agent.name,
                    d.key_id,
                    if d.receipt {
                        "; signed by a key other than the previous entry's: a receipt of the head it records"
                    } else {
                        ""
                    }
                );
                output::stderrln!("head: {} (keep it outside the bag)", d.head);
            }
            if !g.json {
                println!("{}", d.head);
            }
        }
        (None, Some(e)) => {
            output::problems(&problems, false, "");
            output::stderrln!("qoima: {}: {e}", output::path(&a.bag));
        }
        (None, None) => {}
    }
    Ok(exit)
}

#[derive(Serialize)]
struct ShowEntry<'a> {
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    entry: Option<&'a Entry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct ShowJson<'a> {
    qoima_version: &'static str,
    command: &'static str,
    bag: String,
    verified: bool,
    entries: Vec<ShowEntry<'a>>,
    exit_code: u8,
}

fn show(a: &CustodyShowArgs, g: &Global) -> anyhow::Result<Exit> {
    need_folder(&a.bag)?;
    let entries = custody::read_entries(&a.bag);
    if g.json {
        output::json(&ShowJson {
            qoima_version: qoima::VERSION,
            command: "custody show",
            bag: a.bag.display().to_string(),
            verified: false,
            entries: entries
                .iter()
                .map(|(f, e)| ShowEntry {
                    file: f,
                    entry: e.as_ref().ok(),
                    error: e.as_ref().err().map(String::as_str),
                })
                .collect(),
            exit_code: 0,
        })?;
        return Ok(Exit::Ok);
    }
    if entries.is_empty() {
        println!("{}: no custody entries", output::path(&a.bag));
    }
    for (file, e) in &entries {
        match e {
            Ok(e) => {
                println!(
                    "{:>4}  {}  {:<14} {:<8} {}",
                    e.seq, e.time, e.event_label, e.outcome, e.agent.name
                );
                println!("      key {}  prev {}", e.agent.key, e.prev);
                if !e.detail.is_empty() {
                    println!("      {}", e.detail.replace('\n', "\n      "));
                }
            }
            Err(why) => println!("   ?  {file}: unreadable: {why}"),
        }
    }
    if !g.quiet {
        output::stderrln!(
            "(not verified: run `qoima custody verify {} --trusted-keys FILE`)",
            output::path(&a.bag)
        );
    }
    Ok(Exit::Ok)
}

fn verify(a: &CustodyVerifyArgs, g: &Global) -> anyhow::Result<Exit> {
    let keys = seal::read_trusted_keys(&a.trusted_keys)?;
    need_folder(&a.bag)?;
    if !a.bag.join(custody::CUSTODY_DIR).is_dir() {
        bail!(
            "{} has no custody log ({}/)",
            a.bag.display(),
            custody::CUSTODY_DIR
        );
    }
    let roots = super::tsa_roots(a.tsa_roots.as_deref())?;
    let report = custody::verify(
        &a.bag,
        Some(&keys),
        a.expect_head.as_deref(),
        roots.as_deref(),
    );
    let exit = super::seal::verdict(g, "custody verify", report.verified, "verified", &report)?;
    if !g.quiet || !report.verified {
        super::seal::print_checks(&report.checks, &report.problems);
        for e in &report.entries {
            let who = e
                .entry
                .as_ref()
                .map(|x| format!("{} by {}", x.event_label, x.agent.name))
                .unwrap_or_else(|| "unreadable".into());
            let by_time = report
                .timestamp_anchored
                .iter()
                .copied()
                .find(|&s| s >= e.seq);
            let anchor = match (by_time, e.anchored_by) {
                (Some(t), _) => format!("anchored by the time-stamp over entry {t}"),
                (None, Some(r)) => format!("anchored by receipt {r}"),
                (None, None) => "NOT anchored".into(),
            };
            output::stderrln!(
                "  {} {:>4}  {who}{}; {anchor}",
                if e.verified { "ok  " } else { "FAIL" },
                e.seq,
                if e.receipt { " (receipt)" } else { "" },
            );
        }
        for n in &report.notes {
            output::stderrln!("note: {n}");
        }
        output::stderrln!(
            "{}: custody log {}; head {}",
            output::path(&a.bag),
            if report.verified {
                "VERIFIED"
            } else {
                "NOT VERIFIED"
            },
            report.head.as_deref().unwrap_or("none")
        );
    }
    Ok(exit)
}

fn export(a: &CustodyExportArgs, g: &Global) -> anyhow::Result<Exit> {
    let keys = trusted(a.trusted_keys.as_deref())?;
    need_folder(&a.bag)?;
    let roots = super::tsa_roots(a.tsa_roots.as_deref())?;
    let report = custody::verify(&a.bag, keys.as_deref(), None, roots.as_deref());
    if !report.verified {
        for c in report.checks.iter().filter(|c| !c.passed) {
            output::stderrln!("FAIL  {}: {}", c.check, c.detail);
        }
        output::problems(&report.problems, false, "  ");
        output::stderrln!(
            "qoima: {}: the custody log does not verify; nothing was exported",
            output::path(&a.bag)
        );
        return Ok(Exit::Invalid);
    }
    // The seal's time-stamps are events of the bag's history too (the custody log's are in the
    // report); they are checked as verify-seal checks them.
    let (seal_tokens, problems) = qoima::seal::timestamp::check_folder(
        &a.bag.join(qoima::seal::SEAL_DIR),
        qoima::seal::SEAL_DIR,
        "",
        &|n| qoima::seal::timestamp::seal_signature_of(&a.bag, n),
        roots.as_deref(),
    );
    if problems.iter().any(qoima::error::Problem::is_error) {
        output::problems(&problems, false, "  ");
        output::stderrln!(
            "qoima: {}: a time-stamp in {}/ does not verify; nothing was exported",
            output::path(&a.bag),
            qoima::seal::SEAL_DIR
        );
        return Ok(Exit::Invalid);
    }
    let xml = custody::export_premis(&report, &seal_tokens);
    // A PREMIS file written into the bag would change the bag it describes.
    if let Some(Err(e)) = a
        .output
        .as_deref()
        .map(|f| qoima::bagit::create::refuse_overlap(&a.bag, f, "-o"))
    {
        return Ok(super::outputs::report_refusal(&e));
    }
    match &a.output {
        Some(f) => {
            qoima::fsutil::write_atomic(f, xml.as_bytes())
                .with_context(|| format!("cannot write {}", f.display()))?;
            if !g.quiet {
                output::stderrln!(
                    "{}: {} PREMIS event(s) written to {}",
                    output::path(&a.bag),
                    report.entries.len(),
                    output::path(f)
                );
            }
        }
        None => print!("{xml}"),
    }
    Ok(Exit::Ok)
}
