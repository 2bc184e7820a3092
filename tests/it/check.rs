//! `qoima check`: the sample collection passes, and each broken collection in
//! fixtures/collections/broken/ reports exactly the code, file and line its `.expect` file names.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::util::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// (code, file, line, severity) of every problem in a check report.
fn all_problems(v: &Value) -> Vec<(String, String, Option<u64>, String)> {
    let mut out = Vec::new();
    let mut take = |list: &Value| {
        for p in list.as_array().unwrap() {
            out.push((
                p["code"].as_str().unwrap().to_string(),
                p["file"].as_str().unwrap_or("").to_string(),
                p["line"].as_u64(),
                p["severity"].as_str().unwrap().to_string(),
            ));
        }
    };
    take(&v["problems"]);
    for it in v["items"].as_array().unwrap() {
        take(&it["problems"]);
    }
    out
}

#[test]
fn the_sample_collection_passes_with_every_photo_identified() {
    let env = Env::new();
    let coll = fixtures().join("collections/qantar-2022");
    let r = env.qoima(&["check", "--json", coll.to_str().unwrap()]);
    let v = r.json();
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_eq!(v["passed"], true);
    let errors: Vec<_> = all_problems(&v)
        .into_iter()
        .filter(|p| p.3 == "error")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let items = v["items"].as_array().unwrap();
    assert!(items.len() >= 20, "{}", items.len());
    assert_eq!(v["photos"].as_u64().unwrap() as usize, items.len());
    for it in items {
        assert!(
            it["format"]["puid"].is_string() || it["format"]["name"].is_string(),
            "{it}"
        );
        assert!(
            it["identifier"]
                .as_str()
                .unwrap()
                .starts_with("qantar-2022-")
        );
        assert!(it["technical"]["width"].as_u64().unwrap() > 0, "{it}");
    }
    let with_exif = items
        .iter()
        .filter(|i| i["exif"]["date_time_original"].is_string())
        .count();
    assert!(with_exif >= 18, "{with_exif} items with EXIF dates");
    // Writes nothing.
    assert_eq!(std::fs::read_dir(env.dir.path()).unwrap().count(), 0);
}

#[test]
fn each_broken_collection_reports_its_code_file_and_line() {
    let env = Env::new();
    let root = fixtures().join("collections/broken");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let expect = std::fs::read_to_string(case.with_extension("expect")).unwrap();
        // A fourth field and beyond are extra options (e.g. --decode).
        let extra: Vec<&str> = expect
            .lines()
            .next()
            .unwrap_or("")
            .split(' ')
            .skip(3)
            .collect();
        let mut args = vec!["check", "--json"];
        args.extend(&extra);
        args.push(case.to_str().unwrap());
        let r = env.qoima(&args);
        let v = r.json();
        let got = all_problems(&v);
        for line in expect.lines() {
            let mut f = line.split(' ');
            let (code, file, at) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            let at: Option<u64> = if at == "-" {
                None
            } else {
                Some(at.parse().unwrap())
            };
            if !got
                .iter()
                .any(|(c, fl, l, _)| c == code && fl == file && *l == at)
            {
                failures.push(format!("{name}: missing {code} {file} {at:?}; got {got:?}"));
            }
            let want_exit = if code.contains("-W") { 0 } else { 1 };
            if r.code() != want_exit {
                failures.push(format!(
                    "{name}: exit {} (want {want_exit}); got {got:?}",
                    r.code()
                ));
            }
        }
        // Nothing but the expected error: each case has one defect.
        let expected_codes: Vec<&str> = expect
            .lines()
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        for (c, fl, l, sev) in &got {
            if sev == "error" && !expected_codes.contains(&c.as_str()) {
                failures.push(format!("{name}: unexpected error {c} {fl} {l:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn allow_undescribed_and_strict() {
    let env = Env::new();
    let case = fixtures().join("collections/broken/META-010-undescribed-photo");
    let r = env.qoima(&[
        "check",
        "--json",
        "--allow-undescribed",
        case.to_str().unwrap(),
    ]);
    assert_eq!(r.code(), 0);
    let got = all_problems(&r.json());
    assert!(
        got.iter()
            .any(|(c, _, _, s)| c == "META-010" && s == "warning"),
        "{got:?}"
    );
    let case = fixtures().join("collections/broken/META-W001-unknown-column");
    let r = env.qoima(&["check", "--strict", case.to_str().unwrap()]);
    assert_eq!(r.code(), 1);
    assert!(
        r.stderr().contains("error[META-W001] metadata.csv:1"),
        "{}",
        r.stderr()
    );
    let r = env.qoima(&[
        "check",
        "--strict",
        "--allow",
        "META-W001",
        case.to_str().unwrap(),
    ]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
}

#[test]
fn explicit_sidecar_json_and_semicolons() {
    let env = Env::new();
    let good = fixtures().join("photos/good");
    std::fs::create_dir_all(env.path("c/photos")).unwrap();
    std::fs::copy(good.join("tiny.jpg"), env.path("c/photos/a.jpg")).unwrap();
    env.write(
        "records.csv",
        "\u{feff}identifier;file;title;date;rights;description\nq-1;photos/a.jpg;Площадь;2022-01-05;CC BY 4.0;\"a; b\nc\"\n",
    );
    let r = env.qoima(&["check", "--metadata", "records.csv", "c"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    env.write(
        "c/metadata.json",
        r#"{"items": [{"identifier": "q-1", "file": "photos/a.jpg", "title": "A", "date": "2022-01-05", "rights": "CC0"}]}"#,
    );
    let r = env.qoima(&["check", "--json", "c"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_eq!(r.json()["sidecar"], "metadata.json");
}
