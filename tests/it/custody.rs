//! The custody log of sealed bags: `qoima custody append|show|verify|export`, its checks in
//! `qoima verify-seal`, and in the `verify.sh` every sealed bag carries. Every tampering case
//! must fail in qoima (with the exact code and file) and in `verify.sh` (when the `minisign`
//! CLI is installed; scripts/test.sh installs it). Tail truncation passes — a hash chain
//! cannot see it — and both verifiers must say so plainly.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::Env;

fn has_minisign() -> bool {
    Command::new("minisign")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// An unencrypted key pair at `name` / `name.pub`; returns the base64 public key.
fn key(env: &Env, name: &str) -> String {
    let r = env.qoima(&["keygen", "-o", name, "--unencrypted"]);
    r.success();
    r.stdout().trim().to_string()
}

/// A valid bag `name` (External-Identifier `name`), sealed with the key `sealer`.
fn sealed_bag(env: &Env, name: &str, sealer: &str) -> PathBuf {
    let src = format!("{name}-src");
    env.write(
        &format!("{src}/statement.txt"),
        format!("statement for {name}\n"),
    );
    env.write(&format!("{src}/photos/a.txt"), "not really a photo\n");
    env.qoima(&["bag", &src, "-o", name, "--external-identifier", name])
        .success();
    env.qoima(&["seal", name, "--sign", sealer, "--name", "Intake desk"])
        .success();
    env.path(name)
}

/// `custody append`; returns the new head (stdout).
fn append(env: &Env, bag: &str, event: &str, agent: &str, key: &str, detail: &str) -> String {
    let r = env.qoima(&[
        "custody", "append", bag, "--event", event, "--agent", agent, "--sign", key, "--detail",
        detail,
    ]);
    r.success();
    let head = r.stdout().trim().to_string();
    assert!(head.starts_with("sha256:") && head.len() == 71, "{head}");
    head
}

/// A trusted-keys file holding the public keys of `keys`.
fn trusted(env: &Env, name: &str, keys: &[&str]) -> String {
    let text: String = keys
        .iter()
        .map(|k| fs::read_to_string(env.path(&format!("{k}.pub"))).unwrap())
        .collect();
    env.write(name, text);
    name.to_string()
}

/// `qoima custody verify --json`: exit code and report.
fn verify(env: &Env, bag: &str, trusted: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "custody",
        "verify",
        bag,
        "--trusted-keys",
        trusted,
        "--json",
    ];
    args.extend_from_slice(extra);
    let r = env.qoima(&args);
    (r.code(), r.json())
}

/// `sh BAG/verify.sh BAG TRUSTED [HEAD]`: exit code and output; `None` without minisign.
fn verify_sh(env: &Env, bag: &str, trusted: &str, head: Option<&str>) -> Option<(i32, String)> {
    if !has_minisign() {
        return None;
    }
    let out = Command::new("sh")
        .arg(format!("{bag}/verify.sh"))
        .args([bag, trusted])
        .args(head)
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    Some((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    ))
}

/// (code, file) of every problem in a JSON report.
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

fn has(v: &Value, code: &str, file: &str) -> bool {
    codes(v).contains(&(code.to_string(), file.to_string()))
}

/// Error codes only (warnings left out).
fn errors(v: &Value) -> Vec<String> {
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["severity"] == "error")
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect()
}

/// Bag `CASE` sealed by the sender `s`, with three entries: a transfer signed by the sender,
/// the receiver's receipt (signed by `r`), a fixity check by the sender. Returns the heads
/// after each append.
fn three_entries(env: &Env) -> Vec<String> {
    key(env, "s");
    key(env, "r");
    sealed_bag(env, "CASE", "s");
    trusted(env, "both", &["s", "r"]);
    vec![
        append(
            env,
            "CASE",
            "transfer",
            "HRO intake desk",
            "s",
            "sent on an encrypted drive",
        ),
        append(
            env,
            "CASE",
            "transfer",
            "Legal team",
            "r",
            "received; seal verified",
        ),
        append(
            env,
            "CASE",
            "fixity-check",
            "HRO intake desk",
            "s",
            "all checksums verified",
        ),
    ]
}

/// Both verifiers reject the bag; qoima with `code` on `file`.
fn assert_fails(env: &Env, code: &str, file: &str) -> Value {
    let (rc, v) = verify(env, "CASE", "both", &[]);
    assert_eq!(rc, 1, "{v:#}");
    assert_eq!(v["verified"], false);
    assert!(has(&v, code, file), "{code} {file} not in {:?}", codes(&v));
    // verify-seal runs the same checks.
    let r = env.qoima(&["verify-seal", "CASE", "--trusted-keys", "both", "--json"]);
    assert_eq!(r.code(), 1);
    assert!(
        has(&r.json(), code, file),
        "verify-seal: {:?}",
        codes(&r.json())
    );
    if let Some((rc, out)) = verify_sh(env, "CASE", "both", None) {
        assert_eq!(rc, 1, "verify.sh passed a tampered log:\n{out}");
        assert!(out.contains("FAIL  custody"), "{out}");
    }
    v
}

#[test]
fn two_custodians_verify_in_qoima_verify_seal_and_verify_sh() {
    let env = Env::new();
    let heads = three_entries(&env);
    let entry = fs::read_to_string(env.path("CASE/custody/000002.json")).unwrap();
    // Canonical: one line, fixed key order, entry 2 chained to entry 1.
    assert!(
        entry.ends_with("}\n") && entry.lines().count() == 1,
        "{entry}"
    );
    assert!(
        entry.starts_with(&format!(
            "{{\"v\":1,\"seq\":2,\"prev\":\"{}\",\"time\":\"2022-01-05T00:00:00Z\",\
             \"event\":\"http://id.loc.gov/vocabulary/preservation/eventType/tra\",\
             \"event_label\":\"transfer\",\"agent\":{{\"key\":\"{}\"",
            heads[0],
            fs::read_to_string(env.path("r.pub"))
                .unwrap()
                .lines()
                .nth(1)
                .unwrap()
        )),
        "{entry}"
    );
    assert!(entry.contains("\"object\":{\"bag\":\"CASE\",\"tagmanifest_sha256\":\""));

    let (rc, v) = verify(&env, "CASE", "both", &[]);
    assert_eq!(rc, 0, "{v:#}");
    assert_eq!(v["verified"], true);
    assert_eq!(v["head"], heads[2].as_str());
    assert_eq!(v["anchored_through"], 2);
    assert_eq!(v["entries"][0]["anchored_by"], 2);
    assert_eq!(v["entries"][1]["anchored_by"], 3);
    assert!(v["entries"][2]["anchored_by"].is_null());
    assert_eq!(v["entries"][1]["receipt"], true);
    assert_eq!(
        v["entries"][2]["receipt"], true,
        "the sender signs after the receiver"
    );
    assert!(errors(&v).is_empty());
    assert!(has(&v, "SEAL-W030", "custody"));
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("entries 1–2 are anchored by receipt"),
        "{notes}"
    );
    assert!(
        notes.contains("no entry is anchored by a trusted time-stamp"),
        "{notes}"
    );
    assert!(notes.contains("entry 3 is not anchored"), "{notes}");
    // The head kept outside the bag is still there.
    let (rc, _) = verify(&env, "CASE", "both", &["--expect-head", &heads[2]]);
    assert_eq!(rc, 0);

    let r = env.qoima(&["verify-seal", "CASE", "--trusted-keys", "both", "--json"]);
    r.success();
    let checks = r.json()["checks"].to_string();
    assert!(checks.contains("custody:chain"), "{checks}");

    if let Some((rc, out)) = verify_sh(&env, "CASE", "both", Some(&heads[2])) {
        assert_eq!(rc, 0, "{out}");
        assert!(
            out.contains("ok    custody/000003.json: chained, signed by trusted key"),
            "{out}"
        );
        assert!(
            out.contains(&format!("head  {} (entry 3)", heads[2])),
            "{out}"
        );
        assert!(out.contains("entry 3 is not anchored"), "{out}");
        assert!(!out.contains("FAIL"), "{out}");
    }

    // show lists them in order.
    let r = env.qoima(&["custody", "show", "CASE", "--json"]);
    r.success();
    let j = r.json();
    let labels: Vec<&str> = j["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entry"]["agent"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["HRO intake desk", "Legal team", "HRO intake desk"]);
}

#[test]
fn entry_edited_fails() {
    let env = Env::new();
    three_entries(&env);
    let p = env.path("CASE/custody/000002.json");
    let text = fs::read_to_string(&p).unwrap();
    fs::write(&p, text.replace("seal verified", "seal verifieD")).unwrap();
    let v = assert_fails(&env, "SEAL-034", "custody/000002.json.minisig");
    // The next entry no longer chains to it.
    assert!(
        has(&v, "SEAL-032", "custody/000003.json"),
        "{:?}",
        codes(&v)
    );
}

#[test]
fn entries_reordered_fail() {
    let env = Env::new();
    three_entries(&env);
    let (a, b) = (
        env.path("CASE/custody/000002.json"),
        env.path("CASE/custody/000003.json"),
    );
    let (ta, tb) = (fs::read(&a).unwrap(), fs::read(&b).unwrap());
    fs::write(&a, tb).unwrap();
    fs::write(&b, ta).unwrap();
    let v = assert_fails(&env, "SEAL-036", "custody/000002.json");
    assert!(
        has(&v, "SEAL-032", "custody/000002.json"),
        "{:?}",
        codes(&v)
    );
}

#[test]
fn entry_removed_in_the_middle_fails() {
    let env = Env::new();
    three_entries(&env);
    fs::remove_file(env.path("CASE/custody/000002.json")).unwrap();
    fs::remove_file(env.path("CASE/custody/000002.json.minisig")).unwrap();
    let v = assert_fails(&env, "SEAL-036", "custody/000003.json");
    assert!(
        has(&v, "SEAL-032", "custody/000003.json"),
        "{:?}",
        codes(&v)
    );
}

#[test]
fn tail_removed_passes_but_is_reported_unanchored_and_caught_by_the_kept_head() {
    let env = Env::new();
    let heads = three_entries(&env);
    fs::remove_file(env.path("CASE/custody/000003.json")).unwrap();
    fs::remove_file(env.path("CASE/custody/000003.json.minisig")).unwrap();
    // A hash chain cannot see a cut end: it verifies, with a head that changed…
    let (rc, v) = verify(&env, "CASE", "both", &[]);
    assert_eq!(rc, 0, "{v:#}");
    assert_eq!(v["head"], heads[1].as_str());
    assert_ne!(v["head"], heads[2].as_str());
    // …and says plainly which entries could have been removed.
    assert!(has(&v, "SEAL-W030", "custody"));
    let notes = v["notes"].to_string();
    assert!(
        notes.contains(
            "entry 2 is not anchored: it, and any entries after it, could have been removed without detection"
        ),
        "{notes}"
    );
    // The head the sender kept (from the receipt's time on) catches it.
    let (rc, v) = verify(&env, "CASE", "both", &["--expect-head", &heads[2]]);
    assert_eq!(rc, 1);
    assert!(has(&v, "SEAL-038", "custody"), "{:?}", codes(&v));
    assert!(
        v["problems"]
            .to_string()
            .contains("entries were removed from the end")
    );
    if let Some((rc, out)) = verify_sh(&env, "CASE", "both", None) {
        assert_eq!(rc, 0, "{out}");
        assert!(
            out.contains(&format!("head  {} (entry 2)", heads[1])),
            "{out}"
        );
        assert!(
            out.contains(
                "entry 2 is not anchored: entries removed from here on would go undetected"
            ),
            "{out}"
        );
    }
    if let Some((rc, out)) = verify_sh(&env, "CASE", "both", Some(&heads[2])) {
        assert_eq!(rc, 1, "{out}");
        assert!(
            out.contains("FAIL  custody: the log holds the head you expected"),
            "{out}"
        );
    }
}

#[test]
fn entry_signed_by_an_untrusted_key_fails() {
    let env = Env::new();
    three_entries(&env);
    trusted(&env, "sender-only", &["s"]);
    let (rc, v) = verify(&env, "CASE", "sender-only", &[]);
    assert_eq!(rc, 1);
    assert!(
        has(&v, "SEAL-035", "custody/000002.json"),
        "{:?}",
        codes(&v)
    );
    assert_eq!(errors(&v), ["SEAL-035"]);
    if let Some((rc, out)) = verify_sh(&env, "CASE", "sender-only", None) {
        assert_eq!(rc, 1, "{out}");
        assert!(
            out.contains("FAIL  custody/000002.json: signed by a key in"),
            "{out}"
        );
    }
}

#[test]
fn entry_moved_in_from_another_bags_log_fails() {
    let env = Env::new();
    three_entries(&env);
    sealed_bag(&env, "OTHER", "s");
    append(
        &env,
        "OTHER",
        "transfer",
        "HRO intake desk",
        "s",
        "sent on an encrypted drive",
    );
    for f in ["000001.json", "000001.json.minisig"] {
        fs::copy(
            env.path(&format!("OTHER/custody/{f}")),
            env.path(&format!("CASE/custody/{f}")),
        )
        .unwrap();
    }
    let v = assert_fails(&env, "SEAL-032", "custody/000001.json");
    // Its signature is sound, but its statement names the other bag.
    assert!(
        has(&v, "SEAL-034", "custody/000001.json.minisig"),
        "{:?}",
        codes(&v)
    );
}

#[test]
fn stray_file_and_missing_signature_fail() {
    let env = Env::new();
    three_entries(&env);
    env.write("CASE/custody/notes.txt", "hello\n");
    fs::remove_file(env.path("CASE/custody/000003.json.minisig")).unwrap();
    let v = assert_fails(&env, "SEAL-037", "custody/notes.txt");
    assert!(
        has(&v, "SEAL-033", "custody/000003.json.minisig"),
        "{:?}",
        codes(&v)
    );
}

#[test]
fn append_refuses_an_unsealed_bag_and_a_broken_chain_writing_nothing() {
    let env = Env::new();
    key(&env, "s");
    env.write("src/a.txt", "a\n");
    env.qoima(&["bag", "src", "-o", "plain"]).success();
    let r = env.qoima(&[
        "custody", "append", "plain", "--event", "transfer", "--agent", "x", "--sign", "s",
        "--json",
    ]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert!(has(&r.json(), "SEAL-030", ""), "{:?}", codes(&r.json()));
    assert!(!env.path("plain/custody").exists());

    three_entries_with_existing_key(&env);
    let p = env.path("CASE/custody/000001.json");
    let text = fs::read_to_string(&p).unwrap();
    fs::write(&p, text.replace("encrypted", "Encrypted")).unwrap();
    let r = env.qoima(&[
        "custody",
        "append",
        "CASE",
        "--event",
        "accession",
        "--agent",
        "x",
        "--sign",
        "s",
        "--json",
    ]);
    assert_eq!(r.code(), 1);
    let j = r.json();
    assert!(
        has(&j, "SEAL-034", "custody/000001.json.minisig"),
        "{:?}",
        codes(&j)
    );
    assert!(j["problems"].to_string().contains("SEAL-030"));
    assert!(!env.path("CASE/custody/000002.json").exists());
}

fn three_entries_with_existing_key(env: &Env) {
    sealed_bag(env, "CASE", "s");
    append(
        env,
        "CASE",
        "transfer",
        "HRO intake desk",
        "s",
        "sent on an encrypted drive",
    );
}

#[test]
fn verify_usage_errors_exit_2() {
    let env = Env::new();
    key(&env, "s");
    sealed_bag(&env, "CASE", "s");
    trusted(&env, "t", &["s"]);
    let r = env.qoima(&["custody", "verify", "CASE", "--trusted-keys", "t"]);
    assert_eq!(r.code(), 2, "no custody/: {}", r.stderr());
    let r = env.qoima(&["custody", "verify", "CASE", "--trusted-keys", "missing"]);
    assert_eq!(r.code(), 2);
}

pub(crate) fn xmllint_premis(file: &Path) {
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
fn export_premis_validates_and_refuses_a_broken_log() {
    let env = Env::new();
    let heads = three_entries(&env);
    env.qoima(&["custody", "export", "CASE", "--premis", "-o", "premis.xml"])
        .success();
    let xml = fs::read_to_string(env.path("premis.xml")).unwrap();
    xmllint_premis(&env.path("premis.xml"));
    for s in [
        "valueURI=\"http://id.loc.gov/vocabulary/preservation/eventType/tra\">transfer<",
        "valueURI=\"http://id.loc.gov/vocabulary/preservation/eventType/fix\">fixity check<",
        "valueURI=\"http://id.loc.gov/vocabulary/preservation/eventRelatedAgentRole/imp\">implementer<",
        "<premis:eventIdentifierValue>custody-3</premis:eventIdentifierValue>",
        "<premis:object xsi:type=\"premis:intellectualEntity\">",
        "<premis:agentName>Legal team</premis:agentName>",
        "<premis:eventDetail>received; seal verified</premis:eventDetail>",
    ] {
        assert!(xml.contains(s), "{s} missing from\n{xml}");
    }
    assert!(xml.contains(&heads[2]));
    // Reproducible.
    let r = env.qoima(&["custody", "export", "CASE", "--premis"]);
    r.success();
    assert_eq!(r.stdout(), xml);

    fs::remove_file(env.path("CASE/custody/000002.json.minisig")).unwrap();
    let r = env.qoima(&["custody", "export", "CASE", "--premis"]);
    assert_eq!(r.code(), 1);
    assert!(r.stdout().is_empty());
}

#[test]
fn a_bag_with_a_custody_log_is_never_resealed_but_is_encrypted_as_it_is() {
    let env = Env::new();
    let heads = three_entries(&env);
    let before = fs::read(env.path("CASE/tagmanifest-sha256.txt")).unwrap();
    let r = env.qoima(&["seal", "CASE", "--sign", "s", "--json"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert!(
        has(&r.json(), "SEAL-006", "custody"),
        "{:?}",
        codes(&r.json())
    );
    assert_eq!(
        fs::read(env.path("CASE/tagmanifest-sha256.txt")).unwrap(),
        before
    );
    let (rc, v) = verify(&env, "CASE", "both", &[]);
    assert_eq!(rc, 0, "{v:#}");

    // With --to, the sealed bag and its log are encrypted as they are, once the seal
    // verifies with the key given; another key is refused.
    let id = age::x25519::Identity::generate();
    let recipient = id.to_public().to_string();
    {
        use age::secrecy::ExposeSecret;
        env.write("id.txt", format!("{}\n", id.to_string().expose_secret()));
    }
    let r = env.qoima(&[
        "seal", "CASE", "--sign", "r", "--to", &recipient, "-o", "out-r", "--json",
    ]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert!(
        has(&r.json(), "SEAL-006", "custody"),
        "{:?}",
        codes(&r.json())
    );
    assert!(!env.path("out-r").join("bundle.tar.age").exists());
    let r = env.qoima(&[
        "seal", "CASE", "--sign", "s", "--to", &recipient, "-o", "out", "--json",
    ]);
    r.success();
    assert_eq!(r.json()["outcome"], "encrypted");
    assert_eq!(
        fs::read(env.path("CASE/tagmanifest-sha256.txt")).unwrap(),
        before
    );
    let r = env.qoima(&[
        "verify-seal",
        "out/bundle.tar.age",
        "--trusted-keys",
        "both",
        "-i",
        "id.txt",
        "--json",
    ]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert!(
        r.stderr().contains(&heads[2]) || r.json()["checks"].to_string().contains(&heads[2]),
        "the bundle's custody log ends at the head it had"
    );
}
