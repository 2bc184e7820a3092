//! Verifying a custody log, as a list of steps: the files (numbered from 1 without a gap,
//! nothing else), each entry (its fields, its place in the chain, its signature, trust in its
//! signer), the time-stamps over entries' signatures, and the head with its anchors.

mod anchors;
mod chain;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde::Serialize;

use super::CUSTODY_DIR;
use super::entry::{Entry, entry_name};
use crate::error::{Code, Problem};
use crate::seal::check::Check;
use crate::seal::keys::TrustedKey;
use crate::seal::layout::bag_name;
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

    pub(super) fn check(&mut self, name: &str, found: Vec<Problem>, ok: impl Into<String>) {
        self.checks
            .push(Check::judge(format!("custody:{name}"), &found, ok));
        self.problems.extend(found);
    }
}

/// The numbered files of the log: for each entry number, whether its `.json` and its
/// `.minisig` are there.
pub(super) type Numbered = BTreeMap<u64, (bool, bool)>;

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
    chain::check_entries(bag, &numbered, trusted, &mut report);
    check_timestamps(&dir, tsa_roots, &mut report);
    anchors::check_head(expect_head, tsa_roots, &mut report);
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
