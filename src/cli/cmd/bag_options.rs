//! The bag-making flags `bag` and `package` share, turned into the library's `BagOptions`:
//! algorithms, bag-info elements, the bagging date, extra tag files, exclusions, and the
//! profile the bag is made for.

use anyhow::{Context, bail};

use qoima::bagit::{self, BagInfo, BagOptions};
use qoima::digest::Algorithm;

use super::super::args::{AlgorithmArgs, InfoArgs};

/// The largest file `--tag-file` copies in (it is held in memory while the bag is made).
const TAG_FILE_LIMIT: u64 = 256 << 20;

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
    let profile = profile::Profile::resolve(name)?;
    let mut reasons = match profile::prepare_for(&profile, opts, extra_tag_files) {
        Ok(()) => Vec::new(),
        Err(refused) => refused,
    };
    match (profile.serialization, format) {
        (Serialization::Required, None) => reasons.push(format!(
            "{} requires a serialized bag: add --tar, --tar-gz or --zip (it accepts: {})",
            profile.display_name(),
            profile.accept_serialization.join(", ")
        )),
        (Serialization::Forbidden, Some(format)) => reasons.push(format!(
            "{} forbids serialized bags: leave out --{}",
            profile.display_name(),
            format.extension().replace('.', "-")
        )),
        _ => {}
    }
    if !reasons.is_empty() {
        bail!(
            "the bag would not conform to {}; nothing was written:\n  - {}",
            profile.display_name(),
            reasons.join("\n  - ")
        );
    }
    Ok(Some(profile))
}

/// `--tag-file NAME=FILE`, read.
fn tag_files(args: &InfoArgs) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for spec in &args.tag_file {
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
fn bagging_date(args: &InfoArgs) -> anyhow::Result<Option<chrono::NaiveDate>> {
    args.bagging_date
        .as_deref()
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .with_context(|| format!("--bagging-date {d:?} is not YYYY-MM-DD"))
        })
        .transpose()
}

fn algorithms(args: &AlgorithmArgs) -> anyhow::Result<Vec<Algorithm>> {
    let mut out: Vec<Algorithm> = Vec::new();
    for name in &args.algorithm {
        let alg: Algorithm = name.parse()?;
        out.push(alg);
    }
    for (on, alg) in [
        (args.md5, Algorithm::Md5),
        (args.sha1, Algorithm::Sha1),
        (args.sha224, Algorithm::Sha224),
        (args.sha256, Algorithm::Sha256),
        (args.sha384, Algorithm::Sha384),
        (args.sha512, Algorithm::Sha512),
        (args.blake3, Algorithm::Blake3),
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

pub(super) fn info(args: &InfoArgs) -> anyhow::Result<BagInfo> {
    let mut info = BagInfo::new();
    for (label, value) in [
        ("Source-Organization", &args.source_organization),
        ("Organization-Address", &args.organization_address),
        ("Contact-Name", &args.contact_name),
        ("Contact-Phone", &args.contact_phone),
        ("Contact-Email", &args.contact_email),
        ("External-Description", &args.external_description),
        ("External-Identifier", &args.external_identifier),
        ("Bag-Group-Identifier", &args.bag_group_identifier),
        ("Bag-Count", &args.bag_count),
        (
            "Internal-Sender-Identifier",
            &args.internal_sender_identifier,
        ),
        (
            "Internal-Sender-Description",
            &args.internal_sender_description,
        ),
        ("BagIt-Profile-Identifier", &args.bagit_profile_identifier),
    ] {
        if let Some(v) = value {
            info.push(label, v.clone());
        }
    }
    for item in &args.info {
        let Some((label, value)) = item.split_once('=') else {
            bail!("--info {item:?} must be LABEL=VALUE");
        };
        let label = label.trim();
        if label.is_empty() || label.contains([':', '\n', '\r']) {
            bail!("--info label {label:?} must be non-empty and hold no colon or line break");
        }
        info.push(label, value.to_string());
    }
    if let Some(path) = &args.info_file {
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
fn exclusions(junk: bool, globs: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if junk {
        out.extend(qoima::bagit::create::JUNK.iter().map(|p| p.to_string()));
    }
    out.extend(globs.iter().cloned());
    out
}

/// The flags of a new bag, read and checked in the order they are listed here (the first
/// mistake is the one reported).
pub(super) struct BagFlags<'a> {
    /// `--algorithm`, `--md5`, ….
    pub algorithms: &'a AlgorithmArgs,
    /// The bag-info flags, `--bagging-date` and `--tag-file`.
    pub info: &'a InfoArgs,
    /// `--follow-links`.
    pub follow_links: bool,
    /// `--link`.
    pub link: bool,
    /// `--exclude-junk`.
    pub exclude_junk: bool,
    /// `--exclude GLOB`.
    pub exclude: &'a [String],
}

/// The library's options for a new bag.
pub(super) fn options(flags: &BagFlags<'_>) -> anyhow::Result<BagOptions> {
    Ok(BagOptions {
        algorithms: algorithms(flags.algorithms)?,
        info: info(flags.info)?,
        follow_links: flags.follow_links,
        link: flags.link,
        date: bagging_date(flags.info)?,
        tag_files: tag_files(flags.info)?,
        exclude: exclusions(flags.exclude_junk, flags.exclude),
    })
}
