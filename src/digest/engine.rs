//! The parallel hashing engine.
//!
//! I/O policy, written once here and in `read.rs` (the read loops this engine drives):
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

use std::cmp::Reverse;
use std::fs::{File, Metadata};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::error::damaged;
use super::read::{CHUNK, CopyOut, open_for_read, read_full, sequential_read, split_read};
use super::{DigestError, FileDigests, HashJob, Hasher, Progress, StreamJob};

/// Files at least this big are split across algorithms.
pub const SPLIT_THRESHOLD: u64 = 4 << 20;

/// A pool of hashing threads.
pub struct Engine {
    pool: rayon::ThreadPool,
    jobs: usize,
    splits_in_flight: AtomicUsize,
    /// Files being hashed right now: when it is below `jobs`, some thread is idle and a big
    /// file's chunks are worth splitting.
    active: AtomicUsize,
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
        self.run_each(count, size, job, progress, |index, result| {
            *slots[index].lock().expect("no panics while holding it") = Some(result);
        });
        slots
            .into_iter()
            .map(|slot| {
                slot.into_inner()
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
        self.biggest_first(
            count,
            size,
            |index| self.hash_one(&job(index), progress),
            progress,
            done,
        );
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
        self.biggest_first(
            count,
            size,
            |index| open(index).and_then(|job| self.hash_stream(job, progress)),
            progress,
            done,
        );
    }

    /// Runs `hash(i)` for every `i` below `count` on the pool, biggest `size(i)` first, one
    /// at a time per thread, and hands each result to `done(i, result)`.
    fn biggest_first(
        &self,
        count: usize,
        size: impl Fn(usize) -> u64 + Sync,
        hash: impl Fn(usize) -> Result<FileDigests, DigestError> + Sync,
        progress: &dyn Progress,
        done: impl Fn(usize, Result<FileDigests, DigestError>) + Sync,
    ) {
        let mut order: Vec<(u64, usize)> = (0..count).map(|index| (size(index), index)).collect();
        order.sort_unstable_by_key(|&(size, index)| (Reverse(size), index));
        self.pool.install(|| {
            order.par_iter().with_max_len(1).for_each(|&(_, index)| {
                self.active.fetch_add(1, Ordering::Relaxed);
                let result = hash(index);
                self.active.fetch_sub(1, Ordering::Relaxed);
                progress.file_done();
                done(index, result);
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
        let read = self
            .read_into(
                &mut job.reader,
                &job.name,
                job.size,
                &mut hashers,
                None,
                progress,
            )
            .map_err(damaged)?;
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
        Ok(FileDigests::from_hashers(read, hashers))
    }

    /// Hashes one file (and writes its copy, when asked), refusing anything but a regular
    /// file and reporting a file that changed while it was read.
    fn hash_one(&self, job: &HashJob, progress: &dyn Progress) -> Result<FileDigests, DigestError> {
        let (file, at_open) = open_regular(job)?;
        let size = at_open.len();
        let mut copy = match &job.copy_to {
            Some(path) => Some(CopyOut::create(path)?),
            None => None,
        };
        let mut hashers: Vec<Hasher> = job.algorithms.iter().map(Hasher::new).collect();
        let mut source: &File = &file;
        let read = self.read_into(
            &mut source,
            &job.path,
            size,
            &mut hashers,
            copy.as_mut(),
            progress,
        )?;
        let (now, rewritten) = if size > CHUNK as u64 {
            recheck(&file, &at_open, &job.path)?
        } else {
            (read, false)
        };
        if read != size || now != size || rewritten {
            if let Some(copy_path) = &job.copy_to {
                let _ = std::fs::remove_file(copy_path);
            }
            return Err(DigestError::Changed {
                path: job.path.clone(),
                expected: size,
                actual: if read != size { read } else { now },
            });
        }
        if let Some(copy) = copy {
            copy.finish(&at_open)?;
        }
        Ok(FileDigests::from_hashers(read, hashers))
    }

    /// Reads `src` once into every consumer (the hashers and the copy): split across idle
    /// threads when the file is big, has two or more consumers and a split slot is free; else
    /// in order on this thread.
    fn read_into(
        &self,
        src: &mut (dyn std::io::Read + Send),
        path: &std::path::Path,
        size: u64,
        hashers: &mut [Hasher],
        copy: Option<&mut CopyOut<'_>>,
        progress: &dyn Progress,
    ) -> Result<u64, DigestError> {
        let consumers = hashers.len() + usize::from(copy.is_some());
        let split =
            size >= SPLIT_THRESHOLD && consumers >= 2 && self.jobs >= 2 && self.take_split();
        if !split {
            return sequential_read(src, path, size, hashers, copy, progress);
        }
        let read = split_read(src, path, size, hashers, copy, progress, || {
            self.active.load(Ordering::Relaxed) < self.jobs
        });
        self.splits_in_flight.fetch_sub(1, Ordering::AcqRel);
        read
    }

    fn take_split(&self) -> bool {
        self.splits_in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |in_flight| {
                (in_flight < self.jobs).then_some(in_flight + 1)
            })
            .is_ok()
    }
}

/// Opens the job's file and its metadata; a link (unless followed), a FIFO, a folder or a
/// device is `NotRegular`.
fn open_regular(job: &HashJob) -> Result<(File, Metadata), DigestError> {
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
    let at_open = file.metadata().map_err(|source| DigestError::Open {
        path: job.path.clone(),
        source,
    })?;
    if !at_open.is_file() {
        return Err(DigestError::NotRegular {
            path: job.path.clone(),
        });
    }
    Ok((file, at_open))
}

/// The file's size now, and whether it was rewritten since `at_open`. A read of more than
/// one chunk takes long enough for a writer to get in between: the size, modification time
/// and change time must be those seen at open (a file rewritten in place at the same size
/// changes its times).
fn recheck(
    file: &File,
    at_open: &Metadata,
    path: &std::path::Path,
) -> Result<(u64, bool), DigestError> {
    let stamp = |metadata: &Metadata| {
        use std::os::unix::fs::MetadataExt;
        (
            metadata.len(),
            metadata.mtime(),
            metadata.mtime_nsec(),
            metadata.ctime(),
            metadata.ctime_nsec(),
        )
    };
    match file.metadata() {
        Ok(now) => Ok((now.len(), stamp(&now) != stamp(at_open))),
        Err(source) => Err(DigestError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::digest::{Algorithm, CHUNK, NoProgress, digest_bytes};

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
