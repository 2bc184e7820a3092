//! The shape of a METS document's input and the identifiers its sections share: the
//! items, the IDs derived from their positions, each file's `ADMID` list, and the
//! percent-encoding of file locations. Plain data, known to every section writer.

use crate::describe::mix::ImageFacts;
use crate::describe::premis::ObjectFacts;
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
/// the term's URI is the code under [`EVENT_TYPE_AUTHORITY_URI`](crate::describe::premis::EVENT_TYPE_AUTHORITY_URI).
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
pub(super) fn item_number(index: usize) -> String {
    format!("{:04}", index + 1)
}

/// The ID of item `index`'s `dmdSec`.
pub fn dmd_id(index: usize) -> String {
    format!("dmd-item-{}", item_number(index))
}

/// The ID of item `index`'s `amdSec`.
pub fn amd_id(index: usize) -> String {
    format!("amd-{}", item_number(index))
}

/// The ID of item `index`'s PREMIS `techMD`.
pub fn premis_id(index: usize) -> String {
    format!("techmd-premis-{}", item_number(index))
}

/// The ID of item `index`'s MIX `techMD`.
pub fn mix_id(index: usize) -> String {
    format!("techmd-mix-{}", item_number(index))
}

/// The ID of item `index`'s `rightsMD`.
pub fn rights_id(index: usize) -> String {
    format!("rights-{}", item_number(index))
}

/// The ID of item `index`'s `digiprovMD` holding its event `event` (0-based, in
/// [`EVENT_TYPES`] order).
pub fn event_id(index: usize, event: usize) -> String {
    format!("digiprov-event-{}-{:02}", item_number(index), event + 1)
}

/// The ID of item `index`'s `file`.
pub fn file_id(index: usize) -> String {
    format!("file-{}", item_number(index))
}

/// `path` (a `/`-separated relative path, not yet a URI) as an RFC 3986 relative reference:
/// every byte of its UTF-8 form is percent-encoded except the unreserved characters,
/// `/` and the sub-delimiters and `@` that a path segment may hold. `:` is encoded too (in a
/// first segment it would read as a scheme), as are `%`, space, `?`, `#` and non-ASCII.
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &byte in path.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The IDs `file/@ADMID` lists for item `index`: its techMD, rightsMD and digiprovMD
/// sections.
pub(super) fn admid(index: usize, item: &MetsItem) -> String {
    let mut ids = vec![premis_id(index)];
    if item.mix.is_some() {
        ids.push(mix_id(index));
    }
    if !item.record.all("rights").is_empty() {
        ids.push(rights_id(index));
    }
    ids.extend((0..EVENT_TYPES.len()).map(|event| event_id(index, event)));
    ids.join(" ")
}
