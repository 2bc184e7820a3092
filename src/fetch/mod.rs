//! `qoima fetch`: completing a holey bag by downloading what its `fetch.txt` owes (RFC 8493
//! §2.2.3), so that nothing unverified ever enters the bag.
//!
//! The steps, each in its own file:
//! 1. [`plan`]: under the bag's lock, read `bagit.txt`, `fetch.txt` and every payload
//!    manifest; each owed file becomes a job carrying every checksum the manifests list for it.
//!    A line that cannot be fetched safely (unsafe path, not in every manifest, no algorithm
//!    qoima computes, larger than `--max-bytes`) is refused before anything is downloaded.
//! 2. [`target`]: the path under `data/` is walked component by component, refusing links and
//!    non-folders on the way; the partial download lives in `.qoima-fetch/` at the bag's top,
//!    named after the target path, so that a later run finds it and resumes.
//! 3. [`transfer`]: the bytes come from [`source`] (http, https, file), are appended to the
//!    partial file and fed to every algorithm in the same pass, cut off beyond the declared
//!    length; an interrupted transfer resumes with an HTTP `Range` from the partial's length.
//! 4. Only a complete file whose every checksum matches is fsynced and moved into place with
//!    [`crate::fsutil::place_new`] (never over a file that appeared meanwhile).
//!
//! `fetch.txt` is left as it is: RFC 8493 lets a complete bag keep it (its lines then name
//! files that are present), and rewriting it would change the tag manifests (and break a
//! seal). A profile that forbids `fetch.txt` still sees
//! it.

mod plan;
mod source;
mod target;
mod transfer;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::Serialize;

use crate::error::{Kind, Problem};
use crate::fsutil::{DirLock, LockError};

/// The folder, at the bag's top, that holds partial downloads between runs.
pub const PARTIAL_DIR: &str = ".qoima-fetch";

/// How to fetch.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// Files downloaded at once (at least 1).
    pub jobs: usize,
    /// Further attempts after a failed one, per file (each resumes where the last stopped).
    pub retries: u32,
    /// How long to wait to connect, for the response, and for each read.
    pub timeout: Duration,
    /// The most bytes accepted for any one file, whatever fetch.txt declares.
    pub max_bytes: Option<u64>,
    /// Follow redirects to another host (or from https to http).
    pub allow_redirects: bool,
}

impl Default for FetchOptions {
    fn default() -> FetchOptions {
        FetchOptions {
            jobs: 4,
            retries: 2,
            timeout: Duration::from_secs(30),
            max_bytes: None,
            allow_redirects: false,
        }
    }
}

/// What became of one owed file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Downloaded, verified against every manifest, and moved into place.
    Fetched,
    /// Already in the bag and matching the manifests: skipped.
    Present,
    /// Not fetched; `problem` says why.
    Failed,
}

/// One fetch.txt entry's result.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    /// The bag path (`data/…`).
    pub path: String,
    /// The URL from fetch.txt.
    pub url: String,
    /// What happened.
    pub outcome: Outcome,
    /// Bytes received in this run.
    pub bytes: u64,
    /// When the download continued a partial file from an earlier attempt: its length then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_from: Option<u64>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

/// The result of a fetch run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FetchReport {
    /// One per fetchable fetch.txt entry, in fetch.txt order.
    pub files: Vec<FileReport>,
    /// Lines refused before any download (malformed, unsafe, unverifiable), and problems of the
    /// bag that stopped the plan.
    pub problems: Vec<Problem>,
}

impl FetchReport {
    /// The problems of the run: refused lines and failed files.
    pub fn all_problems(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .chain(self.files.iter().filter_map(|f| f.problem.as_ref()))
    }

    /// Whether a download was refused or gave wrong bytes (exit 1).
    pub fn any_refused(&self) -> bool {
        self.all_problems()
            .any(|p| matches!(p.kind, Kind::Invalid | Kind::Refused | Kind::Incomplete))
    }

    /// Whether something could not be fetched (exit 2 unless something was refused).
    pub fn any_unfetched(&self) -> bool {
        self.all_problems().any(|p| p.kind == Kind::Unreadable)
    }

    /// How many files ended with `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.files.iter().filter(|f| f.outcome == outcome).count()
    }
}

/// Why a fetch could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Another run holds the bag.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The folder is not a bag qoima can read.
    #[error("{}: {why}; give the folder that holds bagit.txt", path.display())]
    NotABag {
        /// The folder.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// A tag file could not be read.
    #[error("cannot read {}: {source}; check its permissions", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Fetches every file `bag/fetch.txt` still owes, verifying each against every payload
/// manifest before it enters the bag. Holds the bag's lock throughout.
pub fn fetch_bag(bag: &Path, opts: &FetchOptions) -> Result<FetchReport, FetchError> {
    let _lock = DirLock::try_acquire(bag)?;
    let planned = plan::plan(bag, opts)?;
    let mut report = FetchReport {
        files: Vec::with_capacity(planned.jobs.len()),
        problems: planned.refused,
    };
    let fetcher = transfer::Fetcher::new(bag, opts);
    report.files = run_jobs(&planned.jobs, opts.jobs, |job| fetcher.fetch(job));
    target::remove_partial_dir_if_empty(bag);
    Ok(report)
}

/// Runs `work` over `jobs` on `workers` threads, keeping the jobs' order in the result.
fn run_jobs<J: Sync, R: Send>(jobs: &[J], workers: usize, work: impl Fn(&J) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(jobs.len()));
    std::thread::scope(|scope| {
        for _ in 0..workers.clamp(1, jobs.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let r = work(job);
                    results.lock().expect("no panic while held").push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().expect("no panic while held");
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
