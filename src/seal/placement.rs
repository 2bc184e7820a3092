//! Putting an encrypted bundle's files under their final names, so that `NAME.tar.age`
//! appears only when the bundle is complete, and undoing a placement a kill interrupted.
//!
//! The four files are written and flushed under temporary names (`.FILE.qoima-encrypt-PID`)
//! first. Placing them takes four steps, which no order makes one: so the ciphertext, the
//! file every check starts from, comes last. Before it, the checksum, the signature, the
//! envelope and `verify.sh` are linked into place; a kill among those steps leaves some of
//! them without a ciphertext, and the dead run's complete ciphertext under its temporary
//! name. The next run into the same folder undoes that placement ([`undo_interrupted`]):
//! each companion is removed only when proven to be that run's — the checksum names the
//! digest of the dead run's ciphertext, the envelope gives the same digest, the signature
//! verifies that checksum under the sealer's key — so a file of the user's is never taken.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use minisign::{PublicKey, SignatureBox};

use super::SealError;
use super::bundle::BundlePaths;
use crate::archive::write::checksum_line;
use crate::digest::{Algorithm, Hasher};
use crate::fsutil;

/// The tag of the bundle's temporaries.
pub(super) const TAG: &str = "encrypt";

/// Links the complete temporaries `tmps` (in [`BundlePaths::all`]'s order: ciphertext first)
/// into place, never over an existing file, the ciphertext last; `before_ciphertext` runs
/// just before it (it places `verify.sh`). On an error, what this run placed is removed
/// again, and every temporary.
pub(super) fn place(
    tmps: &[PathBuf],
    paths: &BundlePaths,
    before_ciphertext: impl FnOnce(),
) -> Result<(), SealError> {
    let finals = paths.all();
    let mut placed: Vec<&PathBuf> = Vec::new();
    let mut before = Some(before_ciphertext);
    for index in [1, 2, 3, 0] {
        if index == 0 {
            (before.take().expect("once"))();
        }
        let (tmp, fin) = (&tmps[index], finals[index]);
        if let Err(e) = fsutil::place_new(tmp, fin) {
            for path in &placed {
                let _ = fs::remove_file(path);
            }
            for tmp in tmps {
                let _ = fs::remove_file(tmp);
            }
            return Err(SealError::Io {
                path: fin.clone(),
                source: e,
            });
        }
        placed.push(fin);
        fsutil::failpoint("bundle-placed");
    }
    Ok(())
}

/// Before writing the bundle `paths`: when its ciphertext is missing and a dead run left its
/// complete ciphertext under a temporary name, removes the companions that run had placed
/// (each proven its own; see the module documentation). The dead run's temporaries are left
/// for the caller's sweep. Names the files removed.
pub(super) fn undo_interrupted(
    paths: &BundlePaths,
    pk: &PublicKey,
) -> Result<Vec<PathBuf>, SealError> {
    if fs::symlink_metadata(&paths.ciphertext).is_ok() {
        return Ok(Vec::new());
    }
    let mut removed = Vec::new();
    for dead in dead_ciphertexts(&paths.ciphertext) {
        let Ok(sha256) = sha256_of(&dead) else {
            continue;
        };
        let name = paths
            .ciphertext
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let line = checksum_line(&sha256, &name);
        if !fs::read(&paths.checksum).is_ok_and(|c| c == line.as_bytes()) {
            continue;
        }
        let signature_ours = fs::read_to_string(&paths.signature)
            .ok()
            .and_then(|text| SignatureBox::from_string(&text).ok())
            .is_some_and(|sig| {
                minisign::verify(pk, &sig, io::Cursor::new(&line), true, false, false).is_ok()
            });
        let envelope_ours = fs::read_to_string(&paths.envelope).is_ok_and(|text| {
            text.lines()
                .any(|l| l.trim() == format!("Ciphertext-SHA256: {sha256}"))
        });
        for (path, ours) in [
            (&paths.signature, signature_ours),
            (&paths.envelope, envelope_ours),
            (&paths.checksum, true),
        ] {
            if ours {
                fs::remove_file(path).map_err(SealError::io(path))?;
                removed.push(path.clone());
            }
        }
        break;
    }
    if !removed.is_empty() {
        let dir = fsutil::parent_dir(&paths.ciphertext);
        fsutil::sync_dir(dir).map_err(SealError::io(dir))?;
    }
    Ok(removed)
}

/// The ciphertext temporaries (`.NAME.tar.age.qoima-encrypt-PID`) beside `ciphertext` whose
/// run is gone.
fn dead_ciphertexts(ciphertext: &Path) -> Vec<PathBuf> {
    let Some(name) = ciphertext.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let dir = fsutil::parent_dir(ciphertext);
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let entry = e.file_name().into_string().ok()?;
            let pid = entry
                .rsplit_once(&format!(".qoima-{TAG}-"))?
                .1
                .parse()
                .ok()?;
            let dead = fsutil::temp_target(&entry, TAG) == Some(name)
                && !fsutil::process_alive(pid)
                && e.file_type().is_ok_and(|t| t.is_file());
            dead.then(|| e.path())
        })
        .collect();
    found.sort();
    found
}

/// The sha256 of a file, streamed.
fn sha256_of(path: &Path) -> io::Result<String> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Hasher::new(Algorithm::Sha256);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let count = file.read(&mut buf)?;
        if count == 0 {
            return Ok(hasher.finish_hex());
        }
        hasher.update(&buf[..count]);
    }
}
