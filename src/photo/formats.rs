//! The formats qoima can name, with their PRONOM identifiers: the table [`identify`](super::identify)
//! chooses from.
//!
//! Each PUID below was checked against the National Archives' own PRONOM records (the
//! `nationalarchives/pronom-signatures` repository, one JSON record per PUID, and the PRONOM
//! site's tests) — see the comment on each. Where PRONOM has no record, or none could be
//! confirmed, the PUID is `None` rather than a guess.

use serde::Serialize;

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
pub(super) const DNG: &str = "Digital Negative Format (DNG)";
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
    ALL_IMAGES
        .iter()
        .any(|format| format.extensions.contains(&ext))
}

/// The PRONOM signature release qoima's table follows: the DROID signature file bundled with
/// fido 1.6.1 (`DROID_SignatureFile-v109.xml`). A test reads fido's file to keep this in step.
pub const PRONOM_SIGNATURE_RELEASE: &str = "DROID signature file v109";
