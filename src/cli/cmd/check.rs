//! `qoima check`.

use std::io::IsTerminal;

use anyhow::{Context, bail};

use qoima::error::{Code, Problem, Severity};
use qoima::metadata::LoadOptions;
use qoima::metadata::rules::Rules;
use qoima::package::check::{self, CheckOptions, CheckReport};
use qoima::paths::printable;

use super::super::Exit;
use super::super::args::{CheckArgs, CheckFlags, Global};
use super::super::outcome::{EmptyProblems, Outcome};
use super::super::output;
use super::super::progress::Bar;

/// The library's check options from the command line's.
pub fn options(args: &CheckFlags) -> anyhow::Result<CheckOptions> {
    let mut rules = match &args.rules {
        Some(path) => {
            let text = qoima::fsutil::read_bounded_text(path, qoima::fsutil::SMALL_FILE_LIMIT)
                .with_context(|| format!("cannot read --rules {}", path.display()))?;
            serde_json::from_str::<Rules>(&text)
                .with_context(|| format!("--rules {} is not a valid rules file", path.display()))?
        }
        None => Rules::default(),
    };
    if !args.require.is_empty() {
        rules.required = args
            .require
            .iter()
            .map(|element| element.trim().to_lowercase())
            .filter(|element| !element.is_empty())
            .collect();
    }
    rules.allow_undescribed |= args.allow_undescribed;
    let delimiter = match args.delimiter.as_deref() {
        None => None,
        Some("tab" | "\\t" | "\t") => Some(b'\t'),
        Some(delimiter) if delimiter.len() == 1 && delimiter.is_ascii() => {
            Some(delimiter.as_bytes()[0])
        }
        Some(delimiter) => bail!("--delimiter {delimiter:?} must be one character, or `tab`"),
    };
    let allow = args
        .allow
        .iter()
        .map(|code| code.parse::<Code>())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CheckOptions {
        metadata: args.metadata.clone(),
        load: LoadOptions {
            delimiter,
            max_problems: args.max_problems,
        },
        rules,
        decode: args.decode,
        decode_memory: Some(decode_memory(&args.decode_memory)?),
        strict: args.strict,
        allow,
        exclude: Vec::new(),
    })
}

/// `--decode-memory`: a size of at least 1 MiB.
fn decode_memory(text: &str) -> anyhow::Result<u64> {
    let bytes = super::units::parse_size(text).context("--decode-memory")?;
    if bytes < 1 << 20 {
        bail!("--decode-memory {text:?} is too small: give at least 1M");
    }
    Ok(bytes)
}

pub fn run(args: &CheckArgs, global: &Global) -> anyhow::Result<Exit> {
    let opts = options(&args.flags)?;
    let engine = super::engine(global)?;
    let show = super::show_progress(global);
    let bar = Bar::new("checking", 0, 0, show);
    let report = check::check(&args.collection, &opts, &engine, &bar)
        .with_context(|| format!("cannot check {}", args.collection.display()))?;
    bar.finish();
    let exit = if report.passed {
        Exit::Ok
    } else {
        Exit::Invalid
    };
    Outcome::done("check", &report, Vec::new(), exit)
        .empty_problems(EmptyProblems::Omitted)
        .render(global, |report| {
            if !(global.quiet && report.passed) {
                print_text(report, global);
            }
        })
}

fn paint(problem: &Problem, color: bool) -> String {
    let text = problem.to_string();
    if !color {
        return text;
    }
    let code = if problem.severity == Severity::Error {
        "31"
    } else {
        "33"
    };
    match text.split_once(' ') {
        Some((head, rest)) => format!("\x1b[{code}m{head}\x1b[0m {rest}"),
        None => text,
    }
}

pub fn print_text(report: &CheckReport, global: &Global) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let show_warnings = global.verbose > 0 || report.counts.warnings <= 50 || !report.passed;
    let mut hinted = std::collections::HashSet::new();
    let mut print = |problem: &Problem, indent: &str| {
        if problem.severity == Severity::Warning && !show_warnings {
            return;
        }
        output::stderrln!("{indent}{}", paint(problem, color));
        if hinted.insert(problem.code) {
            output::stderrln!("{indent}  hint: {}", problem.hint);
        }
    };
    for problem in &report.problems {
        print(problem, "  ");
    }
    for item in &report.items {
        if item.problems.is_empty() {
            continue;
        }
        let id = item.identifier.as_deref().unwrap_or("(no record)");
        let file = item
            .file
            .as_deref()
            .map(|f| printable(f).into_owned())
            .unwrap_or_default();
        let line = item
            .line
            .map(|l| format!(" (line {l})"))
            .unwrap_or_default();
        output::stderrln!("  {id}  {file}{line}");
        for problem in &item.problems {
            print(problem, "    ");
        }
    }
    output::stderrln!(
        "{}: {} items, {} photos{}, {}; {} ({} error(s), {} warning(s))",
        printable(&report.collection),
        report.items.len(),
        report.photos,
        decode_summary(report),
        qoima::verdict::human_bytes(report.bytes),
        if report.passed { "passed" } else { "failed" },
        report.counts.errors,
        report.counts.warnings
    );
}

/// With `--decode`: how many photos were decoded, not decoded and failed, e.g.
/// ` (decoded 12, not decoded 2, failed 1)`; empty without it.
fn decode_summary(report: &CheckReport) -> String {
    use qoima::photo::DecodeStatus;
    let count = |status: DecodeStatus| {
        report
            .items
            .iter()
            .filter(|item| {
                item.decode
                    .as_ref()
                    .is_some_and(|decode| decode.status == status)
            })
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
