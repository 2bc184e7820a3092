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
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    premis_document(&mut writer, report, seal_tokens).expect("writing to a Vec cannot fail");
    let mut bytes = writer.into_inner();
    bytes.push(b'\n');
    String::from_utf8(bytes).expect("the writer only writes UTF-8")
}

fn open<W: Write>(writer: &mut Writer<W>, name: &str) -> io::Result<()> {
    writer.write_event(Event::Start(BytesStart::new(name)))
}

fn close<W: Write>(writer: &mut Writer<W>, name: &str) -> io::Result<()> {
    writer.write_event(Event::End(BytesEnd::new(name)))
}

const KEY_ID_TYPE: &str = "minisign public key";

fn premis_document<W: Write>(
    writer: &mut Writer<W>,
    report: &CustodyReport,
    seal_tokens: &[CheckedToken],
) -> io::Result<()> {
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    writer.write_event(Event::Start(
        BytesStart::new("premis:premis").with_attributes([
            ("xmlns:premis", PREMIS_NS),
            ("xmlns:xsi", XSI_NS),
            ("xsi:schemaLocation", PREMIS_SCHEMA_LOCATION),
            ("version", PREMIS_VERSION),
        ]),
    ))?;
    writer.write_event(Event::Start(
        BytesStart::new("premis:object")
            .with_attributes([("xsi:type", "premis:intellectualEntity")]),
    ))?;
    open(writer, "premis:objectIdentifier")?;
    text_with(writer, "premis:objectIdentifierType", &[], "local")?;
    text_with(
        writer,
        "premis:objectIdentifierValue",
        &[],
        &report.bag_name,
    )?;
    close(writer, "premis:objectIdentifier")?;
    text_with(writer, "premis:originalName", &[], &report.bag_name)?;
    close(writer, "premis:object")?;

    // Agents by key, with every name they signed under, in order of first appearance.
    let mut agents: Vec<(String, Vec<String>)> = Vec::new();
    let mut versions: BTreeSet<String> = BTreeSet::new();
    for summary in &report.entries {
        let Some(entry) = &summary.entry else {
            continue;
        };
        versions.insert(entry.software.version.clone());
        match agents.iter_mut().find(|(k, _)| *k == entry.agent.key) {
            Some((_, names)) if !names.contains(&entry.agent.name) => {
                names.push(entry.agent.name.clone())
            }
            Some(_) => {}
            None => agents.push((entry.agent.key.clone(), vec![entry.agent.name.clone()])),
        }
        premis_event(writer, report, summary, entry)?;
    }
    // Time-stamps, dated by their authority's clock: over the seal, then over entries.
    let tokens: Vec<&CheckedToken> = seal_tokens
        .iter()
        .chain(&report.timestamps)
        .filter(|token| token.info.is_some())
        .collect();
    let mut tsas: Vec<(String, Option<String>)> = Vec::new();
    for token in &tokens {
        timestamp_event(writer, report, token)?;
        if !tsas.iter().any(|(name, _)| *name == token.tsa) {
            tsas.push((
                token.tsa.clone(),
                token.info.as_ref().and_then(|i| i.signer.clone()),
            ));
        }
    }
    agents_of(writer, &tsas, &agents, &versions)?;
    close(writer, "premis:premis")
}

/// The agents: the time-stamp authorities, the custodians by key (with every name they
/// signed under), and each version of qoima that wrote an entry.
fn agents_of<W: Write>(
    writer: &mut Writer<W>,
    tsas: &[(String, Option<String>)],
    agents: &[(String, Vec<String>)],
    versions: &BTreeSet<String>,
) -> io::Result<()> {
    for (name, signer) in tsas {
        open(writer, "premis:agent")?;
        open(writer, "premis:agentIdentifier")?;
        text_with(writer, "premis:agentIdentifierType", &[], TSA_ID_TYPE)?;
        text_with(writer, "premis:agentIdentifierValue", &[], name)?;
        close(writer, "premis:agentIdentifier")?;
        text_with(
            writer,
            "premis:agentName",
            &[],
            signer.as_deref().unwrap_or(name),
        )?;
        text_with(writer, "premis:agentType", &[], "organization")?;
        text_with(
            writer,
            "premis:agentNote",
            &[],
            "RFC 3161 time-stamp authority (the name its tokens carry in this bag)",
        )?;
        close(writer, "premis:agent")?;
    }
    for (key, names) in agents {
        open(writer, "premis:agent")?;
        open(writer, "premis:agentIdentifier")?;
        text_with(writer, "premis:agentIdentifierType", &[], KEY_ID_TYPE)?;
        text_with(writer, "premis:agentIdentifierValue", &[], key)?;
        close(writer, "premis:agentIdentifier")?;
        for name in names {
            text_with(writer, "premis:agentName", &[], name)?;
        }
        if let Some(pk) = parse_public_key(key) {
            text_with(
                writer,
                "premis:agentNote",
                &[],
                &format!("minisign key id {}", key_id(&pk)),
            )?;
        }
        close(writer, "premis:agent")?;
    }
    for version in versions {
        open(writer, "premis:agent")?;
        open(writer, "premis:agentIdentifier")?;
        text_with(writer, "premis:agentIdentifierType", &[], "local")?;
        text_with(
            writer,
            "premis:agentIdentifierValue",
            &[],
            &format!("qoima-{version}"),
        )?;
        close(writer, "premis:agentIdentifier")?;
        text_with(writer, "premis:agentName", &[], "qoima")?;
        text_with(writer, "premis:agentType", &[], "software")?;
        text_with(writer, "premis:agentVersion", &[], version)?;
        close(writer, "premis:agent")?;
    }
    Ok(())
}

/// Opens a PREMIS event: its local identifier and its type (LoC eventType URI and label).
fn event_head<W: Write>(
    writer: &mut Writer<W>,
    id: &str,
    type_uri: &str,
    label: &str,
) -> io::Result<()> {
    open(writer, "premis:event")?;
    open(writer, "premis:eventIdentifier")?;
    text_with(writer, "premis:eventIdentifierType", &[], "local")?;
    text_with(writer, "premis:eventIdentifierValue", &[], id)?;
    close(writer, "premis:eventIdentifier")?;
    text_with(
        writer,
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
    writer: &mut Writer<W>,
    report: &CustodyReport,
    token: &CheckedToken,
) -> io::Result<()> {
    let Some(info) = &token.info else {
        return Ok(());
    };
    event_head(
        writer,
        &format!("timestamp-{}", token.token),
        SIGNATURE_GENERATION,
        "digital signature generation",
    )?;
    text_with(writer, "premis:eventDateTime", &[], &info.time)?;
    open(writer, "premis:eventDetailInformation")?;
    text_with(
        writer,
        "premis:eventDetail",
        &[],
        &format!(
            "RFC 3161 time-stamp {} over {} ({} {}); serial {}, policy {}{}",
            token.token,
            token.data,
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
    close(writer, "premis:eventDetailInformation")?;
    open(writer, "premis:eventOutcomeInformation")?;
    text_with(
        writer,
        "premis:eventOutcome",
        &[],
        if token.trusted {
            "verified against the trusted time-stamp authority roots"
        } else {
            "not checked: no trusted time-stamp authority roots were given"
        },
    )?;
    close(writer, "premis:eventOutcomeInformation")?;
    open(writer, "premis:linkingAgentIdentifier")?;
    text_with(
        writer,
        "premis:linkingAgentIdentifierType",
        &[],
        TSA_ID_TYPE,
    )?;
    text_with(
        writer,
        "premis:linkingAgentIdentifierValue",
        &[],
        &token.tsa,
    )?;
    text_with(
        writer,
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
    close(writer, "premis:linkingAgentIdentifier")?;
    open(writer, "premis:linkingObjectIdentifier")?;
    text_with(writer, "premis:linkingObjectIdentifierType", &[], "local")?;
    text_with(
        writer,
        "premis:linkingObjectIdentifierValue",
        &[],
        &report.bag_name,
    )?;
    close(writer, "premis:linkingObjectIdentifier")?;
    close(writer, "premis:event")
}

fn premis_event<W: Write>(
    writer: &mut Writer<W>,
    report: &CustodyReport,
    summary: &EntrySummary,
    entry: &Entry,
) -> io::Result<()> {
    event_head(
        writer,
        &format!("custody-{}", summary.seq),
        &entry.event,
        &entry.event_label,
    )?;
    text_with(writer, "premis:eventDateTime", &[], &entry.time)?;
    if !entry.detail.is_empty() {
        open(writer, "premis:eventDetailInformation")?;
        text_with(writer, "premis:eventDetail", &[], &entry.detail)?;
        close(writer, "premis:eventDetailInformation")?;
    }
    open(writer, "premis:eventDetailInformation")?;
    text_with(
        writer,
        "premis:eventDetail",
        &[],
        &format!(
            "custody log entry {} ({}, {}); prev={}; signed by minisign key {}{}",
            summary.seq,
            summary.file,
            summary.digest,
            entry.prev,
            summary.key_id.as_deref().unwrap_or("?"),
            if summary.receipt { "; a receipt" } else { "" }
        ),
    )?;
    close(writer, "premis:eventDetailInformation")?;
    open(writer, "premis:eventOutcomeInformation")?;
    text_with(writer, "premis:eventOutcome", &[], &entry.outcome)?;
    close(writer, "premis:eventOutcomeInformation")?;
    for (kind, value, role, label) in [
        (
            KEY_ID_TYPE,
            entry.agent.key.clone(),
            &entry.agent.role,
            "implementer",
        ),
        (
            "local",
            format!("qoima-{}", entry.software.version),
            &entry.software.role,
            "executing program",
        ),
    ] {
        open(writer, "premis:linkingAgentIdentifier")?;
        text_with(writer, "premis:linkingAgentIdentifierType", &[], kind)?;
        text_with(writer, "premis:linkingAgentIdentifierValue", &[], &value)?;
        text_with(
            writer,
            "premis:linkingAgentRole",
            &[
                ("authority", "eventRelatedAgentRole"),
                ("authorityURI", AGENT_ROLE_AUTHORITY_URI),
                ("valueURI", role),
            ],
            label,
        )?;
        close(writer, "premis:linkingAgentIdentifier")?;
    }
    open(writer, "premis:linkingObjectIdentifier")?;
    text_with(writer, "premis:linkingObjectIdentifierType", &[], "local")?;
    text_with(
        writer,
        "premis:linkingObjectIdentifierValue",
        &[],
        &report.bag_name,
    )?;
    close(writer, "premis:linkingObjectIdentifier")?;
    close(writer, "premis:event")
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
