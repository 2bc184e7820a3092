//! The verified custody log as one PREMIS 3 document (`qoima custody export`).

use std::collections::BTreeSet;

use super::entry::{Entry, role_implementer};
use super::verify::{CustodyReport, EntrySummary};
use crate::describe::premis::{AgentFacts, EntityFacts, EventFacts, LinkedAgent, premis_document};
use crate::seal::keys::{key_id, parse_public_key};
use crate::seal::timestamp::CheckedToken;

/// The verified entries as one PREMIS 3 document: the bag as an `intellectualEntity`
/// object, one event per entry (`custody-<seq>`, with the LoC event type, date-time, detail
/// and outcome, linked to the custodian, to qoima and to the bag), and the agents: one per
/// signing key (identifier type `minisign public key`) and qoima.
pub fn export_premis(report: &CustodyReport, seal_tokens: &[CheckedToken]) -> String {
    let mut events = Vec::new();
    // Custodians by key, with every name they signed under, in order of first appearance.
    let mut keys: Vec<(String, Vec<String>)> = Vec::new();
    let mut versions: BTreeSet<String> = BTreeSet::new();
    for summary in &report.entries {
        let Some(entry) = &summary.entry else {
            continue;
        };
        versions.insert(entry.software.version.clone());
        match keys.iter_mut().find(|(key, _)| *key == entry.agent.key) {
            Some((_, names)) if !names.contains(&entry.agent.name) => {
                names.push(entry.agent.name.clone())
            }
            Some(_) => {}
            None => keys.push((entry.agent.key.clone(), vec![entry.agent.name.clone()])),
        }
        events.push(entry_event(report, summary, entry));
    }
    // Time-stamps, dated by their authority's clock: over the seal, then over entries.
    let mut authorities: Vec<(String, Option<String>)> = Vec::new();
    for token in seal_tokens.iter().chain(&report.timestamps) {
        let Some(event) = timestamp_event(report, token) else {
            continue;
        };
        events.push(event);
        if !authorities.iter().any(|(name, _)| *name == token.tsa) {
            let signer = token.info.as_ref().and_then(|info| info.signer.clone());
            authorities.push((token.tsa.clone(), signer));
        }
    }
    let agents = agents_of(&authorities, &keys, &versions);
    let bag = EntityFacts {
        identifier: report.bag_name.clone(),
        original_name: report.bag_name.clone(),
    };
    premis_document(&[bag.into()], &events, &agents)
}

/// The agents: the time-stamp authorities, the custodians by key (with every name they
/// signed under), and each version of qoima that wrote an entry.
fn agents_of(
    authorities: &[(String, Option<String>)],
    keys: &[(String, Vec<String>)],
    versions: &BTreeSet<String>,
) -> Vec<AgentFacts> {
    authorities
        .iter()
        .map(|(name, signer)| tsa_agent(name, signer.as_deref()))
        .chain(keys.iter().map(|(key, names)| key_agent(key, names)))
        .chain(versions.iter().map(|version| AgentFacts::qoima_at(version)))
        .collect()
}

const KEY_ID_TYPE: &str = "minisign public key";
const TSA_ID_TYPE: &str = "time-stamp authority";
/// `dsg`, digital signature generation: what a time-stamp authority does.
const SIGNATURE_GENERATION: &str = "http://id.loc.gov/vocabulary/preservation/eventType/dsg";

/// A time-stamp authority, by the name its tokens carry (named by its signer when known).
fn tsa_agent(name: &str, signer: Option<&str>) -> AgentFacts {
    AgentFacts {
        identifier_type: TSA_ID_TYPE.into(),
        identifier: name.into(),
        names: vec![signer.unwrap_or(name).into()],
        agent_type: Some("organization".into()),
        version: None,
        notes: vec!["RFC 3161 time-stamp authority (the name its tokens carry in this bag)".into()],
    }
}

/// A custodian, by the key they signed with, under every name they used.
fn key_agent(key: &str, names: &[String]) -> AgentFacts {
    AgentFacts {
        identifier_type: KEY_ID_TYPE.into(),
        identifier: key.into(),
        names: names.to_vec(),
        agent_type: None,
        version: None,
        notes: parse_public_key(key)
            .map(|public| format!("minisign key id {}", key_id(&public)))
            .into_iter()
            .collect(),
    }
}

/// The bag, as every event links to it.
fn bag_link(report: &CustodyReport) -> Option<(String, String)> {
    Some(("local".into(), report.bag_name.clone()))
}

/// A PREMIS event for an RFC 3161 token: the authority signed, at its time, a digest of the
/// signature file. The date is the token's; the outcome says whether it was checked. `None`
/// for a token that could not be read.
fn timestamp_event(report: &CustodyReport, token: &CheckedToken) -> Option<EventFacts> {
    let info = token.info.as_ref()?;
    let signed_by = info
        .signer
        .as_ref()
        .map(|signer| format!(", signed by {signer}"))
        .unwrap_or_default();
    let outcome = if token.trusted {
        "verified against the trusted time-stamp authority roots"
    } else {
        "not checked: no trusted time-stamp authority roots were given"
    };
    Some(EventFacts {
        identifier: format!("timestamp-{}", token.token),
        event_type: "digital signature generation".into(),
        event_type_uri: SIGNATURE_GENERATION.into(),
        date_time: info.time.clone(),
        details: vec![format!(
            "RFC 3161 time-stamp {} over {} ({} {}); serial {}, policy {}{signed_by}",
            token.token, token.data, info.imprint_algorithm, info.imprint, info.serial, info.policy,
        )],
        outcome: outcome.into(),
        outcome_details: Vec::new(),
        agents: vec![LinkedAgent {
            identifier_type: TSA_ID_TYPE.into(),
            identifier: token.tsa.clone(),
            role: "implementer".into(),
            role_uri: Some(role_implementer()),
        }],
        object: bag_link(report),
    })
}

/// A custody entry as a PREMIS event, linked to its custodian (implementer), to qoima
/// (executing program) and to the bag.
fn entry_event(report: &CustodyReport, summary: &EntrySummary, entry: &Entry) -> EventFacts {
    let mut details = Vec::new();
    if !entry.detail.is_empty() {
        details.push(entry.detail.clone());
    }
    details.push(format!(
        "custody log entry {} ({}, {}); prev={}; signed by minisign key {}{}",
        summary.seq,
        summary.file,
        summary.digest,
        entry.prev,
        summary.key_id.as_deref().unwrap_or("?"),
        if summary.receipt { "; a receipt" } else { "" }
    ));
    EventFacts {
        identifier: format!("custody-{}", summary.seq),
        event_type: entry.event_label.clone(),
        event_type_uri: entry.event.clone(),
        date_time: entry.time.clone(),
        details,
        outcome: entry.outcome.clone(),
        outcome_details: Vec::new(),
        agents: vec![
            LinkedAgent {
                identifier_type: KEY_ID_TYPE.into(),
                identifier: entry.agent.key.clone(),
                role: "implementer".into(),
                role_uri: Some(entry.agent.role.clone()),
            },
            LinkedAgent {
                identifier_type: "local".into(),
                identifier: format!("qoima-{}", entry.software.version),
                role: "executing program".into(),
                role_uri: Some(entry.software.role.clone()),
            },
        ],
        object: bag_link(report),
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::seal::custody::entry::{entry_name, sample_entry, sha256_ref};

    #[test]
    fn premis_export_validates_against_the_official_schema() {
        let e = sample_entry();
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
