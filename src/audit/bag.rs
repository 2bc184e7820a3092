//! Auditing one bag: validate it fully (folder or archive) while keeping the digests
//! validation computes, hash in the baseline's algorithm what validation did not, then
//! compare with the baseline (or record it, at the first audit). One read of the bag.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

use chrono::Utc;

use super::classify::{Classified, Current, classify};
use super::model::{BagAudit, Baseline, ClassCounts, Finding, Outcome};
use crate::bagit::{BagReport, Mode, ValidateOptions, manifest};
use crate::digest::{Algorithm, AlgorithmSet, Engine, FileDigests, Progress};
use crate::store::Limits;
use crate::store::{DigestRequest, Entry, EntryKind, Store};
use crate::verdict::Verdict;

/// Payload digests by path, as validation (and the audit after it) computed them.
type Observed = HashMap<String, FileDigests>;

/// Audits one bag against `baseline` (or records its baseline, at its first audit), reading
/// archives within `limits`. Never fails: a bag that cannot be read is an `unreadable`
/// audit.
pub fn audit_bag(
    bag: &Path,
    baseline: Option<Baseline>,
    limits: &Limits,
    engine: &Engine,
    progress: &dyn Progress,
) -> (BagAudit, Option<Baseline>) {
    let mut audit = unreadable(bag);
    let store = match crate::store::open(bag, limits, true) {
        Ok((store, _)) => store,
        Err(error) => {
            return (
                ended(audit, format!("cannot read {}: {error}", bag.display())),
                None,
            );
        }
    };
    let (report, mut observed) = validate_observing(&*store, engine, progress);
    take_validation(&mut audit, &report);
    let entries = match store.list() {
        Ok(entries) => entries,
        Err(error) => {
            return (
                ended(audit, format!("cannot list {}: {error}", bag.display())),
                None,
            );
        }
    };
    if report.verdict == Verdict::Unreadable && report.version.is_none() {
        audit.error = report.problems.first().map(|p| p.message.clone());
        audit.ended = Utc::now();
        return (audit, None);
    }
    let algorithm = baseline_algorithm(baseline.as_ref(), &entries);
    // Payload files as listed: path and size.
    let payload: Vec<(&str, u64)> = entries
        .iter()
        .filter(|e| e.path.starts_with("data/") && e.kind == EntryKind::File && e.utf8)
        .map(|e| (e.path.as_str(), e.size))
        .collect();
    audit.bytes += hash_unobserved(
        &*store,
        &payload,
        algorithm,
        &mut observed,
        engine,
        progress,
    );
    let now = current(&*store, &payload, &observed, algorithm);
    let (base, recorded) = match baseline {
        Some(baseline) => (baseline, None),
        None => {
            let first = first_baseline(algorithm, &now, &payload);
            (first.clone(), Some(first))
        }
    };
    conclude(
        &mut audit,
        classify(&base, &now),
        &report,
        recorded.is_some(),
    );
    (audit, recorded)
}

/// The audit of a bag not read yet: `unreadable` until it is.
fn unreadable(bag: &Path) -> BagAudit {
    let started = Utc::now();
    BagAudit {
        bag: bag.display().to_string(),
        started,
        ended: started,
        outcome: Outcome::Unreadable,
        verdict: "unreadable".into(),
        files: 0,
        bytes: 0,
        counts: ClassCounts::default(),
        manifest_rewritten: false,
        baseline_recorded: false,
        findings: Vec::new(),
        error: None,
    }
}

/// `audit` stopped by `error`, now.
fn ended(mut audit: BagAudit, error: String) -> BagAudit {
    audit.error = Some(error);
    audit.ended = Utc::now();
    audit
}

/// Validates the bag in full, keeping the payload digests validation computes.
fn validate_observing(
    store: &dyn Store,
    engine: &Engine,
    progress: &dyn Progress,
) -> (BagReport, Observed) {
    let observed: Mutex<Observed> = Mutex::new(HashMap::new());
    let options = ValidateOptions {
        mode: Mode::Full,
        strict: false,
        allow: Vec::new(),
        // Every error becomes a finding in the register, so none is left out.
        max_problems: 0,
    };
    let report = crate::package::verify::validate_observed(
        store,
        &options,
        engine,
        progress,
        &|path, digests| {
            if path.starts_with("data/") {
                observed
                    .lock()
                    .expect("no panic while held")
                    .insert(path.to_string(), digests.clone());
            }
        },
    );
    (report, observed.into_inner().expect("no panic while held"))
}

/// The validation's verdict, counts and every error (as a finding) into `audit`.
fn take_validation(audit: &mut BagAudit, report: &BagReport) {
    audit.verdict = report.verdict.describe().to_string();
    audit.files = report.payload_files;
    audit.bytes = report.bytes_hashed;
    for problem in report.problems.iter().filter(|p| p.is_error()) {
        audit.findings.push(Finding {
            path: problem
                .location
                .field
                .clone()
                .filter(|f| f.starts_with("data/"))
                .or_else(|| problem.location.file.clone())
                .unwrap_or_default(),
            class: None,
            code: Some(problem.code.as_str().to_string()),
            detail: problem.message.clone(),
        });
    }
}

/// The baseline's algorithm, or the strongest this bag's payload manifests have (SHA-512
/// when it has none).
fn baseline_algorithm(baseline: Option<&Baseline>, entries: &[Entry]) -> Algorithm {
    baseline
        .and_then(|b| b.algorithm.parse::<Algorithm>().ok())
        .or_else(|| {
            strongest(entries.iter().filter_map(|e| {
                let (tag, name) = manifest::classify(&e.path)?;
                (!tag && !e.path.contains('/'))
                    .then(|| Algorithm::from_manifest_name(name))
                    .flatten()
            }))
        })
        .unwrap_or(Algorithm::Sha512)
}

/// The strongest of the algorithms, for the baseline.
fn strongest(algorithms: impl IntoIterator<Item = Algorithm>) -> Option<Algorithm> {
    let rank = |algorithm: Algorithm| match algorithm {
        Algorithm::Sha512 => 7,
        Algorithm::Sha384 => 6,
        Algorithm::Sha256 => 5,
        Algorithm::Blake3 => 4,
        Algorithm::Sha224 => 3,
        Algorithm::Sha1 => 2,
        Algorithm::Md5 => 1,
    };
    algorithms
        .into_iter()
        .max_by_key(|&algorithm| rank(algorithm))
}

/// Hashes in `algorithm` the payload files validation did not (not listed, or listed only
/// in other manifests): their content decides between new and moved. Adds them to
/// `observed`; returns the bytes read.
fn hash_unobserved(
    store: &dyn Store,
    payload: &[(&str, u64)],
    algorithm: Algorithm,
    observed: &mut Observed,
    engine: &Engine,
    progress: &dyn Progress,
) -> u64 {
    let unobserved: Vec<(&str, u64)> = payload
        .iter()
        .copied()
        .filter(|(path, _)| observed.get(*path).and_then(|d| d.get(algorithm)).is_none())
        .collect();
    if unobserved.is_empty() {
        return 0;
    }
    let algorithms: AlgorithmSet = [algorithm].into_iter().collect();
    let requests: Vec<DigestRequest<'_>> = unobserved
        .iter()
        .map(|&(path, size)| DigestRequest {
            path,
            size_hint: size,
            algorithms,
        })
        .collect();
    let hashed: Mutex<Vec<(String, FileDigests)>> = Mutex::new(Vec::new());
    store.digest(&requests, engine, progress, &|index, result| {
        if let Ok(digests) = result {
            hashed
                .lock()
                .expect("no panic while held")
                .push((requests[index].path.to_string(), digests));
        }
    });
    let mut bytes = 0;
    for (path, digests) in hashed.into_inner().expect("no panic while held") {
        bytes += digests.size;
        observed.insert(path, digests);
    }
    bytes
}

/// A manifest's lines (path → hex digest), when the bag has it.
fn read_manifest(
    store: &dyn Store,
    tag: bool,
    algorithm: Algorithm,
) -> Option<BTreeMap<String, String>> {
    let name = manifest::file_name(tag, algorithm);
    let declaration = crate::bagit::validate::read_declaration(store)?;
    let reader = store.open(&name).ok()?;
    let parsed = manifest::parse(
        reader,
        &name,
        declaration.encoding,
        declaration.version,
        &mut crate::verdict::Problems::default(),
    );
    Some(
        parsed
            .entries
            .into_iter()
            .map(|e| (e.path, e.digest.to_hex()))
            .collect(),
    )
}

/// What the bag holds now, in `algorithm`: each payload file's digest, and the manifests.
fn current(
    store: &dyn Store,
    payload: &[(&str, u64)],
    observed: &Observed,
    algorithm: Algorithm,
) -> Current {
    Current {
        files: payload
            .iter()
            .map(|(path, _)| {
                (
                    path.to_string(),
                    observed
                        .get(*path)
                        .and_then(|d| d.get(algorithm))
                        .map(|d| d.to_hex()),
                )
            })
            .collect(),
        manifest: read_manifest(store, false, algorithm),
        tags: read_manifest(store, true, algorithm),
    }
}

/// The first audit's baseline: what the depositor's manifests claim (a file they do not
/// list is new from the start, a listed file not there is missing).
fn first_baseline(algorithm: Algorithm, now: &Current, payload: &[(&str, u64)]) -> Baseline {
    let sizes: HashMap<&str, u64> = payload.iter().copied().collect();
    let files = match &now.manifest {
        Some(manifest) => manifest
            .iter()
            .map(|(path, digest)| {
                (
                    path.clone(),
                    digest.clone(),
                    sizes.get(path.as_str()).copied().unwrap_or(0),
                )
            })
            .collect(),
        None => Vec::new(),
    };
    Baseline {
        algorithm: algorithm.name().to_string(),
        files,
        tags: now
            .tags
            .iter()
            .flatten()
            .map(|(path, digest)| (path.clone(), digest.clone()))
            .collect(),
    }
}

/// The classification into `audit` (its findings before validation's), and the outcome:
/// unreadable, passed (valid and nothing changed) or failed.
fn conclude(
    audit: &mut BagAudit,
    classified: Classified,
    report: &BagReport,
    baseline_recorded: bool,
) {
    let counts = classified.counts;
    audit.counts = counts;
    audit.manifest_rewritten = classified.manifest_rewritten;
    audit.baseline_recorded = baseline_recorded;
    let mut findings = classified.findings;
    findings.append(&mut audit.findings);
    audit.findings = findings;
    let clean = counts.changed + counts.missing + counts.new + counts.moved == 0
        && !classified.manifest_rewritten;
    audit.outcome = if report.verdict == Verdict::Unreadable {
        Outcome::Unreadable
    } else if report.verdict.passed() && clean {
        Outcome::Passed
    } else {
        Outcome::Failed
    };
    audit.ended = Utc::now();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_baseline_algorithm_is_the_strongest_the_bag_has() {
        assert_eq!(
            strongest([Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha1]),
            Some(Algorithm::Sha256)
        );
        assert_eq!(
            strongest([Algorithm::Sha256, Algorithm::Sha512]),
            Some(Algorithm::Sha512)
        );
        assert_eq!(strongest([]), None);
    }
}
