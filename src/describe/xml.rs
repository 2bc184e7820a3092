//! The one XML toolkit every writer of `describe` (and the audit's and the custody log's
//! PREMIS exports) goes through: start tags, text elements, end tags and whole documents,
//! written with quick-xml's event `Writer`.
//!
//! Two rules live here and nowhere else: every value (attribute or text) is made XML-safe
//! first ([`xml_safe`]: a character XML 1.0 cannot carry becomes U+FFFD), and a document is
//! an XML declaration, UTF-8, 2-space indentation, LF line endings and a final newline, so
//! the same input always gives the same bytes.

use std::borrow::Cow;
use std::io::{self, Write};

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// The XML Schema instance namespace.
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// `text` with every character XML 1.0 cannot hold, or that we refuse to write (control
/// characters other than tab, CR and LF, and the non-characters U+FFFE and U+FFFF), replaced
/// by U+FFFD.
pub(crate) fn xml_safe(text: &str) -> Cow<'_, str> {
    fn bad(c: char) -> bool {
        (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{fffe}' | '\u{ffff}')
    }
    if text.chars().any(bad) {
        text.chars()
            .map(|c| if bad(c) { '\u{fffd}' } else { c })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

/// A start tag whose attribute values are made XML-safe (quick-xml escapes them).
pub(crate) fn start<'a>(name: &'a str, attributes: &[(&str, &str)]) -> BytesStart<'a> {
    let mut tag = BytesStart::new(name);
    for (key, value) in attributes {
        tag.push_attribute((*key, xml_safe(value).as_ref()));
    }
    tag
}

/// Writes a start tag built by [`start`] (or by hand).
pub(crate) fn open_tag<W: Write>(writer: &mut Writer<W>, tag: BytesStart) -> io::Result<()> {
    writer.write_event(Event::Start(tag))
}

/// Writes `<name>`.
pub(crate) fn open<W: Write>(writer: &mut Writer<W>, name: &str) -> io::Result<()> {
    open_tag(writer, BytesStart::new(name))
}

/// Writes `<name attributes…>`, the values made XML-safe.
pub(crate) fn open_with<W: Write>(
    writer: &mut Writer<W>,
    name: &str,
    attributes: &[(&str, &str)],
) -> io::Result<()> {
    open_tag(writer, start(name, attributes))
}

/// Writes `</name>`.
pub(crate) fn close<W: Write>(writer: &mut Writer<W>, name: &str) -> io::Result<()> {
    writer.write_event(Event::End(BytesEnd::new(name)))
}

/// Writes `<name attributes…/>`, the values made XML-safe.
pub(crate) fn empty<W: Write>(
    writer: &mut Writer<W>,
    name: &str,
    attributes: &[(&str, &str)],
) -> io::Result<()> {
    writer.write_event(Event::Empty(start(name, attributes)))
}

/// Writes `<name>text</name>`, the text made XML-safe and escaped.
pub(crate) fn text<W: Write>(writer: &mut Writer<W>, name: &str, value: &str) -> io::Result<()> {
    text_with(writer, name, &[], value)
}

/// Writes `<name attributes…>text</name>`, the attribute values and text made XML-safe.
pub(crate) fn text_with<W: Write>(
    writer: &mut Writer<W>,
    name: &str,
    attributes: &[(&str, &str)],
    value: &str,
) -> io::Result<()> {
    // BytesText::new escapes `<`, `>`, `&`, both quotes and CR (as `&#13;`, which an XML
    // parser would otherwise turn into LF).
    let safe: Vec<(&str, Cow<'_, str>)> = attributes
        .iter()
        .map(|(key, value)| (*key, xml_safe(value)))
        .collect();
    writer
        .create_element(name)
        .with_attributes(safe.iter().map(|(key, value)| (*key, value.as_ref())))
        .write_text_content(BytesText::new(&xml_safe(value)))?;
    Ok(())
}

/// A whole document: the XML declaration (version 1.0, UTF-8), then what `body` writes,
/// indented by 2 spaces, and a final newline.
pub(crate) fn document(body: impl FnOnce(&mut Writer<Vec<u8>>) -> io::Result<()>) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .and_then(|()| body(&mut writer))
        .expect("writing to a Vec cannot fail");
    let mut bytes = writer.into_inner();
    bytes.push(b'\n');
    String::from_utf8(bytes).expect("the writer only writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fragment(body: impl FnOnce(&mut Writer<Vec<u8>>) -> io::Result<()>) -> String {
        let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
        body(&mut writer).unwrap();
        String::from_utf8(writer.into_inner()).unwrap()
    }

    #[test]
    fn unsafe_characters_are_replaced() {
        assert_eq!(
            xml_safe("a\u{0}b\u{1b}c\u{7f}d\u{85}e"),
            "a\u{fffd}b\u{fffd}c\u{fffd}d\u{fffd}e"
        );
        assert_eq!(xml_safe("x\u{fffe}\u{ffff}"), "x\u{fffd}\u{fffd}");
        assert!(matches!(xml_safe("tab\tcr\rlf\n 📷"), Cow::Borrowed(_)));
    }

    #[test]
    fn values_and_attributes_are_safe_and_escaped() {
        let xml = fragment(|writer| {
            open_with(writer, "a", &[("k", "<\u{7}>")])?;
            text_with(writer, "b", &[("v", "\"&\"")], "x\u{1b} & y\r")?;
            empty(writer, "c", &[("z", "1")])?;
            close(writer, "a")
        });
        assert_eq!(
            xml,
            "<a k=\"&lt;\u{fffd}&gt;\">\n  <b v=\"&quot;&amp;&quot;\">x\u{fffd} &amp; y&#13;</b>\n  \
             <c z=\"1\"/>\n</a>"
        );
    }

    #[test]
    fn a_document_has_its_declaration_and_a_final_newline() {
        let xml = document(|writer| text(writer, "r", "t"));
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r>t</r>\n"
        );
    }
}
