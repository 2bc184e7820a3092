//! Steps 2–4 of verifying a custody log: each entry's fields and place in the hash chain,
//! its signature by the key it names (with a statement naming this bag, its number and its
//! digest), and trust in its signer.

use std::path::Path;

use minisign::PublicKey;

use super::super::entry::{Entry, entry_name, parse_entry, sha256_ref, statement};
use super::super::{CHAIN_ROOT, chain_root};
use super::Numbered;
use super::{CustodyReport, EntrySummary};
use crate::digest::{Algorithm, digest_bytes};
use crate::error::{Code, Problem};
use crate::seal::keys::{TrustedKey, key_id, parse_public_key};
use crate::seal::minisig::{SignatureError, verify_detached};

/// What every entry is checked against: the bag's name and the tag manifest the log chains
/// to.
struct ChainRoot {
    /// The bag's name in the entries.
    bag_name: String,
    /// `sha256:<hex>` of the chain root: entry 1's `prev`.
    digest: Option<String>,
    /// Its plain hex: every entry's `object.tagmanifest_sha256`.
    hex: Option<String>,
}

/// The problems of steps 2–4, by check.
#[derive(Default)]
struct EntryFindings {
    chain: Vec<Problem>,
    signatures: Vec<Problem>,
    trust: Vec<Problem>,
}

/// Steps 2–4: each entry's fields and place in the chain, its signature, trust in its signer.
pub(super) fn check_entries(
    bag: &Path,
    numbered: &Numbered,
    trusted: Option<&[TrustedKey]>,
    report: &mut CustodyReport,
) {
    let root_bytes = crate::fsutil::read_regular(&chain_root(bag)).ok();
    let root = ChainRoot {
        bag_name: report.bag_name.clone(),
        digest: root_bytes.as_deref().map(sha256_ref),
        hex: root_bytes
            .as_deref()
            .map(|data| digest_bytes(Algorithm::Sha256, data)),
    };
    let mut findings = EntryFindings::default();
    let count = numbered.values().filter(|(json, _)| *json).count();
    if root.digest.is_none() && count > 0 {
        findings.chain.push(
            Problem::new(
                Code::CustodyChainBroken,
                format!("{CHAIN_ROOT} is missing: entry 1 chains to it"),
            )
            .file(CHAIN_ROOT),
        );
    }
    let mut running = root.digest.clone();
    let mut previous_key: Option<String> = None;
    for (&seq, &(json, has_signature)) in numbered {
        if !json {
            continue;
        }
        let Some(mut summary) = check_entry(
            bag,
            seq,
            has_signature,
            (&root, running.as_ref()),
            trusted,
            &mut findings,
        ) else {
            continue;
        };
        if let Some(entry) = &summary.entry {
            let key = entry.agent.key.trim().to_string();
            summary.receipt = previous_key.as_ref().is_some_and(|prev| *prev != key);
            previous_key = Some(key);
        }
        running = Some(summary.digest.clone());
        report.entries.push(summary);
    }
    report.check(
        "chain",
        findings.chain,
        format!(
            "each entry's prev is the sha256 of the entry before it; entry 1's is that of this bag's {CHAIN_ROOT}"
        ),
    );
    report.check(
        "signatures",
        findings.signatures,
        "each entry is signed by the key it names, with a statement naming this bag, its number and its sha256",
    );
    if trusted.is_some() {
        report.check(
            "trusted-keys",
            findings.trust,
            "every entry is signed by a key in the trusted-keys list",
        );
    }
}

/// One entry, checked against the chain so far (`running`: the digest its `prev` must be);
/// `None` when its file cannot be read (a problem then, and no link in the chain).
fn check_entry(
    bag: &Path,
    seq: u64,
    has_signature: bool,
    (root, running): (&ChainRoot, Option<&String>),
    trusted: Option<&[TrustedKey]>,
    findings: &mut EntryFindings,
) -> Option<EntrySummary> {
    let file = entry_name(seq);
    let Ok(data) = crate::fsutil::read_regular(&bag.join(&file)) else {
        findings.chain.push(
            Problem::new(Code::CustodyEntryMalformed, format!("cannot read {file}")).file(&file),
        );
        return None;
    };
    let digest = sha256_ref(&data);
    let entry = parse_entry(&data);
    let mut summary = EntrySummary {
        seq,
        file: file.clone(),
        digest: digest.clone(),
        entry: None,
        key_id: None,
        receipt: false,
        anchored_by: None,
        verified: false,
    };
    let mut ok = match &entry {
        Err(why) => {
            findings.chain.push(
                Problem::new(
                    Code::CustodyEntryMalformed,
                    format!("{file} is not a canonical qoima custody entry: {why}"),
                )
                .file(&file),
            );
            false
        }
        Ok(parsed) => check_fields(&file, seq, parsed, root, running, &mut findings.chain),
    };
    // The signature, by the key the entry names, over these bytes, stating this bag,
    // this number and this digest.
    let key = entry
        .as_ref()
        .ok()
        .and_then(|parsed| parse_public_key(&parsed.agent.key));
    let signature_file = format!("{file}.minisig");
    match (&key, has_signature) {
        (_, false) => {
            ok = false;
            findings.signatures.push(
                Problem::new(
                    Code::CustodySignatureMissing,
                    format!("{file} has no signature {signature_file}"),
                )
                .file(&signature_file),
            );
        }
        (None, true) => {
            ok = false;
            if entry.is_ok() {
                findings.signatures.push(
                    Problem::new(
                        Code::CustodyEntryMalformed,
                        format!("{file}: agent.key is not a minisign public key"),
                    )
                    .file(&file)
                    .field("agent.key"),
                );
            }
        }
        (Some(key), true) => {
            let signed = SignedEntry {
                bag,
                file: &file,
                seq,
                data: &data,
                digest: &digest,
            };
            ok &= check_entry_signature(&signed, key, &root.bag_name, &mut findings.signatures);
            summary.key_id = Some(key_id(key));
            ok &= check_trust(&file, key, trusted, &mut findings.trust);
        }
    }
    summary.entry = entry.ok();
    summary.verified = ok;
    Some(summary)
}

/// An entry's fields against its place: its number, its `prev`, the bag it is about.
fn check_fields(
    file: &str,
    seq: u64,
    entry: &Entry,
    root: &ChainRoot,
    running: Option<&String>,
    chain: &mut Vec<Problem>,
) -> bool {
    let mut ok = true;
    if entry.seq != seq {
        ok = false;
        chain.push(
            Problem::new(
                Code::CustodySequenceGap,
                format!(
                    "{file} holds entry {} (entries were reordered or renamed)",
                    entry.seq
                ),
            )
            .file(file)
            .field("seq"),
        );
    }
    if Some(&entry.prev) != running {
        ok = false;
        let want = running.cloned().unwrap_or_else(|| "?".into());
        let what = if seq == 1 {
            format!("the sha256 of this bag's {CHAIN_ROOT}")
        } else {
            "the sha256 of the entry before it".to_string()
        };
        chain.push(
            Problem::new(
                Code::CustodyChainBroken,
                format!(
                    "{file}: prev is {}, not {what} ({want}): an entry was changed, removed, reordered or taken from another bag",
                    entry.prev
                ),
            )
            .file(file)
            .field("prev"),
        );
    }
    if entry.object.bag != root.bag_name
        || Some(&entry.object.tagmanifest_sha256) != root.hex.as_ref()
    {
        ok = false;
        chain.push(
            Problem::new(
                Code::CustodyChainBroken,
                format!(
                    "{file} is about bag {} with tagmanifest-sha256 {}, not this bag ({})",
                    crate::paths::quoted(&entry.object.bag),
                    crate::paths::excerpt(&entry.object.tagmanifest_sha256),
                    crate::paths::quoted(&root.bag_name)
                ),
            )
            .file(file)
            .field("object"),
        );
    }
    ok
}

/// An entry file as read, for checking its signature.
struct SignedEntry<'a> {
    bag: &'a Path,
    file: &'a str,
    seq: u64,
    data: &'a [u8],
    /// `sha256:<hex>` of `data`.
    digest: &'a str,
}

/// The entry's signature by `key`: it verifies, and its statement names this bag, this
/// number and this digest.
fn check_entry_signature(
    signed: &SignedEntry,
    key: &PublicKey,
    bag_name: &str,
    signatures: &mut Vec<Problem>,
) -> bool {
    let file = signed.file;
    let signature_file = format!("{file}.minisig");
    let text =
        crate::fsutil::read_regular_string(&signed.bag.join(&signature_file)).unwrap_or_default();
    let hex = signed.digest.trim_start_matches("sha256:");
    let seq = signed.seq;
    match verify_detached(signed.data, &text, key) {
        Ok(comment) if comment == statement(bag_name, seq, hex) => true,
        Ok(comment) => {
            signatures.push(
                Problem::new(
                    Code::CustodySignatureInvalid,
                    format!(
                        "the signed statement of {signature_file} does not name bag {bag_name:?}, entry {seq} and sha256 {hex}: it says {comment:?}"
                    ),
                )
                .file(&signature_file),
            );
            false
        }
        Err(error) => {
            let why = match error {
                SignatureError::WrongKey { .. } => {
                    format!("was {error} (the key the entry names)")
                }
                _ => format!("does not verify against {file}: {error}"),
            };
            signatures.push(
                Problem::new(
                    Code::CustodySignatureInvalid,
                    format!("{signature_file} {why}"),
                )
                .file(&signature_file),
            );
            false
        }
    }
}

/// With a trusted-keys list, the entry's signer must be in it.
fn check_trust(
    file: &str,
    key: &PublicKey,
    trusted: Option<&[TrustedKey]>,
    trust: &mut Vec<Problem>,
) -> bool {
    let Some(trusted) = trusted else {
        return true;
    };
    if trusted.iter().any(|t| &t.key == key) {
        return true;
    }
    trust.push(
        Problem::new(
            Code::CustodyUntrustedKey,
            format!(
                "{file} is signed by key {} ({}), which is not in the trusted-keys list",
                key_id(key),
                key.to_base64()
            ),
        )
        .file(file)
        .field("agent.key"),
    );
    false
}
