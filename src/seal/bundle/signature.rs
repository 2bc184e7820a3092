//! The outer signature of a bundle: `NAME.tar.age.sha256.minisig`, made by a trusted key over
//! `NAME.tar.age.sha256`, whose trusted comment is the bundle's statement. What it vouches for
//! — the ciphertext's sha256 and the statement — is read only once the signature verifies.

use std::fs;
use std::io;
use std::path::PathBuf;

use minisign::SignatureBox;

use super::format::{BUNDLE_VERSION, BundlePaths, BundleStatement, parse_checksum};
use crate::error::{Code, Problem};
use crate::seal::keys::{TrustedKey, key_id};

/// What the outer signature vouches for.
pub(super) struct Signed {
    /// Why it could not be trusted, or what it vouches for is unreadable.
    pub(super) problems: Vec<Problem>,
    /// The signed statement.
    pub(super) statement: Option<BundleStatement>,
    /// The signer's key id, once a trusted key is found.
    pub(super) signer: Option<String>,
    /// The ciphertext's sha256, from the signed `NAME.tar.age.sha256`.
    pub(super) sha256: Option<String>,
}

impl Signed {
    fn fail(&mut self, code: Code, file: &str, message: String) {
        self.problems.push(Problem::new(code, message).file(file));
    }
}

/// Checks the signature of `NAME.tar.age.sha256` by a trusted key, and reads the statement and
/// the digest it vouches for. `file_name` is `NAME.tar.age`.
pub(super) fn outer_signature(
    paths: &BundlePaths,
    file_name: &str,
    trusted: &[TrustedKey],
) -> Signed {
    let checksum_name = format!("{file_name}.sha256");
    let signature_name = format!("{checksum_name}.minisig");
    let mut out = Signed {
        problems: Vec::new(),
        statement: None,
        signer: None,
        sha256: None,
    };
    if refuse_first_format(&mut out, paths, file_name, &signature_name) {
        return out;
    }
    let Some((signature, key)) = trusted_signature(&mut out, paths, &signature_name, trusted)
    else {
        return out;
    };
    out.signer = Some(key_id(&key.key));
    let sums = match crate::seal::timestamp::read_limited(&paths.checksum) {
        Ok(data) => data,
        Err(e) => {
            let message = format!(
                "cannot read {checksum_name}, the digest the bundle's signature is over: {e}"
            );
            out.fail(Code::SealBundleSignature, &checksum_name, message);
            return out;
        }
    };
    let verified = minisign::verify(
        &key.key,
        &signature,
        io::Cursor::new(&sums),
        true,
        false,
        false,
    )
    .map_err(|e| e.to_string())
    .and_then(|()| signature.trusted_comment().map_err(|e| e.to_string()));
    let comment = match verified {
        Ok(comment) => comment,
        Err(e) => {
            let message = format!("{signature_name} does not verify against {checksum_name}: {e}");
            out.fail(Code::SealBundleSignature, &signature_name, message);
            return out;
        }
    };
    read_vouched(&mut out, &sums, &comment, file_name);
    out
}

/// Whether the bundle is of the first format (`NAME.tar.age.minisig`, no checksum file): then
/// says so in `out`.
fn refuse_first_format(
    out: &mut Signed,
    paths: &BundlePaths,
    file_name: &str,
    signature_name: &str,
) -> bool {
    let old = PathBuf::from(format!("{}.minisig", paths.ciphertext.display()));
    if fs::symlink_metadata(&paths.signature).is_err() && old.is_file() {
        out.fail(
            Code::SealBundleFormat,
            &format!("{file_name}.minisig"),
            format!(
                "{file_name} is a qoima-bundle/1 bundle (its signature is {file_name}.minisig; this qoima reads {BUNDLE_VERSION}, signed through {signature_name}): decrypt it with `age -d`, unpack the tar, and verify the sealed bag inside with `qoima verify-seal BAG`"
            ),
        );
        return true;
    }
    false
}

/// The signature file, when it reads as a minisign signature by a key in `trusted` (which is
/// returned with it); else why not, in `out`.
fn trusted_signature<'t>(
    out: &mut Signed,
    paths: &BundlePaths,
    signature_name: &str,
    trusted: &'t [TrustedKey],
) -> Option<(SignatureBox, &'t TrustedKey)> {
    let text = match crate::seal::timestamp::read_limited(&paths.signature)
        .map(|data| String::from_utf8_lossy(&data).into_owned())
    {
        Ok(text) => text,
        Err(e) => {
            let message = format!("cannot read the bundle's signature {signature_name}: {e}");
            out.fail(Code::SealBundleSignature, signature_name, message);
            return None;
        }
    };
    let signature = match SignatureBox::from_string(&text) {
        Ok(signature) => signature,
        Err(e) => {
            let message = format!("{signature_name} is not a minisign signature: {e}");
            out.fail(Code::SealSignatureUnreadable, signature_name, message);
            return None;
        }
    };
    let Some(key) = trusted
        .iter()
        .find(|candidate| candidate.key.keynum() == signature.keynum())
    else {
        let mut keynum = [0u8; 8];
        keynum.copy_from_slice(&signature.keynum()[..8]);
        let message = format!(
            "{signature_name} was made by key {:016X}, which is not in the trusted-keys list",
            u64::from_le_bytes(keynum)
        );
        out.fail(Code::SealUntrustedKey, signature_name, message);
        return None;
    };
    Some((signature, key))
}

/// Reads what a verified signature vouches for: the ciphertext's digest in `sums` (the signed
/// `NAME.tar.age.sha256`) and the statement in its trusted `comment`.
fn read_vouched(out: &mut Signed, sums: &[u8], comment: &str, file_name: &str) {
    let checksum_name = format!("{file_name}.sha256");
    let signature_name = format!("{checksum_name}.minisig");
    out.sha256 = parse_checksum(&String::from_utf8_lossy(sums), file_name);
    if out.sha256.is_none() {
        let message = format!(
            "{checksum_name} is signed, but it is not one sha256sum line naming {file_name}"
        );
        out.fail(Code::SealBundleSignature, &checksum_name, message);
    }
    out.statement = BundleStatement::parse(comment);
    if out.statement.is_none() {
        let message = format!(
            "the trusted comment of {signature_name} is not a {BUNDLE_VERSION} statement: {comment:?}"
        );
        out.fail(Code::SealCommentMismatch, &signature_name, message);
    }
}
