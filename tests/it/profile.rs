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
    // The sample source's `%` names also get the bagit-python warning (issue 14).
    assert_eq!(
        got,
        [
            pair("BAG-W072", "50%off.txt"),
            pair("BAG-W072", "file%0A1.txt"),
            pair("PROF-005", "aptrust-info.txt")
        ]
    );
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

// ---- issue 14, item 11: the Beyond the Repository profile's own sample bags ----
//
// The BTR repository ships `btr_good_sha256.tar` and `btr_good_sha512.tar` (bags made by
// another tool that name the profile by its raw GitHub URL) and `btr_bad_*.tar`, each breaking
// one rule of the profile. These tests rebuild them from the profile's documented rules, as a
// bagit-python bag (BagIt 0.97, one manifest and one tag manifest of the same algorithm)
// serialized as a tar whose folder is named like the tar.

const BTR_RAW_ID: &str = "https://raw.githubusercontent.com/dpscollaborative/btr_bagit_profile/master/btr-bagit-profile.json";

/// What a BTR sample is made of; each `btr_bad_*` case changes one thing.
struct BtrSample {
    algorithm: &'static str,
    version: &'static str,
    identifier: &'static str,
    source_organization: bool,
    fetch: bool,
    flip_payload_byte: bool,
}

impl BtrSample {
    fn good(algorithm: &'static str, identifier: &'static str) -> BtrSample {
        BtrSample {
            algorithm,
            version: "0.97",
            identifier,
            source_organization: true,
            fetch: false,
            flip_payload_byte: false,
        }
    }
}

fn reference_digest(algorithm: &str, data: &[u8]) -> String {
    use sha2::Digest;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    match algorithm {
        "sha256" => sha256_hex(data),
        "sha512" => sha512_hex(data),
        "sha224" => hex(&sha2::Sha224::digest(data)),
        other => panic!("no reference for {other}"),
    }
}

/// Writes the sample as `NAME.tar` (folder `NAME/` inside) and returns the tar's name.
fn btr_sample_tar(env: &Env, name: &str, sample: &BtrSample) -> String {
    let payload: [(&str, &[u8]); 2] = [
        ("data/README.txt", b"Beyond the Repository sample bag\n"),
        (
            "data/images/photo 1.jpg",
            b"\xff\xd8\xff\xe0 not a real jpeg \xff\xd9",
        ),
    ];
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let alg = sample.algorithm;
    let mut manifest = String::new();
    let mut octets = 0;
    for (path, data) in payload {
        manifest.push_str(&format!("{}  {path}\n", reference_digest(alg, data)));
        octets += data.len();
        let mut data = data.to_vec();
        if sample.flip_payload_byte && path.ends_with("README.txt") {
            data[0] ^= 0x20;
        }
        files.push((path.to_string(), data));
    }
    let mut info = String::new();
    if sample.source_organization {
        info.push_str("Source-Organization: Beyond the Repository test institution\n");
    }
    info.push_str(&format!(
        "Bagging-Date: 2019-10-02\nBag-Software-Agent: bagit.py v1.7.0 <https://github.com/LibraryOfCongress/bagit-python>\n\
         BagIt-Profile-Identifier: {}\nContact-Email: preservation@example.org\nPayload-Oxum: {octets}.{}\n",
        sample.identifier,
        payload.len()
    ));
    files.push((
        "bagit.txt".into(),
        format!(
            "BagIt-Version: {}\nTag-File-Character-Encoding: UTF-8\n",
            sample.version
        )
        .into_bytes(),
    ));
    files.push(("bag-info.txt".into(), info.into_bytes()));
    files.push((format!("manifest-{alg}.txt"), manifest.into_bytes()));
    if sample.fetch {
        files.push((
            "fetch.txt".into(),
            b"https://example.org/extra.bin 4 data/extra.bin\n".to_vec(),
        ));
    }
    let mut tagmanifest = String::new();
    for (path, data) in &files {
        if !path.starts_with("data/") {
            tagmanifest.push_str(&format!("{}  {path}\n", reference_digest(alg, data)));
        }
    }
    files.push((format!("tagmanifest-{alg}.txt"), tagmanifest.into_bytes()));
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in &files {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_570_000_000);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, format!("{name}/{path}"), data.as_slice())
            .unwrap();
    }
    let file = format!("{name}.tar");
    env.write(&file, tar.into_inner().unwrap());
    file
}

#[test]
fn issue14_btr_good_samples_pass_naming_the_profile_by_raw_or_release_url() {
    let env = Env::new();
    for (name, alg, id) in [
        ("btr_good_sha256", "sha256", BTR_RAW_ID),
        ("btr_good_sha512", "sha512", BTR_RAW_ID),
        ("btr_good_sha256_release_url", "sha256", BTR_ID),
    ] {
        let tar = btr_sample_tar(&env, name, &BtrSample::good(alg, id));
        // Named on the command line, and found by the identifier the bag names.
        for args in [
            vec!["validate", "--json", "--profile", "btr", tar.as_str()],
            vec!["validate", "--json", tar.as_str()],
        ] {
            let r = env.qoima(&args);
            assert_eq!(r.code(), 0, "{name} {args:?}: {}", r.stderr());
            let v = r.json();
            assert_eq!(v["bags"][0]["verdict"], "valid", "{name}");
            assert_eq!(v["bags"][0]["profile"], "btr-1.0 (version 1.0)", "{name}");
            let codes: Vec<String> = problems(&v).into_iter().map(|(c, ..)| c).collect();
            assert!(
                !codes
                    .iter()
                    .any(|c| c.starts_with("PROF") || c == "BAG-W060"),
                "{name}: {codes:?}"
            );
        }
    }
}

#[test]
fn issue14_btr_bad_samples_fail_each_for_its_reason() {
    let env = Env::new();
    let good = || BtrSample::good("sha256", BTR_RAW_ID);
    let cases = [
        (
            "btr_bad_missing_source_organization",
            BtrSample {
                source_organization: false,
                ..good()
            },
            pair("PROF-003", "bag-info.txt"),
        ),
        (
            "btr_bad_manifest_algorithm",
            BtrSample {
                algorithm: "sha224",
                ..good()
            },
            pair("PROF-011", "manifest-sha224.txt"),
        ),
        (
            "btr_bad_fetch_txt",
            BtrSample {
                fetch: true,
                ..good()
            },
            pair("PROF-020", "fetch.txt"),
        ),
        (
            "btr_bad_bagit_version",
            BtrSample {
                version: "0.96",
                ..good()
            },
            pair("PROF-033", "bagit.txt"),
        ),
        (
            "btr_bad_checksum",
            BtrSample {
                flip_payload_byte: true,
                ..good()
            },
            pair("BAG-036", "manifest-sha256.txt"),
        ),
    ];
    for (name, sample, want) in cases {
        let tar = btr_sample_tar(&env, name, &sample);
        let r = env.qoima(&["validate", "--json", "--profile", "btr", &tar]);
        assert_eq!(r.code(), 1, "{name}: {}", r.stderr());
        let got = codes(&r.json());
        assert!(got.contains(&want), "{name}: {got:?}");
    }
}

#[test]
fn issue14_an_identifier_of_another_profile_is_a_warning_when_the_user_names_the_profile() {
    let env = Env::new();
    let other = "https://archive.example.kz/profiles/deposit-v1.json";
    let tar = btr_sample_tar(&env, "btr_other_id", &BtrSample::good("sha256", other));
    let r = env.qoima(&["validate", "--json", "--profile", "btr", &tar]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let found: Vec<_> = problems(&r.json())
        .into_iter()
        .filter(|(c, ..)| c.starts_with("PROF") || c.starts_with("BAG-W06"))
        .collect();
    assert_eq!(
        found,
        [(
            "BAG-W060".to_string(),
            "bag-info.txt".to_string(),
            "warning".to_string()
        )]
    );
    let r = env.qoima(&["validate", "--strict", "--profile", "btr", &tar]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert!(r.stderr().contains("BAG-W060"), "{}", r.stderr());
}

/// Issue 15: `bag --profile` read the bag back to hold it to the profile, and dropped in
/// silence whatever that reading found wrong (and any failure to read). A zip whose deflated
/// entry expands more than the default `--max-ratio` is one that every reader with the
/// default limits refuses (`qoima validate` says ARC-009): the bag's report now says so too,
/// naming the entry, and the exit code is 1.
#[test]
fn issue15_bag_for_a_profile_shows_what_reading_it_back_found() {
    let env = Env::new();
    // 4 MiB of zeros deflate about 1028 to 1, over the default limit of 1000.
    env.write("src/zeros.bin", vec![0u8; 4 << 20]);
    env.write("src/a.txt", "a\n");
    let args = [
        "--json",
        "bag",
        "src",
        "-o",
        "made",
        "--zip",
        "--compress",
        "--profile",
        "btr",
        "--source-organization",
        "Central State Archive",
    ];
    let run = env.qoima(&args);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    let report = run.json();
    let found: Vec<(String, String, String)> = report["bag"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let field = |name: &str| p[name].as_str().unwrap_or("").to_string();
            (field("code"), field("file"), field("severity"))
        })
        .collect();
    assert_eq!(
        found,
        vec![(
            "ARC-009".to_string(),
            "made/data/zeros.bin".to_string(),
            "error".to_string()
        )]
    );
    assert_eq!(report["exit_code"], 1);
    assert_eq!(report["outcome"], "bagged");
    assert!(env.path("made.zip").is_file(), "the bag is kept");
    assert!(
        run.stderr()
            .contains("error[ARC-009]: entry made/data/zeros.bin would expand"),
        "{}",
        run.stderr()
    );
    // The same archive, validated with the same default limits: the same finding.
    let validated = env.qoima(&["--json", "validate", "made.zip"]);
    assert_eq!(validated.code(), 1);
    assert!(
        problems(&validated.json())
            .iter()
            .any(|(code, file, _)| code == "ARC-009" && file == "made/data/zeros.bin")
    );
}
