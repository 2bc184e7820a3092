//! One named check of a verification and its outcome: the line `verify-seal` and
//! `custody verify` print (`ok` or `FAIL`), made the same way from the problems it found.

use serde::Serialize;

use crate::error::Problem;

/// One check and its outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// A short stable name, e.g. `signature:tagmanifest-sha256.txt`.
    pub check: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was checked, or why it failed.
    pub detail: String,
}

impl Check {
    /// The check `name` given what it `found`: passed when no problem is an error; its detail
    /// is the first error (and how many more), else `ok`, what a pass means.
    pub fn judge(name: impl Into<String>, found: &[Problem], ok: impl Into<String>) -> Check {
        let errors: Vec<&Problem> = found.iter().filter(|p| p.is_error()).collect();
        let detail = match errors.first() {
            Some(first) if errors.len() > 1 => {
                format!("{first} (and {} more)", errors.len() - 1)
            }
            Some(first) => first.to_string(),
            None => ok.into(),
        };
        Check {
            check: name.into(),
            passed: errors.is_empty(),
            detail,
        }
    }
}
