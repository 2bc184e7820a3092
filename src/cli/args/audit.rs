//! `qoima audit` and its reading subcommands.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::LimitArgs;

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
