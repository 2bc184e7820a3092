//! The reports every command returns, and their renderings: text for people (stderr) and a
//! stable JSON document for tools (stdout, `--json`; schema in docs/json.md).

use serde::Serialize;

use crate::error::{Kind, Problem, Severity};

mod cap;

pub use cap::{DEFAULT_MAX_PROBLEMS, Problems, thousands};

/// The outcome of validating one bag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Complete, and every checksum in every manifest verified.
    Valid,
    /// Complete (`--completeness-only`: checksums not computed).
    Complete,
    /// The payload adds up to Payload-Oxum (`--fast`): says nothing about content.
    CompleteByOxum,
    /// Something required is absent.
    Incomplete,
    /// Something present is wrong.
    Invalid,
    /// Something could not be read, so the bag could not be judged.
    Unreadable,
}

impl Verdict {
    /// Whether the verdict is a pass.
    pub fn passed(self) -> bool {
        matches!(
            self,
            Verdict::Valid | Verdict::Complete | Verdict::CompleteByOxum
        )
    }

    /// The process exit code this verdict asks for: 0 pass, 1 failed a check, 2 could not run.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Valid | Verdict::Complete | Verdict::CompleteByOxum => 0,
            Verdict::Incomplete | Verdict::Invalid => 1,
            Verdict::Unreadable => 2,
        }
    }

    /// The words a person reads.
    pub fn describe(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Complete => "complete (checksums not verified)",
            Verdict::CompleteByOxum => "complete according to Payload-Oxum (contents not verified)",
            Verdict::Incomplete => "incomplete",
            Verdict::Invalid => "invalid",
            Verdict::Unreadable => "could not be checked",
        }
    }

    /// The verdict a list of problems leads to, when the checks passed in `pass`.
    pub fn from_problems(problems: &[Problem], pass: Verdict) -> Verdict {
        let has = |k: Kind| {
            problems
                .iter()
                .any(|p| p.severity == Severity::Error && p.kind == k)
        };
        if has(Kind::Invalid) || has(Kind::Refused) {
            Verdict::Invalid
        } else if has(Kind::Incomplete) {
            Verdict::Incomplete
        } else if has(Kind::Unreadable) {
            Verdict::Unreadable
        } else {
            pass
        }
    }
}

/// Counts of problems.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Problems that count against the material.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
}

impl Counts {
    /// Counts a problem list; a summary of omitted problems counts for each one it stands for.
    pub fn of(problems: &[Problem]) -> Counts {
        let mut counts = Counts::default();
        for p in problems {
            let weight = usize::try_from(p.weight()).unwrap_or(usize::MAX);
            if p.is_error() {
                counts.errors = counts.errors.saturating_add(weight);
            } else {
                counts.warnings = counts.warnings.saturating_add(weight);
            }
        }
        counts
    }

    /// The sum of two counts.
    pub fn plus(self, other: Counts) -> Counts {
        Counts {
            errors: self.errors + other.errors,
            warnings: self.warnings + other.warnings,
        }
    }
}

/// Applies `--strict` (warnings count as errors, except codes in `allow`) to a problem list.
/// A summary of omitted problems follows the code it stands for.
pub fn apply_strict(problems: &mut [Problem], allow: &[crate::error::Code]) {
    for p in problems.iter_mut() {
        if p.severity == Severity::Warning && !allow.contains(&p.counted_code()) {
            p.severity = Severity::Error;
            p.kind = Kind::Invalid;
        }
    }
}

/// Sorts problems for reading: errors first, then by file and line; a file's summaries of
/// omitted problems come after its listed ones.
pub fn sort_problems(problems: &mut [Problem]) {
    problems.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.location.file.cmp(&b.location.file))
            .then_with(|| a.omitted.is_some().cmp(&b.omitted.is_some()))
            .then_with(|| a.location.line.cmp(&b.location.line))
            .then_with(|| a.code.cmp(&b.code))
    });
}

/// A byte count for people: `2.4 GB` (decimal units, as Bag-Size conventionally uses).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["bytes", "KB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} bytes");
    }
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// A limit as the user would write it: `16 MiB`, `1 GiB`, `1500 bytes` (exact, powers of 1024).
pub fn limit_bytes(n: u64) -> String {
    for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if n >= 1 << shift && n.is_multiple_of(1 << shift) {
            return format!("{} {unit}", n >> shift);
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Code, Problem};

    #[test]
    fn verdict_precedence() {
        let inc = Problem::new(Code::FileMissing, "x");
        let inv = Problem::new(Code::ChecksumMismatch, "x");
        let unr = Problem::new(Code::FileUnreadable, "x");
        let warn = Problem::new(Code::OsJunkFile, "x");
        assert_eq!(
            Verdict::from_problems(std::slice::from_ref(&warn), Verdict::Valid),
            Verdict::Valid
        );
        assert_eq!(
            Verdict::from_problems(&[inc.clone(), unr.clone()], Verdict::Valid),
            Verdict::Incomplete
        );
        assert_eq!(
            Verdict::from_problems(&[inc, inv], Verdict::Valid),
            Verdict::Invalid
        );
        assert_eq!(
            Verdict::from_problems(&[unr], Verdict::Valid),
            Verdict::Unreadable
        );
        let mut strict = vec![warn];
        apply_strict(&mut strict, &[]);
        assert_eq!(
            Verdict::from_problems(&strict, Verdict::Valid),
            Verdict::Invalid
        );
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(999), "999 bytes");
        assert_eq!(human_bytes(2_437_726_279), "2.4 GB");
        assert_eq!(human_bytes(1_500), "1.5 KB");
    }
}
