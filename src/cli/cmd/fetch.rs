//! `qoima fetch`: download what fetch.txt owes, then validate the bag fully.

use serde::Serialize;

use qoima::bagit::{BagReport, Mode, ValidateOptions};
use qoima::digest::NoProgress;
use qoima::error::Problem;
use qoima::fetch::{FetchOptions, FetchReport, FileReport, Outcome};
use qoima::verdict::Verdict;

use super::super::Exit;
use super::super::args::{FetchArgs, Global};
use super::super::outcome;
use super::super::output;

/// What `--json` holds besides the envelope.
#[derive(Serialize)]
struct Body<'a> {
    bag: String,
    files: &'a [FileReport],
    problems: &'a [Problem],
    summary: Summary,
    validation: &'a BagReport,
}

#[derive(Serialize)]
struct Summary {
    fetched: usize,
    present: usize,
    failed: usize,
    refused_lines: usize,
}

pub fn run(args: &FetchArgs, global: &Global) -> anyhow::Result<Exit> {
    let opts = FetchOptions {
        jobs: if global.jobs == 0 { 4 } else { global.jobs },
        retries: args.retries,
        timeout: std::time::Duration::from_secs(args.timeout.max(1)),
        max_bytes: args
            .max_bytes
            .as_deref()
            .map(super::units::parse_size)
            .transpose()?,
        allow_redirects: args.allow_redirects,
    };
    let fetched = qoima::fetch::fetch_bag(&args.bag, &opts)?;
    let validation = validate(args, global)?;
    let exit = exit_of(&fetched, &validation);
    let bag = args.bag.display().to_string();
    if !global.json || !global.quiet {
        print_text(&bag, &fetched, &validation, global);
    }
    let body = Body {
        bag,
        files: &fetched.files,
        problems: &fetched.problems,
        summary: Summary {
            fetched: fetched.count(Outcome::Fetched),
            present: fetched.count(Outcome::Present),
            failed: fetched.count(Outcome::Failed),
            refused_lines: fetched.problems.len(),
        },
        validation: &validation,
    };
    // The text is out already (the download lines and the verdict): only the JSON is left.
    // The refused fetch.txt lines are the body's `problems`, where the schema has them.
    outcome::Outcome::done("fetch", body, Vec::new(), exit)
        .empty_problems(outcome::EmptyProblems::Omitted)
        .render(global, |_| {})
}

/// Full validation of the bag as it is after fetching: the only proof that it is complete.
fn validate(args: &FetchArgs, global: &Global) -> anyhow::Result<BagReport> {
    let engine = super::engine(global)?;
    let opts = ValidateOptions {
        mode: Mode::Full,
        ..ValidateOptions::default()
    };
    let store = qoima::store::DirStore::new(&args.bag);
    let mut report = qoima::bagit::validate(&store, &opts, &engine, &NoProgress);
    report.bag = args.bag.display().to_string();
    Ok(report)
}

/// 1 when a download was refused or brought wrong bytes (or the bag is invalid); else 2 when
/// something could not be fetched; else what validation says (0 for a valid bag).
fn exit_of(fetched: &FetchReport, validation: &BagReport) -> Exit {
    if fetched.any_refused() || validation.verdict == Verdict::Invalid {
        Exit::Invalid
    } else if fetched.any_unfetched() {
        Exit::Error
    } else {
        Exit::from_code(validation.verdict.exit_code())
    }
}

fn print_text(bag: &str, fetched: &FetchReport, validation: &BagReport, global: &Global) {
    let shown = qoima::paths::printable;
    for file in &fetched.files {
        if global.quiet && file.outcome != Outcome::Failed {
            continue;
        }
        let what = match file.outcome {
            Outcome::Fetched => match file.resumed_from {
                Some(from) => format!("fetched ({} bytes, resumed from {from})", file.bytes),
                None => format!("fetched ({} bytes)", file.bytes),
            },
            Outcome::Present => "already present and verified".to_string(),
            Outcome::Failed => "not fetched".to_string(),
        };
        output::stderrln!("{}: {what} from {}", shown(&file.path), shown(&file.url));
    }
    let problems: Vec<Problem> = fetched.all_problems().cloned().collect();
    output::problems(&problems, true, "  ");
    output::stderrln!(
        "{}: {} fetched, {} present, {} failed, {} fetch.txt line(s) refused; the bag is {}",
        shown(bag),
        fetched.count(Outcome::Fetched),
        fetched.count(Outcome::Present),
        fetched.count(Outcome::Failed),
        fetched.problems.len(),
        validation.verdict.describe()
    );
    if !validation.verdict.passed() {
        output::problems(&validation.problems, global.verbose > 0, "  ");
    }
}
