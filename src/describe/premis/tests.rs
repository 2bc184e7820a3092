//! The PREMIS writer's tests: schema validation of documents and standalone roots, the
//! document's shape, hostile text.

use super::*;
use crate::describe::test_support::{assert_valid, fixture_photos, texts_of};
use crate::digest::{Algorithm, digest_bytes};

fn object_for(index: usize, rel: &str, bytes: &[u8]) -> ObjectFacts {
    let report = crate::photo::examine(rel, bytes, false);
    let format = report.format.as_ref();
    ObjectFacts {
        identifier: format!("object-{index:04}"),
        original_name: rel.to_string(),
        size: bytes.len() as u64,
        digests: vec![
            ("SHA-256".into(), digest_bytes(Algorithm::Sha256, bytes)),
            ("SHA-512".into(), digest_bytes(Algorithm::Sha512, bytes)),
        ],
        format_name: format.map(|write| write.name.to_string()),
        format_version: format.and_then(|write| write.version.map(String::from)),
        puid: format.and_then(|write| write.puid.map(String::from)),
    }
}

fn digest_event(index: usize, object_facts: &ObjectFacts) -> EventFacts {
    EventFacts {
        identifier: format!("event-{index:04}-01"),
        event_type: "message digest calculation".into(),
        event_type_uri: format!("{EVENT_TYPE_AUTHORITY_URI}/mes"),
        date_time: "2025-01-15T09:59:58Z".into(),
        details: vec!["program=\"qoima\"; algorithm=\"SHA-256\"".into()],
        outcome: "success".into(),
        outcome_details: vec![object_facts.digests[0].1.clone()],
        agents: vec![LinkedAgent::executing_program(&AgentFacts::qoima())],
        object: Some(("local".into(), object_facts.identifier.clone())),
    }
}

const HOSTILE: &str = "photos/<1 & 2> \"q\" 'a' bell\u{7}here العربية עברית 📷 tab\tcr\r.jpg";

fn hostile() -> (ObjectFacts, EventFacts) {
    let object_facts = ObjectFacts {
        identifier: "object-&<'\">".into(),
        original_name: HOSTILE.into(),
        size: 0,
        digests: vec![("BLAKE3".into(), "00".into())],
        format_name: None,
        format_version: Some("ignored without a name".into()),
        puid: None,
    };
    let event = EventFacts {
        identifier: "event-hostile".into(),
        event_type: "validation".into(),
        event_type_uri: format!("{EVENT_TYPE_AUTHORITY_URI}/val"),
        date_time: "2025-01-15T09:59:58Z".into(),
        details: vec![HOSTILE.into()],
        outcome: "fail".into(),
        outcome_details: vec!["]]> & <![CDATA[".into()],
        agents: Vec::new(),
        object: Some(("local".into(), object_facts.identifier.clone())),
    };
    (object_facts, event)
}

fn standalone<T>(write: fn(&mut Writer<Vec<u8>>, &T) -> io::Result<()>, value: &T) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    write(&mut writer, value).unwrap();
    String::from_utf8(writer.into_inner()).unwrap()
}

#[test]
fn fixture_photos_validate_against_the_official_schema() {
    let agent = AgentFacts::qoima();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut objects = Vec::new();
    let mut events = Vec::new();
    for (index, (rel, bytes)) in fixture_photos().iter().enumerate() {
        let object_facts = object_for(index + 1, rel, bytes);
        let event = digest_event(index + 1, &object_facts);
        let path = dir.path().join(format!("premis-{index:03}.xml"));
        let xml = premis_document(
            &[object_facts.clone().into()],
            std::slice::from_ref(&event),
            std::slice::from_ref(&agent),
        );
        std::fs::write(&path, &xml).unwrap();
        files.push(path);
        objects.push(object_facts);
        events.push(event);
    }
    assert!(
        objects
            .iter()
            .any(|object_facts| object_facts.puid.is_some()),
        "some fixture formats have a PUID"
    );
    // Each PUID names the signature release it follows (issue 14).
    let with_puid = objects
        .iter()
        .position(|object_facts| object_facts.puid.is_some())
        .unwrap();
    let xml = std::fs::read_to_string(&files[with_puid]).unwrap();
    assert!(
        xml.contains(&format!(
            "<premis:formatNote>PRONOM signatures: {}</premis:formatNote>",
            crate::photo::PRONOM_SIGNATURE_RELEASE
        )),
        "{xml}"
    );
    let (object_facts, event) = hostile();
    objects.push(object_facts);
    events.push(event);
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
    let (object_facts, event) = hostile();
    let declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    for (name, xml) in [
        ("object", standalone(write_object, &object_facts)),
        ("event", standalone(write_event, &event)),
        ("agent", standalone(write_agent, &AgentFacts::qoima())),
        (
            "rights",
            standalone(
                write_rights,
                &RightsFacts {
                    identifier: "rights-hostile".into(),
                    basis: "rights statement from the descriptive metadata".into(),
                    notes: vec![HOSTILE.into(), "CC BY 4.0".into()],
                    object: Some(("local".into(), object_facts.identifier.clone())),
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
    let (object, _) = hostile();
    let xml = premis_document(&[object.into()], &[], &[]);
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
    let object = object_for(1, rel, bytes);
    let xml = premis_document(
        &[object.clone().into()],
        &[digest_event(1, &object)],
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
        [object.digests[0].1.as_str(), object.digests[1].1.as_str()]
    );
    assert_eq!(
        texts_of(&xml, "premis:linkingAgentIdentifierValue"),
        [format!("qoima-{}", env!("CARGO_PKG_VERSION"))]
    );
}

#[test]
fn standalone_roots_declare_their_namespace() {
    let (object_facts, event_facts) = hostile();
    let object = standalone(write_object, &object_facts);
    assert!(object.starts_with(
        "<premis:object xmlns:premis=\"http://www.loc.gov/premis/v3\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:type=\"premis:file\" version=\"3.0\">"
    ));
    let event = standalone(write_event, &event_facts);
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
    let (object_facts, event_facts) = hostile();
    let expected = HOSTILE.replace('\u{7}', "\u{fffd}");
    for xml in [
        standalone(write_object, &object_facts),
        standalone(write_event, &event_facts),
        premis_document(
            &[object_facts.clone().into()],
            std::slice::from_ref(&event_facts),
            &[],
        ),
    ] {
        assert!(!xml.contains('\u{7}') && !xml.contains('\r'), "{xml}");
        let names = texts_of(&xml, "premis:originalName");
        let details = texts_of(&xml, "premis:eventDetail");
        for got in names.iter().chain(&details) {
            assert_eq!(got, &expected);
        }
        assert_eq!(names.len() + details.len(), xml.matches("📷").count());
    }
    let object = standalone(write_object, &object_facts);
    assert_eq!(
        texts_of(&object, "premis:objectIdentifierValue"),
        [object_facts.identifier]
    );
    // No name, no PUID: the required format is `unknown`, without a version; an algorithm
    // the LoC list lacks is written without authority attributes.
    assert_eq!(texts_of(&object, "premis:formatName"), ["unknown"]);
    assert!(texts_of(&object, "premis:formatVersion").is_empty());
    assert!(object.contains("<premis:messageDigestAlgorithm>BLAKE3<"));
    let event = standalone(write_event, &event_facts);
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
