//! Sealed evidence bundles (`qoima keygen`, `qoima seal`, `qoima verify-seal`): a valid BagIt
//! bag whose tag manifests are signed with minisign (Ed25519), so that a recipient holding the
//! sealer's public key can prove, offline and years later, that not one byte of the bag changed.
//!
//! The seal adds `Seal-*` fields to `bag-info.txt`, the sealer's public key under
//! `metadata/keys/`, `VERIFY.txt` and `verify.sh` (a POSIX script that checks the bag with
//! `sha256sum` and `minisign` only) — all listed in the tag manifests — and then one detached
//! signature per tag manifest under `seal/`. `seal/` (and the `custody/` of later versions) stay
//! outside the tag manifests, so that proofs over the seal (time-stamps, custody entries) can
//! be added later without breaking it. The payload is never touched.
//!
//! The design is `shared/design/evidence-seal.md`; the user's guide is `docs/evidence.md`.
//!
//! The files, in layers (each imports only from the layers under it):
//! - the workflow: `pipeline` (`qoima seal`: seal, stamp, encrypt, stamp);
//! - the features: `sign` (making a seal, committed by `journal`), `verify` (`verify-seal`),
//!   `custody/` (the custody log: entry, log, verify, export), `timestamp` (where RFC 3161
//!   tokens sit in a bag, and stamping one), `bundle/` (encrypted bundles: recipients, the
//!   age format, the chunk pipeline, writing, verifying), `script` (verify.sh and VERIFY.txt);
//! - the building blocks: `layout` (where things sit in a sealed bag, and their names),
//!   `minisig` (detached signatures), `keys` (minisign keys), `check` (one verification
//!   line), `tsp/` (RFC 3161 as a protocol, knowing nothing of bags).

pub mod bundle;
pub mod check;
pub mod custody;
pub mod journal;
pub mod keys;
pub mod layout;
pub mod minisig;
pub mod pipeline;
mod placement;
pub mod script;
pub mod sign;
pub mod timestamp;
pub mod tsp;
pub mod verify;

use std::path::PathBuf;

use crate::error::Problem;

pub use keys::{GeneratedKey, TrustedKey, generate, key_id, load_secret_key, read_trusted_keys};
pub use layout::{KEY_FILE, SEAL_DIR, VERIFY_SH, VERIFY_TXT};
pub use minisig::{SignatureError, verify_detached};
pub use sign::{SealOptions, SealSummary, seal_bag};
pub use verify::{Pins, SealReport, verify_seal};

/// The value of `Seal-Version`, and the first word of every signed statement.
pub const SEAL_VERSION: &str = "qoima-seal/1";
/// The BagIt-Profile-Identifier of a sealed bag (the built-in profile `qoima-evidence-1.0`,
/// `profiles/qoima-evidence-1.0.json`), written by `qoima seal` when the bag names no profile.
pub const EVIDENCE_PROFILE: &str = "urn:qoima:bagit-profile:evidence-1.0";

/// What a seal proves (design §4.1, for what this version builds).
pub const PROVES: &[&str] = &[
    "the bag is bit-identical to what the holder of the signing key sealed: every payload file, bag-info.txt, the manifests and the tag files listed in the signed tag manifests",
    "the signing key is one the verifier trusts (it is in the --trusted-keys list)",
];

/// What a seal does not prove (design §4.1).
pub const DOES_NOT_PROVE: &[&str] = &[
    "that the scene shown is authentic",
    "what happened to the material before it reached the sealer",
    "when the seal was made, unless a time-stamp by an authority you trust is checked (--tsa-roots): Seal-Created is the sealer's own claim",
    "that the custody log is complete: entries after its last anchor (a receipt or a trusted time-stamp) could have been removed without detection (keep the receiver's head, and check it with --expect-head)",
];

/// The signed statement (minisign's trusted comment) of one tag manifest:
/// `qoima-seal/1 bag=<name> tagmanifest-<alg>=<sha256 hex of the file> sealed=<RFC 3339> signer=<label>`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Statement {
    /// The bag's External-Identifier, else its folder name.
    pub bag: String,
    /// The tag manifest's name without `.txt`, e.g. `tagmanifest-sha256`.
    pub tag_manifest: String,
    /// The SHA-256 (hex) of the tag manifest file, whatever its own algorithm.
    pub sha256: String,
    /// When the seal was made (RFC 3339, UTC), as the sealer's clock said.
    pub sealed: String,
    /// The sealer's label.
    pub signer: String,
}

impl Statement {
    /// The one-line text that is signed.
    pub fn render(&self) -> String {
        format!(
            "{SEAL_VERSION} bag={} {}={} sealed={} signer={}",
            one_line(&self.bag),
            self.tag_manifest,
            self.sha256,
            self.sealed,
            one_line(&self.signer)
        )
    }

    /// Reads a statement back; `None` when it is not one. The bag name may hold spaces, so
    /// the tag-manifest token is found by its form.
    pub fn parse(text: &str) -> Option<Statement> {
        let rest = text.strip_prefix(SEAL_VERSION)?.strip_prefix(" bag=")?;
        for (index, _) in rest.match_indices(" tagmanifest-") {
            let bag = &rest[..index];
            let after = &rest[index + 1..];
            let Some((token, tail)) = after.split_once(' ') else {
                continue;
            };
            let Some((tag_manifest, hex)) = token.split_once('=') else {
                continue;
            };
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue;
            }
            let Some(tail) = tail.strip_prefix("sealed=") else {
                continue;
            };
            let (sealed, signer) = tail.split_once(" signer=")?;
            return Some(Statement {
                bag: bag.to_string(),
                tag_manifest: tag_manifest.to_string(),
                sha256: hex.to_ascii_lowercase(),
                sealed: sealed.to_string(),
                signer: signer.to_string(),
            });
        }
        None
    }
}

/// A value made fit for a one-line statement: line breaks become spaces.
pub fn one_line(value: &str) -> String {
    value.replace(['\r', '\n'], " ")
}

/// Why sealing or key handling could not be done.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The bag cannot be sealed; the problems say why.
    #[error("the bag was not sealed ({} problem(s))", .0.len())]
    Refused(Vec<Problem>),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A key file already exists (keygen never overwrites).
    #[error("{} exists; qoima keygen never overwrites a key", .0.display())]
    Exists(PathBuf),
    /// A key or signature could not be made or read.
    #[error("{0}")]
    Key(String),
}

impl SealError {
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> SealError + '_ {
        move |source| SealError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_round_trips_with_spaces_in_names() {
        let statement = Statement {
            bag: "HRO 2022 tagmanifest-x".into(),
            tag_manifest: "tagmanifest-sha512".into(),
            sha256: "ab".repeat(32),
            sealed: "2022-01-05T00:00:00Z".into(),
            signer: "Intake desk sealed=no".into(),
        };
        let text = statement.render();
        assert_eq!(Statement::parse(&text), Some(statement));
        assert_eq!(Statement::parse("timestamp:1234 file:x"), None);
    }

    #[test]
    fn statement_is_one_line() {
        let statement = Statement {
            bag: "a\nb".into(),
            tag_manifest: "tagmanifest-sha256".into(),
            sha256: "00".repeat(32),
            sealed: "x".into(),
            signer: "c\r\nd".into(),
        };
        assert!(!statement.render().contains(['\n', '\r']));
    }
}
