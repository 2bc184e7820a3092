//! The tag manifests: each line names a tag file that is there (never a payload file or a
//! tag manifest), each lists every payload manifest, and every tag file is listed.

use std::collections::BTreeSet;

use super::context::Context;
use super::manifests::{Manifests, at_line, other_unicode_form};
use super::plan::HashPlan;
use crate::bagit::baginfo::BagInfo;
use crate::bagit::manifest::{self, Manifest};
use crate::digest::Algorithm;
use crate::error::{Code, Problem};
use crate::paths;
use crate::store::EntryKind;

/// Checks every tag manifest and plans the hashing of the files they list; then, that every
/// tag file is listed and that tag and payload manifests use the same algorithms.
pub(super) fn check(
    context: &mut Context<'_>,
    manifests: &Manifests,
    info: &BagInfo,
    payload_algorithms: &BTreeSet<Algorithm>,
    plan: &mut HashPlan,
) {
    let mut tag_listed: BTreeSet<String> = BTreeSet::new();
    for (manifest_index, listing) in manifests.tag.iter().enumerate() {
        let seen = resolve_lines(context, manifest_index, listing, &mut tag_listed, plan);
        for payload_manifest in &manifests.payload {
            if !seen.contains(&payload_manifest.file) {
                context.push(
                    Problem::new(
                        Code::TagManifestMissesManifest,
                        format!(
                            "{} does not list the payload manifest {}",
                            listing.file, payload_manifest.file
                        ),
                    )
                    .file(&listing.file),
                );
            }
        }
    }
    if manifests.tag.is_empty() {
        context.push(Problem::new(
            Code::NoTagManifest,
            "the bag has no tag manifest: changes to bag-info.txt or the manifests cannot be detected",
        ));
    } else {
        check_every_tag_file_listed(context, info, &tag_listed);
        check_same_algorithms(context, &manifests.tag, payload_algorithms);
    }
}

/// Resolves each line of the tag manifest `listing` to a tag file, plans it for hashing and
/// adds it to `tag_listed`; returns the paths the manifest names.
fn resolve_lines(
    context: &mut Context<'_>,
    manifest_index: usize,
    listing: &Manifest,
    tag_listed: &mut BTreeSet<String>,
    plan: &mut HashPlan,
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for (line_index, line) in listing.entries.iter().enumerate() {
        if line.path.starts_with("data/") {
            context.push(at_line(
                Code::TagManifestListsPayload,
                format!(
                    "{} lists the payload file {}",
                    listing.file,
                    paths::printable(line.path)
                ),
                listing,
                &line,
            ));
            continue;
        }
        if manifest::classify(line.path).is_some_and(|(tag, _)| tag) {
            context.push(at_line(
                Code::TagManifestListsTagManifest,
                format!("{} lists the tag manifest {}", listing.file, line.path),
                listing,
                &line,
            ));
            continue;
        }
        seen.insert(line.path.to_string());
        // A tag file copied through macOS may be named in the other Unicode form.
        let found = context.file(line.path).or_else(|| {
            let disk = context
                .nfc_lookup(line.path)
                .filter(|&index| context.entries[index].is_readable_file())?;
            context.push(other_unicode_form(listing, &line));
            Some(disk)
        });
        let Some(index) = found else {
            let code = if context
                .entry(line.path)
                .is_some_and(|entry| entry.kind == EntryKind::Dir)
            {
                Code::ManifestListsDirectory
            } else {
                Code::FileMissing
            };
            context.push(at_line(
                code,
                format!(
                    "{} lists {}, which is not a file in the bag",
                    listing.file,
                    paths::printable(line.path)
                ),
                listing,
                &line,
            ));
            continue;
        };
        tag_listed.insert(context.entries[index].path.clone());
        plan.add(index, listing.algorithm, true, manifest_index, line_index);
    }
    seen
}

/// Reports every tag file (outside `data/`, not a tag manifest) that no tag manifest lists.
/// A sealed bag keeps its signatures (seal/) and its custody log (custody/) outside the tag
/// manifests by design: they are proofs over the manifests, added later.
fn check_every_tag_file_listed(
    context: &mut Context<'_>,
    info: &BagInfo,
    tag_listed: &BTreeSet<String>,
) {
    let tag_files: BTreeSet<String> = context
        .entries
        .iter()
        .filter(|entry| {
            !entry.path.starts_with("data/") && entry.path != "data" && entry.is_readable_file()
        })
        .map(|entry| entry.path.clone())
        .collect();
    let sealed = info.contains("Seal-Version");
    let proof = |path: &str| sealed && (path.starts_with("seal/") || path.starts_with("custody/"));
    for path in &tag_files {
        if !tag_listed.contains(path)
            && manifest::classify(path).is_none_or(|(tag, _)| !tag)
            && !proof(path)
        {
            context.push(
                Problem::new(
                    Code::TagFileNotInTagManifest,
                    format!(
                        "the tag file {} is not listed in any tag manifest",
                        paths::printable(path)
                    ),
                )
                .file(path.as_str()),
            );
        }
    }
}

/// Reports tag manifests whose algorithms are not the payload manifests'.
fn check_same_algorithms(
    context: &mut Context<'_>,
    tag_manifests: &[Manifest],
    payload_algorithms: &BTreeSet<Algorithm>,
) {
    let tag_algorithms: BTreeSet<Algorithm> = tag_manifests
        .iter()
        .filter_map(|manifest| manifest.algorithm)
        .collect();
    if tag_algorithms != *payload_algorithms && !payload_algorithms.is_empty() {
        let names = |set: &BTreeSet<Algorithm>| {
            set.iter()
                .map(|algorithm| algorithm.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        context.push(Problem::new(
            Code::TagManifestAlgorithmsDiffer,
            format!(
                "payload manifests use {}; tag manifests use {}",
                names(payload_algorithms),
                names(&tag_algorithms)
            ),
        ));
    }
}
