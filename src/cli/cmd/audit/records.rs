//! The audit register's readers: `qoima audit history` (one bag's audits), `audit report`
//! (a period's) and `audit export-premis` (one bag's history as PREMIS).

use std::path::Path;

use anyhow::Context;

use qoima::audit::model::HistoryRow;
use qoima::audit::register::Register;
use qoima::audit::report::{self, Format};
use qoima::audit::run;

use super::open_register;
use crate::cli::Exit;
use crate::cli::args::{AuditArgs, Global};
use crate::cli::cmd::units::parse_duration;
use crate::cli::output;

fn format_of(name: &str, global: &Global) -> anyhow::Result<Format> {
    if global.json {
        return Ok(Format::Json);
    }
    name.parse::<Format>()
        .map_err(|_| anyhow::anyhow!("--format {name:?}: use text, json, csv or html"))
}

/// A bag's audits, or `None` (said on stderr) when the register has none.
fn audits_of(args: &AuditArgs, bag: &Path) -> anyhow::Result<Option<(String, Vec<HistoryRow>)>> {
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

pub(super) fn history(
    args: &AuditArgs,
    global: &Global,
    bag: &Path,
    format: &str,
) -> anyhow::Result<Exit> {
    let Some((key, rows)) = audits_of(args, bag)? else {
        return Ok(Exit::Error);
    };
    print!(
        "{}",
        report::history(&key, &rows, format_of(format, global)?)
    );
    Ok(Exit::Ok)
}

pub(super) fn period(
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

pub(super) fn premis(args: &AuditArgs, bag: &Path, out: Option<&Path>) -> anyhow::Result<Exit> {
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
            return Some(crate::cli::cmd::outputs::report_refusal(&e));
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
