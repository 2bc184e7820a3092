//! Step 6 of verifying a seal: one signature per tag manifest (those kept in `seal/` by an
//! update after sealing, else the bag's), each with its signed statement; no signature of a
//! tag manifest that is not there; a strong one among them; and, after an update, the change
//! reported with who made it.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use minisign::PublicKey;

use super::{SealReport, parse_listed};
use crate::bagit::manifest;
use crate::digest::{Algorithm, digest_bytes};
use crate::error::{Code, Problem};
use crate::seal::Statement;
use crate::seal::keys::{key_id, parse_public_key};
use crate::seal::layout::{KEY_FILE, SEAL_DIR, is_tag_manifest_signature};
use crate::seal::minisig::{SignatureError, verify_detached};

/// The tag manifests a seal signs, each with its algorithm.
pub(super) type TagManifests = Vec<(String, Option<Algorithm>)>;

/// Step 6, the signatures: one per tag manifest (those kept in `seal/` by an update after
/// sealing, else the bag's), no signature of a tag manifest that is not there, a strong one
/// among them, and — after an update — the change reported. Returns the tag manifests signed.
pub(super) fn check_signatures(
    bag: &Path,
    key: &PublicKey,
    bag_name: &str,
    report: &mut SealReport,
) -> TagManifests {
    // A bag updated after sealing keeps the tag manifests as sealed in seal/: the signatures
    // are checked against those, and the change is reported below.
    let kept = kept_tag_manifests(bag);
    let tag_manifests = if kept.is_empty() {
        bag_tag_manifests(bag)
    } else {
        kept.iter()
            .map(|name| {
                let algorithm = manifest::classify(name)
                    .and_then(|(_, alg)| Algorithm::from_manifest_name(alg));
                (name.clone(), algorithm)
            })
            .collect()
    };
    let mut strong_signed = false;
    let mut strong_failed = false;
    let mut signed_names = HashSet::new();
    for (tag_manifest, algorithm) in &tag_manifests {
        let signature_rel = format!("{SEAL_DIR}/{tag_manifest}.minisig");
        signed_names.insert(format!("{tag_manifest}.minisig"));
        let found = check_signature(bag, tag_manifest, &signature_rel, key, bag_name);
        if matches!(algorithm, Some(Algorithm::Sha256 | Algorithm::Sha512)) {
            if found.is_empty() {
                strong_signed = true;
            } else {
                strong_failed = true;
            }
        }
        report.check(
            format!("signature:{tag_manifest}"),
            found,
            format!("{signature_rel} verifies with key {}; its statement names this bag and the file's sha256", key_id(key)),
        );
    }
    let mut found = orphan_signatures(bag, &signed_names);
    // A strong signature that failed has said why already; this is for a bag that has none.
    if !strong_signed && !strong_failed {
        found.push(
            Problem::new(
                Code::SealSignatureMissing,
                "no sha256 or sha512 tag manifest carries a valid signature",
            )
            .file(SEAL_DIR),
        );
    }
    if strong_signed || !found.is_empty() {
        report.check(
            "signed",
            found,
            "a sha256 or sha512 tag manifest is signed, and every signature present verifies",
        );
    }
    if !kept.is_empty() {
        report.check(
            "unchanged-since-seal",
            vec![changed_after_seal(bag, &kept)],
            "",
        );
    }
    tag_manifests
}

/// The bag's own tag manifests, sorted, each with its algorithm.
fn bag_tag_manifests(bag: &Path) -> TagManifests {
    let mut tag_manifests = TagManifests::new();
    if let Ok(listing) = fs::read_dir(bag) {
        for entry in listing.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some((true, alg)) = manifest::classify(&name) {
                tag_manifests.push((name.clone(), Algorithm::from_manifest_name(alg)));
            }
        }
    }
    tag_manifests.sort();
    tag_manifests
}

/// Signatures in `seal/` of tag manifests that are not there.
fn orphan_signatures(bag: &Path, signed_names: &HashSet<String>) -> Vec<Problem> {
    let Ok(listing) = fs::read_dir(bag.join(SEAL_DIR)) else {
        return Vec::new();
    };
    let mut orphans: Vec<String> = listing
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| is_tag_manifest_signature(name))
        .filter(|name| !signed_names.contains(name))
        .collect();
    orphans.sort();
    orphans
        .into_iter()
        .map(|name| {
            Problem::new(
                Code::SealSignatureInvalid,
                format!("{SEAL_DIR}/{name} signs a tag manifest the bag does not have"),
            )
            .file(format!("{SEAL_DIR}/{name}"))
        })
        .collect()
}

/// The problems with one tag manifest's signature.
fn check_signature(
    bag: &Path,
    tag_manifest: &str,
    signature_rel: &str,
    key: &PublicKey,
    bag_name: &str,
) -> Vec<Problem> {
    let kept = bag.join(SEAL_DIR).join(tag_manifest);
    let signed = if kept.is_file() {
        kept
    } else {
        bag.join(tag_manifest)
    };
    let data = match crate::fsutil::read_regular(&signed) {
        Ok(data) => data,
        Err(e) => {
            return vec![
                Problem::new(
                    Code::TagFileUnreadable,
                    format!("cannot read {tag_manifest}: {e}"),
                )
                .file(tag_manifest),
            ];
        }
    };
    let comment = match signed_comment(bag, tag_manifest, signature_rel, &data, key) {
        Ok(comment) => comment,
        Err(problem) => return vec![problem],
    };
    let mut found = Vec::new();
    let sha256 = digest_bytes(Algorithm::Sha256, &data);
    let stem = tag_manifest.trim_end_matches(".txt");
    match Statement::parse(&comment) {
        Some(statement)
            if statement.bag == bag_name
                && statement.tag_manifest == stem
                && statement.sha256 == sha256 => {}
        _ => found.push(
            Problem::new(
                Code::SealCommentMismatch,
                format!(
                    "the signed statement of {signature_rel} does not name bag {bag_name:?} and {stem}={sha256}: it says {comment:?}"
                ),
            )
            .file(signature_rel),
        ),
    }
    let listed = parse_listed(&data, tag_manifest);
    for must in ["bag-info.txt", KEY_FILE] {
        if !listed.contains(must) {
            found.push(
                Problem::new(
                    Code::SealNotCovered,
                    format!("{tag_manifest} does not list {must}"),
                )
                .file(tag_manifest),
            );
        }
    }
    found
}

/// The verified trusted comment of the signature `signature_rel` over `data`, or the one
/// problem that stops it: missing, unreadable, by another key, not matching.
fn signed_comment(
    bag: &Path,
    tag_manifest: &str,
    signature_rel: &str,
    data: &[u8],
    key: &PublicKey,
) -> Result<String, Problem> {
    let Ok(signature) = crate::fsutil::read_regular_string(&bag.join(signature_rel)) else {
        return Err(Problem::new(
            Code::SealSignatureMissing,
            format!("{tag_manifest} has no signature {signature_rel}"),
        )
        .file(signature_rel));
    };
    verify_detached(data, &signature, key).map_err(|error| {
        let (code, message) = match error {
            SignatureError::Unreadable(e) => (
                Code::SealSignatureUnreadable,
                format!("{signature_rel} is {e}"),
            ),
            e @ SignatureError::WrongKey { .. } => (
                Code::SealSignatureWrongKey,
                format!("{signature_rel} was {e} (Seal-Signer-Key)"),
            ),
            SignatureError::Invalid(e) => (
                Code::SealSignatureInvalid,
                format!("{signature_rel} does not verify against {tag_manifest}: {e}"),
            ),
        };
        Problem::new(code, message).file(signature_rel)
    })
}

/// The tag manifests `qoima bag --update --force` kept in `seal/` as they were sealed, sorted.
fn kept_tag_manifests(bag: &Path) -> Vec<String> {
    let mut kept: Vec<String> = fs::read_dir(bag.join(SEAL_DIR))
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| matches!(manifest::classify(n), Some((true, _))))
                .collect()
        })
        .unwrap_or_default();
    kept.sort();
    kept
}

/// BAG-146: the bag changed after sealing, with who changed it, as the custody log's
/// modification entries say (their signatures are checked with the rest of the log).
fn changed_after_seal(bag: &Path, kept: &[String]) -> Problem {
    use crate::seal::custody::{EventType, read_entries};
    let records: Vec<String> = read_entries(bag)
        .into_iter()
        .filter_map(|(file, entry)| entry.ok().map(|e| (file, e)))
        .filter(|(_, e)| EventType::from_uri(&e.event) == Some(EventType::Modification))
        .map(|(file, e)| {
            let key = parse_public_key(&e.agent.key)
                .map(|k| key_id(&k))
                .unwrap_or_else(|| "?".into());
            format!(
                "{file} ({}, by {:?}, key {key}): {}",
                e.time, e.agent.name, e.detail
            )
        })
        .collect();
    let who = if records.is_empty() {
        "no custody entry records who changed it".to_string()
    } else {
        format!(
            "the custody log records the change: {}",
            records.join(" | ")
        )
    };
    Problem::new(
        Code::ChangedAfterSeal,
        format!(
            "the bag was changed after it was sealed: the seal signs the tag manifests kept in {SEAL_DIR}/ ({}), not the bag's; {who}",
            kept.join(", ")
        ),
    )
    .file(SEAL_DIR)
}
