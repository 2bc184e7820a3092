//! Photos: what a photo file really is, whether its structure is whole, and what it says
//! about itself.
//!
//! [`examine`] takes one file's bytes and answers three questions, each in its own part of
//! this module:
//! - *what is it?* — [`identify`] by content only (magic bytes and a few structures), named
//!   with PRONOM identifiers, and compared with the extension afterwards;
//! - *is it whole?* — a hand-written structural validator per format (`jpeg`, `png`, `tiff`,
//!   `gif`, `webp`, `jp2`, `heif`) that walks the file's own offsets and lengths once, without
//!   decoding and without allocating per byte, and optionally (`decode`) a full decode that
//!   proves the pixel data itself is sound;
//! - *what does it say?* — the [`Exif`] fields a catalogue needs, and the [`Technical`]
//!   properties (size, depth, colour, compression) read from the image header.
//!
//! Every finding is a [`Problem`] with a `PHOTO-…` code that names the file. The module knows
//! nothing of metadata sidecars or collections: callers decide which files are photos and
//! what to do with the reports.

mod bytes;
mod decode;
pub(crate) mod exif;
mod exif_walk;
mod formats;
mod gif;
mod gps;
mod heif;
pub(crate) mod identify;
mod isobox;
mod jp2;
mod jpeg;
mod jpeg_scan;
mod png;
mod tiff;
mod tiff_lzw;
mod tiffio;
mod webp;

use std::fmt;

use serde::Serialize;

use crate::error::{Code, Problem};
use crate::paths::printable;
use identify::Family;

pub use self::exif::Exif;
pub use formats::{FormatClass, FormatId, PRONOM_SIGNATURE_RELEASE};
pub use identify::{Candidate, Identification, identify};

/// Technical properties read from the image header (the main image, for multi-image files).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Technical {
    /// Width in pixels.
    pub width: Option<u32>,
    /// Height in pixels.
    pub height: Option<u32>,
    /// Bits per sample (per channel; per palette index for palette images).
    pub bits_per_sample: Option<u16>,
    /// Samples (channels) per pixel.
    pub samples_per_pixel: Option<u16>,
    /// Colour model: `RGB`, `YCbCr`, `Greyscale`, `Palette`, `CMYK`, `sRGB`, …
    pub colour_space: Option<String>,
    /// Compression: `JPEG baseline DCT`, `Deflate`, `LZW`, `Uncompressed`, …
    pub compression: Option<String>,
}

/// Whether an image was decoded (`qoima check --decode`), in one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecodeStatus {
    /// Every image in the file decoded.
    Decoded,
    /// Decoding was asked for but not done: no decoder for the format or this variant of it,
    /// over the memory budget, or structure already damaged. The reason says which.
    NotDecoded,
    /// The decoder failed: the image data is damaged (`PHOTO-050`, `PHOTO-051`).
    Failed,
    /// Decoding was not asked for (no `--decode`).
    NotRequested,
}

/// The outcome of decoding one file, with the reason when it was not decoded or failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decode {
    /// Decoded, not decoded, failed, or not requested.
    pub status: DecodeStatus,
    /// Why it was not decoded, or what the decoder said; absent when decoded or not requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Decode {
    fn new(status: DecodeStatus, reason: Option<String>) -> Decode {
        Decode { status, reason }
    }

    /// Whether the pixel data was proved sound by a full decode.
    pub fn is_decoded(&self) -> bool {
        self.status == DecodeStatus::Decoded
    }
}

/// What [`examine`] found in one file.
#[derive(Clone, Debug, Serialize)]
pub struct PhotoReport {
    /// The format, identified from content; `None` when nothing matched.
    pub format: Option<FormatId>,
    /// How the format was reached: the PRONOM candidates and why one was chosen (images only).
    pub identification: Option<Identification>,
    /// Size, depth, colour and compression, as far as the header could be read.
    pub technical: Technical,
    /// Exif metadata, when the file has any.
    pub exif: Option<Exif>,
    /// Whether the image data was decoded, and if not, why.
    pub decode: Decode,
    /// Every problem found, each naming the file.
    pub problems: Vec<Problem>,
}

impl PhotoReport {
    /// Whether no problem counts against the file (warnings do not).
    pub fn is_valid(&self) -> bool {
        !self.problems.iter().any(Problem::is_error)
    }
}

/// The memory one decode may use unless the caller says otherwise (`--decode-memory`).
pub use decode::DEFAULT_BUDGET as DEFAULT_DECODE_BUDGET;

/// Examines one photo held in memory. `rel_path` is used for the extension check and to name
/// the file in every problem; it is never used to decide the format. With `decode`, files
/// whose structure is sound are also fully decoded, within [`DEFAULT_DECODE_BUDGET`] bytes of
/// memory. Linear in the size of the file.
pub fn examine(rel_path: &str, data: &[u8], decode: bool) -> PhotoReport {
    examine_within(rel_path, data, decode.then_some(DEFAULT_DECODE_BUDGET))
}

/// [`examine`], decoding (when `decode_budget` is given) within that many bytes of memory: a
/// file whose header asks for more is reported as not decoded (`PHOTO-W005`), and nothing is
/// allocated for it.
pub fn examine_within(rel_path: &str, data: &[u8], decode_budget: Option<u64>) -> PhotoReport {
    let mut out = Findings::new(rel_path);
    let mut technical = Technical::default();
    let mut exif = None;
    let mut decoded = Decode::new(DecodeStatus::NotRequested, None);
    let detected = identify::detect(data);
    let ext = extension(rel_path);
    match detected {
        None => {
            let start = hex_start(data);
            match &ext {
                Some(e) if formats::is_image_extension(e) => out.push(
                    Code::PhotoUnrecognised,
                    format!("the name says .{e}, but the content is no image format qoima knows (it starts {start})"),
                ),
                _ => out.push(
                    Code::PhotoUnidentified,
                    format!("the content is no image format qoima knows (it starts {start}), so it was not checked"),
                ),
            }
        }
        Some((Family::Empty, _)) => out.push(Code::PhotoEmpty, "the file is empty (0 bytes)"),
        Some((Family::Text, f)) => {
            let why = if f == formats::HTML {
                " (often the error page a failed download leaves in place of the file)"
            } else {
                ""
            };
            out.push(
                Code::PhotoNotImage,
                format!("the file is text, not an image: {}{why}", describe(&f)),
            );
        }
        Some((family, f)) => {
            if let Some(e) = &ext
                && !f.extensions.contains(&e.as_str())
                && formats::is_image_extension(e)
            {
                out.push(
                    Code::PhotoExtensionMismatch,
                    format!(
                        "the name says .{e}, but the content is {} (usual extension .{})",
                        describe(&f),
                        f.extensions[0]
                    ),
                );
            }
            structure(family, f, data, &mut technical, &mut out);
            let damaged = out.problems.iter().any(Problem::is_error);
            match self::exif::read(family, data) {
                Ok(found) => exif = found.map(|read| exif_losses(read, &mut out)),
                // Damage already reported usually explains unreadable Exif; say it once.
                Err(_) if damaged => {}
                Err(why) => out.push(
                    Code::ExifUnreadable,
                    format!("the Exif metadata cannot be read: {why}"),
                ),
            }
            if let Some(budget) = decode_budget {
                decoded = if damaged {
                    Decode::new(
                        DecodeStatus::NotDecoded,
                        Some("the structure is damaged (see the errors), so the image data was not decoded".into()),
                    )
                } else {
                    decoded_outcome(decode::decode(family, data, budget), budget, &mut out)
                };
            }
        }
    }
    if decode_budget.is_some() && decoded.status == DecodeStatus::NotRequested {
        let why = if detected.is_none() {
            "the content is no image format qoima knows"
        } else {
            "the file is not an image"
        };
        decoded = Decode::new(DecodeStatus::NotDecoded, Some(why.into()));
    }
    let identification = detected
        .filter(|(_, f)| f.class == FormatClass::Image)
        .map(|(family, f)| identify::identification(data, family, &f));
    PhotoReport {
        format: detected.map(|d| d.1),
        identification,
        technical,
        exif,
        decode: decoded,
        problems: out.problems,
    }
}

/// Reports what decoding found, as a status and, for damage or a file not decoded, a problem.
fn decoded_outcome(outcome: decode::Outcome, budget: u64, out: &mut Findings<'_>) -> Decode {
    match outcome {
        decode::Outcome::Decoded => Decode::new(DecodeStatus::Decoded, None),
        decode::Outcome::Failed(why) => {
            out.push(
                Code::PhotoDecodeFailed,
                format!("the image data does not decode: {why}"),
            );
            Decode::new(DecodeStatus::Failed, Some(why))
        }
        decode::Outcome::Truncated(why) => {
            out.push(Code::JpegScanTruncated, &why);
            Decode::new(DecodeStatus::Failed, Some(why))
        }
        decode::Outcome::NotDecoded(why) => {
            out.push(Code::PhotoNotDecoded, format!("not decoded: {why}"));
            Decode::new(DecodeStatus::NotDecoded, Some(why))
        }
        decode::Outcome::OverBudget { needed } => {
            let needs = match needed {
                Some(n) => format!("its header asks for {}", crate::verdict::human_bytes(n)),
                None => "it needs more memory than that".to_string(),
            };
            let why = format!(
                "over the decoding memory budget of {} (--decode-memory); {needs}",
                crate::verdict::limit_bytes(budget)
            );
            out.push(Code::PhotoOverDecodeBudget, format!("not decoded: {why}"));
            Decode::new(DecodeStatus::NotDecoded, Some(why))
        }
    }
}

/// Reports what part of an Exif block could not be read, and returns what could.
fn exif_losses(read: self::exif::ExifRead, out: &mut Findings<'_>) -> Exif {
    for loss in &read.losses {
        out.push_field(
            Code::ExifPartlyUnreadable,
            loss.ifd,
            format!(
                "part of the Exif metadata cannot be read, the rest was kept: {}: {}",
                loss.ifd, loss.why
            ),
        );
    }
    for note in &read.gps_notes {
        out.push_field(
            Code::GpsUnreadable,
            note.tag,
            format!("the GPS position: {}: {}", note.tag, note.why),
        );
    }
    read.exif
}

fn structure(
    family: Family,
    format: FormatId,
    data: &[u8],
    tech: &mut Technical,
    out: &mut Findings<'_>,
) {
    match family {
        Family::Jpeg => jpeg::check(data, tech, out),
        Family::Png => png::check(data, tech, out),
        Family::Tiff => tiff::check(data, tech, out),
        Family::Gif => gif::check(data, tech, out),
        Family::WebP => webp::check(data, tech, out),
        Family::Jp2 => jp2::check_jp2(data, format, tech, out),
        Family::J2c => jp2::check_j2c(data, tech, out),
        Family::Heif => heif::check(data, tech, out),
        Family::Empty | Family::Text => {}
    }
}

/// `JPEG File Interchange Format 1.01 (fmt/43)`.
fn describe(format: &FormatId) -> String {
    let mut text = format.name.to_string();
    if let Some(version) = format.version {
        text.push(' ');
        text.push_str(version);
    }
    if let Some(puid) = format.puid {
        text.push_str(&format!(" ({puid})"));
    }
    text
}

/// The lower-case extension of the last path component, if it has one.
fn extension(rel_path: &str) -> Option<String> {
    let name = rel_path.rsplit(['/', '\\']).next().unwrap_or(rel_path);
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

fn hex_start(data: &[u8]) -> String {
    let mut text = String::from("with bytes");
    for byte in data.iter().take(8) {
        text.push_str(&format!(" {byte:02X}"));
    }
    text
}

/// Problems found in one file; every one names it.
pub(crate) struct Findings<'a> {
    file: &'a str,
    pub(crate) problems: Vec<Problem>,
}

impl<'a> Findings<'a> {
    pub(crate) fn new(file: &'a str) -> Self {
        Findings {
            file,
            problems: Vec::new(),
        }
    }

    /// Records a problem; the message is prefixed with the file's (printable) name.
    pub(crate) fn push(&mut self, code: Code, msg: impl fmt::Display) {
        let message = format!("{}: {msg}", printable(self.file));
        self.problems
            .push(Problem::new(code, message).file(self.file));
    }

    /// Records a problem about one field (a tag, a chunk).
    pub(crate) fn push_field(
        &mut self,
        code: Code,
        field: impl Into<String>,
        msg: impl fmt::Display,
    ) {
        self.push(code, msg);
        let last = self.problems.pop().expect("just pushed");
        self.problems.push(last.field(field));
    }
}

/// Reports bytes after a format's end marker, unless they are only zero padding.
pub(crate) fn trailing(data: &[u8], after: usize, what: &str, out: &mut Findings<'_>) {
    let Some(rest) = data.get(after..) else {
        return;
    };
    if rest.iter().all(|&b| b == 0) {
        return;
    }
    out.push(
        Code::PhotoTrailingData,
        format!(
            "{} bytes follow {what} (from byte {after}); image readers ignore them",
            rest.len()
        ),
    );
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::{Path, PathBuf};

    use proptest::prelude::*;

    use super::*;

    pub(crate) fn codes_of(problems: &[Problem]) -> Vec<&'static str> {
        problems.iter().map(|p| p.code.as_str()).collect()
    }

    /// An ISO base-media / JP2 box: 32-bit size, type, content.
    pub(crate) fn bx(typ: &[u8; 4], content: &[u8]) -> Vec<u8> {
        let mut b = ((content.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(typ);
        b.extend_from_slice(content);
        b
    }

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
    }

    fn examine_fixture(rel: &str, decode: bool) -> PhotoReport {
        let data = std::fs::read(fixtures().join(rel)).unwrap();
        examine(rel, &data, decode)
    }

    #[test]
    fn good_fixtures_pass_with_their_pronom_ids() {
        for (name, puid, size) in [
            ("tiny.jpg", "fmt/43", (32, 24)),
            ("tiny.png", "fmt/11", (32, 24)),
            ("tiny.tif", "fmt/353", (32, 24)),
            ("tiny.gif", "fmt/4", (32, 24)),
            ("tiny.webp", "fmt/567", (32, 24)),
        ] {
            let rel = format!("photos/good/{name}");
            let r = examine_fixture(&rel, true);
            assert!(r.problems.is_empty(), "{rel}: {:?}", r.problems);
            assert_eq!(r.format.unwrap().puid, Some(puid), "{rel}");
            assert_eq!(
                (r.technical.width, r.technical.height),
                (Some(size.0), Some(size.1)),
                "{rel}"
            );
            assert_eq!(r.decode.status, DecodeStatus::Decoded, "{rel}");
            assert_eq!(r.exif, None, "{rel}: the generator strips metadata");
        }
    }

    #[test]
    fn each_broken_fixture_gives_its_code() {
        for (name, code) in [
            ("truncated.jpg", "PHOTO-010"),
            ("bad-marker.jpg", "PHOTO-011"),
            ("png-bad-crc.png", "PHOTO-021"),
            ("png-no-iend.png", "PHOTO-023"),
            ("png-ihdr-not-first.png", "PHOTO-022"),
            ("tiff-bad-ifd-offset.tif", "PHOTO-031"),
            ("tiff-strip-beyond-eof.tif", "PHOTO-033"),
            ("empty.jpg", "PHOTO-001"),
            ("html-error-page.jpg", "PHOTO-002"),
            ("png-named.jpg", "PHOTO-W001"),
        ] {
            let rel = format!("photos/broken/{name}");
            let r = examine_fixture(&rel, true);
            assert_eq!(codes_of(&r.problems), [code], "{rel}: {:#?}", r.problems);
            let p = &r.problems[0];
            assert_eq!(p.location.file.as_deref(), Some(rel.as_str()));
            assert!(p.message.starts_with(&rel), "{}", p.message);
            assert_eq!(r.is_valid(), code.contains("-W"), "{rel}");
            if code.contains("-W") {
                assert_eq!(
                    r.decode.status,
                    DecodeStatus::Decoded,
                    "{rel}: a sound file is still decoded"
                );
            } else {
                assert_eq!(
                    r.decode.status,
                    DecodeStatus::NotDecoded,
                    "{rel}: damaged files are not decoded"
                );
            }
        }
    }

    /// Date, camera maker, orientation, and whether there is a GPS position.
    type Written = (&'static str, &'static str, u16, bool);

    /// The generator's Exif, per file (`None`: it wrote none).
    const QANTAR: &[(&str, Option<Written>)] = &[
        (
            "01-january/001-oyan-march.jpg",
            Some(("2022:01:04 19:30:00", "Canon", 1, true)),
        ),
        (
            "01-january/002-ryskulov-momyshuly.jpg",
            Some(("2022:01:04 20:45:00", "Canon", 1, true)),
        ),
        (
            "01-january/003-abay-street.jpg",
            Some(("2022:01:04 21:50:00", "SONY", 1, true)),
        ),
        ("01-january/004-cars-with-flags.png", None),
        ("01-january/005-republic-square-night.png", None),
        (
            "01-january/006-clashes-republic-square.jpg",
            Some(("2022:01:05 01:40:00", "SONY", 1, true)),
        ),
        (
            "01-january/007-akimat-clashes.tif",
            Some(("2022:01:05 02:15:00", "NIKON CORPORATION", 1, true)),
        ),
        (
            "01-january/008-retreat-astana-square.jpg",
            Some(("2022:01:05 03:05:00", "NIKON CORPORATION", 1, true)),
        ),
        (
            "01-january/009-up timiryazev street.jpg",
            Some(("2022:01:05 03:20:00", "NIKON CORPORATION", 6, true)),
        ),
        (
            "01-january/010-morning-armoured-vehicles.tif",
            Some(("2022:01:05 08:40:00", "FUJIFILM", 1, true)),
        ),
        (
            "01-january/011-midday-march.jpg",
            Some(("2022:01:05 12:50:00", "Canon", 1, false)),
        ),
        (
            "01-january/012-republic-square-midday.png",
            Some(("2022:01:05 13:10:00", "Canon", 1, true)),
        ),
        (
            "01-january/013-republic-square-jan-10.jpg",
            Some(("2022:01:10 14:00:00", "FUJIFILM", 1, true)),
        ),
        (
            "02-after-january/014-relatives-prosecutor-office.jpg",
            Some(("2022:02:01 11:20:00", "Canon", 1, true)),
        ),
        (
            "02-after-january/митинг 5 февраля.jpg",
            Some(("2022:02:05 12:00:00", "SONY", 1, false)),
        ),
        (
            "02-after-january/016-mourning-rally.png",
            Some(("2022:02:13 13:00:00", "SONY", 1, false)),
        ),
        (
            "02-after-january/017-lawyers-office.jpg",
            Some(("2022:05:15 16:30:00", "FUJIFILM", 1, false)),
        ),
        (
            "02-after-january/018-city-prosecutor-protest.tif",
            Some(("2022:06:01 10:30:00", "FUJIFILM", 1, true)),
        ),
        (
            "02-after-january/019-remembrance-republic-square.jpg",
            Some(("2022:07:06 11:00:00", "Canon", 1, true)),
        ),
        (
            "02-after-january/020-monument-project.jpg",
            Some(("2022:07:06 11:40:00", "Canon", 1, true)),
        ),
        (
            "02-after-january/021-vigil-presidential-administration.jpg",
            Some(("2022:07:11 22:30:00", "SONY", 1, false)),
        ),
        (
            "02-after-january/022-mamay-trial.jpg",
            Some(("2022:11:09 10:15:00", "NIKON CORPORATION", 1, false)),
        ),
        (
            "02-after-january/023-relatives-from-taraz.jpg",
            Some(("2022:12:22 12:40:00", "NIKON CORPORATION", 8, false)),
        ),
        (
            "02-after-january/024-tagzym-memorial.tif",
            Some(("2022:12:23 12:00:00", "FUJIFILM", 1, true)),
        ),
    ];

    #[test]
    fn the_sample_collection_is_sound_and_its_exif_is_read() {
        let dir = "collections/qantar-2022/photos";
        let mut on_disk = 0;
        for sub in ["01-january", "02-after-january"] {
            on_disk += std::fs::read_dir(fixtures().join(dir).join(sub))
                .unwrap()
                .count();
        }
        assert_eq!(
            on_disk,
            QANTAR.len(),
            "every photo of the collection is in the table"
        );
        for &(file, expected) in QANTAR {
            let rel = format!("{dir}/{file}");
            let r = examine_fixture(&rel, true);
            assert!(r.problems.is_empty(), "{rel}: {:#?}", r.problems);
            assert_eq!(r.decode.status, DecodeStatus::Decoded, "{rel}");
            let f = r.format.unwrap();
            if rel.ends_with(".jpg") {
                // JFIF APP0 first, Exif APP1 second: PRONOM calls that JFIF 1.01.
                assert_eq!(f.puid, Some("fmt/43"), "{rel}");
            }
            assert!(
                r.technical.width.is_some() && r.technical.height.is_some(),
                "{rel}"
            );
            match (expected, r.exif) {
                (None, None) => {}
                (Some((date, make, orientation, gps)), Some(e)) => {
                    assert_eq!(e.date_time_original.as_deref(), Some(date), "{rel}");
                    assert_eq!(e.offset_time_original.as_deref(), Some("+06:00"), "{rel}");
                    assert_eq!(e.make.as_deref(), Some(make), "{rel}");
                    assert_eq!(e.orientation, Some(orientation), "{rel}");
                    assert_eq!(e.gps_latitude.is_some(), gps, "{rel}");
                    assert_eq!(e.gps_longitude.is_some(), gps, "{rel}");
                    if let Some(lat) = e.gps_latitude {
                        assert!((43.0..43.3).contains(&lat), "{rel}: {lat}");
                        assert!((76.8..77.0).contains(&e.gps_longitude.unwrap()), "{rel}");
                    }
                }
                (want, got) => panic!("{rel}: expected Exif {want:?}, read {got:?}"),
            }
        }
    }

    #[test]
    fn corrupt_pixel_data_is_found_only_by_decoding() {
        // tiny.png with a byte of its compressed data changed and the CRC made to match: the
        // structure is sound, the pixels are not.
        let mut png = std::fs::read(fixtures().join("photos/good/tiny.png")).unwrap();
        let idat = png.windows(4).position(|w| w == b"IDAT").unwrap();
        let len = u32::from_be_bytes(png[idat - 4..idat].try_into().unwrap()) as usize;
        png[idat + 4 + len / 2] ^= 0x55;
        let crc = crc32fast::hash(&png[idat..idat + 4 + len]);
        png[idat + 4 + len..idat + 8 + len].copy_from_slice(&crc.to_be_bytes());
        assert!(examine("x.png", &png, false).problems.is_empty());
        let r = examine("x.png", &png, true);
        assert_eq!(codes_of(&r.problems), ["PHOTO-050"], "{:#?}", r.problems);
        assert_eq!(r.decode.status, DecodeStatus::Failed);

        // tiny.jpg without its Huffman tables (DHT): every segment is well formed, but the
        // scan cannot be decoded.
        let jpg = std::fs::read(fixtures().join("photos/good/tiny.jpg")).unwrap();
        let mut no_dht = jpg[..2].to_vec();
        let mut pos = 2;
        while jpg[pos + 1] != 0xDA {
            let end = pos + 2 + usize::from(u16::from_be_bytes([jpg[pos + 2], jpg[pos + 3]]));
            if jpg[pos + 1] != 0xC4 {
                no_dht.extend_from_slice(&jpg[pos..end]);
            }
            pos = end;
        }
        no_dht.extend_from_slice(&jpg[pos..]);
        assert!(no_dht.len() < jpg.len());
        assert!(examine("x.jpg", &no_dht, false).problems.is_empty());
        assert_eq!(
            codes_of(&examine("x.jpg", &no_dht, true).problems),
            ["PHOTO-050"]
        );
    }

    #[test]
    fn unknown_content_by_extension() {
        let junk = b"\x00\x01\x02\x03 not an image";
        assert_eq!(
            codes_of(&examine("a/b.jpg", junk, false).problems),
            ["PHOTO-003"]
        );
        assert_eq!(
            codes_of(&examine("a/b.cr3", junk, false).problems),
            ["PHOTO-W002"]
        );
        assert_eq!(
            codes_of(&examine("a/noext", junk, false).problems),
            ["PHOTO-W002"]
        );
        let r = examine("a/b.JPG", junk, false);
        assert!(
            r.problems[0].message.contains(".jpg"),
            "{}",
            r.problems[0].message
        );
    }

    #[test]
    fn extension_rules() {
        assert_eq!(extension("a/b.JPG").as_deref(), Some("jpg"));
        assert_eq!(extension("a.b/c"), None);
        assert_eq!(extension("a/.hidden"), None);
        assert_eq!(extension("x.tar.gz").as_deref(), Some("gz"));
        // An unknown extension is not a mismatch; a known one of another format is.
        let png = std::fs::read(fixtures().join("photos/good/tiny.png")).unwrap();
        assert!(examine("x.bak", &png, false).problems.is_empty());
        assert!(examine("x.PNG", &png, false).problems.is_empty());
        assert_eq!(
            codes_of(&examine("x.tif", &png, false).problems),
            ["PHOTO-W001"]
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Damaged input of any kind gives problems, never a panic.
        #[test]
        fn mutated_fixtures_never_panic(
            which in 0usize..10,
            cut in any::<prop::sample::Index>(),
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        ) {
            let names = [
                "photos/good/tiny.jpg", "photos/good/tiny.png", "photos/good/tiny.tif",
                "photos/good/tiny.gif", "photos/good/tiny.webp",
                "collections/qantar-2022/photos/01-january/007-akimat-clashes.tif",
                // Exif read entry by entry, GPS in every form, and the TIFF flavours.
                "photos/exif/gps-srational.jpg", "photos/exif/drone-gps.tif",
                "photos/exif/iphone-exif-prefix.webp", "photos/identify/nikon-raw.nef",
            ];
            let mut data = std::fs::read(fixtures().join(names[which])).unwrap();
            for (at, byte) in flips {
                let i = at.index(data.len());
                data[i] = byte;
            }
            data.truncate(cut.index(data.len() + 1));
            let _ = examine(names[which], &data, true);
        }
    }
}
