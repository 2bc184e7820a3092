//! `qoima keygen`: a new minisign key pair, the secret key encrypted with a passphrase.

use serde::Serialize;

use qoima::seal::{self, GeneratedKey};

use crate::cli::Exit;
use crate::cli::args::{Global, KeygenArgs};
use crate::cli::output;
use crate::cli::passphrase;

#[derive(Serialize)]
struct KeygenReport<'a> {
    qoima_version: &'static str,
    command: &'static str,
    key: &'a GeneratedKey,
    exit_code: u8,
}

pub fn keygen(args: &KeygenArgs, global: &Global) -> anyhow::Result<Exit> {
    let passphrase_text = if args.unencrypted {
        None
    } else {
        Some(passphrase::read(
            args.passphrase_file.as_deref(),
            passphrase::NEW_KEY,
        )?)
    };
    let key = seal::generate(&args.output, passphrase_text.as_deref())?;
    if global.json {
        output::json(&KeygenReport {
            qoima_version: qoima::VERSION,
            command: "keygen",
            key: &key,
            exit_code: 0,
        })?;
    }
    if !global.quiet {
        output::stderrln!(
            "secret key: {}{}",
            output::path(&key.secret_key),
            if key.encrypted {
                " (encrypted with the passphrase)"
            } else {
                " (NOT encrypted: for tests and automation only)"
            }
        );
        output::stderrln!("public key: {}", output::path(&key.public_key_file));
        output::stderrln!("key id:     {}", key.key_id);
        output::stderrln!("Publish this line (recipients put it in their --trusted-keys file):");
    }
    if !global.json {
        println!("{}", key.public_key);
    }
    Ok(Exit::Ok)
}
