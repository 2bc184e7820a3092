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
mod units;
mod unpack;
mod validate;

use std::io::IsTerminal;

use super::Exit;
use super::args::{Cli, Command, Global};

pub fn run(cli: &Cli) -> anyhow::Result<Exit> {
    match &cli.command {
        Command::Bag(args) => bag::run(args, &cli.global),
        Command::Validate(args) => validate::run(args, &cli.global),
        Command::Check(args) => check::run(args, &cli.global),
        Command::Package(args) => package::run(args, &cli.global),
        Command::Serialize(args) => serialize::run(args, &cli.global),
        Command::Unpack(args) => unpack::run(args, &cli.global),
        Command::Audit(args) => audit::run(args, &cli.global),
        Command::Keygen(args) => seal::keygen(args, &cli.global),
        Command::Seal(args) => seal::seal(args, &cli.global),
        Command::VerifySeal(args) => seal::verify(args, &cli.global),
        Command::Custody(args) => custody::run(args, &cli.global),
        Command::Timestamp(args) => timestamp::run(args, &cli.global),
        Command::Fetch(args) => fetch::run(args, &cli.global),
    }
}

/// Whether to draw progress bars.
fn show_progress(global: &Global) -> bool {
    !global.quiet && std::io::stderr().is_terminal()
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

fn engine(global: &Global) -> anyhow::Result<qoima::digest::Engine> {
    Ok(qoima::digest::Engine::new(jobs(global))?)
}

/// The most threads `--jobs` may ask for: 4 per core, and never more than 256. Hashing is
/// bound by the disk and the cores long before that; thousands of threads only exhaust
/// memory and the process's thread limit (`-j 20000` used to hang).
fn max_jobs() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.saturating_mul(4).clamp(4, 256)
}

/// `--jobs`, clamped to [`max_jobs`] with a warning.
fn jobs(global: &Global) -> usize {
    let max = max_jobs();
    if global.jobs > max {
        crate::cli::output::stderrln!(
            "qoima: warning: --jobs {} is more than this machine can use; using {max} (4 per core, at most 256)",
            global.jobs
        );
        return max;
    }
    global.jobs
}
