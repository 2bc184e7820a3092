//! `qoima check` and `qoima package`: a collection checked, then packaged.

use std::path::PathBuf;

use clap::Args;

use super::{AlgorithmArgs, ArchiveArgs, InfoArgs};

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
