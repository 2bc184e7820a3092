//! `qoima bag`: making a bag, in place or into a new place, updating and rolling back; and
//! the algorithm and bag-info options `package` shares.

use std::path::PathBuf;

use clap::Args;

use super::ArchiveArgs;

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
