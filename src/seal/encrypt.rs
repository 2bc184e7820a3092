//! Encrypted sealed bundles (design §4.5): a sealed bag, written as a deterministic tar and
//! encrypted with [age](https://age-encryption.org/v1) to one or more X25519 recipients, then
//! signed again from the outside — sign, encrypt, sign — so that anyone holding the sealer's
//! public key (but not a decryption key) can check the ciphertext, and a recipient can prove
//! that what they decrypted is exactly what was signed.
//!
//! `qoima seal BAG --sign KEY --to age1… -o DIR` writes four files into `DIR` (and `verify.sh`):
//!
//! - `NAME.tar.age`: the age encryption of the sealed bag's tar (the bytes `qoima serialize
//!   --tar` writes for `NAME.tar`), streamed — tar, encryption, hashing and writing run as a
//!   pipeline of threads with bounded buffers, so memory does not grow with the bag, and the
//!   ciphertext is never read back;
//! - `NAME.tar.age.sha256`: the ciphertext's sha256, as `sha256sum` writes it;
//! - `NAME.tar.age.sha256.minisig`: a minisign signature of that file whose trusted comment is
//!   the statement `qoima-bundle/2 verify-sh-sha256=<hex> tagmanifest-sha256=<hex>`;
//! - `NAME.envelope.txt`: non-identifying facts (digests, signer key id, number of recipients,
//!   qoima version) and the stock-tool commands that check the bundle.
//!
//! Signing the ciphertext's sha256 rather than the ciphertext (minisign hashes what it signs
//! with BLAKE2b-512) lets the digest be the one every system has (`sha256sum`) and the fastest
//! this machine computes (SHA-NI), during the one pass that writes the file. The signed
//! ciphertext determines the plaintext: its header's MAC commits the file key, and the payload
//! is authenticated under it — so the tar needs no digest of its own.
//!
//! `NAME` is a neutral label (`bundle` unless chosen). Nothing from the bag — not its
//! External-Identifier, not bag-info.txt, not its folder name — is written outside the
//! encryption: the tar's single folder is `NAME` too.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use age::x25519;
use minisign::{PublicKey, SecretKey, SignatureBox};
use serde::Serialize;

use super::SealError;
use super::keys::{TrustedKey, key_id};
use super::verify::{Check, SealReport};
use crate::archive::unpack::{StageError, Staged};
use crate::archive::write::checksum_line;
use crate::bagit::BagError;
use crate::digest::{Algorithm, Engine, Hasher, Progress, digest_bytes};
use crate::error::{Code, Problem};
use crate::fsutil;
use crate::store::Limits;

/// The first word of the outer signature's trusted comment and of the envelope.
pub const BUNDLE_VERSION: &str = "qoima-bundle/2";
/// The label used when none is given.
pub const DEFAULT_NAME: &str = "bundle";
/// The ciphertext's extension.
pub const EXTENSION: &str = ".tar.age";

/// Bytes per chunk handed between the pipeline's stages.
const CHUNK: usize = 1 << 20;
/// Chunks in flight per stage of the pipeline (memory: about `DEPTH` MiB per stage). Deep enough
/// that its threads, more than the cores, rarely wait on one another: with 4, encrypting a
/// bundle took 40% longer on 2 cores (docs/performance.md).
const DEPTH: usize = 16;

/// Someone an encrypted bundle is for: an age X25519 recipient (`age1…`), or an SSH public key
/// (`ssh-ed25519 …`, `ssh-rsa …`), whose stanza in the age header reveals a 4-byte tag of the
/// key — enough for anyone holding the bundle to test whether it is for a key they know.
#[derive(Clone, Debug)]
pub enum BundleRecipient {
    /// `age1…`.
    X25519(x25519::Recipient),
    /// An SSH public key.
    Ssh(age::ssh::Recipient),
}

impl BundleRecipient {
    /// As age takes it.
    pub fn as_age(&self) -> &dyn age::Recipient {
        match self {
            BundleRecipient::X25519(r) => r,
            BundleRecipient::Ssh(r) => r,
        }
    }

    /// Whether it is an SSH key (the caveat applies).
    pub fn is_ssh(&self) -> bool {
        matches!(self, BundleRecipient::Ssh(_))
    }
}

/// Reads one recipient: an age X25519 public key (`age1…`), or an SSH public key line
/// (`ssh-ed25519 AAAA… [comment]`, `ssh-rsa …`, as in `~/.ssh/id_ed25519.pub`).
pub fn parse_recipient(s: &str) -> Result<BundleRecipient, SealError> {
    let s = s.trim();
    if s.to_ascii_uppercase().starts_with("AGE-SECRET-KEY-") {
        return Err(SealError::Key(
            "that is a secret identity, not a recipient: give its public age1… line (age-keygen -y KEYFILE); and keep the secret key away from the sealing machine".into(),
        ));
    }
    if s.starts_with("-----BEGIN") {
        return Err(SealError::Key(
            "that is a private key, not a recipient: give the public key line (the .pub file); and keep the private key away from the sealing machine".into(),
        ));
    }
    if s.starts_with("ssh-") || s.starts_with("ecdsa-") || s.starts_with("sk-") {
        return s
            .parse::<age::ssh::Recipient>()
            .map(BundleRecipient::Ssh)
            .map_err(|e| {
                SealError::Key(format!(
                    "{:?} is not an SSH recipient age accepts (ssh-ed25519 or ssh-rsa): {e:?}",
                    s.split_whitespace().next().unwrap_or(s)
                ))
            });
    }
    s.parse::<x25519::Recipient>()
        .map(BundleRecipient::X25519)
        .map_err(|e| SealError::Key(format!("{s:?} is not an age X25519 recipient (age1…): {e}")))
}

/// Reads a recipients file (as `age -R` reads one): one recipient per line (`age1…` or an SSH
/// public key); blank lines and `#` comments are skipped.
pub fn read_recipients_file(path: &Path) -> Result<Vec<BundleRecipient>, SealError> {
    let text =
        fsutil::read_bounded_text(path, fsutil::SMALL_FILE_LIMIT).map_err(SealError::io(path))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(
            parse_recipient(line)
                .map_err(|e| SealError::Key(format!("{} line {}: {e}", path.display(), i + 1)))?,
        );
    }
    if out.is_empty() {
        return Err(SealError::Key(format!(
            "{} holds no recipient",
            path.display()
        )));
    }
    Ok(out)
}

/// A key that decrypts a bundle: an age X25519 identity, or an unencrypted SSH private key.
#[derive(Clone)]
pub enum BundleIdentity {
    /// `AGE-SECRET-KEY-1…`.
    X25519(x25519::Identity),
    /// An OpenSSH private key (ssh-ed25519 or ssh-rsa), not passphrase-protected.
    Ssh(age::ssh::Identity),
}

impl BundleIdentity {
    /// As age takes it.
    pub fn as_age(&self) -> &dyn age::Identity {
        match self {
            BundleIdentity::X25519(i) => i,
            BundleIdentity::Ssh(i) => i,
        }
    }
}

/// Reads an identity file as `age -i` does: an age identity file (one `AGE-SECRET-KEY-1…` per
/// line, e.g. from `age-keygen`; blank lines and `#` comments skipped), or an SSH private key
/// (`-----BEGIN OPENSSH PRIVATE KEY-----`). A bad line is named by its number only, so that no
/// secret reaches a message.
pub fn read_identities(path: &Path) -> Result<Vec<BundleIdentity>, SealError> {
    let text =
        fsutil::read_bounded_text(path, fsutil::SMALL_FILE_LIMIT).map_err(SealError::io(path))?;
    if text.trim_start().starts_with("-----BEGIN") {
        let id = age::ssh::Identity::from_buffer(text.as_bytes(), Some(path.display().to_string()))
            .map_err(|_| {
                SealError::Key(format!(
                    "{} is not an SSH private key age can use (ssh-ed25519 or ssh-rsa)",
                    path.display()
                ))
            })?;
        return match id {
            age::ssh::Identity::Unencrypted(_) => Ok(vec![BundleIdentity::Ssh(id)]),
            age::ssh::Identity::Encrypted(_) => Err(SealError::Key(format!(
                "{} is a passphrase-protected SSH key, which qoima does not unlock: decrypt with `age -d -i {}` (it asks for the passphrase), or give an unprotected copy on a trusted machine",
                path.display(),
                path.display()
            ))),
            age::ssh::Identity::Unsupported(_) => Err(SealError::Key(format!(
                "{} is an SSH key type age does not support (use ssh-ed25519 or ssh-rsa)",
                path.display()
            ))),
        };
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(BundleIdentity::X25519(line.parse::<x25519::Identity>().map_err(
            |_| {
                SealError::Key(format!(
                    "{} line {} is not an age X25519 identity (AGE-SECRET-KEY-1…); passphrase-protected and plugin identities are not supported",
                    path.display(),
                    i + 1
                ))
            },
        )?));
    }
    if out.is_empty() {
        return Err(SealError::Key(format!(
            "{} holds no identity",
            path.display()
        )));
    }
    Ok(out)
}

/// Whether `name` may label a bundle: 1–64 of `A–Z a–z 0–9 . _ -`, not starting with `.`.
pub fn check_name(name: &str) -> Result<(), SealError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(SealError::Key(format!(
            "{name:?} cannot name a bundle: use 1 to 64 letters, digits, '.', '_' or '-' (and keep it neutral: it is readable by anyone who holds the files)"
        )))
    }
}

/// The files of the bundle `name` in a folder.
#[derive(Clone, Debug)]
pub struct BundlePaths {
    /// `NAME.tar.age`.
    pub ciphertext: PathBuf,
    /// `NAME.tar.age.sha256`.
    pub checksum: PathBuf,
    /// `NAME.tar.age.sha256.minisig`.
    pub signature: PathBuf,
    /// `NAME.envelope.txt`.
    pub envelope: PathBuf,
}

impl BundlePaths {
    /// The files of the bundle `name` in `dir`.
    pub fn new(dir: &Path, name: &str) -> BundlePaths {
        BundlePaths {
            ciphertext: dir.join(format!("{name}{EXTENSION}")),
            checksum: dir.join(format!("{name}{EXTENSION}.sha256")),
            signature: dir.join(format!("{name}{EXTENSION}.sha256.minisig")),
            envelope: dir.join(format!("{name}.envelope.txt")),
        }
    }

    /// The ciphertext, the checksum, the signature, the envelope.
    pub(super) fn all(&self) -> [&PathBuf; 4] {
        [
            &self.ciphertext,
            &self.checksum,
            &self.signature,
            &self.envelope,
        ]
    }
}

/// How to encrypt a sealed bag.
#[derive(Clone, Debug)]
pub struct EncryptOptions {
    /// The folder to write the bundle into (created when missing).
    pub out_dir: PathBuf,
    /// The bundle's neutral label ([`DEFAULT_NAME`] unless chosen).
    pub name: String,
    /// Who can decrypt it.
    pub recipients: Vec<BundleRecipient>,
}

/// What was written.
#[derive(Clone, Debug, Serialize)]
pub struct BundleSummary {
    /// The bundle's label.
    pub name: String,
    /// `NAME.tar.age`.
    pub ciphertext: PathBuf,
    /// `NAME.tar.age.sha256`: the ciphertext's sha256, as `sha256sum` writes it.
    pub checksum: PathBuf,
    /// `NAME.tar.age.sha256.minisig`: the signature of that file.
    pub signature: PathBuf,
    /// `NAME.envelope.txt`.
    pub envelope: PathBuf,
    /// Size of the ciphertext.
    pub ciphertext_bytes: u64,
    /// SHA-256 of the ciphertext (signed).
    pub ciphertext_sha256: String,
    /// Size of the plaintext tar.
    pub plaintext_bytes: u64,
    /// The signed tag manifest, e.g. `tagmanifest-sha256.txt`.
    pub tag_manifest: String,
    /// Its SHA-256 (signed).
    pub tag_manifest_sha256: String,
    /// The signer's key id.
    pub key_id: String,
    /// Number of recipients.
    pub recipients: usize,
    /// Why `verify.sh` could not be put beside the bundle (which is complete without it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_sh_error: Option<String>,
}

/// The signed statement of a bundle: the trusted comment of the signature of
/// `NAME.tar.age.sha256`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BundleStatement {
    /// SHA-256 of the `verify.sh` written beside the bundle: the script is signed with it, so
    /// that a recipient can check it before running it.
    pub verify_sh_sha256: String,
    /// The tag manifest's name without `.txt`, e.g. `tagmanifest-sha256`.
    pub tag_manifest: String,
    /// SHA-256 of that tag manifest file.
    pub tag_manifest_sha256: String,
}

impl BundleStatement {
    /// `qoima-bundle/2 verify-sh-sha256=<hex> tagmanifest-<alg>=<hex>`.
    pub fn render(&self) -> String {
        format!(
            "{BUNDLE_VERSION} verify-sh-sha256={} {}={}",
            self.verify_sh_sha256, self.tag_manifest, self.tag_manifest_sha256
        )
    }

    /// Reads a statement back; `None` when it is not one.
    pub fn parse(s: &str) -> Option<BundleStatement> {
        let mut it = s.split(' ');
        if it.next()? != BUNDLE_VERSION {
            return None;
        }
        let script = it.next()?.strip_prefix("verify-sh-sha256=")?;
        let (tm, tm_hex) = it.next()?.split_once('=')?;
        if it.next().is_some()
            || !tm.starts_with("tagmanifest-")
            || !is_sha256(script)
            || !is_sha256(tm_hex)
        {
            return None;
        }
        Some(BundleStatement {
            verify_sh_sha256: script.to_ascii_lowercase(),
            tag_manifest: tm.to_string(),
            tag_manifest_sha256: tm_hex.to_ascii_lowercase(),
        })
    }
}

/// The digest in a `NAME.tar.age.sha256` that names `file_name`, when it is exactly one
/// `sha256sum` line (text mode or `*` binary mode; the final newline may be missing) — anything
/// else is refused, so that the signed file cannot point `sha256sum -c` at another file.
pub fn parse_checksum(text: &str, file_name: &str) -> Option<String> {
    let line = text.strip_suffix('\n').unwrap_or(text);
    let (hex, name) = line.split_once(' ')?;
    let name = name.strip_prefix(' ').or_else(|| name.strip_prefix('*'))?;
    (is_sha256(hex) && name == file_name && !line.contains('\n')).then(|| hex.to_ascii_lowercase())
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The signed tag manifest of a sealed bag: `tagmanifest-sha256.txt`, else
/// `tagmanifest-sha512.txt`, with its SHA-256.
fn signed_tag_manifest(bag: &Path) -> Result<(String, String), SealError> {
    for name in ["tagmanifest-sha256.txt", "tagmanifest-sha512.txt"] {
        let p = bag.join(name);
        if p.is_file()
            && bag
                .join(super::SEAL_DIR)
                .join(format!("{name}.minisig"))
                .is_file()
        {
            let data = fs::read(&p).map_err(SealError::io(&p))?;
            return Ok((name.to_string(), digest_bytes(Algorithm::Sha256, &data)));
        }
    }
    Err(SealError::Key(format!(
        "{} is not sealed (no signed tagmanifest-sha256.txt or tagmanifest-sha512.txt); seal it before encrypting",
        bag.display()
    )))
}

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
        if let Ok(mut p) = self.pool.lock() {
            p.push(std::mem::take(&mut self.buf));
        }
    }
}

/// Where an aligned chunk starts in `buf` (0 when the allocator cannot say: the chunk is then
/// written through the page cache).
fn aligned_start(buf: &[u8]) -> usize {
    match buf.as_ptr().align_offset(ALIGN) {
        n if n < ALIGN => n,
        _ => 0,
    }
}

/// Starts a consumer of ciphertext chunks on its own thread.
fn consumer<T: Send + 'static>(
    f: impl FnOnce(Receiver<Arc<Chunk>>) -> T + Send + 'static,
) -> (SyncSender<Arc<Chunk>>, JoinHandle<T>) {
    let (tx, rx) = sync_channel::<Arc<Chunk>>(DEPTH);
    (tx, std::thread::spawn(move || f(rx)))
}

/// What [`CipherTee`] computed of the bytes that passed.
struct CipherDigests {
    /// SHA-256, hex: what the signed `NAME.tar.age.sha256` gives.
    sha256: String,
    bytes: u64,
}

/// The end of the bundle's pipeline: what the encryptor writes is cut into [`CHUNK`]s, each
/// shared (at most [`DEPTH`] in flight per consumer) by a thread that writes the file and one
/// that computes its SHA-256 — so that the ciphertext is never read back. The file is written
/// with `O_DIRECT` where the system allows it: no copy into the page cache (the most expensive
/// part of writing on a small machine), and little left for the final fsync.
///
/// `flush` does nothing: bytes reach the file in whole chunks, and all of them by
/// [`CipherTee::finish`].
struct CipherTee {
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
    fn new(file: File, direct: Option<File>) -> Self {
        let (tx, writer) = consumer(move |rx| write_chunks(file, direct, rx));
        let (htx, hash) = consumer(move |rx| {
            let mut h = Hasher::new(Algorithm::Sha256);
            for c in rx {
                h.update(c.bytes());
            }
            h.finish_hex()
        });
        let senders = vec![tx, htx];
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
        let next = self.pool.lock().ok().and_then(|mut p| p.pop());
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
        for s in &self.senders {
            if s.send(Arc::clone(&chunk)).is_err() {
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
    fn finish(mut self) -> io::Result<(File, CipherDigests)> {
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
        let n = data.len().min(CHUNK - self.fill);
        let at = self.start + self.fill;
        self.buf[at..at + n].copy_from_slice(&data[..n]);
        self.fill += n;
        if self.fill == CHUNK {
            self.pass()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Creates the ciphertext file; on Linux, opens it a second time with `O_DIRECT` when the
/// file system allows it.
fn create_ciphertext(path: &Path) -> io::Result<(File, Option<File>)> {
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        let direct = fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(path)
            .ok()
            .filter(|d| {
                let same = |a: &File, b: &File| -> io::Result<bool> {
                    let (a, b) = (a.metadata()?, b.metadata()?);
                    Ok(a.dev() == b.dev() && a.ino() == b.ino())
                };
                same(d, &file).unwrap_or(false)
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
    rx: Receiver<Arc<Chunk>>,
) -> io::Result<File> {
    let mut at = 0u64;
    for c in rx {
        let mut b = c.bytes();
        while let Some(d) = direct.as_mut() {
            if b.is_empty() {
                break;
            }
            let aligned =
                b.len().is_multiple_of(ALIGN) && (b.as_ptr() as usize).is_multiple_of(ALIGN);
            let done = if aligned {
                match d.write(b) {
                    Ok(n) if n > 0 && n.is_multiple_of(ALIGN) => Some(n),
                    Ok(n) => {
                        b = &b[n..];
                        at += n as u64;
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
                Some(n) => {
                    b = &b[n..];
                    at += n as u64;
                }
                None => {
                    // The rest through the page cache.
                    direct = None;
                    file.seek(SeekFrom::Start(at))?;
                }
            }
        }
        file.write_all(b)?;
        at += b.len() as u64;
    }
    Ok(file)
}

/// A writer that hands what is written to it, in [`CHUNK`]s, to a stage running on a thread of
/// its own (at most [`DEPTH`] chunks in flight; the stage sends the buffers back to be filled
/// again). [`Handoff::finish`] returns what the stage returned.
struct Handoff<T> {
    buf: Vec<u8>,
    tx: Option<SyncSender<Vec<u8>>>,
    back: Receiver<Vec<u8>>,
    stage: Option<JoinHandle<io::Result<T>>>,
}

impl<T: Send + 'static> Handoff<T> {
    fn new(
        stage: impl FnOnce(Receiver<Vec<u8>>, Sender<Vec<u8>>) -> io::Result<T> + Send + 'static,
    ) -> Handoff<T> {
        let (tx, rx) = sync_channel(DEPTH);
        let (back_tx, back) = channel();
        Handoff {
            buf: Vec::with_capacity(CHUNK),
            tx: Some(tx),
            back,
            stage: Some(std::thread::spawn(move || stage(rx, back_tx))),
        }
    }

    fn pass(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut next = self.back.try_recv().unwrap_or_default();
        next.clear();
        next.reserve(CHUNK);
        let full = std::mem::replace(&mut self.buf, next);
        match self.tx.as_ref().map(|tx| tx.send(full)) {
            Some(Ok(())) => Ok(()),
            _ => Err(self.stopped()),
        }
    }

    /// Why the stage stopped early (only an error can stop it).
    fn stopped(&mut self) -> io::Error {
        self.tx = None;
        match self.stage.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            _ => io::Error::other("a stage of the bundle's pipeline stopped"),
        }
    }

    fn finish(mut self) -> io::Result<T> {
        self.pass()?;
        self.tx = None;
        match self.stage.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            _ => Err(io::Error::other(
                "a stage of the bundle's pipeline panicked",
            )),
        }
    }
}

impl<T: Send + 'static> Write for Handoff<T> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.pass()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Encrypts the sealed bag `bag` into `opts.out_dir` (see the module documentation) and signs
/// the ciphertext's digest with `sk`. Every file is written under a temporary name and linked
/// into place when complete; existing files are never replaced.
pub fn encrypt_sealed_bag(
    bag: &Path,
    sk: &SecretKey,
    pk: &PublicKey,
    opts: &EncryptOptions,
    progress: &dyn Progress,
) -> Result<BundleSummary, SealError> {
    check_name(&opts.name)?;
    if opts.recipients.is_empty() {
        return Err(SealError::Key(
            "no recipient: give --to age1… or --recipients-file".into(),
        ));
    }
    let (tm, tm_sha) = signed_tag_manifest(bag)?;
    let paths = BundlePaths::new(&opts.out_dir, &opts.name);
    clear_interrupted(&paths, pk)?;
    for p in paths.all() {
        if fs::symlink_metadata(p).is_ok() {
            return Err(SealError::Io {
                path: p.clone(),
                source: io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "exists; qoima never replaces a bundle (choose another --bundle-name or folder)",
                ),
            });
        }
    }
    fs::create_dir_all(&opts.out_dir).map_err(SealError::io(&opts.out_dir))?;
    let tmps: Vec<PathBuf> = paths
        .all()
        .iter()
        .map(|p| fsutil::temp_sibling(p, super::placement::TAG))
        .collect();
    let result = write_bundle(bag, sk, pk, opts, progress, &tmps, (&tm, &tm_sha));
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            for t in &tmps {
                let _ = fs::remove_file(t);
            }
            return Err(e);
        }
    };
    // Linked into place, never renamed over: a bundle of the same name written meanwhile (a
    // second seal into the same folder) is not replaced, nor mixed with this one's files.
    // The ciphertext comes last, so that it appears only with everything beside it.
    let mut verify_sh_error = None;
    super::placement::place(&tmps, &paths, || {
        verify_sh_error = place_script(&opts.out_dir).err().map(|e| e.to_string());
    })?;
    fsutil::sync_dir(&opts.out_dir).map_err(|e| SealError::Io {
        path: opts.out_dir.clone(),
        source: io::Error::new(
            e.kind(),
            format!(
                "{e}: the bundle is written, but this folder could not be flushed to disk; check the disk, then run `qoima verify-seal {}`",
                paths.ciphertext.display()
            ),
        ),
    })?;
    Ok(BundleSummary {
        verify_sh_error,
        ciphertext: paths.ciphertext,
        checksum: paths.checksum,
        signature: paths.signature,
        envelope: paths.envelope,
        ..summary
    })
}

/// Before writing the bundle `paths`: undoes a placement a killed run left half done, then
/// removes what dead runs left under temporary names beside the bundle's files.
fn clear_interrupted(paths: &BundlePaths, pk: &PublicKey) -> Result<(), SealError> {
    super::placement::undo_interrupted(paths, pk)?;
    for p in paths.all() {
        fsutil::sweep_stale(p, super::placement::TAG);
    }
    let script = fsutil::parent_dir(&paths.ciphertext).join(super::VERIFY_SH);
    fsutil::sweep_stale(&script, "script");
    Ok(())
}

fn write_bundle(
    bag: &Path,
    sk: &SecretKey,
    pk: &PublicKey,
    opts: &EncryptOptions,
    progress: &dyn Progress,
    tmps: &[PathBuf],
    (tm, tm_sha): (&str, &str),
) -> Result<BundleSummary, SealError> {
    let ct_tmp = &tmps[0];
    let io_ct = |e| SealError::Io {
        path: ct_tmp.clone(),
        source: e,
    };
    let recipients: Vec<&dyn age::Recipient> = opts
        .recipients
        .iter()
        .map(BundleRecipient::as_age)
        .collect();
    let (head, payload) = super::agefile::start(&recipients)
        .map_err(|e| SealError::Key(format!("cannot encrypt: {e}")))?;
    let (file, direct) = create_ciphertext(ct_tmp).map_err(io_ct)?;
    // This thread reads the bag and writes its tar; the tar goes in chunks to a thread that
    // encrypts it, whose output goes in chunks to a thread that writes the file and one that
    // hashes it. The ciphertext is never read back.
    let ct_out = CipherTee::new(file, direct);
    let plain = Handoff::new(move |rx, back| {
        let mut enc = super::agefile::Encryptor::new(ct_out, &head, payload)?;
        let mut bytes = 0u64;
        for buf in rx {
            enc.write_all(&buf)?;
            bytes += buf.len() as u64;
            let _ = back.send(buf);
        }
        let (file, digests) = enc.finish()?.finish()?;
        Ok((file, digests, bytes))
    });
    let mtime = crate::archive::write::archive_time(bag);
    // The tar's folder keeps the bag's own name (it is inside the encryption): when the bag
    // has no External-Identifier, its signed statements name the folder.
    let top = super::sign::folder_name(bag)?;
    let plain = crate::archive::write::write_tar_stream(bag, &top, plain, mtime, progress)
        .map_err(|e| match e {
            BagError::Io { path, source } => SealError::Io { path, source },
            e => SealError::Key(e.to_string()),
        })?;
    let (file, ct, plaintext_bytes) = plain.finish().map_err(io_ct)?;
    file.sync_all().map_err(io_ct)?;
    drop(file);

    let statement = BundleStatement {
        verify_sh_sha256: digest_bytes(Algorithm::Sha256, super::script::VERIFY_SH.as_bytes()),
        tag_manifest: tm.trim_end_matches(".txt").to_string(),
        tag_manifest_sha256: tm_sha.to_string(),
    };
    let line = checksum_line(&ct.sha256, &format!("{}{EXTENSION}", opts.name));
    write_new(&tmps[1], line.as_bytes())?;
    let kid = key_id(pk);
    let untrusted = format!("qoima encrypted bundle, key {kid}");
    let sig = minisign::sign(
        Some(pk),
        sk,
        line.as_bytes(),
        Some(&statement.render()),
        Some(&untrusted),
    )
    .map_err(|e| SealError::Key(format!("cannot sign the ciphertext's digest: {e}")))?;
    write_new(&tmps[2], sig.to_string().as_bytes())?;

    let summary = BundleSummary {
        name: opts.name.clone(),
        ciphertext: PathBuf::new(),
        checksum: PathBuf::new(),
        signature: PathBuf::new(),
        envelope: PathBuf::new(),
        ciphertext_bytes: ct.bytes,
        ciphertext_sha256: ct.sha256,
        plaintext_bytes,
        tag_manifest: tm.to_string(),
        tag_manifest_sha256: tm_sha.to_string(),
        key_id: kid,
        recipients: opts.recipients.len(),
        verify_sh_error: None,
    };
    write_new(&tmps[3], envelope(&summary).as_bytes())?;
    Ok(summary)
}

fn write_new(path: &Path, data: &[u8]) -> Result<(), SealError> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(SealError::io(path))?;
    f.write_all(data).map_err(SealError::io(path))?;
    f.sync_all().map_err(SealError::io(path))
}

/// Puts `verify.sh` (the same script every sealed bag carries) beside the bundle, so that a
/// recipient can check the bundle before and after decrypting it with stock tools. A
/// `verify.sh` already there is kept when it is the same script; any other file of that name
/// is an error (qoima never replaces a file it did not write).
fn place_script(dir: &Path) -> Result<(), SealError> {
    let path = dir.join(super::VERIFY_SH);
    match fs::read(&path) {
        Ok(existing) if existing == super::script::VERIFY_SH.as_bytes() => Ok(()),
        Ok(_) => Err(SealError::Io {
            path,
            source: io::Error::new(
                io::ErrorKind::AlreadyExists,
                "exists and is not qoima's verify.sh; move it away and copy the verify.sh of the sealed bag beside the bundle",
            ),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let tmp = fsutil::temp_sibling(&path, "script");
            let placed = write_new(&tmp, super::script::VERIFY_SH.as_bytes()).and_then(|()| {
                match fsutil::place_new(&tmp, &path) {
                    // Written meanwhile by another seal into the same folder: kept if the same.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match fs::read(&path) {
                        Ok(d) if d == super::script::VERIFY_SH.as_bytes() => Ok(()),
                        _ => Err(SealError::io(&path)(e)),
                    },
                    r => r.map_err(SealError::io(&path)),
                }
            });
            let _ = fs::remove_file(&tmp);
            placed
        }
        Err(e) => Err(SealError::Io { path, source: e }),
    }
}

/// The envelope: `Label: value` lines (as in bag-info.txt), then the stock-tool commands as
/// `#` comments. It holds nothing from the bag but digests.
pub fn envelope(s: &BundleSummary) -> String {
    let n = &s.name;
    format!(
        "Bundle-Version: {BUNDLE_VERSION}\n\
         Ciphertext-File: {n}{EXTENSION}\n\
         Ciphertext-Bytes: {}\n\
         Ciphertext-SHA256: {}\n\
         Encryption: age-encryption.org/v1\n\
         Recipients: {}\n\
         Tag-Manifest: {}\n\
         Tag-Manifest-SHA256: {}\n\
         Signer-Key-Id: {}\n\
         Checksum-File: {n}{EXTENSION}.sha256\n\
         Signature-File: {n}{EXTENSION}.sha256.minisig\n\
         Software: qoima {}\n\
         #\n\
         # An encrypted qoima sealed bag. Check it with stock tools (minisign, sha256sum, age, tar):\n\
         #   minisign -Vm {n}{EXTENSION}.sha256 -P <the sealer's public key, RW...>\n\
         #     (the trusted comment repeats Tag-Manifest-SHA256)\n\
         #   sha256sum -c {n}{EXTENSION}.sha256                 (= Ciphertext-SHA256)\n\
         #   age -d -i <your identity file> -o {n}.tar {n}{EXTENSION}\n\
         #   tar -xf {n}.tar        (one folder, the sealed bag; `tar -tf {n}.tar | head -1` names it)\n\
         #   sh BAG/verify.sh BAG <trusted keys file>\n\
         # or all of it at once, with the verify.sh written beside the bundle:\n\
         #   sh verify.sh -i <your identity file> {n}{EXTENSION} <trusted keys file>\n\
         # or, with qoima: qoima verify-seal {n}{EXTENSION} --trusted-keys FILE -i IDENTITY\n",
        s.ciphertext_bytes,
        s.ciphertext_sha256,
        s.recipients,
        s.tag_manifest,
        s.tag_manifest_sha256,
        s.key_id,
        crate::VERSION,
    )
}

/// The value of `label` in an envelope.
pub(crate) fn envelope_field<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (!k.starts_with('#') && k.trim().eq_ignore_ascii_case(label)).then(|| v.trim())
    })
}

/// Whether `path` names an encrypted bundle (`*.tar.age`).
pub fn is_bundle(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.len() > EXTENSION.len() && n.ends_with(EXTENSION))
}

/// Decrypts an age file with `identities` into `out` (streaming), reading it once. Returns the
/// file's sha256 (the ciphertext's) and the plaintext's size.
pub fn decrypt_file(
    input: &Path,
    identities: &[BundleIdentity],
    out: &mut dyn Write,
) -> Result<(String, u64), DecryptFailure> {
    let (sha, plain) = read_ciphertext(input, identities, &mut |r| copy_plaintext(r, out));
    let n = plain?;
    Ok((sha.map_err(|e| DecryptFailure::Damaged(e.to_string()))?, n))
}

/// Copies the plaintext `r` into `out`: age's errors are damage, `out`'s are write errors.
fn copy_plaintext(r: &mut dyn Read, out: &mut dyn Write) -> Result<u64, DecryptFailure> {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(DecryptFailure::Damaged(e.to_string())),
        };
        out.write_all(&buf[..n])
            .map_err(|e| DecryptFailure::Write(e.to_string()))?;
        total += n as u64;
    }
    Ok(total)
}

/// Reads the age file `input` once: hashes all of it (to its end, even when decryption stops
/// early) and, with `identities`, hands the plaintext to `consume`, which must read it to its
/// end (age authenticates the last chunk only there). Returns the file's sha256, and what
/// `consume` returned or why the plaintext could not be had.
fn read_ciphertext(
    input: &Path,
    identities: &[BundleIdentity],
    consume: &mut dyn FnMut(&mut dyn Read) -> Result<u64, DecryptFailure>,
) -> (io::Result<String>, Result<u64, DecryptFailure>) {
    let f = match File::open(input) {
        Ok(f) => f,
        Err(e) => {
            let failure = DecryptFailure::Damaged(e.to_string());
            return (Err(e), Err(failure));
        }
    };
    let mut src = TeeReader {
        inner: f,
        tee: Handoff::new(|rx, back| {
            let mut h = Hasher::new(Algorithm::Sha256);
            for chunk in rx {
                h.update(&chunk);
                let _ = back.send(chunk);
            }
            Ok(h.finish_hex())
        }),
    };
    let plain = if identities.is_empty() {
        Err(DecryptFailure::NoIdentity)
    } else {
        decrypt_from(&mut src, identities, consume)
    };
    let sha = io::copy(&mut src, &mut io::sink()).and_then(|_| src.tee.finish());
    (sha, plain)
}

fn decrypt_from(
    src: &mut TeeReader,
    identities: &[BundleIdentity],
    consume: &mut dyn FnMut(&mut dyn Read) -> Result<u64, DecryptFailure>,
) -> Result<u64, DecryptFailure> {
    let d = age::Decryptor::new_buffered(BufReader::with_capacity(CHUNK, src))
        .map_err(|e| DecryptFailure::Damaged(e.to_string()))?;
    let mut reader = d
        .decrypt(identities.iter().map(BundleIdentity::as_age))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => DecryptFailure::NoIdentity,
            e => DecryptFailure::Damaged(e.to_string()),
        })?;
    consume(&mut reader)
}

/// A reader that counts what passes and keeps the first error of the reader beneath it — so
/// that age's verdict on the plaintext is told apart from what the tar reader made of it.
struct Watch<'r> {
    inner: &'r mut dyn Read,
    bytes: u64,
    failed: Option<io::Error>,
}

impl Read for Watch<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.bytes += n as u64;
                Ok(n)
            }
            Err(e) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                self.failed.get_or_insert(e);
                Err(copy)
            }
        }
    }
}

/// A file whose bytes, as they are read, are hashed (SHA-256) on another thread.
struct TeeReader {
    inner: File,
    tee: Handoff<String>,
}

impl Read for TeeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.tee.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// Why decryption failed.
#[derive(Debug, thiserror::Error)]
pub enum DecryptFailure {
    /// None of the identities is a recipient.
    #[error("none of the identities given is a recipient of this file")]
    NoIdentity,
    /// The file is not age, or its authentication failed (damaged or altered).
    #[error("the ciphertext is damaged or altered (age authentication failed): {0}")]
    Damaged(String),
    /// The plaintext could not be written.
    #[error("cannot write the plaintext: {0}")]
    Write(String),
}

/// A private (0700) temporary folder, removed when dropped. Decrypted evidence goes there.
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn new() -> io::Result<PrivateDir> {
        let base = std::env::temp_dir();
        for i in 0..100u32 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let p = base.join(format!("qoima-verify-{}-{nanos:x}-{i}", std::process::id()));
            let mut b = fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            match b.create(&p) {
                Ok(()) => return Ok(PrivateDir(p)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("cannot create a temporary folder"))
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn push(r: &mut SealReport, name: &str, found: Vec<Problem>, ok: String) {
    let errors: Vec<&Problem> = found.iter().filter(|p| p.is_error()).collect();
    let detail = match errors.as_slice() {
        [] => ok,
        [p] => p.to_string(),
        [p, rest @ ..] => format!("{p} (and {} more)", rest.len()),
    };
    r.checks.push(Check {
        check: name.to_string(),
        passed: errors.is_empty(),
        detail,
    });
    r.problems.extend(found);
}

/// Verifies the encrypted bundle `file` (`NAME.tar.age`): the signature of its
/// `NAME.tar.age.sha256` by a trusted key, the ciphertext against that digest (and the
/// envelope), decryption with `identities`, and then the sealed bag inside, in full
/// ([`super::verify_seal`]). The ciphertext is read once; the plaintext is written to a private
/// temporary folder, unpacked only when the ciphertext is the signed one, and removed afterwards.
pub fn verify_bundle(
    file: &Path,
    trusted: &[TrustedKey],
    pins: super::verify::Pins,
    identities: &[BundleIdentity],
    engine: &Engine,
    progress: &dyn Progress,
) -> SealReport {
    let mut r = SealReport::new(file);
    let fname = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = fname.strip_suffix(EXTENSION).unwrap_or(&fname).to_string();
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let paths = BundlePaths::new(dir, &name);
    let sum_rel = format!("{fname}.sha256");
    let sig_rel = format!("{sum_rel}.minisig");
    let env_rel = format!("{name}.envelope.txt");

    // 1. The signature of the ciphertext's digest.
    let signed = outer_signature(&paths, &fname, trusted);
    let statement = signed.statement.clone();
    push(
        &mut r,
        "bundle-signature",
        signed.problems,
        format!(
            "{sig_rel} verifies with trusted key {}: {sum_rel} and the statement are the sealer's",
            signed.signer.as_deref().unwrap_or("?")
        ),
    );

    // Time-stamps over that signature (NAME.tar.age.sha256.minisig.TSA.tsr beside it).
    let (tokens, p) = super::timestamp::check_folder(
        dir,
        "",
        &format!("{sig_rel}."),
        &|n| n == sig_rel,
        pins.tsa_roots,
    );
    super::verify::record_timestamps(
        &mut r,
        "the encrypted bundle",
        tokens,
        p,
        pins.tsa_roots.is_some(),
    );

    // The verify.sh beside the bundle is the one the sealer signed (recipients run it).
    let script = dir.join(super::VERIFY_SH);
    if let Some(want) = statement.as_ref().map(|s| s.verify_sh_sha256.clone())
        && fs::symlink_metadata(&script).is_ok()
    {
        let found = super::timestamp::read_limited(&script)
            .map(|d| digest_bytes(Algorithm::Sha256, &d))
            .unwrap_or_else(|_| "(not a regular file)".to_string());
        let mut p = Vec::new();
        if found != want {
            p.push(
                Problem::new(
                    Code::SealBundleScript,
                    format!(
                        "{} beside the bundle has sha256 {found}, but the signed statement names {want}",
                        super::VERIFY_SH
                    ),
                )
                .file(super::VERIFY_SH),
            );
        }
        push(
            &mut r,
            "bundle-script",
            p,
            format!(
                "{} beside the bundle is the script the sealer signed (sha256 {want})",
                super::VERIFY_SH
            ),
        );
    }

    // 2. The ciphertext, read once: hashed, and decrypted into a private temporary folder.
    let tmp = match PrivateDir::new() {
        Ok(t) => t,
        Err(e) => {
            push(
                &mut r,
                "decryption",
                vec![Problem::new(
                    Code::SealBundleScratch,
                    format!("cannot make a private temporary folder to decrypt into: {e}"),
                )],
                String::new(),
            );
            return finish(r);
        }
    };
    let tar_path = tmp.0.join(format!("{name}.tar"));
    // The ciphertext is hashed first, alone: only the one the sealer signed is decrypted into
    // files (anyone can encrypt to a recipient, and could fill their disk with entries); any
    // other is decrypted into nothing, for age's verdict. The second read hashes it again, so
    // a file replaced between the reads is caught. The signed one is staged as it is
    // decrypted: its files' data under numbers, given their names only once the second
    // digest is the signed one too.
    let (first, not_decrypted) = read_ciphertext(file, &[], &mut |_| Ok(0));
    let signed_matches =
        statement.is_some() && matches!((&first, &signed.sha256), (Ok(a), Some(b)) if a == b);
    let mut staged: Option<Result<Staged, StageError>> = None;
    let (sha, decrypted) = if identities.is_empty() {
        (first, not_decrypted)
    } else if signed_matches {
        let stage_dir = tmp.0.join("stage");
        read_ciphertext(file, identities, &mut |r| {
            let mut w = Watch {
                inner: r,
                bytes: 0,
                failed: None,
            };
            let s = Staged::read(&mut w, &stage_dir, &Limits::default());
            // The rest (the tar's padding, or all that follows a refused entry) is read too:
            // age authenticates the last chunk only at the end.
            let rest = io::copy(&mut w, &mut io::sink());
            if let Some(e) = w.failed.take() {
                return Err(DecryptFailure::Damaged(e.to_string()));
            }
            rest.map_err(|e| DecryptFailure::Damaged(e.to_string()))?;
            staged = Some(s);
            Ok(w.bytes)
        })
    } else {
        read_ciphertext(file, identities, &mut |r| {
            copy_plaintext(r, &mut io::sink())
        })
    };

    // 3. The ciphertext is the one signed.
    let mut ciphertext_ok = false;
    if let Some(want) = &signed.sha256 {
        let mut p = Vec::new();
        match &sha {
            Ok(found) if found == want => ciphertext_ok = true,
            Ok(found) => p.push(
                Problem::new(
                    Code::SealBundleSignature,
                    format!(
                        "{fname} has sha256 {found}, but the signed {sum_rel} says {want}: the ciphertext was altered, truncated or swapped"
                    ),
                )
                .file(&fname),
            ),
            Err(e) => p.push(
                Problem::new(Code::TagFileUnreadable, format!("cannot read {fname}: {e}"))
                    .file(&fname),
            ),
        }
        push(
            &mut r,
            "ciphertext",
            p,
            format!("{fname} has the signed sha256 {want}"),
        );
    }

    // 4. The envelope (a description; the signature is what counts).
    let mut p = Vec::new();
    match fs::read_to_string(&paths.envelope) {
        Err(e) => p.push(
            Problem::new(
                Code::SealBundleEnvelope,
                format!("cannot read {env_rel}: {e}"),
            )
            .file(&env_rel),
        ),
        Ok(text) => {
            let mut want = Vec::new();
            if let Ok(d) = &sha {
                want.push(("Ciphertext-SHA256", d.clone()));
            }
            if let Some(s) = &statement {
                want.push(("Tag-Manifest-SHA256", s.tag_manifest_sha256.clone()));
            }
            for (label, value) in want {
                let found = envelope_field(&text, label).map(str::to_ascii_lowercase);
                if found.as_deref() != Some(value.as_str()) {
                    p.push(
                        Problem::new(
                            Code::SealBundleEnvelope,
                            format!(
                                "{env_rel} says {label} {}, but it is {value}",
                                found.as_deref().unwrap_or("(missing)")
                            ),
                        )
                        .file(&env_rel)
                        .field(label),
                    );
                }
            }
        }
    }
    push(
        &mut r,
        "envelope",
        p,
        format!("{env_rel} holds the ciphertext's sha256 and the signed tag-manifest digest"),
    );

    // 5. Decryption.
    let plain_bytes = match decrypted {
        Ok(n) => {
            push(
                &mut r,
                "decryption",
                Vec::new(),
                format!("decrypted with the identities given ({n} bytes of tar)"),
            );
            n
        }
        Err(e) => {
            let code = match e {
                DecryptFailure::NoIdentity => Code::SealBundleNoIdentity,
                _ => Code::SealBundleDamaged,
            };
            let msg = if identities.is_empty() {
                "no identity given (-i IDENTITY_FILE): the bag inside cannot be checked".to_string()
            } else {
                e.to_string()
            };
            push(
                &mut r,
                "decryption",
                vec![Problem::new(code, msg).file(&fname)],
                String::new(),
            );
            return finish(r);
        }
    };
    // Anyone can encrypt to a recipient: a tar whose ciphertext no trusted key signed is not
    // unpacked.
    if statement.is_none() || !ciphertext_ok {
        return finish(r);
    }

    // 6. The bag inside, placed safely (as the folder the tar names), then its seal in full.
    // In a folder of its own, so that no bag's name can meet the scratch folder's.
    let bags = tmp.0.join("bag");
    let unpacked = match staged {
        Some(Ok(s)) => match fs::create_dir(&bags) {
            Ok(()) => s
                .place(&tar_path, &bags, &Limits::default())
                .map(|u| u.folder),
            Err(e) => Err(BagError::Refused(vec![Problem::new(
                Code::SealBundleScratch,
                format!("cannot write the private temporary folder: {e}"),
            )])),
        },
        Some(Err(StageError::Local(e))) => Err(BagError::Refused(vec![Problem::new(
            Code::SealBundleScratch,
            format!("cannot write the decrypted bag to the private temporary folder: {e}"),
        )])),
        Some(Err(e)) => Err(BagError::Refused(vec![Problem::new(
            Code::SealBundlePlaintext,
            format!("cannot unpack the decrypted tar: {e}"),
        )])),
        None => Err(BagError::Refused(vec![Problem::new(
            Code::SealBundlePlaintext,
            "the decrypted tar was not read",
        )])),
    };
    let bag_dir = match unpacked {
        Ok(d) => {
            push(
                &mut r,
                "bag-archive",
                Vec::new(),
                format!("the tar ({plain_bytes} bytes) holds one bag folder and nothing unsafe"),
            );
            d
        }
        Err(e) => {
            let p = match e {
                BagError::Refused(p) => p,
                e => vec![Problem::new(
                    Code::SealBundleScratch,
                    format!("cannot place the decrypted bag in the private temporary folder: {e}"),
                )],
            };
            push(&mut r, "bag-archive", p, String::new());
            return finish(r);
        }
    };
    let inner = super::verify_seal(&bag_dir, trusted, pins, engine, progress);
    r.proves.extend(
        inner
            .proves
            .into_iter()
            .filter(|p| !super::PROVES.contains(&p.as_str())),
    );
    r.timestamps.extend(inner.timestamps);
    r.signer_key = inner.signer_key;
    r.key_id = inner.key_id;
    r.signer_name = inner.signer_name;
    r.sealed_at = inner.sealed_at;
    r.checks.extend(inner.checks);
    r.problems.extend(inner.problems);

    // 7. The signed tag-manifest digest is the inner bag's.
    let mut p = Vec::new();
    if let Some(s) = &statement {
        let tm = format!("{}.txt", s.tag_manifest);
        let sha = fs::read(bag_dir.join(&tm))
            .map(|d| digest_bytes(Algorithm::Sha256, &d))
            .unwrap_or_default();
        if sha != s.tag_manifest_sha256 {
            p.push(
                Problem::new(
                    Code::SealBundlePlaintext,
                    format!(
                        "the bag inside has {tm} with sha256 {sha:?}, but the signed statement says {}",
                        s.tag_manifest_sha256
                    ),
                )
                .file(tm),
            );
        }
    }
    push(
        &mut r,
        "bundle-binding",
        p,
        "the outer signature names the bag's signed tag manifest".into(),
    );
    finish(r)
}

fn finish(mut r: SealReport) -> SealReport {
    r.sealed = !r.checks.is_empty() && r.checks.iter().all(|c| c.passed);
    r
}

/// What the outer signature vouches for.
struct Signed {
    problems: Vec<Problem>,
    statement: Option<BundleStatement>,
    /// The signer's key id, once a trusted key is found.
    signer: Option<String>,
    /// The ciphertext's sha256, from the signed `NAME.tar.age.sha256`.
    sha256: Option<String>,
}

/// Checks the signature of `NAME.tar.age.sha256` by a trusted key, and reads the statement and
/// the digest it vouches for.
fn outer_signature(paths: &BundlePaths, fname: &str, trusted: &[TrustedKey]) -> Signed {
    let sum_rel = format!("{fname}.sha256");
    let sig_rel = format!("{sum_rel}.minisig");
    let mut out = Signed {
        problems: Vec::new(),
        statement: None,
        signer: None,
        sha256: None,
    };
    let fail = |out: &mut Signed, code: Code, file: &str, msg: String| {
        out.problems.push(Problem::new(code, msg).file(file));
    };
    let old = PathBuf::from(format!("{}.minisig", paths.ciphertext.display()));
    if fs::symlink_metadata(&paths.signature).is_err() && old.is_file() {
        fail(
            &mut out,
            Code::SealBundleFormat,
            &format!("{fname}.minisig"),
            format!(
                "{fname} is a qoima-bundle/1 bundle (its signature is {fname}.minisig; this qoima reads {BUNDLE_VERSION}, signed through {sig_rel}): decrypt it with `age -d`, unpack the tar, and verify the sealed bag inside with `qoima verify-seal BAG`"
            ),
        );
        return out;
    }
    let text = match super::timestamp::read_limited(&paths.signature)
        .map(|d| String::from_utf8_lossy(&d).into_owned())
    {
        Ok(t) => t,
        Err(e) => {
            let msg = format!("cannot read the bundle's signature {sig_rel}: {e}");
            fail(&mut out, Code::SealBundleSignature, &sig_rel, msg);
            return out;
        }
    };
    let sig = match SignatureBox::from_string(&text) {
        Ok(s) => s,
        Err(e) => {
            let msg = format!("{sig_rel} is not a minisign signature: {e}");
            fail(&mut out, Code::SealSignatureUnreadable, &sig_rel, msg);
            return out;
        }
    };
    let Some(key) = trusted.iter().find(|t| t.key.keynum() == sig.keynum()) else {
        let mut b = [0u8; 8];
        b.copy_from_slice(&sig.keynum()[..8]);
        let msg = format!(
            "{sig_rel} was made by key {:016X}, which is not in the trusted-keys list",
            u64::from_le_bytes(b)
        );
        fail(&mut out, Code::SealUntrustedKey, &sig_rel, msg);
        return out;
    };
    out.signer = Some(key_id(&key.key));
    let sums = match super::timestamp::read_limited(&paths.checksum) {
        Ok(d) => d,
        Err(e) => {
            let msg =
                format!("cannot read {sum_rel}, the digest the bundle's signature is over: {e}");
            fail(&mut out, Code::SealBundleSignature, &sum_rel, msg);
            return out;
        }
    };
    let verified = minisign::verify(&key.key, &sig, io::Cursor::new(&sums), true, false, false)
        .map_err(|e| e.to_string())
        .and_then(|()| sig.trusted_comment().map_err(|e| e.to_string()));
    let comment = match verified {
        Ok(c) => c,
        Err(e) => {
            let msg = format!("{sig_rel} does not verify against {sum_rel}: {e}");
            fail(&mut out, Code::SealBundleSignature, &sig_rel, msg);
            return out;
        }
    };
    out.sha256 = parse_checksum(&String::from_utf8_lossy(&sums), fname);
    if out.sha256.is_none() {
        let msg = format!("{sum_rel} is signed, but it is not one sha256sum line naming {fname}");
        fail(&mut out, Code::SealBundleSignature, &sum_rel, msg);
    }
    out.statement = BundleStatement::parse(&comment);
    if out.statement.is_none() {
        let msg = format!(
            "the trusted comment of {sig_rel} is not a {BUNDLE_VERSION} statement: {comment:?}"
        );
        fail(&mut out, Code::SealCommentMismatch, &sig_rel, msg);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_round_trips() {
        let s = BundleStatement {
            verify_sh_sha256: "ef".repeat(32),
            tag_manifest: "tagmanifest-sha256".into(),
            tag_manifest_sha256: "cd".repeat(32),
        };
        assert_eq!(
            s.render(),
            format!(
                "qoima-bundle/2 verify-sh-sha256={} tagmanifest-sha256={}",
                "ef".repeat(32),
                "cd".repeat(32)
            )
        );
        assert_eq!(BundleStatement::parse(&s.render()), Some(s.clone()));
        assert_eq!(BundleStatement::parse("qoima-seal/1 bag=x"), None);
        let extra = format!("{} more", s.render());
        assert_eq!(BundleStatement::parse(&extra), None);
        // The first format's statement is not this one.
        let v1 = format!(
            "qoima-bundle/1 plaintext-tar-sha256={} verify-sh-sha256={} tagmanifest-sha256={}",
            "ab".repeat(32),
            "ef".repeat(32),
            "cd".repeat(32)
        );
        assert_eq!(BundleStatement::parse(&v1), None);
    }

    #[test]
    fn checksum_files_name_the_bundle_and_nothing_else() {
        let h = "0a".repeat(32);
        let line = checksum_line(&h, "bundle.tar.age");
        assert_eq!(line, format!("{h}  bundle.tar.age\n"));
        assert_eq!(parse_checksum(&line, "bundle.tar.age"), Some(h.clone()));
        let binary = format!("{} *bundle.tar.age\n", h.to_uppercase());
        assert_eq!(parse_checksum(&binary, "bundle.tar.age"), Some(h.clone()));
        let bare = format!("{h}  bundle.tar.age");
        assert_eq!(parse_checksum(&bare, "bundle.tar.age"), Some(h.clone()));
        for bad in [
            format!("{h}  other.tar.age\n"),
            format!("{h}  bundle.tar.age\n{h}  x\n"),
            format!("{h}  ../bundle.tar.age\n"),
            format!("{}  bundle.tar.age\n", &h[1..]),
            format!("{h} bundle.tar.age\n"),
            format!("{h}  bundle.tar.age\r\n"),
        ] {
            assert_eq!(parse_checksum(&bad, "bundle.tar.age"), None, "{bad:?}");
        }
    }

    #[test]
    fn names_are_neutral_and_safe() {
        assert!(check_name("bundle").is_ok());
        assert!(check_name("transfer-2026.01_a").is_ok());
        for bad in ["", ".hidden", "a/b", "a b", "Қойма", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(is_bundle(Path::new("d/bundle.tar.age")));
        assert!(!is_bundle(Path::new(".tar.age")));
        assert!(!is_bundle(Path::new("bag")));
    }

    #[test]
    fn recipients_and_identities_parse() {
        let id = x25519::Identity::generate();
        let r = id.to_public().to_string();
        assert!(parse_recipient(&format!("  {r}  ")).is_ok());
        assert!(parse_recipient("ssh-ed25519 AAAA").is_err());
        let ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJTx9XgY3rVbK2LG5xM1LhV8wqXvpWc8Z2m6bQ1mJxWq me@host";
        assert!(parse_recipient(ssh).is_ok_and(|r| r.is_ssh()));
        assert!(
            parse_recipient("-----BEGIN OPENSSH PRIVATE KEY-----")
                .unwrap_err()
                .to_string()
                .contains("private key")
        );
        use age::secrecy::ExposeSecret;
        let secret = id.to_string();
        let e = parse_recipient(secret.expose_secret()).unwrap_err();
        assert!(e.to_string().contains("secret identity"));
        let dir = std::env::temp_dir().join(format!("qoima-enc-unit-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let f = dir.join("ids.txt");
        fs::write(
            &f,
            format!(
                "# created: now\n# public key: {r}\n{}\n",
                secret.expose_secret()
            ),
        )
        .unwrap();
        assert_eq!(read_identities(&f).unwrap().len(), 1);
        fs::write(&f, "# c\n\nnot a key\n").unwrap();
        let Err(e) = read_identities(&f) else {
            panic!("a bad line was accepted")
        };
        let e = e.to_string();
        assert!(e.contains("line 3") && !e.contains("not a key"), "{e}");
        fs::write(&f, format!("# team\n{r}\n\n{r}\n")).unwrap();
        assert_eq!(read_recipients_file(&f).unwrap().len(), 2);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn cipher_tee_writes_every_byte_and_hashes_it() {
        let dir = std::env::temp_dir().join(format!("qoima-enc-ct-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("out");
        let data: Vec<u8> = (0..5 * CHUNK + 4099).map(|i| (i % 253) as u8).collect();
        let (file, direct) = create_ciphertext(&p).unwrap();
        assert!(
            create_ciphertext(&p).is_err(),
            "an existing file was replaced"
        );
        let mut w = CipherTee::new(file, direct);
        for part in data.chunks(70_001) {
            w.write_all(part).unwrap();
            w.flush().unwrap();
        }
        let (file, d) = w.finish().unwrap();
        file.sync_all().unwrap();
        drop(file);
        assert_eq!(fs::read(&p).unwrap(), data);
        assert_eq!(d.bytes, data.len() as u64);
        assert_eq!(d.sha256, digest_bytes(Algorithm::Sha256, &data));
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
            let p = dir.join(format!("out{round}"));
            let (file, direct) = create_ciphertext(&p).unwrap();
            let direct = if round == 0 { direct } else { None };
            let (tx, rx) = sync_channel(chunks.len());
            for &(len, fill, shift) in &chunks {
                tx.send(chunk(len, fill, shift)).unwrap();
            }
            drop(tx);
            let file = write_chunks(file, direct, rx).unwrap();
            file.sync_all().unwrap();
            drop(file);
            assert_eq!(fs::read(&p).unwrap(), want, "round {round}");
        }
        assert_eq!(pool.lock().unwrap().len(), 2 * chunks.len());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn handoff_runs_its_stage_and_reports_its_error() {
        let data: Vec<u8> = (0..3 * CHUNK + 5).map(|i| (i % 241) as u8).collect();
        let mut h = Handoff::new(|rx, back| {
            let mut all = Vec::new();
            for b in rx {
                all.extend_from_slice(&b);
                let _ = back.send(b);
            }
            Ok(all)
        });
        for part in data.chunks(8192) {
            h.write_all(part).unwrap();
        }
        assert_eq!(h.finish().unwrap(), data);
        // A stage that fails (a full disk) stops the writer with the stage's own error.
        let mut h: Handoff<()> = Handoff::new(|rx, _| {
            let _first = rx.recv();
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        });
        let e = (0..100)
            .find_map(|_| h.write_all(&data).err())
            .expect("the writer went on after its stage stopped");
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
    }

    #[test]
    fn decrypting_reads_the_file_once_and_hashes_all_of_it() {
        let id = x25519::Identity::generate();
        let other = x25519::Identity::generate();
        let plain = b"a tar, say".repeat(10_000);
        let r = id.to_public();
        let (head, payload) = super::super::agefile::start(&[&r as &dyn age::Recipient]).unwrap();
        let dir = std::env::temp_dir().join(format!("qoima-enc-rt-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let f = dir.join("x.age");
        let mut w =
            super::super::agefile::Encryptor::new(File::create(&f).unwrap(), &head, payload)
                .unwrap();
        w.write_all(&plain).unwrap();
        w.finish().unwrap();
        let mut out = Vec::new();
        let other = [BundleIdentity::X25519(other)];
        let id = [BundleIdentity::X25519(id)];
        let (sha, n) = decrypt_file(&f, &id, &mut out).unwrap();
        assert_eq!(out, plain);
        assert_eq!(n, plain.len() as u64);
        assert_eq!(sha, digest_bytes(Algorithm::Sha256, &fs::read(&f).unwrap()));
        assert!(matches!(
            decrypt_file(&f, &other, &mut Vec::new()),
            Err(DecryptFailure::NoIdentity)
        ));
        // Altered early: decryption stops there, the hash still covers the whole file.
        let mut bytes = fs::read(&f).unwrap();
        let at = bytes.len() - plain.len();
        bytes[at] ^= 1;
        fs::write(&f, &bytes).unwrap();
        let (sha, plain) = read_ciphertext(&f, &id, &mut |r| copy_plaintext(r, &mut io::sink()));
        assert!(matches!(plain, Err(DecryptFailure::Damaged(_))));
        assert_eq!(sha.unwrap(), digest_bytes(Algorithm::Sha256, &bytes));
        let _ = fs::remove_dir_all(&dir);
    }
}
