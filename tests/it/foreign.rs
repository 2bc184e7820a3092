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

/// `path` with its last component renamed to its NFD form (as a copy through macOS leaves it).
fn to_nfd(path: &std::path::Path) -> PathBuf {
    use unicode_normalization::UnicodeNormalization;
    let name: String = path.file_name().unwrap().to_str().unwrap().nfd().collect();
    let to = path.with_file_name(name);
    fs::rename(path, &to).unwrap();
    to
}

fn codes_of(v: &serde_json::Value) -> Vec<(String, String)> {
    problems(v).into_iter().map(|(c, f, _)| (c, f)).collect()
}

#[test]
fn issue14_nfd_folder_file_and_tag_file_on_disk_validate_with_warnings() {
    let env = Env::new();
    env.write("nfd-src/Алматы/Café.txt", "café\n");
    env.write("nfd-src/Ёлка/a.txt", "a\n");
    env.write("tag.xml", "<x/>\n");
    let r = env.qoima(&[
        "bag",
        "nfd-src",
        "-o",
        "nfd",
        "--tag-file",
        "metadata/Résumé.xml=tag.xml",
    ]);
    r.success();
    // macOS writes the names in NFD: a folder, a file in another folder, and a tag file.
    to_nfd(&env.path("nfd/data/Ёлка"));
    to_nfd(&env.path("nfd/data/Алматы/Café.txt"));
    to_nfd(&env.path("nfd/metadata/Résumé.xml"));
    let (code, v) = validate(&env, "nfd");
    assert_eq!(code, 0, "{v}");
    let found = codes_of(&v);
    // No file is both missing and unlisted; each form mismatch is a warning naming the
    // manifest line.
    assert!(
        !found
            .iter()
            .any(|(c, _)| ["BAG-034", "BAG-035", "BAG-W016"].contains(&c.as_str())),
        "{found:?}"
    );
    for manifest in ["manifest-sha256.txt", "manifest-sha512.txt"] {
        let n = found
            .iter()
            .filter(|(c, f)| c == "BAG-W013" && f == manifest)
            .count();
        assert_eq!(n, 2, "{manifest}: {found:?}");
    }
    assert!(
        found
            .iter()
            .any(|(c, f)| c == "BAG-W013" && f == "tagmanifest-sha256.txt"),
        "{found:?}"
    );
    // The same bag serialized by the real tools.
    for (program, args, archive) in [
        ("zip", vec!["-qr", "nfd.zip", "nfd"], "nfd.zip"),
        ("tar", vec!["cf", "nfd.tar", "nfd"], "nfd.tar"),
    ] {
        let out = std::process::Command::new(program)
            .args(&args)
            .current_dir(env.dir.path())
            .output()
            .unwrap();
        assert!(out.status.success());
        let (code, v) = validate(&env, archive);
        assert_eq!(code, 0, "{archive}: {v}");
        let found = codes_of(&v);
        assert!(
            found.iter().filter(|(c, _)| c == "BAG-W013").count() >= 5,
            "{archive}: {found:?}"
        );
    }
}

#[test]
fn issue14_bag_warns_on_names_that_differ_only_by_form_or_case_and_keeps_both() {
    let env = Env::new();
    env.write("fold-src/Café.txt", "nfc");
    env.write("fold-src/Cafe\u{301}.txt", "nfd");
    env.write("fold-src/README", "x");
    env.write("fold-src/readme", "y");
    env.write("fold-src/Photos/a.jpg", "a");
    env.write("fold-src/photos/b.jpg", "b");
    let r = env.qoima(&["bag", "--json", "fold-src", "-o", "fold"]);
    assert_eq!(r.code(), 0, "{}", r.stdout());
    let v = r.json();
    let found: Vec<(String, String)> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_string(),
                p["file"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        found.contains(&("BAG-W008".into(), "readme".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&("BAG-W008".into(), "photos".into())),
        "{found:?}"
    );
    use unicode_normalization::UnicodeNormalization;
    assert!(
        found
            .iter()
            .any(|(c, f)| c == "BAG-W071" && f.nfc().eq("Café.txt".nfc())),
        "{found:?}"
    );
    // All six files are in the bag, each under its own name, and it validates.
    assert_eq!(v["bag"]["files"], 6);
    assert_eq!(
        fs::read(env.path("fold/data/Cafe\u{301}.txt")).unwrap(),
        b"nfd"
    );
    assert_eq!(fs::read(env.path("fold/data/Café.txt")).unwrap(), b"nfc");
    let (code, v) = validate(&env, "fold");
    assert_eq!(code, 0, "{v}");
}

#[test]
fn issue14_bag_and_package_warn_about_percent_in_names() {
    let env = Env::new();
    env.write("pct-src/50%off.txt", "percent\n");
    env.write("pct-src/plain.txt", "plain\n");
    let r = env.qoima(&["bag", "--json", "pct-src", "-o", "pct"]);
    assert_eq!(r.code(), 0);
    let v = r.json();
    let w: Vec<&serde_json::Value> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "BAG-W072")
        .collect();
    assert_eq!(w.len(), 1, "{v}");
    assert_eq!(w[0]["file"], "50%off.txt");
    assert!(
        w[0]["message"]
            .as_str()
            .unwrap()
            .contains("bagit-python 1.9")
    );
    let r = env.qoima(&["bag", "pct-src", "-o", "pct-text"]);
    assert!(r.stderr().contains("warning[BAG-W072]"), "{}", r.stderr());
    // qoima package (a photo collection with a % in a photo's name).
    let photo =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photos/good/tiny.jpg");
    fs::create_dir_all(env.path("col")).unwrap();
    fs::copy(&photo, env.path("col/50%.jpg")).unwrap();
    env.write(
        "col/metadata.csv",
        "identifier,file,title,date,rights,type\n\
         p1,50%.jpg,Sale,2022-01-04,CC BY 4.0,StillImage\n",
    );
    let r = env.qoima(&["package", "--json", "col", "-o", "col-bag"]);
    assert_eq!(r.code(), 0, "{}\n{}", r.stdout(), r.stderr());
    let v = r.json();
    let problems = v["bag"]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["code"] == "BAG-W072" && p["file"] == "50%.jpg"),
        "{v}"
    );
    let r = env.qoima(&["package", "col", "-o", "col-bag-text"]);
    assert!(r.stderr().contains("warning[BAG-W072]"), "{}", r.stderr());
}

/// A source as a Mac and a Windows PC leave it: Finder's .DS_Store and AppleDouble files,
/// Spotlight's folder, Explorer's Thumbs.db and desktop.ini.
fn junk_source(env: &Env, name: &str) {
    env.write(&format!("{name}/photo.txt"), "content\n");
    env.write(&format!("{name}/.DS_Store"), "finder");
    env.write(&format!("{name}/sub/._photo.txt"), "appledouble");
    env.write(&format!("{name}/sub/Thumbs.db"), "explorer");
    env.write(&format!("{name}/sub/desktop.ini"), "[.ShellClassInfo]");
    env.write(&format!("{name}/.Spotlight-V100/store.db"), "index");
    env.write(&format!("{name}/drafts/old-1.txt"), "old");
    env.write(&format!("{name}/notes.tmp"), "tmp");
}

const JUNK_FILES: [&str; 5] = [
    ".DS_Store",
    ".Spotlight-V100/store.db",
    "sub/._photo.txt",
    "sub/Thumbs.db",
    "sub/desktop.ini",
];

#[test]
fn issue14_bag_warns_about_junk_files_by_name() {
    let env = Env::new();
    junk_source(&env, "junk-src");
    let r = env.qoima(&["bag", "--json", "junk-src", "-o", "junk"]);
    assert_eq!(r.code(), 0);
    let v = r.json();
    let mut named: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "BAG-W005")
        .map(|p| p["file"].as_str().unwrap())
        .collect();
    named.sort();
    assert_eq!(named, JUNK_FILES);
    assert_eq!(v["bag"]["excluded"], serde_json::json!([]));
}

#[test]
fn issue14_exclude_junk_and_exclude_glob_leave_files_out_and_list_them() {
    let env = Env::new();
    junk_source(&env, "ex-src");
    let r = env.qoima(&[
        "bag",
        "--json",
        "ex-src",
        "-o",
        "ex",
        "--exclude-junk",
        "--exclude",
        "*.tmp",
        "--exclude",
        "drafts/old*",
    ]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let v = r.json();
    let mut want: Vec<&str> = JUNK_FILES.to_vec();
    want.extend(["drafts/old-1.txt", "notes.tmp"]);
    want.sort();
    assert_eq!(v["bag"]["excluded"], serde_json::json!(want));
    assert_eq!(v["bag"]["files"], 1);
    assert!(
        !v["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["code"] == "BAG-W005"),
        "{v}"
    );
    assert!(!env.path("ex/data/.DS_Store").exists());
    assert!(!env.path("ex/data/sub").exists());
    assert!(env.path("ex/data/photo.txt").exists());
    // The source is untouched.
    assert!(env.path("ex-src/.DS_Store").exists());
    let (code, v) = validate(&env, "ex");
    assert_eq!(code, 0, "{v}");
    // The text summary lists what was left out.
    let r = env.qoima(&["bag", "ex-src", "-o", "ex-text", "--exclude-junk"]);
    r.success();
    assert!(
        r.stderr().contains("left out of the bag (5 file(s)"),
        "{}",
        r.stderr()
    );
    assert!(r.stderr().contains("  sub/Thumbs.db"), "{}", r.stderr());
    // Exclusion cannot be combined with bagging in place (it would leave files behind).
    let r = env.qoima(&["bag", "--in-place", "ex-src", "--exclude-junk"]);
    assert_eq!(r.code(), 2);
}

#[test]
fn issue14_validate_names_an_unlisted_ds_store_as_junk_in_its_hint() {
    let env = Env::new();
    let bag = env.sample_bag("finder");
    fs::write(bag.join("data/sub/.DS_Store"), "finder").unwrap();
    let (code, v) = validate(&env, "finder");
    assert_eq!(code, 1);
    let p = v["bags"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "BAG-035")
        .unwrap_or_else(|| panic!("{v}"))
        .clone();
    assert_eq!(p["file"], "data/sub/.DS_Store");
    assert!(p["hint"].as_str().unwrap().contains(".DS_Store"), "{p}");
    assert!(p["hint"].as_str().unwrap().contains("Delete it"), "{p}");
    // An ordinary unlisted file keeps the ordinary hint.
    fs::remove_file(bag.join("data/sub/.DS_Store")).unwrap();
    fs::write(bag.join("data/sub/extra.txt"), "x").unwrap();
    let (_, v) = validate(&env, "finder");
    let p = v["bags"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "BAG-035")
        .unwrap()
        .clone();
    assert!(!p["hint"].as_str().unwrap().contains(".DS_Store"), "{p}");
}

#[test]
fn issue14_package_exclude_junk_keeps_appledouble_photos_out_of_check_and_bag() {
    let env = Env::new();
    let photo =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photos/good/tiny.jpg");
    fs::create_dir_all(env.path("mac")).unwrap();
    fs::copy(&photo, env.path("mac/tiny.jpg")).unwrap();
    // The AppleDouble companion a Mac writes on a FAT or network volume: not a JPEG.
    env.write("mac/._tiny.jpg", [0u8, 5, 22, 7, 0, 2, 0, 0]);
    env.write("mac/.DS_Store", "finder");
    env.write(
        "mac/metadata.csv",
        "identifier,file,title,date,rights,type\n\
         p1,tiny.jpg,A photo,2022-01-04,CC BY 4.0,StillImage\n",
    );
    let r = env.qoima(&["package", "--json", "mac", "-o", "mac-bag"]);
    assert_ne!(
        r.code(),
        0,
        "the AppleDouble file fails the check without the flag"
    );
    let r = env.qoima(&[
        "package",
        "--json",
        "mac",
        "-o",
        "mac-bag",
        "--exclude-junk",
    ]);
    assert_eq!(r.code(), 0, "{}\n{}", r.stdout(), r.stderr());
    let v = r.json();
    assert_eq!(
        v["bag"]["excluded"],
        serde_json::json!([".DS_Store", "._tiny.jpg"])
    );
    assert!(!env.path("mac-bag/data/._tiny.jpg").exists());
    env.qoima(&["validate", "mac-bag"]).success();
}
