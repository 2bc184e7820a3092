//! Writing reports: JSON on stdout, text on stderr; a closed pipe is a quiet success.

use std::io::{self, Write};

use serde::Serialize;

use qoima::error::{Problem, Severity};
use qoima::paths::printable;

/// Whether an error chain ends in a broken pipe (e.g. `qoima validate … --json | head`).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(io::ErrorKind::BrokenPipe))
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
        .filter(|p| warnings || p.severity == Severity::Error)
        .collect();
    for p in &shown {
        let _ = writeln!(err, "{indent}{p}");
        if hinted.insert(p.code) {
            let _ = writeln!(err, "{indent}  hint: {}", p.hint);
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
pub fn path(p: &std::path::Path) -> String {
    printable(&p.to_string_lossy()).into_owned()
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
