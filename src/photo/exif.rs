//! Exif metadata: the capture date, camera and position a photo says about itself.
//!
//! `exif_walk` finds the Exif block in JPEG (APP1), TIFF and DNG (the file is the Exif
//! structure), PNG (`eXIf`), WebP (`EXIF`) and HEIF, and walks its directories entry by entry,
//! keeping whatever can still be read when part of the block is damaged. This file only picks
//! the fields a catalogue needs and turns them into plain values: the date exactly as written
//! (`2022:01:04 19:30:00`, with its offset kept apart, because Exif dates have no time zone of
//! their own), and GPS as signed decimal degrees (`gps`). A file without Exif is not a
//! problem; a block that cannot be read at all is one warning, and each part lost from a
//! block that can be read is another, naming the directory or tag and why.

use serde::Serialize;

use super::exif_walk::{self, Loss, Walked};
use super::gps::{self, GpsNote};
use super::identify::Family;
use super::tiffio::{Entry, Tiff};

const TAG_MAKE: u16 = 0x010F;
const TAG_MODEL: u16 = 0x0110;
const TAG_ORIENTATION: u16 = 0x0112;
const TAG_SOFTWARE: u16 = 0x0131;
const TAG_DATE_TIME_ORIGINAL: u16 = 0x9003;
const TAG_OFFSET_TIME_ORIGINAL: u16 = 0x9011;

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

/// What was read from a file's Exif block, and what could not be.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ExifRead {
    /// The fields.
    pub exif: Exif,
    /// Directories or entries that could not be read.
    pub losses: Vec<Loss>,
    /// GPS coordinates dropped or read with an assumption.
    pub gps_notes: Vec<GpsNote>,
}

/// Reads Exif from a file of the given family: `Ok(None)` when there is none,
/// `Err(why)` when it is there but nothing of it can be read.
pub(crate) fn read(family: Family, data: &[u8]) -> Result<Option<ExifRead>, String> {
    let Some(block) = exif_walk::locate(family, data)? else {
        return Ok(None);
    };
    // In a TIFF, IFD 0's next link is the next page (the TIFF validator's business).
    let walked = exif_walk::walk(&block, family != Family::Tiff)?;
    let mut gps_notes = Vec::new();
    let exif = extract(&walked, &mut gps_notes);
    // A TIFF is itself the Exif structure, so its baseline tags (Orientation, Software…) are
    // always there. It has Exif, as a camera or ExifTool writes it, when IFD 0 points to an Exif
    // or GPS directory, or names the camera or the date.
    let camera_facts =
        exif.make.is_some() || exif.model.is_some() || exif.date_time_original.is_some();
    if family == Family::Tiff && !walked.has_pointers && !camera_facts {
        return Ok(None);
    }
    Ok(Some(ExifRead {
        exif,
        losses: walked.losses,
        gps_notes,
    }))
}

fn extract(walked: &Walked<'_>, gps_notes: &mut Vec<GpsNote>) -> Exif {
    let tiff = &walked.tiff;
    let primary = [walked.ifd0.as_slice(), walked.exif.as_slice()];
    // Dates belong in the Exif IFD; some writers put them in IFD 0, where ExifTool reads them too.
    let dated = [walked.exif.as_slice(), walked.ifd0.as_slice()];
    let (gps_latitude, gps_longitude) = gps::position(tiff, &walked.gps, gps_notes);
    Exif {
        date_time_original: ascii(tiff, &dated, TAG_DATE_TIME_ORIGINAL),
        offset_time_original: ascii(tiff, &dated, TAG_OFFSET_TIME_ORIGINAL),
        make: ascii(tiff, &primary, TAG_MAKE),
        model: ascii(tiff, &primary, TAG_MODEL),
        software: ascii(tiff, &primary, TAG_SOFTWARE),
        orientation: find(&primary, TAG_ORIENTATION)
            .and_then(|e| e.get(tiff, 0))
            .and_then(|v| u16::try_from(v).ok()),
        gps_latitude,
        gps_longitude,
    }
}

/// The first entry with this tag, searching the directories in order.
fn find(directories: &[&[Entry]], tag: u16) -> Option<Entry> {
    directories
        .iter()
        .find_map(|entries| entries.iter().find(|e| e.tag == tag))
        .copied()
}

/// A text field up to its first NUL, less the space padding writers leave at the end.
fn ascii(tiff: &Tiff<'_>, directories: &[&[Entry]], tag: u16) -> Option<String> {
    let entry = find(directories, tag)?;
    // ASCII by the standard; BYTE and UNDEFINED hold the same text in some writers' files.
    if !matches!(entry.typ, 1 | 2 | 7) {
        return None;
    }
    let bytes = entry.bytes(tiff)?;
    let text = bytes.split(|&b| b == 0).next().unwrap_or(&[]);
    let text = String::from_utf8_lossy(text);
    let text = text.trim_end_matches(' ');
    (!text.is_empty()).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use super::*;
    use crate::photo::identify::detect;
    use crate::photo::{exif_walk, gps};

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
            let ours = read(family, &data)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .map(|found| found.exif);
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

    /// A little-endian TIFF with IFD0 at 8 pointing to a GPS IFD whose latitude is `value`
    /// (type, count, bytes stored out of line) with reference `reference`.
    fn gps_block(reference: &[u8], typ: u16, count: u32, value: &[u8]) -> Vec<u8> {
        // IFD0: one entry (GPS pointer) at 8..26; GPS IFD at 26: 2 entries, 30 bytes; value at 56.
        let mut d = b"II*\0\x08\0\0\0".to_vec();
        d.extend_from_slice(&1u16.to_le_bytes());
        d.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0]);
        d.extend_from_slice(&26u32.to_le_bytes());
        d.extend_from_slice(&0u32.to_le_bytes());
        d.extend_from_slice(&2u16.to_le_bytes());
        d.extend_from_slice(&[1, 0, 2, 0, 2, 0, 0, 0]);
        let mut inline = reference.to_vec();
        inline.resize(4, 0);
        d.extend_from_slice(&inline);
        d.extend_from_slice(&2u16.to_le_bytes());
        d.extend_from_slice(&typ.to_le_bytes());
        d.extend_from_slice(&count.to_le_bytes());
        d.extend_from_slice(&56u32.to_le_bytes());
        d.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(d.len(), 56);
        d.extend_from_slice(value);
        d
    }

    fn latitude(block: &[u8]) -> (Option<f64>, Vec<GpsNote>) {
        let walked = exif_walk::walk(block, false).unwrap();
        let mut notes = Vec::new();
        let (lat, _) = gps::position(&walked.tiff, &walked.gps, &mut notes);
        (lat, notes)
    }

    fn rationals(pairs: &[(i32, i32)]) -> Vec<u8> {
        pairs
            .iter()
            .flat_map(|(n, d)| [n.to_le_bytes(), d.to_le_bytes()].concat())
            .collect()
    }

    #[test]
    fn gps_in_every_form() {
        let close = |got: Option<f64>, want: f64| {
            assert!((got.unwrap() - want).abs() < 1e-9, "{got:?} vs {want}");
        };
        let dms = rationals(&[(43, 1), (30, 1), (36, 1)]);
        close(latitude(&gps_block(b"N", 5, 3, &dms)).0, 43.51);
        close(latitude(&gps_block(b"s", 10, 3, &dms)).0, -43.51);
        // Negative degrees with a reference: the reference decides, the magnitude is kept whole.
        let negative = rationals(&[(-43, 1), (30, 1), (36, 1)]);
        close(latitude(&gps_block(b"S", 10, 3, &negative)).0, -43.51);
        // Without a reference, the sign decides, and a note says so.
        let (lat, notes) = latitude(&gps_block(b"", 10, 3, &negative));
        close(lat, -43.51);
        assert_eq!(notes[0].tag, "GPSLatitudeRef");
        // Text, as ExifTool reads it.
        close(
            latitude(&gps_block(b"N", 2, 12, b"43 30 36.0\0\0")).0,
            43.51,
        );
        // Doubles.
        let double = 43.51f64.to_le_bytes();
        close(latitude(&gps_block(b"N", 12, 1, &double)).0, 43.51);
        // Dropped, with the tag and why: 0/0, out of range, a value past the end.
        for (block, why) in [
            (
                gps_block(b"N", 5, 3, &rationals(&[(43, 1), (0, 0), (0, 1)])),
                "minutes are 0/0",
            ),
            (
                gps_block(b"N", 5, 1, &rationals(&[(91, 1)])),
                "outside the range",
            ),
        ] {
            let (lat, notes) = latitude(&block);
            assert_eq!(lat, None);
            assert_eq!(notes[0].tag, "GPSLatitude");
            assert!(notes[0].why.contains(why), "{}", notes[0].why);
        }
        // A value past the end of the block is lost with its entry, and the loss names it.
        let block = gps_block(b"N", 5, 3, &rationals(&[(43, 1)]));
        let walked = exif_walk::walk(&block, false).unwrap();
        assert_eq!(walked.losses.len(), 1);
        assert_eq!(walked.losses[0].ifd, "GPS");
        assert!(
            walked.losses[0].why.contains("0x0002 GPSLatitude"),
            "{}",
            walked.losses[0].why
        );
        assert_eq!(latitude(&block).0, None);
    }

    proptest::proptest! {
        /// Any bytes after a TIFF header: a result or an error, never a panic, and the walk
        /// never visits more than the three directories it reads.
        #[test]
        fn the_walker_survives_any_block(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            for header in [&b"II*\0\x08\0\0\0"[..], b"MM\0*\0\0\0\x08"] {
                let mut block = header.to_vec();
                block.extend_from_slice(&tail);
                if let Ok(walked) = exif_walk::walk(&block, true) {
                    let mut notes = Vec::new();
                    let _ = gps::position(&walked.tiff, &walked.gps, &mut notes);
                    proptest::prop_assert!(walked.losses.len() <= 4);
                }
            }
        }
    }
}
