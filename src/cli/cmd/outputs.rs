//! What every writing command does with the outputs the user named, before it writes: refuse
//! an output that is, holds or lies inside its input (`BAG-083`), and clear what dead runs
//! left beside each output. And how a refused or failed write is reported.

use std::path::Path;

use qoima::bagit::BagError;
use qoima::bagit::create::refuse_overlap;
use qoima::fsutil::{self, Cleaned};
use qoima::package::stage::Destination;

use super::super::Exit;
use super::super::args::Global;
use super::super::outcome;
use super::super::output;

/// Refuses when any of `outputs` (each with the words naming it in a message) overlaps
/// `input`; otherwise clears the leftovers of dead runs beside each output and says so on
/// stderr. Nothing is created or deleted before every overlap has been ruled out.
pub(super) fn prepare(
    input: &Path,
    outputs: &[(&Path, &str)],
    global: &Global,
) -> Result<(), BagError> {
    for (out, what) in outputs {
        refuse_overlap(input, out, what)?;
    }
    for (out, _) in outputs {
        clean_stale(out, global);
    }
    Ok(())
}

/// [`prepare`] for a new bag's `destination`: the folder (named `folder` in a message), or
/// the archive and its checksum file.
pub(super) fn prepare_destination(
    input: &Path,
    destination: &Destination,
    folder: &str,
    global: &Global,
) -> Result<(), BagError> {
    match destination {
        Destination::Folder(out) => prepare(input, &[(out, folder)], global),
        Destination::Archive { file, plan } => {
            let sums = qoima::archive::write::checksum_path(file);
            let mut outputs = vec![(file.as_path(), "the archive")];
            if plan.checksum_file {
                outputs.push((sums.as_path(), "--checksum-file"));
            }
            prepare(input, &outputs, global)
        }
    }
}

/// Clears what dead runs left beside `out` ([`fsutil::clean_stale`]) and says what it did.
pub(super) fn clean_stale(out: &Path, global: &Global) {
    for done in fsutil::clean_stale(out) {
        match &done {
            Cleaned::Removed(p) if !global.quiet => output::stderrln!(
                "qoima: removed {}, left by an interrupted run",
                output::path(p)
            ),
            Cleaned::Restored { from, to } => output::stderrln!(
                "qoima: restored {} from {}, where an interrupted run had set it aside",
                output::path(to),
                output::path(from)
            ),
            Cleaned::Kept { path, why } => {
                output::stderrln!("qoima: left {} in place: {why}", output::path(path))
            }
            Cleaned::Removed(_) => {}
        }
    }
}

/// Refuses (`BAG-083`) a folder `dir` that files are written into when it is `input` or lies
/// inside it, or when one of the `files` written there overlaps `input`. A `dir` that merely
/// holds `input` is fine: nothing in it is replaced or removed (`seal --to -o .`).
pub(super) fn refuse_writing_into(
    input: &Path,
    dir: &Path,
    files: &[&Path],
) -> Result<(), BagError> {
    use qoima::fsutil::Overlap;
    match fsutil::overlap(input, dir) {
        Ok(Some(Overlap::InputInsideOutput)) => {}
        _ => refuse_overlap(input, dir, "-o")?,
    }
    for file in files {
        refuse_overlap(input, file, "the bundle")?;
    }
    Ok(())
}

/// Prints a refusal made before anything was written, for commands whose errors otherwise
/// have no problem code, and gives its exit status.
pub(super) fn report_refusal(error: &BagError) -> Exit {
    let (exit, message, problems) = outcome::failure(error);
    output::problems(&problems, true, "");
    output::stderrln!("qoima: {message}");
    exit
}
