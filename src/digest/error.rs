//! Why a file could not be hashed.

use std::io;
use std::path::PathBuf;

/// Why a file could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    /// The file could not be opened.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Reading failed part-way.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Writing the copy failed.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The copy being written.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The path is not a regular file (a directory, FIFO, device or socket).
    #[error("{} is not a regular file", path.display())]
    NotRegular {
        /// The path.
        path: PathBuf,
    },
    /// An archive entry's data disagrees with its header, or does not decompress.
    #[error("{}: {reason}", path.display())]
    Damaged {
        /// The entry.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file changed while it was read.
    #[error("{} changed while it was read ({expected} bytes at open; {actual} read or now on disk; or its modification time moved)", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
        /// Size at open.
        expected: u64,
        /// Bytes read, or size at the end.
        actual: u64,
    },
}

/// An archive reader reports a CRC mismatch or undecodable data as `InvalidData`: that is
/// damage to the entry, not a failure to read.
pub(super) fn damaged(e: DigestError) -> DigestError {
    match e {
        DigestError::Read { path, source } if source.kind() == io::ErrorKind::InvalidData => {
            DigestError::Damaged {
                path,
                reason: source.to_string(),
            }
        }
        e => e,
    }
}
