//! Validation: is the bag complete, and is it valid (RFC 8493 section 3)?
//!
//! Every problem is collected; nothing stops at the first. Three depths:
//! - `Fast`: bagit.txt, bag-info.txt and the payload's count and size against Payload-Oxum.
//!   A pass means "complete according to Oxum", never "valid".
//! - `Completeness`: everything but the checksums.
//! - `Full`: completeness plus every checksum of every payload and tag manifest qoima can
//!   compute, each file read once for all of its algorithms.
//!
//! The steps, in the order [`validate`] takes them, each in its own file: `declared`
//! (bagit.txt, bag-info.txt, Payload-Oxum), `payload` (the files found), `manifests` (the
//! payload manifests read and resolved), `fetch_txt`, `tag_manifests`, `plan` (what to hash)
//! and `checksums` (full mode); `options` and `context` are what they share, `report` what
//! they fill. Imports point one way: from this file to the steps; from a step to
//! `manifests` (the parsed manifests) and to `options`, `context`, `report` and `plan`, which
//! import no step.

mod checksums;
mod context;
mod declared;
mod fetch_txt;
mod manifests;
mod options;
mod payload;
mod plan;
mod report;
mod tag_manifests;

use self::context::Context;
use self::options::Stopped;
pub use self::options::{Mode, Observer, ValidateOptions};
use self::plan::HashPlan;
pub use self::report::BagReport;
use super::declaration::{self, Declaration};
use super::fetch;
use crate::digest::{Engine, Progress};
use crate::error::{Code, Problem};
use crate::store::Store;
use crate::verdict::{self, Counts, Problems, Verdict};

/// Validates the bag in `store`.
pub fn validate(
    store: &dyn Store,
    opts: &ValidateOptions,
    engine: &Engine,
    progress: &dyn Progress,
) -> BagReport {
    validate_observed(store, opts, engine, progress, &|_, _| {})
}

/// [`validate`], handing every file's digests to `observe` as they are computed (an audit
/// compares them with the bag's baseline without reading the bag a second time).
pub fn validate_observed(
    store: &dyn Store,
    opts: &ValidateOptions,
    engine: &Engine,
    progress: &dyn Progress,
    observe: &Observer<'_>,
) -> BagReport {
    let mut report = BagReport::empty(store.location(), opts.mode);
    let entries = match engine.install(|| store.list()) {
        Ok(mut entries) => {
            entries.sort_unstable_by(|first, second| first.path.cmp(&second.path));
            entries
        }
        Err(error) => {
            report.problems.push(Problem::new(
                Code::NotABag,
                format!("cannot read {}: {error}", store.location()),
            ));
            return finish(report, opts, Verdict::Unreadable);
        }
    };
    let mut problems = Problems::new(opts.max_problems);
    // What the store found wrong while listing (hostile archive entries, left out).
    problems.extend(store.problems());
    let mut context = Context::new(store, problems, entries, observe);
    let pass = match run(&mut context, &mut report, opts, engine, progress) {
        Ok(pass) | Err(pass) => pass,
    };
    report.problems = context.problems.into_vec();
    finish(report, opts, pass)
}

/// The report for a bag that could not be opened at all (an archive that is not one).
pub fn unopened(location: String, problem: Problem, opts: &ValidateOptions) -> BagReport {
    let mut report = BagReport::empty(location, opts.mode);
    report.problems.push(problem);
    finish(report, opts, Verdict::Unreadable)
}

/// Sorts the problems (after `--strict`) and sets the verdict and counts from them; `pass`
/// is the verdict when nothing worse was found.
fn finish(mut report: BagReport, opts: &ValidateOptions, pass: Verdict) -> BagReport {
    if opts.strict {
        verdict::apply_strict(&mut report.problems, &opts.allow);
    }
    verdict::sort_problems(&mut report.problems);
    report.verdict = Verdict::from_problems(&report.problems, pass);
    report.counts = Counts::of(&report.problems);
    report
}

/// Every step of a validation, in order. Returns the verdict when nothing worse is found:
/// `Ok` at the end of the mode's steps, `Err` when a step stopped it early.
fn run(
    context: &mut Context<'_>,
    report: &mut BagReport,
    opts: &ValidateOptions,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<Verdict, Stopped> {
    declared::note_interrupted_in_place(context);
    let declared = declared::declaration(context, report)?;
    let info_file = declared.version.info_file();
    let info = declared::bag_info(context, info_file, declared);
    payload::check_data_dir(context);
    let payload = payload::scan(context);
    payload::count(context, &payload, report);
    declared::check_oxum(context, &info, info_file, report, opts.mode)?;
    if opts.mode == Mode::Fast {
        return Ok(Verdict::CompleteByOxum);
    }
    let manifests = manifests::read(context, declared, engine);
    stop_if_undecodable(context)?;
    let payload_algorithms = manifests::check_payload_algorithms(context, &manifests.payload);
    let fetch_entries = fetch_txt::read(context, declared);
    stop_if_undecodable(context)?;
    let mut plan = HashPlan::new(context.entries.len());
    let resolved =
        manifests::resolve_payload_entries(context, &manifests.payload, &fetch_entries, &mut plan);
    manifests::check_names(context, &manifests.payload);
    report.owed = fetch::owed(&fetch_entries, &resolved.pending, &manifests.payload);
    payload::check_every_file_listed(
        context,
        &payload,
        &resolved.listed,
        &manifests.payload,
        declared.version,
    );
    fetch_txt::check_listed(context, &fetch_entries, &manifests.payload);
    tag_manifests::check(context, &manifests, &info, &payload_algorithms, &mut plan);
    payload::lint(context, &payload);
    report.algorithms = manifests.algorithms(&payload_algorithms);
    if opts.mode == Mode::Completeness {
        return Ok(Verdict::Complete);
    }
    checksums::verify(context, report, &plan, &manifests, engine, progress);
    Ok(Verdict::Valid)
}

/// A tag file that cannot be decoded says nothing qoima can judge the payload by: every file
/// would look unlisted. The bag could not be checked; stop before completeness.
fn stop_if_undecodable(context: &Context<'_>) -> Result<(), Stopped> {
    if context
        .problems
        .iter()
        .any(|problem| problem.code == Code::TagFileUndecodable)
    {
        return Err(Verdict::Unreadable);
    }
    Ok(())
}

/// Reads the declaration of a bag (for tools that only need the version).
pub fn read_declaration(store: &dyn Store) -> Option<Declaration> {
    let mut reader = store.open("bagit.txt").ok()?;
    declaration::parse(&mut reader, &mut Problems::default())
}
