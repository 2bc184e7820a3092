//! Finding the Exif block in a container, and walking its directories without giving up.
//!
//! Real cameras write damaged Exif more often than one would hope: a GPS IFD pointer past the
//! end of the block, an IFD whose entry count runs off the end, a next-IFD link that points
//! into garbage or back at itself, a maker note whose value lies outside the block. A parser
//! that stops at the first such fault (as `kamadak-exif` does) loses the date, the camera and
//! the position that are still there. This walker reads entry by entry, keeps every entry
//! whose bytes lie inside the block, never visits an IFD twice, and records each thing it had
//! to leave as a [`Loss`] naming the IFD and the reason, so that the report says what was lost.
//!
//! Only the directories qoima reads are walked: IFD 0, the Exif IFD and the GPS IFD. The
//! next-IFD link of IFD 0 (IFD 1, the thumbnail) is checked but not read; the next-IFD links
//! of the Exif and GPS IFDs (which should be 0, and which old Canon and HP cameras fill with
//! junk) are ignored, because nothing qoima reports lives there.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::Cursor;

use super::bytes::{be16, be32, le32, slice};
use super::identify::Family;
use super::tiffio::{Entry, HeaderError, IfdError, TAG_EXIF_IFD, TAG_GPS_IFD, Tiff};

/// Something in the Exif block that could not be read, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Loss {
    /// The directory: `IFD0`, `ExifIFD`, `GPS` or `IFD1`.
    pub ifd: &'static str,
    /// What was lost and why, in words.
    pub why: String,
}

/// The directories read from one Exif block.
pub(crate) struct Walked<'a> {
    /// The block, for reading values.
    pub tiff: Tiff<'a>,
    /// IFD 0's entries whose values lie inside the block.
    pub ifd0: Vec<Entry>,
    /// The Exif IFD's entries, if it was found.
    pub exif: Vec<Entry>,
    /// The GPS IFD's entries, if it was found.
    pub gps: Vec<Entry>,
    /// Whether IFD 0 points to an Exif or GPS IFD (readable or not).
    pub has_pointers: bool,
    /// What could not be read.
    pub losses: Vec<Loss>,
}

/// The Exif block (a TIFF structure) of a file: `Ok(None)` when the file has none,
/// `Err(why)` when the container cannot be searched for one.
pub(crate) fn locate(family: Family, data: &[u8]) -> Result<Option<Cow<'_, [u8]>>, String> {
    let block = match family {
        Family::Tiff => Some(data),
        Family::Jpeg => jpeg_app1(data),
        Family::Png => png_exif(data),
        Family::WebP => webp_exif(data),
        // HEIF keeps Exif in an item found through `meta`/`iinf`/`iloc`; `kamadak-exif`
        // locates it. Its parser is then bypassed: the block goes through `walk` like any other.
        Family::Heif => return heif_exif(data),
        _ => None,
    };
    Ok(block.map(|b| Cow::Borrowed(strip_exif_prefix(b))))
}

/// Some writers (Apple's WebP and PNG among them) keep the JPEG-style `Exif\0\0` before the
/// TIFF header; ExifTool accepts it and so does qoima.
fn strip_exif_prefix(block: &[u8]) -> &[u8] {
    block.strip_prefix(b"Exif\0\0").unwrap_or(block)
}

/// The first APP1 segment that starts `Exif\0`, before the first scan.
fn jpeg_app1(data: &[u8]) -> Option<&[u8]> {
    let mut pos: u64 = 2;
    loop {
        if slice(data, pos, 1)? != [0xFF] {
            return None;
        }
        let marker = slice(data, pos + 1, 1)?[0];
        match marker {
            0xFF => pos += 1, // fill byte
            0x01 | 0xD0..=0xD7 => pos += 2,
            0xD9 | 0xDA => return None,
            _ => {
                let len = u64::from(be16(data, pos + 2)?);
                let body_len = len.checked_sub(2)?;
                // A segment cut short by the end of the file still gives what it holds.
                let available = (data.len() as u64).saturating_sub(pos + 4).min(body_len);
                let body = slice(data, pos + 4, available)?;
                if marker == 0xE1 && body.starts_with(b"Exif\0") {
                    return Some(&body[6.min(body.len())..]);
                }
                pos += 2 + len;
            }
        }
    }
}

/// The `eXIf` chunk of a PNG.
fn png_exif(data: &[u8]) -> Option<&[u8]> {
    let mut pos: u64 = 8;
    while let (Some(len), Some(typ)) = (be32(data, pos), slice(data, pos + 4, 4)) {
        let len = u64::from(len);
        match typ {
            b"eXIf" => {
                let available = (data.len() as u64).saturating_sub(pos + 8).min(len);
                return slice(data, pos + 8, available);
            }
            b"IEND" => return None,
            _ => pos += 12 + len,
        }
    }
    None
}

/// The `EXIF` chunk of a WebP.
fn webp_exif(data: &[u8]) -> Option<&[u8]> {
    let mut pos: u64 = 12;
    while let (Some(typ), Some(len)) = (slice(data, pos, 4), le32(data, pos + 4)) {
        let len = u64::from(len);
        if typ == b"EXIF" {
            let available = (data.len() as u64).saturating_sub(pos + 8).min(len);
            return slice(data, pos + 8, available);
        }
        // Chunks are padded to an even size.
        pos += 8 + len + (len & 1);
    }
    None
}

fn heif_exif(data: &[u8]) -> Result<Option<Cow<'_, [u8]>>, String> {
    let found = exif::Reader::new()
        .continue_on_error(true)
        .read_from_container(&mut Cursor::new(data));
    let parsed = match found {
        Ok(parsed) => parsed,
        Err(exif::Error::PartialResult(partial)) => partial.into_inner().0,
        Err(exif::Error::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    // A copy, at most 128 KiB (the library's own limit for HEIF Exif).
    Ok(Some(Cow::Owned(strip_exif_prefix(parsed.buf()).to_vec())))
}

/// Walks IFD 0, the Exif IFD and the GPS IFD of an Exif block. `check_ifd1`: whether IFD 0's
/// next link leads to a thumbnail IFD (in JPEG, PNG, WebP and HEIF Exif; in a TIFF it leads to
/// the next page, which the TIFF validator checks). Fails only when the TIFF header or IFD 0's
/// entry count cannot be read: then nothing can be.
pub(crate) fn walk(block: &[u8], check_ifd1: bool) -> Result<Walked<'_>, String> {
    let (tiff, first) = Tiff::open(block).map_err(|e| match e {
        HeaderError::TooShort => format!(
            "the Exif block is {} bytes, too short for a TIFF header",
            block.len()
        ),
        HeaderError::BadMagic => format!(
            "the Exif block does not start with a TIFF header (II*\\0 or MM\\0*) but with {}",
            hex(&block[..block.len().min(8)])
        ),
    })?;
    let mut walker = Walker {
        tiff,
        visited: HashSet::new(),
        losses: Vec::new(),
    };
    let (ifd0, next) = walker.read("IFD0", first).ok_or_else(|| {
        format!(
            "IFD0 (at offset {first}) lies past the end of the Exif block ({} bytes)",
            block.len()
        )
    })?;
    let mut walked = Walked {
        tiff,
        has_pointers: false,
        ifd0,
        exif: Vec::new(),
        gps: Vec::new(),
        losses: Vec::new(),
    };
    for (tag, name) in [(TAG_EXIF_IFD, "ExifIFD"), (TAG_GPS_IFD, "GPS")] {
        let Some(pointer) = walked.ifd0.iter().find(|e| e.tag == tag).copied() else {
            continue;
        };
        walked.has_pointers = true;
        let entries = walker.follow(name, &pointer).unwrap_or_default();
        if tag == TAG_EXIF_IFD {
            walked.exif = entries;
        } else {
            walked.gps = entries;
        }
    }
    if check_ifd1 {
        walker.check_ifd1(next);
    }
    walked.losses = walker.losses;
    Ok(walked)
}

struct Walker<'a> {
    tiff: Tiff<'a>,
    visited: HashSet<u64>,
    losses: Vec<Loss>,
}

impl Walker<'_> {
    fn lose(&mut self, ifd: &'static str, why: String) {
        self.losses.push(Loss { ifd, why });
    }

    /// The entries of the IFD at `offset` whose values are inside the block, and its next
    /// link; `None` (with a loss) when the IFD cannot be read at all or was already read.
    fn read(&mut self, name: &'static str, offset: u64) -> Option<(Vec<Entry>, Option<u64>)> {
        if !self.visited.insert(offset) {
            self.lose(name, format!("its pointer leads back to an IFD already read (offset {offset}); a loop, not followed"));
            return None;
        }
        let size = self.tiff.data.len();
        let partial = match self.tiff.ifd_partial(offset) {
            Ok(partial) => partial,
            Err(IfdError::BeyondEof | IfdError::Truncated { .. }) => {
                self.lose(name, format!("it is said to start at offset {offset}, past the end of the Exif block ({size} bytes); its tags are lost"));
                return None;
            }
        };
        if partial.ifd.count < partial.declared {
            self.lose(name, format!(
                "it declares {} entries but the Exif block ({size} bytes) ends after {}; the other {} are lost",
                partial.declared, partial.ifd.count, partial.declared - partial.ifd.count
            ));
        }
        let mut kept = Vec::new();
        let mut outside = Vec::new();
        for entry in partial.ifd.entries() {
            if entry.bytes(&self.tiff).is_some() || entry.byte_len().is_none() {
                kept.push(entry);
            } else {
                outside.push(tag_name(name, entry.tag));
            }
        }
        if !outside.is_empty() {
            self.lose(name, format!(
                "the values of {} entr{} (tag {}) lie past the end of the Exif block; those tags are lost",
                outside.len(),
                if outside.len() == 1 { "y" } else { "ies" },
                outside.join(", ")
            ));
        }
        Some((kept, partial.next))
    }

    /// Reads the IFD a pointer entry (Exif IFD, GPS IFD) leads to.
    fn follow(&mut self, name: &'static str, pointer: &Entry) -> Option<Vec<Entry>> {
        // The pointer is a LONG (or IFD) by the standard; some writers use UNDEFINED bytes.
        let offset = pointer.get(&self.tiff, 0).or_else(|| {
            let bytes = pointer.bytes(&self.tiff)?;
            (bytes.len() == 4)
                .then(|| super::bytes::u32_at(bytes, 0, self.tiff.endian).map(u64::from))?
        });
        let Some(offset) = offset else {
            self.lose(
                name,
                format!(
                    "its pointer (tag 0x{:04X}) holds no offset (type {}, count {})",
                    pointer.tag, pointer.typ, pointer.count
                ),
            );
            return None;
        };
        self.read(name, offset).map(|(entries, _next)| entries)
    }

    /// IFD 1 holds only the thumbnail, which qoima does not read; a bad link to it is still
    /// reported, because every reader loses the thumbnail.
    fn check_ifd1(&mut self, next: Option<u64>) {
        let size = self.tiff.data.len() as u64;
        match next {
            None | Some(0) => {}
            Some(offset) if self.visited.contains(&offset) => self.lose(
                "IFD1",
                format!("IFD0's next-IFD link leads back to an IFD already read (offset {offset}); the thumbnail directory is lost"),
            ),
            Some(offset) if self.tiff.ifd(offset).is_err() => self.lose(
                "IFD1",
                format!("IFD0's next-IFD link (offset {offset}) points outside the Exif block ({size} bytes) or to a cut-short directory; the thumbnail directory is lost"),
            ),
            Some(_) => {}
        }
    }
}

/// `0x0002 GPSLatitude`: the number, and the name of the tags qoima reads or that often break.
fn tag_name(ifd: &str, tag: u16) -> String {
    let name = match (ifd, tag) {
        ("GPS", 1) => "GPSLatitudeRef",
        ("GPS", 2) => "GPSLatitude",
        ("GPS", 3) => "GPSLongitudeRef",
        ("GPS", 4) => "GPSLongitude",
        ("ExifIFD", 0x9003) => "DateTimeOriginal",
        ("ExifIFD", 0x9011) => "OffsetTimeOriginal",
        ("ExifIFD", 0x927C) => "MakerNote",
        (_, 0x010F) => "Make",
        (_, 0x0110) => "Model",
        (_, 0x0131) => "Software",
        _ => "",
    };
    if name.is_empty() {
        format!("0x{tag:04X}")
    } else {
        format!("0x{tag:04X} {name}")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}
