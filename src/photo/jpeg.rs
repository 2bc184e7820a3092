//! JPEG structure (ISO/IEC 10918-1, ITU-T T.81): walk the marker segments from SOI to EOI.
//!
//! The checks are the ones that catch real damage without decoding: every segment's length
//! must be at least 2 and stay inside the file; a frame header (SOF) must come before the first
//! scan (SOS); each scan's entropy-coded data is skipped by looking for the next marker (a
//! `0xFF` not followed by a stuffed `0x00`, a restart marker or a fill byte); and the file must
//! reach EOI — the usual sign of a truncated download or a half-copied card. The walk is one
//! pass over the bytes, without allocation.

use super::bytes::be16;
use super::{Findings, Technical};
use crate::error::Code;

/// Validates a JPEG that starts with SOI and fills in what the frame header says.
pub(crate) fn check(data: &[u8], tech: &mut Technical, out: &mut Findings<'_>) {
    let walked = walk_markers(data);
    walked.fill_technical(tech);
    walked.report(data, out);
}

/// What the walk from SOI to EOI found: the first frame header, the Adobe colour transform,
/// the number of scans, the DNL height, and how the walk ended.
struct Walked {
    frame: Option<Frame>,
    adobe_transform: Option<u8>,
    scans: u32,
    dnl_height: Option<u16>,
    outcome: Walk,
}

/// Walks the marker segments from just after SOI until EOI, the end of the data or the first
/// malformed segment, skipping each scan's entropy-coded data.
fn walk_markers(data: &[u8]) -> Walked {
    let mut frame: Option<Frame> = None;
    let mut adobe_transform: Option<u8> = None;
    let mut scans = 0u32;
    let mut dnl_height: Option<u16> = None;
    let mut pos = 2usize; // after SOI
    let outcome = loop {
        if pos >= data.len() {
            break Walk::Truncated(pos);
        }
        if data[pos] != 0xFF {
            break Walk::Bad(format!(
                "expected a marker at byte {pos}, found 0x{:02X}",
                data[pos]
            ));
        }
        // Any number of 0xFF fill bytes may precede a marker.
        while pos + 1 < data.len() && data[pos + 1] == 0xFF {
            pos += 1;
        }
        let Some(&marker) = data.get(pos + 1) else {
            break Walk::Truncated(pos);
        };
        match marker {
            0xD9 => break Walk::Eoi(pos + 2),
            // Standalone markers: TEM, RSTn (harmless outside a scan), a repeated SOI.
            0x01 | 0xD0..=0xD8 => {
                pos += 2;
                continue;
            }
            _ => {}
        }
        let Some(len) = be16(data, pos as u64 + 2) else {
            break Walk::Truncated(pos);
        };
        let len = usize::from(len);
        if len < 2 {
            break Walk::Bad(format!(
                "the {} segment at byte {pos} declares a length of {len}; the minimum is 2",
                marker_name(marker)
            ));
        }
        let body_start = pos + 4;
        let end = pos + 2 + len;
        if end > data.len() {
            break Walk::Bad(format!(
                "the {} segment at byte {pos} declares {len} bytes, which runs {} bytes past the end of the file",
                marker_name(marker),
                end - data.len()
            ));
        }
        let body = &data[body_start..end];
        match marker {
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                match Frame::parse(marker, body) {
                    Some(parsed) => {
                        frame.get_or_insert(parsed);
                    }
                    None => {
                        break Walk::Bad(format!(
                            "the frame header ({}) at byte {pos} is malformed: its length does not match its component count, or a dimension or the precision is zero",
                            marker_name(marker)
                        ));
                    }
                }
            }
            0xEE if body.starts_with(b"Adobe") && body.len() >= 12 => {
                adobe_transform = Some(body[11]);
            }
            0xDC if dnl_height.is_none() => dnl_height = be16(body, 0),
            0xDA => {
                let Some(frame_header) = &frame else {
                    break Walk::Bad(format!(
                        "a scan (SOS) at byte {pos} comes before any frame header (SOF)"
                    ));
                };
                if let Some(why) = scan_header_fault(frame_header, body) {
                    break Walk::Bad(format!("the scan header (SOS) at byte {pos} {why}"));
                }
                scans += 1;
                match skip_entropy_data(data, end) {
                    Some(next) => {
                        pos = next;
                        continue;
                    }
                    None => break Walk::Truncated(data.len()),
                }
            }
            _ => {}
        }
        pos = end;
    };
    Walked {
        frame,
        adobe_transform,
        scans,
        dnl_height,
        outcome,
    }
}

impl Walked {
    /// Size, depth, components, compression and colour space from the frame header.
    fn fill_technical(&self, tech: &mut Technical) {
        let Some(frame) = &self.frame else {
            return;
        };
        let height = if frame.height > 0 {
            frame.height
        } else {
            self.dnl_height.unwrap_or(0)
        };
        tech.width = Some(u32::from(frame.width));
        tech.height = (height > 0).then_some(u32::from(height));
        tech.bits_per_sample = Some(u16::from(frame.precision));
        tech.samples_per_pixel = Some(u16::from(frame.components));
        tech.compression = Some(compression_name(frame.marker).to_string());
        tech.colour_space = Some(colour_space(frame, self.adobe_transform).to_string());
    }

    /// The problems: how the walk ended, and what a whole walk still lacks.
    fn report(&self, data: &[u8], out: &mut Findings<'_>) {
        match &self.outcome {
            Walk::Eoi(after) => {
                if self.frame.is_none() {
                    out.push(Code::JpegNoFrame, "the JPEG has no frame header (SOF), so it holds no image");
                } else if self.frame.as_ref().is_some_and(|frame| frame.height == 0) && self.dnl_height.is_none_or(|height| height == 0) {
                    out.push_field(Code::JpegBadSegment, "DNL", "the frame header gives the height as 0 (to follow in a DNL segment), but no DNL segment gives it: the image has no height");
                } else if self.scans == 0 {
                    out.push(Code::JpegNoScan, "the JPEG has a frame header but no scan (SOS): there is no image data");
                }
                // A second JPEG after EOI is how the Multi-Picture Format (MPF) stores more
                // images (depth maps, gain maps); that is not stray data.
                if !data[*after..].starts_with(&[0xFF, 0xD8]) {
                    super::trailing(data, *after, "the end-of-image marker (EOI)", out);
                }
            }
            Walk::Truncated(at) => out.push(
                Code::JpegTruncated,
                format!(
                    "the JPEG ends at byte {at} without its end-of-image marker (FF D9): the file is truncated{}",
                    if self.scans > 0 { " inside the image data" } else { "" }
                ),
            ),
            Walk::Bad(why) => out.push(Code::JpegBadSegment, why),
        }
    }
}

enum Walk {
    /// EOI found; the offset just after it.
    Eoi(usize),
    /// The data ended first, at this offset.
    Truncated(usize),
    /// A segment is malformed.
    Bad(String),
}

struct Frame {
    marker: u8,
    precision: u8,
    height: u16,
    width: u16,
    components: u8,
    /// The first three component identifiers (`R`, `G`, `B` marks an RGB JPEG).
    ids: [u8; 3],
}

impl Frame {
    fn parse(marker: u8, body: &[u8]) -> Option<Frame> {
        let precision = *body.first()?;
        let height = be16(body, 1)?;
        let width = be16(body, 3)?;
        let components = *body.get(5)?;
        // Height 0 is legal (a DNL segment gives it later); width, precision and the
        // component count are not.
        if precision == 0 || width == 0 || components == 0 {
            return None;
        }
        if body.len() != 6 + 3 * usize::from(components) {
            return None;
        }
        let id = |index: usize| body.get(6 + 3 * index).copied().unwrap_or(0);
        Some(Frame {
            marker,
            precision,
            height,
            width,
            components,
            ids: [id(0), id(1), id(2)],
        })
    }
}

/// What is wrong with a scan header, if anything: its length must match its component
/// count, and a progressive scan's spectral
/// selection and successive approximation must be ones a decoder accepts (libjpeg refuses
/// the whole image otherwise). A sequential scan's parameters are not checked: they are
/// fixed by the standard, and libjpeg only warns and ignores them.
fn scan_header_fault(frame: &Frame, body: &[u8]) -> Option<String> {
    let count = usize::from(*body.first()?);
    if count == 0 || body.len() != 4 + 2 * count {
        return Some(format!(
            "is malformed: its length does not match its {count} component(s)"
        ));
    }
    let progressive = matches!(frame.marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
    let (start, end, approximation) = (
        body[1 + 2 * count],
        body[2 + 2 * count],
        body[3 + 2 * count],
    );
    let (high, low) = (approximation >> 4, approximation & 15);
    if progressive && !super::jpeg_scan::progression_valid(count, start, end, high, low) {
        return Some(format!(
            "has invalid progressive parameters (Ss={start} Se={end} Ah={high} Al={low}): decoders refuse the image"
        ));
    }
    None
}

/// Finds the marker that ends a scan's entropy-coded data starting at `from`.
fn skip_entropy_data(data: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        at += data.get(at..)?.iter().position(|&byte| byte == 0xFF)?;
        match *data.get(at + 1)? {
            0x00 | 0xD0..=0xD7 => at += 2, // stuffed 0xFF, restart marker
            0xFF => at += 1,               // fill byte before a marker
            _ => return Some(at),
        }
    }
}

fn marker_name(marker: u8) -> String {
    let name = match marker {
        0xC0 => "SOF0",
        0xC1 => "SOF1",
        0xC2 => "SOF2",
        0xC3 => "SOF3",
        0xC4 => "DHT",
        0xCC => "DAC",
        0xDA => "SOS",
        0xDB => "DQT",
        0xDD => "DRI",
        0xFE => "COM",
        0xC5..=0xCF => return format!("SOF{}", marker - 0xC0),
        0xE0..=0xEF => return format!("APP{}", marker - 0xE0),
        _ => return format!("FF {marker:02X}"),
    };
    name.to_string()
}

fn compression_name(sof: u8) -> &'static str {
    match sof {
        0xC0 => "JPEG baseline DCT",
        0xC1 => "JPEG extended sequential DCT",
        0xC2 => "JPEG progressive DCT",
        0xC3 => "JPEG lossless",
        0xC5 => "JPEG differential sequential DCT",
        0xC6 => "JPEG differential progressive DCT",
        0xC7 => "JPEG differential lossless",
        0xC9 => "JPEG extended sequential DCT, arithmetic coding",
        0xCA => "JPEG progressive DCT, arithmetic coding",
        0xCB => "JPEG lossless, arithmetic coding",
        0xCD => "JPEG differential sequential DCT, arithmetic coding",
        0xCE => "JPEG differential progressive DCT, arithmetic coding",
        _ => "JPEG differential lossless, arithmetic coding",
    }
}

fn colour_space(frame: &Frame, adobe_transform: Option<u8>) -> &'static str {
    match (frame.components, adobe_transform) {
        (1, _) => "Greyscale",
        (3, Some(0)) => "RGB",
        (3, Some(_)) => "YCbCr",
        (3, None) if &frame.ids == b"RGB" => "RGB",
        (3, None) => "YCbCr",
        (4, Some(2)) => "YCCK",
        (4, _) => "CMYK",
        _ => "Other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::tests::codes_of;

    /// A structurally valid baseline JPEG: SOI, DQT, SOF0 (8×4, 3 components), DHT, SOS, a
    /// few bytes of "entropy data" with a stuffed FF and a restart marker, EOI.
    pub(crate) fn minimal() -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8];
        bytes.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01]); // DQT (shortened)
        bytes.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 8, 0x00, 0x04, 0x00, 0x08, 3]);
        bytes.extend_from_slice(&[1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        bytes.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x03, 0x00]); // DHT (shortened)
        bytes.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x0C, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0]);
        bytes.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        bytes.extend_from_slice(&[0xFF, 0xD9]);
        bytes
    }

    fn run(data: &[u8]) -> (Technical, Vec<&'static str>) {
        let mut tech = Technical::default();
        let mut findings = Findings::new("t.jpg");
        check(data, &mut tech, &mut findings);
        (tech, codes_of(&findings.problems))
    }

    #[test]
    fn a_minimal_jpeg_passes_and_gives_its_frame() {
        let (tech, codes) = run(&minimal());
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!((tech.width, tech.height), (Some(8), Some(4)));
        assert_eq!(tech.bits_per_sample, Some(8));
        assert_eq!(tech.samples_per_pixel, Some(3));
        assert_eq!(tech.colour_space.as_deref(), Some("YCbCr"));
        assert_eq!(tech.compression.as_deref(), Some("JPEG baseline DCT"));
    }

    #[test]
    fn truncation_in_the_scan_is_found() {
        let jpeg = minimal();
        for cut in [jpeg.len() - 1, jpeg.len() - 2, jpeg.len() - 5, 30] {
            assert_eq!(run(&jpeg[..cut]).1, ["PHOTO-010"], "cut at {cut}");
        }
    }

    #[test]
    fn bad_segment_lengths() {
        let mut jpeg = minimal();
        jpeg[5] = 1; // DQT length 1
        assert_eq!(run(&jpeg).1, ["PHOTO-011"]);
        let mut jpeg = minimal();
        jpeg[4] = 0x7F; // DQT runs far past the end
        assert_eq!(run(&jpeg).1, ["PHOTO-011"]);
        let mut jpeg = minimal();
        jpeg[8] = 0x00; // not a marker where one is due
        assert_eq!(run(&jpeg).1, ["PHOTO-011"]);
    }

    #[test]
    fn missing_frame_and_scan() {
        // SOI, EOI only.
        assert_eq!(run(&[0xFF, 0xD8, 0xFF, 0xD9]).1, ["PHOTO-012"]);
        // SOF but no SOS.
        let jpeg = minimal();
        let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        let mut no_scan = jpeg[..sos].to_vec();
        no_scan.extend_from_slice(&[0xFF, 0xD9]);
        assert_eq!(run(&no_scan).1, ["PHOTO-013"]);
        // SOS before SOF.
        let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        let mut early = jpeg[..sof].to_vec();
        early.extend_from_slice(&jpeg[sos..]);
        assert_eq!(run(&early).1, ["PHOTO-011"]);
    }

    #[test]
    fn trailing_data_after_eoi() {
        let mut jpeg = minimal();
        jpeg.extend_from_slice(b"garbage");
        assert_eq!(run(&jpeg).1, ["PHOTO-W003"]);
        // Zero padding and a second embedded JPEG (MPF) are normal.
        let mut jpeg = minimal();
        jpeg.extend_from_slice(&[0; 16]);
        assert!(run(&jpeg).1.is_empty());
        let mut jpeg = minimal();
        jpeg.extend_from_slice(&minimal());
        assert!(run(&jpeg).1.is_empty());
    }
}
