//! `qoima audit`, `audit history`, `audit report`, `audit export-premis`.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;

use qoima::audit::model::{BagAudit, Outcome};
use qoima::audit::register::Register;
use qoima::audit::report::{self, Format};
use qoima::audit::run::{self, AuditOptions, RunSummary, Skip};

use super::super::Exit;
use super::super::args::{AuditArgs, AuditCommand, Global};
use super::super::output;
use super::super::progress::Bar;

/// `90d`, `12h`, `45m`, `30s`, `2w`.
pub(super) fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let trimmed = text.trim();
    let (num, unit) = trimmed.split_at(
        trimmed
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(trimmed.len()),
    );
    let number: u64 = num
        .parse()
        .with_context(|| format!("{text:?} is not a duration: write 90d, 12h, 45m, 30s or 2w"))?;
    let seconds = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => bail!("{text:?} is not a duration: write 90d, 12h, 45m, 30s or 2w"),
    };
    let total = number.checked_mul(seconds).with_context(|| {
        format!(
            "{text:?} is too long a duration: at most {} seconds",
            u64::MAX
        )
    })?;
    Ok(Duration::from_secs(total))
}

/// `500G`, `200MiB`, `1T`, `4096` (bytes; K, M, G, T are powers of 1024).
pub(super) fn parse_size(text: &str) -> anyhow::Result<u64> {
    let trimmed = text.trim();
    let trimmed = trimmed.strip_suffix('B').unwrap_or(trimmed);
    let trimmed = trimmed.strip_suffix('i').unwrap_or(trimmed);
    let (num, unit) = trimmed.split_at(
        trimmed
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(trimmed.len()),
    );
    let number: u64 = num.parse().with_context(|| {
        format!("{text:?} is not a size: write 500G, 200MiB or a number of bytes")
    })?;
    let multiplier: u64 = match unit.to_ascii_uppercase().as_str() {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => bail!("{text:?} is not a size: write 500G, 200MiB or a number of bytes"),
    };
    number
        .checked_mul(multiplier)
        .with_context(|| format!("{text:?} is too large a size: at most 16 EiB (16777215T)"))
}

fn open_register(args: &AuditArgs) -> anyhow::Result<Register> {
    let path = args.register.clone().unwrap_or_else(Register::default_path);
    Register::open(&path).with_context(|| format!("cannot open the register {}", path.display()))
}

#[derive(Serialize)]
struct Report<'a> {
    qoima_version: &'static str,
    command: &'static str,
    register: String,
    #[serde(flatten)]
    run: &'a RunSummary,
    exit_code: u8,
}

pub fn run(args: &AuditArgs, global: &Global) -> anyhow::Result<Exit> {
    match &args.command {
        Some(AuditCommand::History { bag, format }) => history(args, global, bag, format),
        Some(AuditCommand::Report {
            since,
            format,
            output,
        }) => period(args, global, since.as_deref(), format, output.as_deref()),
        Some(AuditCommand::ExportPremis { bag, output }) => premis(args, bag, output.as_deref()),
        None => audit(args, global),
    }
}

fn audit(args: &AuditArgs, global: &Global) -> anyhow::Result<Exit> {
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
        limits: super::serialize::limits(&args.limits)?,
    };
    if opts.rate == Some(0) {
        bail!("--rate must be more than 0");
    }
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
    if global.json {
        output::json(&Report {
            qoima_version: qoima::VERSION,
            command: "audit",
            register: register_path.display().to_string(),
            run: &summary,
            exit_code: exit as u8,
        })?;
    }
    if !global.quiet || exit != Exit::Ok {
        for au in &summary.audits {
            if global.quiet && au.outcome == Outcome::Passed {
                continue;
            }
            print_audit(au, global.verbose > 0);
        }
        if !global.quiet {
            for s in &summary.skipped {
                let why = match &s.why {
                    Skip::Fresh { last_verified } => {
                        format!("verified {}", last_verified.format("%Y-%m-%d %H:%M UTC"))
                    }
                    Skip::Busy { run } => format!("being audited by run {run}"),
                    Skip::Budget => "left for the next run (--max-bytes/--max-duration)".into(),
                };
                output::stderrln!("{}: skipped, {why}", qoima::paths::printable(&s.bag));
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
    }
    Ok(exit)
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
    if audit.outcome != Outcome::Passed || verbose {
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

fn format_of(name: &str, global: &Global) -> anyhow::Result<Format> {
    if global.json {
        return Ok(Format::Json);
    }
    name.parse::<Format>()
        .map_err(|_| anyhow::anyhow!("--format {name:?}: use text, json, csv or html"))
}

/// A bag's audits, or `None` (said on stderr) when the register has none.
fn audits_of(
    args: &AuditArgs,
    bag: &Path,
) -> anyhow::Result<Option<(String, Vec<qoima::audit::model::HistoryRow>)>> {
    let register = open_register(args)?;
    let key = run::bag_key(bag);
    let rows = register.history(&key)?;
    if rows.is_empty() {
        output::stderrln!(
            "qoima: {} has no audits in {}",
            qoima::paths::printable(&key),
            register.path().display()
        );
        return Ok(None);
    }
    Ok(Some((key, rows)))
}

fn history(args: &AuditArgs, global: &Global, bag: &Path, format: &str) -> anyhow::Result<Exit> {
    let Some((key, rows)) = audits_of(args, bag)? else {
        return Ok(Exit::Error);
    };
    print!(
        "{}",
        report::history(&key, &rows, format_of(format, global)?)
    );
    Ok(Exit::Ok)
}

fn period(
    args: &AuditArgs,
    global: &Global,
    since: Option<&str>,
    format: &str,
    out: Option<&Path>,
) -> anyhow::Result<Exit> {
    let since = since
        .map(|text| -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
            if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                return Ok(date.and_hms_opt(0, 0, 0).expect("midnight").and_utc());
            }
            let age = parse_duration(text)
                .with_context(|| format!("--since {text:?}: write YYYY-MM-DD or an age like 30d"))?;
            chrono::Duration::from_std(age)
                .ok()
                .and_then(|age| chrono::Utc::now().checked_sub_signed(age))
                .with_context(|| {
                    format!("--since {text:?} reaches before the earliest date qoima can represent; give a date (YYYY-MM-DD) or a shorter age")
                })
        })
        .transpose()?;
    if let Some(refused) = refuse_output(args, None, out) {
        return Ok(refused);
    }
    let register = open_register(args)?;
    let mut data = register.report(since)?;
    data.generated = Some(chrono::Utc::now());
    let text = report::report(&data, format_of(format, global)?);
    write_out(out, &text)?;
    Ok(Exit::Ok)
}

fn premis(args: &AuditArgs, bag: &Path, out: Option<&Path>) -> anyhow::Result<Exit> {
    if let Some(refused) = refuse_output(args, Some(bag), out) {
        return Ok(refused);
    }
    let Some((key, rows)) = audits_of(args, bag)? else {
        return Ok(Exit::Error);
    };
    write_out(out, &report::export_premis(&key, &rows, qoima::VERSION))?;
    Ok(Exit::Ok)
}

/// Refuses (`BAG-083`) an `-o` that is the register, or lies inside or holds the bag whose
/// history is exported: writing it would destroy the register or change the bag. Inputs that
/// do not exist (a bag since removed) cannot be harmed and are not checked.
fn refuse_output(args: &AuditArgs, bag: Option<&Path>, out: Option<&Path>) -> Option<Exit> {
    let out = out?;
    let register = args.register.clone().unwrap_or_else(Register::default_path);
    let inputs = [Some(register.as_path()), bag];
    for input in inputs.into_iter().flatten() {
        if std::fs::symlink_metadata(input).is_err() {
            continue;
        }
        if let Err(e) = qoima::bagit::create::refuse_overlap(input, out, "-o") {
            return Some(super::outputs::report_refusal(&e));
        }
    }
    None
}

fn write_out(out: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match out {
        Some(p) => qoima::fsutil::write_atomic(p, text.as_bytes())
            .with_context(|| format!("cannot write {}", p.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
