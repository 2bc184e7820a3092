//! `qoima audit`: options in, one audit run (`audit::run::audit`), the run rendered. The
//! register's readers, `audit history`, `audit report` and `audit export-premis`, are in
//! `records`.

mod records;

use std::path::Path;

use anyhow::{Context, bail};
use serde::Serialize;

use qoima::audit::model::{self, BagAudit};
use qoima::audit::register::Register;
use qoima::audit::run::{self, AuditOptions, RunSummary, Skip};

use super::units::{parse_duration, parse_size};
use crate::cli::Exit;
use crate::cli::args::{AuditArgs, AuditCommand, Global};
use crate::cli::outcome::{EmptyProblems, Outcome};
use crate::cli::output;
use crate::cli::progress::Bar;

fn open_register(args: &AuditArgs) -> anyhow::Result<Register> {
    let path = args.register.clone().unwrap_or_else(Register::default_path);
    Register::open(&path).with_context(|| format!("cannot open the register {}", path.display()))
}

/// What `audit --json` holds besides the envelope: the register and the run.
#[derive(Serialize)]
struct Body<'a> {
    register: String,
    #[serde(flatten)]
    run: &'a RunSummary,
}

pub fn run(args: &AuditArgs, global: &Global) -> anyhow::Result<Exit> {
    match &args.command {
        Some(AuditCommand::History { bag, format }) => records::history(args, global, bag, format),
        Some(AuditCommand::Report {
            since,
            format,
            output,
        }) => records::period(args, global, since.as_deref(), format, output.as_deref()),
        Some(AuditCommand::ExportPremis { bag, output }) => {
            records::premis(args, bag, output.as_deref())
        }
        None => audit(args, global),
    }
}

fn audit(args: &AuditArgs, global: &Global) -> anyhow::Result<Exit> {
    let opts = options(args)?;
    let register = open_register(args)?;
    let engine = super::engine(global)?;
    let bar = Bar::new("auditing", 0, 0, super::show_progress(global));
    let summary = run::audit(&register, &args.bags, &opts, &engine, &bar);
    bar.finish();
    let summary = summary.with_context(|| format!("register {}", register.path().display()))?;
    let register_path = register.path().to_path_buf();
    register
        .close()
        .with_context(|| format!("register {}", register_path.display()))?;
    let exit = if summary.failed > 0 {
        Exit::Invalid
    } else {
        Exit::Ok
    };
    let body = Body {
        register: register_path.display().to_string(),
        run: &summary,
    };
    Outcome::done("audit", body, Vec::new(), exit)
        .empty_problems(EmptyProblems::Omitted)
        .render(global, |body| {
            if !global.quiet || exit != Exit::Ok {
                print_run(body.run, &register_path, global);
            }
        })
}

/// The library's audit options from the command line's.
fn options(args: &AuditArgs) -> anyhow::Result<AuditOptions> {
    let opts = AuditOptions {
        older_than: args
            .older_than
            .as_deref()
            .map(parse_duration)
            .transpose()
            .context("--older-than")?
            .map(|d| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)),
        max_bytes: args
            .max_bytes
            .as_deref()
            .map(parse_size)
            .transpose()
            .context("--max-bytes")?,
        max_duration: args
            .max_duration
            .as_deref()
            .map(parse_duration)
            .transpose()
            .context("--max-duration")?,
        rate: args
            .rate
            .as_deref()
            .map(|r| parse_size(r.strip_suffix("/s").unwrap_or(r)))
            .transpose()
            .context("--rate")?,
        limits: super::units::limits(&args.limits)?,
    };
    if opts.rate == Some(0) {
        bail!("--rate must be more than 0");
    }
    Ok(opts)
}

/// Each bag audited (the failed ones only with `--quiet`), then the skipped ones and the
/// run's line unless `--quiet`.
fn print_run(summary: &RunSummary, register_path: &Path, global: &Global) {
    for audited in &summary.audits {
        if global.quiet && audited.outcome == model::Outcome::Passed {
            continue;
        }
        print_audit(audited, global.verbose > 0);
    }
    if global.quiet {
        return;
    }
    for skipped in &summary.skipped {
        let why = match &skipped.why {
            Skip::Fresh { last_verified } => {
                format!("verified {}", last_verified.format("%Y-%m-%d %H:%M UTC"))
            }
            Skip::Busy { run } => format!("being audited by run {run}"),
            Skip::Budget => "left for the next run (--max-bytes/--max-duration)".into(),
        };
        output::stderrln!("{}: skipped, {why}", qoima::paths::printable(&skipped.bag));
    }
    output::stderrln!(
        "audit run {}: {} bag(s) audited, {} failed, {} skipped, {} read; register {}",
        summary.run,
        summary.audits.len(),
        summary.failed,
        summary.skipped.len(),
        qoima::verdict::human_bytes(summary.bytes),
        register_path.display()
    );
}

fn print_audit(audit: &BagAudit, verbose: bool) {
    let counts = &audit.counts;
    output::stderrln!(
        "{}: {} ({}; {} files, {}; {} confirmed, {} changed, {} missing, {} new, {} moved{}{})",
        qoima::paths::printable(&audit.bag),
        audit.outcome.as_str(),
        audit.verdict,
        audit.files,
        qoima::verdict::human_bytes(audit.bytes),
        counts.confirmed,
        counts.changed,
        counts.missing,
        counts.new,
        counts.moved,
        if audit.manifest_rewritten {
            "; MANIFESTS RE-WRITTEN since the baseline"
        } else {
            ""
        },
        if audit.baseline_recorded {
            "; baseline recorded"
        } else {
            ""
        },
    );
    if let Some(error) = &audit.error {
        output::stderrln!("  {error}");
    }
    if audit.outcome != model::Outcome::Passed || verbose {
        for finding in &audit.findings {
            output::stderrln!(
                "  {}{} {}: {}",
                finding
                    .class
                    .map(|counts| counts.as_str())
                    .unwrap_or("problem"),
                finding
                    .code
                    .as_deref()
                    .map(|counts| format!("[{counts}]"))
                    .unwrap_or_default(),
                qoima::paths::printable(&finding.path),
                finding.detail
            );
        }
    }
}
