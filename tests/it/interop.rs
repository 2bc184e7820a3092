//! Interoperability with bagit-python (the Library of Congress reference): every bag qoima
//! writes validates with `bagit.py --validate`, and every bag bagit-python writes validates
//! with qoima — including its known deviation of leaving `%` unencoded.
//!
//! `./scripts/test.sh` installs bagit-python in a virtual environment and sets
//! `QOIMA_BAGIT_PY`. Without it these tests fail (set `QOIMA_SKIP_INTEROP=1` to skip them
//! knowingly).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::util::*;

fn bagit_py() -> Option<PathBuf> {
    if std::env::var_os("QOIMA_SKIP_INTEROP").is_some() {
        return None;
    }
    let p = std::env::var_os("QOIMA_BAGIT_PY")
        .map(PathBuf::from)
        .expect("QOIMA_BAGIT_PY is not set: run ./scripts/test.sh, which installs bagit-python (or set QOIMA_SKIP_INTEROP=1)");
    assert!(p.exists(), "QOIMA_BAGIT_PY={} does not exist", p.display());
    Some(p)
}

fn py(bagit: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(bagit).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bagit_python_validates_what_qoima_writes() {
    let Some(bagit) = bagit_py() else { return };
    let env = Env::new();
    env.sample_source("src");
    // bagit-python cannot read RFC 8493 `%25` (see bagit_python_misreads_percent_names).
    fs::remove_file(env.path("src/50%off.txt")).unwrap();
    fs::remove_file(env.path("src/file%0A1.txt")).unwrap();
    env.write("src/new\nline.txt", "newline in the name");
    env.write("src/deep/er/still/deeper/x.bin", vec![7u8; 3 << 20]);
    for algs in [
        vec![],
        vec!["--md5"],
        vec!["--sha1", "--sha256"],
        vec!["--sha512"],
        vec!["--sha224", "--sha384"],
    ] {
        let out = format!("bag{}", algs.join(""));
        let mut args = vec![
            "bag",
            "src",
            "-o",
            out.as_str(),
            "--source-organization",
            "Qoima «Archive» & Co",
        ];
        args.extend(algs.iter());
        env.qoima(&args).success();
        let (code, err) = py(&bagit, &["--validate", env.path(&out).to_str().unwrap()]);
        assert_eq!(code, 0, "bagit.py rejected {out}: {err}");
        let (code, err) = py(
            &bagit,
            &["--validate", "--fast", env.path(&out).to_str().unwrap()],
        );
        assert_eq!(code, 0, "bagit.py --fast rejected {out}: {err}");
    }
    // An empty payload.
    fs::create_dir(env.path("empty")).unwrap();
    env.qoima(&["bag", "empty", "-o", "empty-bag"]).success();
    let (code, err) = py(
        &bagit,
        &["--validate", env.path("empty-bag").to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    // In place as well.
    env.sample_source("inplace");
    fs::remove_file(env.path("inplace/50%off.txt")).unwrap();
    fs::remove_file(env.path("inplace/file%0A1.txt")).unwrap();
    env.qoima(&["bag", "--in-place", "inplace"]).success();
    let (code, err) = py(
        &bagit,
        &["--validate", env.path("inplace").to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
}

/// bagit-python 1.9.0 decodes only `%0A` and `%0D` in manifest paths, never `%25`, so an
/// RFC 8493 bag holding a file whose name contains `%` fails its validation. qoima writes
/// the RFC's encoding regardless (docs/interop.md); this test pins bagit-python's behaviour so
/// that a fixed bagit-python is noticed.
#[test]
fn bagit_python_misreads_percent_names() {
    let Some(bagit) = bagit_py() else { return };
    let env = Env::new();
    env.write("src/50%off.txt", "x");
    env.qoima(&["bag", "src", "-o", "b"]).success();
    assert!(
        fs::read_to_string(env.path("b/manifest-sha256.txt"))
            .unwrap()
            .contains("data/50%25off.txt")
    );
    env.qoima(&["validate", "b"]).success();
    let (code, err) = py(&bagit, &["--validate", env.path("b").to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(
        err.contains("data/50%25off.txt exists in manifest but was not found"),
        "{err}"
    );
}

/// A folder bagged by bagit-python (in place, as it only can), from the sample source.
fn python_bag(env: &Env, bagit: &Path, name: &str, algs: &[&str]) -> PathBuf {
    let dir = env.sample_source(name);
    python_bag_of(bagit, algs, dir)
}

/// The same without the file literally named `file%0A1.txt`, which bagit-python cannot
/// validate in its own bags (it decodes `%0A` even in BagIt 0.97).
fn python_bag_clean(env: &Env, bagit: &Path, name: &str, algs: &[&str]) -> PathBuf {
    let dir = env.sample_source(name);
    fs::remove_file(dir.join("file%0A1.txt")).unwrap();
    let dir = python_bag_of(bagit, algs, dir);
    let (code, err) = py(bagit, &["--validate", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "bagit-python rejects its own clean bag: {err}");
    dir
}

fn python_bag_of(bagit: &Path, algs: &[&str], dir: PathBuf) -> PathBuf {
    fs::create_dir_all(dir.join("photos")).unwrap();
    fs::write(
        dir.join("photos/2022-01-05 площадь.jpg"),
        vec![0xFFu8; 100_000],
    )
    .unwrap();
    let mut args: Vec<&str> = algs.to_vec();
    args.push("--contact-name");
    args.push("Test");
    let d = dir.to_str().unwrap().to_string();
    args.push(&d);
    let (code, err) = py(bagit, &args);
    assert_eq!(code, 0, "bagit.py failed: {err}");
    dir
}

#[test]
fn qoima_validates_what_bagit_python_writes() {
    let Some(bagit) = bagit_py() else { return };
    let env = Env::new();
    for (i, algs) in [
        vec![],
        vec!["--md5"],
        vec!["--sha1"],
        vec!["--sha256"],
        vec!["--sha512"],
        vec!["--sha224", "--sha384"],
        vec!["--md5", "--sha1", "--sha256", "--sha512"],
    ]
    .iter()
    .enumerate()
    {
        let dir = python_bag(&env, &bagit, &format!("py{i}"), algs);
        let r = env.qoima(&["validate", "--json", dir.to_str().unwrap()]);
        let v = r.json();
        assert_eq!(r.code(), 0, "{algs:?}: {}", r.stdout());
        assert_eq!(v["bags"][0]["verdict"], "valid");
        let got = problems(&v);
        // bagit-python writes BagIt 0.97, where `50%off.txt` and `file%0A1.txt` are
        // literal names (0.97 encodes nothing): they must resolve without complaint.
        assert!(
            got.iter().any(|(c, _, _)| c == "BAG-W007"),
            "{algs:?}: {got:?}"
        );
        for (c, _, sev) in &got {
            assert!(
                sev == "warning" && ["BAG-W007", "BAG-W003"].contains(&c.as_str()),
                "{algs:?}: unexpected {c}: {got:?}"
            );
        }
        let r = env.qoima(&["validate", "--fast", dir.to_str().unwrap()]);
        r.success();
        assert!(
            r.stderr().contains("complete according to Payload-Oxum"),
            "{}",
            r.stderr()
        );
        // bagit-python itself rejects this bag: it decodes `%0A` in `file%0A1.txt` even in
        // BagIt 0.97, and then looks for a file with a line break in its name.
        let (code, err) = py(&bagit, &["--validate", dir.to_str().unwrap()]);
        assert_ne!(code, 0);
        assert!(
            err.contains("data/file%0A1.txt exists on filesystem but is not in the manifest"),
            "{err}"
        );
    }
}

/// Tools that write BagIt 1.0 but leave `%` unencoded (bagit-java, DART): qoima falls back to
/// the literal name, with a warning that names the deviation.
#[test]
fn unencoded_percent_in_a_1_0_bag_is_read_literally_with_a_warning() {
    let Some(bagit) = bagit_py() else { return };
    let env = Env::new();
    let dir = python_bag(&env, &bagit, "py", &[]);
    fs::write(
        dir.join("bagit.txt"),
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
    )
    .unwrap();
    refresh_tag_manifests(&dir);
    let r = env.qoima(&["validate", "--json", dir.to_str().unwrap()]);
    assert_eq!(r.code(), 0, "{}", r.stdout());
    let got = problems(&r.json());
    let fallbacks: Vec<_> = got.iter().filter(|(c, _, _)| c == "BAG-W014").collect();
    // 50%off.txt and file%0A1.txt, in both manifests.
    assert_eq!(fallbacks.len(), 4, "{got:?}");
}

#[test]
fn qoima_catches_corruption_of_bagit_python_bags() {
    let Some(bagit) = bagit_py() else { return };
    let env = Env::new();
    type Corrupt = fn(&Path);
    let cases: [(&str, Corrupt, &str, &str); 5] = [
        (
            "flipped byte",
            |b| fs::write(b.join("data/a.txt"), "hellO\n").unwrap(),
            "BAG-036",
            "manifest-sha256.txt",
        ),
        (
            "truncated",
            |b| fs::write(b.join("data/a.txt"), "he").unwrap(),
            "BAG-036",
            "manifest-sha256.txt",
        ),
        (
            "extra file",
            |b| fs::write(b.join("data/extra.txt"), "x").unwrap(),
            "BAG-035",
            "data/extra.txt",
        ),
        (
            "missing file",
            |b| fs::remove_file(b.join("data/sub/b.txt")).unwrap(),
            "BAG-034",
            "manifest-sha256.txt",
        ),
        (
            "edited bag-info",
            |b| {
                edit(&b.join("bag-info.txt"), |t| {
                    t.replace("Contact-Name: Test", "Contact-Name: Forger")
                })
            },
            "BAG-036",
            "tagmanifest-sha256.txt",
        ),
    ];
    for (i, (name, corrupt, code, file)) in cases.into_iter().enumerate() {
        let dir = python_bag_clean(&env, &bagit, &format!("c{i}"), &[]);
        corrupt(&dir);
        let r = env.qoima(&["validate", "--json", dir.to_str().unwrap()]);
        assert_eq!(r.code(), 1, "{name}");
        let got = problems(&r.json());
        assert!(
            got.iter().any(|(c, f, _)| c == code && f == file),
            "{name}: want {code} naming {file}, got {got:?}"
        );
        // bagit-python agrees the bag is bad.
        let (pcode, _) = py(&bagit, &["--validate", dir.to_str().unwrap()]);
        assert_ne!(pcode, 0, "{name}: bagit.py should reject it too");
    }
}

/// Where bagit-python is laxer than RFC 8493, qoima says so: a space before the colon in
/// bagit.txt is accepted by bagit-python and refused by qoima (BAG-002); md5sum's `*` marker
/// is stripped silently by bagit-python and warned about by qoima (BAG-W001).
#[test]
fn where_bagit_python_is_laxer() {
    let Some(bagit) = bagit_py() else { return };
    let env = Env::new();
    let dir = python_bag_clean(&env, &bagit, "colon", &[]);
    fs::write(
        dir.join("bagit.txt"),
        "BagIt-Version : 0.97\nTag-File-Character-Encoding: UTF-8\n",
    )
    .unwrap();
    refresh_tag_manifests(&dir);
    let (code, err) = py(&bagit, &["--validate", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "bagit-python accepts it: {err}");
    let r = env.qoima(&["validate", "--json", dir.to_str().unwrap()]);
    assert_eq!(r.code(), 1);
    assert!(
        problems(&r.json())
            .iter()
            .any(|(c, f, _)| c == "BAG-002" && f == "bagit.txt")
    );

    let dir = python_bag_clean(&env, &bagit, "star", &[]);
    edit(&dir.join("manifest-sha256.txt"), |t| {
        t.replacen(" data/a.txt", " *data/a.txt", 1)
    });
    refresh_tag_manifests(&dir);
    let (code, err) = py(&bagit, &["--validate", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "bagit-python strips the marker: {err}");
    let r = env.qoima(&["validate", "--json", dir.to_str().unwrap()]);
    assert_eq!(r.code(), 0);
    assert!(
        problems(&r.json())
            .iter()
            .any(|(c, f, _)| c == "BAG-W001" && f == "manifest-sha256.txt")
    );
}
