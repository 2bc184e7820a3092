//! `qoima check`.

use std::io::IsTerminal;

use anyhow::{Context, bail};
use serde::Serialize;

use qoima::error::{Code, Problem, Severity};
use qoima::metadata::LoadOptions;
use qoima::metadata::rules::Rules;
use qoima::package::check::{self, CheckOptions, CheckReport};
use qoima::paths::printable;

use super::super::Exit;
use super::super::args::{CheckArgs, CheckFlags, Global};
use super::super::output;
use super::super::progress::Bar;

#[derive(Serialize)]
struct Report<'a> {
    qoima_version: &'static str,
    command: &'static str,
    #[serde(flatten)]
    check: &'a CheckReport,
    exit_code: u8,
}

/// The library's check options from the command line's.
pub fn options(a: &CheckFlags) -> anyhow::Result<CheckOptions> {
    let mut rules = match &a.rules {
        Some(p) => {
            let text = qoima::fsutil::read_bounded_text(p, qoima::fsutil::SMALL_FILE_LIMIT)
                .with_context(|| format!("cannot read --rules {}", p.display()))?;
            serde_json::from_str::<Rules>(&text)
                .with_context(|| format!("--rules {} is not a valid rules file", p.display()))?
        }
        None => Rules::default(),
    };
    if !a.require.is_empty() {
        rules.required = a
            .require
            .iter()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
    }
    rules.allow_undescribed |= a.allow_undescribed;
    let delimiter = match a.delimiter.as_deref() {
        None => None,
        Some("tab" | "\\t" | "\t") => Some(b'\t'),
        Some(d) if d.len() == 1 && d.is_ascii() => Some(d.as_bytes()[0]),
        Some(d) => bail!("--delimiter {d:?} must be one character, or `tab`"),
    };
    let allow = a
        .allow
        .iter()
        .map(|c| c.parse::<Code>())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CheckOptions {
        metadata: a.metadata.clone(),
        load: LoadOptions {
            delimiter,
            max_problems: a.max_problems,
        },
        rules,
        decode: a.decode,
        decode_memory: Some(decode_memory(&a.decode_memory)?),
        strict: a.strict,
        allow,
        exclude: Vec::new(),
    })
}

/// `--decode-memory`: a size of at least 1 MiB.
fn decode_memory(text: &str) -> anyhow::Result<u64> {
    let bytes = super::audit::parse_size(text).context("--decode-memory")?;
    if bytes < 1 << 20 {
        bail!("--decode-memory {text:?} is too small: give at least 1M");
    }
    Ok(bytes)
}

pub fn run(a: &CheckArgs, g: &Global) -> anyhow::Result<Exit> {
    let opts = options(&a.flags)?;
    let engine = super::engine(g)?;
    let show = super::show_progress(g);
    let bar = Bar::new("checking", 0, 0, show);
    let report = check::check(&a.collection, &opts, &engine, &bar)
        .with_context(|| format!("cannot check {}", a.collection.display()))?;
    bar.finish();
    let exit = if report.passed {
        Exit::Ok
    } else {
        Exit::Invalid
    };
    if g.json {
        output::json(&Report {
            qoima_version: qoima::VERSION,
            command: "check",
            check: &report,
            exit_code: exit as u8,
        })?;
    }
    if !(g.quiet && report.passed) {
        print_text(&report, g);
    }
    Ok(exit)
}

fn paint(p: &Problem, color: bool) -> String {
    let text = p.to_string();
    if !color {
        return text;
    }
    let code = if p.severity == Severity::Error {
        "31"
    } else {
        "33"
    };
    match text.split_once(' ') {
        Some((head, rest)) => format!("\x1b[{code}m{head}\x1b[0m {rest}"),
        None => text,
    }
}

pub fn print_text(r: &CheckReport, g: &Global) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let show_warnings = g.verbose > 0 || r.counts.warnings <= 50 || !r.passed;
    let mut hinted = std::collections::HashSet::new();
    let mut print = |p: &Problem, indent: &str| {
        if p.severity == Severity::Warning && !show_warnings {
            return;
        }
        output::stderrln!("{indent}{}", paint(p, color));
        if hinted.insert(p.code) {
            output::stderrln!("{indent}  hint: {}", p.hint);
        }
    };
    for p in &r.problems {
        print(p, "  ");
    }
    for it in &r.items {
        if it.problems.is_empty() {
            continue;
        }
        let id = it.identifier.as_deref().unwrap_or("(no record)");
        let file = it
            .file
            .as_deref()
            .map(|f| printable(f).into_owned())
            .unwrap_or_default();
        let line = it.line.map(|l| format!(" (line {l})")).unwrap_or_default();
        output::stderrln!("  {id}  {file}{line}");
        for p in &it.problems {
            print(p, "    ");
        }
    }
    output::stderrln!(
        "{}: {} items, {} photos{}, {}; {} ({} error(s), {} warning(s))",
        printable(&r.collection),
        r.items.len(),
        r.photos,
        decode_summary(r),
        qoima::verdict::human_bytes(r.bytes),
        if r.passed { "passed" } else { "failed" },
        r.counts.errors,
        r.counts.warnings
    );
}

/// With `--decode`: how many photos were decoded, not decoded and failed, e.g.
/// ` (decoded 12, not decoded 2, failed 1)`; empty without it.
fn decode_summary(r: &CheckReport) -> String {
    use qoima::photo::DecodeStatus;
    let count = |status: DecodeStatus| {
        r.items
            .iter()
            .filter(|i| i.decode.as_ref().is_some_and(|d| d.status == status))
            .count()
    };
    let (decoded, not_decoded, failed) = (
        count(DecodeStatus::Decoded),
        count(DecodeStatus::NotDecoded),
        count(DecodeStatus::Failed),
    );
    if decoded + not_decoded + failed == 0 {
        return String::new();
    }
    format!(" (decoded {decoded}, not decoded {not_decoded}, failed {failed})")
}
