//! GIF structure (GIF87a, GIF89a): header, logical screen, then blocks up to the trailer.
//!
//! GIF has no checksums, so damage shows only as a block sequence that does not parse or
//! stops before the trailer (`;`). This walks the header, the logical screen descriptor and
//! global colour table, then every image descriptor and extension with their data sub-blocks,
//! without decompressing the LZW data, and requires at least one image and the trailer.

use super::bytes::le16;
use super::{Findings, Technical};
use crate::error::Code;

/// Validates a GIF and fills in the logical screen's size.
pub(crate) fn check(data: &[u8], tech: &mut Technical, out: &mut Findings<'_>) {
    let (Some(width), Some(height), Some(&packed)) = (le16(data, 6), le16(data, 8), data.get(10))
    else {
        out.push(
            Code::PhotoDamaged,
            "the GIF ends inside its logical screen descriptor",
        );
        return;
    };
    tech.width = Some(u32::from(width));
    tech.height = Some(u32::from(height));
    tech.samples_per_pixel = Some(1);
    tech.colour_space = Some("Palette".to_string());
    tech.compression = Some("LZW".to_string());
    let mut pos = 13usize;
    if packed & 0x80 != 0 {
        tech.bits_per_sample = Some(u16::from(packed & 7) + 1);
        pos += 3 << ((packed & 7) + 1);
    }
    let mut images = 0u32;
    loop {
        let Some(&block) = data.get(pos) else {
            out.push(
                Code::PhotoDamaged,
                format!(
                    "the GIF ends at byte {} without its trailer (`;`): the file is truncated",
                    data.len()
                ),
            );
            return;
        };
        match block {
            0x3B => {
                if images == 0 {
                    out.push(Code::PhotoDamaged, "the GIF contains no image");
                }
                super::trailing(data, pos + 1, "the GIF trailer", out);
                return;
            }
            0x2C => {
                let Some(&p) = data.get(pos + 9) else {
                    pos = data.len();
                    continue;
                };
                if tech.bits_per_sample.is_none() && p & 0x80 != 0 {
                    tech.bits_per_sample = Some(u16::from(p & 7) + 1);
                }
                pos += 10;
                if p & 0x80 != 0 {
                    pos += 3 << ((p & 7) + 1);
                }
                match data.get(pos) {
                    Some(&(1..=12)) => {}
                    Some(&size) => {
                        out.push(
                            Code::PhotoDamaged,
                            format!("image {images} has an impossible LZW code size ({size}) at byte {pos}"),
                        );
                        return;
                    }
                    None => continue,
                }
                pos = sub_blocks(data, pos + 1);
                images += 1;
            }
            0x21 => pos = sub_blocks(data, pos + 2),
            other => {
                out.push(
                    Code::PhotoDamaged,
                    format!("unexpected byte 0x{other:02X} at byte {pos}, where a GIF block should start"),
                );
                return;
            }
        }
    }
}

/// Skips a chain of data sub-blocks starting at `pos`; returns the offset after the
/// terminating empty block (or past the end, if the data stops first).
fn sub_blocks(data: &[u8], mut pos: usize) -> usize {
    while let Some(&n) = data.get(pos) {
        pos += 1 + usize::from(n);
        if n == 0 {
            return pos;
        }
    }
    data.len() + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::tests::codes_of;

    fn minimal() -> Vec<u8> {
        let mut gif = b"GIF89a".to_vec();
        gif.extend_from_slice(&[2, 0, 1, 0, 0x80, 0, 0]); // 2×1, 2-colour global table
        gif.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
        gif.extend_from_slice(&[0x21, 0xF9, 4, 0, 0, 0, 0, 0]); // graphic control extension
        gif.extend_from_slice(&[0x2C, 0, 0, 0, 0, 2, 0, 1, 0, 0]); // image descriptor
        gif.extend_from_slice(&[2, 2, 0x44, 0x01, 0]); // LZW data
        gif.push(0x3B);
        gif
    }

    fn run(data: &[u8]) -> (Technical, Vec<&'static str>) {
        let mut tech = Technical::default();
        let mut findings = Findings::new("t.gif");
        check(data, &mut tech, &mut findings);
        (tech, codes_of(&findings.problems))
    }

    #[test]
    fn good_and_broken() {
        let gif = minimal();
        let (tech, codes) = run(&gif);
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!(
            (tech.width, tech.height, tech.bits_per_sample),
            (Some(2), Some(1), Some(1))
        );
        for cut in 8..gif.len() {
            assert_eq!(run(&gif[..cut]).1, ["PHOTO-040"], "cut at {cut}");
        }
        let mut junk = gif.clone();
        junk.extend_from_slice(b"xyz");
        assert_eq!(run(&junk).1, ["PHOTO-W003"]);
        let mut no_image = gif[..19].to_vec();
        no_image.push(0x3B);
        assert_eq!(run(&no_image).1, ["PHOTO-040"]);
    }
}
