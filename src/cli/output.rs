//! Writing reports: JSON on stdout, text on stderr; a closed pipe is a quiet success.

use std::io::{self, Write};

use serde::Serialize;

use qoima::error::{Problem, Severity};
use qoima::paths::printable;

/// Whether an error chain ends in a broken pipe (e.g. `qoima validate … --json | head`).
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .is_some_and(|json| json.io_error_kind() == Some(io::ErrorKind::BrokenPipe))
    })
}

/// Prints a JSON document on stdout.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Prints problems on stderr, each code's hint once. Warnings only when `warnings` is set.
pub fn problems(list: &[Problem], warnings: bool, indent: &str) {
    let mut err = io::stderr().lock();
    let mut hinted = std::collections::HashSet::new();
    let shown: Vec<&Problem> = list
        .iter()
        .filter(|problem| warnings || problem.severity == Severity::Error)
        .collect();
    for problem in &shown {
        let _ = writeln!(err, "{indent}{problem}");
        if hinted.insert(problem.code) {
            let _ = writeln!(err, "{indent}  hint: {}", problem.hint);
        }
    }
    let hidden = list.len() - shown.len();
    if hidden > 0 {
        let _ = writeln!(
            err,
            "{indent}({hidden} warning(s) not shown; -v shows them, --json lists everything)"
        );
    }
}

/// A path for the terminal.
pub fn path(path: &std::path::Path) -> String {
    printable(&path.to_string_lossy()).into_owned()
}

/// `eprintln!` that never panics, for every line qoima writes to stderr (errors, warnings,
/// summaries): on the full or failing disk that caused an error, or with stderr closed, the
/// write itself may fail, and `eprintln!` would then panic (exit 101) where the run must end
/// with its own exit code.
macro_rules! stderrln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use stderrln;
