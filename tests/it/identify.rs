//! Identification against fido (the oracle for PRONOM, as ExifTool is for Exif), issue 14
//! point 7. fido applies the DROID signature file it bundles; qoima's table follows the same
//! release (`PRONOM_SIGNATURE_RELEASE`). fido is installed by scripts/test.sh into the .venv
//! (`pip install opf-fido`); `QOIMA_FIDO` names another.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::util::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn fido() -> PathBuf {
    if let Some(path) = std::env::var_os("QOIMA_FIDO") {
        return PathBuf::from(path);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/fido");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("fido")
    }
}

fn run_fido(args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(fido())
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("this test needs fido (scripts/test.sh installs it: pip install opf-fido): {e}")
        });
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// fido's signature-based PUIDs per file (several when it finds several).
fn fido_puids(files: &[PathBuf]) -> BTreeMap<PathBuf, Vec<String>> {
    let mut args: Vec<&std::ffi::OsStr> = ["-q", "-nocontainer", "-matchprintf"]
        .iter()
        .map(|s| s.as_ref())
        .collect();
    args.push("%(info.matchtype)s\t%(info.puid)s\t%(info.filename)s\n".as_ref());
    args.push("-nomatchprintf".as_ref());
    args.push("none\t-\t%(info.filename)s\n".as_ref());
    args.extend(files.iter().map(|f| f.as_os_str()));
    let mut found: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for line in run_fido(&args).lines() {
        let mut parts = line.splitn(3, '\t');
        let (Some(kind), Some(puid), Some(file)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let entry = found.entry(PathBuf::from(file)).or_default();
        if kind == "signature" && !entry.contains(&puid.to_string()) {
            entry.push(puid.to_string());
        }
    }
    found
}

/// Where qoima and fido differ on purpose: (file, qoima's PUID, why). Each reason is in
/// docs/json.md ("Identification and PRONOM").
const PINNED: &[(&str, Option<&str>, &str)] = &[
    (
        "html-error-page.jpg",
        None,
        "not a photo: qoima names text formats (HTML) without a PUID and reports PHOTO-002",
    ),
    (
        "png-ihdr-not-first.png",
        Some("fmt/11"),
        "PRONOM wants IHDR at byte 8 and IEND at the end; qoima names the format and reports the damage (PHOTO-022)",
    ),
    (
        "png-no-iend.png",
        Some("fmt/11"),
        "PRONOM wants IEND at the end; qoima names the format and reports the truncation (PHOTO-023)",
    ),
    (
        "truncated.jpg",
        Some("fmt/43"),
        "PRONOM wants EOI at the end; qoima names the format and reports the truncation (PHOTO-010)",
    ),
];

fn photos() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e != "md") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&fixtures().join("photos"), &mut files);
    walk(
        &fixtures().join("collections/qantar-2022/photos"),
        &mut files,
    );
    files.sort();
    files
}

/// Issue 14 point 7: on every photo fixture, plus the JPEG 2000 family brands, qoima's PUID is
/// the one fido finds by signature, or fido finds none and neither does qoima, or the
/// difference is pinned with its reason.
#[test]
fn issue14_pronom_ids_agree_with_fido() {
    let env = Env::new();
    let mut files = photos();
    for brand in ["jp2 ", "jpx ", "mjp2", "jpm "] {
        let mut data = b"\0\0\0\x0CjP  \r\n\x87\n\0\0\0\x14ftyp".to_vec();
        data.extend_from_slice(brand.as_bytes());
        data.extend_from_slice(b"\0\0\0\0");
        data.extend_from_slice(brand.as_bytes());
        files.push(env.write(&format!("brand-{}.bin", brand.trim()), data));
    }
    let theirs = fido_puids(&files);
    let mut differences = Vec::new();
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        let report = qoima::photo::examine(name, &data, false);
        let ours = report.format.and_then(|f| f.puid);
        let mut our_candidates: Vec<&str> = report
            .identification
            .iter()
            .flat_map(|i| i.candidates.iter().map(|c| c.puid))
            .collect();
        if let Some(identification) = &report.identification {
            assert_eq!(
                identification.chosen, ours,
                "{name}: the chosen PUID is the format's"
            );
            assert_eq!(
                our_candidates.first().copied(),
                ours,
                "{name}: chosen first"
            );
        }
        our_candidates.sort_unstable();
        let mut candidates = theirs.get(path).cloned().unwrap_or_default();
        candidates.sort_unstable();
        let agrees = our_candidates == candidates;
        let pinned = PINNED.iter().find(|p| p.0 == name);
        match (agrees, pinned) {
            (true, None) => {}
            (true, Some(_)) => {
                differences.push(format!("{name}: pinned but now agrees: unpin it"))
            }
            (false, Some(p)) if p.1 == ours => {}
            (false, _) => differences.push(format!(
                "{name}: qoima {our_candidates:?} (chose {ours:?}), fido by signature {candidates:?}"
            )),
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// Issue 14 point 7: where PRONOM leaves several candidates (a CR2 whose Exif version is 2.2
/// matches Canon RAW 2.0 and Exif uncompressed 2.2, and PRONOM ranks neither above the
/// other), `check --json` (and so report.json) lists them all, says which one qoima chose and
/// why, and names the signature release.
#[test]
fn issue14_several_pronom_candidates_are_all_reported() {
    let env = Env::new();
    std::fs::create_dir_all(env.path("coll")).unwrap();
    std::fs::copy(
        fixtures().join("photos/identify/canon-raw-2.cr2"),
        env.path("coll/raw.cr2"),
    )
    .unwrap();
    env.write(
        "coll/metadata.csv",
        "identifier,file,title,date,rights,coverage\nraw-1,raw.cr2,A raw file,2009-05-05,CC0,Almaty\n",
    );
    let run = env.qoima(&["check", "--json", env.path("coll").to_str().unwrap()]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let report = run.json();
    assert_eq!(
        report["pronom_signatures"].as_str(),
        Some(qoima::photo::PRONOM_SIGNATURE_RELEASE)
    );
    let item = &report["items"][0];
    let identification = &item["identification"];
    assert_eq!(item["format"]["puid"], "fmt/592");
    assert_eq!(identification["chosen"], "fmt/592");
    let listed: Vec<&str> = identification["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["puid"].as_str().unwrap())
        .collect();
    let fido_says = fido_puids(&[env.path("coll/raw.cr2")]);
    let mut expected = fido_says.values().next().cloned().unwrap_or_default();
    expected.sort_unstable();
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, expected, "the candidates are fido's");
    assert!(listed.len() >= 2, "{listed:?}");
    assert!(
        identification["basis"]
            .as_str()
            .unwrap()
            .contains("most specific"),
        "{identification}"
    );
}

/// The release qoima's table follows is the one fido bundles.
#[test]
fn issue14_signature_release_is_fidos() {
    let version = run_fido(&["-v".as_ref()]);
    let release = version
        .split("formats-v")
        .nth(1)
        .and_then(|rest| rest.split(".xml").next())
        .unwrap_or_else(|| panic!("fido -v: {version}"));
    assert_eq!(
        qoima::photo::PRONOM_SIGNATURE_RELEASE,
        format!("DROID signature file v{release}")
    );
}
