//! `qoima custody`: the custody log of a sealed bag.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use qoima::seal::custody::EventType;

#[derive(Args, Debug)]
pub struct CustodyArgs {
    #[command(subcommand)]
    pub command: CustodyCommand,
}

#[derive(Subcommand, Debug)]
pub enum CustodyCommand {
    /// Append an entry signed by the custodian who acted. Refuses a bag that is not sealed or
    /// whose custody log does not verify; writes nothing then.
    Append(CustodyAppendArgs),
    /// Print the entries in order (not verified: use `custody verify`).
    Show(CustodyShowArgs),
    /// Verify the log: numbering, hash chain, signatures, trusted signers; report the head
    /// and which entries are anchored.
    Verify(CustodyVerifyArgs),
    /// Export the verified entries as PREMIS 3 events.
    Export(CustodyExportArgs),
}

/// `--event`: the events `custody append` records (LoC PREMIS event types), named and
/// described by the library's list, so that the two cannot drift apart.
fn custody_event() -> impl clap::builder::TypedValueParser<Value = EventType> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let events = EventType::APPENDABLE;
    PossibleValuesParser::new(
        events
            .iter()
            .map(|event| PossibleValue::new(event.name()).help(event.help())),
    )
    .map(|name| {
        name.parse::<EventType>()
            .expect("every possible value is an event")
    })
}

/// An event's outcome.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CustodyOutcome {
    Success,
    Failure,
}

#[derive(Args, Debug)]
pub struct CustodyAppendArgs {
    /// The sealed bag folder.
    pub bag: PathBuf,

    /// What happened.
    #[arg(long, value_parser = custody_event())]
    pub event: EventType,

    /// Who acted: the custodian's name or label (a pseudonym is fine).
    #[arg(long, value_name = "NAME")]
    pub agent: String,

    /// The custodian's minisign secret key (signs the entry).
    #[arg(long, value_name = "KEY")]
    pub sign: PathBuf,

    /// Free text: what was done and seen, e.g. "received on encrypted drive; seal verified".
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub detail: String,

    /// The event's outcome.
    #[arg(long, value_enum, default_value = "success")]
    pub outcome: CustodyOutcome,

    /// Also require every earlier entry's signer to be in this trusted-keys file.
    #[arg(long, value_name = "FILE")]
    pub trusted_keys: Option<PathBuf>,

    /// Read the secret key's passphrase from this file's first line (default:
    /// $QOIMA_PASSPHRASE, else a prompt).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CustodyShowArgs {
    /// The bag folder.
    pub bag: PathBuf,
}

#[derive(Args, Debug)]
pub struct CustodyVerifyArgs {
    /// The bag folder.
    pub bag: PathBuf,

    /// The public keys you trust (as for verify-seal): every entry's signer must be listed.
    #[arg(long, value_name = "FILE")]
    pub trusted_keys: PathBuf,

    /// A head digest kept outside the bag (sha256:<hex>, e.g. from a receipt): fail unless
    /// the log still holds that entry.
    #[arg(long, value_name = "DIGEST")]
    pub expect_head: Option<String>,

    /// The certificates (PEM) of the time-stamp authorities you trust: time-stamps over
    /// entries checked against them anchor those entries.
    #[arg(long, value_name = "FILE")]
    pub tsa_roots: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CustodyExportArgs {
    /// The bag folder.
    pub bag: PathBuf,

    /// Export PREMIS 3 events (the only format).
    #[arg(long, required = true)]
    pub premis: bool,

    /// Write to this file (default: stdout).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also require every signer to be in this trusted-keys file.
    #[arg(long, value_name = "FILE")]
    pub trusted_keys: Option<PathBuf>,

    /// Check the time-stamps (exported as events) against these trusted TSA certificates
    /// (PEM); without it their events say they were not checked.
    #[arg(long, value_name = "FILE")]
    pub tsa_roots: Option<PathBuf>,
}
