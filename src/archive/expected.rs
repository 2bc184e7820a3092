//! Holding the archived bytes to the bag's manifests (`--verify` of the archive writer): a
//! bag staged for `bag --zip` or `package --zip` may share its payload with the source (hard
//! links), so a source file written to after it was hashed would reach the archive changed.
//! Every file the manifests list is hashed again from the very bytes written into the archive
//! and compared; a difference refuses the archive (`BAG-084`).

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::Path;

use crate::bagit::text::Encoding;
use crate::bagit::{BagError, Version, manifest};
use crate::digest::{Algorithm, Digest, Hasher};
use crate::error::{Code, Problem};

/// The manifests' digests, to hold the archived bytes to: one algorithm (the cheapest strong
/// one the bag has), by bag-relative path.
pub(super) struct Expected {
    algorithm: Algorithm,
    digests: HashMap<String, Digest>,
}

/// A file whose archived bytes are not the bytes its manifest vouches for.
#[derive(Debug)]
struct Mismatch {
    rel: String,
    algorithm: Algorithm,
    manifest: String,
    archived: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} changed after it was hashed: its {} was {} in the manifest and {} as archived; something wrote to it (or to the source file it is linked to) during the run, so the archive was not kept",
            self.rel,
            self.algorithm.name(),
            self.manifest,
            self.archived
        )
    }
}

impl std::error::Error for Mismatch {}

impl Expected {
    /// Reads the digests of `bag`'s payload and tag manifests for the preferred algorithm.
    pub(super) fn load(bag: &Path) -> Result<Expected, BagError> {
        const PREFERENCE: [Algorithm; 7] = [
            Algorithm::Blake3,
            Algorithm::Sha256,
            Algorithm::Sha512,
            Algorithm::Sha384,
            Algorithm::Sha224,
            Algorithm::Sha1,
            Algorithm::Md5,
        ];
        let algorithm = PREFERENCE
            .into_iter()
            .find(|&algorithm| bag.join(manifest::file_name(false, algorithm)).is_file())
            .ok_or_else(|| {
                BagError::Usage(format!(
                    "{} has no payload manifest qoima can check",
                    bag.display()
                ))
            })?;
        let mut digests = HashMap::new();
        for tag in [false, true] {
            let name = manifest::file_name(tag, algorithm);
            let path = bag.join(&name);
            if tag && !path.is_file() {
                continue;
            }
            let file = File::open(&path).map_err(BagError::io(&path))?;
            let mut problems = crate::verdict::Problems::default();
            let parsed = manifest::parse(
                io::BufReader::new(file),
                &name,
                Encoding::Utf8,
                Version::V1_0,
                &mut problems,
            );
            digests.extend(
                parsed
                    .entries
                    .into_iter()
                    .map(|entry| (entry.path, entry.digest)),
            );
        }
        Ok(Expected { algorithm, digests })
    }

    /// A hasher for `rel` when the manifests list it.
    pub(super) fn hasher(&self, rel: &str) -> Option<Hasher> {
        self.digests
            .contains_key(rel)
            .then(|| Hasher::new(self.algorithm))
    }

    /// Compares what was archived of `rel` with its manifest.
    pub(super) fn check(&self, rel: &str, hasher: Option<Hasher>) -> io::Result<()> {
        let (Some(hasher), Some(want)) = (hasher, self.digests.get(rel)) else {
            return Ok(());
        };
        let got = hasher.finish();
        if got == *want {
            return Ok(());
        }
        Err(io::Error::other(Mismatch {
            rel: rel.to_string(),
            algorithm: self.algorithm,
            manifest: want.to_hex(),
            archived: got.to_hex(),
        }))
    }
}

/// The refusal for an archived file that differs from its manifest, or the I/O error.
pub(super) fn write_error(tmp: &Path, e: io::Error) -> BagError {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<Mismatch>())
    {
        Some(mismatch) => BagError::Coded(Box::new(
            Problem::new(Code::ArchiveSourceChanged, mismatch.to_string())
                .file(mismatch.rel.clone()),
        )),
        None => BagError::Io {
            path: tmp.to_path_buf(),
            source: e,
        },
    }
}
