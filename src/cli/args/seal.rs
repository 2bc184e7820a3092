//! `qoima keygen`, `seal`, `verify-seal` and `timestamp`: sealed evidence bags.

use std::path::PathBuf;

use clap::Args;

#[derive(Args, Debug)]
pub struct TimestampArgs {
    /// The sealed bag folder, or an encrypted bundle NAME.tar.age.
    pub target: PathBuf,

    /// The time-stamp authority's URL (RFC 3161 over HTTP, e.g. http://timestamp.example.org);
    /// repeatable: two independent authorities are more resilient than one.
    #[arg(long, value_name = "URL", required_unless_present = "reply")]
    pub tsa: Vec<String>,

    /// Import a time-stamp reply made elsewhere (e.g. with `openssl ts -query` on this bag's
    /// signature file and an HTTP POST from another machine) instead of asking a TSA;
    /// repeatable. Needs --tsa-name.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "tsa",
        requires = "tsa_name"
    )]
    pub reply: Vec<PathBuf>,

    /// The authority's name in token file names (FILE.NAME.tsr): letters, digits, - and _.
    /// Default: the URL's host with dots as dashes.
    #[arg(long, value_name = "NAME")]
    pub tsa_name: Option<String>,

    /// Check each new token against these trusted TSA certificates (PEM) before keeping it.
    #[arg(long, value_name = "FILE")]
    pub tsa_roots: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// The secret key file to write (the public key goes to PATH.pub). Existing files are
    /// never overwritten.
    #[arg(short, long, value_name = "PATH")]
    pub output: PathBuf,

    /// Read the passphrase from this file's first line (default: $QOIMA_PASSPHRASE, else a
    /// prompt).
    #[arg(long, value_name = "FILE", conflicts_with = "unencrypted")]
    pub passphrase_file: Option<PathBuf>,

    /// Write the secret key without a passphrase. For tests and automation only: anyone who
    /// can read the file can seal in your name.
    #[arg(long)]
    pub unencrypted: bool,
}

#[derive(Args, Debug)]
pub struct SealArgs {
    /// The bag folder to seal (it must be a valid bag; its payload is never touched).
    pub bag: PathBuf,

    /// The minisign secret key to sign with (from `qoima keygen` or `minisign -G`).
    #[arg(long, value_name = "KEY")]
    pub sign: PathBuf,

    /// The sealer's label for Seal-Signer-Name and the signed statements, e.g. "Example HRO
    /// intake desk" (default: the key id).
    #[arg(long, value_name = "LABEL")]
    pub name: Option<String>,

    /// Read the secret key's passphrase from this file's first line (default:
    /// $QOIMA_PASSPHRASE, else a prompt).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,

    /// Also encrypt the sealed bag to this age recipient (X25519, `age1…`); repeatable. Writes
    /// NAME.tar.age, its signed sha256 (NAME.tar.age.sha256, .sha256.minisig) and
    /// NAME.envelope.txt into -o DIR.
    #[arg(long = "to", value_name = "RECIPIENT", requires = "output")]
    pub to: Vec<String>,

    /// Also encrypt to every recipient in this file (one `age1…` per line, `#` comments).
    #[arg(long, value_name = "FILE", requires = "output")]
    pub recipients_file: Option<PathBuf>,

    /// The folder to write the encrypted bundle into (with --to or --recipients-file).
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// The encrypted bundle's file name, a neutral label readable by anyone who holds the
    /// files (default: bundle); never taken from the bag.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "bundle",
        requires = "output"
    )]
    pub bundle_name: String,

    /// Time-stamp the seal as soon as it is signed (RFC 3161, as `qoima timestamp` does):
    /// ask this authority for a token over each signature; repeatable. With --to, the tokens
    /// travel inside the bundle, and the bundle's signed digest is stamped too.
    #[arg(long, value_name = "URL")]
    pub tsa: Vec<String>,

    /// The authority's name in token file names (with a single --tsa; default: the URL's host).
    #[arg(long, value_name = "NAME", requires = "tsa")]
    pub tsa_name: Option<String>,

    /// Check each new token against these trusted TSA certificates (PEM) before keeping it.
    #[arg(long, value_name = "FILE", requires = "tsa")]
    pub tsa_roots: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct VerifySealArgs {
    /// The sealed bag folder, or an encrypted bundle NAME.tar.age (beside its signed
    /// NAME.tar.age.sha256 and its envelope).
    pub bag: PathBuf,

    /// The public keys you trust: one minisign public key (base64 `RW…`) per line; `#`
    /// comments and minisign .pub files are accepted.
    #[arg(long, value_name = "FILE")]
    pub trusted_keys: PathBuf,

    /// An age identity file (`age-keygen` output) to decrypt an encrypted bundle; repeatable.
    #[arg(short, long = "identity", value_name = "IDENTITY")]
    pub identity: Vec<PathBuf>,

    /// The certificates (PEM) of the time-stamp authorities you trust: roots, and any
    /// intermediates. Without it, time-stamps are listed but prove no time.
    #[arg(long, value_name = "FILE")]
    pub tsa_roots: Option<PathBuf>,

    /// A custody-log head kept outside the bag (sha256:<hex>, e.g. from a receipt): fail
    /// unless the log still holds that entry.
    #[arg(long, value_name = "DIGEST")]
    pub expect_head: Option<String>,
}
