//! RFC 3161 time-stamps: `qoima timestamp` against a local time-stamp authority made with
//! `openssl ts -reply` (served over HTTP by the test, never a network service), and their
//! checks in `qoima verify-seal`, `qoima custody verify`, `verify.sh -t` and `openssl ts
//! -verify`, which must all agree. Skipped, saying so, without the openssl and minisign CLIs
//! (scripts/test.sh installs them).

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::Env;

fn tools() -> bool {
    let ok = ["openssl", "minisign"].iter().all(|t| {
        Command::new(t)
            .arg(if *t == "openssl" { "version" } else { "-v" })
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !ok {
        eprintln!(
            "skipped: the openssl and minisign CLIs are needed (scripts/test.sh installs them)"
        );
    }
    ok
}

fn run(dir: &Path, cmd: &str, args: &[&str]) -> std::process::Output {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A throw-away time-stamp authority in `dir`: a root CA and a TSA certificate signed by it
/// (with the critical timeStamping extended key usage, which `openssl ts -reply` insists on),
/// and the `openssl ts` configuration to answer requests.
pub(crate) struct Tsa {
    pub(crate) dir: PathBuf,
}

impl Tsa {
    pub(crate) fn new(dir: PathBuf) -> Tsa {
        fs::create_dir_all(&dir).unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        let mut root = vec!["req", "-x509"];
        root.extend(ec);
        root.extend([
            "-keyout",
            "root.key",
            "-out",
            "root.pem",
            "-days",
            "36500",
            "-subj",
            "/CN=Test TSA Root",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        run(&dir, "openssl", &root);
        let mut csr = vec!["req", "-new"];
        csr.extend(ec);
        csr.extend([
            "-keyout",
            "tsa.key",
            "-out",
            "tsa.csr",
            "-subj",
            "/CN=Test TSA",
        ]);
        run(&dir, "openssl", &csr);
        fs::write(
            dir.join("ext.cnf"),
            "extendedKeyUsage=critical,timeStamping\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n",
        )
        .unwrap();
        run(
            &dir,
            "openssl",
            &[
                "x509",
                "-req",
                "-in",
                "tsa.csr",
                "-CA",
                "root.pem",
                "-CAkey",
                "root.key",
                "-CAcreateserial",
                "-out",
                "tsa.pem",
                "-days",
                "36500",
                "-extfile",
                "ext.cnf",
            ],
        );
        fs::write(
            dir.join("ts.cnf"),
            "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\ndir = .\nserial = ./serial\n\
             crypto_device = builtin\nsigner_cert = ./tsa.pem\nsigner_key = ./tsa.key\n\
             signer_digest = sha256\ndefault_policy = 1.2.3.4.1\nother_policies = 1.2.3.4.2\n\
             digests = sha256, sha384, sha512\naccuracy = secs:1\nordering = no\n\
             tsa_name = yes\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n",
        )
        .unwrap();
        fs::write(dir.join("serial"), "01\n").unwrap();
        Tsa { dir }
    }

    pub(crate) fn root(&self) -> String {
        self.dir.join("root.pem").display().to_string()
    }

    /// `openssl ts -reply` to the request `query` (DER bytes).
    pub(crate) fn reply(dir: &Path, query: &[u8]) -> Vec<u8> {
        let q = dir.join(format!("q-{}.tsq", std::process::id()));
        let r = dir.join(format!("r-{}.tsr", std::process::id()));
        fs::write(&q, query).unwrap();
        run(
            dir,
            "openssl",
            &[
                "ts",
                "-reply",
                "-queryfile",
                q.to_str().unwrap(),
                "-config",
                "ts.cnf",
                "-out",
                r.to_str().unwrap(),
            ],
        );
        fs::read(&r).unwrap()
    }

    /// Serves RFC 3161 over HTTP on a local port until the test ends; returns the URL.
    fn serve(&self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/tsa", listener.local_addr().unwrap());
        let dir = self.dir.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut len = 0usize;
                let mut ctype = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let l = line.trim_end().to_ascii_lowercase();
                    if l.is_empty() {
                        break;
                    }
                    if let Some(v) = l.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                    if let Some(v) = l.strip_prefix("content-type:") {
                        ctype = v.trim().to_string();
                    }
                }
                let mut body = vec![0u8; len];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let (status, reply) = if ctype == "application/timestamp-query" {
                    ("200 OK", Tsa::reply(&dir, &body))
                } else {
                    ("415 Unsupported Media Type", Vec::new())
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    reply.len()
                );
                let _ = stream.write_all(&reply);
            }
        });
        url
    }
}

/// The `token` of each item of a JSON list of tokens.
fn tokens(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["token"].as_str().unwrap())
        .collect()
}

/// Whether the age CLI is here (scripts/test.sh installs it).
fn age_tools() -> bool {
    ["age", "age-keygen"].iter().all(|t| {
        Command::new(t)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// A new age identity file `name` (age-keygen); returns its recipient.
fn age_identity(env: &Env, name: &str) -> String {
    run(env.dir.path(), "age-keygen", &["-o", name]);
    let out = run(env.dir.path(), "age-keygen", &["-y", name]).stdout;
    String::from_utf8(out).unwrap().trim().to_string()
}

fn key(env: &Env, name: &str) {
    env.qoima(&["keygen", "-o", name, "--unencrypted"])
        .success();
}

/// Bag `CASE` sealed by key `s`, with one custody entry by `s`; `trusted` lists `s`.
fn sealed_case(env: &Env) {
    key(env, "s");
    env.write("src/statement.txt", "Алматы, 5 января 2022: показания\n");
    env.qoima(&["bag", "src", "-o", "CASE", "--external-identifier", "CASE"])
        .success();
    env.qoima(&["seal", "CASE", "--sign", "s", "--name", "Intake desk"])
        .success();
    env.qoima(&[
        "custody",
        "append",
        "CASE",
        "--event",
        "transfer",
        "--agent",
        "Intake desk",
        "--sign",
        "s",
    ])
    .success();
    fs::copy(env.path("s.pub"), env.path("trusted")).unwrap();
}

fn verify_seal(env: &Env, target: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["verify-seal", target, "--trusted-keys", "trusted", "--json"];
    args.extend_from_slice(extra);
    let r = env.qoima(&args);
    (r.code(), r.json())
}

fn verify_sh(env: &Env, script: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new("sh")
        .arg(script)
        .args(args)
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

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

fn openssl_verifies(env: &Env, data: &str, token: &str, root: &str) -> bool {
    Command::new("openssl")
        .args([
            "ts", "-verify", "-data", data, "-in", token, "-CAfile", root,
        ])
        .current_dir(env.dir.path())
        .output()
        .unwrap()
        .status
        .success()
}

const SIG256: &str = "CASE/seal/tagmanifest-sha256.txt.minisig";
const SIG512: &str = "CASE/seal/tagmanifest-sha512.txt.minisig";
const HEAD: &str = "CASE/custody/000001.json.minisig";

#[test]
fn tokens_from_a_local_tsa_verify_in_qoima_verify_sh_and_openssl() {
    if !tools() {
        return;
    }
    let env = Env::new();
    sealed_case(&env);
    let tsa = Tsa::new(env.path("tsa"));
    let url = tsa.serve();
    let root = tsa.root();

    let r = env.qoima(&[
        "timestamp",
        "CASE",
        "--tsa",
        &url,
        "--tsa-name",
        "local",
        "--tsa-roots",
        &root,
        "--json",
    ]);
    r.success();
    let j = r.json();
    let added = tokens(&j["added"]);
    assert_eq!(
        added,
        [
            "seal/tagmanifest-sha256.txt.minisig.local.tsr",
            "seal/tagmanifest-sha512.txt.minisig.local.tsr",
            "custody/000001.json.minisig.local.tsr"
        ]
    );
    assert!(
        j["added"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["trusted"] == true
                && t["info"]["signer"] == "CN=Test TSA"
                && t["info"]["imprint_algorithm"] == "sha256")
    );
    // The stock tool accepts every token.
    for data in [SIG256, SIG512, HEAD] {
        assert!(
            openssl_verifies(&env, data, &format!("{data}.local.tsr"), &root),
            "{data}"
        );
    }

    // The stamped bag is still a BagIt bag to bagit-python (the tokens are tag files outside
    // the tag manifests, which BagIt allows).
    if std::env::var_os("QOIMA_SKIP_INTEROP").is_none()
        && let Some(py) = std::env::var_os("QOIMA_BAGIT_PY")
    {
        let out = Command::new(py)
            .arg("--validate")
            .arg(env.path("CASE"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // The PREMIS export dates each time-stamp by its authority's clock, valid against the
    // official schema; checked against the roots, it says so.
    env.qoima(&[
        "custody",
        "export",
        "CASE",
        "--premis",
        "--tsa-roots",
        &root,
        "-o",
        "premis.xml",
    ])
    .success();
    crate::custody::xmllint_premis(&env.path("premis.xml"));
    let xml = fs::read_to_string(env.path("premis.xml")).unwrap();
    assert_eq!(
        xml.matches("eventType/dsg\">digital signature generation</premis:eventType>")
            .count(),
        3,
        "{xml}"
    );
    let time = j["added"][0]["info"]["time"].as_str().unwrap();
    assert!(
        xml.contains(&format!(
            "<premis:eventDateTime>{time}</premis:eventDateTime>"
        )),
        "{xml}"
    );
    assert_eq!(
        xml.matches("verified against the trusted time-stamp authority roots")
            .count(),
        3
    );
    assert!(xml.contains("<premis:agentName>CN=Test TSA</premis:agentName>"));

    // A second run keeps what is there and adds nothing.
    let r = env.qoima(&[
        "timestamp",
        "CASE",
        "--tsa",
        &url,
        "--tsa-name",
        "local",
        "--json",
    ]);
    r.success();
    assert_eq!(r.json()["added"].as_array().unwrap().len(), 0);
    assert_eq!(r.json()["skipped"].as_array().unwrap().len(), 3);

    // qoima: sealed, with the time proven, and the whole custody log anchored.
    let (rc, v) = verify_seal(&env, "CASE", &["--tsa-roots", &root]);
    assert_eq!(rc, 0, "{v:#}");
    assert!(codes(&v).is_empty(), "{:?}", codes(&v));
    assert!(
        v["proves"].as_array().unwrap().iter().any(|p| p
            .as_str()
            .unwrap()
            .starts_with("the seal existed no later than ")),
        "{:#}",
        v["proves"]
    );
    let r = env.qoima(&[
        "custody",
        "verify",
        "CASE",
        "--trusted-keys",
        "trusted",
        "--tsa-roots",
        &root,
        "--json",
    ]);
    assert_eq!(r.code(), 0);
    let c = r.json();
    assert_eq!(c["timestamp_anchored"], serde_json::json!([1]));
    assert_eq!(c["anchored_through"], 1);
    assert!(codes(&c).is_empty(), "{:?}", codes(&c));

    // verify.sh with the stock tools agrees, and says every entry is anchored.
    let (rc, out) = verify_sh(&env, "CASE/verify.sh", &["-t", &root, "CASE", "trusted"]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("note  every entry is anchored"), "{out}");
    assert_eq!(
        out.matches(" (time-stamp by local, an authority you trust)")
            .count(),
        3,
        "{out}"
    );

    // Without roots: still sealed, but the time-stamps are only listed (a warning), and the
    // custody entry is not anchored.
    let (rc, v) = verify_seal(&env, "CASE", &[]);
    assert_eq!(rc, 0);
    assert!(
        codes(&v).contains(&("SEAL-W060".into(), "seal".into())),
        "{:?}",
        codes(&v)
    );
    assert!(
        codes(&v).contains(&("SEAL-W030".into(), "custody".into())),
        "{:?}",
        codes(&v)
    );
    let (rc, out) = verify_sh(&env, "CASE/verify.sh", &["CASE", "trusted"]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("not checked (give -t TSA_ROOTS)"), "{out}");

    // An entry appended later is after the last anchor: entry 1 is anchored, 2 is not.
    env.qoima(&[
        "custody",
        "append",
        "CASE",
        "--event",
        "fixity-check",
        "--agent",
        "Intake desk",
        "--sign",
        "s",
    ])
    .success();
    let r = env.qoima(&[
        "custody",
        "verify",
        "CASE",
        "--trusted-keys",
        "trusted",
        "--tsa-roots",
        &root,
        "--json",
    ]);
    assert_eq!(r.code(), 0);
    let c = r.json();
    assert_eq!(c["anchored_through"], 1);
    let w: Vec<&Value> = c["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "SEAL-W030")
        .collect();
    assert_eq!(w.len(), 1);
    assert!(
        w[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("entry 2 is not anchored")
    );
    let (rc, out) = verify_sh(&env, "CASE/verify.sh", &["-t", &root, "CASE", "trusted"]);
    assert_eq!(rc, 0, "{out}");
    assert!(
        out.contains("note  entry 1 is anchored by a trusted time-stamp"),
        "{out}"
    );
    assert!(out.contains("note  entry 2 is not anchored"), "{out}");
    // Stamping again covers the new head only.
    let r = env.qoima(&[
        "timestamp",
        "CASE",
        "--tsa",
        &url,
        "--tsa-name",
        "local",
        "--json",
    ]);
    r.success();
    assert_eq!(
        r.json()["added"][0]["token"],
        "custody/000002.json.minisig.local.tsr"
    );
    assert_eq!(r.json()["added"].as_array().unwrap().len(), 1);
}

#[test]
fn a_wrong_root_a_token_over_other_data_and_an_orphan_token_fail_everywhere() {
    if !tools() {
        return;
    }
    let env = Env::new();
    sealed_case(&env);
    let tsa = Tsa::new(env.path("tsa"));
    let url = tsa.serve();
    env.qoima(&["timestamp", "CASE", "--tsa", &url, "--tsa-name", "a"])
        .success();
    let other = Tsa::new(env.path("other"));

    // The roots of another authority: the token is not trusted.
    let (rc, v) = verify_seal(&env, "CASE", &["--tsa-roots", &other.root()]);
    assert_eq!(rc, 1);
    assert!(
        codes(&v).contains(&(
            "SEAL-062".into(),
            "seal/tagmanifest-sha256.txt.minisig.a.tsr".into()
        )),
        "{:?}",
        codes(&v)
    );
    let (rc, out) = verify_sh(
        &env,
        "CASE/verify.sh",
        &["-t", &other.root(), "CASE", "trusted"],
    );
    assert_eq!(rc, 1, "{out}");
    assert!(!openssl_verifies(
        &env,
        SIG256,
        &format!("{SIG256}.a.tsr"),
        &other.root()
    ));

    // A token moved onto another signature: it time-stamps other data.
    fs::remove_file(env.path(&format!("{SIG512}.a.tsr"))).unwrap();
    fs::copy(
        env.path(&format!("{SIG256}.a.tsr")),
        env.path(&format!("{SIG512}.a.tsr")),
    )
    .unwrap();
    let (rc, v) = verify_seal(&env, "CASE", &["--tsa-roots", &tsa.root()]);
    assert_eq!(rc, 1);
    let c = codes(&v);
    assert!(
        c.contains(&(
            "SEAL-061".into(),
            "seal/tagmanifest-sha512.txt.minisig.a.tsr".into()
        )),
        "{c:?}"
    );
    assert_eq!(c.len(), 1, "{c:?}");
    let (rc, out) = verify_sh(
        &env,
        "CASE/verify.sh",
        &["-t", &tsa.root(), "CASE", "trusted"],
    );
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("message imprint mismatch"), "{out}");

    // A token whose signature file is gone.
    fs::remove_file(env.path(&format!("{SIG512}.a.tsr"))).unwrap();
    fs::copy(
        env.path(&format!("{SIG256}.a.tsr")),
        env.path("CASE/seal/tagmanifest-md5.txt.minisig.a.tsr"),
    )
    .unwrap();
    let (rc, v) = verify_seal(&env, "CASE", &["--tsa-roots", &tsa.root()]);
    assert_eq!(rc, 1);
    assert_eq!(
        codes(&v),
        [(
            "SEAL-063".to_string(),
            "seal/tagmanifest-md5.txt.minisig.a.tsr".to_string()
        )]
    );
    let (rc, out) = verify_sh(
        &env,
        "CASE/verify.sh",
        &["-t", &tsa.root(), "CASE", "trusted"],
    );
    assert_eq!(rc, 1, "{out}");
    fs::remove_file(env.path("CASE/seal/tagmanifest-md5.txt.minisig.a.tsr")).unwrap();
}

/// A DER TLV.
fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = body.len();
    if n < 128 {
        v.push(n as u8);
    } else {
        let b = n.to_be_bytes();
        let skip = b.iter().take_while(|&&x| x == 0).count();
        v.push(0x80 | (b.len() - skip) as u8);
        v.extend_from_slice(&b[skip..]);
    }
    v.extend_from_slice(body);
    v
}

#[test]
fn a_token_not_bound_to_its_certificate_fails_in_qoima_as_in_openssl() {
    if !tools() {
        return;
    }
    let env = Env::new();
    sealed_case(&env);
    let tsa = Tsa::new(env.path("tsa"));
    let url = tsa.serve();
    env.qoima(&["timestamp", "CASE", "--tsa", &url, "--tsa-name", "a"])
        .success();
    // The same TSTInfo, signed by the TSA's key and certificate with plain CMS: no ESS
    // signing-certificate attribute binds the certificate (RFC 3161 §2.4.1 requires one).
    let dir = env.dir.path();
    run(
        dir,
        "openssl",
        &[
            "ts",
            "-reply",
            "-in",
            &format!("{SIG256}.a.tsr"),
            "-token_out",
            "-out",
            "t.der",
        ],
    );
    run(
        dir,
        "openssl",
        &[
            "cms",
            "-verify",
            "-noverify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "t.der",
            "-out",
            "tst.der",
        ],
    );
    let t = tsa.dir.display().to_string();
    run(
        dir,
        "openssl",
        &[
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-econtent_type",
            "1.2.840.113549.1.9.16.1.4",
            "-signer",
            &format!("{t}/tsa.pem"),
            "-inkey",
            &format!("{t}/tsa.key"),
            "-in",
            "tst.der",
            "-outform",
            "DER",
            "-out",
            "bare.der",
        ],
    );
    let token = fs::read(env.path("bare.der")).unwrap();
    let status = tlv(0x30, &tlv(0x02, &[0]));
    let reply = tlv(0x30, &[status, token].concat());
    fs::write(env.path(&format!("{SIG256}.a.tsr")), reply).unwrap();
    assert!(!openssl_verifies(
        &env,
        SIG256,
        &format!("{SIG256}.a.tsr"),
        &tsa.root()
    ));
    let (rc, v) = verify_seal(&env, "CASE", &["--tsa-roots", &tsa.root()]);
    assert_eq!(rc, 1);
    let p = &v["problems"][0];
    assert_eq!(p["code"], "SEAL-062");
    assert_eq!(p["file"], "seal/tagmanifest-sha256.txt.minisig.a.tsr");
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .contains("no ESS signing-certificate attribute"),
        "{p}"
    );
    let (rc, out) = verify_sh(
        &env,
        "CASE/verify.sh",
        &["-t", &tsa.root(), "CASE", "trusted"],
    );
    assert_eq!(rc, 1, "{out}");
}

#[test]
fn replies_made_elsewhere_are_imported_and_refused_when_over_other_data() {
    if !tools() {
        return;
    }
    let env = Env::new();
    sealed_case(&env);
    let tsa = Tsa::new(env.path("tsa"));
    // The air-gapped flow: a request made with openssl from the signature file, answered
    // elsewhere, the reply imported.
    let query = |data: &str, out: &str| {
        run(
            env.dir.path(),
            "openssl",
            &[
                "ts", "-query", "-data", data, "-sha512", "-cert", "-out", out,
            ],
        );
        Tsa::reply(&tsa.dir, &fs::read(env.path(out)).unwrap())
    };
    env.write("good.tsr", query(SIG256, "good.tsq"));
    env.write("other.tsr", query("CASE/bag-info.txt", "other.tsq"));

    let r = env.qoima(&[
        "timestamp",
        "CASE",
        "--reply",
        "other.tsr",
        "--tsa-name",
        "offline",
        "--json",
    ]);
    assert_eq!(r.code(), 1);
    assert_eq!(codes(&r.json())[0].0, "SEAL-065");
    assert!(
        fs::read_dir(env.path("CASE/seal")).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tsr"))
    );

    let r = env.qoima(&[
        "timestamp",
        "CASE",
        "--reply",
        "good.tsr",
        "--tsa-name",
        "offline",
        "--tsa-roots",
        &tsa.root(),
        "--json",
    ]);
    r.success();
    assert_eq!(
        r.json()["added"][0]["token"],
        "seal/tagmanifest-sha256.txt.minisig.offline.tsr"
    );
    assert_eq!(r.json()["added"][0]["info"]["imprint_algorithm"], "sha512");
    let (rc, v) = verify_seal(&env, "CASE", &["--tsa-roots", &tsa.root()]);
    assert_eq!(rc, 0, "{:?}", codes(&v));
    let (rc, out) = verify_sh(
        &env,
        "CASE/verify.sh",
        &["-t", &tsa.root(), "CASE", "trusted"],
    );
    assert_eq!(rc, 0, "{out}");

    // The same reply again is kept as it is; another one under that name is refused.
    let r = env.qoima(&[
        "timestamp",
        "CASE",
        "--reply",
        "good.tsr",
        "--tsa-name",
        "offline",
        "--json",
    ]);
    r.success();
    assert_eq!(
        r.json()["skipped"],
        serde_json::json!(["seal/tagmanifest-sha256.txt.minisig.offline.tsr"])
    );
    env.write("good2.tsr", query(SIG256, "good2.tsq"));
    let r = env.qoima(&[
        "timestamp",
        "CASE",
        "--reply",
        "good2.tsr",
        "--tsa-name",
        "offline",
        "--json",
    ]);
    assert_eq!(r.code(), 1);
    let p = &r.json()["problems"][0];
    assert_eq!(p["code"], "SEAL-065");
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .contains("already holds another token from offline"),
        "{p}"
    );

    // A time-stamped bag is not sealed again: the tokens would be left over a seal that is
    // gone.
    let before = fs::read(env.path(SIG256)).unwrap();
    let r = env.qoima(&["seal", "CASE", "--sign", "s", "--json"]);
    assert_eq!(r.code(), 1);
    assert!(
        codes(&r.json()).contains(&(
            "SEAL-007".into(),
            "seal/tagmanifest-sha256.txt.minisig.offline.tsr".into()
        )),
        "{:?}",
        codes(&r.json())
    );
    assert_eq!(fs::read(env.path(SIG256)).unwrap(), before);

    // An authority that gives fractions of a second (clock_precision_digits), as many do:
    // qoima reads the time as openssl does.
    let cnf = fs::read_to_string(tsa.dir.join("ts.cnf")).unwrap();
    fs::write(
        tsa.dir.join("ts.cnf"),
        format!("{cnf}clock_precision_digits = 3\n"),
    )
    .unwrap();
    env.write("frac.tsr", query(SIG512, "frac.tsq"));
    let r = env.qoima(&[
        "timestamp",
        "CASE",
        "--reply",
        "frac.tsr",
        "--tsa-name",
        "frac",
        "--tsa-roots",
        &tsa.root(),
        "--json",
    ]);
    r.success();
    let t = r.json()["added"][0]["info"]["time"]
        .as_str()
        .unwrap()
        .to_string();
    // (DER drops a fraction's trailing zeros: .150 is written .15, and .000 not at all.)
    let frac = t
        .strip_suffix('Z')
        .and_then(|x| x.get(19..))
        .unwrap_or_default();
    assert!(
        t.len() >= 20
            && (frac.is_empty()
                || (frac.starts_with('.')
                    && (2..=4).contains(&frac.len())
                    && frac[1..].bytes().all(|b| b.is_ascii_digit()))),
        "{t}"
    );
    assert!(openssl_verifies(
        &env,
        SIG512,
        &format!("{SIG512}.frac.tsr"),
        &tsa.root()
    ));
    let (rc, v) = verify_seal(&env, "CASE", &["--tsa-roots", &tsa.root()]);
    assert_eq!(rc, 0, "{:?}", codes(&v));

    // A reply that is not one.
    env.write("junk.tsr", "not a reply");
    let r = env.qoima(&[
        "timestamp",
        "CASE",
        "--reply",
        "junk.tsr",
        "--tsa-name",
        "x",
        "--json",
    ]);
    assert_eq!(r.code(), 1);
    assert_eq!(codes(&r.json())[0].0, "SEAL-065");
}

#[test]
fn an_unreachable_tsa_is_an_io_error_and_writes_nothing() {
    if !tools() {
        return;
    }
    let env = Env::new();
    sealed_case(&env);
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = env.qoima(&[
        "timestamp",
        "CASE",
        "--tsa",
        &format!("http://127.0.0.1:{port}/tsa"),
        "--json",
    ]);
    assert_eq!(r.code(), 2, "{}", r.stderr());
    assert!(codes(&r.json()).iter().all(|(c, _)| c == "SEAL-064"));
    assert!(
        fs::read_dir(env.path("CASE/seal")).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tsr"))
    );
    // Not a sealed bag: a usage error before any request.
    env.write("plain/x.txt", "x");
    let r = env.qoima(&["timestamp", "plain", "--tsa", "http://127.0.0.1:9/"]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("is not sealed"), "{}", r.stderr());
}

#[test]
fn an_encrypted_bundle_is_time_stamped_beside_its_signature() {
    if !tools() || !age_tools() {
        return;
    }
    let env = Env::new();
    sealed_case(&env);
    let recipient = age_identity(&env, "id.txt");
    env.qoima(&[
        "seal", "CASE", "--sign", "s", "--to", &recipient, "-o", "out",
    ])
    .success();
    let tsa = Tsa::new(env.path("tsa"));
    let url = tsa.serve();
    let r = env.qoima(&[
        "timestamp",
        "out/bundle.tar.age",
        "--tsa",
        &url,
        "--tsa-name",
        "t1",
        "--json",
    ]);
    r.success();
    assert_eq!(
        r.json()["added"][0]["token"],
        "bundle.tar.age.sha256.minisig.t1.tsr"
    );
    assert!(
        env.path("out/bundle.tar.age.sha256.minisig.t1.tsr")
            .is_file()
    );
    let root = tsa.root();
    let (rc, v) = verify_seal(
        &env,
        "out/bundle.tar.age",
        &["-i", "id.txt", "--tsa-roots", &root],
    );
    assert_eq!(rc, 0, "{:?}", codes(&v));
    assert!(
        v["timestamps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["token"] == "bundle.tar.age.sha256.minisig.t1.tsr" && t["trusted"] == true)
    );
    let (rc, out) = verify_sh(
        &env,
        "out/verify.sh",
        &["-i", "id.txt", "-t", &root, "out/bundle.tar.age", "trusted"],
    );
    assert_eq!(rc, 0, "{out}");
    assert!(
        out.contains(
            "bundle.tar.age.sha256.minisig.t1.tsr: bundle.tar.age.sha256.minisig existed at"
        ),
        "{out}"
    );
    // Under another authority's roots both fail.
    let other = Tsa::new(env.path("other"));
    let (rc, v) = verify_seal(
        &env,
        "out/bundle.tar.age",
        &["-i", "id.txt", "--tsa-roots", &other.root()],
    );
    assert_eq!(rc, 1);
    assert!(codes(&v).contains(&(
        "SEAL-062".into(),
        "bundle.tar.age.sha256.minisig.t1.tsr".into()
    )));
    let (rc, out) = verify_sh(
        &env,
        "out/verify.sh",
        &[
            "-i",
            "id.txt",
            "-t",
            &other.root(),
            "out/bundle.tar.age",
            "trusted",
        ],
    );
    assert_eq!(rc, 1, "{out}");
}

/// `seal --tsa`: the seal is time-stamped as soon as it is signed; with `--to`, the tokens
/// travel inside the bundle and the bundle's signed digest is stamped too.
#[test]
fn seal_with_tsa_stamps_the_seal_and_the_bundle() {
    if !tools() || !age_tools() {
        return;
    }
    let env = Env::new();
    key(&env, "s");
    fs::copy(env.path("s.pub"), env.path("trusted")).unwrap();
    env.write("src/statement.txt", "Алматы, 6 января 2022\n");
    env.qoima(&["bag", "src", "-o", "CASE"]).success();
    let recipient = age_identity(&env, "id.txt");
    let tsa = Tsa::new(env.path("tsa"));
    let url = tsa.serve();
    let root = tsa.root();
    let r = env.qoima(&[
        "--json",
        "seal",
        "CASE",
        "--sign",
        "s",
        "--to",
        &recipient,
        "-o",
        "out",
        "--tsa",
        &url,
        "--tsa-name",
        "t1",
        "--tsa-roots",
        &root,
    ]);
    r.success();
    let j = r.json();
    let tokens = tokens(&j["timestamps"]);
    assert_eq!(
        tokens,
        [
            "seal/tagmanifest-sha256.txt.minisig.t1.tsr",
            "seal/tagmanifest-sha512.txt.minisig.t1.tsr",
            "bundle.tar.age.sha256.minisig.t1.tsr"
        ]
    );
    assert!(
        j["timestamps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["trusted"] == true)
    );
    assert!(
        env.path("CASE/seal/tagmanifest-sha256.txt.minisig.t1.tsr")
            .is_file()
    );
    assert!(
        env.path("out/bundle.tar.age.sha256.minisig.t1.tsr")
            .is_file()
    );
    // Both verifiers find the tokens inside the bundle and beside it, and trust them.
    let (rc, v) = verify_seal(
        &env,
        "out/bundle.tar.age",
        &["-i", "id.txt", "--tsa-roots", &root],
    );
    assert_eq!(rc, 0, "{v:#}");
    let trusted: Vec<&str> = v["timestamps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["trusted"] == true)
        .map(|t| t["token"].as_str().unwrap())
        .collect();
    assert_eq!(trusted.len(), 3, "{v:#}");
    let (rc, out) = verify_sh(
        &env,
        "out/verify.sh",
        &["-i", "id.txt", "-t", &root, "out/bundle.tar.age", "trusted"],
    );
    assert_eq!(rc, 0, "{out}");
    assert_eq!(
        out.matches("(time-stamp by t1, an authority you trust)")
            .count(),
        3,
        "{out}"
    );
    // An authority that answers with a token the roots given do not trust: sealed, not
    // encrypted, exit 2 — and the advice is not to wait for it.
    let other = Tsa::new(env.path("other"));
    env.write("src2/a.txt", "a\n");
    env.qoima(&["bag", "src2", "-o", "CASE2"]).success();
    let r = env.qoima(&[
        "--json",
        "seal",
        "CASE2",
        "--sign",
        "s",
        "--to",
        &recipient,
        "-o",
        "out2",
        "--tsa",
        &url,
        "--tsa-roots",
        &other.root(),
    ]);
    assert_eq!(r.code(), 2, "{}", r.stderr());
    let j = r.json();
    assert_eq!(j["outcome"], "error");
    assert!(
        j["error"]
            .as_str()
            .unwrap()
            .contains("with another authority"),
        "{j:#}"
    );
    assert!(!env.path("out2/bundle.tar.age").exists());
}

/// An authority that does not answer: the bag is sealed (the seal needs no network), nothing
/// is encrypted, and the way on is said.
#[test]
fn seal_with_an_unreachable_tsa_seals_but_does_not_encrypt() {
    let env = Env::new();
    key(&env, "s");
    env.write("src/a.txt", "a\n");
    env.qoima(&["bag", "src", "-o", "CASE"]).success();
    let id = age::x25519::Identity::generate();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/tsa");
    let r = env.qoima(&[
        "--json",
        "seal",
        "CASE",
        "--sign",
        "s",
        "--to",
        &id.to_public().to_string(),
        "-o",
        "out",
        "--tsa",
        &url,
    ]);
    assert_eq!(r.code(), 2, "{}", r.stderr());
    let j = r.json();
    assert_eq!(j["outcome"], "error");
    assert!(j["seal"].is_object(), "{j:#}");
    assert!(j["bundle"].is_null(), "{j:#}");
    assert!(
        j["error"]
            .as_str()
            .unwrap()
            .contains("a time-stamp could not be had, so it was not encrypted"),
        "{j:#}"
    );
    let codes: Vec<&str> = j["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert!(codes.iter().all(|c| *c == "SEAL-064"), "{codes:?}");
    assert!(!codes.is_empty());
    assert!(!env.path("out/bundle.tar.age").exists());
    // The seal itself is whole.
    fs::copy(env.path("s.pub"), env.path("trusted")).unwrap();
    let (rc, v) = verify_seal(&env, "CASE", &[]);
    assert_eq!(rc, 0, "{v:#}");
    // A bad --tsa-name is refused before anything is signed.
    let info = fs::read(env.path("CASE/bag-info.txt")).unwrap();
    let r = env.qoima(&[
        "seal",
        "CASE",
        "--sign",
        "s",
        "--tsa",
        &url,
        "--tsa-name",
        "a b",
    ]);
    assert_eq!(r.code(), 2, "{}", r.stderr());
    assert!(r.stderr().contains("a b"), "{}", r.stderr());
    assert_eq!(fs::read(env.path("CASE/bag-info.txt")).unwrap(), info);
    // So are a URL that is none, and a roots file that holds no certificate.
    for (args, want) in [
        (vec!["--tsa", "notaurl"], "not a time-stamp authority's URL"),
        (
            vec!["--tsa", "ftp://x/"],
            "not a time-stamp authority's URL",
        ),
        (vec!["--tsa", &url, "--tsa-roots", "s.pub"], "--tsa-roots"),
    ] {
        let mut a = vec!["seal", "CASE", "--sign", "s"];
        a.extend(args);
        let r = env.qoima(&a);
        assert_eq!(r.code(), 2, "{}", r.stderr());
        assert!(r.stderr().contains(want), "{}", r.stderr());
        assert_eq!(fs::read(env.path("CASE/bag-info.txt")).unwrap(), info);
    }
}
