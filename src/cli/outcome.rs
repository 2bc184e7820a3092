//! What a command did, and the one way it is shown. `bag` (and its `--rollback` and
//! `--update`), `package`, `serialize`, `unpack`, `check`, `validate`, `fetch`, `audit`,
//! `timestamp`, `verify-seal` and `custody append|show|verify` each end with an [`Outcome`]
//! and call [`Outcome::render`]:
//!
//! - with `--json`, one document on stdout: `qoima_version`, `command`, `outcome` (the word for
//!   what was done, else `refused` or `error`), what was made (the verb's own fields), `error`,
//!   `problems` and `exit_code` (docs/json.md);
//! - on stderr, when the work was done: the problems (unless `--quiet`, or the summary shows
//!   them itself), then the verb's own summary lines; when it was not: the problems, and a
//!   `qoima: …` line saying why.
//!
//! `seal` and `custody export` do not use it: `seal` can be half done (sealed, then the
//! encryption failed: its summary and the error), and `custody export` writes no JSON.

use serde::Serialize;

use qoima::bagit::BagError;
use qoima::error::{Kind, Problem};

use super::Exit;
use super::args::Global;
use super::output;

/// Whether `--json` writes `"problems": []` when there are none (each verb's schema says).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmptyProblems {
    /// Always written.
    Listed,
    /// Left out.
    Omitted,
}

/// What a command did: its exit status, what it made (`body`, the verb's own JSON fields),
/// the problems found, and, for work that did not happen, why.
pub struct Outcome<B> {
    command: &'static str,
    word: Option<&'static str>,
    body: B,
    error: Option<String>,
    problems: Vec<Problem>,
    empty_problems: EmptyProblems,
    summary_shows_problems: bool,
    failure_shows_warnings: bool,
    subject: Option<String>,
    exit: Exit,
}

/// The `--json` document.
#[derive(Serialize)]
struct Document<'a, B: Serialize> {
    qoima_version: &'static str,
    command: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'static str>,
    #[serde(flatten)]
    body: &'a B,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problems: Option<&'a [Problem]>,
    exit_code: u8,
}

impl<B: Serialize> Outcome<B> {
    /// Work that was done; `exit` is 1 when what was made has errors.
    pub fn done(command: &'static str, body: B, problems: Vec<Problem>, exit: Exit) -> Self {
        Outcome {
            command,
            word: None,
            body,
            error: None,
            problems,
            empty_problems: EmptyProblems::Listed,
            summary_shows_problems: false,
            failure_shows_warnings: true,
            subject: None,
            exit,
        }
    }

    /// Work that did not happen: its exit status, the `qoima: …` message and the problems
    /// that say why.
    pub fn not_done(
        command: &'static str,
        body: B,
        exit: Exit,
        message: String,
        problems: Vec<Problem>,
    ) -> Self {
        Outcome {
            error: Some(message),
            ..Outcome::done(command, body, problems, exit)
        }
    }

    /// A write the library refused or could not make ([`failure`]).
    pub fn failed(command: &'static str, body: B, error: &BagError) -> Self {
        let (exit, message, problems) = failure(error);
        Outcome::not_done(command, body, exit, message, problems)
    }

    /// Names the outcome in `--json`: `done` when the work was done, else `refused` (exit 1)
    /// or `error`.
    pub fn worded(mut self, done: &'static str) -> Self {
        self.word = Some(match (&self.error, self.exit) {
            (None, _) => done,
            (Some(_), Exit::Invalid) => "refused",
            (Some(_), _) => "error",
        });
        self
    }

    /// Names the outcome in `--json` as given, whatever happened (a verification's
    /// `verified` or `not-verified`).
    pub fn word(mut self, word: &'static str) -> Self {
        self.word = Some(word);
        self
    }

    /// Leaves the problems of work that was done to the summary, which prints them where
    /// and when it shows them (`--quiet` included); see [`Outcome::problems`].
    pub fn summary_shows_problems(mut self) -> Self {
        self.summary_shows_problems = true;
        self
    }

    /// Shows only the errors of work that did not happen (the warnings are counted).
    pub fn failure_hides_warnings(mut self) -> Self {
        self.failure_shows_warnings = false;
        self
    }

    /// Names what the `qoima: …` line of work not done is about (`qoima: SUBJECT: why`); the
    /// `--json` `error` stays the reason alone.
    pub fn subject(mut self, subject: String) -> Self {
        self.subject = Some(subject);
        self
    }

    /// The problems found.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Sets whether `--json` writes an empty problem list.
    pub fn empty_problems(mut self, how: EmptyProblems) -> Self {
        self.empty_problems = how;
        self
    }

    /// The exit status.
    pub fn exit(&self) -> Exit {
        self.exit
    }

    /// Prints the outcome (module comment); `summary` prints the verb's own lines when the
    /// work was done, and decides itself what `--quiet` leaves out.
    pub fn render(&self, global: &Global, summary: impl FnOnce(&B)) -> anyhow::Result<Exit> {
        if global.json {
            output::json(&self.document())?;
        }
        match &self.error {
            None => {
                if !global.quiet && !self.summary_shows_problems {
                    output::problems(&self.problems, true, "");
                }
                summary(&self.body);
            }
            Some(message) => {
                output::problems(&self.problems, self.failure_shows_warnings, "");
                match &self.subject {
                    Some(subject) => output::stderrln!("qoima: {subject}: {message}"),
                    None => output::stderrln!("qoima: {message}"),
                }
            }
        }
        Ok(self.exit)
    }

    fn document(&self) -> Document<'_, B> {
        let listed = !self.problems.is_empty() || self.empty_problems == EmptyProblems::Listed;
        Document {
            qoima_version: qoima::VERSION,
            command: self.command,
            outcome: self.word,
            body: &self.body,
            error: self.error.as_deref(),
            problems: listed.then_some(self.problems.as_slice()),
            exit_code: self.exit as u8,
        }
    }
}

/// The exit status, the error line and the problems of a write that did not happen.
pub fn failure(error: &BagError) -> (Exit, String, Vec<Problem>) {
    match error {
        BagError::Coded(problem) => (
            match problem.kind {
                Kind::Unreadable => Exit::Error,
                _ => Exit::Invalid,
            },
            format!("refused ({}); nothing was written", problem.code),
            vec![(**problem).clone()],
        ),
        BagError::Refused(problems) => (Exit::Invalid, error.to_string(), problems.clone()),
        _ => (Exit::Error, error.to_string(), Vec::new()),
    }
}
