//! One owed file: download into the partial file (resuming it), hash every byte once for every
//! algorithm as it is written, and move the file into place only when it is whole and right.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::plan::Job;
use super::source::{OpenError, Source, supported};
use super::target::{self, Target, io_problem};
use super::{FetchOptions, FileReport, Outcome};
use crate::digest::{Algorithm, CHUNK, Digest, Hasher};
use crate::error::{Code, Problem};
use crate::fsutil;
use crate::paths;

/// Fetches the jobs of one bag.
pub struct Fetcher<'a> {
    bag: &'a Path,
    source: Source,
    retries: u32,
}

/// How an attempt ended, when it did not bring the whole file.
enum Stop {
    /// Try again (resuming): the network or the server failed.
    Retry(Problem),
    /// Start again from byte 0: the server cannot resume, or the resumed file was wrong.
    Restart,
    /// Give up, keeping the partial file (a redirect refused, a URL qoima does not fetch).
    GiveUp(Problem),
    /// Give up and delete the partial file: its bytes are wrong.
    Discard(Problem),
}

impl<'a> Fetcher<'a> {
    /// A fetcher for `bag`.
    pub fn new(bag: &'a Path, opts: &FetchOptions) -> Fetcher<'a> {
        Fetcher {
            bag,
            source: Source::new(opts.timeout, opts.allow_redirects),
            retries: opts.retries,
        }
    }

    /// Fetches one file, or says why not.
    pub fn fetch(&self, job: &Job) -> FileReport {
        let mut report = FileReport {
            path: job.entry.path.clone(),
            url: job.entry.url.clone(),
            outcome: Outcome::Failed,
            bytes: 0,
            resumed_from: None,
            problem: None,
        };
        match self.fetch_to_place(job, &mut report) {
            Ok(outcome) => report.outcome = outcome,
            // Located like validation's BAG-051: the fetch.txt line, the file as the field.
            Err(p) => {
                let p = p.file("fetch.txt").line(job.entry.line);
                report.problem = Some(p.field(job.entry.path.as_str()));
            }
        }
        report
    }

    fn fetch_to_place(&self, job: &Job, report: &mut FileReport) -> Result<Outcome, Problem> {
        let rel = job.entry.path.as_str();
        let destination = match target::prepare(self.bag, rel)? {
            Target::Present(path) => return check_present(job, &path),
            Target::Absent(path) => path,
        };
        if !supported(&job.entry.url) {
            return Err(Problem::new(
                Code::FetchUnsupportedUrl,
                format!(
                    "{} was not fetched: {} is not an http:, https: or file: URL",
                    paths::printable(rel),
                    paths::printable(&job.entry.url)
                ),
            )
            .file(rel));
        }
        let partial = target::partial_path(self.bag, rel)?;
        let mut download = Partial::open(&partial, job)?;
        if download.len > 0 {
            report.resumed_from = Some(download.len);
        }
        self.complete(job, &mut download, report)?;
        download
            .file
            .sync_all()
            .map_err(|e| io_problem(rel, &e.to_string()))?;
        fsutil::failpoint("fetch-before-place");
        place(&partial, &destination, rel)?;
        Ok(Outcome::Fetched)
    }

    /// Brings the partial file to a whole, verified file, or says why it cannot.
    fn complete(
        &self,
        job: &Job,
        download: &mut Partial,
        report: &mut FileReport,
    ) -> Result<(), Problem> {
        let rel = job.entry.path.as_str();
        let mut failures = 0;
        let mut restarted = false;
        loop {
            let stop = match self.attempt(job, download, report) {
                Ok(()) => match download.verify(job) {
                    Ok(()) => return Ok(()),
                    // A file resumed from an earlier run's bytes gets one fresh start.
                    Err(_) if download.resumed && !restarted => Stop::Restart,
                    Err(p) => Stop::Discard(p),
                },
                Err(stop) => stop,
            };
            match stop {
                Stop::Restart if !restarted => {
                    restarted = true;
                    download
                        .reset()
                        .map_err(|e| io_problem(rel, &e.to_string()))?;
                }
                Stop::Restart => {
                    return Err(io_problem(
                        rel,
                        "the server cannot send the file from its start",
                    ));
                }
                Stop::Retry(p) => {
                    failures += 1;
                    if failures > self.retries {
                        return Err(p);
                    }
                    std::thread::sleep(Duration::from_millis(200 << failures.min(4)));
                }
                Stop::GiveUp(p) => return Err(p),
                Stop::Discard(p) => {
                    download.discard();
                    return Err(p);
                }
            }
        }
    }

    /// One request: appends what the server sends to the partial file, within the limit.
    fn attempt(
        &self,
        job: &Job,
        download: &mut Partial,
        report: &mut FileReport,
    ) -> Result<(), Stop> {
        let rel = job.entry.path.as_str();
        let io = |e: std::io::Error| Stop::GiveUp(io_problem(rel, &e.to_string()));
        if job.entry.length.is_some_and(|l| l == download.len && l > 0) {
            return Ok(()); // an earlier run got every byte but stopped before moving the file
        }
        let opened = match self.source.open(&job.entry.url, download.len) {
            Ok(o) => o,
            Err(e) => return Err(open_stop(rel, e)),
        };
        if opened.start != download.len {
            download.reset().map_err(io)?;
        } else if opened.start > 0 {
            download.resumed = true;
        }
        if let (Some(limit), Some(announced)) = (job.limit, opened.announced)
            && download.len.saturating_add(announced) > limit
        {
            return Err(Stop::Discard(too_large(job, download.len + announced)));
        }
        let mut reader = opened.reader;
        let mut buf = vec![0u8; CHUNK / 4];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Stop::Retry(io_problem(
                        rel,
                        &format!("the transfer from {} broke off: {e}", job.entry.url),
                    )));
                }
            };
            if job
                .limit
                .is_some_and(|limit| download.len + n as u64 > limit)
            {
                return Err(Stop::Discard(too_large(job, download.len + n as u64)));
            }
            download.append(&buf[..n]).map_err(io)?;
            report.bytes += n as u64;
        }
        match job.entry.length {
            Some(declared) if download.len < declared => Err(Stop::Retry(io_problem(
                rel,
                &format!(
                    "{} ended after {} of {declared} bytes",
                    job.entry.url, download.len
                ),
            ))),
            _ => Ok(()),
        }
    }
}

fn open_stop(rel: &str, e: OpenError) -> Stop {
    let not = |code: Code, why: String| {
        Problem::new(
            code,
            format!("{} was not fetched: {why}", paths::printable(rel)),
        )
        .file(rel)
    };
    match e {
        OpenError::Unsupported(why) => Stop::GiveUp(not(Code::FetchUnsupportedUrl, why)),
        OpenError::Redirect(why) => Stop::GiveUp(not(
            Code::FetchRedirectRefused,
            format!("{why}; follow it with --allow-redirects"),
        )),
        OpenError::RangeNotSatisfiable => Stop::Restart,
        OpenError::Transient(why) => Stop::Retry(not(Code::FetchFailed, why)),
        OpenError::Permanent(why) => Stop::GiveUp(not(Code::FetchFailed, why)),
    }
}

fn too_large(job: &Job, got: u64) -> Problem {
    let rel = job.entry.path.as_str();
    let bound = match job.entry.length {
        Some(l) if job.limit == Some(l) => format!("the {l} bytes fetch.txt declares"),
        _ => format!("--max-bytes {}", job.limit.unwrap_or(0)),
    };
    Problem::new(
        Code::FetchTooLarge,
        format!(
            "{} was not fetched: {} sends at least {got} bytes, more than {bound}; the transfer was cut off",
            paths::printable(rel),
            paths::printable(&job.entry.url)
        ),
    )
    .file(rel)
}

/// Moves the verified file into place (never over a file that appeared meanwhile) and makes
/// the rename durable.
fn place(partial: &Path, destination: &Path, rel: &str) -> Result<(), Problem> {
    match fsutil::place_new(partial, destination) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Problem::new(
                Code::FetchTargetUnsafe,
                format!(
                    "{} was not fetched: a file appeared there while it was downloaded; it was left untouched",
                    paths::printable(rel)
                ),
            )
            .file(rel));
        }
        Err(e) => return Err(io_problem(rel, &format!("cannot move it into place: {e}"))),
    }
    if let Some(dir) = destination.parent() {
        fsutil::sync_dir(dir).map_err(|e| io_problem(rel, &e.to_string()))?;
    }
    Ok(())
}

/// A file already in the bag: skipped if it matches every manifest, never overwritten.
fn check_present(job: &Job, path: &Path) -> Result<Outcome, Problem> {
    let rel = job.entry.path.as_str();
    let file =
        crate::digest::open_for_read(path, false).map_err(|e| io_problem(rel, &e.to_string()))?;
    let mut hashers = Hashers::new(&job.expected);
    hashers
        .feed_all(file)
        .map_err(|e| io_problem(rel, &e.to_string()))?;
    match hashers.mismatch(&job.expected) {
        None => Ok(Outcome::Present),
        Some((alg, got, want)) => Err(Problem::new(
            Code::FetchPresentDiffers,
            format!(
                "{} is already in the bag, but its {alg} is {got} where the manifest says {want}; it was left untouched",
                paths::printable(rel)
            ),
        )
        .file(rel)),
    }
}

/// The partial download: its file (opened for appending, never through a link), its length,
/// and every algorithm's state over its bytes.
struct Partial {
    path: PathBuf,
    file: File,
    len: u64,
    hashers: Hashers,
    /// Some of its bytes came from an earlier request.
    resumed: bool,
}

impl Partial {
    /// Opens (or creates) the partial file and hashes what an earlier run left in it.
    fn open(path: &Path, job: &Job) -> Result<Partial, Problem> {
        let rel = job.entry.path.as_str();
        let io =
            |e: std::io::Error| io_problem(rel, &format!("partial file {}: {e}", path.display()));
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(io)?;
        let mut partial = Partial {
            path: path.to_path_buf(),
            file,
            len: 0,
            hashers: Hashers::new(&job.expected),
            resumed: false,
        };
        let held = partial.file.metadata().map_err(io)?.len();
        if job.limit.is_some_and(|limit| held > limit) {
            partial.reset().map_err(io)?;
            return Ok(partial);
        }
        partial.len = partial.hashers.feed_all(&partial.file).map_err(io)?;
        partial.resumed = partial.len > 0;
        Ok(partial)
    }

    fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.file.write_all(bytes)?;
        self.hashers.update(bytes);
        self.len += bytes.len() as u64;
        Ok(())
    }

    fn reset(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.len = 0;
        self.hashers.reset();
        self.resumed = false;
        Ok(())
    }

    fn verify(&mut self, job: &Job) -> Result<(), Problem> {
        let rel = job.entry.path.as_str();
        let wrong = |why: String| {
            Problem::new(
                Code::FetchWrongBytes,
                format!("{} was not fetched: {why}", paths::printable(rel)),
            )
            .file(rel)
        };
        if let Some(declared) = job.entry.length
            && declared != self.len
        {
            return Err(wrong(format!(
                "{} sent {} bytes, fetch.txt declares {declared}",
                paths::printable(&job.entry.url),
                self.len
            )));
        }
        match self.hashers.mismatch(&job.expected) {
            None => Ok(()),
            Some((alg, got, want)) => Err(wrong(format!(
                "the bytes from {} have {alg} {got}, the manifest says {want}",
                paths::printable(&job.entry.url)
            ))),
        }
    }

    fn discard(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Every algorithm a file is checked with, fed from one read.
struct Hashers(Vec<Hasher>);

impl Hashers {
    fn new(expected: &[(Algorithm, Digest)]) -> Hashers {
        Hashers(expected.iter().map(|(a, _)| Hasher::new(*a)).collect())
    }

    fn reset(&mut self) {
        for h in &mut self.0 {
            *h = Hasher::new(h.algorithm());
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        for h in &mut self.0 {
            h.update(bytes);
        }
    }

    /// Feeds everything `reader` holds; returns the length.
    fn feed_all(&mut self, mut reader: impl Read) -> std::io::Result<u64> {
        let mut buf = vec![0u8; CHUNK];
        let mut total = 0;
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return Ok(total),
                Ok(n) => {
                    self.update(&buf[..n]);
                    total += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Finishes every algorithm (the hashers start over) and returns the first whose digest
    /// differs from the expected one: (algorithm, got, expected).
    fn mismatch(
        &mut self,
        expected: &[(Algorithm, Digest)],
    ) -> Option<(Algorithm, Digest, Digest)> {
        let finished = std::mem::replace(self, Hashers::new(expected));
        finished
            .0
            .into_iter()
            .zip(expected)
            .map(|(h, (a, want))| (*a, h.finish(), *want))
            .find(|(_, got, want)| got != want)
    }
}
