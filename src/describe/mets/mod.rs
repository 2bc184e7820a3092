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
//!
//! The writing is split by concern: `model` (the input, the IDs), `sections` (header,
//! descriptive and administrative metadata) and `structure` (files and structure maps).

use std::io::{self, Write};

use quick_xml::Writer;

use crate::describe::premis::AgentFacts;
use crate::describe::xml::{XSI_NS, close, document, open_with};

mod model;
mod sections;
mod structure;

pub use model::{
    AGENT_DIGIPROV_ID, COLLECTION_DMD_ID, EVENT_TYPES, METS_NS, METS_SCHEMA_LOCATION, MetsInput,
    MetsItem, PACKAGE_AMD_ID, VALIDATION_DETAIL, XLINK_NS, amd_id, dmd_id, event_id, file_id,
    mix_id, premis_id, rights_id, uri_path,
};

/// The METS document: XML declaration, UTF-8, 2-space indentation, LF line endings and a
/// final newline; the same input always gives the same bytes.
pub fn mets_document(input: &MetsInput) -> String {
    document(|writer| write_document(writer, input))
}

/// The root and its sections, in the order `mets.xsd` requires.
fn write_document<W: Write>(writer: &mut Writer<W>, input: &MetsInput) -> io::Result<()> {
    open_with(
        writer,
        "mets:mets",
        &[
            ("xmlns:mets", METS_NS),
            ("xmlns:xlink", XLINK_NS),
            ("xmlns:xsi", XSI_NS),
            ("xsi:schemaLocation", METS_SCHEMA_LOCATION),
            ("OBJID", &input.objid),
            ("LABEL", &input.label),
        ],
    )?;
    sections::header(writer, input)?;
    sections::dmd_sec(writer, COLLECTION_DMD_ID, &input.collection)?;
    for (index, item) in input.items.iter().enumerate() {
        sections::dmd_sec(writer, &dmd_id(index), &item.record)?;
    }
    let agent = AgentFacts::qoima();
    sections::package_amd_sec(writer, &agent)?;
    for (index, item) in input.items.iter().enumerate() {
        sections::amd_sec(writer, index, item, &input.create_date, &agent)?;
    }
    structure::file_sec(writer, input)?;
    structure::physical_map(writer, input)?;
    structure::logical_map(writer, input)?;
    close(writer, "mets:mets")
}

#[cfg(test)]
mod tests;
