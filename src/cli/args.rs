//! Command-line arguments (clap derive). Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use qoima::seal::custody::EventType;

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

#[derive(Args, Debug)]
pub struct FetchArgs {
    /// The bag folder whose fetch.txt lists files to download.
    #[arg(value_name = "BAG")]
    pub bag: PathBuf,

    /// Further attempts per file after a failed one; each resumes where the last stopped
    /// (HTTP Range) when the server allows it.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub retries: u32,

    /// Seconds to wait to connect, for a response, and for each read before giving up on an
    /// attempt.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,

    /// The most bytes accepted for any one file (e.g. 10G); a server sending more, or more
    /// than fetch.txt declares, is cut off and nothing enters the bag.
    #[arg(long, value_name = "SIZE")]
    pub max_bytes: Option<String>,

    /// Follow redirects to another host, or from https to http (refused by default).
    #[arg(long)]
    pub allow_redirects: bool,
}

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

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCommand>,

    /// The bags to audit: folders, or zip, tar and tar.gz files.
    #[arg(value_name = "BAG", required = true)]
    pub bags: Vec<PathBuf>,

    /// The register (SQLite). Default: $QOIMA_REGISTER, else
    /// $XDG_DATA_HOME/qoima/fixity.db, else ~/.local/share/qoima/fixity.db.
    #[arg(long, value_name = "FILE", global = true)]
    pub register: Option<PathBuf>,

    /// Audit only bags not verified within this long (e.g. 90d, 12h, 2w).
    #[arg(long, value_name = "AGE")]
    pub older_than: Option<String>,

    /// Start no new bag once the run has read this much (e.g. 500G); the next run continues.
    #[arg(long, value_name = "BYTES")]
    pub max_bytes: Option<String>,

    /// Start no new bag once the run has lasted this long (e.g. 2h, 45m).
    #[arg(long, value_name = "DURATION")]
    pub max_duration: Option<String>,

    /// Read at most this fast, all threads together (e.g. 200MiB/s), so that production
    /// storage stays usable.
    #[arg(long, value_name = "RATE")]
    pub rate: Option<String>,

    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Every audit of one bag, oldest first.
    History {
        /// The bag (as audited: folder or archive).
        bag: PathBuf,
        /// text, json or csv (--json means json).
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// A summary of the audits in a period.
    Report {
        /// Only audits from this date on (YYYY-MM-DD, or an age like 30d).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// text, json, csv or html (one self-contained file).
        #[arg(long, default_value = "text")]
        format: String,
        /// Write the report to this file instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// A bag's audit history as PREMIS 3 fixity-check events (XML).
    ExportPremis {
        /// The bag.
        bag: PathBuf,
        /// Write to this file instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// How to write a bag as one file (`bag`, `package` and `serialize`).
#[derive(Args, Debug, Default, Clone)]
pub struct ArchiveArgs {
    /// Write the bag as a zip file; -o names the file (`.zip` is added when missing).
    #[arg(long, group = "serialization")]
    pub zip: bool,
    /// Write the bag as a tar file; -o names the file (`.tar` is added when missing).
    #[arg(long, group = "serialization")]
    pub tar: bool,
    /// Write the bag as a gzip-compressed tar; -o names the file (`.tar.gz` is added).
    #[arg(long, group = "serialization")]
    pub tar_gz: bool,
    /// Deflate zip entries (they are stored by default: photos do not compress).
    #[arg(long)]
    pub compress: bool,
    /// Print the archive's sha256 (for the transfer receipt).
    #[arg(long)]
    pub checksum: bool,
    /// Write the archive's sha256 beside it as ARCHIVE.sha256 (`sha256sum -c` reads it).
    #[arg(long)]
    pub checksum_file: bool,
}

/// Limits against hostile archives (`validate` and `unpack`).
#[derive(Args, Debug, Clone)]
pub struct LimitArgs {
    /// Largest expansion accepted for one compressed entry over 1 MiB (a zip bomb guard).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_ratio: u64,
    /// Largest total unpacked size accepted, in bytes (suffixes K, M, G, T allowed).
    #[arg(long, value_name = "BYTES", default_value = "16T")]
    pub max_size: String,
}

#[derive(Args, Debug)]
pub struct SerializeArgs {
    /// The bag folder.
    pub bag: PathBuf,
    /// The archive to write (default: the bag's path with the format's extension).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub archive: ArchiveArgs,
}

#[derive(Args, Debug)]
pub struct UnpackArgs {
    /// The zip, tar or tar.gz file.
    pub archive: PathBuf,
    /// The folder to create (it must not exist); the bag is unpacked as this folder.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct PackageArgs {
    /// The collection folder (photos plus metadata.csv or metadata.json).
    pub collection: PathBuf,

    /// Where to write the bag.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,

    /// Leave out operating-system junk: .DS_Store, AppleDouble ._* files, .Spotlight-V100,
    /// .Trashes, .fseventsd, Thumbs.db, ehthumbs.db and desktop.ini. The files left out are
    /// listed in the summary (and `excluded` in --json).
    #[arg(long)]
    pub exclude_junk: bool,

    /// Leave out files and folders matching GLOB (repeatable). Without `/`, GLOB is matched
    /// against every name in a path (`*.tmp`, `.git`); with `/`, against the path from the
    /// source folder (`drafts/old*`). `*` (any run, `/` included), `?` and `[abc]` as in glob(7).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Replace an existing OUT (only once the new bag is complete).
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub archive: ArchiveArgs,

    /// Make a bag that conforms to this BagIt Profile (a built-in name or a JSON file).
    #[arg(long, value_name = "NAME|FILE")]
    pub profile: Option<String>,

    /// Hard-link the photos into the bag instead of copying them, where the collection and
    /// the bag share a filesystem (others are copied). Nothing is written to the originals.
    #[arg(long)]
    pub link: bool,

    #[command(flatten)]
    pub check: CheckFlags,

    #[command(flatten)]
    pub algorithms: AlgorithmArgs,

    #[command(flatten)]
    pub info: InfoArgs,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The collection folder (photos plus metadata.csv or metadata.json).
    pub collection: PathBuf,

    #[command(flatten)]
    pub flags: CheckFlags,
}

/// How a collection is checked (`check` and `package`).
#[derive(Args, Debug, Default)]
pub struct CheckFlags {
    /// The metadata sidecar (default: metadata.csv, else metadata.json, in the collection).
    #[arg(long, value_name = "FILE")]
    pub metadata: Option<PathBuf>,

    /// CSV field delimiter: `,`, `;` or `tab` (default: detected from the header).
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,

    /// Elements every record must have, comma-separated
    /// [default: identifier,file,title,date,rights].
    #[arg(long, value_delimiter = ',', value_name = "ELEMENTS")]
    pub require: Vec<String>,

    /// A rules file (JSON): {"required": [...], "allow-undescribed": false}.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// A photo that no record describes is a warning, not an error.
    #[arg(long)]
    pub allow_undescribed: bool,

    /// Decode every image fully, to catch corrupt pixel data (slower).
    #[arg(long)]
    pub decode: bool,

    /// With --decode, the most memory one image's decoding may use (e.g. 4G; K, M, G, T
    /// are powers of 1024). An image whose header asks for more is not decoded (PHOTO-W005).
    /// Each of the --jobs threads may use this much at once.
    #[arg(long, value_name = "BYTES", default_value = "1G")]
    pub decode_memory: String,

    /// Count warnings as failures.
    #[arg(long)]
    pub strict: bool,

    /// With --strict, keep this warning code a warning (repeatable).
    #[arg(long, value_name = "CODE")]
    pub allow: Vec<String>,

    /// List at most N problems of one code in one file and count the rest in one BAG-W050
    /// summary (0: list every one). The verdict, counts and exit code do not depend on it.
    #[arg(long, value_name = "N", default_value_t = qoima::verdict::DEFAULT_MAX_PROBLEMS)]
    pub max_problems: usize,
}

#[derive(Args, Debug)]
pub struct BagArgs {
    /// The folder to bag.
    pub source: PathBuf,

    /// Where to write the bag (must not exist). The source is left untouched.
    #[arg(short, long, value_name = "OUT", required_unless_present_any = ["in_place", "rollback", "update"], conflicts_with = "in_place")]
    pub output: Option<PathBuf>,

    /// Leave out operating-system junk: .DS_Store, AppleDouble ._* files, .Spotlight-V100,
    /// .Trashes, .fseventsd, Thumbs.db, ehthumbs.db and desktop.ini. The files left out are
    /// listed in the summary (and `excluded` in --json).
    #[arg(long, conflicts_with_all = ["in_place", "rollback"])]
    pub exclude_junk: bool,

    /// Leave out files and folders matching GLOB (repeatable). Without `/`, GLOB is matched
    /// against every name in a path (`*.tmp`, `.git`); with `/`, against the path from the
    /// source folder (`drafts/old*`). `*` (any run, `/` included), `?` and `[abc]` as in glob(7).
    #[arg(long, value_name = "GLOB", conflicts_with_all = ["in_place", "rollback"])]
    pub exclude: Vec<String>,

    /// Turn the folder itself into a bag (its content moves into data/). Safe to interrupt:
    /// rerun to finish, or use --rollback to undo.
    #[arg(long)]
    pub in_place: bool,

    /// Undo an interrupted --in-place run on this folder.
    #[arg(long, conflicts_with_all = ["output", "in_place"])]
    pub rollback: bool,

    /// Bag the content symbolic links point to (otherwise a link is refused).
    #[arg(long)]
    pub follow_links: bool,

    /// With -o: hard-link files into the bag instead of copying them, where the folder and
    /// the bag share a filesystem (others are copied). Nothing is written to the originals.
    #[arg(long, conflicts_with = "in_place")]
    pub link: bool,

    #[command(flatten)]
    pub archive: ArchiveArgs,

    /// Make a bag that conforms to this BagIt Profile (a built-in name or a JSON file): its
    /// identifier, fixed values and algorithms are filled in; qoima refuses before writing
    /// anything when a value it cannot fill is missing.
    #[arg(long, value_name = "NAME|FILE")]
    pub profile: Option<String>,

    #[command(flatten)]
    pub algorithms: AlgorithmArgs,

    #[command(flatten)]
    pub info: InfoArgs,

    #[command(flatten)]
    pub update: UpdateArgs,
}

/// `qoima bag --update BAG`: the options of updating a bag after a deliberate change.
#[derive(Args, Debug, Default)]
pub struct UpdateArgs {
    /// Update the bag SOURCE after a deliberate change to its payload or tag files: rewrite its
    /// manifests, Payload-Oxum and tag manifests in one read, and list what was added, removed
    /// or changed. Safe to interrupt: rerun to finish.
    #[arg(long, conflicts_with_all = ["output", "in_place", "rollback"])]
    pub update: bool,

    /// With --update: also write manifests in these algorithms (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ALG", requires = "update")]
    pub add_algorithm: Vec<String>,

    /// With --update: drop the manifests of these algorithms (comma-separated); the last one
    /// cannot go, and one the bag's profile requires is kept.
    #[arg(long, value_delimiter = ',', value_name = "ALG", requires = "update")]
    pub remove_algorithm: Vec<String>,

    /// With --update: update a sealed bag (seal/ or custody/; this breaks the seal, and needs
    /// --sign) or a packaged one (mets.xml; only changes that keep the METS true).
    #[arg(long, requires = "update")]
    pub force: bool,

    /// With --update --force on a sealed bag: your minisign secret key, to sign the custody
    /// entry that records the change.
    #[arg(long, value_name = "KEY", requires = "force")]
    pub sign: Option<PathBuf>,

    /// With --sign: who makes the change (your name or label), for the custody entry.
    #[arg(long, value_name = "NAME", requires = "sign")]
    pub agent: Option<String>,

    /// With --sign: read the key's passphrase from this file's first line (default:
    /// $QOIMA_PASSPHRASE, else a prompt).
    #[arg(long, value_name = "FILE", requires = "sign")]
    pub passphrase_file: Option<PathBuf>,
}

/// Checksum algorithms. Without any of these options: sha256 and sha512. Any of them
/// replaces that default (`--md5` alone gives an MD5 manifest only).
#[derive(Args, Debug, Default)]
pub struct AlgorithmArgs {
    /// Algorithms, comma-separated: md5, sha1, sha224, sha256, sha384, sha512, blake3
    /// [default: sha256,sha512].
    #[arg(
        long = "algorithm",
        short = 'a',
        value_delimiter = ',',
        value_name = "ALG"
    )]
    pub algorithm: Vec<String>,
    /// Write an MD5 manifest.
    #[arg(long)]
    pub md5: bool,
    /// Write a SHA-1 manifest.
    #[arg(long)]
    pub sha1: bool,
    /// Write a SHA-224 manifest.
    #[arg(long)]
    pub sha224: bool,
    /// Write a SHA-256 manifest.
    #[arg(long)]
    pub sha256: bool,
    /// Write a SHA-384 manifest.
    #[arg(long)]
    pub sha384: bool,
    /// Write a SHA-512 manifest.
    #[arg(long)]
    pub sha512: bool,
    /// Write a BLAKE3 manifest (an extension other BagIt tools do not check).
    #[arg(long)]
    pub blake3: bool,
}

/// bag-info.txt elements: the named flags first (in the order listed here), then --info in
/// the order given, then --info-file's elements in their order.
#[derive(Args, Debug, Default)]
pub struct InfoArgs {
    /// Source-Organization.
    #[arg(long, value_name = "TEXT")]
    pub source_organization: Option<String>,
    /// Organization-Address.
    #[arg(long, value_name = "TEXT")]
    pub organization_address: Option<String>,
    /// Contact-Name.
    #[arg(long, value_name = "TEXT")]
    pub contact_name: Option<String>,
    /// Contact-Phone.
    #[arg(long, value_name = "TEXT")]
    pub contact_phone: Option<String>,
    /// Contact-Email.
    #[arg(long, value_name = "TEXT")]
    pub contact_email: Option<String>,
    /// External-Description.
    #[arg(long, value_name = "TEXT")]
    pub external_description: Option<String>,
    /// External-Identifier.
    #[arg(long, value_name = "TEXT")]
    pub external_identifier: Option<String>,
    /// Bag-Group-Identifier.
    #[arg(long, value_name = "TEXT")]
    pub bag_group_identifier: Option<String>,
    /// Bag-Count, as `N of T`.
    #[arg(long, value_name = "N of T")]
    pub bag_count: Option<String>,
    /// Internal-Sender-Identifier.
    #[arg(long, value_name = "TEXT")]
    pub internal_sender_identifier: Option<String>,
    /// Internal-Sender-Description.
    #[arg(long, value_name = "TEXT")]
    pub internal_sender_description: Option<String>,
    /// BagIt-Profile-Identifier.
    #[arg(long, value_name = "URI")]
    pub bagit_profile_identifier: Option<String>,
    /// Bagging-Date as YYYY-MM-DD (default: from SOURCE_DATE_EPOCH, else today in UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub bagging_date: Option<String>,
    /// Any element, as LABEL=VALUE (repeatable; order kept).
    #[arg(long = "info", value_name = "LABEL=VALUE")]
    pub info: Vec<String>,
    /// Elements from a file in bag-info.txt form (`Label: value` lines).
    #[arg(long, value_name = "FILE")]
    pub info_file: Option<PathBuf>,

    /// Add a tag file of your own to the bag, e.g. `--tag-file aptrust-info.txt=./aptrust.txt`
    /// (NAME is bag-relative, outside data/; listed in the tag manifests). Repeatable.
    #[arg(long, value_name = "NAME=FILE")]
    pub tag_file: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Bag folders to validate.
    #[arg(required = true, value_name = "BAG")]
    pub bags: Vec<PathBuf>,

    /// Only compare the payload's size and file count with Payload-Oxum. A pass says
    /// "complete according to Oxum", never "valid".
    #[arg(long, conflicts_with = "completeness_only")]
    pub fast: bool,

    /// Check that everything is present and listed, without computing checksums.
    #[arg(long)]
    pub completeness_only: bool,

    /// Count warnings as failures.
    #[arg(long)]
    pub strict: bool,

    /// With --strict, keep this warning code a warning (repeatable), e.g. --allow BAG-W004.
    #[arg(long, value_name = "CODE")]
    pub allow: Vec<String>,

    /// List at most N problems of one code in one file and count the rest in one BAG-W050
    /// summary (0: list every one). The verdict, counts and exit code do not depend on it.
    #[arg(long, value_name = "N", default_value_t = qoima::verdict::DEFAULT_MAX_PROBLEMS)]
    pub max_problems: usize,

    #[command(flatten)]
    pub limits: LimitArgs,

    /// Check each bag against this BagIt Profile too: a built-in name (aptrust, aptrust-2.2,
    /// btr) or a profile JSON file. Without it, a bag naming a BagIt-Profile-Identifier
    /// qoima knows is checked against that profile.
    #[arg(long, value_name = "NAME|FILE")]
    pub profile: Option<String>,

    /// Folders of profile JSON files to find a bag's BagIt-Profile-Identifier in (besides the
    /// built-ins and a `profiles/` folder beside the bag).
    #[arg(long, value_name = "DIR", env = "QOIMA_PROFILES_DIR")]
    pub profiles_dir: Vec<PathBuf>,
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
