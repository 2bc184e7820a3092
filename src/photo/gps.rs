//! GPS latitude and longitude, in every form cameras write them, as signed decimal degrees.
//!
//! The Exif standard says RATIONAL, three of them (degrees, minutes, seconds), and a reference
//! tag (`N`/`S`, `E`/`W`) for the sign. Real files also carry SRATIONAL, one value (decimal
//! degrees) or two (degrees and decimal minutes), more than three, integers, floats, or ASCII
//! text. Like ExifTool, qoima reads the first three numbers of any numeric type (or of the
//! text) as degrees, minutes and seconds, the missing ones being 0. Unlike a silent parser, it
//! never drops a position without saying so: every coordinate that is present but cannot be
//! read, or is read with an assumption, comes with a [`GpsNote`] naming the tag and why.
//!
//! The sign: the reference tag decides when it is `N`, `S`, `E` or `W` (in either case); a
//! negative value with a reference is taken by its magnitude (as ExifTool does). Without a
//! reference, a negative value is south or west, and a warning says the reference is missing.

use super::bytes::{Endian, slice, u16_at, u32_at, u64_at};
use super::tiffio::{Entry, Tiff};

/// Tag numbers in the GPS IFD.
const TAG_LATITUDE_REF: u16 = 1;
const TAG_LATITUDE: u16 = 2;
const TAG_LONGITUDE_REF: u16 = 3;
const TAG_LONGITUDE: u16 = 4;

/// A coordinate that was dropped, or read with an assumption.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GpsNote {
    /// The tag: `GPSLatitude`, `GPSLongitude`, or their `Ref`.
    pub tag: &'static str,
    /// What happened and why.
    pub why: String,
}

/// One axis.
struct Axis {
    tag: u16,
    reference: u16,
    name: &'static str,
    ref_name: &'static str,
    positive: u8,
    negative: u8,
    limit: f64,
}

const LATITUDE: Axis = Axis {
    tag: TAG_LATITUDE,
    reference: TAG_LATITUDE_REF,
    name: "GPSLatitude",
    ref_name: "GPSLatitudeRef",
    positive: b'N',
    negative: b'S',
    limit: 90.0,
};
const LONGITUDE: Axis = Axis {
    tag: TAG_LONGITUDE,
    reference: TAG_LONGITUDE_REF,
    name: "GPSLongitude",
    ref_name: "GPSLongitudeRef",
    positive: b'E',
    negative: b'W',
    limit: 180.0,
};

/// Latitude and longitude from the GPS IFD's entries, with a note for each coordinate that
/// was dropped or read with an assumption.
pub(crate) fn position(
    tiff: &Tiff<'_>,
    gps: &[Entry],
    notes: &mut Vec<GpsNote>,
) -> (Option<f64>, Option<f64>) {
    (
        coordinate(tiff, gps, &LATITUDE, notes),
        coordinate(tiff, gps, &LONGITUDE, notes),
    )
}

fn coordinate(
    tiff: &Tiff<'_>,
    gps: &[Entry],
    axis: &Axis,
    notes: &mut Vec<GpsNote>,
) -> Option<f64> {
    let entry = gps.iter().find(|e| e.tag == axis.tag)?;
    let mut drop = |why: String| {
        notes.push(GpsNote {
            tag: axis.name,
            why,
        });
        None
    };
    let numbers = match numbers(tiff, entry) {
        Ok(numbers) => numbers,
        Err(why) => return drop(why),
    };
    let Some(&degrees) = numbers.first() else {
        return drop("it holds no number".into());
    };
    let minutes = numbers.get(1).copied().unwrap_or(0.0);
    let seconds = numbers.get(2).copied().unwrap_or(0.0);
    let magnitude = degrees.abs() + minutes.abs() / 60.0 + seconds.abs() / 3600.0;
    if !magnitude.is_finite() || magnitude > axis.limit {
        return drop(format!(
            "{magnitude} degrees is outside the range of a {} (0 to {})",
            if axis.limit == 90.0 {
                "latitude"
            } else {
                "longitude"
            },
            axis.limit
        ));
    }
    let negative = match reference(tiff, gps, axis) {
        Some(letter) if letter == axis.negative => true,
        Some(letter) if letter == axis.positive => false,
        other => {
            let south_west = degrees < 0.0;
            let assumed = if south_west {
                axis.negative
            } else {
                axis.positive
            };
            let found = match other {
                None => "is missing".to_string(),
                Some(letter) => format!(
                    "is {:?}, not {} or {}",
                    char::from(letter),
                    char::from(axis.positive),
                    char::from(axis.negative)
                ),
            };
            notes.push(GpsNote {
                tag: axis.ref_name,
                why: format!(
                    "it {found}; the {} was read as {}",
                    axis.name,
                    char::from(assumed)
                ),
            });
            south_west
        }
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// The reference letter, upper case, if the tag holds one.
fn reference(tiff: &Tiff<'_>, gps: &[Entry], axis: &Axis) -> Option<u8> {
    let entry = gps.iter().find(|e| e.tag == axis.reference)?;
    let bytes = entry.bytes(tiff)?;
    let first = *bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    (first != 0).then(|| first.to_ascii_uppercase())
}

/// The first three numbers of a GPS coordinate, whatever type it is stored as.
fn numbers(tiff: &Tiff<'_>, entry: &Entry) -> Result<Vec<f64>, String> {
    let bytes = entry.bytes(tiff).ok_or_else(|| {
        format!(
            "its value (type {}, count {}) cannot be read from the Exif block",
            entry.typ, entry.count
        )
    })?;
    if entry.count == 0 {
        return Err("it holds no value (count 0)".into());
    }
    if entry.typ == 2 {
        return text_numbers(bytes);
    }
    let endian = tiff.endian;
    let count = entry.count.min(3);
    let mut out = Vec::new();
    for index in 0..count {
        out.push(number(bytes, entry.typ, index, endian)?);
    }
    Ok(out)
}

/// Value `index` of a numeric TIFF type as f64.
fn number(bytes: &[u8], typ: u16, index: u64, endian: Endian) -> Result<f64, String> {
    let component = ["degrees", "minutes", "seconds"][index as usize];
    let short = || "its value is shorter than its count says".to_string();
    let value = match typ {
        1 => f64::from(slice(bytes, index, 1).ok_or_else(short)?[0]),
        6 => f64::from(slice(bytes, index, 1).ok_or_else(short)?[0] as i8),
        3 => f64::from(u16_at(bytes, index * 2, endian).ok_or_else(short)?),
        8 => f64::from(u16_at(bytes, index * 2, endian).ok_or_else(short)? as i16),
        4 => f64::from(u32_at(bytes, index * 4, endian).ok_or_else(short)?),
        9 => f64::from(u32_at(bytes, index * 4, endian).ok_or_else(short)? as i32),
        11 => f64::from(f32::from_bits(
            u32_at(bytes, index * 4, endian).ok_or_else(short)?,
        )),
        12 => f64::from_bits(u64_at(bytes, index * 8, endian).ok_or_else(short)?),
        5 | 10 => {
            let numerator = u32_at(bytes, index * 8, endian).ok_or_else(short)?;
            let denominator = u32_at(bytes, index * 8 + 4, endian).ok_or_else(short)?;
            let (numerator, denominator) = if typ == 10 {
                (f64::from(numerator as i32), f64::from(denominator as i32))
            } else {
                (f64::from(numerator), f64::from(denominator))
            };
            if denominator == 0.0 {
                return Err(format!(
                    "its {component} are {numerator}/0, a division by zero (the camera had no fix, or the value is damaged)"
                ));
            }
            numerator / denominator
        }
        other => {
            return Err(format!(
                "it is stored as TIFF type {other}, which holds no numbers"
            ));
        }
    };
    if value.is_finite() {
        Ok(value)
    } else {
        Err(format!("its {component} are not a finite number"))
    }
}

/// Numbers in a coordinate written as text (`43 10 20.4`, `43.1890`), as ExifTool reads them.
fn text_numbers(bytes: &[u8]) -> Result<Vec<f64>, String> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.split('\0').next().unwrap_or("");
    let numbers: Vec<f64> = text
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .filter_map(|word| word.parse::<f64>().ok())
        .take(3)
        .collect();
    if numbers.is_empty() {
        Err(format!("it is text with no number in it: {text:?}"))
    } else {
        Ok(numbers)
    }
}
