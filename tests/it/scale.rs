//! Issue 13 (items 7 and 16): memory does not grow with the number of problems or with the
//! size of one line. Problems are capped per code and file, counted exactly, and the verdict
//! is that of the whole list; a huge manifest line or bag-info.txt gets its code in bounded
//! memory, measured on the child process itself (GNU time), so that an implementation that
//! holds the line or every problem fails here.

use std::fs;
use std::process::{Command, Stdio};

use serde_json::Value;

use super::util::*;

/// Runs qoima in `env` and returns its exit code, stdout, stderr and peak RSS in bytes.
///
/// The peak comes from GNU time, which forks qoima itself: a process started straight from
/// this test binary inherits the test binary's own peak at `exec` (Linux keeps the larger
/// high-water mark), which would measure the harness, not qoima.
fn measured(env: &Env, args: &[&str]) -> (i32, String, String, u64) {
    let out_path = env.path("measured.out");
    let err_path = env.path("measured.err");
    let rss_path = env.path("measured.rss");
    let status = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&rss_path)
        .arg(env!("CARGO_BIN_EXE_qoima"))
        .args(args)
        .current_dir(env.dir.path())
        .env("TZ", "UTC")
        .env_remove("QOIMA_FAILPOINT")
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).unwrap())
        .stderr(fs::File::create(&err_path).unwrap())
        .status()
        .expect("GNU time at /usr/bin/time (Debian package `time`)");
    let rss = fs::read_to_string(&rss_path).unwrap();
    // GNU time prints the peak in KiB, last line (after a note if the child was signalled).
    let kib: u64 = rss.lines().last().unwrap().trim().parse().unwrap();
    (
        status.code().unwrap_or(-1),
        fs::read_to_string(&out_path).unwrap(),
        fs::read_to_string(&err_path).unwrap(),
        kib * 1024,
    )
}

const MIB: u64 = 1024 * 1024;

/// The problems of the first bag: (code, file) pairs, and the summary objects.
fn split(v: &Value) -> (Vec<(String, String)>, Vec<Value>) {
    let list = v["bags"][0]["problems"].as_array().unwrap();
    let pairs = list
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_string(),
                p["file"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let summaries = list
        .iter()
        .filter(|p| p["omitted"].is_object())
        .cloned()
        .collect();
    (pairs, summaries)
}

#[test]
fn issue13_blank_manifest_lines_are_capped_counted_and_judged_as_a_whole() {
    let env = Env::new();
    let bag = env.sample_bag("bag");
    let blanks = 100_000;
    edit(&bag.join("manifest-sha256.txt"), |t| {
        t + &"\n".repeat(blanks)
    });
    refresh_tag_manifests(&bag);
    let target = bag.to_str().unwrap();

    let r = env.qoima(&["validate", "--json", "-v", target]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let v = r.json();
    let (pairs, summaries) = split(&v);
    let listed = pairs
        .iter()
        .filter(|(c, f)| c == "BAG-W015" && f == "manifest-sha256.txt")
        .count();
    assert_eq!(listed, 100);
    assert_eq!(pairs.len(), 101, "{pairs:?}");
    assert_eq!(summaries.len(), 1);
    let summary = &summaries[0];
    assert_eq!(summary["code"], "BAG-W050");
    assert_eq!(summary["file"], "manifest-sha256.txt");
    assert_eq!(summary["severity"], "warning");
    assert_eq!(summary["omitted"]["code"], "BAG-W015");
    assert_eq!(summary["omitted"]["count"], (blanks - 100) as u64);
    assert_eq!(v["bags"][0]["counts"]["warnings"], blanks as u64);
    assert!(
        r.stderr()
            .contains("and 99,900 more BAG-W015 in manifest-sha256.txt"),
        "{}",
        r.stderr()
    );

    // The cap changes what is listed, never the verdict, the counts or the exit code.
    let all = env.qoima(&["validate", "--json", "--max-problems", "0", target]);
    assert_eq!(all.code(), 0);
    let all_v = all.json();
    assert_eq!(split(&all_v).0.len(), blanks);
    assert_eq!(all_v["bags"][0]["counts"], v["bags"][0]["counts"]);
    for args in [
        &["--strict"][..],
        &["--strict", "--allow", "BAG-W015"][..],
        &["--strict", "--allow", "BAG-W050"][..],
    ] {
        let run = |cap: &str| {
            let mut a = vec!["validate", "--json", "--max-problems", cap];
            a.extend_from_slice(args);
            a.push(target);
            let r = env.qoima(&a);
            let v = r.json();
            (
                r.code(),
                v["bags"][0]["verdict"].clone(),
                v["bags"][0]["counts"].clone(),
            )
        };
        assert_eq!(run("100"), run("0"), "{args:?}");
    }
    let strict = env.qoima(&["validate", "--strict", target]);
    assert_eq!(strict.code(), 1);
    let allowed = env.qoima(&["validate", "--strict", "--allow", "BAG-W015", target]);
    assert_eq!(allowed.code(), 0, "{}", allowed.stderr());
}

#[test]
fn issue13_malformed_manifest_lines_are_capped_as_errors() {
    let env = Env::new();
    let bag = env.sample_bag("bag");
    let bad = 20_000;
    edit(&bag.join("manifest-sha256.txt"), |t| {
        t + &"not-a-checksum-line\n".repeat(bad)
    });
    refresh_tag_manifests(&bag);
    let r = env.qoima(&[
        "validate",
        "--json",
        "--max-problems",
        "7",
        bag.to_str().unwrap(),
    ]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    let v = r.json();
    assert_eq!(v["bags"][0]["verdict"], "invalid");
    let (pairs, summaries) = split(&v);
    assert_eq!(
        pairs
            .iter()
            .filter(|(c, f)| c == "BAG-030" && f == "manifest-sha256.txt")
            .count(),
        7
    );
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0]["severity"], "error");
    assert_eq!(summaries[0]["kind"], "invalid");
    assert_eq!(summaries[0]["omitted"]["code"], "BAG-030");
    assert_eq!(summaries[0]["omitted"]["count"], (bad - 7) as u64);
    assert_eq!(v["bags"][0]["counts"]["errors"], bad as u64);
}

/// A collection whose metadata.csv has `rows` records, each with a bad date and a file that
/// is not there.
fn bad_csv_collection(env: &Env, rows: usize) -> String {
    let mut csv = String::from("identifier,file,title,date,rights\n");
    for n in 0..rows {
        csv.push_str(&format!("q-{n},missing-{n}.jpg,Title {n},not a date,CC0\n"));
    }
    env.write("coll/metadata.csv", csv);
    env.path("coll").to_str().unwrap().to_string()
}

#[test]
fn issue13_csv_bad_rows_are_capped_and_counted() {
    let env = Env::new();
    let rows = 5_000;
    let coll = bad_csv_collection(&env, rows);
    let r = env.qoima(&["check", "--json", &coll]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    let v = r.json();
    assert_eq!(v["passed"], false);
    let mut listed = std::collections::HashMap::<String, usize>::new();
    for it in v["items"].as_array().unwrap() {
        for p in it["problems"].as_array().unwrap() {
            assert_eq!(p["file"], "metadata.csv");
            *listed
                .entry(p["code"].as_str().unwrap().into())
                .or_default() += 1;
        }
    }
    assert_eq!(listed.get("META-012"), Some(&100), "{listed:?}");
    assert_eq!(listed.get("META-009"), Some(&100), "{listed:?}");
    let summaries: Vec<&Value> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "BAG-W050")
        .collect();
    assert_eq!(summaries.len(), 2, "{}", v["problems"]);
    for s in &summaries {
        assert_eq!(s["file"], "metadata.csv");
        assert_eq!(s["severity"], "error");
        assert_eq!(s["omitted"]["count"], (rows - 100) as u64);
    }
    let mut codes: Vec<&str> = summaries
        .iter()
        .map(|s| s["omitted"]["code"].as_str().unwrap())
        .collect();
    codes.sort();
    assert_eq!(codes, ["META-009", "META-012"]);
    assert_eq!(v["counts"]["errors"], (2 * rows) as u64);

    let all = env.qoima(&["check", "--json", "--max-problems", "0", &coll]);
    assert_eq!(all.code(), 1);
    assert_eq!(all.json()["counts"], v["counts"]);
}

#[test]
fn issue13_a_512_mib_manifest_line_is_refused_in_bounded_memory() {
    let env = Env::new();
    let bag = env.sample_bag("bag");
    // A sparse file: 512 MiB of zero bytes without a line break, on no disk space.
    let manifest = fs::OpenOptions::new()
        .append(true)
        .open(bag.join("manifest-sha256.txt"))
        .unwrap();
    let len = manifest.metadata().unwrap().len();
    manifest.set_len(len + 512 * MIB).unwrap();
    drop(manifest);
    let (code, stdout, stderr, peak) =
        measured(&env, &["validate", "--json", bag.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let (pairs, _) = split(&v);
    assert!(
        pairs.contains(&("BAG-011".into(), "manifest-sha256.txt".into())),
        "{pairs:?}"
    );
    assert!(peak < 128 * MIB, "peak RSS {} MiB", peak / MIB);
}

#[test]
fn issue13_a_large_bag_info_is_refused_in_bounded_memory() {
    let env = Env::new();
    let bag = env.sample_bag("bag");
    // 32 MiB of well-formed short elements: kept whole, they would cost about 1 GB.
    let mut info = fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    info.push_str(&"N: v\n".repeat((32 * MIB / 5) as usize));
    fs::write(bag.join("bag-info.txt"), info).unwrap();
    refresh_tag_manifests(&bag);
    let (code, stdout, stderr, peak) =
        measured(&env, &["validate", "--json", bag.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let (pairs, _) = split(&v);
    assert!(
        pairs.contains(&("BAG-011".into(), "bag-info.txt".into())),
        "{pairs:?}"
    );
    assert!(peak < 128 * MIB, "peak RSS {} MiB", peak / MIB);
}

/// Issue 13 item 16: `check` of a large sidecar holds each record and its item in a few
/// hundred bytes (a million records took 2.2 GB: each record a map holding its own copy of
/// every column name, each item 450 bytes of photo facts it did not have). 100,000 records
/// naming absent photos took 233 MiB before, 56 MiB after (release builds).
#[test]
fn issue13_check_of_100000_records_stays_in_bounded_memory() {
    let env = Env::new();
    let rows = 100_000;
    let mut csv = String::from("identifier,file,title,date,rights,subject\n");
    for n in 0..rows {
        csv.push_str(&format!(
            "q-{n},photos/{n:07}.jpg,Photograph number {n},2022-01-05,CC BY 4.0,Almaty|Protest\n"
        ));
    }
    env.write("coll/metadata.csv", csv);
    let coll = env.path("coll");
    let (code, stdout, stderr, peak) = measured(&env, &["check", "--json", coll.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), rows);
    assert_eq!(items[rows - 1]["identifier"], format!("q-{}", rows - 1));
    assert_eq!(items[rows - 1]["line"], (rows + 1) as u64);
    let missing = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "BAG-W050" && p["omitted"]["code"] == "META-009")
        .expect("the absent photos are counted in one summary");
    assert_eq!(missing["file"], "metadata.csv");
    assert_eq!(missing["omitted"]["count"], (rows - 100) as u64);
    assert!(peak < 128 * MIB, "peak RSS {} MiB", peak / MIB);
}
