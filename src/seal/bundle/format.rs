//! What a bundle looks like from outside: the names of its four files, the label that names
//! them, the signed statement (the outer signature's trusted comment), the `sha256sum` line it
//! signs, and the envelope. Pure text: nothing here reads or writes a file, so the writer and
//! the verifier agree on the format by calling the same functions.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::seal::SealError;

/// The first word of the outer signature's trusted comment and of the envelope.
pub const BUNDLE_VERSION: &str = "qoima-bundle/2";
/// The label used when none is given.
pub const DEFAULT_NAME: &str = "bundle";
/// The ciphertext's extension.
pub const EXTENSION: &str = crate::seal::layout::BUNDLE_EXTENSION;

/// Whether `name` may label a bundle: 1–64 of `A–Z a–z 0–9 . _ -`, not starting with `.`.
pub fn check_name(name: &str) -> Result<(), SealError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(SealError::Key(format!(
            "{name:?} cannot name a bundle: use 1 to 64 letters, digits, '.', '_' or '-' (and keep it neutral: it is readable by anyone who holds the files)"
        )))
    }
}

/// The files of the bundle `name` in a folder.
#[derive(Clone, Debug)]
pub struct BundlePaths {
    /// `NAME.tar.age`.
    pub ciphertext: PathBuf,
    /// `NAME.tar.age.sha256`.
    pub checksum: PathBuf,
    /// `NAME.tar.age.sha256.minisig`.
    pub signature: PathBuf,
    /// `NAME.envelope.txt`.
    pub envelope: PathBuf,
}

impl BundlePaths {
    /// The files of the bundle `name` in `dir`.
    pub fn new(dir: &Path, name: &str) -> BundlePaths {
        BundlePaths {
            ciphertext: dir.join(format!("{name}{EXTENSION}")),
            checksum: dir.join(format!("{name}{EXTENSION}.sha256")),
            signature: dir.join(format!("{name}{EXTENSION}.sha256.minisig")),
            envelope: dir.join(format!("{name}.envelope.txt")),
        }
    }

    /// The ciphertext, the checksum, the signature, the envelope.
    pub(crate) fn all(&self) -> [&PathBuf; 4] {
        [
            &self.ciphertext,
            &self.checksum,
            &self.signature,
            &self.envelope,
        ]
    }
}

/// What was written.
#[derive(Clone, Debug, Serialize)]
pub struct BundleSummary {
    /// The bundle's label.
    pub name: String,
    /// `NAME.tar.age`.
    pub ciphertext: PathBuf,
    /// `NAME.tar.age.sha256`: the ciphertext's sha256, as `sha256sum` writes it.
    pub checksum: PathBuf,
    /// `NAME.tar.age.sha256.minisig`: the signature of that file.
    pub signature: PathBuf,
    /// `NAME.envelope.txt`.
    pub envelope: PathBuf,
    /// Size of the ciphertext.
    pub ciphertext_bytes: u64,
    /// SHA-256 of the ciphertext (signed).
    pub ciphertext_sha256: String,
    /// Size of the plaintext tar.
    pub plaintext_bytes: u64,
    /// The signed tag manifest, e.g. `tagmanifest-sha256.txt`.
    pub tag_manifest: String,
    /// Its SHA-256 (signed).
    pub tag_manifest_sha256: String,
    /// The signer's key id.
    pub key_id: String,
    /// Number of recipients.
    pub recipients: usize,
    /// Why `verify.sh` could not be put beside the bundle (which is complete without it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_sh_error: Option<String>,
}

/// The signed statement of a bundle: the trusted comment of the signature of
/// `NAME.tar.age.sha256`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BundleStatement {
    /// SHA-256 of the `verify.sh` written beside the bundle: the script is signed with it, so
    /// that a recipient can check it before running it.
    pub verify_sh_sha256: String,
    /// The tag manifest's name without `.txt`, e.g. `tagmanifest-sha256`.
    pub tag_manifest: String,
    /// SHA-256 of that tag manifest file.
    pub tag_manifest_sha256: String,
}

impl BundleStatement {
    /// `qoima-bundle/2 verify-sh-sha256=<hex> tagmanifest-<alg>=<hex>`.
    pub fn render(&self) -> String {
        format!(
            "{BUNDLE_VERSION} verify-sh-sha256={} {}={}",
            self.verify_sh_sha256, self.tag_manifest, self.tag_manifest_sha256
        )
    }

    /// Reads a statement back; `None` when it is not one.
    pub fn parse(text: &str) -> Option<BundleStatement> {
        let mut fields = text.split(' ');
        if fields.next()? != BUNDLE_VERSION {
            return None;
        }
        let script = fields.next()?.strip_prefix("verify-sh-sha256=")?;
        let (tag_manifest, tag_manifest_hex) = fields.next()?.split_once('=')?;
        if fields.next().is_some()
            || !tag_manifest.starts_with("tagmanifest-")
            || !is_sha256(script)
            || !is_sha256(tag_manifest_hex)
        {
            return None;
        }
        Some(BundleStatement {
            verify_sh_sha256: script.to_ascii_lowercase(),
            tag_manifest: tag_manifest.to_string(),
            tag_manifest_sha256: tag_manifest_hex.to_ascii_lowercase(),
        })
    }
}

/// The digest in a `NAME.tar.age.sha256` that names `file_name`, when it is exactly one
/// `sha256sum` line (text mode or `*` binary mode; the final newline may be missing) — anything
/// else is refused, so that the signed file cannot point `sha256sum -c` at another file.
pub fn parse_checksum(text: &str, file_name: &str) -> Option<String> {
    let line = text.strip_suffix('\n').unwrap_or(text);
    let (hex, name) = line.split_once(' ')?;
    let name = name.strip_prefix(' ').or_else(|| name.strip_prefix('*'))?;
    (is_sha256(hex) && name == file_name && !line.contains('\n')).then(|| hex.to_ascii_lowercase())
}

fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// The envelope: `Label: value` lines (as in bag-info.txt), then the stock-tool commands as
/// `#` comments. It holds nothing from the bag but digests.
pub fn envelope(summary: &BundleSummary) -> String {
    let name = &summary.name;
    format!(
        "Bundle-Version: {BUNDLE_VERSION}\n\
         Ciphertext-File: {name}{EXTENSION}\n\
         Ciphertext-Bytes: {}\n\
         Ciphertext-SHA256: {}\n\
         Encryption: age-encryption.org/v1\n\
         Recipients: {}\n\
         Tag-Manifest: {}\n\
         Tag-Manifest-SHA256: {}\n\
         Signer-Key-Id: {}\n\
         Checksum-File: {name}{EXTENSION}.sha256\n\
         Signature-File: {name}{EXTENSION}.sha256.minisig\n\
         Software: qoima {}\n\
         #\n\
         # An encrypted qoima sealed bag. Check it with stock tools (minisign, sha256sum, age, tar):\n\
         #   minisign -Vm {name}{EXTENSION}.sha256 -P <the sealer's public key, RW...>\n\
         #     (the trusted comment repeats Tag-Manifest-SHA256)\n\
         #   sha256sum -c {name}{EXTENSION}.sha256                 (= Ciphertext-SHA256)\n\
         #   age -d -i <your identity file> -o {name}.tar {name}{EXTENSION}\n\
         #   tar -xf {name}.tar        (one folder, the sealed bag; `tar -tf {name}.tar | head -1` names it)\n\
         #   sh BAG/verify.sh BAG <trusted keys file>\n\
         # or all of it at once, with the verify.sh written beside the bundle:\n\
         #   sh verify.sh -i <your identity file> {name}{EXTENSION} <trusted keys file>\n\
         # or, with qoima: qoima verify-seal {name}{EXTENSION} --trusted-keys FILE -i IDENTITY\n",
        summary.ciphertext_bytes,
        summary.ciphertext_sha256,
        summary.recipients,
        summary.tag_manifest,
        summary.tag_manifest_sha256,
        summary.key_id,
        crate::VERSION,
    )
}

/// The value of `label` in an envelope.
pub(crate) fn envelope_field<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (!key.starts_with('#') && key.trim().eq_ignore_ascii_case(label)).then(|| value.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::write::checksum_line;

    #[test]
    fn statement_round_trips() {
        let statement = BundleStatement {
            verify_sh_sha256: "ef".repeat(32),
            tag_manifest: "tagmanifest-sha256".into(),
            tag_manifest_sha256: "cd".repeat(32),
        };
        assert_eq!(
            statement.render(),
            format!(
                "qoima-bundle/2 verify-sh-sha256={} tagmanifest-sha256={}",
                "ef".repeat(32),
                "cd".repeat(32)
            )
        );
        assert_eq!(
            BundleStatement::parse(&statement.render()),
            Some(statement.clone())
        );
        assert_eq!(BundleStatement::parse("qoima-seal/1 bag=x"), None);
        let extra = format!("{} more", statement.render());
        assert_eq!(BundleStatement::parse(&extra), None);
        // The first format's statement is not this one.
        let v1 = format!(
            "qoima-bundle/1 plaintext-tar-sha256={} verify-sh-sha256={} tagmanifest-sha256={}",
            "ab".repeat(32),
            "ef".repeat(32),
            "cd".repeat(32)
        );
        assert_eq!(BundleStatement::parse(&v1), None);
    }

    #[test]
    fn checksum_files_name_the_bundle_and_nothing_else() {
        let hex = "0a".repeat(32);
        let line = checksum_line(&hex, "bundle.tar.age");
        assert_eq!(line, format!("{hex}  bundle.tar.age\n"));
        assert_eq!(parse_checksum(&line, "bundle.tar.age"), Some(hex.clone()));
        let binary = format!("{} *bundle.tar.age\n", hex.to_uppercase());
        assert_eq!(parse_checksum(&binary, "bundle.tar.age"), Some(hex.clone()));
        let bare = format!("{hex}  bundle.tar.age");
        assert_eq!(parse_checksum(&bare, "bundle.tar.age"), Some(hex.clone()));
        for bad in [
            format!("{hex}  other.tar.age\n"),
            format!("{hex}  bundle.tar.age\n{hex}  x\n"),
            format!("{hex}  ../bundle.tar.age\n"),
            format!("{}  bundle.tar.age\n", &hex[1..]),
            format!("{hex} bundle.tar.age\n"),
            format!("{hex}  bundle.tar.age\r\n"),
        ] {
            assert_eq!(parse_checksum(&bad, "bundle.tar.age"), None, "{bad:?}");
        }
    }

    #[test]
    fn names_are_neutral_and_safe() {
        assert!(check_name("bundle").is_ok());
        assert!(check_name("transfer-2026.01_a").is_ok());
        for bad in ["", ".hidden", "a/b", "a b", "Қойма", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
