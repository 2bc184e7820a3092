//! `qoima validate`.

use std::path::PathBuf;

use clap::Args;

use super::LimitArgs;

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
