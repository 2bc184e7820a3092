//! WebP structure: the RIFF container and the image chunk headers (VP8, VP8L, VP8X).
//!
//! The RIFF header states the file's size, which makes truncation easy to see; each chunk
//! states its own. This checks both, walks every chunk to the end, and reads the dimensions
//! from whichever header the file has: the VP8 key-frame header (lossy), the VP8L header
//! (lossless) or the VP8X canvas (extended: alpha, animation, metadata). The compressed
//! bitstreams themselves are left to `--decode`.

use super::bytes::{le16, le24, le32, slice};
use super::{Findings, Technical};
use crate::error::Code;

/// Validates a file that starts with `RIFF….WEBP`.
pub(crate) fn check(data: &[u8], tech: &mut Technical, out: &mut Findings<'_>) {
    let Some(riff) = le32(data, 4) else {
        out.push(Code::PhotoDamaged, "the file is shorter than a RIFF header");
        return;
    };
    let declared = u64::from(riff) + 8;
    let len = data.len() as u64;
    if declared > len {
        out.push(
            Code::PhotoDamaged,
            format!("the RIFF header declares {declared} bytes but the file has {len}: the file is truncated"),
        );
        return;
    }
    let body = &data[..declared as usize];
    let mut pos: u64 = 12;
    let mut first = true;
    let mut extended = false;
    let mut image = false;
    while pos < declared {
        let (Some(fourcc), Some(size)) = (slice(body, pos, 4), le32(body, pos + 4)) else {
            out.push(
                Code::PhotoDamaged,
                format!("the file ends inside a chunk header at byte {pos}"),
            );
            return;
        };
        let Some(chunk) = slice(body, pos + 8, u64::from(size)) else {
            out.push(
                Code::PhotoDamaged,
                format!(
                    "the {} chunk at byte {pos} declares {size} bytes, beyond the end of the RIFF data: the file is truncated",
                    String::from_utf8_lossy(fourcc)
                ),
            );
            return;
        };
        let result = match fourcc {
            b"VP8 " => {
                image = true;
                vp8(chunk, tech, first)
            }
            b"VP8L" => {
                image = true;
                vp8l(chunk, tech, first)
            }
            b"ANMF" => {
                image = true;
                Ok(())
            }
            b"VP8X" if first => {
                extended = true;
                vp8x(chunk, tech)
            }
            _ if first => Err(format!(
                "the first chunk is {:?}; a WebP starts with VP8, VP8L or VP8X",
                String::from_utf8_lossy(fourcc)
            )),
            _ => Ok(()),
        };
        if let Err(why) = result {
            out.push(Code::PhotoDamaged, why);
            return;
        }
        first = false;
        pos += 8 + u64::from(size) + u64::from(size & 1);
    }
    if extended && !image {
        out.push(
            Code::PhotoDamaged,
            "the extended WebP has no image chunk (VP8, VP8L or ANMF)",
        );
    }
    super::trailing(data, declared as usize, "the RIFF data", out);
}

fn vp8(c: &[u8], tech: &mut Technical, set: bool) -> Result<(), String> {
    if c.len() < 10 || c[3..6] != [0x9D, 0x01, 0x2A] || c[0] & 1 != 0 {
        return Err("the VP8 chunk does not start with a key frame header".to_string());
    }
    if set {
        tech.width = le16(c, 6).map(|w| u32::from(w & 0x3FFF));
        tech.height = le16(c, 8).map(|h| u32::from(h & 0x3FFF));
        tech.bits_per_sample = Some(8);
        tech.samples_per_pixel = Some(3);
        tech.colour_space = Some("YCbCr".to_string());
    }
    if tech.compression.is_none() {
        tech.compression = Some("VP8 (lossy)".to_string());
    }
    Ok(())
}

fn vp8l(c: &[u8], tech: &mut Technical, set: bool) -> Result<(), String> {
    let bits = match (c.first(), le32(c, 1)) {
        (Some(0x2F), Some(b)) => b,
        _ => {
            return Err(
                "the VP8L chunk does not start with the lossless signature 0x2F".to_string(),
            );
        }
    };
    if bits >> 29 != 0 {
        return Err(format!("the VP8L header has version {}, not 0", bits >> 29));
    }
    if set {
        let alpha = (bits >> 28) & 1 == 1;
        tech.width = Some((bits & 0x3FFF) + 1);
        tech.height = Some(((bits >> 14) & 0x3FFF) + 1);
        tech.bits_per_sample = Some(8);
        tech.samples_per_pixel = Some(if alpha { 4 } else { 3 });
        tech.colour_space = Some(if alpha { "RGB with alpha" } else { "RGB" }.to_string());
    }
    if tech.compression.is_none() {
        tech.compression = Some("VP8L (lossless)".to_string());
    }
    Ok(())
}

fn vp8x(c: &[u8], tech: &mut Technical) -> Result<(), String> {
    let (Some(&flags), Some(w), Some(h)) = (c.first(), le24(c, 4), le24(c, 7)) else {
        return Err("the VP8X chunk is shorter than 10 bytes".to_string());
    };
    let alpha = flags & 0x10 != 0;
    tech.width = Some(w + 1);
    tech.height = Some(h + 1);
    tech.bits_per_sample = Some(8);
    tech.samples_per_pixel = Some(if alpha { 4 } else { 3 });
    tech.colour_space = Some(if alpha { "RGB with alpha" } else { "RGB" }.to_string());
    if flags & 0x02 != 0 {
        tech.compression = Some("WebP animation".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::tests::codes_of;

    fn riff(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
        let mut body = b"WEBP".to_vec();
        for (fourcc, data) in chunks {
            body.extend_from_slice(*fourcc);
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
            body.extend_from_slice(data);
            if data.len() % 2 == 1 {
                body.push(0);
            }
        }
        let mut bytes = b"RIFF".to_vec();
        bytes.extend_from_slice(&(body.len() as u32).to_le_bytes());
        bytes.extend(body);
        bytes
    }

    fn lossless(w: u32, h: u32) -> Vec<u8> {
        let bits = (w - 1) | ((h - 1) << 14);
        let mut c = vec![0x2F];
        c.extend_from_slice(&bits.to_le_bytes());
        c.extend_from_slice(&[0, 0, 0]);
        c
    }

    fn run(data: &[u8]) -> (Technical, Vec<&'static str>) {
        let mut tech = Technical::default();
        let mut findings = Findings::new("t.webp");
        check(data, &mut tech, &mut findings);
        (tech, codes_of(&findings.problems))
    }

    #[test]
    fn lossless_lossy_extended() {
        let (tech, codes) = run(&riff(&[(b"VP8L", lossless(32, 24))]));
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!((tech.width, tech.height), (Some(32), Some(24)));

        let mut vp8 = vec![0x10, 0, 0, 0x9D, 0x01, 0x2A];
        vp8.extend_from_slice(&640u16.to_le_bytes());
        vp8.extend_from_slice(&480u16.to_le_bytes());
        let (tech, codes) = run(&riff(&[(b"VP8 ", vp8)]));
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!((tech.width, tech.height), (Some(640), Some(480)));

        let mut x = vec![0x10, 0, 0, 0];
        x.extend_from_slice(&[99, 0, 0, 49, 0, 0]);
        let (tech, codes) = run(&riff(&[(b"VP8X", x.clone()), (b"VP8L", lossless(100, 50))]));
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!(
            (tech.width, tech.height, tech.samples_per_pixel),
            (Some(100), Some(50), Some(4))
        );
        assert_eq!(run(&riff(&[(b"VP8X", x)])).1, ["PHOTO-040"]);
    }

    #[test]
    fn damage() {
        let good = riff(&[(b"VP8L", lossless(32, 24))]);
        assert_eq!(run(&good[..good.len() - 1]).1, ["PHOTO-040"]);
        let mut lying = good.clone();
        lying[16] = 0xFF; // chunk size far larger than the RIFF
        assert_eq!(run(&lying).1, ["PHOTO-040"]);
        let mut junk = good.clone();
        junk.extend_from_slice(b"junk");
        assert_eq!(run(&junk).1, ["PHOTO-W003"]);
        assert_eq!(
            run(&riff(&[(b"VP8L", vec![0x00, 1, 2, 3, 4])])).1,
            ["PHOTO-040"]
        );
        assert_eq!(run(&riff(&[(b"ICCP", vec![0; 4])])).1, ["PHOTO-040"]);
    }
}
