//! A METS 1.12 document for a packaged photo collection: a header with the creating agents,
//! Dublin Core for the collection and for each photo (`oai_dc:dc` in `mdWrap MDTYPE="DC"`),
//! a package `amdSec` whose `digiprovMD` holds qoima's PREMIS agent (`PREMIS:AGENT`), one
//! `amdSec` per file with its PREMIS object (`PREMIS:OBJECT`), its MIX record (`NISOIMG`)
//! when the image header was read, a PREMIS rights statement (`PREMIS:RIGHTS`, the record's
//! `rights` values as `otherRightsNote`s) when it has rights, and one `digiprovMD` per
//! PREMIS event (`PREMIS:EVENT`: ingestion, format identification, validation, message
//! digest calculation, each linked to the agent and the object), a `fileSec` with one
//! `fileGrp USE="original"`, a physical `structMap` mirroring the folder tree and a logical
//! one by collection section.
//!
//! IDs are derived from the item's position (`dmd-item-0001`, `amd-0001`,
//! `techmd-premis-0001`, `techmd-mix-0001`, `rights-0001`, `digiprov-event-0001-01`,
//! `file-0001`) or fixed (`amd-package`, `digiprov-agent-qoima`), so the same input always
//! gives the same bytes. File locations are `LOCTYPE="URL"` references relative to the METS file,
//! percent-encoded per RFC 3986 ([`uri_path`]). The document validates against
//! `schemas/wrappers/mets-embedded.xsd`, which also checks the embedded PREMIS, MIX and DC.

use std::io::{self, Write};

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::dc::{DC_NS, OAI_DC_NS, XSI_NS, write_dc_elements, xml_safe};
use super::mix::{ImageFacts, write_mix};
use super::premis::{
    AgentFacts, EVENT_TYPE_AUTHORITY_URI, EventFacts, ObjectFacts, RightsFacts, write_agent,
    write_event, write_object, write_rights,
};
use crate::metadata::Record;

/// The METS namespace.
pub const METS_NS: &str = "http://www.loc.gov/METS/";
/// The XLink namespace (as METS uses it for `xlink:href`).
pub const XLINK_NS: &str = "http://www.w3.org/1999/xlink";
/// The canonical `xsi:schemaLocation` of a METS document (METS 1.12.1, the same content
/// model as 1.12; mapped by `schemas/catalog.xml` to the vendored `mets.xsd`).
pub const METS_SCHEMA_LOCATION: &str =
    "http://www.loc.gov/METS/ http://www.loc.gov/standards/mets/version1121/mets.xsd";
/// The ID of the collection's `dmdSec`.
pub const COLLECTION_DMD_ID: &str = "dmd-collection";
/// The ID of the package's `amdSec` (the agents).
pub const PACKAGE_AMD_ID: &str = "amd-package";
/// The ID of the `digiprovMD` holding qoima's PREMIS agent.
pub const AGENT_DIGIPROV_ID: &str = "digiprov-agent-qoima";
/// The validation event's `eventDetail`.
pub const VALIDATION_DETAIL: &str = "qoima check: structure and metadata";

/// The PREMIS events recorded for every file, in order: `(LoC eventType label, LoC code)`;
/// the term's URI is the code under [`EVENT_TYPE_AUTHORITY_URI`].
pub const EVENT_TYPES: [(&str, &str); 4] = [
    ("ingestion", "ing"),
    ("format identification", "for"),
    ("validation", "val"),
    ("message digest calculation", "mes"),
];

/// Everything a METS document describes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetsInput {
    /// The document's `OBJID` (e.g. `urn:uuid:…` or the bag's External-Identifier).
    pub objid: String,
    /// The document's `LABEL` (the collection title).
    pub label: String,
    /// `metsHdr/@CREATEDATE`, an `xs:dateTime` (UTC, `…Z`).
    pub create_date: String,
    /// The organisation that created the package (agent `ROLE="CREATOR"
    /// TYPE="ORGANIZATION"`), when known.
    pub agent_org: Option<String>,
    /// The creating software with its version, e.g. `qoima 0.1.0` (agent `ROLE="CREATOR"
    /// TYPE="OTHER" OTHERTYPE="SOFTWARE"`).
    pub agent_software: String,
    /// The Dublin Core of the whole collection.
    pub collection: Record,
    /// The files, in the order they are listed.
    pub items: Vec<MetsItem>,
}

/// One file of the package.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetsItem {
    /// The file's descriptive record (its Dublin Core; `date` orders the logical map).
    pub record: Record,
    /// The path relative to the METS file (the bag root), `/`-separated, unencoded, e.g.
    /// `data/photos/01-january/001.jpg`.
    pub file: String,
    /// The media type (`MIMETYPE`).
    pub mime: String,
    /// Size in bytes (`SIZE`).
    pub size: u64,
    /// The file's creation time as an `xs:dateTime` (`CREATED`), when known.
    pub created: Option<String>,
    /// `(METS CHECKSUMTYPE, lower-case hex)` pairs, e.g. `("SHA-256", "…")`; the first one
    /// becomes `CHECKSUM`/`CHECKSUMTYPE`.
    pub digests: Vec<(String, String)>,
    /// The PREMIS object of the file.
    pub premis: ObjectFacts,
    /// The MIX image facts, when the image header was read.
    pub mix: Option<ImageFacts>,
    /// The collection section the item belongs to (logical `structMap`), if any.
    pub section: Option<String>,
}

/// The 1-based, zero-padded number used in the IDs of item `index` (0-based).
fn n(index: usize) -> String {
    format!("{:04}", index + 1)
}

/// The ID of item `index`'s `dmdSec`.
pub fn dmd_id(index: usize) -> String {
    format!("dmd-item-{}", n(index))
}

/// The ID of item `index`'s `amdSec`.
pub fn amd_id(index: usize) -> String {
    format!("amd-{}", n(index))
}

/// The ID of item `index`'s PREMIS `techMD`.
pub fn premis_id(index: usize) -> String {
    format!("techmd-premis-{}", n(index))
}

/// The ID of item `index`'s MIX `techMD`.
pub fn mix_id(index: usize) -> String {
    format!("techmd-mix-{}", n(index))
}

/// The ID of item `index`'s `rightsMD`.
pub fn rights_id(index: usize) -> String {
    format!("rights-{}", n(index))
}

/// The ID of item `index`'s `digiprovMD` holding its event `k` (0-based, in
/// [`EVENT_TYPES`] order).
pub fn event_id(index: usize, k: usize) -> String {
    format!("digiprov-event-{}-{:02}", n(index), k + 1)
}

/// The ID of item `index`'s `file`.
pub fn file_id(index: usize) -> String {
    format!("file-{}", n(index))
}

/// `path` (a `/`-separated relative path, not yet a URI) as an RFC 3986 relative reference:
/// every byte of its UTF-8 form is percent-encoded except the unreserved characters,
/// `/` and the sub-delimiters and `@` that a path segment may hold. `:` is encoded too (in a
/// first segment it would read as a scheme), as are `%`, space, `?`, `#` and non-ASCII.
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The METS document: XML declaration, UTF-8, 2-space indentation, LF line endings and a
/// final newline; the same input always gives the same bytes.
pub fn mets_document(input: &MetsInput) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    write_document(&mut w, input).expect("writing to a Vec cannot fail");
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    String::from_utf8(bytes).expect("the writer only writes UTF-8")
}

fn open<W: Write>(w: &mut Writer<W>, start: BytesStart) -> io::Result<()> {
    w.write_event(Event::Start(start))
}

fn close<W: Write>(w: &mut Writer<W>, name: &str) -> io::Result<()> {
    w.write_event(Event::End(BytesEnd::new(name)))
}

fn text<W: Write>(w: &mut Writer<W>, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(&xml_safe(value)))?;
    Ok(())
}

/// A start tag with attributes whose values are made XML-safe (quick-xml escapes them).
fn start<'a>(name: &'a str, attrs: &[(&str, &str)]) -> BytesStart<'a> {
    let mut s = BytesStart::new(name);
    for (k, v) in attrs {
        s.push_attribute((*k, xml_safe(v).as_ref()));
    }
    s
}

fn write_document<W: Write>(w: &mut Writer<W>, input: &MetsInput) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    open(
        w,
        start(
            "mets:mets",
            &[
                ("xmlns:mets", METS_NS),
                ("xmlns:xlink", XLINK_NS),
                ("xmlns:xsi", XSI_NS),
                ("xsi:schemaLocation", METS_SCHEMA_LOCATION),
                ("OBJID", &input.objid),
                ("LABEL", &input.label),
            ],
        ),
    )?;
    header(w, input)?;
    dmd_sec(w, COLLECTION_DMD_ID, &input.collection)?;
    for (i, item) in input.items.iter().enumerate() {
        dmd_sec(w, &dmd_id(i), &item.record)?;
    }
    let agent = AgentFacts::qoima();
    package_amd_sec(w, &agent)?;
    for (i, item) in input.items.iter().enumerate() {
        amd_sec(w, i, item, &input.create_date, &agent)?;
    }
    file_sec(w, input)?;
    physical_map(w, input)?;
    logical_map(w, input)?;
    close(w, "mets:mets")
}

fn header<W: Write>(w: &mut Writer<W>, input: &MetsInput) -> io::Result<()> {
    open(
        w,
        start("mets:metsHdr", &[("CREATEDATE", &input.create_date)]),
    )?;
    if let Some(org) = &input.agent_org {
        open(
            w,
            start(
                "mets:agent",
                &[("ROLE", "CREATOR"), ("TYPE", "ORGANIZATION")],
            ),
        )?;
        text(w, "mets:name", org)?;
        close(w, "mets:agent")?;
    }
    open(
        w,
        start(
            "mets:agent",
            &[
                ("ROLE", "CREATOR"),
                ("TYPE", "OTHER"),
                ("OTHERTYPE", "SOFTWARE"),
            ],
        ),
    )?;
    text(w, "mets:name", &input.agent_software)?;
    close(w, "mets:agent")?;
    close(w, "mets:metsHdr")
}

/// Opens `mets:mdWrap` and `mets:xmlData`.
fn open_wrap<W: Write>(w: &mut Writer<W>, mdtype: &str, version: &str) -> io::Result<()> {
    open(
        w,
        start(
            "mets:mdWrap",
            &[
                ("MIMETYPE", "text/xml"),
                ("MDTYPE", mdtype),
                ("MDTYPEVERSION", version),
            ],
        ),
    )?;
    open(w, BytesStart::new("mets:xmlData"))
}

fn close_wrap<W: Write>(w: &mut Writer<W>) -> io::Result<()> {
    close(w, "mets:xmlData")?;
    close(w, "mets:mdWrap")
}

fn dmd_sec<W: Write>(w: &mut Writer<W>, id: &str, record: &Record) -> io::Result<()> {
    open(w, start("mets:dmdSec", &[("ID", id)]))?;
    open_wrap(w, "DC", "1.1")?;
    open(
        w,
        start(
            "oai_dc:dc",
            &[("xmlns:oai_dc", OAI_DC_NS), ("xmlns:dc", DC_NS)],
        ),
    )?;
    write_dc_elements(w, record)?;
    close(w, "oai_dc:dc")?;
    close_wrap(w)?;
    close(w, "mets:dmdSec")
}

/// The package's `amdSec`: one `digiprovMD` with qoima's PREMIS agent, which every event
/// links to.
fn package_amd_sec<W: Write>(w: &mut Writer<W>, agent: &AgentFacts) -> io::Result<()> {
    open(w, start("mets:amdSec", &[("ID", PACKAGE_AMD_ID)]))?;
    open(w, start("mets:digiprovMD", &[("ID", AGENT_DIGIPROV_ID)]))?;
    open_wrap(w, "PREMIS:AGENT", "3.0")?;
    write_agent(w, agent)?;
    close_wrap(w)?;
    close(w, "mets:digiprovMD")?;
    close(w, "mets:amdSec")
}

/// The item's PREMIS rights statement, when its record has `rights` values.
fn rights_facts(i: usize, item: &MetsItem) -> Option<RightsFacts> {
    let notes = item.record.all("rights");
    (!notes.is_empty()).then(|| RightsFacts {
        identifier: format!("rights-{}", n(i)),
        basis: "rights statement from the descriptive metadata (dc:rights)".into(),
        notes: notes.to_vec(),
        object: Some(("local".into(), item.premis.identifier.clone())),
    })
}

/// The item's PREMIS events, in [`EVENT_TYPES`] order, all dated `date_time`.
fn event_facts(i: usize, item: &MetsItem, date_time: &str, agent: &AgentFacts) -> Vec<EventFacts> {
    let program = format!(
        "program=\"qoima\"; version=\"{}\"",
        agent.version.as_deref().unwrap_or("")
    );
    let o = &item.premis;
    let mut format = Vec::new();
    if let Some(puid) = &o.puid {
        format.push(format!("puid=\"{puid}\""));
    }
    if let Some(name) = &o.format_name {
        format.push(format!("format=\"{name}\""));
        if let Some(version) = &o.format_version {
            format.push(format!("formatVersion=\"{version}\""));
        }
    }
    let identified = !format.is_empty();
    let format_detail = if identified {
        format!("{program}; {}", format.join("; "))
    } else {
        format!("{program}; result=\"format not identified\"")
    };
    let algorithms: Vec<&str> = item.digests.iter().map(|(a, _)| a.as_str()).collect();
    let details = [
        program.clone(),
        format_detail,
        format!("{program}; {VALIDATION_DETAIL}"),
        format!("{program}; algorithms=\"{}\"", algorithms.join(", ")),
    ];
    EVENT_TYPES
        .iter()
        .zip(details)
        .enumerate()
        .map(|(k, ((label, code), detail))| EventFacts {
            identifier: format!("event-{}-{code}", n(i)),
            event_type: (*label).into(),
            event_type_uri: format!("{EVENT_TYPE_AUTHORITY_URI}/{code}"),
            date_time: date_time.into(),
            detail: Some(detail),
            outcome: if k == 1 && !identified {
                "failure"
            } else {
                "success"
            }
            .into(),
            outcome_detail: None,
            agent: Some((agent.identifier_type.clone(), agent.identifier.clone())),
            object: Some(("local".into(), o.identifier.clone())),
        })
        .collect()
}

fn amd_sec<W: Write>(
    w: &mut Writer<W>,
    i: usize,
    item: &MetsItem,
    date_time: &str,
    agent: &AgentFacts,
) -> io::Result<()> {
    open(w, start("mets:amdSec", &[("ID", &amd_id(i))]))?;
    open(w, start("mets:techMD", &[("ID", &premis_id(i))]))?;
    open_wrap(w, "PREMIS:OBJECT", "3.0")?;
    write_object(w, &item.premis)?;
    close_wrap(w)?;
    close(w, "mets:techMD")?;
    if let Some(image) = &item.mix {
        open(w, start("mets:techMD", &[("ID", &mix_id(i))]))?;
        open_wrap(w, "NISOIMG", "2.0")?;
        write_mix(w, image)?;
        close_wrap(w)?;
        close(w, "mets:techMD")?;
    }
    if let Some(rights) = rights_facts(i, item) {
        open(w, start("mets:rightsMD", &[("ID", &rights_id(i))]))?;
        open_wrap(w, "PREMIS:RIGHTS", "3.0")?;
        write_rights(w, &rights)?;
        close_wrap(w)?;
        close(w, "mets:rightsMD")?;
    }
    for (k, event) in event_facts(i, item, date_time, agent).iter().enumerate() {
        open(w, start("mets:digiprovMD", &[("ID", &event_id(i, k))]))?;
        open_wrap(w, "PREMIS:EVENT", "3.0")?;
        write_event(w, event)?;
        close_wrap(w)?;
        close(w, "mets:digiprovMD")?;
    }
    close(w, "mets:amdSec")
}

/// The IDs `file/@ADMID` lists for item `i`: its techMD, rightsMD and digiprovMD sections.
fn admid(i: usize, item: &MetsItem) -> String {
    let mut ids = vec![premis_id(i)];
    if item.mix.is_some() {
        ids.push(mix_id(i));
    }
    if !item.record.all("rights").is_empty() {
        ids.push(rights_id(i));
    }
    ids.extend((0..EVENT_TYPES.len()).map(|k| event_id(i, k)));
    ids.join(" ")
}

fn file_sec<W: Write>(w: &mut Writer<W>, input: &MetsInput) -> io::Result<()> {
    open(w, BytesStart::new("mets:fileSec"))?;
    open(
        w,
        start(
            "mets:fileGrp",
            &[("ID", "filegrp-original"), ("USE", "original")],
        ),
    )?;
    for (i, item) in input.items.iter().enumerate() {
        let id = file_id(i);
        let size = item.size.to_string();
        let adm = admid(i, item);
        let dmd = dmd_id(i);
        let mut attrs: Vec<(&str, &str)> =
            vec![("ID", &id), ("MIMETYPE", &item.mime), ("SIZE", &size)];
        if let Some(created) = &item.created {
            attrs.push(("CREATED", created));
        }
        if let Some((algorithm, digest)) = item.digests.first() {
            attrs.push(("CHECKSUM", digest));
            attrs.push(("CHECKSUMTYPE", algorithm));
        }
        attrs.push(("ADMID", &adm));
        attrs.push(("DMDID", &dmd));
        open(w, start("mets:file", &attrs))?;
        let href = uri_path(&item.file);
        w.write_event(Event::Empty(start(
            "mets:FLocat",
            &[
                ("LOCTYPE", "URL"),
                ("xlink:type", "simple"),
                ("xlink:href", &href),
            ],
        )))?;
        close(w, "mets:file")?;
    }
    close(w, "mets:fileGrp")?;
    close(w, "mets:fileSec")
}

fn fptr<W: Write>(w: &mut Writer<W>, i: usize) -> io::Result<()> {
    w.write_event(Event::Empty(start("mets:fptr", &[("FILEID", &file_id(i))])))
}

/// A folder of the physical tree: sub-folders and files in first-seen order.
#[derive(Default)]
struct Folder<'a> {
    name: &'a str,
    folders: Vec<Folder<'a>>,
    /// `(file name, item index)`.
    files: Vec<(&'a str, usize)>,
}

impl<'a> Folder<'a> {
    fn insert(&mut self, path: &'a str, index: usize) {
        match path.split_once('/') {
            Some((dir, rest)) => {
                let pos = match self.folders.iter().position(|f| f.name == dir) {
                    Some(pos) => pos,
                    None => {
                        self.folders.push(Folder {
                            name: dir,
                            ..Default::default()
                        });
                        self.folders.len() - 1
                    }
                };
                self.folders[pos].insert(rest, index);
            }
            None => self.files.push((path, index)),
        }
    }

    fn write<W: Write>(&self, w: &mut Writer<W>) -> io::Result<()> {
        for (order, folder) in self.folders.iter().enumerate() {
            let order = (order + 1).to_string();
            open(
                w,
                start(
                    "mets:div",
                    &[
                        ("TYPE", "directory"),
                        ("LABEL", folder.name),
                        ("ORDER", &order),
                    ],
                ),
            )?;
            folder.write(w)?;
            close(w, "mets:div")?;
        }
        for (order, (name, i)) in self.files.iter().enumerate() {
            let order = (self.folders.len() + order + 1).to_string();
            open(
                w,
                start(
                    "mets:div",
                    &[("TYPE", "file"), ("LABEL", name), ("ORDER", &order)],
                ),
            )?;
            fptr(w, *i)?;
            close(w, "mets:div")?;
        }
        Ok(())
    }
}

fn physical_map<W: Write>(w: &mut Writer<W>, input: &MetsInput) -> io::Result<()> {
    let mut root = Folder::default();
    for (i, item) in input.items.iter().enumerate() {
        root.insert(&item.file, i);
    }
    open(
        w,
        start(
            "mets:structMap",
            &[("ID", "structmap-physical"), ("TYPE", "physical")],
        ),
    )?;
    open(
        w,
        start(
            "mets:div",
            &[
                ("TYPE", "collection"),
                ("LABEL", &input.label),
                ("DMDID", COLLECTION_DMD_ID),
                ("ADMID", AGENT_DIGIPROV_ID),
            ],
        ),
    )?;
    root.write(w)?;
    close(w, "mets:div")?;
    close(w, "mets:structMap")
}

fn logical_map<W: Write>(w: &mut Writer<W>, input: &MetsInput) -> io::Result<()> {
    // Sections in first-seen order; items without one come after them, directly under the
    // collection. Within each, items are stably ordered by their record's date string.
    let mut sections: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut loose = Vec::new();
    for (i, item) in input.items.iter().enumerate() {
        match item.section.as_deref() {
            Some(s) => match sections.iter_mut().find(|(name, _)| *name == s) {
                Some((_, items)) => items.push(i),
                None => sections.push((s, vec![i])),
            },
            None => loose.push(i),
        }
    }
    let date = |i: &usize| input.items[*i].record.first("date").unwrap_or("");
    open(
        w,
        start(
            "mets:structMap",
            &[("ID", "structmap-logical"), ("TYPE", "logical")],
        ),
    )?;
    open(
        w,
        start(
            "mets:div",
            &[
                ("TYPE", "collection"),
                ("LABEL", &input.label),
                ("DMDID", COLLECTION_DMD_ID),
            ],
        ),
    )?;
    for (order, (name, items)) in sections.iter_mut().enumerate() {
        items.sort_by_key(date);
        let order = (order + 1).to_string();
        open(
            w,
            start(
                "mets:div",
                &[("TYPE", "section"), ("LABEL", name), ("ORDER", &order)],
            ),
        )?;
        photographs(w, input, items)?;
        close(w, "mets:div")?;
    }
    loose.sort_by_key(date);
    photographs(w, input, &loose)?;
    close(w, "mets:div")?;
    close(w, "mets:structMap")
}

fn photographs<W: Write>(w: &mut Writer<W>, input: &MetsInput, items: &[usize]) -> io::Result<()> {
    for (order, &i) in items.iter().enumerate() {
        let order = (order + 1).to_string();
        let dmd = dmd_id(i);
        let item = &input.items[i];
        let label = item
            .record
            .first("title")
            .or_else(|| item.record.first("identifier"))
            .unwrap_or(&item.file);
        open(
            w,
            start(
                "mets:div",
                &[
                    ("TYPE", "photograph"),
                    ("LABEL", label),
                    ("ORDER", &order),
                    ("DMDID", &dmd),
                ],
            ),
        )?;
        fptr(w, i)?;
        close(w, "mets:div")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::describe::test_support::{assert_valid, texts_of};
    use crate::digest::{Algorithm, digest_bytes};
    use quick_xml::{Reader, XmlVersion};
    use std::collections::BTreeMap;
    use std::path::Path;

    fn record(pairs: &[(&str, &[&str])]) -> Record {
        Record {
            line: 2,
            values: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
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
                        .map(|a| {
                            let a = a.expect("well-formed attribute");
                            (
                                a.key.into_inner().to_string(),
                                a.normalized_value(XmlVersion::Implicit1_0)
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
                        kind.is_some_and(|k| kinds.contains(&k)),
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
        let files: Vec<_> = all
            .iter()
            .filter(|(name, _)| name == "mets:file")
            .map(|(_, a)| a)
            .collect();
        let flocats: Vec<_> = all
            .iter()
            .filter(|(name, _)| name == "mets:FLocat")
            .map(|(_, a)| a)
            .collect();
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
                .filter(|(n, a)| n == "mets:techMD" && a["ID"].starts_with("techmd-mix-"))
                .count(),
            input.items.iter().filter(|i| i.mix.is_some()).count()
        );

        // Every wrapped record is in a namespace the wrapper schema validates.
        let count = |name: &str| all.iter().filter(|(n, _)| n == name).count();
        let with_rights = input
            .items
            .iter()
            .filter(|i| !i.record.all("rights").is_empty())
            .count();
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

        // Each file's ADMID: its techMDs, its rightsMD when it has rights, its four events.
        for (i, (file, item)) in files.iter().zip(&input.items).enumerate() {
            let adm: Vec<&str> = file["ADMID"].split(' ').collect();
            assert_eq!(adm[0], premis_id(i));
            assert_eq!(adm.contains(&mix_id(i).as_str()), item.mix.is_some());
            assert_eq!(
                adm.contains(&rights_id(i).as_str()),
                !item.record.all("rights").is_empty()
            );
            assert!(adm.ends_with(&[
                event_id(i, 0).as_str(),
                event_id(i, 1).as_str(),
                event_id(i, 2).as_str(),
                event_id(i, 3).as_str(),
            ]));
        }

        // The rights text and the events as the guide describes them.
        let notes = texts_of(&xml, "premis:otherRightsNote");
        let expected: Vec<String> = input
            .items
            .iter()
            .flat_map(|i| i.record.all("rights").to_vec())
            .collect();
        assert_eq!(notes, expected);
        let types = texts_of(&xml, "premis:eventType");
        for (k, (label, code)) in EVENT_TYPES.iter().enumerate() {
            assert_eq!(types[k], *label);
            assert!(xml.contains(&format!(
                "valueURI=\"http://id.loc.gov/vocabulary/preservation/eventType/{code}\">{label}<"
            )));
        }
        assert!(
            texts_of(&xml, "premis:eventDateTime")
                .iter()
                .all(|d| d == &input.create_date)
        );
        let details = texts_of(&xml, "premis:eventDetail");
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
            texts_of(&xml, "premis:eventOutcome")
                .iter()
                .all(|o| o == "success"),
            "every fixture photo's format is identified"
        );
        let objects = texts_of(&xml, "premis:objectIdentifierValue");
        let linked = texts_of(&xml, "premis:linkingObjectIdentifierValue");
        assert_eq!(
            linked.len(),
            (EVENT_TYPES.len()) * objects.len() + with_rights
        );
        assert!(linked.iter().all(|l| objects.contains(l)));

        // Logical map: sections in first-seen order, dates non-decreasing inside each.
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
            .filter(|(n, a)| {
                n == "mets:div" && a.get("TYPE").map(String::as_str) == Some("section")
            })
            .map(|(_, a)| a["LABEL"].clone())
            .collect();
        assert_eq!(labels, seen);
        assert!(seen.len() >= 2, "the fixture has several sections");
        let logical = all
            .iter()
            .position(|(n, a)| n == "mets:structMap" && a["TYPE"] == "logical")
            .unwrap();
        let mut dates: Vec<Vec<&str>> = Vec::new();
        for (name, attrs) in &all[logical..] {
            match (name.as_str(), attrs.get("TYPE").map(String::as_str)) {
                ("mets:div", Some("section")) => dates.push(Vec::new()),
                ("mets:div", Some("photograph")) => {
                    let i: usize = attrs["DMDID"]["dmd-item-".len()..].parse().unwrap();
                    let date = input.items[i - 1].record.first("date").unwrap_or("");
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
}
