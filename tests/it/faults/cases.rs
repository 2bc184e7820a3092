//! The commands under fault injection, each on a tiny input (two or three files): what it
//! reads, what it writes, what "complete" means for it, and how a rerun finishes it.
//!
//! Commands that write a new output (`bag -o`, `package`, `serialize`, `unpack`): the output
//! is absent or complete and valid. `package --force`: the old version or the new one,
//! complete. Commands that change a bag where it stands (`bag --in-place`, `seal`,
//! `custody append`, `timestamp`) and the fixity register (`audit`): what is already there
//! stays verifiable, the payload is never touched, and a rerun (for `--in-place` also a
//! `--rollback`) ends in the complete state.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::tree::{self, Tree};
use super::{Checked, Ctx, Scenario, State, qoima_in};
use crate::timestamp::Tsa;
use crate::util::Env;

fn fixture(rel: &str) -> Vec<u8> {
    fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

fn write(path: &Path, data: impl AsRef<[u8]>) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, data).unwrap();
}

/// Three small files, one in a subfolder.
fn small_source(dir: &Path) {
    write(&dir.join("a.txt"), "hello\n");
    write(&dir.join("sub/b.txt"), "b\n");
    write(&dir.join("with space.txt"), "space\n");
}

/// A collection for `qoima package`: a sidecar and two photos.
fn small_collection(dir: &Path, photos: usize) {
    let mut csv = String::from("identifier,file,title,date,rights\n");
    for (i, (name, fixture_path)) in [
        ("one.jpg", "fixtures/photos/good/tiny.jpg"),
        ("two.png", "fixtures/photos/good/tiny.png"),
    ]
    .iter()
    .take(photos)
    .enumerate()
    {
        write(&dir.join("photos").join(name), fixture(fixture_path));
        csv.push_str(&format!(
            "c-00{n},photos/{name},Photo {n},2022-01-0{n},CC BY 4.0\n",
            n = i + 1
        ));
    }
    write(&dir.join("metadata.csv"), csv);
}

fn template(env: &Env) -> PathBuf {
    let dir = env.path("template");
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// `qoima ARGS` in the template, which must succeed: preparing an input.
fn prepare(env: &Env, args: &[&str]) {
    let out = qoima_in(&env.path("template"), args, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "preparing with `qoima {}`: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The command line of a scenario: one hashing thread, so that the order of the calls, and
/// so strace's per-thread counts, are the same at every run.
fn command(args: &[&str]) -> Vec<String> {
    ["-j", "1"]
        .iter()
        .chain(args)
        .map(|s| s.to_string())
        .collect()
}

fn scenario(
    name: &'static str,
    env: Env,
    args: &[&str],
    sources: Vec<&'static str>,
    judge: impl Fn(&Ctx) -> Checked<State> + 'static,
    finish: impl Fn(&Ctx) -> Checked<()> + 'static,
) -> Option<Scenario> {
    Some(Scenario {
        name,
        env,
        args: command(args),
        vars: Vec::new(),
        sources,
        judge: Box::new(judge),
        finish: Box::new(finish),
        hidden: None,
    })
}

/// `qoima validate PATH` passes.
fn valid(ctx: &Ctx, rel: &str) -> Checked<()> {
    ctx.qoima_ok(&["validate", "-q", rel]).map(|_| ())
}

/// `bagit.py --validate PATH` passes, when `QOIMA_BAGIT_PY` names bagit-python.
fn bagit_py_valid(ctx: &Ctx, rel: &str) -> Checked<()> {
    let Some(bagit) = std::env::var_os("QOIMA_BAGIT_PY").map(PathBuf::from) else {
        return Ok(());
    };
    let out = Command::new(&bagit)
        .args(["--validate", rel])
        .current_dir(&ctx.work)
        .output()
        .unwrap();
    match out.status.success() {
        true => Ok(()),
        false => Err(format!(
            "bagit.py --validate {rel}: {}",
            super::last_line(&out.stderr)
        )),
    }
}

/// The payload of the bag at `bag` is exactly `original` (names, modes, contents, times).
fn payload_is(ctx: &Ctx, bag: &str, original: &Tree) -> Checked<()> {
    let mut now = tree::snapshot(&ctx.path(bag).join("data"));
    let mut expected = original.clone();
    now.remove("");
    expected.remove("");
    match now == expected {
        true => Ok(()),
        false => Err(format!(
            "{bag}/data differs from the source:\n{}",
            tree::diff(&expected, &now)
        )),
    }
}

/// A new output: absent, or a valid bag holding exactly `original`.
fn absent_or_valid_bag(ctx: &Ctx, rel: &str, original: Option<&Tree>) -> Checked<State> {
    if fs::symlink_metadata(ctx.path(rel)).is_err() {
        return Ok(State::Unfinished);
    }
    valid(ctx, rel).map_err(|e| format!("{rel} exists but is not valid: {e}"))?;
    if let Some(original) = original {
        payload_is(ctx, rel, original)?;
    }
    Ok(State::Complete)
}

/// Rerun, then the output is a valid bag (for qoima and bagit-python) holding `original`.
fn rerun_to_valid_bag(ctx: &Ctx, args: &[&str], out: &str, original: &Tree) -> Checked<()> {
    ctx.qoima_ok(args)?;
    valid(ctx, out)?;
    bagit_py_valid(ctx, out)?;
    payload_is(ctx, out, original)
}

pub fn bag_out() -> Option<Scenario> {
    let env = Env::new();
    small_source(&template(&env).join("src"));
    let original = tree::snapshot(&env.path("template/src"));
    let judged = original.clone();
    scenario(
        "bag_out",
        env,
        &["bag", "src", "-o", "out"],
        vec!["src"],
        move |ctx| absent_or_valid_bag(ctx, "out", Some(&judged)),
        move |ctx| rerun_to_valid_bag(ctx, &["bag", "src", "-o", "out"], "out", &original),
    )
}

const JOURNAL: &str = "coll/.qoima-inplace.json";

pub fn bag_in_place() -> Option<Scenario> {
    let env = Env::new();
    small_source(&template(&env).join("coll"));
    let original = tree::snapshot(&env.path("template/coll"));
    let judged = original.clone();
    scenario(
        "bag_in_place",
        env,
        &["bag", "--in-place", "coll"],
        Vec::new(),
        move |ctx| in_place_state(ctx, &judged),
        move |ctx| {
            if ctx.path(JOURNAL).exists() {
                rollback_restores(ctx, &original)?;
            }
            rerun_to_valid_bag(ctx, &["bag", "--in-place", "coll"], "coll", &original)
        },
    )
}

/// The folder is the original, interrupted (its journal says so), or a valid bag of it.
fn in_place_state(ctx: &Ctx, original: &Tree) -> Checked<State> {
    if &tree::snapshot(&ctx.path("coll")) == original || ctx.path(JOURNAL).exists() {
        return Ok(State::Unfinished);
    }
    valid(ctx, "coll").map_err(|e| {
        format!("coll is not the original, has no journal, and is not a valid bag: {e}")
    })?;
    payload_is(ctx, "coll", original)?;
    Ok(State::Complete)
}

/// On a copy of the interrupted folder, `--rollback` restores it exactly.
fn rollback_restores(ctx: &Ctx, original: &Tree) -> Checked<()> {
    let copy = ctx.work.with_file_name("work-rollback");
    tree::copy_fresh(&ctx.work, &copy);
    let out = qoima_in(&copy, &["bag", "--rollback", "coll"], &ctx.vars);
    if out.status.code() != Some(0) {
        return Err(format!(
            "--rollback exited {:?}: {}",
            out.status.code(),
            super::last_line(&out.stderr)
        ));
    }
    let now = tree::snapshot(&copy.join("coll"));
    if &now != original {
        return Err(format!(
            "--rollback did not restore the folder:\n{}",
            tree::diff(original, &now)
        ));
    }
    match tree::leftovers(&copy).as_slice() {
        [] => Ok(()),
        left => Err(format!("--rollback left behind: {}", left.join(", "))),
    }
}

pub fn package() -> Option<Scenario> {
    let env = Env::new();
    small_collection(&template(&env).join("coll"), 2);
    let original = tree::snapshot(&env.path("template/coll"));
    let judged = original.clone();
    scenario(
        "package",
        env,
        &["package", "coll", "-o", "out"],
        vec!["coll"],
        move |ctx| absent_or_valid_bag(ctx, "out", Some(&judged)),
        move |ctx| rerun_to_valid_bag(ctx, &["package", "coll", "-o", "out"], "out", &original),
    )
}

/// `package --force` over the package of an older version of the collection.
pub fn package_force() -> Option<Scenario> {
    let env = Env::new();
    small_collection(&template(&env).join("coll"), 1);
    prepare(&env, &["package", "coll", "-o", "out"]);
    small_collection(&env.path("template/coll"), 2);
    let old = tree::snapshot(&env.path("template/out"));
    let original = tree::snapshot(&env.path("template/coll"));
    let judged = original.clone();
    let args = ["package", "coll", "-o", "out", "--force"];
    scenario(
        "package_force",
        env,
        &args,
        vec!["coll"],
        move |ctx| {
            if tree::snapshot(&ctx.path("out")) == old {
                return Ok(State::Unfinished);
            }
            if !ctx.path("out").exists() {
                return Err("out is gone: the old version is no longer under its name".into());
            }
            absent_or_valid_bag(ctx, "out", Some(&judged))
        },
        move |ctx| rerun_to_valid_bag(ctx, &args, "out", &original),
    )
}

pub fn serialize() -> Option<Scenario> {
    let env = Env::new();
    small_source(&template(&env).join("src"));
    prepare(&env, &["bag", "src", "-o", "bag"]);
    let args = ["serialize", "bag", "--zip", "-o", "out.zip"];
    scenario(
        "serialize",
        env,
        &args,
        vec!["bag"],
        |ctx| absent_or_valid_bag(ctx, "out.zip", None),
        move |ctx| {
            ctx.qoima_ok(&args)?;
            valid(ctx, "out.zip")
        },
    )
}

pub fn unpack() -> Option<Scenario> {
    let env = Env::new();
    small_source(&template(&env).join("src"));
    prepare(&env, &["bag", "src", "-o", "bag"]);
    prepare(&env, &["serialize", "bag", "--zip", "-o", "bag.zip"]);
    fs::remove_dir_all(env.path("template/bag")).unwrap();
    let args = ["unpack", "bag.zip", "-o", "out"];
    scenario(
        "unpack",
        env,
        &args,
        vec!["bag.zip"],
        |ctx| absent_or_valid_bag(ctx, "out", None),
        move |ctx| {
            ctx.qoima_ok(&args)?;
            valid(ctx, "out")?;
            bagit_py_valid(ctx, "out")
        },
    )
}

const AUDIT: [&str; 4] = ["audit", "bag", "--register", "reg.db"];

pub fn audit() -> Option<Scenario> {
    let env = Env::new();
    small_source(&template(&env).join("src"));
    prepare(&env, &["bag", "src", "-o", "bag"]);
    let mut audit = scenario("audit", env, &AUDIT, vec!["bag"], audit_state, |ctx| {
        ctx.qoima_ok(&AUDIT)?;
        match audit_state(ctx)? {
            State::Complete => Ok(()),
            State::Unfinished => Err("a rerun recorded no finished audit".into()),
        }
    })?;
    audit.hidden = Some(super::Hidden {
        // SQLite's fsync of the register's folder (the work folder): its result is ignored.
        unseen: |call| call == "fsync(#<WORK>",
        // src/audit/register/mod.rs, RegisterError::NotWal.
        phrase: "SQLite does not pass that error on",
    });
    Some(audit)
}

/// The register is absent, or readable; complete once it holds a finished audit of the bag.
fn audit_state(ctx: &Ctx) -> Checked<State> {
    if !ctx.path("reg.db").exists() {
        return Ok(State::Unfinished);
    }
    let out = ctx.qoima(&["audit", "history", "bag", "--register", "reg.db", "--json"]);
    if String::from_utf8_lossy(&out.stderr).contains("has no audits") {
        return Ok(State::Unfinished);
    }
    if out.status.code() != Some(0) {
        return Err(format!(
            "the register cannot be read: {}",
            super::last_line(&out.stderr)
        ));
    }
    let history: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("audit history --json is not JSON: {e}"))?;
    let finished = history["audits"]
        .as_array()
        .is_some_and(|audits| audits.iter().any(|a| a["interrupted"] != true));
    Ok(if finished {
        State::Complete
    } else {
        State::Unfinished
    })
}

/// A bag of three small files and an unencrypted key `k` (public key `k.pub`).
fn bag_and_key(env: &Env) {
    small_source(&template(env).join("src"));
    prepare(env, &["bag", "src", "-o", "bag"]);
    prepare(env, &["keygen", "-o", "k", "--unencrypted"]);
}

const SEAL: [&str; 6] = ["seal", "bag", "--sign", "k", "--name", "Desk"];

/// `verify-seal TARGET --trusted-keys k.pub EXTRA…` passes.
fn seal_verifies(ctx: &Ctx, target: &str, extra: &[&str]) -> Checked<()> {
    let mut args = vec!["verify-seal", target, "--trusted-keys", "k.pub"];
    args.extend_from_slice(extra);
    ctx.qoima_ok(&args).map(|_| ())
}

/// The bag is the unsealed original, sealed and verified, or in between (then a rerun must
/// finish it: the payload is never touched, which `sources` checks).
fn seal_state(ctx: &Ctx, original: &Tree) -> State {
    if &tree::snapshot(&ctx.path("bag")) == original {
        return State::Unfinished;
    }
    match seal_verifies(ctx, "bag", &[]) {
        Ok(()) => State::Complete,
        Err(_) => State::Unfinished,
    }
}

pub fn seal() -> Option<Scenario> {
    let env = Env::new();
    bag_and_key(&env);
    let original = tree::snapshot(&env.path("template/bag"));
    scenario(
        "seal",
        env,
        &SEAL,
        vec!["bag/data", "k", "k.pub"],
        move |ctx| Ok(seal_state(ctx, &original)),
        |ctx| {
            ctx.qoima_ok(&SEAL)?;
            seal_verifies(ctx, "bag", &[])
        },
    )
}

const BUNDLE: &str = "outbox/bundle.tar.age";

pub fn seal_to() -> Option<Scenario> {
    let ok = |tool: &str| Command::new(tool).arg("--version").output().is_ok();
    if !ok("age-keygen") {
        eprintln!("skipped: age-keygen is needed (scripts/test.sh installs age)");
        return None;
    }
    let env = Env::new();
    bag_and_key(&env);
    let made = Command::new("age-keygen")
        .args(["-o", "id.txt"])
        .current_dir(env.path("template"))
        .output()
        .unwrap();
    let recipient = String::from_utf8_lossy(&made.stderr)
        .split_whitespace()
        .last()
        .unwrap()
        .to_string();
    assert!(recipient.starts_with("age1"), "{recipient}");
    let original = tree::snapshot(&env.path("template/bag"));
    let mut args: Vec<&str> = SEAL.to_vec();
    args.extend(["--to", &recipient, "-o", "outbox"]);
    let rerun: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    scenario(
        "seal_to",
        env,
        &args,
        vec!["bag/data", "k", "k.pub", "id.txt"],
        move |ctx| {
            let bag = seal_state(ctx, &original);
            let bundle = bundle_state(ctx)?;
            Ok(match (bag, bundle) {
                (State::Complete, State::Complete) => State::Complete,
                _ => State::Unfinished,
            })
        },
        move |ctx| {
            let args: Vec<&str> = rerun.iter().map(String::as_str).collect();
            ctx.qoima_ok(&args)?;
            seal_verifies(ctx, "bag", &[])?;
            seal_verifies(ctx, BUNDLE, &["-i", "id.txt"])
        },
    )
}

/// No ciphertext under its final name, or a bundle that verifies and decrypts to a valid
/// bag. The ciphertext is placed last (src/seal/placement.rs): companions without it are a
/// placement a kill interrupted, which the rerun (`finish`) must undo and redo; no order of
/// four links can avoid that state, so it is judged unfinished, not broken.
fn bundle_state(ctx: &Ctx) -> Checked<State> {
    if fs::symlink_metadata(ctx.path(BUNDLE)).is_err() {
        return Ok(State::Unfinished);
    }
    seal_verifies(ctx, BUNDLE, &["-i", "id.txt"])
        .map_err(|e| format!("a partial bundle is in outbox/: {e}"))?;
    Ok(State::Complete)
}

const APPEND: [&str; 9] = [
    "custody", "append", "bag", "--event", "transfer", "--agent", "Desk", "--sign", "k",
];

pub fn custody_append() -> Option<Scenario> {
    let env = Env::new();
    bag_and_key(&env);
    prepare(&env, &SEAL);
    scenario(
        "custody_append",
        env,
        &APPEND,
        vec!["bag/data", "k", "k.pub"],
        custody_state,
        |ctx| {
            ctx.qoima_ok(&APPEND)?;
            match custody_state(ctx)? {
                State::Complete => Ok(()),
                State::Unfinished => Err("the rerun added no entry".into()),
            }
        },
    )
}

/// The custody log verifies, with no entry (the old log) or one (the new); or a killed
/// append left its debris, which the next append must clear (`finish` reruns it).
fn custody_state(ctx: &Ctx) -> Checked<State> {
    let out = ctx.qoima(&[
        "custody",
        "verify",
        "bag",
        "--trusted-keys",
        "k.pub",
        "--json",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    if !ctx.path("bag/custody").is_dir() {
        return Ok(State::Unfinished);
    }
    if out.status.code() != Some(0) {
        return Ok(State::Unfinished);
    }
    match report["entries"].as_array().map(Vec::len) {
        Some(0) => Ok(State::Unfinished),
        Some(1) => Ok(State::Complete),
        other => Err(format!("custody verify lists {other:?} entries")),
    }
}

pub fn timestamp() -> Option<Scenario> {
    let ok = Command::new("openssl").arg("version").output().is_ok();
    if !ok {
        eprintln!("skipped: the openssl CLI is needed (scripts/test.sh installs it)");
        return None;
    }
    let env = Env::new();
    bag_and_key(&env);
    prepare(&env, &SEAL);
    let tsa = Tsa::new(env.path("tsa"));
    for alg in ["sha256", "sha512"] {
        let signature = format!("bag/seal/tagmanifest-{alg}.txt.minisig");
        let query = env.path(&format!("q-{alg}.tsq"));
        let out = Command::new("openssl")
            .args([
                "ts", "-query", "-data", &signature, "-sha512", "-cert", "-out",
            ])
            .arg(&query)
            .current_dir(env.path("template"))
            .output()
            .unwrap();
        assert!(out.status.success(), "openssl ts -query");
        let reply = Tsa::reply(&tsa.dir, &fs::read(&query).unwrap());
        fs::write(env.path(&format!("template/r-{alg}.tsr")), reply).unwrap();
    }
    let root = tsa.root();
    let args = [
        "timestamp",
        "bag",
        "--reply",
        "r-sha256.tsr",
        "--reply",
        "r-sha512.tsr",
        "--tsa-name",
        "local",
    ];
    let judged = root.clone();
    scenario(
        "timestamp",
        env,
        &args,
        vec!["bag/data", "r-sha256.tsr", "r-sha512.tsr"],
        move |ctx| timestamp_state(ctx, &judged),
        move |ctx| {
            ctx.qoima_ok(&args)?;
            match timestamp_state(ctx, &root)? {
                State::Complete => Ok(()),
                State::Unfinished => Err("the rerun did not add both tokens".into()),
            }
        },
    )
}

/// The seal and every token present verify; complete with both tokens.
fn timestamp_state(ctx: &Ctx, root: &str) -> Checked<State> {
    seal_verifies(ctx, "bag", &["--tsa-roots", root])?;
    let tokens = fs::read_dir(ctx.path("bag/seal"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".local.tsr"))
        .count();
    Ok(if tokens == 2 {
        State::Complete
    } else {
        State::Unfinished
    })
}
