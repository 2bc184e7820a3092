//! `qoima verify-seal`: is this bag exactly what a trusted key sealed?
//!
//! Every check runs and reports on its own (as validation does): BagIt validity, what a
//! sealed bag may not hold, the seal fields, the key kept in the bag, trust in the key, and
//! each signature with its signed statement. `verify.sh` in the bag makes the same checks
//! with stock tools; the two must agree.

use std::collections::HashSet;
use std::fs;
use std::io::Cursor;
use std::path::Path;

use minisign::{PublicKey, SignatureBox};
use serde::Serialize;

use super::keys::{TrustedKey, key_id, parse_public_key, public_key_in};
use super::{DOES_NOT_PROVE, KEY_FILE, PROVES, SEAL_DIR, SEAL_VERSION, Statement};
use crate::bagit::Version;
use crate::bagit::baginfo;
use crate::bagit::manifest;
use crate::bagit::text::Encoding;
use crate::bagit::validate::{Mode, ValidateOptions};
use crate::digest::{Algorithm, Engine, Progress, digest_bytes};
use crate::error::{Code, Problem};
use crate::store::DirStore;

/// One check and its outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// A short stable name, e.g. `signature:tagmanifest-sha256.txt`.
    pub check: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was checked, or why it failed.
    pub detail: String,
}

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
    pub timestamps: Vec<super::timestamp::CheckedToken>,
    /// What a passing seal proves (with the time a trusted time-stamp gives, when there is one).
    pub proves: Vec<String>,
    /// What it does not prove.
    pub does_not_prove: &'static [&'static str],
}

impl SealReport {
    fn check(&mut self, name: impl Into<String>, found: Vec<Problem>, ok: impl Into<String>) {
        let passed = !found.iter().any(Problem::is_error);
        let detail = match found.iter().find(|p| p.is_error()) {
            Some(p) if found.iter().filter(|p| p.is_error()).count() > 1 => format!(
                "{} (and {} more)",
                p,
                found.iter().filter(|p| p.is_error()).count() - 1
            ),
            Some(p) => p.to_string(),
            None => ok.into(),
        };
        self.checks.push(Check {
            check: name.into(),
            passed,
            detail,
        });
        self.problems.extend(found);
    }
}

/// Why a detached signature did not verify.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// Not a minisign signature.
    #[error("not a minisign signature: {0}")]
    Unreadable(String),
    /// Made by another key.
    #[error("made by key {found}, not by {expected}")]
    WrongKey {
        /// The key id expected.
        expected: String,
        /// The key id in the signature.
        found: String,
    },
    /// The signature (or its trusted comment) does not match the data.
    #[error("{0}")]
    Invalid(String),
}

/// Verifies a minisign signature (`.minisig` text) of `data` by `key` — made by qoima or by
/// the `minisign` CLI — and returns its verified trusted comment. Only prehashed (current)
/// signatures are accepted.
pub fn verify_detached(
    data: &[u8],
    signature: &str,
    key: &PublicKey,
) -> Result<String, SignatureError> {
    let sig = SignatureBox::from_string(signature)
        .map_err(|e| SignatureError::Unreadable(e.to_string()))?;
    if sig.keynum() != key.keynum() {
        let mut b = [0u8; 8];
        b.copy_from_slice(&sig.keynum()[..8]);
        return Err(SignatureError::WrongKey {
            expected: key_id(key),
            found: format!("{:016X}", u64::from_le_bytes(b)),
        });
    }
    minisign::verify(key, &sig, Cursor::new(data), true, false, false)
        .map_err(|e| SignatureError::Invalid(e.to_string()))?;
    sig.trusted_comment()
        .map_err(|e| SignatureError::Invalid(e.to_string()))
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
    let tsa_roots = pins.tsa_roots;
    let mut r = SealReport::new(bag);

    // 1. BagIt: complete and every checksum right.
    let store = DirStore::new(bag);
    let vopts = ValidateOptions {
        mode: Mode::Full,
        ..Default::default()
    };
    let report = crate::package::verify::validate(&store, &vopts, engine, progress);
    let errors: Vec<Problem> = report
        .problems
        .into_iter()
        .filter(Problem::is_error)
        .collect();
    r.check(
        "bagit",
        errors,
        format!(
            "valid BagIt bag: {} payload files, every checksum verified",
            report.payload_files
        ),
    );

    // 2. What a sealed bag may not hold.
    let mut found = super::sign::sealability(bag);
    let pick = |found: &mut Vec<Problem>, c: Code| -> Vec<Problem> {
        let (mine, rest): (Vec<Problem>, Vec<Problem>) =
            std::mem::take(found).into_iter().partition(|p| p.code == c);
        *found = rest;
        mine
    };
    let fetch = pick(&mut found, Code::SealFetch);
    r.check("no-fetch", fetch, "no fetch.txt");
    let links = pick(&mut found, Code::SealSymlink);
    r.check("plain-files", links, "plain files and folders only");
    r.check("plain-names", found, "no payload names holding %, CR or LF");

    // 3. The seal fields.
    let info = crate::fsutil::read_regular(&bag.join("bag-info.txt"))
        .map(|b| {
            baginfo::parse(
                &b[..],
                "bag-info.txt",
                Encoding::Utf8,
                Version::V1_0,
                &mut crate::verdict::Problems::default(),
            )
        })
        .unwrap_or_default();
    r.signer_name = info.get("Seal-Signer-Name").map(str::to_string);
    r.sealed_at = info.get("Seal-Created").map(str::to_string);
    let key_text = info.get("Seal-Signer-Key").map(|s| s.trim().to_string());
    let key = key_text.as_deref().and_then(parse_public_key);
    let mut p = Vec::new();
    if info.get("Seal-Version").map(str::trim) != Some(SEAL_VERSION) {
        p.push(
            Problem::new(
                Code::SealInfoMissing,
                format!("bag-info.txt has no `Seal-Version: {SEAL_VERSION}`"),
            )
            .file("bag-info.txt")
            .field("Seal-Version"),
        );
    }
    if key.is_none() {
        p.push(
            Problem::new(
                Code::SealInfoMissing,
                "bag-info.txt has no Seal-Signer-Key holding a minisign public key",
            )
            .file("bag-info.txt")
            .field("Seal-Signer-Key"),
        );
    }
    r.check("seal-fields", p, format!("Seal-Version {SEAL_VERSION}"));
    let Some(key) = key else {
        return finish(r);
    };
    let key_text = key_text.unwrap_or_default();
    r.signer_key = Some(key_text.clone());
    r.key_id = Some(key_id(&key));

    // 4. The key kept in the bag is the one named.
    let kept = crate::fsutil::read_regular_string(&bag.join(KEY_FILE))
        .ok()
        .and_then(|t| public_key_in(&t));
    let mut p = Vec::new();
    if kept.as_ref().map(|(b64, _)| b64.as_str()) != Some(key_text.as_str()) {
        p.push(
            Problem::new(
                Code::SealKeyFileMismatch,
                format!("{KEY_FILE} is missing or does not hold Seal-Signer-Key"),
            )
            .file(KEY_FILE),
        );
    }
    r.check("key-file", p, format!("{KEY_FILE} holds Seal-Signer-Key"));

    // 5. Trust.
    let mut p = Vec::new();
    if !trusted.iter().any(|t| t.key == key) {
        p.push(
            Problem::new(
                Code::SealUntrustedKey,
                format!(
                    "the bag is sealed by key {} ({key_text}), which is not in the trusted-keys list",
                    key_id(&key)
                ),
            )
            .file("bag-info.txt")
            .field("Seal-Signer-Key"),
        );
    }
    r.check(
        "trusted-key",
        p,
        format!("key {} is in the trusted-keys list", key_id(&key)),
    );

    // 6. The signatures.
    let bag_name = match info.get("External-Identifier") {
        Some(id) if !id.trim().is_empty() => id.to_string(),
        _ => super::sign::folder_name(bag).unwrap_or_default(),
    };
    let mut tag_manifests: Vec<(String, Option<Algorithm>)> = Vec::new();
    if let Ok(rd) = fs::read_dir(bag) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if let Some((true, alg)) = manifest::classify(&n) {
                tag_manifests.push((n.clone(), Algorithm::from_manifest_name(alg)));
            }
        }
    }
    tag_manifests.sort();
    // A bag updated after sealing keeps the tag manifests as sealed in seal/: the signatures
    // are checked against those, and the change is reported below.
    let kept = kept_tag_manifests(bag);
    if !kept.is_empty() {
        tag_manifests = kept
            .iter()
            .map(|n| {
                let alg = manifest::classify(n).and_then(|(_, a)| Algorithm::from_manifest_name(a));
                (n.clone(), alg)
            })
            .collect();
    }
    let mut strong_signed = false;
    let mut strong_failed = false;
    let mut signed_names = HashSet::new();
    for (tm, alg) in &tag_manifests {
        let sig_rel = format!("{SEAL_DIR}/{tm}.minisig");
        signed_names.insert(format!("{tm}.minisig"));
        let p = check_signature(bag, tm, &sig_rel, &key, &bag_name);
        if matches!(alg, Some(Algorithm::Sha256 | Algorithm::Sha512)) {
            if p.is_empty() {
                strong_signed = true;
            } else {
                strong_failed = true;
            }
        }
        r.check(
            format!("signature:{tm}"),
            p,
            format!("{sig_rel} verifies with key {}; its statement names this bag and the file's sha256", key_id(&key)),
        );
    }
    // Signatures of tag manifests that are not there.
    let mut p = Vec::new();
    if let Ok(rd) = fs::read_dir(bag.join(SEAL_DIR)) {
        let mut orphans: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("tagmanifest-") && n.ends_with(".txt.minisig"))
            .filter(|n| !signed_names.contains(n))
            .collect();
        orphans.sort();
        for n in orphans {
            p.push(
                Problem::new(
                    Code::SealSignatureInvalid,
                    format!("{SEAL_DIR}/{n} signs a tag manifest the bag does not have"),
                )
                .file(format!("{SEAL_DIR}/{n}")),
            );
        }
    }
    // A strong signature that failed has said why already; this is for a bag that has none.
    if !strong_signed && !strong_failed {
        p.push(
            Problem::new(
                Code::SealSignatureMissing,
                "no sha256 or sha512 tag manifest carries a valid signature",
            )
            .file(SEAL_DIR),
        );
    }
    if strong_signed || !p.is_empty() {
        r.check(
            "signed",
            p,
            "a sha256 or sha512 tag manifest is signed, and every signature present verifies",
        );
    }
    if !kept.is_empty() {
        r.check(
            "unchanged-since-seal",
            vec![changed_after_seal(bag, &kept)],
            "",
        );
    }
    // Everything outside data/, seal/ and custody/ is listed in every tag manifest.
    let mut p = Vec::new();
    let lists: Vec<(String, HashSet<String>)> = tag_manifests
        .iter()
        .map(|(tm, _)| {
            let set = crate::fsutil::read_regular(&bag.join(tm))
                .map(|d| {
                    manifest::parse(
                        &d[..],
                        tm,
                        Encoding::Utf8,
                        Version::V1_0,
                        &mut crate::verdict::Problems::default(),
                    )
                    .entries
                    .into_iter()
                    .map(|e| e.path)
                    .collect()
                })
                .unwrap_or_default();
            (tm.clone(), set)
        })
        .collect();
    let (walked, _) =
        crate::fsutil::walk(bag, false, &["data", SEAL_DIR, super::custody::CUSTODY_DIR]);
    let mut outside: Vec<String> = walked
        .into_iter()
        .filter(|e| e.file_type.is_file())
        .map(|e| e.rel.to_string_lossy().into_owned())
        .filter(|rel| !matches!(manifest::classify(rel), Some((true, _))))
        .collect();
    outside.sort();
    for rel in outside {
        if let Some((tm, _)) = lists.iter().find(|(_, set)| !set.contains(&rel)) {
            p.push(
                Problem::new(
                    Code::SealUnsealedFile,
                    format!(
                        "{} is not listed in {tm}: it is not part of the seal",
                        crate::paths::printable(&rel)
                    ),
                )
                .file(rel),
            );
        }
    }
    r.check(
        "sealed-files",
        p,
        "every file outside data/, seal/ and custody/ is listed in the signed tag manifests",
    );

    // seal/ holds signatures and time-stamps, nothing else.
    let mut p = Vec::new();
    if let Ok(rd) = fs::read_dir(bag.join(SEAL_DIR)) {
        let mut stray: Vec<String> = rd
            .flatten()
            .filter(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                let known = (n.starts_with("tagmanifest-") && n.ends_with(".txt.minisig"))
                    || matches!(manifest::classify(&n), Some((true, _)))
                    || n.ends_with(super::timestamp::TOKEN_EXTENSION);
                !(known && e.file_type().is_ok_and(|t| t.is_file()))
            })
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        stray.sort();
        for n in stray {
            let rel = format!("{SEAL_DIR}/{}", crate::paths::printable(&n));
            p.push(
                Problem::new(
                    Code::SealStrayFile,
                    format!("{rel} is neither a tag manifest's signature nor a time-stamp"),
                )
                .file(rel),
            );
        }
    }
    r.check(
        "seal-folder",
        p,
        format!("{SEAL_DIR}/ holds only signatures, time-stamps and the tag manifests as sealed"),
    );

    // 7. Time-stamps over the signatures.
    let (tokens, p) = super::timestamp::check_folder(
        &bag.join(SEAL_DIR),
        SEAL_DIR,
        "",
        &|n| super::timestamp::seal_signature_of(bag, n),
        tsa_roots,
    );
    record_timestamps(&mut r, "the seal", tokens, p, tsa_roots.is_some());

    // ---- custody log (src/seal/custody.rs): the same checks as `qoima custody verify` ----
    if bag.join(super::custody::CUSTODY_DIR).exists() {
        let c = super::custody::verify(bag, Some(trusted), pins.expect_head, tsa_roots);
        r.timestamps.extend(c.timestamps);
        r.checks.extend(c.checks);
        r.problems.extend(c.problems);
    } else if let Some(h) = pins.expect_head {
        r.check(
            "custody:head",
            vec![
                Problem::new(
                    Code::CustodyHeadMissing,
                    format!("you expected the custody head {h}, but the bag has no custody log"),
                )
                .file(super::custody::CUSTODY_DIR),
            ],
            "",
        );
    }
    // ---- end custody log ----
    finish(r)
}

/// Adds the check of time-stamp tokens to `r` (none when there are none), and what the
/// trusted ones prove.
pub(crate) fn record_timestamps(
    r: &mut SealReport,
    what: &str,
    tokens: Vec<super::timestamp::CheckedToken>,
    found: Vec<Problem>,
    checked: bool,
) {
    if tokens.is_empty() && found.is_empty() {
        return;
    }
    let trusted: Vec<&super::timestamp::CheckedToken> =
        tokens.iter().filter(|t| t.trusted).collect();
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

fn finish(mut r: SealReport) -> SealReport {
    r.sealed = r.checks.iter().all(|c| c.passed);
    r
}

/// The problems with one tag manifest's signature.
fn check_signature(
    bag: &Path,
    tm: &str,
    sig_rel: &str,
    key: &PublicKey,
    bag_name: &str,
) -> Vec<Problem> {
    let mut p = Vec::new();
    let kept = bag.join(SEAL_DIR).join(tm);
    let signed = if kept.is_file() { kept } else { bag.join(tm) };
    let data = match crate::fsutil::read_regular(&signed) {
        Ok(d) => d,
        Err(e) => {
            p.push(
                Problem::new(Code::TagFileUnreadable, format!("cannot read {tm}: {e}")).file(tm),
            );
            return p;
        }
    };
    let sig = match crate::fsutil::read_regular_string(&bag.join(sig_rel)) {
        Ok(s) => s,
        Err(_) => {
            p.push(
                Problem::new(
                    Code::SealSignatureMissing,
                    format!("{tm} has no signature {sig_rel}"),
                )
                .file(sig_rel),
            );
            return p;
        }
    };
    let comment = match verify_detached(&data, &sig, key) {
        Ok(c) => c,
        Err(SignatureError::Unreadable(e)) => {
            p.push(
                Problem::new(Code::SealSignatureUnreadable, format!("{sig_rel} is {e}"))
                    .file(sig_rel),
            );
            return p;
        }
        Err(e @ SignatureError::WrongKey { .. }) => {
            p.push(
                Problem::new(
                    Code::SealSignatureWrongKey,
                    format!("{sig_rel} was {e} (Seal-Signer-Key)"),
                )
                .file(sig_rel),
            );
            return p;
        }
        Err(SignatureError::Invalid(e)) => {
            p.push(
                Problem::new(
                    Code::SealSignatureInvalid,
                    format!("{sig_rel} does not verify against {tm}: {e}"),
                )
                .file(sig_rel),
            );
            return p;
        }
    };
    let sha = digest_bytes(Algorithm::Sha256, &data);
    let stem = tm.trim_end_matches(".txt");
    match Statement::parse(&comment) {
        Some(s) if s.bag == bag_name && s.tag_manifest == stem && s.sha256 == sha => {}
        _ => p.push(
            Problem::new(
                Code::SealCommentMismatch,
                format!(
                    "the signed statement of {sig_rel} does not name bag {bag_name:?} and {stem}={sha}: it says {comment:?}"
                ),
            )
            .file(sig_rel),
        ),
    }
    let listed: HashSet<String> = manifest::parse(
        &data[..],
        tm,
        Encoding::Utf8,
        Version::V1_0,
        &mut crate::verdict::Problems::default(),
    )
    .entries
    .into_iter()
    .map(|e| e.path)
    .collect();
    for must in ["bag-info.txt", KEY_FILE] {
        if !listed.contains(must) {
            p.push(
                Problem::new(Code::SealNotCovered, format!("{tm} does not list {must}")).file(tm),
            );
        }
    }
    p
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
    use super::custody::{EventType, read_entries};
    let records: Vec<String> = read_entries(bag)
        .into_iter()
        .filter_map(|(file, entry)| entry.ok().map(|e| (file, e)))
        .filter(|(_, e)| EventType::from_uri(&e.event) == Some(EventType::Modification))
        .map(|(file, e)| {
            let key = super::keys::parse_public_key(&e.agent.key)
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
