//! Sealed evidence bundles: `qoima keygen`, `qoima seal`, `qoima verify-seal`, and the
//! `verify.sh` every sealed bag carries. Every tampering case must fail in both verifiers,
//! with the exact code and file from qoima. The shell verifier and the minisign round trips
//! run when the `minisign` CLI is installed (scripts/test.sh installs it).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{Env, sha256_hex, sha512_hex};

const PHOTO_EXIF: &str = "fixtures/collections/qantar-2022/photos/01-january/001-oyan-march.jpg";
const PHOTO: &str = "fixtures/photos/good/tiny.jpg";

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn has_minisign() -> bool {
    Command::new("minisign")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// qoima with extra environment variables, in the test folder.
fn qoima_env(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_qoima"));
    c.args(args)
        .current_dir(env.dir.path())
        .env("SOURCE_DATE_EPOCH", "1641340800")
        .env("TZ", "UTC")
        .env_remove("QOIMA_PASSPHRASE");
    for (k, v) in vars {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// An unencrypted key pair at `name` / `name.pub`; returns the base64 public key.
fn key(env: &Env, name: &str) -> String {
    let r = env.qoima(&["keygen", "-o", name, "--unencrypted"]);
    r.success();
    r.stdout().trim().to_string()
}

/// A valid bag `name` (with External-Identifier `name`) holding two photos and a text.
fn bag(env: &Env, name: &str) -> PathBuf {
    let src = format!("{name}-src");
    env.write(
        &format!("{src}/photos/oyan.jpg"),
        fs::read(fixture(PHOTO_EXIF)).unwrap(),
    );
    env.write(
        &format!("{src}/photos/tiny.jpg"),
        fs::read(fixture(PHOTO)).unwrap(),
    );
    env.write(
        &format!("{src}/statement.txt"),
        format!("sender's statement for {name}\n"),
    );
    env.qoima(&["bag", &src, "-o", name, "--external-identifier", name])
        .success();
    env.path(name)
}

fn seal(env: &Env, bag: &str, key: &str) {
    env.qoima(&["seal", bag, "--sign", key, "--name", "Intake desk"])
        .success();
}

/// (code, file) of every problem in a JSON report.
fn codes(v: &Value) -> Vec<(String, String)> {
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            // A manifest problem names the manifest as its file and the payload path as its
            // field: both are listed.
            let code = p["code"].as_str().unwrap().to_string();
            let mut v = vec![(code.clone(), p["file"].as_str().unwrap_or("").to_string())];
            if let Some(f) = p["field"].as_str() {
                v.push((code, f.to_string()));
            }
            v
        })
        .collect()
}

/// `qoima verify-seal --json`: exit code and report.
fn verify(env: &Env, bag: &str, trusted: &str) -> (i32, Value) {
    let r = env.qoima(&["verify-seal", bag, "--trusted-keys", trusted, "--json"]);
    (r.code(), r.json())
}

/// `sh BAG/verify.sh BAG TRUSTED`: exit code and output; `None` without minisign.
fn verify_sh(env: &Env, bag: &str, trusted: &str) -> Option<(i32, String)> {
    if !has_minisign() {
        return None;
    }
    let out = Command::new("sh")
        .arg(format!("{bag}/verify.sh"))
        .args([bag, trusted])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    Some((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    ))
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            fs::copy(e.path(), &t).unwrap();
        }
    }
}

fn payload_digests(bag: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in [
        "data/photos/oyan.jpg",
        "data/photos/tiny.jpg",
        "data/statement.txt",
    ] {
        out.push((f.to_string(), sha256_hex(&fs::read(bag.join(f)).unwrap())));
    }
    out
}

#[test]
fn keygen_encrypts_with_the_passphrase_and_never_overwrites() {
    let env = Env::new();
    let out = qoima_env(
        &env,
        &["keygen", "-o", "k"],
        &[("QOIMA_PASSPHRASE", "correct horse")],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pk = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(pk.starts_with("RW"), "{pk}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("key id:"));
    let pubfile = fs::read_to_string(env.path("k.pub")).unwrap();
    assert_eq!(pubfile.lines().nth(1), Some(pk.as_str()));
    // The secret key needs the passphrase: asked for, and a wrong one refused.
    let mut asked = false;
    let (_, derived) = qoima::seal::load_secret_key(&env.path("k"), || {
        asked = true;
        Ok("correct horse".into())
    })
    .unwrap();
    assert!(asked, "an encrypted key must ask for its passphrase");
    assert_eq!(derived.to_base64(), pk);
    assert!(qoima::seal::load_secret_key(&env.path("k"), || Ok("wrong".into())).is_err());
    // Never overwritten.
    let before = fs::read(env.path("k")).unwrap();
    let again = qoima_env(&env, &["keygen", "-o", "k"], &[("QOIMA_PASSPHRASE", "x")]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
    assert_eq!(fs::read(env.path("k")).unwrap(), before);
    // Sealing with an encrypted key takes the passphrase from the environment.
    bag(&env, "CASE-1");
    let s = qoima_env(
        &env,
        &["seal", "CASE-1", "--sign", "k"],
        &[("QOIMA_PASSPHRASE", "correct horse")],
    );
    assert_eq!(
        s.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&s.stderr)
    );
    let w = qoima_env(
        &env,
        &["seal", "CASE-1", "--sign", "k"],
        &[("QOIMA_PASSPHRASE", "wrong")],
    );
    assert_eq!(w.status.code(), Some(2));
}

#[test]
fn seal_then_verify_passes_in_qoima_verify_sh_minisign_and_bagit_python() {
    let env = Env::new();
    let pk = key(&env, "k");
    let b = bag(&env, "HRO-2022-KZ-0042");
    let before = payload_digests(&b);
    let r = env.qoima(&[
        "seal",
        "HRO-2022-KZ-0042",
        "--sign",
        "k",
        "--name",
        "Intake desk",
        "--json",
    ]);
    r.success();
    let j = r.json();
    assert_eq!(j["command"], "seal");
    assert_eq!(j["exit_code"], 0);
    // Payload bytes untouched (the EXIF-bearing photo included).
    assert_eq!(payload_digests(&b), before);
    // bag-info fields, reproducible with SOURCE_DATE_EPOCH.
    let info = fs::read_to_string(b.join("bag-info.txt")).unwrap();
    for line in [
        "Seal-Version: qoima-seal/1".to_string(),
        format!("Seal-Signer-Key: {pk}"),
        "Seal-Signer-Name: Intake desk".into(),
        "Seal-Algorithms: minisign-ed25519ph; sha256; sha512".into(),
        "Seal-Created: 2022-01-05T00:00:00Z".into(),
        "Payload-Oxum: ".into(),
    ] {
        assert!(info.contains(&line), "{line} missing from\n{info}");
    }
    // The tag manifests list the seal's files; seal/ is not listed.
    for alg in ["sha256", "sha512"] {
        let tm = fs::read_to_string(b.join(format!("tagmanifest-{alg}.txt"))).unwrap();
        for f in [
            "bag-info.txt",
            "metadata/keys/sealer.minisign.pub",
            "VERIFY.txt",
            "verify.sh",
            "bagit.txt",
            "manifest-sha256.txt",
        ] {
            let data = fs::read(b.join(f)).unwrap();
            let d = if alg == "sha256" {
                sha256_hex(&data)
            } else {
                sha512_hex(&data)
            };
            assert!(
                tm.contains(&format!("{d}  {f}\n")),
                "{f} in tagmanifest-{alg}.txt"
            );
        }
        assert!(!tm.contains("seal/"));
        let sig =
            fs::read_to_string(b.join(format!("seal/tagmanifest-{alg}.txt.minisig"))).unwrap();
        let d = sha256_hex(tm.as_bytes());
        assert!(
            sig.contains(&format!(
                "trusted comment: qoima-seal/1 bag=HRO-2022-KZ-0042 tagmanifest-{alg}={d} sealed=2022-01-05T00:00:00Z signer=Intake desk\n"
            )),
            "{sig}"
        );
    }
    env.write("trusted.txt", format!("# the intake desk\n{pk}\n"));
    let (code, v) = verify(&env, "HRO-2022-KZ-0042", "trusted.txt");
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["outcome"], "sealed");
    assert_eq!(v["command"], "verify-seal");
    assert!(v["does_not_prove"].to_string().contains("scene"));
    // A minisign .pub file works as a trusted-keys file too.
    let (code, _) = verify(&env, "HRO-2022-KZ-0042", "k.pub");
    assert_eq!(code, 0);
    if let Some((code, out)) = verify_sh(&env, "HRO-2022-KZ-0042", "trusted.txt") {
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("SEALED"), "{out}");
        assert!(!out.contains("FAIL"), "{out}");
    }
    // qoima signs, the minisign CLI verifies.
    if has_minisign() {
        let st = Command::new("minisign")
            .args([
                "-Vm",
                "tagmanifest-sha256.txt",
                "-x",
                "seal/tagmanifest-sha256.txt.minisig",
                "-P",
                &pk,
            ])
            .current_dir(&b)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    }
    // The sealed bag is still a BagIt bag to bagit-python.
    if std::env::var_os("QOIMA_SKIP_INTEROP").is_none()
        && let Some(py) = std::env::var_os("QOIMA_BAGIT_PY")
    {
        let out = Command::new(py)
            .args(["--validate"])
            .arg(&b)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Sealing again (a new key) replaces the seal; the old key no longer verifies.
    let pk2 = key(&env, "k2");
    seal(&env, "HRO-2022-KZ-0042", "k2");
    assert_eq!(payload_digests(&b), before);
    let (code, v) = verify(&env, "HRO-2022-KZ-0042", "trusted.txt");
    assert_eq!(code, 1);
    assert!(codes(&v).contains(&("SEAL-014".into(), "bag-info.txt".into())));
    env.write("trusted2.txt", format!("{pk2}\n"));
    assert_eq!(verify(&env, "HRO-2022-KZ-0042", "trusted2.txt").0, 0);
}

/// A freshly sealed bag `name` by key `k`, with `trusted.txt` holding k's public key.
fn sealed_case(env: &Env, name: &str) {
    if !env.path("k").exists() {
        let pk = key(env, "k");
        env.write("trusted.txt", format!("{pk}\n"));
    }
    bag(env, name);
    seal(env, name, "k");
    assert_eq!(verify(env, name, "trusted.txt").0, 0);
}

/// Asserts that both verifiers reject `name`, qoima with `(code, file)` among its problems.
fn assert_fails(env: &Env, name: &str, code: &str, file: &str) -> Value {
    let (exit, v) = verify(env, name, "trusted.txt");
    assert_eq!(exit, 1, "{name}: {v:#}");
    assert_eq!(v["outcome"], "not-verified");
    let found = codes(&v);
    assert!(
        found.contains(&(code.to_string(), file.to_string())),
        "{name}: expected {code} on {file}, got {found:?}"
    );
    if let Some((exit, out)) = verify_sh(env, name, "trusted.txt") {
        assert_eq!(exit, 1, "{name}: verify.sh passed a tampered bag:\n{out}");
        assert!(out.contains("FAIL"), "{out}");
    }
    v
}

/// Whether a BAG-034 (listed file missing) problem names `path`.
fn names_missing(v: &Value, path: &str) -> bool {
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["code"] == "BAG-034" && p["message"].as_str().unwrap().contains(path))
}

fn check_passed(v: &Value, name: &str) -> bool {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .is_some_and(|c| c["passed"] == true)
}

#[test]
fn payload_byte_flip_fails() {
    let env = Env::new();
    sealed_case(&env, "C");
    let p = env.path("C/data/photos/oyan.jpg");
    let mut b = fs::read(&p).unwrap();
    let n = b.len() / 2;
    b[n] ^= 0x01;
    fs::write(&p, b).unwrap();
    assert_fails(&env, "C", "BAG-036", "data/photos/oyan.jpg");
}

#[test]
fn added_file_fails() {
    let env = Env::new();
    sealed_case(&env, "C");
    env.write(
        "C/data/photos/planted.jpg",
        fs::read(fixture(PHOTO)).unwrap(),
    );
    assert_fails(&env, "C", "BAG-035", "data/photos/planted.jpg");
}

#[test]
fn removed_file_fails() {
    let env = Env::new();
    sealed_case(&env, "C");
    fs::remove_file(env.path("C/data/statement.txt")).unwrap();
    let v = assert_fails(&env, "C", "BAG-034", "manifest-sha256.txt");
    assert!(names_missing(&v, "data/statement.txt"), "{v:#}");
}

#[test]
fn renamed_file_fails() {
    let env = Env::new();
    sealed_case(&env, "C");
    fs::rename(
        env.path("C/data/statement.txt"),
        env.path("C/data/statement-v2.txt"),
    )
    .unwrap();
    let v = assert_fails(&env, "C", "BAG-035", "data/statement-v2.txt");
    assert!(names_missing(&v, "data/statement.txt"), "{v:#}");
}

#[test]
fn bag_info_edit_fails() {
    let env = Env::new();
    sealed_case(&env, "C");
    crate::util::edit(&env.path("C/bag-info.txt"), |t| {
        t.replace(
            "Seal-Signer-Name: Intake desk",
            "Seal-Signer-Name: Legal team",
        )
    });
    assert_fails(&env, "C", "BAG-036", "bag-info.txt");
}

#[test]
fn recomputed_manifests_are_bagit_valid_but_the_seal_fails() {
    // The forger's case: a payload edit with every manifest and tag manifest recomputed.
    let env = Env::new();
    sealed_case(&env, "C");
    let b = env.path("C");
    env.write("C/data/statement.txt", "a different statement\n");
    let data = fs::read(b.join("data/statement.txt")).unwrap();
    for (alg, d) in [("sha256", sha256_hex(&data)), ("sha512", sha512_hex(&data))] {
        crate::util::edit(&b.join(format!("manifest-{alg}.txt")), |t| {
            t.lines()
                .map(|l| {
                    if l.ends_with("  data/statement.txt") {
                        format!("{d}  data/statement.txt\n")
                    } else {
                        format!("{l}\n")
                    }
                })
                .collect()
        });
    }
    crate::util::edit(&b.join("bag-info.txt"), |t| {
        t.lines()
            .map(|l| {
                if l.starts_with("Payload-Oxum:") {
                    let total: u64 = [
                        "data/photos/oyan.jpg",
                        "data/photos/tiny.jpg",
                        "data/statement.txt",
                    ]
                    .iter()
                    .map(|f| fs::metadata(b.join(f)).unwrap().len())
                    .sum();
                    format!("Payload-Oxum: {total}.3\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect()
    });
    crate::util::refresh_tag_manifests(&b);
    let v = assert_fails(&env, "C", "SEAL-012", "seal/tagmanifest-sha256.txt.minisig");
    assert!(
        check_passed(&v, "bagit"),
        "the forged bag must be BagIt-valid: {v:#}"
    );
    assert!(
        codes(&v).iter().all(|(c, _)| c.starts_with("SEAL-")),
        "{v:#}"
    );
    assert!(codes(&v).contains(&(
        "SEAL-012".into(),
        "seal/tagmanifest-sha512.txt.minisig".into()
    )));
    assert_eq!(env.qoima(&["validate", "C"]).code(), 0);
}

#[test]
fn signature_swapped_between_two_sealed_bags_fails() {
    let env = Env::new();
    sealed_case(&env, "A");
    sealed_case(&env, "B");
    fs::remove_dir_all(env.path("A/seal")).unwrap();
    copy_dir(&env.path("B/seal"), &env.path("A/seal"));
    assert_fails(&env, "A", "SEAL-012", "seal/tagmanifest-sha256.txt.minisig");
}

#[test]
fn foreign_signature_fails() {
    // Re-signed by another key, with a statement that looks right; bag-info still names the
    // real key, which is the only trusted one.
    let env = Env::new();
    sealed_case(&env, "C");
    key(&env, "other");
    let (sk, pk) = qoima::seal::load_secret_key(&env.path("other"), || unreachable!()).unwrap();
    for alg in ["sha256", "sha512"] {
        let tm = fs::read(env.path(&format!("C/tagmanifest-{alg}.txt"))).unwrap();
        let comment = format!(
            "qoima-seal/1 bag=C tagmanifest-{alg}={} sealed=2022-01-05T00:00:00Z signer=Intake desk",
            sha256_hex(&tm)
        );
        let sig = minisign::sign(Some(&pk), &sk, &tm[..], Some(&comment), None).unwrap();
        env.write(
            &format!("C/seal/tagmanifest-{alg}.txt.minisig"),
            sig.to_string(),
        );
    }
    assert_fails(&env, "C", "SEAL-013", "seal/tagmanifest-sha256.txt.minisig");
}

#[test]
fn untrusted_key_fails_even_though_its_signature_verifies() {
    let env = Env::new();
    let pk = key(&env, "k");
    env.write("trusted.txt", format!("{pk}\n"));
    key(&env, "stranger");
    bag(&env, "C");
    seal(&env, "C", "stranger");
    let v = assert_fails(&env, "C", "SEAL-014", "bag-info.txt");
    assert!(
        check_passed(&v, "signature:tagmanifest-sha256.txt"),
        "{v:#}"
    );
    assert_eq!(v["problems"].as_array().unwrap().len(), 1, "{v:#}");
}

#[test]
fn fetch_txt_added_fails() {
    let env = Env::new();
    sealed_case(&env, "C");
    env.write(
        "C/fetch.txt",
        "https://example.org/x.jpg 5 data/photos/x.jpg\n",
    );
    assert_fails(&env, "C", "SEAL-002", "fetch.txt");
}

#[test]
fn symlink_added_fails() {
    let env = Env::new();
    sealed_case(&env, "C");
    std::os::unix::fs::symlink("statement.txt", env.path("C/data/link.txt")).unwrap();
    assert_fails(&env, "C", "SEAL-004", "data/link.txt");
}

#[test]
fn seal_refuses_an_invalid_bag_and_writes_nothing() {
    let env = Env::new();
    key(&env, "k");
    let b = bag(&env, "C");
    env.write("C/data/statement.txt", "changed after bagging\n");
    let info = fs::read(b.join("bag-info.txt")).unwrap();
    let r = env.qoima(&["seal", "C", "--sign", "k", "--json"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    let v = r.json();
    assert_eq!(v["outcome"], "refused");
    let found = codes(&v);
    assert!(
        found.contains(&("BAG-036".into(), "data/statement.txt".into())),
        "{found:?}"
    );
    assert!(found.iter().any(|(c, _)| c == "SEAL-001"), "{found:?}");
    assert_eq!(fs::read(b.join("bag-info.txt")).unwrap(), info);
    assert!(!b.join("seal").exists() && !b.join("verify.sh").exists());
}

#[test]
fn seal_refuses_names_that_need_percent_encoding_and_fetch_txt() {
    let env = Env::new();
    key(&env, "k");
    env.write("src/50%off.txt", "x\n");
    env.qoima(&["bag", "src", "-o", "C"]).success();
    let r = env.qoima(&["seal", "C", "--sign", "k", "--json"]);
    assert_eq!(r.code(), 1);
    assert!(codes(&r.json()).contains(&("SEAL-003".into(), "data/50%off.txt".into())));
    bag(&env, "D");
    env.write("D/fetch.txt", "");
    let r = env.qoima(&["seal", "D", "--sign", "k", "--json"]);
    assert_eq!(r.code(), 1);
    assert!(codes(&r.json()).contains(&("SEAL-002".into(), "fetch.txt".into())));
}

#[test]
fn verify_seal_usage_errors_exit_2() {
    let env = Env::new();
    sealed_case(&env, "C");
    env.write("bad-keys.txt", "not a key\n");
    assert_eq!(
        env.qoima(&["verify-seal", "C", "--trusted-keys", "bad-keys.txt"])
            .code(),
        2
    );
    assert_eq!(
        env.qoima(&["verify-seal", "C", "--trusted-keys", "missing.txt"])
            .code(),
        2
    );
    assert_eq!(env.qoima(&["verify-seal", "C"]).code(), 2);
}

#[test]
fn minisign_cli_signatures_and_keys_work_with_qoima() {
    if !has_minisign() {
        return;
    }
    let env = Env::new();
    let run = |args: &[&str]| {
        let o = Command::new("minisign")
            .args(args)
            .current_dir(env.dir.path())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "minisign {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    run(&["-G", "-W", "-p", "cli.pub", "-s", "cli.key"]);
    env.write("file.txt", "a tag manifest, say\n");
    run(&[
        "-S",
        "-s",
        "cli.key",
        "-m",
        "file.txt",
        "-x",
        "file.txt.minisig",
        "-t",
        "signed by the CLI",
    ]);
    // The CLI's signature verifies with qoima's verifier, and a changed file does not.
    let (_, pk) =
        qoima::seal::keys::public_key_in(&fs::read_to_string(env.path("cli.pub")).unwrap())
            .unwrap();
    let sig = fs::read_to_string(env.path("file.txt.minisig")).unwrap();
    let data = fs::read(env.path("file.txt")).unwrap();
    assert_eq!(
        qoima::seal::verify_detached(&data, &sig, &pk).unwrap(),
        "signed by the CLI"
    );
    assert!(qoima::seal::verify_detached(b"another file\n", &sig, &pk).is_err());
    // A key made by the CLI seals a bag that qoima and verify.sh accept.
    bag(&env, "C");
    seal(&env, "C", "cli.key");
    let (code, v) = verify(&env, "C", "cli.pub");
    assert_eq!(code, 0, "{v:#}");
    let (code, out) = verify_sh(&env, "C", "cli.pub").unwrap();
    assert_eq!(code, 0, "{out}");
}

/// `qoima validate` on a sealed bag: valid without warnings — the signatures under seal/
/// are proofs over the tag manifests and are not expected in them (BAG-W016 is not raised).
#[test]
fn a_sealed_bag_validates_without_warnings() {
    let env = Env::new();
    sealed_case(&env, "b");
    let r = env.qoima(&["validate", "--json", "--strict", "b"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_eq!(r.json()["bags"][0]["counts"]["warnings"], 0);
    // An unsealed bag with a stray seal/ file is still warned about.
    env.sample_bag("plain");
    env.write("plain/seal/x.minisig", "untrusted comment: x\n");
    let r = env.qoima(&["validate", "--json", "plain"]);
    let w: Vec<(String, String, String)> = super::util::problems(&r.json());
    assert!(
        w.iter()
            .any(|(c, f, _)| c == "BAG-W016" && f == "seal/x.minisig"),
        "{w:?}"
    );
}

/// Sealing without encryption warns about bag-info elements that name people or places
/// (SEAL-W050, naming the line and the element); the seal is still made.
#[test]
fn sealing_unencrypted_warns_about_sensitive_bag_info() {
    let env = Env::new();
    key(&env, "k");
    env.write("src/a.txt", "statement\n");
    env.qoima(&[
        "bag",
        "src",
        "-o",
        "b",
        "--external-identifier",
        "HRO-2022-KZ-0042",
        "--contact-email",
        "witness@example.org",
    ])
    .success();
    let r = env.qoima(&["seal", "b", "--sign", "k", "--json"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let v = r.json();
    let warned: Vec<(String, String, String)> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_string(),
                p["file"].as_str().unwrap_or("").to_string(),
                p["field"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        warned,
        [(
            "SEAL-W050".to_string(),
            "bag-info.txt".to_string(),
            "Contact-Email".to_string()
        )]
    );
    // A bag without such elements seals without the warning.
    bag(&env, "plain");
    let r = env.qoima(&["seal", "plain", "--sign", "k", "--json"]);
    assert_eq!(r.json()["problems"].as_array().unwrap().len(), 0);
}

#[test]
fn a_sealed_bag_names_the_evidence_profile_and_validate_checks_its_shape() {
    let env = Env::new();
    key(&env, "k");
    bag(&env, "B");
    seal(&env, "B", "k");
    let info = fs::read_to_string(env.path("B/bag-info.txt")).unwrap();
    assert!(
        info.contains("\nBagIt-Profile-Identifier: urn:qoima:bagit-profile:evidence-1.0\n"),
        "{info}"
    );
    let r = env.qoima(&["validate", "B", "--strict", "--json"]);
    r.success();
    assert_eq!(
        r.json()["bags"][0]["profile"],
        "qoima-evidence-1.0 (version 1.0)"
    );
    // The profile sees a seal that lost its verifier (and BagIt sees the listed file gone).
    fs::remove_file(env.path("B/verify.sh")).unwrap();
    let r = env.qoima(&["validate", "B", "--json"]);
    assert_eq!(r.code(), 1);
    let c = codes(&r.json()["bags"][0]);
    assert!(
        c.contains(&("PROF-040".into(), "verify.sh".into())),
        "{c:?}"
    );
    // A bag that already names a profile keeps it.
    env.write("C-src/a.txt", "a\n");
    env.qoima(&[
        "bag",
        "C-src",
        "-o",
        "C",
        "--profile",
        "btr",
        "--info",
        "Source-Organization=Qarlygash Rights Watch",
    ])
    .success();
    seal(&env, "C", "k");
    let info = fs::read_to_string(env.path("C/bag-info.txt")).unwrap();
    assert!(!info.contains("qoima-evidence"), "{info}");
    env.qoima(&["validate", "C"]).success();
    // Asked for by name, the built-in warns that C was made for another profile (issue 14:
    // the user's choice of profile settles which rules apply); --strict fails it.
    let r = env.qoima(&["validate", "C", "--profile", "qoima-evidence", "--json"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_eq!(
        codes(&r.json()["bags"][0]),
        [
            ("BAG-W060".to_string(), "bag-info.txt".to_string()),
            (
                "BAG-W060".to_string(),
                "BagIt-Profile-Identifier".to_string()
            )
        ]
    );
    let r = env.qoima(&["validate", "C", "--profile", "qoima-evidence", "--strict"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
}

/// Every file of `root` with its content, except qoima's temporaries of a seal.
fn files_without_seal_temporaries(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            let name = e.file_name().to_string_lossy();
            !name.contains(".qoima-seal-") && !name.contains(".qoima-seal.json")
        })
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap();
            (
                rel.to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Names under `root` that hold `.qoima-` (qoima's journals and temporaries).
fn qoima_names(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().contains(".qoima-"))
        .map(|e| e.path().display().to_string())
        .collect()
}

/// Each durable step of `qoima seal` (8 files are written: 4 seal files, 2 tag manifests,
/// 2 signatures).
const SEAL_FAILPOINTS: [&str; 10] = [
    "seal-staged:1",
    "seal-staged:5",
    "seal-staged:8",
    "seal-journal",
    "seal-rename:1",
    "seal-rename:2",
    "seal-rename:6",
    "seal-rename:8",
    "seal-removed",
    "seal-done",
];

#[test]
fn issue13_a_kill_at_any_step_of_seal_leaves_the_old_or_new_bag_or_a_rerun_completes_it() {
    for fp in SEAL_FAILPOINTS {
        let env = Env::new();
        let pk = key(&env, "k");
        env.write("trusted.txt", format!("{pk}\n"));
        let bag = bag(&env, "CASE");
        let before = files_without_seal_temporaries(&bag);
        let out = qoima_env(
            &env,
            &["seal", "CASE", "--sign", "k"],
            &[("QOIMA_FAILPOINT", fp)],
        );
        assert_ne!(
            out.status.code(),
            Some(0),
            "{fp}: the failpoint did not fire"
        );
        let journal = bag.join(".qoima-seal.json").exists();
        let (sealed, _) = verify(&env, "CASE", "trusted.txt");
        if !journal {
            // No journal: the bag is whole, either as it was or sealed.
            env.qoima(&["validate", "CASE"]).success();
            if sealed != 0 {
                assert_eq!(files_without_seal_temporaries(&bag), before, "{fp}");
            }
        }
        env.qoima(&["seal", "CASE", "--sign", "k"]).success();
        let (code, v) = verify(&env, "CASE", "trusted.txt");
        assert_eq!(code, 0, "{fp}: {v}");
        assert!(
            qoima_names(&bag).is_empty(),
            "{fp}: {:?}",
            qoima_names(&bag)
        );
    }
}

#[test]
fn issue13_seal_refuses_a_temporary_left_by_another_run_instead_of_signing_it() {
    let env = Env::new();
    key(&env, "k");
    let bag = bag(&env, "CASE");
    env.write(
        "CASE/.manifest-sha512.txt.qoima-write-4242",
        "half a manifest",
    );
    let before = files_without_seal_temporaries(&bag);
    let r = env.qoima(&["seal", "CASE", "--sign", "k", "--json"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert_eq!(
        codes(&r.json()),
        vec![(
            "SEAL-067".to_string(),
            ".manifest-sha512.txt.qoima-write-4242".to_string()
        )]
    );
    assert_eq!(files_without_seal_temporaries(&bag), before);
}

#[test]
fn issue13_a_file_named_like_the_seal_journal_is_refused_not_obeyed() {
    let env = Env::new();
    key(&env, "k");
    let bag = bag(&env, "CASE");
    let journal = r#"{"qoima_seal":1,"write":[["data/statement.txt","data/.statement.txt.qoima-seal-1"]],"remove":[]}"#;
    env.write("CASE/.qoima-seal.json", journal);
    let before = files_without_seal_temporaries(&bag);
    let r = env.qoima(&["seal", "CASE", "--sign", "k", "--json"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert_eq!(
        codes(&r.json()),
        vec![("SEAL-068".to_string(), ".qoima-seal.json".to_string())]
    );
    assert_eq!(files_without_seal_temporaries(&bag), before);
    assert!(bag.join(".qoima-seal.json").exists());
}
