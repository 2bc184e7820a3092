//! TIFF structure (TIFF 6.0, BigTIFF, and the TIFF-based DNG): the header, then every image
//! file directory (IFD) it can reach, and the pixel data they point to.
//!
//! A TIFF is a web of offsets, and damage shows as an offset that points nowhere: an IFD past
//! the end of the file, a chain of IFDs that loops back on itself (a reader would spin
//! forever), a tag value or a strip or tile of pixel data that lies beyond the end (the classic
//! result of a truncated copy). This walks the main IFD chain, SubIFDs (where DNG keeps its
//! raw image) and the Exif, GPS and interoperability IFDs, checks that each is inside the file
//! and read only once, and checks every StripOffsets/StripByteCounts and
//! TileOffsets/TileByteCounts pair against the file size. Each IFD is read once; the cost is
//! linear in the size of the directories, not of the image.

use std::collections::HashSet;

use super::tiffio::{self, Entry, HeaderError, Ifd, IfdError, Tiff};
use super::{Findings, Technical};
use crate::error::Code;

/// More IFDs than this is not a photograph but an attack or a corrupt chain.
const MAX_IFDS: usize = 1024;

const IMAGE_WIDTH: u16 = 256;
const IMAGE_LENGTH: u16 = 257;
const BITS_PER_SAMPLE: u16 = 258;
const COMPRESSION: u16 = 259;
const PHOTOMETRIC: u16 = 262;
const STRIP_OFFSETS: u16 = 273;
const SAMPLES_PER_PIXEL: u16 = 277;
const STRIP_BYTE_COUNTS: u16 = 279;
const TILE_OFFSETS: u16 = 324;
const TILE_BYTE_COUNTS: u16 = 325;
const NEW_SUBFILE_TYPE: u16 = 254;
const JPEG_IF_OFFSET: u16 = 513;
const JPEG_IF_LENGTH: u16 = 514;
/// Compression 6: the JPEG of TIFF 6.0 section 22, replaced by TIFF Technical Note 2's 7.
const OLD_STYLE_JPEG: u64 = 6;

/// Validates a TIFF (classic or BigTIFF) and fills in what its main image's IFD says.
pub(crate) fn check(data: &[u8], tech: &mut Technical, out: &mut Findings<'_>) {
    let (tiff, first) = match Tiff::open(data) {
        Ok(x) => x,
        Err(HeaderError::TooShort) => {
            out.push(
                Code::TiffBadHeader,
                "the file is shorter than a TIFF header",
            );
            return;
        }
        Err(HeaderError::BadMagic) => {
            out.push(
                Code::TiffBadHeader,
                "the BigTIFF header is malformed (offset size is not 8)",
            );
            return;
        }
    };
    if first == 0 {
        out.push(
            Code::TiffBadHeader,
            "the header points to no image file directory (offset 0)",
        );
        return;
    }
    if first < tiff.header_len() {
        out.push(
            Code::TiffBadHeader,
            format!("the header gives byte {first} for the first image file directory, which is inside the header itself"),
        );
        return;
    }
    let mut walker = Walker {
        tiff,
        out,
        seen: HashSet::new(),
        visited: 0,
        tech,
        tech_full: None,
    };
    walker.chain(first, "IFD", true, true);
}

struct Walker<'a, 'o, 'f> {
    tiff: Tiff<'a>,
    out: &'o mut Findings<'f>,
    seen: HashSet<u64>,
    visited: usize,
    tech: &'o mut Technical,
    /// Whether `tech` came from a full-resolution image (NewSubfileType bit 0 clear).
    tech_full: Option<bool>,
}

impl<'a> Walker<'a, '_, '_> {
    fn len(&self) -> usize {
        self.tiff.data.len()
    }

    /// Walks a chain of IFDs from `start`. The main chain's are named `IFD 0`, `IFD 1`, …;
    /// others by what points to them.
    fn chain(&mut self, start: u64, prefix: &str, image: bool, numbered: bool) {
        let mut cur = start;
        let mut index = 0;
        while cur != 0 {
            let label = match (numbered, index) {
                (true, _) => format!("{prefix} {index}"),
                (false, 0) => prefix.to_string(),
                (false, _) => format!("{prefix}, next IFD {index}"),
            };
            let Some(ifd) = self.enter(cur, &label) else {
                return;
            };
            self.entries_in_bounds(&ifd, &label);
            if image {
                self.image(&ifd, &label);
            }
            for entry in ifd.entries() {
                match entry.tag {
                    tiffio::TAG_SUB_IFDS if image => {
                        for i in 0..entry.count.min(MAX_IFDS as u64) {
                            if let Some(off) = entry.get(&self.tiff, i) {
                                self.chain(off, &format!("{label}, SubIFD {i}"), true, false);
                            }
                        }
                    }
                    tiffio::TAG_EXIF_IFD => self.pointer(&entry, "Exif IFD"),
                    tiffio::TAG_GPS_IFD => self.pointer(&entry, "GPS IFD"),
                    tiffio::TAG_INTEROP_IFD if !image => {
                        self.pointer(&entry, "Interoperability IFD")
                    }
                    _ => {}
                }
            }
            // The Exif, GPS and interoperability IFDs stand alone: their next link should be
            // 0, some cameras and drones fill it with junk, and no reader follows it (ExifTool
            // does not), so neither does this walk.
            if !image {
                return;
            }
            cur = ifd.next;
            index += 1;
        }
    }

    fn pointer(&mut self, entry: &Entry, name: &str) {
        if let Some(off) = entry.get(&self.tiff, 0)
            && off != 0
        {
            self.chain(off, name, false, false);
        }
    }

    /// Reads the IFD at `off` once; reports a loop, an IFD out of bounds, or too many IFDs.
    fn enter(&mut self, off: u64, label: &str) -> Option<Ifd<'a>> {
        if !self.seen.insert(off) {
            self.out.push(
                Code::TiffIfdLoop,
                format!("{label} points back to byte {off}, a directory already read: the IFD chain loops"),
            );
            return None;
        }
        self.visited += 1;
        if self.visited > MAX_IFDS {
            if self.visited == MAX_IFDS + 1 {
                self.out.push(
                    Code::TiffBadIfd,
                    format!("the file has more than {MAX_IFDS} image file directories; the rest were not read"),
                );
            }
            return None;
        }
        match self.tiff.ifd(off) {
            Ok(ifd) => {
                if ifd.count == 0 {
                    self.out.push(
                        Code::TiffBadIfd,
                        format!("{label} (at byte {off}) has no entries"),
                    );
                }
                Some(ifd)
            }
            Err(IfdError::BeyondEof) => {
                self.out.push(
                    Code::TiffOutOfBounds,
                    format!(
                        "{label} is said to start at byte {off}, beyond the end of the file ({} bytes)",
                        self.len()
                    ),
                );
                None
            }
            Err(IfdError::Truncated { count }) => {
                self.out.push(
                    Code::TiffOutOfBounds,
                    format!(
                        "{label} at byte {off} declares {count} entries, which run past the end of the file ({} bytes)",
                        self.len()
                    ),
                );
                None
            }
        }
    }

    /// Every value that lives outside its entry must lie inside the file.
    fn entries_in_bounds(&mut self, ifd: &Ifd<'_>, label: &str) {
        for entry in ifd.entries() {
            if tiffio::type_size(entry.typ).is_none() {
                continue; // unknown types are skipped, as TIFF 6.0 asks readers to
            }
            let Some(len) = entry.byte_len() else {
                self.out.push(
                    Code::TiffBadIfd,
                    format!(
                        "{label}: tag {} declares an impossible number of values ({})",
                        tag_name(entry.tag),
                        entry.count
                    ),
                );
                return;
            };
            if entry.bytes(&self.tiff).is_none() {
                self.out.push(
                    Code::TiffOutOfBounds,
                    format!(
                        "{label}: the value of tag {} ({len} bytes at byte {}) lies beyond the end of the file ({} bytes)",
                        tag_name(entry.tag),
                        entry.value_off,
                        self.len()
                    ),
                );
                return;
            }
        }
    }

    /// An IFD that describes an image: required tags, pixel data in bounds, technical data.
    fn image(&mut self, ifd: &Ifd<'_>, label: &str) {
        let tiff = self.tiff;
        let get = |tag: u16| ifd.find(tag).and_then(|e| e.get(&tiff, 0));
        let (width, length) = (get(IMAGE_WIDTH), get(IMAGE_LENGTH));
        let strips = self.data(ifd, label, STRIP_OFFSETS, STRIP_BYTE_COUNTS, "strip");
        let tiles = self.data(ifd, label, TILE_OFFSETS, TILE_BYTE_COUNTS, "tile");
        let jpeg_stream = self.jpeg_stream(ifd, label);
        // A JPEG stream carries its size in its own frame header: Canon CR2's thumbnail and
        // raw IFDs, Nikon NEF's preview SubIFD and old-style JPEG TIFFs name none.
        let sized_by_jpeg = jpeg_stream || get(COMPRESSION) == Some(OLD_STYLE_JPEG);
        if (width.is_none() || length.is_none()) && !sized_by_jpeg {
            self.out.push(
                Code::TiffBadIfd,
                format!("{label} lacks ImageWidth or ImageLength, so its image has no size"),
            );
        }
        if !strips && !tiles && !jpeg_stream {
            self.out.push(
                Code::TiffBadIfd,
                format!(
                    "{label} has neither StripOffsets, TileOffsets nor JPEGInterchangeFormat: it points to no image data"
                ),
            );
        }
        if width.is_none() && self.tech_full.is_some() {
            return; // an IFD without a size says nothing about the image's technical data
        }

        let full = get(NEW_SUBFILE_TYPE).is_none_or(|v| v & 1 == 0);
        let replace = match self.tech_full {
            None => true,
            Some(had_full) => full && !had_full,
        };
        if replace {
            self.tech_full = Some(full);
            let bits = ifd
                .find(BITS_PER_SAMPLE)
                .map_or(Some(1), |e| e.get(&tiff, 0));
            *self.tech = Technical {
                width: width.and_then(|v| u32::try_from(v).ok()),
                height: length.and_then(|v| u32::try_from(v).ok()),
                bits_per_sample: bits.and_then(|v| u16::try_from(v).ok()),
                samples_per_pixel: get(SAMPLES_PER_PIXEL)
                    .map_or(Some(1), |v| u16::try_from(v).ok()),
                colour_space: get(PHOTOMETRIC).map(photometric_name),
                compression: Some(compression_name(get(COMPRESSION).unwrap_or(1))),
            };
        }
    }

    /// A JPEG stream at JPEGInterchangeFormat (a thumbnail, a preview, or, in an old-style
    /// JPEG TIFF, the image itself); returns whether there is one. Its length tag is optional
    /// (TIFF 6.0 section 22 lets a reader find the end from the stream's own markers), so
    /// without one the stream must at least start inside the file, with a JPEG's SOI marker.
    fn jpeg_stream(&mut self, ifd: &Ifd<'_>, label: &str) -> bool {
        if ifd.find(JPEG_IF_LENGTH).is_some() {
            return self.data(ifd, label, JPEG_IF_OFFSET, JPEG_IF_LENGTH, "JPEG stream");
        }
        let Some(offset) = ifd.find(JPEG_IF_OFFSET).and_then(|e| e.get(&self.tiff, 0)) else {
            return false;
        };
        let start = usize::try_from(offset).ok();
        let head = start.and_then(|s| self.tiff.data.get(s..s.checked_add(2)?));
        match head {
            Some([0xFF, 0xD8]) => {}
            Some(_) => self.out.push_field(
                Code::TiffBadIfd,
                "JPEGInterchangeFormat",
                format!(
                    "{label}: JPEGInterchangeFormat gives byte {offset}, where no JPEG stream starts (no SOI marker FF D8)"
                ),
            ),
            None => self.out.push_field(
                Code::TiffDataBeyondEof,
                "JPEGInterchangeFormat",
                format!(
                    "{label}: the JPEG stream at byte {offset} lies beyond the end of the file ({} bytes): the image cannot be read",
                    self.len()
                ),
            ),
        }
        true
    }

    /// Checks an offsets/byte-counts pair; returns whether the offsets tag is present.
    fn data(
        &mut self,
        ifd: &Ifd<'_>,
        label: &str,
        offs_tag: u16,
        counts_tag: u16,
        what: &str,
    ) -> bool {
        let Some(offs) = ifd.find(offs_tag) else {
            return false;
        };
        let Some(counts) = ifd.find(counts_tag) else {
            self.out.push(
                Code::TiffBadIfd,
                format!(
                    "{label} has {} but no {}, so the extent of its {what} data is unknown",
                    tag_name(offs_tag),
                    tag_name(counts_tag)
                ),
            );
            return true;
        };
        if offs.count != counts.count {
            self.out.push(
                Code::TiffBadIfd,
                format!(
                    "{label} lists {} {what} offsets but {} byte counts",
                    offs.count, counts.count
                ),
            );
        }
        let len = self.len() as u64;
        let mut beyond = 0u64;
        let mut first: Option<(u64, u64, u64)> = None;
        for index in 0..offs.count.min(counts.count) {
            let (Some(offset), Some(count)) =
                (offs.get(&self.tiff, index), counts.get(&self.tiff, index))
            else {
                if offs.bytes(&self.tiff).is_some() && counts.bytes(&self.tiff).is_some() {
                    self.out.push(
                        Code::TiffBadIfd,
                        format!(
                            "{label}: {} or {} has a field type that cannot hold offsets",
                            tag_name(offs_tag),
                            tag_name(counts_tag)
                        ),
                    );
                }
                return true; // out-of-bounds arrays were reported by entries_in_bounds
            };
            if offset.checked_add(count).is_none_or(|end| end > len) {
                beyond += 1;
                first.get_or_insert((index, offset, count));
            }
        }
        if let Some((index, offset, count)) = first {
            let more = if beyond > 1 {
                format!(" ({} more do too)", beyond - 1)
            } else {
                String::new()
            };
            self.out.push_field(
                Code::TiffDataBeyondEof,
                tag_name(offs_tag),
                format!(
                    "{label}: {what} {index} ({count} bytes at byte {offset}) lies beyond the end of the file ({len} bytes){more}: the pixel data cannot be read"
                ),
            );
        }
        true
    }
}

fn tag_name(tag: u16) -> String {
    let name = match tag {
        IMAGE_WIDTH => "ImageWidth",
        IMAGE_LENGTH => "ImageLength",
        BITS_PER_SAMPLE => "BitsPerSample",
        COMPRESSION => "Compression",
        PHOTOMETRIC => "PhotometricInterpretation",
        STRIP_OFFSETS => "StripOffsets",
        SAMPLES_PER_PIXEL => "SamplesPerPixel",
        STRIP_BYTE_COUNTS => "StripByteCounts",
        TILE_OFFSETS => "TileOffsets",
        TILE_BYTE_COUNTS => "TileByteCounts",
        JPEG_IF_OFFSET => "JPEGInterchangeFormat",
        JPEG_IF_LENGTH => "JPEGInterchangeFormatLength",
        tiffio::TAG_SUB_IFDS => "SubIFDs",
        tiffio::TAG_EXIF_IFD => "ExifIFD",
        tiffio::TAG_GPS_IFD => "GPSInfo",
        _ => return format!("{tag} (0x{tag:04X})"),
    };
    name.to_string()
}

pub(crate) fn compression_name(c: u64) -> String {
    let name = match c {
        1 => "Uncompressed",
        2 => "CCITT modified Huffman RLE",
        3 => "CCITT Group 3",
        4 => "CCITT Group 4",
        5 => "LZW",
        6 => "JPEG (old-style)",
        7 => "JPEG",
        8 | 32946 => "Deflate",
        32773 => "PackBits",
        34712 => "JPEG 2000",
        34892 => "Lossy JPEG (DNG)",
        50000 => "Zstandard",
        50001 => "WebP",
        52546 => "JPEG XL",
        _ => return format!("Compression {c}"),
    };
    name.to_string()
}

fn photometric_name(p: u64) -> String {
    let name = match p {
        0 | 1 => "Greyscale",
        2 => "RGB",
        3 => "Palette",
        4 => "Transparency mask",
        5 => "CMYK",
        6 => "YCbCr",
        8 => "CIELab",
        9 => "ICCLab",
        10 => "ITULab",
        32803 => "CFA",
        34892 => "LinearRaw",
        _ => return format!("Photometric {p}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::tests::codes_of;
    use crate::photo::tiffio::tests::tiny_tiff;

    /// An 8×8 greyscale TIFF with one 64-byte strip right after the IFD.
    fn good(strip_off: Option<u32>, next: u32) -> Vec<u8> {
        let ifd_end = 8 + 2 + 8 * 12 + 4;
        let strip = strip_off.unwrap_or(ifd_end);
        tiny_tiff(
            &[
                (256, 3, 1, 8),
                (257, 3, 1, 8),
                (258, 3, 1, 8),
                (259, 3, 1, 1),
                (262, 3, 1, 1),
                (273, 4, 1, strip),
                (277, 3, 1, 1),
                (279, 4, 1, 64),
            ],
            next,
            &[0x80; 64],
        )
    }

    fn run(data: &[u8]) -> (Technical, Vec<&'static str>) {
        let mut tech = Technical::default();
        let mut f = Findings::new("t.tif");
        check(data, &mut tech, &mut f);
        (tech, codes_of(&f.problems))
    }

    #[test]
    fn a_good_tiff_passes() {
        let (tech, codes) = run(&good(None, 0));
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!((tech.width, tech.height), (Some(8), Some(8)));
        assert_eq!(tech.bits_per_sample, Some(8));
        assert_eq!(tech.samples_per_pixel, Some(1));
        assert_eq!(tech.colour_space.as_deref(), Some("Greyscale"));
        assert_eq!(tech.compression.as_deref(), Some("Uncompressed"));
    }

    #[test]
    fn offsets_out_of_bounds() {
        let g = good(None, 0);
        let mut bad_ifd = g.clone();
        bad_ifd[4..8].copy_from_slice(&(g.len() as u32 + 1000).to_le_bytes());
        assert_eq!(run(&bad_ifd).1, ["PHOTO-031"]);
        assert_eq!(run(&good(Some(5000), 0)).1, ["PHOTO-033"]);
        assert_eq!(run(&g[..g.len() - 1]).1, ["PHOTO-033"]);
        // A next-IFD pointer past the end.
        assert_eq!(run(&good(None, 9999)).1, ["PHOTO-031"]);
    }

    #[test]
    fn loops_and_headers() {
        assert_eq!(run(&good(None, 8)).1, ["PHOTO-032"]);
        let mut zero = good(None, 0);
        zero[4..8].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(run(&zero).1, ["PHOTO-030"]);
        let mut inside = good(None, 0);
        inside[4] = 4;
        assert_eq!(run(&inside).1, ["PHOTO-030"]);
        assert_eq!(run(b"II*\0\x08\0").1, ["PHOTO-030"]);
    }

    #[test]
    fn missing_tags() {
        let d = tiny_tiff(&[(256, 3, 1, 8), (257, 3, 1, 8)], 0, &[]);
        assert_eq!(run(&d).1, ["PHOTO-034"]);
        let d = tiny_tiff(&[(256, 3, 1, 8), (257, 3, 1, 8), (273, 4, 1, 8)], 0, &[]);
        assert_eq!(run(&d).1, ["PHOTO-034"]);
        let d = tiny_tiff(&[], 0, &[]);
        assert!(run(&d).1.contains(&"PHOTO-034"));
    }

    #[test]
    fn issue14_jpeg_streams_are_image_data_and_carry_their_size() {
        // An old-style JPEG TIFF: the JPEG stream at JPEGInterchangeFormat is the image; no
        // length, no strips.
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend_from_slice(&[0; 30]);
        let ifd_end = 8 + 2 + 4 * 12 + 4;
        let ojpeg = |at: u32| {
            tiny_tiff(
                &[
                    (256, 3, 1, 8),
                    (257, 3, 1, 8),
                    (259, 3, 1, 6),
                    (513, 4, 1, at),
                ],
                0,
                &jpeg,
            )
        };
        assert!(run(&ojpeg(ifd_end)).1.is_empty());
        // Pointing at no SOI, or beyond the end: real damage.
        assert_eq!(run(&ojpeg(ifd_end + 4)).1, ["PHOTO-034"]);
        assert_eq!(run(&ojpeg(99_999)).1, ["PHOTO-033"]);
        // A CR2-style thumbnail IFD: JPEG offset and length, no size, no strips.
        let thumb = tiny_tiff(
            &[
                (259, 3, 1, 6),
                (513, 4, 1, 8 + 2 + 3 * 12 + 4),
                (514, 4, 1, 32),
            ],
            0,
            &jpeg,
        );
        assert!(run(&thumb).1.is_empty());
        // Its length past the end is still caught.
        let long = tiny_tiff(
            &[
                (259, 3, 1, 6),
                (513, 4, 1, 8 + 2 + 3 * 12 + 4),
                (514, 4, 1, 3200),
            ],
            0,
            &jpeg,
        );
        assert_eq!(run(&long).1, ["PHOTO-033"]);
        // Uncompressed strips without a size are still incomplete.
        let d = tiny_tiff(&[(273, 4, 1, 8), (279, 4, 1, 8)], 0, &[0; 8]);
        assert_eq!(run(&d).1, ["PHOTO-034"]);
    }

    #[test]
    fn value_beyond_eof() {
        // BitsPerSample with 3 SHORTs stored at byte 60000.
        let d = tiny_tiff(
            &[
                (256, 3, 1, 8),
                (257, 3, 1, 8),
                (258, 3, 3, 60000),
                (273, 4, 1, 8),
                (279, 4, 1, 8),
            ],
            0,
            &[],
        );
        assert_eq!(run(&d).1, ["PHOTO-031"]);
    }

    #[test]
    fn exif_ifd_loop_is_found() {
        // IFD 0's Exif pointer points back at IFD 0.
        let ifd_end = 8 + 2 + 9 * 12 + 4;
        let d = tiny_tiff(
            &[
                (256, 3, 1, 8),
                (257, 3, 1, 8),
                (258, 3, 1, 8),
                (259, 3, 1, 1),
                (262, 3, 1, 1),
                (273, 4, 1, ifd_end),
                (277, 3, 1, 1),
                (279, 4, 1, 64),
                (0x8769, 4, 1, 8),
            ],
            0,
            &[0x80; 64],
        );
        assert_eq!(run(&d).1, ["PHOTO-032"]);
    }
}
