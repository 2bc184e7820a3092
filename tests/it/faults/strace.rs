//! strace(1) as the fault injector: enumerate the durable system calls a command makes, and
//! run it again with a fault injected at one of them.
//!
//! strace counts the calls it injects into *per system call and per tracee* (strace(1),
//! "Accounting of syscalls that are subject to injection is done per syscall and per
//! tracee"), and under `-f` every thread is a tracee. So `-e inject=write:when=N` strikes the
//! first call, in time, that is *some* thread's N-th `write`. The plan below reproduces that
//! rule on the enumeration log: for each N it finds that call and keeps N when the call is a
//! durable one. A durable call that is never any thread's first N-th (another thread made its
//! N-th call of the same kind earlier) cannot be reached this way; such calls are counted as
//! `shadowed` and reported, never silently dropped. Every injected run is traced too, and
//! the call that was struck must be the one the plan predicted (same system call, same
//! arguments once numbers such as process ids are masked): that is the experiment that keeps
//! the enumeration honest.
//!
//! The same per-tracee count means that an injected *error* strikes the N-th call of every
//! thread: when the main thread's N-th `write` is the one printing the first error, that
//! print fails too ([`stderr_struck`]). qoima's error path ignores a failed print (it used
//! `eprintln!`, which panics then), so such a run must still exit 2; only its message cannot
//! be judged, and everything on disk still is.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

/// Every system call that can change what is on disk, or make it durable.
pub const TRACED: &[&str] = &[
    "openat",
    "mkdir",
    "mkdirat",
    "write",
    "pwrite64",
    "writev",
    "pwritev",
    "pwritev2",
    "copy_file_range",
    "fallocate",
    "ftruncate",
    "fchmod",
    "fchmodat",
    "utimensat",
    "fsync",
    "fdatasync",
    "syncfs",
    "sync_file_range",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "symlinkat",
    "unlink",
    "unlinkat",
    "rmdir",
];

/// The calls that put bytes on a disk: where a full or failing disk answers ENOSPC or EIO.
const WRITES: &[&str] = &[
    "write",
    "pwrite64",
    "writev",
    "pwritev",
    "pwritev2",
    "copy_file_range",
    "fallocate",
];

/// The calls that flush to the medium: where a failing disk answers EIO.
const SYNCS: &[&str] = &["fsync", "fdatasync", "syncfs", "sync_file_range"];

/// At most this many injection points per system call and fault; above it, points are taken
/// with an even stride (the first and the last always kept).
pub const MAX_POINTS_PER_CALL: usize = 40;

/// What is done to the struck call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// SIGKILL on entering the call: the call never happens, nothing after it either.
    Kill,
    /// The call fails with ENOSPC, once (a disk that is full at that moment).
    Enospc,
    /// The call fails with EIO, once (a failing disk).
    Eio,
}

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Fault::Kill => "kill",
            Fault::Enospc => "enospc",
            Fault::Eio => "eio",
        }
    }

    fn applies_to(self, syscall: &str) -> bool {
        match self {
            Fault::Kill => true,
            Fault::Enospc => WRITES.contains(&syscall),
            Fault::Eio => WRITES.contains(&syscall) || SYNCS.contains(&syscall),
        }
    }

    fn inject(self, syscall: &str, n: usize) -> String {
        let action = match self {
            Fault::Kill => "signal=SIGKILL",
            Fault::Enospc => "error=ENOSPC",
            Fault::Eio => "error=EIO",
        };
        format!("inject={syscall}:{action}:when={n}")
    }

    /// The words, one of which must name the error in qoima's message (Rust's I/O errors,
    /// or SQLite's for the fixity register).
    pub fn os_error(self) -> &'static [&'static str] {
        match self {
            Fault::Kill => &[],
            // SQLite reports a failed write to its shared-memory file as an I/O error.
            Fault::Enospc => &["os error 28", "database or disk is full", "disk I/O error"],
            Fault::Eio => &["os error 5", "disk I/O error"],
        }
    }
}

/// One traced call: thread id, name, arguments as strace printed them, result.
#[derive(Debug, Clone)]
pub struct Call {
    pub tid: u32,
    pub name: String,
    pub args: String,
    pub result: String,
}

impl Call {
    /// Whether this call changed, or tried to change, what is on disk.
    fn durable(&self) -> bool {
        if self.result.starts_with("-1 ") {
            return false;
        }
        if self.name == "openat" {
            return ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC"]
                .iter()
                .any(|flag| self.args.contains(flag));
        }
        if WRITES.contains(&self.name.as_str()) {
            return writes_to_a_file(&self.args);
        }
        true
    }

    /// The call with its numbers masked (process ids in temporary names, fd numbers) and the
    /// work folder's path dropped: equal across two runs of the same step.
    /// Written bytes are left out: an encrypted stream differs at every run.
    pub fn signature(&self, work: &Path) -> String {
        let args = if WRITES.contains(&self.name.as_str()) {
            self.args.split(", ").next().unwrap_or("")
        } else {
            &self.args
        };
        let args = args.replace(&work.display().to_string(), "WORK");
        let mut masked = String::new();
        for ch in args.chars() {
            if ch.is_ascii_digit() {
                if !masked.ends_with('#') {
                    masked.push('#');
                }
            } else {
                masked.push(ch);
            }
        }
        masked.truncate(160);
        format!("{}({masked}", self.name)
    }
}

/// The first argument is `FD</path>`: a write to stdout, stderr or a pipe is not durable.
fn writes_to_a_file(args: &str) -> bool {
    let Some((fd, rest)) = args.split_once('<') else {
        return false;
    };
    let fd: u32 = fd.trim().parse().unwrap_or(0);
    fd > 2 && rest.starts_with('/')
}

/// The calls of an `strace -f -o LOG` log, in the order strace saw them enter.
pub fn parse(log: &str) -> Vec<Call> {
    let mut calls: Vec<Call> = Vec::new();
    let mut pending: HashMap<u32, usize> = HashMap::new();
    for line in log.lines() {
        let Some((tid, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(tid) = tid.parse::<u32>() else {
            continue;
        };
        let rest = rest.trim_start();
        if rest.starts_with("+++") || rest.starts_with("---") {
            continue;
        }
        if let Some(resumed) = rest.strip_prefix("<... ") {
            if let (Some(index), Some((_, result))) =
                (pending.remove(&tid), resumed.rsplit_once(" = "))
            {
                calls[index].result = result.to_string();
            }
            continue;
        }
        let Some((name, args)) = rest.split_once('(') else {
            continue;
        };
        if let Some(args) = args.strip_suffix(" <unfinished ...>") {
            pending.insert(tid, calls.len());
            calls.push(call(tid, name, args, "?"));
        } else if let Some((args, result)) = args.rsplit_once(" = ") {
            // strace pads short lines before ` = `; a killed call may be printed unfinished,
            // without its closing parenthesis.
            let args = args.trim_end();
            let args = args.strip_suffix(')').unwrap_or(args);
            calls.push(call(tid, name, args, result));
        }
    }
    calls
}

fn call(tid: u32, name: &str, args: &str, result: &str) -> Call {
    Call {
        tid,
        name: name.to_string(),
        args: args.to_string(),
        result: result.to_string(),
    }
}

/// One place to strike: the N-th call of `syscall` (strace's per-tracee count), and the
/// signature of the call that it will strike.
#[derive(Debug, Clone)]
pub struct Point {
    pub syscall: String,
    pub n: usize,
    pub expected: String,
}

/// The injection points of one fault over one enumeration, with what could not be covered.
#[derive(Debug, Default)]
pub struct Plan {
    pub points: Vec<Point>,
    /// Durable calls the fault applies to.
    pub durable: usize,
    /// Durable calls no `when=N` can reach (another thread's N-th call comes first).
    pub shadowed: usize,
    /// Reachable durable calls left out by the stride.
    pub sampled_out: usize,
}

/// Plans every point of `fault` over `calls`.
pub fn plan(calls: &[Call], fault: Fault, work: &Path) -> Plan {
    let mut plan = Plan::default();
    for syscall in TRACED.iter().filter(|s| fault.applies_to(s)) {
        let of_kind: Vec<&Call> = calls.iter().filter(|c| c.name == *syscall).collect();
        let struck = first_nth_calls(&of_kind);
        let durable = of_kind.iter().filter(|c| c.durable()).count();
        let reachable: Vec<Point> = struck
            .iter()
            .enumerate()
            .filter(|(_, index)| of_kind[**index].durable())
            .map(|(k, index)| Point {
                syscall: syscall.to_string(),
                n: k + 1,
                expected: of_kind[*index].signature(work),
            })
            .collect();
        plan.durable += durable;
        plan.shadowed += durable - reachable.len();
        let kept = stride(reachable);
        plan.sampled_out += kept.1;
        plan.points.extend(kept.0);
    }
    plan
}

/// For N = 1, 2, …: the index of the first call (in time) that is some thread's N-th.
fn first_nth_calls(calls: &[&Call]) -> Vec<usize> {
    let mut per_thread: HashMap<u32, usize> = HashMap::new();
    let mut struck = Vec::new();
    for (index, call) in calls.iter().enumerate() {
        let count = per_thread.entry(call.tid).or_insert(0);
        *count += 1;
        if *count > struck.len() {
            struck.push(index);
        }
    }
    struck
}

/// At most [`MAX_POINTS_PER_CALL`] points, evenly spaced; returns them and how many were left.
fn stride(points: Vec<Point>) -> (Vec<Point>, usize) {
    if points.len() <= MAX_POINTS_PER_CALL {
        return (points, 0);
    }
    let step = points.len().div_ceil(MAX_POINTS_PER_CALL);
    let last = points.len() - 1;
    let kept: Vec<Point> = points
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i == last)
        .map(|(_, p)| p.clone())
        .collect();
    let left = points.len() - kept.len();
    (kept, left)
}

/// Runs `qoima ARGS` in `work` under strace, logging the traced calls to `log`, with a fault
/// injected at `point` if one is given.
pub fn run(
    work: &Path,
    log: &Path,
    args: &[String],
    fault: Option<(Fault, &Point)>,
    vars: &[(String, String)],
) -> Output {
    let mut command = Command::new("strace");
    command
        .args(["-f", "-qq", "-y", "-s", "64", "-o"])
        .arg(log)
        .args(["-e", &format!("trace={}", TRACED.join(","))]);
    if let Some((fault, point)) = fault {
        command.args(["-e", &fault.inject(&point.syscall, point.n)]);
    }
    command
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_qoima"))
        .args(args)
        .current_dir(work)
        .env("SOURCE_DATE_EPOCH", "1641340800")
        .env("TZ", "UTC")
        .env_remove("QOIMA_FAILPOINT")
        .env_remove("QOIMA_PASSPHRASE");
    for (key, value) in vars {
        command.env(key, value);
    }
    command
        .output()
        .expect("strace is needed (scripts/test.sh installs it)")
}

/// The call the fault struck in an injected run's log, if it was struck at all.
pub fn struck(log: &Path, fault: Fault, syscall: &str) -> Option<Call> {
    let text = fs::read_to_string(log).ok()?;
    let marker = |c: &Call| match fault {
        Fault::Kill => c.result == "?",
        _ => c.result.ends_with("(INJECTED)"),
    };
    parse(&text)
        .into_iter()
        .find(|c| c.name == syscall && marker(c))
}

/// Whether the fault also struck a write to stderr (fd 2) in an injected run's log: the
/// error message was then lost by the injection, not by qoima.
pub fn stderr_struck(log: &Path) -> bool {
    let Ok(text) = fs::read_to_string(log) else {
        return false;
    };
    parse(&text).iter().any(|c| {
        c.result.ends_with("(INJECTED)") && (c.args.starts_with("2<") || c.args.starts_with("2,"))
    })
}

/// Whether strace is installed.
pub fn available() -> bool {
    Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}
