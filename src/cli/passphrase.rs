//! The passphrase of a minisign secret key, read one way for every command that asks for one
//! (`keygen`, `seal`, `custody append`, `bag --update --sign`): `--passphrase-file` (its
//! first line), else `$QOIMA_PASSPHRASE`, else asked on the terminal.

use std::path::Path;

use anyhow::{Context, bail};

/// How to ask on the terminal.
#[derive(Clone, Copy, Debug)]
pub struct Ask {
    /// Ask twice, and refuse two different answers (a new key).
    pub confirm: bool,
    /// Refuse an empty answer (it would protect nothing).
    pub refuse_empty: bool,
}

/// A new key's passphrase (`keygen`): asked twice, never empty.
pub const NEW_KEY: Ask = Ask {
    confirm: true,
    refuse_empty: true,
};

/// The passphrase of the key that seals (`seal`): never empty.
pub const SEALING_KEY: Ask = Ask {
    confirm: false,
    refuse_empty: true,
};

/// The passphrase of a custodian's key (`custody append`, `bag --update --sign`): taken as
/// typed.
pub const CUSTODIAN_KEY: Ask = Ask {
    confirm: false,
    refuse_empty: false,
};

/// The passphrase: `--passphrase-file` (first line), else `$QOIMA_PASSPHRASE`, else asked on
/// the terminal as `ask` says.
pub fn read(file: Option<&Path>, ask: Ask) -> anyhow::Result<String> {
    if let Some(file) = file {
        return first_line(file);
    }
    if let Ok(from_env) = std::env::var("QOIMA_PASSPHRASE")
        && !from_env.is_empty()
    {
        return Ok(from_env);
    }
    let typed = rpassword::prompt_password("Passphrase for the secret key: ")
        .context("cannot read a passphrase from the terminal (set QOIMA_PASSPHRASE or use --passphrase-file)")?;
    if ask.refuse_empty && typed.is_empty() {
        bail!("an empty passphrase protects nothing; use --unencrypted if that is really meant");
    }
    if ask.confirm {
        let again = rpassword::prompt_password("The same passphrase again: ")?;
        if again != typed {
            bail!("the two passphrases differ; nothing was written");
        }
    }
    Ok(typed)
}

/// The first line of `--passphrase-file`, which may not be empty.
fn first_line(file: &Path) -> anyhow::Result<String> {
    let text = qoima::fsutil::read_bounded_text(file, qoima::fsutil::SMALL_FILE_LIMIT)
        .with_context(|| format!("cannot read --passphrase-file {}", file.display()))?;
    let line = text.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        bail!("--passphrase-file {} is empty", file.display());
    }
    Ok(line)
}
