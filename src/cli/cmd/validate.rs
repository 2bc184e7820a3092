//! `qoima validate`: options in, one library call per bag (`package::validate`), each bag's
//! text as it is done, then the `--json` document.

use serde::Serialize;

use qoima::bagit::{BagReport, Mode, ValidateOptions};
use qoima::digest::Progress;
use qoima::error::Code;
use qoima::package::validate::{PathOptions, Watch, validate_path};

use super::super::Exit;
use super::super::args::{Global, ValidateArgs};
use super::super::outcome::{EmptyProblems, Outcome};
use super::super::output;
use super::super::progress::Bar;

/// What `--json` holds besides the envelope.
#[derive(Serialize)]
struct Body<'a> {
    bags: &'a [BagReport],
    summary: Summary,
}

#[derive(Serialize)]
struct Summary {
    bags: usize,
    passed: usize,
    failed: usize,
}

pub fn run(args: &ValidateArgs, global: &Global) -> anyhow::Result<Exit> {
    let options = options(args)?;
    let engine = super::engine(global)?;
    let watch = BarPerBag {
        show: super::show_progress(global) && options.validate.mode == Mode::Full,
    };
    let mut reports = Vec::new();
    let mut exit = Exit::Ok;
    for path in &args.bags {
        let report = validate_path(path, &options, &engine, &watch);
        exit = exit.merge(Exit::from_code(report.verdict.exit_code()));
        if !global.json || !global.quiet {
            print_text(&report, global);
        }
        reports.push(report);
    }
    let passed = reports
        .iter()
        .filter(|report| report.verdict.passed())
        .count();
    let summary = Summary {
        bags: reports.len(),
        passed,
        failed: reports.len() - passed,
    };
    let body = Body {
        bags: &reports,
        summary,
    };
    // Each bag's text was printed as it was validated: only the JSON is left.
    Outcome::done("validate", body, Vec::new(), exit)
        .empty_problems(EmptyProblems::Omitted)
        .render(global, |_| {})
}

/// The library's options from the command line's.
fn options(args: &ValidateArgs) -> anyhow::Result<PathOptions> {
    let allow = args
        .allow
        .iter()
        .map(|code| code.parse::<Code>())
        .collect::<Result<Vec<_>, _>>()?;
    let mode = if args.fast {
        Mode::Fast
    } else if args.completeness_only {
        Mode::Completeness
    } else {
        Mode::Full
    };
    let validate = ValidateOptions {
        mode,
        strict: args.strict,
        allow,
        max_problems: args.max_problems,
    };
    let limits = super::units::limits(&args.limits)?;
    let profile = args
        .profile
        .as_deref()
        .map(qoima::profile::Profile::resolve)
        .transpose()?;
    Ok(PathOptions {
        validate,
        limits,
        profile,
        profiles_dirs: args.profiles_dir.clone(),
    })
}

/// One bar per bag, shown for a full validation on a terminal, cleared when hashing ends.
struct BarPerBag {
    show: bool,
}

impl Watch for BarPerBag {
    fn wants_size(&self) -> bool {
        self.show
    }

    fn begin(&self, bytes: u64, files: u64) -> Box<dyn Progress + '_> {
        Box::new(ClearedOnDrop(Bar::new(
            "validating",
            bytes,
            files,
            self.show,
        )))
    }
}

/// A bar that is cleared from the screen when it is dropped.
struct ClearedOnDrop(Bar);

impl Progress for ClearedOnDrop {
    fn bytes(&self, count: u64) {
        self.0.bytes(count);
    }
    fn file_done(&self) {
        self.0.file_done();
    }
    fn stage(&self, name: &str, total_bytes: u64, total_files: u64) {
        self.0.stage(name, total_bytes, total_files);
    }
}

impl Drop for ClearedOnDrop {
    fn drop(&mut self) {
        self.0.finish();
    }
}

fn print_text(report: &BagReport, global: &Global) {
    if global.quiet && report.verdict.passed() {
        return;
    }
    let version = report
        .version
        .as_deref()
        .map(|version| format!("BagIt {version}; "))
        .unwrap_or_default();
    let algs = report
        .algorithms
        .iter()
        .map(|algorithm| algorithm.name())
        .collect::<Vec<_>>()
        .join(", ");
    let profile = report
        .profile
        .as_deref()
        .map(|p| format!(" against profile {p}"))
        .unwrap_or_default();
    output::stderrln!(
        "{}: {}{profile} ({version}{} payload files, {}{}{})",
        qoima::paths::printable(&report.bag),
        report.verdict.describe(),
        report.payload_files,
        qoima::verdict::human_bytes(report.payload_bytes),
        if algs.is_empty() {
            String::new()
        } else {
            format!("; {algs}")
        },
        if report.counts.errors + report.counts.warnings > 0 {
            format!(
                "; {} error(s), {} warning(s)",
                report.counts.errors, report.counts.warnings
            )
        } else {
            String::new()
        }
    );
    if let (Some(false), Some(content)) = (report.serialization_conforms, report.content_verdict) {
        output::stderrln!(
            "  the archive does not conform to RFC 8493 §4.4; the bag's content on its own: {}",
            content.describe()
        );
    }
    output::problems(
        &report.problems,
        global.verbose > 0 || !report.verdict.passed() || report.counts.warnings <= 20,
        "  ",
    );
    print_owed(report);
}

/// The files fetch.txt still owes: what `qoima fetch` would get, and how it would check them.
fn print_owed(report: &BagReport) {
    if report.owed.is_empty() {
        return;
    }
    output::stderrln!(
        "  fetch.txt still owes {} file(s); `qoima fetch {}` gets and verifies them:",
        report.owed.len(),
        qoima::paths::printable(&report.bag)
    );
    for owed in &report.owed {
        let size = owed
            .length
            .map(|length| format!("{length} bytes"))
            .unwrap_or_else(|| "size not given".into());
        let sums: Vec<String> = owed
            .checksums
            .iter()
            .map(|(algorithm, digest)| format!("{algorithm} {digest}"))
            .collect();
        output::stderrln!(
            "    {} ({size}; {}) from {}",
            qoima::paths::printable(&owed.path),
            sums.join(", "),
            qoima::paths::printable(&owed.url)
        );
    }
}
