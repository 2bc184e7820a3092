//! `qoima bag SRC -o OUT`: what it writes, what it refuses, and that the source is untouched.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::Path;

use super::util::*;

/// Every file under `root` with its content and mtime: a fingerprint of "untouched".
fn snapshot(root: &Path) -> BTreeMap<String, (Vec<u8>, i64, u32)> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(root).sort_by_file_name() {
        let e = e.unwrap();
        let m = fs::symlink_metadata(e.path()).unwrap();
        let rel = e
            .path()
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let data = if m.is_file() {
            fs::read(e.path()).unwrap()
        } else {
            Vec::new()
        };
        out.insert(rel, (data, m.mtime(), m.mode()));
    }
    out
}

#[test]
fn bag_copies_hashes_and_leaves_the_source_alone() {
    let env = Env::new();
    let src = env.sample_source("src");
    env.write("src/sub/deeper/new\nline.txt", "nl");
    let before = snapshot(&src);
    let run = env.qoima(&[
        "bag",
        "src",
        "-o",
        "out/bag",
        "--source-organization",
        "Qoima Archive",
        "--contact-name",
        "A. Archivist",
        "--info",
        "X-Collection=Qantar & <2022>",
        "--external-identifier",
        "acc-2022-014",
    ]);
    run.success();
    assert_eq!(snapshot(&src), before, "the source changed");
    let bag = env.path("out/bag");
    // Payload bytes equal the source.
    for (rel, (data, _, _)) in &before {
        if !rel.is_empty() && fs::symlink_metadata(src.join(rel)).unwrap().is_file() {
            assert_eq!(
                &fs::read(bag.join("data").join(rel)).unwrap(),
                data,
                "{rel}"
            );
        }
    }
    // Manifests against the reference implementation, with RFC 8493 percent-encoding.
    let m = fs::read_to_string(bag.join("manifest-sha256.txt")).unwrap();
    let want = [
        ("data/50%25off.txt", &b"percent\n"[..]),
        ("data/a.txt", b"hello\n"),
        ("data/empty", b""),
        ("data/file%250A1.txt", b"literal escape\n"),
        ("data/sub/b.txt", b"b\n"),
        ("data/sub/deeper/new%0Aline.txt", b"nl"),
        ("data/with space.txt", b"space\n"),
        (
            "data/Алматы/площадь Республики й.txt",
            "Республика\n".as_bytes(),
        ),
    ];
    let expected: String = want
        .iter()
        .map(|(p, d)| format!("{}  {p}\n", sha256_hex(d)))
        .collect();
    assert_eq!(m, expected);
    let m512 = fs::read_to_string(bag.join("manifest-sha512.txt")).unwrap();
    assert!(m512.starts_with(&format!(
        "{}  data/50%25off.txt\n",
        sha512_hex(b"percent\n")
    )));
    assert_eq!(
        fs::read_to_string(bag.join("bagit.txt")).unwrap(),
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    );
    let info = fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    assert_eq!(
        info,
        format!(
            "Source-Organization: Qoima Archive\nContact-Name: A. Archivist\nExternal-Identifier: acc-2022-014\nX-Collection: Qantar & <2022>\nBagging-Date: 2022-01-05\nBag-Software-Agent: qoima {} <https://crates.io/crates/qoima>\nPayload-Oxum: 60.8\nBag-Size: 60 bytes\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    // Tag manifests list the tag files and nothing else.
    let tm = fs::read_to_string(bag.join("tagmanifest-sha256.txt")).unwrap();
    let listed: Vec<&str> = tm.lines().map(|l| l.split_once("  ").unwrap().1).collect();
    assert_eq!(
        listed,
        [
            "bag-info.txt",
            "bagit.txt",
            "manifest-sha256.txt",
            "manifest-sha512.txt"
        ]
    );
    for l in tm.lines() {
        let (d, p) = l.split_once("  ").unwrap();
        assert_eq!(d, sha256_hex(&fs::read(bag.join(p)).unwrap()));
    }
    // No temporary left behind.
    let names: Vec<_> = fs::read_dir(env.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["bag"]);
    env.qoima(&["validate", "out/bag"]).success();
}

#[test]
fn same_input_same_bytes() {
    let env = Env::new();
    env.sample_source("src");
    env.qoima(&["bag", "src", "-o", "one"]).success();
    env.qoima(&["bag", "src", "-o", "two", "--jobs", "1"])
        .success();
    assert_eq!(
        snapshot(&env.path("one"))
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect::<Vec<_>>(),
        snapshot(&env.path("two"))
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect::<Vec<_>>()
    );
}

#[test]
fn algorithm_flags() {
    let env = Env::new();
    env.sample_source("src");
    env.qoima(&["bag", "src", "-o", "b1", "--md5", "--sha1"])
        .success();
    let mut names: Vec<String> = fs::read_dir(env.path("b1"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "bag-info.txt",
            "bagit.txt",
            "data",
            "manifest-md5.txt",
            "manifest-sha1.txt",
            "tagmanifest-md5.txt",
            "tagmanifest-sha1.txt"
        ]
    );
    let v = env.qoima(&["validate", "--json", "b1"]);
    assert_eq!(v.code(), 0);
    assert!(
        problems(&v.json()).iter().any(|(c, _, _)| c == "BAG-W003"),
        "weak-only warning"
    );
    env.qoima(&["bag", "src", "-o", "b2", "--algorithm", "blake3,SHA-384"])
        .success();
    assert!(
        env.path("b2/manifest-blake3.txt").exists() && env.path("b2/manifest-sha384.txt").exists()
    );
    env.qoima(&["validate", "b2"]).success();
    let bad = env.qoima(&["bag", "src", "-o", "b3", "--algorithm", "shake128"]);
    assert_eq!(bad.code(), 2, "{}", bad.stderr());
    assert!(bad.stderr().contains("shake128"));
    assert!(!env.path("b3").exists());
}

#[test]
fn info_file_and_multiline_values() {
    let env = Env::new();
    env.sample_source("src");
    env.write(
        "info.txt",
        "Source-Organization: Archive\nExternal-Description: A long\n  description\n",
    );
    env.qoima(&[
        "bag",
        "src",
        "-o",
        "b",
        "--info-file",
        "info.txt",
        "--info",
        "Note=two\nlines",
    ])
    .success();
    let info = fs::read_to_string(env.path("b/bag-info.txt")).unwrap();
    assert!(info.starts_with("Note: two\n lines\nSource-Organization: Archive\nExternal-Description: A long description\n"), "{info}");
    env.qoima(&["validate", "b"]).success();
}

#[test]
fn refuses_existing_destination_and_destination_inside_source() {
    let env = Env::new();
    env.sample_source("src");
    fs::create_dir(env.path("taken")).unwrap();
    let r = env.qoima(&["bag", "src", "-o", "taken"]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("already exists"), "{}", r.stderr());
    let r = env.qoima(&["bag", "src", "-o", "elsewhere/../src/inner"]);
    assert_eq!(r.code(), 1, "a refusal (BAG-083)");
    assert!(r.stderr().contains("error[BAG-083]"), "{}", r.stderr());
    assert!(
        r.stderr().contains("lies inside the input"),
        "{}",
        r.stderr()
    );
    assert!(!env.path("elsewhere").exists() && !env.path("src/inner").exists());
    let r = env.qoima(&["bag", "src", "-o", "src/new/inner"]);
    assert_eq!(r.code(), 1);
    assert!(
        r.stderr().contains("lies inside the input"),
        "{}",
        r.stderr()
    );
    assert!(
        !env.path("src/new").exists(),
        "nothing may be created inside the source"
    );
}

fn refused(env: &Env, args: &[&str]) -> Vec<(String, String)> {
    let r = env.qoima(args);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    let v = r.json();
    assert_eq!(v["outcome"], "refused");
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

#[test]
fn refuses_links_and_special_files_and_writes_nothing() {
    let env = Env::new();
    env.sample_source("src");
    symlink("/etc/hostname", env.path("src/link")).unwrap();
    let c = std::ffi::CString::new(env.path("src/pipe").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    // Names that differ only by Unicode form or case are warnings since issue 14 (both
    // survive on Linux): tests/it/foreign.rs.
    let got = refused(&env, &["bag", "--json", "src", "-o", "out/deeper/bag"]);
    for want in [("BAG-072", "link"), ("BAG-061", "pipe")] {
        assert!(
            got.iter().any(|(c, f)| c == want.0 && f.nfc_eq(want.1)),
            "missing {want:?} in {got:?}"
        );
    }
    assert!(!env.path("out").exists());
    assert_eq!(
        fs::read_dir(env.dir.path()).unwrap().count(),
        1,
        "nothing but src"
    );
}

trait NfcEq {
    fn nfc_eq(&self, other: &str) -> bool;
}
impl NfcEq for String {
    fn nfc_eq(&self, other: &str) -> bool {
        use unicode_normalization::UnicodeNormalization;
        self.nfc().eq(other.nfc())
    }
}

#[test]
fn follow_links_bags_the_target_content() {
    let env = Env::new();
    env.sample_source("src");
    env.write("elsewhere/photo.jpg", "jpeg bytes");
    symlink(env.path("elsewhere/photo.jpg"), env.path("src/photo.jpg")).unwrap();
    symlink(env.path("elsewhere"), env.path("src/linked-dir")).unwrap();
    env.qoima(&["bag", "src", "-o", "b", "--follow-links"])
        .success();
    let m = fs::read_to_string(env.path("b/manifest-sha256.txt")).unwrap();
    assert!(
        m.contains(&format!("{}  data/photo.jpg\n", sha256_hex(b"jpeg bytes"))),
        "{m}"
    );
    assert!(
        m.contains(&format!(
            "{}  data/linked-dir/photo.jpg\n",
            sha256_hex(b"jpeg bytes")
        )),
        "{m}"
    );
    assert!(
        !fs::symlink_metadata(env.path("b/data/photo.jpg"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    env.qoima(&["validate", "b"]).success();
}

#[test]
fn non_utf8_name_is_refused() {
    use std::os::unix::ffi::OsStrExt;
    let env = Env::new();
    env.sample_source("src");
    fs::write(
        env.path("src")
            .join(std::ffi::OsStr::from_bytes(b"bad\xffname")),
        "x",
    )
    .unwrap();
    let got = refused(&env, &["bag", "--json", "src", "-o", "out"]);
    assert!(got.iter().any(|(c, _)| c == "BAG-064"), "{got:?}");
}

#[test]
fn empty_folder_and_empty_subfolder() {
    let env = Env::new();
    fs::create_dir_all(env.path("src/empty-sub")).unwrap();
    let r = env.qoima(&["bag", "--json", "src", "-o", "b"]);
    r.success();
    let v = r.json();
    assert_eq!(v["bag"]["files"], 0);
    assert_eq!(v["problems"][0]["code"], "BAG-W025");
    assert!(env.path("b/data").is_dir());
    assert_eq!(
        fs::read_to_string(env.path("b/manifest-sha256.txt")).unwrap(),
        ""
    );
    let info = fs::read_to_string(env.path("b/bag-info.txt")).unwrap();
    assert!(info.contains("Payload-Oxum: 0.0\n"));
    env.qoima(&["validate", "b"]).success();
}

#[test]
fn validate_many_bags_merges_exit_codes_and_reports_each() {
    let env = Env::new();
    let good = env.sample_bag("good");
    let bad = env.sample_bag("bad");
    fs::write(bad.join("data/a.txt"), "changed").unwrap();
    let r = env.qoima(&[
        "validate",
        "--json",
        good.to_str().unwrap(),
        bad.to_str().unwrap(),
        "/nonexistent/bag",
    ]);
    // A bag that failed a check outranks one that could not be checked.
    assert_eq!(r.code(), 1);
    let v = r.json();
    assert_eq!(v["summary"]["bags"], 3);
    assert_eq!(v["summary"]["passed"], 1);
    assert_eq!(v["bags"][0]["verdict"], "valid");
    assert_eq!(v["bags"][1]["verdict"], "invalid");
    assert_eq!(v["bags"][2]["verdict"], "unreadable");
    assert_eq!(v["bags"][2]["problems"][0]["code"], "BAG-009");
    assert_eq!(v["exit_code"], 1);
    let r = env.qoima(&["validate", good.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(r.code(), 1);
    assert!(
        r.stderr().contains("error[BAG-036] manifest-sha256.txt:"),
        "{}",
        r.stderr()
    );
}
