//! Why a bag could not be made, and the refusal shared by every verb that writes beside its
//! input: an output that overlaps the input.

use std::io;
use std::path::{Path, PathBuf};

use crate::error::{Code, Problem};
use crate::fsutil;

/// Why a bag could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BagError {
    /// The source holds things that cannot be bagged faithfully; nothing was written.
    #[error("the source cannot be bagged as it is ({} problem(s)); nothing was written", .0.len())]
    Refused(Vec<Problem>),
    /// The destination exists.
    #[error("{} already exists; choose another destination or remove it", .0.display())]
    Exists(PathBuf),
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The request makes no sense (e.g. a tag file qoima writes itself).
    #[error("{0}")]
    Usage(String),
    /// A refusal with its problem code: the output overlaps the input (`BAG-083`), the
    /// source changed while it was archived (`BAG-084`). Nothing was kept.
    #[error("{}", .0.message)]
    Coded(Box<Problem>),
}

/// Refuses (`BAG-083`, before anything is created or deleted) when `output` is `input`,
/// contains it or lies inside it, links and `..` resolved in both. `what` names the output
/// for the message (`the bag`, `the archive`, `--checksum-file`).
pub fn refuse_overlap(input: &Path, output: &Path, what: &str) -> Result<(), BagError> {
    let Some(overlap) = fsutil::overlap(input, output).map_err(BagError::io(input))? else {
        return Ok(());
    };
    let problem = Problem::new(
        Code::OutputOverlapsInput,
        format!(
            "{what}: {}; nothing was written",
            overlap.describe(output, input)
        ),
    )
    .file(output.display().to_string());
    Err(BagError::Coded(Box::new(problem)))
}

impl BagError {
    /// The problems behind a refusal (empty for other errors).
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            BagError::Refused(p) => p.clone(),
            BagError::Coded(p) => vec![(**p).clone()],
            _ => Vec::new(),
        }
    }

    /// Whether this is a refusal (exit 1) rather than a failure to run (exit 2).
    pub fn is_refusal(&self) -> bool {
        matches!(self, BagError::Refused(_) | BagError::Coded(_))
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> BagError {
        let path = path.into();
        move |source| BagError::Io { path, source }
    }
}
