//! PREMIS 3.0 preservation metadata, written from plain data: objects (a file, or an
//! intellectual entity such as a bag), the events that happened to them, the agents that
//! acted, and rights statements. The one PREMIS writer: the package's METS, the audit's
//! fixity history and the custody log's export all map their facts onto these types.
//!
//! [`write_object`], [`write_event`], [`write_agent`] and [`write_rights`] each write one
//! standalone root (`premis:object`, `premis:event`, `premis:agent`, `premis:rights`)
//! carrying its own namespace declarations and `version="3.0"`, the form a METS `mdWrap`
//! holds (one record per md section: `premis:premis` requires an object, so an event alone
//! cannot use it). [`premis_document`] puts objects, events and agents in one
//! `premis:premis` document that `premis.xsd` validates on its own.
//!
//! PREMIS 3's sequences are strict (`fixity` is algorithm, digest; `objectCharacteristics`
//! is compositionLevel, fixity*, size, format+; an agent is identifier, name*, type?,
//! version?, note*), and `premis:object` is abstract, so every object carries its
//! `xsi:type` (`premis:file`, `premis:intellectualEntity`). Controlled values (hash
//! functions, event types, agent roles) point at the Library of Congress preservation
//! vocabularies through the `authority`, `authorityURI` and `valueURI` attributes. Text is
//! written as given, except characters XML 1.0 cannot carry, which become U+FFFD.

use std::io::{self, Write};

use quick_xml::Writer;
use quick_xml::events::BytesStart;

use crate::describe::xml::{XSI_NS, close, document, open, open_tag, open_with, text, text_with};

mod facts;

pub use facts::{
    AgentFacts, EXECUTING_PROGRAM, EntityFacts, EventFacts, LinkedAgent, ObjectFacts, PremisObject,
    RightsFacts,
};

/// The PREMIS 3 namespace.
pub const PREMIS_NS: &str = "http://www.loc.gov/premis/v3";
/// The `xsi:schemaLocation` of a standalone PREMIS document (mapped by `schemas/catalog.xml`
/// to the vendored `premis.xsd`).
pub const PREMIS_SCHEMA_LOCATION: &str =
    "http://www.loc.gov/premis/v3 https://www.loc.gov/standards/premis/v3/premis.xsd";
/// The value of every PREMIS root's `version` attribute (exactly `3.0`; `3` is invalid).
pub const PREMIS_VERSION: &str = "3.0";

/// The LoC vocabulary of cryptographic hash functions.
const HASH_AUTHORITY_URI: &str =
    "http://id.loc.gov/vocabulary/preservation/cryptographicHashFunctions";
/// The LoC vocabulary of event types.
pub const EVENT_TYPE_AUTHORITY_URI: &str = "http://id.loc.gov/vocabulary/preservation/eventType";
/// The LoC vocabulary of event-related agent roles.
pub const AGENT_ROLE_AUTHORITY_URI: &str =
    "http://id.loc.gov/vocabulary/preservation/eventRelatedAgentRole";

/// The LoC `cryptographicHashFunctions` term for an algorithm name as PREMIS spells it
/// (`SHA-256` → `sha256`), or `None` for one the vocabulary has no entry we know of.
fn hash_term(algorithm: &str) -> Option<&'static str> {
    let squashed: String = algorithm
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    Some(match squashed.as_str() {
        "md5" => "md5",
        "sha1" => "sha1",
        "sha224" => "sha224",
        "sha256" => "sha256",
        "sha384" => "sha384",
        "sha512" => "sha512",
        _ => return None,
    })
}

/// A `premis:` root start tag: with its own namespace declarations and `version="3.0"` when
/// it stands alone, bare inside `premis:premis`.
fn root_start<'a>(name: &'a str, standalone: bool, xsi_type: Option<&'a str>) -> BytesStart<'a> {
    let mut start = BytesStart::new(name);
    if standalone {
        start.push_attribute(("xmlns:premis", PREMIS_NS));
    }
    if let Some(xsi_type) = xsi_type {
        if standalone {
            start.push_attribute(("xmlns:xsi", XSI_NS));
        }
        start.push_attribute(("xsi:type", xsi_type));
    }
    if standalone {
        start.push_attribute(("version", PREMIS_VERSION));
    }
    start
}

/// Writes `<wrapper><kind>…</kind><value>…</value></wrapper>`, the shape of every PREMIS
/// identifier (`objectIdentifier`, `linkingObjectIdentifier`, …).
fn identifier<W: Write>(
    writer: &mut Writer<W>,
    wrapper: &str,
    (kind_element, kind): (&str, &str),
    (value_element, value): (&str, &str),
) -> io::Result<()> {
    open(writer, wrapper)?;
    text(writer, kind_element, kind)?;
    text(writer, value_element, value)?;
    close(writer, wrapper)
}

/// Writes one `premis:object xsi:type="premis:file"`, standalone (its own `xmlns:premis`,
/// `xmlns:xsi` and `version="3.0"`), as a METS `techMD` holds it.
pub fn write_object<W: Write>(writer: &mut Writer<W>, facts: &ObjectFacts) -> io::Result<()> {
    file_object(writer, facts, true)
}

fn file_object<W: Write>(
    writer: &mut Writer<W>,
    facts: &ObjectFacts,
    standalone: bool,
) -> io::Result<()> {
    open_tag(
        writer,
        root_start("premis:object", standalone, Some("premis:file")),
    )?;
    object_identifier(writer, &facts.identifier)?;
    open(writer, "premis:objectCharacteristics")?;
    text(writer, "premis:compositionLevel", "0")?;
    for (algorithm, hex) in &facts.digests {
        fixity(writer, algorithm, hex)?;
    }
    text(writer, "premis:size", &facts.size.to_string())?;
    format(writer, facts)?;
    close(writer, "premis:objectCharacteristics")?;
    text(writer, "premis:originalName", &facts.original_name)?;
    close(writer, "premis:object")
}

fn object_identifier<W: Write>(writer: &mut Writer<W>, value: &str) -> io::Result<()> {
    identifier(
        writer,
        "premis:objectIdentifier",
        ("premis:objectIdentifierType", "local"),
        ("premis:objectIdentifierValue", value),
    )
}

/// One `fixity`: the algorithm (with its LoC term when there is one) and the digest.
fn fixity<W: Write>(writer: &mut Writer<W>, algorithm: &str, hex: &str) -> io::Result<()> {
    open(writer, "premis:fixity")?;
    match hash_term(algorithm) {
        Some(term) => {
            let value_uri = format!("{HASH_AUTHORITY_URI}/{term}");
            text_with(
                writer,
                "premis:messageDigestAlgorithm",
                &[
                    ("authority", "cryptographicHashFunctions"),
                    ("authorityURI", HASH_AUTHORITY_URI),
                    ("valueURI", &value_uri),
                ],
                algorithm,
            )?;
        }
        None => text(writer, "premis:messageDigestAlgorithm", algorithm)?,
    }
    text(writer, "premis:messageDigest", hex)?;
    close(writer, "premis:fixity")
}

/// The required `format`: its designation and its PRONOM registry entry.
fn format<W: Write>(writer: &mut Writer<W>, facts: &ObjectFacts) -> io::Result<()> {
    // `format` is required; a file whose format was not identified still gets one, named
    // `unknown`, rather than an invalid record.
    open(writer, "premis:format")?;
    let name = match (&facts.format_name, &facts.puid) {
        (Some(name), _) => Some(name.as_str()),
        (None, Some(_)) => None,
        (None, None) => Some("unknown"),
    };
    if let Some(name) = name {
        open(writer, "premis:formatDesignation")?;
        text(writer, "premis:formatName", name)?;
        if let (Some(version), Some(_)) = (&facts.format_version, &facts.format_name) {
            text(writer, "premis:formatVersion", version)?;
        }
        close(writer, "premis:formatDesignation")?;
    }
    if let Some(puid) = &facts.puid {
        open(writer, "premis:formatRegistry")?;
        text(writer, "premis:formatRegistryName", "PRONOM")?;
        text(writer, "premis:formatRegistryKey", puid)?;
        text(writer, "premis:formatRegistryRole", "identification")?;
        close(writer, "premis:formatRegistry")?;
        // Which release of the registry's signatures the key follows: a PUID's meaning is
        // fixed, but which files it is given to changes between releases.
        text(
            writer,
            "premis:formatNote",
            &format!(
                "PRONOM signatures: {}",
                crate::photo::PRONOM_SIGNATURE_RELEASE
            ),
        )?;
    }
    close(writer, "premis:format")
}

/// One `premis:object xsi:type="premis:intellectualEntity"` inside `premis:premis`.
fn entity_object<W: Write>(writer: &mut Writer<W>, facts: &EntityFacts) -> io::Result<()> {
    open_tag(
        writer,
        root_start("premis:object", false, Some("premis:intellectualEntity")),
    )?;
    object_identifier(writer, &facts.identifier)?;
    text(writer, "premis:originalName", &facts.original_name)?;
    close(writer, "premis:object")
}

/// Writes one `premis:event`, standalone (its own `xmlns:premis` and `version="3.0"`), as a
/// METS `digiprovMD` holds it.
pub fn write_event<W: Write>(writer: &mut Writer<W>, facts: &EventFacts) -> io::Result<()> {
    event(writer, facts, true)
}

fn event<W: Write>(writer: &mut Writer<W>, facts: &EventFacts, standalone: bool) -> io::Result<()> {
    open_tag(writer, root_start("premis:event", standalone, None))?;
    identifier(
        writer,
        "premis:eventIdentifier",
        ("premis:eventIdentifierType", "local"),
        ("premis:eventIdentifierValue", &facts.identifier),
    )?;
    text_with(
        writer,
        "premis:eventType",
        &[
            ("authority", "eventType"),
            ("authorityURI", EVENT_TYPE_AUTHORITY_URI),
            ("valueURI", &facts.event_type_uri),
        ],
        &facts.event_type,
    )?;
    text(writer, "premis:eventDateTime", &facts.date_time)?;
    for detail in &facts.details {
        open(writer, "premis:eventDetailInformation")?;
        text(writer, "premis:eventDetail", detail)?;
        close(writer, "premis:eventDetailInformation")?;
    }
    event_outcome(writer, facts)?;
    for agent in &facts.agents {
        linking_agent(writer, agent)?;
    }
    if let Some((kind, value)) = &facts.object {
        identifier(
            writer,
            "premis:linkingObjectIdentifier",
            ("premis:linkingObjectIdentifierType", kind),
            ("premis:linkingObjectIdentifierValue", value),
        )?;
    }
    close(writer, "premis:event")
}

/// `eventOutcomeInformation`: the outcome and one `eventOutcomeDetail` per note.
fn event_outcome<W: Write>(writer: &mut Writer<W>, facts: &EventFacts) -> io::Result<()> {
    open(writer, "premis:eventOutcomeInformation")?;
    text(writer, "premis:eventOutcome", &facts.outcome)?;
    for note in &facts.outcome_details {
        open(writer, "premis:eventOutcomeDetail")?;
        text(writer, "premis:eventOutcomeDetailNote", note)?;
        close(writer, "premis:eventOutcomeDetail")?;
    }
    close(writer, "premis:eventOutcomeInformation")
}

fn linking_agent<W: Write>(writer: &mut Writer<W>, agent: &LinkedAgent) -> io::Result<()> {
    open(writer, "premis:linkingAgentIdentifier")?;
    text(
        writer,
        "premis:linkingAgentIdentifierType",
        &agent.identifier_type,
    )?;
    text(
        writer,
        "premis:linkingAgentIdentifierValue",
        &agent.identifier,
    )?;
    match &agent.role_uri {
        Some(uri) => text_with(
            writer,
            "premis:linkingAgentRole",
            &[
                ("authority", "eventRelatedAgentRole"),
                ("authorityURI", AGENT_ROLE_AUTHORITY_URI),
                ("valueURI", uri),
            ],
            &agent.role,
        )?,
        None => text(writer, "premis:linkingAgentRole", &agent.role)?,
    }
    close(writer, "premis:linkingAgentIdentifier")
}

/// Writes one `premis:agent`, standalone (its own `xmlns:premis` and `version="3.0"`), as a
/// METS `digiprovMD` holds it.
pub fn write_agent<W: Write>(writer: &mut Writer<W>, facts: &AgentFacts) -> io::Result<()> {
    agent(writer, facts, true)
}

fn agent<W: Write>(writer: &mut Writer<W>, facts: &AgentFacts, standalone: bool) -> io::Result<()> {
    open_tag(writer, root_start("premis:agent", standalone, None))?;
    identifier(
        writer,
        "premis:agentIdentifier",
        ("premis:agentIdentifierType", &facts.identifier_type),
        ("premis:agentIdentifierValue", &facts.identifier),
    )?;
    for name in &facts.names {
        text(writer, "premis:agentName", name)?;
    }
    if let Some(agent_type) = &facts.agent_type {
        text(writer, "premis:agentType", agent_type)?;
    }
    if let Some(version) = &facts.version {
        text(writer, "premis:agentVersion", version)?;
    }
    for note in &facts.notes {
        text(writer, "premis:agentNote", note)?;
    }
    close(writer, "premis:agent")
}

/// Writes one `premis:rights` holding one `rightsStatement`, standalone (its own
/// `xmlns:premis` and `version="3.0"`), as a METS `rightsMD` holds it.
pub fn write_rights<W: Write>(writer: &mut Writer<W>, facts: &RightsFacts) -> io::Result<()> {
    open_tag(writer, root_start("premis:rights", true, None))?;
    open(writer, "premis:rightsStatement")?;
    identifier(
        writer,
        "premis:rightsStatementIdentifier",
        ("premis:rightsStatementIdentifierType", "local"),
        ("premis:rightsStatementIdentifierValue", &facts.identifier),
    )?;
    text(writer, "premis:rightsBasis", "other")?;
    open(writer, "premis:otherRightsInformation")?;
    text(writer, "premis:otherRightsBasis", &facts.basis)?;
    for note in &facts.notes {
        text(writer, "premis:otherRightsNote", note)?;
    }
    close(writer, "premis:otherRightsInformation")?;
    if let Some((kind, value)) = &facts.object {
        identifier(
            writer,
            "premis:linkingObjectIdentifier",
            ("premis:linkingObjectIdentifierType", kind),
            ("premis:linkingObjectIdentifierValue", value),
        )?;
    }
    close(writer, "premis:rightsStatement")?;
    close(writer, "premis:rights")
}

/// Objects, events and agents as one standalone `premis:premis version="3.0"` document:
/// XML declaration, UTF-8, 2-space indentation, LF line endings and a final newline; the
/// same facts always give the same bytes. PREMIS requires at least one object, so
/// `objects` should not be empty (the document would not validate).
pub fn premis_document(
    objects: &[PremisObject],
    events: &[EventFacts],
    agents: &[AgentFacts],
) -> String {
    document(|writer| {
        open_with(
            writer,
            "premis:premis",
            &[
                ("xmlns:premis", PREMIS_NS),
                ("xmlns:xsi", XSI_NS),
                ("xsi:schemaLocation", PREMIS_SCHEMA_LOCATION),
                ("version", PREMIS_VERSION),
            ],
        )?;
        for object in objects {
            match object {
                PremisObject::File(facts) => file_object(writer, facts, false)?,
                PremisObject::IntellectualEntity(facts) => entity_object(writer, facts)?,
            }
        }
        for facts in events {
            event(writer, facts, false)?;
        }
        for facts in agents {
            agent(writer, facts, false)?;
        }
        close(writer, "premis:premis")
    })
}

#[cfg(test)]
mod tests;
