//! `qoima seal`: options in, one library call (`seal::pipeline::seal`), the outcome rendered.
//! `keygen` and `verify-seal`, the other two verbs of sealing, are beside it.

mod keygen;
mod verify;

pub use keygen::keygen;
pub(super) use verify::{print_checks, verification, verify};

use anyhow::{Context, bail};
use serde::Serialize;

use qoima::digest::NoProgress;
use qoima::error::Problem;
use qoima::seal::bundle::{self, BundleSummary, EncryptOptions};
use qoima::seal::pipeline::{self, SealOutcome, SealPlan, Stamping, Status};
use qoima::seal::timestamp::AddedToken;
use qoima::seal::{self, SealError, SealOptions, SealSummary};

use crate::cli::Exit;
use crate::cli::args::{Global, SealArgs};
use crate::cli::output;
use crate::cli::passphrase;

#[derive(Serialize)]
struct SealJson<'a> {
    qoima_version: &'static str,
    command: &'static str,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    seal: Option<&'a SealSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bundle: Option<&'a BundleSummary>,
    /// The tokens `--tsa` added (over the seal's signatures, then the bundle's).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    timestamps: &'a [AddedToken],
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    problems: &'a [Problem],
    exit_code: u8,
}

pub fn seal(args: &SealArgs, global: &Global) -> anyhow::Result<Exit> {
    // Recipients and --tsa are read before anything is written, so that a typo seals nothing.
    let encrypt = encrypt_options(args)?;
    if let Some(encrypt) = &encrypt
        && let Err(e) = refuse_writing_into_bag(args, encrypt)
    {
        return Ok(super::outputs::report_refusal(&e));
    }
    let stamping = stamping(args)?;
    let (sk, pk) = seal::load_secret_key(&args.sign, || {
        passphrase::read(args.passphrase_file.as_deref(), passphrase::SEALING_KEY)
            .map_err(|e| SealError::Key(e.to_string()))
    })
    .with_context(|| format!("cannot use the key {}", args.sign.display()))?;
    let engine = super::engine(global)?;
    // Sealing rewrites the bag's tag files: one run at a time, and a second one is refused.
    // The lock is held until the command ends (time-stamps and encryption included).
    let _lock = args
        .bag
        .is_dir()
        .then(|| super::lock(&args.bag, super::Contention::Refuse))
        .transpose()?;
    let plan = SealPlan {
        options: SealOptions {
            signer_name: args.name.clone(),
        },
        key_file: args.sign.clone(),
        encrypt,
        stamping,
    };
    let outcome = pipeline::seal(&args.bag, (&sk, &pk), &plan, &engine, &NoProgress);
    render_seal(args, global, &outcome)
}

/// `-o` with `--to`/`--recipients-file`: the bundle to write.
fn encrypt_options(args: &SealArgs) -> anyhow::Result<Option<EncryptOptions>> {
    let mut recipients = Vec::new();
    for recipient in &args.to {
        recipients.push(bundle::parse_recipient(recipient)?);
    }
    if let Some(file) = &args.recipients_file {
        recipients.extend(bundle::read_recipients_file(file)?);
    }
    match (&args.output, recipients.is_empty()) {
        (Some(dir), false) => {
            bundle::check_name(&args.bundle_name)?;
            Ok(Some(EncryptOptions {
                out_dir: dir.clone(),
                name: args.bundle_name.clone(),
                recipients,
            }))
        }
        (Some(_), true) => bail!(
            "-o writes an encrypted bundle: give its recipients with --to age1… or --recipients-file"
        ),
        (None, _) => Ok(None),
    }
}

/// A bundle written into the bag, or over it, would change what is being sealed.
fn refuse_writing_into_bag(
    args: &SealArgs,
    encrypt: &EncryptOptions,
) -> Result<(), qoima::bagit::BagError> {
    let paths = bundle::BundlePaths::new(&encrypt.out_dir, &encrypt.name);
    let script = encrypt.out_dir.join(qoima::seal::VERIFY_SH);
    let files = [
        paths.ciphertext.as_path(),
        &paths.checksum,
        &paths.signature,
        &paths.envelope,
        &script,
    ];
    super::outputs::refuse_writing_into(&args.bag, &encrypt.out_dir, &files)
}

/// `--tsa`: the authorities to ask right after signing, and the roots to check replies with.
fn stamping(args: &SealArgs) -> anyhow::Result<Option<Stamping>> {
    if args.tsa.is_empty() {
        return Ok(None);
    }
    Ok(Some(Stamping {
        authorities: super::timestamp::authorities(&args.tsa, args.tsa_name.as_deref())?,
        roots: super::tsa_roots(args.tsa_roots.as_deref())?,
    }))
}

/// Prints what `seal` did: `--json`, then the text report on stderr.
fn render_seal(args: &SealArgs, global: &Global, outcome: &SealOutcome) -> anyhow::Result<Exit> {
    let exit = match outcome.status {
        Status::Done => Exit::Ok,
        Status::Refused => Exit::Invalid,
        Status::Failed => Exit::Error,
    };
    if global.json {
        output::json(&SealJson {
            qoima_version: qoima::VERSION,
            command: "seal",
            outcome: match exit {
                Exit::Ok if outcome.as_sealed => "encrypted",
                Exit::Ok => "sealed",
                Exit::Invalid => "refused",
                Exit::Error => "error",
            },
            seal: outcome.seal.as_ref(),
            bundle: outcome.bundle.as_ref(),
            timestamps: &outcome.added,
            error: outcome.error.as_deref(),
            problems: &outcome.problems,
            exit_code: exit as u8,
        })?;
    }
    if outcome.as_sealed {
        render_as_sealed(global, outcome);
    } else if let Some(summary) = &outcome.seal {
        if !global.quiet {
            output::problems(&outcome.problems, true, "");
            output::stderrln!(
                "{}: sealed as {:?} by key {} ({}); {} tag manifest(s) signed in seal/",
                output::path(&summary.bag),
                summary.bag_name,
                summary.key_id,
                summary.signer_name,
                summary.signatures.len()
            );
            super::timestamp::print_tokens(&outcome.added, &outcome.skipped);
            if let Some(bundle) = &outcome.bundle {
                output::stderrln!("{}", bundle_line(bundle, "encrypted"));
            }
        }
    } else if outcome.error.is_some() {
        output::problems(&outcome.problems, false, "");
    }
    if let Some(e) = &outcome.error {
        output::stderrln!("qoima: {}: {e}", output::path(&args.bag));
    }
    Ok(exit)
}

/// The text report of a bag encrypted as it was sealed: the problems always.
fn render_as_sealed(global: &Global, outcome: &SealOutcome) {
    output::problems(&outcome.problems, true, "");
    if !global.quiet {
        super::timestamp::print_tokens(&outcome.added, &outcome.skipped);
    }
    if let Some(bundle) = outcome.bundle.as_ref().filter(|_| !global.quiet) {
        output::stderrln!(
            "{}",
            bundle_line(
                bundle,
                "already sealed (with a custody log or time-stamps): encrypted as it is"
            )
        );
    }
}

/// What was written, in one line: `NAME.tar.age: WHAT to N recipient(s), …`.
fn bundle_line(bundle: &BundleSummary, what: &str) -> String {
    format!(
        "{}: {what} to {} recipient(s), {} bytes; sha256 {} signed in {}, envelope {}",
        output::path(&bundle.ciphertext),
        bundle.recipients,
        bundle.ciphertext_bytes,
        output::path(&bundle.checksum),
        output::path(&bundle.signature),
        output::path(&bundle.envelope)
    )
}
