//! `qoima bag --update` (issue 14, point 15): a bag changed on purpose gets new manifests,
//! Payload-Oxum and tag manifests in one read; the report names every added, removed and
//! changed file; a kill at any step leaves the old bag, the new bag, or a journal a rerun
//! finishes; sealed and packaged bags are refused without --force.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::util::*;

/// Every file of `root`, by relative path.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
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

/// The manifest `name` of `bag`, as path → checksum.
fn manifest(bag: &Path, name: &str) -> BTreeMap<String, String> {
    fs::read_to_string(bag.join(name))
        .unwrap()
        .lines()
        .map(|l| {
            let (sum, path) = l.split_once("  ").unwrap();
            (path.to_string(), sum.to_string())
        })
        .collect()
}

/// A sample bag with a user tag file, then a deliberate change: one file edited, one
/// removed, one added.
fn changed_bag(env: &Env, name: &str) -> std::path::PathBuf {
    let bag = env.sample_bag(name);
    env.write(&format!("{name}/notes/provenance.txt"), "from the donor\n");
    refresh_tag_manifests(&bag);
    env.write(&format!("{name}/data/a.txt"), "hello, edited\n");
    fs::remove_file(bag.join("data/sub/b.txt")).unwrap();
    env.write(&format!("{name}/data/new/c.txt"), "added later\n");
    bag
}

fn update_json(env: &Env, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["bag", "--update", "--json"];
    all.extend_from_slice(args);
    let r = env.qoima(&all);
    (r.code(), r.json())
}

/// `(code, file)` of the problems of a `bag --json` report.
fn codes(v: &Value) -> Vec<(String, String)> {
    v["problems"]
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

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn issue14_update_reports_each_added_removed_and_changed_file_and_the_bag_validates() {
    let env = Env::new();
    let bag = changed_bag(&env, "bag");
    let before = fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    assert_ne!(env.qoima(&["validate", "bag"]).code(), 0);
    let (code, v) = update_json(&env, &["bag"]);
    assert_eq!(code, 0, "{v}");
    let u = &v["update"];
    assert_eq!(strings(&u["added"]), ["data/new/c.txt"]);
    assert_eq!(strings(&u["removed"]), ["data/sub/b.txt"]);
    assert_eq!(strings(&u["changed"]), ["data/a.txt"]);
    assert_eq!(strings(&u["tag_files"]), ["notes/provenance.txt"]);
    env.qoima(&["validate", "bag"]).success();
    // The manifests hold reference digests of the files as they are now.
    let sha256 = manifest(&bag, "manifest-sha256.txt");
    assert_eq!(sha256["data/a.txt"], sha256_hex(b"hello, edited\n"));
    assert_eq!(sha256["data/new/c.txt"], sha256_hex(b"added later\n"));
    assert!(!sha256.contains_key("data/sub/b.txt"));
    let sha512 = manifest(&bag, "manifest-sha512.txt");
    assert_eq!(sha512["data/a.txt"], sha512_hex(b"hello, edited\n"));
    // The user's tag file is hashed into the tag manifests.
    let tags = manifest(&bag, "tagmanifest-sha256.txt");
    assert_eq!(
        tags["notes/provenance.txt"],
        sha256_hex(b"from the donor\n")
    );
    // Payload-Oxum is recomputed; Bagging-Date and Bag-Software-Agent are kept.
    let payload = tree(&bag.join("data"));
    let octets: usize = payload.values().map(Vec::len).sum();
    let oxum = format!("{octets}.{}", payload.len());
    assert_eq!(u["payload_oxum"], oxum.as_str());
    let after = fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    assert!(
        after.contains(&format!("Payload-Oxum: {oxum}\n")),
        "{after}"
    );
    for label in ["Bagging-Date:", "Bag-Software-Agent:"] {
        let line = |t: &str| {
            t.lines()
                .find(|l| l.starts_with(label))
                .unwrap()
                .to_string()
        };
        assert_eq!(line(&before), line(&after));
    }
    // A second update finds nothing to report.
    let (code, v) = update_json(&env, &["bag"]);
    assert_eq!(code, 0);
    assert_eq!(v["update"]["changed"].as_array().unwrap().len(), 0);
}

#[test]
fn issue14_update_adds_and_removes_algorithms_in_the_same_read() {
    let env = Env::new();
    let bag = changed_bag(&env, "bag");
    let (code, v) = update_json(
        &env,
        &[
            "bag",
            "--add-algorithm",
            "md5,sha1",
            "--remove-algorithm",
            "sha512",
        ],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        strings(&v["update"]["algorithms"]),
        ["md5", "sha1", "sha256"]
    );
    assert_eq!(strings(&v["update"]["algorithms_removed"]), ["sha512"]);
    assert!(!bag.join("manifest-sha512.txt").exists());
    assert!(!bag.join("tagmanifest-sha512.txt").exists());
    let md5 = manifest(&bag, "manifest-md5.txt");
    let reference: String = {
        use md5::Digest as _;
        md5::Md5::digest(b"hello, edited\n")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert_eq!(md5["data/a.txt"], reference);
    env.qoima(&["validate", "bag"]).success();
    // The last algorithm cannot go; nothing is changed.
    let before = tree(&bag);
    let (code, v) = update_json(&env, &["bag", "--remove-algorithm", "md5,sha1,sha256"]);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), [("BAG-143".to_string(), "data".to_string())]);
    assert_eq!(tree(&bag), before);
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

/// Names qoima's update may leave behind at the bag's top.
fn leftovers(bag: &Path) -> Vec<String> {
    fs::read_dir(bag)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("qoima"))
        .collect()
}

const FAILPOINTS: [&str; 10] = [
    "tag-write:1",
    "tag-write:4",
    "update-staged",
    "update-journal",
    "update-put:1",
    "update-put:3",
    "update-put:6",
    "update-removed",
    "update-cleaned",
    "tag-write:6",
];

#[test]
fn issue14_a_crash_at_every_step_leaves_the_old_or_the_new_bag_or_a_rerun_finishes_it() {
    // Algorithm changes only: the old bag is valid, so every instant can be judged.
    let args = [
        "bag",
        "--update",
        "bag",
        "--add-algorithm",
        "md5",
        "--remove-algorithm",
        "sha512",
    ];
    let reference = {
        let env = Env::new();
        let bag = env.sample_bag("bag");
        env.qoima(&args).success();
        tree(&bag)
    };
    for fp in FAILPOINTS {
        let env = Env::new();
        let bag = env.sample_bag("bag");
        let old = tree(&bag);
        let code = run_with_failpoint(&env, &args, fp);
        assert_ne!(code, 0, "{fp}: the failpoint did not fire");
        let now = tree(&bag);
        let journal = bag.join(".qoima-update.json").exists();
        let untouched = old.iter().all(|(k, v)| now.get(k) == Some(v));
        let valid = env.qoima(&["validate", "bag"]).code() == 0;
        assert!(
            untouched || valid || journal,
            "{fp}: neither the old bag, nor a valid one, nor a journal to finish"
        );
        if !journal {
            assert!(valid, "{fp}: without a journal the bag must validate");
        }
        env.qoima(&["bag", "--update", "bag"]).success();
        if untouched && !journal {
            // Killed before the commit point: the rerun (without the options) changed
            // nothing but the leftovers; run the update asked for.
            env.qoima(&args).success();
        }
        assert_eq!(tree(&bag), reference, "{fp}: the finished bag differs");
        assert!(leftovers(&bag).is_empty(), "{fp}: {:?}", leftovers(&bag));
        env.qoima(&["validate", "bag"]).success();
    }
}

#[test]
fn issue14_a_crash_with_a_payload_change_is_finished_by_a_rerun() {
    let reference = {
        let env = Env::new();
        let bag = changed_bag(&env, "bag");
        env.qoima(&["bag", "--update", "bag"]).success();
        tree(&bag)
    };
    for fp in ["update-journal", "update-put:2", "update-cleaned"] {
        let env = Env::new();
        let bag = changed_bag(&env, "bag");
        run_with_failpoint(&env, &["bag", "--update", "bag"], fp);
        let (code, v) = update_json(&env, &["bag"]);
        assert_eq!(code, 0, "{fp}: {v}");
        assert_eq!(v["outcome"], "resumed", "{fp}");
        assert_eq!(tree(&bag), reference, "{fp}");
        assert!(leftovers(&bag).is_empty(), "{fp}");
    }
}

#[test]
fn issue14_a_journal_that_is_not_qoimas_is_refused_and_obeyed_in_nothing() {
    let env = Env::new();
    let bag = env.sample_bag("bag");
    env.write(
        "bag/.qoima-update.json",
        r#"{"qoima_update":1,"staging":".qoima-update-stage-1","keep":[],"keep_in":null,"put":[],"remove":["data/a.txt"]}"#,
    );
    let before = tree(&bag);
    let (code, v) = update_json(&env, &["bag"]);
    assert_eq!(code, 1);
    assert_eq!(
        codes(&v),
        [("BAG-141".to_string(), ".qoima-update.json".to_string())]
    );
    assert_eq!(tree(&bag), before);
}

#[test]
fn issue14_a_holey_bag_is_refused_until_fetched() {
    let env = Env::new();
    let bag = env.sample_bag("bag");
    env.write("bag/fetch.txt", "https://example.org/x 3 data/x.txt\n");
    let before = tree(&bag);
    let (code, v) = update_json(&env, &["bag"]);
    assert_eq!(code, 1);
    assert_eq!(
        codes(&v),
        [("BAG-142".to_string(), "fetch.txt".to_string())]
    );
    assert_eq!(tree(&bag), before);
}

#[test]
fn issue14_a_sealed_bag_is_refused_without_force_and_without_a_signer() {
    let env = Env::new();
    let bag = changed_bag(&env, "bag");
    fs::create_dir(bag.join("seal")).unwrap();
    let before = tree(&bag);
    for extra in [&[][..], &["--force"][..]] {
        let mut args = vec!["bag"];
        args.extend_from_slice(extra);
        let (code, v) = update_json(&env, &args);
        assert_eq!(code, 1, "{extra:?}");
        assert_eq!(codes(&v), [("BAG-144".to_string(), "seal".to_string())]);
        assert_eq!(tree(&bag), before);
    }
}

#[test]
fn issue14_a_packaged_bag_changes_only_in_what_keeps_its_mets_true() {
    let env = Env::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/collections/qantar-2022");
    env.qoima(&[
        "package",
        src.to_str().unwrap(),
        "-o",
        "pkg",
        "--source-organization",
        "Q",
    ])
    .success();
    let bag = env.path("pkg");
    let before = tree(&bag);
    let (code, v) = update_json(&env, &["pkg", "--add-algorithm", "md5"]);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), [("BAG-145".to_string(), "mets.xml".to_string())]);
    assert_eq!(tree(&bag), before);
    // With --force an algorithm change keeps the METS true, and the bag (METS checks
    // included) validates.
    let (code, v) = update_json(&env, &["pkg", "--force", "--add-algorithm", "md5"]);
    assert_eq!(code, 0, "{v}");
    env.qoima(&["validate", "pkg"]).success();
    // A payload change would make the METS false: refused, even with --force.
    env.write("pkg/data/added.txt", "x");
    let before = tree(&bag);
    let (code, v) = update_json(&env, &["pkg", "--force"]);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), [("BAG-145".to_string(), "mets.xml".to_string())]);
    assert_eq!(tree(&bag), before);
}

#[test]
fn issue14_update_takes_the_bags_lock() {
    let env = Env::new();
    let bag = changed_bag(&env, "bag");
    let mut holder = Command::new("flock")
        .arg(&bag)
        .args(["sleep", "30"])
        .spawn()
        .unwrap();
    // Wait until the holder has the lock.
    for _ in 0..100 {
        let probe = Command::new("flock")
            .args(["-n"])
            .arg(&bag)
            .arg("true")
            .status()
            .unwrap();
        if !probe.success() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let before = tree(&bag);
    let r = env.qoima(&["bag", "--update", "bag"]);
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_eq!(r.code(), 2, "{}", r.stderr());
    assert!(
        r.stderr().contains("in use by another qoima run"),
        "{}",
        r.stderr()
    );
    assert_eq!(tree(&bag), before);
}

/// A sealed bag `sealed` (key `sealer`) and a custodian's key `registrar`; both trusted in
/// `trusted`.
fn sealed_bag(env: &Env) -> std::path::PathBuf {
    env.write("src/a.txt", "original\n");
    env.write("src/b.txt", "kept\n");
    env.qoima(&[
        "bag",
        "src",
        "-o",
        "sealed",
        "--external-identifier",
        "sealed",
    ])
    .success();
    for k in ["sealer", "registrar"] {
        env.qoima(&["keygen", "-o", k, "--unencrypted"]).success();
    }
    env.qoima(&[
        "seal",
        "sealed",
        "--sign",
        "sealer",
        "--name",
        "Intake desk",
    ])
    .success();
    let keys: String = ["sealer", "registrar"]
        .iter()
        .map(|k| fs::read_to_string(env.path(&format!("{k}.pub"))).unwrap())
        .collect();
    env.write("trusted", keys);
    env.path("sealed")
}

#[test]
fn issue14_force_on_a_sealed_bag_breaks_the_seal_loudly_and_verify_seal_says_by_whom() {
    let env = Env::new();
    let bag = sealed_bag(&env);
    let sealed_tm = fs::read(bag.join("tagmanifest-sha256.txt")).unwrap();
    env.write("sealed/data/a.txt", "corrected\n");
    let (code, v) = update_json(
        &env,
        &[
            "sealed",
            "--force",
            "--sign",
            "registrar",
            "--agent",
            "Registrar",
        ],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(strings(&v["update"]["changed"]), ["data/a.txt"]);
    assert_eq!(v["update"]["seal_broken"], true);
    assert_eq!(v["update"]["custody_entry"], "custody/000001.json");
    assert_eq!(codes(&v), [("BAG-W080".to_string(), "seal".to_string())]);
    // The tag manifest as sealed is kept beside its signature; the bag itself validates.
    assert_eq!(
        fs::read(bag.join("seal/tagmanifest-sha256.txt")).unwrap(),
        sealed_tm
    );
    env.qoima(&["validate", "sealed"]).success();
    // verify-seal: the seal's signatures verify (over what was sealed), the custody log
    // verifies, and the one failure is that the bag changed after sealing, by the registrar.
    let r = env.qoima(&[
        "verify-seal",
        "sealed",
        "--trusted-keys",
        "trusted",
        "--json",
    ]);
    assert_eq!(r.code(), 1, "{}", r.stdout());
    let report = r.json();
    let problems: Vec<(String, String)> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["severity"] == "error")
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_string(),
                p["file"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(problems, [("BAG-146".to_string(), "seal".to_string())]);
    let message = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "BAG-146")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("custody/000001.json"), "{message}");
    assert!(message.contains("\"Registrar\""), "{message}");
    assert!(message.contains("changed 1: data/a.txt"), "{message}");
    // A second update keeps what was sealed, and records itself too.
    env.write("sealed/data/b.txt", "edited again\n");
    let (code, v) = update_json(
        &env,
        &[
            "sealed",
            "--force",
            "--sign",
            "registrar",
            "--agent",
            "Registrar",
        ],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["update"]["custody_entry"], "custody/000002.json");
    assert_eq!(
        fs::read(bag.join("seal/tagmanifest-sha256.txt")).unwrap(),
        sealed_tm
    );
    env.qoima(&["custody", "verify", "sealed", "--trusted-keys", "trusted"]);
    let r = env.qoima(&[
        "verify-seal",
        "sealed",
        "--trusted-keys",
        "trusted",
        "--json",
    ]);
    assert_eq!(r.code(), 1);
}

#[test]
fn issue14_a_crash_while_updating_a_sealed_bag_is_finished_by_a_rerun() {
    for fp in ["update-keep", "update-put:2"] {
        let env = Env::new();
        let bag = sealed_bag(&env);
        let sealed_tm = fs::read(bag.join("tagmanifest-sha256.txt")).unwrap();
        env.write("sealed/data/a.txt", "corrected\n");
        let args = [
            "bag",
            "--update",
            "sealed",
            "--force",
            "--sign",
            "registrar",
            "--agent",
            "R",
        ];
        assert_ne!(run_with_failpoint(&env, &args, fp), 0, "{fp}");
        // The journal is rolled forward without the key.
        let (code, v) = update_json(&env, &["sealed"]);
        assert_eq!(code, 0, "{fp}: {v}");
        assert_eq!(v["outcome"], "resumed");
        assert_eq!(
            fs::read(bag.join("seal/tagmanifest-sha256.txt")).unwrap(),
            sealed_tm
        );
        env.qoima(&["validate", "sealed"]).success();
        assert!(leftovers(&bag).is_empty(), "{fp}");
        let r = env.qoima(&[
            "verify-seal",
            "sealed",
            "--trusted-keys",
            "trusted",
            "--json",
        ]);
        let report = r.json();
        let errors: Vec<&str> = report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["severity"] == "error")
            .map(|p| p["code"].as_str().unwrap())
            .collect();
        assert_eq!(errors, ["BAG-146"], "{fp}");
    }
}
