//! `qoima check --decode` on real-world variants (issue 14): legal files are never called
//! corrupt, a file qoima cannot decode says so with the reason, damage that decoders catch
//! is caught by the structural check too, and qoima agrees with libtiff, ImageMagick and
//! ExifTool on every fixture and on variants those tools make (see docs/metadata.md for the
//! deliberate disagreements).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::Env;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photos")
}

/// Copies fixture files into a fresh collection folder and checks it.
fn check(env: &Env, folder: &str, files: &[PathBuf], extra: &[&str]) -> (i32, Value) {
    for f in files {
        let name = f.file_name().unwrap().to_str().unwrap();
        env.write(&format!("{folder}/{name}"), std::fs::read(f).unwrap());
    }
    // A sidecar with no records: every photo is undescribed, which --allow-undescribed allows.
    env.write(&format!("{folder}/metadata.csv"), "identifier,file,title\n");
    let mut args = vec!["check", "--json", "--allow-undescribed"];
    args.extend(extra);
    args.push(folder);
    let r = env.qoima(&args);
    (r.code(), r.json())
}

fn item<'v>(report: &'v Value, file: &str) -> &'v Value {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["file"] == file)
        .unwrap_or_else(|| panic!("no item for {file}: {report}"))
}

/// The photo's codes (the record rules' `META-010` "not described" is left out).
fn codes(item: &Value) -> Vec<&str> {
    photo_problems(item)
        .map(|p| p["code"].as_str().unwrap())
        .collect()
}

fn photo_problems(item: &Value) -> impl Iterator<Item = &Value> {
    item["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"].as_str().unwrap().starts_with("PHOTO-"))
}

#[test]
fn issue14_legal_variants_are_never_corrupt_and_say_whether_they_were_decoded() {
    // (file, status, a word the reason must contain)
    let table = [
        ("jpeg-dnl-height.jpg", "decoded", ""),
        ("tiff-fax-g4-two-pages.tif", "decoded", ""),
        ("tiff-fax-g3-two-pages.tif", "not-decoded", "CCITT Group 3"),
        ("tiff-lzw-old-style.tif", "decoded", ""),
        ("tiff-ojpeg-no-length.tif", "not-decoded", "old-style JPEG"),
        ("cr2-layout.cr2", "not-decoded", "old-style JPEG"),
        ("nef-layout.nef", "decoded", ""),
        ("dng-layout.dng", "decoded", ""),
        ("heif-whole.heic", "not-decoded", "HEIF"),
        ("jp2-whole.jp2", "not-decoded", "JPEG 2000"),
    ];
    let env = Env::new();
    let files: Vec<PathBuf> = table
        .iter()
        .map(|(name, ..)| fixtures().join("legal").join(name))
        .collect();
    let on_disk = std::fs::read_dir(fixtures().join("legal")).unwrap().count();
    assert_eq!(on_disk, table.len(), "every legal fixture is in the table");

    let (code, report) = check(&env, "legal", &files, &["--decode"]);
    assert_eq!(code, 0, "{report:#}");
    for (name, status, reason) in table {
        let it = item(&report, name);
        assert_eq!(it["decode"]["status"], status, "{name}: {it:#}");
        let problems = codes(it);
        if status == "not-decoded" {
            let why = it["decode"]["reason"].as_str().unwrap();
            assert!(why.contains(reason), "{name}: {why}");
            assert_eq!(problems, ["PHOTO-W020"], "{name}: {it:#}");
            let p = photo_problems(it).next().unwrap();
            assert_eq!(p["file"], name);
            assert!(p["message"].as_str().unwrap().contains(why), "{p}");
        } else {
            assert!(it["decode"].get("reason").is_none(), "{name}: {it:#}");
            assert!(problems.is_empty(), "{name}: {it:#}");
        }
    }
    // The DNL segment's height is the image's.
    assert_eq!(
        item(&report, "jpeg-dnl-height.jpg")["technical"]["height"],
        24
    );
    // The raw formats' size is their full-resolution image's, not the thumbnail's.
    assert_eq!(item(&report, "nef-layout.nef")["technical"]["width"], 32);
    assert_eq!(item(&report, "dng-layout.dng")["technical"]["width"], 32);

    // The text output says "not decoded", with the reason, and counts the statuses.
    let r = env.qoima(&["check", "--allow-undescribed", "--decode", "legal"]);
    assert_eq!(r.code(), 0);
    let text = r.stderr();
    assert!(
        text.contains("heif-whole.heic: not decoded: qoima has no HEVC or AV1 decoder"),
        "{text}"
    );
    assert!(
        text.contains("(decoded 5, not decoded 5, failed 0)"),
        "{text}"
    );

    // Without --decode nothing is decoded, and the structure of every file passes.
    let (code, report) = check(&env, "legal", &[], &[]);
    assert_eq!(code, 0, "{report:#}");
    for (name, ..) in table {
        let it = item(&report, name);
        assert_eq!(it["decode"]["status"], "not-requested", "{name}");
        assert!(codes(it).is_empty(), "{name}: {it:#}");
    }
}

#[test]
fn issue14_damage_decoders_catch_is_caught_without_decoding() {
    let cases = [
        ("jpeg-progressive-bad-scan-params.jpg", "PHOTO-011", "Se=64"),
        ("heif-infe-beyond-iinf.heic", "PHOTO-040", "iinf"),
        (
            "heif-iloc-bad-field-size.heic",
            "PHOTO-040",
            "offset_size 3",
        ),
        ("jp2-last-tile-part-truncated.jp2", "PHOTO-040", "tile-part"),
        ("tiff-no-image-data.tif", "PHOTO-034", "no image data"),
    ];
    let env = Env::new();
    for (name, want, words) in cases {
        let folder = name.replace('.', "-");
        let file = fixtures().join("broken").join(name);
        let (code, report) = check(&env, &folder, &[file], &[]);
        assert_eq!(code, 1, "{name}: {report:#}");
        let it = item(&report, name);
        assert_eq!(codes(it), [want], "{name}: {it:#}");
        let p = photo_problems(it).next().unwrap();
        assert_eq!(p["file"], name);
        assert!(p["message"].as_str().unwrap().contains(words), "{p}");
        // With --decode, damaged structure is "not decoded", with the reason.
        let (code, report) = check(&env, &folder, &[], &["--decode"]);
        assert_eq!(code, 1);
        let it = item(&report, name);
        assert_eq!(it["decode"]["status"], "not-decoded", "{name}");
        assert_eq!(codes(it), [want], "{name}: {it:#}");
    }
}

/// What the reference tools say of one file: libtiff for TIFFs, ExifTool's validation for
/// the raw formats built on TIFF (libtiff is no raw reader), ImageMagick for the rest.
fn oracle_passes(path: &Path) -> bool {
    let name = path.to_str().unwrap();
    let run = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!("{program} is needed (scripts/test.sh installs libtiff-tools, imagemagick, libimage-exiftool-perl): {e}")
            })
    };
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "cr2" | "nef" | "dng" => {
            let out = run("exiftool", &["-validate", "-warning", "-a", name]);
            let text = String::from_utf8_lossy(&out.stdout);
            text.lines()
                .filter(|l| l.starts_with("Warning") || l.starts_with("Error"))
                .all(|l| l.contains("[minor]"))
        }
        "tif" | "tiff" => run("tiffinfo", &["-D", name]).status.success(),
        _ => run("identify", &["-regard-warnings", name])
            .status
            .success(),
    }
}

/// Variants the tools make quickly: every TIFF compression and layout libtiff writes, and
/// JPEG, PNG, GIF, WebP, HEIF and JPEG 2000 flavours from ImageMagick; then each cut in half.
fn make_variants(dir: &Path) -> Vec<PathBuf> {
    let tiny_tif = fixtures().join("good/tiny.tif");
    let tiny_png = fixtures().join("good/tiny.png");
    let mut made = Vec::new();
    let tool = |program: &str, args: Vec<String>, out: PathBuf| {
        let ok = Command::new(program)
            .args(&args)
            .arg(&out)
            .status()
            .unwrap_or_else(|e| panic!("{program} is needed (scripts/test.sh installs it): {e}"))
            .success();
        assert!(ok, "{program} {args:?} failed");
        out
    };
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let tif = tiny_tif.to_str().unwrap();
    for (name, args) in [
        ("lzw", s(&["-c", "lzw"])),
        ("lzw-predictor", s(&["-c", "lzw:2"])),
        ("zip", s(&["-c", "zip"])),
        ("packbits", s(&["-c", "packbits"])),
        ("jpeg", s(&["-c", "jpeg"])),
        ("tiled", s(&["-c", "lzw", "-t", "-w", "16", "-l", "16"])),
        ("planar", s(&["-p", "separate"])),
        ("strips", s(&["-r", "4"])),
        ("big-endian", s(&["-B"])),
        ("bigtiff", s(&["-8"])),
    ] {
        let mut args = args;
        args.push(tif.to_string());
        made.push(tool("tiffcp", args, dir.join(format!("tiffcp-{name}.tif"))));
    }
    let bilevel = dir.join("bilevel.tif");
    tool(
        "convert",
        s(&[
            tif,
            "-monochrome",
            "-depth",
            "1",
            "-type",
            "bilevel",
            "-compress",
            "none",
        ]),
        bilevel.clone(),
    );
    for scheme in ["g3", "g3:2d", "g4", "packbits"] {
        let name = format!("tiffcp-bilevel-{}.tif", scheme.replace(':', "-"));
        made.push(tool(
            "tiffcp",
            s(&["-c", scheme, bilevel.to_str().unwrap()]),
            dir.join(name),
        ));
    }
    let png = tiny_png.to_str().unwrap();
    for (name, args) in [
        ("progressive.jpg", s(&[png, "-interlace", "JPEG"])),
        ("grey.jpg", s(&[png, "-colorspace", "Gray"])),
        ("cmyk.jpg", s(&[png, "-colorspace", "CMYK"])),
        ("subsampling-1x1.jpg", s(&[png, "-sampling-factor", "1x1"])),
        ("quality-5.jpg", s(&[png, "-quality", "5"])),
        ("png16.png", s(&[png, "-depth", "16"])),
        (
            "palette.png",
            s(&[png, "-colors", "16", "-type", "Palette"]),
        ),
        ("interlaced.png", s(&[png, "-interlace", "PNG"])),
        ("grey.png", s(&[png, "-colorspace", "Gray"])),
        ("interlaced.gif", s(&[png, "-interlace", "GIF"])),
        ("lossy.webp", s(&[png, "-quality", "50"])),
        ("image.heic", s(&[png])),
        ("image.jp2", s(&[png])),
    ] {
        made.push(tool("convert", args, dir.join(format!("magick-{name}"))));
    }
    std::fs::remove_file(&bilevel).unwrap();
    // Each cut in half: a truncated copy.
    let whole = made.clone();
    for p in whole {
        let data = std::fs::read(&p).unwrap();
        let name = p.file_name().unwrap().to_str().unwrap();
        let cut = dir.join(format!("cut-{name}"));
        std::fs::write(&cut, &data[..data.len() / 2]).unwrap();
        made.push(cut);
    }
    made
}

/// Files on which qoima and the reference tool deliberately disagree; each is explained in
/// docs/metadata.md ("Where qoima and the reference tools disagree").
const DISAGREEMENTS: &[&str] = &[
    // libjpeg-turbo (ImageMagick) implements no DNL: "Empty JPEG image (DNL not supported)";
    // T.81, libjpeg 9 and ExifTool accept it.
    "jpeg-dnl-height.jpg",
    // A PNG named .jpg: ImageMagick reads the content; qoima warns (PHOTO-W001), still valid.
    // (Agreement, listed for the reader: both pass.)
];

#[test]
fn issue14_sweep_agrees_with_libtiff_imagemagick_and_exiftool() {
    let env = Env::new();
    let sweep = env.path("sweep");
    env.write("sweep/metadata.csv", "identifier,file,title\n");
    let mut files = Vec::new();
    for sub in ["good", "broken", "legal"] {
        for e in std::fs::read_dir(fixtures().join(sub)).unwrap() {
            let p = e.unwrap().path();
            let to = sweep.join(format!(
                "{sub}-{}",
                p.file_name().unwrap().to_str().unwrap()
            ));
            std::fs::copy(&p, &to).unwrap();
            files.push(to);
        }
    }
    let variants = make_variants(&sweep);
    assert!(variants.len() >= 50, "{} variants", variants.len());
    files.extend(variants);

    let r = env.qoima(&[
        "check",
        "--json",
        "--allow-undescribed",
        "--decode",
        "sweep",
    ]);
    let report = r.json();
    let mut disagreements = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let it = item(&report, name);
        let qoima_passes = !it["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["severity"] == "error");
        let oracle = oracle_passes(path);
        let deliberate = DISAGREEMENTS.iter().any(|d| name.ends_with(d));
        if (qoima_passes != oracle) != deliberate {
            disagreements.push(format!(
                "{name}: qoima {} ({:?}, decode {}), reference tool {}",
                if qoima_passes { "passes" } else { "fails" },
                codes(it),
                it["decode"],
                if oracle { "passes" } else { "fails" }
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s):\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
