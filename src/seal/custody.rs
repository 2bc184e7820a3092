//! The custody log of a sealed bag (`qoima custody append|show|verify|export`): one signed,
//! hash-chained entry per event after sealing — a transfer, an accession, a fixity check —
//! kept in `custody/` (outside the tag manifests, so appending never breaks the seal).
//!
//! Each entry is one canonical JSON object (fixed key order, no insignificant whitespace,
//! LF-terminated) in `custody/NNNNNN.json`, signed by the custodian who acted, in
//! `custody/NNNNNN.json.minisig`. `prev` is the sha256 of the previous entry file; for entry 1
//! it is the sha256 of the signed `tagmanifest-sha256.txt`, so the log cannot be moved onto
//! another bag. `verify.sh` checks the same chain with `sha256sum`, `sed` and `minisign`.
//!
//! The chain proves order and authorship, not completeness at the end: whoever holds the bag
//! can delete the last entries and the rest still verifies. Only an *anchor* outside the
//! removable tail catches that. Two anchors exist: the receiver's receipt — an entry signed by
//! a key other than the previous entry's records (as `prev`) the head it saw, so every entry
//! before it is anchored by that receipt — and an RFC 3161 time-stamp over an entry's
//! signature (`qoima timestamp`), checked against the TSA roots the verifier trusts, which
//! anchors that entry and every one before it. Entries after the last anchor are reported as
//! unanchored, and `--expect-head` checks a head kept outside the bag (the sender's copy of
//! the receipt).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use minisign::{PublicKey, SecretKey};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};
use serde::{Deserialize, Serialize};

use super::keys::{TrustedKey, key_id, parse_public_key};
use super::verify::{Check, SignatureError, verify_detached};
use super::{SEAL_DIR, SEAL_VERSION, SealError, Statement};
use crate::bagit::Version;
use crate::bagit::baginfo;
use crate::bagit::text::Encoding;
use crate::describe::dc::XSI_NS;
use crate::describe::premis::{
    EVENT_TYPE_AUTHORITY_URI, PREMIS_NS, PREMIS_SCHEMA_LOCATION, PREMIS_VERSION, text_with,
};
use crate::digest::{Algorithm, digest_bytes};
use crate::error::{Code, Problem};
use crate::fsutil;

/// The folder of the custody log.
pub const CUSTODY_DIR: &str = "custody";
/// The entry format's version (`"v"`).
pub const ENTRY_VERSION: u32 = 1;
/// The first word of every entry signature's trusted comment.
pub const CUSTODY_VERSION: &str = "qoima-custody/1";
/// The tag manifest entry 1 chains to.
pub const CHAIN_ROOT: &str = "tagmanifest-sha256.txt";
/// The LoC vocabulary of event-related agent roles.
pub const AGENT_ROLE_AUTHORITY_URI: &str =
    "http://id.loc.gov/vocabulary/preservation/eventRelatedAgentRole";

/// The custodian's role: implementer.
fn role_implementer() -> String {
    format!("{AGENT_ROLE_AUTHORITY_URI}/imp")
}

/// The software's role: executing program.
fn role_executing_program() -> String {
    format!("{AGENT_ROLE_AUTHORITY_URI}/exe")
}

/// The events a custody entry may record: terms of the LoC PREMIS event type vocabulary
/// (`http://id.loc.gov/vocabulary/preservation/eventType/<code>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// `tra`, transfer: the bag changed hands. Signed by the receiver, it is a receipt.
    Transfer,
    /// `acc`, accession: the bag was taken into a collection.
    Accession,
    /// `fix`, fixity check.
    FixityCheck,
    /// `val`, validation.
    Validation,
    /// `dig`, digital signature validation (the seal was verified).
    SignatureValidation,
    /// `rep`, replication: a copy was made.
    Replication,
    /// `dis`, dissemination: a copy was given out (access).
    Dissemination,
    /// `mod`, modification: the bag was changed after sealing (`qoima bag --update --force`
    /// writes it; not offered by `custody append`).
    Modification,
}

impl EventType {
    /// Every event type, in the order the help lists them.
    pub const ALL: &'static [EventType] = &[
        EventType::Transfer,
        EventType::Accession,
        EventType::FixityCheck,
        EventType::Validation,
        EventType::SignatureValidation,
        EventType::Replication,
        EventType::Dissemination,
        EventType::Modification,
    ];

    /// The LoC code, e.g. `tra`.
    pub fn code(self) -> &'static str {
        match self {
            EventType::Transfer => "tra",
            EventType::Accession => "acc",
            EventType::FixityCheck => "fix",
            EventType::Validation => "val",
            EventType::SignatureValidation => "dig",
            EventType::Replication => "rep",
            EventType::Dissemination => "dis",
            EventType::Modification => "mod",
        }
    }

    /// The LoC label, e.g. `transfer`, `fixity check`.
    pub fn label(self) -> &'static str {
        match self {
            EventType::Transfer => "transfer",
            EventType::Accession => "accession",
            EventType::FixityCheck => "fixity check",
            EventType::Validation => "validation",
            EventType::SignatureValidation => "digital signature validation",
            EventType::Replication => "replication",
            EventType::Dissemination => "dissemination",
            EventType::Modification => "modification",
        }
    }

    /// The LoC URI.
    pub fn uri(self) -> String {
        format!("{EVENT_TYPE_AUTHORITY_URI}/{}", self.code())
    }

    /// The event type of a URI written in an entry.
    pub fn from_uri(uri: &str) -> Option<EventType> {
        EventType::ALL.iter().copied().find(|e| e.uri() == uri)
    }
}

/// The custodian who acted (and signed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    /// The signer's minisign public key (base64). First, so that `verify.sh` reads it with
    /// one anchored `sed` expression no free text can imitate.
    pub key: String,
    /// The LoC role URI (`eventRelatedAgentRole/imp`, implementer).
    pub role: String,
    /// The custodian's name or label (a pseudonym is fine).
    pub name: String,
}

/// The program that wrote the entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Software {
    /// `qoima`.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The LoC role URI (`eventRelatedAgentRole/exe`, executing program).
    pub role: String,
}

/// The bag the event concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Object {
    /// The bag's External-Identifier, else its folder name (as the seal's statements name it).
    pub bag: String,
    /// The sha256 of the signed `tagmanifest-sha256.txt`.
    pub tagmanifest_sha256: String,
}

/// One custody entry. The field order is the canonical key order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The format version, 1.
    pub v: u32,
    /// The entry's number, from 1 (its file is `custody/<seq, 6 digits>.json`).
    pub seq: u64,
    /// `sha256:<hex>` of the previous entry file (entry 1: of `tagmanifest-sha256.txt`).
    pub prev: String,
    /// When, RFC 3339 UTC (the custodian's clock; `SOURCE_DATE_EPOCH` is respected).
    pub time: String,
    /// The LoC event type URI.
    pub event: String,
    /// Its LoC label.
    pub event_label: String,
    /// Who acted and signed.
    pub agent: Agent,
    /// The program.
    pub software: Software,
    /// The bag.
    pub object: Object,
    /// `success` or `failure`.
    pub outcome: String,
    /// Free text: what was done, what was seen.
    pub detail: String,
}

impl Entry {
    /// The canonical bytes: compact JSON in field order, one line, LF-terminated.
    pub fn canonical(&self) -> String {
        let mut s = serde_json::to_string(self).expect("an entry always serializes");
        s.push('\n');
        s
    }
}

/// `custody/000001.json` for seq 1.
pub fn entry_name(seq: u64) -> String {
    format!("{CUSTODY_DIR}/{seq:06}.json")
}

/// The signed trusted comment of an entry.
pub fn statement(bag: &str, seq: u64, sha256: &str) -> String {
    format!(
        "{CUSTODY_VERSION} bag={} seq={seq} sha256={sha256}",
        super::one_line(bag)
    )
}

/// `sha256:<hex>` of some bytes.
fn sha256_ref(data: &[u8]) -> String {
    format!("sha256:{}", digest_bytes(Algorithm::Sha256, data))
}

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
    pub timestamps: Vec<super::timestamp::CheckedToken>,
    /// What the verdict means, in plain words.
    pub notes: Vec<String>,
    /// The checks, in order.
    pub checks: Vec<Check>,
    /// Every problem found (`SEAL-03x`).
    pub problems: Vec<Problem>,
}

impl CustodyReport {
    fn check(&mut self, name: &str, found: Vec<Problem>, ok: impl Into<String>) {
        let errors: Vec<&Problem> = found.iter().filter(|p| p.is_error()).collect();
        let detail = match errors.first() {
            Some(p) if errors.len() > 1 => format!("{p} (and {} more)", errors.len() - 1),
            Some(p) => p.to_string(),
            None => ok.into(),
        };
        self.checks.push(Check {
            check: format!("custody:{name}"),
            passed: errors.is_empty(),
            detail,
        });
        self.problems.extend(found);
    }
}

/// The file the log chains to: the tag manifest as sealed. Once the bag was changed after
/// sealing (`qoima bag --update --force`), that is the copy kept in `seal/`; until then, the
/// bag's own.
pub fn chain_root(bag: &Path) -> std::path::PathBuf {
    let kept = bag.join(SEAL_DIR).join(CHAIN_ROOT);
    if kept.is_file() {
        kept
    } else {
        bag.join(CHAIN_ROOT)
    }
}

/// Whether the bag's custody log holds any entry (or signature): once it does, the seal may
/// not be remade, since entry 1 chains to the signed tag manifest.
pub fn has_entries(bag: &Path) -> bool {
    fs::read_dir(bag.join(CUSTODY_DIR)).is_ok_and(|mut rd| {
        rd.any(|e| {
            e.is_ok_and(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                n.ends_with(".json") || n.ends_with(".json.minisig")
            })
        })
    })
}

/// The bag's name, as the seal's statements give it.
pub fn bag_name(bag: &Path) -> String {
    let info = read_info(bag);
    match info.get("External-Identifier") {
        Some(id) if !id.trim().is_empty() => id.to_string(),
        _ => super::sign::folder_name(bag).unwrap_or_default(),
    }
}

fn read_info(bag: &Path) -> baginfo::BagInfo {
    crate::fsutil::read_regular(&bag.join("bag-info.txt"))
        .map(|b| {
            baginfo::parse(
                &b[..],
                "bag-info.txt",
                Encoding::Utf8,
                Version::V1_0,
                &mut crate::verdict::Problems::default(),
            )
        })
        .unwrap_or_default()
}

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
    let name = bag_name(bag);
    let mut r = CustodyReport {
        bag: bag.display().to_string(),
        bag_name: name.clone(),
        present: dir.is_dir(),
        verified: false,
        entries: Vec::new(),
        head: None,
        anchored_through: 0,
        timestamp_anchored: Vec::new(),
        timestamps: Vec::new(),
        notes: Vec::new(),
        checks: Vec::new(),
        problems: Vec::new(),
    };

    // 1. The files: NNNNNN.json and its .minisig, numbered from 1 without a gap; nothing else.
    let mut numbered: BTreeMap<u64, (bool, bool)> = BTreeMap::new();
    let mut p = Vec::new();
    if let Ok(rd) = fs::read_dir(&dir) {
        let mut names: Vec<(String, bool)> = rd
            .flatten()
            .map(|e| {
                let plain = e.file_type().map(|t| t.is_file()).unwrap_or(false);
                (e.file_name().to_string_lossy().into_owned(), plain)
            })
            .collect();
        names.sort();
        for (n, plain) in names {
            // Time-stamps over an entry's signature are checked with the others below.
            if plain
                && super::timestamp::split_token_name(&n)
                    .is_some_and(|(data, _)| super::timestamp::custody_signature(data))
            {
                continue;
            }
            let (stem, sig) = match n.strip_suffix(".json.minisig") {
                Some(s) => (s, true),
                None => (n.strip_suffix(".json").unwrap_or(""), false),
            };
            let seq = (stem.len() == 6 && stem.bytes().all(|b| b.is_ascii_digit()))
                .then(|| stem.parse::<u64>().ok())
                .flatten()
                .filter(|&s| s > 0);
            match seq {
                Some(s) if plain => {
                    let slot = numbered.entry(s).or_default();
                    if sig { slot.1 = true } else { slot.0 = true }
                }
                _ => p.push(
                    Problem::new(
                        Code::CustodyStrayFile,
                        format!(
                            "{CUSTODY_DIR}/{} is not a custody entry or its signature",
                            crate::paths::printable(&n)
                        ),
                    )
                    .file(format!("{CUSTODY_DIR}/{n}")),
                ),
            }
        }
    }
    let mut expected = 1;
    for (&seq, &(json, _)) in &numbered {
        if json && seq != expected {
            p.push(
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
            p.push(
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
    let count = numbered.values().filter(|(j, _)| *j).count();
    r.check(
        "entries",
        p,
        format!("{count} entries, numbered from 1 without a gap; nothing else in {CUSTODY_DIR}/"),
    );

    // 2.–4. The chain, the signatures, trust.
    let root = crate::fsutil::read_regular(&chain_root(bag)).ok();
    let root_digest = root.as_deref().map(sha256_ref);
    let root_hex = root.as_deref().map(|d| digest_bytes(Algorithm::Sha256, d));
    let mut chain = Vec::new();
    let mut sigs = Vec::new();
    let mut trust = Vec::new();
    if root_digest.is_none() && count > 0 {
        chain.push(
            Problem::new(
                Code::CustodyChainBroken,
                format!("{CHAIN_ROOT} is missing: entry 1 chains to it"),
            )
            .file(CHAIN_ROOT),
        );
    }
    let mut running = root_digest.clone();
    let mut prev_key: Option<String> = None;
    for (&seq, &(json, has_sig)) in &numbered {
        if !json {
            continue;
        }
        let file = entry_name(seq);
        let Ok(data) = crate::fsutil::read_regular(&bag.join(&file)) else {
            chain.push(
                Problem::new(Code::CustodyEntryMalformed, format!("cannot read {file}"))
                    .file(&file),
            );
            continue;
        };
        let digest = sha256_ref(&data);
        let mut ok = true;
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
        match &entry {
            Err(why) => {
                ok = false;
                chain.push(
                    Problem::new(
                        Code::CustodyEntryMalformed,
                        format!("{file} is not a canonical qoima custody entry: {why}"),
                    )
                    .file(&file),
                );
            }
            Ok(e) => {
                if e.seq != seq {
                    ok = false;
                    chain.push(
                        Problem::new(
                            Code::CustodySequenceGap,
                            format!(
                                "{file} holds entry {} (entries were reordered or renamed)",
                                e.seq
                            ),
                        )
                        .file(&file)
                        .field("seq"),
                    );
                }
                if Some(&e.prev) != running.as_ref() {
                    ok = false;
                    let want = running.clone().unwrap_or_else(|| "?".into());
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
                                e.prev
                            ),
                        )
                        .file(&file)
                        .field("prev"),
                    );
                }
                if e.object.bag != name || Some(&e.object.tagmanifest_sha256) != root_hex.as_ref() {
                    ok = false;
                    chain.push(
                        Problem::new(
                            Code::CustodyChainBroken,
                            format!(
                                "{file} is about bag {} with tagmanifest-sha256 {}, not this bag ({})",
                                crate::paths::quoted(&e.object.bag),
                                crate::paths::excerpt(&e.object.tagmanifest_sha256),
                                crate::paths::quoted(&name)
                            ),
                        )
                        .file(&file)
                        .field("object"),
                    );
                }
            }
        }
        // The signature, by the key the entry names, over these bytes, stating this bag,
        // this number and this digest.
        let key = entry
            .as_ref()
            .ok()
            .and_then(|e| parse_public_key(&e.agent.key));
        let sig_file = format!("{file}.minisig");
        match (&key, has_sig) {
            (_, false) => {
                ok = false;
                sigs.push(
                    Problem::new(
                        Code::CustodySignatureMissing,
                        format!("{file} has no signature {sig_file}"),
                    )
                    .file(&sig_file),
                );
            }
            (None, true) => {
                ok = false;
                if entry.is_ok() {
                    sigs.push(
                        Problem::new(
                            Code::CustodyEntryMalformed,
                            format!("{file}: agent.key is not a minisign public key"),
                        )
                        .file(&file)
                        .field("agent.key"),
                    );
                }
            }
            (Some(k), true) => {
                let text =
                    crate::fsutil::read_regular_string(&bag.join(&sig_file)).unwrap_or_default();
                let hex = digest.trim_start_matches("sha256:");
                match verify_detached(&data, &text, k) {
                    Ok(tc) if tc == statement(&name, seq, hex) => {}
                    Ok(tc) => {
                        ok = false;
                        sigs.push(
                            Problem::new(
                                Code::CustodySignatureInvalid,
                                format!(
                                    "the signed statement of {sig_file} does not name bag {name:?}, entry {seq} and sha256 {hex}: it says {tc:?}"
                                ),
                            )
                            .file(&sig_file),
                        );
                    }
                    Err(e) => {
                        ok = false;
                        let why = match e {
                            SignatureError::WrongKey { .. } => {
                                format!("was {e} (the key the entry names)")
                            }
                            _ => format!("does not verify against {file}: {e}"),
                        };
                        sigs.push(
                            Problem::new(
                                Code::CustodySignatureInvalid,
                                format!("{sig_file} {why}"),
                            )
                            .file(&sig_file),
                        );
                    }
                }
                summary.key_id = Some(key_id(k));
                if let Some(t) = trusted
                    && !t.iter().any(|t| &t.key == k)
                {
                    ok = false;
                    trust.push(
                        Problem::new(
                            Code::CustodyUntrustedKey,
                            format!(
                                "{file} is signed by key {} ({}), which is not in the trusted-keys list",
                                key_id(k),
                                k.to_base64()
                            ),
                        )
                        .file(&file)
                        .field("agent.key"),
                    );
                }
            }
        }
        if let Ok(e) = &entry {
            let k = e.agent.key.trim().to_string();
            summary.receipt = prev_key.as_ref().is_some_and(|p| *p != k);
            prev_key = Some(k);
        }
        summary.entry = entry.ok();
        summary.verified = ok;
        running = Some(digest);
        r.entries.push(summary);
    }
    r.check(
        "chain",
        chain,
        format!(
            "each entry's prev is the sha256 of the entry before it; entry 1's is that of this bag's {CHAIN_ROOT}"
        ),
    );
    r.check(
        "signatures",
        sigs,
        "each entry is signed by the key it names, with a statement naming this bag, its number and its sha256",
    );
    if trusted.is_some() {
        r.check(
            "trusted-keys",
            trust,
            "every entry is signed by a key in the trusted-keys list",
        );
    }

    // 5. Time-stamps over entries' signatures.
    let (tokens, p) = super::timestamp::check_folder(
        &dir,
        CUSTODY_DIR,
        "",
        &super::timestamp::custody_signature,
        tsa_roots,
    );
    if !tokens.is_empty() || !p.is_empty() {
        let n = tokens.iter().filter(|t| t.trusted).count();
        let ok = if tsa_roots.is_some() {
            format!("{n} time-stamp(s) over entries, each by a time-stamp authority you trust")
        } else {
            format!(
                "{} time-stamp(s) over entries, not checked (no --tsa-roots)",
                tokens.len()
            )
        };
        r.check("timestamps", p, ok);
    }
    r.timestamp_anchored = tokens
        .iter()
        .filter(|t| t.trusted)
        .filter_map(|t| {
            let f = t.data.strip_prefix(&format!("{CUSTODY_DIR}/"))?;
            f.strip_suffix(".json.minisig")?.parse::<u64>().ok()
        })
        .filter(|s| r.entries.iter().any(|e| e.seq == *s))
        .collect();
    r.timestamp_anchored.sort_unstable();
    r.timestamp_anchored.dedup();
    r.timestamps = tokens;

    // 6. The head and its anchors.
    r.head = r.entries.last().map(|e| e.digest.clone());
    let receipts: Vec<u64> = r
        .entries
        .iter()
        .filter(|e| e.receipt)
        .map(|e| e.seq)
        .collect();
    for e in &mut r.entries {
        e.anchored_by = receipts.iter().copied().find(|&s| s > e.seq);
    }
    let by_receipt = receipts.last().map(|s| s - 1).unwrap_or(0);
    let by_time = r.timestamp_anchored.last().copied().unwrap_or(0);
    r.anchored_through = by_receipt.max(by_time);
    let mut p = Vec::new();
    let last = r.entries.last().map(|e| e.seq).unwrap_or(0);
    if let Some(want) = expect_head {
        let want = want.trim();
        let want = if want.starts_with("sha256:") {
            want.to_ascii_lowercase()
        } else {
            format!("sha256:{}", want.to_ascii_lowercase())
        };
        match r.entries.iter().find(|e| e.digest == want) {
            Some(e) if e.seq == last => r
                .notes
                .push(format!("the head is {want}, the head you expected")),
            Some(e) => r.notes.push(format!(
                "the head you expected ({want}) is entry {}; entries {}–{last} were added after it",
                e.seq,
                e.seq + 1
            )),
            None => p.push(
                Problem::new(
                    Code::CustodyHeadMissing,
                    format!(
                        "no entry of the log has the digest you expected ({want}); the head is now {}: entries were removed from the end, or the log was replaced",
                        r.head.as_deref().unwrap_or("none (no entries)")
                    ),
                )
                .file(CUSTODY_DIR),
            ),
        }
    }
    let upto = |n: u64| {
        if n == 1 {
            "entry 1 is".to_string()
        } else {
            format!("entries 1–{n} are")
        }
    };
    if last > 0 {
        if by_receipt > 0 {
            r.notes.push(format!(
                "{} anchored by receipt: entry {} is signed by another custodian and records the head it saw (an anchor only while a copy of that receipt is kept outside the bag, e.g. by the sender)",
                upto(by_receipt),
                by_receipt + 1
            ));
        }
        if by_time > 0 {
            let t = r
                .timestamps
                .iter()
                .filter(|t| t.trusted && t.data == format!("{}.minisig", entry_name(by_time)))
                .filter_map(|t| t.info.as_ref().map(|i| format!("{} by {}", i.time, t.tsa)))
                .next()
                .unwrap_or_default();
            r.notes.push(format!(
                "{} anchored by a trusted time-stamp over entry {by_time}'s signature ({t}): they existed then (an anchor against removal only while a copy of that token, or of entry {by_time}'s digest, is kept outside the bag)",
                upto(by_time)
            ));
        } else if tsa_roots.is_some() || r.timestamps.is_empty() {
            r.notes
                .push("no entry is anchored by a trusted time-stamp".to_string());
        } else {
            r.notes.push(
                "no entry is anchored by a trusted time-stamp: the log's time-stamps were not checked (give --tsa-roots)"
                    .to_string(),
            );
        }
    }
    if last > 0 && r.anchored_through < last {
        let from = r.anchored_through + 1;
        let range = if from == last {
            format!("entry {last} is")
        } else {
            format!("entries {from}–{last} are")
        };
        let msg = format!(
            "{range} not anchored: {}, and any entries after {}, could have been removed without detection; keep the head {} outside the bag (a receiver's signed receipt records it) and check it with --expect-head",
            if from == last { "it" } else { "they" },
            if from == last { "it" } else { "them" },
            r.head.as_deref().unwrap_or("")
        );
        r.notes.push(msg.clone());
        p.push(Problem::new(Code::CustodyUnanchored, msg).file(CUSTODY_DIR));
    }
    let head = match &r.head {
        Some(h) => format!(
            "head {h} (entry {last}); anchored through entry {}",
            r.anchored_through
        ),
        None => "no entries".to_string(),
    };
    r.check("head", p, head);
    if last > 0 && r.anchored_through >= last {
        r.notes
            .push(format!("every entry is anchored (through entry {last})"));
    }
    r.verified = r.checks.iter().all(|c| c.passed);
    r
}

/// Reads an entry and insists on its canonical form: re-serialized, it must give the same
/// bytes (so no field is added, reordered or re-spaced, and `verify.sh` can read it).
pub fn parse_entry(data: &[u8]) -> Result<Entry, String> {
    let text = std::str::from_utf8(data).map_err(|_| "not UTF-8".to_string())?;
    let e: Entry = serde_json::from_str(text.trim_end_matches('\n')).map_err(|e| e.to_string())?;
    if e.canonical() != text {
        return Err(
            "not in canonical form (one compact JSON line, fixed key order, LF-terminated)".into(),
        );
    }
    if e.v != ENTRY_VERSION {
        return Err(format!("format version {} (this qoima reads 1)", e.v));
    }
    if EventType::from_uri(&e.event).map(EventType::label) != Some(e.event_label.as_str()) {
        return Err(format!(
            "event {} labelled {} is not one of the LoC event types qoima records",
            crate::paths::quoted(&e.event),
            crate::paths::quoted(&e.event_label)
        ));
    }
    let hexlike =
        |s: &str| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !e.prev.strip_prefix("sha256:").is_some_and(hexlike) {
        return Err(format!(
            "prev {} is not sha256:<64 hex digits>",
            crate::paths::quoted(&e.prev)
        ));
    }
    if e.agent.role != role_implementer() || e.software.role != role_executing_program() {
        return Err("agent.role or software.role is not the LoC role qoima records".into());
    }
    if !matches!(e.outcome.as_str(), "success" | "failure") {
        return Err(format!(
            "outcome {} is neither success nor failure",
            crate::paths::quoted(&e.outcome)
        ));
    }
    if !valid_time(&e.time) {
        return Err(format!(
            "time {} is not RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ)",
            crate::paths::quoted(&e.time)
        ));
    }
    Ok(e)
}

fn valid_time(t: &str) -> bool {
    t.len() == 20
        && t.ends_with('Z')
        && chrono::NaiveDateTime::parse_from_str(&t[..19], "%Y-%m-%dT%H:%M:%S").is_ok()
}

/// How to append.
#[derive(Clone, Debug)]
pub struct AppendOptions {
    /// The event.
    pub event: EventType,
    /// The custodian's name.
    pub agent: String,
    /// `true`: success; `false`: failure.
    pub success: bool,
    /// Free text.
    pub detail: String,
}

/// What appending did.
#[derive(Clone, Debug, Serialize)]
pub struct Appended {
    /// The entry written.
    pub entry: Entry,
    /// Its file.
    pub file: String,
    /// Its signature.
    pub signature: String,
    /// The new head (`sha256:` of the entry file).
    pub head: String,
    /// Whether it is a receipt (signed by a key other than the previous entry's).
    pub receipt: bool,
    /// The signer's key id.
    pub key_id: String,
}

/// Appends an entry signed by `(sk, pk)` to the custody log of the sealed bag folder `bag`.
/// Refuses (writing nothing) a bag whose seal signature over `tagmanifest-sha256.txt` does not
/// verify, and a log that does not verify (`trusted`, when given, must trust every signer).
pub fn append(
    bag: &Path,
    sk: &SecretKey,
    pk: &PublicKey,
    opts: &AppendOptions,
    trusted: Option<&[TrustedKey]>,
) -> Result<Appended, SealError> {
    if !bag.is_dir() {
        return Err(SealError::Key(format!(
            "{} is not a bag folder",
            bag.display()
        )));
    }
    // The caller holds the bag's lock (`fsutil::DirLock`): anything half-written is a dead
    // run's.
    recover_interrupted_append(bag)?;
    let mut problems = seal_problems(bag);
    let sealed = problems.is_empty();
    let report = verify(bag, trusted, None, None);
    problems.extend(report.problems.iter().filter(|p| p.is_error()).cloned());
    if !problems.is_empty() {
        let refusal = refusal(bag, sealed, &problems, &untrusted_signers(&report, trusted));
        problems.push(refusal);
        return Err(SealError::Refused(problems));
    }
    let root_path = chain_root(bag);
    let root = crate::fsutil::read_regular(&root_path).map_err(SealError::io(&root_path))?;
    let last = report.entries.last();
    let seq = last.map(|e| e.seq + 1).unwrap_or(1);
    let prev = last
        .map(|e| e.digest.clone())
        .unwrap_or_else(|| sha256_ref(&root));
    let key = pk.to_base64();
    let receipt = last
        .and_then(|e| e.entry.as_ref())
        .is_some_and(|e| e.agent.key.trim() != key);
    let entry = Entry {
        v: ENTRY_VERSION,
        seq,
        prev,
        time: crate::bagit::create::bagging_time(None),
        event: opts.event.uri(),
        event_label: opts.event.label().to_string(),
        agent: Agent {
            key: key.clone(),
            role: role_implementer(),
            name: opts.agent.clone(),
        },
        software: Software {
            name: "qoima".into(),
            version: crate::VERSION.to_string(),
            role: role_executing_program(),
        },
        object: Object {
            bag: report.bag_name.clone(),
            tagmanifest_sha256: digest_bytes(Algorithm::Sha256, &root),
        },
        outcome: if opts.success { "success" } else { "failure" }.into(),
        detail: opts.detail.clone(),
    };
    let text = entry.canonical();
    let hex = digest_bytes(Algorithm::Sha256, text.as_bytes());
    let sig = minisign::sign(
        Some(pk),
        sk,
        text.as_bytes(),
        Some(&statement(&report.bag_name, seq, &hex)),
        Some(&format!("qoima custody entry {seq}, key {}", key_id(pk))),
    )
    .map_err(|e| SealError::Key(format!("cannot sign the entry: {e}")))?;
    let dir = bag.join(CUSTODY_DIR);
    fs::create_dir_all(&dir).map_err(SealError::io(&dir))?;
    let file = entry_name(seq);
    let sig_file = format!("{file}.minisig");
    // The signature first, then the entry, linked into place (so that two concurrent appends
    // cannot both take number `seq`). A crash in between leaves a signature without its
    // entry, which verification reports and which can simply be deleted.
    let sig_path = bag.join(&sig_file);
    if fs::symlink_metadata(&sig_path).is_ok() || fs::symlink_metadata(bag.join(&file)).is_ok() {
        return Err(SealError::Exists(bag.join(&file)));
    }
    // Both are staged beside the bag, not in custody/: a run killed before its rename or
    // link leaves nothing that would stop the log from verifying.
    let sig_tmp = fsutil::temp_beside(bag, &sig_path, "signature");
    write_flushed(&sig_tmp, sig.to_string().as_bytes())
        .and_then(|()| fs::rename(&sig_tmp, &sig_path))
        .map_err(|e| {
            let _ = fs::remove_file(&sig_tmp);
            SealError::io(&sig_path)(e)
        })?;
    if let Err(e) = write_new(bag, &bag.join(&file), text.as_bytes()) {
        let _ = fs::remove_file(&sig_path);
        return Err(e);
    }
    fsutil::sync_dir(&dir).map_err(SealError::io(&dir))?;
    Ok(Appended {
        entry,
        file,
        signature: sig_file,
        head: format!("sha256:{hex}"),
        receipt,
        key_id: key_id(pk),
    })
}

/// The key ids of the log's signers that `trusted` (when given) does not list.
fn untrusted_signers(report: &CustodyReport, trusted: Option<&[TrustedKey]>) -> BTreeSet<String> {
    let Some(trusted) = trusted else {
        return BTreeSet::new();
    };
    report
        .entries
        .iter()
        .filter_map(|e| parse_public_key(e.entry.as_ref()?.agent.key.trim()))
        .filter(|key| !trusted.iter().any(|t| &t.key == key))
        .map(|key| key_id(&key))
        .collect()
}

/// The closing problem of a refused append: which condition failed, and what to do. An
/// untrusted signer is not an unsealed bag, and saying so sent custodians to re-seal.
fn refusal(
    bag: &Path,
    sealed: bool,
    problems: &[Problem],
    untrusted: &BTreeSet<String>,
) -> Problem {
    let only_trust = problems.iter().all(|p| p.code == Code::CustodyUntrustedKey);
    let why = if !sealed {
        "the bag is not sealed: seal it first (qoima seal)".to_string()
    } else if only_trust && !untrusted.is_empty() {
        let ids: Vec<&str> = untrusted.iter().map(String::as_str).collect();
        format!(
            "the custody log is signed by key {}, which is not among the trusted keys (--trusted-keys); \
             check that key with its holder through another channel and add it to the trusted-keys file, \
             or leave out --trusted-keys to append without judging earlier signers",
            ids.join(", ")
        )
    } else {
        format!(
            "its custody log does not verify: fix the problems listed (qoima custody verify {})",
            bag.display()
        )
    };
    Problem::new(
        Code::CustodyRefused,
        format!("{}: nothing was appended; {why}", bag.display()),
    )
}

/// Undoes what an append killed midway left (called under the bag's lock): its temporaries,
/// and the signature of an entry that never appeared (numbered one past the last entry; the
/// signature is written first). The log is then the one before that append, and verifies.
fn recover_interrupted_append(bag: &Path) -> Result<(), SealError> {
    let dir = bag.join(CUSTODY_DIR);
    if !dir.is_dir() {
        return Ok(());
    }
    // Left inside custody/ by versions that staged there.
    fsutil::sweep_stale_in(&dir, |_, tag| tag == "custody" || tag == "write");
    let last = (1..)
        .take_while(|&seq| bag.join(entry_name(seq)).is_file())
        .last()
        .unwrap_or(0);
    let orphan = bag.join(format!("{}.minisig", entry_name(last + 1)));
    if fs::symlink_metadata(&orphan).is_ok_and(|m| m.is_file()) {
        fs::remove_file(&orphan).map_err(SealError::io(&orphan))?;
        fsutil::sync_dir(&dir).map_err(SealError::io(&dir))?;
    }
    Ok(())
}

/// Writes `data` to the file `path` (made or emptied) and flushes it.
fn write_flushed(path: &Path, data: &[u8]) -> io::Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// Writes a new file under a temporary name beside the bag, then moves it into place: fails
/// when the name is taken.
fn write_new(bag: &Path, path: &Path, data: &[u8]) -> Result<(), SealError> {
    let tmp = fsutil::temp_beside(bag, path, "custody");
    let result = write_flushed(&tmp, data).and_then(|()| fsutil::place_new(&tmp, path));
    let _ = fs::remove_file(&tmp);
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            Err(SealError::Exists(path.to_path_buf()))
        }
        Err(e) => Err(SealError::io(path)(e)),
    }
}

/// Why the bag is not sealed, as far as the custody log needs it: the seal fields, and the
/// signature of `tagmanifest-sha256.txt` by Seal-Signer-Key with its statement. (Trust in
/// the sealer and the payload's fixity are `verify-seal`'s.)
fn seal_problems(bag: &Path) -> Vec<Problem> {
    let info = read_info(bag);
    let key = info
        .get("Seal-Signer-Key")
        .and_then(|k| parse_public_key(k.trim()));
    let not_sealed = |why: String| {
        vec![Problem::new(
            Code::CustodyRefused,
            format!(
                "{} is not a sealed bag: {why}; seal it first (qoima seal)",
                bag.display()
            ),
        )]
    };
    if info.get("Seal-Version").map(str::trim) != Some(SEAL_VERSION) {
        return not_sealed(format!(
            "bag-info.txt has no `Seal-Version: {SEAL_VERSION}`"
        ));
    }
    let Some(key) = key else {
        return not_sealed("bag-info.txt names no Seal-Signer-Key".into());
    };
    let Ok(data) = crate::fsutil::read_regular(&chain_root(bag)) else {
        return not_sealed(format!("it has no {CHAIN_ROOT}"));
    };
    let sig_rel = format!("{SEAL_DIR}/{CHAIN_ROOT}.minisig");
    let sig = crate::fsutil::read_regular_string(&bag.join(&sig_rel)).unwrap_or_default();
    match verify_detached(&data, &sig, &key) {
        Ok(tc) => match Statement::parse(&tc) {
            Some(s)
                if s.tag_manifest == "tagmanifest-sha256"
                    && s.sha256 == digest_bytes(Algorithm::Sha256, &data) =>
            {
                Vec::new()
            }
            _ => not_sealed(format!(
                "the statement of {sig_rel} does not match {CHAIN_ROOT}"
            )),
        },
        Err(e) => not_sealed(format!("{sig_rel} does not verify: {e}")),
    }
}

/// The log's entries as they are, in order, without verifying them (`custody show`).
pub fn read_entries(bag: &Path) -> Vec<(String, Result<Entry, String>)> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir(bag.join(CUSTODY_DIR)) else {
        return out;
    };
    let mut names: BTreeSet<String> = BTreeSet::new();
    for e in rd.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.ends_with(".json") {
            names.insert(n);
        }
    }
    for n in names {
        let rel = format!("{CUSTODY_DIR}/{n}");
        let parsed = crate::fsutil::read_regular(&bag.join(&rel))
            .map_err(|e| e.to_string())
            .and_then(|d| parse_entry(&d));
        out.push((rel, parsed));
    }
    out
}

/// The verified entries as one PREMIS 3 document: the bag as an `intellectualEntity`
/// object, one event per entry (`custody-<seq>`, with the LoC event type, date-time, detail
/// and outcome, linked to the custodian, to qoima and to the bag), and the agents: one per
/// signing key (identifier type `minisign public key`) and qoima.
pub fn export_premis(
    report: &CustodyReport,
    seal_tokens: &[super::timestamp::CheckedToken],
) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    premis_document(&mut w, report, seal_tokens).expect("writing to a Vec cannot fail");
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    String::from_utf8(bytes).expect("the writer only writes UTF-8")
}

fn open<W: Write>(w: &mut Writer<W>, name: &str) -> io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))
}

fn close<W: Write>(w: &mut Writer<W>, name: &str) -> io::Result<()> {
    w.write_event(Event::End(BytesEnd::new(name)))
}

const KEY_ID_TYPE: &str = "minisign public key";

fn premis_document<W: Write>(
    w: &mut Writer<W>,
    r: &CustodyReport,
    seal_tokens: &[super::timestamp::CheckedToken],
) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(
        BytesStart::new("premis:premis").with_attributes([
            ("xmlns:premis", PREMIS_NS),
            ("xmlns:xsi", XSI_NS),
            ("xsi:schemaLocation", PREMIS_SCHEMA_LOCATION),
            ("version", PREMIS_VERSION),
        ]),
    ))?;
    w.write_event(Event::Start(
        BytesStart::new("premis:object")
            .with_attributes([("xsi:type", "premis:intellectualEntity")]),
    ))?;
    open(w, "premis:objectIdentifier")?;
    text_with(w, "premis:objectIdentifierType", &[], "local")?;
    text_with(w, "premis:objectIdentifierValue", &[], &r.bag_name)?;
    close(w, "premis:objectIdentifier")?;
    text_with(w, "premis:originalName", &[], &r.bag_name)?;
    close(w, "premis:object")?;

    // Agents by key, with every name they signed under, in order of first appearance.
    let mut agents: Vec<(String, Vec<String>)> = Vec::new();
    let mut versions: BTreeSet<String> = BTreeSet::new();
    for s in &r.entries {
        let Some(e) = &s.entry else { continue };
        versions.insert(e.software.version.clone());
        match agents.iter_mut().find(|(k, _)| *k == e.agent.key) {
            Some((_, names)) if !names.contains(&e.agent.name) => names.push(e.agent.name.clone()),
            Some(_) => {}
            None => agents.push((e.agent.key.clone(), vec![e.agent.name.clone()])),
        }
        premis_event(w, r, s, e)?;
    }
    // Time-stamps, dated by their authority's clock: over the seal, then over entries.
    let tokens: Vec<&super::timestamp::CheckedToken> = seal_tokens
        .iter()
        .chain(&r.timestamps)
        .filter(|t| t.info.is_some())
        .collect();
    let mut tsas: Vec<(String, Option<String>)> = Vec::new();
    for t in &tokens {
        timestamp_event(w, r, t)?;
        if !tsas.iter().any(|(n, _)| *n == t.tsa) {
            tsas.push((
                t.tsa.clone(),
                t.info.as_ref().and_then(|i| i.signer.clone()),
            ));
        }
    }
    for (name, signer) in &tsas {
        open(w, "premis:agent")?;
        open(w, "premis:agentIdentifier")?;
        text_with(w, "premis:agentIdentifierType", &[], TSA_ID_TYPE)?;
        text_with(w, "premis:agentIdentifierValue", &[], name)?;
        close(w, "premis:agentIdentifier")?;
        text_with(
            w,
            "premis:agentName",
            &[],
            signer.as_deref().unwrap_or(name),
        )?;
        text_with(w, "premis:agentType", &[], "organization")?;
        text_with(
            w,
            "premis:agentNote",
            &[],
            "RFC 3161 time-stamp authority (the name its tokens carry in this bag)",
        )?;
        close(w, "premis:agent")?;
    }
    for (key, names) in &agents {
        open(w, "premis:agent")?;
        open(w, "premis:agentIdentifier")?;
        text_with(w, "premis:agentIdentifierType", &[], KEY_ID_TYPE)?;
        text_with(w, "premis:agentIdentifierValue", &[], key)?;
        close(w, "premis:agentIdentifier")?;
        for n in names {
            text_with(w, "premis:agentName", &[], n)?;
        }
        if let Some(pk) = parse_public_key(key) {
            text_with(
                w,
                "premis:agentNote",
                &[],
                &format!("minisign key id {}", key_id(&pk)),
            )?;
        }
        close(w, "premis:agent")?;
    }
    for v in &versions {
        open(w, "premis:agent")?;
        open(w, "premis:agentIdentifier")?;
        text_with(w, "premis:agentIdentifierType", &[], "local")?;
        text_with(w, "premis:agentIdentifierValue", &[], &format!("qoima-{v}"))?;
        close(w, "premis:agentIdentifier")?;
        text_with(w, "premis:agentName", &[], "qoima")?;
        text_with(w, "premis:agentType", &[], "software")?;
        text_with(w, "premis:agentVersion", &[], v)?;
        close(w, "premis:agent")?;
    }
    close(w, "premis:premis")
}

/// Opens a PREMIS event: its local identifier and its type (LoC eventType URI and label).
fn event_head<W: Write>(
    w: &mut Writer<W>,
    id: &str,
    type_uri: &str,
    label: &str,
) -> io::Result<()> {
    open(w, "premis:event")?;
    open(w, "premis:eventIdentifier")?;
    text_with(w, "premis:eventIdentifierType", &[], "local")?;
    text_with(w, "premis:eventIdentifierValue", &[], id)?;
    close(w, "premis:eventIdentifier")?;
    text_with(
        w,
        "premis:eventType",
        &[
            ("authority", "eventType"),
            ("authorityURI", EVENT_TYPE_AUTHORITY_URI),
            ("valueURI", type_uri),
        ],
        label,
    )
}

const TSA_ID_TYPE: &str = "time-stamp authority";
/// `dsg`, digital signature generation: what a time-stamp authority does.
const SIGNATURE_GENERATION: &str = "http://id.loc.gov/vocabulary/preservation/eventType/dsg";

/// A PREMIS event for an RFC 3161 token: the authority signed, at its time, a digest of the
/// signature file. The date is the token's; the outcome says whether it was checked.
fn timestamp_event<W: Write>(
    w: &mut Writer<W>,
    r: &CustodyReport,
    t: &super::timestamp::CheckedToken,
) -> io::Result<()> {
    let Some(info) = &t.info else { return Ok(()) };
    event_head(
        w,
        &format!("timestamp-{}", t.token),
        SIGNATURE_GENERATION,
        "digital signature generation",
    )?;
    text_with(w, "premis:eventDateTime", &[], &info.time)?;
    open(w, "premis:eventDetailInformation")?;
    text_with(
        w,
        "premis:eventDetail",
        &[],
        &format!(
            "RFC 3161 time-stamp {} over {} ({} {}); serial {}, policy {}{}",
            t.token,
            t.data,
            info.imprint_algorithm,
            info.imprint,
            info.serial,
            info.policy,
            info.signer
                .as_ref()
                .map(|s| format!(", signed by {s}"))
                .unwrap_or_default()
        ),
    )?;
    close(w, "premis:eventDetailInformation")?;
    open(w, "premis:eventOutcomeInformation")?;
    text_with(
        w,
        "premis:eventOutcome",
        &[],
        if t.trusted {
            "verified against the trusted time-stamp authority roots"
        } else {
            "not checked: no trusted time-stamp authority roots were given"
        },
    )?;
    close(w, "premis:eventOutcomeInformation")?;
    open(w, "premis:linkingAgentIdentifier")?;
    text_with(w, "premis:linkingAgentIdentifierType", &[], TSA_ID_TYPE)?;
    text_with(w, "premis:linkingAgentIdentifierValue", &[], &t.tsa)?;
    text_with(
        w,
        "premis:linkingAgentRole",
        &[
            ("authority", "eventRelatedAgentRole"),
            ("authorityURI", AGENT_ROLE_AUTHORITY_URI),
            (
                "valueURI",
                "http://id.loc.gov/vocabulary/preservation/eventRelatedAgentRole/imp",
            ),
        ],
        "implementer",
    )?;
    close(w, "premis:linkingAgentIdentifier")?;
    open(w, "premis:linkingObjectIdentifier")?;
    text_with(w, "premis:linkingObjectIdentifierType", &[], "local")?;
    text_with(w, "premis:linkingObjectIdentifierValue", &[], &r.bag_name)?;
    close(w, "premis:linkingObjectIdentifier")?;
    close(w, "premis:event")
}

fn premis_event<W: Write>(
    w: &mut Writer<W>,
    r: &CustodyReport,
    s: &EntrySummary,
    e: &Entry,
) -> io::Result<()> {
    event_head(w, &format!("custody-{}", s.seq), &e.event, &e.event_label)?;
    text_with(w, "premis:eventDateTime", &[], &e.time)?;
    if !e.detail.is_empty() {
        open(w, "premis:eventDetailInformation")?;
        text_with(w, "premis:eventDetail", &[], &e.detail)?;
        close(w, "premis:eventDetailInformation")?;
    }
    open(w, "premis:eventDetailInformation")?;
    text_with(
        w,
        "premis:eventDetail",
        &[],
        &format!(
            "custody log entry {} ({}, {}); prev={}; signed by minisign key {}{}",
            s.seq,
            s.file,
            s.digest,
            e.prev,
            s.key_id.as_deref().unwrap_or("?"),
            if s.receipt { "; a receipt" } else { "" }
        ),
    )?;
    close(w, "premis:eventDetailInformation")?;
    open(w, "premis:eventOutcomeInformation")?;
    text_with(w, "premis:eventOutcome", &[], &e.outcome)?;
    close(w, "premis:eventOutcomeInformation")?;
    for (kind, value, role, label) in [
        (
            KEY_ID_TYPE,
            e.agent.key.clone(),
            &e.agent.role,
            "implementer",
        ),
        (
            "local",
            format!("qoima-{}", e.software.version),
            &e.software.role,
            "executing program",
        ),
    ] {
        open(w, "premis:linkingAgentIdentifier")?;
        text_with(w, "premis:linkingAgentIdentifierType", &[], kind)?;
        text_with(w, "premis:linkingAgentIdentifierValue", &[], &value)?;
        text_with(
            w,
            "premis:linkingAgentRole",
            &[
                ("authority", "eventRelatedAgentRole"),
                ("authorityURI", AGENT_ROLE_AUTHORITY_URI),
                ("valueURI", role),
            ],
            label,
        )?;
        close(w, "premis:linkingAgentIdentifier")?;
    }
    open(w, "premis:linkingObjectIdentifier")?;
    text_with(w, "premis:linkingObjectIdentifierType", &[], "local")?;
    text_with(w, "premis:linkingObjectIdentifierValue", &[], &r.bag_name)?;
    close(w, "premis:linkingObjectIdentifier")?;
    close(w, "premis:event")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            v: 1,
            seq: 1,
            prev: format!("sha256:{}", "ab".repeat(32)),
            time: "2022-01-05T00:00:00Z".into(),
            event: EventType::Transfer.uri(),
            event_label: "transfer".into(),
            agent: Agent {
                key: "RWQ".into(),
                role: role_implementer(),
                name: "Legal team \"B\"\nsecond line".into(),
            },
            software: Software {
                name: "qoima".into(),
                version: "0.1.0".into(),
                role: role_executing_program(),
            },
            object: Object {
                bag: "CASE".into(),
                tagmanifest_sha256: "cd".repeat(32),
            },
            outcome: "success".into(),
            detail: "Қойма — received".into(),
        }
    }

    #[test]
    fn entries_are_canonical_one_liners_and_only_those_are_read() {
        let e = entry();
        let text = e.canonical();
        assert_eq!(text.lines().count(), 1);
        assert!(text.starts_with("{\"v\":1,\"seq\":1,\"prev\":\"sha256:abab"));
        assert!(text.contains(",\"agent\":{\"key\":\"RWQ\",\"role\":"));
        assert_eq!(parse_entry(text.as_bytes()).unwrap(), e);
        // Re-spaced, reordered, extended or unterminated: refused.
        let spaced = text.replacen("\"seq\":1", "\"seq\": 1", 1);
        assert!(parse_entry(spaced.as_bytes()).is_err());
        let extra = text.replacen("{\"v\":1,", "{\"v\":1,\"x\":0,", 1);
        assert!(parse_entry(extra.as_bytes()).is_err());
        assert!(parse_entry(text.trim_end().as_bytes()).is_err());
        let mut bad = e.clone();
        bad.event_label = "fixity check".into();
        assert!(parse_entry(bad.canonical().as_bytes()).is_err());
        let mut bad = e;
        bad.time = "2022-01-05 00:00:00".into();
        assert!(parse_entry(bad.canonical().as_bytes()).is_err());
    }

    #[test]
    fn event_types_are_loc_terms() {
        let codes: Vec<&str> = EventType::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(
            codes,
            ["tra", "acc", "fix", "val", "dig", "rep", "dis", "mod"]
        );
        for e in EventType::ALL {
            assert_eq!(EventType::from_uri(&e.uri()), Some(*e));
        }
        assert_eq!(
            EventType::FixityCheck.uri(),
            "http://id.loc.gov/vocabulary/preservation/eventType/fix"
        );
    }

    #[test]
    fn premis_export_validates_against_the_official_schema() {
        let e = entry();
        let text = e.canonical();
        let report = CustodyReport {
            bag: "/bags/CASE".into(),
            bag_name: "CASE".into(),
            present: true,
            verified: true,
            entries: vec![EntrySummary {
                seq: 1,
                file: entry_name(1),
                digest: sha256_ref(text.as_bytes()),
                entry: Some(e),
                key_id: Some("0123456789ABCDEF".into()),
                receipt: false,
                anchored_by: None,
                verified: true,
            }],
            head: None,
            anchored_through: 0,
            timestamp_anchored: Vec::new(),
            timestamps: Vec::new(),
            notes: Vec::new(),
            checks: Vec::new(),
            problems: Vec::new(),
        };
        let xml = export_premis(&report, &[]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custody.xml");
        fs::write(&path, &xml).unwrap();
        crate::describe::test_support::assert_valid("premis.xsd", &[path]);
        assert!(xml.contains("eventRelatedAgentRole/imp\">implementer<"));
    }
}
