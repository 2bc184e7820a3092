//! Running an audit: each bag is claimed in the register, audited ([`audit_bag`]: fully
//! validated, folder or archive, and compared with its baseline, recorded at its first
//! audit, from the digests validation computes — one read of the bag) and recorded, a group
//! of bags per transaction, so a run killed at any moment loses at most a quarter second of
//! results.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use rayon::prelude::*;
use serde::Serialize;

use super::bag::audit_bag;
use super::model::{BagAudit, Baseline, Outcome};
use super::register::{Claim, Register, RegisterError, RunInfo};
use crate::digest::{Engine, Progress};
use crate::store::Limits;

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

/// A bag claimed for this run: its key, its id in the register and its baseline.
type Claimed = (String, i64, Option<Baseline>);

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
    let keys: Vec<String> = bags.iter().map(|bag| bag_key(bag)).collect();
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
    let mut pending = Pending {
        register,
        run,
        results: Vec::new(),
        last_flush: Instant::now(),
    };
    let mut stopped = false;
    // Small bags take less time to audit than to record one by one: claims are taken, and
    // results recorded, a group at a time. A group grows while bags go fast and falls back to
    // one bag when one is slow, so that a big bag is never held, or its result kept
    // unrecorded, for long. A kill loses at most the unrecorded results of the last quarter
    // second; those bags are audited again by the next run.
    let mut group = 1usize;
    let mut next = 0usize;
    while next < order.len() {
        let chunk = &order[next..(next + group).min(order.len())];
        next += chunk.len();
        let claims = register.batch(|r| {
            chunk
                .iter()
                .map(|bag| r.claim(run, bag, opts.older_than))
                .collect::<Result<Vec<Claim>, RegisterError>>()
        })?;
        let began = Instant::now();
        let over_budget = opts.max_bytes.is_some_and(|max| summary.bytes >= max)
            || opts.max_duration.is_some_and(|max| start.elapsed() >= max);
        let work = sort_claims(register, chunk, &claims, over_budget, &mut summary)?;
        if over_budget {
            stopped = true;
            summary
                .skipped
                .extend(order[next..].iter().map(|bag| Skipped {
                    bag: bag.clone(),
                    why: Skip::Budget,
                }));
            break;
        }
        for (bag_id, audit, new_baseline) in audit_group(work, opts, engine, &throttle, progress) {
            summary.bytes += audit.bytes;
            if audit.outcome != Outcome::Passed {
                summary.failed += 1;
            }
            summary.audits.push(audit.clone());
            pending.results.push((bag_id, new_baseline, audit));
        }
        pending.flush_when_due()?;
        group = if began.elapsed() < Duration::from_millis(100) {
            (group * 2).min(64)
        } else {
            1
        };
    }
    pending.flush()?;
    summary.outcome = run_outcome(&summary, stopped).to_string();
    register.finish_run(
        run,
        &summary.outcome,
        summary.audits.len() as u64,
        summary.bytes,
        summary.failed,
    )?;
    Ok(summary)
}

/// The claims of a group: the bags to audit now, in order; the others go to `summary` as
/// skipped (fresh, busy, or — when the budget is spent — released for the next run).
fn sort_claims(
    register: &Register,
    chunk: &[String],
    claims: &[Claim],
    over_budget: bool,
    summary: &mut RunSummary,
) -> Result<Vec<Claimed>, RegisterError> {
    let mut work = Vec::new();
    for (bag, &claim) in chunk.iter().zip(claims) {
        let why = match claim {
            Claim::Claimed { bag_id } if over_budget => {
                // Left for the next run, which starts with it.
                register.release(bag_id)?;
                Skip::Budget
            }
            Claim::Claimed { bag_id } => {
                work.push((bag.clone(), bag_id, register.baseline(bag_id)?));
                continue;
            }
            Claim::Fresh { last_verified } => Skip::Fresh { last_verified },
            Claim::Busy { run } => Skip::Busy { run },
        };
        summary.skipped.push(Skipped {
            bag: bag.clone(),
            why,
        });
    }
    Ok(work)
}

/// Audits the claimed bags of a group: `(bag id, audit, baseline recorded)` each, in order.
/// A group of small bags is audited side by side: a bag of a few files cannot keep every
/// core busy on its own.
fn audit_group(
    work: Vec<Claimed>,
    opts: &AuditOptions,
    engine: &Engine,
    throttle: &Throttle<'_>,
    progress: &dyn Progress,
) -> Vec<(i64, BagAudit, Option<Baseline>)> {
    let audit_one = |(bag, bag_id, baseline): Claimed| {
        let (audit, new_baseline) =
            audit_bag(Path::new(&bag), baseline, &opts.limits, engine, throttle);
        (bag_id, audit, new_baseline)
    };
    if work.len() == 1 {
        progress.stage(&format!("auditing {}", work[0].0), 0, 0);
        work.into_iter().map(audit_one).collect()
    } else {
        progress.stage(&format!("auditing {} bags", work.len()), 0, 0);
        engine.install(|| work.into_par_iter().map(audit_one).collect())
    }
}

/// Audited bags not recorded yet, written to the register a group at a time.
struct Pending<'a> {
    register: &'a Register,
    run: i64,
    /// `(bag id, baseline to set at a first audit, audit)`.
    results: Vec<(i64, Option<Baseline>, BagAudit)>,
    last_flush: Instant,
}

impl Pending<'_> {
    /// Records the results once a quarter second has passed since the last time.
    fn flush_when_due(&mut self) -> Result<(), RegisterError> {
        if self.last_flush.elapsed() >= Duration::from_millis(250) {
            self.flush()?;
            self.last_flush = Instant::now();
        }
        Ok(())
    }

    /// Records every result in one transaction.
    fn flush(&mut self) -> Result<(), RegisterError> {
        if self.results.is_empty() {
            return Ok(());
        }
        let count = self.results.len();
        let run = self.run;
        let results = &mut self.results;
        self.register.batch(|register| {
            for (bag_id, baseline, audit) in results.drain(..) {
                if let Some(baseline) = &baseline {
                    register.set_baseline(bag_id, baseline)?;
                }
                register.record(run, bag_id, &audit)?;
            }
            Ok(())
        })?;
        for _ in 0..count {
            crate::fsutil::failpoint("audit-after-bag");
        }
        Ok(())
    }
}

/// `failed` when a bag failed, else `stopped` when the budget ran out, else `passed`.
fn run_outcome(summary: &RunSummary, stopped: bool) -> &'static str {
    if summary.failed > 0 {
        "failed"
    } else if stopped {
        "stopped"
    } else {
        "passed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_holds_readers_to_the_rate() {
        // 4 MiB at 8 MiB/s cannot take less than half a second, however fast the machine.
        let throttle = Throttle {
            inner: &crate::digest::NoProgress,
            rate: Some(8 << 20),
            start: Instant::now(),
            bytes: AtomicU64::new(0),
        };
        for _ in 0..4 {
            throttle.bytes(1 << 20);
        }
        assert!(
            throttle.start.elapsed() >= Duration::from_millis(490),
            "{:?}",
            throttle.start.elapsed()
        );
        // Without a rate, nothing waits.
        let free = Throttle {
            rate: None,
            start: Instant::now(),
            ..throttle
        };
        free.bytes(1 << 30);
        assert!(free.start.elapsed() < Duration::from_millis(490));
    }
}
