//! Issue 13, defects 9, 10 and 12: a collection or a bag made by someone else must not make
//! qoima read outside it, echo another file's lines, paint the terminal, or hang; and the
//! collection description is judged the same way by `check` and `package`.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use serde_json::Value;

use super::util::*;

/// A collection holding one valid photo and a sidecar describing it.
fn one_photo_collection(env: &Env, rel: &str) {
    let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photos/good/tiny.png");
    env.write(&format!("{rel}/tiny.png"), fs::read(photo).unwrap());
    env.write(
        &format!("{rel}/metadata.csv"),
        "identifier,file,title,date,rights,type\nq-1,tiny.png,Tiny,2022-01-04,CC0 1.0,StillImage\n",
    );
}

/// (code, file, line) of the collection-level problems of a `check --json` report.
fn global_problems(v: &Value) -> Vec<(String, String, Option<u64>)> {
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_string(),
                p["file"].as_str().unwrap_or("").to_string(),
                p["line"].as_u64(),
            )
        })
        .collect()
}

fn has(v: &Value, code: &str, file: &str, line: Option<u64>) -> bool {
    global_problems(v)
        .iter()
        .any(|(c, f, l)| c == code && f == file && *l == line)
}

#[test]
fn issue13_check_does_not_follow_a_sidecar_linked_out_of_the_collection() {
    let env = Env::new();
    one_photo_collection(&env, "c");
    env.write("secret.txt", "SECRET-LINE:x:0:0:root:/root:/bin/bash\n");
    fs::remove_file(env.path("c/metadata.csv")).unwrap();
    symlink(env.path("secret.txt"), env.path("c/metadata.csv")).unwrap();
    symlink("../secret.txt", env.path("c/collection.toml")).unwrap();
    for json in [true, false] {
        let args = if json {
            vec!["check", "--json", "c"]
        } else {
            vec!["check", "c"]
        };
        let r = env.qoima(&args);
        assert_eq!(r.code(), 1, "{}", r.stderr());
        assert!(
            !r.stdout().contains("SECRET") && !r.stderr().contains("SECRET"),
            "the linked file's content was echoed:\n{}\n{}",
            r.stdout(),
            r.stderr()
        );
        if json {
            let v = r.json();
            assert!(has(&v, "META-020", "metadata.csv", None), "{v}");
            assert!(has(&v, "META-020", "collection.toml", None), "{v}");
            // The photos are not also reported undescribed: the sidecar is the one problem.
            assert!(!v.to_string().contains("META-010"), "{v}");
        }
    }
    let r = env.qoima(&["package", "c", "-o", "out"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert!(!r.stderr().contains("SECRET"));
    assert!(!env.path("out").exists());
}

#[test]
fn issue13_a_sidecar_linked_inside_the_collection_is_read() {
    let env = Env::new();
    one_photo_collection(&env, "c");
    fs::rename(env.path("c/metadata.csv"), env.path("c/records.csv")).unwrap();
    symlink("records.csv", env.path("c/metadata.csv")).unwrap();
    let r = env.qoima(&["check", "--json", "c"]);
    let v = r.json();
    // The link itself is reported as `package` would refuse it; the records were read.
    assert!(has(&v, "BAG-072", "metadata.csv", None), "{v}");
    assert!(!v.to_string().contains("META-020"), "{v}");
    assert_eq!(v["items"][0]["identifier"], "q-1", "{v}");
}

#[test]
fn issue13_a_fifo_sidecar_is_reported_without_waiting() {
    let env = Env::new();
    one_photo_collection(&env, "c");
    let fifo = env.path("c/collection.toml");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let r = env.qoima(&["check", "--json", "c"]);
    // Invalid (the FIFO in the collection) outweighs unreadable (its content).
    assert_eq!(r.code(), 1, "{}", r.stderr());
    let v = r.json();
    assert!(has(&v, "META-002", "collection.toml", None), "{v}");
    assert!(has(&v, "BAG-061", "collection.toml", None), "{v}");
}

#[test]
fn issue13_messages_quote_user_content_as_short_escaped_excerpts() {
    let env = Env::new();
    one_photo_collection(&env, "c");
    let long_column = format!("shelf{}", "x".repeat(5000));
    let bad_date = format!("\u{1b}[2J{}", "9".repeat(5000));
    env.write(
        "c/metadata.csv",
        format!(
            "identifier,file,title,date,rights,type,{long_column}\nq-1,tiny.png,Tiny,{bad_date},CC0 1.0,StillImage,v\n"
        ),
    );
    let r = env.qoima(&["check", "c"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    let err = r.stderr();
    assert!(
        err.contains("META-W001") && err.contains("META-012"),
        "{err}"
    );
    assert!(
        !err.contains('\u{1b}'),
        "a control character reached the terminal"
    );
    for line in err.lines() {
        assert!(
            line.chars().count() < 400,
            "a message echoes too much: {line}"
        );
    }
    let v = env.qoima(&["check", "--json", "c"]).json();
    for p in v["items"][0]["problems"].as_array().unwrap() {
        let m = p["message"].as_str().unwrap();
        assert!(m.chars().count() < 400, "{m}");
    }
}

#[test]
fn issue13_toml_dates_become_iso_text_in_dc_and_mets() {
    let env = Env::new();
    one_photo_collection(&env, "c");
    env.write(
        "c/collection.toml",
        "title = \"Tiny\"\ndate = 2022-01-04\ncoverage = [\"Almaty\", 2022-01-05T19:30:00+06:00]\n",
    );
    env.qoima(&["check", "c"]).success();
    env.qoima(&["package", "c", "-o", "out"]).success();
    let dc = fs::read_to_string(env.path("out/metadata/dc.xml")).unwrap();
    let mets = fs::read_to_string(env.path("out/mets.xml")).unwrap();
    for (name, text) in [("dc.xml", &dc), ("mets.xml", &mets)] {
        assert!(!text.contains("toml_private"), "{name}: {text}");
        assert!(text.contains(">2022-01-04</dc:date>"), "{name}: {text}");
        assert!(
            text.contains(">2022-01-05T19:30:00+06:00</dc:coverage>"),
            "{name}: {text}"
        );
    }
}

#[test]
fn issue13_check_rejects_the_collection_description_package_would_reject() {
    let env = Env::new();
    one_photo_collection(&env, "c");
    let cases: [(&str, &[u8], &str, u64); 4] = [
        (
            "collection.toml",
            b"title = \"T\"\nrights = true\n",
            "META-022",
            2,
        ),
        (
            "collection.toml",
            b"title = \"T\"\ncreator = [\"A\", 3]\n",
            "META-022",
            2,
        ),
        (
            "collection.toml",
            b"title = \"T\"\nthis is not toml\n",
            "META-021",
            2,
        ),
        (
            "collection.json",
            b"{\"title\": \"T\",\n \"date\": 2022}\n",
            "META-022",
            2,
        ),
    ];
    for (file, text, code, line) in cases {
        for f in ["collection.toml", "collection.json"] {
            let _ = fs::remove_file(env.path(&format!("c/{f}")));
        }
        env.write(&format!("c/{file}"), text);
        let r = env.qoima(&["check", "--json", "c"]);
        assert_eq!(r.code(), 1, "{file}: {}", r.stderr());
        let v = r.json();
        assert!(has(&v, code, file, Some(line)), "{file}: {v}");
        let r = env.qoima(&["package", "--json", "c", "-o", "out"]);
        assert_eq!(r.code(), 1, "{file}: {}", r.stderr());
        assert_eq!(r.json()["outcome"], "refused");
        assert!(!env.path("out").exists());
    }
}

#[test]
fn issue13_a_toml_parse_error_does_not_paint_the_terminal() {
    let env = Env::new();
    one_photo_collection(&env, "c");
    env.write(
        "c/collection.toml",
        b"title = \"X\x1b[2J\x1b]0;pwned\x07\nbad\n",
    );
    let r = env.qoima(&["check", "c"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert!(r.stderr().contains("META-021"), "{}", r.stderr());
    assert!(
        !r.stderr().contains(['\u{1b}', '\u{7}']),
        "{:?}",
        r.stderr()
    );
    let r = env.qoima(&["package", "c", "-o", "out"]);
    assert_eq!(r.code(), 1);
    assert!(
        !r.stderr().contains(['\u{1b}', '\u{7}']),
        "{:?}",
        r.stderr()
    );
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn issue13_a_fifo_named_like_a_tag_file_is_reported() {
    let env = Env::new();
    env.sample_bag("bag");
    mkfifo(&env.path("bag/fetch.txt"));
    mkfifo(&env.path("bag/manifest-md5.txt"));
    mkfifo(&env.path("bag/notes.txt"));
    let r = env.qoima(&["validate", "--json", "bag"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    let got = problems(&r.json());
    for file in ["fetch.txt", "manifest-md5.txt", "notes.txt"] {
        assert!(
            got.iter()
                .any(|(c, f, s)| c == "BAG-061" && f == file && s == "error"),
            "{file}: {got:?}"
        );
    }
}

/// Runs qoima and fails the test, instead of hanging it, when it takes over a minute.
fn qoima_within_a_minute(env: &Env, args: &[&str]) -> Run {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_qoima"))
        .args(args)
        .current_dir(env.dir.path())
        .env("SOURCE_DATE_EPOCH", "1641340800")
        .env_remove("QOIMA_FAILPOINT")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("qoima {args:?} still runs after a minute: it waits on a FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Run(child.wait_with_output().unwrap())
}

/// A bag `name` sealed with the unencrypted key `sealer` (made here).
fn sealed(env: &Env, name: &str, sealer: &str) {
    env.qoima(&["keygen", "-o", sealer, "--unencrypted"])
        .success();
    env.write(&format!("{name}-src/a.txt"), "a\n");
    env.qoima(&["bag", &format!("{name}-src"), "-o", name])
        .success();
    env.qoima(&["seal", name, "--sign", sealer]).success();
}

#[test]
fn issue13_a_fifo_bag_info_does_not_hang_verify_seal_or_custody_append() {
    let env = Env::new();
    sealed(&env, "CASE", "s");
    fs::remove_file(env.path("CASE/bag-info.txt")).unwrap();
    mkfifo(&env.path("CASE/bag-info.txt"));
    let r = qoima_within_a_minute(
        &env,
        &["verify-seal", "CASE", "--trusted-keys", "s.pub", "--json"],
    );
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert!(r.stdout().contains("BAG-061"), "{}", r.stdout());
    let r = qoima_within_a_minute(
        &env,
        &[
            "custody", "append", "CASE", "--event", "transfer", "--agent", "x", "--sign", "s",
            "--json",
        ],
    );
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert!(r.stdout().contains("SEAL-030"), "{}", r.stdout());
    assert!(!env.path("CASE/custody").exists());
}

#[test]
fn issue13_custody_append_names_the_untrusted_signer_instead_of_an_unsealed_bag() {
    let env = Env::new();
    sealed(&env, "CASE", "s");
    env.qoima(&["keygen", "-o", "other", "--unencrypted"])
        .success();
    let other_id = {
        let r = env.qoima(&[
            "custody", "append", "CASE", "--event", "transfer", "--agent", "courier", "--sign",
            "other", "--json",
        ]);
        r.success();
        r.json()["appended"]["key_id"].as_str().unwrap().to_string()
    };
    let r = env.qoima(&[
        "custody",
        "append",
        "CASE",
        "--event",
        "accession",
        "--agent",
        "archive",
        "--sign",
        "s",
        "--trusted-keys",
        "s.pub",
        "--json",
    ]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    let v = r.json();
    let problems = v["problems"].as_array().unwrap();
    let codes: Vec<&str> = problems
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["SEAL-035", "SEAL-030"], "{v}");
    assert_eq!(problems[0]["file"], "custody/000001.json");
    let closing = problems[1]["message"].as_str().unwrap();
    assert!(
        closing.contains(&format!("signed by key {other_id}"))
            && closing.contains("not among the trusted keys"),
        "{closing}"
    );
    assert!(!closing.contains("not sealed"), "{closing}");
    assert!(!v["error"].as_str().unwrap().contains("not sealed"), "{v}");
    assert!(!env.path("CASE/custody/000002.json").exists());
    // Without --trusted-keys the same append goes through.
    env.qoima(&[
        "custody",
        "append",
        "CASE",
        "--event",
        "accession",
        "--agent",
        "archive",
        "--sign",
        "s",
    ])
    .success();
}

/// The bag `bag` (made from a source holding `data/holes.bin`) as a tar in which
/// `holes.bin` is stored as `sparse` says: GNU sparse 1.0 through PAX keys, or a GNU 'S'
/// entry. Every other file is a plain entry.
fn tar_with_sparse_entry(env: &Env, out: &str, pax: bool) {
    env.write("src/holes.bin", "x");
    env.write("src/a.txt", "a\n");
    env.qoima(&["bag", "src", "-o", "bag"]).success();
    let mut builder = tar::Builder::new(fs::File::create(env.path(out)).unwrap());
    for entry in walkdir::WalkDir::new(env.path("bag")).sort_by_file_name() {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(env.dir.path()).unwrap();
        let name = rel.to_str().unwrap();
        if name != "bag/data/holes.bin" {
            builder.append_path_with_name(entry.path(), rel).unwrap();
            continue;
        }
        let mut header = if pax {
            tar::Header::new_ustar()
        } else {
            tar::Header::new_gnu()
        };
        header.set_mode(0o644);
        if pax {
            builder
                .append_pax_extensions([
                    ("GNU.sparse.major", &b"1"[..]),
                    ("GNU.sparse.minor", b"0"),
                    ("GNU.sparse.name", name.as_bytes()),
                    ("GNU.sparse.realsize", b"1"),
                ])
                .unwrap();
            // The map (one block: offset 0, 1 byte), padded to 512 bytes, then the data.
            let mut data = b"1\n0\n1\n".to_vec();
            data.resize(512, 0);
            data.push(b'x');
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(data.len() as u64);
            header.set_cksum();
            builder
                .append_data(&mut header, "bag/data/GNUSparseFile.0/holes.bin", &data[..])
                .unwrap();
        } else {
            header.set_entry_type(tar::EntryType::GNUSparse);
            header.set_size(1);
            // One block of data (offset 0, 1 byte) in a file of 4 KiB, then the empty block
            // GNU tar ends the map with.
            let gnu = header.as_gnu_mut().unwrap();
            gnu.set_real_size(4096);
            gnu.sparse[0].set_offset(0);
            gnu.sparse[0].set_length(1);
            gnu.sparse[1].set_offset(4096);
            gnu.sparse[1].set_length(0);
            header.set_cksum();
            builder.append_data(&mut header, name, &b"x"[..]).unwrap();
        }
    }
    builder.finish().unwrap();
}

#[test]
fn issue13_a_sparse_tar_entry_is_one_arc_problem_naming_it() {
    for (pax, out) in [(true, "pax.tar"), (false, "gnu.tar")] {
        let env = Env::new();
        tar_with_sparse_entry(&env, out, pax);
        let r = env.qoima(&["validate", "--json", out]);
        assert_ne!(r.code(), 0, "{out}: {}", r.stdout());
        let text = r.stdout();
        let got = problems(&r.json());
        assert!(
            got.iter()
                .any(|(c, f, _)| c == "ARC-019" && f == "bag/data/holes.bin"),
            "{out}: {text}"
        );
        // Not a stray GNUSparseFile.0/ payload file, not an unrelated layout problem: only
        // what follows from the file not being read (missing, Payload-Oxum off).
        for (code, file, _) in &got {
            assert!(!file.contains("GNUSparseFile"), "{out}: {got:?}");
            assert!(
                ["ARC-019", "ARC-W001", "BAG-023", "BAG-034"].contains(&code.as_str()),
                "{out}: unexpected {code} {file}: {got:?}"
            );
        }
    }
}
