//! Entry points for the `cargo fuzz` targets in `fuzz/`: thin forwards to the crate-private
//! parsers of untrusted input, so that the fuzzers call the very code qoima runs without the
//! public API growing for them. **Not a stable API**: hidden from the documentation, and it
//! changes whenever the parsers do. Everything else the targets call is already public
//! (`bagit::*::parse`, `photo::examine`, `describe::mets_read::files`,
//! `seal::custody::parse_entry`, `seal::timestamp::verify`, the stores).

use crate::error::Problem;
use crate::metadata::{Sidecar, csv_sidecar, json_sidecar};
use crate::photo::{Exif, exif, identify};

/// The CSV sidecar parser (`metadata.csv`), with the delimiter given or detected.
pub fn csv_sidecar(bytes: &[u8], delimiter: Option<u8>) -> (Sidecar, Vec<Problem>) {
    let mut problems = crate::verdict::Problems::default();
    let sidecar = csv_sidecar::parse(bytes, "metadata.csv", delimiter, &mut problems);
    (sidecar, problems.into_vec())
}

/// The JSON sidecar parser (`metadata.json`).
pub fn json_sidecar(bytes: &[u8]) -> (Sidecar, Vec<Problem>) {
    let mut problems = crate::verdict::Problems::default();
    let sidecar = json_sidecar::parse(bytes, "metadata.json", &mut problems);
    (sidecar, problems.into_vec())
}

/// The Exif reader, for the family the content is identified as (as `photo::examine` calls
/// it, but without the structural check first, so that Exif is reached in damaged files too).
/// `None` when the content is no image format qoima knows.
pub fn exif(data: &[u8]) -> Option<Result<Option<Exif>, String>> {
    let (family, _) = identify::detect(data)?;
    Some(exif::read(family, data).map(|read| read.map(|r| r.exif)))
}

/// The value of `label` in a bundle's `NAME.envelope.txt`, as `verify-bundle` reads it.
pub fn envelope_field<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    crate::seal::bundle::envelope_field(text, label)
}
