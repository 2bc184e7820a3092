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

use super::xml::{XSI_NS, close, document, open, open_tag, open_with, text};
// `<name attrs…>text</name>`, XML-safe: kept importable from here until the custody
// export is written through this module's types.
pub(crate) use super::xml::text_with;

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
/// The role of the software that ran an event (written without a vocabulary reference).
pub const EXECUTING_PROGRAM: &str = "executing program";

/// What PREMIS records about one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectFacts {
    /// The local identifier (`objectIdentifierType` `local`).
    pub identifier: String,
    /// The file's path in the collection (`originalName`).
    pub original_name: String,
    /// Size in bytes.
    pub size: u64,
    /// `(algorithm, lower-case hex)` pairs, the algorithm named as PREMIS and METS spell it
    /// (`SHA-256`, `SHA-512`, `MD5`, …); one `fixity` each, in this order.
    pub digests: Vec<(String, String)>,
    /// PRONOM's format name, e.g. `JPEG File Interchange Format`.
    pub format_name: Option<String>,
    /// PRONOM's format version, e.g. `1.01` (written only with a name).
    pub format_version: Option<String>,
    /// The PRONOM unique identifier, e.g. `fmt/43`.
    pub puid: Option<String>,
}

/// What PREMIS records about an intellectual entity: a unit of content that is not one file
/// (a bag), so it has no size or format; written as `xsi:type="premis:intellectualEntity"`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntityFacts {
    /// The local identifier (`objectIdentifierType` `local`).
    pub identifier: String,
    /// `originalName`, e.g. the bag's path.
    pub original_name: String,
}

/// One object of a `premis:premis` document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PremisObject {
    /// A file (`premis:file`).
    File(ObjectFacts),
    /// An intellectual entity (`premis:intellectualEntity`).
    IntellectualEntity(EntityFacts),
}

impl From<ObjectFacts> for PremisObject {
    fn from(facts: ObjectFacts) -> Self {
        PremisObject::File(facts)
    }
}

impl From<EntityFacts> for PremisObject {
    fn from(facts: EntityFacts) -> Self {
        PremisObject::IntellectualEntity(facts)
    }
}

/// What PREMIS records about one event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventFacts {
    /// The local identifier (`eventIdentifierType` `local`).
    pub identifier: String,
    /// The LoC event type label, e.g. `ingestion`, `message digest calculation`.
    pub event_type: String,
    /// The LoC URI of that term, e.g. `http://id.loc.gov/vocabulary/preservation/eventType/ing`.
    pub event_type_uri: String,
    /// When it happened, as an `xs:dateTime` (UTC with `Z`): the schema types it as a plain
    /// string, so nothing checks it but the caller.
    pub date_time: String,
    /// `eventDetail`s, e.g. `program="qoima"; version="0.1.0"`: one
    /// `eventDetailInformation` each, in order.
    pub details: Vec<String>,
    /// `success`/`failure` for actions, `pass`/`fail` for checks, or a sentence.
    pub outcome: String,
    /// `eventOutcomeDetailNote`s (the digest, the tool's message, a finding): one
    /// `eventOutcomeDetail` each, in order.
    pub outcome_details: Vec<String>,
    /// The agents linked to the event, in order.
    pub agents: Vec<LinkedAgent>,
    /// `(identifier type, identifier value)` of the object the event concerns.
    pub object: Option<(String, String)>,
}

/// An agent as an event links to it (`linkingAgentIdentifier`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkedAgent {
    /// `linkingAgentIdentifierType`, e.g. `local`.
    pub identifier_type: String,
    /// `linkingAgentIdentifierValue`, e.g. `qoima-0.1.0`.
    pub identifier: String,
    /// `linkingAgentRole`'s text, e.g. `executing program`, `implementer`.
    pub role: String,
    /// The role's term URI in [`AGENT_ROLE_AUTHORITY_URI`]'s vocabulary: when given, the
    /// role carries the `authority`, `authorityURI` and `valueURI` attributes.
    pub role_uri: Option<String>,
}

impl LinkedAgent {
    /// `agent` as the executing program (role [`EXECUTING_PROGRAM`], no vocabulary
    /// reference).
    pub fn executing_program(agent: &AgentFacts) -> Self {
        LinkedAgent {
            identifier_type: agent.identifier_type.clone(),
            identifier: agent.identifier.clone(),
            role: EXECUTING_PROGRAM.into(),
            role_uri: None,
        }
    }
}

/// What PREMIS records about an agent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentFacts {
    /// `agentIdentifierType`, e.g. `local`.
    pub identifier_type: String,
    /// `agentIdentifierValue`, e.g. `qoima-0.1.0`.
    pub identifier: String,
    /// `agentName`s, e.g. `qoima` (one element each, in order).
    pub names: Vec<String>,
    /// `agentType`: `software`, `organization`, `person`, …
    pub agent_type: Option<String>,
    /// `agentVersion`, for software.
    pub version: Option<String>,
    /// `agentNote`s (one element each, in order).
    pub notes: Vec<String>,
}

/// What PREMIS records about the rights in a file: one `rightsStatement` whose basis is
/// `other`, the statements themselves kept as given, as `otherRightsNote`s (nothing says
/// whether they are a copyright, a licence or a statute, so none is claimed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RightsFacts {
    /// The local identifier (`rightsStatementIdentifierType` `local`).
    pub identifier: String,
    /// `otherRightsBasis`, e.g. `rights statement from the descriptive metadata`.
    pub basis: String,
    /// The rights statements as text (`otherRightsNote`, one each, in order).
    pub notes: Vec<String>,
    /// `(identifier type, identifier value)` of the object the statement applies to.
    pub object: Option<(String, String)>,
}

impl AgentFacts {
    /// This program: identifier `qoima-<version>` (type `local`), name `qoima`, type
    /// `software` and its version.
    pub fn qoima() -> Self {
        Self::qoima_at(env!("CARGO_PKG_VERSION"))
    }

    /// qoima at `version` (the version that wrote a record being exported): identifier
    /// `qoima-<version>` (type `local`), name `qoima`, type `software`, that version.
    pub fn qoima_at(version: &str) -> Self {
        AgentFacts {
            identifier_type: "local".into(),
            identifier: format!("qoima-{version}"),
            names: vec!["qoima".into()],
            agent_type: Some("software".into()),
            version: Some(version.into()),
            notes: Vec::new(),
        }
    }
}

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
mod tests {
    use super::*;
    use crate::describe::test_support::{assert_valid, fixture_photos, texts_of};
    use crate::digest::{Algorithm, digest_bytes};

    fn object_for(i: usize, rel: &str, bytes: &[u8]) -> ObjectFacts {
        let report = crate::photo::examine(rel, bytes, false);
        let format = report.format.as_ref();
        ObjectFacts {
            identifier: format!("object-{i:04}"),
            original_name: rel.to_string(),
            size: bytes.len() as u64,
            digests: vec![
                ("SHA-256".into(), digest_bytes(Algorithm::Sha256, bytes)),
                ("SHA-512".into(), digest_bytes(Algorithm::Sha512, bytes)),
            ],
            format_name: format.map(|f| f.name.to_string()),
            format_version: format.and_then(|f| f.version.map(String::from)),
            puid: format.and_then(|f| f.puid.map(String::from)),
        }
    }

    fn digest_event(i: usize, o: &ObjectFacts) -> EventFacts {
        EventFacts {
            identifier: format!("event-{i:04}-01"),
            event_type: "message digest calculation".into(),
            event_type_uri: format!("{EVENT_TYPE_AUTHORITY_URI}/mes"),
            date_time: "2025-01-15T09:59:58Z".into(),
            details: vec!["program=\"qoima\"; algorithm=\"SHA-256\"".into()],
            outcome: "success".into(),
            outcome_details: vec![o.digests[0].1.clone()],
            agents: vec![LinkedAgent::executing_program(&AgentFacts::qoima())],
            object: Some(("local".into(), o.identifier.clone())),
        }
    }

    const HOSTILE: &str = "photos/<1 & 2> \"q\" 'a' bell\u{7}here العربية עברית 📷 tab\tcr\r.jpg";

    fn hostile() -> (ObjectFacts, EventFacts) {
        let o = ObjectFacts {
            identifier: "object-&<'\">".into(),
            original_name: HOSTILE.into(),
            size: 0,
            digests: vec![("BLAKE3".into(), "00".into())],
            format_name: None,
            format_version: Some("ignored without a name".into()),
            puid: None,
        };
        let e = EventFacts {
            identifier: "event-hostile".into(),
            event_type: "validation".into(),
            event_type_uri: format!("{EVENT_TYPE_AUTHORITY_URI}/val"),
            date_time: "2025-01-15T09:59:58Z".into(),
            details: vec![HOSTILE.into()],
            outcome: "fail".into(),
            outcome_details: vec!["]]> & <![CDATA[".into()],
            agents: Vec::new(),
            object: Some(("local".into(), o.identifier.clone())),
        };
        (o, e)
    }

    fn standalone<T>(f: fn(&mut Writer<Vec<u8>>, &T) -> io::Result<()>, value: &T) -> String {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        f(&mut w, value).unwrap();
        String::from_utf8(w.into_inner()).unwrap()
    }

    #[test]
    fn fixture_photos_validate_against_the_official_schema() {
        let agent = AgentFacts::qoima();
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        let mut objects = Vec::new();
        let mut events = Vec::new();
        for (i, (rel, bytes)) in fixture_photos().iter().enumerate() {
            let o = object_for(i + 1, rel, bytes);
            let e = digest_event(i + 1, &o);
            let path = dir.path().join(format!("premis-{i:03}.xml"));
            let xml = premis_document(
                &[o.clone().into()],
                std::slice::from_ref(&e),
                std::slice::from_ref(&agent),
            );
            std::fs::write(&path, &xml).unwrap();
            files.push(path);
            objects.push(o);
            events.push(e);
        }
        assert!(
            objects.iter().any(|o| o.puid.is_some()),
            "some fixture formats have a PUID"
        );
        // Each PUID names the signature release it follows (issue 14).
        let with_puid = objects.iter().position(|o| o.puid.is_some()).unwrap();
        let xml = std::fs::read_to_string(&files[with_puid]).unwrap();
        assert!(
            xml.contains(&format!(
                "<premis:formatNote>PRONOM signatures: {}</premis:formatNote>",
                crate::photo::PRONOM_SIGNATURE_RELEASE
            )),
            "{xml}"
        );
        let (o, e) = hostile();
        objects.push(o);
        events.push(e);
        let objects: Vec<PremisObject> = objects.into_iter().map(Into::into).collect();
        let all = premis_document(&objects, &events, &[agent]);
        assert_eq!(
            all,
            premis_document(&objects, &events, &[AgentFacts::qoima()]),
            "deterministic"
        );
        let path = dir.path().join("premis-all.xml");
        std::fs::write(&path, &all).unwrap();
        files.push(path);
        // The standalone roots a METS `mdWrap` holds validate too.
        let (o, e) = hostile();
        let declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
        for (name, xml) in [
            ("object", standalone(write_object, &o)),
            ("event", standalone(write_event, &e)),
            ("agent", standalone(write_agent, &AgentFacts::qoima())),
            (
                "rights",
                standalone(
                    write_rights,
                    &RightsFacts {
                        identifier: "rights-hostile".into(),
                        basis: "rights statement from the descriptive metadata".into(),
                        notes: vec![HOSTILE.into(), "CC BY 4.0".into()],
                        object: Some(("local".into(), o.identifier.clone())),
                    },
                ),
            ),
        ] {
            let path = dir.path().join(format!("standalone-{name}.xml"));
            std::fs::write(&path, format!("{declaration}{xml}\n")).unwrap();
            files.push(path);
        }
        assert_valid("premis.xsd", &files);
    }

    /// The validation is real: a swapped `fixity` sequence is rejected.
    #[test]
    #[should_panic(expected = "xmllint rejected")]
    fn an_invalid_record_is_rejected() {
        let (o, _) = hostile();
        let xml = premis_document(&[o.into()], &[], &[]);
        let algorithm = "<premis:messageDigestAlgorithm>BLAKE3</premis:messageDigestAlgorithm>";
        let digest = "<premis:messageDigest>00</premis:messageDigest>";
        assert!(xml.contains(algorithm) && xml.contains(digest));
        let swapped = xml
            .replace(algorithm, "@@")
            .replace(digest, algorithm)
            .replace("@@", digest);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("premis-bad.xml");
        std::fs::write(&path, swapped).unwrap();
        assert_valid("premis.xsd", &[path]);
    }

    #[test]
    fn document_shape() {
        let (rel, bytes) = &fixture_photos()[0];
        let o = object_for(1, rel, bytes);
        let xml = premis_document(
            &[o.clone().into()],
            &[digest_event(1, &o)],
            &[AgentFacts::qoima()],
        );
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<premis:premis "));
        assert!(xml.contains(&format!("xsi:schemaLocation=\"{PREMIS_SCHEMA_LOCATION}\"")));
        assert!(xml.ends_with("</premis:premis>\n"));
        assert!(xml.contains("\n  <premis:object xsi:type=\"premis:file\">\n"));
        assert!(xml.contains(
            "<premis:messageDigestAlgorithm authority=\"cryptographicHashFunctions\" \
             authorityURI=\"http://id.loc.gov/vocabulary/preservation/cryptographicHashFunctions\" \
             valueURI=\"http://id.loc.gov/vocabulary/preservation/cryptographicHashFunctions/sha512\">SHA-512<"
        ));
        assert!(xml.contains(
            "valueURI=\"http://id.loc.gov/vocabulary/preservation/eventType/mes\">message digest calculation<"
        ));
        assert_eq!(texts_of(&xml, "premis:originalName"), [rel.as_str()]);
        assert_eq!(texts_of(&xml, "premis:size"), [bytes.len().to_string()]);
        assert_eq!(
            texts_of(&xml, "premis:messageDigest"),
            [o.digests[0].1.as_str(), o.digests[1].1.as_str()]
        );
        assert_eq!(
            texts_of(&xml, "premis:linkingAgentIdentifierValue"),
            [format!("qoima-{}", env!("CARGO_PKG_VERSION"))]
        );
    }

    #[test]
    fn standalone_roots_declare_their_namespace() {
        let (o, e) = hostile();
        let object = standalone(write_object, &o);
        assert!(object.starts_with(
            "<premis:object xmlns:premis=\"http://www.loc.gov/premis/v3\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xsi:type=\"premis:file\" version=\"3.0\">"
        ));
        let event = standalone(write_event, &e);
        assert!(event.starts_with(
            "<premis:event xmlns:premis=\"http://www.loc.gov/premis/v3\" version=\"3.0\">"
        ));
        let agent = standalone(write_agent, &AgentFacts::qoima());
        assert!(agent.starts_with(
            "<premis:agent xmlns:premis=\"http://www.loc.gov/premis/v3\" version=\"3.0\">"
        ));
        assert_eq!(texts_of(&agent, "premis:agentType"), ["software"]);
        assert_eq!(texts_of(&agent, "premis:agentName"), ["qoima"]);
    }

    #[test]
    fn hostile_text_round_trips() {
        let (o, e) = hostile();
        let expected = HOSTILE.replace('\u{7}', "\u{fffd}");
        for xml in [
            standalone(write_object, &o),
            standalone(write_event, &e),
            premis_document(&[o.clone().into()], std::slice::from_ref(&e), &[]),
        ] {
            assert!(!xml.contains('\u{7}') && !xml.contains('\r'), "{xml}");
            let names = texts_of(&xml, "premis:originalName");
            let details = texts_of(&xml, "premis:eventDetail");
            for got in names.iter().chain(&details) {
                assert_eq!(got, &expected);
            }
            assert_eq!(names.len() + details.len(), xml.matches("📷").count());
        }
        let object = standalone(write_object, &o);
        assert_eq!(
            texts_of(&object, "premis:objectIdentifierValue"),
            [o.identifier]
        );
        // No name, no PUID: the required format is `unknown`, without a version; an algorithm
        // the LoC list lacks is written without authority attributes.
        assert_eq!(texts_of(&object, "premis:formatName"), ["unknown"]);
        assert!(texts_of(&object, "premis:formatVersion").is_empty());
        assert!(object.contains("<premis:messageDigestAlgorithm>BLAKE3<"));
        let event = standalone(write_event, &e);
        assert_eq!(
            texts_of(&event, "premis:eventOutcomeDetailNote"),
            ["]]> & <![CDATA["]
        );
    }

    #[test]
    fn hash_terms() {
        assert_eq!(hash_term("SHA-256"), Some("sha256"));
        assert_eq!(hash_term("sha512"), Some("sha512"));
        assert_eq!(hash_term("MD5"), Some("md5"));
        assert_eq!(hash_term("SHA-1"), Some("sha1"));
        assert_eq!(hash_term("BLAKE3"), None);
    }
}
