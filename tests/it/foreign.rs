//! Bags from other tools (issue 14: bagit-java, APTrust DART, Archivematica): each test builds
//! the variant itself — a `ForeignBag` written byte for byte as those tools write it — and
//! asserts the exact code, file and exit code qoima gives it.

use std::fs;
use std::path::PathBuf;

use super::util::*;

/// A bag written by hand: payload files, then tag files in any bytes, then manifests.
struct ForeignBag {
    root: PathBuf,
}

impl ForeignBag {
    fn new(env: &Env, name: &str, payload: &[(&str, &[u8])]) -> ForeignBag {
        let root = env.path(name);
        fs::create_dir_all(root.join("data")).unwrap();
        for (path, bytes) in payload {
            let p = root.join(path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, bytes).unwrap();
        }
        ForeignBag { root }
    }

    fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        fs::write(self.root.join(rel), bytes).unwrap();
    }

    /// The `manifest-sha256.txt` text listing `paths` (checksums from `sha2`).
    fn manifest_text(&self, paths: &[&str]) -> String {
        paths
            .iter()
            .map(|p| {
                format!(
                    "{}  {p}\n",
                    sha256_hex(&fs::read(self.root.join(p)).unwrap())
                )
            })
            .collect()
    }

    /// `tagmanifest-sha256.txt` over the raw bytes of `tags`, written in `encode`.
    fn tag_manifest(&self, tags: &[&str], encode: impl Fn(&str) -> Vec<u8>) {
        let text = self.manifest_text(tags);
        self.write("tagmanifest-sha256.txt", encode(&text));
    }

    fn path(&self) -> &str {
        self.root.to_str().unwrap()
    }
}

/// `text` in UTF-16, big- or little-endian, with or without a byte-order mark.
fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let prefix = if bom { "\u{FEFF}" } else { "" };
    prefix
        .encode_utf16()
        .chain(text.encode_utf16())
        .flat_map(|unit| {
            if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            }
        })
        .collect()
}

fn validate(env: &Env, bag: &str) -> (i32, serde_json::Value) {
    let r = env.qoima(&["validate", "--json", bag]);
    (r.code(), r.json())
}

/// The 0.97 bag of the LoC conformance suite's `UTF-16-encoded-tag-files` case: every tag
/// file, bagit.txt included, in UTF-16 with a byte-order mark.
fn utf16_bag(env: &Env, name: &str, big_endian: bool, bom: bool) -> ForeignBag {
    let bag = ForeignBag::new(
        env,
        name,
        &[
            ("data/hello.txt", b"hello\n"),
            ("data/Алматы é.txt", b"city\n"),
        ],
    );
    let enc = |t: &str| utf16(t, big_endian, bom);
    bag.write(
        "bagit.txt",
        enc("BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-16\n"),
    );
    bag.write(
        "bag-info.txt",
        enc("Source-Organization: Архив Алматы\nPayload-Oxum: 11.2\n"),
    );
    let manifest = bag.manifest_text(&["data/hello.txt", "data/Алматы é.txt"]);
    bag.write("manifest-sha256.txt", enc(&manifest));
    bag.tag_manifest(&["bagit.txt", "bag-info.txt", "manifest-sha256.txt"], enc);
    bag
}

#[test]
fn issue14_utf16_tag_files_0_97_bag_is_valid() {
    let env = Env::new();
    for (i, (big_endian, bom)) in [(true, true), (false, true), (true, false), (false, false)]
        .into_iter()
        .enumerate()
    {
        let bag = utf16_bag(&env, &format!("utf16-{i}"), big_endian, bom);
        let (code, v) = validate(&env, bag.path());
        assert_eq!(code, 0, "{}", v);
        assert_eq!(v["bags"][0]["verdict"], "valid");
        // Tag-file checksums are over the raw UTF-16 bytes; payload paths decoded from
        // UTF-16 (Cyrillic included) match the names on disk.
        assert_eq!(v["bags"][0]["payload_files"], 2);
        let codes: Vec<String> = problems(&v).into_iter().map(|p| p.0).collect();
        assert_eq!(codes, vec!["BAG-W007"], "{v}");
    }
}

#[test]
fn issue14_utf16_manifest_still_catches_a_changed_file() {
    let env = Env::new();
    let bag = utf16_bag(&env, "utf16-changed", true, true);
    fs::write(bag.root.join("data/hello.txt"), b"HELLO\n").unwrap();
    let (code, v) = validate(&env, bag.path());
    assert_eq!(code, 1);
    let found = problems(&v);
    assert!(
        found
            .iter()
            .any(|(c, f, _)| c == "BAG-036" && f == "manifest-sha256.txt"),
        "{found:?}"
    );
}

#[test]
fn issue14_undecodable_utf16_tag_file_is_could_not_be_checked() {
    let env = Env::new();
    let bag = utf16_bag(&env, "utf16-bad", false, true);
    // A lone high surrogate in the middle of the manifest.
    let mut manifest = fs::read(bag.root.join("manifest-sha256.txt")).unwrap();
    manifest.splice(10..10, [0x3D, 0xD8]);
    bag.write("manifest-sha256.txt", manifest);
    let (code, v) = validate(&env, bag.path());
    assert_eq!(code, 2, "{v}");
    assert_eq!(v["bags"][0]["verdict"], "unreadable");
    let found = problems(&v);
    assert!(
        found
            .iter()
            .any(|(c, f, _)| c == "BAG-130" && f == "manifest-sha256.txt"),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|(c, ..)| c == "BAG-010" || c == "BAG-030"),
        "{found:?}"
    );
}

#[test]
fn issue14_ascii_tag_files_under_a_utf16_label_are_could_not_be_checked() {
    let env = Env::new();
    let bag = ForeignBag::new(&env, "utf16-liar", &[("data/a.txt", b"a\n")]);
    bag.write(
        "bagit.txt",
        "BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-16\n",
    );
    let manifest = bag.manifest_text(&["data/a.txt"]);
    bag.write("manifest-sha256.txt", manifest);
    let (code, v) = validate(&env, bag.path());
    assert_eq!(code, 2, "{v}");
    let found = problems(&v);
    assert!(
        found
            .iter()
            .any(|(c, f, _)| c == "BAG-130" && f == "manifest-sha256.txt"),
        "{found:?}"
    );
}

#[test]
fn issue14_windows_1252_bag_info_is_read_in_its_encoding() {
    let env = Env::new();
    let bag = ForeignBag::new(&env, "cp1252", &[("data/a.txt", b"a\n")]);
    bag.write(
        "bagit.txt",
        "BagIt-Version: 0.97\nTag-File-Character-Encoding: windows-1252\n",
    );
    // "Québec" and "€" in windows-1252: 0xE9 and 0x80, both invalid as UTF-8.
    bag.write(
        "bag-info.txt",
        b"Source-Organization: Archives nationales du Qu\xe9bec \x80\nPayload-Oxum: 2.1\n",
    );
    let manifest = bag.manifest_text(&["data/a.txt"]);
    bag.write("manifest-sha256.txt", manifest);
    bag.tag_manifest(
        &["bagit.txt", "bag-info.txt", "manifest-sha256.txt"],
        |t: &str| t.as_bytes().to_vec(),
    );
    let (code, v) = validate(&env, bag.path());
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["bags"][0]["verdict"], "valid");
}

/// Archivematica's sample bags: a bag-info.txt with a blank line in it.
fn archivematica_bag(env: &Env, name: &str) -> ForeignBag {
    let bag = ForeignBag::new(env, name, &[("data/objects/a.txt", b"a\n")]);
    bag.write(
        "bagit.txt",
        "BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n",
    );
    bag.write(
        "bag-info.txt",
        "Bag-Software-Agent: bagit.py <http://github.com/libraryofcongress/bagit-python>\n\
         Bagging-Date: 2015-06-11\n\
         \n\
         Payload-Oxum: 2.1\n",
    );
    let manifest = bag.manifest_text(&["data/objects/a.txt"]);
    bag.write("manifest-sha256.txt", manifest);
    bag.tag_manifest(
        &["bagit.txt", "bag-info.txt", "manifest-sha256.txt"],
        |t: &str| t.as_bytes().to_vec(),
    );
    bag
}

#[test]
fn issue14_blank_line_in_bag_info_is_a_warning() {
    let env = Env::new();
    let bag = archivematica_bag(&env, "am-blank");
    let (code, v) = validate(&env, bag.path());
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["bags"][0]["verdict"], "valid");
    let found = problems(&v);
    assert!(
        found.contains(&(
            "BAG-W070".to_string(),
            "bag-info.txt".to_string(),
            "warning".to_string()
        )),
        "{found:?}"
    );
    assert!(!found.iter().any(|(c, ..)| c == "BAG-020"), "{found:?}");
    let blank = v["bags"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "BAG-W070")
        .unwrap();
    assert_eq!(blank["line"], 3);
}

#[test]
fn issue14_blank_line_in_bag_info_is_an_error_under_strict() {
    let env = Env::new();
    let bag = archivematica_bag(&env, "am-blank-strict");
    let r = env.qoima(&["validate", "--json", "--strict", bag.path()]);
    assert_eq!(r.code(), 1);
    let found = problems(&r.json());
    assert!(
        found.contains(&(
            "BAG-W070".to_string(),
            "bag-info.txt".to_string(),
            "error".to_string()
        )),
        "{found:?}"
    );
    let r = env.qoima(&[
        "validate",
        "--strict",
        "--allow",
        "BAG-W070",
        "--allow",
        "BAG-W007",
        bag.path(),
    ]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
}

/// Archivematica's serialized bags: the tag files at the archive's root (as
/// `cd bag && zip -r ../bag.zip .` makes), written by the real zip and tar tools.
fn archive_at_root(env: &Env, bag: &str, archive: &str) {
    let (program, args): (&str, Vec<String>) = if archive.ends_with(".zip") {
        (
            "zip",
            vec!["-qr".into(), format!("../{archive}"), ".".into()],
        )
    } else if archive.ends_with(".tar.gz") {
        (
            "tar",
            vec!["czf".into(), format!("../{archive}"), ".".into()],
        )
    } else {
        (
            "tar",
            vec!["cf".into(), format!("../{archive}"), ".".into()],
        )
    };
    let out = std::process::Command::new(program)
        .args(&args)
        .current_dir(env.path(bag))
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed: {e}"));
    assert!(out.status.success(), "{program} {args:?} failed");
}

#[test]
fn issue14_zip_and_tar_with_tag_files_at_the_root_report_layout_and_content_apart() {
    let env = Env::new();
    env.sample_bag("am-root");
    for archive in ["am-root.zip", "am-root.tar", "am-root.tar.gz"] {
        archive_at_root(&env, "am-root", archive);
        let (code, v) = validate(&env, archive);
        assert_eq!(code, 1, "{archive}: {v}");
        let bag = &v["bags"][0];
        assert_eq!(bag["verdict"], "invalid", "{archive}");
        assert_eq!(bag["serialization_conforms"], false, "{archive}");
        assert_eq!(bag["content_verdict"], "valid", "{archive}");
        // The payload was validated in full.
        assert_eq!(bag["payload_files"], 7, "{archive}");
        assert!(bag["files_hashed"].as_u64().unwrap() >= 7, "{archive}");
        let codes: Vec<String> = problems(&v).into_iter().map(|p| p.0).collect();
        assert_eq!(codes, vec!["ARC-023"], "{archive}");
    }
}

#[test]
fn issue14_tag_files_at_the_root_of_a_damaged_bag_say_both_failures() {
    let env = Env::new();
    let bag = env.sample_bag("am-bad");
    fs::write(bag.join("data/a.txt"), "HELLO\n").unwrap();
    archive_at_root(&env, "am-bad", "am-bad.zip");
    let (code, v) = validate(&env, "am-bad.zip");
    assert_eq!(code, 1);
    let report = &v["bags"][0];
    assert_eq!(report["serialization_conforms"], false);
    assert_eq!(report["content_verdict"], "invalid");
    let found = problems(&v);
    assert!(
        found
            .iter()
            .any(|(c, f, _)| c == "BAG-036" && f == "manifest-sha256.txt"),
        "{found:?}"
    );
    assert!(found.iter().any(|(c, ..)| c == "ARC-023"), "{found:?}");
}

#[test]
fn issue14_a_conforming_archive_says_so_and_a_folder_says_nothing() {
    let env = Env::new();
    env.sample_bag("good");
    let r = env.qoima(&["serialize", "good", "--zip"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let (code, v) = validate(&env, "good.zip");
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["bags"][0]["serialization_conforms"], true);
    assert_eq!(v["bags"][0]["content_verdict"], "valid");
    let (_, v) = validate(&env, "good");
    assert!(v["bags"][0].get("serialization_conforms").is_none());
    assert!(v["bags"][0].get("content_verdict").is_none());
}
