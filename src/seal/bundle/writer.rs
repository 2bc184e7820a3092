//! Writing a bundle (`qoima seal BAG --to … -o DIR`): the ciphertext through the pipeline, then
//! its `sha256sum` line, the signature of that line, and the envelope, each under a temporary
//! name, linked into place together (ciphertext last) by [`crate::seal::placement`]; and the
//! shared `verify.sh` beside them. Existing files are never replaced.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use minisign::{PublicKey, SecretKey};

use super::format::{BundlePaths, BundleStatement, BundleSummary, EXTENSION, check_name, envelope};
use super::pipeline::encrypt_tar;
use super::recipients::BundleRecipient;
use crate::archive::write::checksum_line;
use crate::digest::{Algorithm, Progress, digest_bytes};
use crate::fsutil;
use crate::seal::keys::key_id;
use crate::seal::{SealError, placement, script};

/// How to encrypt a sealed bag.
#[derive(Clone, Debug)]
pub struct EncryptOptions {
    /// The folder to write the bundle into (created when missing).
    pub out_dir: PathBuf,
    /// The bundle's neutral label ([`super::DEFAULT_NAME`] unless chosen).
    pub name: String,
    /// Who can decrypt it.
    pub recipients: Vec<BundleRecipient>,
}

/// Encrypts the sealed bag `bag` into `opts.out_dir` (see the module documentation) and signs
/// the ciphertext's digest with `secret_key`. Every file is written under a temporary name and linked
/// into place when complete; existing files are never replaced.
pub fn encrypt_sealed_bag(
    bag: &Path,
    secret_key: &SecretKey,
    public_key: &PublicKey,
    opts: &EncryptOptions,
    progress: &dyn Progress,
) -> Result<BundleSummary, SealError> {
    check_name(&opts.name)?;
    if opts.recipients.is_empty() {
        return Err(SealError::Key(
            "no recipient: give --to age1… or --recipients-file".into(),
        ));
    }
    let tag_manifest = signed_tag_manifest(bag)?;
    let paths = BundlePaths::new(&opts.out_dir, &opts.name);
    clear_interrupted(&paths, public_key)?;
    refuse_existing(&paths)?;
    fs::create_dir_all(&opts.out_dir).map_err(SealError::io(&opts.out_dir))?;
    let temporaries: Vec<PathBuf> = paths
        .all()
        .iter()
        .map(|path| fsutil::temp_sibling(path, placement::TAG))
        .collect();
    let signer = Signer {
        secret_key,
        public_key,
    };
    let written = write_bundle(bag, &signer, opts, progress, &temporaries, &tag_manifest);
    let summary = match written {
        Ok(summary) => summary,
        Err(e) => {
            for temporary in &temporaries {
                let _ = fs::remove_file(temporary);
            }
            return Err(e);
        }
    };
    // Linked into place, never renamed over: a bundle of the same name written meanwhile (a
    // second seal into the same folder) is not replaced, nor mixed with this one's files.
    // The ciphertext comes last, so that it appears only with everything beside it.
    let mut verify_sh_error = None;
    placement::place(&temporaries, &paths, || {
        verify_sh_error = place_script(&opts.out_dir).err().map(|e| e.to_string());
    })?;
    sync_out_dir(&opts.out_dir, &paths)?;
    Ok(BundleSummary {
        verify_sh_error,
        ciphertext: paths.ciphertext,
        checksum: paths.checksum,
        signature: paths.signature,
        envelope: paths.envelope,
        ..summary
    })
}

/// The key that signs the ciphertext's digest.
struct Signer<'k> {
    secret_key: &'k SecretKey,
    public_key: &'k PublicKey,
}

/// The signed tag manifest of the bag: its name (e.g. `tagmanifest-sha256.txt`) and SHA-256.
struct TagManifest {
    name: String,
    sha256: String,
}

/// The signed tag manifest of a sealed bag: `tagmanifest-sha256.txt`, else
/// `tagmanifest-sha512.txt`, with its SHA-256.
fn signed_tag_manifest(bag: &Path) -> Result<TagManifest, SealError> {
    for name in ["tagmanifest-sha256.txt", "tagmanifest-sha512.txt"] {
        let path = bag.join(name);
        if path.is_file()
            && bag
                .join(crate::seal::SEAL_DIR)
                .join(format!("{name}.minisig"))
                .is_file()
        {
            let data = fs::read(&path).map_err(SealError::io(&path))?;
            return Ok(TagManifest {
                name: name.to_string(),
                sha256: digest_bytes(Algorithm::Sha256, &data),
            });
        }
    }
    Err(SealError::Key(format!(
        "{} is not sealed (no signed tagmanifest-sha256.txt or tagmanifest-sha512.txt); seal it before encrypting",
        bag.display()
    )))
}

/// Before writing the bundle `paths`: undoes a placement a killed run left half done, then
/// removes what dead runs left under temporary names beside the bundle's files.
fn clear_interrupted(paths: &BundlePaths, public_key: &PublicKey) -> Result<(), SealError> {
    placement::undo_interrupted(paths, public_key)?;
    for path in paths.all() {
        fsutil::sweep_stale(path, placement::TAG);
    }
    let script = fsutil::parent_dir(&paths.ciphertext).join(crate::seal::VERIFY_SH);
    fsutil::sweep_stale(&script, "script");
    Ok(())
}

/// Refuses to write a bundle any of whose four files exists.
fn refuse_existing(paths: &BundlePaths) -> Result<(), SealError> {
    for path in paths.all() {
        if fs::symlink_metadata(path).is_ok() {
            return Err(SealError::Io {
                path: path.clone(),
                source: io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "exists; qoima never replaces a bundle (choose another --bundle-name or folder)",
                ),
            });
        }
    }
    Ok(())
}

/// Flushes the folder the bundle was placed in.
fn sync_out_dir(out_dir: &Path, paths: &BundlePaths) -> Result<(), SealError> {
    fsutil::sync_dir(out_dir).map_err(|e| SealError::Io {
        path: out_dir.to_path_buf(),
        source: io::Error::new(
            e.kind(),
            format!(
                "{e}: the bundle is written, but this folder could not be flushed to disk; check the disk, then run `qoima verify-seal {}`",
                paths.ciphertext.display()
            ),
        ),
    })
}

/// Writes the four files under their temporary names (in [`BundlePaths::all`]'s order): the
/// ciphertext, its `sha256sum` line, the signature of that line, the envelope. The summary's
/// paths are left empty for the caller to fill once they are placed.
fn write_bundle(
    bag: &Path,
    signer: &Signer,
    opts: &EncryptOptions,
    progress: &dyn Progress,
    temporaries: &[PathBuf],
    tag_manifest: &TagManifest,
) -> Result<BundleSummary, SealError> {
    let (cipher, plaintext_bytes) = encrypt_tar(bag, &opts.recipients, &temporaries[0], progress)?;
    let statement = BundleStatement {
        verify_sh_sha256: digest_bytes(Algorithm::Sha256, script::VERIFY_SH.as_bytes()),
        tag_manifest: tag_manifest.name.trim_end_matches(".txt").to_string(),
        tag_manifest_sha256: tag_manifest.sha256.clone(),
    };
    let line = checksum_line(&cipher.sha256, &format!("{}{EXTENSION}", opts.name));
    write_new(&temporaries[1], line.as_bytes())?;
    let signer_key_id = key_id(signer.public_key);
    let signature = sign_checksum(signer, &signer_key_id, &line, &statement)?;
    write_new(&temporaries[2], signature.as_bytes())?;

    let summary = BundleSummary {
        name: opts.name.clone(),
        ciphertext: PathBuf::new(),
        checksum: PathBuf::new(),
        signature: PathBuf::new(),
        envelope: PathBuf::new(),
        ciphertext_bytes: cipher.bytes,
        ciphertext_sha256: cipher.sha256,
        plaintext_bytes,
        tag_manifest: tag_manifest.name.clone(),
        tag_manifest_sha256: tag_manifest.sha256.clone(),
        key_id: signer_key_id,
        recipients: opts.recipients.len(),
        verify_sh_error: None,
    };
    write_new(&temporaries[3], envelope(&summary).as_bytes())?;
    Ok(summary)
}

/// The minisign signature of the checksum `line`, whose trusted comment is `statement`.
fn sign_checksum(
    signer: &Signer,
    signer_key_id: &str,
    line: &str,
    statement: &BundleStatement,
) -> Result<String, SealError> {
    let untrusted = format!("qoima encrypted bundle, key {signer_key_id}");
    let signature = minisign::sign(
        Some(signer.public_key),
        signer.secret_key,
        line.as_bytes(),
        Some(&statement.render()),
        Some(&untrusted),
    )
    .map_err(|e| SealError::Key(format!("cannot sign the ciphertext's digest: {e}")))?;
    Ok(signature.to_string())
}

fn write_new(path: &Path, data: &[u8]) -> Result<(), SealError> {
    let mut file = crate::fsutil::create_new(path).map_err(SealError::io(path))?;
    file.write_all(data).map_err(SealError::io(path))?;
    file.sync_all().map_err(SealError::io(path))
}

/// Puts `verify.sh` (the same script every sealed bag carries) beside the bundle, so that a
/// recipient can check the bundle before and after decrypting it with stock tools. A
/// `verify.sh` already there is kept when it is the same script; any other file of that name
/// is an error (qoima never replaces a file it did not write).
fn place_script(dir: &Path) -> Result<(), SealError> {
    let path = dir.join(crate::seal::VERIFY_SH);
    match fs::read(&path) {
        Ok(existing) if existing == script::VERIFY_SH.as_bytes() => Ok(()),
        Ok(_) => Err(SealError::Io {
            path,
            source: io::Error::new(
                io::ErrorKind::AlreadyExists,
                "exists and is not qoima's verify.sh; move it away and copy the verify.sh of the sealed bag beside the bundle",
            ),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let temporary = fsutil::temp_sibling(&path, "script");
            let placed = write_new(&temporary, script::VERIFY_SH.as_bytes()).and_then(|()| {
                match fsutil::place_new(&temporary, &path) {
                    // Written meanwhile by another seal into the same folder: kept if the same.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match fs::read(&path) {
                        Ok(data) if data == script::VERIFY_SH.as_bytes() => Ok(()),
                        _ => Err(SealError::io(&path)(e)),
                    },
                    placed => placed.map_err(SealError::io(&path)),
                }
            });
            let _ = fs::remove_file(&temporary);
            placed
        }
        Err(e) => Err(SealError::Io { path, source: e }),
    }
}
