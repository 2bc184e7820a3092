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

#[derive(Serialize)]
struct Report<'a> {
    qoima_version: &'static str,
    command: &'static str,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    bag: Option<&'a BagSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    problems: &'a [Problem],
    exit_code: u8,
}

pub fn run(a: &BagArgs, g: &Global) -> anyhow::Result<Exit> {
    if a.rollback {
        let n = bagit::rollback(&a.source)?;
        if !g.quiet {
            eprintln!(
                "{}: rolled back; {n} entries restored",
                output::path(&a.source)
            );
        }
        return Ok(Exit::Ok);
    }
    let opts = BagOptions {
        algorithms: algorithms(&a.algorithms)?,
        info: info(&a.info)?,
        follow_links: a.follow_links,
        link: a.link,
        date: bagging_date(&a.info)?,
    };
    let engine = super::engine(g)?;
    // A new bag is hashed (and copied), synced, then given its tag files; the bar is sized
    // by each stage as it begins.
    let stages = if a.output.is_some() { 3 } else { 0 };
    let bar = Bar::staged("scanning", stages, 0, 0, super::show_progress(g));
    let result = match &a.output {
        Some(out) => bagit::create_bag(&a.source, out, &opts, &engine, &bar),
        None => bagit::bag_in_place(&a.source, &opts, &engine, &bar),
    };
    bar.finish();
    let (exit, summary, error, problems) = match &result {
        Ok(s) => (Exit::Ok, Some(s), None, s.problems.clone()),
        Err(BagError::Refused(p)) => (
            Exit::Invalid,
            None,
            Some(result.as_ref().unwrap_err().to_string()),
            p.clone(),
        ),
        Err(e) => (Exit::Error, None, Some(e.to_string()), Vec::new()),
    };
    if g.json {
        output::json(&Report {
            qoima_version: qoima::VERSION,
            command: "bag",
            outcome: match exit {
                Exit::Ok => "bagged",
                Exit::Invalid => "refused",
                Exit::Error => "error",
            },
            bag: summary,
            error: error.clone(),
            problems: &problems,
            exit_code: exit as u8,
        })?;
    }
    match (summary, error) {
        (Some(s), _) => {
            if !g.quiet {
                output::problems(&problems, true, "");
                eprintln!(
                    "{}: bagged {} files, {} ({}; Payload-Oxum {})",
                    output::path(&s.bag),
                    s.files,
                    qoima::report::human_bytes(s.bytes),
                    s.algorithms
                        .iter()
                        .map(|a| a.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                    s.payload_oxum
                );
            }
        }
        (None, Some(e)) => {
            output::problems(&problems, true, "");
            eprintln!("qoima: {e}");
        }
        (None, None) => {}
    }
    Ok(exit)
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
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read --info-file {}", path.display()))?;
        let mut problems = Vec::new();
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
