//! Exif metadata: the capture date, camera and position a photo says about itself.
//!
//! Parsing is left to `kamadak-exif` (pure Rust, no dependencies, fuzzed), which finds the Exif
//! block in JPEG (APP1), TIFF and DNG (the file is the Exif structure), PNG (`eXIf`), WebP
//! (`EXIF`) and HEIF. This file only picks the fields a catalogue needs and turns them into
//! plain values: the date exactly as written (`2022:01:04 19:30:00`, with its offset kept
//! apart, because Exif dates have no time zone of their own), and GPS as signed decimal
//! degrees. A file without Exif is not a problem; Exif that cannot be parsed is a warning.

use std::io::Cursor;

use exif::{Context, In, Tag, Value};
use serde::Serialize;

use super::identify::Family;

/// The Exif fields qoima reports.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Exif {
    /// DateTimeOriginal, as written (`2022:01:04 19:30:00`).
    pub date_time_original: Option<String>,
    /// OffsetTimeOriginal (`+06:00`), the time zone of `date_time_original`, when recorded.
    pub offset_time_original: Option<String>,
    /// Camera maker.
    pub make: Option<String>,
    /// Camera model.
    pub model: Option<String>,
    /// The software that wrote the file.
    pub software: Option<String>,
    /// Orientation (1 = upright; 6 = rotate 90° clockwise to view; 8 = 90° anticlockwise).
    pub orientation: Option<u16>,
    /// Latitude in signed decimal degrees (south is negative).
    pub gps_latitude: Option<f64>,
    /// Longitude in signed decimal degrees (west is negative).
    pub gps_longitude: Option<f64>,
}

/// Reads Exif from a file of the given family: `Ok(None)` when there is none,
/// `Err(why)` when it is there but cannot be parsed.
pub(crate) fn read(family: Family, data: &[u8]) -> Result<Option<Exif>, String> {
    match family {
        Family::Jpeg | Family::Tiff | Family::Png | Family::WebP | Family::Heif => {}
        // GIF has no Exif; JPEG 2000 may carry it in a uuid box, which kamadak-exif does
        // not read.
        _ => return Ok(None),
    }
    let parsed = match exif::Reader::new().read_from_container(&mut Cursor::new(data)) {
        Ok(e) => e,
        Err(exif::Error::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    // A TIFF is itself the Exif structure, so its baseline tags (Orientation, Software…) always
    // parse. It has Exif, as a camera or ExifTool writes it, only when IFD 0 points to an Exif
    // or GPS directory.
    if family == Family::Tiff
        && !parsed
            .fields()
            .any(|f| matches!(f.tag.context(), Context::Exif | Context::Gps))
    {
        return Ok(None);
    }
    Ok(Some(extract(&parsed)))
}

fn extract(e: &exif::Exif) -> Exif {
    Exif {
        date_time_original: ascii(e, Tag::DateTimeOriginal),
        offset_time_original: ascii(e, Tag::OffsetTimeOriginal),
        make: ascii(e, Tag::Make),
        model: ascii(e, Tag::Model),
        software: ascii(e, Tag::Software),
        orientation: e
            .get_field(Tag::Orientation, In::PRIMARY)
            .and_then(|f| f.value.get_uint(0))
            .and_then(|v| u16::try_from(v).ok()),
        gps_latitude: coordinate(e, Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S'),
        gps_longitude: coordinate(e, Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W'),
    }
}

/// An ASCII field as written, less the NUL and space padding writers leave at the end.
fn ascii(e: &exif::Exif, tag: Tag) -> Option<String> {
    let f = e.get_field(tag, In::PRIMARY)?;
    let Value::Ascii(parts) = &f.value else {
        return None;
    };
    let s = String::from_utf8_lossy(parts.first()?);
    let s = s.trim_end_matches(['\0', ' ']);
    (!s.is_empty()).then(|| s.to_string())
}

/// Degrees, minutes and seconds to signed decimal degrees.
fn coordinate(e: &exif::Exif, tag: Tag, reference: Tag, negative: u8) -> Option<f64> {
    let f = e.get_field(tag, In::PRIMARY)?;
    let Value::Rational(dms) = &f.value else {
        return None;
    };
    if dms.len() < 3 || dms.iter().take(3).any(|r| r.denom == 0) {
        return None;
    }
    let deg = dms[0].to_f64() + dms[1].to_f64() / 60.0 + dms[2].to_f64() / 3600.0;
    let south_or_west =
        ascii(e, reference).is_some_and(|r| r.as_bytes().first() == Some(&negative));
    Some(if south_or_west { -deg } else { deg })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use super::*;
    use crate::photo::identify::detect;

    fn fixture_photos() -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut files = Vec::new();
        for dir in [
            "collections/qantar-2022/photos/01-january",
            "collections/qantar-2022/photos/02-after-january",
            "photos/good",
        ] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                files.push(entry.unwrap().path());
            }
        }
        files.sort();
        assert!(files.len() >= 29, "fixture photos missing: {files:?}");
        files
    }

    fn text(v: &serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// Every fixture photo: the same date, offset, camera and position as ExifTool reads.
    #[test]
    fn agrees_with_exiftool() {
        let files = fixture_photos();
        let out = Command::new("exiftool")
            .args([
                "-n",
                "-j",
                "-DateTimeOriginal",
                "-OffsetTimeOriginal",
                "-Make",
                "-Model",
            ])
            .args(["-GPSLatitude", "-GPSLongitude"])
            .args(&files)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "this test needs ExifTool as `exiftool` on PATH \
                     (Debian: apt-get install libimage-exiftool-perl): {e}"
                )
            });
        assert!(
            out.status.success(),
            "exiftool failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        let by_file: HashMap<String, &serde_json::Value> = listed
            .iter()
            .map(|v| (v["SourceFile"].as_str().unwrap().to_string(), v))
            .collect();
        let mut with_exif = 0;
        for path in &files {
            let tool = by_file[path.to_str().unwrap()];
            let data = std::fs::read(path).unwrap();
            let (family, _) = detect(&data).unwrap();
            let ours = read(family, &data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let has_any = ["DateTimeOriginal", "Make", "Model", "GPSLatitude"]
                .iter()
                .any(|k| !tool[*k].is_null());
            let Some(ours) = ours else {
                assert!(
                    !has_any,
                    "{}: ExifTool finds Exif, qoima does not",
                    path.display()
                );
                continue;
            };
            with_exif += 1;
            let p = path.display();
            assert_eq!(
                ours.date_time_original,
                text(&tool["DateTimeOriginal"]),
                "{p}"
            );
            assert_eq!(
                ours.offset_time_original,
                text(&tool["OffsetTimeOriginal"]),
                "{p}"
            );
            assert_eq!(ours.make, text(&tool["Make"]), "{p}");
            assert_eq!(ours.model, text(&tool["Model"]), "{p}");
            for (mine, key) in [
                (ours.gps_latitude, "GPSLatitude"),
                (ours.gps_longitude, "GPSLongitude"),
            ] {
                match (mine, tool[key].as_f64()) {
                    (Some(a), Some(b)) => assert!((a - b).abs() < 1e-6, "{p} {key}: {a} vs {b}"),
                    (None, None) => {}
                    other => panic!("{p} {key}: qoima and ExifTool disagree: {other:?}"),
                }
            }
        }
        assert_eq!(
            with_exif, 22,
            "the generator writes Exif into 22 of the collection's 24 photos"
        );
    }

    #[test]
    fn formats_without_exif_support_give_none() {
        assert_eq!(read(Family::Gif, b"GIF89a"), Ok(None));
        assert_eq!(read(Family::Jp2, b"\0\0\0\x0CjP  "), Ok(None));
    }
}
