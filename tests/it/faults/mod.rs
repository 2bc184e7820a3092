//! Fault injection at every durable step (issue 13, point 13).
//!
//! For each command, on a tiny input: run it once under strace to enumerate every call that
//! changes the disk (`strace.rs`), then, for each of those calls in turn, run it again on a
//! fresh copy of the input with a fault injected there: SIGKILL (a crash), ENOSPC (a full
//! disk) or EIO (a failing disk). After each run the harness checks that the inputs are
//! byte-identical, that the output is absent, the old version or complete and valid, and
//! then that a rerun (or `--rollback`) ends in the complete state with nothing left behind.
//! A disk error must also end in exit 2 with the OS error named, and leave nothing behind.
//!
//! One test per command and fault, `faults_<command>_<fault>`, so that
//! `cargo test --test it faults_seal_` runs one command's cases alone. docs/validation.md
//! ("Fault injection") gives the method and the number of points per command.

mod cases;
mod strace;
mod tree;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::Env;
use strace::{Fault, Plan, Point};

/// A result of a check: `Err` says what broke.
pub type Checked<T> = Result<T, String>;

/// The state a fault left the output in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Complete and valid: nothing to redo.
    Complete,
    /// Absent, the old version, or marked as interrupted: a rerun (or rollback) must finish.
    Unfinished,
}

/// Judges what a fault left in the work folder.
pub type Judge = Box<dyn Fn(&Ctx) -> Checked<State>>;

/// Reruns (or rolls back) and checks the final state.
pub type Finish = Box<dyn Fn(&Ctx) -> Checked<()>>;

/// One command under test: a prepared input in `template`, the command, the inputs it must
/// never change, and how to judge and finish what a fault left.
pub struct Scenario {
    pub name: &'static str,
    pub env: Env,
    pub args: Vec<String>,
    pub vars: Vec<(String, String)>,
    /// Paths (relative to the work folder) that no run may change.
    pub sources: Vec<&'static str>,
    /// After a fault: is the output absent/old/interrupted, complete and valid, or broken?
    pub judge: Judge,
    /// From an unfinished state: rerun (or roll back) and check the final state.
    pub finish: Finish,
    /// Disk errors the command cannot see (SQLite hides some: see [`Hidden`]); `None` for
    /// every command that does its own writing.
    pub hidden: Option<Hidden>,
}

/// Disk errors that SQLite does not pass on to the command using it, so the command cannot
/// report them with the OS error (docs/validation.md, "Fault injection"):
/// - SQLite ignores the result of the fsync of a database's folder (`unixSync` in
///   os_unix.c): at these points (`unseen`) exit 0 is accepted;
/// - when the write that makes a new database a WAL database fails, SQLite goes on in its
///   default journal mode without an error: the command finds that out afterwards and exits
///   2 with a message containing `phrase` instead of the OS error.
///
/// Everything else still holds at these points: the state is judged and finished as usual.
pub struct Hidden {
    pub unseen: fn(&str) -> bool,
    pub phrase: &'static str,
}

/// Where a scenario runs: the work folder (a fresh copy of the template per point).
pub struct Ctx {
    pub work: PathBuf,
    pub vars: Vec<(String, String)>,
}

impl Ctx {
    /// `qoima ARGS` in the work folder, with the scenario's environment, without strace.
    pub fn qoima(&self, args: &[&str]) -> Output {
        qoima_in(&self.work, args, &self.vars)
    }

    /// `qoima ARGS`, which must exit 0.
    pub fn qoima_ok(&self, args: &[&str]) -> Checked<Output> {
        let out = self.qoima(args);
        if out.status.code() == Some(0) {
            Ok(out)
        } else {
            Err(format!(
                "`qoima {}` exited {:?}: {}",
                args.join(" "),
                out.status.code(),
                last_line(&out.stderr)
            ))
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.work.join(rel)
    }

    /// Nothing of qoima's unfinished work anywhere in the work folder.
    pub fn no_leftovers(&self) -> Checked<()> {
        let left = tree::leftovers(&self.work);
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!("left behind: {}", left.join(", ")))
        }
    }
}

/// `qoima ARGS` in `dir` with a fixed clock.
pub fn qoima_in(dir: &Path, args: &[&str], vars: &[(String, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qoima"));
    command
        .args(args)
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1641340800")
        .env("TZ", "UTC")
        .env_remove("QOIMA_FAILPOINT")
        .env_remove("QOIMA_PASSPHRASE");
    for (key, value) in vars {
        command.env(key, value);
    }
    command.output().unwrap()
}

/// The last non-empty line of a stream, for short failure messages.
pub fn last_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string()
}

/// Runs every point of `fault` for `scenario`; panics listing every point that broke.
fn exercise(scenario: Option<Scenario>, fault: Fault) {
    if !strace::available() {
        eprintln!("skipped: strace is needed (scripts/test.sh installs it)");
        return;
    }
    let Some(scenario) = scenario else {
        return;
    };
    let plan = enumerate(&scenario, fault);
    let mut failures = Vec::new();
    for point in &plan.points {
        if let Err(why) = strike(&scenario, fault, point) {
            failures.push(format!(
                "{} {} at {}#{} [{}]: {why}",
                scenario.name,
                fault.name(),
                point.syscall,
                point.n,
                point.expected
            ));
        }
    }
    eprintln!(
        "faults {} {}: {} points ({} durable calls, {} shadowed, {} left out by the stride), {} failed",
        scenario.name,
        fault.name(),
        plan.points.len(),
        plan.durable,
        plan.shadowed,
        plan.sampled_out,
        failures.len()
    );
    assert!(
        !plan.points.is_empty(),
        "{}: nothing to inject into",
        scenario.name
    );
    assert!(
        failures.is_empty(),
        "{} of {} injection points broke an invariant:\n{}",
        failures.len(),
        plan.points.len(),
        failures.join("\n")
    );
}

/// One clean run under strace, which must succeed and end complete; its calls make the plan.
fn enumerate(scenario: &Scenario, fault: Fault) -> Plan {
    let ctx = fresh(scenario);
    let log = scenario.env.path("enumerate.log");
    let out = strace::run(&ctx.work, &log, &scenario.args, None, &scenario.vars);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: the clean run failed: {}",
        scenario.name,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        (scenario.judge)(&ctx),
        Ok(State::Complete),
        "{}",
        scenario.name
    );
    let calls = strace::parse(&std::fs::read_to_string(&log).unwrap());
    strace::plan(&calls, fault, &ctx.work)
}

/// A fresh copy of the template as the work folder.
fn fresh(scenario: &Scenario) -> Ctx {
    let work = scenario.env.path("work");
    tree::copy_fresh(&scenario.env.path("template"), &work);
    Ctx {
        work,
        vars: scenario.vars.clone(),
    }
}

/// Injects `fault` at `point`, then checks every invariant.
fn strike(scenario: &Scenario, fault: Fault, point: &Point) -> Checked<()> {
    let ctx = fresh(scenario);
    let before: Vec<_> = scenario
        .sources
        .iter()
        .map(|s| tree::snapshot(&ctx.path(s)))
        .collect();
    let log = scenario.env.path("inject.log");
    let out = strace::run(
        &ctx.work,
        &log,
        &scenario.args,
        Some((fault, point)),
        &scenario.vars,
    );
    struck_as_planned(&ctx, &log, fault, point)?;
    exit_as_required(&ctx, scenario, (fault, point), &log, &out)?;
    for (source, was) in scenario.sources.iter().zip(&before) {
        let now = tree::snapshot(&ctx.path(source));
        if &now != was {
            return Err(format!(
                "input {source} changed:\n{}",
                tree::diff(was, &now)
            ));
        }
    }
    // Complete, but with a temporary a kill left (a replaced old version being removed when
    // the kill came: no removal of a folder tree is one step): the next run must clear it.
    if (scenario.judge)(&ctx)? == State::Unfinished
        || (fault == Fault::Kill && !tree::leftovers(&ctx.work).is_empty())
    {
        (scenario.finish)(&ctx)?;
    }
    ctx.no_leftovers()
}

/// The struck call is the one the plan named: strace's counting is what the plan assumed.
fn struck_as_planned(ctx: &Ctx, log: &Path, fault: Fault, point: &Point) -> Checked<()> {
    match strace::struck(log, fault, &point.syscall) {
        Some(call) if call.signature(&ctx.work) == point.expected => Ok(()),
        Some(call) => Err(format!(
            "the plan is wrong: struck {} instead",
            call.signature(&ctx.work)
        )),
        None => Err("the plan is wrong: no call was struck".into()),
    }
}

/// A kill ends by SIGKILL; a disk error ends in exit 2 naming the error, leaving nothing.
fn exit_as_required(
    ctx: &Ctx,
    scenario: &Scenario,
    (fault, point): (Fault, &Point),
    log: &Path,
    out: &Output,
) -> Checked<()> {
    let hidden = scenario.hidden.as_ref();
    if fault != Fault::Kill
        && out.status.code() == Some(0)
        && hidden.is_some_and(|h| (h.unseen)(&point.expected))
    {
        return Ok(());
    }
    if fault == Fault::Kill {
        return match out.status.code() {
            None => Ok(()),
            Some(code) => Err(format!("not killed: exited {code}")),
        };
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("failed printing to stderr") {
        return Err(format!(
            "a failed print to stderr panicked (exit {:?}): use output::errorln!",
            out.status.code()
        ));
    }
    if strace::stderr_struck(log) && out.status.code() == Some(2) {
        // strace also failed the print of the error (see strace.rs): only the disk is judged.
        return ctx
            .no_leftovers()
            .map_err(|e| format!("after the error exit: {e}"));
    }
    if out.status.code() != Some(2) {
        let panic: Vec<&str> = stderr
            .lines()
            .skip_while(|l| !l.contains("panicked at"))
            .take(2)
            .collect();
        return Err(format!(
            "exit {:?} instead of 2 ({})",
            out.status.code(),
            if panic.is_empty() {
                last_line(&out.stderr)
            } else {
                panic.join(" ")
            }
        ));
    }
    let named = fault.os_error().iter().any(|words| stderr.contains(words))
        || hidden.is_some_and(|h| stderr.contains(h.phrase));
    if !named {
        return Err(format!("the message does not name the error: {stderr}"));
    }
    ctx.no_leftovers()
        .map_err(|e| format!("after the error exit: {e}"))
}

macro_rules! fault_tests {
    ($($scenario:ident => $kill:ident, $enospc:ident, $eio:ident;)*) => {$(
        #[test]
        fn $kill() {
            exercise(cases::$scenario(), Fault::Kill);
        }
        #[test]
        fn $enospc() {
            exercise(cases::$scenario(), Fault::Enospc);
        }
        #[test]
        fn $eio() {
            exercise(cases::$scenario(), Fault::Eio);
        }
    )*};
}

fault_tests! {
    bag_out => faults_bag_out_kill, faults_bag_out_enospc, faults_bag_out_eio;
    bag_in_place => faults_bag_in_place_kill, faults_bag_in_place_enospc, faults_bag_in_place_eio;
    package => faults_package_kill, faults_package_enospc, faults_package_eio;
    package_force => faults_package_force_kill, faults_package_force_enospc, faults_package_force_eio;
    serialize => faults_serialize_kill, faults_serialize_enospc, faults_serialize_eio;
    seal => faults_seal_kill, faults_seal_enospc, faults_seal_eio;
    seal_to => faults_seal_to_kill, faults_seal_to_enospc, faults_seal_to_eio;
    custody_append => faults_custody_append_kill, faults_custody_append_enospc, faults_custody_append_eio;
    timestamp => faults_timestamp_kill, faults_timestamp_enospc, faults_timestamp_eio;
    audit => faults_audit_kill, faults_audit_enospc, faults_audit_eio;
    unpack => faults_unpack_kill, faults_unpack_enospc, faults_unpack_eio;
}
