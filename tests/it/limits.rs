//! Issue 13: hostile input must meet a budget, a bounded read or a clear error — never an
//! abort, a hang, a panic or a wrong verdict. Every hostile file is made here, small.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::util::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A one-photo collection `coll/` with a record for it.
fn collection(env: &Env, name: &str, photo: &[u8]) -> PathBuf {
    env.write(&format!("coll/{name}"), photo);
    env.write(
        "coll/metadata.csv",
        format!("identifier,file,title,date,rights\nx1,{name},T,2022-01-04,CC0\n"),
    );
    env.path("coll")
}

/// `(code, file, severity)` of every problem of every item of a check report.
fn item_problems(v: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for item in v["items"].as_array().unwrap() {
        for p in item["problems"].as_array().unwrap() {
            out.push((
                p["code"].as_str().unwrap().to_string(),
                p["file"].as_str().unwrap_or("").to_string(),
                p["severity"].as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

fn png_chunk(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = (body.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(body);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(body);
    c.extend_from_slice(&crc32fast::hash(&crc_input).to_be_bytes());
    c
}

/// A 68-byte PNG declaring 2³¹−1 × 1 pixels of 16-bit RGBA (one row of 16 GiB).
fn huge_png() -> Vec<u8> {
    use std::io::Write;
    let mut ihdr = 0x7fff_ffffu32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&1u32.to_be_bytes());
    ihdr.extend_from_slice(&[16, 6, 0, 0, 0]);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&[0; 16]).unwrap();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &ihdr));
    png.extend(png_chunk(b"IDAT", &z.finish().unwrap()));
    png.extend(png_chunk(b"IEND", b""));
    png
}

/// tiny.jpg with its frame header saying 65000 × 65000 (12 GB of pixels).
fn huge_jpeg() -> Vec<u8> {
    let mut jpg = std::fs::read(fixtures().join("photos/good/tiny.jpg")).unwrap();
    let mut pos = 2;
    while !matches!(jpg[pos + 1], 0xC0..=0xC2) {
        pos += 2 + usize::from(u16::from_be_bytes([jpg[pos + 2], jpg[pos + 3]]));
    }
    jpg[pos + 5..pos + 9].copy_from_slice(&[0xFD, 0xE8, 0xFD, 0xE8]);
    jpg
}

/// A 139-byte TIFF: 200000 × 200000 grey pixels in one Deflate strip (40 GB).
fn huge_tiff() -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&[0; 1000]).unwrap();
    let strip = z.finish().unwrap();
    let size = 200_000u32;
    // (tag, type, value): 3 = SHORT, 4 = LONG; StripOffsets is filled in below.
    let entries: [(u16, u16, u32); 9] = [
        (256, 4, size),
        (257, 4, size),
        (258, 3, 8),
        (259, 3, 8),
        (262, 3, 1),
        (273, 4, 0),
        (277, 3, 1),
        (278, 4, size),
        (279, 4, strip.len() as u32),
    ];
    let data_at = 8 + 2 + 12 * entries.len() as u32 + 4;
    let mut tif = b"II*\0".to_vec();
    tif.extend_from_slice(&8u32.to_le_bytes());
    tif.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, value) in entries {
        let value = if tag == 273 { data_at } else { value };
        tif.extend_from_slice(&tag.to_le_bytes());
        tif.extend_from_slice(&kind.to_le_bytes());
        tif.extend_from_slice(&1u32.to_le_bytes());
        tif.extend_from_slice(&value.to_le_bytes());
    }
    tif.extend_from_slice(&0u32.to_le_bytes());
    tif.extend_from_slice(&strip);
    tif
}

#[test]
fn issue13_huge_declared_images_are_not_decoded_over_the_memory_budget() {
    for (name, photo) in [
        ("huge.png", huge_png()),
        ("huge.jpg", huge_jpeg()),
        ("huge.tif", huge_tiff()),
    ] {
        assert!(photo.len() < 2048, "{name}: {} bytes", photo.len());
        let env = Env::new();
        let coll = collection(&env, name, &photo);
        let r = env.qoima(&["check", "--decode", "--json", coll.to_str().unwrap()]);
        assert_eq!(r.code(), 0, "{name}: {}", r.stderr());
        let v = r.json();
        assert_eq!(
            item_problems(&v),
            [("PHOTO-W005".into(), name.into(), "warning".into())],
            "{name}"
        );
        // Under --strict the file that could not be decoded fails the check.
        let strict = env.qoima(&["check", "--decode", "--strict", coll.to_str().unwrap()]);
        assert_eq!(strict.code(), 1, "{name}: {}", strict.stderr());
        assert!(
            strict.stderr().contains("--decode-memory"),
            "{}",
            strict.stderr()
        );
    }
}

#[test]
fn issue13_decode_memory_is_a_size_of_at_least_one_mebibyte() {
    let env = Env::new();
    let tiny = std::fs::read(fixtures().join("photos/good/tiny.png")).unwrap();
    let coll = collection(&env, "tiny.png", &tiny);
    let c = coll.to_str().unwrap();
    for bad in ["10", "lots", "1.5G", "99999999999999999999G"] {
        let r = env.qoima(&["check", "--decode", "--decode-memory", bad, c]);
        assert_eq!(r.code(), 2, "{bad}: {}", r.stderr());
        assert!(r.stderr().contains("--decode-memory"), "{}", r.stderr());
    }
    env.qoima(&["check", "--decode", "--decode-memory", "64M", c])
        .success();
    // 1 MiB is too little for the 65000 × 65000 JPEG but plenty for tiny.png.
    let other = Env::new();
    let jpg = collection(&other, "huge.jpg", &huge_jpeg());
    let r = env.qoima(&["check", "--decode", "--json", "--decode-memory", "1M"]);
    assert_eq!(r.code(), 2, "a collection is required");
    let r = env.qoima(&[
        "check",
        "--decode",
        "--json",
        "--decode-memory",
        "1M",
        jpg.to_str().unwrap(),
    ]);
    assert_eq!(item_problems(&r.json())[0].0, "PHOTO-W005");
}

/// tiny.jpg with its first scan's entropy-coded data cut to a third (`zero`: the rest
/// overwritten with zeros instead), EOI kept, so the marker structure is whole.
fn damaged_scan(zero: bool) -> Vec<u8> {
    let jpg = std::fs::read(fixtures().join("photos/good/tiny.jpg")).unwrap();
    let sos = jpg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let start = sos + 2 + usize::from(u16::from_be_bytes([jpg[sos + 2], jpg[sos + 3]]));
    let scan = &jpg[start..jpg.len() - 2];
    let keep = scan.len() / 3;
    let mut out = jpg[..start + keep].to_vec();
    if zero {
        out.resize(jpg.len() - 2, 0);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// Whether ImageMagick (libjpeg) reads the file without a warning; `None` when it is not
/// installed (Debian's stand-in script prints a notice instead).
fn imagemagick_reads_cleanly(path: &Path) -> Option<bool> {
    let out = Command::new("convert")
        .args(["-regard-warnings"])
        .arg(path)
        .arg("null:")
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("ImageMagick is not installed") {
        return None;
    }
    Some(out.status.success())
}

#[test]
fn issue13_jpeg_scan_cut_short_or_zeroed_fails_decode_like_libjpeg() {
    for (name, zero) in [("cut.jpg", false), ("zeroed.jpg", true)] {
        let env = Env::new();
        let photo = damaged_scan(zero);
        let coll = collection(&env, name, &photo);
        // The structure is whole: without --decode the file passes.
        env.qoima(&["check", coll.to_str().unwrap()]).success();
        let r = env.qoima(&["check", "--decode", "--json", coll.to_str().unwrap()]);
        assert_eq!(r.code(), 1, "{name}: {}", r.stderr());
        let v = r.json();
        assert_eq!(
            item_problems(&v),
            [("PHOTO-051".into(), name.into(), "error".into())],
            "{name}"
        );
        if let Some(clean) = imagemagick_reads_cleanly(&coll.join(name)) {
            assert!(!clean, "{name}: libjpeg should warn as qoima does");
        }
    }
}

#[test]
fn issue13_jpeg_scan_walk_agrees_with_imagemagick_on_its_own_jpegs() {
    let env = Env::new();
    let source = env.path("source.png");
    let made = Command::new("convert")
        .args(["-size", "320x240", "plasma:fractal", "-seed", "7"])
        .arg(&source)
        .output();
    let Ok(made) = made else {
        eprintln!("skipped: ImageMagick is not installed");
        return;
    };
    if !made.status.success() {
        eprintln!("skipped: ImageMagick is not installed");
        return;
    }
    let variants: [&[&str]; 6] = [
        &["-sampling-factor", "4:2:0"],
        &["-sampling-factor", "4:4:4", "-quality", "100"],
        &["-colorspace", "Gray"],
        &["-interlace", "JPEG"],
        &["-interlace", "JPEG", "-define", "jpeg:restart-interval=1"],
        &["-colorspace", "CMYK", "-define", "jpeg:restart-interval=2"],
    ];
    std::fs::create_dir_all(env.path("coll")).unwrap();
    let mut names = Vec::new();
    for (i, options) in variants.iter().enumerate() {
        let whole = env.path(&format!("coll/v{i}.jpg"));
        let status = Command::new("convert")
            .arg(&source)
            .args(*options)
            .arg(&whole)
            .status()
            .unwrap();
        assert!(status.success());
        let jpg = std::fs::read(&whole).unwrap();
        let sos = jpg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        for percent in [20, 50, 80, 95] {
            let cut = sos + (jpg.len() - 2 - sos) * percent / 100;
            let mut short = jpg[..cut].to_vec();
            short.extend_from_slice(&[0xFF, 0xD9]);
            env.write(&format!("coll/v{i}-cut{percent}.jpg"), &short);
            names.push(format!("v{i}-cut{percent}.jpg"));
            // Zeros over the last 5% can leave a few stray bytes libjpeg may or may not
            // count (it depends on its read-ahead); qoima ignores fewer than 64.
            if percent < 95 {
                let mut zeroed = jpg[..cut].to_vec();
                zeroed.resize(jpg.len() - 2, 0);
                zeroed.extend_from_slice(&[0xFF, 0xD9]);
                env.write(&format!("coll/v{i}-zero{percent}.jpg"), &zeroed);
                names.push(format!("v{i}-zero{percent}.jpg"));
            }
        }
        names.push(format!("v{i}.jpg"));
    }
    let r = env.qoima(&[
        "check",
        "--decode",
        "--allow-undescribed",
        "--json",
        env.path("coll").to_str().unwrap(),
    ]);
    let v = r.json();
    let mut disagreements = Vec::new();
    for item in v["items"].as_array().unwrap() {
        let file = item["file"].as_str().unwrap();
        let failed = item["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["severity"] == "error" && p["code"] != "META-001");
        let clean = imagemagick_reads_cleanly(&env.path(&format!("coll/{file}"))).unwrap();
        if failed == clean {
            disagreements.push(format!(
                "{file}: qoima failed={failed}, libjpeg clean={clean}"
            ));
        }
    }
    assert_eq!(v["items"].as_array().unwrap().len(), names.len());
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

/// Runs qoima, failing the test (instead of hanging it) if it takes more than 60 s.
fn run_bounded(env: &Env, args: &[&str]) -> Run {
    use std::time::{Duration, Instant};
    let mut child = Command::new(env!("CARGO_BIN_EXE_qoima"))
        .args(args)
        .current_dir(env.dir.path())
        .env("SOURCE_DATE_EPOCH", "1641340800")
        .env_remove("QOIMA_PASSPHRASE")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("qoima {args:?} hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Run(child.wait_with_output().unwrap())
}

#[test]
fn issue13_user_named_files_that_are_devices_or_fifos_are_refused_not_read_forever() {
    let env = Env::new();
    env.sample_bag("bag");
    env.sample_source("src");
    let fifo = env.path("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let fifo = fifo.to_str().unwrap();
    for special in ["/dev/zero", fifo] {
        let cases: [&[&str]; 9] = [
            &["bag", "src", "-o", "out1", "--info-file", special],
            &[
                "bag",
                "src",
                "-o",
                "out2",
                "--tag-file",
                &format!("x.txt={special}"),
            ],
            &["check", "src", "--rules", special],
            &["validate", "bag", "--profile", special],
            &["verify-seal", "bag", "--trusted-keys", special],
            &["seal", "bag", "--sign", special],
            &[
                "seal",
                "bag",
                "--sign",
                special,
                "--passphrase-file",
                special,
            ],
            &[
                "seal",
                "bag",
                "--sign",
                special,
                "--recipients-file",
                special,
                "-o",
                "x",
            ],
            &["custody", "verify", "bag", "--trusted-keys", special],
        ];
        for args in cases {
            let r = run_bounded(&env, args);
            assert_eq!(r.code(), 2, "{args:?}: {}", r.stderr());
            assert!(
                r.stderr().contains(special) && r.stderr().contains("not a regular file"),
                "{args:?}: {}",
                r.stderr()
            );
        }
    }
    assert!(!env.path("out1").exists() && !env.path("out2").exists());
}

#[test]
fn issue13_user_named_files_over_the_limit_are_refused_with_the_limit() {
    let env = Env::new();
    env.sample_source("src");
    let big = env.path("big.txt");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len((16 << 20) + 1).unwrap();
    let r = run_bounded(&env, &["bag", "src", "-o", "out", "--info-file", "big.txt"]);
    assert_eq!(r.code(), 2, "{}", r.stderr());
    assert!(
        r.stderr().contains("big.txt") && r.stderr().contains("16 MiB"),
        "{}",
        r.stderr()
    );
    assert!(!env.path("out").exists());
}

#[test]
fn issue13_jobs_far_beyond_the_cores_is_clamped_with_a_warning() {
    let env = Env::new();
    let bag = env.sample_bag("bag");
    let r = run_bounded(&env, &["validate", "-j", "20000", bag.to_str().unwrap()]);
    r.success();
    assert!(r.stderr().contains("--jobs 20000"), "{}", r.stderr());
    let r = run_bounded(&env, &["validate", "-j", "2", bag.to_str().unwrap()]);
    r.success();
    assert!(!r.stderr().contains("--jobs"), "{}", r.stderr());
}

#[test]
fn issue13_extreme_durations_sizes_and_counts_never_panic() {
    let env = Env::new();
    let bag = env.sample_bag("bag");
    let bag = bag.to_str().unwrap();
    env.qoima(&["serialize", bag, "--zip"]).success();
    env.sample_source("coll");
    let register = env.path("register.db");
    let register = register.to_str().unwrap();
    let huge = [
        "99999999999d",
        "213503982334601w",
        "18446744073709551615s",
        "18446744073709551616s",
        "99999999999999999999999999d",
        "18446744073709551615",
        "16777216T",
        "99999999999999T",
        "18446744073709551615T/s",
        "0",
        "0d",
        "1e999",
        "",
    ];
    let mut ran = 0;
    for value in huge {
        let cases: [&[&str]; 12] = [
            &["audit", "report", "--register", register, "--since", value],
            &["audit", bag, "--register", register, "--older-than", value],
            &[
                "audit",
                bag,
                "--register",
                register,
                "--max-duration",
                value,
            ],
            &["audit", bag, "--register", register, "--max-bytes", value],
            &["audit", bag, "--register", register, "--rate", value],
            &["audit", bag, "--register", register, "--max-ratio", value],
            &["audit", bag, "--register", register, "--max-size", value],
            &["validate", "bag.zip", "--max-ratio", value],
            &["validate", "bag.zip", "--max-size", value],
            &["unpack", "bag.zip", "-o", "out", "--max-size", value],
            &["check", "coll", "--decode", "--decode-memory", value],
            &["validate", bag, "-j", value],
        ];
        for args in cases {
            let r = run_bounded(&env, args);
            ran += 1;
            assert!(
                matches!(r.code(), 0..=2),
                "{args:?}: exit {} (a panic is 101)\n{}",
                r.code(),
                r.stderr()
            );
            assert!(!r.stderr().contains("panicked"), "{args:?}: {}", r.stderr());
            let _ = std::fs::remove_dir_all(env.path("out"));
        }
    }
    assert_eq!(ran, 12 * huge.len());
    // The one the issue names: a clear usage error.
    let r = run_bounded(
        &env,
        &[
            "audit",
            "report",
            "--register",
            register,
            "--since",
            "99999999999d",
        ],
    );
    assert_eq!(r.code(), 2, "{}", r.stderr());
    assert!(r.stderr().contains("--since"), "{}", r.stderr());
    let r = run_bounded(
        &env,
        &[
            "audit",
            bag,
            "--register",
            register,
            "--max-bytes",
            "99999999999999T",
        ],
    );
    assert_eq!(r.code(), 2, "{}", r.stderr());
    assert!(r.stderr().contains("--max-bytes"), "{}", r.stderr());
}
