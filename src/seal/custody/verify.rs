//! Verifying a custody log, as a list of steps: the files (numbered from 1 without a gap,
//! nothing else), each entry (its fields, its place in the chain, its signature, trust in its
//! signer), the time-stamps over entries' signatures, and the head with its anchors.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use minisign::PublicKey;
use serde::Serialize;

use super::entry::{Entry, entry_name, parse_entry, sha256_ref, statement};
use super::{CHAIN_ROOT, CUSTODY_DIR, chain_root};
use crate::digest::{Algorithm, digest_bytes};
use crate::error::{Code, Problem};
use crate::seal::check::Check;
use crate::seal::keys::{TrustedKey, key_id, parse_public_key};
use crate::seal::layout::bag_name;
use crate::seal::minisig::{SignatureError, verify_detached};
use crate::seal::timestamp::{self, CheckedToken};

/// One entry as verified.
#[derive(Clone, Debug, Serialize)]
pub struct EntrySummary {
    /// Its number (from the file name).
    pub seq: u64,
    /// `custody/NNNNNN.json`.
    pub file: String,
    /// `sha256:<hex>` of the file: what the next entry's `prev` must be.
    pub digest: String,
    /// The parsed entry, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<Entry>,
    /// The signer's key id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Whether this entry is a receipt: signed by a key other than the previous entry's.
    pub receipt: bool,
    /// The receipt that anchors this entry (the first receipt after it), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchored_by: Option<u64>,
    /// Every check of this entry passed.
    pub verified: bool,
}

/// What verifying a custody log found.
#[derive(Clone, Debug, Serialize)]
pub struct CustodyReport {
    /// The bag.
    pub bag: String,
    /// The bag's name in the entries (External-Identifier, else the folder name).
    pub bag_name: String,
    /// Whether the bag has a `custody/` folder.
    pub present: bool,
    /// Every check passed (warnings allowed).
    pub verified: bool,
    /// The entries, in order.
    pub entries: Vec<EntrySummary>,
    /// `sha256:<hex>` of the last entry file: what the next entry will chain to, and what a
    /// receiver should keep. `None` without entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    /// The last entry anchored by a receipt or a trusted time-stamp (0: none). Either anchor
    /// holds only while a copy of it is kept outside the bag: whoever holds the bag can remove
    /// the anchor with the entries it anchors.
    pub anchored_through: u64,
    /// The entries whose signature carries a time-stamp checked against the trusted TSA
    /// roots; each anchors itself and every entry before it.
    pub timestamp_anchored: Vec<u64>,
    /// The time-stamp tokens in `custody/` (`NNNNNN.json.minisig.TSA.tsr`).
    pub timestamps: Vec<CheckedToken>,
    /// What the verdict means, in plain words.
    pub notes: Vec<String>,
    /// The checks, in order.
    pub checks: Vec<Check>,
    /// Every problem found (`SEAL-03x`).
    pub problems: Vec<Problem>,
}

impl CustodyReport {
    /// A report on `bag` with nothing checked yet.
    fn new(bag: &Path, present: bool) -> CustodyReport {
        CustodyReport {
            bag: bag.display().to_string(),
            bag_name: bag_name(bag),
            present,
            verified: false,
            entries: Vec::new(),
            head: None,
            anchored_through: 0,
            timestamp_anchored: Vec::new(),
            timestamps: Vec::new(),
            notes: Vec::new(),
            checks: Vec::new(),
            problems: Vec::new(),
        }
    }

    fn check(&mut self, name: &str, found: Vec<Problem>, ok: impl Into<String>) {
        self.checks
            .push(Check::judge(format!("custody:{name}"), &found, ok));
        self.problems.extend(found);
    }
}

/// The numbered files of the log: for each entry number, whether its `.json` and its
/// `.minisig` are there.
type Numbered = BTreeMap<u64, (bool, bool)>;

/// Verifies the custody log of the bag folder `bag`: numbering, chain, signatures, and —
/// when `trusted` is given — that every signer is trusted; with `expect_head`, that the chain
/// still holds that entry digest (a head kept outside the bag, e.g. from a receipt); with
/// `tsa_roots` (PEM), time-stamps over entries' signatures are checked and count as anchors.
pub fn verify(
    bag: &Path,
    trusted: Option<&[TrustedKey]>,
    expect_head: Option<&str>,
    tsa_roots: Option<&[u8]>,
) -> CustodyReport {
    let dir = bag.join(CUSTODY_DIR);
    let mut report = CustodyReport::new(bag, dir.is_dir());
    let numbered = check_files(&dir, &mut report);
    check_entries(bag, &numbered, trusted, &mut report);
    check_timestamps(&dir, tsa_roots, &mut report);
    check_head(expect_head, tsa_roots, &mut report);
    report.verified = report.checks.iter().all(|c| c.passed);
    report
}

/// Step 1, the files: `NNNNNN.json` and its `.minisig`, numbered from 1 without a gap;
/// nothing else (time-stamps over an entry's signature are step 3's).
fn check_files(dir: &Path, report: &mut CustodyReport) -> Numbered {
    let mut numbered = Numbered::new();
    let mut found = Vec::new();
    for (name, plain) in sorted_names(dir) {
        if plain
            && timestamp::split_token_name(&name)
                .is_some_and(|(data, _)| timestamp::custody_signature(data))
        {
            continue;
        }
        match (entry_number(&name), plain) {
            (Some((seq, signature)), true) => {
                let slot = numbered.entry(seq).or_default();
                if signature {
                    slot.1 = true
                } else {
                    slot.0 = true
                }
            }
            _ => found.push(
                Problem::new(
                    Code::CustodyStrayFile,
                    format!(
                        "{CUSTODY_DIR}/{} is not a custody entry or its signature",
                        crate::paths::printable(&name)
                    ),
                )
                .file(format!("{CUSTODY_DIR}/{name}")),
            ),
        }
    }
    found.extend(numbering_problems(&numbered));
    let count = numbered.values().filter(|(json, _)| *json).count();
    report.check(
        "entries",
        found,
        format!("{count} entries, numbered from 1 without a gap; nothing else in {CUSTODY_DIR}/"),
    );
    numbered
}

/// The names in `dir`, sorted, each with whether it is a plain file.
fn sorted_names(dir: &Path) -> Vec<(String, bool)> {
    let Ok(listing) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<(String, bool)> = listing
        .flatten()
        .map(|entry| {
            let plain = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
            (entry.file_name().to_string_lossy().into_owned(), plain)
        })
        .collect();
    names.sort();
    names
}

/// The entry number of `NNNNNN.json` or `NNNNNN.json.minisig` (from 1), and whether it is
/// the signature.
fn entry_number(name: &str) -> Option<(u64, bool)> {
    let (stem, signature) = match name.strip_suffix(".json.minisig") {
        Some(stem) => (stem, true),
        None => (name.strip_suffix(".json").unwrap_or(""), false),
    };
    let seq = (stem.len() == 6 && stem.bytes().all(|b| b.is_ascii_digit()))
        .then(|| stem.parse::<u64>().ok())
        .flatten()
        .filter(|&seq| seq > 0)?;
    Some((seq, signature))
}

/// Gaps in the numbering, and signatures without their entry.
fn numbering_problems(numbered: &Numbered) -> Vec<Problem> {
    let mut found = Vec::new();
    let mut expected = 1;
    for (&seq, &(json, _)) in numbered {
        if json && seq != expected {
            found.push(
                Problem::new(
                    Code::CustodySequenceGap,
                    format!(
                        "{} follows entry {}: entries {expected}–{} are missing (removed from the middle of the log)",
                        entry_name(seq),
                        expected - 1,
                        seq - 1
                    ),
                )
                .file(entry_name(seq)),
            );
        }
        if json {
            expected = seq + 1;
        } else {
            found.push(
                Problem::new(
                    Code::CustodyStrayFile,
                    format!(
                        "{}.minisig has no entry {}",
                        entry_name(seq),
                        entry_name(seq)
                    ),
                )
                .file(format!("{}.minisig", entry_name(seq))),
            );
        }
    }
    found
}

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
fn check_entries(
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

/// Step 5: the time-stamps over entries' signatures, and the entries they anchor.
fn check_timestamps(dir: &Path, tsa_roots: Option<&[u8]>, report: &mut CustodyReport) {
    let (tokens, found) = timestamp::check_folder(
        dir,
        CUSTODY_DIR,
        "",
        &timestamp::custody_signature,
        tsa_roots,
    );
    if !tokens.is_empty() || !found.is_empty() {
        let trusted = tokens.iter().filter(|t| t.trusted).count();
        let ok = if tsa_roots.is_some() {
            format!(
                "{trusted} time-stamp(s) over entries, each by a time-stamp authority you trust"
            )
        } else {
            format!(
                "{} time-stamp(s) over entries, not checked (no --tsa-roots)",
                tokens.len()
            )
        };
        report.check("timestamps", found, ok);
    }
    let mut anchored: Vec<u64> = tokens
        .iter()
        .filter(|t| t.trusted)
        .filter_map(|t| {
            let signature = t.data.strip_prefix(&format!("{CUSTODY_DIR}/"))?;
            signature.strip_suffix(".json.minisig")?.parse::<u64>().ok()
        })
        .filter(|seq| report.entries.iter().any(|e| e.seq == *seq))
        .collect();
    anchored.sort_unstable();
    anchored.dedup();
    report.timestamp_anchored = anchored;
    report.timestamps = tokens;
}

/// Step 6: the head, its anchors (receipts and trusted time-stamps), the head the verifier
/// expected, and the unanchored tail.
fn check_head(expect_head: Option<&str>, tsa_roots: Option<&[u8]>, report: &mut CustodyReport) {
    report.head = report.entries.last().map(|e| e.digest.clone());
    let receipts: Vec<u64> = report
        .entries
        .iter()
        .filter(|e| e.receipt)
        .map(|e| e.seq)
        .collect();
    for entry in &mut report.entries {
        entry.anchored_by = receipts.iter().copied().find(|&seq| seq > entry.seq);
    }
    let by_receipt = receipts.last().map(|seq| seq - 1).unwrap_or(0);
    let by_time = report.timestamp_anchored.last().copied().unwrap_or(0);
    report.anchored_through = by_receipt.max(by_time);
    let mut found = Vec::new();
    let last = report.entries.last().map(|e| e.seq).unwrap_or(0);
    if let Some(want) = expect_head {
        found.extend(expected_head(want, last, report));
    }
    if last > 0 {
        anchor_notes(by_receipt, by_time, tsa_roots, report);
    }
    if last > 0 && report.anchored_through < last {
        let message = unanchored_tail(last, report);
        report.notes.push(message.clone());
        found.push(Problem::new(Code::CustodyUnanchored, message).file(CUSTODY_DIR));
    }
    let head = match &report.head {
        Some(head) => format!(
            "head {head} (entry {last}); anchored through entry {}",
            report.anchored_through
        ),
        None => "no entries".to_string(),
    };
    report.check("head", found, head);
    if last > 0 && report.anchored_through >= last {
        report
            .notes
            .push(format!("every entry is anchored (through entry {last})"));
    }
}

/// Where the head the verifier kept (`want`) is in the log: the head (a note), an earlier
/// entry (a note), or nowhere (the problem returned).
fn expected_head(want: &str, last: u64, report: &mut CustodyReport) -> Option<Problem> {
    let want = want.trim();
    let want = if want.starts_with("sha256:") {
        want.to_ascii_lowercase()
    } else {
        format!("sha256:{}", want.to_ascii_lowercase())
    };
    match report.entries.iter().find(|e| e.digest == want) {
        Some(entry) if entry.seq == last => report
            .notes
            .push(format!("the head is {want}, the head you expected")),
        Some(entry) => {
            let note = format!(
                "the head you expected ({want}) is entry {}; entries {}–{last} were added after it",
                entry.seq,
                entry.seq + 1
            );
            report.notes.push(note);
        }
        None => {
            return Some(
                Problem::new(
                    Code::CustodyHeadMissing,
                    format!(
                        "no entry of the log has the digest you expected ({want}); the head is now {}: entries were removed from the end, or the log was replaced",
                        report.head.as_deref().unwrap_or("none (no entries)")
                    ),
                )
                .file(CUSTODY_DIR),
            );
        }
    }
    None
}

/// The notes on what anchors the log: the last receipt, the last trusted time-stamp.
fn anchor_notes(
    by_receipt: u64,
    by_time: u64,
    tsa_roots: Option<&[u8]>,
    report: &mut CustodyReport,
) {
    let upto = |seq: u64| {
        if seq == 1 {
            "entry 1 is".to_string()
        } else {
            format!("entries 1–{seq} are")
        }
    };
    if by_receipt > 0 {
        report.notes.push(format!(
            "{} anchored by receipt: entry {} is signed by another custodian and records the head it saw (an anchor only while a copy of that receipt is kept outside the bag, e.g. by the sender)",
            upto(by_receipt),
            by_receipt + 1
        ));
    }
    if by_time > 0 {
        let when = report
            .timestamps
            .iter()
            .filter(|t| t.trusted && t.data == format!("{}.minisig", entry_name(by_time)))
            .filter_map(|t| {
                t.info
                    .as_ref()
                    .map(|info| format!("{} by {}", info.time, t.tsa))
            })
            .next()
            .unwrap_or_default();
        report.notes.push(format!(
            "{} anchored by a trusted time-stamp over entry {by_time}'s signature ({when}): they existed then (an anchor against removal only while a copy of that token, or of entry {by_time}'s digest, is kept outside the bag)",
            upto(by_time)
        ));
    } else if tsa_roots.is_some() || report.timestamps.is_empty() {
        report
            .notes
            .push("no entry is anchored by a trusted time-stamp".to_string());
    } else {
        report.notes.push(
            "no entry is anchored by a trusted time-stamp: the log's time-stamps were not checked (give --tsa-roots)"
                .to_string(),
        );
    }
}

/// The warning on the entries after the last anchor.
fn unanchored_tail(last: u64, report: &CustodyReport) -> String {
    let from = report.anchored_through + 1;
    let range = if from == last {
        format!("entry {last} is")
    } else {
        format!("entries {from}–{last} are")
    };
    format!(
        "{range} not anchored: {}, and any entries after {}, could have been removed without detection; keep the head {} outside the bag (a receiver's signed receipt records it) and check it with --expect-head",
        if from == last { "it" } else { "they" },
        if from == last { "it" } else { "them" },
        report.head.as_deref().unwrap_or("")
    )
}
