//! `qoima bag`.

use anyhow::{Context, bail};
use serde::Serialize;

use qoima::bagit::{self, BagError, BagInfo, BagOptions, BagSummary};
use qoima::digest::Algorithm;
use qoima::error::Problem;

use super::super::Exit;
use super::super::args::{AlgorithmArgs, BagArgs, Global, InfoArgs};
use super::super::output;
use super::super::progress::Bar;

/// The largest file `--tag-file` copies in (it is held in memory while the bag is made).
const TAG_FILE_LIMIT: u64 = 256 << 20;

#[derive(Serialize)]
struct Report<'a> {
    qoima_version: &'static str,
    command: &'static str,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    bag: Option<&'a BagSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    archive: Option<&'a qoima::archive::write::ArchiveSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    problems: &'a [Problem],
    exit_code: u8,
}

pub fn run(a: &BagArgs, g: &Global) -> anyhow::Result<Exit> {
    // In place, the folder is changed: one run at a time, and a second one is refused.
    let _lock = (a.rollback || a.output.is_none())
        .then(|| super::lock(&a.source, super::Contention::Refuse))
        .transpose()?;
    if a.rollback {
        return rollback(a, g);
    }
    if a.update.update {
        return super::bag_update::run(a, g);
    }
    let mut opts = BagOptions {
        algorithms: algorithms(&a.algorithms)?,
        info: info(&a.info)?,
        follow_links: a.follow_links,
        link: a.link,
        date: bagging_date(&a.info)?,
        tag_files: tag_files(&a.info)?,
        exclude: exclusions(a.exclude_junk, &a.exclude),
    };
    let names: Vec<String> = opts.tag_files.iter().map(|(n, _)| n.clone()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let profile = for_profile(
        a.profile.as_deref(),
        &mut opts,
        &names,
        super::serialize::format(&a.archive),
    )?;
    let engine = super::engine(g)?;
    // A new bag is hashed (and copied), synced, then given its tag files; the bar is sized
    // by each stage as it begins.
    super::serialize::check_flags(&a.archive)?;
    let fmt = super::serialize::format(&a.archive);
    if fmt.is_some() && a.output.is_none() {
        bail!("--zip, --tar and --tar-gz write a new file: name it with -o");
    }
    let stages = match (&a.output, fmt) {
        (Some(_), Some(_)) => 4,
        (Some(_), None) => 3,
        _ => 0,
    };
    let bar = Bar::staged("scanning", stages, 0, 0, super::show_progress(g));
    let mut archive = None;
    let prepared = match (&a.output, fmt) {
        (Some(out), Some(f)) => {
            let file = qoima::store::with_extension(out, f);
            let sums = qoima::archive::write::checksum_path(&file);
            let mut outputs = vec![(file.as_path(), "the archive")];
            if a.archive.checksum_file {
                outputs.push((sums.as_path(), "--checksum-file"));
            }
            super::outputs::prepare(&a.source, &outputs, g)
        }
        (Some(out), None) => super::outputs::prepare(&a.source, &[(out, "the bag")], g),
        (None, _) => Ok(()),
    };
    let result = prepared.and_then(|()| match (&a.output, fmt) {
        (Some(out), Some(f)) => {
            let file = qoima::store::with_extension(out, f);
            if std::fs::symlink_metadata(&file).is_ok() {
                Err(BagError::Exists(file))
            } else {
                // The bag is made beside the archive with its payload hard-linked where the
                // filesystem allows (the source is only read), then written into the archive.
                let staged = super::serialize::staging_dir(&file);
                let staged_opts = BagOptions {
                    link: true,
                    ..opts.clone()
                };
                match bagit::create_bag(&a.source, &staged, &staged_opts, &engine, &bar) {
                    Ok(mut s) => {
                        match super::serialize::finish(&staged, &file, &a.archive, false, &bar) {
                            Ok(arch) => {
                                s.bag = file;
                                archive = Some(arch);
                                Ok(s)
                            }
                            Err(e) => Err(e),
                        }
                    }
                    Err(e) => {
                        let _ = std::fs::remove_dir_all(&staged);
                        Err(e)
                    }
                }
            }
        }
        (Some(out), None) => bagit::create_bag(&a.source, out, &opts, &engine, &bar),
        (None, _) => bagit::bag_in_place(&a.source, &opts, &engine, &bar),
    });
    bar.finish();
    // A bag made for a profile is held to it at once: what prepare could not foresee is
    // reported now rather than by the repository.
    let result = match (result, &profile) {
        (Ok(mut s), Some(p)) => {
            s.problems.extend(conformance(p, &s.bag));
            Ok(s)
        }
        (r, _) => r,
    };
    let (exit, summary, error, problems) = match &result {
        Ok(s) if s.problems.iter().any(Problem::is_error) => {
            (Exit::Invalid, Some(s), None, s.problems.clone())
        }
        Ok(s) => (Exit::Ok, Some(s), None, s.problems.clone()),
        Err(e) => {
            let (exit, message, problems) = super::outputs::failure(e);
            (exit, None, Some(message), problems)
        }
    };
    if g.json {
        output::json(&Report {
            qoima_version: qoima::VERSION,
            command: "bag",
            outcome: match exit {
                _ if summary.is_some() => "bagged",
                Exit::Ok => "bagged",
                Exit::Invalid => "refused",
                Exit::Error => "error",
            },
            bag: summary,
            archive: archive.as_ref(),
            error: error.clone(),
            problems: &problems,
            exit_code: exit as u8,
        })?;
    }
    match (summary, error) {
        (Some(s), _) => {
            if !g.quiet {
                output::problems(&problems, true, "");
                print_excluded(s);
                output::stderrln!(
                    "{}: bagged {} files, {} ({}; Payload-Oxum {})",
                    output::path(&s.bag),
                    s.files,
                    qoima::verdict::human_bytes(s.bytes),
                    s.algorithms
                        .iter()
                        .map(|a| a.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                    s.payload_oxum
                );
            }
            if let Some(arch) = &archive {
                super::serialize::print(arch, &a.archive, g);
            }
        }
        (None, Some(e)) => {
            output::problems(&problems, true, "");
            output::stderrln!("qoima: {e}");
        }
        (None, None) => {}
    }
    Ok(exit)
}

/// `--rollback`: a refusal (a journal that is not qoima's) is reported like a bagging refusal.
fn rollback(a: &BagArgs, g: &Global) -> anyhow::Result<Exit> {
    let result = bagit::rollback(&a.source);
    let (exit, error, problems) = match &result {
        Ok(_) => (Exit::Ok, None, Vec::new()),
        Err(e @ BagError::Refused(p)) => (Exit::Invalid, Some(e.to_string()), p.clone()),
        Err(e) => (Exit::Error, Some(e.to_string()), Vec::new()),
    };
    if g.json {
        output::json(&Report {
            qoima_version: qoima::VERSION,
            command: "bag",
            outcome: match exit {
                Exit::Ok => "rolled-back",
                Exit::Invalid => "refused",
                Exit::Error => "error",
            },
            bag: None,
            archive: None,
            error: error.clone(),
            problems: &problems,
            exit_code: exit as u8,
        })?;
    }
    match (&result, error) {
        (Ok(n), _) if !g.quiet => output::stderrln!(
            "{}: rolled back; {n} entries restored",
            output::path(&a.source)
        ),
        (Err(_), Some(e)) => {
            output::problems(&problems, true, "");
            output::stderrln!("qoima: {e}");
        }
        _ => {}
    }
    Ok(exit)
}

/// Resolves `--profile` and fills `opts` for it; refuses (before anything is written) with
/// every reason at once when the bag could not conform.
pub(super) fn for_profile(
    name: Option<&str>,
    opts: &mut BagOptions,
    extra_tag_files: &[&str],
    format: Option<qoima::store::Format>,
) -> anyhow::Result<Option<qoima::profile::Profile>> {
    use qoima::profile::{self, Serialization};
    let Some(name) = name else {
        return Ok(None);
    };
    let p = profile::Profile::resolve(name)?;
    let mut reasons = match profile::prepare_for(&p, opts, extra_tag_files) {
        Ok(()) => Vec::new(),
        Err(r) => r,
    };
    match (p.serialization, format) {
        (Serialization::Required, None) => reasons.push(format!(
            "{} requires a serialized bag: add --tar, --tar-gz or --zip (it accepts: {})",
            p.display_name(),
            p.accept_serialization.join(", ")
        )),
        (Serialization::Forbidden, Some(f)) => reasons.push(format!(
            "{} forbids serialized bags: leave out --{}",
            p.display_name(),
            f.extension().replace('.', "-")
        )),
        _ => {}
    }
    if !reasons.is_empty() {
        bail!(
            "the bag would not conform to {}; nothing was written:\n  - {}",
            p.display_name(),
            reasons.join("\n  - ")
        );
    }
    Ok(Some(p))
}

/// The profile's problems with a bag just made (a folder or an archive).
pub(super) fn conformance(p: &qoima::profile::Profile, bag: &std::path::Path) -> Vec<Problem> {
    let limits = qoima::store::Limits::default();
    match qoima::store::open(bag, &limits, false) {
        Ok((store, format)) => {
            match qoima::profile::BagFacts::from_store(&*store, format.map(|f| f.media_type())) {
                Ok(f) => qoima::profile::check(p, &f),
                Err(_) => Vec::new(),
            }
        }
        Err(_) => Vec::new(),
    }
}

/// `--tag-file NAME=FILE`, read.
pub(super) fn tag_files(a: &InfoArgs) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for spec in &a.tag_file {
        let Some((name, file)) = spec.split_once('=') else {
            bail!("--tag-file {spec:?}: write NAME=FILE, e.g. aptrust-info.txt=./aptrust.txt");
        };
        let name = name.trim().trim_start_matches("./").to_string();
        if let Some(why) = qoima::bagit::create::tag_file_refusal(&name) {
            bail!("--tag-file {name:?} cannot be added: {why}");
        }
        if out.iter().any(|(n, _)| *n == name) {
            bail!("--tag-file {name:?} is given twice");
        }
        let data = qoima::fsutil::read_bounded(std::path::Path::new(file), TAG_FILE_LIMIT)
            .with_context(|| format!("--tag-file: cannot read {file}"))?;
        out.push((name, data));
    }
    Ok(out)
}

/// `--bagging-date`, parsed.
pub(super) fn bagging_date(a: &InfoArgs) -> anyhow::Result<Option<chrono::NaiveDate>> {
    a.bagging_date
        .as_deref()
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .with_context(|| format!("--bagging-date {d:?} is not YYYY-MM-DD"))
        })
        .transpose()
}

pub(super) fn algorithms(a: &AlgorithmArgs) -> anyhow::Result<Vec<Algorithm>> {
    let mut out: Vec<Algorithm> = Vec::new();
    for name in &a.algorithm {
        let alg: Algorithm = name.parse()?;
        out.push(alg);
    }
    for (on, alg) in [
        (a.md5, Algorithm::Md5),
        (a.sha1, Algorithm::Sha1),
        (a.sha224, Algorithm::Sha224),
        (a.sha256, Algorithm::Sha256),
        (a.sha384, Algorithm::Sha384),
        (a.sha512, Algorithm::Sha512),
        (a.blake3, Algorithm::Blake3),
    ] {
        if on {
            out.push(alg);
        }
    }
    if out.is_empty() {
        out = vec![Algorithm::Sha256, Algorithm::Sha512];
    }
    out.sort();
    out.dedup();
    Ok(out)
}

pub(super) fn info(a: &InfoArgs) -> anyhow::Result<BagInfo> {
    let mut info = BagInfo::new();
    for (label, value) in [
        ("Source-Organization", &a.source_organization),
        ("Organization-Address", &a.organization_address),
        ("Contact-Name", &a.contact_name),
        ("Contact-Phone", &a.contact_phone),
        ("Contact-Email", &a.contact_email),
        ("External-Description", &a.external_description),
        ("External-Identifier", &a.external_identifier),
        ("Bag-Group-Identifier", &a.bag_group_identifier),
        ("Bag-Count", &a.bag_count),
        ("Internal-Sender-Identifier", &a.internal_sender_identifier),
        (
            "Internal-Sender-Description",
            &a.internal_sender_description,
        ),
        ("BagIt-Profile-Identifier", &a.bagit_profile_identifier),
    ] {
        if let Some(v) = value {
            info.push(label, v.clone());
        }
    }
    for item in &a.info {
        let Some((label, value)) = item.split_once('=') else {
            bail!("--info {item:?} must be LABEL=VALUE");
        };
        let label = label.trim();
        if label.is_empty() || label.contains([':', '\n', '\r']) {
            bail!("--info label {label:?} must be non-empty and hold no colon or line break");
        }
        info.push(label, value.to_string());
    }
    if let Some(path) = &a.info_file {
        let bytes = qoima::fsutil::read_bounded(path, qoima::fsutil::SMALL_FILE_LIMIT)
            .with_context(|| format!("cannot read --info-file {}", path.display()))?;
        let mut problems = qoima::verdict::Problems::default();
        let file = path.display().to_string();
        let parsed = bagit::baginfo::parse(
            &bytes[..],
            &file,
            bagit::text::Encoding::Utf8,
            bagit::Version::V1_0,
            &mut problems,
        );
        if let Some(p) = problems.iter().find(|p| p.is_error()) {
            bail!("--info-file: {p}");
        }
        for e in parsed.elements() {
            info.push(e.label.clone(), e.value.clone());
        }
    }
    Ok(info)
}

/// The exclusion patterns of `--exclude-junk` and `--exclude GLOB`.
pub(super) fn exclusions(junk: bool, globs: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if junk {
        out.extend(qoima::bagit::create::JUNK.iter().map(|p| p.to_string()));
    }
    out.extend(globs.iter().cloned());
    out
}

/// The files `--exclude` and `--exclude-junk` left out of the bag, one a line.
pub(super) fn print_excluded(s: &BagSummary) {
    if s.excluded.is_empty() {
        return;
    }
    output::stderrln!(
        "left out of the bag ({} file(s), --exclude/--exclude-junk):",
        s.excluded.len()
    );
    for rel in &s.excluded {
        output::stderrln!("  {}", qoima::paths::printable(rel));
    }
}
