//! Simple Dublin Core (DCMES 1.1) as an OAI-PMH `oai_dc:dc` record, the form that
//! `oai_dc.xsd` validates strictly (its closed content model rejects a misspelt element,
//! unlike an undeclared container such as Archivematica's `dcterms:dublincore`).
//!
//! Elements follow [`metadata::ELEMENTS`](crate::metadata::ELEMENTS), one `dc:<element>`
//! per value, without `file` (the item's path, not Dublin Core) and with `spatial` written as
//! `dc:coverage`, since simple DC has no `spatial`. Values are written as given (a date as it
//! was entered, EDTF included), except characters XML 1.0 cannot carry, which become U+FFFD.

use std::io::{self, Write};

use quick_xml::Writer;

use super::xml::{close, open_with, text};
use crate::metadata::{ELEMENTS, Record};

/// The XML Schema instance namespace (defined with the XML toolkit).
pub use super::xml::XSI_NS;

/// The OAI-PMH `oai_dc` namespace.
pub const OAI_DC_NS: &str = "http://www.openarchives.org/OAI/2.0/oai_dc/";
/// The Dublin Core elements 1.1 namespace.
pub const DC_NS: &str = "http://purl.org/dc/elements/1.1/";
/// The canonical `xsi:schemaLocation` of an `oai_dc:dc` record.
pub const OAI_DC_SCHEMA_LOCATION: &str =
    "http://www.openarchives.org/OAI/2.0/oai_dc/ http://www.openarchives.org/OAI/2.0/oai_dc.xsd";

/// The `dc:` element a record element is written as, or `None` when it is not Dublin Core.
fn dc_name(element: &str) -> Option<&'static str> {
    match element {
        "file" => None,
        "spatial" => Some("dc:coverage"),
        "identifier" => Some("dc:identifier"),
        "title" => Some("dc:title"),
        "description" => Some("dc:description"),
        "date" => Some("dc:date"),
        "creator" => Some("dc:creator"),
        "subject" => Some("dc:subject"),
        "coverage" => Some("dc:coverage"),
        "language" => Some("dc:language"),
        "rights" => Some("dc:rights"),
        "type" => Some("dc:type"),
        "source" => Some("dc:source"),
        "publisher" => Some("dc:publisher"),
        "contributor" => Some("dc:contributor"),
        "relation" => Some("dc:relation"),
        "format" => Some("dc:format"),
        _ => None,
    }
}

/// Writes the `dc:*` elements of a record, one per value, in [`ELEMENTS`] order, into an
/// element already opened by the caller (`oai_dc:dc` here, `mets:xmlData` in a METS). The
/// `dc` prefix must be bound to [`DC_NS`] by an enclosing element.
pub fn write_dc_elements<W: Write>(writer: &mut Writer<W>, record: &Record) -> io::Result<()> {
    for element in ELEMENTS {
        let Some(name) = dc_name(element) else {
            continue;
        };
        for value in record.all(element) {
            text(writer, name, value)?;
        }
    }
    Ok(())
}

/// A record as a standalone `oai_dc:dc` document: XML declaration, UTF-8, 2-space
/// indentation, LF line endings and a final newline; the same record always gives the same
/// bytes.
pub fn oai_dc(record: &Record) -> String {
    super::xml::document(|writer| {
        open_with(
            writer,
            "oai_dc:dc",
            &[
                ("xmlns:oai_dc", OAI_DC_NS),
                ("xmlns:dc", DC_NS),
                ("xmlns:xsi", XSI_NS),
                ("xsi:schemaLocation", OAI_DC_SCHEMA_LOCATION),
            ],
        )?;
        write_dc_elements(writer, record)?;
        close(writer, "oai_dc:dc")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::Reader;
    use quick_xml::escape::resolve_predefined_entity;
    use quick_xml::events::Event;
    use std::path::Path;

    fn record(pairs: &[(&str, &[&str])]) -> Record {
        Record {
            line: 2,
            values: pairs
                .iter()
                .map(|(k, value)| (k.to_string(), value.iter().map(|s| s.to_string()).collect()))
                .collect(),
            ragged: false,
        }
    }

    /// Cyrillic, markup characters, both quotes, right-to-left text, an emoji, a bell (U+0007),
    /// CR and tab, and elements that are not (`file`) or not simply (`spatial`) Dublin Core.
    fn tricky() -> Record {
        record(&[
            ("identifier", &["tricky-001"]),
            ("file", &["photos/tricky.jpg"]),
            ("title", &["Алматы <1 & 2> \"кавычки\" 'apostrophe'"]),
            (
                "description",
                &["العربية من اليمين إلى اليسار · עברית גם כן 📷 bell\u{7}here\r\nline\tend"],
            ),
            ("date", &["2022-01-0X?"]),
            ("creator", &["Айгерим С.", "أحمد"]),
            ("subject", &["Протесты", "]]> & <![CDATA["]),
            ("coverage", &["Алматы"]),
            ("spatial", &["43.1890,76.8895"]),
            ("language", &["ru", "kk"]),
            ("rights", &["CC BY 4.0"]),
            ("type", &["StillImage"]),
            ("section", &["not Dublin Core"]),
        ])
    }

    /// The `(element name, text)` pairs under the root, read back with quick-xml.
    fn read_back(xml: &str) -> Vec<(String, String)> {
        let mut reader = Reader::from_str(xml);
        let mut out = Vec::new();
        let mut current: Option<(String, String)> = None;
        let mut depth = 0;
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) => {
                    depth += 1;
                    if depth == 2 {
                        let name = e.name().into_inner().to_string();
                        current = Some((name, String::new()));
                    }
                }
                Event::Text(t) => {
                    if let Some((_, text)) = current.as_mut() {
                        text.push_str(&t.xml10_content());
                    }
                }
                Event::GeneralRef(r) => {
                    let (_, text) = current.as_mut().expect("a reference inside an element");
                    match r.resolve_char_ref().expect("valid character reference") {
                        Some(c) => text.push(c),
                        None => text
                            .push_str(resolve_predefined_entity(&r).expect("a predefined entity")),
                    }
                }
                Event::End(_) => {
                    if depth == 2 {
                        out.push(current.take().unwrap());
                    }
                    depth -= 1;
                }
                Event::Eof => break,
                Event::Decl(_) => {}
                other => panic!("unexpected event {other:?}"),
            }
        }
        out
    }

    #[test]
    fn every_value_round_trips() {
        let rec = tricky();
        let xml = oai_dc(&rec);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<oai_dc:dc "));
        assert!(xml.ends_with("</oai_dc:dc>\n"));
        assert!(!xml.contains('\r'), "LF line endings only, CR escaped");
        assert!(!xml.contains('\u{7}'));
        assert!(
            xml.contains("\n  <dc:title>"),
            "2-space indentation:\n{xml}"
        );
        assert_eq!(xml, oai_dc(&rec), "deterministic");

        let mut expected = Vec::new();
        for element in ELEMENTS {
            if let Some(name) = dc_name(element) {
                for value in rec.all(element) {
                    expected.push((name.to_string(), value.replace('\u{7}', "\u{fffd}")));
                }
            }
        }
        assert_eq!(read_back(&xml), expected);
        assert!(expected.contains(&("dc:coverage".into(), "43.1890,76.8895".into())));
        assert!(!xml.contains("photos/tricky.jpg") && !xml.contains("not Dublin Core"));
    }

    #[test]
    fn dc_elements_alone_have_no_root() {
        let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
        write_dc_elements(&mut writer, &record(&[("title", &["T"]), ("file", &["f"])])).unwrap();
        assert_eq!(
            String::from_utf8(writer.into_inner()).unwrap(),
            "<dc:title>T</dc:title>"
        );
    }

    #[test]
    fn oai_dc_validates_against_the_official_schema() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let collection = root.join("fixtures/collections/qantar-2022");
        let (sidecar, problems) = crate::metadata::load(
            &collection,
            &collection.join("metadata.csv"),
            "metadata.csv",
            &Default::default(),
        );
        assert!(problems.is_empty(), "fixture sidecar: {problems:?}");
        assert!(!sidecar.records.is_empty());

        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for (index, rec) in sidecar.records.iter().chain([&tricky()]).enumerate() {
            let path = dir.path().join(format!("dc-{index:03}.xml"));
            std::fs::write(&path, oai_dc(rec)).unwrap();
            files.push(path);
        }

        crate::describe::test_support::assert_valid("oai_dc.xsd", &files);
    }
}
