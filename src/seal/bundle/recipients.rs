//! Who a bundle is for, and who can open it: the recipients given to `qoima seal --to` /
//! `--recipients-file` (age X25519 or SSH public keys), and the identities given to
//! `qoima verify-seal -i` (age identity files or unencrypted SSH private keys), read as the
//! `age` CLI reads them. Messages about an identity name a line number, never its text, so that
//! no secret reaches a terminal or a log.

use std::path::Path;

use age::x25519;

use crate::fsutil;
use crate::seal::SealError;

/// Someone an encrypted bundle is for: an age X25519 recipient (`age1…`), or an SSH public key
/// (`ssh-ed25519 …`, `ssh-rsa …`), whose stanza in the age header reveals a 4-byte tag of the
/// key — enough for anyone holding the bundle to test whether it is for a key they know.
#[derive(Clone, Debug)]
pub enum BundleRecipient {
    /// `age1…`.
    X25519(x25519::Recipient),
    /// An SSH public key.
    Ssh(age::ssh::Recipient),
}

impl BundleRecipient {
    /// As age takes it.
    pub fn as_age(&self) -> &dyn age::Recipient {
        match self {
            BundleRecipient::X25519(recipient) => recipient,
            BundleRecipient::Ssh(recipient) => recipient,
        }
    }

    /// Whether it is an SSH key (the caveat applies).
    pub fn is_ssh(&self) -> bool {
        matches!(self, BundleRecipient::Ssh(_))
    }
}

/// Reads one recipient: an age X25519 public key (`age1…`), or an SSH public key line
/// (`ssh-ed25519 AAAA… [comment]`, `ssh-rsa …`, as in `~/.ssh/id_ed25519.pub`).
pub fn parse_recipient(text: &str) -> Result<BundleRecipient, SealError> {
    let text = text.trim();
    if text.to_ascii_uppercase().starts_with("AGE-SECRET-KEY-") {
        return Err(SealError::Key(
            "that is a secret identity, not a recipient: give its public age1… line (age-keygen -y KEYFILE); and keep the secret key away from the sealing machine".into(),
        ));
    }
    if text.starts_with("-----BEGIN") {
        return Err(SealError::Key(
            "that is a private key, not a recipient: give the public key line (the .pub file); and keep the private key away from the sealing machine".into(),
        ));
    }
    if text.starts_with("ssh-") || text.starts_with("ecdsa-") || text.starts_with("sk-") {
        return text
            .parse::<age::ssh::Recipient>()
            .map(BundleRecipient::Ssh)
            .map_err(|e| {
                SealError::Key(format!(
                    "{:?} is not an SSH recipient age accepts (ssh-ed25519 or ssh-rsa): {e:?}",
                    text.split_whitespace().next().unwrap_or(text)
                ))
            });
    }
    text.parse::<x25519::Recipient>()
        .map(BundleRecipient::X25519)
        .map_err(|e| {
            SealError::Key(format!(
                "{text:?} is not an age X25519 recipient (age1…): {e}"
            ))
        })
}

/// Reads a recipients file (as `age -R` reads one): one recipient per line (`age1…` or an SSH
/// public key); blank lines and `#` comments are skipped.
pub fn read_recipients_file(path: &Path) -> Result<Vec<BundleRecipient>, SealError> {
    let text =
        fsutil::read_bounded_text(path, fsutil::SMALL_FILE_LIMIT).map_err(SealError::io(path))?;
    let mut recipients = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        recipients.push(
            parse_recipient(line).map_err(|e| {
                SealError::Key(format!("{} line {}: {e}", path.display(), index + 1))
            })?,
        );
    }
    if recipients.is_empty() {
        return Err(SealError::Key(format!(
            "{} holds no recipient",
            path.display()
        )));
    }
    Ok(recipients)
}

/// A key that decrypts a bundle: an age X25519 identity, or an unencrypted SSH private key.
#[derive(Clone)]
pub enum BundleIdentity {
    /// `AGE-SECRET-KEY-1…`.
    X25519(x25519::Identity),
    /// An OpenSSH private key (ssh-ed25519 or ssh-rsa), not passphrase-protected.
    Ssh(age::ssh::Identity),
}

impl BundleIdentity {
    /// As age takes it.
    pub fn as_age(&self) -> &dyn age::Identity {
        match self {
            BundleIdentity::X25519(identity) => identity,
            BundleIdentity::Ssh(identity) => identity,
        }
    }
}

/// Reads an identity file as `age -i` does: an age identity file (one `AGE-SECRET-KEY-1…` per
/// line, e.g. from `age-keygen`; blank lines and `#` comments skipped), or an SSH private key
/// (`-----BEGIN OPENSSH PRIVATE KEY-----`). A bad line is named by its number only, so that no
/// secret reaches a message.
pub fn read_identities(path: &Path) -> Result<Vec<BundleIdentity>, SealError> {
    let text =
        fsutil::read_bounded_text(path, fsutil::SMALL_FILE_LIMIT).map_err(SealError::io(path))?;
    if text.trim_start().starts_with("-----BEGIN") {
        return read_ssh_identity(path, &text);
    }
    let mut identities = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        identities.push(BundleIdentity::X25519(line.parse::<x25519::Identity>().map_err(
            |_| {
                SealError::Key(format!(
                    "{} line {} is not an age X25519 identity (AGE-SECRET-KEY-1…); passphrase-protected and plugin identities are not supported",
                    path.display(),
                    index + 1
                ))
            },
        )?));
    }
    if identities.is_empty() {
        return Err(SealError::Key(format!(
            "{} holds no identity",
            path.display()
        )));
    }
    Ok(identities)
}

/// The SSH private key `text` (read from `path`), when age can use it unlocked.
fn read_ssh_identity(path: &Path, text: &str) -> Result<Vec<BundleIdentity>, SealError> {
    let identity =
        age::ssh::Identity::from_buffer(text.as_bytes(), Some(path.display().to_string()))
            .map_err(|_| {
                SealError::Key(format!(
                    "{} is not an SSH private key age can use (ssh-ed25519 or ssh-rsa)",
                    path.display()
                ))
            })?;
    match identity {
        age::ssh::Identity::Unencrypted(_) => Ok(vec![BundleIdentity::Ssh(identity)]),
        age::ssh::Identity::Encrypted(_) => Err(SealError::Key(format!(
            "{} is a passphrase-protected SSH key, which qoima does not unlock: decrypt with `age -d -i {}` (it asks for the passphrase), or give an unprotected copy on a trusted machine",
            path.display(),
            path.display()
        ))),
        age::ssh::Identity::Unsupported(_) => Err(SealError::Key(format!(
            "{} is an SSH key type age does not support (use ssh-ed25519 or ssh-rsa)",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn recipients_and_identities_parse() {
        let id = x25519::Identity::generate();
        let recipient = id.to_public().to_string();
        assert!(parse_recipient(&format!("  {recipient}  ")).is_ok());
        assert!(parse_recipient("ssh-ed25519 AAAA").is_err());
        let ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJTx9XgY3rVbK2LG5xM1LhV8wqXvpWc8Z2m6bQ1mJxWq me@host";
        assert!(parse_recipient(ssh).is_ok_and(|recipient| recipient.is_ssh()));
        assert!(
            parse_recipient("-----BEGIN OPENSSH PRIVATE KEY-----")
                .unwrap_err()
                .to_string()
                .contains("private key")
        );
        use age::secrecy::ExposeSecret;
        let secret = id.to_string();
        let error = parse_recipient(secret.expose_secret()).unwrap_err();
        assert!(error.to_string().contains("secret identity"));
        let dir = std::env::temp_dir().join(format!("qoima-enc-unit-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("ids.txt");
        fs::write(
            &file,
            format!(
                "# created: now\n# public key: {recipient}\n{}\n",
                secret.expose_secret()
            ),
        )
        .unwrap();
        assert_eq!(read_identities(&file).unwrap().len(), 1);
        fs::write(&file, "# c\n\nnot a key\n").unwrap();
        let Err(error) = read_identities(&file) else {
            panic!("a bad line was accepted")
        };
        let error = error.to_string();
        assert!(
            error.contains("line 3") && !error.contains("not a key"),
            "{error}"
        );
        fs::write(&file, format!("# team\n{recipient}\n\n{recipient}\n")).unwrap();
        assert_eq!(read_recipients_file(&file).unwrap().len(), 2);
        let _ = fs::remove_dir_all(&dir);
    }
}
