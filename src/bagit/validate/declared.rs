//! What the bag says of itself: bagit.txt (the version and encoding every later step reads
//! by), bag-info.txt, and Payload-Oxum against the payload found.

use super::context::Context;
use super::options::{Mode, Stopped};
use super::report::BagReport;
use crate::bagit::baginfo::{self, BagInfo};
use crate::bagit::declaration::{self, Declaration};
use crate::bagit::inplace;
use crate::error::{Code, Problem};
use crate::verdict::Verdict;

/// Reports (`BAG-073`) the journal left by an in-place bagging that was interrupted.
pub(super) fn note_interrupted_in_place(context: &mut Context<'_>) {
    if context.entry(inplace::JOURNAL).is_some() {
        context.push(
            Problem::new(
                Code::InterruptedInPlace,
                "an in-place bagging of this folder was interrupted",
            )
            .file(inplace::JOURNAL),
        );
    }
}

/// The declaration in bagit.txt; without one the bag is incomplete (no bagit.txt) or invalid
/// (one that cannot be made out), and validation stops.
pub(super) fn declaration(
    context: &mut Context<'_>,
    report: &mut BagReport,
) -> Result<Declaration, Stopped> {
    if !context.is_file("bagit.txt") {
        context.push(
            Problem::new(
                Code::BagitTxtMissing,
                format!("{} has no bagit.txt", context.store.location()),
            )
            .file("bagit.txt"),
        );
        return Err(Verdict::Incomplete);
    }
    let Some(Some(declared)) = context.read_tag("bagit.txt", |reader, problems| {
        declaration::parse(reader, problems)
    }) else {
        return Err(Verdict::Invalid);
    };
    report.version = Some(declared.version.to_string());
    if !declared.version.is_rfc() {
        context.push(
            Problem::new(
                Code::OldVersion,
                format!("the bag declares BagIt {}", declared.version),
            )
            .file("bagit.txt")
            .line(1),
        );
    }
    Ok(declared)
}

/// The bag-info file `info_file` (empty when the bag has none).
pub(super) fn bag_info(
    context: &mut Context<'_>,
    info_file: &str,
    declared: Declaration,
) -> BagInfo {
    if !context.is_file(info_file) {
        return BagInfo::new();
    }
    context
        .read_tag(info_file, |reader, problems| {
            baginfo::parse(
                reader,
                info_file,
                declared.encoding,
                declared.version,
                problems,
            )
        })
        .unwrap_or_default()
}

/// Payload-Oxum against the payload counted in `report`. In fast mode a bag without one
/// cannot be judged, and validation stops.
pub(super) fn check_oxum(
    context: &mut Context<'_>,
    info: &BagInfo,
    info_file: &str,
    report: &BagReport,
    mode: Mode,
) -> Result<(), Stopped> {
    let oxum_lines: Vec<_> = info
        .elements()
        .iter()
        .filter(|element| element.label.eq_ignore_ascii_case("Payload-Oxum"))
        .collect();
    match info.oxum() {
        Some(oxum)
            if oxum.octets != report.payload_bytes || oxum.streams != report.payload_files =>
        {
            let mut problem = Problem::new(
                Code::OxumMismatch,
                format!(
                    "Payload-Oxum says {} bytes in {} files; the payload holds {} bytes in {} files",
                    oxum.octets, oxum.streams, report.payload_bytes, report.payload_files
                ),
            )
            .file(info_file)
            .field("Payload-Oxum");
            if let Some(element) = oxum_lines.first() {
                problem = problem.line(element.line);
            }
            context.push(problem);
        }
        None if mode == Mode::Fast && oxum_lines.is_empty() => {
            context.push(
                Problem::new(
                    Code::NoOxum,
                    format!("{info_file} has no Payload-Oxum, so --fast cannot judge the bag"),
                )
                .file(info_file),
            );
            return Err(Verdict::Unreadable);
        }
        _ => {}
    }
    Ok(())
}
