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
