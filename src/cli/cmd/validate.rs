//! `qoima validate`.

use serde::Serialize;

use qoima::bagit::{BagReport, Mode, ValidateOptions};
use qoima::error::Code;
use qoima::error::Problem;

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

pub fn run(args: &ValidateArgs, global: &Global) -> anyhow::Result<Exit> {
    let allow = args
        .allow
        .iter()
        .map(|code| code.parse::<Code>())
        .collect::<Result<Vec<_>, _>>()?;
    let opts = ValidateOptions {
        mode: if args.fast {
            Mode::Fast
        } else if args.completeness_only {
            Mode::Completeness
        } else {
            Mode::Full
        },
        strict: args.strict,
        allow,
        max_problems: args.max_problems,
    };
    let limits = super::serialize::limits(&args.limits)?;
    let explicit = args
        .profile
        .as_deref()
        .map(qoima::profile::Profile::resolve)
        .transpose()?;
    let engine = super::engine(global)?;
    let show = super::show_progress(global);
    let mut reports = Vec::new();
    let mut exit = Exit::Ok;
    for path in &args.bags {
        let mut report = match qoima::store::open(path, &limits, opts.mode == Mode::Full) {
            Ok((store, format)) => {
                let (bytes, files) = if show && opts.mode == Mode::Full {
                    payload_size(&*store)
                } else {
                    (0, 0)
                };
                let bar = Bar::new("validating", bytes, files, show && opts.mode == Mode::Full);
                let mut report = qoima::package::verify::validate(&*store, &opts, &engine, &bar);
                bar.finish();
                use qoima::profile::Chosen;
                let profile = match &explicit {
                    Some(problem) => Some((problem.clone(), Chosen::ByUser)),
                    None => named_profile(&*store, path, &args.profiles_dir)
                        .map(|problem| (problem, Chosen::ByBag)),
                };
                if let Some((problem, chosen)) = profile {
                    let facts = qoima::profile::BagFacts::from_store(
                        &*store,
                        format.map(|f| f.media_type()),
                    );
                    // A listing that fails has been reported by validation already.
                    if let Ok(f) = facts {
                        report.absorb(qoima::profile::check_chosen(&problem, &f, chosen), &opts);
                    }
                    report.profile = Some(problem.display_name());
                }
                report.judge_serialization(format);
                report
            }
            Err(error) => {
                let is_file = std::fs::metadata(path).is_ok_and(|m| m.is_file());
                let problem = if is_file {
                    Problem::new(
                        Code::ArchiveUnreadable,
                        format!(
                            "cannot read {} as a serialized bag: {error}",
                            path.display()
                        ),
                    )
                } else {
                    Problem::new(
                        Code::NotABag,
                        format!("cannot read {}: {error}", path.display()),
                    )
                };
                qoima::bagit::validate::unopened(path.display().to_string(), problem, &opts)
            }
        };
        report.bag = path.display().to_string();
        exit = exit.merge(Exit::from_code(report.verdict.exit_code()));
        if !global.json || !global.quiet {
            print_text(&report, global);
        }
        reports.push(report);
    }
    if global.json {
        let passed = reports
            .iter()
            .filter(|report| report.verdict.passed())
            .count();
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

/// The profile a bag names in `BagIt-Profile-Identifier`, when qoima knows it: a built-in,
/// or a JSON profile in a `profiles/` folder beside the bag or in `--profiles-dir`. Only
/// bag-info.txt is read to find out.
fn named_profile(
    store: &dyn qoima::store::Store,
    bag: &std::path::Path,
    dirs: &[std::path::PathBuf],
) -> Option<qoima::profile::Profile> {
    use std::io::Read;
    let mut text = String::new();
    store
        .open("bag-info.txt")
        .ok()?
        .take(1 << 20)
        .read_to_string(&mut text)
        .ok()?;
    let id = text.lines().find_map(|line| {
        let (label, value) = line.split_once(':')?;
        label
            .trim()
            .eq_ignore_ascii_case("BagIt-Profile-Identifier")
            .then(|| value.trim().to_string())
    })?;
    let beside = std::path::absolute(bag)
        .ok()
        .and_then(|bag| bag.parent().map(|parent| parent.join("profiles")));
    let mut search: Vec<&std::path::Path> = dirs.iter().map(|dir| dir.as_path()).collect();
    if let Some(bag) = &beside {
        search.push(bag);
    }
    qoima::profile::known(&id, &search)
}

/// The bar's size: every file of the bag (tag files are hashed too).
fn payload_size(store: &dyn qoima::store::Store) -> (u64, u64) {
    let entries = store.list().unwrap_or_default();
    let files = entries.iter().filter(|entry| entry.is_readable_file());
    files.fold((0, 0), |(bytes, count), entry| {
        (bytes + entry.size, count + 1)
    })
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
