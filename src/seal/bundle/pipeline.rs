//! The bundle's chunk pipeline: the sealed bag is read and written as a tar on the calling
//! thread; the tar goes in chunks to a thread that encrypts it ([`super::agefile`]), whose
//! output goes in chunks to a thread that writes the file and one that hashes it
//! ([`super::sink`]). Every hand-over is a bounded channel ([`super::stage`]), so memory does
//! not grow with the bag, and the ciphertext is never read back.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use super::agefile;
use super::recipients::BundleRecipient;
use super::sink::{CipherDigests, CipherTee, create_ciphertext};
use super::stage::Handoff;
use crate::bagit::BagError;
use crate::digest::Progress;
use crate::seal::SealError;

/// Encrypts the tar of the sealed bag `bag` to `recipients` into the new file `ciphertext`,
/// synced before this returns. Returns what the ciphertext's consumers computed, and the size
/// of the plaintext tar.
pub(super) fn encrypt_tar(
    bag: &Path,
    recipients: &[BundleRecipient],
    ciphertext: &Path,
    progress: &dyn Progress,
) -> Result<(CipherDigests, u64), SealError> {
    let io_error = |source| SealError::Io {
        path: ciphertext.to_path_buf(),
        source,
    };
    let recipients: Vec<&dyn age::Recipient> =
        recipients.iter().map(BundleRecipient::as_age).collect();
    let (header, payload) =
        agefile::start(&recipients).map_err(|e| SealError::Key(format!("cannot encrypt: {e}")))?;
    let (file, direct) = create_ciphertext(ciphertext).map_err(io_error)?;
    let plaintext = encryption_stage(CipherTee::new(file, direct), header, payload);
    let mtime = crate::archive::write::archive_time(bag);
    // The tar's folder keeps the bag's own name (it is inside the encryption): when the bag
    // has no External-Identifier, its signed statements name the folder.
    let top = crate::seal::layout::folder_name(bag)?;
    let plaintext = crate::archive::write::write_tar_stream(bag, &top, plaintext, mtime, progress)
        .map_err(|e| match e {
            BagError::Io { path, source } => SealError::Io { path, source },
            e => SealError::Key(e.to_string()),
        })?;
    let (file, digests, plaintext_bytes) = plaintext.finish().map_err(io_error)?;
    file.sync_all().map_err(io_error)?;
    drop(file);
    Ok((digests, plaintext_bytes))
}

/// The stage that encrypts the tar into `sink`, on a thread of its own. Its result: the
/// ciphertext file (written, not yet synced), the sink's digests, and the tar's size.
fn encryption_stage(
    sink: CipherTee,
    header: Vec<u8>,
    payload: agefile::Payload,
) -> Handoff<(File, CipherDigests, u64)> {
    Handoff::new(move |chunks, back| {
        let mut encryptor = agefile::Encryptor::new(sink, &header, payload)?;
        let mut bytes = 0u64;
        for buf in chunks {
            encryptor.write_all(&buf)?;
            bytes += buf.len() as u64;
            let _ = back.send(buf);
        }
        let (file, digests) = encryptor.finish()?.finish()?;
        Ok((file, digests, bytes))
    })
}
