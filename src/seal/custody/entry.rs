//! One custody entry: its fields (LoC PREMIS event types and agent roles), its canonical
//! bytes, its file name, the statement its signature carries, and reading one back in its
//! canonical form only.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{CUSTODY_DIR, CUSTODY_VERSION, ENTRY_VERSION};
use crate::describe::premis::{AGENT_ROLE_AUTHORITY_URI, EVENT_TYPE_AUTHORITY_URI};
use crate::digest::{Algorithm, digest_bytes};

/// The custodian's role: implementer.
pub(super) fn role_implementer() -> String {
    format!("{AGENT_ROLE_AUTHORITY_URI}/imp")
}

/// The software's role: executing program.
pub(super) fn role_executing_program() -> String {
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

    /// The event types `custody append` offers, in the order its help lists them (a
    /// modification is written by `bag --update --force` only).
    pub const APPENDABLE: &'static [EventType] = &[
        EventType::Transfer,
        EventType::Accession,
        EventType::FixityCheck,
        EventType::Validation,
        EventType::SignatureValidation,
        EventType::Replication,
        EventType::Dissemination,
    ];

    /// The name a user gives it (`--event fixity-check`).
    pub fn name(self) -> &'static str {
        match self {
            EventType::Transfer => "transfer",
            EventType::Accession => "accession",
            EventType::FixityCheck => "fixity-check",
            EventType::Validation => "validation",
            EventType::SignatureValidation => "signature-validation",
            EventType::Replication => "replication",
            EventType::Dissemination => "dissemination",
            EventType::Modification => "modification",
        }
    }

    /// What it records, in one line (the help of `--event`).
    pub fn help(self) -> &'static str {
        match self {
            EventType::Transfer => {
                "transfer (eventType/tra): the bag changed hands; signed by the receiver, a receipt"
            }
            EventType::Accession => "accession (eventType/acc)",
            EventType::FixityCheck => "fixity check (eventType/fix)",
            EventType::Validation => "validation (eventType/val)",
            EventType::SignatureValidation => {
                "digital signature validation (eventType/dig): the seal was verified"
            }
            EventType::Replication => "replication (eventType/rep): a copy was made",
            EventType::Dissemination => {
                "dissemination (eventType/dis): a copy was given out for access"
            }
            EventType::Modification => {
                "modification (eventType/mod): the bag was changed after sealing"
            }
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

/// An event type by its [`EventType::name`].
impl FromStr for EventType {
    type Err = String;

    fn from_str(name: &str) -> Result<EventType, String> {
        EventType::ALL
            .iter()
            .copied()
            .find(|event| event.name() == name)
            .ok_or_else(|| format!("{name:?} is not an event type qoima records"))
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
        crate::seal::one_line(bag)
    )
}

/// `sha256:<hex>` of some bytes.
pub(super) fn sha256_ref(data: &[u8]) -> String {
    format!("sha256:{}", digest_bytes(Algorithm::Sha256, data))
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

#[cfg(test)]
pub(super) fn sample_entry() -> Entry {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_canonical_one_liners_and_only_those_are_read() {
        let e = sample_entry();
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
        for event in EventType::ALL {
            assert_eq!(event.name().parse::<EventType>(), Ok(*event));
        }
        assert!("fixity check".parse::<EventType>().is_err());
        assert_eq!(
            EventType::FixityCheck.uri(),
            "http://id.loc.gov/vocabulary/preservation/eventType/fix"
        );
    }
}
