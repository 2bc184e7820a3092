//! `qoima package`: a checked collection becomes a bag an institution would accept — the
//! photos and the sidecar as payload, a METS document at the root (Dublin Core, PREMIS and
//! MIX inside), the collection's Dublin Core and the check report as tag files.
//!
//! Nothing is written when the check finds errors; the bag is built under a temporary name
//! and renamed when complete, like every bag qoima makes. With `force`, an existing output is
//! swapped for the complete new bag (`fsutil::replace_dir`), never removed first. An output
//! that is, holds or lies inside the collection is refused (`BAG-083`).

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use serde::Serialize;

use super::check::{self, CheckOptions, CheckReport};
use crate::bagit::create::{BagError, BagOptions, BagSummary, SourceFile};
use crate::describe::dc;
use crate::describe::mets::{MetsInput, MetsItem, mets_document};
use crate::describe::mix::{ImageFacts, exif_date_time};
use crate::describe::premis::ObjectFacts;
use crate::digest::{Algorithm, Engine, FileDigests, Progress};
use crate::fsutil;
use crate::metadata::{self, Record};

/// Options of a package run.
#[derive(Debug, Clone, Default)]
pub struct PackageOptions {
    /// How the collection is checked.
    pub check: CheckOptions,
    /// What goes into the bag (algorithms, bag-info, date).
    pub bag: BagOptions,
    /// Replace an existing output (only once the new bag is complete).
    pub force: bool,
}

/// What a package run did.
#[derive(Debug, Clone, Serialize)]
pub struct PackageReport {
    /// `packaged`, or `refused` when the check found errors (nothing was written).
    pub outcome: &'static str,
    /// The check's report (also written into the bag as metadata/report.json).
    pub check: CheckReport,
    /// The bag, when one was made.
    pub bag: Option<BagSummary>,
}

/// Checks the collection at `root` and, when it passes, packages it into a bag at `out`.
pub fn package(
    root: &Path,
    out: &Path,
    opts: &PackageOptions,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<PackageReport, BagError> {
    // `-o archive` for `archive/col`, or `-o col` itself, with --force would replace the
    // collection: refused before anything is read or written.
    crate::bagit::create::refuse_overlap(root, out, "the package")?;
    let report = check::check(root, &opts.check, engine, progress).map_err(BagError::io(root))?;
    if !report.passed {
        return Ok(PackageReport {
            outcome: "refused",
            check: report,
            bag: None,
        });
    }
    let exists = fs::symlink_metadata(out).is_ok();
    if exists && !opts.force {
        return Err(BagError::Exists(out.to_path_buf()));
    }
    let collection = report.collection_record.clone();
    let report_json = serde_json::to_vec_pretty(&report).expect("the report serialises");
    let describe = |files: &[SourceFile],
                    digests: &[FileDigests]|
     -> Result<Vec<(String, Vec<u8>)>, BagError> {
        let mets = mets_document(&mets_input(&report, &collection, files, digests, &opts.bag));
        Ok(vec![
            ("mets.xml".to_string(), mets.into_bytes()),
            (
                "metadata/dc.xml".to_string(),
                dc::oai_dc(&collection).into_bytes(),
            ),
            ("metadata/report.json".to_string(), report_json.clone()),
        ])
    };
    // Built beside the output, so that an existing bag is replaced only by a complete one,
    // in one atomic exchange where the filesystem allows (see `fsutil::replace_dir`).
    let target = if exists {
        fsutil::temp_sibling(out, "new")
    } else {
        out.to_path_buf()
    };
    let made = crate::bagit::create::create_bag_with(
        root, &target, &opts.bag, engine, progress, &describe,
    );
    let mut summary = match made {
        Ok(summary) => summary,
        Err(e) => {
            // The new bag may have reached its temporary name before the error (a failed
            // flush of the folder): it is this run's and replaces nothing, so it goes.
            if exists && fs::symlink_metadata(&target).is_ok() {
                let _ = fs::remove_dir_all(&target);
            }
            return Err(e);
        }
    };
    if exists {
        if let Err(e) = fsutil::replace_dir(&target, out) {
            let _ = fs::remove_dir_all(&target);
            return Err(BagError::io(out)(e));
        }
        summary.bag = out.to_path_buf();
    }
    Ok(PackageReport {
        outcome: "packaged",
        check: report,
        bag: Some(summary),
    })
}

/// METS names of the algorithms METS 1.12 knows, most trusted first.
fn mets_name(a: Algorithm) -> Option<&'static str> {
    match a {
        Algorithm::Sha256 => Some("SHA-256"),
        Algorithm::Sha512 => Some("SHA-512"),
        Algorithm::Sha384 => Some("SHA-384"),
        Algorithm::Sha1 => Some("SHA-1"),
        Algorithm::Md5 => Some("MD5"),
        Algorithm::Sha224 | Algorithm::Blake3 => None,
    }
}

fn premis_name(a: Algorithm) -> &'static str {
    match a {
        Algorithm::Md5 => "MD5",
        Algorithm::Sha1 => "SHA-1",
        Algorithm::Sha224 => "SHA-224",
        Algorithm::Sha256 => "SHA-256",
        Algorithm::Sha384 => "SHA-384",
        Algorithm::Sha512 => "SHA-512",
        Algorithm::Blake3 => "BLAKE3",
    }
}

fn mets_input(
    report: &CheckReport,
    collection: &Record,
    files: &[SourceFile],
    digests: &[FileDigests],
    bag: &BagOptions,
) -> MetsInput {
    let index: HashMap<&str, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.rel.as_str(), i))
        .collect();
    let mut order = bag.algorithms.clone();
    order.sort_by_key(|a| match a {
        Algorithm::Sha256 => 0,
        Algorithm::Sha512 => 1,
        _ => 2,
    });
    let records = records_by_line(report);
    let mut items = Vec::new();
    for it in &report.items {
        let (Some(file), Some(line)) = (&it.file, it.line) else {
            continue;
        };
        let Some(&i) = index.get(file.as_str()) else {
            continue;
        };
        let d = &digests[i];
        let hex = |a: Algorithm| d.get(a).map(|x| x.to_hex());
        let record = records.get(&line).cloned().unwrap_or_default();
        items.push(MetsItem {
            section: record.first(metadata::SECTION).map(String::from),
            record,
            file: format!("data/{file}"),
            mime: it
                .format
                .as_ref()
                .map(|f| f.mime.to_string())
                .unwrap_or_else(|| "application/octet-stream".into()),
            size: d.size,
            created: it.exif.as_ref().and_then(|e| {
                exif_date_time(
                    e.date_time_original.as_deref()?,
                    e.offset_time_original.as_deref(),
                )
            }),
            digests: order
                .iter()
                .filter_map(|&a| Some((mets_name(a)?.to_string(), hex(a)?)))
                .collect(),
            premis: ObjectFacts {
                identifier: format!("data/{file}"),
                original_name: file.clone(),
                size: d.size,
                digests: order
                    .iter()
                    .filter_map(|&a| Some((premis_name(a).to_string(), hex(a)?)))
                    .collect(),
                format_name: it.format.as_ref().map(|f| f.name.to_string()),
                format_version: it.format.as_ref().and_then(|f| f.version.map(String::from)),
                puid: it.format.as_ref().and_then(|f| f.puid.map(String::from)),
            },
            // MIX describes images: a file whose format was not identified gets none (an
            // empty mix:mix said nothing, 300 bytes at a time).
            mix: it
                .technical
                .as_ref()
                .filter(|_| it.format.is_some())
                .map(|t| ImageFacts::from_photo(t, it.exif.as_deref())),
        });
    }
    MetsInput {
        objid: collection
            .first("identifier")
            .unwrap_or("collection")
            .to_string(),
        label: collection.first("title").unwrap_or("").to_string(),
        create_date: crate::bagit::create::bagging_time(bag.date),
        agent_org: bag.info.get("Source-Organization").map(String::from),
        agent_software: format!("qoima {}", crate::VERSION),
        collection: collection.clone(),
        items,
    }
}

/// The sidecar's records by line, reloaded from the report's sidecar (the report keeps only
/// what an item needs to be found).
fn records_by_line(report: &CheckReport) -> HashMap<u64, Record> {
    report.records.iter().map(|r| (r.line, r.clone())).collect()
}
