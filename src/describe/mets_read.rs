//! Reading back what a METS file says about its files (`fileSec`): each file's location and
//! checksum, so that `qoima validate` can hold a packaged bag's METS to its manifests.

use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};

/// One `mets:file` as the METS describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetsFile {
    /// The `FLocat` `xlink:href`, percent-decoded (a bag-relative path for qoima's METS).
    pub href: String,
    /// `CHECKSUMTYPE`, e.g. `SHA-256`.
    pub checksum_type: Option<String>,
    /// `CHECKSUM`, lower-cased.
    pub checksum: Option<String>,
}

/// The files of a METS document's `fileSec`, or why the document cannot be read.
pub fn files(xml: &str) -> Result<Vec<MetsFile>, String> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    let mut current: Option<(Option<String>, Option<String>)> = None;
    let mut depth = 0usize;
    let mut seen_root = false;
    loop {
        let event = reader.read_event();
        match &event {
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            _ => {}
        }
        match event {
            Ok(Event::Eof) if depth > 0 => {
                return Err("not well-formed XML: it ends inside an element".into());
            }
            Err(e) => {
                return Err(format!(
                    "not well-formed XML at byte {}: {e}",
                    reader.error_position()
                ));
            }
            Ok(Event::Eof) => break,
            Ok(Event::Start(e) | Event::Empty(e)) => {
                let qname = e.name().into_inner().to_string();
                let local = qname.rsplit(':').next().unwrap_or(&qname).to_string();
                if !seen_root {
                    if local != "mets" {
                        return Err(format!(
                            "not a METS document: its root element is {qname:?}"
                        ));
                    }
                    seen_root = true;
                }
                let attr = |key: &str| -> Option<String> {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.into_inner() == key)
                        .and_then(|a| {
                            a.normalized_value(XmlVersion::Implicit1_0)
                                .ok()
                                .map(|v| v.into_owned())
                        })
                };
                match local.as_str() {
                    "file" => {
                        current = Some((
                            attr("CHECKSUMTYPE"),
                            attr("CHECKSUM").map(|c| c.to_ascii_lowercase()),
                        ))
                    }
                    "FLocat" => {
                        if let (Some((t, c)), Some(href)) = (&current, attr("xlink:href")) {
                            out.push(MetsFile {
                                href: percent_decode(&href),
                                checksum_type: t.clone(),
                                checksum: c.clone(),
                            });
                        }
                    }
                    _ => {}
                }
            }
            Ok(Event::End(e)) if e.name().into_inner().rsplit(':').next() == Some("file") => {
                current = None
            }
            Ok(_) => {}
        }
    }
    Ok(out)
}

/// `%XX` escapes decoded to bytes, then read as UTF-8 (lossily: a bad escape shows as U+FFFD
/// and then names no file).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%'
            && let Some(byte) = text
                .get(at + 1..at + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            at += 3;
            continue;
        }
        out.push(bytes[at]);
        at += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_and_decodes_hrefs() {
        let xml = r#"<mets:mets xmlns:mets="http://www.loc.gov/METS/" xmlns:xlink="http://www.w3.org/1999/xlink"><mets:fileSec><mets:fileGrp>
            <mets:file ID="f1" CHECKSUMTYPE="SHA-256" CHECKSUM="AB12"><mets:FLocat LOCTYPE="URL" xlink:href="data/%D0%BC%D0%B8%D1%82%D0%B8%D0%BD%D0%B3%205.jpg"/></mets:file>
            <mets:file ID="f2"><mets:FLocat LOCTYPE="URL" xlink:href="data/a%25b.png"/></mets:file>
        </mets:fileGrp></mets:fileSec></mets:mets>"#;
        let listed = files(xml).unwrap();
        assert_eq!(listed[0].href, "data/митинг 5.jpg");
        assert_eq!(listed[0].checksum.as_deref(), Some("ab12"));
        assert_eq!(listed[1].href, "data/a%b.png");
        assert_eq!(listed[1].checksum, None);
        assert!(files("<mets:mets><unclosed>").is_err());
        assert!(files("<a></b>").is_err());
        assert!(files("<other/>").is_err());
    }
}
