//! A bag's fixity history as PREMIS 3: one `premis:premis` document holding the bag (an
//! `intellectualEntity` object: a bag is a unit of content, not one file, and the `file`
//! category would demand a size and a format it does not have), one `fixity check` event per
//! audit, and qoima as the software agent.
//!
//! The history is mapped onto [`crate::describe::premis`]'s plain data and written by its
//! writer, so escaping is done in one place and no control character reaches the XML. Identifiers are derived from the history alone
//! (`audit-<run>-<n>`), so exporting the same history twice gives the same bytes, and an
//! export made later only adds events.

use crate::audit::model::{BagAudit, HistoryRow, Outcome};
use crate::describe::premis::{
    AgentFacts, EVENT_TYPE_AUTHORITY_URI, EntityFacts, EventFacts, LinkedAgent, premis_document,
};

use super::text::counts;
use super::timestamp;

/// The LoC event type of every audit.
const FIXITY_CHECK: &str = "fixity check";
/// Its code in the LoC vocabulary.
const FIXITY_CHECK_CODE: &str = "fix";

/// The `eventIdentifierValue` of the `position`th audit (1-based) of a history, made in run
/// `run`.
fn event_identifier(run: i64, position: usize) -> String {
    format!("audit-{run}-{position}")
}

/// The history of `bag` (`rows` oldest first) as one standalone `premis:premis` document that
/// `premis.xsd` validates: XML declaration, UTF-8, 2-space indentation, a final newline.
///
/// - the object: `xsi:type="premis:intellectualEntity"`, identifier type `local`, value the
///   bag's path (also its `originalName`);
/// - one event per audit: identifier `audit-<run>-<n>` (type `local`, `n` counting the
///   history from 1), type `fixity check` (LoC `eventType/fix`), date-time the audit's start,
///   a detail naming what was read (`files=…; bytes=…; verdict=…`), outcome `pass` (passed)
///   or `fail` (failed or unreadable) with outcome details: the class counts (and
///   `manifest re-written`, `baseline recorded`), the error, then one per finding
///   (`class code path: detail`); linked to the agent (role `executing program`) and the
///   object;
/// - the agent: `qoima-<version>` (type `local`), name `qoima`, type `software`, version.
pub fn export_premis(bag: &str, rows: &[HistoryRow], qoima_version: &str) -> String {
    let agent = AgentFacts::qoima_at(qoima_version);
    let bag_object = EntityFacts {
        identifier: bag.to_string(),
        original_name: bag.to_string(),
    };
    let events: Vec<EventFacts> = rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            fixity_event(
                event_identifier(row.run, index + 1),
                &row.audit,
                bag,
                &agent,
            )
        })
        .collect();
    premis_document(&[bag_object.into()], &events, &[agent])
}

/// One audit as a `fixity check` event on the bag, run by `agent`.
fn fixity_event(identifier: String, audit: &BagAudit, bag: &str, agent: &AgentFacts) -> EventFacts {
    let outcome = if audit.outcome == Outcome::Passed {
        "pass"
    } else {
        "fail"
    };
    EventFacts {
        identifier,
        event_type: FIXITY_CHECK.into(),
        event_type_uri: format!("{EVENT_TYPE_AUTHORITY_URI}/{FIXITY_CHECK_CODE}"),
        date_time: timestamp(&audit.started),
        details: vec![detail(audit)],
        outcome: outcome.into(),
        outcome_details: outcome_notes(audit),
        agents: vec![LinkedAgent::executing_program(agent)],
        object: Some(("local".into(), bag.to_string())),
    }
}

/// The `eventDetail`: what the audit read.
fn detail(audit: &BagAudit) -> String {
    format!(
        "program=\"qoima\"; files={}; bytes={}; verdict=\"{}\"; ended=\"{}\"",
        audit.files,
        audit.bytes,
        audit.verdict,
        timestamp(&audit.ended)
    )
}

/// The `eventOutcomeDetailNote`s: counts, error, findings.
fn outcome_notes(audit: &BagAudit) -> Vec<String> {
    let mut first = format!("{}: {}", audit.outcome.as_str(), counts(&audit.counts));
    if audit.manifest_rewritten {
        first.push_str("; manifest re-written");
    }
    if audit.baseline_recorded {
        first.push_str("; baseline recorded");
    }
    let mut notes = vec![first];
    if let Some(error) = &audit.error {
        notes.push(format!("error: {error}"));
    }
    for finding in &audit.findings {
        let mut note = String::new();
        if let Some(class) = finding.class {
            note.push_str(class.as_str());
            note.push(' ');
        }
        if let Some(code) = &finding.code {
            note.push_str(code);
            note.push(' ');
        }
        note.push_str(&finding.path);
        if !finding.detail.is_empty() {
            note.push_str(": ");
            note.push_str(&finding.detail);
        }
        notes.push(note);
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;
    use crate::describe::test_support::{assert_valid, texts_of};

    fn validate(xmls: &[&str]) {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<_> = xmls
            .iter()
            .enumerate()
            .map(|(i, xml)| {
                let path = dir.path().join(format!("premis-{i}.xml"));
                std::fs::write(&path, xml).unwrap();
                path
            })
            .collect();
        assert_valid("premis.xsd", &files);
    }

    #[test]
    fn history_validates_against_the_official_schema() {
        let rows = fixtures::rows();
        let xml = export_premis(fixtures::BAG, &rows, "0.1.0");
        let empty = export_premis("/bags/never-audited", &[], "0.1.0");
        validate(&[&xml, &empty]);
        assert_eq!(xml, export_premis(fixtures::BAG, &rows, "0.1.0"), "stable");
    }

    /// The validation is real: an event whose type comes after its date is rejected.
    #[test]
    #[should_panic(expected = "xmllint rejected")]
    fn a_broken_history_is_rejected() {
        let xml = export_premis("b", &fixtures::rows(), "0.1.0");
        let broken = xml.replacen("<premis:eventDateTime>", "<premis:eventDateTimeX>", 1);
        validate(&[&broken]);
    }

    #[test]
    fn one_fixity_check_per_audit() {
        let rows = fixtures::rows();
        let xml = export_premis(fixtures::BAG, &rows, "0.1.0");
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<premis:premis "));
        assert!(xml.ends_with("</premis:premis>\n"));
        assert!(xml.contains("<premis:object xsi:type=\"premis:intellectualEntity\">"));
        assert_eq!(texts_of(&xml, "premis:event").len(), rows.len());
        assert_eq!(texts_of(&xml, "premis:eventType"), vec![FIXITY_CHECK; 3]);
        assert_eq!(
            xml.matches(
                "authority=\"eventType\" \
                 authorityURI=\"http://id.loc.gov/vocabulary/preservation/eventType\" \
                 valueURI=\"http://id.loc.gov/vocabulary/preservation/eventType/fix\">"
            )
            .count(),
            3
        );
        assert_eq!(
            texts_of(&xml, "premis:eventIdentifierValue"),
            ["audit-1-1", "audit-2-2", "audit-3-3"]
        );
        assert_eq!(
            texts_of(&xml, "premis:eventDateTime"),
            [
                "2025-01-01T03:00:00Z",
                "2025-01-08T03:00:00Z",
                "2025-01-15T03:00:00Z"
            ]
        );
        assert_eq!(
            texts_of(&xml, "premis:eventOutcome"),
            ["pass", "fail", "fail"]
        );
        let details = texts_of(&xml, "premis:eventDetail");
        assert!(details[0].contains("files=12; bytes=1234567890; verdict=\"valid\""));
        let notes = texts_of(&xml, "premis:eventOutcomeDetailNote");
        assert!(
            notes.contains(
                &"failed: confirmed 10, changed 1, missing 0, new 0, moved 1; manifest re-written"
                    .to_string()
            )
        );
        assert!(notes.contains(&"moved data/moved/здесь.tif: data/там.tif".to_string()));
        assert!(notes.contains(&"BAG-040 tagmanifest-sha512.txt: a tag file changed".to_string()));
        assert!(
            notes.contains(&"error: permission denied: <root> & \u{fffd}".to_string()),
            "{notes:?}"
        );
        assert_eq!(
            texts_of(&xml, "premis:linkingAgentIdentifierValue"),
            vec!["qoima-0.1.0"; 3]
        );
        assert_eq!(
            texts_of(&xml, "premis:agentIdentifierValue"),
            ["qoima-0.1.0"]
        );
        assert_eq!(texts_of(&xml, "premis:agentType"), ["software"]);
    }

    #[test]
    fn hostile_names_round_trip_without_control_characters() {
        let xml = export_premis(fixtures::BAG, &fixtures::rows(), "0.1.0");
        assert!(!xml.contains('\u{7}') && !xml.contains('\u{1b}') && !xml.contains('\u{0}'));
        assert!(!xml.contains("<script>"), "markup is escaped");
        let bag = fixtures::BAG.replace('\u{7}', "\u{fffd}");
        assert_eq!(
            texts_of(&xml, "premis:objectIdentifierValue"),
            [bag.as_str()]
        );
        assert_eq!(texts_of(&xml, "premis:originalName"), [bag.as_str()]);
        assert_eq!(
            texts_of(&xml, "premis:linkingObjectIdentifierValue"),
            vec![bag.as_str(); 3]
        );
        let file = fixtures::FILE.replace('\u{1b}', "\u{fffd}");
        let notes = texts_of(&xml, "premis:eventOutcomeDetailNote");
        assert!(
            notes.contains(&format!(
                "changed BAG-036 {file}: sha512 was <aa…> & is \"bb…\""
            )),
            "{notes:?}"
        );
    }
}
