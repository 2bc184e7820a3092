//! `qoima bag --in-place`: a crash at any step loses nothing; rerunning finishes,
//! `--rollback` restores the folder exactly.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use super::util::*;

fn contents(root: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// A source whose top level holds names that collide with what bagging creates.
fn tricky_source(env: &Env) -> std::path::PathBuf {
    let src = env.sample_source("dir");
    env.write("dir/data/already-called-data.txt", "inner");
    env.write("dir/bag-info.txt", "a payload file named like a tag file");
    src
}

fn run_with_failpoint(env: &Env, args: &[&str], fp: &str) -> i32 {
    Command::new(env!("CARGO_BIN_EXE_qoima"))
        .args(args)
        .current_dir(env.dir.path())
        .env("QOIMA_FAILPOINT", fp)
        .env("SOURCE_DATE_EPOCH", "1641340800")
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .code()
        .unwrap_or(-1)
}

#[test]
fn in_place_moves_content_under_data() {
    let env = Env::new();
    let dir = tricky_source(&env);
    let before = contents(&dir);
    env.qoima(&["bag", "--in-place", "dir"]).success();
    let after = contents(&dir.join("data"));
    assert_eq!(before, after);
    env.qoima(&["validate", "dir"]).success();
    // A second run must not nest the bag into itself.
    let again = env.qoima(&["bag", "--in-place", "dir"]);
    assert_eq!(again.code(), 2);
    assert!(
        again.stderr().contains("looks like a bag"),
        "{}",
        again.stderr()
    );
}

const FAILPOINTS: [&str; 8] = [
    "inplace-journal",
    "inplace-move:1",
    "inplace-move:4",
    "inplace-move:9",
    "inplace-moved",
    "inplace-renamed",
    "tag-write:1",
    "tag-write:5",
];

#[test]
fn a_crash_at_any_step_then_rerun_finishes() {
    for fp in FAILPOINTS {
        let env = Env::new();
        let dir = tricky_source(&env);
        let before = contents(&dir);
        let code = run_with_failpoint(&env, &["bag", "--in-place", "dir"], fp);
        assert_ne!(code, 0, "{fp}: the failpoint did not fire");
        // Every original byte is still somewhere in the folder.
        let mid: Vec<Vec<u8>> = contents(&dir).into_values().collect();
        for (name, data) in &before {
            assert!(mid.contains(data), "{fp}: content of {name} lost");
        }
        let v = env.qoima(&["validate", "--json", "dir"]);
        assert_ne!(v.code(), 0, "{fp}: an interrupted bag must not validate");
        env.qoima(&["bag", "--in-place", "dir"]).success();
        assert_eq!(contents(&dir.join("data")), before, "{fp}");
        env.qoima(&["validate", "dir"]).success();
        assert!(!dir.join(".qoima-inplace.json").exists());
    }
}

#[test]
fn a_crash_at_any_step_then_rollback_restores_exactly() {
    for fp in FAILPOINTS {
        let env = Env::new();
        let dir = tricky_source(&env);
        let before = contents(&dir);
        run_with_failpoint(&env, &["bag", "--in-place", "dir"], fp);
        let r = env.qoima(&["bag", "--rollback", "dir"]);
        r.success();
        assert_eq!(contents(&dir), before, "{fp}");
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(names.is_empty(), "{fp}: leftovers {names:?}");
    }
}

#[test]
fn refusal_happens_before_anything_moves() {
    let env = Env::new();
    let dir = env.sample_source("dir");
    std::os::unix::fs::symlink("/etc/hostname", dir.join("link")).unwrap();
    let before = contents(&dir);
    let r = env.qoima(&["bag", "--json", "--in-place", "dir"]);
    assert_eq!(r.code(), 1);
    assert_eq!(r.json()["problems"][0]["code"], "BAG-072");
    assert_eq!(contents(&dir), before);
    assert!(!dir.join("data").exists());
    let r = env.qoima(&["bag", "--rollback", "dir"]);
    assert_eq!(r.code(), 2, "nothing to roll back");
}

#[test]
fn an_interrupted_copy_leaves_no_bag() {
    let env = Env::new();
    env.sample_source("src");
    let code = run_with_failpoint(&env, &["bag", "src", "-o", "out"], "bag-before-tags");
    assert_ne!(code, 0);
    assert!(
        !env.path("out").exists(),
        "no finished-looking bag after a crash"
    );
    env.qoima(&["bag", "src", "-o", "out"]).success();
}

#[test]
fn an_interrupted_rollback_is_finished_by_rerunning_it_and_never_by_bagging() {
    for fp in ["inplace-renamed", "tag-write:3", "inplace-move:4"] {
        let env = Env::new();
        let dir = tricky_source(&env);
        let before = contents(&dir);
        run_with_failpoint(&env, &["bag", "--in-place", "dir"], fp);
        let code = run_with_failpoint(&env, &["bag", "--rollback", "dir"], "rollback-restore:2");
        assert_ne!(code, 0, "{fp}: the rollback failpoint did not fire");
        if fp != "inplace-move:4" {
            // Bagging now would take restored originals for qoima's own files.
            let r = env.qoima(&["bag", "--in-place", "dir"]);
            assert_eq!(r.code(), 2, "{fp}: {}", r.stderr());
            assert!(r.stderr().contains("--rollback"), "{}", r.stderr());
        }
        env.qoima(&["bag", "--rollback", "dir"]).success();
        assert_eq!(contents(&dir), before, "{fp}");
    }
}

/// The names at the top of `dir` that start with a dot (qoima's would).
fn dot_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// `(code, file)` of each problem of a refused `bag --json`.
fn refusal(r: &Run) -> Vec<(String, String)> {
    r.json()["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_string(),
                p["file"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn issue13_user_files_named_like_temporaries_are_bagged_and_never_deleted_by_rollback() {
    for fp in ["inplace-move:4", "inplace-renamed", "tag-write:3"] {
        let env = Env::new();
        let dir = env.sample_source("dir");
        env.write("dir/notes.qoima-write-1.txt", "mine");
        env.write("dir/.bag-info.txt.qoima-write-77", "also mine");
        let before = contents(&dir);
        run_with_failpoint(&env, &["bag", "--in-place", "dir"], fp);
        env.qoima(&["bag", "--rollback", "dir"]).success();
        assert_eq!(contents(&dir), before, "{fp}: rollback lost a user file");
    }
    let env = Env::new();
    let dir = env.sample_source("dir");
    env.write("dir/notes.qoima-write-1.txt", "mine");
    env.write("dir/.bag-info.txt.qoima-write-77", "also mine");
    let before = contents(&dir);
    env.qoima(&["bag", "--in-place", "dir"]).success();
    assert_eq!(
        contents(&dir.join("data")),
        before,
        "a user file was skipped"
    );
    env.qoima(&["validate", "dir"]).success();
}

#[test]
fn issue13_a_source_folder_named_like_the_staging_folder_is_refused_untouched() {
    let env = Env::new();
    let dir = env.sample_source("dir");
    env.write("dir/.qoima-payload/kept.txt", "mine");
    let before = contents(&dir);
    let r = env.qoima(&["bag", "--json", "--in-place", "dir"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert_eq!(
        refusal(&r),
        vec![("BAG-090".to_string(), ".qoima-payload".to_string())]
    );
    assert_eq!(contents(&dir), before);
    assert_eq!(dot_names(&dir), vec![".qoima-payload"]);
}

#[test]
fn issue13_a_user_file_named_like_the_journal_is_refused_untouched() {
    let env = Env::new();
    let dir = env.sample_source("dir");
    env.write("dir/.qoima-inplace.json", "{\"my\": \"settings\"}");
    let before = contents(&dir);
    for args in [
        ["bag", "--json", "--in-place", "dir"],
        ["bag", "--json", "--rollback", "dir"],
    ] {
        let r = env.qoima(&args);
        assert_eq!(r.code(), 1, "{args:?}: {}", r.stderr());
        assert_eq!(
            refusal(&r),
            vec![("BAG-090".to_string(), ".qoima-inplace.json".to_string())],
            "{args:?}"
        );
        assert_eq!(contents(&dir), before, "{args:?}");
    }
}

#[test]
fn issue13_the_journal_temporary_of_a_crash_is_removed_and_a_look_alike_refused() {
    // A crash while the first journal was written leaves its temporary, which reads as one.
    let env = Env::new();
    let dir = env.sample_source("dir");
    let before = contents(&dir);
    let journal = r#"{"qoima_in_place": 1, "stage": "prepared", "entries": ["a.txt"]}"#;
    env.write("dir/..qoima-inplace.json.qoima-write-4242", journal);
    env.qoima(&["bag", "--in-place", "dir"]).success();
    assert_eq!(contents(&dir.join("data")), before);
    assert!(dot_names(&dir).is_empty(), "{:?}", dot_names(&dir));
    // A file of that form that is not a journal is not qoima's: refused, kept.
    let env = Env::new();
    let dir = env.sample_source("dir");
    env.write("dir/..qoima-inplace.json.qoima-write-4242", "not a journal");
    let before = contents(&dir);
    let r = env.qoima(&["bag", "--json", "--in-place", "dir"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert_eq!(
        refusal(&r),
        vec![(
            "BAG-090".to_string(),
            "..qoima-inplace.json.qoima-write-4242".to_string()
        )]
    );
    assert_eq!(contents(&dir), before);
}

#[test]
fn issue13_a_rerun_after_a_crash_leaves_no_stale_temporary_in_the_bag() {
    let env = Env::new();
    let dir = env.sample_source("dir");
    let before = contents(&dir);
    let code = run_with_failpoint(&env, &["bag", "--in-place", "dir"], "tag-write:2");
    assert_ne!(code, 0);
    // What a kill in the middle of writing a tag manifest leaves behind.
    env.write("dir/.manifest-sha512.txt.qoima-write-4242", "half a manif");
    env.write("dir/..qoima-inplace.json.qoima-write-4243", "{\"qoima_in");
    env.qoima(&["bag", "--in-place", "dir"]).success();
    assert!(dot_names(&dir).is_empty(), "{:?}", dot_names(&dir));
    assert_eq!(contents(&dir.join("data")), before);
    env.qoima(&["validate", "dir"]).success();
}

/// Runs qoima as the unprivileged user `nobody` (root bypasses mode bits), or `None` with the
/// reason printed when that cannot be done here.
fn qoima_as_nobody(env: &Env, args: &[&str]) -> Option<Run> {
    let root = std::process::Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&root.stdout).trim() != "0" {
        eprintln!("skipped: switching to an unprivileged user needs root");
        return None;
    }
    let chown = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(env.dir.path())
        .status();
    if !chown.is_ok_and(|s| s.success()) {
        eprintln!("skipped: cannot chown the test folder to nobody");
        return None;
    }
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_qoima"))
        .args(args)
        .current_dir(env.dir.path())
        .env("SOURCE_DATE_EPOCH", "1641340800")
        .env_remove("QOIMA_FAILPOINT")
        .output();
    match out {
        Ok(o) => Some(Run(o)),
        Err(e) => {
            eprintln!("skipped: setpriv is not available ({e})");
            None
        }
    }
}

#[test]
fn issue13_a_read_only_subfolder_is_refused_before_anything_moves() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let dir = env.sample_source("dir");
    env.write("dir/cd/track01.txt", "from a CD");
    let before = contents(&dir);
    fs::set_permissions(dir.join("cd"), fs::Permissions::from_mode(0o555)).unwrap();
    let Some(r) = qoima_as_nobody(&env, &["bag", "--json", "--in-place", "dir"]) else {
        return;
    };
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert_eq!(refusal(&r), vec![("BAG-091".to_string(), "cd".to_string())]);
    assert!(r.stderr().contains("chmod u+w"), "{}", r.stderr());
    assert_eq!(contents(&dir), before, "something moved");
    assert!(dot_names(&dir).is_empty(), "{:?}", dot_names(&dir));
    // Doing what the message says makes the run succeed.
    fs::set_permissions(dir.join("cd"), fs::Permissions::from_mode(0o755)).unwrap();
    qoima_as_nobody(&env, &["bag", "--in-place", "dir"])
        .unwrap()
        .success();
    assert_eq!(contents(&dir.join("data")), before);
}

#[test]
fn issue13_an_immutable_entry_is_refused_before_anything_moves() {
    let env = Env::new();
    let dir = env.sample_source("dir");
    let before = contents(&dir);
    let chattr = |flag: &str| {
        Command::new("chattr")
            .arg(flag)
            .arg(dir.join("sub"))
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !chattr("+i") {
        eprintln!("skipped: chattr +i is not available on this file system or to this user");
        return;
    }
    let r = env.qoima(&["bag", "--json", "--in-place", "dir"]);
    assert!(chattr("-i"), "cannot clear the immutable flag again");
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert_eq!(
        refusal(&r),
        vec![("BAG-091".to_string(), "sub".to_string())]
    );
    assert_eq!(contents(&dir), before, "something moved");
    assert!(dot_names(&dir).is_empty(), "{:?}", dot_names(&dir));
}
