//! The parallel hashing engine.
//!
//! I/O policy, written once here:
//! - every file is read exactly once, with plain `read(2)` into 1 MiB buffers, and every
//!   requested algorithm (and, when bagging to a new place, the copy) is fed from that one read;
//! - no memory maps: a file truncated under a map kills the process with SIGBUS, and page-cache
//!   reads run at ~10 GB/s here, far above any hash, so a map would buy nothing;
//! - files are hashed in parallel on one rayon pool, biggest first, so the tail of a run is
//!   made of small files and no core idles while a big one finishes;
//! - a big file with two or more consumers (say sha256 and sha512) is split across them: each
//!   chunk is handed to one task per algorithm while the next chunk is read, so a single 4 GiB
//!   file keeps every core busy. At most `jobs` files are split at once, each holding two
//!   buffers, so memory stays bounded by `jobs × (2 MiB + 1 MiB)` whatever the file sizes;
//! - the size seen at open is compared with the bytes read and with a second `fstat` at the end,
//!   so a file that changes while it is hashed is reported, never silently digested.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::{Algorithm, AlgorithmSet, Digest, Hasher};

/// Bytes handed to the hashes at a time.
pub const CHUNK: usize = 1 << 20;

/// Files at least this big are split across algorithms.
pub const SPLIT_THRESHOLD: u64 = 4 << 20;

/// One file to hash.
#[derive(Debug, Clone)]
pub struct HashJob {
    /// Where to read it.
    pub path: PathBuf,
    /// Its size as seen when the job was planned (used to schedule biggest first).
    pub size_hint: u64,
    /// The algorithms to compute.
    pub algorithms: AlgorithmSet,
    /// When set, the bytes read are also written to this new file (which must not exist).
    pub copy_to: Option<PathBuf>,
    /// Open the path even when it is a symbolic link (its target is read).
    pub follow_links: bool,
}

/// The digests of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigests {
    /// Bytes read.
    pub size: u64,
    digests: Vec<(Algorithm, Digest)>,
}

impl FileDigests {
    /// Digests computed elsewhere (a streaming reader of an archive).
    pub fn new(size: u64, digests: Vec<(Algorithm, Digest)>) -> FileDigests {
        FileDigests { size, digests }
    }

    /// Only the digests for `algorithms`, if every one of them was computed.
    pub fn subset(&self, algorithms: AlgorithmSet) -> Option<FileDigests> {
        let digests: Vec<(Algorithm, Digest)> = self
            .digests
            .iter()
            .filter(|(a, _)| algorithms.contains(*a))
            .cloned()
            .collect();
        (digests.len() == algorithms.len()).then_some(FileDigests {
            size: self.size,
            digests,
        })
    }

    /// The digest for `a`, if it was computed.
    pub fn get(&self, a: Algorithm) -> Option<&Digest> {
        self.digests.iter().find(|(x, _)| *x == a).map(|(_, d)| d)
    }

    /// All digests, in manifest order.
    pub fn iter(&self) -> impl Iterator<Item = (Algorithm, &Digest)> {
        self.digests.iter().map(|(a, d)| (*a, d))
    }
}

/// Why a file could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    /// The file could not be opened.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Reading failed part-way.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Writing the copy failed.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The copy being written.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The path is not a regular file (a directory, FIFO, device or socket).
    #[error("{} is not a regular file", path.display())]
    NotRegular {
        /// The path.
        path: PathBuf,
    },
    /// An archive entry's data disagrees with its header, or does not decompress.
    #[error("{}: {reason}", path.display())]
    Damaged {
        /// The entry.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file changed while it was read.
    #[error("{} changed while it was read ({expected} bytes at open; {actual} read or now on disk; or its modification time moved)", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
        /// Size at open.
        expected: u64,
        /// Bytes read, or size at the end.
        actual: u64,
    },
}

/// One stream to hash: an entry of an archive, read through its own reader.
pub struct StreamJob<'a> {
    /// What to call it in errors (`bag.zip:bag/data/a.jpg`).
    pub name: PathBuf,
    /// Its bytes (decompressed and checked as the reader sees fit).
    pub reader: Box<dyn Read + Send + 'a>,
    /// The size its header declares: fewer or more bytes are an error.
    pub size: u64,
    /// The algorithms to compute.
    pub algorithms: AlgorithmSet,
}

/// Receives progress as bytes are hashed; called from many threads.
pub trait Progress: Sync {
    /// `n` more bytes were hashed.
    fn bytes(&self, _n: u64) {}
    /// One more file is done.
    fn file_done(&self) {}
    /// A new stage of the work begins (`checking`, `hashing`, `describing`…), with its
    /// size when known (0 when not); the byte and file counts restart.
    fn stage(&self, _name: &str, _total_bytes: u64, _total_files: u64) {}
}

/// No progress reporting.
pub struct NoProgress;
impl Progress for NoProgress {}

/// A pool of hashing threads.
pub struct Engine {
    pool: rayon::ThreadPool,
    jobs: usize,
    splits_in_flight: AtomicUsize,
    /// Files being hashed right now: when it is below `jobs`, some thread is idle and a big
    /// file's chunks are worth splitting.
    active: AtomicUsize,
}

thread_local! {
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl Engine {
    /// An engine with `jobs` threads (0: one per core).
    pub fn new(jobs: usize) -> io::Result<Engine> {
        let jobs = if jobs == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            jobs
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .thread_name(|i| format!("qoima-hash-{i}"))
            .build()
            .map_err(io::Error::other)?;
        Ok(Engine {
            pool,
            jobs,
            splits_in_flight: AtomicUsize::new(0),
            active: AtomicUsize::new(0),
        })
    }

    /// Number of threads.
    pub fn jobs(&self) -> usize {
        self.jobs
    }

    /// Runs `f` inside the engine's pool (for callers that want their own parallel loops).
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }

    /// Hashes every job; the result at index `i` belongs to `jobs[i]`.
    pub fn run(
        &self,
        jobs: &[HashJob],
        progress: &dyn Progress,
    ) -> Vec<Result<FileDigests, DigestError>> {
        self.run_with(
            jobs.len(),
            |i| jobs[i].size_hint,
            |i| jobs[i].clone(),
            progress,
        )
    }

    /// Hashes `count` jobs made on demand by `job(i)` (so that a run over 100,000 files never
    /// holds 100,000 paths at once); `size(i)` is job `i`'s size, for scheduling. The result
    /// at index `i` belongs to job `i`.
    pub fn run_with(
        &self,
        count: usize,
        size: impl Fn(usize) -> u64 + Sync,
        job: impl Fn(usize) -> HashJob + Sync,
        progress: &dyn Progress,
    ) -> Vec<Result<FileDigests, DigestError>> {
        let slots: Vec<std::sync::Mutex<Option<Result<FileDigests, DigestError>>>> =
            (0..count).map(|_| std::sync::Mutex::new(None)).collect();
        self.run_each(count, size, job, progress, |i, r| {
            *slots[i].lock().expect("no panics while holding it") = Some(r);
        });
        slots
            .into_iter()
            .map(|m| {
                m.into_inner()
                    .expect("no panics while holding it")
                    .expect("every job yields one result")
            })
            .collect()
    }

    /// Like [`Engine::run_with`], but hands each result to `done(i, result)` as soon as it is
    /// ready (from the hashing threads) instead of keeping them all: a validator compares
    /// and forgets, so its memory does not grow with the number of files.
    pub fn run_each(
        &self,
        count: usize,
        size: impl Fn(usize) -> u64 + Sync,
        job: impl Fn(usize) -> HashJob + Sync,
        progress: &dyn Progress,
        done: impl Fn(usize, Result<FileDigests, DigestError>) + Sync,
    ) {
        let mut order: Vec<(u64, usize)> = (0..count).map(|i| (size(i), i)).collect();
        order.sort_unstable_by_key(|&(s, i)| (Reverse(s), i));
        self.pool.install(|| {
            order.par_iter().with_max_len(1).for_each(|&(_, i)| {
                self.active.fetch_add(1, Ordering::Relaxed);
                let r = self.hash_one(&job(i), progress);
                self.active.fetch_sub(1, Ordering::Relaxed);
                progress.file_done();
                done(i, r);
            })
        });
    }

    /// Hashes `count` streams opened on demand by `open(i)`, biggest first, handing each
    /// result to `done(i, result)`: the archive readers' counterpart of
    /// [`Engine::run_each`] (a big entry is split across algorithms in the same way).
    pub fn run_each_stream<'a>(
        &self,
        count: usize,
        size: impl Fn(usize) -> u64 + Sync,
        open: impl Fn(usize) -> Result<StreamJob<'a>, DigestError> + Sync,
        progress: &dyn Progress,
        done: impl Fn(usize, Result<FileDigests, DigestError>) + Sync,
    ) {
        let mut order: Vec<(u64, usize)> = (0..count).map(|i| (size(i), i)).collect();
        order.sort_unstable_by_key(|&(s, i)| (Reverse(s), i));
        self.pool.install(|| {
            order.par_iter().with_max_len(1).for_each(|&(_, i)| {
                self.active.fetch_add(1, Ordering::Relaxed);
                let r = open(i).and_then(|job| self.hash_stream(job, progress));
                self.active.fetch_sub(1, Ordering::Relaxed);
                progress.file_done();
                done(i, r);
            })
        });
    }

    /// Hashes one stream on the calling thread (splitting a big one across idle threads of
    /// the pool when called inside it).
    pub fn hash_stream(
        &self,
        mut job: StreamJob<'_>,
        progress: &dyn Progress,
    ) -> Result<FileDigests, DigestError> {
        let mut hashers: Vec<Hasher> = job.algorithms.iter().map(Hasher::new).collect();
        let split = job.size >= SPLIT_THRESHOLD
            && hashers.len() >= 2
            && self.jobs >= 2
            && self.take_split();
        let read = if split {
            let r = split_read(
                &mut job.reader,
                &job.name,
                job.size,
                &mut hashers,
                None,
                progress,
                || self.active.load(Ordering::Relaxed) < self.jobs,
            );
            self.splits_in_flight.fetch_sub(1, Ordering::AcqRel);
            r.map_err(damaged)?
        } else {
            sequential_read(
                &mut job.reader,
                &job.name,
                job.size,
                &mut hashers,
                None,
                progress,
            )
            .map_err(damaged)?
        };
        // A reader that stops where the header says must also be at its end: one more byte
        // means the entry holds more than it declares.
        let mut probe = [0u8; 1];
        let more = if read == job.size {
            read_full(&mut job.reader, &mut probe, 1).map_err(|source| DigestError::Read {
                path: job.name.clone(),
                source,
            })
        } else {
            Ok(0)
        };
        let more = more.map_err(damaged)?;
        if read != job.size || more != 0 {
            return Err(DigestError::Damaged {
                path: job.name.clone(),
                reason: format!(
                    "its header declares {} bytes, its data holds {}",
                    job.size,
                    if more != 0 {
                        format!("more than {read}")
                    } else {
                        read.to_string()
                    }
                ),
            });
        }
        Ok(FileDigests {
            size: read,
            digests: hashers
                .into_iter()
                .map(|h| (h.algorithm(), h.finish()))
                .collect(),
        })
    }

    fn hash_one(&self, job: &HashJob, progress: &dyn Progress) -> Result<FileDigests, DigestError> {
        let file = open_for_read(&job.path, job.follow_links).map_err(|source| {
            if source.raw_os_error() == Some(libc::ELOOP) {
                DigestError::NotRegular {
                    path: job.path.clone(),
                }
            } else {
                DigestError::Open {
                    path: job.path.clone(),
                    source,
                }
            }
        })?;
        let meta = file.metadata().map_err(|source| DigestError::Open {
            path: job.path.clone(),
            source,
        })?;
        if !meta.is_file() {
            return Err(DigestError::NotRegular {
                path: job.path.clone(),
            });
        }
        let size = meta.len();
        let mut copy = match &job.copy_to {
            Some(p) => Some(Copy {
                file: crate::fsutil::create_new(p).map_err(|source| DigestError::Write {
                    path: p.clone(),
                    source,
                })?,
                path: p,
            }),
            None => None,
        };
        let mut hashers: Vec<Hasher> = job.algorithms.iter().map(Hasher::new).collect();
        let consumers = hashers.len() + usize::from(copy.is_some());
        let split =
            size >= SPLIT_THRESHOLD && consumers >= 2 && self.jobs >= 2 && self.take_split();
        let mut src: &File = &file;
        let read = if split {
            let r = split_read(
                &mut src,
                &job.path,
                size,
                &mut hashers,
                copy.as_mut(),
                progress,
                || self.active.load(Ordering::Relaxed) < self.jobs,
            );
            self.splits_in_flight.fetch_sub(1, Ordering::AcqRel);
            r?
        } else {
            sequential_read(
                &mut src,
                &job.path,
                size,
                &mut hashers,
                copy.as_mut(),
                progress,
            )?
        };
        // A read of more than one chunk takes long enough for a writer to get in between: the
        // size, modification time and change time must be those seen at open (a file rewritten
        // in place at the same size changes its times).
        let stamp = |m: &std::fs::Metadata| {
            use std::os::unix::fs::MetadataExt;
            (
                m.len(),
                m.mtime(),
                m.mtime_nsec(),
                m.ctime(),
                m.ctime_nsec(),
            )
        };
        let (now, rewritten) = if size > CHUNK as u64 {
            match file.metadata() {
                Ok(m) => (m.len(), stamp(&m) != stamp(&meta)),
                Err(source) => {
                    return Err(DigestError::Read {
                        path: job.path.clone(),
                        source,
                    });
                }
            }
        } else {
            (read, false)
        };
        if read != size || now != size || rewritten {
            if let Some(c) = &job.copy_to {
                let _ = std::fs::remove_file(c);
            }
            return Err(DigestError::Changed {
                path: job.path.clone(),
                expected: size,
                actual: if read != size { read } else { now },
            });
        }
        if let Some(c) = copy {
            finish_copy(c.file, c.path, &meta)?;
        }
        Ok(FileDigests {
            size: read,
            digests: hashers
                .into_iter()
                .map(|h| (h.algorithm(), h.finish()))
                .collect(),
        })
    }

    fn take_split(&self) -> bool {
        self.splits_in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.jobs).then_some(n + 1)
            })
            .is_ok()
    }
}

/// An archive reader reports a CRC mismatch or undecodable data as `InvalidData`: that is
/// damage to the entry, not a failure to read.
fn damaged(e: DigestError) -> DigestError {
    match e {
        DigestError::Read { path, source } if source.kind() == io::ErrorKind::InvalidData => {
            DigestError::Damaged {
                path,
                reason: source.to_string(),
            }
        }
        e => e,
    }
}

struct Copy<'a> {
    file: File,
    path: &'a Path,
}

/// Opens a file for reading; without `follow`, a symbolic link is refused (ELOOP) rather
/// than followed, so a link swapped in after the scan cannot lead outside the bag.
/// `O_NONBLOCK` keeps a FIFO from blocking the open forever (it is then refused by its
/// type); it changes nothing for reads of regular files.
pub fn open_for_read(path: &Path, follow: bool) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true);
    let mut flags = libc::O_NONBLOCK;
    if !follow {
        flags |= libc::O_NOFOLLOW;
    }
    o.custom_flags(flags);
    o.open(path)
}

fn finish_copy(file: File, path: &Path, source: &std::fs::Metadata) -> Result<(), DigestError> {
    let werr = |source| DigestError::Write {
        path: path.to_path_buf(),
        source,
    };
    file.set_permissions(source.permissions()).map_err(werr)?;
    if let Ok(m) = source.modified() {
        file.set_modified(m).map_err(werr)?;
    }
    Ok(())
}

/// Fills `buf` from the file, stopping early at end of file or once the `remaining` bytes
/// the file was expected to hold have arrived: for the typical small file that saves the
/// second `read(2)` that would only confirm the end (a file that grew is caught by the
/// callers' size checks).
fn read_full(src: &mut (dyn Read + Send), buf: &mut [u8], remaining: u64) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => {
                n += k;
                if n as u64 >= remaining {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn sequential_read(
    src: &mut (dyn Read + Send),
    path: &Path,
    size: u64,
    hashers: &mut [Hasher],
    mut copy: Option<&mut Copy<'_>>,
    progress: &dyn Progress,
) -> Result<u64, DigestError> {
    BUFFER.with(|cell| {
        let mut buf = cell.borrow_mut();
        if buf.len() < CHUNK {
            buf.resize(CHUNK, 0);
        }
        let mut total = 0u64;
        loop {
            let n = read_full(src, &mut buf, size.saturating_sub(total)).map_err(|source| {
                DigestError::Read {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
            if n == 0 {
                return Ok(total);
            }
            let data = &buf[..n];
            for h in hashers.iter_mut() {
                h.update(data);
            }
            if let Some(c) = copy.as_deref_mut() {
                c.file
                    .write_all(data)
                    .map_err(|source| DigestError::Write {
                        path: c.path.to_path_buf(),
                        source,
                    })?;
            }
            total += n as u64;
            progress.bytes(n as u64);
            if n < buf.len() {
                // End of file, or all the bytes the file held at open have been read.
                return Ok(total);
            }
        }
    })
}

fn split_read(
    src: &mut (dyn Read + Send),
    path: &Path,
    size: u64,
    hashers: &mut [Hasher],
    mut copy: Option<&mut Copy<'_>>,
    progress: &dyn Progress,
    idle_threads: impl Fn() -> bool,
) -> Result<u64, DigestError> {
    let rerr = |source| DigestError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut cur = vec![0u8; CHUNK];
    let mut next = vec![0u8; CHUNK];
    let mut n = read_full(src, &mut cur, size).map_err(rerr)?;
    let mut total = 0u64;
    while n > 0 {
        let data = &cur[..n];
        let mut read_result = Ok(0);
        let mut write_result = Ok(());
        let remaining = size.saturating_sub(total + n as u64);
        // The slowest hash runs here; everything else — reading the next chunk first, so it
        // starts at once, then the copy and the lighter hashes — is offered to idle threads.
        // With sha256 + sha512 on two cores, one core does SHA-512 and the other SHA-256 and
        // the reading, so a chunk costs max(sha512, sha256 + read) instead of their sum.
        // When every thread has a file of its own, splitting would only add hand-overs: the
        // chunk is done here, in order, as a sequential read would.
        if !idle_threads() {
            for h in hashers.iter_mut() {
                h.update(data);
            }
            if let Some(c) = copy.as_deref_mut() {
                write_result = c.file.write_all(data);
            }
            if n == CHUNK {
                read_result = read_full(src, &mut next, remaining);
            }
        } else {
            let (light, heavy) = split_heaviest(hashers);
            rayon::scope(|s| {
                let next = &mut next;
                let rr = &mut read_result;
                let src = &mut *src;
                if n == CHUNK {
                    s.spawn(move |_| *rr = read_full(src, next, remaining));
                }
                if let Some(c) = copy.as_deref_mut() {
                    let w = &mut write_result;
                    s.spawn(move |_| *w = c.file.write_all(data));
                }
                for h in light {
                    s.spawn(move |_| h.update(data));
                }
                if let Some(h) = heavy {
                    h.update(data);
                }
            });
        }
        if let (Err(source), Some(c)) = (write_result, copy.as_deref()) {
            return Err(DigestError::Write {
                path: c.path.to_path_buf(),
                source,
            });
        }
        total += n as u64;
        progress.bytes(n as u64);
        n = read_result.map_err(rerr)?;
        std::mem::swap(&mut cur, &mut next);
    }
    Ok(total)
}

/// The hashers other than the slowest, and the slowest (by measured per-byte cost).
fn split_heaviest(
    hashers: &mut [Hasher],
) -> (impl Iterator<Item = &mut Hasher>, Option<&mut Hasher>) {
    let cost = |a: Algorithm| match a {
        Algorithm::Md5 => 17,
        Algorithm::Sha1 | Algorithm::Sha224 | Algorithm::Sha256 => 6,
        Algorithm::Sha384 | Algorithm::Sha512 => 12,
        Algorithm::Blake3 => 2,
    };
    let heaviest = (0..hashers.len()).max_by_key(|&i| cost(hashers[i].algorithm()));
    match heaviest {
        None => (Vec::new().into_iter(), None),
        Some(i) => {
            let (left, rest) = hashers.split_at_mut(i);
            let (h, right) = rest.split_first_mut().expect("index in range");
            let light: Vec<&mut Hasher> = left.iter_mut().chain(right.iter_mut()).collect();
            (light.into_iter(), Some(h))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::digest_bytes;

    fn job(path: PathBuf, algs: &[Algorithm]) -> HashJob {
        HashJob {
            size_hint: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
            path,
            algorithms: algs.iter().copied().collect(),
            copy_to: None,
            follow_links: false,
        }
    }

    #[test]
    fn split_and_sequential_paths_agree_with_one_shot_digests() {
        let dir = tempfile::tempdir().unwrap();
        // Sizes around the chunk and split boundaries, where off-by-one errors live.
        let sizes = [
            0,
            1,
            CHUNK - 1,
            CHUNK,
            CHUNK + 1,
            SPLIT_THRESHOLD as usize,
            SPLIT_THRESHOLD as usize + 3 * CHUNK + 7,
        ];
        let mut jobs = Vec::new();
        let mut contents = Vec::new();
        for (i, size) in sizes.iter().enumerate() {
            let data: Vec<u8> = (0..*size).map(|k| (k * 31 + i) as u8).collect();
            let p = dir.path().join(format!("f{i}"));
            std::fs::write(&p, &data).unwrap();
            jobs.push(job(
                p,
                &[Algorithm::Sha256, Algorithm::Sha512, Algorithm::Md5],
            ));
            contents.push(data);
        }
        for threads in [1, 2, 3] {
            let engine = Engine::new(threads).unwrap();
            let results = engine.run(&jobs, &NoProgress);
            for (r, data) in results.iter().zip(&contents) {
                let r = r.as_ref().unwrap();
                assert_eq!(r.size, data.len() as u64);
                for a in [Algorithm::Sha256, Algorithm::Sha512, Algorithm::Md5] {
                    assert_eq!(
                        r.get(a).unwrap().to_hex(),
                        digest_bytes(a, data),
                        "{a} {}",
                        data.len()
                    );
                }
                assert_eq!(r.get(Algorithm::Sha1), None);
            }
        }
    }

    #[test]
    fn copy_writes_identical_bytes_and_keeps_mtime() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let data: Vec<u8> = (0..(SPLIT_THRESHOLD as usize + 12345))
            .map(|k| k as u8)
            .collect();
        std::fs::write(&src, &data).unwrap();
        let past =
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_641_300_000);
        File::options()
            .write(true)
            .open(&src)
            .unwrap()
            .set_modified(past)
            .unwrap();
        let mut j = job(src, &[Algorithm::Sha256]);
        j.copy_to = Some(dir.path().join("dst"));
        let r = Engine::new(2).unwrap().run(&[j], &NoProgress);
        assert!(r[0].is_ok());
        assert_eq!(std::fs::read(dir.path().join("dst")).unwrap(), data);
        let m = std::fs::metadata(dir.path().join("dst")).unwrap();
        assert_eq!(m.modified().unwrap(), past);
    }

    #[test]
    fn refuses_symlinks_and_fifos_unless_following() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("target"), b"x").unwrap();
        std::os::unix::fs::symlink("target", dir.path().join("link")).unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let engine = Engine::new(1).unwrap();
        let mut follow = job(dir.path().join("link"), &[Algorithm::Sha256]);
        follow.follow_links = true;
        let r = engine.run(
            &[
                job(dir.path().join("link"), &[Algorithm::Sha256]),
                follow,
                job(dir.path().join("missing"), &[Algorithm::Sha256]),
                job(fifo, &[Algorithm::Sha256]),
            ],
            &NoProgress,
        );
        assert!(
            matches!(r[0], Err(DigestError::NotRegular { .. })),
            "{:?}",
            r[0]
        );
        assert_eq!(r[1].as_ref().unwrap().size, 1);
        assert!(matches!(r[2], Err(DigestError::Open { .. })));
        // A FIFO must be refused by its type, not opened and waited on.
        assert!(
            matches!(r[3], Err(DigestError::NotRegular { .. })),
            "{:?}",
            r[3]
        );
    }

    /// Appends to the file being hashed after its first chunk, as a writer racing the reader
    /// would.
    struct Grower(PathBuf);
    impl Progress for Grower {
        fn bytes(&self, _n: u64) {
            use std::io::Write;
            let mut f = File::options().append(true).open(&self.0).unwrap();
            f.write_all(b"more").unwrap();
        }
    }

    /// Overwrites the first bytes of the file being hashed (same size) after its first chunk.
    struct Rewriter(PathBuf);
    impl Progress for Rewriter {
        fn bytes(&self, _n: u64) {
            use std::io::Write;
            let mut f = File::options().write(true).open(&self.0).unwrap();
            f.write_all(b"tampered").unwrap();
            // Make the change visible even on filesystems with coarse timestamps.
            let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
            f.set_modified(later).unwrap();
        }
    }

    #[test]
    fn a_file_rewritten_at_the_same_size_while_read_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rewritten");
        std::fs::write(&p, vec![1u8; 3 * CHUNK + 5]).unwrap();
        let r = Engine::new(1).unwrap().run(
            &[job(p.clone(), &[Algorithm::Sha256])],
            &Rewriter(p.clone()),
        );
        assert!(
            matches!(r[0], Err(DigestError::Changed { .. })),
            "{:?}",
            r[0]
        );
    }

    #[test]
    fn a_file_growing_while_read_is_reported_not_digested() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("growing");
        std::fs::write(&p, vec![1u8; 3 * CHUNK + 5]).unwrap();
        for threads in [1, 2] {
            let r = Engine::new(threads).unwrap().run(
                &[job(p.clone(), &[Algorithm::Sha256, Algorithm::Sha512])],
                &Grower(p.clone()),
            );
            assert!(
                matches!(r[0], Err(DigestError::Changed { .. })),
                "{:?}",
                r[0]
            );
        }
    }
}
