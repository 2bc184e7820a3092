//! `qoima fetch`.

use std::path::PathBuf;

use clap::Args;

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
