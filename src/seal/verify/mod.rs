//! `qoima verify-seal`: is this bag exactly what a trusted key sealed?
//!
//! Every check runs and reports on its own (as validation does): BagIt validity, what a
//! sealed bag may not hold, the seal fields, the key kept in the bag, trust in the key, and
//! each signature with its signed statement. `verify.sh` in the bag makes the same checks
//! with stock tools; the two must agree. [`verify_seal`] reads as the list of those steps.

mod signatures;

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use minisign::PublicKey;
use serde::Serialize;

use super::check::Check;
use super::keys::{TrustedKey, key_id, parse_public_key, public_key_in};
use super::layout::{
    CUSTODY_DIR, KEY_FILE, SEAL_DIR, TOKEN_EXTENSION, external_identifier, folder_name,
    is_tag_manifest_signature, read_info,
};
use super::timestamp::CheckedToken;
use super::{DOES_NOT_PROVE, PROVES, SEAL_VERSION};
use crate::bagit::Version;
use crate::bagit::baginfo::BagInfo;
use crate::bagit::manifest;
use crate::bagit::text::Encoding;
use crate::bagit::validate::{Mode, ValidateOptions};
use crate::digest::{Engine, Progress};
use crate::error::{Code, Problem};
use crate::store::DirStore;

/// What verifying a seal found.
#[derive(Clone, Debug, Serialize)]
pub struct SealReport {
    /// The bag.
    pub bag: String,
    /// Every check passed.
    pub sealed: bool,
    /// Seal-Signer-Key, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer_key: Option<String>,
    /// Its key id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Seal-Signer-Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer_name: Option<String>,
    /// Seal-Created (self-asserted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sealed_at: Option<String>,
    /// The checks, in order.
    pub checks: Vec<Check>,
    /// Every problem found (BagIt's with their `BAG-` codes, the seal's with `SEAL-`).
    pub problems: Vec<Problem>,
    /// The RFC 3161 time-stamps over the seal's signatures (`seal/*.tsr`, or the bundle's).
    pub timestamps: Vec<CheckedToken>,
    /// What a passing seal proves (with the time a trusted time-stamp gives, when there is one).
    pub proves: Vec<String>,
    /// What it does not prove.
    pub does_not_prove: &'static [&'static str],
}

impl SealReport {
    pub(super) fn check(
        &mut self,
        name: impl Into<String>,
        found: Vec<Problem>,
        ok: impl Into<String>,
    ) {
        self.checks.push(Check::judge(name, &found, ok));
        self.problems.extend(found);
    }
}

impl SealReport {
    /// A report on `bag` with nothing checked yet (not sealed).
    pub fn new(bag: &Path) -> SealReport {
        SealReport {
            bag: bag.display().to_string(),
            sealed: false,
            signer_key: None,
            key_id: None,
            signer_name: None,
            sealed_at: None,
            checks: Vec::new(),
            problems: Vec::new(),
            timestamps: Vec::new(),
            proves: PROVES.iter().map(|s| s.to_string()).collect(),
            does_not_prove: DOES_NOT_PROVE,
        }
    }
}

/// What a verifier brings besides the keys it trusts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pins<'a> {
    /// The certificates (PEM) of the time-stamp authorities trusted: time-stamps are checked
    /// against them (without, they are listed and prove no time).
    pub tsa_roots: Option<&'a [u8]>,
    /// A custody-log head kept outside the bag (`sha256:<hex>`): the log must still hold it.
    pub expect_head: Option<&'a str>,
}

/// Verifies the seal of the bag folder `bag` against the `trusted` keys, its time-stamps
/// (and the custody log's) against the pinned TSA roots, and the custody log against the
/// pinned head, when given.
pub fn verify_seal(
    bag: &Path,
    trusted: &[TrustedKey],
    pins: Pins,
    engine: &Engine,
    progress: &dyn Progress,
) -> SealReport {
    let mut report = SealReport::new(bag);
    check_bagit(bag, engine, progress, &mut report);
    check_sealability(bag, &mut report);
    let info = read_info(bag);
    let Some(key) = check_seal_fields(&info, &mut report) else {
        return finish(report);
    };
    check_key_file(bag, &mut report);
    check_trusted(trusted, &key, &mut report);
    let bag_name =
        external_identifier(&info).unwrap_or_else(|| folder_name(bag).unwrap_or_default());
    let tag_manifests = signatures::check_signatures(bag, &key, &bag_name, &mut report);
    check_sealed_files(bag, &tag_manifests, &mut report);
    check_seal_folder(bag, &mut report);
    let (tokens, found) = super::timestamp::check_folder(
        &bag.join(SEAL_DIR),
        SEAL_DIR,
        "",
        &|name| super::timestamp::seal_signature_of(bag, name),
        pins.tsa_roots,
    );
    record_timestamps(
        &mut report,
        "the seal",
        tokens,
        found,
        pins.tsa_roots.is_some(),
    );
    check_custody(bag, trusted, pins, &mut report);
    finish(report)
}

/// Step 1, BagIt: complete and every checksum right.
fn check_bagit(bag: &Path, engine: &Engine, progress: &dyn Progress, report: &mut SealReport) {
    let store = DirStore::new(bag);
    let options = ValidateOptions {
        mode: Mode::Full,
        ..Default::default()
    };
    let validated = crate::package::verify::validate(&store, &options, engine, progress);
    let errors: Vec<Problem> = validated
        .problems
        .into_iter()
        .filter(Problem::is_error)
        .collect();
    report.check(
        "bagit",
        errors,
        format!(
            "valid BagIt bag: {} payload files, every checksum verified",
            validated.payload_files
        ),
    );
}

/// Step 2, what a sealed bag may not hold: fetch.txt, links, names needing encoding.
fn check_sealability(bag: &Path, report: &mut SealReport) {
    let mut found = super::sign::sealability(bag);
    let pick = |found: &mut Vec<Problem>, code: Code| -> Vec<Problem> {
        let (mine, rest): (Vec<Problem>, Vec<Problem>) = std::mem::take(found)
            .into_iter()
            .partition(|p| p.code == code);
        *found = rest;
        mine
    };
    let fetch = pick(&mut found, Code::SealFetch);
    report.check("no-fetch", fetch, "no fetch.txt");
    let links = pick(&mut found, Code::SealSymlink);
    report.check("plain-files", links, "plain files and folders only");
    report.check("plain-names", found, "no payload names holding %, CR or LF");
}

/// Step 3, the seal fields: Seal-Version and a Seal-Signer-Key holding a key (returned).
fn check_seal_fields(info: &BagInfo, report: &mut SealReport) -> Option<PublicKey> {
    report.signer_name = info.get("Seal-Signer-Name").map(str::to_string);
    report.sealed_at = info.get("Seal-Created").map(str::to_string);
    let key_text = info.get("Seal-Signer-Key").map(|s| s.trim().to_string());
    let key = key_text.as_deref().and_then(parse_public_key);
    let mut found = Vec::new();
    if info.get("Seal-Version").map(str::trim) != Some(SEAL_VERSION) {
        found.push(
            Problem::new(
                Code::SealInfoMissing,
                format!("bag-info.txt has no `Seal-Version: {SEAL_VERSION}`"),
            )
            .file("bag-info.txt")
            .field("Seal-Version"),
        );
    }
    if key.is_none() {
        found.push(
            Problem::new(
                Code::SealInfoMissing,
                "bag-info.txt has no Seal-Signer-Key holding a minisign public key",
            )
            .file("bag-info.txt")
            .field("Seal-Signer-Key"),
        );
    }
    report.check("seal-fields", found, format!("Seal-Version {SEAL_VERSION}"));
    let key = key?;
    report.signer_key = Some(key_text.unwrap_or_default());
    report.key_id = Some(key_id(&key));
    Some(key)
}

/// Step 4, the key kept in the bag is the one named.
fn check_key_file(bag: &Path, report: &mut SealReport) {
    let key_text = report.signer_key.clone().unwrap_or_default();
    let kept = crate::fsutil::read_regular_string(&bag.join(KEY_FILE))
        .ok()
        .and_then(|text| public_key_in(&text));
    let mut found = Vec::new();
    if kept.as_ref().map(|(base64, _)| base64.as_str()) != Some(key_text.as_str()) {
        found.push(
            Problem::new(
                Code::SealKeyFileMismatch,
                format!("{KEY_FILE} is missing or does not hold Seal-Signer-Key"),
            )
            .file(KEY_FILE),
        );
    }
    report.check(
        "key-file",
        found,
        format!("{KEY_FILE} holds Seal-Signer-Key"),
    );
}

/// Step 5, trust: the key is in the verifier's list.
fn check_trusted(trusted: &[TrustedKey], key: &PublicKey, report: &mut SealReport) {
    let mut found = Vec::new();
    if !trusted.iter().any(|t| t.key == *key) {
        found.push(
            Problem::new(
                Code::SealUntrustedKey,
                format!(
                    "the bag is sealed by key {} ({}), which is not in the trusted-keys list",
                    key_id(key),
                    report.signer_key.as_deref().unwrap_or_default()
                ),
            )
            .file("bag-info.txt")
            .field("Seal-Signer-Key"),
        );
    }
    report.check(
        "trusted-key",
        found,
        format!("key {} is in the trusted-keys list", key_id(key)),
    );
}

/// Everything outside data/, seal/ and custody/ is listed in every tag manifest.
fn check_sealed_files(
    bag: &Path,
    tag_manifests: &signatures::TagManifests,
    report: &mut SealReport,
) {
    let lists: Vec<(String, HashSet<String>)> = tag_manifests
        .iter()
        .map(|(tag_manifest, _)| (tag_manifest.clone(), listed_paths(bag, tag_manifest)))
        .collect();
    let (walked, _) = crate::fsutil::walk(bag, false, &["data", SEAL_DIR, CUSTODY_DIR]);
    let mut outside: Vec<String> = walked
        .into_iter()
        .filter(|entry| entry.file_type.is_file())
        .map(|entry| entry.rel.to_string_lossy().into_owned())
        .filter(|rel| !matches!(manifest::classify(rel), Some((true, _))))
        .collect();
    outside.sort();
    let mut found = Vec::new();
    for rel in outside {
        if let Some((tag_manifest, _)) = lists.iter().find(|(_, set)| !set.contains(&rel)) {
            found.push(
                Problem::new(
                    Code::SealUnsealedFile,
                    format!(
                        "{} is not listed in {tag_manifest}: it is not part of the seal",
                        crate::paths::printable(&rel)
                    ),
                )
                .file(rel),
            );
        }
    }
    report.check(
        "sealed-files",
        found,
        "every file outside data/, seal/ and custody/ is listed in the signed tag manifests",
    );
}

/// The paths the bag's tag manifest `tag_manifest` lists (none when it cannot be read).
fn listed_paths(bag: &Path, tag_manifest: &str) -> HashSet<String> {
    crate::fsutil::read_regular(&bag.join(tag_manifest))
        .map(|data| parse_listed(&data, tag_manifest))
        .unwrap_or_default()
}

/// The paths a tag manifest's bytes list.
pub(super) fn parse_listed(data: &[u8], tag_manifest: &str) -> HashSet<String> {
    manifest::parse(
        data,
        tag_manifest,
        Encoding::Utf8,
        Version::V1_0,
        &mut crate::verdict::Problems::default(),
    )
    .entries
    .into_iter()
    .map(|entry| entry.path)
    .collect()
}

/// seal/ holds signatures and time-stamps (and the tag manifests as sealed), nothing else.
fn check_seal_folder(bag: &Path, report: &mut SealReport) {
    let mut found = Vec::new();
    if let Ok(listing) = fs::read_dir(bag.join(SEAL_DIR)) {
        let mut stray: Vec<String> = listing
            .flatten()
            .filter(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let known = is_tag_manifest_signature(&name)
                    || matches!(manifest::classify(&name), Some((true, _)))
                    || name.ends_with(TOKEN_EXTENSION);
                !(known && entry.file_type().is_ok_and(|t| t.is_file()))
            })
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        stray.sort();
        for name in stray {
            let rel = format!("{SEAL_DIR}/{}", crate::paths::printable(&name));
            found.push(
                Problem::new(
                    Code::SealStrayFile,
                    format!("{rel} is neither a tag manifest's signature nor a time-stamp"),
                )
                .file(rel),
            );
        }
    }
    report.check(
        "seal-folder",
        found,
        format!("{SEAL_DIR}/ holds only signatures, time-stamps and the tag manifests as sealed"),
    );
}

/// The custody log: the same checks as `qoima custody verify`, or, without a log, the head
/// the verifier expected reported missing.
fn check_custody(bag: &Path, trusted: &[TrustedKey], pins: Pins, report: &mut SealReport) {
    if bag.join(CUSTODY_DIR).exists() {
        let custody = super::custody::verify(bag, Some(trusted), pins.expect_head, pins.tsa_roots);
        report.timestamps.extend(custody.timestamps);
        report.checks.extend(custody.checks);
        report.problems.extend(custody.problems);
    } else if let Some(head) = pins.expect_head {
        report.check(
            "custody:head",
            vec![
                Problem::new(
                    Code::CustodyHeadMissing,
                    format!("you expected the custody head {head}, but the bag has no custody log"),
                )
                .file(CUSTODY_DIR),
            ],
            "",
        );
    }
}

/// Adds the check of time-stamp tokens to `r` (none when there are none), and what the
/// trusted ones prove.
pub(crate) fn record_timestamps(
    r: &mut SealReport,
    what: &str,
    tokens: Vec<CheckedToken>,
    found: Vec<Problem>,
    checked: bool,
) {
    if tokens.is_empty() && found.is_empty() {
        return;
    }
    let trusted: Vec<&CheckedToken> = tokens.iter().filter(|t| t.trusted).collect();
    let ok = if checked {
        format!(
            "{} time-stamp(s), each over its signature file and signed by a time-stamp authority you trust",
            trusted.len()
        )
    } else {
        format!(
            "{} time-stamp(s), not checked: give --tsa-roots to count them as proof of time",
            tokens.len()
        )
    };
    r.check("timestamps", found, ok);
    if let Some(first) = trusted
        .iter()
        .filter_map(|t| t.info.as_ref().map(|i| (i.time.clone(), *t)))
        .min_by(|a, b| a.0.cmp(&b.0))
    {
        r.proves.push(format!(
            "{what} existed no later than {} ({} by the time-stamp authority {}, which you trust)",
            first.0, first.1.token, first.1.tsa
        ));
    }
    r.timestamps.extend(tokens);
}

fn finish(mut report: SealReport) -> SealReport {
    report.sealed = report.checks.iter().all(|c| c.passed);
    report
}
