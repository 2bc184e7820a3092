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
//!
//! The files, in the order the layers stand (each imports only those above it):
//!
//! - `format`: the four files' names, the label, the signed statement, the `sha256sum` line and
//!   the envelope — text only;
//! - `recipients`: who a bundle is for (`--to`, `--recipients-file`) and who can open it (`-i`);
//! - `stage`: a writer that feeds a stage on a thread of its own, over a bounded channel;
//! - `agefile`: the age v1 format written for speed; `sink`: the ciphertext's writing and
//!   hashing threads; `pipeline`: the reader → encrypt → sink stages that join them;
//! - `decrypt`: one read of a ciphertext that hashes it while age decrypts it;
//! - `writer`: a bundle written and placed (`encrypt_sealed_bag`);
//! - `signature` and `verifier`: a bundle checked (`verify_bundle`), step by step.

pub mod agefile;
mod decrypt;
mod format;
mod pipeline;
mod recipients;
mod signature;
mod sink;
mod stage;
mod verifier;
mod writer;

pub use crate::seal::layout::is_bundle;
pub use decrypt::{DecryptFailure, decrypt_file};
pub(crate) use format::envelope_field;
pub use format::{
    BUNDLE_VERSION, BundlePaths, BundleStatement, BundleSummary, DEFAULT_NAME, EXTENSION,
    check_name, envelope, parse_checksum,
};
pub use recipients::{
    BundleIdentity, BundleRecipient, parse_recipient, read_identities, read_recipients_file,
};
pub use verifier::verify_bundle;
pub use writer::{EncryptOptions, encrypt_sealed_bag};
