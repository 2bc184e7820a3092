//! Detached minisign signatures (Ed25519, prehashed), as qoima and the `minisign` CLI make
//! them: checking one against a key and reading back its verified trusted comment. Keys
//! themselves are `keys`'; what the comments say is the callers' (the seal's statements, the
//! custody log's).

use std::io::Cursor;

use minisign::{PublicKey, SignatureBox};

use super::keys::key_id;

/// Why a detached signature did not verify.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// Not a minisign signature.
    #[error("not a minisign signature: {0}")]
    Unreadable(String),
    /// Made by another key.
    #[error("made by key {found}, not by {expected}")]
    WrongKey {
        /// The key id expected.
        expected: String,
        /// The key id in the signature.
        found: String,
    },
    /// The signature (or its trusted comment) does not match the data.
    #[error("{0}")]
    Invalid(String),
}

/// Verifies a minisign signature (`.minisig` text) of `data` by `key` — made by qoima or by
/// the `minisign` CLI — and returns its verified trusted comment. Only prehashed (current)
/// signatures are accepted.
pub fn verify_detached(
    data: &[u8],
    signature: &str,
    key: &PublicKey,
) -> Result<String, SignatureError> {
    let signature = SignatureBox::from_string(signature)
        .map_err(|e| SignatureError::Unreadable(e.to_string()))?;
    if signature.keynum() != key.keynum() {
        let mut keynum = [0u8; 8];
        keynum.copy_from_slice(&signature.keynum()[..8]);
        return Err(SignatureError::WrongKey {
            expected: key_id(key),
            found: format!("{:016X}", u64::from_le_bytes(keynum)),
        });
    }
    minisign::verify(key, &signature, Cursor::new(data), true, false, false)
        .map_err(|e| SignatureError::Invalid(e.to_string()))?;
    signature
        .trusted_comment()
        .map_err(|e| SignatureError::Invalid(e.to_string()))
}
