//! One file per verb: turn arguments into library options, call the library, render.

mod audit;
mod bag;
mod check;
mod custody;
mod package;
mod seal;
mod serialize;
mod unpack;
mod validate;

use std::io::IsTerminal;

use super::Exit;
use super::args::{Cli, Command, Global};

pub fn run(cli: &Cli) -> anyhow::Result<Exit> {
    match &cli.command {
        Command::Bag(a) => bag::run(a, &cli.global),
        Command::Validate(a) => validate::run(a, &cli.global),
        Command::Check(a) => check::run(a, &cli.global),
        Command::Package(a) => package::run(a, &cli.global),
        Command::Serialize(a) => serialize::run(a, &cli.global),
        Command::Unpack(a) => unpack::run(a, &cli.global),
        Command::Audit(a) => audit::run(a, &cli.global),
        Command::Keygen(a) => seal::keygen(a, &cli.global),
        Command::Seal(a) => seal::seal(a, &cli.global),
        Command::VerifySeal(a) => seal::verify(a, &cli.global),
        Command::Custody(a) => custody::run(a, &cli.global),
    }
}

/// Whether to draw progress bars.
fn show_progress(g: &Global) -> bool {
    !g.quiet && std::io::stderr().is_terminal()
}

fn engine(g: &Global) -> anyhow::Result<qoima::digest::Engine> {
    Ok(qoima::digest::Engine::new(g.jobs)?)
}
