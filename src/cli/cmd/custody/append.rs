//! `qoima custody append`: sign the next entry of a sealed bag's custody log.

use anyhow::Context;
use serde::Serialize;

use qoima::seal::custody::{self, AppendOptions, Appended};
use qoima::seal::{self, SealError};

use crate::cli::Exit;
use crate::cli::args::{CustodyAppendArgs, CustodyOutcome, Global};
use crate::cli::outcome::Outcome;
use crate::cli::output;
use crate::cli::passphrase;

/// What `--json` holds besides the envelope: the entry appended, when one was.
#[derive(Serialize)]
struct Body<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    appended: Option<&'a Appended>,
}

pub(super) fn append(args: &CustodyAppendArgs, global: &Global) -> anyhow::Result<Exit> {
    super::need_folder(&args.bag)?;
    let keys = super::trusted(args.trusted_keys.as_deref())?;
    let (secret, public) = seal::load_secret_key(&args.sign, || {
        passphrase::read(args.passphrase_file.as_deref(), passphrase::CUSTODIAN_KEY)
            .map_err(|e| SealError::Key(e.to_string()))
    })
    .with_context(|| format!("cannot use the key {}", args.sign.display()))?;
    // Two appends at once would both take the next number: the second waits its turn.
    let _lock = super::super::lock(&args.bag, super::super::Contention::Wait)?;
    let options = AppendOptions {
        event: args.event,
        agent: args.agent.clone(),
        success: args.outcome == CustodyOutcome::Success,
        detail: args.detail.clone(),
    };
    let result = custody::append(&args.bag, &secret, &public, &options, keys.as_deref());
    outcome(&result)
        .worded("appended")
        .failure_hides_warnings()
        .subject(output::path(&args.bag))
        .render(global, |body| {
            if let Some(appended) = body.appended {
                print_appended(args, global, appended);
            }
        })
}

/// The outcome of an append.
fn outcome(result: &Result<Appended, SealError>) -> Outcome<Body<'_>> {
    const COMMAND: &str = "custody append";
    match result {
        Ok(appended) => Outcome::done(
            COMMAND,
            Body {
                appended: Some(appended),
            },
            Vec::new(),
            Exit::Ok,
        ),
        // The closing SEAL-030 says which condition failed (not sealed, an untrusted signer, a
        // log that does not verify); the generic "was not sealed" would mislead.
        Err(SealError::Refused(problems)) => Outcome::not_done(
            COMMAND,
            Body { appended: None },
            Exit::Invalid,
            format!("nothing was appended ({} problem(s))", problems.len()),
            problems.clone(),
        ),
        Err(error) => Outcome::not_done(
            COMMAND,
            Body { appended: None },
            Exit::Error,
            error.to_string(),
            Vec::new(),
        ),
    }
}

/// The entry appended and the new head (the head alone on stdout, without `--json`).
fn print_appended(args: &CustodyAppendArgs, global: &Global, appended: &Appended) {
    if !global.quiet {
        output::stderrln!(
            "{}: appended {} ({}, by {}, key {}){}",
            output::path(&args.bag),
            appended.file,
            appended.entry.event_label,
            appended.entry.agent.name,
            appended.key_id,
            if appended.receipt {
                "; signed by a key other than the previous entry's: a receipt of the head it records"
            } else {
                ""
            }
        );
        output::stderrln!("head: {} (keep it outside the bag)", appended.head);
    }
    if !global.json {
        println!("{}", appended.head);
    }
}
