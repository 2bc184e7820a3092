//! Serialized bags: `bag/package/serialize --zip/--tar/--tar-gz` write reproducible archives,
//! `validate` reads them in place exactly as it reads a folder, and `validate`/`unpack` refuse
//! hostile archives (built here with Python's zipfile and tarfile) with a precise code —
//! `unpack` writing nothing at all.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::util::*;

/// `(code, file, line, field, severity)` of every problem of the first bag of a validate
/// report, sorted.
type Found = (String, String, i64, String, String);

fn found(v: &Value) -> Vec<Found> {
    let mut out: Vec<Found> = v["bags"][0]["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_string(),
                p["file"].as_str().unwrap_or("").to_string(),
                p["line"].as_i64().unwrap_or(0),
                p["field"].as_str().unwrap_or("").to_string(),
                p["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// `(code, file)` pairs of a validate report, sorted.
fn codes(v: &Value) -> Vec<(String, String)> {
    found(v).into_iter().map(|f| (f.0, f.1)).collect()
}

fn pair(code: &str, file: &str) -> (String, String) {
    (code.to_string(), file.to_string())
}

/// Runs `validate --json` and checks the exit code against the report's.
fn validate(env: &Env, args: &[&str], exit: i32) -> Value {
    let mut all = vec!["validate", "--json"];
    all.extend_from_slice(args);
    let run = env.qoima(&all);
    assert_eq!(
        run.code(),
        exit,
        "validate {args:?}\nstdout:\n{}\nstderr:\n{}",
        run.stdout(),
        run.stderr()
    );
    let v = run.json();
    assert_eq!(v["exit_code"], exit);
    v
}

/// The names in a folder (not recursive), sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Runs a Python snippet in the test folder (python3 is a test dependency, as are zip/tar).
fn python(env: &Env, script: &str) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .current_dir(env.dir.path())
        .output()
        .expect("python3 is needed for the hostile-archive tests");
    assert!(
        out.status.success(),
        "python failed:\n{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tool(env: &Env, program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .current_dir(env.dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A small valid bag folder `bag` (qoima-made) for the hostile archives to carry.
fn small_bag(env: &Env) {
    env.write("src/a.txt", "hello\n");
    env.write("src/sub/b.txt", "b\n");
    env.write("src/Алматы й.txt", "Республика\n");
    env.qoima(&["bag", "src", "-o", "bag"]).success();
}

const PY_PRELUDE: &str = r#"
import io, os, struct, sys, tarfile, warnings, zipfile
warnings.simplefilter("ignore")
files = []
for root, dirs, names in os.walk(BAG):
    for n in names:
        files.append(os.path.join(root, n))
files.sort()
def rel(p):
    return p[len(BAG) + 1:]
"#;

/// Writes `NAME` (a zip) holding the folder bag `bag` under `TOP/`, then runs `extra` with
/// `zf` open for more entries.
fn hostile_zip(env: &Env, name: &str, top: &str, extra: &str) -> PathBuf {
    let script = format!(
        "BAG = 'bag'\nNAME = {name:?}\nTOP = {top:?}\n{PY_PRELUDE}\n\
         zf = zipfile.ZipFile(NAME, 'w')\n\
         for p in files:\n    zf.write(p, TOP + '/' + rel(p))\n\
         {extra}\nzf.close()\n"
    );
    python(env, &script);
    env.path(name)
}

/// Writes `NAME` (a tar) holding the folder bag `bag` under `TOP/`, then runs `extra` with
/// `tf` open for more entries.
fn hostile_tar(env: &Env, name: &str, top: &str, extra: &str) -> PathBuf {
    let script = format!(
        "BAG = 'bag'\nNAME = {name:?}\nTOP = {top:?}\n{PY_PRELUDE}\n\
         tf = tarfile.open(NAME, 'w:gz' if NAME.endswith('.gz') else 'w', format=tarfile.GNU_FORMAT)\n\
         for p in files:\n    tf.add(p, TOP + '/' + rel(p))\n\
         {extra}\ntf.close()\n"
    );
    python(env, &script);
    env.path(name)
}

/// Asserts that `validate` finds exactly the archive problem `(code, file)` (with `others`
/// the bag problems that follow from it) and exits 1, and that `unpack` refuses with exit 1,
/// naming the same problem, and leaves nothing behind.
fn assert_refused(env: &Env, archive: &str, extra_args: &[&str], code: &str, file: &str) {
    let mut args = vec![archive];
    args.extend_from_slice(extra_args);
    let v = validate(env, &args, 1);
    assert_eq!(v["bags"][0]["verdict"], "invalid", "{v:#}");
    let got = codes(&v);
    assert!(
        got.contains(&pair(code, file)),
        "{archive}: expected {code} naming {file:?}, got {got:?}"
    );
    assert!(
        got.iter().all(|(c, _)| c.starts_with("ARC-")),
        "{archive}: the hostile entry leaked into the bag's checks: {got:?}"
    );
    unpack_refused(env, archive, extra_args, code, file);
}

/// `unpack ARCHIVE -o unpack-par/out` exits 1, names the problem and writes nothing at all.
fn unpack_refused(env: &Env, archive: &str, extra_args: &[&str], code: &str, file: &str) {
    let parent = env.path("unpack-par");
    let _ = fs::remove_dir_all(&parent);
    fs::create_dir(&parent).unwrap();
    let before = listing(env.dir.path());
    let mut args = vec!["unpack", "--json", archive, "-o", "unpack-par/out"];
    args.extend_from_slice(extra_args);
    let run = env.qoima(&args);
    assert_eq!(
        run.code(),
        1,
        "unpack {archive}\nstdout:\n{}\nstderr:\n{}",
        run.stdout(),
        run.stderr()
    );
    let v = run.json();
    assert_eq!(v["outcome"], "refused");
    assert_eq!(v["exit_code"], 1);
    let named: Vec<(String, String)> = v["problems"]
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
    assert!(
        named.contains(&pair(code, file)),
        "unpack {archive}: expected {code} naming {file:?}, got {named:?}"
    );
    assert!(run.stderr().contains(&format!("error[{code}]")));
    assert!(
        listing(&parent).is_empty(),
        "unpack {archive} left {:?} in the parent",
        listing(&parent)
    );
    assert_eq!(
        listing(env.dir.path()),
        before,
        "unpack {archive} wrote beside the archive"
    );
    assert!(
        !env.path("evil.txt").exists()
            && !env.dir.path().parent().unwrap().join("evil.txt").exists()
    );
    fs::remove_dir(&parent).unwrap();
}

fn zip_names(path: &Path) -> Vec<(String, zip::CompressionMethod, u64)> {
    let mut z = zip::ZipArchive::new(fs::File::open(path).unwrap()).unwrap();
    (0..z.len())
        .map(|i| {
            let f = z.by_index(i).unwrap();
            (f.name().unwrap().to_string(), f.compression(), f.size())
        })
        .collect()
}

fn tar_names(path: &Path) -> Vec<String> {
    let f = fs::File::open(path).unwrap();
    let r: Box<dyn std::io::Read> = if path.to_string_lossy().ends_with(".gz") {
        Box::new(flate2::read::GzDecoder::new(f))
    } else {
        Box::new(f)
    };
    let mut ar = tar::Archive::new(r);
    ar.entries()
        .unwrap()
        .map(|e| {
            String::from_utf8(e.unwrap().path_bytes().into_owned())
                .unwrap()
                .trim_end_matches('/')
                .to_string()
        })
        .collect()
}

/// Entry order: the top folder, bagit.txt, the other tag files, then data/ — each by path.
fn assert_archive_order(names: &[String], top: &str) {
    let prefix = format!("{top}/");
    let rels: Vec<&str> = names
        .iter()
        .map(|n| n.trim_end_matches('/'))
        .filter(|n| *n != top)
        .map(|n| {
            n.strip_prefix(&prefix)
                .unwrap_or_else(|| panic!("{n} is outside {top}/"))
        })
        .collect();
    let is_data = |r: &str| r == "data" || r.starts_with("data/");
    assert_eq!(rels[0], "bagit.txt", "{rels:?}");
    let first_data = rels.iter().position(|r| is_data(r)).expect("a payload");
    assert!(
        rels[first_data..].iter().all(|r| is_data(r)),
        "payload last: {rels:?}"
    );
    let tags = &rels[1..first_data];
    let mut sorted = tags.to_vec();
    sorted.sort();
    assert_eq!(sorted, tags, "tag files by path");
    let mut data = rels[first_data..].to_vec();
    data.sort();
    assert_eq!(data, &rels[first_data..], "payload by path");
}

// ---------------------------------------------------------------------------------------
// 1. Writing
// ---------------------------------------------------------------------------------------

#[test]
fn bag_zip_adds_the_extension_names_the_folder_after_the_file_and_orders_entries() {
    let env = Env::new();
    env.sample_source("src");
    env.qoima(&["bag", "src", "-o", "out/deposit-2022", "--zip"])
        .success();
    assert_eq!(listing(&env.path("out")), ["deposit-2022.zip"]);
    let zip = env.path("out/deposit-2022.zip");
    let entries = zip_names(&zip);
    let names: Vec<String> = entries.iter().map(|e| e.0.clone()).collect();
    assert_archive_order(&names, "deposit-2022");
    assert!(names.contains(&"deposit-2022/data/Алматы/площадь Республики й.txt".to_string()));
    assert!(names.contains(&"deposit-2022/data/50%off.txt".to_string()));
    // Stored by default (photos do not compress).
    for (n, method, _) in &entries {
        if !n.ends_with('/') {
            assert_eq!(*method, zip::CompressionMethod::Stored, "{n}");
        }
    }
    // The same names through the unzip CLI.
    let out = Command::new("unzip")
        .args(["-Z1", zip.to_str().unwrap()])
        .output()
        .expect("unzip");
    let listed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(listed.lines().collect::<Vec<_>>(), names);
    let v = validate(&env, &["out/deposit-2022.zip"], 0);
    assert_eq!(v["bags"][0]["verdict"], "valid");
    assert_eq!(v["bags"][0]["payload_files"], 7);
    assert!(found(&v).is_empty(), "{:?}", found(&v));
}

#[test]
fn tar_and_tar_gz_are_ordered_like_the_zip() {
    let env = Env::new();
    env.sample_source("src");
    env.qoima(&["bag", "src", "-o", "t", "--tar"]).success();
    env.qoima(&["bag", "src", "-o", "g", "--tar-gz"]).success();
    assert_archive_order(&tar_names(&env.path("t.tar")), "t");
    assert_archive_order(&tar_names(&env.path("g.tar.gz")), "g");
    for a in ["t.tar", "g.tar.gz"] {
        let v = validate(&env, &[a], 0);
        assert_eq!(v["bags"][0]["verdict"], "valid", "{a}");
        assert!(found(&v).is_empty(), "{a}: {:?}", found(&v));
    }
}

#[test]
fn archives_are_byte_identical_across_runs_with_the_same_source_date_epoch() {
    let env = Env::new();
    env.sample_source("src");
    for (flag, ext) in [("--zip", "zip"), ("--tar", "tar"), ("--tar-gz", "tar.gz")] {
        env.qoima(&["bag", "src", "-o", "r1/out", flag]).success();
        // Later mtimes on the source must not matter either.
        env.write("src/a.txt", "hello\n");
        env.qoima(&["bag", "src", "-o", "r2/out", flag]).success();
        let a = fs::read(env.path(&format!("r1/out.{ext}"))).unwrap();
        let b = fs::read(env.path(&format!("r2/out.{ext}"))).unwrap();
        assert!(a == b, "{ext}: two runs differ");
    }
}

#[test]
fn checksum_file_is_accepted_by_sha256sum_and_checksum_prints_it() {
    let env = Env::new();
    env.sample_source("src");
    env.qoima(&["bag", "src", "-o", "out", "--zip", "--checksum-file"])
        .success();
    let sum_file = fs::read_to_string(env.path("out.zip.sha256")).unwrap();
    let digest = sha256_hex(&fs::read(env.path("out.zip")).unwrap());
    assert_eq!(sum_file, format!("{digest}  out.zip\n"));
    let out = Command::new("sha256sum")
        .args(["-c", "out.zip.sha256"])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sha256sum -c: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    // --checksum prints `DIGEST  ARCHIVE` on stdout.
    let run = env.qoima(&["bag", "src", "-o", "out2", "--tar", "--checksum"]);
    run.success();
    let digest = sha256_hex(&fs::read(env.path("out2.tar")).unwrap());
    assert_eq!(run.stdout(), format!("{digest}  out2.tar\n"));
    assert!(!env.path("out2.tar.sha256").exists());
}

#[test]
fn an_existing_archive_is_refused_and_left_untouched() {
    let env = Env::new();
    env.sample_source("src");
    env.write("out.zip", "precious");
    let before = listing(env.dir.path());
    for out in ["out", "out.zip"] {
        let run = env.qoima(&["bag", "src", "-o", out, "--zip"]);
        assert_eq!(run.code(), 2, "{}", run.stderr());
        assert!(run.stderr().contains("already exists"), "{}", run.stderr());
        assert_eq!(fs::read(env.path("out.zip")).unwrap(), b"precious");
        assert_eq!(
            listing(env.dir.path()),
            before,
            "stray files after refusing"
        );
    }
    // serialize too.
    env.qoima(&["bag", "src", "-o", "bag"]).success();
    env.write("bag.tar", "precious");
    let run = env.qoima(&["serialize", "bag", "--tar"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert_eq!(fs::read(env.path("bag.tar")).unwrap(), b"precious");
}

#[test]
fn compress_deflates_entries_that_still_validate() {
    let env = Env::new();
    env.sample_source("src");
    env.write("src/big.txt", "qoima ".repeat(50_000));
    env.qoima(&["bag", "src", "-o", "c", "--zip", "--compress"])
        .success();
    env.qoima(&["bag", "src", "-o", "s", "--zip"]).success();
    let entries = zip_names(&env.path("c.zip"));
    let deflated = entries
        .iter()
        .filter(|(n, m, _)| !n.ends_with('/') && *m == zip::CompressionMethod::Deflated)
        .count();
    let files = entries.iter().filter(|(n, _, _)| !n.ends_with('/')).count();
    assert_eq!(deflated, files, "{entries:?}");
    assert!(
        fs::metadata(env.path("c.zip")).unwrap().len() * 4
            < fs::metadata(env.path("s.zip")).unwrap().len(),
        "--compress did not shrink a 300 KB text"
    );
    let v = validate(&env, &["c.zip"], 0);
    assert_eq!(v["bags"][0]["verdict"], "valid");
    // --compress applies to zip only.
    let run = env.qoima(&["bag", "src", "-o", "t", "--tar", "--compress"]);
    assert_eq!(run.code(), 2);
    assert!(!env.path("t.tar").exists() && !env.path("t").exists());
}

#[test]
fn serialize_writes_a_folder_bag_as_a_tar_beside_it() {
    let env = Env::new();
    env.sample_bag("bag");
    env.qoima(&["serialize", "bag", "--tar"]).success();
    assert!(env.path("bag").is_dir(), "the folder bag stays");
    let names = tar_names(&env.path("bag.tar"));
    assert_archive_order(&names, "bag");
    let v = validate(&env, &["bag.tar"], 0);
    assert_eq!(v["bags"][0]["verdict"], "valid");
    // -o names the file; the folder inside follows it.
    env.qoima(&["serialize", "bag", "--zip", "-o", "elsewhere/renamed"])
        .success();
    let names: Vec<String> = zip_names(&env.path("elsewhere/renamed.zip"))
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_archive_order(&names, "renamed");
    validate(&env, &["elsewhere/renamed.zip"], 0);
    // A folder that is no bag is refused.
    env.write("plain/x.txt", "x");
    let run = env.qoima(&["serialize", "plain", "--zip"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(!env.path("plain.zip").exists());
}

#[test]
fn package_zip_of_the_sample_collection_validates() {
    let env = Env::new();
    let coll = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/collections/qantar-2022");
    env.qoima(&["package", coll.to_str().unwrap(), "-o", "qantar", "--zip"])
        .success();
    assert!(env.path("qantar.zip").is_file());
    assert!(
        !env.path("qantar").exists(),
        "no folder left beside the zip"
    );
    let names: Vec<String> = zip_names(&env.path("qantar.zip"))
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_archive_order(&names, "qantar");
    assert!(names.iter().any(|n| n == "qantar/mets.xml"), "{names:?}");
    let v = validate(&env, &["qantar.zip"], 0);
    assert_eq!(v["bags"][0]["verdict"], "valid");
    assert!(found(&v).iter().all(|f| f.4 != "error"), "{:?}", found(&v));
}

// ---------------------------------------------------------------------------------------
// 2. Validating in place
// ---------------------------------------------------------------------------------------

#[test]
fn archives_made_by_the_zip_and_tar_tools_validate() {
    let env = Env::new();
    env.sample_bag("ext");
    tool(&env, "zip", &["-qr", "ext.zip", "ext"]);
    tool(&env, "tar", &["cf", "ext.tar", "ext"]);
    tool(&env, "tar", &["czf", "ext.tar.gz", "ext"]);
    // GNU tar with ./-prefixed names from inside the folder's parent.
    tool(
        &env,
        "tar",
        &["cf", "dot.tar", "--transform", "s,^ext,./dot,", "ext"],
    );
    for a in ["ext.zip", "ext.tar", "ext.tar.gz", "dot.tar"] {
        let v = validate(&env, &[a], 0);
        assert_eq!(v["bags"][0]["verdict"], "valid", "{a}: {v:#}");
        assert_eq!(v["bags"][0]["payload_files"], 7, "{a}");
        assert!(found(&v).is_empty(), "{a}: {:?}", found(&v));
    }
}

/// A folder bag damaged before archiving (so the archive's own CRCs are right) gives
/// exactly the folder's problems from each of the three serializations.
fn assert_same_as_folder(env: &Env, bag: &str) -> Vec<Found> {
    let folder = found(&validate(env, &[bag], 1));
    for (flag, ext) in [("--zip", "zip"), ("--tar", "tar"), ("--tar-gz", "tar.gz")] {
        env.qoima(&["serialize", bag, flag]).success();
        let a = format!("{bag}.{ext}");
        let got = found(&validate(env, &[&a], 1));
        assert_eq!(got, folder, "{a} differs from the folder {bag}");
    }
    folder
}

#[test]
fn a_corrupt_payload_byte_gives_bag_036_from_folder_and_archives_alike() {
    let env = Env::new();
    env.sample_bag("eq");
    env.write("eq/data/a.txt", "jello\n");
    let got = assert_same_as_folder(&env, "eq");
    let e = |alg: &str| {
        (
            "BAG-036".to_string(),
            format!("manifest-{alg}.txt"),
            0,
            "data/a.txt".to_string(),
            "error".to_string(),
        )
    };
    let got: Vec<Found> = got
        .into_iter()
        .map(|mut f| {
            f.2 = 0;
            f
        })
        .collect();
    assert_eq!(got, [e("sha256"), e("sha512")]);
}

#[test]
fn a_missing_payload_file_gives_bag_034_from_folder_and_archives_alike() {
    let env = Env::new();
    env.sample_bag("gone");
    fs::remove_file(env.path("gone/data/sub/b.txt")).unwrap();
    let got = assert_same_as_folder(&env, "gone");
    let c: BTreeSet<(String, String)> = got.iter().map(|f| (f.0.clone(), f.1.clone())).collect();
    assert!(
        c.contains(&pair("BAG-034", "manifest-sha256.txt")),
        "{got:?}"
    );
    assert!(
        c.contains(&pair("BAG-034", "manifest-sha512.txt")),
        "{got:?}"
    );
    assert!(c.contains(&pair("BAG-023", "bag-info.txt")), "{got:?}");
    assert!(
        c.iter()
            .all(|(code, _)| code == "BAG-034" || code == "BAG-023"),
        "{got:?}"
    );
    let v = validate(&env, &["gone.zip"], 1);
    assert_eq!(v["bags"][0]["verdict"], "incomplete");
    let msgs = v["bags"][0]["problems"].to_string();
    assert!(msgs.contains("data/sub/b.txt"), "{msgs}");
}

#[test]
fn an_extra_payload_file_gives_bag_035_from_folder_and_archives_alike() {
    let env = Env::new();
    env.sample_bag("more");
    env.write("more/data/extra.txt", "not listed\n");
    let got = assert_same_as_folder(&env, "more");
    let c: Vec<(String, String)> = got.iter().map(|f| (f.0.clone(), f.1.clone())).collect();
    assert!(c.contains(&pair("BAG-035", "data/extra.txt")), "{got:?}");
    assert!(
        c.iter()
            .all(|(code, _)| code == "BAG-035" || code == "BAG-023"),
        "{got:?}"
    );
}

#[test]
fn max_size_refuses_a_normal_zip_with_arc_009() {
    let env = Env::new();
    env.sample_source("src");
    env.qoima(&["bag", "src", "-o", "out", "--zip"]).success();
    let v = validate(&env, &["out.zip", "--max-size", "1K"], 1);
    assert!(codes(&v).contains(&pair("ARC-009", "")), "{:?}", codes(&v));
    assert_eq!(v["bags"][0]["verdict"], "invalid");
    // Within the limit, it passes.
    validate(&env, &["out.zip", "--max-size", "1M"], 0);
    // unpack refuses the same way and writes nothing.
    unpack_refused(&env, "out.zip", &["--max-size", "1K"], "ARC-009", "");
    // A malformed limit is a usage error.
    let run = env.qoima(&["validate", "out.zip", "--max-size", "12Q"]);
    assert_eq!(run.code(), 2);
}

// ---------------------------------------------------------------------------------------
// 3. Hostile archives
// ---------------------------------------------------------------------------------------

#[test]
fn zip_slip_is_refused_with_arc_002() {
    let env = Env::new();
    small_bag(&env);
    hostile_zip(
        &env,
        "slip.zip",
        "slip",
        "zf.writestr('slip/../../evil.txt', 'owned')",
    );
    assert_refused(&env, "slip.zip", &[], "ARC-002", "slip/../../evil.txt");
    hostile_zip(
        &env,
        "abs.zip",
        "abs",
        "zf.writestr(zipfile.ZipInfo('/tmp/qoima-it-evil'), 'owned')",
    );
    assert_refused(&env, "abs.zip", &[], "ARC-002", "/tmp/qoima-it-evil");
    assert!(!Path::new("/tmp/qoima-it-evil").exists());
}

#[test]
fn tar_slip_is_refused_with_arc_002() {
    let env = Env::new();
    small_bag(&env);
    hostile_tar(
        &env,
        "tslip.tar",
        "tslip",
        "d = b'owned'\nti = tarfile.TarInfo('tslip/data/../../../evil.txt')\nti.size = len(d)\ntf.addfile(ti, io.BytesIO(d))",
    );
    assert_refused(
        &env,
        "tslip.tar",
        &[],
        "ARC-002",
        "tslip/data/../../../evil.txt",
    );
}

#[test]
fn names_with_dot_empty_backslash_or_pax_dotdot_components_are_refused_with_arc_002() {
    let env = Env::new();
    small_bag(&env);
    hostile_zip(
        &env,
        "dotc.zip",
        "dotc",
        "zf.writestr('dotc/./data/a.txt', 'swapped')",
    );
    assert_refused(&env, "dotc.zip", &[], "ARC-002", "dotc/./data/a.txt");
    hostile_zip(
        &env,
        "dsl.zip",
        "dsl",
        "zf.writestr('dsl/data//a.txt', 'swapped')",
    );
    assert_refused(&env, "dsl.zip", &[], "ARC-002", "dsl/data//a.txt");
    hostile_zip(
        &env,
        "bsl.zip",
        "bsl",
        r"zf.writestr('bsl/data/..\\..\\..\\evil.txt', 'x')",
    );
    assert_refused(
        &env,
        "bsl.zip",
        &[],
        "ARC-002",
        r"bsl/data/..\..\..\evil.txt",
    );
    // A name over 100 bytes travels in a PAX header, which the reader must honour.
    let long = format!("pax/data/{}/../../../evil.txt", "é".repeat(60));
    let script = format!(
        "BAG = 'bag'\n{PY_PRELUDE}\n\
         tf = tarfile.open('pax.tar', 'w', format=tarfile.PAX_FORMAT)\n\
         for p in files:\n    tf.add(p, 'pax/' + rel(p))\n\
         ti = tarfile.TarInfo({long:?})\nti.size = 1\ntf.addfile(ti, io.BytesIO(b'x'))\ntf.close()\n"
    );
    python(&env, &script);
    assert_refused(&env, "pax.tar", &[], "ARC-002", &long);
}

#[test]
fn a_zip_symlink_entry_is_refused_with_arc_003() {
    let env = Env::new();
    small_bag(&env);
    hostile_zip(
        &env,
        "zsym.zip",
        "zsym",
        "zi = zipfile.ZipInfo('zsym/data/link')\nzi.create_system = 3\nzi.external_attr = (0o120777 << 16)\nzf.writestr(zi, '/etc/passwd')",
    );
    assert_refused(&env, "zsym.zip", &[], "ARC-003", "zsym/data/link");
}

#[test]
fn tar_symlinks_and_hardlinks_are_refused_with_arc_003() {
    let env = Env::new();
    small_bag(&env);
    hostile_tar(
        &env,
        "tsym.tar",
        "tsym",
        "ti = tarfile.TarInfo('tsym/data/link')\nti.type = tarfile.SYMTYPE\nti.linkname = '/etc/passwd'\ntf.addfile(ti)",
    );
    assert_refused(&env, "tsym.tar", &[], "ARC-003", "tsym/data/link");
    hostile_tar(
        &env,
        "thard.tar.gz",
        "thard",
        "ti = tarfile.TarInfo('thard/data/hard')\nti.type = tarfile.LNKTYPE\nti.linkname = '/etc/passwd'\ntf.addfile(ti)",
    );
    assert_refused(&env, "thard.tar.gz", &[], "ARC-003", "thard/data/hard");
}

#[test]
fn duplicate_tar_entries_are_refused_with_arc_004() {
    let env = Env::new();
    small_bag(&env);
    hostile_tar(
        &env,
        "tdup.tar",
        "tdup",
        "d = b'swapped\\n'\nti = tarfile.TarInfo('tdup/data/a.txt')\nti.size = len(d)\ntf.addfile(ti, io.BytesIO(d))",
    );
    // Neither copy is read, so the manifests' a.txt is missing too.
    assert_refused_leaving(
        &env,
        "tdup.tar",
        "ARC-004",
        "tdup/data/a.txt",
        &LEFT_OUT_A_TXT,
    );
}

/// What follows in the bag's checks when `data/a.txt` is left out of a small bag.
const LEFT_OUT_A_TXT: [(&str, &str); 3] = [
    ("BAG-023", "bag-info.txt"),
    ("BAG-034", "manifest-sha256.txt"),
    ("BAG-034", "manifest-sha512.txt"),
];

/// `validate` finds exactly the archive problem plus `follow` (the bag's problems that come
/// of leaving the entry out) and exits 1; `unpack` refuses, naming it, and writes nothing.
fn assert_refused_leaving(
    env: &Env,
    archive: &str,
    code: &str,
    file: &str,
    follow: &[(&str, &str)],
) {
    let v = validate(env, &[archive], 1);
    assert_eq!(v["bags"][0]["verdict"], "invalid", "{v:#}");
    let mut got = codes(&v);
    got.sort();
    let mut want = vec![pair(code, file)];
    want.extend(follow.iter().map(|(c, f)| pair(c, f)));
    want.sort();
    assert_eq!(got, want, "{archive}");
    unpack_refused(env, archive, &[], code, file);
}

#[test]
fn duplicate_zip_entries_are_refused_with_arc_004() {
    let env = Env::new();
    small_bag(&env);
    hostile_zip(
        &env,
        "zdup.zip",
        "zdup",
        "zf.writestr('zdup/data/a.txt', 'swapped\\n')",
    );
    // The zip crate keeps one entry per name; qoima finds the duplicate in the central
    // directory, names it and reads neither copy, as for a tar.
    assert_refused_leaving(
        &env,
        "zdup.zip",
        "ARC-004",
        "zdup/data/a.txt",
        &LEFT_OUT_A_TXT,
    );
}

/// A tar holding both a file `data/sub` and a file `data/sub/b.txt` (so `data/sub` is a file
/// and a folder at once): two entries sharing a name, ARC-004, refused with exit 1.
#[test]
fn an_entry_that_is_both_a_file_and_a_folder_is_refused_with_arc_004() {
    let env = Env::new();
    small_bag(&env);
    hostile_tar(
        &env,
        "dfile.tar",
        "dfile",
        "ti = tarfile.TarInfo('dfile/data/sub')\nti.size = 1\ntf.addfile(ti, io.BytesIO(b'x'))",
    );
    let v = validate(&env, &["dfile.tar"], 1);
    let got = codes(&v);
    assert!(
        got.iter().any(|(c, _)| c == "ARC-004"),
        "data/sub is a file and a folder, yet: {got:?}"
    );
    let run = env.qoima(&["unpack", "dfile.tar", "-o", "out"]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(run.stderr().contains("error[ARC-004]"), "{}", run.stderr());
    assert!(!env.path("out").exists());
}

#[test]
fn two_top_level_folders_are_refused_with_arc_005() {
    let env = Env::new();
    small_bag(&env);
    hostile_zip(&env, "two.zip", "two", "zf.writestr('other/x.txt', 'x')");
    assert_refused(&env, "two.zip", &[], "ARC-005", "other/x.txt");
    hostile_tar(
        &env,
        "two2.tar",
        "two2",
        "d = b'x'\nti = tarfile.TarInfo('loose.txt')\nti.size = 1\ntf.addfile(ti, io.BytesIO(d))",
    );
    assert_refused(&env, "two2.tar", &[], "ARC-005", "loose.txt");
}

#[test]
fn tar_fifo_and_device_entries_are_refused_with_arc_006() {
    let env = Env::new();
    small_bag(&env);
    hostile_tar(
        &env,
        "tfifo.tar",
        "tfifo",
        "ti = tarfile.TarInfo('tfifo/data/fifo')\nti.type = tarfile.FIFOTYPE\ntf.addfile(ti)",
    );
    assert_refused(&env, "tfifo.tar", &[], "ARC-006", "tfifo/data/fifo");
    hostile_tar(
        &env,
        "tchr.tar",
        "tchr",
        "ti = tarfile.TarInfo('tchr/data/null')\nti.type = tarfile.CHRTYPE\nti.devmajor = 1\nti.devminor = 3\ntf.addfile(ti)",
    );
    assert_refused(&env, "tchr.tar", &[], "ARC-006", "tchr/data/null");
}

/// Python's zipfile clears `flag_bits` when it writes, so the encryption bit is set in the
/// local header and in the central directory after writing.
#[test]
fn an_encrypted_zip_entry_is_refused_with_arc_007() {
    let env = Env::new();
    small_bag(&env);
    hostile_zip(
        &env,
        "zenc.zip",
        "zenc",
        "zf.writestr('zenc/data/secret.txt', 'secret')",
    );
    python(
        &env,
        r#"
import struct, zipfile
path, target = 'zenc.zip', 'zenc/data/secret.txt'
off = zipfile.ZipFile(path).getinfo(target).header_offset
data = bytearray(open(path, 'rb').read())
data[off + 6] |= 1
i = data.find(b'PK\x01\x02')
hit = 0
while i != -1:
    n = struct.unpack_from('<H', data, i + 28)[0]
    if bytes(data[i + 46:i + 46 + n]) == target.encode():
        data[i + 8] |= 1
        hit += 1
    i = data.find(b'PK\x01\x02', i + 4)
assert hit == 1
open(path, 'wb').write(data)
assert zipfile.ZipFile(path).getinfo(target).flag_bits & 1
"#,
    );
    assert_refused(&env, "zenc.zip", &[], "ARC-007", "zenc/data/secret.txt");
}

#[test]
fn a_zip_bomb_is_refused_with_arc_009() {
    let env = Env::new();
    small_bag(&env);
    // 2 MiB of zeros deflate about 1000 times: over --max-ratio 10.
    hostile_zip(
        &env,
        "bomb.zip",
        "bomb",
        "zf.writestr('bomb/data/zeros', b'\\0' * (2 << 20), compress_type=zipfile.ZIP_DEFLATED)",
    );
    assert_refused(
        &env,
        "bomb.zip",
        &["--max-ratio", "10"],
        "ARC-009",
        "bomb/data/zeros",
    );
    // 64 MiB of zeros deflate over 1000 times: over the default limit.
    hostile_zip(
        &env,
        "big.zip",
        "big",
        "zf.writestr('big/data/zeros', b'\\0' * (64 << 20), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)",
    );
    assert!(fs::metadata(env.path("big.zip")).unwrap().len() < 100_000);
    assert_refused(&env, "big.zip", &[], "ARC-009", "big/data/zeros");
    // Entries of 1 MiB or less are exempt: a small text may compress very well.
    hostile_zip(
        &env,
        "small.zip",
        "small",
        "zf.writestr('small/data/zeros', b'\\0' * (1 << 20), compress_type=zipfile.ZIP_DEFLATED)",
    );
    let v = validate(&env, &["small.zip", "--max-ratio", "10"], 1);
    assert_eq!(
        codes(&v),
        [
            pair("BAG-023", "bag-info.txt"),
            pair("BAG-035", "data/zeros")
        ]
    );
}

/// A tar cut inside its last file's data: the header declares more than the file holds.
/// qoima reports ARC-010 (twice: once when indexing, naming the archive entry, once when
/// hashing, naming the bag file) and unpack refuses.
#[test]
fn a_tar_cut_in_its_last_file_is_refused_with_arc_010() {
    let env = Env::new();
    env.sample_bag("cut");
    env.qoima(&["serialize", "cut", "--tar"]).success();
    python(
        &env,
        r#"
import tarfile
p = 'cut.tar'
last = [m for m in tarfile.open(p).getmembers() if m.isfile()][-1]
assert last.name == 'cut/data/Алматы/площадь Республики й.txt', last.name
data = open(p, 'rb').read()
open(p, 'wb').write(data[:last.offset_data + 5])
"#,
    );
    let v = validate(&env, &["cut.tar"], 1);
    assert_eq!(v["bags"][0]["verdict"], "invalid");
    let got = codes(&v);
    // Reported once, by its path in the bag, whether found while listing or while hashing.
    assert_eq!(
        got,
        [pair("ARC-010", "data/Алматы/площадь Республики й.txt")]
    );
    unpack_refused(
        &env,
        "cut.tar",
        &[],
        "ARC-010",
        "data/Алматы/площадь Республики й.txt",
    );
}

/// A tar cut inside a header cannot be read at all: ARC-001, "could not be checked", exit 2.
#[test]
fn a_tar_cut_in_a_header_is_unreadable_arc_001() {
    let env = Env::new();
    env.sample_bag("cuth");
    env.qoima(&["serialize", "cuth", "--tar"]).success();
    python(
        &env,
        r#"
import tarfile
p = 'cuth.tar'
last = [m for m in tarfile.open(p).getmembers() if m.isfile()][-1]
data = open(p, 'rb').read()
open(p, 'wb').write(data[:last.offset + 100])
"#,
    );
    let v = validate(&env, &["cuth.tar"], 2);
    assert_eq!(v["bags"][0]["verdict"], "unreadable");
    assert_eq!(codes(&v), [pair("ARC-001", "")]);
    let run = env.qoima(&["unpack", "cuth.tar", "-o", "cuth-out"]);
    assert_ne!(run.code(), 0);
    assert!(!env.path("cuth-out").exists());
}

#[test]
fn a_truncated_tar_gz_is_unreadable_arc_001() {
    let env = Env::new();
    env.sample_source("src");
    env.write(
        "src/big.bin",
        (0..200_000u32)
            .flat_map(|i| i.to_le_bytes())
            .collect::<Vec<u8>>(),
    );
    env.qoima(&["bag", "src", "-o", "tgz", "--tar-gz"])
        .success();
    let data = fs::read(env.path("tgz.tar.gz")).unwrap();
    fs::write(env.path("tgz.tar.gz"), &data[..data.len() * 2 / 3]).unwrap();
    // The gzip stream ends early: the archive cannot be listed, so nothing is checked.
    let v = validate(&env, &["tgz.tar.gz"], 2);
    assert_eq!(v["bags"][0]["verdict"], "unreadable");
    assert_eq!(codes(&v), [pair("ARC-001", "")]);
    let msg = v["bags"][0]["problems"][0]["message"].as_str().unwrap();
    assert!(msg.contains("deflate"), "{msg}");
    // unpack cannot read it either (an I/O error, exit 2) and leaves nothing.
    fs::create_dir(env.path("par")).unwrap();
    let run = env.qoima(&["unpack", "tgz.tar.gz", "-o", "par/out"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        listing(&env.path("par")).is_empty(),
        "{:?}",
        listing(&env.path("par"))
    );
}

/// Flips a bit of crc/data/a.txt's data in crc.zip (stored), leaving its CRC as it was.
const FLIP_A_TXT: &str = r#"
import struct, zipfile
p = 'crc.zip'
info = zipfile.ZipFile(p).getinfo('crc/data/a.txt')
assert info.compress_type == zipfile.ZIP_STORED
data = bytearray(open(p, 'rb').read())
n, e = struct.unpack_from('<HH', data, info.header_offset + 26)
off = info.header_offset + 30 + n + e
assert data[off:off + 6] == b'hello\n'
data[off] ^= 0x20
open(p, 'wb').write(data)
"#;

#[test]
fn a_flipped_byte_in_a_stored_zip_entry_is_a_crc_mismatch_arc_010() {
    let env = Env::new();
    small_bag(&env);
    env.qoima(&["serialize", "bag", "--zip", "-o", "crc"])
        .success();
    python(&env, FLIP_A_TXT);
    let v = validate(&env, &["crc.zip"], 1);
    assert_eq!(v["bags"][0]["verdict"], "invalid");
    assert_eq!(codes(&v), [pair("ARC-010", "data/a.txt")]);
    let msg = v["bags"][0]["problems"][0]["message"].as_str().unwrap();
    assert!(msg.contains("CRC-32"), "{msg}");
    // unpack finds it while writing: exit 1, and what was written is removed.
    fs::create_dir(env.path("par")).unwrap();
    let run = env.qoima(&["unpack", "--json", "crc.zip", "-o", "par/out"]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert_eq!(run.json()["outcome"], "refused");
    assert!(run.stderr().contains("CRC-32"), "{}", run.stderr());
    assert!(
        listing(&env.path("par")).is_empty(),
        "{:?}",
        listing(&env.path("par"))
    );
}

/// `unpack` of a zip whose stored entry fails its CRC names the entry with ARC-010, as
/// `validate` does, and leaves nothing behind.
#[test]
fn unpack_of_a_damaged_zip_entry_names_the_entry_with_arc_010() {
    let env = Env::new();
    small_bag(&env);
    env.qoima(&["serialize", "bag", "--zip", "-o", "crc"])
        .success();
    python(&env, FLIP_A_TXT);
    let run = env.qoima(&["unpack", "--json", "crc.zip", "-o", "out"]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(!env.path("out").exists());
    assert!(
        run.stderr().contains("data/a.txt"),
        "the damaged entry is not named: {}",
        run.stderr()
    );
    let v = run.json();
    assert_eq!(v["problems"][0]["code"], "ARC-010", "{v:#}");
}

#[test]
fn a_folder_named_unlike_the_archive_is_a_warning_arc_w001() {
    let env = Env::new();
    small_bag(&env);
    env.qoima(&["serialize", "bag", "--zip", "-o", "named"])
        .success();
    fs::rename(env.path("named.zip"), env.path("renamed.zip")).unwrap();
    let v = validate(&env, &["renamed.zip"], 0);
    assert_eq!(v["bags"][0]["verdict"], "valid");
    assert_eq!(
        found(&v),
        [("ARC-W001".into(), "".into(), 0, "".into(), "warning".into())]
    );
    // unpack warns and unpacks under the -o name.
    let run = env.qoima(&["unpack", "--json", "renamed.zip", "-o", "out"]);
    run.success();
    let u = run.json();
    assert_eq!(u["outcome"], "unpacked");
    assert_eq!(u["problems"][0]["code"], "ARC-W001");
    assert!(env.path("out/bagit.txt").is_file());
    validate(&env, &["out"], 0);
    // --strict makes the warning count.
    let run = env.qoima(&["validate", "--strict", "renamed.zip"]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
}

/// An unreadable "bag" is "could not be checked": ARC-001, exit 2.
#[test]
fn a_file_that_is_not_an_archive_is_arc_001_exit_2() {
    let env = Env::new();
    env.write("notes.txt", "just some notes\n".repeat(100));
    let v = validate(&env, &["notes.txt"], 2);
    assert_eq!(v["bags"][0]["verdict"], "unreadable");
    assert_eq!(codes(&v), [pair("ARC-001", "")]);
    let run = env.qoima(&["validate", "notes.txt"]);
    assert_eq!(run.code(), 2);
    assert!(run.stderr().contains("error[ARC-001]"), "{}", run.stderr());
    // A zip name does not make a zip.
    env.write("fake.zip", "PK but not really");
    let v = validate(&env, &["fake.zip"], 2);
    assert_eq!(codes(&v), [pair("ARC-001", "")]);
    // unpack cannot read it either: ARC-001, exit 2 as for validate, and nothing written.
    let run = env.qoima(&["unpack", "notes.txt", "-o", "nn"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(run.stderr().contains("error[ARC-001]"), "{}", run.stderr());
    assert!(!env.path("nn").exists());
}

#[test]
fn unpack_refuses_an_existing_destination() {
    let env = Env::new();
    small_bag(&env);
    env.qoima(&["serialize", "bag", "--zip"]).success();
    fs::create_dir(env.path("there")).unwrap();
    env.write("there/keep.txt", "keep");
    let run = env.qoima(&["unpack", "bag.zip", "-o", "there"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert_eq!(listing(&env.path("there")), ["keep.txt"]);
}

// ---------------------------------------------------------------------------------------
// 4. Interoperability: bagit-python validates what qoima serialized and unpacked
// ---------------------------------------------------------------------------------------

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

#[test]
fn bagit_python_validates_bags_unpacked_from_qoima_zip_and_tar_gz() {
    let Some(bagit) = bagit_py() else { return };
    let env = Env::new();
    env.sample_source("src");
    // bagit-python misreads RFC 8493 `%25` (see interop.rs).
    fs::remove_file(env.path("src/50%off.txt")).unwrap();
    fs::remove_file(env.path("src/file%0A1.txt")).unwrap();
    env.write("src/deep/x.bin", vec![7u8; 300_000]);
    for (flag, ext) in [("--zip", "zip"), ("--tar-gz", "tar.gz"), ("--tar", "tar")] {
        let name = format!("b-{}", ext.replace('.', "-"));
        let mut args = vec!["bag", "src", "-o", name.as_str(), flag];
        if ext == "zip" {
            args.push("--compress");
        }
        env.qoima(&args).success();
        let archive = format!("{name}.{ext}");
        let out = format!("{name}-unpacked");
        env.qoima(&["unpack", &archive, "-o", &out]).success();
        let o = Command::new(&bagit)
            .args(["--validate", env.path(&out).to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "bagit.py rejected {out}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        // The unpacked payload is the source, byte for byte.
        assert_eq!(
            fs::read(env.path(&format!("{out}/data/Алматы/площадь Республики й.txt"))).unwrap(),
            "Республика\n".as_bytes()
        );
        assert_eq!(
            fs::read(env.path(&format!("{out}/data/deep/x.bin"))).unwrap(),
            vec![7u8; 300_000]
        );
        assert_eq!(
            fs::read(env.path(&format!("{out}/data/empty"))).unwrap(),
            b""
        );
    }
}

/// More than 65,535 entries need zip64's end records; the zip tool and the zip crate must
/// both read every entry back.
#[test]
fn a_zip_of_more_than_65535_entries_is_zip64_and_reads_back_whole() {
    let env = Env::new();
    env.write(
        "many/bagit.txt",
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
    );
    for d in 0..66 {
        let dir = env.path(&format!("many/data/{d:02}"));
        fs::create_dir_all(&dir).unwrap();
        for f in 0..1000 {
            fs::write(dir.join(format!("{f:03}")), b"").unwrap();
        }
    }
    env.qoima(&["serialize", "many", "--zip"]).success();
    let z = zip::ZipArchive::new(fs::File::open(env.path("many.zip")).unwrap()).unwrap();
    // 66,000 files, 66 folders, data/, the top folder and bagit.txt.
    assert_eq!(z.len(), 66_000 + 66 + 3);
    let out = std::process::Command::new("unzip")
        .args(["-l", "many.zip"])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.trim_end().ends_with("66069 files"),
        "{}",
        listing.lines().last().unwrap_or("")
    );
}

/// A tar.gz holding `bomb/bagit.txt` and `bomb/data/zeros` of `size` zero bytes, streamed
/// through gzip so that nothing of that size is ever held or written.
fn zeros_tar_gz(env: &Env, name: &str, size: u64) -> PathBuf {
    let path = env.path(name);
    let gz = flate2::write::GzEncoder::new(
        fs::File::create(&path).unwrap(),
        flate2::Compression::best(),
    );
    let mut tar = tar::Builder::new(gz);
    let mut add = |name: &str, size: u64, data: &mut dyn std::io::Read| {
        let mut h = tar::Header::new_gnu();
        h.set_size(size);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, name, data).unwrap();
    };
    let declaration = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
    add(
        "bomb/bagit.txt",
        declaration.len() as u64,
        &mut &declaration[..],
    );
    add(
        "bomb/data/zeros",
        size,
        &mut std::io::Read::take(std::io::repeat(0), size),
    );
    tar.into_inner().unwrap().finish().unwrap();
    path
}

/// `validate` reports ARC-009 (exit 1) and `unpack` writes nothing, with `--max-ratio 50`.
fn refused_as_bomb(env: &Env, archive: &str) {
    let v = validate(env, &[archive, "--max-ratio", "50"], 1);
    assert!(codes(&v).contains(&pair("ARC-009", "")), "{:?}", codes(&v));
    unpack_refused(env, archive, &["--max-ratio", "50"], "ARC-009", "");
}

#[test]
fn issue13_tar_gz_streams_meet_max_ratio() {
    let env = Env::new();
    // 64 MiB of zeros in about 64 KB: a ratio near 1000, far over --max-ratio 50, and far
    // beyond the 16 MiB a stream may produce before the ratio applies.
    zeros_tar_gz(&env, "bomb.tar.gz", 64 << 20);
    assert!(fs::metadata(env.path("bomb.tar.gz")).unwrap().len() < 1 << 20);
    refused_as_bomb(&env, "bomb.tar.gz");
    // Under the ratio the same archive is read (and is then only an incomplete bag).
    let v = validate(&env, &["bomb.tar.gz", "--max-ratio", "5000"], 1);
    assert!(
        !codes(&v).iter().any(|(c, _)| c == "ARC-009"),
        "{:?}",
        codes(&v)
    );
}

#[test]
fn issue13_small_zip_entries_count_toward_max_ratio_in_all() {
    let env = Env::new();
    let path = env.path("many.zip");
    let mut zip = zip::ZipWriter::new(fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.add_directory("many/", options).unwrap();
    zip.start_file("many/bagit.txt", options).unwrap();
    std::io::Write::write_all(
        &mut zip,
        b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
    )
    .unwrap();
    // 40 entries of 512 KiB zeros: each under the 1 MiB exemption, 20 MiB in all.
    for i in 0..40 {
        zip.start_file(format!("many/data/z{i:02}"), options)
            .unwrap();
        std::io::Write::write_all(&mut zip, &vec![0u8; 512 << 10]).unwrap();
    }
    zip.finish().unwrap();
    refused_as_bomb(&env, "many.zip");
}
