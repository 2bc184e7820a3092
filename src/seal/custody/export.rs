//! The verified custody log as one PREMIS 3 document (`qoima custody export`).

use std::collections::BTreeSet;
use std::io::{self, Write};

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};

use super::AGENT_ROLE_AUTHORITY_URI;
use super::entry::Entry;
use super::verify::{CustodyReport, EntrySummary};
use crate::describe::dc::XSI_NS;
use crate::describe::premis::{
    EVENT_TYPE_AUTHORITY_URI, PREMIS_NS, PREMIS_SCHEMA_LOCATION, PREMIS_VERSION, text_with,
};
use crate::seal::keys::{key_id, parse_public_key};
use crate::seal::timestamp::CheckedToken;

/// The verified entries as one PREMIS 3 document: the bag as an `intellectualEntity`
/// object, one event per entry (`custody-<seq>`, with the LoC event type, date-time, detail
/// and outcome, linked to the custodian, to qoima and to the bag), and the agents: one per
/// signing key (identifier type `minisign public key`) and qoima.
pub fn export_premis(report: &CustodyReport, seal_tokens: &[CheckedToken]) -> String {
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
    seal_tokens: &[CheckedToken],
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
    let tokens: Vec<&CheckedToken> = seal_tokens
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
    t: &CheckedToken,
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
