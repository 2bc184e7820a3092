//! Does every JPEG scan hold enough entropy-coded data for all of its blocks?
//!
//! A JPEG decoder that meets a marker (or the end of the file) in the middle of a scan fills
//! the missing bits with zeros and goes on: libjpeg warns ("premature end of data segment"),
//! zune-jpeg says nothing, so a scan cut short — or overwritten with zeros, which decode as
//! short codes and run out early — passes as whole. This module walks every scan's Huffman
//! codes exactly as the decoder would (baseline, extended and progressive, with restart
//! intervals and successive approximation), without dequantising or transforming anything,
//! and reports the first scan whose data ends before its last block.
//!
//! Memory: nothing for sequential JPEGs; for progressive ones, one 64-bit mask per block (which
//! coefficients are already non-zero, needed to read refinement scans) — an eighth of a byte
//! per sample, far below what the decoder itself needs, and the caller checks the decoder's
//! need against the budget first.
//!
//! The walk is split by concern, each file importing only those below it: `segments` (the
//! marker segments between scans), `headers` (the frame header, the progressive parameters,
//! the walk's error), `entropy` (the scan headers' tables and the Huffman codes of each scan,
//! block by block: the inner loops, kept together in one file); this file drives them.

mod entropy;
mod headers;
mod segments;

use super::bytes::be16;
use entropy::State;
use headers::Frame;
pub(crate) use headers::{ScanError, progression_valid};
use segments::Segments;

/// Whether the decoder must hold every block of the image before colour conversion (a
/// progressive JPEG, or one whose components come in separate scans), read from the headers alone (the frame,
/// and the component count of the first scan), so that its memory need is known before the
/// walk allocates anything.
pub(crate) fn whole_image_buffered(data: &[u8]) -> bool {
    let mut frame_components = None;
    let mut progressive = false;
    for segment in Segments::new(data) {
        match segment.marker {
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                progressive = matches!(segment.marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
                frame_components = segment.body.get(5).copied();
            }
            0xDA => {
                let scan_components = segment.body.first().copied();
                return progressive || scan_components != frame_components;
            }
            _ => {}
        }
    }
    progressive
}

/// Walks every scan of a JPEG whose marker structure is already known to be sound.
pub(crate) fn walk(data: &[u8]) -> Result<(), ScanError> {
    let mut state = State::default();
    let mut scan_number = 0u32;
    let mut segments = Segments::new(data);
    while let Some(segment) = segments.next() {
        match segment.marker {
            0xC0..=0xC2 => state.frame = Some(Frame::parse(segment.marker, segment.body)?),
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(ScanError::Unsupported(process_name(segment.marker)));
            }
            0xC4 => state.read_tables(segment.body)?,
            0xDD => state.restart_interval = be16(segment.body, 0).map_or(0, usize::from),
            0xDA => {
                scan_number += 1;
                let end = state.scan(data, segment.offset, segment.body, scan_number)?;
                segments.resume_at(end);
            }
            0xD9 => break,
            _ => {}
        }
    }
    Ok(())
}

/// The coding process of a frame marker that the walk (and zune-jpeg) do not implement.
fn process_name(sof: u8) -> &'static str {
    match sof {
        0xC3 => "lossless JPEG (SOF3)",
        0xC5..=0xC7 => "hierarchical JPEG (SOF5 to SOF7)",
        _ => "arithmetic-coded JPEG (SOF9 to SOF15)",
    }
}

/// A copy of a JPEG whose frame header gives height 0 and whose DNL segment (T.81 B.2.5)
/// gives the real height after the first scan, with the height moved into the frame header
/// and the DNL segment left out — what libjpeg 9 does as it reads. The decoders qoima uses
/// implement no DNL; the copy decodes to the same pixels. `None` when there is nothing to
/// move (the frame has a height, or there is no DNL segment with a non-zero height).
pub(crate) fn with_dnl_height(data: &[u8]) -> Option<Vec<u8>> {
    let mut height_at = None;
    for segment in Segments::new(data) {
        match segment.marker {
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF if height_at.is_none() => {
                if be16(segment.body, 1)? != 0 {
                    return None;
                }
                height_at = Some(segment.offset + 5);
            }
            0xDC => {
                let height = be16(segment.body, 0).filter(|&h| h != 0)?;
                let at = height_at?;
                let dnl_end = segment.offset + 4 + segment.body.len();
                let mut patched = Vec::with_capacity(data.len());
                patched.extend_from_slice(&data[..segment.offset]);
                patched.extend_from_slice(data.get(dnl_end..)?);
                patched[at..at + 2].copy_from_slice(&height.to_be_bytes());
                return Some(patched);
            }
            0xD9 => return None,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue14_progression_parameters_follow_libjpeg() {
        // (components, Ss, Se, Ah, Al)
        for ok in [
            (3, 0, 0, 0, 1),
            (1, 1, 5, 0, 2),
            (1, 6, 63, 0, 2),
            (1, 1, 63, 2, 1),
            (3, 0, 0, 1, 0),
        ] {
            assert!(progression_valid(ok.0, ok.1, ok.2, ok.3, ok.4), "{ok:?}");
        }
        for bad in [
            (1, 1, 64, 0, 2),  // Se past the last coefficient
            (1, 0, 5, 0, 0),   // a DC scan with AC coefficients
            (3, 1, 5, 0, 0),   // an AC scan with three components
            (1, 6, 5, 0, 0),   // Ss after Se
            (1, 1, 63, 2, 2),  // a refinement that does not lower Al by one
            (1, 1, 63, 0, 14), // Al past 13
            (0, 0, 0, 0, 0),   // no component
        ] {
            assert!(
                !progression_valid(bad.0, bad.1, bad.2, bad.3, bad.4),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn issue14_the_dnl_height_moves_into_the_frame_header() {
        // SOI, SOF0 (height 0, width 8, one component), SOS, one data byte, DNL (height 8), EOI.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0, 0, 0, 8, 1, 1, 0x11, 0];
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0, 0x55]);
        jpeg.extend_from_slice(&[0xFF, 0xDC, 0, 4, 0, 8, 0xFF, 0xD9]);
        let patched = with_dnl_height(&jpeg).unwrap();
        assert_eq!(patched.len(), jpeg.len() - 6);
        assert_eq!(&patched[7..9], &[0, 8]);
        assert!(!patched.windows(2).any(|w| w == [0xFF, 0xDC]));
        assert_eq!(with_dnl_height(&patched), None, "nothing left to move");
        // Height 0 and no DNL: nothing to move (the structural check reports it).
        let mut no_dnl = jpeg.clone();
        no_dnl.drain(jpeg.len() - 8..jpeg.len() - 2);
        assert_eq!(with_dnl_height(&no_dnl), None);
    }
}
