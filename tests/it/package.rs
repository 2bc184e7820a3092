//! `qoima package`: the sample collection becomes a valid bag whose METS and Dublin Core
//! validate against the official schemas, reproducibly; a broken collection writes nothing.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::util::*;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/collections/qantar-2022")
}

fn xmllint(schema: &str, file: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(root.join(schema))
        .arg(file)
        .env("XML_CATALOG_FILES", root.join("schemas/catalog.xml"))
        .output()
        .expect("xmllint is needed: apt-get install libxml2-utils (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "{} does not validate against {schema}:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_sample_collection_packages_into_a_valid_described_bag() {
    let env = Env::new();
    let src = sample();
    let args = [
        "package",
        src.to_str().unwrap(),
        "-o",
        "out",
        "--source-organization",
        "Qoima sample archive",
    ];
    env.qoima(&args).success();
    let bag = env.path("out");
    env.qoima(&["validate", "out"]).success();
    xmllint("schemas/wrappers/mets-embedded.xsd", &bag.join("mets.xml"));
    xmllint("schemas/oai_dc.xsd", &bag.join("metadata/dc.xml"));
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(bag.join("metadata/report.json")).unwrap()).unwrap();
    assert_eq!(report["passed"], true);
    // The payload is the collection, byte for byte.
    let original = tree(&src);
    let payload = tree(&bag.join("data"));
    assert_eq!(original, payload);
    // Every METS CHECKSUM is the manifest's sha256 of the file its FLocat names.
    let manifest = fs::read_to_string(bag.join("manifest-sha256.txt")).unwrap();
    let mets = fs::read_to_string(bag.join("mets.xml")).unwrap();
    let sums: Vec<&str> = mets
        .split("CHECKSUM=\"")
        .skip(1)
        .map(|s| &s[..64])
        .collect();
    assert_eq!(sums.len(), 24, "one file element per photo");
    for sum in sums {
        assert!(
            manifest.contains(&format!("{sum}  data/photos/")),
            "{sum} is not in manifest-sha256.txt"
        );
    }
    assert!(mets.contains("<mets:name>Qoima sample archive</mets:name>"));
    // The tag manifests cover the descriptions.
    let tm = fs::read_to_string(bag.join("tagmanifest-sha256.txt")).unwrap();
    for f in ["mets.xml", "metadata/dc.xml", "metadata/report.json"] {
        assert!(
            tm.contains(&format!("  {f}\n")),
            "{f} missing from the tag manifest"
        );
    }
    // Same input, same bytes.
    let again = [
        "package",
        src.to_str().unwrap(),
        "-o",
        "again",
        "--source-organization",
        "Qoima sample archive",
    ];
    env.qoima(&again).success();
    assert_eq!(tree(&bag), tree(&env.path("again")));
    // Not overwritten without --force; replaced with it.
    let r = env.qoima(&args);
    assert_eq!(r.code(), 2, "{}", r.stderr());
    assert!(r.stderr().contains("already exists"));
    let forced = ["package", src.to_str().unwrap(), "-o", "out", "--force"];
    env.qoima(&forced).success();
    env.qoima(&["validate", "out"]).success();
    assert!(
        !fs::read_to_string(bag.join("mets.xml"))
            .unwrap()
            .contains("Qoima sample archive")
    );
}

#[test]
fn a_collection_with_errors_is_refused_and_nothing_is_written() {
    let env = Env::new();
    let broken =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/collections/broken/META-012-bad-date");
    let r = env.qoima(&["package", "--json", broken.to_str().unwrap(), "-o", "out"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    let v = r.json();
    assert_eq!(v["outcome"], "refused");
    assert_eq!(v["check"]["passed"], false);
    assert!(!env.path("out").exists());
    assert_eq!(
        fs::read_dir(env.dir.path()).unwrap().count(),
        0,
        "no temporary left"
    );
}

#[test]
fn bagit_python_validates_a_package() {
    let Some(bagit) = std::env::var_os("QOIMA_BAGIT_PY").map(PathBuf::from) else {
        assert!(
            std::env::var_os("QOIMA_SKIP_INTEROP").is_some(),
            "QOIMA_BAGIT_PY is not set: run ./scripts/test.sh"
        );
        return;
    };
    let env = Env::new();
    env.qoima(&["package", sample().to_str().unwrap(), "-o", "out"])
        .success();
    let out = Command::new(bagit)
        .arg("--validate")
        .arg(env.path("out"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn validate_holds_a_package_mets_to_its_manifests() {
    let env = Env::new();
    env.qoima(&["package", sample().to_str().unwrap(), "-o", "out"])
        .success();
    let bag = env.path("out");
    let mets_path = bag.join("mets.xml");
    let original = fs::read_to_string(&mets_path).unwrap();
    let first = original.split("CHECKSUM=\"").nth(1).unwrap()[..64].to_string();
    let flipped = format!(
        "{}{}",
        if first.starts_with('0') { '1' } else { '0' },
        &first[1..]
    );
    // Edited METS with its tag manifests recomputed: only the cross-check can tell.
    let edited = original.replacen(
        &format!("CHECKSUM=\"{first}\""),
        &format!("CHECKSUM=\"{flipped}\""),
        1,
    );
    assert_ne!(edited, original);
    fs::write(&mets_path, edited).unwrap();
    refresh_tag_manifests(&bag);
    let r = env.qoima(&["validate", "--json", "out"]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    let got = problems(&r.json());
    assert!(
        got.iter()
            .any(|(c, f, _)| c == "BAG-082" && f == "mets.xml"),
        "{got:?}"
    );
    // A METS listing a file the bag does not hold.
    let renamed = original.replacen(
        "xlink:href=\"data/photos/01-january/001-oyan-march.jpg\"",
        "xlink:href=\"data/photos/01-january/001-gone.jpg\"",
        1,
    );
    assert_ne!(renamed, original);
    fs::write(&mets_path, renamed).unwrap();
    refresh_tag_manifests(&bag);
    let got = problems(&env.qoima(&["validate", "--json", "out"]).json());
    assert!(
        got.iter()
            .any(|(c, f, _)| c == "BAG-081" && f == "mets.xml"),
        "{got:?}"
    );
    // A METS that is not XML.
    fs::write(&mets_path, "<mets:mets><broken>").unwrap();
    refresh_tag_manifests(&bag);
    let got = problems(&env.qoima(&["validate", "--json", "out"]).json());
    assert!(
        got.iter()
            .any(|(c, f, _)| c == "BAG-080" && f == "mets.xml"),
        "{got:?}"
    );
    // --fast does not read the METS.
    env.qoima(&["validate", "--fast", "out"]).success();
}

#[test]
fn link_hard_links_the_payload_and_leaves_the_originals_alone() {
    use std::os::unix::fs::MetadataExt;
    let env = Env::new();
    let src = env.sample_source("src");
    let before = tree(&src);
    env.qoima(&["bag", "src", "-o", "out", "--link"]).success();
    env.qoima(&["validate", "out"]).success();
    let a = fs::metadata(src.join("a.txt")).unwrap();
    let b = fs::metadata(env.path("out/data/a.txt")).unwrap();
    assert_eq!(
        (a.dev(), a.ino()),
        (b.dev(), b.ino()),
        "a hard link, not a copy"
    );
    assert_eq!(tree(&src), before);
    let r = env.qoima(&["bag", "--in-place", "src", "--link"]);
    assert_eq!(r.code(), 2, "--link makes no sense in place");
}

/// Records the stages a run announces, in order.
#[derive(Default)]
struct Stages(std::sync::Mutex<Vec<(String, u64, u64)>>);

impl qoima::digest::Progress for Stages {
    fn stage(&self, name: &str, bytes: u64, files: u64) {
        self.0
            .lock()
            .unwrap()
            .push((name.to_string(), bytes, files));
    }
}

#[test]
fn package_names_each_stage_with_its_size() {
    use qoima::package::run::{PackageOptions, package};
    let env = Env::new();
    let src = sample();
    let engine = qoima::digest::Engine::new(2).unwrap();
    let stages = Stages::default();
    let report = package(
        &src,
        &env.path("out"),
        &PackageOptions::default(),
        &engine,
        &stages,
    )
    .unwrap();
    let bag = report.bag.expect("packaged");
    let seen = stages.0.into_inner().unwrap();
    let names: Vec<&str> = seen.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "checking",
            "copying and hashing",
            "syncing to disk",
            "writing tag files"
        ]
    );
    // The copy stage is sized by the payload it copies: the photos and the sidecar.
    assert_eq!((seen[1].1, seen[1].2), (bag.bytes, bag.files));
    // The check stage examines the 24 photos, not the collection's own files (the sidecar,
    // collection.toml, README.txt), which the bag carries too.
    assert_eq!((seen[0].2, bag.files), (24, 27));
}

/// A described file that is not an image gets PREMIS but no MIX, and the METS still
/// validates (every ADMID it names exists: `qoima validate` checks them).
#[test]
fn a_described_file_that_is_not_an_image_has_no_mix() {
    let env = Env::new();
    let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photos/good/tiny.jpg");
    fs::create_dir_all(env.path("coll")).unwrap();
    fs::copy(&photo, env.path("coll/tiny.jpg")).unwrap();
    // Not a format qoima identifies (PHOTO-W002, a warning), like a camera's sidecar file.
    env.write(
        "coll/notes.dat",
        [0x00u8, 0x9f, 0x92, 0x96, 0x01, 0x02, 0xfe, 0x7f],
    );
    env.write(
        "coll/metadata.csv",
        "identifier,file,title,date,rights,type\n\
         p1,tiny.jpg,A photo,2022-01-04,CC BY 4.0,StillImage\n\
         t1,notes.dat,Field notes,2022-01-04,CC BY 4.0,Dataset\n",
    );
    env.qoima(&["package", "coll", "-o", "out"]).success();
    env.qoima(&["validate", "out"]).success();
    xmllint(
        "schemas/wrappers/mets-embedded.xsd",
        &env.path("out/mets.xml"),
    );
    let mets = fs::read_to_string(env.path("out/mets.xml")).unwrap();
    assert_eq!(
        mets.matches("<mix:mix").count(),
        1,
        "one MIX, for the photo"
    );
    assert!(
        mets.matches("<premis:object ").count() >= 2,
        "PREMIS for both"
    );
}
