//! Format identification by content, with PRONOM identifiers.
//!
//! A file's name is a claim; its first bytes are evidence. qoima identifies a file from its
//! content only, the way DROID and siegfried do, and names what it finds with the PRONOM
//! registry's format name, version and PUID (the table is in `formats`), so that a report can
//! be read against the registry and compared with those tools. The extension is compared with
//! the result afterwards (`examine`), never used to reach it.
//!
//! Versions follow PRONOM's signatures: JFIF by the APP0 version bytes, Exif JPEG by the
//! ExifVersion tag in the APP1 segment (only when APP1 comes first, as PRONOM requires: a JFIF
//! file that also carries Exif is JFIF), PNG 1.0/1.1/1.2 by the chunks that version introduced
//! (iCCP, sPLT, sRGB → 1.1; iTXt → 1.2), DNG by its DNGVersion tag. PRONOM's signatures also
//! want an end marker near the end of the file; qoima does not, because a missing end marker is
//! reported as damage (truncation), not as a different format.

use serde::Serialize;

use super::bytes::{be16, be32, slice};
use super::formats::*;
use super::tiffio;

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

/// Identifies an image format from a file's first bytes (pass the whole file when you have
/// it: Exif, PNG and DNG versions are read from structures that may lie further in). Never
/// looks at a name. Returns `None` unless the content is an image format qoima knows — also
/// for an empty file or text, which [`examine`](super::examine) recognises and reports as "not
/// a photo" (its report's `format` then names them, with [`FormatClass::Empty`] or
/// [`FormatClass::Text`]).
pub fn identify(head: &[u8]) -> Option<FormatId> {
    detect(head)
        .map(|(_, format)| format)
        .filter(|format| format.class == FormatClass::Image)
}

/// Identification plus the validator to run.
pub(crate) fn detect(data: &[u8]) -> Option<(Family, FormatId)> {
    if data.is_empty() {
        return Some((Family::Empty, EMPTY));
    }
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some((Family::Jpeg, jpeg_version(data)));
    }
    // The first four bytes only: a PNG whose signature was damaged in transfer (CR/LF
    // translation) is still a PNG, and its validator says so.
    if data.starts_with(b"\x89PNG") {
        return Some((Family::Png, png_version(data)));
    }
    if data.starts_with(b"II*\0") || data.starts_with(b"MM\0*") {
        return Some((Family::Tiff, tiff_version(data)));
    }
    if data.starts_with(b"II+\0") || data.starts_with(b"MM\0+") {
        return Some((Family::Tiff, BIGTIFF));
    }
    if data.starts_with(b"GIF87a") {
        return Some((Family::Gif, GIF_87A));
    }
    if data.starts_with(b"GIF89a") {
        return Some((Family::Gif, GIF_89A));
    }
    if data.starts_with(b"RIFF") && data.get(8..12) == Some(&b"WEBP"[..]) {
        let format = match data.get(12..16) {
            Some(b"VP8 ") => WEBP_LOSSY,
            Some(b"VP8L") => WEBP_LOSSLESS,
            Some(b"VP8X") => WEBP_EXTENDED,
            _ => WEBP_OTHER,
        };
        return Some((Family::WebP, format));
    }
    if data.starts_with(b"\0\0\0\x0CjP  \x0D\x0A\x87\x0A") {
        let format = match data.get(20..24) {
            Some(b"jp2 ") if data.get(16..20) == Some(&b"ftyp"[..]) => JP2,
            Some(b"jpx ") => JPX,
            Some(b"mjp2") => MJ2,
            Some(b"jpm ") => JPM,
            _ => JP2_FAMILY,
        };
        return Some((Family::Jp2, format));
    }
    if data.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) {
        return Some((Family::J2c, J2C));
    }
    if data.get(4..8) == Some(&b"ftyp"[..])
        && let Some(format) = heif_brand(data)
    {
        return Some((Family::Heif, format));
    }
    text_kind(data).map(|format| (Family::Text, format))
}

fn jpeg_version(data: &[u8]) -> FormatId {
    // The first segment after SOI decides, as in PRONOM's signatures.
    let Some(len) = be16(data, 4) else {
        return RAW_JPEG;
    };
    let seg =
        slice(data, 6, u64::from(len).saturating_sub(2)).unwrap_or(&data[data.len().min(6)..]);
    match data[3] {
        0xE0 if seg.starts_with(b"JFIF\0") && seg.len() >= 7 => match (seg[5], seg[6]) {
            (1, 0) => JFIF_100,
            (1, 1) => JFIF_101,
            (1, 2) => JFIF_102,
            _ => RAW_JPEG,
        },
        0xE1 if seg.starts_with(b"Exif\0\0") => match tiffio::exif_version(&seg[6..]) {
            Some(version) => match &version {
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

fn png_version(data: &[u8]) -> FormatId {
    // Hop from chunk to chunk by the declared lengths; stop at anything inconsistent (the
    // validator reports it).
    let (mut v11, mut v12) = (false, false);
    let mut pos: u64 = 8;
    while let (Some(len), Some(typ)) = (be32(data, pos), slice(data, pos + 4, 4)) {
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
fn tiff_matches(data: &[u8]) -> Vec<FormatId> {
    let mut found = Vec::new();
    if let Some(version) = tiffio::dng_version(data) {
        found.push(dng(version));
    }
    if data.starts_with(b"II*\0\x10\0\0\0CR\x02") {
        found.push(CR2);
    }
    if found.is_empty() && tiffio::is_nikon_raw(data) {
        found.push(NEF);
    }
    if tiffio::has_geokeys(data) {
        found.push(GEOTIFF);
    }
    let exif = match tiffio::exif_version(data).as_ref() {
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

fn tiff_version(data: &[u8]) -> FormatId {
    tiff_matches(data)[0]
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
pub(crate) fn identification(data: &[u8], family: Family, chosen: &FormatId) -> Identification {
    let matches = if family == Family::Tiff && chosen.name != "BigTIFF" {
        tiff_matches(data)
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

fn heif_brand(data: &[u8]) -> Option<FormatId> {
    let size = u64::from(be32(data, 0)?);
    let major = slice(data, 8, 4)?;
    match major {
        b"heic" | b"heix" | b"hevc" | b"hevx" => return Some(HEIC),
        b"mif1" | b"msf1" => return Some(HEIF_GENERIC),
        b"avif" | b"avis" => return Some(AVIF),
        _ => {}
    }
    // Compatible brands follow the major brand and minor version, to the end of the box.
    let end = size.min(data.len() as u64).min(16 + 4 * 64);
    let mut at = 16;
    let mut heif = false;
    while at + 4 <= end {
        match slice(data, at, 4)? {
            b"avif" => return Some(AVIF),
            b"mif1" | b"msf1" | b"heic" | b"heix" => heif = true,
            _ => {}
        }
        at += 4;
    }
    heif.then_some(HEIF_COMPATIBLE)
}

/// HTML, XML or plain text, judged on the first KiB.
fn text_kind(data: &[u8]) -> Option<FormatId> {
    let head = &data[..data.len().min(1024)];
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
