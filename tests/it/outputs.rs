//! Issue 13: outputs that overlap their input are refused by every writer (`BAG-083`), a
//! `--force` replacement keeps the old or the new complete bag at every instant and a rerun
//! leaves nothing behind, leftovers of dead runs are cleared (and nothing else), and an
//! archive never holds bytes other than those hashed (`BAG-084`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::util::*;

/// A copy of the sample collection at `rel`, so that the test may change it.
fn collection(env: &Env, rel: &str) -> PathBuf {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/collections/qantar-2022");
    let dest = env.path(rel);
    fs::create_dir_all(dest.parent().unwrap()).unwrap();
    let ok = Command::new("cp")
        .arg("-a")
        .arg(&fixture)
        .arg(&dest)
        .status()
        .unwrap();
    assert!(ok.success());
    dest
}

/// Every file below `root` with its bytes, to prove nothing changed.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<(PathBuf, Vec<u8>)> = walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), fs::read(e.path()).unwrap()))
        .collect();
    out.sort();
    out
}

/// The first problem's code and file in a refusal's JSON.
fn refusal(r: &Run) -> (String, String) {
    let v = r.json();
    let p = &v["problems"][0];
    (
        p["code"].as_str().unwrap_or("").to_string(),
        p["file"].as_str().unwrap_or("").to_string(),
    )
}

/// Names beside `out` that are qoima's temporaries for it.
fn leftovers(env: &Env, out: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".{out}.qoima-")) || n.starts_with(&format!("..{out}.")))
        .collect();
    names.sort();
    names
}

#[test]
fn issue13_package_force_into_a_folder_holding_the_collection_is_refused() {
    let env = Env::new();
    collection(&env, "archive/col");
    let before = snapshot(&env.path("archive"));
    let r = env.qoima(&[
        "--json",
        "package",
        "archive/col",
        "-o",
        "archive",
        "--force",
    ]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert_eq!(refusal(&r), ("BAG-083".into(), "archive".into()));
    assert!(r.stderr().contains("contains the input"), "{}", r.stderr());
    assert_eq!(
        snapshot(&env.path("archive")),
        before,
        "the collection is untouched"
    );
    assert_eq!(
        fs::read_dir(env.dir.path()).unwrap().count(),
        1,
        "nothing was created"
    );
}

#[test]
fn issue13_package_force_onto_the_collection_itself_is_refused() {
    let env = Env::new();
    collection(&env, "col");
    let before = snapshot(&env.path("col"));
    for out in ["col", "./other/../col", "col/inner"] {
        let r = env.qoima(&["--json", "package", "col", "-o", out, "--force"]);
        assert_eq!(r.code(), 1, "{out}: {}", r.stderr());
        assert_eq!(refusal(&r), ("BAG-083".into(), out.into()));
        assert_eq!(snapshot(&env.path("col")), before, "{out}");
    }
    // Through a link to the collection's parent, and as an archive inside it.
    std::os::unix::fs::symlink(env.dir.path(), env.path("alias")).unwrap();
    let r = env.qoima(&["--json", "package", "col", "-o", "alias/col", "--force"]);
    assert_eq!(refusal(&r), ("BAG-083".into(), "alias/col".into()));
    let r = env.qoima(&["--json", "package", "col", "-o", "col/deposit", "--zip"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert_eq!(refusal(&r), ("BAG-083".into(), "col/deposit.zip".into()));
    assert_eq!(snapshot(&env.path("col")), before);
    assert!(!env.path("other").exists());
}

#[test]
fn issue13_every_writer_refuses_an_output_overlapping_its_input() {
    let env = Env::new();
    env.sample_source("src");
    let bag = env.sample_bag("bag");
    let src_before = snapshot(&env.path("src"));
    let bag_before = snapshot(&bag);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["bag", "src", "-o", "src/out"], "src/out"),
        (vec!["bag", "src", "-o", "src/../src"], "src/../src"),
        (
            vec!["bag", "src", "-o", "src/deposit", "--zip"],
            "src/deposit.zip",
        ),
        (
            vec!["serialize", "bag", "--tar", "-o", "bag/data/self"],
            "bag/data/self.tar",
        ),
        (
            vec!["serialize", "bag", "--zip", "-o", "bag/x.zip"],
            "bag/x.zip",
        ),
        (vec!["unpack", "x.zip", "-o", "x.zip/inner"], "x.zip/inner"),
    ];
    env.qoima(&["serialize", "bag", "--zip", "-o", "x.zip"])
        .success();
    for (args, file) in &cases {
        let mut all = vec!["--json"];
        all.extend(args);
        let r = env.qoima(&all);
        assert_eq!(r.code(), 1, "{args:?}: {}", r.stderr());
        assert_eq!(
            refusal(&r),
            ("BAG-083".to_string(), file.to_string()),
            "{args:?}"
        );
    }
    // --checksum-file writes ARCHIVE.sha256: refused when that is the source.
    fs::rename(env.path("src"), env.path("dep.zip.sha256")).unwrap();
    let r = env.qoima(&[
        "--json",
        "bag",
        "dep.zip.sha256",
        "-o",
        "dep",
        "--zip",
        "--checksum-file",
    ]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert_eq!(refusal(&r), ("BAG-083".into(), "dep.zip.sha256".into()));
    assert!(!env.path("dep.zip").exists());
    fs::rename(env.path("dep.zip.sha256"), env.path("src")).unwrap();
    assert_eq!(snapshot(&env.path("src")), src_before);
    assert_eq!(snapshot(&bag), bag_before);
    assert!(!env.path("x.zip").is_dir());
}

#[test]
fn issue13_seal_audit_and_custody_outputs_inside_the_bag_are_refused() {
    let env = Env::new();
    let bag = env.sample_bag("bag");
    env.qoima(&["keygen", "-o", "key", "--unencrypted"])
        .success();
    let before = snapshot(&bag);
    let recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    for out in ["bag", "bag/out"] {
        let r = env.qoima(&["seal", "bag", "--sign", "key", "--to", recipient, "-o", out]);
        assert_eq!(r.code(), 1, "{out}: {}", r.stderr());
        assert!(r.stderr().contains("error[BAG-083]"), "{}", r.stderr());
    }
    assert_eq!(snapshot(&bag), before, "nothing was sealed or written");
    let r = env.qoima(&["audit", "bag", "--register", "reg.db"]);
    r.success();
    let register = fs::read(env.path("reg.db")).unwrap();
    let r = env.qoima(&["audit", "report", "--register", "reg.db", "-o", "reg.db"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert!(r.stderr().contains("error[BAG-083]"), "{}", r.stderr());
    assert!(
        r.stderr().contains("the output reg.db is the input reg.db"),
        "{}",
        r.stderr()
    );
    assert_eq!(fs::read(env.path("reg.db")).unwrap(), register);
    let r = env.qoima(&[
        "audit",
        "export-premis",
        "bag",
        "--register",
        "reg.db",
        "-o",
        "bag/premis.xml",
    ]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert!(r.stderr().contains("error[BAG-083]"), "{}", r.stderr());
    assert!(
        r.stderr()
            .contains("the output bag/premis.xml lies inside the input bag"),
        "{}",
        r.stderr()
    );
    assert!(!env.path("bag/premis.xml").exists());
}

/// Runs qoima with extra environment variables; the exit code (-1 when killed by a signal).
fn run_env(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qoima"));
    cmd.args(args)
        .current_dir(env.dir.path())
        .env("SOURCE_DATE_EPOCH", "1641340800")
        .env("TZ", "UTC")
        .env_remove("QOIMA_FAILPOINT")
        .env_remove("QOIMA_TEST_NO_EXCHANGE");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Which bag is at `out`: the `Note` its bag-info.txt carries, after `validate` passed.
fn which_bag(env: &Env, out: &str) -> Option<String> {
    if !env.path(out).exists() {
        return None;
    }
    env.qoima(&["validate", out]).success();
    let info = fs::read_to_string(env.path(out).join("bag-info.txt")).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("Note: "))
        .map(String::from)
}

#[test]
fn issue13_package_force_killed_at_each_step_keeps_a_complete_bag_and_a_rerun_cleans_up() {
    let env = Env::new();
    collection(&env, "col");
    let package = |note: &str| {
        vec![
            "package".to_string(),
            "col".into(),
            "-o".into(),
            "out".into(),
            "--force".into(),
            "--info".into(),
            format!("Note={note}"),
        ]
    };
    // (failpoint, exchange refused, the bag at OUT after the kill: None = the documented
    // window of the fallback, with the old bag under .out.qoima-old-PID)
    let cases = [
        ("bag-before-tags", false, Some("old")),
        ("replace-before-exchange", false, Some("old")),
        ("replace-after-exchange", false, Some("new")),
        ("replace-before-exchange", true, Some("old")),
        ("replace-after-moving-old", true, None),
        ("replace-after-moving-new", true, Some("new")),
    ];
    for (fp, no_exchange, after_kill) in cases {
        let _ = fs::remove_dir_all(env.path("out"));
        let old = package("old");
        let old_args: Vec<&str> = old.iter().map(String::as_str).collect();
        let (code, err) = run_env(&env, &old_args, &[]);
        assert_eq!(code, 0, "{err}");
        let new = package("new");
        let new_args: Vec<&str> = new.iter().map(String::as_str).collect();
        let mut vars = vec![("QOIMA_FAILPOINT", fp)];
        if no_exchange {
            vars.push(("QOIMA_TEST_NO_EXCHANGE", "1"));
        }
        let (code, err) = run_env(&env, &new_args, &vars);
        assert_ne!(code, 0, "{fp}: the failpoint did not fire: {err}");
        assert!(err.contains("failpoint"), "{fp}: {err}");
        assert_eq!(
            which_bag(&env, "out").as_deref(),
            after_kill,
            "{fp} {no_exchange}"
        );
        if after_kill.is_none() {
            assert!(
                leftovers(&env, "out")
                    .iter()
                    .any(|n| n.starts_with(".out.qoima-old-")),
                "{fp}: the old bag is set aside"
            );
        }
        let (code, err) = run_env(&env, &new_args, &[]);
        assert_eq!(code, 0, "{fp}: {err}");
        assert!(err.contains("left by an interrupted run"), "{fp}: {err}");
        assert_eq!(
            err.contains("restored"),
            after_kill.is_none(),
            "{fp}: the set-aside bag is restored only when OUT was missing: {err}"
        );
        assert_eq!(which_bag(&env, "out").as_deref(), Some("new"), "{fp}");
        assert_eq!(
            leftovers(&env, "out"),
            Vec::<String>::new(),
            "{fp} {no_exchange}"
        );
    }
}

/// The id of a process that has exited.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn issue13_leftovers_of_dead_runs_are_removed_and_nothing_else() {
    let env = Env::new();
    env.sample_source("src");
    let dead = dead_pid();
    let removed = [
        format!(".out.qoima-bag-{dead}/data/a.txt"),
        format!("..out.qoima-new-{dead}.qoima-bag-{dead}/data/a.txt"),
        format!(".out.qoima-stage-{dead}/data/a.txt"),
    ];
    let kept = [
        ".out.qoima-bag-1/data/a.txt".to_string(),
        format!(".out.qoima-notes-{dead}"),
        format!(".out.qoima-bag-{dead}x"),
        format!(".outer.qoima-bag-{dead}/x"),
        format!("out.qoima-bag-{dead}/x"),
        format!(".out.qoima-new-{dead}/bagit.txt"),
    ];
    for rel in removed.iter().chain(&kept) {
        env.write(rel, "x");
    }
    // OUT is missing, so a complete bag set to replace it may be the only copy: kept.
    let (code, err) = run_env(&env, &["bag", "src", "-o", "out"], &[]);
    assert_eq!(code, 0, "{err}");
    for rel in &removed {
        let top = rel.split('/').next().unwrap();
        assert!(!env.path(top).exists(), "{top} was not removed");
        assert!(
            err.contains(&format!("removed {top}, left by an interrupted run")),
            "{err}"
        );
    }
    for rel in &kept {
        assert!(env.path(rel).exists(), "{rel} must be left alone");
    }
    assert!(
        err.contains(&format!("left .out.qoima-new-{dead} in place")),
        "{err}"
    );
}

/// Runs qoima until it stops itself at `stoppoint`, lets `change` alter the files, resumes it.
fn stop_change_continue(env: &Env, args: &[&str], change: impl FnOnce()) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_qoima"))
        .args(args)
        .current_dir(env.dir.path())
        .env("SOURCE_DATE_EPOCH", "1641340800")
        .env("QOIMA_STOPPOINT", "serialize-before-write")
        .env_remove("QOIMA_FAILPOINT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let state = stat.rsplit_once(')').unwrap().1.trim_start().chars().next();
        match state {
            Some('T') | Some('t') => break,
            Some('Z') => panic!("qoima exited before the stop point"),
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "qoima never reached the stop point"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    change();
    let ok = Command::new("kill")
        .args(["-CONT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    child.wait_with_output().unwrap()
}

/// Overwrites the first bytes of `path` in place: same file, same size, other content.
fn overwrite_in_place(path: &Path) {
    use std::io::Write;
    let mut f = fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all(b"CHANGED").unwrap();
}

#[test]
fn issue13_zip_of_a_source_changed_after_hashing_is_refused() {
    let env = Env::new();
    env.write("src/a.txt", "original content\n");
    env.write("src/b.txt", "b\n");
    collection(&env, "col");
    let cases = [
        (
            vec!["bag", "src", "-o", "out", "--zip"],
            "src/a.txt",
            "data/a.txt",
            "out",
        ),
        (
            vec!["package", "col", "-o", "pkg", "--tar", "--checksum-file"],
            "col/photos/02-after-january/020-monument-project.jpg",
            "data/photos/02-after-january/020-monument-project.jpg",
            "pkg",
        ),
    ];
    for (args, source, in_bag, out) in cases {
        let r = stop_change_continue(&env, &args, || overwrite_in_place(&env.path(source)));
        let stderr = String::from_utf8_lossy(&r.stderr).into_owned();
        assert_eq!(r.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("error[BAG-084]"), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{in_bag} changed after it was hashed")),
            "{args:?}: {stderr}"
        );
        let names: Vec<String> = fs::read_dir(env.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(out))
            .collect();
        assert_eq!(names, Vec::<String>::new(), "no archive and no leftover");
    }
}

/// Issue 13: on a full disk stderr itself may fail; the error must still end in exit 2 (it
/// ended in a panic, exit 101, when the message was printed with `eprintln!`). Each command's
/// error path, with stderr on `/dev/full` (every write to it fails with ENOSPC). Reports (a
/// `validate` verdict, a summary line) still use `eprintln!`; only the error path is pinned.
#[test]
fn issue13_an_error_exits_2_even_when_stderr_cannot_be_written() {
    let env = Env::new();
    env.sample_bag("bag");
    for args in [
        vec!["bag", "missing", "-o", "out"],
        vec!["package", "missing", "-o", "out"],
        vec!["serialize", "missing", "--zip", "-o", "out.zip"],
        vec!["unpack", "missing.zip", "-o", "out"],
        vec!["seal", "bag", "--sign", "missing-key", "--name", "Desk"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_qoima"))
            .args(&args)
            .current_dir(env.path(""))
            .env_remove("QOIMA_FAILPOINT")
            .stdout(Stdio::null())
            .stderr(fs::File::create("/dev/full").unwrap())
            .status()
            .unwrap();
        assert_eq!(out.code(), Some(2), "qoima {}", args.join(" "));
    }
}

/// A report line on a stderr that cannot be written (a full disk, a closed terminal) must not
/// turn a run's verdict into a panic: the exit code stays the verdict's.
#[test]
fn issue13_a_report_to_an_unwritable_stderr_keeps_the_verdicts_exit_code() {
    let env = Env::new();
    env.sample_bag("bag");
    env.sample_source("src");
    let runs: [(Vec<&str>, i32); 3] = [
        (vec!["validate", "bag"], 0),
        (vec!["bag", "src", "-o", "made"], 0),
        (vec!["validate", "src"], 1),
    ];
    for (args, want) in runs {
        let out = Command::new(env!("CARGO_BIN_EXE_qoima"))
            .args(&args)
            .current_dir(env.path(""))
            .env_remove("QOIMA_FAILPOINT")
            .stdout(Stdio::null())
            .stderr(fs::File::create("/dev/full").unwrap())
            .status()
            .unwrap();
        assert_eq!(out.code(), Some(want), "qoima {}", args.join(" "));
    }
}
