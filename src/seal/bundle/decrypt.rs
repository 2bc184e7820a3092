//! Reading a bundle's ciphertext: one pass over the file that hashes all of it (to its end,
//! even when decryption stops early) while the `age` crate decrypts it with the identities
//! given, so that age's verdict, the file's sha256 and what was made of the plaintext are told
//! apart.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use super::recipients::BundleIdentity;
use super::stage::{CHUNK, Handoff};
use crate::archive::unpack::{StageError, Staged};
use crate::digest::{Algorithm, Hasher};
use crate::store::Limits;

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

/// The ciphertext's sha256 (or why the file could not be read), and what was made of its
/// plaintext (or why there was none).
pub(super) type CiphertextRead = (io::Result<String>, Result<u64, DecryptFailure>);

/// Decrypts an age file with `identities` into `out` (streaming), reading it once. Returns the
/// file's sha256 (the ciphertext's) and the plaintext's size.
pub fn decrypt_file(
    input: &Path,
    identities: &[BundleIdentity],
    out: &mut dyn Write,
) -> Result<(String, u64), DecryptFailure> {
    let (sha256, plaintext) =
        read_ciphertext(input, identities, &mut |reader| copy_plaintext(reader, out));
    let plaintext_bytes = plaintext?;
    Ok((
        sha256.map_err(|e| DecryptFailure::Damaged(e.to_string()))?,
        plaintext_bytes,
    ))
}

/// Copies the plaintext `reader` into `out`: age's errors are damage, `out`'s are write errors.
pub(super) fn copy_plaintext(
    reader: &mut dyn Read,
    out: &mut dyn Write,
) -> Result<u64, DecryptFailure> {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let read = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(DecryptFailure::Damaged(e.to_string())),
        };
        out.write_all(&buf[..read])
            .map_err(|e| DecryptFailure::Write(e.to_string()))?;
        total += read as u64;
    }
    Ok(total)
}

/// Reads the age file `input` once, decrypting it with `identities` and staging the plaintext
/// tar under `stage_dir` as it comes ([`Staged::read`]: the files' data under numbers, named
/// only by [`Staged::place`]). The stage is returned only when age authenticated the whole
/// plaintext; the tar's size is what `Ok` holds.
pub(super) fn stage_tar(
    input: &Path,
    identities: &[BundleIdentity],
    stage_dir: &Path,
) -> (CiphertextRead, Option<Result<Staged, StageError>>) {
    let mut staged = None;
    let read = read_ciphertext(input, identities, &mut |reader| {
        let mut watch = Watch {
            inner: reader,
            bytes: 0,
            failed: None,
        };
        let stage = Staged::read(&mut watch, stage_dir, &Limits::default());
        // The rest (the tar's padding, or all that follows a refused entry) is read too:
        // age authenticates the last chunk only at the end.
        let rest = io::copy(&mut watch, &mut io::sink());
        if let Some(e) = watch.failed.take() {
            return Err(DecryptFailure::Damaged(e.to_string()));
        }
        rest.map_err(|e| DecryptFailure::Damaged(e.to_string()))?;
        staged = Some(stage);
        Ok(watch.bytes)
    });
    (read, staged)
}

/// Reads the age file `input` once: hashes all of it (to its end, even when decryption stops
/// early) and, with `identities`, hands the plaintext to `consume`, which must read it to its
/// end (age authenticates the last chunk only there). Returns the file's sha256, and what
/// `consume` returned or why the plaintext could not be had.
pub(super) fn read_ciphertext(
    input: &Path,
    identities: &[BundleIdentity],
    consume: &mut dyn FnMut(&mut dyn Read) -> Result<u64, DecryptFailure>,
) -> CiphertextRead {
    let file = match File::open(input) {
        Ok(file) => file,
        Err(e) => {
            let failure = DecryptFailure::Damaged(e.to_string());
            return (Err(e), Err(failure));
        }
    };
    let mut source = TeeReader {
        inner: file,
        tee: Handoff::new(|chunks, back| {
            let mut hasher = Hasher::new(Algorithm::Sha256);
            for chunk in chunks {
                hasher.update(&chunk);
                let _ = back.send(chunk);
            }
            Ok(hasher.finish_hex())
        }),
    };
    let plaintext = if identities.is_empty() {
        Err(DecryptFailure::NoIdentity)
    } else {
        decrypt_from(&mut source, identities, consume)
    };
    let sha256 = io::copy(&mut source, &mut io::sink()).and_then(|_| source.tee.finish());
    (sha256, plaintext)
}

fn decrypt_from(
    source: &mut TeeReader,
    identities: &[BundleIdentity],
    consume: &mut dyn FnMut(&mut dyn Read) -> Result<u64, DecryptFailure>,
) -> Result<u64, DecryptFailure> {
    let decryptor = age::Decryptor::new_buffered(BufReader::with_capacity(CHUNK, source))
        .map_err(|e| DecryptFailure::Damaged(e.to_string()))?;
    let mut reader = decryptor
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
            Ok(read) => {
                self.bytes += read as u64;
                Ok(read)
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
        let read = self.inner.read(buf)?;
        self.tee.write_all(&buf[..read])?;
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use age::x25519;

    use super::super::agefile;
    use super::*;
    use crate::digest::digest_bytes;

    #[test]
    fn decrypting_reads_the_file_once_and_hashes_all_of_it() {
        let id = x25519::Identity::generate();
        let other = x25519::Identity::generate();
        let plain = b"a tar, say".repeat(10_000);
        let recipient = id.to_public();
        let (head, payload) = agefile::start(&[&recipient as &dyn age::Recipient]).unwrap();
        let dir = std::env::temp_dir().join(format!("qoima-enc-rt-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("x.age");
        let mut writer =
            agefile::Encryptor::new(File::create(&file).unwrap(), &head, payload).unwrap();
        writer.write_all(&plain).unwrap();
        writer.finish().unwrap();
        let mut out = Vec::new();
        let other = [BundleIdentity::X25519(other)];
        let id = [BundleIdentity::X25519(id)];
        let (sha256, plaintext_bytes) = decrypt_file(&file, &id, &mut out).unwrap();
        assert_eq!(out, plain);
        assert_eq!(plaintext_bytes, plain.len() as u64);
        assert_eq!(
            sha256,
            digest_bytes(Algorithm::Sha256, &fs::read(&file).unwrap())
        );
        assert!(matches!(
            decrypt_file(&file, &other, &mut Vec::new()),
            Err(DecryptFailure::NoIdentity)
        ));
        // Altered early: decryption stops there, the hash still covers the whole file.
        let mut bytes = fs::read(&file).unwrap();
        let at = bytes.len() - plain.len();
        bytes[at] ^= 1;
        fs::write(&file, &bytes).unwrap();
        let (sha256, plain) = read_ciphertext(&file, &id, &mut |reader| {
            copy_plaintext(reader, &mut io::sink())
        });
        assert!(matches!(plain, Err(DecryptFailure::Damaged(_))));
        assert_eq!(sha256.unwrap(), digest_bytes(Algorithm::Sha256, &bytes));
        let _ = fs::remove_dir_all(&dir);
    }
}
