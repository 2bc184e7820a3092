//! The custody entry that records `qoima bag --update --force` of a sealed bag: a signed
//! `modification`, appended while the seal still verifies, saying what changed.

use std::path::Path;

use minisign::{PublicKey, SecretKey};

use super::entry::EventType;
use super::log::{AppendOptions, append};
use crate::bagit::BagError;
use crate::bagit::update::UpdateSummary;
use crate::digest::{Algorithm, digest_bytes};
use crate::seal::SealError;

/// The custodian who signs the entry of an update: their key and name.
pub struct Custodian {
    /// The secret key that signs.
    pub secret: SecretKey,
    /// Its public key.
    pub public: PublicKey,
    /// The name the entry gives them (`--agent`).
    pub agent: String,
}

/// Appends the entry that records the update `summary` (with the digest of the new tag
/// manifest, `new_root`, when known): `Some(entry file)`, or the error that leaves the bag
/// unchanged (a refusal's problems, or why the log could not be written).
pub fn record_update(
    bag: &Path,
    custodian: &Custodian,
    summary: &UpdateSummary,
    new_root: Option<&[u8]>,
) -> Result<Option<String>, BagError> {
    let options = AppendOptions {
        event: EventType::Modification,
        agent: custodian.agent.clone(),
        success: true,
        detail: detail(summary, new_root),
    };
    match append(bag, &custodian.secret, &custodian.public, &options, None) {
        Ok(done) => Ok(Some(done.file)),
        Err(SealError::Refused(problems)) => Err(BagError::Refused(problems)),
        Err(error) => Err(BagError::Usage(format!(
            "the change could not be recorded in the custody log ({error}); nothing was changed"
        ))),
    }
}

/// What the entry says: the counts, the first names of each list, the algorithms and the
/// digest of the new tag manifest (bounded, whatever the size of the change).
fn detail(summary: &UpdateSummary, new_root: Option<&[u8]>) -> String {
    const SHOWN: usize = 20;
    let list = |what: &str, names: &[String]| {
        let mut text: Vec<String> = names.iter().take(SHOWN).cloned().collect();
        if names.len() > SHOWN {
            text.push(format!("and {} more", names.len() - SHOWN));
        }
        format!("{what} {}: {}", names.len(), text.join(", "))
    };
    let mut parts = vec![
        "qoima bag --update --force after sealing".to_string(),
        list("added", &summary.added),
        list("removed", &summary.removed),
        list("changed", &summary.changed),
        format!(
            "manifests: {}",
            summary
                .algorithms
                .iter()
                .map(|algorithm| algorithm.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        format!("Payload-Oxum {}", summary.payload_oxum),
    ];
    if let Some(root) = new_root {
        parts.push(format!(
            "new tagmanifest-sha256.txt sha256:{}",
            digest_bytes(Algorithm::Sha256, root)
        ));
    }
    parts.join("; ")
}
