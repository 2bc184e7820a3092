//! The end of the bundle's pipeline: the ciphertext, cut into aligned chunks, each shared by
//! a thread that writes the file (with `O_DIRECT` where the system allows it) and one that
//! computes its SHA-256, so that the signed digest comes from the one pass that writes the file.

use std::fs::{self, File};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::stage::{CHUNK, DEPTH};
use crate::digest::{Algorithm, Hasher};

/// Alignment of the ciphertext chunks (their first byte, and the length of all but the last):
/// what `O_DIRECT` writes need.
const ALIGN: usize = 4096;

/// Buffers of [`CHUNK`] + [`ALIGN`] bytes, given back by the chunks once written and hashed.
type Pool = Arc<Mutex<Vec<Vec<u8>>>>;

/// A chunk of the ciphertext, shared by the tee's consumers: its bytes start on an [`ALIGN`]
/// boundary of its buffer, which goes back to the pool when the last consumer is done with it.
struct Chunk {
    buf: Vec<u8>,
    start: usize,
    len: usize,
    pool: Pool,
}

impl Chunk {
    fn bytes(&self) -> &[u8] {
        &self.buf[self.start..self.start + self.len]
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if let Ok(mut pool) = self.pool.lock() {
            pool.push(std::mem::take(&mut self.buf));
        }
    }
}

/// Where an aligned chunk starts in `buf` (0 when the allocator cannot say: the chunk is then
/// written through the page cache).
fn aligned_start(buf: &[u8]) -> usize {
    match buf.as_ptr().align_offset(ALIGN) {
        offset if offset < ALIGN => offset,
        _ => 0,
    }
}

/// Starts a consumer of ciphertext chunks on its own thread.
fn consumer<T: Send + 'static>(
    consume: impl FnOnce(Receiver<Arc<Chunk>>) -> T + Send + 'static,
) -> (SyncSender<Arc<Chunk>>, JoinHandle<T>) {
    let (sender, chunks) = sync_channel::<Arc<Chunk>>(DEPTH);
    (sender, std::thread::spawn(move || consume(chunks)))
}

/// What [`CipherTee`] computed of the bytes that passed.
pub(super) struct CipherDigests {
    /// SHA-256, hex: what the signed `NAME.tar.age.sha256` gives.
    pub(super) sha256: String,
    /// How many bytes passed.
    pub(super) bytes: u64,
}

/// The end of the bundle's pipeline: what the encryptor writes is cut into [`CHUNK`]s, each
/// shared (at most [`DEPTH`] in flight per consumer) by a thread that writes the file and one
/// that computes its SHA-256 — so that the ciphertext is never read back. The file is written
/// with `O_DIRECT` where the system allows it: no copy into the page cache (the most expensive
/// part of writing on a small machine), and little left for the final fsync.
///
/// `flush` does nothing: bytes reach the file in whole chunks, and all of them by
/// [`CipherTee::finish`].
pub(super) struct CipherTee {
    buf: Vec<u8>,
    start: usize,
    fill: usize,
    pool: Pool,
    /// The writer's, then the hash's.
    senders: Vec<SyncSender<Arc<Chunk>>>,
    writer: Option<JoinHandle<io::Result<File>>>,
    hash: Option<JoinHandle<String>>,
    bytes: u64,
}

impl CipherTee {
    /// `file` is the (new, empty) ciphertext file; `direct` the same file opened with
    /// `O_DIRECT`, when it could be.
    pub(super) fn new(file: File, direct: Option<File>) -> Self {
        let (writer_sender, writer) = consumer(move |chunks| write_chunks(file, direct, chunks));
        let (hash_sender, hash) = consumer(move |chunks| {
            let mut hasher = Hasher::new(Algorithm::Sha256);
            for chunk in chunks {
                hasher.update(chunk.bytes());
            }
            hasher.finish_hex()
        });
        let senders = vec![writer_sender, hash_sender];
        let buf = vec![0u8; CHUNK + ALIGN];
        CipherTee {
            start: aligned_start(&buf),
            buf,
            fill: 0,
            pool: Arc::new(Mutex::new(Vec::new())),
            senders,
            writer: Some(writer),
            hash: Some(hash),
            bytes: 0,
        }
    }

    fn pass(&mut self) -> io::Result<()> {
        if self.fill == 0 {
            return Ok(());
        }
        let next = self.pool.lock().ok().and_then(|mut pool| pool.pop());
        let next = next.unwrap_or_else(|| vec![0u8; CHUNK + ALIGN]);
        let chunk = Arc::new(Chunk {
            buf: std::mem::replace(&mut self.buf, next),
            start: self.start,
            len: self.fill,
            pool: Arc::clone(&self.pool),
        });
        self.start = aligned_start(&self.buf);
        self.fill = 0;
        self.bytes += chunk.len as u64;
        for sender in &self.senders {
            if sender.send(Arc::clone(&chunk)).is_err() {
                return Err(self.failure());
            }
        }
        Ok(())
    }

    /// Why a consumer stopped (only the writer can, on an error).
    fn failure(&mut self) -> io::Error {
        self.senders.clear();
        match self.writer.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            _ => io::Error::other("a thread of the ciphertext's pipeline stopped"),
        }
    }

    /// Writes what is left; returns the file once every byte is written (not yet synced), and
    /// the digests.
    pub(super) fn finish(mut self) -> io::Result<(File, CipherDigests)> {
        self.pass()?;
        self.senders.clear();
        let stopped = || io::Error::other("a thread of the ciphertext's pipeline panicked");
        let file = self.writer.take().map(JoinHandle::join);
        let file = file.ok_or_else(stopped)?.map_err(|_| stopped())??;
        let hash = self.hash.take().ok_or_else(stopped)?;
        let digests = CipherDigests {
            sha256: hash.join().map_err(|_| stopped())?,
            bytes: self.bytes,
        };
        Ok((file, digests))
    }
}

impl Write for CipherTee {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let taken = data.len().min(CHUNK - self.fill);
        let at = self.start + self.fill;
        self.buf[at..at + taken].copy_from_slice(&data[..taken]);
        self.fill += taken;
        if self.fill == CHUNK {
            self.pass()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Creates the ciphertext file; on Linux, opens it a second time with `O_DIRECT` when the
/// file system allows it.
pub(super) fn create_ciphertext(path: &Path) -> io::Result<(File, Option<File>)> {
    let file = crate::fsutil::create_new(path)?;
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        let direct = fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(path)
            .ok()
            .filter(|direct| {
                let same = |one: &File, other: &File| -> io::Result<bool> {
                    let (one, other) = (one.metadata()?, other.metadata()?);
                    Ok(one.dev() == other.dev() && one.ino() == other.ino())
                };
                same(direct, &file).unwrap_or(false)
            });
        Ok((file, direct))
    }
    #[cfg(not(target_os = "linux"))]
    Ok((file, None))
}

/// Writes the chunks in order. Whole aligned chunks go through `direct` (`O_DIRECT`) while it
/// works; the last, shorter chunk — and everything after a refusal — through `file`, at the
/// same offset. Returns `file`, to be synced.
fn write_chunks(
    mut file: File,
    mut direct: Option<File>,
    chunks: Receiver<Arc<Chunk>>,
) -> io::Result<File> {
    let mut offset = 0u64;
    for chunk in chunks {
        let mut rest = chunk.bytes();
        while let Some(direct_file) = direct.as_mut() {
            if rest.is_empty() {
                break;
            }
            let aligned =
                rest.len().is_multiple_of(ALIGN) && (rest.as_ptr() as usize).is_multiple_of(ALIGN);
            let done = if aligned {
                match direct_file.write(rest) {
                    Ok(written) if written > 0 && written.is_multiple_of(ALIGN) => Some(written),
                    Ok(written) => {
                        rest = &rest[written..];
                        offset += written as u64;
                        None
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => Some(0),
                    Err(e) if e.raw_os_error() == Some(libc::EINVAL) => None,
                    Err(e) => return Err(e),
                }
            } else {
                None
            };
            match done {
                Some(written) => {
                    rest = &rest[written..];
                    offset += written as u64;
                }
                None => {
                    // The rest through the page cache.
                    direct = None;
                    file.seek(SeekFrom::Start(offset))?;
                }
            }
        }
        file.write_all(rest)?;
        offset += rest.len() as u64;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::digest_bytes;

    #[test]
    fn cipher_tee_writes_every_byte_and_hashes_it() {
        let dir = std::env::temp_dir().join(format!("qoima-enc-ct-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out");
        let data: Vec<u8> = (0..5 * CHUNK + 4099).map(|i| (i % 253) as u8).collect();
        let (file, direct) = create_ciphertext(&path).unwrap();
        assert!(
            create_ciphertext(&path).is_err(),
            "an existing file was replaced"
        );
        let mut tee = CipherTee::new(file, direct);
        for part in data.chunks(70_001) {
            tee.write_all(part).unwrap();
            tee.flush().unwrap();
        }
        let (file, digests) = tee.finish().unwrap();
        file.sync_all().unwrap();
        drop(file);
        assert_eq!(fs::read(&path).unwrap(), data);
        assert_eq!(digests.bytes, data.len() as u64);
        assert_eq!(digests.sha256, digest_bytes(Algorithm::Sha256, &data));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn chunks_are_written_in_order_direct_or_not() {
        let dir = std::env::temp_dir().join(format!("qoima-enc-wc-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let pool: Pool = Arc::new(Mutex::new(Vec::new()));
        let chunk = |len: usize, fill: u8, shift: usize| {
            let mut buf = vec![0u8; CHUNK + ALIGN];
            let start = aligned_start(&buf) + shift;
            buf[start..start + len].fill(fill);
            Arc::new(Chunk {
                buf,
                start,
                len,
                pool: Arc::clone(&pool),
            })
        };
        // Aligned, aligned, then an unaligned start, a short one, and an aligned one again.
        let chunks = [
            (8192, 1, 0),
            (4096, 2, 0),
            (4096, 3, 1),
            (100, 4, 0),
            (4096, 5, 0),
        ];
        let mut want = Vec::new();
        for &(len, fill, _) in &chunks {
            want.extend(std::iter::repeat_n(fill, len));
        }
        for round in 0..2 {
            let path = dir.join(format!("out{round}"));
            let (file, direct) = create_ciphertext(&path).unwrap();
            let direct = if round == 0 { direct } else { None };
            let (sender, receiver) = sync_channel(chunks.len());
            for &(len, fill, shift) in &chunks {
                sender.send(chunk(len, fill, shift)).unwrap();
            }
            drop(sender);
            let file = write_chunks(file, direct, receiver).unwrap();
            file.sync_all().unwrap();
            drop(file);
            assert_eq!(fs::read(&path).unwrap(), want, "round {round}");
        }
        assert_eq!(pool.lock().unwrap().len(), 2 * chunks.len());
        let _ = fs::remove_dir_all(&dir);
    }
}
