//! Two runs of each command that changes a bag, a log or a register, started at once on the
//! same target, 50 times (issue 13): the result is always one whole run's result, and the
//! other run either refused with the busy message, or waited and then did its own whole run
//! (or found nothing left to do). docs/cli.md ("One run at a time") says which command does
//! which.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use super::util::*;

const ROUNDS: usize = 50;
const BUSY: &str = "is in use by another qoima run";

/// Starts both argument lists at once in `env`'s folder and waits for both.
fn race(env: &Env, first: &[&str], second: &[&str]) -> [Output; 2] {
    let start = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_qoima"))
            .args(args)
            .current_dir(env.dir.path())
            .env("SOURCE_DATE_EPOCH", "1641340800")
            .env("TZ", "UTC")
            .env_remove("QOIMA_FAILPOINT")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start(first), start(second));
    [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()]
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Copies the folder `from` to `to` (files and folders only).
fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from).sort_by_file_name() {
        let e = e.unwrap();
        let dest = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            fs::create_dir_all(&dest).unwrap();
        } else {
            fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// Every file under `root` with its content.
fn contents(root: &Path) -> Vec<(String, Vec<u8>)> {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap();
            (
                rel.to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Names under `root` holding `.qoima-` (journals, staging folders, temporaries).
fn qoima_names(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().contains(".qoima-"))
        .map(|e| e.path().display().to_string())
        .collect()
}

/// One run succeeded; the other succeeded too, or refused with the busy message or with
/// `other` (what it says when it came after the first had finished), exit 2.
fn one_whole_run(round: usize, runs: &[Output; 2], other: &str) {
    let ok = runs.iter().filter(|o| code(o) == 0).count();
    assert!(ok >= 1, "round {round}: no run succeeded: {runs:?}");
    for o in runs.iter().filter(|o| code(o) != 0) {
        let e = stderr(o);
        assert_eq!(code(o), 2, "round {round}: {e}");
        assert!(e.contains(BUSY) || e.contains(other), "round {round}: {e}");
    }
}

#[test]
fn issue13_two_in_place_runs_at_once_make_one_whole_bag() {
    let env = Env::new();
    let template = env.sample_source("template");
    for round in 0..ROUNDS {
        let dir = env.path(&format!("dir{round}"));
        copy_tree(&template, &dir);
        let name = format!("dir{round}");
        let runs = race(
            &env,
            &["bag", "--in-place", &name],
            &["bag", "--in-place", &name],
        );
        one_whole_run(round, &runs, "looks like a bag already");
        assert_eq!(
            contents(&dir.join("data")),
            contents(&template),
            "round {round}"
        );
        assert!(
            qoima_names(&dir).is_empty(),
            "round {round}: {:?}",
            qoima_names(&dir)
        );
        env.qoima(&["validate", &name]).success();
    }
}

#[test]
fn issue13_two_rollbacks_at_once_restore_the_folder_once() {
    let env = Env::new();
    let template = env.sample_source("template");
    for round in 0..ROUNDS {
        let dir = env.path(&format!("dir{round}"));
        copy_tree(&template, &dir);
        let name = format!("dir{round}");
        let crashed = Command::new(env!("CARGO_BIN_EXE_qoima"))
            .args(["bag", "--in-place", &name])
            .current_dir(env.dir.path())
            .env("QOIMA_FAILPOINT", "inplace-renamed")
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(
            !crashed.success(),
            "round {round}: the failpoint did not fire"
        );
        let runs = race(
            &env,
            &["bag", "--rollback", &name],
            &["bag", "--rollback", &name],
        );
        one_whole_run(round, &runs, "no interrupted in-place run");
        assert_eq!(contents(&dir), contents(&template), "round {round}");
    }
}

/// A key pair `k`/`k.pub`, and `trusted.txt` trusting it.
fn key(env: &Env) {
    let r = env.qoima(&["keygen", "-o", "k", "--unencrypted"]);
    r.success();
    env.write("trusted.txt", format!("{}\n", r.stdout().trim()));
}

fn seal_verifies(env: &Env, bag: &str, round: usize) {
    let r = env.qoima(&["verify-seal", bag, "--trusted-keys", "trusted.txt"]);
    assert_eq!(r.code(), 0, "round {round}: {}", r.stderr());
}

#[test]
fn issue13_two_seals_at_once_leave_one_whole_seal() {
    let env = Env::new();
    key(&env);
    bag_template(&env);
    for round in 0..ROUNDS {
        let name = format!("bag{round}");
        copy_tree(&env.path("template"), &env.path(&name));
        let seal = ["seal", name.as_str(), "--sign", "k"];
        let runs = race(&env, &seal, &seal);
        one_whole_run(round, &runs, BUSY);
        seal_verifies(&env, &name, round);
        let bag = env.path(&name);
        assert!(
            qoima_names(&bag).is_empty(),
            "round {round}: {:?}",
            qoima_names(&bag)
        );
    }
}

/// A bag `template` made from a small source with names a seal accepts.
fn bag_template(env: &Env) {
    env.write("src/a.txt", "a\n");
    env.write("src/sub/b.txt", "b\n");
    env.qoima(&["bag", "src", "-o", "template"]).success();
}

/// A key, and `template` bagged and sealed with it.
fn sealed_template(env: &Env) {
    key(env);
    bag_template(env);
    env.qoima(&["seal", "template", "--sign", "k"]).success();
}

#[test]
fn issue13_two_custody_appends_at_once_both_land_in_one_unbroken_log() {
    let env = Env::new();
    sealed_template(&env);
    for round in 0..ROUNDS {
        let name = format!("bag{round}");
        copy_tree(&env.path("template"), &env.path(&name));
        let append = |agent: &'static str| {
            [
                "custody", "append", "BAG", "--event", "transfer", "--agent", agent, "--sign", "k",
            ]
            .map(|a| if a == "BAG" { name.as_str() } else { a })
        };
        let runs = race(&env, &append("first"), &append("second"));
        for o in &runs {
            assert_eq!(code(o), 0, "round {round}: {}", stderr(o));
        }
        let r = env.qoima(&[
            "custody",
            "verify",
            &name,
            "--trusted-keys",
            "trusted.txt",
            "--json",
        ]);
        assert_eq!(r.code(), 0, "round {round}: {}", r.stdout());
        let log = env.path(&format!("{name}/custody"));
        let mut files: Vec<String> = fs::read_dir(&log)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        assert_eq!(
            files,
            [
                "000001.json",
                "000001.json.minisig",
                "000002.json",
                "000002.json.minisig"
            ],
            "round {round}"
        );
    }
}

#[test]
fn issue13_two_timestamps_at_once_keep_one_token() {
    let openssl = Command::new("openssl").arg("version").output();
    if !openssl.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: the openssl CLI is needed to answer a time-stamp request");
        return;
    }
    let env = Env::new();
    sealed_template(&env);
    let tsa = super::timestamp::Tsa::new(env.path("tsa"));
    let sig = "template/seal/tagmanifest-sha256.txt.minisig";
    let query = Command::new("openssl")
        .args(["ts", "-query", "-data", sig, "-sha256", "-cert"])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(query.status.success());
    env.write(
        "r.tsr",
        super::timestamp::Tsa::reply(&tsa.dir, &query.stdout),
    );
    for round in 0..ROUNDS {
        let name = format!("bag{round}");
        copy_tree(&env.path("template"), &env.path(&name));
        let stamp = [
            "timestamp",
            name.as_str(),
            "--reply",
            "r.tsr",
            "--tsa-name",
            "local",
        ];
        let runs = race(&env, &stamp, &stamp);
        for o in &runs {
            assert_eq!(code(o), 0, "round {round}: {}", stderr(o));
        }
        let tokens: Vec<String> = fs::read_dir(env.path(&format!("{name}/seal")))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".tsr") || n.contains(".qoima-"))
            .collect();
        assert_eq!(
            tokens,
            ["tagmanifest-sha256.txt.minisig.local.tsr"],
            "round {round}"
        );
        assert_eq!(
            fs::read(env.path(&format!("{name}/seal/{}", tokens[0]))).unwrap(),
            fs::read(env.path("r.tsr")).unwrap()
        );
    }
}

#[test]
fn issue13_two_audits_at_once_on_one_register_audit_each_bag_once() {
    let env = Env::new();
    env.sample_bag("b1");
    for round in 0..ROUNDS {
        let register = format!("reg{round}.db");
        // With --older-than, a bag audited by the other run is fresh: whether the second run
        // comes during the first (the bag is claimed) or after it, it has nothing to do.
        let audit = [
            "audit",
            "-q",
            "--older-than",
            "1d",
            "--register",
            register.as_str(),
            "b1",
        ];
        let runs = race(&env, &audit, &audit);
        for o in &runs {
            assert_eq!(code(o), 0, "round {round}: {}", stderr(o));
        }
        let r = env.qoima(&["audit", "history", "b1", "--register", &register, "--json"]);
        r.success();
        let audits = r.json()["audits"].as_array().unwrap().len();
        assert_eq!(audits, 1, "round {round}: {}", r.stdout());
    }
}
