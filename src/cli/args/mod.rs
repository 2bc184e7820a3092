//! Command-line arguments (clap derive). Doc comments here are the `--help` text.
//!
//! One file per verb group; this file holds the top level (`Cli`, the global options and the
//! list of verbs) and re-exports every argument type, so that a verb reads `args::BagArgs`.

mod archive;
mod audit;
mod bag;
mod custody;
mod fetch;
mod package;
mod seal;
mod validate;

use clap::{Args, Parser, Subcommand};

pub use archive::{ArchiveArgs, LimitArgs, SerializeArgs, UnpackArgs};
pub use audit::{AuditArgs, AuditCommand};
pub use bag::{AlgorithmArgs, BagArgs, InfoArgs};
pub use custody::{
    CustodyAppendArgs, CustodyArgs, CustodyCommand, CustodyExportArgs, CustodyOutcome,
    CustodyShowArgs, CustodyVerifyArgs,
};
pub use fetch::FetchArgs;
pub use package::{CheckArgs, CheckFlags, PackageArgs};
pub use seal::{KeygenArgs, SealArgs, TimestampArgs, VerifySealArgs};
pub use validate::ValidateArgs;

/// qoima (қойма, "storehouse"): BagIt (RFC 8493) bags for digital preservation — made
/// strictly, checked strictly, fast.
#[derive(Parser, Debug)]
#[command(name = "qoima", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: Global,
}

/// Options every command takes.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Print a machine-readable JSON report on stdout (schema: docs/json.md).
    #[arg(long, global = true)]
    pub json: bool,

    /// Print only failures on stderr: no progress bars, no lines for bags that passed.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Print every warning, even when a passing bag has more than 20.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Hashing threads (default: one per core). `--processes` is accepted as in bagit-python.
    #[arg(
        short = 'j',
        long,
        global = true,
        alias = "processes",
        value_name = "N",
        default_value_t = 0
    )]
    pub jobs: usize,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Make a BagIt 1.0 bag of a folder: into a new place with -o (the folder is only read),
    /// or in place with --in-place.
    Bag(Box<BagArgs>),
    /// Validate bags: complete and every checksum verified (default), --completeness-only,
    /// or --fast (Payload-Oxum only).
    Validate(ValidateArgs),
    /// Check a collection before packaging: every photo is what it claims to be, and every
    /// description in the metadata sidecar is complete and well formed. Writes nothing.
    Check(CheckArgs),
    /// Check a collection and package it as a BagIt bag with a METS document (Dublin Core,
    /// PREMIS, MIX), the collection's Dublin Core and the check report. Refuses on errors.
    Package(Box<PackageArgs>),
    /// Write a bag folder as one zip, tar or tar.gz file (reproducible, streamed).
    Serialize(SerializeArgs),
    /// Unpack a serialized bag into a folder, refusing hostile entries.
    Unpack(UnpackArgs),
    /// Re-verify bags (folders, zip, tar) and keep every result in a fixity register;
    /// `audit history|report|export-premis` read the register.
    Audit(Box<AuditArgs>),
    /// Make a minisign-compatible Ed25519 key pair for sealing bags (secret key encrypted
    /// with a passphrase unless --unencrypted).
    Keygen(KeygenArgs),
    /// Seal a valid bag folder in place: Seal-* fields, the public key, VERIFY.txt and
    /// verify.sh, recomputed tag manifests, and a signature per tag manifest in seal/.
    Seal(SealArgs),
    /// Verify a sealed bag: valid BagIt, every tag manifest signed by the key bag-info.txt
    /// names, and that key in your trusted list.
    VerifySeal(VerifySealArgs),
    /// The custody log of a sealed bag (custody/): append a signed, hash-chained entry for a
    /// transfer or check; show, verify or export it as PREMIS events.
    Custody(CustodyArgs),
    /// Add RFC 3161 time-stamps from a time-stamp authority over a sealed bag's signatures
    /// (and its custody log's head), or over an encrypted bundle's signature.
    Timestamp(TimestampArgs),
    /// Complete a holey bag: download the files its fetch.txt lists (http, https, file),
    /// verify each against every payload manifest before it enters the bag, then validate.
    Fetch(FetchArgs),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
