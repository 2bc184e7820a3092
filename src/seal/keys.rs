//! Minisign key pairs: made (`qoima keygen`), read back for signing, and the verifier's list
//! of trusted public keys. The files are byte-compatible with the `minisign` CLI's.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use minisign::{KeyPair, PublicKey, SecretKey, SecretKeyBox};
use serde::Serialize;

use super::SealError;
use crate::fsutil;

/// A key pair just written.
#[derive(Clone, Debug, Serialize)]
pub struct GeneratedKey {
    /// The secret key file.
    pub secret_key: PathBuf,
    /// The public key file (`minisign -p` reads it).
    pub public_key_file: PathBuf,
    /// The key id, 16 hex digits (as minisign prints it).
    pub key_id: String,
    /// The public key, base64 (`minisign -P` takes it; a trusted-keys line).
    pub public_key: String,
    /// Whether the secret key is protected by a passphrase.
    pub encrypted: bool,
}

/// A key from the verifier's trusted list.
#[derive(Clone, Debug)]
pub struct TrustedKey {
    /// The base64 line.
    pub base64: String,
    /// The key.
    pub key: PublicKey,
    /// The line it was read from.
    pub line: usize,
}

/// The key id of a public key, as minisign prints it (16 upper-case hex digits).
pub fn key_id(key: &PublicKey) -> String {
    let mut keynum = [0u8; 8];
    keynum.copy_from_slice(&key.keynum()[..8]);
    format!("{:016X}", u64::from_le_bytes(keynum))
}

/// Makes a key pair: the secret key at `path` (encrypted with `passphrase`, or unencrypted
/// when it is `None`) and the public key at `path.pub`. Refuses when either file exists;
/// each is written under a temporary name and then linked into place, so an existing file is
/// never replaced, even by a concurrent run.
pub fn generate(path: &Path, passphrase: Option<&str>) -> Result<GeneratedKey, SealError> {
    let pub_path = public_path(path);
    for file in [path, pub_path.as_path()] {
        if fs::symlink_metadata(file).is_ok() {
            return Err(SealError::Exists(file.to_path_buf()));
        }
    }
    let pair = match passphrase {
        Some(passphrase_text) => {
            KeyPair::generate_encrypted_keypair(Some(passphrase_text.to_string()))
        }
        None => KeyPair::generate_unencrypted_keypair(),
    }
    .map_err(|e| SealError::Key(format!("cannot make a key pair: {e}")))?;
    let comment = if passphrase.is_some() {
        "minisign encrypted secret key"
    } else {
        "minisign secret key (unencrypted: for tests and automation only)"
    };
    let sk_text = pair
        .sk
        .to_box(Some(comment))
        .map_err(|e| SealError::Key(e.to_string()))?
        .to_string();
    let pk_text = pair
        .pk
        .to_box()
        .map_err(|e| SealError::Key(e.to_string()))?
        .to_string();
    write_new(path, sk_text.as_bytes(), 0o600)?;
    if let Err(e) = write_new(&pub_path, pk_text.as_bytes(), 0o644) {
        let _ = fs::remove_file(path);
        return Err(e);
    }
    Ok(GeneratedKey {
        secret_key: path.to_path_buf(),
        public_key_file: pub_path,
        key_id: key_id(&pair.pk),
        public_key: pair.pk.to_base64(),
        encrypted: passphrase.is_some(),
    })
}

/// `PATH.pub`.
pub fn public_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Writes a new file, never replacing one: temporary name, then `link(2)`, which fails when
/// the name is taken.
fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<(), SealError> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = fsutil::temp_sibling(path, "key");
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        file.write_all(data)?;
        file.sync_all()?;
        fs::hard_link(&tmp, path)
    })();
    let _ = fs::remove_file(&tmp);
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(SealError::Exists(path.to_path_buf()))
        }
        Err(e) => Err(SealError::io(path)(e)),
    }
}

/// Reads a minisign secret key. An unencrypted key is used as it is; for an encrypted one
/// `passphrase` is asked (it is called only then).
pub fn load_secret_key(
    path: &Path,
    passphrase: impl FnOnce() -> Result<String, SealError>,
) -> Result<(SecretKey, PublicKey), SealError> {
    let text =
        fsutil::read_bounded_text(path, fsutil::SMALL_FILE_LIMIT).map_err(SealError::io(path))?;
    let boxed = || SecretKeyBox::from_string(&text).map_err(|e| SealError::Key(e.to_string()));
    let secret = match SecretKey::from_unencrypted_box(boxed()?) {
        Ok(secret) => secret,
        Err(e) if e.to_string().contains("encrypted") => {
            let passphrase_text = passphrase()?;
            SecretKey::from_box(boxed()?, Some(passphrase_text)).map_err(|e| {
                SealError::Key(format!(
                    "cannot open the secret key {}: {e}",
                    path.display()
                ))
            })?
        }
        Err(e) => match unchecked_unencrypted(&text) {
            Some(secret) => secret,
            None => {
                return Err(SealError::Key(format!(
                    "{} is not a minisign secret key: {e}",
                    path.display()
                )));
            }
        },
    };
    let public = PublicKey::from_secret_key(&secret)
        .map_err(|e| SealError::Key(format!("cannot derive the public key: {e}")))?;
    Ok((secret, public))
}

/// An unencrypted key as `minisign -G -W` (0.11) writes it: no KDF and an all-zero checksum,
/// which the minisign crate calls corrupted. Anything else is refused. The key is still
/// checked before use: signing verifies each signature with the derived public key.
fn unchecked_unencrypted(text: &str) -> Option<SecretKey> {
    use ct_codecs::{Base64, Decoder};
    let line = text.lines().nth(1)?.trim();
    let bytes = Base64::decode_to_vec(line, None).ok()?;
    // sig_alg(2) kdf_alg(2) chk_alg(2) salt(32) ops(8) mem(8) keynum(8) sk(64) chk(32)
    if bytes.len() != 158 || bytes[2..4] != [0, 0] || bytes[126..].iter().any(|&b| b != 0) {
        return None;
    }
    SecretKey::from_bytes(&bytes).ok()
}

/// Parses one public key in base64 (`RW…`).
pub fn parse_public_key(text: &str) -> Option<PublicKey> {
    PublicKey::from_base64(text.trim()).ok()
}

/// Reads a public key file in minisign's two-line form (or a bare base64 line).
pub fn public_key_in(text: &str) -> Option<(String, PublicKey)> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("untrusted comment:"))?;
    parse_public_key(line).map(|k| (line.to_string(), k))
}

/// Reads a trusted-keys file: one minisign public key (base64) per line; blank lines, `#`
/// comments and the `untrusted comment:` lines of minisign `.pub` files are skipped, so
/// `.pub` files can simply be concatenated. Any other line that is not a key is an error
/// (a typo must not silently shrink the list).
pub fn read_trusted_keys(path: &Path) -> Result<Vec<TrustedKey>, SealError> {
    let text =
        fsutil::read_bounded_text(path, fsutil::SMALL_FILE_LIMIT).map_err(SealError::io(path))?;
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty()
            || trimmed.starts_with('#')
            || trimmed.starts_with("untrusted comment:")
        {
            continue;
        }
        let key = parse_public_key(trimmed).ok_or_else(|| {
            SealError::Key(format!(
                "{} line {}: not a minisign public key (expected one base64 `RW…` line)",
                path.display(),
                index + 1
            ))
        })?;
        out.push(TrustedKey {
            base64: trimmed.to_string(),
            key,
            line: index + 1,
        });
    }
    if out.is_empty() {
        return Err(SealError::Key(format!(
            "{} lists no public key",
            path.display()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_refuses_to_overwrite_and_loads_back() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("k");
        let g = generate(&p, None).unwrap();
        assert!(matches!(generate(&p, None), Err(SealError::Exists(_))));
        let (_, pk) = load_secret_key(&p, || panic!("not encrypted")).unwrap();
        assert_eq!(pk.to_base64(), g.public_key);
        assert_eq!(key_id(&pk), g.key_id);
        let pubtext = fs::read_to_string(public_path(&p)).unwrap();
        assert_eq!(public_key_in(&pubtext).unwrap().0, g.public_key);
        let keys = d.path().join("trusted");
        fs::write(&keys, format!("# ours\n{pubtext}\n")).unwrap();
        assert_eq!(read_trusted_keys(&keys).unwrap().len(), 1);
        fs::write(&keys, "RWnot-a-key\n").unwrap();
        assert!(read_trusted_keys(&keys).is_err());
    }
}
