//! JPEG 2000 structure: the JP2 box structure (ISO/IEC 15444-1 annex I) and the raw
//! codestream (SOC, SIZ … EOC).
//!
//! Every JP2 box states its length, so a walk of the top-level boxes finds truncation and
//! garbage; the header box (`jp2h`) gives the image size (`ihdr`) and colour space (`colr`);
//! the contiguous codestream box (`jp2c`) must start with the SOC and SIZ markers and end with
//! EOC (`FF D9`), whose absence is the usual trace of a cut-off file. The wavelet data is not
//! decoded.

use super::bytes::{be16, be32};
use super::formats::{FormatId, JP2};
use super::{Findings, Technical};
use crate::error::Code;

/// Validates a JP2-family file (`jP  ` signature box first).
pub(crate) fn check_jp2(
    data: &[u8],
    format: FormatId,
    tech: &mut Technical,
    out: &mut Findings<'_>,
) {
    let strict = format == JP2;
    let mut pos: u64 = 0;
    let len = data.len() as u64;
    let (mut ftyp, mut jp2h, mut jp2c) = (false, false, false);
    let mut index = 0;
    while pos < len {
        let (start, end, typ) = match read_box(data, pos, len) {
            Ok(b) => b,
            Err(why) => {
                out.push(Code::PhotoDamaged, why);
                return;
            }
        };
        let content = &data[start as usize..end as usize];
        match typ {
            b"ftyp" => ftyp = true,
            b"jp2h" => {
                jp2h = true;
                if let Err(why) = header_box(content, tech) {
                    out.push(Code::PhotoDamaged, why);
                }
            }
            b"jp2c" if !jp2c => {
                jp2c = true;
                if let Err(why) = codestream(content, tech, false) {
                    out.push(
                        Code::PhotoDamaged,
                        format!("the codestream box at byte {pos}: {why}"),
                    );
                }
            }
            _ => {}
        }
        if index == 1 && typ != b"ftyp" {
            out.push(
                Code::PhotoDamaged,
                "the file type box (ftyp) does not follow the signature box",
            );
        }
        index += 1;
        pos = end;
    }
    if strict {
        let missing: Vec<&str> = [
            (ftyp, "ftyp"),
            (jp2h, "jp2h (header)"),
            (jp2c, "jp2c (codestream)"),
        ]
        .iter()
        .filter(|(present, _)| !present)
        .map(|(_, name)| *name)
        .collect();
        if !missing.is_empty() {
            out.push(
                Code::PhotoDamaged,
                format!("the JP2 file lacks its {} box", missing.join(" and ")),
            );
        }
    }
}

/// Validates a raw JPEG 2000 codestream (starting with SOC and SIZ).
pub(crate) fn check_j2c(data: &[u8], tech: &mut Technical, out: &mut Findings<'_>) {
    if let Err(why) = codestream(data, tech, true) {
        out.push(Code::PhotoDamaged, format!("the codestream {why}"));
    }
}

/// A box at `pos`: (content start, end, type). `limit` is where the enclosing data ends.
fn read_box(data: &[u8], pos: u64, limit: u64) -> Result<(u64, u64, &[u8]), String> {
    let found = super::isobox::read_box(data, pos, limit)?;
    Ok((
        found.start,
        found.end,
        &data[pos as usize + 4..pos as usize + 8],
    ))
}

fn header_box(content: &[u8], tech: &mut Technical) -> Result<(), String> {
    let mut pos = 0;
    let len = content.len() as u64;
    let mut ihdr = false;
    while pos < len {
        let (start, end, typ) =
            read_box(content, pos, len).map_err(|why| format!("in the header box, {why}"))?;
        let body = &content[start as usize..end as usize];
        match typ {
            b"ihdr" => {
                let (Some(height), Some(width), Some(components), Some(&bpc)) =
                    (be32(body, 0), be32(body, 4), be16(body, 8), body.get(10))
                else {
                    return Err("the image header box (ihdr) is too short".to_string());
                };
                ihdr = true;
                tech.width = Some(width);
                tech.height = Some(height);
                tech.samples_per_pixel = Some(components);
                tech.bits_per_sample = (bpc != 255).then_some(u16::from(bpc & 0x7F) + 1);
                tech.compression = Some("JPEG 2000".to_string());
            }
            b"colr" if body.first() == Some(&1) => {
                tech.colour_space = match be32(body, 3) {
                    Some(16) => Some("sRGB".to_string()),
                    Some(17) => Some("Greyscale".to_string()),
                    Some(18) => Some("sYCC".to_string()),
                    Some(n) => Some(format!("Enumerated colour space {n}")),
                    None => None,
                };
            }
            b"colr" if body.first() == Some(&2) && tech.colour_space.is_none() => {
                tech.colour_space = Some("ICC profile".to_string());
            }
            _ => {}
        }
        pos = end;
    }
    if !ihdr {
        return Err("the header box (jp2h) has no image header (ihdr)".to_string());
    }
    Ok(())
}

/// Checks SOC, SIZ and EOC; fills the size from SIZ unless a JP2 header already did.
fn codestream(c: &[u8], tech: &mut Technical, fill: bool) -> Result<(), String> {
    if !c.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) {
        return Err("does not start with the SOC and SIZ markers".to_string());
    }
    let siz = |off: u64| be32(c, 4 + off);
    let (Some(xsiz), Some(ysiz), Some(xo), Some(yo), Some(csiz)) =
        (siz(4), siz(8), siz(12), siz(16), be16(c, 40))
    else {
        return Err("ends inside its SIZ marker segment".to_string());
    };
    if xsiz <= xo || ysiz <= yo || csiz == 0 {
        return Err(format!(
            "has an impossible SIZ segment ({xsiz}×{ysiz}, offset {xo},{yo}, {csiz} components)"
        ));
    }
    if fill {
        tech.width = Some(xsiz - xo);
        tech.height = Some(ysiz - yo);
        tech.samples_per_pixel = Some(csiz);
        tech.bits_per_sample = c.get(42).map(|s| u16::from(s & 0x7F) + 1);
        tech.compression = Some("JPEG 2000".to_string());
    }
    if !c.ends_with(&[0xFF, 0xD9]) {
        return Err(
            "does not end with the end-of-codestream marker (FF D9): the file is truncated"
                .to_string(),
        );
    }
    tile_parts(c)
}

/// Walks the main header's marker segments to the first tile-part, then every tile-part by
/// its own length (`Psot` in its SOT segment), which must end exactly at the next SOT or at
/// the EOC marker. A codestream cut inside its last tile-part and closed again with EOC (or a
/// tile-part whose length is damaged) passes the EOC check but fails here, as in jpylyzer.
fn tile_parts(c: &[u8]) -> Result<(), String> {
    const SOT: u16 = 0xFF90;
    let eoc = c.len() - 2;
    let mut pos = 2; // after SOC: SIZ and the other main-header segments
    while be16(c, pos as u64) != Some(SOT) {
        if pos >= eoc {
            return Ok(()); // no tile-part at all: nothing more to walk
        }
        let (Some(marker), Some(length)) = (be16(c, pos as u64), be16(c, pos as u64 + 2)) else {
            return Err(format!("ends inside the main header, at byte {pos}"));
        };
        if marker >> 8 != 0xFF || length < 2 {
            return Err(format!(
                "has a damaged main header: no marker segment at byte {pos}"
            ));
        }
        pos += 2 + usize::from(length);
    }
    let tiles = tile_count(c);
    let mut part = 0u64;
    while pos < eoc {
        let header = (
            be16(c, pos as u64),
            be16(c, pos as u64 + 2),
            be16(c, pos as u64 + 4),
        );
        let (Some(SOT), Some(10), Some(tile)) = header else {
            return Err(format!(
                "has no tile-part (SOT marker) where tile-part {part} should start, at byte {pos}: a tile-part length is damaged"
            ));
        };
        let length = be32(c, pos as u64 + 6).unwrap_or(0);
        let end = if length == 0 {
            eoc as u64
        } else {
            pos as u64 + u64::from(length)
        };
        if tiles.is_some_and(|n| u64::from(tile) >= n) {
            return Err(format!(
                "tile-part {part} (at byte {pos}) names tile {tile}, but the image has {} tiles",
                tiles.unwrap_or(0)
            ));
        }
        if length != 0 && length < 14 || end > eoc as u64 {
            return Err(format!(
                "tile-part {part} of tile {tile} (at byte {pos}) declares {length} bytes, {} more than the codestream holds before its end marker (EOC): its data is truncated",
                end.saturating_sub(eoc as u64)
            ));
        }
        pos = end as usize;
        part += 1;
    }
    Ok(())
}

/// The number of tiles the SIZ segment divides the image into, when it is consistent.
fn tile_count(c: &[u8]) -> Option<u64> {
    let siz = |off: u64| be32(c, 4 + off).map(u64::from);
    let (width, height) = (siz(4)?, siz(8)?);
    let (tile_width, tile_height) = (siz(20)?, siz(24)?);
    let (tile_x, tile_y) = (siz(28)?, siz(32)?);
    if tile_width == 0 || tile_height == 0 || tile_x >= width || tile_y >= height {
        return None;
    }
    Some(
        (width - tile_x)
            .div_ceil(tile_width)
            .saturating_mul((height - tile_y).div_ceil(tile_height)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::formats::JPX;
    use crate::photo::tests::{bx, codes_of};

    fn j2c() -> Vec<u8> {
        let mut c = vec![0xFF, 0x4F, 0xFF, 0x51, 0x00, 0x2F, 0x00, 0x00];
        for v in [64u32, 48, 0, 0, 64, 48, 0, 0] {
            c.extend_from_slice(&v.to_be_bytes());
        }
        c.extend_from_slice(&[0x00, 0x03, 7, 1, 1, 7, 1, 1, 7, 1, 1]);
        // One tile-part: SOT (Lsot 10, tile 0, Psot 16, part 0 of 1), SOD, two data bytes.
        c.extend_from_slice(&[0xFF, 0x90, 0, 10, 0, 0, 0, 0, 0, 16, 0, 1, 0xFF, 0x93, 1, 2]);
        c.extend_from_slice(&[0xFF, 0xD9]);
        c
    }

    #[test]
    fn issue14_a_tile_part_longer_than_the_codestream_is_truncation() {
        let run = |c: &[u8]| {
            let mut out = Findings::new("t.j2c");
            check_j2c(c, &mut Technical::default(), &mut out);
            out.problems
        };
        assert!(run(&j2c()).is_empty());
        // Cut inside the tile-part's data, with EOC put back.
        let mut cut = j2c();
        cut.remove(cut.len() - 3);
        let problems = run(&cut);
        assert_eq!(codes_of(&problems), ["PHOTO-040"]);
        assert!(
            problems[0].message.contains("tile-part 0 of tile 0"),
            "{}",
            problems[0].message
        );
        // A tile index the image does not have, and a SOT where none is.
        let mut bad_tile = j2c();
        let sot = bad_tile.len() - 2 - 16;
        bad_tile[sot + 5] = 7;
        assert_eq!(codes_of(&run(&bad_tile)), ["PHOTO-040"]);
        let mut no_sot = j2c();
        no_sot[sot + 9] = 8; // Psot 8: shorter than a SOT segment and SOD
        assert_eq!(codes_of(&run(&no_sot)), ["PHOTO-040"]);
        // Psot 0: the last tile-part runs to EOC.
        let mut open = j2c();
        open[sot + 9] = 0;
        assert!(run(&open).is_empty());
    }

    fn jp2() -> Vec<u8> {
        let mut f = bx(b"jP  ", &[0x0D, 0x0A, 0x87, 0x0A]);
        f.extend(bx(b"ftyp", b"jp2 \0\0\0\0jp2 "));
        let mut ihdr = 48u32.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&64u32.to_be_bytes());
        ihdr.extend_from_slice(&[0, 3, 7, 7, 0, 0]);
        let mut h = bx(b"ihdr", &ihdr);
        h.extend(bx(b"colr", &[1, 0, 0, 0, 0, 0, 16]));
        f.extend(bx(b"jp2h", &h));
        f.extend(bx(b"jp2c", &j2c()));
        f
    }

    #[test]
    fn good_files() {
        let mut tech = Technical::default();
        let mut out = Findings::new("t.jp2");
        check_jp2(&jp2(), JP2, &mut tech, &mut out);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(
            (tech.width, tech.height, tech.bits_per_sample),
            (Some(64), Some(48), Some(8))
        );
        assert_eq!(tech.colour_space.as_deref(), Some("sRGB"));

        let mut tech = Technical::default();
        let mut out = Findings::new("t.j2c");
        check_j2c(&j2c(), &mut tech, &mut out);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(
            (tech.width, tech.height, tech.samples_per_pixel),
            (Some(64), Some(48), Some(3))
        );
    }

    #[test]
    fn truncation_and_missing_boxes() {
        let run = |d: &[u8], f: FormatId| {
            let mut out = Findings::new("t.jp2");
            check_jp2(d, f, &mut Technical::default(), &mut out);
            codes_of(&out.problems)
        };
        let good = jp2();
        assert_eq!(run(&good[..good.len() - 2], JP2), ["PHOTO-040"]);
        let mut open_ended = good.clone();
        let c = open_ended.len() - j2c().len() - 8;
        open_ended[c..c + 4].copy_from_slice(&[0, 0, 0, 0]); // jp2c runs to end of file
        assert!(run(&open_ended, JP2).is_empty());
        open_ended.truncate(open_ended.len() - 2);
        assert_eq!(run(&open_ended, JP2), ["PHOTO-040"]);
        let no_header: Vec<u8> = [
            bx(b"jP  ", &[0x0D, 0x0A, 0x87, 0x0A]),
            bx(b"ftyp", b"jp2 \0\0\0\0jp2 "),
        ]
        .concat();
        assert_eq!(run(&no_header, JP2), ["PHOTO-040"]);
        assert!(run(&no_header, JPX).is_empty());

        let mut out = Findings::new("t.j2c");
        let cs = j2c();
        check_j2c(&cs[..cs.len() - 1], &mut Technical::default(), &mut out);
        assert_eq!(codes_of(&out.problems), ["PHOTO-040"]);
    }
}
