//! Encrypted sealed bundles: `qoima seal … --to age1… -o DIR` and `qoima verify-seal
//! DIR/NAME.tar.age -i IDENTITY`. Nothing from the bag may appear outside the encryption;
//! every tampering case must fail with its own code; and the bundle must interoperate with the
//! reference `age` CLI both ways (those tests skip, saying so, when `age` is not installed;
//! scripts/test.sh installs it).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use age::secrecy::ExposeSecret;
use age::x25519;
use serde_json::Value;

use crate::util::{Env, sha256_hex};

const EXTERNAL_ID: &str = "HRO-2022-KZ-0042";
const ORGANIZATION: &str = "Qarlygash Rights Watch";
const DESCRIPTION: &str = "Показания Жанибека о задержании на площади";
const SIGNER: &str = "Intake desk Zhetysu";

fn has(tool: &str, arg: &str) -> bool {
    Command::new(tool)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn has_age() -> bool {
    let ok = has("age", "--version") && has("age-keygen", "--version");
    if !ok {
        eprintln!("skipped: the `age` CLI is not installed (scripts/test.sh installs it)");
    }
    ok
}

fn photo() -> Vec<u8> {
    fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photos/good/tiny.jpg")).unwrap()
}

/// An X25519 identity written as an age identity file at `name`; returns its recipient.
fn identity(env: &Env, name: &str) -> String {
    let id = x25519::Identity::generate();
    let r = id.to_public().to_string();
    env.write(
        name,
        format!(
            "# created by the test\n# public key: {r}\n{}\n",
            id.to_string().expose_secret()
        ),
    );
    r
}

/// A sealed bag `name` with identifying bag-info, a signing key `key`/`key.pub`.
fn sealed_bag_and_key(env: &Env, name: &str) -> PathBuf {
    let src = format!("{name}-src");
    env.write(&format!("{src}/photos/p.jpg"), photo());
    env.write(&format!("{src}/statement.txt"), format!("{DESCRIPTION}\n"));
    env.qoima(&[
        "bag",
        &src,
        "-o",
        name,
        "--external-identifier",
        EXTERNAL_ID,
        "--source-organization",
        ORGANIZATION,
        "--external-description",
        DESCRIPTION,
    ])
    .success();
    env.qoima(&["keygen", "-o", "key", "--unencrypted"])
        .success();
    env.path(name)
}

/// Seals `bag` and encrypts it to `to` into `out`.
fn seal_to(env: &Env, bag: &str, to: &[&str], out: &str) -> crate::util::Run {
    let mut args = vec!["seal", bag, "--sign", "key", "--name", SIGNER];
    for r in to {
        args.extend(["--to", r]);
    }
    args.extend(["-o", out]);
    env.qoima(&args)
}

fn verify(env: &Env, file: &str, ids: &[&str]) -> (i32, Value) {
    let mut args = vec!["--json", "verify-seal", file, "--trusted-keys", "key.pub"];
    for i in ids {
        args.extend(["-i", i]);
    }
    let r = env.qoima(&args);
    let v: Value = serde_json::from_str(&r.stdout())
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout(), r.stderr()));
    (r.code(), v)
}

fn codes(v: &Value) -> Vec<String> {
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect()
}

fn failed_checks(v: &Value) -> Vec<String> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["check"].as_str().unwrap().to_string())
        .collect()
}

fn envelope_value(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{label}: ")))
        .unwrap_or_else(|| panic!("no {label} in the envelope"))
        .to_string()
}

#[test]
fn sealed_bag_encrypts_and_verifies_and_reveals_nothing() {
    let env = Env::new();
    sealed_bag_and_key(&env, EXTERNAL_ID);
    let r1 = identity(&env, "alice.txt");
    let r2 = identity(&env, "escrow.txt");
    env.write("team.txt", format!("# escrow\n{r2}\n"));
    let r = env.qoima(&[
        "--json",
        "seal",
        EXTERNAL_ID,
        "--sign",
        "key",
        "--name",
        SIGNER,
        "--to",
        &r1,
        "--recipients-file",
        "team.txt",
        "-o",
        "out",
    ]);
    r.success();
    let j = r.json();
    assert_eq!(j["bundle"]["recipients"], 2);

    // Exactly four files, under the neutral name, and the stock-tools verifier (the same
    // verify.sh the bag carries); no temporary left.
    let mut names: Vec<String> = fs::read_dir(env.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "bundle.envelope.txt",
            "bundle.tar.age",
            "bundle.tar.age.sha256",
            "bundle.tar.age.sha256.minisig",
            "verify.sh"
        ]
    );
    assert_eq!(
        fs::read(env.path("out/verify.sh")).unwrap(),
        fs::read(env.path(EXTERNAL_ID).join("verify.sh")).unwrap()
    );

    // Nothing from bag-info (nor the folder's name, nor the signer's label) outside.
    let info = fs::read_to_string(env.path(EXTERNAL_ID).join("bag-info.txt")).unwrap();
    assert!(info.contains(DESCRIPTION) && info.contains(ORGANIZATION));
    let mut needles: Vec<String> = vec![
        EXTERNAL_ID.into(),
        ORGANIZATION.into(),
        DESCRIPTION.into(),
        "Жанибек".into(),
        SIGNER.into(),
        "HRO".into(),
        "Zhetysu".into(),
    ];
    // And every longer bag-info value but the signer's public key and the fixed ones.
    for line in info.lines() {
        if let Some((label, value)) = line.split_once(": ")
            && value.len() >= 12
            && !matches!(label, "Payload-Oxum" | "Bagging-Date" | "Seal-Version")
            && !label.starts_with("Seal-Signer-Key")
        {
            needles.push(value.to_string());
        }
    }
    for n in &names {
        let bytes = fs::read(env.path("out").join(n)).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for needle in &needles {
            assert!(!n.contains(needle.as_str()), "{n} names {needle:?}");
            assert!(
                !text.contains(needle.as_str()),
                "{n} holds {needle:?} from the bag"
            );
        }
    }

    // The envelope's digests are the ciphertext's.
    let ct = fs::read(env.path("out/bundle.tar.age")).unwrap();
    assert!(ct.starts_with(b"age-encryption.org/v1\n"));
    let envelope = fs::read_to_string(env.path("out/bundle.envelope.txt")).unwrap();
    assert_eq!(
        envelope_value(&envelope, "Ciphertext-SHA256"),
        sha256_hex(&ct)
    );
    // The signed digest file is what `sha256sum` writes for the ciphertext.
    assert_eq!(
        fs::read_to_string(env.path("out/bundle.tar.age.sha256")).unwrap(),
        format!("{}  bundle.tar.age\n", sha256_hex(&ct))
    );
    assert_eq!(envelope_value(&envelope, "Recipients"), "2");
    let tm = fs::read(env.path(EXTERNAL_ID).join("tagmanifest-sha256.txt")).unwrap();
    assert_eq!(
        envelope_value(&envelope, "Tag-Manifest-SHA256"),
        sha256_hex(&tm)
    );

    // The plaintext is exactly `qoima serialize --tar` of the sealed bag (deterministic).
    env.qoima(&[
        "serialize",
        EXTERNAL_ID,
        "--tar",
        "-o",
        &format!("plain/{EXTERNAL_ID}.tar"),
    ])
    .success();
    let tar = fs::read(env.path(&format!("plain/{EXTERNAL_ID}.tar"))).unwrap();
    let ids = qoima::seal::bundle::read_identities(&env.path("alice.txt")).unwrap();
    let mut back = Vec::new();
    let (sha, n) =
        qoima::seal::bundle::decrypt_file(&env.path("out/bundle.tar.age"), &ids, &mut back)
            .unwrap();
    assert_eq!(back, tar);
    assert_eq!((sha, n), (sha256_hex(&ct), tar.len() as u64));
    assert!(!envelope.contains("Plaintext"), "{envelope}");
    let sig = fs::read_to_string(env.path("out/bundle.tar.age.sha256.minisig")).unwrap();
    // The statement names the script beside the bundle and the bag's tag manifest.
    let script = fs::read(env.path("out/verify.sh")).unwrap();
    assert!(sig.contains(&format!(
        "trusted comment: qoima-bundle/2 verify-sh-sha256={} tagmanifest-sha256={}",
        sha256_hex(&script),
        sha256_hex(&tm)
    )));
    // A verify.sh swapped beside the bundle is caught, by qoima and by the script.
    env.write("out/verify.sh", "#!/bin/sh\necho SEALED\n");
    let (code, v) = verify(&env, "out/bundle.tar.age", &["alice.txt"]);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["SEAL-055"]);
    fs::write(env.path("out/verify.sh"), &script).unwrap();

    // Either recipient can verify it, in full.
    for id in ["alice.txt", "escrow.txt"] {
        let (code, v) = verify(&env, "out/bundle.tar.age", &[id]);
        assert_eq!(code, 0, "{v:#}");
        assert_eq!(v["outcome"], "sealed");
        let checks: Vec<&str> = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["check"].as_str().unwrap())
            .collect();
        for c in [
            "bundle-signature",
            "ciphertext",
            "envelope",
            "decryption",
            "bag-archive",
            "bagit",
            "signature:tagmanifest-sha256.txt",
            "bundle-binding",
        ] {
            assert!(checks.contains(&c), "{c} missing: {checks:?}");
        }
    }
}

#[test]
fn a_bag_without_external_identifier_verifies_through_its_folder_name() {
    let env = Env::new();
    env.write("case-src/a.txt", "a\n");
    env.qoima(&["bag", "case-src", "-o", "case"]).success();
    env.qoima(&["keygen", "-o", "key", "--unencrypted"])
        .success();
    let r = identity(&env, "id.txt");
    seal_to(&env, "case", &[&r], "out").success();
    let (code, v) = verify(&env, "out/bundle.tar.age", &["id.txt"]);
    assert_eq!(code, 0, "{v:#}");
}

#[test]
fn tampering_and_wrong_keys_each_fail_with_their_code() {
    let env = Env::new();
    sealed_bag_and_key(&env, "bag");
    let r = identity(&env, "id.txt");
    identity(&env, "other.txt");
    seal_to(&env, "bag", &[&r], "out").success();
    let ct_path = env.path("out/bundle.tar.age");
    let good = fs::read(&ct_path).unwrap();

    // No identity, or one that is not a recipient: the outer checks pass, decryption fails.
    for ids in [&[][..], &["other.txt"][..]] {
        let (code, v) = verify(&env, "out/bundle.tar.age", ids);
        assert_eq!(code, 1);
        assert_eq!(codes(&v), ["SEAL-052"], "{v:#}");
        assert_eq!(failed_checks(&v), ["decryption"]);
    }

    // One bit flipped in the payload: the signed digest, the envelope and age all object.
    let mut bad = good.clone();
    let at = bad.len() - 100;
    bad[at] ^= 0x01;
    fs::write(&ct_path, &bad).unwrap();
    let (code, v) = verify(&env, "out/bundle.tar.age", &["id.txt"]);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["SEAL-050", "SEAL-051", "SEAL-053"], "{v:#}");
    assert_eq!(failed_checks(&v), ["ciphertext", "envelope", "decryption"]);
    // Cut short: the same.
    fs::write(&ct_path, &good[..good.len() - 1000]).unwrap();
    let (_, v) = verify(&env, "out/bundle.tar.age", &["id.txt"]);
    assert_eq!(codes(&v), ["SEAL-050", "SEAL-051", "SEAL-053"], "{v:#}");

    // The ciphertext replaced by another encryption of other content, for the same recipient:
    // age is happy, the signed digest is not, and the tar is not unpacked.
    let other_tar = env.write("other.tar", vec![0u8; 10240]);
    let id: x25519::Identity = fs::read_to_string(env.path("id.txt"))
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .parse()
        .unwrap();
    let enc =
        age::Encryptor::with_recipients(std::iter::once(&id.to_public() as &dyn age::Recipient))
            .unwrap();
    let mut out = vec![];
    let mut w = enc.wrap_output(&mut out).unwrap();
    std::io::Write::write_all(&mut w, &fs::read(&other_tar).unwrap()).unwrap();
    w.finish().unwrap();
    fs::write(&ct_path, &out).unwrap();
    let (_, v) = verify(&env, "out/bundle.tar.age", &["id.txt"]);
    assert_eq!(codes(&v), ["SEAL-050", "SEAL-051"], "{v:#}");
    assert_eq!(failed_checks(&v), ["ciphertext", "envelope"]);
    assert_eq!(v["outcome"], "not-verified", "{v:#}");
    fs::write(&ct_path, &good).unwrap();

    // The envelope edited.
    let env_path = env.path("out/bundle.envelope.txt");
    let text = fs::read_to_string(&env_path).unwrap();
    let d = envelope_value(&text, "Ciphertext-SHA256");
    fs::write(&env_path, text.replace(&d, &"0".repeat(64))).unwrap();
    let (code, v) = verify(&env, "out/bundle.tar.age", &["id.txt"]);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["SEAL-051"]);
    fs::write(&env_path, &text).unwrap();

    // The signed digest altered (and the envelope with it), then missing; the signature
    // missing; then the key not trusted.
    let sum_path = env.path("out/bundle.tar.age.sha256");
    let sum = fs::read_to_string(&sum_path).unwrap();
    let forged = format!("{}  bundle.tar.age\n", "ab".repeat(32));
    fs::write(&sum_path, &forged).unwrap();
    let (_, v) = verify(&env, "out/bundle.tar.age", &["id.txt"]);
    assert_eq!(codes(&v), ["SEAL-050"], "{v:#}");
    assert!(
        v["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("does not verify against bundle.tar.age.sha256")
    );
    fs::remove_file(&sum_path).unwrap();
    let (_, v) = verify(&env, "out/bundle.tar.age", &["id.txt"]);
    assert_eq!(codes(&v), ["SEAL-050"], "{v:#}");
    assert_eq!(v["problems"][0]["file"], "bundle.tar.age.sha256");
    fs::write(&sum_path, &sum).unwrap();
    let sig_path = env.path("out/bundle.tar.age.sha256.minisig");
    let sig = fs::read(&sig_path).unwrap();
    fs::remove_file(&sig_path).unwrap();
    let (_, v) = verify(&env, "out/bundle.tar.age", &["id.txt"]);
    assert_eq!(codes(&v), ["SEAL-050"], "{v:#}");
    assert_eq!(v["problems"][0]["file"], "bundle.tar.age.sha256.minisig");
    // A bundle of the first format (its signature over the ciphertext itself) is named as such.
    fs::write(env.path("out/bundle.tar.age.minisig"), &sig).unwrap();
    let (code, v) = verify(&env, "out/bundle.tar.age", &["id.txt"]);
    assert_eq!(code, 1, "{v:#}");
    assert!(codes(&v).contains(&"SEAL-056".to_string()), "{v:#}");
    fs::remove_file(env.path("out/bundle.tar.age.minisig")).unwrap();
    fs::write(&sig_path, &sig).unwrap();
    env.qoima(&["keygen", "-o", "stranger", "--unencrypted"])
        .success();
    let r = env.qoima(&[
        "--json",
        "verify-seal",
        "out/bundle.tar.age",
        "--trusted-keys",
        "stranger.pub",
        "-i",
        "id.txt",
    ]);
    assert_eq!(r.code(), 1);
    assert!(codes(&r.json()).contains(&"SEAL-014".to_string()));

    // And the untouched bundle still verifies.
    let (code, _) = verify(&env, "out/bundle.tar.age", &["id.txt"]);
    assert_eq!(code, 0);
}

#[test]
fn refusals_seal_nothing_and_overwrite_nothing() {
    let env = Env::new();
    sealed_bag_and_key(&env, "bag");
    let info = fs::read(env.path("bag/bag-info.txt")).unwrap();
    // -o without a recipient; a bad recipient; a broken SSH key; a secret key given as one.
    let id = x25519::Identity::generate();
    let secret = id.to_string().expose_secret().to_string();
    for (to, want) in [
        (None, "recipients"),
        (Some("age1notakey"), "not an age X25519 recipient"),
        (
            Some("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHh0 x@y"),
            "not an SSH recipient age accepts",
        ),
        (Some(secret.as_str()), "secret identity"),
    ] {
        let mut args = vec!["seal", "bag", "--sign", "key", "-o", "out"];
        if let Some(t) = to {
            args.extend(["--to", t]);
        }
        let r = env.qoima(&args);
        assert_eq!(r.code(), 2, "{}", r.stderr());
        assert!(r.stderr().contains(want), "{}", r.stderr());
        assert!(
            !r.stderr().contains(&secret),
            "a secret key reached a message"
        );
        assert_eq!(fs::read(env.path("bag/bag-info.txt")).unwrap(), info);
    }
    // --to without -o is a usage error.
    let r = env.qoima(&[
        "seal",
        "bag",
        "--sign",
        "key",
        "--to",
        &id.to_public().to_string(),
    ]);
    assert_ne!(r.code(), 0);
    assert!(!env.path("out").exists());

    // A bundle is never replaced.
    let rec = id.to_public().to_string();
    seal_to(&env, "bag", &[&rec], "out").success();
    let before = fs::read(env.path("out/bundle.tar.age")).unwrap();
    let r = seal_to(&env, "bag", &[&rec], "out");
    assert_eq!(r.code(), 2, "{}", r.stderr());
    assert!(r.stderr().contains("exists"), "{}", r.stderr());
    assert_eq!(fs::read(env.path("out/bundle.tar.age")).unwrap(), before);
    // Another label is fine, and a label with a slash is refused.
    let r = env.qoima(&[
        "seal",
        "bag",
        "--sign",
        "key",
        "--to",
        &rec,
        "-o",
        "out",
        "--bundle-name",
        "t-2",
    ]);
    r.success();
    assert!(env.path("out/t-2.tar.age").is_file());
    let r = env.qoima(&[
        "seal",
        "bag",
        "--sign",
        "key",
        "--to",
        &rec,
        "-o",
        "out",
        "--bundle-name",
        "../x",
    ]);
    assert_eq!(r.code(), 2);
}

#[test]
fn age_cli_decrypts_qoima_bundles_and_qoima_decrypts_age_files() {
    if !has_age() {
        return;
    }
    let env = Env::new();
    sealed_bag_and_key(&env, "bag");
    let out = Command::new("age-keygen")
        .args(["-o", "cli-id.txt"])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let r = Command::new("age-keygen")
        .args(["-y", "cli-id.txt"])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    let cli_recipient = String::from_utf8(r.stdout).unwrap().trim().to_string();
    let mine = identity(&env, "lib-id.txt");
    seal_to(&env, "bag", &[&cli_recipient, &mine], "out").success();

    // age -d gives the very tar `qoima serialize --tar` writes.
    let st = Command::new("age")
        .args([
            "-d",
            "-i",
            "cli-id.txt",
            "-o",
            "plain.tar",
            "out/bundle.tar.age",
        ])
        .current_dir(env.dir.path())
        .status()
        .unwrap();
    assert!(st.success());
    let tar = fs::read(env.path("plain.tar")).unwrap();
    env.qoima(&["serialize", "bag", "--tar", "-o", "ref/bag.tar"])
        .success();
    assert_eq!(fs::read(env.path("ref/bag.tar")).unwrap(), tar);
    // And qoima verifies with the CLI's identity file.
    let (code, v) = verify(&env, "out/bundle.tar.age", &["cli-id.txt"]);
    assert_eq!(code, 0, "{v:#}");

    // age -r encrypts; qoima's library decrypts the same bytes, streaming.
    let st = Command::new("age")
        .args(["-r", &mine, "-o", "x.tar.age", "plain.tar"])
        .current_dir(env.dir.path())
        .status()
        .unwrap();
    assert!(st.success());
    let ids = qoima::seal::bundle::read_identities(&env.path("lib-id.txt")).unwrap();
    let mut back = Vec::new();
    let (sha, n) =
        qoima::seal::bundle::decrypt_file(&env.path("x.tar.age"), &ids, &mut back).unwrap();
    assert_eq!(back, tar);
    assert_eq!(n, tar.len() as u64);
    assert_eq!(sha, sha256_hex(&fs::read(env.path("x.tar.age")).unwrap()));
    // A CLI identity file works with the library too (it was a recipient of the bundle).
    let cli_ids = qoima::seal::bundle::read_identities(&env.path("cli-id.txt")).unwrap();
    let mut back = Vec::new();
    qoima::seal::bundle::decrypt_file(&env.path("out/bundle.tar.age"), &cli_ids, &mut back)
        .unwrap();
    assert_eq!(back, tar);
}

#[test]
fn stock_tools_alone_check_the_bundle() {
    if !has_age() || !has("minisign", "-v") {
        eprintln!("skipped: needs the age and minisign CLIs");
        return;
    }
    let env = Env::new();
    sealed_bag_and_key(&env, "bag");
    let rec = identity(&env, "id.txt");
    seal_to(&env, "bag", &[&rec], "out").success();
    let run = |script: &str| {
        Command::new("sh")
            .args(["-c", script])
            .current_dir(env.dir.path())
            .output()
            .unwrap()
    };
    // The commands the envelope and docs/evidence.md give.
    let o = run("set -e
        cd out
        minisign -Vm bundle.tar.age.sha256 -p ../key.pub
        sha256sum -c bundle.tar.age.sha256
        age -d -i ../id.txt -o bundle.tar bundle.tar.age
        top=$(tar -tf bundle.tar | head -1); top=${top%/}
        mkdir x && tar -xf bundle.tar -C x
        sh \"x/$top/verify.sh\" \"x/$top\" ../key.pub");
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("qoima-bundle/2 verify-sh-sha256="),
        "{stdout}"
    );
}

#[test]
fn ssh_recipients_work_both_ways_with_a_warning() {
    if !has_age()
        || !Command::new("ssh-keygen")
            .arg("-?")
            .output()
            .is_ok_and(|o| !o.stderr.is_empty())
    {
        eprintln!("skipped: ssh-keygen is not installed (scripts/test.sh installs openssh-client)");
        return;
    }
    let env = Env::new();
    sealed_bag_and_key(&env, "bag");
    let keygen = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "legal@example.org",
            "-f",
        ])
        .arg(env.path("legal"))
        .output()
        .unwrap();
    assert!(keygen.status.success());
    let recipient = fs::read_to_string(env.path("legal.pub")).unwrap();
    let r = env.qoima(&[
        "seal",
        "bag",
        "--sign",
        "key",
        "--to",
        recipient.trim(),
        "-o",
        "out",
        "--json",
    ]);
    r.success();
    let w: Vec<Value> = r.json()["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "SEAL-W051")
        .cloned()
        .collect();
    assert_eq!(w.len(), 1, "{}", r.stdout());
    assert!(r.stderr().contains("SEAL-W051"), "{}", r.stderr());
    // The header holds an ssh-ed25519 stanza, and still nothing from bag-info.
    let ct = fs::read(env.path("out/bundle.tar.age")).unwrap();
    let header = String::from_utf8_lossy(&ct[..ct.len().min(400)]);
    assert!(header.contains("-> ssh-ed25519 "), "{header}");
    assert!(!header.contains("legal@example.org"));
    // qoima decrypts with the SSH private key; so does the age CLI.
    let (code, v) = verify(&env, "out/bundle.tar.age", &["legal"]);
    assert_eq!(code, 0, "{v:#}");
    let out = Command::new("age")
        .args(["-d", "-i"])
        .arg(env.path("legal"))
        .arg(env.path("out/bundle.tar.age"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.starts_with(b"bag/"), "not the bag's tar");
    // And the reverse: what `age -R legal.pub` encrypts, qoima decrypts with the SSH key.
    env.write("plain.txt", "Алматы, январь 2022\n");
    let enc = Command::new("age")
        .args(["-R"])
        .arg(env.path("legal.pub"))
        .args(["-o"])
        .arg(env.path("plain.txt.age"))
        .arg(env.path("plain.txt"))
        .output()
        .unwrap();
    assert!(enc.status.success());
    let ids = qoima::seal::bundle::read_identities(&env.path("legal")).unwrap();
    let mut plain = Vec::new();
    qoima::seal::bundle::decrypt_file(&env.path("plain.txt.age"), &ids, &mut plain).unwrap();
    assert_eq!(plain, "Алматы, январь 2022\n".as_bytes());
    // A passphrase-protected SSH key is refused with a way out.
    let keygen = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "secret words", "-f"])
        .arg(env.path("locked"))
        .output()
        .unwrap();
    assert!(keygen.status.success());
    let r = env.qoima(&[
        "verify-seal",
        "out/bundle.tar.age",
        "--trusted-keys",
        "key.pub",
        "-i",
        "locked",
    ]);
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr().contains("passphrase-protected SSH key"),
        "{}",
        r.stderr()
    );
}

#[test]
fn a_foreign_verify_sh_is_kept_and_the_complete_bundle_reported() {
    let env = Env::new();
    sealed_bag_and_key(&env, "bag");
    let r = identity(&env, "id.txt");
    env.write("out/verify.sh", "#!/bin/sh\n# someone else's\n");
    let run = env.qoima(&[
        "--json", "seal", "bag", "--sign", "key", "--to", &r, "-o", "out",
    ]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    let j = run.json();
    assert!(
        j["error"].as_str().unwrap().starts_with(
            "the bag was sealed and the bundle written, but verify.sh could not be put beside it"
        ),
        "{j:#}"
    );
    assert!(
        j["bundle"]["verify_sh_error"]
            .as_str()
            .unwrap()
            .contains("exists")
    );
    // The other file is untouched, no temporary is left, and the bundle is whole.
    assert_eq!(
        fs::read_to_string(env.path("out/verify.sh")).unwrap(),
        "#!/bin/sh\n# someone else's\n"
    );
    let mut names: Vec<String> = fs::read_dir(env.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    fs::remove_file(env.path("out/verify.sh")).unwrap();
    let (code, v) = verify(&env, "out/bundle.tar.age", &["id.txt"]);
    assert_eq!(code, 0, "{v:#}");
}

/// The signed `NAME.tar.age.sha256` rewritten (and signed again by the sealer, with the same
/// statement) in ways a sha256sum file can be written: qoima and verify.sh agree on each.
#[test]
fn both_verifiers_read_the_signed_digest_file_alike() {
    if !has_age() || !has("minisign", "-v") {
        eprintln!("skipped: needs the age and minisign CLIs");
        return;
    }
    let env = Env::new();
    sealed_bag_and_key(&env, "bag");
    let rec = identity(&env, "id.txt");
    seal_to(&env, "bag", &[&rec], "out").success();
    let sig = fs::read_to_string(env.path("out/bundle.tar.age.sha256.minisig")).unwrap();
    let statement = sig
        .lines()
        .find_map(|l| l.strip_prefix("trusted comment: "))
        .unwrap()
        .to_string();
    let h = sha256_hex(&fs::read(env.path("out/bundle.tar.age")).unwrap());
    let upper = h.to_uppercase();
    let cases: [(&str, String, bool); 9] = [
        ("as written", format!("{h}  bundle.tar.age\n"), true),
        (
            "binary mode, upper case",
            format!("{upper} *bundle.tar.age\n"),
            true,
        ),
        ("no final newline", format!("{h}  bundle.tar.age"), true),
        ("CRLF", format!("{h}  bundle.tar.age\r\n"), false),
        (
            "a second line",
            format!("{h}  bundle.tar.age\n{h}  verify.sh\n"),
            false,
        ),
        (
            "a second line, no newline",
            format!("{h}  bundle.tar.age\n{h}  x"),
            false,
        ),
        ("another file", format!("{h}  ./bundle.tar.age\n"), false),
        ("one space", format!("{h} bundle.tar.age\n"), false),
        (
            "a blank line after",
            format!("{h}  bundle.tar.age\n\n"),
            false,
        ),
    ];
    for (what, text, good) in cases {
        env.write("out/bundle.tar.age.sha256", text.as_bytes());
        let s = Command::new("minisign")
            .args(["-S", "-s", "key", "-m", "out/bundle.tar.age.sha256", "-t"])
            .arg(&statement)
            .current_dir(env.dir.path())
            .output()
            .unwrap();
        assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
        let (code, v) = verify(&env, "out/bundle.tar.age", &["id.txt"]);
        let sh = Command::new("sh")
            .args([
                "out/verify.sh",
                "-i",
                "id.txt",
                "out/bundle.tar.age",
                "key.pub",
            ])
            .current_dir(env.dir.path())
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&sh.stdout);
        assert_eq!(code == 0, good, "qoima, {what}: {v:#}");
        assert_eq!(sh.status.success(), good, "verify.sh, {what}: {out}");
        if !good {
            assert_eq!(codes(&v), ["SEAL-050"], "{what}: {v:#}");
            assert!(
                out.contains(
                    "FAIL  bundle.tar.age.sha256: one sha256sum line naming bundle.tar.age"
                ),
                "{what}: {out}"
            );
        }
    }
}

/// A tar with hostile entries inside a bundle whose digest the sealer's key did sign (a
/// stolen key, or a sealer's own mistake): both verifiers refuse to place it, and nothing is
/// written outside their private folders.
#[test]
fn a_hostile_tar_in_a_signed_bundle_is_refused() {
    if !has_age() || !has("minisign", "-v") {
        eprintln!("skipped: needs the age and minisign CLIs");
        return;
    }
    let env = Env::new();
    sealed_bag_and_key(&env, "bag");
    let rec = identity(&env, "id.txt");
    seal_to(&env, "bag", &[&rec], "out").success();
    let sig = fs::read_to_string(env.path("out/bundle.tar.age.sha256.minisig")).unwrap();
    let statement = sig
        .lines()
        .find_map(|l| l.strip_prefix("trusted comment: "))
        .unwrap()
        .to_string();
    let escape = format!("qoima-escape-{}.txt", std::process::id());
    // bag/bagit.txt, then bag/../../ESCAPE and a link: raw headers, as a forger writes them.
    let mut tar = tar::Builder::new(Vec::new());
    let mut entry = |name: &str, kind: tar::EntryType, data: &[u8], link: Option<&str>| {
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(kind);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        if let Some(l) = link {
            h.as_gnu_mut().unwrap().linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
        h.set_cksum();
        tar.append(&h, data).unwrap();
    };
    entry(
        "bag/bagit.txt",
        tar::EntryType::Regular,
        b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        None,
    );
    entry(
        &format!("bag/../../{escape}"),
        tar::EntryType::Regular,
        b"out\n",
        None,
    );
    entry(
        "bag/data/link",
        tar::EntryType::Symlink,
        b"",
        Some("/etc/passwd"),
    );
    // A name that is not UTF-8: a folder could only give it a lossy copy of its name.
    let mut h = tar::Header::new_gnu();
    h.as_gnu_mut().unwrap().name[..14].copy_from_slice(b"bag/data/\xff.txt");
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    h.set_size(3);
    h.set_cksum();
    tar.append(&h, &b"ff\n"[..]).unwrap();
    let plain = tar.into_inner().unwrap();
    let id: x25519::Identity = fs::read_to_string(env.path("id.txt"))
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .parse()
        .unwrap();
    let enc =
        age::Encryptor::with_recipients(std::iter::once(&id.to_public() as &dyn age::Recipient))
            .unwrap();
    let mut ct = vec![];
    let mut w = enc.wrap_output(&mut ct).unwrap();
    std::io::Write::write_all(&mut w, &plain).unwrap();
    w.finish().unwrap();
    env.write("out/bundle.tar.age", &ct);
    let sum = format!("{}  bundle.tar.age\n", sha256_hex(&ct));
    env.write("out/bundle.tar.age.sha256", sum.as_bytes());
    let envelope = fs::read_to_string(env.path("out/bundle.envelope.txt")).unwrap();
    let old = envelope_value(&envelope, "Ciphertext-SHA256");
    env.write(
        "out/bundle.envelope.txt",
        envelope.replace(&old, &sha256_hex(&ct)).as_bytes(),
    );
    let s = Command::new("minisign")
        .args(["-S", "-s", "key", "-m", "out/bundle.tar.age.sha256", "-t"])
        .arg(&statement)
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));

    let (code, v) = verify(&env, "out/bundle.tar.age", &["id.txt"]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(failed_checks(&v), ["bag-archive"], "{v:#}");
    let c = codes(&v);
    assert!(c.contains(&"ARC-002".to_string()), "{c:?}");
    assert!(c.contains(&"ARC-003".to_string()), "{c:?}");
    assert!(c.contains(&"BAG-064".to_string()), "{c:?}");
    let sh = Command::new("sh")
        .args([
            "out/verify.sh",
            "-i",
            "id.txt",
            "out/bundle.tar.age",
            "key.pub",
        ])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(
        !sh.status.success(),
        "{}",
        String::from_utf8_lossy(&sh.stdout)
    );
    // Nothing escaped: not beside the bundle, not in the temporary folder's parent.
    for dir in [env.dir.path().to_path_buf(), std::env::temp_dir()] {
        assert!(!dir.join(&escape).exists(), "{} escaped", escape);
    }
}

/// A bag whose folder is named like the verifier's own scratch folders verifies.
#[test]
fn a_bag_named_like_the_scratch_folders_verifies() {
    let env = Env::new();
    env.qoima(&["keygen", "-o", "key", "--unencrypted"])
        .success();
    let r = identity(&env, "id.txt");
    for (i, name) in ["stage", "bag"].iter().enumerate() {
        env.write(&format!("{name}-src/a.txt"), "a\n");
        env.qoima(&["bag", &format!("{name}-src"), "-o", name])
            .success();
        let out = format!("out{i}");
        seal_to(&env, name, &[&r], &out).success();
        let (code, v) = verify(&env, &format!("{out}/bundle.tar.age"), &["id.txt"]);
        assert_eq!(code, 0, "{name}: {v:#}");
    }
}

/// Issue 13: `NAME.tar.age` appears only with everything beside it; a kill among the links
/// leaves its companions without it, and the next seal into the folder undoes that placement
/// (each companion proven the dead run's) and writes a complete bundle, leaving nothing else.
#[test]
fn issue13_a_bundle_placement_killed_midway_is_undone_by_the_next_seal() {
    if !has_age() {
        return;
    }
    let env = Env::new();
    sealed_bag_and_key(&env, "bag");
    let recipient = identity(&env, "id.txt");
    let args = [
        "seal", "bag", "--sign", "key", "--name", SIGNER, "--to", &recipient, "-o", "outbox",
    ];
    let killed = Command::new(env!("CARGO_BIN_EXE_qoima"))
        .args(args)
        .current_dir(env.path(""))
        .env("QOIMA_FAILPOINT", "bundle-placed:2")
        .output()
        .unwrap();
    assert_eq!(killed.status.code(), None, "the failpoint did not fire");
    let names = |dir: &str| -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(env.path(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let left = names("outbox");
    assert!(!left.contains(&"bundle.tar.age".to_string()), "{left:?}");
    assert!(
        left.contains(&"bundle.tar.age.sha256".to_string()),
        "{left:?}"
    );
    assert!(
        left.iter()
            .any(|n| n.starts_with(".bundle.tar.age.qoima-encrypt-")),
        "{left:?}"
    );
    env.qoima(&args).success();
    assert_eq!(
        names("outbox"),
        [
            "bundle.envelope.txt",
            "bundle.tar.age",
            "bundle.tar.age.sha256",
            "bundle.tar.age.sha256.minisig",
            "verify.sh"
        ]
    );
    let (code, report) = verify(&env, "outbox/bundle.tar.age", &["id.txt"]);
    assert_eq!(code, 0, "{report}");
}

/// What shellcheck may report on verify.sh, each with the line it is on and why it stays. The
/// script's bytes are in every sealed bag and signed in every bundle's statement, so a note is
/// not silenced by editing the script (a `# shellcheck disable=` line would change those bytes
/// too): it is judged here, and anything else shellcheck reports fails the test.
const SHELLCHECK_ALLOWED: &[(&str, &str, &str)] = &[
    (
        "SC2015",
        r#"mkdir "$tmp/x" && (cd "$tmp/x" && tar -xf "$tmp/plain.tar") 2>"$tmp/err" || {"#,
        "`A && B || C` is meant: the block reports a failure to unpack whether mkdir or tar failed",
    ),
    (
        "SC2012",
        r#"ls -A custody | sort >"$tmp/found""#,
        "the listing is compared with the expected names: an odd name (a newline, a quoting style) only adds or changes lines, so the check fails and cannot pass a custody/ with extra files",
    ),
];

#[test]
fn issue15_verify_sh_passes_shellcheck() {
    if !has("shellcheck", "--version") {
        if std::env::var("QOIMA_ALLOW_MISSING_TOOLS").as_deref() == Ok("1") {
            eprintln!(
                "SKIPPED issue15_verify_sh_passes_shellcheck: shellcheck is not installed and QOIMA_ALLOW_MISSING_TOOLS=1 (scripts/test.sh installs it)"
            );
            return;
        }
        panic!(
            "shellcheck is not installed: scripts/test.sh installs it (QOIMA_ALLOW_MISSING_TOOLS=1 skips this test)"
        );
    }
    let env = Env::new();
    let shipped = qoima::seal::script::VERIFY_SH;
    let script = env.write("verify.sh", shipped);
    let out = Command::new("shellcheck")
        .args(["--shell=sh", "--severity=style", "--format=json1"])
        .arg(&script)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "shellcheck gave no report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let lines: Vec<&str> = shipped.lines().collect();
    let mut matched = vec![false; SHELLCHECK_ALLOWED.len()];
    let mut unexpected = Vec::new();
    for comment in report["comments"].as_array().unwrap() {
        let code = format!("SC{}", comment["code"]);
        let line_number = comment["line"].as_u64().unwrap() as usize;
        let text = lines[line_number - 1].trim();
        let allowed = SHELLCHECK_ALLOWED
            .iter()
            .position(|(allowed_code, line, _)| *allowed_code == code && *line == text);
        match allowed {
            Some(index) => matched[index] = true,
            None => unexpected.push(format!(
                "src/seal/script/verify.sh line {line_number}: {code} {}: {text}",
                comment["message"]
            )),
        }
    }
    assert!(
        unexpected.is_empty(),
        "shellcheck reports on verify.sh:\n{}",
        unexpected.join("\n")
    );
    for ((code, line, _), seen) in SHELLCHECK_ALLOWED.iter().zip(matched) {
        assert!(
            seen,
            "shellcheck no longer reports {code} on `{line}`: take it out of SHELLCHECK_ALLOWED"
        );
    }
}
