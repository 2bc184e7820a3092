//! What a validation is asked to do, and the small types every step shares.

use serde::Serialize;

use crate::digest::FileDigests;
use crate::error::Code;
use crate::verdict::Verdict;

/// How deep to validate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Everything, checksums included.
    #[default]
    Full,
    /// Everything but checksums.
    Completeness,
    /// Payload-Oxum only.
    Fast,
}

/// Options of a validation.
#[derive(Clone, Debug, Default)]
pub struct ValidateOptions {
    /// How deep.
    pub mode: Mode,
    /// Warnings count as errors.
    pub strict: bool,
    /// Warnings that stay warnings under `strict`.
    pub allow: Vec<Code>,
    /// Problems listed per code and file; the rest are counted in one `BAG-W050` summary
    /// (0: list every one). The verdict and counts do not depend on it.
    pub max_problems: usize,
}

/// Sees each file's digests as validation computes them (bag-relative path as on disk).
pub type Observer<'a> = dyn Fn(&str, &FileDigests) + Sync + 'a;

/// The verdict a validation reaches when it stops early: the bag could be judged no further.
pub(super) type Stopped = Verdict;
