//! fetch.txt in a validation: read (never followed; see [`crate::bagit::fetch`]), and each
//! of its files listed in every payload manifest.

use std::collections::HashSet;

use super::context::Context;
use crate::bagit::declaration::Declaration;
use crate::bagit::fetch::{self, FetchEntry};
use crate::bagit::manifest::Manifest;
use crate::error::{Code, Problem};
use crate::paths;

/// The entries of fetch.txt (none when the bag has no fetch.txt).
pub(super) fn read(context: &mut Context<'_>, declared: Declaration) -> Vec<FetchEntry> {
    if !context.is_file("fetch.txt") {
        return Vec::new();
    }
    context
        .read_tag("fetch.txt", |reader, problems| {
            fetch::parse(reader, declared.encoding, declared.version, problems)
        })
        .unwrap_or_default()
}

/// Reports each fetch.txt entry that some payload manifest does not list.
pub(super) fn check_listed(
    context: &mut Context<'_>,
    entries: &[FetchEntry],
    payload_manifests: &[Manifest],
) {
    if entries.is_empty() {
        return;
    }
    let manifest_sets: Vec<HashSet<&str>> = payload_manifests
        .iter()
        .map(|manifest| manifest.entries.iter().map(|line| line.path).collect())
        .collect();
    for entry in entries {
        if manifest_sets
            .iter()
            .any(|listed| !listed.contains(entry.path.as_str()))
        {
            context.push(
                Problem::new(
                    Code::FetchNotInManifest,
                    format!(
                        "{} is in fetch.txt but not in every payload manifest",
                        paths::printable(&entry.path)
                    ),
                )
                .file("fetch.txt")
                .line(entry.line),
            );
        }
    }
}
