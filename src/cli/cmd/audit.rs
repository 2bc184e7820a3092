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
pub(super) fn parse_duration(s: &str) -> anyhow::Result<Duration> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num
        .parse()
        .with_context(|| format!("{s:?} is not a duration: write 90d, 12h, 45m, 30s or 2w"))?;
    let secs = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => bail!("{s:?} is not a duration: write 90d, 12h, 45m, 30s or 2w"),
    };
    let total = n
        .checked_mul(secs)
        .with_context(|| format!("{s:?} is too long a duration: at most {} seconds", u64::MAX))?;
    Ok(Duration::from_secs(total))
}

/// `500G`, `200MiB`, `1T`, `4096` (bytes; K, M, G, T are powers of 1024).
pub(super) fn parse_size(s: &str) -> anyhow::Result<u64> {
    let t = s.trim();
    let t = t.strip_suffix('B').unwrap_or(t);
    let t = t.strip_suffix('i').unwrap_or(t);
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num
        .parse()
        .with_context(|| format!("{s:?} is not a size: write 500G, 200MiB or a number of bytes"))?;
    let m: u64 = match unit.to_ascii_uppercase().as_str() {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => bail!("{s:?} is not a size: write 500G, 200MiB or a number of bytes"),
    };
    n.checked_mul(m)
        .with_context(|| format!("{s:?} is too large a size: at most 16 EiB (16777215T)"))
}

fn open_register(a: &AuditArgs) -> anyhow::Result<Register> {
    let path = a.register.clone().unwrap_or_else(Register::default_path);
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

pub fn run(a: &AuditArgs, g: &Global) -> anyhow::Result<Exit> {
    match &a.command {
        Some(AuditCommand::History { bag, format }) => history(a, g, bag, format),
        Some(AuditCommand::Report {
            since,
            format,
            output,
        }) => period(a, g, since.as_deref(), format, output.as_deref()),
        Some(AuditCommand::ExportPremis { bag, output }) => premis(a, bag, output.as_deref()),
        None => audit(a, g),
    }
}

fn audit(a: &AuditArgs, g: &Global) -> anyhow::Result<Exit> {
    let opts = AuditOptions {
        older_than: a
            .older_than
            .as_deref()
            .map(parse_duration)
            .transpose()
            .context("--older-than")?
            .map(|d| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)),
        max_bytes: a
            .max_bytes
            .as_deref()
            .map(parse_size)
            .transpose()
            .context("--max-bytes")?,
        max_duration: a
            .max_duration
            .as_deref()
            .map(parse_duration)
            .transpose()
            .context("--max-duration")?,
        rate: a
            .rate
            .as_deref()
            .map(|r| parse_size(r.strip_suffix("/s").unwrap_or(r)))
            .transpose()
            .context("--rate")?,
        limits: super::serialize::limits(&a.limits)?,
    };
    if opts.rate == Some(0) {
        bail!("--rate must be more than 0");
    }
    let register = open_register(a)?;
    let engine = super::engine(g)?;
    let bar = Bar::new("auditing", 0, 0, super::show_progress(g));
    let summary = run::audit(&register, &a.bags, &opts, &engine, &bar);
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
    if g.json {
        output::json(&Report {
            qoima_version: qoima::VERSION,
            command: "audit",
            register: register_path.display().to_string(),
            run: &summary,
            exit_code: exit as u8,
        })?;
    }
    if !g.quiet || exit != Exit::Ok {
        for au in &summary.audits {
            if g.quiet && au.outcome == Outcome::Passed {
                continue;
            }
            print_audit(au, g.verbose > 0);
        }
        if !g.quiet {
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

fn print_audit(au: &BagAudit, verbose: bool) {
    let c = &au.counts;
    output::stderrln!(
        "{}: {} ({}; {} files, {}; {} confirmed, {} changed, {} missing, {} new, {} moved{}{})",
        qoima::paths::printable(&au.bag),
        au.outcome.as_str(),
        au.verdict,
        au.files,
        qoima::verdict::human_bytes(au.bytes),
        c.confirmed,
        c.changed,
        c.missing,
        c.new,
        c.moved,
        if au.manifest_rewritten {
            "; MANIFESTS RE-WRITTEN since the baseline"
        } else {
            ""
        },
        if au.baseline_recorded {
            "; baseline recorded"
        } else {
            ""
        },
    );
    if let Some(e) = &au.error {
        output::stderrln!("  {e}");
    }
    if au.outcome != Outcome::Passed || verbose {
        for f in &au.findings {
            output::stderrln!(
                "  {}{} {}: {}",
                f.class.map(|c| c.as_str()).unwrap_or("problem"),
                f.code
                    .as_deref()
                    .map(|c| format!("[{c}]"))
                    .unwrap_or_default(),
                qoima::paths::printable(&f.path),
                f.detail
            );
        }
    }
}

fn format_of(name: &str, g: &Global) -> anyhow::Result<Format> {
    if g.json {
        return Ok(Format::Json);
    }
    name.parse::<Format>()
        .map_err(|_| anyhow::anyhow!("--format {name:?}: use text, json, csv or html"))
}

/// A bag's audits, or `None` (said on stderr) when the register has none.
fn audits_of(
    a: &AuditArgs,
    bag: &Path,
) -> anyhow::Result<Option<(String, Vec<qoima::audit::model::HistoryRow>)>> {
    let register = open_register(a)?;
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

fn history(a: &AuditArgs, g: &Global, bag: &Path, format: &str) -> anyhow::Result<Exit> {
    let Some((key, rows)) = audits_of(a, bag)? else {
        return Ok(Exit::Error);
    };
    print!("{}", report::history(&key, &rows, format_of(format, g)?));
    Ok(Exit::Ok)
}

fn period(
    a: &AuditArgs,
    g: &Global,
    since: Option<&str>,
    format: &str,
    out: Option<&Path>,
) -> anyhow::Result<Exit> {
    let since = since
        .map(|s| -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
            if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                return Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc());
            }
            let age = parse_duration(s)
                .with_context(|| format!("--since {s:?}: write YYYY-MM-DD or an age like 30d"))?;
            chrono::Duration::from_std(age)
                .ok()
                .and_then(|age| chrono::Utc::now().checked_sub_signed(age))
                .with_context(|| {
                    format!("--since {s:?} reaches before the earliest date qoima can represent; give a date (YYYY-MM-DD) or a shorter age")
                })
        })
        .transpose()?;
    if let Some(refused) = refuse_output(a, None, out) {
        return Ok(refused);
    }
    let register = open_register(a)?;
    let mut data = register.report(since)?;
    data.generated = Some(chrono::Utc::now());
    let text = report::report(&data, format_of(format, g)?);
    write_out(out, &text)?;
    Ok(Exit::Ok)
}

fn premis(a: &AuditArgs, bag: &Path, out: Option<&Path>) -> anyhow::Result<Exit> {
    if let Some(refused) = refuse_output(a, Some(bag), out) {
        return Ok(refused);
    }
    let Some((key, rows)) = audits_of(a, bag)? else {
        return Ok(Exit::Error);
    };
    write_out(out, &report::export_premis(&key, &rows, qoima::VERSION))?;
    Ok(Exit::Ok)
}

/// Refuses (`BAG-083`) an `-o` that is the register, or lies inside or holds the bag whose
/// history is exported: writing it would destroy the register or change the bag. Inputs that
/// do not exist (a bag since removed) cannot be harmed and are not checked.
fn refuse_output(a: &AuditArgs, bag: Option<&Path>, out: Option<&Path>) -> Option<Exit> {
    let out = out?;
    let register = a.register.clone().unwrap_or_else(Register::default_path);
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
