//! PREMIS 3.0 preservation metadata: a file object (identifier, fixity, size, format,
//! original name), the events that happened to it and the software agent that acted.
//!
//! [`write_object`], [`write_event`] and [`write_agent`] each write one standalone root
//! (`premis:object`, `premis:event`, `premis:agent`) carrying its own namespace
//! declarations and `version="3.0"`, the form a METS `mdWrap` holds (one record per md
//! section: `premis:premis` requires an object, so an event alone cannot use it).
//! [`premis_document`] puts objects, events and agents in one `premis:premis` document that
//! `premis.xsd` validates on its own.
//!
//! PREMIS 3's sequences are strict (`fixity` is algorithm, digest; `objectCharacteristics`
//! is compositionLevel, fixity*, size, format+), and `premis:object` is abstract, so every
//! object carries `xsi:type="premis:file"`. Controlled values (hash functions, event types)
//! point at the Library of Congress preservation vocabularies through the `authority`,
//! `authorityURI` and `valueURI` attributes. Text is written as given, except characters
//! XML 1.0 cannot carry, which become U+FFFD.

use std::io::{self, Write};

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::dc::{XSI_NS, xml_safe};

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
    /// `eventDetail`, e.g. `program="qoima"; version="0.1.0"`.
    pub detail: Option<String>,
    /// `success`/`failure` for actions, `pass`/`fail` for checks.
    pub outcome: String,
    /// `eventOutcomeDetailNote`: the digest, or the tool's message.
    pub outcome_detail: Option<String>,
    /// `(identifier type, identifier value)` of the executing program.
    pub agent: Option<(String, String)>,
    /// `(identifier type, identifier value)` of the object the event concerns.
    pub object: Option<(String, String)>,
}

/// What PREMIS records about an agent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentFacts {
    /// `agentIdentifierType`, e.g. `local`.
    pub identifier_type: String,
    /// `agentIdentifierValue`, e.g. `qoima-0.1.0`.
    pub identifier: String,
    /// `agentName`, e.g. `qoima`.
    pub name: String,
    /// `agentType`: `software`, `organization`, `person`, …
    pub agent_type: String,
    /// `agentVersion`, for software.
    pub version: Option<String>,
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
        let version = env!("CARGO_PKG_VERSION");
        AgentFacts {
            identifier_type: "local".into(),
            identifier: format!("qoima-{version}"),
            name: "qoima".into(),
            agent_type: "software".into(),
            version: Some(version.into()),
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

/// Writes `<name>text</name>`, the text made XML-safe and escaped.
fn text<W: Write>(w: &mut Writer<W>, name: &str, value: &str) -> io::Result<()> {
    // BytesText::new escapes `<`, `>`, `&`, both quotes and CR.
    w.create_element(name)
        .write_text_content(BytesText::new(&xml_safe(value)))?;
    Ok(())
}

/// Writes `<name attrs…>text</name>`, the attribute values and text made XML-safe.
pub(crate) fn text_with<W: Write>(
    w: &mut Writer<W>,
    name: &str,
    attributes: &[(&str, &str)],
    value: &str,
) -> io::Result<()> {
    let safe: Vec<(&str, String)> = attributes
        .iter()
        .map(|(k, v)| (*k, xml_safe(v).into_owned()))
        .collect();
    w.create_element(name)
        .with_attributes(safe.iter().map(|(k, v)| (*k, v.as_str())))
        .write_text_content(BytesText::new(&xml_safe(value)))?;
    Ok(())
}

fn open<W: Write>(w: &mut Writer<W>, start: BytesStart) -> io::Result<()> {
    w.write_event(Event::Start(start))
}

fn close<W: Write>(w: &mut Writer<W>, name: &str) -> io::Result<()> {
    w.write_event(Event::End(BytesEnd::new(name)))
}

/// A `premis:` root start tag: with its own namespace declarations and `version="3.0"` when
/// it stands alone, bare inside `premis:premis`.
fn root_start<'a>(name: &'a str, standalone: bool, xsi_type: Option<&'a str>) -> BytesStart<'a> {
    let mut start = BytesStart::new(name);
    if standalone {
        start.push_attribute(("xmlns:premis", PREMIS_NS));
    }
    if let Some(t) = xsi_type {
        if standalone {
            start.push_attribute(("xmlns:xsi", XSI_NS));
        }
        start.push_attribute(("xsi:type", t));
    }
    if standalone {
        start.push_attribute(("version", PREMIS_VERSION));
    }
    start
}

/// Writes one `premis:object xsi:type="premis:file"`, standalone (its own `xmlns:premis`,
/// `xmlns:xsi` and `version="3.0"`), as a METS `techMD` holds it.
pub fn write_object<W: Write>(w: &mut Writer<W>, o: &ObjectFacts) -> io::Result<()> {
    object(w, o, true)
}

fn object<W: Write>(w: &mut Writer<W>, o: &ObjectFacts, standalone: bool) -> io::Result<()> {
    open(
        w,
        root_start("premis:object", standalone, Some("premis:file")),
    )?;

    open(w, BytesStart::new("premis:objectIdentifier"))?;
    text(w, "premis:objectIdentifierType", "local")?;
    text(w, "premis:objectIdentifierValue", &o.identifier)?;
    close(w, "premis:objectIdentifier")?;

    open(w, BytesStart::new("premis:objectCharacteristics"))?;
    text(w, "premis:compositionLevel", "0")?;
    for (algorithm, hex) in &o.digests {
        open(w, BytesStart::new("premis:fixity"))?;
        match hash_term(algorithm) {
            Some(term) => {
                let value_uri = format!("{HASH_AUTHORITY_URI}/{term}");
                text_with(
                    w,
                    "premis:messageDigestAlgorithm",
                    &[
                        ("authority", "cryptographicHashFunctions"),
                        ("authorityURI", HASH_AUTHORITY_URI),
                        ("valueURI", &value_uri),
                    ],
                    algorithm,
                )?;
            }
            None => text(w, "premis:messageDigestAlgorithm", algorithm)?,
        }
        text(w, "premis:messageDigest", hex)?;
        close(w, "premis:fixity")?;
    }
    text(w, "premis:size", &o.size.to_string())?;
    // `format` is required; a file whose format was not identified still gets one, named
    // `unknown`, rather than an invalid record.
    open(w, BytesStart::new("premis:format"))?;
    let name = match (&o.format_name, &o.puid) {
        (Some(name), _) => Some(name.as_str()),
        (None, Some(_)) => None,
        (None, None) => Some("unknown"),
    };
    if let Some(name) = name {
        open(w, BytesStart::new("premis:formatDesignation"))?;
        text(w, "premis:formatName", name)?;
        if let (Some(version), Some(_)) = (&o.format_version, &o.format_name) {
            text(w, "premis:formatVersion", version)?;
        }
        close(w, "premis:formatDesignation")?;
    }
    if let Some(puid) = &o.puid {
        open(w, BytesStart::new("premis:formatRegistry"))?;
        text(w, "premis:formatRegistryName", "PRONOM")?;
        text(w, "premis:formatRegistryKey", puid)?;
        text(w, "premis:formatRegistryRole", "identification")?;
        close(w, "premis:formatRegistry")?;
        // Which release of the registry's signatures the key follows: a PUID's meaning is
        // fixed, but which files it is given to changes between releases.
        text(
            w,
            "premis:formatNote",
            &format!(
                "PRONOM signatures: {}",
                crate::photo::PRONOM_SIGNATURE_RELEASE
            ),
        )?;
    }
    close(w, "premis:format")?;
    close(w, "premis:objectCharacteristics")?;

    text(w, "premis:originalName", &o.original_name)?;
    close(w, "premis:object")
}

/// Writes one `premis:event`, standalone (its own `xmlns:premis` and `version="3.0"`), as a
/// METS `digiprovMD` holds it. The executing program is linked with the role
/// `executing program`.
pub fn write_event<W: Write>(w: &mut Writer<W>, e: &EventFacts) -> io::Result<()> {
    event(w, e, true)
}

fn event<W: Write>(w: &mut Writer<W>, e: &EventFacts, standalone: bool) -> io::Result<()> {
    open(w, root_start("premis:event", standalone, None))?;

    open(w, BytesStart::new("premis:eventIdentifier"))?;
    text(w, "premis:eventIdentifierType", "local")?;
    text(w, "premis:eventIdentifierValue", &e.identifier)?;
    close(w, "premis:eventIdentifier")?;

    text_with(
        w,
        "premis:eventType",
        &[
            ("authority", "eventType"),
            ("authorityURI", EVENT_TYPE_AUTHORITY_URI),
            ("valueURI", &e.event_type_uri),
        ],
        &e.event_type,
    )?;
    text(w, "premis:eventDateTime", &e.date_time)?;
    if let Some(detail) = &e.detail {
        open(w, BytesStart::new("premis:eventDetailInformation"))?;
        text(w, "premis:eventDetail", detail)?;
        close(w, "premis:eventDetailInformation")?;
    }

    open(w, BytesStart::new("premis:eventOutcomeInformation"))?;
    text(w, "premis:eventOutcome", &e.outcome)?;
    if let Some(note) = &e.outcome_detail {
        open(w, BytesStart::new("premis:eventOutcomeDetail"))?;
        text(w, "premis:eventOutcomeDetailNote", note)?;
        close(w, "premis:eventOutcomeDetail")?;
    }
    close(w, "premis:eventOutcomeInformation")?;

    if let Some((kind, value)) = &e.agent {
        open(w, BytesStart::new("premis:linkingAgentIdentifier"))?;
        text(w, "premis:linkingAgentIdentifierType", kind)?;
        text(w, "premis:linkingAgentIdentifierValue", value)?;
        text(w, "premis:linkingAgentRole", "executing program")?;
        close(w, "premis:linkingAgentIdentifier")?;
    }
    if let Some((kind, value)) = &e.object {
        open(w, BytesStart::new("premis:linkingObjectIdentifier"))?;
        text(w, "premis:linkingObjectIdentifierType", kind)?;
        text(w, "premis:linkingObjectIdentifierValue", value)?;
        close(w, "premis:linkingObjectIdentifier")?;
    }
    close(w, "premis:event")
}

/// Writes one `premis:agent`, standalone (its own `xmlns:premis` and `version="3.0"`), as a
/// METS `digiprovMD` holds it.
pub fn write_agent<W: Write>(w: &mut Writer<W>, a: &AgentFacts) -> io::Result<()> {
    agent(w, a, true)
}

fn agent<W: Write>(w: &mut Writer<W>, a: &AgentFacts, standalone: bool) -> io::Result<()> {
    open(w, root_start("premis:agent", standalone, None))?;
    open(w, BytesStart::new("premis:agentIdentifier"))?;
    text(w, "premis:agentIdentifierType", &a.identifier_type)?;
    text(w, "premis:agentIdentifierValue", &a.identifier)?;
    close(w, "premis:agentIdentifier")?;
    text(w, "premis:agentName", &a.name)?;
    text(w, "premis:agentType", &a.agent_type)?;
    if let Some(version) = &a.version {
        text(w, "premis:agentVersion", version)?;
    }
    close(w, "premis:agent")
}

/// Writes one `premis:rights` holding one `rightsStatement`, standalone (its own
/// `xmlns:premis` and `version="3.0"`), as a METS `rightsMD` holds it.
pub fn write_rights<W: Write>(w: &mut Writer<W>, r: &RightsFacts) -> io::Result<()> {
    open(w, root_start("premis:rights", true, None))?;
    open(w, BytesStart::new("premis:rightsStatement"))?;
    open(w, BytesStart::new("premis:rightsStatementIdentifier"))?;
    text(w, "premis:rightsStatementIdentifierType", "local")?;
    text(w, "premis:rightsStatementIdentifierValue", &r.identifier)?;
    close(w, "premis:rightsStatementIdentifier")?;
    text(w, "premis:rightsBasis", "other")?;
    open(w, BytesStart::new("premis:otherRightsInformation"))?;
    text(w, "premis:otherRightsBasis", &r.basis)?;
    for note in &r.notes {
        text(w, "premis:otherRightsNote", note)?;
    }
    close(w, "premis:otherRightsInformation")?;
    if let Some((kind, value)) = &r.object {
        open(w, BytesStart::new("premis:linkingObjectIdentifier"))?;
        text(w, "premis:linkingObjectIdentifierType", kind)?;
        text(w, "premis:linkingObjectIdentifierValue", value)?;
        close(w, "premis:linkingObjectIdentifier")?;
    }
    close(w, "premis:rightsStatement")?;
    close(w, "premis:rights")
}

/// Objects, events and agents as one standalone `premis:premis version="3.0"` document:
/// XML declaration, UTF-8, 2-space indentation, LF line endings and a final newline; the
/// same facts always give the same bytes. PREMIS requires at least one object, so
/// `objects` should not be empty (the document would not validate).
pub fn premis_document(
    objects: &[ObjectFacts],
    events: &[EventFacts],
    agents: &[AgentFacts],
) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    write_document(&mut w, objects, events, agents).expect("writing to a Vec cannot fail");
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    String::from_utf8(bytes).expect("the writer only writes UTF-8")
}

fn write_document<W: Write>(
    w: &mut Writer<W>,
    objects: &[ObjectFacts],
    events: &[EventFacts],
    agents: &[AgentFacts],
) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let root = BytesStart::new("premis:premis").with_attributes([
        ("xmlns:premis", PREMIS_NS),
        ("xmlns:xsi", XSI_NS),
        ("xsi:schemaLocation", PREMIS_SCHEMA_LOCATION),
        ("version", PREMIS_VERSION),
    ]);
    open(w, root)?;
    for o in objects {
        object(w, o, false)?;
    }
    for e in events {
        event(w, e, false)?;
    }
    for a in agents {
        agent(w, a, false)?;
    }
    close(w, "premis:premis")
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
            detail: Some("program=\"qoima\"; algorithm=\"SHA-256\"".into()),
            outcome: "success".into(),
            outcome_detail: Some(o.digests[0].1.clone()),
            agent: Some(("local".into(), AgentFacts::qoima().identifier)),
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
            detail: Some(HOSTILE.into()),
            outcome: "fail".into(),
            outcome_detail: Some("]]> & <![CDATA[".into()),
            agent: None,
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
                std::slice::from_ref(&o),
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
        let xml = premis_document(&[o], &[], &[]);
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
            std::slice::from_ref(&o),
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
            premis_document(std::slice::from_ref(&o), std::slice::from_ref(&e), &[]),
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
