//! BagIt Profiles from the command line: making a conforming bag, checking bags against a
//! profile named on the command line or found by the identifier the bag names, and the
//! Beyond the Repository situations.

use std::fs;

use super::util::*;

const BTR_ID: &str = "https://github.com/dpscollaborative/btr_bagit_profile/releases/download/1.0/btr-bagit-profile.json";

fn codes(v: &serde_json::Value) -> Vec<(String, String)> {
    let mut c: Vec<(String, String)> = problems(v)
        .into_iter()
        .filter(|(_, _, sev)| sev == "error")
        .map(|(c, f, _)| (c, f))
        .collect();
    c.sort();
    c
}

fn pair(c: &str, f: &str) -> (String, String) {
    (c.to_string(), f.to_string())
}

/// A BTR bag made by qoima.
fn btr_bag(env: &Env, name: &str) {
    let src = env.sample_source(&format!("{name}-src"));
    env.qoima(&[
        "bag",
        src.to_str().unwrap(),
        "-o",
        name,
        "--profile",
        "btr",
        "--source-organization",
        "Central State Archive",
    ])
    .success();
}

#[test]
fn bag_for_btr_names_the_profile_and_validates_against_it_by_its_identifier() {
    let env = Env::new();
    btr_bag(&env, "b");
    let info = fs::read_to_string(env.path("b/bag-info.txt")).unwrap();
    assert!(
        info.contains(&format!("BagIt-Profile-Identifier: {BTR_ID}")),
        "{info}"
    );
    // Without --profile the bag's own identifier selects the built-in.
    let r = env.qoima(&["validate", "--json", "b"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let v = r.json();
    assert_eq!(v["bags"][0]["verdict"], "valid");
    assert_eq!(v["bags"][0]["profile"], "btr-1.0 (version 1.0)");
}

#[test]
fn a_required_value_missing_refuses_before_anything_is_written() {
    let env = Env::new();
    let src = env.sample_source("src");
    let r = env.qoima(&["bag", src.to_str().unwrap(), "-o", "b", "--profile", "btr"]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("Source-Organization"), "{}", r.stderr());
    assert!(r.stderr().contains("nothing was written"), "{}", r.stderr());
    assert!(!env.path("b").exists());
}

#[test]
fn the_btr_situations_are_caught_with_their_codes() {
    let env = Env::new();
    // Bad checksum.
    btr_bag(&env, "flip");
    edit(&env.path("flip/data/a.txt"), |s| s.replace('h', "j"));
    // Extraneous payload file.
    btr_bag(&env, "extra");
    env.write("extra/data/stray.txt", "not listed");
    // Missing payload file.
    btr_bag(&env, "missing");
    fs::remove_file(env.path("missing/data/a.txt")).unwrap();
    // Missing required tag: Source-Organization removed (tag manifests refreshed, so only
    // the profile can tell).
    btr_bag(&env, "untagged");
    edit(&env.path("untagged/bag-info.txt"), |s| {
        s.lines()
            .filter(|l| !l.starts_with("Source-Organization"))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    refresh_tag_manifests(&env.path("untagged"));
    for (bag, want) in [
        (
            // A mismatch names the manifest and its line; the field is the payload file.
            "flip",
            vec![
                pair("BAG-036", "manifest-sha256.txt"),
                pair("BAG-036", "manifest-sha512.txt"),
            ],
        ),
        (
            "extra",
            vec![
                pair("BAG-023", "bag-info.txt"),
                pair("BAG-035", "data/stray.txt"),
            ],
        ),
        (
            "missing",
            vec![
                pair("BAG-023", "bag-info.txt"),
                pair("BAG-034", "manifest-sha256.txt"),
                pair("BAG-034", "manifest-sha512.txt"),
            ],
        ),
        ("untagged", vec![pair("PROF-003", "bag-info.txt")]),
    ] {
        let r = env.qoima(&["validate", "--json", "--profile", "btr", bag]);
        assert_eq!(r.code(), 1, "{bag}: {}", r.stderr());
        assert_eq!(codes(&r.json()), want, "{bag}");
    }
}

#[test]
fn aptrust_needs_its_tag_file_and_a_tar_and_gets_both_from_the_command_line() {
    let env = Env::new();
    let src = env.sample_source("src");
    let src = src.to_str().unwrap();
    // A folder bag cannot be an APTrust bag: refused before writing, every reason given.
    let r = env.qoima(&["bag", src, "-o", "dep", "--profile", "aptrust"]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("aptrust-info.txt"), "{}", r.stderr());
    assert!(r.stderr().contains("--tar"), "{}", r.stderr());
    assert!(!env.path("dep").exists());
    // With aptrust-info.txt and --tar it conforms, and the tar is checked by its identifier.
    env.write(
        "aptrust.txt",
        "Title: Qantar 2022\nAccess: Institution\nStorage-Option: Standard\n",
    );
    env.qoima(&[
        "bag",
        src,
        "-o",
        "dep",
        "--tar",
        "--profile",
        "aptrust",
        "--tag-file",
        "aptrust-info.txt=aptrust.txt",
    ])
    .success();
    let r = env.qoima(&["validate", "--json", "dep.tar"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let v = r.json();
    assert_eq!(v["bags"][0]["profile"], "aptrust-2.3 (version 2.3)");
    assert_eq!(v["bags"][0]["serialization"], "tar");
    // Renamed, the tar breaks APTrust's rule that the folder inside be named like it.
    fs::copy(env.path("dep.tar"), env.path("renamed.tar")).unwrap();
    let r = env.qoima(&["validate", "--json", "renamed.tar"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert_eq!(codes(&r.json()), [pair("PROF-034", "")]);
    // A value the profile does not allow is caught as soon as the bag is made (exit 1).
    env.write(
        "bad.txt",
        "Title: Qantar 2022\nAccess: Everyone\nStorage-Option: Standard\n",
    );
    let r = env.qoima(&[
        "bag",
        src,
        "-o",
        "bad",
        "--tar",
        "--json",
        "--profile",
        "aptrust",
        "--tag-file",
        "aptrust-info.txt=bad.txt",
    ]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    let v = r.json();
    let got: Vec<(String, String)> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_string(),
                p["file"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(got, [pair("PROF-005", "aptrust-info.txt")]);
}

#[test]
fn a_profile_in_a_profiles_folder_beside_the_bag_is_found_by_its_identifier() {
    let env = Env::new();
    env.write(
        "profiles/ours.json",
        r#"{
  "BagIt-Profile-Info": {
    "BagIt-Profile-Identifier": "https://archive.example.kz/profiles/deposit-v1.json",
    "Source-Organization": "Example Archive",
    "External-Description": "Deposits",
    "Version": "1"
  },
  "Bag-Info": { "Contact-Email": { "required": true } },
  "Manifests-Required": ["sha256"]
}"#,
    );
    let src = env.sample_source("src");
    env.qoima(&[
        "bag",
        src.to_str().unwrap(),
        "-o",
        "b",
        "--bagit-profile-identifier",
        "https://archive.example.kz/profiles/deposit-v1.json",
    ])
    .success();
    let r = env.qoima(&["validate", "--json", "b"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert_eq!(codes(&r.json()), [pair("PROF-003", "bag-info.txt")]);
    // Moved elsewhere, the bag's profile is found through --profiles-dir.
    fs::rename(env.path("b"), env.path("elsewhere")).unwrap();
    fs::create_dir(env.path("x")).unwrap();
    fs::rename(env.path("elsewhere"), env.path("x/b")).unwrap();
    let r = env.qoima(&["validate", "--json", "x/b"]);
    assert_eq!(
        r.code(),
        0,
        "unknown identifiers are left unchecked: {}",
        r.stderr()
    );
    let r = env.qoima(&["validate", "--json", "--profiles-dir", "profiles", "x/b"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
}

#[test]
fn a_malformed_profile_is_a_usage_error_naming_the_field() {
    let env = Env::new();
    let bag = env.sample_bag("b");
    env.write(
        "broken.json",
        r#"{"BagIt-Profile-Info": {"BagIt-Profile-Identifier": "x", "Source-Organization": "o",
            "External-Description": "d", "Version": "1"}, "Manifests-Required": "sha256"}"#,
    );
    let r = env.qoima(&[
        "validate",
        "--profile",
        "broken.json",
        bag.to_str().unwrap(),
    ]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("broken.json"), "{}", r.stderr());
    assert!(r.stderr().contains("Manifests-Required"), "{}", r.stderr());
    let r = env.qoima(&[
        "validate",
        "--profile",
        "no-such-profile",
        bag.to_str().unwrap(),
    ]);
    assert_eq!(r.code(), 2);
}
