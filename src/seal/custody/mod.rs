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
//!
//! The files: `entry` (the entry format and its canonical form), `log` (appending, reading
//! the entries as they are), `verify` (numbering, chain, signatures, trust, time-stamps, the
//! head and its anchors), `export` (the verified log as PREMIS), `update` (the entry that
//! records `bag --update --force`).

mod entry;
mod export;
mod log;
mod update;
mod verify;

use std::path::{Path, PathBuf};

use super::layout::SEAL_DIR;
pub use super::layout::{CUSTODY_DIR, bag_name, has_entries};
pub use entry::{Agent, Entry, EventType, Object, Software, entry_name, parse_entry, statement};
pub use export::export_premis;
pub use log::{AppendOptions, Appended, append, read_entries};
pub use update::{Custodian, record_update};
pub use verify::{CustodyReport, EntrySummary, verify};

/// The entry format's version (`"v"`).
pub const ENTRY_VERSION: u32 = 1;
/// The first word of every entry signature's trusted comment.
pub const CUSTODY_VERSION: &str = "qoima-custody/1";
/// The tag manifest entry 1 chains to.
pub const CHAIN_ROOT: &str = "tagmanifest-sha256.txt";

/// The file the log chains to: the tag manifest as sealed. Once the bag was changed after
/// sealing (`qoima bag --update --force`), that is the copy kept in `seal/`; until then, the
/// bag's own.
pub fn chain_root(bag: &Path) -> PathBuf {
    let kept = bag.join(SEAL_DIR).join(CHAIN_ROOT);
    if kept.is_file() {
        kept
    } else {
        bag.join(CHAIN_ROOT)
    }
}
