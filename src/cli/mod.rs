//! The binary's side: arguments, progress, exit codes, rendering. No business rules here.

mod args;
mod cmd;
mod outcome;
mod output;
mod passphrase;
mod progress;

use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;

/// Exit statuses. Over many bags the most telling wins: a bag that failed a check (1) beats
/// one that could not be checked (2), as within one bag invalid beats unreadable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything passed.
    Ok = 0,
    /// The material is invalid or failed a check.
    Invalid = 1,
    /// Usage or I/O error: could not run.
    Error = 2,
}

impl Exit {
    pub fn from_code(code: u8) -> Exit {
        match code {
            0 => Exit::Ok,
            1 => Exit::Invalid,
            _ => Exit::Error,
        }
    }

    pub fn merge(self, other: Exit) -> Exit {
        let rank = |exit: Exit| match exit {
            Exit::Ok => 0,
            Exit::Error => 1,
            Exit::Invalid => 2,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(parsed) => parsed,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    let exit = match cmd::run(&cli) {
        Ok(exit) => exit,
        Err(error) => {
            if output::is_broken_pipe(&error) {
                Exit::Ok
            } else {
                // Never `eprintln!`: it panics (exit 101) when stderr itself fails, as it
                // does on the full disk that caused the error; the exit code must still say 2.
                output::stderrln!("qoima: error: {error:#}");
                Exit::Error
            }
        }
    };
    ExitCode::from(exit as u8)
}
