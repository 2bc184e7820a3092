//! A minimal, bounds-checked reader of TIFF structure: the header, image file directories
//! (IFDs) and their entries, for classic TIFF and BigTIFF.
//!
//! Three places need it: the TIFF validator (`tiff.rs`), identification (a DNG is a TIFF whose
//! first IFD has a DNGVersion tag) and the PRONOM choice for Exif JPEGs (the Exif version sits
//! in an IFD inside the APP1 segment). It reads values in place and never allocates, so walking
//! a directory costs nothing but the bytes it touches. What is *wrong* with a structure is
//! decided by the callers; this file only reports what it cannot read.

use super::bytes::{Endian, slice, u16_at, u32_at, u64_at};

/// Tag of the Exif private IFD pointer.
pub(crate) const TAG_EXIF_IFD: u16 = 0x8769;
/// Tag of the GPS IFD pointer.
pub(crate) const TAG_GPS_IFD: u16 = 0x8825;
/// Tag of the interoperability IFD pointer (inside the Exif IFD).
pub(crate) const TAG_INTEROP_IFD: u16 = 0xA005;
/// Tag of the SubIFDs list (DNG keeps its raw image there).
pub(crate) const TAG_SUB_IFDS: u16 = 0x014A;
/// Tag of the Exif version (`0232` for Exif 2.32), in the Exif IFD.
pub(crate) const TAG_EXIF_VERSION: u16 = 0x9000;
/// Tag of the MakerNote, in the Exif IFD.
pub(crate) const TAG_MAKER_NOTE: u16 = 0x927C;
/// Tag of the GeoTIFF key directory, in IFD 0.
pub(crate) const TAG_GEO_KEY_DIRECTORY: u16 = 0x87AF;
/// Tag of the DNG version (four bytes, `1 4 0 0` for DNG 1.4), in IFD 0.
pub(crate) const TAG_DNG_VERSION: u16 = 0xC612;

/// Why a TIFF header cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeaderError {
    /// Shorter than a header.
    TooShort,
    /// Not `II*\0`, `MM\0*` or a BigTIFF header.
    BadMagic,
}

/// Why an IFD cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IfdError {
    /// The IFD starts past the end of the data.
    BeyondEof,
    /// Its entries (or its next-IFD pointer) run past the end of the data.
    Truncated {
        /// The entry count the IFD declares.
        count: u64,
    },
}

/// A TIFF structure over a byte slice.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tiff<'a> {
    /// The whole TIFF (for Exif: the APP1 payload after `Exif\0\0`).
    pub data: &'a [u8],
    /// Byte order from the header.
    pub endian: Endian,
    /// BigTIFF (64-bit offsets).
    pub big: bool,
}

/// One image file directory.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ifd<'a> {
    tiff: Tiff<'a>,
    /// Where it starts.
    pub offset: u64,
    /// How many entries it declares.
    pub count: u64,
    /// The next IFD's offset; 0 ends the chain.
    pub next: u64,
}

/// One IFD entry. `value_off` is where the value's bytes are: inside the entry when they fit,
/// else where the entry points.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    /// The tag number.
    pub tag: u16,
    /// The field type (1 = BYTE, 3 = SHORT, 4 = LONG, 16 = LONG8, …).
    pub typ: u16,
    /// How many values.
    pub count: u64,
    /// Offset of the first value byte.
    pub value_off: u64,
}

/// Size in bytes of one value of a TIFF field type, or `None` for a type TIFF does not define
/// (readers must skip those).
pub(crate) fn type_size(typ: u16) -> Option<u64> {
    Some(match typ {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 | 16 | 17 | 18 => 8,
        _ => return None,
    })
}

impl<'a> Tiff<'a> {
    /// Reads the header; returns the reader and the offset of the first IFD.
    pub fn open(data: &'a [u8]) -> Result<(Tiff<'a>, u64), HeaderError> {
        if data.len() < 8 {
            return Err(HeaderError::TooShort);
        }
        let endian = match &data[..2] {
            b"II" => Endian::Little,
            b"MM" => Endian::Big,
            _ => return Err(HeaderError::BadMagic),
        };
        match u16_at(data, 2, endian) {
            Some(42) => {
                let first = u32_at(data, 4, endian).ok_or(HeaderError::TooShort)?;
                Ok((
                    Tiff {
                        data,
                        endian,
                        big: false,
                    },
                    u64::from(first),
                ))
            }
            Some(43) => {
                // BigTIFF: bytesize of offsets (always 8), a zero, then the first IFD's offset.
                if u16_at(data, 4, endian) != Some(8) || u16_at(data, 6, endian) != Some(0) {
                    return Err(HeaderError::BadMagic);
                }
                let first = u64_at(data, 8, endian).ok_or(HeaderError::TooShort)?;
                Ok((
                    Tiff {
                        data,
                        endian,
                        big: true,
                    },
                    first,
                ))
            }
            _ => Err(HeaderError::BadMagic),
        }
    }

    /// Length of the header in bytes.
    pub fn header_len(&self) -> u64 {
        if self.big { 16 } else { 8 }
    }

    fn entry_size(&self) -> u64 {
        if self.big { 20 } else { 12 }
    }

    /// An offset-sized value (4 bytes, or 8 in BigTIFF).
    fn offset_at(&self, off: u64) -> Option<u64> {
        if self.big {
            u64_at(self.data, off, self.endian)
        } else {
            u32_at(self.data, off, self.endian).map(u64::from)
        }
    }

    /// The IFD at `off`, checked to lie wholly inside the data.
    pub fn ifd(&self, off: u64) -> Result<Ifd<'a>, IfdError> {
        let (count, entries) = if self.big {
            let c = u64_at(self.data, off, self.endian).ok_or(IfdError::BeyondEof)?;
            (c, off + 8)
        } else {
            let c = u16_at(self.data, off, self.endian).ok_or(IfdError::BeyondEof)?;
            (u64::from(c), off + 2)
        };
        let next_at = count
            .checked_mul(self.entry_size())
            .and_then(|n| n.checked_add(entries))
            .ok_or(IfdError::Truncated { count })?;
        let next = self
            .offset_at(next_at)
            .ok_or(IfdError::Truncated { count })?;
        Ok(Ifd {
            tiff: *self,
            offset: off,
            count,
            next,
        })
    }
}

/// An IFD read as far as it goes, for readers that keep what they can (Exif): the entries
/// that lie inside the data, how many were declared, and the next-IFD link if it was readable.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PartialIfd<'a> {
    /// The entries that fit (`count` is clamped to them).
    pub ifd: Ifd<'a>,
    /// How many entries the IFD declares.
    pub declared: u64,
    /// The next IFD's offset, when its four (or eight) bytes are inside the data.
    pub next: Option<u64>,
}

impl<'a> Tiff<'a> {
    /// The IFD at `off`, keeping every whole entry when the directory runs past the end of the
    /// data. Fails only when not even the entry count can be read.
    pub fn ifd_partial(&self, off: u64) -> Result<PartialIfd<'a>, IfdError> {
        let (declared, entries) = if self.big {
            let c = u64_at(self.data, off, self.endian).ok_or(IfdError::BeyondEof)?;
            (c, off + 8)
        } else {
            let c = u16_at(self.data, off, self.endian).ok_or(IfdError::BeyondEof)?;
            (u64::from(c), off + 2)
        };
        let room = (self.data.len() as u64).saturating_sub(entries) / self.entry_size();
        let count = declared.min(room);
        let next = if count == declared {
            self.offset_at(entries + count * self.entry_size())
        } else {
            None
        };
        Ok(PartialIfd {
            ifd: Ifd {
                tiff: *self,
                offset: off,
                count,
                next: next.unwrap_or(0),
            },
            declared,
            next,
        })
    }
}

impl<'a> Ifd<'a> {
    fn entries_start(&self) -> u64 {
        self.offset + if self.tiff.big { 8 } else { 2 }
    }

    /// The entries, in file order.
    pub fn entries(&self) -> impl Iterator<Item = Entry> + '_ {
        (0..self.count).map(move |i| self.entry(i))
    }

    fn entry(&self, i: u64) -> Entry {
        let tiff = &self.tiff;
        // In bounds: `Tiff::ifd` checked that every entry is inside the data.
        let pos = self.entries_start() + i * tiff.entry_size();
        let tag = u16_at(tiff.data, pos, tiff.endian).unwrap_or(0);
        let typ = u16_at(tiff.data, pos + 2, tiff.endian).unwrap_or(0);
        let (count, slot) = if tiff.big {
            (
                u64_at(tiff.data, pos + 4, tiff.endian).unwrap_or(0),
                pos + 12,
            )
        } else {
            (
                u64::from(u32_at(tiff.data, pos + 4, tiff.endian).unwrap_or(0)),
                pos + 8,
            )
        };
        let slot_size = if tiff.big { 8 } else { 4 };
        let inline = match type_size(typ).and_then(|s| s.checked_mul(count)) {
            Some(len) => len <= slot_size,
            None => true,
        };
        let value_off = if inline {
            slot
        } else {
            tiff.offset_at(slot).unwrap_or(u64::MAX)
        };
        Entry {
            tag,
            typ,
            count,
            value_off,
        }
    }

    /// The first entry with this tag.
    pub fn find(&self, tag: u16) -> Option<Entry> {
        self.entries().find(|e| e.tag == tag)
    }
}

impl Entry {
    /// Total size of the value in bytes; `None` for an unknown type or an absurd count.
    pub fn byte_len(&self) -> Option<u64> {
        type_size(self.typ)?.checked_mul(self.count)
    }

    /// The value's bytes, if they lie inside the data.
    pub fn bytes<'a>(&self, t: &Tiff<'a>) -> Option<&'a [u8]> {
        slice(t.data, self.value_off, self.byte_len()?)
    }

    /// The `i`-th value of an unsigned integer field (BYTE, SHORT, LONG, IFD, LONG8, IFD8).
    pub fn get(&self, t: &Tiff<'_>, i: u64) -> Option<u64> {
        if i >= self.count {
            return None;
        }
        let size = type_size(self.typ)?;
        let at = self.value_off.checked_add(i.checked_mul(size)?)?;
        match self.typ {
            1 => slice(t.data, at, 1).map(|b| u64::from(b[0])),
            3 => u16_at(t.data, at, t.endian).map(u64::from),
            4 | 13 => u32_at(t.data, at, t.endian).map(u64::from),
            16 | 18 => u64_at(t.data, at, t.endian),
            _ => None,
        }
    }
}

/// The four ExifVersion bytes (`b"0232"`) of a TIFF structure (an Exif APP1 payload), if its
/// IFD 0 points to an Exif IFD that has one.
pub(crate) fn exif_version(data: &[u8]) -> Option<[u8; 4]> {
    let (tiff, first) = Tiff::open(data).ok()?;
    // Whole entries of a cut-short IFD still count: PRONOM's signature looks for the bytes of
    // the ExifVersion entry, not for a sound directory.
    let exif_off = tiff
        .ifd_partial(first)
        .ok()?
        .ifd
        .find(TAG_EXIF_IFD)?
        .get(&tiff, 0)?;
    let entry = tiff
        .ifd_partial(exif_off)
        .ok()?
        .ifd
        .find(TAG_EXIF_VERSION)?;
    entry.bytes(&tiff)?.try_into().ok()
}

/// Whether a TIFF is a Nikon raw file (NEF) as PRONOM's fmt/202 signatures describe it: the
/// Exif IFD's MakerNote is Nikon's type 2 (`Nikon\0`, version 2.00, 2.10 or 2.11, then an
/// embedded TIFF header at offset 8), and IFD 0 or one of its SubIFDs is a full-resolution image
/// (NewSubfileType 0) that is uncompressed or Nikon-compressed (Compression 1 or 34713).
pub(crate) fn is_nikon_raw(data: &[u8]) -> bool {
    let Ok((t, first)) = Tiff::open(data) else {
        return false;
    };
    let Ok(ifd0) = t.ifd_partial(first).map(|partial| partial.ifd) else {
        return false;
    };
    let note = ifd0
        .find(TAG_EXIF_IFD)
        .and_then(|pointer| pointer.get(&t, 0))
        .and_then(|offset| t.ifd_partial(offset).ok())
        .and_then(|exif| exif.ifd.find(TAG_MAKER_NOTE))
        .and_then(|entry| entry.bytes(&t));
    let nikon_note = note.is_some_and(|bytes| {
        bytes.starts_with(b"Nikon\0")
            && matches!(bytes.get(6..8), Some([2, 0x00 | 0x10 | 0x11]))
            && matches!(
                bytes.get(8..18),
                Some(b"\0\0MM\0*\0\0\0\x08" | b"\0\0II*\0\x08\0\0\0")
            )
    });
    if !nikon_note {
        return false;
    }
    let raw = |ifd: &Ifd<'_>| {
        ifd.find(0x00FE)
            .is_some_and(|e| e.typ == 4 && e.get(&t, 0) == Some(0))
            && ifd
                .find(0x0103)
                .is_some_and(|e| e.typ == 3 && matches!(e.get(&t, 0), Some(1 | 34713)))
    };
    if raw(&ifd0) {
        return true;
    }
    let Some(sub_ifds) = ifd0.find(TAG_SUB_IFDS) else {
        return false;
    };
    (0..sub_ifds.count.min(8))
        .filter_map(|index| sub_ifds.get(&t, index))
        .filter_map(|offset| t.ifd_partial(offset).ok())
        .any(|partial| raw(&partial.ifd))
}

/// Whether IFD 0 has a GeoKeyDirectoryTag (0x87AF) of type SHORT: a GeoTIFF.
pub(crate) fn has_geokeys(data: &[u8]) -> bool {
    let Ok((t, first)) = Tiff::open(data) else {
        return false;
    };
    t.ifd_partial(first)
        .ok()
        .and_then(|partial| partial.ifd.find(TAG_GEO_KEY_DIRECTORY))
        .is_some_and(|e| e.typ == 3)
}

/// The four DNGVersion bytes of a TIFF's IFD 0, if it has them.
pub(crate) fn dng_version(data: &[u8]) -> Option<[u8; 4]> {
    let (tiff, first) = Tiff::open(data).ok()?;
    let entry = tiff.ifd(first).ok()?.find(TAG_DNG_VERSION)?;
    if entry.typ != 1 {
        return None;
    }
    entry.bytes(&tiff)?.try_into().ok()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A little-endian classic TIFF with one IFD at offset 8 holding `entries`
    /// (tag, type, count, inline value) and `tail` appended after the IFD.
    pub(crate) fn tiny_tiff(entries: &[(u16, u16, u32, u32)], next: u32, tail: &[u8]) -> Vec<u8> {
        let mut v = b"II*\0".to_vec();
        v.extend_from_slice(&8u32.to_le_bytes());
        v.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for &(tag, typ, count, value) in entries {
            v.extend_from_slice(&tag.to_le_bytes());
            v.extend_from_slice(&typ.to_le_bytes());
            v.extend_from_slice(&count.to_le_bytes());
            if typ == 3 && count == 1 {
                v.extend_from_slice(&(value as u16).to_le_bytes());
                v.extend_from_slice(&[0, 0]);
            } else {
                v.extend_from_slice(&value.to_le_bytes());
            }
        }
        v.extend_from_slice(&next.to_le_bytes());
        v.extend_from_slice(tail);
        v
    }

    #[test]
    fn reads_header_ifd_and_values() {
        let d = tiny_tiff(
            &[
                (256, 3, 1, 32),
                (257, 4, 1, 24),
                (0xC612, 1, 4, 0x0000_0401),
            ],
            0,
            &[],
        );
        let (t, first) = Tiff::open(&d).unwrap();
        assert!(!t.big);
        assert_eq!(first, 8);
        let ifd = t.ifd(first).unwrap();
        assert_eq!(ifd.count, 3);
        assert_eq!(ifd.next, 0);
        assert_eq!(ifd.find(256).unwrap().get(&t, 0), Some(32));
        assert_eq!(ifd.find(257).unwrap().get(&t, 0), Some(24));
        assert_eq!(ifd.find(257).unwrap().get(&t, 1), None);
        assert_eq!(dng_version(&d), Some([1, 4, 0, 0]));
        assert_eq!(exif_version(&d), None);
    }

    #[test]
    fn refuses_what_is_out_of_bounds() {
        let d = tiny_tiff(&[(256, 3, 1, 32)], 0, &[]);
        let (t, _) = Tiff::open(&d).unwrap();
        assert_eq!(t.ifd(d.len() as u64 + 10).unwrap_err(), IfdError::BeyondEof);
        // An IFD claiming 1000 entries in a 26-byte file.
        let mut big = d.clone();
        big[8] = 0xE8;
        big[9] = 0x03;
        let (t, _) = Tiff::open(&big).unwrap();
        assert_eq!(t.ifd(8).unwrap_err(), IfdError::Truncated { count: 1000 });
        assert_eq!(Tiff::open(b"II*\0").unwrap_err(), HeaderError::TooShort);
        assert_eq!(
            Tiff::open(b"II*\x01\0\0\0\0").unwrap_err(),
            HeaderError::BadMagic
        );
    }

    #[test]
    fn reads_bigtiff() {
        let mut d = b"II+\0\x08\0\0\0".to_vec();
        d.extend_from_slice(&16u64.to_le_bytes());
        d.extend_from_slice(&1u64.to_le_bytes()); // one entry
        d.extend_from_slice(&256u16.to_le_bytes());
        d.extend_from_slice(&16u16.to_le_bytes()); // LONG8
        d.extend_from_slice(&1u64.to_le_bytes());
        d.extend_from_slice(&77u64.to_le_bytes());
        d.extend_from_slice(&0u64.to_le_bytes()); // next
        let (t, first) = Tiff::open(&d).unwrap();
        assert!(t.big);
        let ifd = t.ifd(first).unwrap();
        assert_eq!(ifd.find(256).unwrap().get(&t, 0), Some(77));
    }
}
