//! Running an audit: each bag is claimed in the register, fully validated (folder or
//! archive), compared with its baseline (recorded at its first audit) from the digests
//! validation computes — one read of the bag — and recorded, a group of bags per
//! transaction, so a run killed at any moment loses at most a quarter second of results.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use rayon::prelude::*;
use serde::Serialize;

use super::classify::{Current, classify};
use super::model::{BagAudit, Baseline, ClassCounts, Finding, Outcome};
use super::register::{Claim, Register, RegisterError, RunInfo};
use crate::bagit::{Mode, ValidateOptions, manifest};
use crate::digest::{Algorithm, AlgorithmSet, Engine, FileDigests, Progress};
use crate::store::{DigestRequest, EntryKind, Limits, Store};

/// How a run is bounded.
#[derive(Clone, Debug, Default)]
pub struct AuditOptions {
    /// Audit only bags not verified within this long.
    pub older_than: Option<chrono::Duration>,
    /// Start no new bag once this many bytes were read in the run.
    pub max_bytes: Option<u64>,
    /// Start no new bag once the run has lasted this long.
    pub max_duration: Option<Duration>,
    /// Read at most this many bytes per second (all threads together).
    pub rate: Option<u64>,
    /// Limits for archives.
    pub limits: Limits,
}

/// Why a bag was not audited in this run.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum Skip {
    /// Verified within `--older-than`.
    Fresh {
        /// When it was last verified.
        last_verified: chrono::DateTime<Utc>,
    },
    /// Another audit running now holds it.
    Busy {
        /// That audit's run.
        run: i64,
    },
    /// The run reached `--max-bytes` or `--max-duration` first; the next run starts with it.
    Budget,
}

/// A bag left for another time.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    /// The bag.
    pub bag: String,
    /// Why.
    #[serde(flatten)]
    pub why: Skip,
}

/// What a run did.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    /// Its number in the register.
    pub run: i64,
    /// `passed`, `failed` or `stopped`.
    pub outcome: String,
    /// The bags audited, in order.
    pub audits: Vec<BagAudit>,
    /// The bags not audited, and why.
    pub skipped: Vec<Skipped>,
    /// Bytes read.
    pub bytes: u64,
    /// Bags that failed or could not be read.
    pub failed: u64,
}

/// The register's name for a bag: its absolute path (links resolved when it exists), so
/// that `bags/a` and `/archive/bags/a` are one bag.
pub fn bag_key(path: &Path) -> String {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// Reads at most `rate` bytes per second across all threads, by making the reading threads
/// wait after each chunk they report.
struct Throttle<'a> {
    inner: &'a dyn Progress,
    rate: Option<u64>,
    start: Instant,
    bytes: AtomicU64,
}

impl Progress for Throttle<'_> {
    fn bytes(&self, n: u64) {
        self.inner.bytes(n);
        if let Some(rate) = self.rate {
            let total = self.bytes.fetch_add(n, Ordering::Relaxed) + n;
            // A tiny rate over a huge total may pass what a Duration holds: sleep "forever".
            let due =
                Duration::try_from_secs_f64(total as f64 / rate as f64).unwrap_or(Duration::MAX);
            let elapsed = self.start.elapsed();
            if due > elapsed {
                std::thread::sleep(due - elapsed);
            }
        }
    }
    fn file_done(&self) {
        self.inner.file_done();
    }
    fn stage(&self, name: &str, total_bytes: u64, total_files: u64) {
        self.inner.stage(name, total_bytes, total_files);
    }
}

/// Audits `bags` into `register`.
pub fn audit(
    register: &Register,
    bags: &[PathBuf],
    opts: &AuditOptions,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<RunSummary, RegisterError> {
    let start = Instant::now();
    let run = register.begin_run(&RunInfo::current())?;
    let keys: Vec<String> = bags.iter().map(|b| bag_key(b)).collect();
    let order = register.due_order(&keys)?;
    let throttle = Throttle {
        inner: progress,
        rate: opts.rate,
        start,
        bytes: AtomicU64::new(0),
    };
    let mut summary = RunSummary {
        run,
        outcome: String::new(),
        audits: Vec::new(),
        skipped: Vec::new(),
        bytes: 0,
        failed: 0,
    };
    let mut stopped = false;
    // Small bags take less time to audit than to record one by one: claims are taken, and
    // results recorded, a group at a time. A group grows while bags go fast and falls back to
    // one bag when one is slow, so that a big bag is never held, or its result kept
    // unrecorded, for long. A kill loses at most the unrecorded results of the last quarter
    // second; those bags are audited again by the next run.
    let mut group = 1usize;
    let mut next = 0usize;
    let mut unrecorded: Vec<(i64, Option<Baseline>, BagAudit)> = Vec::new();
    let mut last_flush = Instant::now();
    let flush = |unrecorded: &mut Vec<(i64, Option<Baseline>, BagAudit)>| {
        if unrecorded.is_empty() {
            return Ok(());
        }
        let n = unrecorded.len();
        register.batch(|r| {
            for (bag_id, baseline, audit) in unrecorded.drain(..) {
                if let Some(b) = &baseline {
                    r.set_baseline(bag_id, b)?;
                }
                r.record(run, bag_id, &audit)?;
            }
            Ok(())
        })?;
        for _ in 0..n {
            crate::fsutil::failpoint("audit-after-bag");
        }
        Ok::<(), RegisterError>(())
    };
    'groups: while next < order.len() {
        let chunk = &order[next..(next + group).min(order.len())];
        next += chunk.len();
        let claims = register.batch(|r| {
            chunk
                .iter()
                .map(|b| r.claim(run, b, opts.older_than))
                .collect::<Result<Vec<Claim>, RegisterError>>()
        })?;
        let began = Instant::now();
        let over = opts.max_bytes.is_some_and(|m| summary.bytes >= m)
            || opts.max_duration.is_some_and(|d| start.elapsed() >= d);
        let mut work: Vec<(String, i64, Option<Baseline>)> = Vec::new();
        for (bag, &claim) in chunk.iter().zip(&claims) {
            match claim {
                Claim::Claimed { bag_id } if over => {
                    // Left for the next run, which starts with it.
                    register.release(bag_id)?;
                    summary.skipped.push(Skipped {
                        bag: bag.clone(),
                        why: Skip::Budget,
                    });
                }
                Claim::Claimed { bag_id } => {
                    work.push((bag.clone(), bag_id, register.baseline(bag_id)?));
                }
                Claim::Fresh { last_verified } => summary.skipped.push(Skipped {
                    bag: bag.clone(),
                    why: Skip::Fresh { last_verified },
                }),
                Claim::Busy { run } => summary.skipped.push(Skipped {
                    bag: bag.clone(),
                    why: Skip::Busy { run },
                }),
            }
        }
        if over {
            stopped = true;
            summary
                .skipped
                .extend(order[next..].iter().map(|b| Skipped {
                    bag: b.clone(),
                    why: Skip::Budget,
                }));
            break 'groups;
        }
        // A group of small bags is audited side by side: a bag of a few files cannot keep
        // every core busy on its own.
        let audit_one = |(bag, bag_id, baseline): (String, i64, Option<Baseline>)| {
            let (audit, new_baseline) =
                audit_bag(Path::new(&bag), baseline, opts, engine, &throttle);
            (bag_id, audit, new_baseline)
        };
        let done: Vec<(i64, BagAudit, Option<Baseline>)> = if work.len() == 1 {
            progress.stage(&format!("auditing {}", work[0].0), 0, 0);
            work.into_iter().map(audit_one).collect()
        } else {
            progress.stage(&format!("auditing {} bags", work.len()), 0, 0);
            engine.install(|| work.into_par_iter().map(audit_one).collect())
        };
        for (bag_id, audit, new_baseline) in done {
            summary.bytes += audit.bytes;
            if audit.outcome != Outcome::Passed {
                summary.failed += 1;
            }
            summary.audits.push(audit.clone());
            unrecorded.push((bag_id, new_baseline, audit));
        }
        if last_flush.elapsed() >= Duration::from_millis(250) {
            flush(&mut unrecorded)?;
            last_flush = Instant::now();
        }
        group = if began.elapsed() < Duration::from_millis(100) {
            (group * 2).min(64)
        } else {
            1
        };
    }
    flush(&mut unrecorded)?;
    summary.outcome = if summary.failed > 0 {
        "failed"
    } else if stopped {
        "stopped"
    } else {
        "passed"
    }
    .to_string();
    register.finish_run(
        run,
        &summary.outcome,
        summary.audits.len() as u64,
        summary.bytes,
        summary.failed,
    )?;
    Ok(summary)
}

/// The strongest of the algorithms, for the baseline.
fn strongest(algs: impl IntoIterator<Item = Algorithm>) -> Option<Algorithm> {
    let rank = |a: Algorithm| match a {
        Algorithm::Sha512 => 7,
        Algorithm::Sha384 => 6,
        Algorithm::Sha256 => 5,
        Algorithm::Blake3 => 4,
        Algorithm::Sha224 => 3,
        Algorithm::Sha1 => 2,
        Algorithm::Md5 => 1,
    };
    algs.into_iter().max_by_key(|&a| rank(a))
}

/// A manifest's lines (path → hex digest), when the bag has it.
fn read_manifest(store: &dyn Store, tag: bool, a: Algorithm) -> Option<BTreeMap<String, String>> {
    let name = manifest::file_name(tag, a);
    let decl = crate::bagit::validate::read_declaration(store)?;
    let r = store.open(&name).ok()?;
    let m = manifest::parse(
        r,
        &name,
        decl.encoding,
        decl.version,
        &mut crate::verdict::Problems::default(),
    );
    Some(
        m.entries
            .into_iter()
            .map(|e| (e.path, e.digest.to_hex()))
            .collect(),
    )
}

/// Audits one bag against `baseline` (or records its baseline, at its first audit). Never
/// fails: a bag that cannot be read is an `unreadable` audit.
pub fn audit_bag(
    bag: &Path,
    baseline: Option<Baseline>,
    opts: &AuditOptions,
    engine: &Engine,
    progress: &dyn Progress,
) -> (BagAudit, Option<Baseline>) {
    let started = Utc::now();
    let mut audit = BagAudit {
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
    };
    let store = match crate::store::open(bag, &opts.limits, true) {
        Ok((s, _)) => s,
        Err(e) => {
            audit.error = Some(format!("cannot read {}: {e}", bag.display()));
            audit.ended = Utc::now();
            return (audit, None);
        }
    };
    let observed: Mutex<HashMap<String, FileDigests>> = Mutex::new(HashMap::new());
    let vopts = ValidateOptions {
        mode: Mode::Full,
        strict: false,
        allow: Vec::new(),
        // Every error becomes a finding in the register, so none is left out.
        max_problems: 0,
    };
    let report =
        crate::package::verify::validate_observed(&*store, &vopts, engine, progress, &|p, d| {
            if p.starts_with("data/") {
                observed
                    .lock()
                    .expect("no panic while held")
                    .insert(p.to_string(), d.clone());
            }
        });
    audit.verdict = report.verdict.describe().to_string();
    audit.files = report.payload_files;
    audit.bytes = report.bytes_hashed;
    for p in report.problems.iter().filter(|p| p.is_error()) {
        audit.findings.push(Finding {
            path: p
                .location
                .field
                .clone()
                .filter(|f| f.starts_with("data/"))
                .or_else(|| p.location.file.clone())
                .unwrap_or_default(),
            class: None,
            code: Some(p.code.as_str().to_string()),
            detail: p.message.clone(),
        });
    }
    let entries = match store.list() {
        Ok(e) => e,
        Err(e) => {
            audit.error = Some(format!("cannot list {}: {e}", bag.display()));
            audit.ended = Utc::now();
            return (audit, None);
        }
    };
    if report.verdict == crate::verdict::Verdict::Unreadable && report.version.is_none() {
        audit.error = report.problems.first().map(|p| p.message.clone());
        audit.ended = Utc::now();
        return (audit, None);
    }
    // The baseline's algorithm, or the strongest this bag's manifests have.
    let algorithm = baseline
        .as_ref()
        .and_then(|b| b.algorithm.parse::<Algorithm>().ok())
        .or_else(|| {
            strongest(entries.iter().filter_map(|e| {
                let (tag, a) = manifest::classify(&e.path)?;
                (!tag && !e.path.contains('/'))
                    .then(|| Algorithm::from_manifest_name(a))
                    .flatten()
            }))
        })
        .unwrap_or(Algorithm::Sha512);
    let mut observed = observed.into_inner().expect("no panic while held");
    // Payload files validation did not hash in this algorithm (not listed, or listed only in
    // other manifests) are hashed now: their content decides between new and moved.
    let payload: Vec<(&str, u64)> = entries
        .iter()
        .filter(|e| e.path.starts_with("data/") && e.kind == EntryKind::File && e.utf8)
        .map(|e| (e.path.as_str(), e.size))
        .collect();
    let missing: Vec<(&str, u64)> = payload
        .iter()
        .copied()
        .filter(|(p, _)| observed.get(*p).and_then(|d| d.get(algorithm)).is_none())
        .collect();
    if !missing.is_empty() {
        let algs: AlgorithmSet = [algorithm].into_iter().collect();
        let requests: Vec<DigestRequest<'_>> = missing
            .iter()
            .map(|&(path, size)| DigestRequest {
                path,
                size_hint: size,
                algorithms: algs,
            })
            .collect();
        let extra: Mutex<Vec<(String, FileDigests)>> = Mutex::new(Vec::new());
        store.digest(&requests, engine, progress, &|i, r| {
            if let Ok(d) = r {
                extra
                    .lock()
                    .expect("no panic while held")
                    .push((requests[i].path.to_string(), d));
            }
        });
        for (p, d) in extra.into_inner().expect("no panic while held") {
            audit.bytes += d.size;
            observed.insert(p, d);
        }
    }
    let now = Current {
        files: payload
            .iter()
            .map(|(p, _)| {
                (
                    p.to_string(),
                    observed
                        .get(*p)
                        .and_then(|d| d.get(algorithm))
                        .map(|d| d.to_hex()),
                )
            })
            .collect(),
        manifest: read_manifest(&*store, false, algorithm),
        tags: read_manifest(&*store, true, algorithm),
    };
    let sizes: HashMap<&str, u64> = payload.iter().copied().collect();
    let (base, recorded) = match baseline {
        Some(b) => (b, None),
        None => {
            // The first audit: what the depositor's manifests claim is the baseline (a file
            // they do not list is new from the start, a listed file not there is missing).
            let files = match &now.manifest {
                Some(m) => m
                    .iter()
                    .map(|(p, d)| {
                        (
                            p.clone(),
                            d.clone(),
                            sizes.get(p.as_str()).copied().unwrap_or(0),
                        )
                    })
                    .collect(),
                None => Vec::new(),
            };
            let b = Baseline {
                algorithm: algorithm.name().to_string(),
                files,
                tags: now
                    .tags
                    .iter()
                    .flatten()
                    .map(|(p, d)| (p.clone(), d.clone()))
                    .collect(),
            };
            (b.clone(), Some(b))
        }
    };
    let c = classify(&base, &now);
    audit.counts = c.counts;
    audit.manifest_rewritten = c.manifest_rewritten;
    audit.baseline_recorded = recorded.is_some();
    let mut findings = c.findings;
    findings.append(&mut audit.findings);
    audit.findings = findings;
    let clean = c.counts.changed + c.counts.missing + c.counts.new + c.counts.moved == 0
        && !c.manifest_rewritten;
    audit.outcome = if report.verdict == crate::verdict::Verdict::Unreadable {
        Outcome::Unreadable
    } else if report.verdict.passed() && clean {
        Outcome::Passed
    } else {
        Outcome::Failed
    };
    audit.ended = Utc::now();
    (audit, recorded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_holds_readers_to_the_rate() {
        // 4 MiB at 8 MiB/s cannot take less than half a second, however fast the machine.
        let t = Throttle {
            inner: &crate::digest::NoProgress,
            rate: Some(8 << 20),
            start: Instant::now(),
            bytes: AtomicU64::new(0),
        };
        for _ in 0..4 {
            t.bytes(1 << 20);
        }
        assert!(
            t.start.elapsed() >= Duration::from_millis(490),
            "{:?}",
            t.start.elapsed()
        );
        // Without a rate, nothing waits.
        let free = Throttle {
            rate: None,
            start: Instant::now(),
            ..t
        };
        free.bytes(1 << 30);
        assert!(free.start.elapsed() < Duration::from_millis(490));
    }

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
