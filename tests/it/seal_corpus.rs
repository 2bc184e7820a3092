//! The sealed-evidence conformance corpus `fixtures/seal/` (made by
//! `fixtures/gen/make-seal-corpus.sh`): committed honest and tampered sealed bags and
//! encrypted bundles, each with a `case.json` naming its verdict and the error codes qoima
//! must report. For every case, `qoima verify-seal --json` and the case's own `verify.sh`
//! (run with the stock tools: minisign, age, openssl) must both reach that verdict, and
//! qoima's error codes must be exactly the expected ones. Each case is verified in a copy,
//! so that no verifier can change the fixtures; the copy must come out unchanged too.
//! The run skips, saying why, only when minisign, age or openssl are missing
//! (scripts/test.sh installs them).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{Env, sha256_hex};

/// The corpus, relative to the crate.
const CORPUS: &str = "fixtures/seal";
/// The trusted-keys file every case is verified with (relative to the corpus).
const TRUSTED_KEYS: &str = "keys/trusted-keys.txt";

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS)
}

/// One `cases/NN-name/case.json`.
#[derive(Debug)]
struct Case {
    name: String,
    dir: PathBuf,
    target: String,
    sealed: bool,
    codes: BTreeSet<String>,
    identity: Option<String>,
    expect_head: Option<String>,
    tsa_roots: Option<String>,
}

/// Every case, in order; panics on a malformed or unknown field (a typo must not silently
/// drop an expectation).
fn cases() -> Vec<Case> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(corpus().join("cases"))
        .expect("fixtures/seal/cases/ (regenerate with fixtures/gen/make-seal-corpus.sh)")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter().map(|dir| read_case(&dir)).collect()
}

fn read_case(dir: &Path) -> Case {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let text = fs::read_to_string(dir.join("case.json"))
        .unwrap_or_else(|e| panic!("{name}/case.json: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}/case.json: {e}"));
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("{name}/case.json: not an object"));
    for key in obj.keys() {
        assert!(
            matches!(
                key.as_str(),
                "description"
                    | "target"
                    | "verdict"
                    | "codes"
                    | "identity"
                    | "expect_head"
                    | "tsa_roots"
            ),
            "{name}/case.json: unknown field {key:?}"
        );
    }
    let string = |key: &str| -> Option<String> {
        obj.get(key).map(|x| {
            x.as_str()
                .unwrap_or_else(|| panic!("{name}/case.json: {key} is not a string"))
                .to_string()
        })
    };
    let description = string("description").unwrap_or_default();
    assert!(
        !description.trim().is_empty(),
        "{name}/case.json: no description"
    );
    let target = string("target").unwrap_or_else(|| panic!("{name}/case.json: no target"));
    assert!(
        target == "bag" || (target.ends_with(".tar.age") && !target.contains('/')),
        "{name}/case.json: target is \"bag\" or NAME.tar.age, not {target:?}"
    );
    let sealed = match string("verdict").as_deref() {
        Some("sealed") => true,
        Some("not-verified") => false,
        other => panic!("{name}/case.json: verdict is sealed or not-verified, not {other:?}"),
    };
    let codes: BTreeSet<String> = obj
        .get("codes")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{name}/case.json: codes is not a list"))
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        sealed,
        codes.is_empty(),
        "{name}/case.json: a sealed case has no error codes, and a failing case has some"
    );
    let (identity, expect_head, tsa_roots) = (
        string("identity"),
        string("expect_head"),
        string("tsa_roots"),
    );
    let case = Case {
        name,
        dir: dir.to_path_buf(),
        target,
        sealed,
        codes,
        identity,
        expect_head,
        tsa_roots,
    };
    for rel in [&case.identity, &case.tsa_roots].into_iter().flatten() {
        assert!(
            corpus().join(rel).is_file(),
            "{}: {rel} (relative to {CORPUS}/) is missing",
            case.name
        );
    }
    assert!(
        case.dir.join(&case.target).exists(),
        "{}: its target {} is missing",
        case.name,
        case.target
    );
    case
}

/// Why the stock tools cannot run here, if they cannot.
fn missing_tools() -> Option<String> {
    let missing: Vec<&str> = [
        ("minisign", "-v"),
        ("age", "--version"),
        ("openssl", "version"),
    ]
    .into_iter()
    .filter(|(tool, arg)| {
        !Command::new(tool)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success())
    })
    .map(|(tool, _)| tool)
    .collect();
    (!missing.is_empty()).then(|| format!("{} not installed", missing.join(", ")))
}

/// Copies a case folder, keeping symbolic links as links.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        let ft = e.file_type().unwrap();
        if ft.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(e.path()).unwrap(), &t).unwrap();
        } else if ft.is_dir() {
            copy_tree(&e.path(), &t);
        } else {
            fs::copy(e.path(), &t).unwrap();
        }
    }
}

/// Every entry under `dir` with its kind and content digest (links by their target).
fn snapshot(dir: &Path, rel: &str, out: &mut BTreeMap<String, String>) {
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = format!("{rel}{}", e.file_name().to_string_lossy());
        let ft = e.file_type().unwrap();
        if ft.is_symlink() {
            out.insert(
                name,
                format!("link {}", fs::read_link(e.path()).unwrap().display()),
            );
        } else if ft.is_dir() {
            out.insert(name.clone(), "dir".into());
            snapshot(&e.path(), &format!("{name}/"), out);
        } else {
            out.insert(name, sha256_hex(&fs::read(e.path()).unwrap()));
        }
    }
}

/// The error codes (warnings left out) of a JSON report's `problems`.
fn error_codes(v: &Value) -> BTreeSet<String> {
    v["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems list in {v:#}"))
        .iter()
        .filter(|p| p["severity"] == "error")
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect()
}

/// Whether `qoima verify-seal` takes `--expect-head` (else `qoima custody verify` checks
/// the kept head).
fn verify_seal_takes_expect_head(env: &Env) -> bool {
    env.qoima(&["verify-seal", "--help"])
        .stdout()
        .contains("--expect-head")
}

/// qoima's verdict on a case copied to `root`: exit code, error codes, and the reports.
fn run_qoima(
    env: &Env,
    case: &Case,
    root: &Path,
    head_flag: bool,
) -> (i32, BTreeSet<String>, String) {
    let target = root.join(&case.target);
    let keys = corpus().join(TRUSTED_KEYS);
    let mut args: Vec<String> = vec![
        "verify-seal".into(),
        target.display().to_string(),
        "--trusted-keys".into(),
        keys.display().to_string(),
    ];
    if let Some(id) = &case.identity {
        args.extend(["-i".into(), corpus().join(id).display().to_string()]);
    }
    if let Some(roots) = &case.tsa_roots {
        args.extend([
            "--tsa-roots".into(),
            corpus().join(roots).display().to_string(),
        ]);
    }
    if let (Some(head), true) = (&case.expect_head, head_flag) {
        args.extend(["--expect-head".into(), head.clone()]);
    }
    args.push("--json".into());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = env.qoima(&argv);
    let v: Value = serde_json::from_str(&r.stdout()).unwrap_or_else(|e| {
        panic!(
            "{}: verify-seal printed no JSON ({e}), exit {}:\n{}",
            case.name,
            r.code(),
            r.stderr()
        )
    });
    let mut code = r.code();
    let mut codes = error_codes(&v);
    let mut report = format!("{v:#}");
    if let (Some(head), false) = (&case.expect_head, head_flag) {
        // The head kept outside the bag: checked by `qoima custody verify --expect-head`.
        let r = env.qoima(&[
            "custody",
            "verify",
            target.to_str().unwrap(),
            "--trusted-keys",
            keys.to_str().unwrap(),
            "--expect-head",
            head,
            "--json",
        ]);
        let v: Value = serde_json::from_str(&r.stdout()).unwrap_or_else(|e| {
            panic!(
                "{}: custody verify printed no JSON ({e}), exit {}:\n{}",
                case.name,
                r.code(),
                r.stderr()
            )
        });
        if r.code() != 0 {
            code = code.max(r.code());
        }
        codes.extend(error_codes(&v));
        report.push_str(&format!("\ncustody verify --expect-head:\n{v:#}"));
    }
    (code, codes, report)
}

/// The case's own `verify.sh` (in the bag, or beside the bundle), run with `sh` from the
/// case's folder: exit code and output.
fn run_verify_sh(case: &Case, root: &Path) -> Result<(i32, String), String> {
    let script = if case.target == "bag" {
        root.join("bag/verify.sh")
    } else {
        root.join("verify.sh")
    };
    let text = fs::read_to_string(&script).map_err(|e| format!("{}: {e}", script.display()))?;
    // The script's options (-i, -t, -e) came with bundles and time-stamps; the first
    // version took the bag and the keys, and the kept head as a third argument.
    let options = text.contains("-e EXPECTED_HEAD");
    let mut c = Command::new("sh");
    c.arg(&script).current_dir(root);
    if let Some(id) = &case.identity {
        if !options {
            return Err("this verify.sh takes no -i AGE_IDENTITY".into());
        }
        c.arg("-i").arg(corpus().join(id));
    }
    if let Some(roots) = &case.tsa_roots {
        if !options {
            return Err("this verify.sh takes no -t TSA_ROOTS".into());
        }
        c.arg("-t").arg(corpus().join(roots));
    }
    if let (Some(head), true) = (&case.expect_head, options) {
        c.arg("-e").arg(head);
    }
    c.arg(&case.target).arg(corpus().join(TRUSTED_KEYS));
    if let (Some(head), false) = (&case.expect_head, options) {
        c.arg(head);
    }
    let out = c.output().map_err(|e| format!("sh: {e}"))?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    ))
}

/// The case names of the README's table (`| `NN-name` | …`).
fn readme_cases() -> Vec<String> {
    let readme = fs::read_to_string(corpus().join("README.md")).unwrap();
    readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(name, _)| name.to_string()))
        .filter(|n| n.len() > 3 && n.as_bytes()[..2].iter().all(u8::is_ascii_digit))
        .collect()
}

#[test]
fn the_corpus_has_at_least_20_cases_each_in_the_readme() {
    let cases = cases();
    assert!(
        cases.len() >= 20,
        "the corpus has {} cases; issue 7 asks for at least 20",
        cases.len()
    );
    assert!(cases.iter().any(|c| c.sealed), "no honest case");
    let names: BTreeSet<String> = cases.iter().map(|c| c.name.clone()).collect();
    let listed = readme_cases();
    let listed_set: BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(listed.len(), listed_set.len(), "a case is listed twice");
    for n in &listed {
        assert!(
            names.contains(n),
            "README.md lists {n}, which is not in {CORPUS}/cases/"
        );
    }
    for n in &names {
        assert!(listed_set.contains(n), "{n} is not in README.md's table");
    }
    // The keys named by the README and the cases are there.
    for k in [
        "sealer.key",
        "sealer.key.pub",
        "courier.key.pub",
        "foreign.key.pub",
        "age-identity.txt",
        "wrong-age-identity.txt",
        TRUSTED_KEYS.strip_prefix("keys/").unwrap(),
    ] {
        assert!(corpus().join("keys").join(k).is_file(), "keys/{k} missing");
    }
}

/// The `verify.sh` in every case is the one this qoima writes: a stale corpus (made before
/// the script changed) would test an old script.
#[test]
fn every_verify_sh_in_the_corpus_is_the_current_script() {
    let mut stale = Vec::new();
    for case in cases() {
        let script = if case.target == "bag" {
            case.dir.join("bag/verify.sh")
        } else {
            case.dir.join("verify.sh")
        };
        match fs::read_to_string(&script) {
            Ok(text) if text == qoima::seal::script::VERIFY_SH => {}
            Ok(_) => stale.push(format!("{}: differs", case.name)),
            Err(e) => stale.push(format!("{}: {e}", case.name)),
        }
    }
    assert!(
        stale.is_empty(),
        "verify.sh in the corpus is not this qoima's; regenerate the corpus with \
         `cargo build --locked && fixtures/gen/make-seal-corpus.sh`:\n{}",
        stale.join("\n")
    );
}

#[test]
fn every_case_reaches_its_verdict_in_qoima_and_in_verify_sh() {
    let cases = cases();
    if let Some(why) = missing_tools() {
        eprintln!(
            "skipped: {why}; verify.sh needs the stock tools (scripts/test.sh installs them)"
        );
        return;
    }
    let env = Env::new();
    let head_flag = verify_seal_takes_expect_head(&env);
    let mut failures = Vec::new();
    for case in &cases {
        let root = env.path(&case.name);
        copy_tree(&case.dir, &root);
        let mut before = BTreeMap::new();
        snapshot(&root, "", &mut before);

        let want = i32::from(!case.sealed);
        let (q_code, q_codes, report) = run_qoima(&env, case, &root, head_flag);
        if q_code != want {
            failures.push(format!(
                "{}: qoima verify-seal exited {q_code}, expected {want}\n{report}",
                case.name
            ));
        }
        if q_codes != case.codes {
            failures.push(format!(
                "{}: qoima reported {q_codes:?}, expected {:?}\n{report}",
                case.name, case.codes
            ));
        }
        match run_verify_sh(case, &root) {
            Err(why) => failures.push(format!("{}: verify.sh could not run: {why}", case.name)),
            Ok((sh_code, out)) => {
                if sh_code != want {
                    failures.push(format!(
                        "{}: verify.sh exited {sh_code}, expected {want}\n{out}",
                        case.name
                    ));
                }
                if sh_code != q_code {
                    failures.push(format!(
                        "{}: qoima (exit {q_code}) and verify.sh (exit {sh_code}) disagree\n{out}",
                        case.name
                    ));
                }
                if !case.sealed && !out.contains("FAIL") {
                    failures.push(format!(
                        "{}: verify.sh printed no FAIL line\n{out}",
                        case.name
                    ));
                }
            }
        }

        let mut after = BTreeMap::new();
        snapshot(&root, "", &mut after);
        if before != after {
            failures.push(format!("{}: verification changed the material", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
