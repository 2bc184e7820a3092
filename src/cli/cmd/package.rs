//! `qoima package`: the flags in, the collection checked and packaged (into a folder or an
//! archive) and held to its profile, the outcome rendered.

use serde::Serialize;

use qoima::archive::write::ArchiveSummary;
use qoima::error::Problem;
use qoima::package::run::{PackageOptions, PackageReport};
use qoima::package::stage::{self, Destination};
use qoima::profile::Profile;

use super::super::Exit;
use super::super::args::{Global, PackageArgs};
use super::super::outcome::{EmptyProblems, Outcome};
use super::super::output;
use super::super::progress::Bar;
use super::bag_options::{self, BagFlags};

/// The tag files `package` writes itself.
const OWN_TAG_FILES: [&str; 3] = ["mets.xml", "metadata/dc.xml", "metadata/report.json"];

/// What `package` made, in `--json`: the package report's fields, then the archive's.
#[derive(Serialize, Default)]
struct Packaged<'a> {
    #[serde(flatten)]
    package: Option<&'a PackageReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    archive: Option<&'a ArchiveSummary>,
}

pub fn run(args: &PackageArgs, global: &Global) -> anyhow::Result<Exit> {
    let mut opts = options(args)?;
    let names = tag_file_names(&opts)?;
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let format = super::serialize::format(&args.archive);
    let profile = bag_options::for_profile(args.profile.as_deref(), &mut opts.bag, &names, format)?;
    let engine = super::engine(global)?;
    let destination = Destination::new(&args.output, super::serialize::plan(&args.archive)?);
    // check, copy and hash, sync, describe and write the tag files (and serialize)
    let stages = match destination {
        Destination::Archive { .. } => 5,
        Destination::Folder(_) => 4,
    };
    let bar = Bar::staged("packaging", stages, 0, 0, super::show_progress(global));
    let result =
        super::outputs::prepare_destination(&args.collection, &destination, "the package", global)
            .and_then(|()| stage::package(&args.collection, &destination, &opts, &engine, &bar));
    bar.finish();
    let nonconforming: Vec<Problem> = match (&result, &profile) {
        (Ok((report, _)), Some(profile)) => report
            .bag
            .as_ref()
            .map(|made| qoima::profile::conform(profile, &made.bag))
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let outcome = match &result {
        Ok((report, archive)) => {
            let packaged = report.outcome == "packaged";
            let exit = if packaged && !nonconforming.iter().any(Problem::is_error) {
                Exit::Ok
            } else {
                Exit::Invalid
            };
            let body = Packaged {
                package: Some(report),
                archive: archive.as_ref(),
            };
            Outcome::done("package", body, Vec::new(), exit)
        }
        Err(e) => Outcome::failed("package", Packaged::default(), e),
    };
    let exit = outcome.exit();
    outcome
        .empty_problems(EmptyProblems::Omitted)
        .render(global, |packaged| {
            print_packaged(packaged, exit, args, global);
            print_nonconforming(&nonconforming, profile.as_ref());
        })
}

/// The library's options: how the collection is checked, and what goes into the bag.
fn options(args: &PackageArgs) -> anyhow::Result<PackageOptions> {
    let mut opts = PackageOptions {
        check: super::check::options(&args.check)?,
        bag: bag_options::options(&BagFlags {
            algorithms: &args.algorithms,
            info: &args.info,
            follow_links: false,
            link: args.link,
            exclude_junk: args.exclude_junk,
            exclude: &args.exclude,
        })?,
        force: args.force,
    };
    // What the bag leaves out, the check does not judge.
    opts.check.exclude = opts.bag.exclude.clone();
    Ok(opts)
}

/// Every extra tag file of the package: its own, then the user's `--tag-file`s, which may not
/// take one of its own names.
fn tag_file_names(opts: &PackageOptions) -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = OWN_TAG_FILES.iter().map(|name| name.to_string()).collect();
    for (name, _) in &opts.bag.tag_files {
        if OWN_TAG_FILES.contains(&name.as_str()) {
            anyhow::bail!("--tag-file {name:?}: qoima package writes that file itself");
        }
        names.push(name.clone());
    }
    Ok(names)
}

/// The check's report, then the bag's summary and the archive's (or why nothing was written).
fn print_packaged(packaged: &Packaged<'_>, exit: Exit, args: &PackageArgs, global: &Global) {
    let Some(report) = packaged.package else {
        return;
    };
    if !(global.quiet && exit == Exit::Ok) {
        super::check::print_text(&report.check, global);
    }
    let Some(made) = &report.bag else {
        output::stderrln!(
            "qoima: the collection has errors; nothing was written to {}",
            output::path(&args.output)
        );
        return;
    };
    if !global.quiet {
        output::problems(&made.problems, true, "");
        super::bag::print_excluded(made);
        output::stderrln!(
            "{}: packaged {} files, {} (bag with mets.xml, metadata/dc.xml, metadata/report.json; Payload-Oxum {})",
            output::path(&made.bag),
            made.files,
            qoima::verdict::human_bytes(made.bytes),
            made.payload_oxum
        );
    }
    if let Some(archive) = packaged.archive {
        super::serialize::print(archive, &args.archive, global);
    }
}

/// The profile's problems with the package just made.
fn print_nonconforming(nonconforming: &[Problem], profile: Option<&Profile>) {
    if nonconforming.is_empty() {
        return;
    }
    output::stderrln!(
        "qoima: the package does not conform to {}:",
        profile.map(|p| p.display_name()).unwrap_or_default()
    );
    output::problems(nonconforming, true, "  ");
}
