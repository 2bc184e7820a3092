//! `qoima bag`: the flags in, the bag made (in place, into a folder or into an archive) and
//! held to its profile, the outcome rendered. `--update` is `bag_update`.

use anyhow::bail;
use serde::Serialize;

use qoima::archive::write::ArchiveSummary;
use qoima::bagit::{self, BagError, BagSummary};
use qoima::error::Problem;
use qoima::package::stage::{self, Destination};

use super::super::Exit;
use super::super::args::{BagArgs, Global};
use super::super::outcome::Outcome;
use super::super::output;
use super::super::progress::Bar;
use super::bag_options::{self, BagFlags};

/// What `bag` made, in `--json`.
#[derive(Serialize, Default)]
struct Bagged<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    bag: Option<&'a BagSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    archive: Option<&'a ArchiveSummary>,
}

pub fn run(args: &BagArgs, global: &Global) -> anyhow::Result<Exit> {
    // In place, the folder is changed: one run at a time, and a second one is refused.
    let _lock = (args.rollback || args.output.is_none())
        .then(|| super::lock(&args.source, super::Contention::Refuse))
        .transpose()?;
    if args.rollback {
        return rollback(args, global);
    }
    if args.update.update {
        return super::bag_update::run(args, global);
    }
    let mut opts = bag_options::options(&BagFlags {
        algorithms: &args.algorithms,
        info: &args.info,
        follow_links: args.follow_links,
        link: args.link,
        exclude_junk: args.exclude_junk,
        exclude: &args.exclude,
    })?;
    // The tag files the user adds, which the profile may ask for.
    let names: Vec<String> = opts
        .tag_files
        .iter()
        .map(|(name, _)| name.clone())
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let format = super::serialize::format(&args.archive);
    let profile = bag_options::for_profile(args.profile.as_deref(), &mut opts, &names, format)?;
    let engine = super::engine(global)?;
    let destination = destination(args)?;
    // A new bag is hashed (and copied), synced, then given its tag files (then serialized);
    // the bar is sized by each stage as it begins.
    let stages = match &destination {
        Some(Destination::Archive { .. }) => 4,
        Some(Destination::Folder(_)) => 3,
        None => 0,
    };
    let bar = Bar::staged("scanning", stages, 0, 0, super::show_progress(global));
    let result = match &destination {
        Some(to) => super::outputs::prepare_destination(&args.source, to, "the bag", global)
            .and_then(|()| stage::bag(&args.source, to, &opts, &engine, &bar)),
        None => bagit::bag_in_place(&args.source, &opts, &engine, &bar).map(|made| (made, None)),
    };
    bar.finish();
    // A bag made for a profile is held to it at once: what prepare could not foresee is
    // reported now rather than by the repository.
    let result = result.map(|(mut made, archive)| {
        if let Some(profile) = &profile {
            made.problems
                .extend(qoima::profile::conform(profile, &made.bag));
        }
        (made, archive)
    });
    outcome(&result)
        .worded("bagged")
        .render(global, |bagged| print_bagged(bagged, args, global))
}

/// The outcome of making a bag: 1 when the bag has errors (its profile's, say).
fn outcome(result: &Result<(BagSummary, Option<ArchiveSummary>), BagError>) -> Outcome<Bagged<'_>> {
    match result {
        Ok((made, archive)) => {
            let exit = if made.problems.iter().any(Problem::is_error) {
                Exit::Invalid
            } else {
                Exit::Ok
            };
            let body = Bagged {
                bag: Some(made),
                archive: archive.as_ref(),
            };
            Outcome::done("bag", body, made.problems.clone(), exit)
        }
        Err(e) => Outcome::failed("bag", Bagged::default(), e),
    }
}

/// Where `-o` (and `--zip`, `--tar`, `--tar-gz`) put the bag; `None` in place.
fn destination(args: &BagArgs) -> anyhow::Result<Option<Destination>> {
    let plan = super::serialize::plan(&args.archive)?;
    match (&args.output, plan) {
        (Some(out), plan) => Ok(Some(Destination::new(out, plan))),
        (None, Some(_)) => bail!("--zip, --tar and --tar-gz write a new file: name it with -o"),
        (None, None) => Ok(None),
    }
}

/// The summary of a bag made: what was left out, the bag's line, and the archive's.
fn print_bagged(bagged: &Bagged<'_>, args: &BagArgs, global: &Global) {
    let Some(made) = bagged.bag else {
        return;
    };
    if !global.quiet {
        print_excluded(made);
        output::stderrln!(
            "{}: bagged {} files, {} ({}; Payload-Oxum {})",
            output::path(&made.bag),
            made.files,
            qoima::verdict::human_bytes(made.bytes),
            made.algorithms
                .iter()
                .map(|algorithm| algorithm.name())
                .collect::<Vec<_>>()
                .join(", "),
            made.payload_oxum
        );
    }
    if let Some(archive) = bagged.archive {
        super::serialize::print(archive, &args.archive, global);
    }
}

/// `--rollback`: a refusal (a journal that is not qoima's) is reported like a bagging refusal.
fn rollback(args: &BagArgs, global: &Global) -> anyhow::Result<Exit> {
    let result = bagit::rollback(&args.source);
    let body = Bagged::default();
    let outcome = match &result {
        Ok(_) => Outcome::done("bag", body, Vec::new(), Exit::Ok),
        Err(e @ BagError::Refused(problems)) => {
            Outcome::not_done("bag", body, Exit::Invalid, e.to_string(), problems.clone())
        }
        Err(e) => Outcome::not_done("bag", body, Exit::Error, e.to_string(), Vec::new()),
    };
    outcome.worded("rolled-back").render(global, |_| {
        if let (Ok(restored), false) = (&result, global.quiet) {
            output::stderrln!(
                "{}: rolled back; {restored} entries restored",
                output::path(&args.source)
            );
        }
    })
}

/// The files `--exclude` and `--exclude-junk` left out of the bag, one a line.
pub(super) fn print_excluded(made: &BagSummary) {
    if made.excluded.is_empty() {
        return;
    }
    output::stderrln!(
        "left out of the bag ({} file(s), --exclude/--exclude-junk):",
        made.excluded.len()
    );
    for rel in &made.excluded {
        output::stderrln!("  {}", qoima::paths::printable(rel));
    }
}
