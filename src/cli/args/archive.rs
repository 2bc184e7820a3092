//! Serialized bags: how one is written (`bag`, `package`, `serialize`), the limits against
//! hostile ones (`validate`, `unpack`, `audit`), and the `serialize` and `unpack` verbs.

use std::path::PathBuf;

use clap::Args;

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
