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

pub fn run(args: &CustodyArgs, global: &Global) -> anyhow::Result<Exit> {
    match &args.command {
        CustodyCommand::Append(args) => append(args, global),
        CustodyCommand::Show(args) => show(args, global),
        CustodyCommand::Verify(args) => verify(args, global),
        CustodyCommand::Export(args) => export(args, global),
    }
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

fn append(args: &CustodyAppendArgs, global: &Global) -> anyhow::Result<Exit> {
    need_folder(&args.bag)?;
    let keys = trusted(args.trusted_keys.as_deref())?;
    let (sk, pk) = seal::load_secret_key(&args.sign, || {
        passphrase::read(args.passphrase_file.as_deref(), passphrase::CUSTODIAN_KEY)
            .map_err(|e| SealError::Key(e.to_string()))
    })
    .with_context(|| format!("cannot use the key {}", args.sign.display()))?;
    // Two appends at once would both take the next number: the second waits its turn.
    let _lock = super::lock(&args.bag, super::Contention::Wait)?;
    let opts = AppendOptions {
        event: args.event,
        agent: args.agent.clone(),
        success: args.outcome == CustodyOutcome::Success,
        detail: args.detail.clone(),
    };
    let result = custody::append(&args.bag, &sk, &pk, &opts, keys.as_deref());
    let (exit, done, error, problems) = match &result {
        Ok(appended) => (Exit::Ok, Some(appended), None, Vec::new()),
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
    if global.json {
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
        (Some(appended), _) => {
            if !global.quiet {
                output::stderrln!(
                    "{}: appended {} ({}, by {}, key {}){}",
                    output::path(&args.bag),
                    appended.file,
                    appended.entry.event_label,
                    appended.entry.agent.name,
                    appended.key_id,
                    if appended.receipt {
                        "; signed by a key other than the previous entry's: a receipt of the head it records"
                    } else {
                        ""
                    }
                );
                output::stderrln!("head: {} (keep it outside the bag)", appended.head);
            }
            if !global.json {
                println!("{}", appended.head);
            }
        }
        (None, Some(e)) => {
            output::problems(&problems, false, "");
            output::stderrln!("qoima: {}: {e}", output::path(&args.bag));
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

fn show(args: &CustodyShowArgs, global: &Global) -> anyhow::Result<Exit> {
    need_folder(&args.bag)?;
    let entries = custody::read_entries(&args.bag);
    if global.json {
        output::json(&ShowJson {
            qoima_version: qoima::VERSION,
            command: "custody show",
            bag: args.bag.display().to_string(),
            verified: false,
            entries: entries
                .iter()
                .map(|(file, entry)| ShowEntry {
                    file,
                    entry: entry.as_ref().ok(),
                    error: entry.as_ref().err().map(String::as_str),
                })
                .collect(),
            exit_code: 0,
        })?;
        return Ok(Exit::Ok);
    }
    if entries.is_empty() {
        println!("{}: no custody entries", output::path(&args.bag));
    }
    for (file, entry) in &entries {
        match entry {
            Ok(entry) => {
                println!(
                    "{:>4}  {}  {:<14} {:<8} {}",
                    entry.seq, entry.time, entry.event_label, entry.outcome, entry.agent.name
                );
                println!("      key {}  prev {}", entry.agent.key, entry.prev);
                if !entry.detail.is_empty() {
                    println!("      {}", entry.detail.replace('\n', "\n      "));
                }
            }
            Err(why) => println!("   ?  {file}: unreadable: {why}"),
        }
    }
    if !global.quiet {
        output::stderrln!(
            "(not verified: run `qoima custody verify {} --trusted-keys FILE`)",
            output::path(&args.bag)
        );
    }
    Ok(Exit::Ok)
}

fn verify(args: &CustodyVerifyArgs, global: &Global) -> anyhow::Result<Exit> {
    let keys = seal::read_trusted_keys(&args.trusted_keys)?;
    need_folder(&args.bag)?;
    if !args.bag.join(custody::CUSTODY_DIR).is_dir() {
        bail!(
            "{} has no custody log ({}/)",
            args.bag.display(),
            custody::CUSTODY_DIR
        );
    }
    let roots = super::tsa_roots(args.tsa_roots.as_deref())?;
    let report = custody::verify(
        &args.bag,
        Some(&keys),
        args.expect_head.as_deref(),
        roots.as_deref(),
    );
    let exit = super::seal::verdict(
        global,
        "custody verify",
        report.verified,
        "verified",
        &report,
    )?;
    if !global.quiet || !report.verified {
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
            output::path(&args.bag),
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

fn export(args: &CustodyExportArgs, global: &Global) -> anyhow::Result<Exit> {
    let keys = trusted(args.trusted_keys.as_deref())?;
    need_folder(&args.bag)?;
    let roots = super::tsa_roots(args.tsa_roots.as_deref())?;
    let report = custody::verify(&args.bag, keys.as_deref(), None, roots.as_deref());
    if !report.verified {
        for c in report.checks.iter().filter(|c| !c.passed) {
            output::stderrln!("FAIL  {}: {}", c.check, c.detail);
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
    let (seal_tokens, problems) = qoima::seal::timestamp::check_folder(
        &args.bag.join(qoima::seal::SEAL_DIR),
        qoima::seal::SEAL_DIR,
        "",
        &|n| qoima::seal::timestamp::seal_signature_of(&args.bag, n),
        roots.as_deref(),
    );
    if problems.iter().any(qoima::error::Problem::is_error) {
        output::problems(&problems, false, "  ");
        output::stderrln!(
            "qoima: {}: a time-stamp in {}/ does not verify; nothing was exported",
            output::path(&args.bag),
            qoima::seal::SEAL_DIR
        );
        return Ok(Exit::Invalid);
    }
    let xml = custody::export_premis(&report, &seal_tokens);
    // A PREMIS file written into the bag would change the bag it describes.
    if let Some(Err(e)) = args
        .output
        .as_deref()
        .map(|f| qoima::bagit::create::refuse_overlap(&args.bag, f, "-o"))
    {
        return Ok(super::outputs::report_refusal(&e));
    }
    match &args.output {
        Some(f) => {
            qoima::fsutil::write_atomic(f, xml.as_bytes())
                .with_context(|| format!("cannot write {}", f.display()))?;
            if !global.quiet {
                output::stderrln!(
                    "{}: {} PREMIS event(s) written to {}",
                    output::path(&args.bag),
                    report.entries.len(),
                    output::path(f)
                );
            }
        }
        None => print!("{xml}"),
    }
    Ok(Exit::Ok)
}
