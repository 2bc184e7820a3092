//! `qoima bag --update BAG`: turn the options into `UpdateOptions`, record the change of a
//! sealed bag in its custody log (signed with `--sign`), and report what changed.

use anyhow::{Context, bail};
use serde::Serialize;

use qoima::bagit::update::{self, Recorder, UpdateOptions, UpdateSummary};
use qoima::bagit::{self, BagError};
use qoima::digest::Algorithm;
use qoima::seal::custody::{self, Custodian};
use qoima::seal::{self, SealError};

use super::super::Exit;
use super::super::args::{BagArgs, Global};
use super::super::outcome::{self, Outcome};
use super::super::output;
use super::super::progress::Bar;

/// What `bag --update` did, in `--json`.
#[derive(Serialize)]
struct Updated<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    update: Option<&'a UpdateSummary>,
}

/// The caller holds the bag's lock (`bag::run` takes it).
pub fn run(args: &BagArgs, global: &Global) -> anyhow::Result<Exit> {
    refuse_creation_options(args)?;
    let opts = UpdateOptions {
        add: parse_algorithms(&args.update.add_algorithm, "--add-algorithm")?,
        remove: parse_algorithms(&args.update.remove_algorithm, "--remove-algorithm")?,
        required: profile_algorithms(&args.source),
        force: args.update.force,
    };
    let signer = signer(args)?;
    let engine = super::engine(global)?;
    let bar = Bar::staged("scanning", 1, 0, 0, super::show_progress(global));
    let recorder = |summary: &UpdateSummary, root: Option<&[u8]>| match &signer {
        Some(custodian) => custody::record_update(&args.source, custodian, summary, root),
        None => Ok(None),
    };
    let record: Option<&Recorder<'_>> = signer.is_some().then_some(&recorder as &Recorder<'_>);
    let result = update::update_bag(&args.source, &opts, &engine, &bar, record);
    bar.finish();
    report(args, global, result)
}

/// Options that only make sense when a bag is made.
fn refuse_creation_options(args: &BagArgs) -> anyhow::Result<()> {
    let alg = &args.algorithms;
    let algorithms = !alg.algorithm.is_empty()
        || [
            alg.md5, alg.sha1, alg.sha224, alg.sha256, alg.sha384, alg.sha512, alg.blake3,
        ]
        .contains(&true);
    if algorithms {
        bail!(
            "--update keeps the bag's algorithms: change them with --add-algorithm and --remove-algorithm"
        );
    }
    let info = super::bag_options::info(&args.info)?;
    if !info.elements().is_empty()
        || args.info.bagging_date.is_some()
        || !args.info.tag_file.is_empty()
    {
        bail!(
            "--update keeps bag-info.txt and the tag files as they are: edit them in the bag, then run --update to hash them again"
        );
    }
    if args.profile.is_some()
        || args.link
        || args.follow_links
        || super::serialize::format(&args.archive).is_some()
    {
        bail!(
            "--update cannot be combined with --profile, --link, --follow-links or an archive format"
        );
    }
    Ok(())
}

fn parse_algorithms(names: &[String], option: &str) -> anyhow::Result<Vec<Algorithm>> {
    names
        .iter()
        .map(|n| {
            n.parse::<Algorithm>()
                .with_context(|| format!("{option} {n:?}"))
        })
        .collect()
}

/// The algorithms the profile named by the bag's BagIt-Profile-Identifier requires (none when
/// it names no profile qoima knows).
fn profile_algorithms(bag: &std::path::Path) -> Vec<Algorithm> {
    let Ok(bytes) = std::fs::read(bag.join("bag-info.txt")) else {
        return Vec::new();
    };
    let info = bagit::baginfo::parse(
        &bytes[..],
        "bag-info.txt",
        bagit::text::Encoding::Utf8,
        bagit::Version::V1_0,
        &mut qoima::verdict::Problems::default(),
    );
    let Some(id) = info.get("BagIt-Profile-Identifier") else {
        return Vec::new();
    };
    match qoima::profile::Profile::resolve(id.trim()) {
        Ok(p) => p
            .manifests_required
            .iter()
            .filter_map(|n| Algorithm::from_manifest_name(n))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// `--sign KEY --agent NAME`, opened before anything is read.
fn signer(args: &BagArgs) -> anyhow::Result<Option<Custodian>> {
    let Some(key) = &args.update.sign else {
        return Ok(None);
    };
    let Some(agent) = args.update.agent.clone() else {
        bail!("--sign needs --agent NAME: the custody entry says who made the change");
    };
    let (secret, public) = seal::load_secret_key(key, || {
        crate::cli::passphrase::read(
            args.update.passphrase_file.as_deref(),
            crate::cli::passphrase::CUSTODIAN_KEY,
        )
        .map_err(|e| SealError::Key(e.to_string()))
    })
    .with_context(|| format!("cannot use the key {}", key.display()))?;
    Ok(Some(Custodian {
        secret,
        public,
        agent,
    }))
}

/// The outcome of the update, rendered.
fn report(
    args: &BagArgs,
    global: &Global,
    result: Result<UpdateSummary, BagError>,
) -> anyhow::Result<Exit> {
    let outcome = match &result {
        Ok(summary) => {
            let body = Updated {
                update: Some(summary),
            };
            Outcome::done("bag", body, summary.problems.clone(), Exit::Ok).worded(
                if summary.resumed {
                    "resumed"
                } else {
                    "updated"
                },
            )
        }
        Err(e) => {
            let (exit, message, problems) = outcome::failure(e);
            let message = match e {
                BagError::Refused(p) => format!(
                    "{} was not updated ({} problem(s)); nothing was changed",
                    args.source.display(),
                    p.len()
                ),
                _ => message,
            };
            Outcome::not_done("bag", Updated { update: None }, exit, message, problems)
                .worded("updated")
        }
    };
    outcome.render(global, |updated| {
        if let (Some(summary), false) = (updated.update, global.quiet) {
            print_summary(args, summary);
        }
    })
}

fn print_summary(args: &BagArgs, summary: &UpdateSummary) {
    let bag = output::path(&args.source);
    if summary.resumed {
        output::stderrln!(
            "{bag}: finished an interrupted update (Payload-Oxum {})",
            summary.payload_oxum
        );
        return;
    }
    for (sign, names) in [
        ("+", &summary.added),
        ("-", &summary.removed),
        ("~", &summary.changed),
    ] {
        for name in names {
            output::stderrln!("  {sign} {}", qoima::paths::printable(name));
        }
    }
    let names = |list: &[Algorithm]| {
        list.iter()
            .map(|algorithm| algorithm.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    output::stderrln!(
        "{bag}: updated: {} added, {} removed, {} changed; {} tag file(s) hashed again; manifests {}{}{}; Payload-Oxum {}",
        summary.added.len(),
        summary.removed.len(),
        summary.changed.len(),
        summary.tag_files.len(),
        names(&summary.algorithms),
        if summary.algorithms_added.is_empty() {
            String::new()
        } else {
            format!(" (added {})", names(&summary.algorithms_added))
        },
        if summary.algorithms_removed.is_empty() {
            String::new()
        } else {
            format!(" (removed {})", names(&summary.algorithms_removed))
        },
        summary.payload_oxum
    );
    if let Some(entry) = &summary.custody_entry {
        output::stderrln!("{bag}: the change is recorded, signed, in {entry}");
    }
}
