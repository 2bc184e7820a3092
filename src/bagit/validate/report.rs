//! The report of one validation: what was found, the verdict, and — for a bag read from an
//! archive — the verdict on the content apart from the archive's layout.

use serde::Serialize;

use super::options::{Mode, ValidateOptions};
use crate::bagit::fetch;
use crate::digest::Algorithm;
use crate::error::{Code, Problem};
use crate::verdict::{self, Counts, Verdict};
/// What validation found about one bag.
#[derive(Clone, Debug, Serialize)]
pub struct BagReport {
    /// The bag, as given.
    pub bag: String,
    /// The outcome.
    pub verdict: Verdict,
    /// How deep it was checked.
    pub mode: Mode,
    /// BagIt version declared.
    pub version: Option<String>,
    /// Algorithms whose manifests were checked.
    pub algorithms: Vec<Algorithm>,
    /// Payload files found.
    pub payload_files: u64,
    /// Payload bytes found.
    pub payload_bytes: u64,
    /// Files whose checksums were computed.
    pub files_hashed: u64,
    /// Bytes hashed.
    pub bytes_hashed: u64,
    /// Error and warning counts.
    pub counts: Counts,
    /// Every problem, errors first.
    pub problems: Vec<Problem>,
    /// The archive format, when the bag was read from a zip, tar or tar.gz.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serialization: Option<crate::store::Format>,
    /// For a bag read from an archive: whether the archive's layout conforms to RFC 8493
    /// §4.4 (one folder holding the bag). Set by [`BagReport::judge_serialization`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serialization_conforms: Option<bool>,
    /// For a bag read from an archive: the verdict on the bag's content alone, leaving out
    /// how the archive is laid out, so that a non-conforming archive of an intact bag says
    /// both things apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_verdict: Option<Verdict>,
    /// The BagIt Profile the bag was checked against (its name and version), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The files fetch.txt still owes, with their URL, size and checksums (`qoima fetch`
    /// gets them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owed: Vec<fetch::Owed>,
}

impl BagReport {
    /// A report on `bag` with nothing found yet (verdict: unreadable).
    pub(super) fn empty(bag: String, mode: Mode) -> BagReport {
        BagReport {
            bag,
            verdict: Verdict::Unreadable,
            mode,
            version: None,
            algorithms: Vec::new(),
            payload_files: 0,
            payload_bytes: 0,
            files_hashed: 0,
            bytes_hashed: 0,
            counts: Counts::default(),
            problems: Vec::new(),
            serialization: None,
            serialization_conforms: None,
            content_verdict: None,
            profile: None,
            owed: Vec::new(),
        }
    }

    /// Records that the bag was read from an archive in `format` (if any), and splits the
    /// verdict in two: does the archive's layout conform (`ARC-005`, `ARC-023`), and what is
    /// the content's own verdict without the layout's problems. Call it after the last
    /// [`BagReport::absorb`].
    pub fn judge_serialization(&mut self, format: Option<crate::store::Format>) {
        self.serialization = format;
        if format.is_none() {
            return;
        }
        let layout = |c: Code| {
            matches!(
                c,
                Code::ArchiveSeveralTops | Code::ArchiveBagAtRoot | Code::ArchiveNameMismatch
            )
        };
        let conforms = !self
            .problems
            .iter()
            .any(|p| p.is_error() && layout(p.code) && p.code != Code::ArchiveNameMismatch);
        let content: Vec<Problem> = self
            .problems
            .iter()
            .filter(|p| !layout(p.code))
            .cloned()
            .collect();
        let pass = match self.mode {
            Mode::Full => Verdict::Valid,
            Mode::Completeness => Verdict::Complete,
            Mode::Fast => Verdict::CompleteByOxum,
        };
        let pass = if self.verdict.passed() {
            self.verdict
        } else {
            pass
        };
        self.serialization_conforms = Some(conforms);
        self.content_verdict = Some(Verdict::from_problems(&content, pass));
    }

    /// Adds problems found by a check outside BagIt (a packaged bag's METS), then sorts the
    /// problems and recomputes the verdict and counts as validation itself does.
    pub fn absorb(&mut self, mut extra: Vec<Problem>, opts: &ValidateOptions) {
        if extra.is_empty() {
            return;
        }
        if opts.strict {
            verdict::apply_strict(&mut extra, &opts.allow);
        }
        self.problems.extend(extra);
        verdict::sort_problems(&mut self.problems);
        self.verdict = Verdict::from_problems(&self.problems, self.verdict);
        self.counts = Counts::of(&self.problems);
    }
}
