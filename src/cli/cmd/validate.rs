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
        max_problems: a.max_problems,
    };
    let limits = super::serialize::limits(&a.limits)?;
    let explicit = a
        .profile
        .as_deref()
        .map(qoima::profile::Profile::resolve)
        .transpose()?;
    let engine = super::engine(g)?;
    let show = super::show_progress(g);
    let mut reports = Vec::new();
    let mut exit = Exit::Ok;
    for path in &a.bags {
        let mut r = match qoima::store::open(path, &limits, opts.mode == Mode::Full) {
            Ok((store, format)) => {
                let (bytes, files) = if show && opts.mode == Mode::Full {
                    payload_size(&*store)
                } else {
                    (0, 0)
                };
                let bar = Bar::new("validating", bytes, files, show && opts.mode == Mode::Full);
                let mut r = qoima::package::verify::validate(&*store, &opts, &engine, &bar);
                bar.finish();
                use qoima::profile::Chosen;
                let profile = match &explicit {
                    Some(p) => Some((p.clone(), Chosen::ByUser)),
                    None => {
                        named_profile(&*store, path, &a.profiles_dir).map(|p| (p, Chosen::ByBag))
                    }
                };
                if let Some((p, chosen)) = profile {
                    let facts = qoima::profile::BagFacts::from_store(
                        &*store,
                        format.map(|f| f.media_type()),
                    );
                    // A listing that fails has been reported by validation already.
                    if let Ok(f) = facts {
                        r.absorb(qoima::profile::check_chosen(&p, &f, chosen), &opts);
                    }
                    r.profile = Some(p.display_name());
                }
                r.judge_serialization(format);
                r
            }
            Err(e) => {
                let is_file = std::fs::metadata(path).is_ok_and(|m| m.is_file());
                let p = if is_file {
                    Problem::new(
                        Code::ArchiveUnreadable,
                        format!("cannot read {} as a serialized bag: {e}", path.display()),
                    )
                } else {
                    Problem::new(
                        Code::NotABag,
                        format!("cannot read {}: {e}", path.display()),
                    )
                };
                qoima::bagit::validate::unopened(path.display().to_string(), p, &opts)
            }
        };
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
    let id = text.lines().find_map(|l| {
        let (label, value) = l.split_once(':')?;
        label
            .trim()
            .eq_ignore_ascii_case("BagIt-Profile-Identifier")
            .then(|| value.trim().to_string())
    })?;
    let beside = std::path::absolute(bag)
        .ok()
        .and_then(|b| b.parent().map(|p| p.join("profiles")));
    let mut search: Vec<&std::path::Path> = dirs.iter().map(|d| d.as_path()).collect();
    if let Some(b) = &beside {
        search.push(b);
    }
    qoima::profile::known(&id, &search)
}

/// The bar's size: every file of the bag (tag files are hashed too).
fn payload_size(store: &dyn qoima::store::Store) -> (u64, u64) {
    let entries = store.list().unwrap_or_default();
    let files = entries.iter().filter(|e| e.is_readable_file());
    files.fold((0, 0), |(b, n), e| (b + e.size, n + 1))
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
    let profile = r
        .profile
        .as_deref()
        .map(|p| format!(" against profile {p}"))
        .unwrap_or_default();
    output::stderrln!(
        "{}: {}{profile} ({version}{} payload files, {}{}{})",
        qoima::paths::printable(&r.bag),
        r.verdict.describe(),
        r.payload_files,
        qoima::verdict::human_bytes(r.payload_bytes),
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
    if let (Some(false), Some(content)) = (r.serialization_conforms, r.content_verdict) {
        output::stderrln!(
            "  the archive does not conform to RFC 8493 §4.4; the bag's content on its own: {}",
            content.describe()
        );
    }
    output::problems(
        &r.problems,
        g.verbose > 0 || !r.verdict.passed() || r.counts.warnings <= 20,
        "  ",
    );
    print_owed(r);
}

/// The files fetch.txt still owes: what `qoima fetch` would get, and how it would check them.
fn print_owed(r: &BagReport) {
    if r.owed.is_empty() {
        return;
    }
    output::stderrln!(
        "  fetch.txt still owes {} file(s); `qoima fetch {}` gets and verifies them:",
        r.owed.len(),
        qoima::paths::printable(&r.bag)
    );
    for o in &r.owed {
        let size = o
            .length
            .map(|l| format!("{l} bytes"))
            .unwrap_or_else(|| "size not given".into());
        let sums: Vec<String> = o
            .checksums
            .iter()
            .map(|(a, d)| format!("{a} {d}"))
            .collect();
        output::stderrln!(
            "    {} ({size}; {}) from {}",
            qoima::paths::printable(&o.path),
            sums.join(", "),
            qoima::paths::printable(&o.url)
        );
    }
}
