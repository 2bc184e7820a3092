//! `qoima package`.

use serde::Serialize;

use qoima::bagit::{BagError, BagOptions};
use qoima::package::run::{self, PackageOptions, PackageReport};

use super::super::Exit;
use super::super::args::{Global, PackageArgs};
use super::super::output;
use super::super::progress::Bar;

#[derive(Serialize)]
struct Report<'a> {
    qoima_version: &'static str,
    command: &'static str,
    #[serde(flatten)]
    package: Option<&'a PackageReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    archive: Option<&'a qoima::archive::write::ArchiveSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Why nothing was written, when refused before the check (`BAG-083`, `BAG-084`).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    problems: &'a [qoima::error::Problem],
    exit_code: u8,
}

pub fn run(a: &PackageArgs, g: &Global) -> anyhow::Result<Exit> {
    let mut opts = PackageOptions {
        check: super::check::options(&a.check)?,
        bag: BagOptions {
            algorithms: super::bag::algorithms(&a.algorithms)?,
            info: super::bag::info(&a.info)?,
            follow_links: false,
            link: a.link,
            date: super::bag::bagging_date(&a.info)?,
            tag_files: super::bag::tag_files(&a.info)?,
            exclude: super::bag::exclusions(a.exclude_junk, &a.exclude),
        },
        force: a.force,
    };
    // What the bag leaves out, the check does not judge.
    opts.check.exclude = opts.bag.exclude.clone();
    let mut names = vec!["mets.xml", "metadata/dc.xml", "metadata/report.json"];
    let user: Vec<String> = opts.bag.tag_files.iter().map(|(n, _)| n.clone()).collect();
    for n in &user {
        if names.contains(&n.as_str()) {
            anyhow::bail!("--tag-file {n:?}: qoima package writes that file itself");
        }
    }
    names.extend(user.iter().map(String::as_str));
    let profile = super::bag::for_profile(
        a.profile.as_deref(),
        &mut opts.bag,
        &names,
        super::serialize::format(&a.archive),
    )?;
    let engine = super::engine(g)?;
    super::serialize::check_flags(&a.archive)?;
    let fmt = super::serialize::format(&a.archive);
    // check, copy and hash, sync, describe and write the tag files (and serialize)
    let bar = Bar::staged(
        "packaging",
        if fmt.is_some() { 5 } else { 4 },
        0,
        0,
        super::show_progress(g),
    );
    let mut archive = None;
    let file = fmt.map(|f| qoima::store::with_extension(&a.output, f));
    let sums = file.as_deref().map(qoima::archive::write::checksum_path);
    let mut outputs = match &file {
        Some(f) => vec![(f.as_path(), "the archive")],
        None => vec![(a.output.as_path(), "the package")],
    };
    if let (Some(s), true) = (&sums, a.archive.checksum_file) {
        outputs.push((s.as_path(), "--checksum-file"));
    }
    let prepared = super::outputs::prepare(&a.collection, &outputs, g);
    let result = prepared.and_then(|()| match fmt {
        None => run::package(&a.collection, &a.output, &opts, &engine, &bar),
        Some(f) => {
            let file = qoima::store::with_extension(&a.output, f);
            if std::fs::symlink_metadata(&file).is_ok() && !a.force {
                Err(BagError::Exists(file))
            } else {
                // Packaged beside the archive, payload hard-linked where possible, then
                // written into the archive, which replaces an old one only when complete.
                let staged = super::serialize::staging_dir(&file);
                let mut staged_opts = opts.clone();
                staged_opts.bag.link = true;
                staged_opts.force = false;
                match run::package(&a.collection, &staged, &staged_opts, &engine, &bar) {
                    Ok(mut r) if r.bag.is_some() => {
                        match super::serialize::finish(&staged, &file, &a.archive, a.force, &bar) {
                            Ok(arch) => {
                                if let Some(b) = r.bag.as_mut() {
                                    b.bag = file;
                                }
                                archive = Some(arch);
                                Ok(r)
                            }
                            Err(e) => Err(e),
                        }
                    }
                    other => {
                        let _ = std::fs::remove_dir_all(&staged);
                        other
                    }
                }
            }
        }
    });
    bar.finish();
    let nonconforming: Vec<qoima::error::Problem> = match (&result, &profile) {
        (Ok(r), Some(p)) => r
            .bag
            .as_ref()
            .map(|b| super::bag::conformance(p, &b.bag))
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let (exit, report, error) = match &result {
        Ok(r) if r.outcome == "packaged" && nonconforming.iter().any(|p| p.is_error()) => {
            (Exit::Invalid, Some(r), None)
        }
        Ok(r) if r.outcome == "packaged" => (Exit::Ok, Some(r), None),
        Ok(r) => (Exit::Invalid, Some(r), None),
        Err(e) => {
            let (exit, message, _) = super::outputs::failure(e);
            (exit, None, Some(message))
        }
    };
    let refusal = result
        .as_ref()
        .err()
        .map(BagError::problems)
        .unwrap_or_default();
    if g.json {
        output::json(&Report {
            qoima_version: qoima::VERSION,
            command: "package",
            package: report,
            archive: archive.as_ref(),
            error: error.clone(),
            problems: &refusal,
            exit_code: exit as u8,
        })?;
    }
    if let Some(r) = report {
        if !(g.quiet && exit == Exit::Ok) {
            super::check::print_text(&r.check, g);
        }
        match &r.bag {
            Some(b) => {
                if !g.quiet {
                    output::problems(&b.problems, true, "");
                    super::bag::print_excluded(b);
                    output::stderrln!(
                        "{}: packaged {} files, {} (bag with mets.xml, metadata/dc.xml, metadata/report.json; Payload-Oxum {})",
                        output::path(&b.bag),
                        b.files,
                        qoima::verdict::human_bytes(b.bytes),
                        b.payload_oxum
                    );
                }
                if let Some(arch) = &archive {
                    super::serialize::print(arch, &a.archive, g);
                }
            }
            None => output::stderrln!(
                "qoima: the collection has errors; nothing was written to {}",
                output::path(&a.output)
            ),
        }
    }
    if !nonconforming.is_empty() {
        output::stderrln!(
            "qoima: the package does not conform to {}:",
            profile
                .as_ref()
                .map(|p| p.display_name())
                .unwrap_or_default()
        );
        output::problems(&nonconforming, true, "  ");
    }
    output::problems(&refusal, true, "");
    if let Some(e) = error {
        output::stderrln!("qoima: {e}");
    }
    Ok(exit)
}
