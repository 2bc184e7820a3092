//! The engine's reading: one read of each file feeds every consumer (the hashers and, when
//! bagging to a new place, the copy), either in order on the calling thread
//! ([`sequential_read`]) or with each chunk's consumers spread over idle threads of the pool
//! while the next chunk is read ([`split_read`]). Files are opened without following links and
//! without blocking on a FIFO ([`open_for_read`]).

use std::cell::RefCell;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::{Algorithm, DigestError, Hasher, Progress};

/// Bytes handed to the hashes at a time.
pub const CHUNK: usize = 1 << 20;

thread_local! {
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The new file the bytes read are copied to (bagging to a new place).
pub(super) struct CopyOut<'a> {
    file: File,
    path: &'a Path,
}

impl<'a> CopyOut<'a> {
    /// Creates the copy; a name that exists already is refused.
    pub(super) fn create(path: &'a Path) -> Result<CopyOut<'a>, DigestError> {
        let file = crate::fsutil::create_new(path).map_err(|source| DigestError::Write {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(CopyOut { file, path })
    }

    /// Gives the complete copy the source's permissions and modification time.
    pub(super) fn finish(self, source: &Metadata) -> Result<(), DigestError> {
        let write_error = |source| DigestError::Write {
            path: self.path.to_path_buf(),
            source,
        };
        self.file
            .set_permissions(source.permissions())
            .map_err(write_error)?;
        if let Ok(modified) = source.modified() {
            self.file.set_modified(modified).map_err(write_error)?;
        }
        Ok(())
    }
}

/// Opens a file for reading; without `follow`, a symbolic link is refused (ELOOP) rather
/// than followed, so a link swapped in after the scan cannot lead outside the bag.
/// `O_NONBLOCK` keeps a FIFO from blocking the open forever (it is then refused by its
/// type); it changes nothing for reads of regular files.
pub fn open_for_read(path: &Path, follow: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    let mut flags = libc::O_NONBLOCK;
    if !follow {
        flags |= libc::O_NOFOLLOW;
    }
    options.custom_flags(flags);
    options.open(path)
}

/// Fills `buf` from the file, stopping early at end of file or once the `remaining` bytes
/// the file was expected to hold have arrived: for the typical small file that saves the
/// second `read(2)` that would only confirm the end (a file that grew is caught by the
/// callers' size checks).
pub(super) fn read_full(
    src: &mut (dyn Read + Send),
    buf: &mut [u8],
    remaining: u64,
) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match src.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(count) => {
                filled += count;
                if filled as u64 >= remaining {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads `src` to its end (or its `size` at open) one chunk at a time on this thread,
/// feeding each chunk to every hasher and the copy in turn. Returns the bytes read.
pub(super) fn sequential_read(
    src: &mut (dyn Read + Send),
    path: &Path,
    size: u64,
    hashers: &mut [Hasher],
    mut copy: Option<&mut CopyOut<'_>>,
    progress: &dyn Progress,
) -> Result<u64, DigestError> {
    BUFFER.with(|cell| {
        let mut buf = cell.borrow_mut();
        if buf.len() < CHUNK {
            buf.resize(CHUNK, 0);
        }
        let mut total = 0u64;
        loop {
            let filled =
                read_full(src, &mut buf, size.saturating_sub(total)).map_err(|source| {
                    DigestError::Read {
                        path: path.to_path_buf(),
                        source,
                    }
                })?;
            if filled == 0 {
                return Ok(total);
            }
            let data = &buf[..filled];
            for hasher in hashers.iter_mut() {
                hasher.update(data);
            }
            if let Some(copy) = copy.as_deref_mut() {
                copy.file
                    .write_all(data)
                    .map_err(|source| DigestError::Write {
                        path: copy.path.to_path_buf(),
                        source,
                    })?;
            }
            total += filled as u64;
            progress.bytes(filled as u64);
            if filled < buf.len() {
                // End of file, or all the bytes the file held at open have been read.
                return Ok(total);
            }
        }
    })
}

/// Reads `src` like [`sequential_read`], but while `idle_threads()` says some thread of the
/// pool has nothing to do, each chunk's consumers and the read of the next chunk run at once
/// on the pool (two chunk buffers). Returns the bytes read.
pub(super) fn split_read(
    src: &mut (dyn Read + Send),
    path: &Path,
    size: u64,
    hashers: &mut [Hasher],
    mut copy: Option<&mut CopyOut<'_>>,
    progress: &dyn Progress,
    idle_threads: impl Fn() -> bool,
) -> Result<u64, DigestError> {
    let read_error = |source| DigestError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut current = vec![0u8; CHUNK];
    let mut next = vec![0u8; CHUNK];
    let mut filled = read_full(src, &mut current, size).map_err(read_error)?;
    let mut total = 0u64;
    while filled > 0 {
        let data = &current[..filled];
        let mut read_result = Ok(0);
        let mut write_result = Ok(());
        let remaining = size.saturating_sub(total + filled as u64);
        // The slowest hash runs here; everything else — reading the next chunk first, so it
        // starts at once, then the copy and the lighter hashes — is offered to idle threads.
        // With sha256 + sha512 on two cores, one core does SHA-512 and the other SHA-256 and
        // the reading, so a chunk costs max(sha512, sha256 + read) instead of their sum.
        // When every thread has a file of its own, splitting would only add hand-overs: the
        // chunk is done here, in order, as a sequential read would.
        if !idle_threads() {
            for hasher in hashers.iter_mut() {
                hasher.update(data);
            }
            if let Some(copy) = copy.as_deref_mut() {
                write_result = copy.file.write_all(data);
            }
            if filled == CHUNK {
                read_result = read_full(src, &mut next, remaining);
            }
        } else {
            let (light, heavy) = split_heaviest(hashers);
            rayon::scope(|scope| {
                let next = &mut next;
                let read_slot = &mut read_result;
                let src = &mut *src;
                if filled == CHUNK {
                    scope.spawn(move |_| *read_slot = read_full(src, next, remaining));
                }
                if let Some(copy) = copy.as_deref_mut() {
                    let write_slot = &mut write_result;
                    scope.spawn(move |_| *write_slot = copy.file.write_all(data));
                }
                for hasher in light {
                    scope.spawn(move |_| hasher.update(data));
                }
                if let Some(hasher) = heavy {
                    hasher.update(data);
                }
            });
        }
        if let (Err(source), Some(copy)) = (write_result, copy.as_deref()) {
            return Err(DigestError::Write {
                path: copy.path.to_path_buf(),
                source,
            });
        }
        total += filled as u64;
        progress.bytes(filled as u64);
        filled = read_result.map_err(read_error)?;
        std::mem::swap(&mut current, &mut next);
    }
    Ok(total)
}

/// The hashers other than the slowest, and the slowest (by measured per-byte cost).
fn split_heaviest(
    hashers: &mut [Hasher],
) -> (impl Iterator<Item = &mut Hasher>, Option<&mut Hasher>) {
    let cost = |algorithm: Algorithm| match algorithm {
        Algorithm::Md5 => 17,
        Algorithm::Sha1 | Algorithm::Sha224 | Algorithm::Sha256 => 6,
        Algorithm::Sha384 | Algorithm::Sha512 => 12,
        Algorithm::Blake3 => 2,
    };
    let heaviest = (0..hashers.len()).max_by_key(|&index| cost(hashers[index].algorithm()));
    match heaviest {
        None => (Vec::new().into_iter(), None),
        Some(index) => {
            let (left, rest) = hashers.split_at_mut(index);
            let (heavy, right) = rest.split_first_mut().expect("index in range");
            let light: Vec<&mut Hasher> = left.iter_mut().chain(right.iter_mut()).collect();
            (light.into_iter(), Some(heavy))
        }
    }
}
