//! The metadata sections of a METS document: the header with its agents, a `dmdSec` of
//! Dublin Core per record, the package's `amdSec` (qoima's PREMIS agent) and one `amdSec`
//! per file (its PREMIS object, its MIX record, its rights, its PREMIS events), each record
//! wrapped in `mdWrap`/`xmlData`.

use std::io::{self, Write};

use quick_xml::Writer;

use super::model::{
    AGENT_DIGIPROV_ID, EVENT_TYPES, MetsInput, MetsItem, PACKAGE_AMD_ID, VALIDATION_DETAIL, amd_id,
    event_id, item_number, mix_id, premis_id, rights_id,
};
use crate::describe::dc::{DC_NS, OAI_DC_NS, write_dc_elements};
use crate::describe::mix::write_mix;
use crate::describe::premis::{
    AgentFacts, EVENT_TYPE_AUTHORITY_URI, EventFacts, LinkedAgent, ObjectFacts, RightsFacts,
    write_agent, write_event, write_object, write_rights,
};
use crate::describe::xml::{close, open, open_with, text};
use crate::metadata::Record;

/// `metsHdr`: the creation date and the creating agents (the organisation when known, then
/// the software).
pub(super) fn header<W: Write>(writer: &mut Writer<W>, input: &MetsInput) -> io::Result<()> {
    open_with(
        writer,
        "mets:metsHdr",
        &[("CREATEDATE", &input.create_date)],
    )?;
    if let Some(organisation) = &input.agent_org {
        open_with(
            writer,
            "mets:agent",
            &[("ROLE", "CREATOR"), ("TYPE", "ORGANIZATION")],
        )?;
        text(writer, "mets:name", organisation)?;
        close(writer, "mets:agent")?;
    }
    open_with(
        writer,
        "mets:agent",
        &[
            ("ROLE", "CREATOR"),
            ("TYPE", "OTHER"),
            ("OTHERTYPE", "SOFTWARE"),
        ],
    )?;
    text(writer, "mets:name", &input.agent_software)?;
    close(writer, "mets:agent")?;
    close(writer, "mets:metsHdr")
}

/// Writes `<section ID=id><mets:mdWrap …><mets:xmlData>`, then the record `body` writes,
/// then the closing tags: the shape of every metadata section.
fn wrapped<W: Write>(
    writer: &mut Writer<W>,
    (section, id): (&str, &str),
    (mdtype, version): (&str, &str),
    body: impl FnOnce(&mut Writer<W>) -> io::Result<()>,
) -> io::Result<()> {
    open_with(writer, section, &[("ID", id)])?;
    open_with(
        writer,
        "mets:mdWrap",
        &[
            ("MIMETYPE", "text/xml"),
            ("MDTYPE", mdtype),
            ("MDTYPEVERSION", version),
        ],
    )?;
    open(writer, "mets:xmlData")?;
    body(writer)?;
    close(writer, "mets:xmlData")?;
    close(writer, "mets:mdWrap")?;
    close(writer, section)
}

/// A `dmdSec` holding `record` as `oai_dc:dc`.
pub(super) fn dmd_sec<W: Write>(
    writer: &mut Writer<W>,
    id: &str,
    record: &Record,
) -> io::Result<()> {
    wrapped(writer, ("mets:dmdSec", id), ("DC", "1.1"), |writer| {
        open_with(
            writer,
            "oai_dc:dc",
            &[("xmlns:oai_dc", OAI_DC_NS), ("xmlns:dc", DC_NS)],
        )?;
        write_dc_elements(writer, record)?;
        close(writer, "oai_dc:dc")
    })
}

/// The package's `amdSec`: one `digiprovMD` with qoima's PREMIS agent, which every event
/// links to.
pub(super) fn package_amd_sec<W: Write>(
    writer: &mut Writer<W>,
    agent: &AgentFacts,
) -> io::Result<()> {
    open_with(writer, "mets:amdSec", &[("ID", PACKAGE_AMD_ID)])?;
    wrapped(
        writer,
        ("mets:digiprovMD", AGENT_DIGIPROV_ID),
        ("PREMIS:AGENT", "3.0"),
        |writer| write_agent(writer, agent),
    )?;
    close(writer, "mets:amdSec")
}

/// The item's PREMIS rights statement, when its record has `rights` values.
fn rights_facts(index: usize, item: &MetsItem) -> Option<RightsFacts> {
    let notes = item.record.all("rights");
    (!notes.is_empty()).then(|| RightsFacts {
        identifier: rights_id(index),
        basis: "rights statement from the descriptive metadata (dc:rights)".into(),
        notes: notes.to_vec(),
        object: Some(("local".into(), item.premis.identifier.clone())),
    })
}

/// The identification event's detail after the program (`puid="…"; format="…";
/// formatVersion="…"`), or `None` when the format was not identified.
fn format_detail(object: &ObjectFacts) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(puid) = &object.puid {
        parts.push(format!("puid=\"{puid}\""));
    }
    if let Some(name) = &object.format_name {
        parts.push(format!("format=\"{name}\""));
        if let Some(version) = &object.format_version {
            parts.push(format!("formatVersion=\"{version}\""));
        }
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The item's PREMIS events, in [`EVENT_TYPES`] order, all dated `date_time`.
fn event_facts(
    index: usize,
    item: &MetsItem,
    date_time: &str,
    agent: &AgentFacts,
) -> Vec<EventFacts> {
    let program = format!(
        "program=\"qoima\"; version=\"{}\"",
        agent.version.as_deref().unwrap_or("")
    );
    let format = format_detail(&item.premis);
    let identified = format.is_some();
    let algorithms: Vec<&str> = item
        .digests
        .iter()
        .map(|(algorithm, _)| algorithm.as_str())
        .collect();
    let details = [
        program.clone(),
        match format {
            Some(format) => format!("{program}; {format}"),
            None => format!("{program}; result=\"format not identified\""),
        },
        format!("{program}; {VALIDATION_DETAIL}"),
        format!("{program}; algorithms=\"{}\"", algorithms.join(", ")),
    ];
    EVENT_TYPES
        .iter()
        .zip(details)
        .enumerate()
        .map(|(event, ((label, code), detail))| EventFacts {
            identifier: format!("event-{}-{code}", item_number(index)),
            event_type: (*label).into(),
            event_type_uri: format!("{EVENT_TYPE_AUTHORITY_URI}/{code}"),
            date_time: date_time.into(),
            details: vec![detail],
            // The identification (event 1) fails when no format was found.
            outcome: if event == 1 && !identified {
                "failure"
            } else {
                "success"
            }
            .into(),
            outcome_details: Vec::new(),
            agents: vec![LinkedAgent::executing_program(agent)],
            object: Some(("local".into(), item.premis.identifier.clone())),
        })
        .collect()
}

/// Item `index`'s `amdSec`: its PREMIS object, its MIX record, its rights and its events.
pub(super) fn amd_sec<W: Write>(
    writer: &mut Writer<W>,
    index: usize,
    item: &MetsItem,
    date_time: &str,
    agent: &AgentFacts,
) -> io::Result<()> {
    open_with(writer, "mets:amdSec", &[("ID", &amd_id(index))])?;
    wrapped(
        writer,
        ("mets:techMD", &premis_id(index)),
        ("PREMIS:OBJECT", "3.0"),
        |writer| write_object(writer, &item.premis),
    )?;
    if let Some(image) = &item.mix {
        wrapped(
            writer,
            ("mets:techMD", &mix_id(index)),
            ("NISOIMG", "2.0"),
            |writer| write_mix(writer, image),
        )?;
    }
    if let Some(rights) = rights_facts(index, item) {
        wrapped(
            writer,
            ("mets:rightsMD", &rights_id(index)),
            ("PREMIS:RIGHTS", "3.0"),
            |writer| write_rights(writer, &rights),
        )?;
    }
    let events = event_facts(index, item, date_time, agent);
    for (event, facts) in events.iter().enumerate() {
        wrapped(
            writer,
            ("mets:digiprovMD", &event_id(index, event)),
            ("PREMIS:EVENT", "3.0"),
            |writer| write_event(writer, facts),
        )?;
    }
    close(writer, "mets:amdSec")
}
