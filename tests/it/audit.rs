//! `qoima audit`: the register, the five change classes, a re-written manifest, a killed
//! audit resumed, concurrent audits, budgets, and the reports.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::util::*;

fn audit(env: &Env, args: &[&str]) -> (i32, Value) {
    let mut a = vec!["audit", "--json", "--register", "reg.db"];
    a.extend_from_slice(args);
    let r = env.qoima(&a);
    (r.code(), r.json())
}

fn counts(au: &Value) -> [u64; 5] {
    let c = &au["counts"];
    [
        c["confirmed"].as_u64().unwrap(),
        c["changed"].as_u64().unwrap(),
        c["missing"].as_u64().unwrap(),
        c["new"].as_u64().unwrap(),
        c["moved"].as_u64().unwrap(),
    ]
}

/// (class, path) of the findings that classify payload files.
fn classes(au: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = au["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["class"].is_string())
        .map(|f| {
            (
                f["class"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn history_len(env: &Env, bag: &str) -> usize {
    let r = env.qoima(&["audit", "history", bag, "--register", "reg.db", "--json"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    r.json()["audits"].as_array().unwrap().len()
}

#[test]
fn the_first_audit_records_a_baseline_and_later_ones_find_the_five_classes() {
    let env = Env::new();
    env.sample_bag("b");
    let (code, v) = audit(&env, &["b"]);
    assert_eq!(code, 0, "{v:#}");
    let au = &v["audits"][0];
    assert_eq!(au["outcome"], "passed");
    assert_eq!(au["baseline_recorded"], true);
    assert_eq!(counts(au), [7, 0, 0, 0, 0]);

    // Bit rot, a rename on disk, a deletion and a stray file.
    fs::write(env.path("b/data/a.txt"), "jello\n").unwrap();
    fs::rename(env.path("b/data/sub/b.txt"), env.path("b/data/sub/b2.txt")).unwrap();
    fs::remove_file(env.path("b/data/with space.txt")).unwrap();
    env.write("b/data/new.txt", "new\n");
    let (code, v) = audit(&env, &["b"]);
    assert_eq!(code, 1);
    let au = &v["audits"][0];
    assert_eq!(au["outcome"], "failed");
    assert_eq!(au["baseline_recorded"], false);
    assert_eq!(au["manifest_rewritten"], false);
    assert_eq!(counts(au), [4, 1, 1, 1, 1]);
    assert_eq!(
        classes(au),
        [
            ("changed".into(), "data/a.txt".into()),
            ("missing".into(), "data/with space.txt".into()),
            ("moved".into(), "data/sub/b2.txt".into()),
            ("new".into(), "data/new.txt".into()),
        ]
    );
    // The validator's codes are kept beside the classes.
    let codes: Vec<&str> = au["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(codes.contains(&"BAG-036"), "{codes:?}");
    assert!(codes.contains(&"BAG-035"), "{codes:?}");
    assert_eq!(history_len(&env, "b"), 2);
}

#[test]
fn a_rebagged_alteration_validates_but_the_audit_sees_the_rewritten_manifest() {
    let env = Env::new();
    env.sample_bag("b");
    assert_eq!(audit(&env, &["b"]).0, 0);
    // Someone alters a photo and makes the bag anew: it is valid in itself.
    fs::rename(env.path("b/data"), env.path("payload")).unwrap();
    fs::remove_dir_all(env.path("b")).unwrap();
    fs::write(env.path("payload/a.txt"), "altered\n").unwrap();
    env.qoima(&["bag", "payload", "-o", "b"]).success();
    env.qoima(&["validate", "b"]).success();
    let (code, v) = audit(&env, &["b"]);
    assert_eq!(code, 1, "{v:#}");
    let au = &v["audits"][0];
    assert_eq!(au["verdict"], "valid");
    assert_eq!(au["manifest_rewritten"], true);
    assert_eq!(classes(au), [("changed".into(), "data/a.txt".into())]);
    let tag_findings: Vec<&str> = au["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["class"].is_null())
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        tag_findings.contains(&"manifest-sha512.txt"),
        "{tag_findings:?}"
    );
}

#[test]
fn a_killed_audit_is_resumed_and_marked_interrupted() {
    let env = Env::new();
    for b in ["b1", "b2", "b3"] {
        env.sample_bag(b);
    }
    let r = Command::new(env!("CARGO_BIN_EXE_qoima"))
        .current_dir(env.dir.path())
        .env("SOURCE_DATE_EPOCH", "1641340800")
        .env("QOIMA_FAILPOINT", "audit-after-bag:1")
        .args(["audit", "-q", "--register", "reg.db", "b1", "b2", "b3"])
        .output()
        .unwrap();
    assert!(!r.status.success(), "the failpoint kills the audit");
    // What was recorded before the kill stays (small bags are recorded a group at a time,
    // so one or more); the rerun audits only the others and skips those as fresh.
    let recorded: usize = ["b1", "b2", "b3"]
        .iter()
        .map(|b| {
            let r = env.qoima(&["audit", "history", b, "--register", "reg.db", "--json"]);
            if r.code() == 0 {
                r.json()["audits"].as_array().unwrap().len()
            } else {
                0
            }
        })
        .sum();
    assert!((1..=3).contains(&recorded), "{recorded}");
    let (code, v) = audit(&env, &["--older-than", "1d", "b1", "b2", "b3"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["audits"].as_array().unwrap().len(), 3 - recorded);
    assert_eq!(v["skipped"].as_array().unwrap().len(), recorded);
    assert_eq!(v["skipped"][0]["reason"], "fresh");
    // Every bag audited exactly once across the two runs.
    for b in ["b1", "b2", "b3"] {
        assert_eq!(history_len(&env, b), 1, "{b}");
    }
    let r = env.qoima(&["audit", "report", "--register", "reg.db", "--json"]);
    let runs = r.json()["runs"].as_array().unwrap().clone();
    let outcomes: Vec<&str> = runs
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["interrupted", "passed"]);
}

#[test]
fn two_audits_at_once_share_the_register_and_audit_each_bag_once() {
    let env = Env::new();
    let bags: Vec<String> = (0..12).map(|i| format!("b{i}")).collect();
    for b in &bags {
        env.sample_bag(b);
    }
    let spawn = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_qoima"));
        c.current_dir(env.dir.path())
            .args(["audit", "-q", "--register", "reg.db", "--older-than", "1d"])
            .args(&bags);
        c.spawn().unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (ra, rb) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(ra.status.success() && rb.status.success());
    for b in &bags {
        assert_eq!(history_len(&env, b), 1, "{b} audited twice or never");
    }
    env.qoima(&["audit", "report", "--register", "reg.db"])
        .success();
}

#[test]
fn a_vanished_bag_is_recorded_unreadable_and_budgets_leave_bags_for_the_next_run() {
    let env = Env::new();
    env.sample_bag("b1");
    env.sample_bag("b2");
    env.sample_bag("b3");
    let (code, v) = audit(&env, &["gone"]);
    assert_eq!(code, 1);
    assert_eq!(v["audits"][0]["outcome"], "unreadable");
    assert!(v["audits"][0]["error"].as_str().unwrap().contains("gone"));
    assert_eq!(history_len(&env, "gone"), 1);
    // --max-bytes 1: the first bag is audited, the others wait; the next run takes the
    // bags never verified first.
    let (code, v) = audit(&env, &["--max-bytes", "1", "b1", "b2", "b3"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["outcome"], "stopped");
    assert_eq!(v["audits"].as_array().unwrap().len(), 1);
    let first = v["audits"][0]["bag"].as_str().unwrap().to_string();
    assert!(first.ends_with("b1"), "{first}");
    let (_, v) = audit(&env, &["--max-bytes", "1", "b1", "b2", "b3"]);
    assert!(
        v["audits"][0]["bag"].as_str().unwrap().ends_with("b2"),
        "{v:#}"
    );
}

#[test]
fn a_serialized_bag_is_audited_in_place() {
    let env = Env::new();
    env.sample_bag("b");
    env.qoima(&["serialize", "b", "--zip"]).success();
    let (code, v) = audit(&env, &["b.zip"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(counts(&v["audits"][0]), [7, 0, 0, 0, 0]);
}

fn xmllint_premis(file: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(root.join("schemas/premis.xsd"))
        .arg(file)
        .env("XML_CATALOG_FILES", root.join("schemas/catalog.xml"))
        .output()
        .expect("xmllint is needed (scripts/test.sh installs libxml2-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn history_report_and_premis_export_read_the_register() {
    let env = Env::new();
    env.sample_bag("b");
    audit(&env, &["b"]);
    fs::write(env.path("b/data/a.txt"), "jello\n").unwrap();
    audit(&env, &["b"]);
    let r = env.qoima(&[
        "audit",
        "history",
        "b",
        "--register",
        "reg.db",
        "--format",
        "csv",
    ]);
    assert_eq!(r.code(), 0);
    assert_eq!(r.stdout().lines().count(), 3, "{}", r.stdout());
    let r = env.qoima(&["audit", "report", "--register", "reg.db", "--json"]);
    let v = r.json();
    assert_eq!(v["audits"], 2);
    assert_eq!(v["failures"], 1);
    env.qoima(&[
        "audit",
        "report",
        "--register",
        "reg.db",
        "--format",
        "html",
        "-o",
        "r.html",
    ])
    .success();
    let html = fs::read_to_string(env.path("r.html")).unwrap();
    assert!(html.contains("<svg"), "no chart");
    assert!(
        !html.contains("http://") || !html.contains("<script src"),
        "external resources"
    );
    env.qoima(&[
        "audit",
        "export-premis",
        "b",
        "--register",
        "reg.db",
        "-o",
        "premis.xml",
    ])
    .success();
    xmllint_premis(&env.path("premis.xml"));
    let xml = fs::read_to_string(env.path("premis.xml")).unwrap();
    assert_eq!(xml.matches("fixity check").count(), 2, "{xml}");
    // A bag never audited is an error, not an empty history.
    let r = env.qoima(&["audit", "history", "nope", "--register", "reg.db"]);
    assert_eq!(r.code(), 2);
}

/// The HTML report renders in a real browser (headless Chromium), when one is installed
/// (scripts/test.sh installs Debian's chromium; QOIMA_SKIP_BROWSER=1 skips).
#[test]
fn the_html_report_renders_in_headless_chromium() {
    if std::env::var_os("QOIMA_SKIP_BROWSER").is_some() {
        return;
    }
    let env = Env::new();
    env.sample_bag("b");
    audit(&env, &["b"]);
    fs::write(env.path("b/data/a.txt"), "jello\n").unwrap();
    audit(&env, &["b"]);
    env.qoima(&[
        "audit",
        "report",
        "--register",
        "reg.db",
        "--format",
        "html",
        "-o",
        "r.html",
    ])
    .success();
    let profile = env.path("chromium-profile");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", env.path("r.html").display()))
        .output()
        .expect("chromium is needed (scripts/test.sh installs it; QOIMA_SKIP_BROWSER=1 skips)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(dom.contains("<svg"), "{dom}");
    assert!(
        dom.contains("data/a.txt"),
        "the failing file is listed: {dom}"
    );
}

#[test]
fn schedule_options_are_parsed_or_refused_before_anything_is_read() {
    let env = Env::new();
    env.sample_bag("b");
    for bad in [
        ["--rate", "0"],
        ["--rate", "fast"],
        ["--older-than", "90x"],
        ["--max-bytes", "lots"],
        ["--max-duration", "2 hours"],
    ] {
        let r = env.qoima(&["audit", "--register", "reg.db", bad[0], bad[1], "b"]);
        assert_eq!(r.code(), 2, "{bad:?}: {}", r.stderr());
        assert!(
            r.stderr().contains(bad[1]) || bad[1] == "0",
            "{bad:?}: {}",
            r.stderr()
        );
    }
    assert!(
        !env.path("reg.db").exists(),
        "no register is made for a refused run"
    );
    let (code, v) = audit(
        &env,
        &[
            "--rate",
            "200MiB/s",
            "--older-than",
            "2w",
            "--max-duration",
            "1h",
            "b",
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["audits"][0]["outcome"], "passed");
}
