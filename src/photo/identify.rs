//! Format identification by content, with PRONOM identifiers.
//!
//! A file's name is a claim; its first bytes are evidence. qoima identifies a file from its
//! content only, the way DROID and siegfried do, and names what it finds with the PRONOM
//! registry's format name, version and PUID, so that a report can be read against the
//! registry and compared with those tools. The extension is compared with the result
//! afterwards (`examine`), never used to reach it.
//!
//! Each PUID below was checked against the National Archives' own PRONOM records (the
//! `nationalarchives/pronom-signatures` repository, one JSON record per PUID, and the PRONOM
//! site's tests) — see the comment on each. Where PRONOM has no record, or none could be
//! confirmed, the PUID is `None` rather than a guess.
//!
//! Versions follow PRONOM's signatures: JFIF by the APP0 version bytes, Exif JPEG by the
//! ExifVersion tag in the APP1 segment (only when APP1 comes first, as PRONOM requires: a JFIF
//! file that also carries Exif is JFIF), PNG 1.0/1.1/1.2 by the chunks that version introduced
//! (iCCP, sPLT, sRGB → 1.1; iTXt → 1.2), DNG by its DNGVersion tag. PRONOM's signatures also
//! want an end marker near the end of the file; qoima does not, because a missing end marker is
//! reported as damage (truncation), not as a different format.

use serde::Serialize;

use super::bytes::{be16, be32, slice};
use super::tiffio;

/// What kind of content a [`FormatId`] names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FormatClass {
    /// A still-image format.
    Image,
    /// A file of zero bytes.
    Empty,
    /// Text: HTML, XML or plain text — not a photo, whatever its name says.
    Text,
}

/// A format, as identified from content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FormatId {
    /// PRONOM's format name, e.g. `JPEG File Interchange Format`.
    pub name: &'static str,
    /// PRONOM's version label, e.g. `1.01`.
    pub version: Option<&'static str>,
    /// The PRONOM unique identifier, e.g. `fmt/43`, when one applies and could be confirmed.
    pub puid: Option<&'static str>,
    /// The media type.
    pub mime: &'static str,
    /// The usual extensions, lower case, without the dot; the first is the preferred one.
    pub extensions: &'static [&'static str],
    /// Image, empty file, or text.
    pub class: FormatClass,
}

/// The validator a format needs (internal: which structure to walk).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Jpeg,
    Png,
    Tiff,
    Gif,
    WebP,
    Jp2,
    J2c,
    Heif,
    Empty,
    Text,
}

const fn image(
    name: &'static str,
    version: Option<&'static str>,
    puid: Option<&'static str>,
    mime: &'static str,
    extensions: &'static [&'static str],
) -> FormatId {
    FormatId {
        name,
        version,
        puid,
        mime,
        extensions,
        class: FormatClass::Image,
    }
}

const JPEG_EXT: &[&str] = &["jpg", "jpeg", "jpe", "jif", "jfif", "jfi"];
const JFIF: &str = "JPEG File Interchange Format";
const EXIF: &str = "Exchangeable Image File Format (Compressed)";

// Raw JPEG Stream: PRONOM fmt/41 (signatures/fmt/41.json) — any SOI-led JPEG that no more
// specific signature claims.
pub(crate) const RAW_JPEG: FormatId = image(
    "Raw JPEG Stream",
    None,
    Some("fmt/41"),
    "image/jpeg",
    JPEG_EXT,
);
// JFIF 1.00, 1.01, 1.02: fmt/42, fmt/43, fmt/44 (fmt/43 record read; the PRONOM site's tests
// list all three as related formats of fmt/41).
pub(crate) const JFIF_100: FormatId =
    image(JFIF, Some("1.00"), Some("fmt/42"), "image/jpeg", JPEG_EXT);
pub(crate) const JFIF_101: FormatId =
    image(JFIF, Some("1.01"), Some("fmt/43"), "image/jpeg", JPEG_EXT);
pub(crate) const JFIF_102: FormatId =
    image(JFIF, Some("1.02"), Some("fmt/44"), "image/jpeg", JPEG_EXT);
// Exif compressed (JPEG with APP1 first), by ExifVersion: 2.0 x-fmt/398, 2.1 x-fmt/390,
// 2.2 x-fmt/391, 2.21 fmt/645, 2.3.x fmt/1507 (records x-fmt/390, x-fmt/391, fmt/645 and
// fmt/1507 read; x-fmt/398 from the PRONOM site's tests: "Exchangeable Image File Format
// (Compressed) 2.0").
pub(crate) const EXIF_20: FormatId =
    image(EXIF, Some("2.0"), Some("x-fmt/398"), "image/jpeg", JPEG_EXT);
pub(crate) const EXIF_21: FormatId =
    image(EXIF, Some("2.1"), Some("x-fmt/390"), "image/jpeg", JPEG_EXT);
pub(crate) const EXIF_22: FormatId =
    image(EXIF, Some("2.2"), Some("x-fmt/391"), "image/jpeg", JPEG_EXT);
pub(crate) const EXIF_221: FormatId =
    image(EXIF, Some("2.21"), Some("fmt/645"), "image/jpeg", JPEG_EXT);
pub(crate) const EXIF_23: FormatId = image(
    EXIF,
    Some("2.3.x"),
    Some("fmt/1507"),
    "image/jpeg",
    JPEG_EXT,
);

const PNG: &str = "Portable Network Graphics";
// PNG 1.0 fmt/11, 1.1 fmt/12 (iCCP, sPLT or sRGB), 1.2 fmt/13 (iTXt): records read.
pub(crate) const PNG_10: FormatId = image(PNG, Some("1.0"), Some("fmt/11"), "image/png", &["png"]);
pub(crate) const PNG_11: FormatId = image(PNG, Some("1.1"), Some("fmt/12"), "image/png", &["png"]);
pub(crate) const PNG_12: FormatId = image(PNG, Some("1.2"), Some("fmt/13"), "image/png", &["png"]);

// TIFF: fmt/353, the generic PRONOM entry for both byte orders (record read).
pub(crate) const TIFF: FormatId = image(
    "Tagged Image File Format",
    None,
    Some("fmt/353"),
    "image/tiff",
    &["tif", "tiff"],
);
// Exif uncompressed (a TIFF whose Exif IFD has ExifVersion 0220 or 0210): x-fmt/387 and
// x-fmt/388, which DROID prefers to fmt/353. The signature searches the bytes of the ExifVersion
// entry within 128 KiB (2.2) or 64 KiB (2.1) of either end of the file; qoima reads the tag by
// following IFD0's Exif pointer, wherever it is.
pub(crate) const EXIF_TIFF_22: FormatId = image(
    "Exchangeable Image File Format (Uncompressed)",
    Some("2.2"),
    Some("x-fmt/387"),
    "image/tiff",
    &["tif", "tiff"],
);
pub(crate) const EXIF_TIFF_21: FormatId = image(
    "Exchangeable Image File Format (Uncompressed)",
    Some("2.1"),
    Some("x-fmt/388"),
    "image/tiff",
    &["tif", "tiff"],
);
// GeoTIFF fmt/155: a TIFF whose IFD0 has a GeoKeyDirectoryTag (0x87AF, SHORT). DROID looks for
// the entry's bytes within 4 KiB of either end; qoima reads IFD0. PRONOM ranks it above
// x-fmt/387, x-fmt/388 and fmt/353.
pub(crate) const GEOTIFF: FormatId = image(
    "Geographic Tagged Image File Format (GeoTIFF)",
    None,
    Some("fmt/155"),
    "image/tiff",
    &["tif", "tiff"],
);
// Nikon raw (NEF) fmt/202: a Nikon type-2 maker note and an uncompressed or Nikon-compressed
// full-resolution image (`tiffio::is_nikon_raw`). PRONOM ranks DNG above it, and it above
// fmt/353, but not above the Exif TIFFs.
pub(crate) const NEF: FormatId = image(
    "Nikon Digital SLR Camera Raw Image File",
    None,
    Some("fmt/202"),
    "image/x-nikon-nef",
    &["nef", "nrw"],
);
// Canon RAW 2 (CR2) fmt/592: `II*\0`, first IFD at 16, then `CR` and major version 2.
pub(crate) const CR2: FormatId = image(
    "Canon RAW",
    Some("2.0"),
    Some("fmt/592"),
    "image/x-canon-cr2",
    &["cr2"],
);
// BigTIFF: no PRONOM record confirmed.
pub(crate) const BIGTIFF: FormatId = image(
    "BigTIFF",
    None,
    None,
    "image/tiff",
    &["tif", "tiff", "btf", "tf8"],
);
const DNG: &str = "Digital Negative Format (DNG)";
const DNG_EXT: &[&str] = &["dng", "tif", "tiff"];
// DNG by DNGVersion: 1.0 fmt/436, 1.1 fmt/152, 1.2 fmt/437, 1.3 fmt/438, 1.4 fmt/730 (records
// read). PRONOM has later versions too, but their PUIDs could not be confirmed: None.
pub(crate) const DNG_10: FormatId = image(
    DNG,
    Some("1.0"),
    Some("fmt/436"),
    "image/x-adobe-dng",
    DNG_EXT,
);
pub(crate) const DNG_11: FormatId = image(
    DNG,
    Some("1.1"),
    Some("fmt/152"),
    "image/x-adobe-dng",
    DNG_EXT,
);
pub(crate) const DNG_12: FormatId = image(
    DNG,
    Some("1.2"),
    Some("fmt/437"),
    "image/x-adobe-dng",
    DNG_EXT,
);
pub(crate) const DNG_13: FormatId = image(
    DNG,
    Some("1.3"),
    Some("fmt/438"),
    "image/x-adobe-dng",
    DNG_EXT,
);
pub(crate) const DNG_14: FormatId = image(
    DNG,
    Some("1.4"),
    Some("fmt/730"),
    "image/x-adobe-dng",
    DNG_EXT,
);
pub(crate) const DNG_15: FormatId = image(DNG, Some("1.5"), None, "image/x-adobe-dng", DNG_EXT);
pub(crate) const DNG_16: FormatId = image(DNG, Some("1.6"), None, "image/x-adobe-dng", DNG_EXT);
pub(crate) const DNG_17: FormatId = image(DNG, Some("1.7"), None, "image/x-adobe-dng", DNG_EXT);
pub(crate) const DNG_OTHER: FormatId = image(DNG, None, None, "image/x-adobe-dng", DNG_EXT);

const GIF: &str = "Graphics Interchange Format";
// GIF 87a fmt/3, 89a fmt/4 (records read).
pub(crate) const GIF_87A: FormatId = image(GIF, Some("87a"), Some("fmt/3"), "image/gif", &["gif"]);
pub(crate) const GIF_89A: FormatId = image(GIF, Some("89a"), Some("fmt/4"), "image/gif", &["gif"]);

// WebP lossy (VP8) fmt/566, lossless (VP8L) fmt/567, extended (VP8X) fmt/568 (records read).
pub(crate) const WEBP_LOSSY: FormatId = image(
    "WebP",
    Some("Lossy"),
    Some("fmt/566"),
    "image/webp",
    &["webp"],
);
pub(crate) const WEBP_LOSSLESS: FormatId = image(
    "WebP",
    Some("Lossless"),
    Some("fmt/567"),
    "image/webp",
    &["webp"],
);
pub(crate) const WEBP_EXTENDED: FormatId = image(
    "WebP",
    Some("Extended"),
    Some("fmt/568"),
    "image/webp",
    &["webp"],
);
pub(crate) const WEBP_OTHER: FormatId = image("WebP", None, None, "image/webp", &["webp"]);

// JP2: x-fmt/392 (record read: signature box then ftyp brand `jp2 `).
pub(crate) const JP2: FormatId = image(
    "JP2 (JPEG 2000 part 1)",
    None,
    Some("x-fmt/392"),
    "image/jp2",
    &["jp2"],
);
// JPX fmt/151, MJ2 fmt/337, JPM fmt/463: the ftyp brand after the signature box, as in the
// DROID signature file fido ships (each checked with fido in `tests/it/identify.rs`).
pub(crate) const JPX: FormatId = image(
    "JPX (JPEG 2000 part 2)",
    None,
    Some("fmt/151"),
    "image/jpx",
    &["jpx", "jpf"],
);
pub(crate) const MJ2: FormatId = image(
    "MJ2 (Motion JPEG 2000)",
    None,
    Some("fmt/337"),
    "video/mj2",
    &["mj2", "mjp2"],
);
pub(crate) const JPM: FormatId = image(
    "JPM (JPEG 2000 part 6)",
    None,
    Some("fmt/463"),
    "image/jpm",
    &["jpm", "jpgm"],
);
pub(crate) const JP2_FAMILY: FormatId = image(
    "JPEG 2000 family file",
    None,
    None,
    "image/jp2",
    &["jp2", "jpx", "jpf", "jpm"],
);
// A raw JPEG 2000 codestream: PRONOM has a record ("JPEG 2000 Codestream", format ID 2644),
// but its PUID could not be confirmed.
pub(crate) const J2C: FormatId = image(
    "JPEG 2000 Codestream",
    None,
    None,
    "image/j2c",
    &["j2c", "j2k", "jpc"],
);

const HEIF: &str = "High Efficiency Image File Format";
const HEIF_EXT: &[&str] = &["heic", "heif", "hif"];
// HEIF fmt/1101 (record read): ftyp major brand mif1, msf1, heic, heix, hevc or hevx.
pub(crate) const HEIC: FormatId = image(HEIF, None, Some("fmt/1101"), "image/heic", HEIF_EXT);
pub(crate) const HEIF_GENERIC: FormatId =
    image(HEIF, None, Some("fmt/1101"), "image/heif", HEIF_EXT);
// A HEIF file whose major brand is another (it lists mif1 only as a compatible brand):
// PRONOM's signature does not match it, so no PUID.
pub(crate) const HEIF_COMPATIBLE: FormatId = image(HEIF, None, None, "image/heif", HEIF_EXT);
// AVIF (a HEIF with AV1 images): PUID not confirmed.
pub(crate) const AVIF: FormatId =
    image("AV1 Image File Format", None, None, "image/avif", &["avif"]);

// Not photos. PRONOM identifiers are left out on purpose: these are reported as "not an
// image", and the exact HTML or text version is beside the point.
pub(crate) const EMPTY: FormatId = FormatId {
    name: "Empty file",
    version: None,
    puid: None,
    mime: "inode/x-empty",
    extensions: &[],
    class: FormatClass::Empty,
};
pub(crate) const HTML: FormatId = FormatId {
    name: "HTML document",
    version: None,
    puid: None,
    mime: "text/html",
    extensions: &["html", "htm"],
    class: FormatClass::Text,
};
pub(crate) const XML: FormatId = FormatId {
    name: "XML document",
    version: None,
    puid: None,
    mime: "application/xml",
    extensions: &["xml"],
    class: FormatClass::Text,
};
pub(crate) const TEXT: FormatId = FormatId {
    name: "Plain text",
    version: None,
    puid: None,
    mime: "text/plain",
    extensions: &["txt"],
    class: FormatClass::Text,
};

/// Every image format this module can name (for the extension check).
const ALL_IMAGES: &[FormatId] = &[
    RAW_JPEG,
    PNG_10,
    TIFF,
    CR2,
    NEF,
    BIGTIFF,
    DNG_OTHER,
    GIF_89A,
    WEBP_OTHER,
    JP2,
    JPX,
    MJ2,
    JPM,
    JP2_FAMILY,
    J2C,
    HEIF_GENERIC,
    AVIF,
];

/// Whether `ext` (lower case, no dot) is an extension of an image format qoima knows.
pub(crate) fn is_image_extension(ext: &str) -> bool {
    ALL_IMAGES.iter().any(|f| f.extensions.contains(&ext))
}

/// Identifies an image format from a file's first bytes (pass the whole file when you have
/// it: Exif, PNG and DNG versions are read from structures that may lie further in). Never
/// looks at a name. Returns `None` unless the content is an image format qoima knows — also
/// for an empty file or text, which [`examine`](super::examine) recognises and reports as "not
/// a photo" (its report's `format` then names them, with [`FormatClass::Empty`] or
/// [`FormatClass::Text`]).
pub fn identify(head: &[u8]) -> Option<FormatId> {
    detect(head)
        .map(|(_, f)| f)
        .filter(|f| f.class == FormatClass::Image)
}

/// The PRONOM signature release qoima's table follows: the DROID signature file bundled with
/// fido 1.6.1 (`DROID_SignatureFile-v109.xml`). A test reads fido's file to keep this in step.
pub const PRONOM_SIGNATURE_RELEASE: &str = "DROID signature file v109";

/// Identification plus the validator to run.
pub(crate) fn detect(d: &[u8]) -> Option<(Family, FormatId)> {
    if d.is_empty() {
        return Some((Family::Empty, EMPTY));
    }
    if d.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some((Family::Jpeg, jpeg_version(d)));
    }
    // The first four bytes only: a PNG whose signature was damaged in transfer (CR/LF
    // translation) is still a PNG, and its validator says so.
    if d.starts_with(b"\x89PNG") {
        return Some((Family::Png, png_version(d)));
    }
    if d.starts_with(b"II*\0") || d.starts_with(b"MM\0*") {
        return Some((Family::Tiff, tiff_version(d)));
    }
    if d.starts_with(b"II+\0") || d.starts_with(b"MM\0+") {
        return Some((Family::Tiff, BIGTIFF));
    }
    if d.starts_with(b"GIF87a") {
        return Some((Family::Gif, GIF_87A));
    }
    if d.starts_with(b"GIF89a") {
        return Some((Family::Gif, GIF_89A));
    }
    if d.starts_with(b"RIFF") && d.get(8..12) == Some(&b"WEBP"[..]) {
        let f = match d.get(12..16) {
            Some(b"VP8 ") => WEBP_LOSSY,
            Some(b"VP8L") => WEBP_LOSSLESS,
            Some(b"VP8X") => WEBP_EXTENDED,
            _ => WEBP_OTHER,
        };
        return Some((Family::WebP, f));
    }
    if d.starts_with(b"\0\0\0\x0CjP  \x0D\x0A\x87\x0A") {
        let f = match d.get(20..24) {
            Some(b"jp2 ") if d.get(16..20) == Some(&b"ftyp"[..]) => JP2,
            Some(b"jpx ") => JPX,
            Some(b"mjp2") => MJ2,
            Some(b"jpm ") => JPM,
            _ => JP2_FAMILY,
        };
        return Some((Family::Jp2, f));
    }
    if d.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) {
        return Some((Family::J2c, J2C));
    }
    if d.get(4..8) == Some(&b"ftyp"[..])
        && let Some(f) = heif_brand(d)
    {
        return Some((Family::Heif, f));
    }
    text_kind(d).map(|f| (Family::Text, f))
}

fn jpeg_version(d: &[u8]) -> FormatId {
    // The first segment after SOI decides, as in PRONOM's signatures.
    let Some(len) = be16(d, 4) else {
        return RAW_JPEG;
    };
    let seg = slice(d, 6, u64::from(len).saturating_sub(2)).unwrap_or(&d[d.len().min(6)..]);
    match d[3] {
        0xE0 if seg.starts_with(b"JFIF\0") && seg.len() >= 7 => match (seg[5], seg[6]) {
            (1, 0) => JFIF_100,
            (1, 1) => JFIF_101,
            (1, 2) => JFIF_102,
            _ => RAW_JPEG,
        },
        0xE1 if seg.starts_with(b"Exif\0\0") => match tiffio::exif_version(&seg[6..]) {
            Some(v) => match &v {
                b"0200" => EXIF_20,
                b"0210" => EXIF_21,
                b"0220" => EXIF_22,
                b"0221" => EXIF_221,
                [b'0', b'2', b'3', b'0'..=b'9'] => EXIF_23,
                _ => RAW_JPEG,
            },
            None => RAW_JPEG,
        },
        _ => RAW_JPEG,
    }
}

fn png_version(d: &[u8]) -> FormatId {
    // Hop from chunk to chunk by the declared lengths; stop at anything inconsistent (the
    // validator reports it).
    let (mut v11, mut v12) = (false, false);
    let mut pos: u64 = 8;
    while let (Some(len), Some(typ)) = (be32(d, pos), slice(d, pos + 4, 4)) {
        match typ {
            b"iTXt" => v12 = true,
            b"iCCP" | b"sPLT" | b"sRGB" => v11 = true,
            b"IEND" => break,
            _ => {}
        }
        pos += 12 + u64::from(len);
    }
    if v12 {
        PNG_12
    } else if v11 {
        PNG_11
    } else {
        PNG_10
    }
}

/// Every TIFF-based PRONOM format whose signature the file matches once PRONOM's own
/// priorities are applied, the one qoima reports first. PRONOM ranks DNG and GeoTIFF above the
/// Exif TIFFs (x-fmt/387, x-fmt/388), and all of them above plain TIFF (fmt/353); it ranks
/// neither of DNG and GeoTIFF above the other, nor CR2 or NEF above the Exif TIFFs, so those
/// can come out together (DNG outranks NEF). qoima then reports the most specific: the raw format (DNG, CR2, NEF) before
/// georeferencing (GeoTIFF) before the Exif version of the metadata.
fn tiff_matches(d: &[u8]) -> Vec<FormatId> {
    let mut found = Vec::new();
    if let Some(version) = tiffio::dng_version(d) {
        found.push(dng(version));
    }
    if d.starts_with(b"II*\0\x10\0\0\0CR\x02") {
        found.push(CR2);
    }
    if found.is_empty() && tiffio::is_nikon_raw(d) {
        found.push(NEF);
    }
    if tiffio::has_geokeys(d) {
        found.push(GEOTIFF);
    }
    let exif = match tiffio::exif_version(d).as_ref() {
        Some(b"0220") => Some(EXIF_TIFF_22),
        Some(b"0210") => Some(EXIF_TIFF_21),
        _ => None,
    };
    let outranked = found.iter().any(|f| f.name == DNG || *f == GEOTIFF);
    if let Some(exif) = exif
        && !outranked
    {
        found.push(exif);
    }
    if found.is_empty() {
        found.push(TIFF);
    }
    found
}

fn tiff_version(d: &[u8]) -> FormatId {
    tiff_matches(d)[0]
}

fn dng(version: [u8; 4]) -> FormatId {
    match version {
        [1, 0, ..] => DNG_10,
        [1, 1, ..] => DNG_11,
        [1, 2, ..] => DNG_12,
        [1, 3, ..] => DNG_13,
        [1, 4, ..] => DNG_14,
        [1, 5, ..] => DNG_15,
        [1, 6, ..] => DNG_16,
        [1, 7, ..] => DNG_17,
        _ => DNG_OTHER,
    }
}

/// A PRONOM format whose signature the content matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// The PUID, e.g. `fmt/592`.
    pub puid: &'static str,
    /// PRONOM's format name.
    pub name: &'static str,
    /// PRONOM's version label.
    pub version: Option<&'static str>,
}

/// How the format was reached: the PRONOM release followed, every candidate PRONOM's
/// signatures leave once its priorities are applied, the one qoima reports, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Identification {
    /// The signature release qoima's table follows ([`PRONOM_SIGNATURE_RELEASE`]).
    pub signature_release: &'static str,
    /// The candidates, the chosen one first; empty when PRONOM has no signature qoima could
    /// confirm for the format.
    pub candidates: Vec<Candidate>,
    /// The PUID qoima reports (the first candidate), if any.
    pub chosen: Option<&'static str>,
    /// Why, in words.
    pub basis: String,
}

/// The candidates and the choice for a file `detect` identified as `chosen`.
pub(crate) fn identification(d: &[u8], family: Family, chosen: &FormatId) -> Identification {
    let matches = if family == Family::Tiff && chosen.name != "BigTIFF" {
        tiff_matches(d)
    } else {
        vec![*chosen]
    };
    let candidates: Vec<Candidate> = matches
        .iter()
        .filter_map(|f| {
            Some(Candidate {
                puid: f.puid?,
                name: f.name,
                version: f.version,
            })
        })
        .collect();
    let basis = match candidates.len() {
        0 => format!(
            "PRONOM has no signature qoima could confirm for {}; no PUID is given rather than a guess",
            chosen.name
        ),
        1 => "the only PRONOM signature that matches once PRONOM's own priorities are applied"
            .to_string(),
        _ => "PRONOM's signatures for all of these match and it ranks none above the others; \
              qoima reports the most specific: a raw format (DNG, CR2, NEF) before GeoTIFF before \
              the Exif version of the metadata"
            .to_string(),
    };
    Identification {
        signature_release: PRONOM_SIGNATURE_RELEASE,
        chosen: candidates.first().map(|c| c.puid),
        candidates,
        basis,
    }
}

fn heif_brand(d: &[u8]) -> Option<FormatId> {
    let size = u64::from(be32(d, 0)?);
    let major = slice(d, 8, 4)?;
    match major {
        b"heic" | b"heix" | b"hevc" | b"hevx" => return Some(HEIC),
        b"mif1" | b"msf1" => return Some(HEIF_GENERIC),
        b"avif" | b"avis" => return Some(AVIF),
        _ => {}
    }
    // Compatible brands follow the major brand and minor version, to the end of the box.
    let end = size.min(d.len() as u64).min(16 + 4 * 64);
    let mut at = 16;
    let mut heif = false;
    while at + 4 <= end {
        match slice(d, at, 4)? {
            b"avif" => return Some(AVIF),
            b"mif1" | b"msf1" | b"heic" | b"heix" => heif = true,
            _ => {}
        }
        at += 4;
    }
    heif.then_some(HEIF_COMPATIBLE)
}

/// HTML, XML or plain text, judged on the first KiB.
fn text_kind(d: &[u8]) -> Option<FormatId> {
    let head = &d[..d.len().min(1024)];
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let lead = &body[start..];
    let starts = |p: &[u8]| lead.len() >= p.len() && lead[..p.len()].eq_ignore_ascii_case(p);
    if [
        &b"<!doctype html"[..],
        b"<html",
        b"<head",
        b"<body",
        b"<!--",
    ]
    .iter()
    .any(|p| starts(p))
    {
        return Some(HTML);
    }
    if starts(b"<?xml") {
        // An XHTML page is still a saved web page.
        let has_html = lead.windows(5).any(|w| w.eq_ignore_ascii_case(b"<html"));
        return Some(if has_html { HTML } else { XML });
    }
    // Plain text: valid UTF-8 (allowing a character cut at the 1 KiB boundary) without
    // control characters other than tab, line feed, form feed and carriage return.
    let valid = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() == 1024,
    };
    let clean = head
        .iter()
        .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r'));
    (valid && clean && head.iter().any(|b| !b.is_ascii_whitespace())).then_some(TEXT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jfif(minor: u8) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
        v.extend_from_slice(b"JFIF\0");
        v.extend_from_slice(&[1, minor, 0, 0, 1, 0, 1, 0, 0]);
        v
    }

    fn exif_jpeg(version: &[u8; 4]) -> Vec<u8> {
        // APP1: Exif\0\0 + big-endian TIFF: IFD0 with an Exif IFD pointer, Exif IFD with
        // ExifVersion.
        let mut t = b"MM\0*\0\0\0\x08".to_vec();
        t.extend_from_slice(&[0, 1, 0x87, 0x69, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]);
        t.extend_from_slice(&[0, 1, 0x90, 0x00, 0, 7, 0, 0, 0, 4]);
        t.extend_from_slice(version);
        t.extend_from_slice(&[0, 0, 0, 0]);
        let mut v = vec![0xFF, 0xD8, 0xFF, 0xE1];
        v.extend_from_slice(&((t.len() + 8) as u16).to_be_bytes());
        v.extend_from_slice(b"Exif\0\0");
        v.extend_from_slice(&t);
        v
    }

    #[test]
    fn jpeg_versions_follow_pronom() {
        assert_eq!(identify(&jfif(0)), Some(JFIF_100));
        assert_eq!(identify(&jfif(1)).unwrap().puid, Some("fmt/43"));
        assert_eq!(identify(&jfif(2)), Some(JFIF_102));
        assert_eq!(identify(&jfif(9)), Some(RAW_JPEG));
        assert_eq!(
            identify(&exif_jpeg(b"0220")).unwrap().puid,
            Some("x-fmt/391")
        );
        assert_eq!(identify(&exif_jpeg(b"0221")).unwrap().puid, Some("fmt/645"));
        assert_eq!(
            identify(&exif_jpeg(b"0232")).unwrap().puid,
            Some("fmt/1507")
        );
        assert_eq!(identify(&exif_jpeg(b"0300")), Some(RAW_JPEG));
        assert_eq!(identify(&[0xFF, 0xD8, 0xFF, 0xDB]), Some(RAW_JPEG));
    }

    #[test]
    fn png_versions_by_chunks() {
        let chunk = |t: &[u8]| {
            let mut c = vec![0, 0, 0, 0];
            c.extend_from_slice(t);
            c.extend_from_slice(&[0, 0, 0, 0]);
            c
        };
        let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
        p.extend(chunk(b"IHDR"));
        assert_eq!(identify(&p), Some(PNG_10));
        let mut p11 = p.clone();
        p11.extend(chunk(b"sRGB"));
        assert_eq!(identify(&p11), Some(PNG_11));
        p11.extend(chunk(b"iTXt"));
        assert_eq!(identify(&p11), Some(PNG_12));
    }

    #[test]
    fn other_magic() {
        assert_eq!(identify(b"GIF87a\x01\0\x01\0"), Some(GIF_87A));
        assert_eq!(identify(b"GIF89a\x01\0\x01\0"), Some(GIF_89A));
        assert_eq!(identify(b"RIFF\0\0\0\0WEBPVP8L"), Some(WEBP_LOSSLESS));
        assert_eq!(identify(b"RIFF\0\0\0\0WEBPVP8 "), Some(WEBP_LOSSY));
        assert_eq!(identify(b"RIFF\0\0\0\0WEBPVP8X"), Some(WEBP_EXTENDED));
        assert_eq!(identify(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(
            identify(b"\0\0\0\x0CjP  \r\n\x87\n\0\0\0\x14ftypjp2 "),
            Some(JP2)
        );
        for (brand, puid) in [
            (b"jpx ", "fmt/151"),
            (b"mjp2", "fmt/337"),
            (b"jpm ", "fmt/463"),
        ] {
            let mut d = b"\0\0\0\x0CjP  \r\n\x87\n\0\0\0\x14ftyp".to_vec();
            d.extend_from_slice(brand);
            assert_eq!(identify(&d).unwrap().puid, Some(puid));
        }
        assert_eq!(identify(b"\xFF\x4F\xFF\x51\0\x29"), Some(J2C));
        assert_eq!(identify(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"), Some(HEIC));
        assert_eq!(
            identify(b"\0\0\0\x18ftypmif1\0\0\0\0mif1heic"),
            Some(HEIF_GENERIC)
        );
        assert_eq!(identify(b"\0\0\0\x18ftypavif\0\0\0\0mif1avif"), Some(AVIF));
        assert_eq!(identify(b"\0\0\0\x18ftypisom\0\0\0\0isommp41"), None);
        assert_eq!(identify(b"II*\0\x08\0\0\0"), Some(TIFF));
        assert_eq!(identify(b"MM\0*\0\0\0\x08"), Some(TIFF));
        assert_eq!(identify(b"II+\0\x08\0\0\0"), Some(BIGTIFF));
        assert_eq!(identify(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"), None);
    }

    #[test]
    fn dng_by_its_version_tag() {
        let d = tiffio::tests::tiny_tiff(&[(256, 3, 1, 8), (0xC612, 1, 4, 0x0000_0401)], 0, &[]);
        assert_eq!(identify(&d), Some(DNG_14));
        let d = tiffio::tests::tiny_tiff(&[(256, 3, 1, 8), (0xC612, 1, 4, 0x0000_0101)], 0, &[]);
        assert_eq!(identify(&d).unwrap().puid, Some("fmt/152"));
    }

    #[test]
    fn tiff_flavours_follow_pronom_priorities() {
        let tiny = tiffio::tests::tiny_tiff;
        let geo = tiny(&[(256, 3, 1, 8), (0x87AF, 3, 2, 0x0001_0001)], 0, &[]);
        assert_eq!(identify(&geo), Some(GEOTIFF));
        // DNG outranks plain TIFF; DNG and GeoTIFF are not ranked: both are candidates.
        let dng_geo = tiny(
            &[
                (256, 3, 1, 8),
                (0x87AF, 3, 2, 0x0001_0001),
                (0xC612, 1, 4, 0x0000_0401),
            ],
            0,
            &[],
        );
        let found = identification(&dng_geo, Family::Tiff, &identify(&dng_geo).unwrap());
        assert_eq!(found.chosen, Some("fmt/730"));
        let puids: Vec<&str> = found.candidates.iter().map(|c| c.puid).collect();
        assert_eq!(puids, ["fmt/730", "fmt/155"]);
        assert!(found.basis.contains("most specific"), "{}", found.basis);
        let plain = tiny(&[(256, 3, 1, 8)], 0, &[]);
        let found = identification(&plain, Family::Tiff, &TIFF);
        assert_eq!(found.chosen, Some("fmt/353"));
        assert_eq!(found.candidates.len(), 1);
        let found = identification(b"II+\0", Family::Tiff, &BIGTIFF);
        assert_eq!((found.chosen, found.candidates.len()), (None, 0));
        assert_eq!(found.signature_release, PRONOM_SIGNATURE_RELEASE);
    }

    #[test]
    fn not_photos() {
        let kind = |d: &[u8]| detect(d).map(|(_, f)| f);
        assert_eq!(kind(b""), Some(EMPTY));
        assert_eq!(kind(b"\xEF\xBB\xBF\n  <!DOCTYPE html><html>"), Some(HTML));
        assert_eq!(kind(b"<HTML><BODY>404</BODY></HTML>"), Some(HTML));
        assert_eq!(
            kind(b"<?xml version=\"1.0\"?><html xmlns=\"\">"),
            Some(HTML)
        );
        assert_eq!(kind(b"<?xml version=\"1.0\"?><rdf/>"), Some(XML));
        assert_eq!(kind("Not Found: привет\r\n".as_bytes()), Some(TEXT));
        assert_eq!(kind(b"\0\x01\x02binary"), None);
        assert_eq!(kind(b"   \n"), None);
        // Recognised, but not images: `identify` says None.
        assert_eq!(identify(b""), None);
        assert_eq!(identify(b"<!DOCTYPE html>"), None);
        assert_eq!(identify(b"plain text"), None);
    }

    #[test]
    fn extensions_known() {
        assert!(is_image_extension("jpg"));
        assert!(is_image_extension("heic"));
        assert!(is_image_extension("tif"));
        assert!(!is_image_extension("txt"));
        assert!(!is_image_extension("cr3"));
    }
}
