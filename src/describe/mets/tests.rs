//! The METS writer's tests: schema validation (with the embedded PREMIS, MIX and DC),
//! references that resolve, hostile text, and the document's shape.

use super::*;
use crate::describe::mix::ImageFacts;
use crate::describe::premis::ObjectFacts;
use crate::describe::test_support::{assert_valid, texts_of};
use crate::digest::{Algorithm, digest_bytes};
use crate::metadata::Record;
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use std::collections::BTreeMap;
use std::path::Path;

fn record(pairs: &[(&str, &[&str])]) -> Record {
    Record {
        line: 2,
        values: pairs
            .iter()
            .map(|(event, v)| (event.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect(),
        ragged: false,
    }
}

const HOSTILE: &str = "<1 & 2> \"q\" 'a' bell\u{7}here العربية עברית 📷 tab\tcr\r\n";

/// The qantar-2022 fixture as a METS input, with its SHA-256 digests by encoded href.
fn fixture_input() -> (MetsInput, BTreeMap<String, String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/collections/qantar-2022");
    let (sidecar, problems) = crate::metadata::load(
        &root,
        &root.join("metadata.csv"),
        "metadata.csv",
        &Default::default(),
    );
    assert!(problems.is_empty(), "fixture sidecar: {problems:?}");
    let mut items = Vec::new();
    let mut sha256 = BTreeMap::new();
    for rec in &sidecar.records {
        let rel = rec
            .first("file")
            .expect("every fixture record names its file");
        let bytes = std::fs::read(root.join(rel)).unwrap();
        let report = crate::photo::examine(rel, &bytes, false);
        let format = report.format.as_ref();
        let digest = digest_bytes(Algorithm::Sha256, &bytes);
        let file = format!("data/{rel}");
        sha256.insert(uri_path(&file), digest.clone());
        let digests = vec![
            ("SHA-256".to_string(), digest),
            (
                "SHA-512".to_string(),
                digest_bytes(Algorithm::Sha512, &bytes),
            ),
        ];
        let mix = ImageFacts::from_photo(&report.technical, report.exif.as_ref());
        items.push(MetsItem {
            record: rec.clone(),
            file,
            mime: format.map_or("application/octet-stream", |f| f.mime).into(),
            size: bytes.len() as u64,
            created: mix.date_time_created.clone(),
            premis: ObjectFacts {
                identifier: format!("object-{}", items.len() + 1),
                original_name: rel.to_string(),
                size: bytes.len() as u64,
                digests: digests.clone(),
                format_name: format.map(|f| f.name.to_string()),
                format_version: format.and_then(|f| f.version.map(String::from)),
                puid: format.and_then(|f| f.puid.map(String::from)),
            },
            digests,
            mix: report.format.is_some().then_some(mix),
            section: rec.first("section").map(String::from),
        });
    }
    assert!(items.len() >= 20, "the fixture has its photos");
    let input = MetsInput {
        objid: "urn:uuid:6f1c2a8e-0d5b-4e43-9a57-3c1f0e2b9d11".into(),
        label: "Qantar 2022".into(),
        create_date: "2025-01-15T10:00:00Z".into(),
        agent_org: Some("Qantar Archive".into()),
        agent_software: "qoima 0.1.0".into(),
        collection: record(&[
            ("identifier", &["qantar-2022"]),
            ("title", &["Qantar 2022"]),
            ("language", &["ru", "kk"]),
        ]),
        items,
    };
    (input, sha256)
}

/// An item whose text and path are hostile: markup characters, quotes, RTL, an emoji,
/// a control character, a space, Cyrillic, `%` and `:` in the path.
fn hostile_item() -> MetsItem {
    MetsItem {
        record: record(&[
            ("identifier", &["hostile-001"]),
            ("title", &[HOSTILE]),
            ("description", &["]]> & <![CDATA["]),
            ("date", &["2022-01-0X?"]),
            ("rights", &[HOSTILE, "© ]]> & <![CDATA["]),
        ]),
        file: "data/photos/Январь 2022/a:b 100% #1?.jpg".into(),
        mime: "image/jpeg".into(),
        size: 0,
        created: None,
        digests: vec![("SHA-256".into(), digest_bytes(Algorithm::Sha256, b""))],
        premis: ObjectFacts {
            identifier: "object-&<'\">".into(),
            original_name: HOSTILE.into(),
            size: 0,
            digests: vec![("SHA-256".into(), digest_bytes(Algorithm::Sha256, b""))],
            ..Default::default()
        },
        mix: Some(ImageFacts {
            make: Some(HOSTILE.into()),
            ..Default::default()
        }),
        section: Some(HOSTILE.into()),
    }
}

fn write_and_validate(xml: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mets.xml");
    std::fs::write(&path, xml).unwrap();
    assert_valid("wrappers/mets-embedded.xsd", &[path]);
}

/// Every element's `(name, attributes)` in document order.
fn elements(xml: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => {
                let attrs = e
                    .attributes()
                    .map(|attribute| {
                        let attribute = attribute.expect("well-formed attribute");
                        (
                            attribute.key.into_inner().to_string(),
                            attribute
                                .normalized_value(XmlVersion::Implicit1_0)
                                .expect("valid escapes")
                                .into_owned(),
                        )
                    })
                    .collect();
                out.push((e.name().into_inner().to_string(), attrs));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

/// IDs are unique NCNames, every ADMID/DMDID/FILEID resolves to an element of the
/// right kind, and every PREMIS agent link names an agent of the document.
fn assert_references(xml: &str) {
    let elements = elements(xml);
    let mut kind_of: BTreeMap<String, String> = BTreeMap::new();
    for (name, attrs) in &elements {
        if let Some(id) = attrs.get("ID") {
            assert!(
                id.chars().next().unwrap().is_ascii_alphabetic()
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
                "NCName: {id}"
            );
            assert!(
                kind_of.insert(id.clone(), name.clone()).is_none(),
                "duplicate ID {id}"
            );
        }
    }
    let mut checked = 0;
    for (_, attrs) in &elements {
        for (attr, kinds) in [
            (
                "ADMID",
                &["mets:techMD", "mets:rightsMD", "mets:digiprovMD"][..],
            ),
            ("DMDID", &["mets:dmdSec"][..]),
            ("FILEID", &["mets:file"][..]),
        ] {
            for id in attrs.get(attr).into_iter().flat_map(|v| v.split(' ')) {
                let kind = kind_of.get(id).map(String::as_str);
                assert!(
                    kind.is_some_and(|event| kinds.contains(&event)),
                    "{attr}={id} names {kind:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 0);
    let agents = texts_of(xml, "premis:agentIdentifierValue");
    assert_eq!(agents.len(), 1, "one agent: qoima");
    let links = texts_of(xml, "premis:linkingAgentIdentifierValue");
    for link in &links {
        assert!(agents.contains(link), "agent link {link}");
    }
    let files = elements.iter().filter(|(n, _)| n == "mets:file").count();
    assert_eq!(links.len(), EVENT_TYPES.len() * files);
}

#[test]
fn fixture_mets_validates_and_references_resolve() {
    let (input, sha256) = fixture_input();
    let xml = mets_document(&input);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<mets:mets "));
    assert!(xml.ends_with("</mets:mets>\n"));
    assert!(xml.contains("\n  <mets:metsHdr "), "2-space indentation");
    assert_eq!(xml, mets_document(&input), "deterministic");
    write_and_validate(&xml);
    assert_references(&xml);

    let all = elements(&xml);
    let files = assert_files_and_locations(&input, &all, &sha256);
    assert_wrapped_records(&input, &all);
    assert_admids(&input, &files);
    assert_rights_and_events(&input, &xml);
    assert_logical_map(&input, &all);
}

/// The attributes of every element named `name`, in document order.
fn attributes_of<'a>(
    all: &'a [(String, BTreeMap<String, String>)],
    name: &str,
) -> Vec<&'a BTreeMap<String, String>> {
    all.iter()
        .filter(|(element, _)| element == name)
        .map(|(_, attributes)| attributes)
        .collect()
}

/// One `file` and one `FLocat` per item, each located under `data/photos/` with the
/// item's SHA-256; returns the `file`s' attributes.
fn assert_files_and_locations<'a>(
    input: &MetsInput,
    all: &'a [(String, BTreeMap<String, String>)],
    sha256: &BTreeMap<String, String>,
) -> Vec<&'a BTreeMap<String, String>> {
    let files = attributes_of(all, "mets:file");
    let flocats = attributes_of(all, "mets:FLocat");
    assert_eq!(files.len(), input.items.len());
    assert_eq!(flocats.len(), input.items.len());
    for (file, flocat) in files.iter().zip(&flocats) {
        let href = &flocat["xlink:href"];
        assert!(href.starts_with("data/photos/"), "{href}");
        assert_eq!(file["CHECKSUMTYPE"], "SHA-256");
        assert_eq!(file["CHECKSUM"], sha256[href], "{href}");
    }
    assert!(
        files.iter().any(|f| f.contains_key("CREATED")),
        "some fixture photos have an Exif date"
    );
    assert_eq!(
        all.iter()
            .filter(
                |(n, attribute)| n == "mets:techMD" && attribute["ID"].starts_with("techmd-mix-")
            )
            .count(),
        input
            .items
            .iter()
            .filter(|index| index.mix.is_some())
            .count()
    );
    files
}

/// How many items have `rights` values in their record.
fn with_rights(input: &MetsInput) -> usize {
    input
        .items
        .iter()
        .filter(|index| !index.record.all("rights").is_empty())
        .count()
}

/// Every wrapped record is in a namespace the wrapper schema validates, as many as the
/// items call for.
fn assert_wrapped_records(input: &MetsInput, all: &[(String, BTreeMap<String, String>)]) {
    let count = |name: &str| all.iter().filter(|(n, _)| n == name).count();
    let with_rights = with_rights(input);
    assert!(with_rights > 0, "the fixture records rights");
    assert_eq!(
        count("mets:xmlData"),
        (2 + EVENT_TYPES.len()) * input.items.len() + 2 + count("mix:mix") + with_rights
    );
    assert_eq!(count("oai_dc:dc"), input.items.len() + 1);
    assert_eq!(count("premis:object"), input.items.len());
    assert!(count("mix:mix") > 0);
    assert_eq!(count("premis:rights"), with_rights);
    assert_eq!(count("mets:rightsMD"), with_rights);
    assert_eq!(count("premis:event"), EVENT_TYPES.len() * input.items.len());
    assert_eq!(count("mets:digiprovMD"), count("premis:event") + 1);
    assert_eq!(count("premis:agent"), 1);
}

/// Each file's ADMID: its techMDs, its rightsMD when it has rights, its four events.
fn assert_admids(input: &MetsInput, files: &[&BTreeMap<String, String>]) {
    for (index, (file, item)) in files.iter().zip(&input.items).enumerate() {
        let adm: Vec<&str> = file["ADMID"].split(' ').collect();
        assert_eq!(adm[0], premis_id(index));
        assert_eq!(adm.contains(&mix_id(index).as_str()), item.mix.is_some());
        assert_eq!(
            adm.contains(&rights_id(index).as_str()),
            !item.record.all("rights").is_empty()
        );
        assert!(adm.ends_with(&[
            event_id(index, 0).as_str(),
            event_id(index, 1).as_str(),
            event_id(index, 2).as_str(),
            event_id(index, 3).as_str(),
        ]));
    }
}

/// The rights text and the events as the guide describes them.
fn assert_rights_and_events(input: &MetsInput, xml: &str) {
    let notes = texts_of(xml, "premis:otherRightsNote");
    let expected: Vec<String> = input
        .items
        .iter()
        .flat_map(|index| index.record.all("rights").to_vec())
        .collect();
    assert_eq!(notes, expected);
    let types = texts_of(xml, "premis:eventType");
    for (event, (label, code)) in EVENT_TYPES.iter().enumerate() {
        assert_eq!(types[event], *label);
        assert!(xml.contains(&format!(
            "valueURI=\"http://id.loc.gov/vocabulary/preservation/eventType/{code}\">{label}<"
        )));
    }
    assert!(
        texts_of(xml, "premis:eventDateTime")
            .iter()
            .all(|d| d == &input.create_date)
    );
    let details = texts_of(xml, "premis:eventDetail");
    if let Some(puid) = &input.items[0].premis.puid {
        assert!(
            details[1].contains(&format!("puid=\"{puid}\"")),
            "{}",
            details[1]
        );
    }
    assert!(details[2].ends_with(VALIDATION_DETAIL));
    assert!(details[3].ends_with("algorithms=\"SHA-256, SHA-512\""));
    assert!(
        texts_of(xml, "premis:eventOutcome")
            .iter()
            .all(|o| o == "success"),
        "every fixture photo's format is identified"
    );
    let objects = texts_of(xml, "premis:objectIdentifierValue");
    let linked = texts_of(xml, "premis:linkingObjectIdentifierValue");
    assert_eq!(
        linked.len(),
        (EVENT_TYPES.len()) * objects.len() + with_rights(input)
    );
    assert!(linked.iter().all(|l| objects.contains(l)));
}

/// Logical map: sections in first-seen order, dates non-decreasing inside each.
fn assert_logical_map(input: &MetsInput, all: &[(String, BTreeMap<String, String>)]) {
    let mut seen = Vec::new();
    for item in &input.items {
        if let Some(s) = &item.section
            && !seen.contains(s)
        {
            seen.push(s.clone());
        }
    }
    let labels: Vec<_> = all
        .iter()
        .filter(|(n, attribute)| {
            n == "mets:div" && attribute.get("TYPE").map(String::as_str) == Some("section")
        })
        .map(|(_, attribute)| attribute["LABEL"].clone())
        .collect();
    assert_eq!(labels, seen);
    assert!(seen.len() >= 2, "the fixture has several sections");
    let logical = all
        .iter()
        .position(|(n, attribute)| n == "mets:structMap" && attribute["TYPE"] == "logical")
        .unwrap();
    let mut dates: Vec<Vec<&str>> = Vec::new();
    for (name, attrs) in &all[logical..] {
        match (name.as_str(), attrs.get("TYPE").map(String::as_str)) {
            ("mets:div", Some("section")) => dates.push(Vec::new()),
            ("mets:div", Some("photograph")) => {
                let index: usize = attrs["DMDID"]["dmd-item-".len()..].parse().unwrap();
                let date = input.items[index - 1].record.first("date").unwrap_or("");
                dates.last_mut().expect("inside a section").push(date);
            }
            _ => {}
        }
    }
    assert_eq!(dates.len(), seen.len());
    assert_eq!(dates.iter().map(Vec::len).sum::<usize>(), input.items.len());
    for section in &dates {
        assert!(section.windows(2).all(|w| w[0] <= w[1]), "{section:?}");
    }
}

#[test]
fn hostile_record_still_validates() {
    let (mut input, _) = fixture_input();
    input.items.truncate(2);
    input.items.push(hostile_item());
    input.label = HOSTILE.into();
    input.agent_org = Some(HOSTILE.into());
    let xml = mets_document(&input);
    assert!(!xml.contains('\u{7}') && !xml.contains('\r'));
    assert_eq!(xml, mets_document(&input), "deterministic");
    write_and_validate(&xml);
    assert_references(&xml);
    assert!(
        xml.contains(
            "xlink:href=\"data/photos/%D0%AF%D0%BD%D0%B2%D0%B0%D1%80%D1%8C%202022/a%3Ab%20100%25%20%231%3F.jpg\""
        ),
        "{xml}"
    );
    let titles = texts_of(&xml, "dc:title");
    assert!(titles.contains(&HOSTILE.replace('\u{7}', "\u{fffd}")));
    let notes = texts_of(&xml, "premis:otherRightsNote");
    assert!(notes.ends_with(&[
        HOSTILE.replace('\u{7}', "\u{fffd}"),
        "© ]]> & <![CDATA[".to_string()
    ]));
    // No format found: the identification event says so, as a failure.
    let outcomes = texts_of(&xml, "premis:eventOutcome");
    assert_eq!(outcomes[outcomes.len() - 3], "failure");
    assert!(
        texts_of(&xml, "premis:eventDetail")
            .iter()
            .any(|d| d.ends_with("result=\"format not identified\""))
    );
}

/// The validation is real: a MIX value outside its enumeration is rejected inside METS.
#[test]
#[should_panic(expected = "xmllint rejected")]
fn an_invalid_embedded_record_is_rejected() {
    let (mut input, _) = fixture_input();
    input.items.truncate(3);
    let xml = mets_document(&input).replace(">integer<", ">bits<");
    assert!(xml.contains(">bits<"));
    write_and_validate(&xml);
}

/// The embedded PREMIS rights are validated too: a statement without its basis is
/// rejected.
#[test]
#[should_panic(expected = "xmllint rejected")]
fn an_invalid_rights_statement_is_rejected() {
    let (mut input, _) = fixture_input();
    input.items.truncate(3);
    let basis = "<premis:rightsBasis>other</premis:rightsBasis>";
    let xml = mets_document(&input);
    assert!(xml.contains(basis));
    write_and_validate(&xml.replace(basis, ""));
}

#[test]
fn no_items_still_validates() {
    let input = MetsInput {
        objid: "x".into(),
        label: "empty".into(),
        create_date: "2025-01-15T10:00:00Z".into(),
        agent_software: "qoima 0.1.0".into(),
        ..Default::default()
    };
    write_and_validate(&mets_document(&input));
}

#[test]
fn uri_paths_are_percent_encoded() {
    assert_eq!(uri_path("data/a b/ü.jpg"), "data/a%20b/%C3%BC.jpg");
    assert_eq!(uri_path("data/x-y_z.~(1)+!.png"), "data/x-y_z.~(1)+!.png");
    assert_eq!(uri_path("a:b%?#[]\\"), "a%3Ab%25%3F%23%5B%5D%5C");
}
