//! One file per verb: turn arguments into library options, call the library, render.

mod audit;
mod bag;
mod bag_options;
mod bag_update;
mod check;
mod custody;
mod fetch;
mod outputs;
mod package;
mod seal;
mod serialize;
mod timestamp;
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
        Command::Timestamp(a) => timestamp::run(a, &cli.global),
        Command::Fetch(a) => fetch::run(a, &cli.global),
    }
}

/// Whether to draw progress bars.
fn show_progress(g: &Global) -> bool {
    !g.quiet && std::io::stderr().is_terminal()
}

/// The TSA roots file given with --tsa-roots, read.
fn tsa_roots(path: Option<&std::path::Path>) -> anyhow::Result<Option<Vec<u8>>> {
    use anyhow::Context;
    path.map(|p| {
        let roots = qoima::seal::timestamp::read_limited(p)
            .with_context(|| format!("cannot read the TSA roots {}", p.display()))?;
        qoima::seal::timestamp::check_roots(&roots)
            .map_err(|e| anyhow::anyhow!("--tsa-roots {}: {e}", p.display()))?;
        Ok(roots)
    })
    .transpose()
}

/// What a command that changes a bag or a log does when another run holds it.
#[derive(Clone, Copy)]
enum Contention {
    /// Refuse at once (exit 2, with the busy message): the other run's result would make
    /// this one pointless or wrong (bagging, rolling back, sealing).
    Refuse,
    /// Wait for the other run to finish, then go on: both runs' work is wanted (custody
    /// entries, time-stamps).
    Wait,
}

/// The exclusive lock on `dir` (a `flock(2)` on the folder itself: nothing is created in it,
/// and the kernel releases it when the process dies), held for the rest of the command.
/// docs/cli.md ("One run at a time") lists which command refuses and which waits.
fn lock(dir: &std::path::Path, how: Contention) -> anyhow::Result<qoima::fsutil::DirLock> {
    use qoima::fsutil::DirLock;
    let lock = match how {
        Contention::Refuse => DirLock::try_acquire(dir),
        Contention::Wait => DirLock::acquire_waiting(dir),
    };
    Ok(lock?)
}

fn engine(g: &Global) -> anyhow::Result<qoima::digest::Engine> {
    Ok(qoima::digest::Engine::new(jobs(g))?)
}

/// The most threads `--jobs` may ask for: 4 per core, and never more than 256. Hashing is
/// bound by the disk and the cores long before that; thousands of threads only exhaust
/// memory and the process's thread limit (`-j 20000` used to hang).
fn max_jobs() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.saturating_mul(4).clamp(4, 256)
}

/// `--jobs`, clamped to [`max_jobs`] with a warning.
fn jobs(g: &Global) -> usize {
    let max = max_jobs();
    if g.jobs > max {
        crate::cli::output::stderrln!(
            "qoima: warning: --jobs {} is more than this machine can use; using {max} (4 per core, at most 256)",
            g.jobs
        );
        return max;
    }
    g.jobs
}
