//! Descriptive and preservation metadata as XML: the records `metadata` reads, written as
//! Dublin Core (`dc`), METS (`mets`, read back by `mets_read`), PREMIS (`premis`: the one
//! PREMIS writer, from plain data; the audit's export maps its history onto it) and MIX
//! (`mix`).
//!
//! Every writer here goes through one toolkit (`xml`: quick-xml's event `Writer`, never
//! string formatting), so escaping is done in one place; and each one is safe on its own — a
//! value that would make the XML ill-formed (a control character) is replaced, not trusted to
//! have been caught by `qoima check`. Output is deterministic: UTF-8, 2-space indentation, LF
//! line endings.

pub mod dc;
pub mod mets;
pub mod mets_read;
pub mod mix;
pub mod premis;
pub(crate) mod xml;

pub use dc::{oai_dc, write_dc_elements};
pub use mets::{MetsInput, MetsItem, mets_document};
pub use mix::{ImageFacts, mix_document, write_mix};
pub use premis::{
    AgentFacts, EntityFacts, EventFacts, LinkedAgent, ObjectFacts, PremisObject, RightsFacts,
    premis_document, write_agent, write_event, write_object, write_rights,
};

/// Helpers shared by the tests of the writers.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// Every photo of the qantar-2022 fixture, as `(path in the collection, bytes)`, sorted.
    pub(crate) fn fixture_photos() -> Vec<(String, Vec<u8>)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/collections/qantar-2022");
        let mut out = Vec::new();
        let mut dirs = vec![root.join("photos")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    let rel = path.strip_prefix(&root).unwrap().to_str().unwrap();
                    out.push((rel.replace('\\', "/"), std::fs::read(&path).unwrap()));
                }
            }
        }
        out.sort();
        assert!(out.len() >= 20, "the fixture has its photos");
        out
    }

    use quick_xml::Reader;
    use quick_xml::escape::resolve_predefined_entity;
    use quick_xml::events::Event;

    /// The repository's `schemas/` folder.
    pub(crate) fn schemas() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
    }

    /// Validates `files` offline with xmllint against `schemas/<schema>`, through
    /// `schemas/catalog.xml`, and panics with xmllint's messages unless every file validates.
    pub(crate) fn assert_valid(schema: &str, files: &[PathBuf]) {
        let schemas = schemas();
        let output = Command::new("xmllint")
            .args(["--noout", "--nonet", "--schema"])
            .arg(schemas.join(schema))
            .args(files)
            .env("XML_CATALOG_FILES", schemas.join("catalog.xml"))
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run xmllint ({e}): install libxml2-utils \
                     (apt-get install libxml2-utils, or run scripts/test.sh as root)"
                )
            });
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "xmllint rejected the records against {schema} ({}):\n{stderr}",
            output.status
        );
        assert_eq!(
            stderr.matches(" validates").count(),
            files.len(),
            "every file validates against {schema}:\n{stderr}"
        );
    }

    /// The text of every element named `name` (prefix included) in `xml`, in document order,
    /// with character and predefined entity references resolved.
    pub(crate) fn texts_of(xml: &str, name: &str) -> Vec<String> {
        let mut reader = Reader::from_str(xml);
        let mut out = Vec::new();
        let mut current: Option<String> = None;
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) if e.name().into_inner() == name => {
                    current = Some(String::new());
                }
                Event::Text(t) => {
                    if let Some(text) = current.as_mut() {
                        text.push_str(&t.xml10_content());
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(text) = current.as_mut() {
                        match r.resolve_char_ref().expect("valid character reference") {
                            Some(c) => text.push(c),
                            None => text.push_str(
                                resolve_predefined_entity(&r).expect("a predefined entity"),
                            ),
                        }
                    }
                }
                Event::End(e) if e.name().into_inner() == name => {
                    out.extend(current.take());
                }
                Event::Eof => break,
                _ => {}
            }
        }
        out
    }
}
