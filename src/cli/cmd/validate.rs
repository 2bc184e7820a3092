//! `qoima validate`.

use serde::Serialize;

use qoima::bagit::{BagReport, Mode, ValidateOptions};
use qoima::error::Code;
use qoima::store::DirStore;

use super::super::Exit;
use super::super::args::{Global, ValidateArgs};
use super::super::output;
use super::super::progress::Bar;

#[derive(Serialize)]
struct Report<'a> {
    qoima_version: &'static str,
    command: &'static str,
    bags: &'a [BagReport],
    summary: Summary,
    exit_code: u8,
}

#[derive(Serialize)]
struct Summary {
    bags: usize,
    passed: usize,
    failed: usize,
}

pub fn run(a: &ValidateArgs, g: &Global) -> anyhow::Result<Exit> {
    let allow = a
        .allow
        .iter()
        .map(|c| c.parse::<Code>())
        .collect::<Result<Vec<_>, _>>()?;
    let opts = ValidateOptions {
        mode: if a.fast {
            Mode::Fast
        } else if a.completeness_only {
            Mode::Completeness
        } else {
            Mode::Full
        },
        strict: a.strict,
        allow,
    };
    let engine = super::engine(g)?;
    let show = super::show_progress(g);
    let mut reports = Vec::new();
    let mut exit = Exit::Ok;
    for path in &a.bags {
        let store = DirStore::new(path);
        let (bytes, files) = if show && opts.mode == Mode::Full {
            payload_size(path)
        } else {
            (0, 0)
        };
        let bar = Bar::new("validating", bytes, files, show && opts.mode == Mode::Full);
        let mut r = qoima::package::verify::validate(&store, &opts, &engine, &bar);
        bar.finish();
        r.bag = path.display().to_string();
        exit = exit.merge(Exit::from_code(r.verdict.exit_code()));
        if !g.json || !g.quiet {
            print_text(&r, g);
        }
        reports.push(r);
    }
    if g.json {
        let passed = reports.iter().filter(|r| r.verdict.passed()).count();
        output::json(&Report {
            qoima_version: qoima::VERSION,
            command: "validate",
            bags: &reports,
            summary: Summary {
                bags: reports.len(),
                passed,
                failed: reports.len() - passed,
            },
            exit_code: exit as u8,
        })?;
    }
    Ok(exit)
}

fn payload_size(bag: &std::path::Path) -> (u64, u64) {
    let mut bytes = 0;
    let mut files = 0;
    for e in walkdir::WalkDir::new(bag).into_iter().flatten() {
        if e.file_type().is_file() {
            files += 1;
            bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
        }
    }
    (bytes, files)
}

fn print_text(r: &BagReport, g: &Global) {
    if g.quiet && r.verdict.passed() {
        return;
    }
    let version = r
        .version
        .as_deref()
        .map(|v| format!("BagIt {v}; "))
        .unwrap_or_default();
    let algs = r
        .algorithms
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(", ");
    eprintln!(
        "{}: {} ({version}{} payload files, {}{}{})",
        qoima::paths::printable(&r.bag),
        r.verdict.describe(),
        r.payload_files,
        qoima::report::human_bytes(r.payload_bytes),
        if algs.is_empty() {
            String::new()
        } else {
            format!("; {algs}")
        },
        if r.counts.errors + r.counts.warnings > 0 {
            format!(
                "; {} error(s), {} warning(s)",
                r.counts.errors, r.counts.warnings
            )
        } else {
            String::new()
        }
    );
    output::problems(
        &r.problems,
        g.verbose > 0 || !r.verdict.passed() || r.counts.warnings <= 20,
        "  ",
    );
}
